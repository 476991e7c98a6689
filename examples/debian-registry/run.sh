#!/usr/bin/env bash
# The main job, offline: build a small Debian 13 riscv64 image from Debian's packages, serve
# it from a local registry, convert it with ctr2wasm and run the module.
#
#   examples/debian-registry/run.sh [OUT.wasm]
#
# No Docker and no Docker Hub: mmdebstrap unpacks the packages, umoci makes the OCI image,
# Debian's docker-registry serves it on 127.0.0.1, skopeo pushes it. Needs root once (apt,
# and unpacking with the files' owners).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$PWD/debian.wasm}

"$root/.ci/setup"
cargo build --release --manifest-path "$root/Cargo.toml" -p ctr2wasm
target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
ctr2wasm="$target_dir/release/ctr2wasm"

work=$(mktemp -d)
registry_pid=
cleanup() {
    local status=$?
    if [ -n "$registry_pid" ]; then
        kill "$registry_pid" 2>/dev/null || true
        wait "$registry_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

echo "== 1. a Debian 13 riscv64 root file system from Debian's packages (bash, coreutils, python3)"
rootfs=$("$root/converter/tests/rootfs/build-debian-rootfs.sh" | tail -n1)

echo "== 2. an OCI image of it, with umoci"
umoci init --layout "$work/oci"
umoci new --image "$work/oci:debian"
umoci unpack --image "$work/oci:debian" "$work/bundle" >/dev/null
cp -a "$rootfs/." "$work/bundle/rootfs/"
umoci repack --image "$work/oci:debian" "$work/bundle"
# After repack, which starts again from the config saved at unpack time.
umoci config --image "$work/oci:debian" --os linux --architecture riscv64 \
    --config.cmd /bin/bash --config.workingdir / \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

echo "== 3. a local registry on 127.0.0.1, and the image pushed to it"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
    sleep 0.1
done
skopeo copy --quiet --dest-tls-verify=false "oci:$work/oci:debian" "docker://127.0.0.1:$port/debian:13"

echo "== 4. ctr2wasm convert 127.0.0.1:$port/debian:13 $out"
"$ctr2wasm" convert --insecure "127.0.0.1:$port/debian:13" "$out"
"$ctr2wasm" inspect "$out"

echo "== 5. run it"
set -x
"$ctr2wasm" run "$out" cat /etc/os-release
"$ctr2wasm" run "$out" python3 -c 'import platform; print("python", platform.python_version(), "on", platform.machine())'
echo 'echo hello from bash $BASH_VERSION; exit 3' | "$ctr2wasm" run "$out" || echo "exit status: $?"
