//! Host directories mounted into the guest with `ctr2wasm exec --dir HOST::GUEST`: natively,
//! and with `--wasm`, where wasmtime preopens them and the runtime mounts its preopens.
//!
//! Two kinds of check:
//! - Guest programs of `tests/guest/` that work in their working directory run with it in a
//!   mounted host directory; the oracle is qemu-riscv64 running the same program in a plain
//!   host directory. stdout, stderr and the status must match, and so must the trees both
//!   leave on the host: names, types, sizes, contents, symlink targets, link counts and,
//!   natively, permission bits.
//! - Debian's shell and coreutils (the rootfs of [`crate::userland`]) work on mounted
//!   directories, and each case checks the whole output and the host directories afterwards.
//!   qemu cannot be the oracle there: what is checked only our kernel has (`/proc/mounts`, a
//!   mount point made where the image has none, `EXDEV` and `EBUSY` at a mount's edge,
//!   symlinks of the host directory resolved inside the guest).
//!
//! A third kind races the host: a host thread swaps a directory inside the mount for a symlink
//! to one outside while a guest program works through it ([`race`]), on every runner.
//!
//! WASI bounds what the runtime module can do with host files: no permission bits (files show
//! 0644, directories 0755, `chmod` changes nothing), one link per file and inode numbers made
//! up from the path, and wasmtime refuses to create or read symlinks whose target is absolute
//! (`EPERM`). Each case states what the wasm side gives there, and programs that print link
//! counts or permission bits run natively only.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::diff::{self, Outcome};
use crate::guest::{self, Variant};
use crate::userland::{ENV, debian_rootfs};

/// Guards against a hung runtime or qemu; every case takes a few seconds at most.
const TIMEOUT: Duration = Duration::from_secs(300);

/// `ctr2wasm exec [--wasm] --rootfs ROOTFS [--env]... --dir HOST::GUEST... --workdir W -- ARGV`.
fn exec_command(
    rootfs: &Path,
    mounts: &[(&Path, &str)],
    env: &[&str],
    workdir: &str,
    argv: &[&str],
    wasm: bool,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
    command.arg("exec");
    if wasm {
        command.arg("--wasm");
    }
    command.arg("--rootfs").arg(rootfs);
    for pair in env {
        command.arg("--env").arg(pair);
    }
    for (host, guest) in mounts {
        command
            .arg("--dir")
            .arg(format!("{}::{guest}", host.display()));
    }
    command.arg("--workdir").arg(workdir).arg("--").args(argv);
    command
}

/// An empty directory for one case, under Cargo's scratch directory.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("mounts")
        .join(name);
    match fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot remove {}: {e}", dir.display()),
    }
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn side(wasm: bool) -> &'static str {
    if wasm {
        "ctr2wasm exec --wasm"
    } else {
        "ctr2wasm exec"
    }
}

