#!/usr/bin/env bash
# The browser tests on the product path: converts the Debian 13 riscv64 test image (an OCI
# layout of tests/images, with bash and python3) with `ctr2wasm convert`, puts the module on the
# page, and drives it in Chromium (tests/terminal.test.mjs) and Firefox (firefox.test.mjs), one
# browser at a time, with and without COOP/COEP: the bash prompt, a pipe, python3, ^C and an exit
# status; without the headers in a browser lacking JSPI, the page's message. Screenshots go to
# web/tests/artifacts/.
set -euo pipefail
web="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(dirname "$web")"
target="${CARGO_TARGET_DIR:-$repo/target}"

cargo build --quiet --manifest-path "$repo/Cargo.toml" -p ctr2wasm
images="$("$repo/converter/tests/images/make-images.sh" | tail -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$target/debug/ctr2wasm" convert --quiet "oci:$images/debian:latest" "$work/debian.wasm"

cd "$web"
[ -d node_modules ] || npm ci --no-audit --no-fund
CTR2WASM="$target/debug/ctr2wasm" WEB_TEST_MODULE="$work/debian.wasm" WEB_TEST_PYTHON=1 \
    node --test --test-concurrency=1 tests/
