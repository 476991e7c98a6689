// The page end to end: `ctr2wasm serve` on 127.0.0.1, Debian's chromium driven by
// playwright-core, a guest shell in the terminal, with and without the cross-origin isolation
// headers (SharedArrayBuffer + Atomics.wait, then JSPI).
//
// Inputs, from the environment (`node --test tests/`, or tests/busybox.sh which sets them):
//   CTR2WASM             the ctr2wasm binary (required)
//   WEB_TEST_MODULE      the module to put on the page: a converted image (`convert` output),
//                        whose default command must be an interactive shell
//   WEB_TEST_ROOTFS_TAR  instead of WEB_TEST_MODULE: development mode, the runtime module
//                        ctr2wasm embeds with this tar as its in-memory root file system
//                        (`?rootfs=`), running /bin/sh
//   WEB_TEST_CMD         the command to run instead of the default (`?cmd=`), e.g. /bin/bash
//   WEB_TEST_PYTHON=1    the guest has python3: also check python3 -c 'print(6*7)'
//   WEB_TEST_ARTIFACTS   where the screenshots go (default: web/tests/artifacts)
//   CHROMIUM             the browser (default: /usr/bin/chromium)
// A missing binary, module or browser fails the test; nothing is skipped.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const CTR2WASM = process.env.CTR2WASM;
const MODULE = process.env.WEB_TEST_MODULE;
const ROOTFS_TAR = process.env.WEB_TEST_ROOTFS_TAR;
const CMD = process.env.WEB_TEST_CMD;
const PYTHON = process.env.WEB_TEST_PYTHON === "1";
const ARTIFACTS = resolve(process.env.WEB_TEST_ARTIFACTS ?? join(here, "artifacts"));
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];
/** Start-up (download, compile, boot to a prompt) and each command may take this long. */
const STARTUP_MS = 180_000;
const COMMAND_MS = 60_000;

let scratch;
let site;
let query = "";
let context;

before(() => {
  assert.ok(CTR2WASM, "set CTR2WASM to the ctr2wasm binary");
  assert.ok(existsSync(CTR2WASM), `${CTR2WASM}: no such file`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM}: no browser (apt-get install chromium)`);
  assert.ok(MODULE || ROOTFS_TAR, "set WEB_TEST_MODULE (or WEB_TEST_ROOTFS_TAR)");
  scratch = mkdtempSync(join(tmpdir(), "ctr2wasm-web-test-"));
  site = join(scratch, "site");
  if (MODULE) {
    execFileSync(CTR2WASM, ["web-site", MODULE, site], { stdio: "inherit" });
  } else {
    execFileSync(CTR2WASM, ["web-site", "--runtime", site], { stdio: "inherit" });
    copyFileSync(ROOTFS_TAR, join(site, "rootfs.tar"));
    query = "?rootfs=rootfs.tar";
  }
  if (CMD) query += `${query ? "&" : "?"}cmd=${encodeURIComponent(CMD)}`;
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await context?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs `ctr2wasm serve` on a free port; resolves to {url, stop}. */
function serveSite(isolation) {
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

async function browser() {
  if (!context) {
    context = await chromium.launchPersistentContext(mkdtempSync(join(scratch, "profile-")), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1000, height: 620 },
    });
  }
  return context;
}

/** The terminal as text: every line of the buffer, and the cursor's row and line. */
function screen(page) {
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
async function waitScreen(page, what, ok, ms = COMMAND_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await screen(page);
    if (s.phase === "error") assert.fail(`page error while waiting for ${what}: ${s.error}`);
    if (ok(s)) return s;
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}; screen:\n${s.lines.join("\n").trimEnd()}`);
    }
    await page.waitForTimeout(100);
  }
}

