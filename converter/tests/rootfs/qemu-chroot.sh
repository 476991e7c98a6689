#!/usr/bin/env bash
# Runs a riscv64 program from a root filesystem under qemu-riscv64, the way the userland tests
# (converter/tests/all/userland.rs) take their reference: in a chroot, with the host kernel's
# binfmt_misc handing every riscv64 ELF to qemu-riscv64-static.
#
# Usage: qemu-chroot.sh ROOTFS SCRATCH [K=V]... -- PROGRAM [ARGS]...
#   ROOTFS is never modified: the chroot is an overlay mount (upper layer in SCRATCH/upper) in a
#   private mount namespace, with the host's /dev bind-mounted and a fresh /proc, all of which
#   vanish when the program exits. The program gets exactly the K=V environment given.
#   The program's status is passed through (exec all the way down, so a fatal signal kills this
#   script's process too). Set-up failures print "qemu-chroot: ..." and exit 125.
#
# binfmt: binfmt.sh (beside this script) registers qemu-riscv64-static with the F flag, which
# chroot needs: the kernel opens the interpreter at registration time, so it need not exist
# inside ROOTFS. Needs root (CI runs as root).
set -euo pipefail

fail() {
    printf 'qemu-chroot: %s\n' "$*" >&2
    exit 125
}

if [ -z "${CTR2WASM_QEMU_CHROOT_NS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || fail "must run as root (chroot, mount and binfmt_misc need it)"
    registered=$("$(dirname "$0")/binfmt.sh" 2>&1) || fail "${registered#binfmt: }"
    exec env CTR2WASM_QEMU_CHROOT_NS=1 unshare --mount --propagation private -- "$0" "$@"
fi

[ $# -ge 4 ] || fail "usage: qemu-chroot.sh ROOTFS SCRATCH [K=V]... -- PROGRAM [ARGS]..."
rootfs=$1
scratch=$2
shift 2
env=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    env+=("$1")
    shift
done
[ $# -ge 2 ] || fail "no PROGRAM after --"
shift

mkdir -p "$scratch/upper" "$scratch/work" "$scratch/merged"
mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$scratch/upper,workdir=$scratch/work" \
    "$scratch/merged" || fail "cannot mount an overlay of $rootfs"
mkdir -p "$scratch/merged/dev" "$scratch/merged/proc"
mount --rbind /dev "$scratch/merged/dev" || fail "cannot bind-mount /dev"
mount -t proc proc "$scratch/merged/proc" || fail "cannot mount /proc"
chroot="$(command -v chroot)" || fail "chroot is missing (coreutils)"
exec env -i "${env[@]}" "$chroot" "$scratch/merged" "$@"
