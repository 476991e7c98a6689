//! The file-system view only our kernel has, checked exactly: `/proc` and `/dev` contents,
//! and the writable root whose changes stay in the runtime's memory. qemu-riscv64 cannot be
//! the oracle here (it shows the host's `/proc`, and a chroot's writes reach its disk), so
//! each case asserts the whole expected output, natively and in the runtime module.
//!
//! The programs are Debian's `busybox` (static, so no loader is involved) from the rootfs
//! that [`crate::userland`] builds.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::diff;
use crate::userland::{debian_rootfs, ours_command};

/// Guards against a hung runtime; every case takes well under a second natively.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `busybox ARGS` on both of our sides and checks stdout, stderr and status exactly.
fn check(argv: &[&str], stdout: &str) {
    let rootfs = debian_rootfs();
    let mut full = vec!["/bin/busybox"];
    full.extend_from_slice(argv);
    for wasm in [false, true] {
        let out = diff::run(ours_command(rootfs, &full, wasm), false, TIMEOUT)
            .unwrap_or_else(|e| panic!("{argv:?} (wasm: {wasm}): {e}"));
        assert_eq!(
            (
                String::from_utf8_lossy(&out.stdout).as_ref(),
                String::from_utf8_lossy(&out.stderr).as_ref(),
                out.status
            ),
            (stdout, "", 0),
            "{argv:?} (wasm: {wasm}): {}",
            out.command
        );
    }
}

#[test]
fn proc_cpuinfo_describes_one_rv64gc_hart() {
    check(
        &["cat", "/proc/cpuinfo"],
        "processor\t: 0\n\
         hart\t\t: 0\n\
         isa\t\t: rv64imafdc_zicntr_zicsr_zifencei_zihpm_zba_zbb_zbs_zicond\n\
         mmu\t\t: sv48\n\
         uarch\t\t: ctr2wasm\n\
         mvendorid\t: 0x0\n\
         marchid\t\t: 0x0\n\
         mimpid\t\t: 0x0\n\
         hart isa\t: rv64imafdc_zicntr_zicsr_zifencei_zihpm_zba_zbb_zbs_zicond\n\n",
    );
}

#[test]
fn proc_mounts_and_sys_kernel() {
    check(
        &[
            "cat",
            "/proc/mounts",
            "/proc/sys/kernel/ostype",
            "/proc/sys/kernel/osrelease",
        ],
        "overlay / overlay rw,relatime 0 0\n\
         proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n\
         devtmpfs /dev devtmpfs rw,nosuid,mode=755 0 0\n\
         Linux\n6.12.0\n",
    );
}

#[test]
fn proc_self_links() {
    check(
        &[
            "sh",
            "-c",
            "for l in /proc/self/exe /proc/self/cwd /dev/stdout /dev/fd; do busybox readlink $l; done; \
             cd /etc && busybox readlink /proc/self/cwd",
        ],
        "/usr/bin/busybox\n/\n/proc/self/fd/1\n/proc/self/fd\n/etc\n",
    );
}

#[test]
fn dev_holds_the_standard_devices() {
    check(
        &["ls", "/dev"],
        "fd\nfull\nnull\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n",
    );
}

#[test]
fn writes_stay_in_memory_and_never_reach_the_rootfs() {
    let rootfs = debian_rootfs();
    let hostname = fs::read(rootfs.join("etc/hostname")).expect("the rootfs has /etc/hostname");
    check(
        &[
            "sh",
            "-c",
            "echo changed > /etc/hostname && cat /etc/hostname && \
             rm -r /usr/share/doc && mkdir /new /tmp/t && echo x > /new/f && \
             mv /etc/apt /new/apt && ls /new && ls /usr/share | grep -cx doc; \
             ls /etc | grep -cx apt; true",
        ],
        "changed\napt\nf\n0\n0\n",
    );
    assert_eq!(fs::read(rootfs.join("etc/hostname")).unwrap(), hostname);
    for kept in ["usr/share/doc", "etc/apt"] {
        assert!(
            rootfs.join(kept).is_dir(),
            "{kept} is gone from the host rootfs"
        );
    }
    assert!(
        !Path::exists(&rootfs.join("new")),
        "/new reached the host rootfs"
    );
}