/// Everything below `root` that two runs leave comparable, one line per entry, sorted:
/// directories (with their permission bits when `modes`), regular files (bits, link count,
/// contents), symlinks (target). Times, inode numbers and directory sizes differ between any
/// two trees and are left out.
fn tree(root: &Path, modes: bool) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, modes: bool, out: &mut Vec<String>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let rel = path.strip_prefix(root).expect("below the root").display();
            let meta = fs::symlink_metadata(&path).expect("metadata of a listed entry");
            let mode = if modes {
                format!(" {:o}", meta.permissions().mode() & 0o7777)
            } else {
                String::new()
            };
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).expect("a symlink's target");
                out.push(format!("{rel} -> {}", target.display()));
            } else if meta.is_dir() {
                out.push(format!("{rel}/{mode}"));
                walk(root, &path, modes, out);
            } else {
                let data = fs::read(&path).expect("a regular file's contents");
                out.push(format!(
                    "{rel}{mode} nlink={} {:?}",
                    meta.nlink(),
                    String::from_utf8_lossy(&data)
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, modes, &mut out);
    out
}

/// Runs the guest program `name` with its working directory in a mounted host directory and
/// compares it with qemu-riscv64 running it in a host directory: output, status and the
/// trees left behind. `wasm` says whether the runtime module runs it too.
fn check_program(name: &str, wasm: bool) {
    let rootfs = guest::rootfs();
    let variant = Variant::Rv64gc;
    rootfs
        .check_built(name, variant)
        .unwrap_or_else(|e| panic!("{e}"));
    let guest_path = rootfs.guest_path(name, variant);

    let reference_dir = fresh_dir(&format!("{name}/qemu"));
    let qemu = diff::find_tool("qemu-riscv64", "qemu-user").unwrap_or_else(|e| panic!("{e}"));
    let prlimit = diff::find_tool("prlimit", "util-linux").unwrap_or_else(|e| panic!("{e}"));
    let mut command = Command::new(prlimit);
    command
        .args(["--core=0", "--"])
        .arg(qemu)
        .arg("-0")
        .arg(&guest_path)
        .arg(rootfs.reference_binary(name, variant))
        .env_clear()
        .current_dir(&reference_dir);
    let reference = diff::run(command, true, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));

    let sides: &[bool] = if wasm { &[false, true] } else { &[false] };
    for &wasm in sides {
        let host = fresh_dir(&format!("{name}/{}", if wasm { "wasm" } else { "native" }));
        let command = exec_command(
            rootfs.root(),
            &[(&host, "/data")],
            &[],
            "/data",
            &[&guest_path],
            wasm,
        );
        let ours = diff::run(command, false, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
        let found = diff::differences(&reference, &ours, "qemu-riscv64", side(wasm));
        assert!(
            found.is_empty(),
            "{name} in a mounted directory: {} differs from qemu-riscv64 in a host directory\n\
             {found}reproduce with:\n  {}\n  {}",
            side(wasm),
            reference.command,
            ours.command
        );
        // WASI creates host files with the host's default permission bits.
        let modes = !wasm;
        assert_eq!(
            tree(&host, modes),
            tree(&reference_dir, modes),
            "{name}: the tree {} left in the mounted directory {} (right: qemu-riscv64's in {})",
            side(wasm),
            host.display(),
            reference_dir.display()
        );
    }
}

/// One test per guest program: `name: wasm true` when it also runs in the runtime module.
macro_rules! program_tests {
    ($($name:ident: wasm $wasm:expr,)*) => {
        $(
            #[test]
            fn $name() {
                super::check_program(stringify!($name), $wasm);
            }
        )*
    };
}

/// Guest programs with their working directory in a mounted host directory.
mod programs {
    program_tests! {
        tree_ops: wasm true,
        fcntl_dup: wasm true,
        // These print permission bits or link counts, which WASI cannot report.
        files_basic: wasm false,
        dirs: wasm false,
        links: wasm false,
    }
}

/// Runs `script` under Debian's `/bin/sh` with `hosts[i]` mounted at `guests[i]`.
fn shell(hosts: &[PathBuf], guests: &[&str], script: &str, wasm: bool) -> Outcome {
    let mounts: Vec<(&Path, &str)> = hosts
        .iter()
        .map(PathBuf::as_path)
        .zip(guests.iter().copied())
        .collect();
    let command = exec_command(
        debian_rootfs(),
        &mounts,
        ENV,
        "/",
        &["/bin/sh", "-c", script],
        wasm,
    );
    diff::run(command, false, TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts a whole outcome: stdout, stderr and status; `who` names the side that ran.
fn assert_outcome(out: &Outcome, stdout: &str, stderr: &str, status: i32, who: &str) {
    assert_eq!(
        (
            String::from_utf8_lossy(&out.stdout).as_ref(),
            String::from_utf8_lossy(&out.stderr).as_ref(),
            out.status
        ),
        (stdout, stderr, status),
        "{who}: {}",
        out.command
    );
}

fn write(path: &Path, data: &str) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    fs::write(path, data).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

#[test]
fn shell_changes_reach_the_host_directory() {
    let hostname = fs::read_to_string(debian_rootfs().join("etc/hostname"))
        .expect("the rootfs has /etc/hostname");
    for wasm in [false, true] {
        let host = fresh_dir(&format!("changes-{wasm}"));
        write(&host.join("pre"), "from the host\n");
        write(&host.join("sub/old"), "old\n");
        let out = shell(
            std::slice::from_ref(&host),
            &["/data"],
            "cat /data/pre
             echo one > /data/new && echo two >> /data/new
             printf abcdef > /data/trunc && truncate -s 3 /data/trunc
             mkdir -p /data/dir/sub && rmdir /data/dir/sub
             mv /data/new /data/dir/moved
             ln -s moved /data/dir/link && cat /data/dir/link
             ln /data/dir/moved /data/hard
             rm /data/sub/old && rmdir /data/sub
             cp /etc/hostname /data/hostname
             ls /data /data/dir",
            wasm,
        );
        assert_outcome(
            &out,
            "from the host\none\ntwo\n\
             /data:\ndir\nhard\nhostname\npre\ntrunc\n\n/data/dir:\nlink\nmoved\n",
            "",
            0,
            side(wasm),
        );
        assert_eq!(
            tree(&host, false),
            [
                "dir/".to_string(),
                "dir/link -> moved".into(),
                "dir/moved nlink=2 \"one\\ntwo\\n\"".into(),
                "hard nlink=2 \"one\\ntwo\\n\"".into(),
                format!("hostname nlink=1 {hostname:?}"),
                "pre nlink=1 \"from the host\\n\"".into(),
                "trunc nlink=1 \"abc\"".into(),
            ],
            "{}: the host directory afterwards",
            side(wasm)
        );
    }
}

#[test]
fn ls_proc_mounts_and_statfs_describe_the_mount() {
    for wasm in [false, true] {
        let host = fresh_dir(&format!("ls-{wasm}"));
        write(&host.join("data.txt"), "12345");
        write(&host.join("run.sh"), "#!/bin/sh\necho ran\n");
        fs::set_permissions(host.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        for f in ["data.txt", "run.sh"] {
            fs::File::options()
                .write(true)
                .open(host.join(f))
                .and_then(|f| f.set_modified(SystemTime::UNIX_EPOCH))
                .unwrap();
        }
        let out = shell(
            std::slice::from_ref(&host),
            &["/data"],
            "ls -la --time-style=+%s /data
             cat /proc/mounts
             grep /data /proc/self/mountinfo
             stat -f -c %T /data
             stat -c '%F %U:%G' /data /data/data.txt",
            wasm,
        );
        assert_eq!(
            (String::from_utf8_lossy(&out.stderr).as_ref(), out.status),
            ("", 0),
            "{}: {}",
            side(wasm),
            out.command
        );
        // Columns are aligned to the widest entry, and the link counts, sizes and times of `.`
        // and `..` depend on the host's file system and the clock: compare words, with those
        // masked.
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let mut w: Vec<&str> = l.split_whitespace().collect();
                if matches!(w.last(), Some(&"." | &"..")) && w.len() == 7 {
                    (w[1], w[4], w[5]) = ("*", "*", "*");
                }
                w.join(" ")
            })
            .collect();
        // WASI reports no permission bits: the script shows as 0644 there.
        let script_mode = if wasm { "-rw-r--r--" } else { "-rwxr-xr-x" };
        assert_eq!(
            lines.get(1..).unwrap_or_default(),
            [
                "drwxr-xr-x * root root * * .".to_string(),
                "drwxr-xr-x * root root * * ..".into(),
                "-rw-r--r-- 1 root root 5 0 data.txt".into(),
                format!("{script_mode} 1 root root 19 0 run.sh"),
                "overlay / overlay rw,relatime 0 0".into(),
                "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0".into(),
                "devtmpfs /dev devtmpfs rw,nosuid,mode=755 0 0".into(),
                "hostdir /data 9p rw,relatime 0 0".into(),
                "4 1 0:48 / /data rw,relatime - 9p hostdir rw".into(),
                "v9fs".into(),
                "directory root:root".into(),
                "regular file root:root".into(),
            ],
            "{}: {}",
            side(wasm),
            out.command
        );
        assert!(
            lines.first().is_some_and(|l| l.starts_with("total ")),
            "{}: {lines:?}",
            side(wasm)
        );
    }
}

#[test]
fn leaving_the_mount_is_exdev_and_its_root_is_busy() {
    let hostname = fs::read_to_string(debian_rootfs().join("etc/hostname"))
        .expect("the rootfs has /etc/hostname");
    for wasm in [false, true] {
        let host = fresh_dir(&format!("exdev-{wasm}"));
        write(&host.join("f"), "file\n");
        write(&host.join("d/x"), "x\n");
        let out = shell(
            std::slice::from_ref(&host),
            &["/data"],
            // mv falls back to copying when rename(2) says EXDEV; ln cannot.
            "mv /data/f /tmp/f && cat /tmp/f
             mv /data/d /tmp/d && cat /tmp/d/x
             mv /etc/hostname /data/hostname && ls /etc | grep -c '^hostname$'
             ln /data/hostname /tmp/h
             mv /data /tmp/data
             rmdir /data
             ls -a /data",
            wasm,
        );
        assert_outcome(
            &out,
            "file\nx\n0\n.\n..\nhostname\n",
            "ln: failed to create hard link '/tmp/h' => '/data/hostname': \
             Invalid cross-device link\n\
             mv: cannot move '/data' to '/tmp/data': Device or resource busy\n\
             rmdir: failed to remove '/data': Device or resource busy\n",
            0,
            side(wasm),
        );
        assert_eq!(
            tree(&host, false),
            [format!("hostname nlink=1 {hostname:?}")],
            "{}: the host directory afterwards",
            side(wasm)
        );
    }
    assert_eq!(
        fs::read_to_string(debian_rootfs().join("etc/hostname")).unwrap(),
        hostname,
        "the rootfs was changed"
    );
}

#[test]
fn symlinks_and_dot_dot_in_the_mount_stay_inside_the_guest() {
    for wasm in [false, true] {
        let outside = fresh_dir(&format!("confine-{wasm}/outside"));
        write(&outside.join("secret"), "host secret\n");
        let host = fresh_dir(&format!("confine-{wasm}/mounted"));
        fs::create_dir(host.join("sub")).unwrap();
        // Each of these, followed by the host, would reach the host's file next door.
        let secret = outside.join("secret");
        symlink(&secret, host.join("abs")).unwrap();
        let up = format!(
            "{}{}",
            "../".repeat(host.components().count() + 3),
            secret.strip_prefix("/").unwrap().display()
        );
        symlink(&up, host.join("up")).unwrap();
        symlink("/etc/passwd", host.join("pw")).unwrap();
        let script = format!(
            "mkdir -p {dir} && echo guest side > {dir}/secret
             cat /data/abs
             cat /data/up
             [ \"$(cat /data/pw)\" = \"$(cat /etc/passwd)\" ] && echo pw is the guest passwd
             cd /data/sub && cd ../.. && pwd
             ls -d /data/../etc /data/sub/../../tmp
             cat /data/../etc/hostname",
            dir = outside.display()
        );
        let out = shell(std::slice::from_ref(&host), &["/data"], &script, wasm);
        // The same absolute path in the guest holds the guest's file, never the host's.
        if wasm {
            // wasmtime refuses to read symlinks with absolute targets.
            assert_outcome(
                &out,
                "guest side\n/\n/data/../etc\n/data/sub/../../tmp\nctr2wasm\n",
                "cat: /data/abs: Operation not permitted\n\
                 cat: /data/pw: Operation not permitted\n",
                0,
                side(wasm),
            );
        } else {
            assert_outcome(
                &out,
                "guest side\nguest side\npw is the guest passwd\n/\n/data/../etc\n\
                 /data/sub/../../tmp\nctr2wasm\n",
                "",
                0,
                side(wasm),
            );
        }
        assert_eq!(
            fs::read_to_string(&secret).unwrap(),
            "host secret\n",
            "{}: the host file outside the mount changed",
            side(wasm)
        );
    }
}

#[test]
fn mount_points_appear_or_hide_the_image_and_mounts_are_apart() {
    for wasm in [false, true] {
        let deep = fresh_dir(&format!("points-{wasm}/deep"));
        let apt = fresh_dir(&format!("points-{wasm}/apt"));
        write(&deep.join("one"), "1\n");
        write(&apt.join("mine"), "apt\n");
        let out = shell(
            &[deep.clone(), apt.clone()],
            // /srv is missing from the image; /etc/apt holds sources.list and friends.
            &["/srv/deep/data", "/etc/apt"],
            "for d in /srv /srv/deep /srv/deep/data /etc/apt; do echo \"$d:\" $(ls $d); done
             tail -n 2 /proc/mounts
             mv /srv/deep/data/one /etc/apt/one && ls /srv/deep/data /etc/apt",
            wasm,
        );
        assert_outcome(
            &out,
            "/srv: deep\n/srv/deep: data\n/srv/deep/data: one\n/etc/apt: mine\n\
             hostdir /etc/apt 9p rw,relatime 0 0\n\
             hostdir /srv/deep/data 9p rw,relatime 0 0\n\
             /etc/apt:\nmine\none\n\n/srv/deep/data:\n",
            "",
            0,
            side(wasm),
        );
        assert!(tree(&deep, false).is_empty(), "{}", side(wasm));
        assert_eq!(
            tree(&apt, false),
            ["mine nlink=1 \"apt\\n\"", "one nlink=1 \"1\\n\""],
            "{}",
            side(wasm)
        );
    }
}

#[test]
fn programs_run_from_a_mount() {
    for wasm in [false, true] {
        let host = fresh_dir(&format!("exec-{wasm}"));
        fs::create_dir(host.join("bin")).unwrap();
        fs::copy(
            debian_rootfs().join("usr/bin/busybox"),
            host.join("bin/busybox"),
        )
        .expect("copy busybox");
        write(
            &host.join("script"),
            "#!/data/bin/busybox sh\necho \"$0 ran\"\n",
        );
        for f in ["bin/busybox", "script"] {
            fs::set_permissions(host.join(f), fs::Permissions::from_mode(0o755)).unwrap();
        }
        let out = shell(
            std::slice::from_ref(&host),
            &["/data"],
            "/data/bin/busybox echo run from the host
             cd /data && ./bin/busybox readlink /proc/self/exe && ./script",
            wasm,
        );
        assert_outcome(
            &out,
            "run from the host\n/data/bin/busybox\n./script ran\n",
            "",
            0,
            side(wasm),
        );
    }
}

#[test]
fn unusable_dirs_are_refused() {
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mounts/no-such-dir");
    let _ = fs::remove_dir_all(&missing);
    let run = |dir: String, wasm: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
        command.arg("exec");
        if wasm {
            command.arg("--wasm");
        }
        command
            .arg("--rootfs")
            .arg(debian_rootfs())
            .arg("--dir")
            .arg(dir)
            .args(["--", "/bin/true"]);
        diff::run(command, false, TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
    };
    let out = run(format!("{}::/data", missing.display()), false);
    assert_outcome(
        &out,
        "",
        &format!(
            "ctr2wasm: mount {} at /data: no such file or directory\n",
            missing.display()
        ),
        125,
        side(false),
    );
    let out = run(format!("{}::/data", missing.display()), true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "ctr2wasm: cannot open {} for the guest",
            missing.display()
        )) && out.status == 125,
        "{}: {stderr}",
        out.command
    );
    let out = run("/tmp::/rootfs/x".into(), true);
    assert_outcome(
        &out,
        "",
        "ctr2wasm: --dir /tmp::/rootfs/x: --wasm preopens the rootfs at /rootfs\n",
        125,
        side(true),
    );
    let out = run("/tmp::data".into(), false);
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with(
            "error: invalid value '/tmp::data' for '--dir <HOST::GUEST>': \
             the guest path \"data\" must be absolute"
        ) && out.status == 2,
        "{}",
        out.command
    );
}

