// Builds the static site: main.js and worker.js (bundled, nothing loads from a CDN at run
// time), style.css (xterm's and the page's) and index.html (with a {{title}} placeholder that
// the converter fills in). The converter's build script runs `node build.mjs OUT_DIR/web` and
// embeds the result; `npm run build` writes dist/. A site is this plus module.wasm.

import * as esbuild from "esbuild";
import { mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const dist = process.argv[2] ?? join(root, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

await esbuild.build({
  entryPoints: { main: join(root, "src/main.js"), worker: join(root, "src/worker.js") },
  outdir: dist,
  bundle: true,
  format: "iife",
  minify: true,
  target: ["chrome110", "firefox115"],
  legalComments: "linked",
  logLevel: "warning",
});
const xtermCss = readFileSync(join(root, "node_modules/@xterm/xterm/css/xterm.css"), "utf8");
const pageCss = readFileSync(join(root, "src/page.css"), "utf8");
writeFileSync(join(dist, "style.css"), `${xtermCss}\n${pageCss}`);
writeFileSync(join(dist, "index.html"), readFileSync(join(root, "src/index.html")));
