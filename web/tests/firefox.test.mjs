// The page end to end in Firefox: Debian's firefox-esr driven by puppeteer-core over WebDriver
// BiDi (playwright-core drives only its own Firefox builds), against `ctr2wasm serve` on
// 127.0.0.1. The same shell scenario as terminal.test.mjs (harness.mjs; its environment
// variables apply here too):
// - with COOP/COEP: SharedArrayBuffer + Atomics.wait in the worker;
// - without the headers: JSPI where this Firefox has it (Firefox 153 ESR does), else the
//   message that says what the browser lacks;
// - without the headers, in a Firefox with JSPI turned off (its
//   javascript.options.wasm_js_promise_integration pref, as in Firefox before JSPI): that
//   message.
// Here also:
//   FIREFOX              the browser (default: /usr/bin/firefox-esr)
// A missing binary, module or browser fails the test; nothing is skipped.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, existsSync } from "node:fs";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { ARTIFACTS, makeSite, pageState, waitPage, shellScenario, assertLacksMessage } from "./harness.mjs";

const FIREFOX = process.env.FIREFOX ?? "/usr/bin/firefox-esr";
const JSPI_PREF = "javascript.options.wasm_js_promise_integration";
/**
 * The machine may have no internet: besides what puppeteer's profile already turns off
 * (updates, safe browsing, telemetry, remote settings), Firefox's other background requests.
 */
const OFFLINE_PREFS = {
  "app.shield.optoutstudies.enabled": false,
  "browser.region.network.url": "",
  "browser.region.update.enabled": false,
  "messaging-system.rsexperimentloader.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "network.dns.disablePrefetch": true,
  "network.prefetch-next": false,
  "toolkit.telemetry.enabled": false,
  "toolkit.telemetry.server": "",
};

/** What the shared scenario needs done the puppeteer way. */
const driver = {
  async ctrlC(page) {
    await page.keyboard.down("Control");
    await page.keyboard.press("c");
    await page.keyboard.up("Control");
  },
  resize: (page, width, height) => page.setViewport({ width, height }),
};

let site;
const browsers = new Set();

before(() => {
  assert.ok(existsSync(FIREFOX), `${FIREFOX}: no browser (apt-get install firefox-esr)`);
  site = makeSite();
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  site?.remove();
});

/** A headless Firefox with a fresh profile; `prefs` go into it too. */
async function firefox(prefs = {}) {
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    userDataDir: mkdtempSync(join(site.scratch, "firefox-profile-")),
    extraPrefsFirefox: { ...OFFLINE_PREFS, ...prefs },
    defaultViewport: { width: 1000, height: 620 },
  });
  browsers.add(browser);
  return browser;
}

async function closeFirefox(browser) {
  browsers.delete(browser);
  await browser.close();
}

/**
 * Loads the page (with or without the headers) in `browser` and hands it to `body`; reports
 * uncaught page errors, and screenshots the page as ARTIFACTS/firefox-NAME-failed.png if
 * `body` fails.
 */
async function withPage(browser, isolation, name, body) {
  const server = await site.serve(isolation);
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  try {
    await page.goto(server.url + site.query);
    await body(page);
    assert.deepEqual(problems, []);
  } catch (e) {
    await page.screenshot({ path: join(ARTIFACTS, `firefox-${name}-failed.png`) }).catch(() => {});
    throw e;
  } finally {
    await page.close().catch(() => {});
    server.stop();
  }
}

test("Firefox: the container's shell in the terminal (isolated: COOP/COEP, SharedArrayBuffer)", async (t) => {
  const browser = await firefox();
  t.diagnostic(`browser: ${await browser.version()}`);
  try {
    await withPage(browser, true, "isolated", async (page) => {
      const times = await shellScenario(page, driver, { isolated: true, mode: "shared" });
      t.diagnostic(`ms: ${JSON.stringify(times)}`);
      await page.screenshot({ path: join(ARTIFACTS, "firefox-isolated.png") });
    });
  } finally {
    await closeFirefox(browser);
  }
});

test("Firefox: without the headers, the shell over JSPI, or the message if it lacks JSPI", async (t) => {
  const browser = await firefox();
  try {
    await withPage(browser, false, "plain", async (page) => {
      await waitPage(page, "the page to start", () => window.ctr2wasm?.mode !== undefined);
      const { isolated, jspi } = await pageState(page);
      assert.equal(isolated, false);
      if (jspi) {
        t.diagnostic("this Firefox has JSPI: the shell scenario");
        const times = await shellScenario(page, driver, { isolated: false, mode: "jspi" });
        t.diagnostic(`ms: ${JSON.stringify(times)}`);
        await page.screenshot({ path: join(ARTIFACTS, "firefox-plain.png") });
      } else {
        t.diagnostic("this Firefox lacks JSPI: the page's message");
        await assertLacksMessage(page);
        await page.screenshot({ path: join(ARTIFACTS, "firefox-plain-no-jspi.png") });
      }
    });
  } finally {
    await closeFirefox(browser);
  }
});

test("Firefox without JSPI, without the headers: the page says what the browser lacks", async () => {
  const browser = await firefox({ [JSPI_PREF]: false });
  try {
    await withPage(browser, false, "no-jspi", async (page) => {
      assert.equal((await pageState(page)).jspi, false, `${JSPI_PREF}=false leaves no JSPI`);
      await assertLacksMessage(page);
      await page.screenshot({ path: join(ARTIFACTS, "firefox-no-jspi.png") });
    });
  } finally {
    await closeFirefox(browser);
  }
});
