// The page: downloads and compiles the module with a progress bar, then runs it in a worker
// (worker.js) with an xterm.js terminal as its stdin, stdout and stderr.
//
// URL parameters:
//   ?cmd=WORDS     the command, split like shell words (cmdline.js); replaces the image's
//                  Cmd, as `docker run IMAGE WORDS` does
//   ?env=K=V       adds to (or overrides) the image's environment; may repeat
//   ?rootfs=X.tar  development: the module is the plain runtime, and X.tar is its root file
//                  system, kept in memory; the command defaults to /bin/sh
//   ?trace=syscalls  development: the runtime's CTR2WASM_TRACE (one line per guest syscall,
//                  on the terminal)
//
// Terminal protocol with the runtime (wasi-shim/src/tty): the WASI environment says
// CTR2WASM_TTY=raw and CTR2WASM_TTY_SIZE=COLSxROWS, so the runtime runs the line discipline;
// keystrokes go to stdin as typed, and a resize goes in-band as
// ESC _ ctr2wasm;winsize;COLS;ROWS ESC \.

import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { createRing, RingWriter } from "./ring.js";
import { splitCommand } from "./cmdline.js";

const MODULE_URL = "module.wasm";
const DEV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const $ = (id) => document.getElementById(id);

/** What the page is doing, for people (the status bar) and for tests (window.ctr2wasm). */
const state = { phase: "loading", mode: null, status: null, error: null, term: null, translated: 0, refused: null };
window.ctr2wasm = state;

function setStatus(text, kind = "") {
  const el = $("status");
  el.textContent = text;
  el.className = kind;
}

function fail(message) {
  state.phase = "error";
  state.error = message;
  $("progress").hidden = true;
  const el = $("message");
  el.textContent = message;
  el.hidden = false;
  setStatus("error", "error");
}

/** How this browser can block the worker on input, or null with the reason it cannot. */
function blockingMode() {
  if (globalThis.crossOriginIsolated && typeof SharedArrayBuffer === "function") return "shared";
  if (typeof WebAssembly.Suspending === "function" && typeof WebAssembly.promising === "function") {
    return "jspi";
  }
  return null;
}

const NO_BLOCKING =
  "This browser cannot run the container: the terminal needs the worker to wait for " +
  "keystrokes, and the page has neither way to do that.\n\n" +
  "- SharedArrayBuffer with Atomics.wait needs a cross-origin isolated page: the server " +
  "must send the headers Cross-Origin-Opener-Policy: same-origin and " +
  "Cross-Origin-Embedder-Policy: require-corp (`ctr2wasm serve` does). This page is not " +
  "cross-origin isolated.\n" +
  "- WebAssembly JavaScript Promise Integration (JSPI: WebAssembly.Suspending and " +
  "WebAssembly.promising) works without those headers. This browser does not have it " +
  "(Chrome and Edge have it from version 137, Firefox from 153 at the latest).";

/** Fetches the module, counting bytes for the progress bar, and compiles it as it streams. */
async function loadModule(url) {
  const bar = $("progress").querySelector("progress");
  const label = $("progress").querySelector(".label");
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get("Content-Length")) || 0;
  let received = 0;
  const mib = (n) => (n / (1 << 20)).toFixed(1);
  const show = () => {
    if (total > 0) {
      bar.max = total;
      bar.value = received;
      label.textContent = `Downloading and compiling: ${mib(received)} of ${mib(total)} MiB`;
    } else {
      bar.removeAttribute("value");
      label.textContent = `Downloading and compiling: ${mib(received)} MiB`;
    }
  };
  show();
  const counting = new TransformStream({
    transform(chunk, controller) {
      received += chunk.byteLength;
      show();
      controller.enqueue(chunk);
    },
    flush() {
      label.textContent = `Compiling (${mib(received)} MiB downloaded)`;
    },
  });
  const counted = new Response(response.body.pipeThrough(counting), {
    headers: { "Content-Type": "application/wasm" },
  });
  return WebAssembly.compileStreaming(counted);
}