const atPrompt = (s) => /[#$]$/.test(s.cursorLine.trimEnd());

async function command(page, text) {
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

/**
 * Types `text` (or presses `keys`, then Enter), waits for the next prompt, and returns the
 * lines the command printed. The command line must end with `text`.
 */
async function run(page, text, keys = null) {
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

for (const isolation of [true, false]) {
  const name = isolation ? "isolated" : "plain";
  test(`the container's shell in the terminal (${name}: ${isolation ? "COOP/COEP" : "no headers, JSPI"})`, async () => {
    const server = await serveSite(isolation);
    const page = await (await browser()).newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(e.message));
    try {
      await page.goto(server.url + query);
      await waitScreen(page, "the shell prompt", atPrompt, STARTUP_MS);
      const env = await page.evaluate(() => ({
        isolated: crossOriginIsolated,
        mode: window.ctr2wasm.mode,
        status: document.getElementById("status").textContent,
      }));
      assert.equal(env.isolated, isolation);
      assert.equal(env.mode, isolation ? "shared" : "jspi");

      assert.deepEqual(await run(page, "echo hello | tr a-z A-Z"), ["HELLO"]);
      if (PYTHON) assert.deepEqual(await run(page, "python3 -c 'print(6*7)'"), ["42"]);
      // The shell's line editing (raw mode): backspace, then history.
      assert.deepEqual(await run(page, "echo abc", ["echo abx", "Backspace", "c"]), ["abc"]);
      assert.deepEqual(await run(page, "echo abc", ["ArrowUp"]), ["abc"]);

      // TIOCGWINSZ reports the terminal's size, and a resize reaches the guest.
      const size = () => page.evaluate(() => `${window.ctr2wasm.term.rows} ${window.ctr2wasm.term.cols}`);
      assert.deepEqual(await run(page, "stty size"), [await size()]);
      await page.setViewportSize({ width: 820, height: 500 });
      await page.waitForFunction(() => window.ctr2wasm.term.cols < 100);
      assert.deepEqual(await run(page, "stty size"), [await size()]);

      // ^C interrupts a foreground command: the prompt is back long before 100 s.
      await command(page, "sleep 100");
      await waitScreen(page, "sleep to start", (s) => !atPrompt(s) && s.lines.some((l) => l.includes("sleep 100")));
      await page.waitForTimeout(1000);
      const interrupted = Date.now();
      await page.keyboard.press("Control+c");
      await waitScreen(page, "the prompt after ^C", atPrompt, 20_000);
      assert.ok(Date.now() - interrupted < 20_000);

      await command(page, "exit 7");
      await page.waitForFunction(() => window.ctr2wasm.phase === "exited", null, { timeout: COMMAND_MS });
      assert.equal(await page.textContent("#status"), "exited with status 7");
      await page.screenshot({ path: join(ARTIFACTS, `terminal-${name}.png`) });
      assert.deepEqual(problems, []);
    } catch (e) {
      await page.screenshot({ path: join(ARTIFACTS, `terminal-${name}-failed.png`) }).catch(() => {});
      throw e;
    } finally {
      await page.close();
      server.stop();
    }
  });
}

test("a slow download shows its byte progress, then the terminal", async () => {
  const server = await serveSite(true);
  const ctx = await browser();
  const page = await ctx.newPage();
  try {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 20,
      downloadThroughput: 2_000_000,
      uploadThroughput: 2_000_000,
    });
    await page.goto(server.url + query);
    await page.waitForFunction(() => document.querySelector("#progress progress").value > 0);
    const label = await page.textContent("#progress .label");
    assert.match(label, /^Downloading and compiling: \d+\.\d of \d+\.\d MiB$/);
    await page.screenshot({ path: join(ARTIFACTS, "progress.png") });
    await waitScreen(page, "the shell prompt", atPrompt, STARTUP_MS);
    assert.equal(await page.isHidden("#progress"), true);
  } finally {
    await page.close();
    server.stop();
  }
});

test("without isolation or JSPI the page says what the browser lacks", async () => {
  const server = await serveSite(false);
  const page = await (await browser()).newPage();
  try {
    // A browser without JSPI (Firefox today, older Chrome).
    await page.addInitScript(() => {
      delete WebAssembly.Suspending;
      delete WebAssembly.promising;
    });
    await page.goto(server.url + query);
    await page.waitForFunction(() => window.ctr2wasm.phase === "error");
    const message = await page.textContent("#message");
    assert.match(message, /Cross-Origin-Opener-Policy: same-origin/);
    assert.match(message, /Cross-Origin-Embedder-Policy: require-corp/);
    assert.match(message, /This page is not cross-origin isolated/);
    assert.match(message, /JSPI.*This browser does not have it/s);
    await page.screenshot({ path: join(ARTIFACTS, "no-jspi.png") });
  } finally {
    await page.close();
    server.stop();
  }
});
