// The stdin channel of cross-origin isolated pages: a byte ring in a SharedArrayBuffer that
// the page writes keystrokes into and the worker reads from, blocking in Atomics.wait.
//
// Layout: two Int32 counters, then RING_BYTES of data. [WRITTEN] and [READ] count bytes ever
// written and read (wrapping at 2^32); WRITTEN - READ bytes are waiting. Only the page moves
// WRITTEN (and notifies on it), only the worker moves READ.

export const RING_BYTES = 1 << 16;
const WRITTEN = 0;
const READ = 1;
const HEADER_BYTES = 8;

export function createRing() {
  return new SharedArrayBuffer(HEADER_BYTES + RING_BYTES);
}

/** The page's end: writes whole messages, keeping what does not fit for later. */
export class RingWriter {
  constructor(sab) {
    this.counters = new Int32Array(sab, 0, 2);
    this.data = new Uint8Array(sab, HEADER_BYTES, RING_BYTES);
    /** Byte arrays not yet in the ring, oldest first. */
    this.backlog = [];
    this.retry = null;
  }

  /**
   * Queues `bytes`. A message up to RING_BYTES long goes in whole or not at all, so the
   * runtime never sees half of an in-band message at the end of what it can read.
   */
  write(bytes) {
    if (bytes.length > 0) this.backlog.push(bytes);
    this.flush();
  }

  flush() {
    let moved = false;
    while (this.backlog.length > 0) {
      const bytes = this.backlog[0];
      const written = Atomics.load(this.counters, WRITTEN);
      const free = RING_BYTES - ((written - Atomics.load(this.counters, READ)) | 0);
      // Longer than the ring (a large paste): it goes in pieces, it is no message.
      const n = bytes.length <= RING_BYTES ? (bytes.length <= free ? bytes.length : 0) : free;
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        this.data[(written + i) & (RING_BYTES - 1)] = bytes[i];
      }
      Atomics.store(this.counters, WRITTEN, (written + n) | 0);
      moved = true;
      if (n === bytes.length) this.backlog.shift();
      else this.backlog[0] = bytes.subarray(n);
    }
    if (moved) Atomics.notify(this.counters, WRITTEN);
    if (this.backlog.length > 0 && this.retry === null) {
      // The worker frees room as the guest reads; look again shortly.
      this.retry = setTimeout(() => {
        this.retry = null;
        this.flush();
      }, 10);
    }
  }
}

/** The worker's end. */
export class RingReader {
  constructor(sab) {
    this.counters = new Int32Array(sab, 0, 2);
    this.data = new Uint8Array(sab, HEADER_BYTES, RING_BYTES);
  }

  available() {
    return (Atomics.load(this.counters, WRITTEN) - Atomics.load(this.counters, READ)) | 0;
  }

  /** Takes up to `max` waiting bytes (possibly none). */
  read(max) {
    const read = Atomics.load(this.counters, READ);
    const n = Math.min(max, this.available());
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.data[(read + i) & (RING_BYTES - 1)];
    }
    Atomics.store(this.counters, READ, (read + n) | 0);
    return out;
  }

  /** Blocks until bytes are waiting or `timeoutMs` has passed (Infinity: no limit). */
  wait(timeoutMs) {
    const written = Atomics.load(this.counters, WRITTEN);
    if (((written - Atomics.load(this.counters, READ)) | 0) > 0) return;
    Atomics.wait(this.counters, WRITTEN, written, timeoutMs);
  }
}
