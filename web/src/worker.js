// The worker that runs the module: WASI preview 1 from @bjorn3/browser_wasi_shim, with this
// file's own stdio (stdin from the page, blocking; stdout and stderr posted to the page) and
// its own poll_oneoff, which the shim implements only for one clock subscription.
//
// Protocol with the page (main.js):
//   page → worker  {type: "start", module, args, env, stdin: SharedArrayBuffer | null,
//                   rootfs: ArrayBuffer | null}
//                  {type: "stdin", bytes}            (JSPI mode only)
//   worker → page  {type: "out", fd, bytes} | {type: "exit", status} | {type: "error", message}

import { WASI, WASIProcExit, Fd, wasi } from "@bjorn3/browser_wasi_shim";
import { SharedStdin, MessageStdin } from "./stdin.js";
import { rootfsFromTar } from "./tar.js";

const SUBSCRIPTION_BYTES = 48;
const EVENT_BYTES = 32;
const CLOCKID_REALTIME = 0;
const SUBCLOCKFLAGS_ABSTIME = 1;

let stdin = null;

self.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === "start") {
    start(msg).catch((err) => {
      self.postMessage({ type: "error", message: String(err?.stack ?? err) });
    });
  } else if (msg.type === "stdin") {
    stdin?.push(msg.bytes);
  }
};

/** stdout or stderr: each write goes to the page as it happens (the guest's libc buffers). */
class TerminalOut extends Fd {
  constructor(fd) {
    super();
    this.fd = fd;
  }
  fd_write(data) {
    // Measured before the transfer detaches the buffer.
    const nwritten = data.byteLength;
    self.postMessage({ type: "out", fd: this.fd, bytes: data }, [data.buffer]);
    return { ret: wasi.ERRNO_SUCCESS, nwritten };
  }
  fd_fdstat_get() {
    // A character device with no seek rights: what wasi-libc's isatty looks for.
    return { ret: 0, fdstat: new wasi.Fdstat(wasi.FILETYPE_CHARACTER_DEVICE, 0) };
  }
  fd_filestat_get() {
    return { ret: 0, filestat: new wasi.Filestat(0n, wasi.FILETYPE_CHARACTER_DEVICE, 0n) };
  }
}

/** stdin: reads go through the fd_read import below; this answers the metadata calls. */
class TerminalIn extends TerminalOut {
  fd_write() {
    return { ret: wasi.ERRNO_BADF, nwritten: 0 };
  }
}

function nowNs(clockid) {
  if (clockid === CLOCKID_REALTIME) return BigInt(Date.now()) * 1000000n;
  return BigInt(Math.round(performance.now() * 1e6));
}

/**
 * One look at a poll_oneoff request: the events ready now (written out), or how long to wait
 * and whether stdin input would end the wait.
 */
function pollOnce(memory, inPtr, outPtr, nsubs) {
  const view = new DataView(memory.buffer);
  const ready = [];
  let waitNs = null;
  let watchStdin = false;
  for (let i = 0; i < nsubs; i++) {
    const s = inPtr + i * SUBSCRIPTION_BYTES;
    const userdata = view.getBigUint64(s, true);
    const tag = view.getUint8(s + 8);
    if (tag === wasi.EVENTTYPE_CLOCK) {
      const clockid = view.getUint32(s + 16, true);
      const timeout = view.getBigUint64(s + 24, true);
      const flags = view.getUint16(s + 40, true);
      const now = nowNs(clockid);
      const left = flags & SUBCLOCKFLAGS_ABSTIME ? timeout - now : timeout;
      if (left <= 0n) ready.push({ userdata, tag, nbytes: 0n });
      else if (waitNs === null || left < waitNs) waitNs = left;
    } else {
      const fd = view.getUint32(s + 16, true);
      if (tag === wasi.EVENTTYPE_FD_READ && fd === 0) {
        const n = stdin.available();
        if (n > 0) ready.push({ userdata, tag, nbytes: BigInt(n) });
        else watchStdin = true;
      } else {
        // Files and stdout/stderr never block.
        ready.push({ userdata, tag, nbytes: 0n });
      }
    }
  }
  for (let i = 0; i < ready.length; i++) {
    const ev = outPtr + i * EVENT_BYTES;
    view.setBigUint64(ev, ready[i].userdata, true);
    view.setUint16(ev + 8, 0, true);
    view.setUint8(ev + 10, ready[i].tag);
    view.setBigUint64(ev + 16, ready[i].nbytes, true);
    view.setUint16(ev + 24, 0, true);
  }
  const waitMs = waitNs === null ? Infinity : Number(waitNs) / 1e6;
  return { nready: ready.length, waitMs, watchStdin };
}

/** Copies stdin bytes into the iovecs; returns the count. */
function readInto(memory, iovs, iovsLen) {
  const view = new DataView(memory.buffer);
  let total = 0;
  for (let i = 0; i < iovsLen; i++) {
    const buf = view.getUint32(iovs + i * 8, true);
    const len = view.getUint32(iovs + i * 8 + 4, true);
    const bytes = stdin.read(len);
    new Uint8Array(memory.buffer, buf, bytes.length).set(bytes);
    total += bytes.length;
    if (bytes.length < len) break;
  }
  return total;
}

