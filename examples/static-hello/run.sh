#!/usr/bin/env bash
# Builds ctr2wasm, cross-compiles hello.c for riscv64 and runs it twice: on the interpreter
# built for this machine, and on the runtime module in the embedded wasmtime.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
"$root/.ci/setup"
cargo build --release --manifest-path "$root/Cargo.toml" -p ctr2wasm
target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
ctr2wasm="$target_dir/release/ctr2wasm"
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin"
riscv64-linux-gnu-gcc -O2 -static -o "$rootfs/bin/hello" "$here/hello.c"
for mode in "" "--wasm"; do
    echo "== ctr2wasm exec $mode"
    status=0
    "$ctr2wasm" exec $mode --rootfs "$rootfs" --env GREETING=bonjour -- /bin/hello one two || status=$?
    echo "exit status: $status"
done
