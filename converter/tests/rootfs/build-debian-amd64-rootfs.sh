#!/usr/bin/env bash
# Builds the Debian 13 ("stable") amd64 root filesystem the workloads benchmark
# (converter/benches/workloads.rs) runs natively in a chroot, as the x86-64 baseline for the
# riscv64 image that build-debian-rootfs.sh builds: the same packages, the same suite.
#
# Usage: build-debian-amd64-rootfs.sh
#   Prints the rootfs directory on stdout (last line); progress goes to stderr.
#
# Cache: ${CTR2WASM_ROOTFS_CACHE:-$HOME/.cache/ctr2wasm/rootfs}/debian-stable-amd64/, with a
# stamp file (.ctr2wasm-rootfs-key) holding a hash of this script, so a change to the package
# list rebuilds it. Idempotent and non-interactive; safe to run from several processes at once
# (flock). Installs mmdebstrap with apt when it is missing. Needs root (CI runs as root).
#
# Unlike the riscv64 builder this uses the minbase variant: the packages are for the host's own
# architecture, so dpkg runs their maintainer scripts and no fix-ups by hand are needed.
# The mirror's Release files may be past their Valid-Until date, hence the apt option.
set -euo pipefail

packages=(
    bash dash coreutils python3-minimal libpython3-stdlib findutils grep sed mawk tar gzip
    libc-bin
)
suite=stable
mirror="http://deb.debian.org/debian"

cache="${CTR2WASM_ROOTFS_CACHE:-$HOME/.cache/ctr2wasm/rootfs}"
out="$cache/debian-$suite-amd64"
key="$(sha256sum "$0" | cut -d' ' -f1)"

log() {
    printf 'build-debian-amd64-rootfs: %s\n' "$*" >&2
}

mkdir -p "$cache"
exec 9>"$cache/.lock-amd64"
flock 9

if [ -f "$out/.ctr2wasm-rootfs-key" ] && [ "$(cat "$out/.ctr2wasm-rootfs-key")" = "$key" ]; then
    echo "$out"
    exit 0
fi

if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap"
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends mmdebstrap </dev/null >&2
fi

work="$(mktemp -d "$cache/.build-amd64.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "building $out from Debian $suite (${packages[*]})"
include="$(IFS=,; echo "${packages[*]}")"
mmdebstrap --quiet --arch=amd64 --variant=minbase \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --include="$include" "$suite" "$work/rootfs.tar" "deb $mirror $suite main" </dev/null >&2

root="$work/root"
mkdir "$root"
tar -xpf "$work/rootfs.tar" --numeric-owner --same-owner -C "$root"
echo "$key" >"$root/.ctr2wasm-rootfs-key"

rm -rf "$out.old"
[ -e "$out" ] && mv "$out" "$out.old"
mv "$root" "$out"
rm -rf "$out.old"
log "done: $out"
echo "$out"
