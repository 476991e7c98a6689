#!/usr/bin/env bash
# Runs the browser tests in development mode: the runtime module ctr2wasm embeds, with Debian's
# riscv64 busybox (a static `sh`, `tr`, `sleep`, `stty`) as an in-memory root file system.
# Builds what it needs: ctr2wasm (cargo), the Debian riscv64 rootfs (the userland tests'
# script), the web package (npm ci). Chromium and Firefox, one at a time. Screenshots go to
# web/tests/artifacts/.
set -euo pipefail
web="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(dirname "$web")"
target="${CARGO_TARGET_DIR:-$repo/target}"

cargo build --quiet --manifest-path "$repo/Cargo.toml" -p ctr2wasm
rootfs="$("$repo/converter/tests/rootfs/build-debian-rootfs.sh" | tail -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/root" "$work/rootfs/tmp"
cp "$rootfs/bin/busybox" "$work/rootfs/bin/busybox"
ln "$work/rootfs/bin/busybox" "$work/rootfs/bin/sh"
tar -cf "$work/rootfs.tar" -C "$work/rootfs" .

cd "$web"
[ -d node_modules ] || npm ci --no-audit --no-fund
CTR2WASM="$target/debug/ctr2wasm" WEB_TEST_ROOTFS_TAR="$work/rootfs.tar" \
    node --test --test-concurrency=1 tests/
