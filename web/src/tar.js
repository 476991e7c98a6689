// A development aid: an in-memory root file system for the plain runtime module, read from
// a ustar archive (`?rootfs=NAME.tar`), so the page can run a guest before `ctr2wasm convert`
// has packed one into the module. The shim has no symlinks: a symlink becomes what it points
// to under the link's name (a file like a hard link, a directory as an alias, so merged-/usr
// systems keep /bin and /lib); dangling symlinks are left out.

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
  let links = [];
  for (const e of readTar(bytes)) {
    const parts = e.path.split("/");
    const base = parts.pop();
    if (e.type === "5") {
      dirAt(root, [...parts, base]);
    } else if (e.type === "0" || e.type === "7") {
      dirAt(root, parts).set(base, new File(e.data, { readonly: true }));
    } else if (e.type === "1" || e.type === "2") {
      const relative = e.type === "2" && !e.link.startsWith("/");
      const target = [];
      for (const p of [...(relative ? parts : []), ...e.link.split("/")]) {
        if (p === "..") target.pop();
        else if (p !== "." && p !== "") target.push(p);
      }
      links.push({ parts, base, target });
    }
  }
  const lookup = (parts) => {
    let node = root;
    for (const p of parts) {
      node = node instanceof Map ? node.get(p) : undefined;
      if (node === undefined) return undefined;
    }
    return node;
  };
  // Links to links resolve in later rounds.
  for (let progress = true; progress && links.length > 0; ) {
    progress = false;
    links = links.filter(({ parts, base, target }) => {
      const node = lookup(target);
      const dir = lookup(parts);
      if (node === undefined || !(dir instanceof Map)) return true;
      if (!dir.has(base)) dir.set(base, node);
      progress = true;
      return false;
    });
  }
  // One Directory per directory, however many names it has (a symlink to an ancestor
  // makes a cycle).
  const made = new Map();
  const toDirectory = (map) => {
    let dir = made.get(map);
    if (dir) return dir;
    dir = new Directory(new Map());
    made.set(map, dir);
    for (const [k, v] of map) {
      const child = v instanceof Map ? toDirectory(v) : v;
      if (child instanceof Directory && child.parent === null) child.parent = dir;
      dir.contents.set(k, child);
    }
    return dir;
  };
  return new PreopenDirectory(name, toDirectory(root).contents);
}
