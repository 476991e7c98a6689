// A development aid: an in-memory root file system for the plain runtime module, read from
// a ustar archive (`?rootfs=NAME.tar`), so the page can run a guest before `ctr2wasm convert`
// has packed one into the module. The shim has no symlinks: a symlink to a file becomes the
// same file under the link's name (like a hard link); other symlinks are left out.

import { File, Directory, PreopenDirectory } from "@bjorn3/browser_wasi_shim";

function field(block, offset, len) {
  let end = offset;
  while (end < offset + len && block[end] !== 0) end++;
  return new TextDecoder().decode(block.subarray(offset, end));
}

function octal(block, offset, len) {
  const s = field(block, offset, len).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

/** The entries of a ustar archive: {path, type, data, link}. */
export function readTar(bytes) {
  const entries = [];
  let pos = 0;
  let longName = null;
  while (pos + 512 <= bytes.length) {
    const h = bytes.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) break;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] || 48);
    const prefix = field(h, 345, 155);
    let path = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = null;
    const data = bytes.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = new TextDecoder().decode(data).replace(/\0.*$/s, "");
      continue;
    }
    path = path.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
    if (path === "" || path === ".") continue;
    entries.push({ path, type, data, link: field(h, 157, 100) });
  }
  return entries;
}

function dirAt(root, parts) {
  let dir = root;
  for (const p of parts) {
    let next = dir.get(p);
    if (!next) {
      next = new Map();
      dir.set(p, next);
    }
    dir = next;
  }
  return dir;
}

/** A WASI preopen named `name` holding the archive's files and directories. */
export function rootfsFromTar(name, bytes) {
  const root = new Map();
  const files = new Map();
  const links = [];
  for (const e of readTar(bytes)) {
    const parts = e.path.split("/");
    const base = parts.pop();
    if (e.type === "5") {
      dirAt(root, [...parts, base]);
    } else if (e.type === "0" || e.type === "7") {
      const f = new File(e.data, { readonly: true });
      files.set(e.path, f);
      dirAt(root, parts).set(base, f);
    } else if (e.type === "1" || e.type === "2") {
      links.push({ parts, base, e });
    }
  }
  for (const { parts, base, e } of links) {
    const target =
      e.type === "2" && !e.link.startsWith("/")
        ? [...parts, ...e.link.split("/")].join("/")
        : e.link.replace(/^\/+/, "");
    const normal = [];
    for (const p of target.split("/")) {
      if (p === "..") normal.pop();
      else if (p !== "." && p !== "") normal.push(p);
    }
    const f = files.get(normal.join("/"));
    if (f) dirAt(root, parts).set(base, f);
  }
  const toDirectory = (map) =>
    new Map([...map].map(([k, v]) => [k, v instanceof Map ? new Directory(toDirectory(v)) : v]));
  return new PreopenDirectory(name, toDirectory(root));
}