#[test]
fn a_converted_module_mounts_its_preopened_directories() {
    // The case: `ctr2wasm run --dir HOST::GUEST OUT.wasm` (as `wasmtime run --dir`)
    // preopens HOST at GUEST, and the runtime in image mode mounts it.
    let scratch = fresh_dir("converted");
    let root = scratch.join("rootfs");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::copy(
        debian_rootfs().join("usr/bin/busybox"),
        root.join("bin/busybox"),
    )
    .expect("copy busybox");
    fs::set_permissions(root.join("bin/busybox"), fs::Permissions::from_mode(0o755)).unwrap();
    let module = scratch.join("out.wasm");
    convert_dir(&root, &module);
    let host = scratch.join("host");
    write(&host.join("pre"), "from the host\n");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
    command
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/mnt/data", host.display()))
        .arg(&module)
        .args(["/bin/busybox", "sh", "-c"])
        .arg(
            "/bin/busybox cat /mnt/data/pre
             echo written > /mnt/data/new
             /bin/busybox tail -n 1 /proc/mounts",
        );
    let out = diff::run(command, false, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_outcome(
        &out,
        "from the host\nhostdir /mnt/data 9p rw,relatime 0 0\n",
        "",
        0,
        "ctr2wasm run",
    );
    assert_eq!(
        tree(&host, false),
        [
            "new nlink=1 \"written\\n\"",
            "pre nlink=1 \"from the host\\n\""
        ]
    );
}

/// How long the guest of [`race`] loops on each runner.
const RACE_SECONDS: &str = "2";

/// Everything about the directory outside the mount that any change to it would show:
/// the tree with permission bits, and the modification and change times of each entry and
/// of the directory itself (a name created and removed again still moves those).
fn outside_state(outside: &Path) -> Vec<String> {
    let mut state = tree(outside, true);
    let mut names = vec![PathBuf::new()];
    names.extend(
        fs::read_dir(outside)
            .unwrap()
            .map(|e| e.unwrap().file_name().into()),
    );
    for name in names {
        let meta = fs::symlink_metadata(outside.join(&name)).unwrap();
        state.push(format!(
            "{}: mtime {}.{} ctime {}.{}",
            name.display(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec()
        ));
    }
    state
}

/// Runs `runner`'s guest, `mount_race /data SECONDS` with `host` mounted at `/data`, while a
/// host thread swaps `host/d` between a real directory and a symlink to a directory outside
/// the mount (`renameat2(RENAME_EXCHANGE)` with `host/x`, as fast as it can). Nothing outside
/// may be read, stat'ed, listed or changed; both states must have been seen.
fn race(name: &str, runner: impl FnOnce(&Path) -> Command) {
    use std::ffi::CString;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    let scratch = fresh_dir(&format!("race-{name}"));
    let outside = scratch.join("outside");
    let host = scratch.join("host");
    write(&outside.join("f"), "SECRET-OUTSIDE\n");
    write(&outside.join("victim"), "");
    write(&outside.join("only-outside"), "");
    symlink("SECRET-TARGET-OUTSIDE", outside.join("lnk")).unwrap();
    fs::set_permissions(outside.join("f"), fs::Permissions::from_mode(0o640)).unwrap();
    write(&host.join("d/f"), "inside\n");
    write(&host.join("d/victim"), "");
    symlink("inside-target", host.join("d/lnk")).unwrap();
    symlink(&outside, host.join("x")).unwrap();
    let before = outside_state(&outside);

    let stop = AtomicBool::new(false);
    let swaps = AtomicU64::new(0);
    let d = CString::new(host.join("d").into_os_string().into_encoded_bytes()).unwrap();
    let x = CString::new(host.join("x").into_os_string().into_encoded_bytes()).unwrap();
    let command = runner(&host);
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: both paths are NUL-terminated.
                let rc = unsafe {
                    libc::renameat2(
                        libc::AT_FDCWD,
                        d.as_ptr(),
                        libc::AT_FDCWD,
                        x.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                assert_eq!(rc, 0, "swap: {}", std::io::Error::last_os_error());
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        });
        let out = diff::run(command, false, TIMEOUT);
        stop.store(true, Ordering::Relaxed);
        out
    })
    .unwrap_or_else(|e| panic!("{e}"));

    let stdout = String::from_utf8_lossy(&out.stdout);
    let counts: Vec<u64> = stdout
        .split_whitespace()
        .skip(1)
        .step_by(2)
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        out.status == 0 && out.stderr.is_empty() && counts.len() == 4,
        "{name}: {}\nstatus {}, stdout {stdout:?}, stderr {:?}",
        out.command,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let (passes, inside, outside_seen, failed) = (counts[0], counts[1], counts[2], counts[3]);
    eprintln!(
        "{name}: {passes} passes, {inside} inside, {failed} failed, {} swaps",
        swaps.load(Ordering::Relaxed)
    );
    assert_eq!(
        outside_seen, 0,
        "{name}: the guest saw the outside: {stdout}"
    );
    assert!(
        inside > 0 && failed > 0,
        "{name}: the guest should have seen both states of the swapped directory: {stdout}"
    );
    assert_eq!(
        outside_state(&outside),
        before,
        "{name}: the directory outside the mount changed"
    );
}