/** argv and the WASI environment for the module, from the URL. */
function invocation(params, size) {
  const cmdParam = params.get("cmd");
  const cmd = cmdParam === null ? [] : splitCommand(cmdParam);
  const userEnv = params.getAll("env").filter((kv) => kv.includes("="));
  const guestEnv = ["TERM=xterm-256color", ...userEnv];
  const runtimeEnv = ["CTR2WASM_TTY=raw", `CTR2WASM_TTY_SIZE=${size.cols}x${size.rows}`];
  if (params.get("trace") !== null) runtimeEnv.push(`CTR2WASM_TRACE=${params.get("trace")}`);
  const rootfs = params.get("rootfs");
  if (rootfs === null) {
    // A converted module: argv after the first replaces the image's Cmd, the environment
    // adds to its Env.
    return { args: ["ctr2wasm", ...cmd], env: [...guestEnv, ...runtimeEnv], rootfs: null };
  }
  const env = [`PATH=${DEV_PATH}`, "HOME=/root", ...guestEnv];
  const args = ["ctr2wasm-runtime", "--rootfs", "/rootfs"];
  for (const kv of env) args.push("--env", kv);
  args.push("--", ...(cmd.length > 0 ? cmd : ["/bin/sh"]));
  return { args, env: runtimeEnv, rootfs };
}

async function main() {
  const params = new URLSearchParams(location.search);
  const mode = blockingMode();
  state.mode = mode;
  if (mode === null) {
    fail(NO_BLOCKING);
    return;
  }
  let size = { cols: 80, rows: 24 };
  let inv;
  try {
    inv = invocation(params, size);
  } catch (e) {
    fail(`?cmd=: ${e.message}`);
    return;
  }
  const rootfsBytes = inv.rootfs === null ? null : fetchBytes(inv.rootfs);
  let module;
  try {
    module = await loadModule(MODULE_URL);
  } catch (e) {
    fail(`could not load ${MODULE_URL}: ${e.message}`);
    return;
  }
  $("progress").hidden = true;

  const term = new Terminal({
    cursorBlink: true,
    convertEol: false, // the runtime does ONLCR, as a tty does
    scrollback: 5000,
    fontFamily: "ui-monospace, 'DejaVu Sans Mono', 'Liberation Mono', monospace",
    fontSize: 15,
  });
  state.term = term;
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open($("terminal"));
  fit.fit();
  size = { cols: term.cols, rows: term.rows };
  inv = invocation(params, size);
  term.focus();

  const worker = new Worker("worker.js");
  const encoder = new TextEncoder();
  let send;
  let ring = null;
  if (mode === "shared") {
    ring = createRing();
    const writer = new RingWriter(ring);
    send = (bytes) => writer.write(bytes);
  } else {
    send = (bytes) => worker.postMessage({ type: "stdin", bytes }, [bytes.buffer]);
  }
  term.onData((s) => send(encoder.encode(s)));
  term.onBinary((s) => send(Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff)));
  term.onResize(({ cols, rows }) => send(encoder.encode(`\x1b_ctr2wasm;winsize;${cols};${rows}\x1b\\`)));
  window.addEventListener("resize", () => fit.fit());

  worker.onmessage = (e) => {
    const msg = e.data;
    if (msg.type === "out") {
      term.write(msg.bytes);
    } else if (msg.type === "exit") {
      state.phase = "exited";
      state.status = msg.status;
      setStatus(`exited with status ${msg.status}`, msg.status === 0 ? "ok" : "error");
      term.options.cursorBlink = false;
      worker.terminate();
    } else if (msg.type === "translated") {
      // Hot guest code compiled to wasm (the runtime's JIT build).
      state.translated += msg.functions;
      if (msg.refused) state.refused = msg.refused;
    } else if (msg.type === "error") {
      fail(`the module failed: ${msg.message}`);
      worker.terminate();
    }
  };
  worker.onerror = (e) => fail(`the worker failed: ${e.message}`);

  let rootfs = null;
  if (rootfsBytes !== null) {
    try {
      rootfs = await rootfsBytes;
    } catch (e) {
      fail(`could not load ${inv.rootfs}: ${e.message}`);
      return;
    }
  }
  state.phase = "running";
  setStatus(mode === "shared" ? "running" : "running (JSPI)");
  worker.postMessage(
    { type: "start", module, args: inv.args, env: inv.env, stdin: ring, rootfs },
    rootfs ? [rootfs] : [],
  );
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`HTTP ${r.status} ${r.statusText}`);
  return r.arrayBuffer();
}

main().catch((e) => fail(String(e?.stack ?? e)));
