#!/usr/bin/env bash
# Builds the Debian 13 ("stable") riscv64 root filesystem the userland tests run
# (converter/tests/all/userland.rs), from Debian's own packages, and caches it outside the repo.
#
# This is the one place that builds it. Usage: build-debian-rootfs.sh [--print-path]
#   Prints the rootfs directory on stdout (last line); progress goes to stderr.
#
# Cache: ${CTR2WASM_ROOTFS_CACHE:-$HOME/.cache/ctr2wasm/rootfs}/debian-stable-riscv64/, with a
# stamp file (.ctr2wasm-rootfs-key) holding a hash of this script, so any change to the package
# list or the fix-ups below rebuilds it. Idempotent and non-interactive; safe to run from several
# processes at once (flock). Installs mmdebstrap with apt when it is missing.
#
# Gotchas (DEVELOPERS.md has more):
# - The extract variant unpacks packages without running maintainer scripts, so the fix-ups
#   below do by hand what dpkg's postinst scripts would: /bin/sh, the awk alternative,
#   /etc/passwd and /etc/group, /tmp with mode 1777.
# - The mirror's Release files may be past their Valid-Until date, hence the apt option.
# - Extraction keeps owners and modes (it must run as root for that, as CI does).
set -euo pipefail

packages=(
    busybox-static bash dash coreutils python3-minimal libpython3-stdlib findutils grep sed
    mawk tar gzip libc-bin
)
suite=stable
mirror="http://deb.debian.org/debian"

cache="${CTR2WASM_ROOTFS_CACHE:-$HOME/.cache/ctr2wasm/rootfs}"
out="$cache/debian-$suite-riscv64"
key="$(sha256sum "$0" | cut -d' ' -f1)"

log() {
    printf 'build-debian-rootfs: %s\n' "$*" >&2
}

mkdir -p "$cache"
exec 9>"$cache/.lock"
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

work="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "building $out from Debian $suite (${packages[*]})"
include="$(IFS=,; echo "${packages[*]}")"
mmdebstrap --quiet --arch=riscv64 --variant=extract \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --include="$include" "$suite" "$work/rootfs.tar" "deb $mirror $suite main" </dev/null >&2

root="$work/root"
mkdir "$root"
tar -xpf "$work/rootfs.tar" --numeric-owner --same-owner -C "$root"

# What dpkg's maintainer scripts would have done.
ln -sfn dash "$root/usr/bin/sh"
ln -sfn mawk "$root/usr/bin/awk"
mkdir -p "$root/tmp" "$root/root" "$root/proc" "$root/dev"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo ctr2wasm >"$root/etc/hostname"
echo "$key" >"$root/.ctr2wasm-rootfs-key"

rm -rf "$out.old"
[ -e "$out" ] && mv "$out" "$out.old"
mv "$root" "$out"
rm -rf "$out.old"
log "done: $out"
echo "$out"
