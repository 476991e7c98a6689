#!/usr/bin/env bash
# Makes sure the host kernel hands riscv64 ELF programs to qemu-riscv64-static: the reference
# side of the tests needs it wherever a guest program execs another riscv64 program (the
# userland tests' chroot, and the differential tests' guests that execve /proc/self/exe under
# plain qemu-riscv64, whose execve is the host kernel's).
#
# Mounts binfmt_misc on /proc/sys/fs/binfmt_misc if it is not mounted, and registers
# qemu-riscv64 from Debian's /usr/lib/binfmt.d/qemu-riscv64.conf (qemu-user-static) if it is
# not registered. The registration has the F (fix-binary) flag, which chroot needs: the kernel
# opens the interpreter at registration time, so it need not exist inside a chroot. Both are
# left in place afterwards (they are what `update-binfmts --enable qemu-riscv64` sets up).
# Needs root (CI runs as root). Failures print "binfmt: ..." and exit 125.
set -euo pipefail

fail() {
    printf 'binfmt: %s\n' "$*" >&2
    exit 125
}

binfmt=/proc/sys/fs/binfmt_misc
conf=/usr/lib/binfmt.d/qemu-riscv64.conf

[ "$(id -u)" -eq 0 ] || fail "must run as root (mounting and registering binfmt_misc need it)"
[ -f "$conf" ] || fail "$conf is missing: install qemu-user-static (.ci/setup does)"
(
    # Tests call this from many threads at once: one registers, the others wait and check.
    flock 9
    if [ ! -e "$binfmt/register" ]; then
        mount -t binfmt_misc binfmt_misc "$binfmt" ||
            fail "cannot mount binfmt_misc on $binfmt"
    fi
    if [ ! -e "$binfmt/qemu-riscv64" ]; then
        cat "$conf" >"$binfmt/register" || fail "cannot register $conf with binfmt_misc"
    fi
    grep -qx enabled "$binfmt/qemu-riscv64" || fail "binfmt_misc entry qemu-riscv64 is disabled"
    grep -q '^flags: .*F' "$binfmt/qemu-riscv64" ||
        fail "binfmt_misc entry qemu-riscv64 lacks the F flag, so chroot cannot find qemu"
) 9>/tmp/.ctr2wasm-binfmt.lock
