// What the browser tests share: the inputs from the environment, the site they serve, `ctr2wasm
// serve`, reading the terminal, and the shell scenario. terminal.test.mjs drives Chromium with
// playwright-core, firefox.test.mjs drives Firefox with puppeteer-core (WebDriver BiDi); the
// code here uses only what both `page` objects have: goto, evaluate, keyboard.type and
// keyboard.press (with the same key names), screenshot({path}).
//
// Inputs, from the environment (`node --test tests/`, or tests/busybox.sh or tests/debian.sh,
// which set them):
//   CTR2WASM             the ctr2wasm binary (required)
//   WEB_TEST_MODULE      the module to put on the page: a converted image (`convert` output),
//                        whose default command must be an interactive shell
//   WEB_TEST_ROOTFS_TAR  instead of WEB_TEST_MODULE: development mode, the runtime module
//                        ctr2wasm embeds with this tar as its in-memory root file system
//                        (`?rootfs=`), running /bin/sh
//   WEB_TEST_CMD         the command to run instead of the default (`?cmd=`), e.g. /bin/bash
//   WEB_TEST_PYTHON=1    the guest has python3: also check python3 -c 'print(6*7)'
//   WEB_TEST_ARTIFACTS   where the screenshots go (default: web/tests/artifacts)
// A missing binary or module fails the test; nothing is skipped.

import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

export { sleep };

const here = dirname(fileURLToPath(import.meta.url));
const CTR2WASM = process.env.CTR2WASM;
const MODULE = process.env.WEB_TEST_MODULE;
const ROOTFS_TAR = process.env.WEB_TEST_ROOTFS_TAR;
const CMD = process.env.WEB_TEST_CMD;
export const PYTHON = process.env.WEB_TEST_PYTHON === "1";
export const ARTIFACTS = resolve(process.env.WEB_TEST_ARTIFACTS ?? join(here, "artifacts"));

/** Start-up (download, compile, boot to a prompt) and each command may take this long. */
export const STARTUP_MS = 180_000;
export const COMMAND_MS = 60_000;

/**
 * Writes the site (`ctr2wasm web-site`) into a new scratch directory. Returns {scratch, site,
 * query (the URL's ?... for development mode and WEB_TEST_CMD), serve(isolation), remove()}.
 */
export function makeSite() {
  assert.ok(CTR2WASM, "set CTR2WASM to the ctr2wasm binary");
  assert.ok(existsSync(CTR2WASM), `${CTR2WASM}: no such file`);
  assert.ok(MODULE || ROOTFS_TAR, "set WEB_TEST_MODULE (or WEB_TEST_ROOTFS_TAR)");
  const scratch = mkdtempSync(join(tmpdir(), "ctr2wasm-web-test-"));
  const site = join(scratch, "site");
  let query = "";
  if (MODULE) {
    execFileSync(CTR2WASM, ["web-site", MODULE, site], { stdio: "inherit" });
  } else {
    execFileSync(CTR2WASM, ["web-site", "--runtime", site], { stdio: "inherit" });
    copyFileSync(ROOTFS_TAR, join(site, "rootfs.tar"));
    query = "?rootfs=rootfs.tar";
  }
  if (CMD) query += `${query ? "&" : "?"}cmd=${encodeURIComponent(CMD)}`;
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    scratch,
    site,
    query,
    serve: (isolation) => serveSite(site, isolation),
    remove: () => rmSync(scratch, { recursive: true, force: true }),
  };
}

/** Runs `ctr2wasm serve` on a free port; resolves to {url, stop}. */
function serveSite(site, isolation) {
  const args = ["serve", site, "--port", "0", ...(isolation ? [] : ["--no-isolation"])];
  const child = spawn(CTR2WASM, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolvePromise, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) resolvePromise({ url: m[0], stop: () => child.kill() });
    });
    child.on("exit", (code) => reject(new Error(`ctr2wasm serve exited with ${code}: ${out}`)));
  });
}

/** The terminal as text: every line of the buffer, and the cursor's row and line. */
export function screen(page) {
  return page.evaluate(() => {
    const term = window.ctr2wasm?.term;
    if (!term) return { lines: [], cursorRow: 0, cursorLine: "", phase: window.ctr2wasm?.phase };
    const b = term.buffer.active;
    const lines = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
    const cursorRow = b.baseY + b.cursorY;
    return {
      lines,
      cursorRow,
      cursorLine: lines[cursorRow],
      phase: window.ctr2wasm.phase,
      error: window.ctr2wasm.error,
    };
  });
}

