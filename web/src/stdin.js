// Where the worker's stdin bytes come from, in each of the two ways a page can block the
// runtime while it waits for input:
// - SharedStdin (cross-origin isolated pages): the ring in a SharedArrayBuffer, waited on
//   with Atomics.wait; the WASI calls stay synchronous.
// - MessageStdin (no isolation, JSPI): bytes posted by the page; a WASI call with nothing to
//   return hands back a promise, and WebAssembly.Suspending suspends the module meanwhile.

import { RingReader } from "./ring.js";

export class SharedStdin {
  constructor(sab) {
    this.ring = new RingReader(sab);
    // A private cell nobody notifies: Atomics.wait on it is a plain sleep.
    this.sleeper = new Int32Array(new SharedArrayBuffer(4));
  }

  available() {
    return this.ring.available();
  }

  read(max) {
    return this.ring.read(max);
  }

  /** Blocks until input or `timeoutMs` (Infinity: no limit); with `input` false, just sleeps. */
  wait(timeoutMs, input) {
    if (input) this.ring.wait(timeoutMs);
    else if (timeoutMs > 0) Atomics.wait(this.sleeper, 0, 0, timeoutMs);
  }
}

/** How long the module may run without letting the worker take in posted keystrokes. */
const YIELD_EVERY_MS = 20;

export class MessageStdin {
  constructor() {
    this.chunks = [];
    this.size = 0;
    this.wake = null;
    this.lastYield = performance.now();
    // A message round trip is the quickest way to let queued events run (setTimeout(0) is
    // clamped after a few nested calls).
    this.channel = new MessageChannel();
    this.ticks = [];
    this.channel.port1.onmessage = () => this.ticks.shift()?.();
  }

  push(bytes) {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.size += bytes.length;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  available() {
    return this.size;
  }

  read(max) {
    const n = Math.min(max, this.size);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const c = this.chunks[0];
      const take = Math.min(c.length, n - done);
      out.set(c.subarray(0, take), done);
      done += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.size -= n;
    return out;
  }

  /** Whether the module has run long enough that posted input should get a chance. */
  dueForYield() {
    return performance.now() - this.lastYield >= YIELD_EVERY_MS;
  }

  /** Resolves after queued events (posted input) have run. */
  yieldNow() {
    return new Promise((resolve) => {
      this.ticks.push(() => {
        this.lastYield = performance.now();
        resolve();
      });
      this.channel.port2.postMessage(0);
    });
  }

  /** Resolves on input (when `input`) or after `timeoutMs` (Infinity: no limit). */
  waitAsync(timeoutMs, input) {
    return new Promise((resolve) => {
      let timer = null;
      const done = () => {
        if (timer !== null) clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        this.lastYield = performance.now();
        resolve();
      };
      if (input) this.wake = done;
      if (Number.isFinite(timeoutMs)) timer = setTimeout(done, Math.max(0, timeoutMs));
    });
  }
}
