// The page end to end in Chromium: `ctr2wasm serve` on 127.0.0.1, Debian's chromium driven by
// playwright-core, a guest shell in the terminal, with and without the cross-origin isolation
// headers (SharedArrayBuffer + Atomics.wait, then JSPI); byte progress on a slow download; the
// message a browser without isolation or JSPI gets. firefox.test.mjs runs the same scenario in
// Firefox; harness.mjs has what they share and the environment variables both read. Here also:
//   CHROMIUM             the browser (default: /usr/bin/chromium)
// A missing binary, module or browser fails the test; nothing is skipped.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import {
  ARTIFACTS,
  STARTUP_MS,
  makeSite,
  waitScreen,
  atPrompt,
  shellScenario,
  assertLacksMessage,
} from "./harness.mjs";

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

/** What the shared scenario needs done the playwright way. */
const driver = {
  ctrlC: (page) => page.keyboard.press("Control+c"),
  resize: (page, width, height) => page.setViewportSize({ width, height }),
};

let site;
let context;

before(() => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM}: no browser (apt-get install chromium)`);
  site = makeSite();
});

after(async () => {
  await context?.close();
  site?.remove();
});

async function browser() {
  if (!context) {
    context = await chromium.launchPersistentContext(mkdtempSync(join(site.scratch, "profile-")), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1000, height: 620 },
    });
  }
  return context;
}

for (const isolation of [true, false]) {
  const name = isolation ? "isolated" : "plain";
  test(`the container's shell in the terminal (${name}: ${isolation ? "COOP/COEP" : "no headers, JSPI"})`, async () => {
    const server = await site.serve(isolation);
    const page = await (await browser()).newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(e.message));
    try {
      await page.goto(server.url + site.query);
      await shellScenario(page, driver, { isolated: isolation, mode: isolation ? "shared" : "jspi" });
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
  const server = await site.serve(true);
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
    await page.goto(server.url + site.query);
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
  const server = await site.serve(false);
  const page = await (await browser()).newPage();
  try {
    // A browser without JSPI (older Firefox and Chrome).
    await page.addInitScript(() => {
      delete WebAssembly.Suspending;
      delete WebAssembly.promising;
    });
    await page.goto(server.url + site.query);
    await assertLacksMessage(page);
    await page.screenshot({ path: join(ARTIFACTS, "no-jspi.png") });
  } finally {
    await page.close();
    server.stop();
  }
});