/** Polls the screen until `ok(screen)` holds; fails with the screen after `ms`. */
export async function waitScreen(page, what, ok, ms = COMMAND_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await screen(page);
    if (s.phase === "error") assert.fail(`page error while waiting for ${what}: ${s.error}`);
    if (ok(s)) return s;
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}; screen:\n${s.lines.join("\n").trimEnd()}`);
    }
    await sleep(100);
  }
}

/** Polls `fn` in the page until it returns something truthy; fails after `ms`. */
export async function waitPage(page, what, fn, ms = COMMAND_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await page.evaluate(fn);
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export const atPrompt = (s) => /[#$]$/.test(s.cursorLine.trimEnd());

/** The page's state for the test: isolation, blocking mode, phase, status bar, message. */
export function pageState(page) {
  return page.evaluate(() => ({
    isolated: crossOriginIsolated,
    jspi: typeof WebAssembly.Suspending === "function" && typeof WebAssembly.promising === "function",
    mode: window.ctr2wasm?.mode,
    phase: window.ctr2wasm?.phase,
    status: document.getElementById("status").textContent,
    message: document.getElementById("message").textContent,
  }));
}

export async function command(page, text) {
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

/**
 * Types `text` (or presses `keys`, then Enter), waits for the next prompt, and returns the
 * lines the command printed. The command line must end with `text`.
 */
export async function run(page, text, keys = null) {
  const row = (await screen(page)).cursorRow;
  if (keys) {
    for (const k of keys) await (k.length === 1 || k.includes(" ") ? page.keyboard.type(k) : page.keyboard.press(k));
    await page.keyboard.press("Enter");
  } else {
    await command(page, text);
  }
  const s = await waitScreen(page, `the prompt after ${text}`, (s) => s.cursorRow > row && atPrompt(s));
  assert.ok(s.lines[row].trimEnd().endsWith(text), `the command line shows what was typed: ${s.lines[row]}`);
  return s.lines.slice(row + 1, s.cursorRow).map((l) => l.trimEnd());
}

/**
 * The container's shell in the terminal, on a page already loading `url`: the prompt, a pipe,
 * python3 (WEB_TEST_PYTHON=1), line editing and history, `stty size` before and after a
 * resize, ^C on `sleep 100`, and `exit 7` in the status bar. `browser` does what the two
 * drivers spell differently: ctrlC(page), resize(page, width, height). `mode` is the blocking
 * mode the page must pick ("shared" or "jspi"). Returns how long each step took (ms).
 */
export async function shellScenario(page, browser, { isolated, mode }) {
  const times = {};
  let t = Date.now();
  const lap = (name) => {
    times[name] = Date.now() - t;
    t = Date.now();
  };
  await waitScreen(page, "the shell prompt", atPrompt, STARTUP_MS);
  lap("prompt");
  const env = await pageState(page);
  assert.equal(env.isolated, isolated);
  assert.equal(env.mode, mode);

  assert.deepEqual(await run(page, "echo hello | tr a-z A-Z"), ["HELLO"]);
  lap("pipe");
  // A loop hot enough that the runtime translates bash's code to wasm, which the worker
  // compiles and links (the JIT build's ctr2wasm_jit.compile).
  assert.deepEqual(await run(page, "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo $i"), ["20000"]);
  const jit = await page.evaluate(() => ({ translated: window.ctr2wasm.translated, refused: window.ctr2wasm.refused }));
  assert.equal(jit.refused, null);
  assert.ok(jit.translated > 0, `no code was translated: ${JSON.stringify(jit)}`);
  lap("hot loop");
  if (PYTHON) {
    assert.deepEqual(await run(page, "python3 -c 'print(6*7)'"), ["42"]);
    lap("python3");
  }
  // The shell's line editing (raw mode): backspace, then history.
  assert.deepEqual(await run(page, "echo abc", ["echo abx", "Backspace", "c"]), ["abc"]);
  assert.deepEqual(await run(page, "echo abc", ["ArrowUp"]), ["abc"]);
  lap("editing");

  // TIOCGWINSZ reports the terminal's size, and a resize reaches the guest.
  const size = () => page.evaluate(() => `${window.ctr2wasm.term.rows} ${window.ctr2wasm.term.cols}`);
  assert.deepEqual(await run(page, "stty size"), [await size()]);
  await browser.resize(page, 820, 500);
  await waitPage(page, "the terminal to shrink", () => window.ctr2wasm.term.cols < 100);
  assert.deepEqual(await run(page, "stty size"), [await size()]);
  lap("resize");

  // ^C interrupts a foreground command: the prompt is back long before 100 s.
  await command(page, "sleep 100");
  await waitScreen(page, "sleep to start", (s) => !atPrompt(s) && s.lines.some((l) => l.includes("sleep 100")));
  await sleep(1000);
  const interrupted = Date.now();
  await browser.ctrlC(page);
  await waitScreen(page, "the prompt after ^C", atPrompt, 20_000);
  assert.ok(Date.now() - interrupted < 20_000);
  lap("ctrl-c");

  await command(page, "exit 7");
  await waitPage(page, "the guest to exit", () => window.ctr2wasm?.phase === "exited");
  assert.equal((await pageState(page)).status, "exited with status 7");
  lap("exit");
  return times;
}

/** Checks the message of a page that has neither cross-origin isolation nor JSPI. */
export async function assertLacksMessage(page) {
  await waitPage(page, "the page's error", () => window.ctr2wasm?.phase === "error");
  const { message, mode } = await pageState(page);
  assert.equal(mode, null);
  assert.match(message, /Cross-Origin-Opener-Policy: same-origin/);
  assert.match(message, /Cross-Origin-Embedder-Policy: require-corp/);
  assert.match(message, /This page is not cross-origin isolated/);
  assert.match(message, /JSPI.*This browser does not have it/s);
}