/// `mount_race` in the rootfs of the guest programs, by `ctr2wasm exec [--wasm]`.
fn race_exec(wasm: bool) {
    let rootfs = guest::rootfs();
    rootfs
        .check_built("mount_race", Variant::Rv64gc)
        .unwrap_or_else(|e| panic!("{e}"));
    let program = rootfs.guest_path("mount_race", Variant::Rv64gc);
    race(side(wasm), |host| {
        exec_command(
            rootfs.root(),
            &[(host, "/data")],
            &[],
            "/",
            &[&program, "/data", RACE_SECONDS],
            wasm,
        )
    });
}

#[test]
fn swapping_a_directory_for_a_symlink_never_leaves_the_mount_natively() {
    race_exec(false);
}

#[test]
fn swapping_a_directory_for_a_symlink_never_leaves_the_mount_in_wasm() {
    race_exec(true);
}

/// A converted module whose image is the rootfs of the guest programs' `mount_race`.
fn race_module() -> PathBuf {
    let rootfs = guest::rootfs();
    rootfs
        .check_built("mount_race", Variant::Rv64gc)
        .unwrap_or_else(|e| panic!("{e}"));
    let scratch = fresh_dir(&format!("race-module-{:?}", std::thread::current().id()));
    let image = scratch.join("rootfs");
    fs::create_dir_all(image.join("bin")).unwrap();
    fs::copy(
        rootfs.root().join("bin/mount_race"),
        image.join("bin/mount_race"),
    )
    .expect("copy mount_race");
    let module = scratch.join("race.wasm");
    convert_dir(&image, &module);
    module
}