/** fd_read and poll_oneoff over SharedStdin: synchronous, blocking the worker thread. */
function blockingImports(base, memory) {
  return {
    fd_read(fd, iovs, iovsLen, nreadPtr) {
      if (fd !== 0) return base.fd_read(fd, iovs, iovsLen, nreadPtr);
      while (stdin.available() === 0) stdin.wait(Infinity, true);
      new DataView(memory().buffer).setUint32(nreadPtr, readInto(memory(), iovs, iovsLen), true);
      return wasi.ERRNO_SUCCESS;
    },
    poll_oneoff(inPtr, outPtr, nsubs, neventsPtr) {
      if (nsubs === 0) return wasi.ERRNO_INVAL;
      for (;;) {
        const r = pollOnce(memory(), inPtr, outPtr, nsubs);
        if (r.nready > 0) {
          new DataView(memory().buffer).setUint32(neventsPtr, r.nready, true);
          return wasi.ERRNO_SUCCESS;
        }
        stdin.wait(r.waitMs, r.watchStdin);
      }
    },
  };
}

/**
 * fd_read and poll_oneoff over MessageStdin, for JSPI: a result at once when there is one,
 * else a promise (the module is suspended until it settles). A poll that would return at once
 * still yields now and then, so keystrokes posted meanwhile (^C) reach a busy guest.
 */
function suspendingImports(base, memory) {
  const fdRead = (fd, iovs, iovsLen, nreadPtr) => {
    if (fd !== 0) return base.fd_read(fd, iovs, iovsLen, nreadPtr);
    const finish = () => {
      new DataView(memory().buffer).setUint32(nreadPtr, readInto(memory(), iovs, iovsLen), true);
      return wasi.ERRNO_SUCCESS;
    };
    if (stdin.available() > 0) return finish();
    const again = async () => {
      while (stdin.available() === 0) await stdin.waitAsync(Infinity, true);
      return finish();
    };
    return again();
  };
  const poll = (inPtr, outPtr, nsubs, neventsPtr) => {
    if (nsubs === 0) return wasi.ERRNO_INVAL;
    const settle = (r) => {
      new DataView(memory().buffer).setUint32(neventsPtr, r.nready, true);
      return wasi.ERRNO_SUCCESS;
    };
    const first = pollOnce(memory(), inPtr, outPtr, nsubs);
    if (first.nready > 0 && !stdin.dueForYield()) return settle(first);
    const again = async () => {
      let r = first;
      if (r.nready > 0) {
        await stdin.yieldNow();
        return settle(pollOnce(memory(), inPtr, outPtr, nsubs));
      }
      for (;;) {
        await stdin.waitAsync(r.waitMs, r.watchStdin);
        r = pollOnce(memory(), inPtr, outPtr, nsubs);
        if (r.nready > 0) return settle(r);
      }
    };
    return again();
  };
  return {
    fd_read: new WebAssembly.Suspending(fdRead),
    poll_oneoff: new WebAssembly.Suspending(poll),
  };
}

/**
 * ctr2wasm_jit.compile(ptr, len): the runtime's JIT build hands over a small module of
 * translated guest code (it imports env.memory and env.table, and exports its functions as
 * "0", "1", ...). Compile it, link it to the runtime's memory and function table, append its
 * functions to the table and return the index of the first; -1 makes the runtime stop
 * translating and interpret (a browser without tail calls, say).
 */
function compileTranslation(exports, ptr, len) {
  try {
    const { memory, __indirect_function_table: table } = exports;
    const bytes = new Uint8Array(memory.buffer, ptr, len).slice();
    const made = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, table } });
    const fns = [];
    for (let i = 0; made.exports[i] !== undefined; i++) fns.push(made.exports[i]);
    const base = table.grow(fns.length);
    fns.forEach((f, i) => table.set(base + i, f));
    self.postMessage({ type: "translated", functions: fns.length });
    return base;
  } catch (err) {
    self.postMessage({ type: "translated", functions: 0, refused: String(err) });
    return -1;
  }
}

async function start({ module, args, env, stdin: sab, rootfs }) {
  stdin = sab ? new SharedStdin(sab) : new MessageStdin();
  const fds = [new TerminalIn(0), new TerminalOut(1), new TerminalOut(2)];
  if (rootfs) fds.push(rootfsFromTar("/rootfs", new Uint8Array(rootfs)));
  const w = new WASI(args, env, fds, { debug: false });
  let instance = null;
  const memory = () => instance.exports.memory;
  const ours = sab
    ? blockingImports(w.wasiImport, memory)
    : suspendingImports(w.wasiImport, memory);
  instance = await WebAssembly.instantiate(module, {
    wasi_snapshot_preview1: { ...w.wasiImport, ...ours },
    ctr2wasm_jit: { compile: (ptr, len) => compileTranslation(instance.exports, ptr, len) },
  });
  w.inst = instance;
  let status = 0;
  try {
    if (sab) instance.exports._start();
    else await WebAssembly.promising(instance.exports._start)();
  } catch (err) {
    if (!(err instanceof WASIProcExit)) throw err;
    status = err.code;
  }
  self.postMessage({ type: "exit", status });
}