/// Converts the unpacked root file system `image` (a `dir:` image) into `module`.
fn convert_dir(image: &Path, module: &Path) {
    let convert = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"))
        .args(["convert", "--quiet", "--level", "1"])
        .arg(format!("dir:{}", image.display()))
        .arg(module)
        .output()
        .expect("run ctr2wasm convert");
    assert!(
        convert.status.success(),
        "convert: {}",
        String::from_utf8_lossy(&convert.stderr)
    );
}

#[test]
fn swapping_a_directory_for_a_symlink_never_leaves_a_converted_modules_mount() {
    let module = race_module();
    race("ctr2wasm run", |host| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
        command
            .arg("run")
            .arg("--dir")
            .arg(format!("{}::/data", host.display()))
            .arg(&module)
            .args(["/bin/mount_race", "/data", RACE_SECONDS]);
        command
    });
}

#[test]
fn swapping_a_directory_for_a_symlink_never_leaves_the_mount_under_node() {
    let module = race_module();
    let node = crate::host_tools::require("node", "nodejs");
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/run-wasi.mjs");
    race("node", |host| {
        let mut command = Command::new(node);
        command
            .arg(&runner)
            .arg("--dir")
            .arg(format!("{}::/data", host.display()))
            .arg(&module)
            .args(["/bin/mount_race", "/data", RACE_SECONDS]);
        command
    });
}
