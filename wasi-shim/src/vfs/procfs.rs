//! `/proc`: the calling process's `/proc/self` (and `/proc/<its pid>`) plus the machine-wide
//! files programs read: `cpuinfo`, `meminfo`, `mounts`, `uptime`, `loadavg`, `sys/kernel/*`.
//!
//! Entries are computed from the calling process on every lookup; nothing is stored. The path
//! walk in [`super::path`] hands everything below the `/proc` mount point to [`lookup`], and
//! directory listings to [`list`]. Other processes' directories are left to the scheduler's
//! process table (TODO(#3): list every pid once processes exist side by side).

use super::GuestPathBuf;
use super::hostdir::Mounts;
use crate::abi::fs::{DT_DIR, DT_LNK, DT_REG};
use crate::abi::utsname;
use crate::task::fd::GuestFd;
use crate::task::mm::{Mm, VmaKind};
use crate::task::{ProcRef, Process};
use ctr2wasm_emulator::mmu::Prot;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// What `/proc` needs to know about the process looking at it.
pub struct ProcSelf<'a> {
    pub pid: u32,
    pub exe: &'a GuestPathBuf,
    /// The process itself; `None` before the first one exists (only `self` and `exe` then).
    pub process: Option<&'a Process>,
    /// The process table, for `/proc/<pid>` of the others (the caller's own entry is borrowed
    /// by the running syscall and skipped).
    pub others: Option<&'a BTreeMap<u32, ProcRef>>,
    /// Time since the machine started (`/proc/uptime`).
    pub uptime: Duration,
}

impl<'a> ProcSelf<'a> {
    /// The view of a walk made before any process runs (start-up, `exec` of the first one).
    pub fn nobody(exe: &'a GuestPathBuf) -> ProcSelf<'a> {
        ProcSelf {
            pid: 1,
            exe,
            process: None,
            others: None,
            uptime: Duration::ZERO,
        }
    }

    pub fn of(
        process: &'a Process,
        others: &'a BTreeMap<u32, ProcRef>,
        uptime: Duration,
    ) -> ProcSelf<'a> {
        ProcSelf {
            pid: process.pid,
            exe: &process.exe,
            process: Some(process),
            others: Some(others),
            uptime,
        }
    }

    /// Every pid with a `/proc` directory, in order.
    fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self
            .others
            .map(|t| t.keys().copied().filter(|&p| p != self.pid).collect())
            .unwrap_or_default();
        pids.push(self.pid);
        pids.sort_unstable();
        pids
    }
}

/// A `/proc` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcNode {
    Dir,
    /// A symlink and its target (`/proc/self` → `1`, `/proc/1/exe` → `/bin/sh`).
    Symlink(Vec<u8>),
    /// `/proc/<pid>/fd/<n>`: a symlink naming what the fd refers to. Followed, it is the open
    /// file itself (a "magic link"), even where the name is no path (`pipe:[3]`).
    FdLink(i32, Vec<u8>),
    /// The followed [`ProcNode::FdLink`] of an fd whose target is no path: the open file.
    OpenFd(i32),
    /// A read-only file and its contents, generated when looked up.
    File(Vec<u8>),
}

/// The device number of the proc file system (`st_dev`).
pub const PROC_DEV: u64 = 0x15;

/// Memory the machine claims to have (`MemTotal`): the most a wasm32 runtime can address.
const MEM_TOTAL_KB: u64 = 4 << 20;

const CPUINFO: &str = "processor\t: 0\n\
hart\t\t: 0\n\
isa\t\t: rv64imafdc_zicntr_zicsr_zifencei_zihpm_zba_zbb_zbs_zicond\n\
mmu\t\t: sv48\n\
uarch\t\t: ctr2wasm\n\
mvendorid\t: 0x0\n\
marchid\t\t: 0x0\n\
mimpid\t\t: 0x0\n\
hart isa\t: rv64imafdc_zicntr_zicsr_zifencei_zihpm_zba_zbb_zbs_zicond\n\n";

const MOUNTS: &str = "overlay / overlay rw,relatime 0 0\n\
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n\
devtmpfs /dev devtmpfs rw,nosuid,mode=755 0 0\n";

/// `/proc/<pid>/mountinfo`: the same mounts with the device numbers `stat` reports for them
/// (`/dev` lives in the root's upper layer, so it shares the root's device). Host directory
/// mounts follow, numbered from [`FIRST_HOST_MOUNT_ID`].
const MOUNTINFO: &str = "1 1 0:47 / / rw,relatime - overlay overlay rw\n\
2 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n\
3 1 0:47 /dev /dev rw,nosuid - devtmpfs devtmpfs rw,mode=755\n";

/// The mount id of the first host directory mount in `mountinfo`, after those of [`MOUNTINFO`].
const FIRST_HOST_MOUNT_ID: usize = 4;

/// The `/proc/sys/kernel` files: name and contents.
const SYS_KERNEL: [(&str, &str); 7] = [
    ("ostype", utsname::SYSNAME),
    ("osrelease", utsname::RELEASE),
    ("hostname", utsname::NODENAME),
    ("domainname", utsname::DOMAINNAME),
    ("pid_max", "4194304"),
    ("ngroups_max", "65536"),
    ("cap_last_cap", "40"),
];

/// The node at `components` below `/proc`, or `None` (`ENOENT`); `mounts` are the host
/// directories `mounts` and `mountinfo` list after the kernel's own.
pub fn lookup(components: &[&[u8]], me: &ProcSelf, mounts: &Mounts) -> Option<ProcNode> {
    let pid = me.pid.to_string();
    let text = |s: String| Some(ProcNode::File(s.into_bytes()));
    match components {
        [] => Some(ProcNode::Dir),
        [b"self"] => Some(ProcNode::Symlink(pid.into_bytes())),
        [b"cpuinfo"] => text(CPUINFO.into()),
        [b"meminfo"] => text(meminfo(me.process.map_or(0, |p| vm_kb(&p.mm)))),
        [b"mounts"] => text(format!("{MOUNTS}{}", mounts.proc_mounts())),
        [b"filesystems"] => {
            text("nodev\tproc\nnodev\tdevtmpfs\nnodev\toverlay\nnodev\t9p\n".into())
        }
        [b"uptime"] => {
            let t = me.uptime.as_millis() / 10;
            text(format!(
                "{}.{:02} {}.{:02}\n",
                t / 100,
                t % 100,
                t / 100,
                t % 100
            ))
        }
        [b"loadavg"] => {
            let n = me.pids().len();
            text(format!("0.00 0.00 0.00 1/{n} {}\n", me.pid))
        }
        [b"sys"] | [b"sys", b"kernel"] => Some(ProcNode::Dir),
        [b"sys", b"kernel", name] => SYS_KERNEL
            .iter()
            .find(|(n, _)| n.as_bytes() == *name)
            .and_then(|(_, v)| text(format!("{v}\n"))),
        [p, rest @ ..] if *p == pid.as_bytes() => match (me.process, rest) {
            (Some(p), _) => lookup_pid(rest, p, mounts),
            (None, []) => Some(ProcNode::Dir),
            (None, [b"exe"]) => Some(ProcNode::Symlink(me.exe.as_bytes().to_vec())),
            (None, _) => None,
        },
        [p, rest @ ..] => {
            let n: u32 = std::str::from_utf8(p).ok()?.parse().ok()?;
            let other = me.others?.get(&n)?.try_borrow().ok()?;
            lookup_pid(rest, &other, mounts)
        }
    }
}

fn lookup_pid(components: &[&[u8]], p: &Process, mounts: &Mounts) -> Option<ProcNode> {
    let text = |s: String| Some(ProcNode::File(s.into_bytes()));
    match components {
        [] => Some(ProcNode::Dir),
        [b"exe"] => Some(ProcNode::Symlink(p.exe.as_bytes().to_vec())),
        [b"fd"] => Some(ProcNode::Dir),
        [b"cwd"] => Some(ProcNode::Symlink(p.cwd.as_bytes().to_vec())),
        [b"root"] => Some(ProcNode::Symlink(b"/".to_vec())),
        [b"fd", n] => {
            let n: i32 = std::str::from_utf8(n).ok()?.parse().ok()?;
            let file = p.fds.get(GuestFd(n)).ok()?;
            let target = file.borrow().describe();
            Some(ProcNode::FdLink(n, target))
        }
        [b"maps"] => text(maps(&p.mm)),
        [b"status"] => text(status(p)),
        [b"stat"] => text(stat(p)),
        [b"comm"] => text(format!("{}\n", comm(p))),
        [b"cmdline"] => Some(ProcNode::File(p.args.cmdline.clone())),
        [b"environ"] => Some(ProcNode::File(p.args.environ.clone())),
        [b"mounts"] => text(format!("{MOUNTS}{}", mounts.proc_mounts())),
        [b"mountinfo"] => text(format!(
            "{MOUNTINFO}{}",
            mounts.proc_mountinfo(FIRST_HOST_MOUNT_ID)
        )),
        _ => None,
    }
}

/// The entries of the `/proc` directory at `components`: name, inode number, `d_type`.
pub fn list(components: &[&[u8]], me: &ProcSelf) -> Vec<(Vec<u8>, u8)> {
    let pid = me.pid.to_string();
    let names: Vec<(String, u8)> = match components {
        [] => {
            let mut v: Vec<(String, u8)> =
                me.pids().iter().map(|p| (p.to_string(), DT_DIR)).collect();
            v.push(("self".into(), DT_LNK));
            for f in [
                "cpuinfo",
                "filesystems",
                "loadavg",
                "meminfo",
                "mounts",
                "uptime",
            ] {
                v.push((f.into(), DT_REG));
            }
            v.push(("sys".into(), DT_DIR));
            v
        }
        [b"sys"] => vec![("kernel".into(), DT_DIR)],
        [b"sys", b"kernel"] => SYS_KERNEL
            .iter()
            .map(|(n, _)| ((*n).into(), DT_REG))
            .collect(),
        [p] if me.pids().iter().any(|n| n.to_string().as_bytes() == *p) => {
            let mut v: Vec<(String, u8)> = ["exe", "cwd", "root"]
                .iter()
                .map(|n| ((*n).into(), DT_LNK))
                .collect();
            v.push(("fd".into(), DT_DIR));
            for f in [
                "cmdline",
                "comm",
                "environ",
                "maps",
                "mountinfo",
                "mounts",
                "stat",
                "status",
            ] {
                v.push((f.into(), DT_REG));
            }
            v
        }
        [p, b"fd"] if *p == pid.as_bytes() => me.process.map_or_else(Vec::new, fd_names),
        [p, b"fd"] => std::str::from_utf8(p)
            .ok()
            .and_then(|p| p.parse::<u32>().ok())
            .and_then(|n| me.others?.get(&n)?.try_borrow().ok().map(|o| fd_names(&o)))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    names
        .into_iter()
        .map(|(n, t)| (n.into_bytes(), t))
        .collect()
}

fn fd_names(p: &Process) -> Vec<(String, u8)> {
    p.fds
        .open_fds()
        .map(|fd| (fd.0.to_string(), DT_LNK))
        .collect()
}

/// The task name (`comm`), set by `execve`.
fn comm(p: &Process) -> String {
    String::from_utf8_lossy(&p.comm).into_owned()
}

fn vm_kb(mm: &Mm) -> u64 {
    mm.vmas().map(|(s, v)| v.end - s).sum::<u64>() / 1024
}

fn meminfo(used: u64) -> String {
    let free = MEM_TOTAL_KB.saturating_sub(used);
    let mut s = String::new();
    for (k, v) in [
        ("MemTotal", MEM_TOTAL_KB),
        ("MemFree", free),
        ("MemAvailable", free),
        ("Buffers", 0),
        ("Cached", 0),
        ("SwapCached", 0),
        ("Active", used),
        ("Inactive", 0),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Shmem", 0),
        ("CommitLimit", MEM_TOTAL_KB),
        ("Committed_AS", used),
    ] {
        writeln!(s, "{:<16}{:>8} kB", format!("{k}:"), v).expect("writing to a String");
    }
    s
}

/// `/proc/<pid>/maps`, one line per mapping as `show_map_vma` prints it.
pub fn maps(mm: &Mm) -> String {
    let mut s = String::new();
    for (start, vma) in mm.vmas() {
        let p = vma.prot;
        let perms = format!(
            "{}{}{}p",
            if p.contains(Prot::READ) { 'r' } else { '-' },
            if p.contains(Prot::WRITE) { 'w' } else { '-' },
            if p.contains(Prot::EXEC) { 'x' } else { '-' },
        );
        let name = match vma.kind {
            VmaKind::Heap => "[heap]",
            VmaKind::Stack => "[stack]",
            VmaKind::Vdso(_) => "[vdso]",
            _ => "",
        };
        let line = format!("{start:08x}-{:08x} {perms} 00000000 00:00 0", vma.end);
        if name.is_empty() {
            writeln!(s, "{line}")
        } else {
            writeln!(s, "{line:<73}{name}")
        }
        .expect("writing to a String");
    }
    s
}

fn status(p: &Process) -> String {
    let vm = vm_kb(&p.mm);
    format!(
        "Name:\t{}\nUmask:\t{:04o}\nState:\t{}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\n\
         PPid:\t{}\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t\n\
         VmPeak:\t{vm:>8} kB\nVmSize:\t{vm:>8} kB\nVmHWM:\t{vm:>8} kB\nVmRSS:\t{vm:>8} kB\n\
         Threads:\t1\nSigQ:\t0/127431\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n\
         SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n\
         CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n\
         CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n\
         Cpus_allowed:\t1\nCpus_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\n\
         nonvoluntary_ctxt_switches:\t0\n",
        comm(p),
        p.umask,
        if p.zombie {
            "Z (zombie)"
        } else {
            "R (running)"
        },
        p.ppid,
        pid = p.pid,
    )
}

/// `/proc/<pid>/stat`: the 52 fields of `do_task_stat`, most of them zero.
fn stat(p: &Process) -> String {
    let pid = p.pid;
    let vsize = vm_kb(&p.mm) * 1024;
    let mut f: Vec<String> = vec![
        pid.to_string(),
        format!("({})", comm(p)),
        if p.zombie { "Z" } else { "R" }.into(),
        p.ppid.to_string(),
        p.pgid.to_string(),
        p.sid.to_string(),
    ];
    // tty_nr .. cstime (fields 7-17), then priority, nice, num_threads, itrealvalue,
    // starttime, vsize, rss, rsslim.
    f.extend(std::iter::repeat_n("0".to_string(), 11));
    f.extend([
        "20".to_string(),
        "0".into(),
        "1".into(),
        "0".into(),
        "0".into(),
        vsize.to_string(),
        (vsize / 4096).to_string(),
        u64::MAX.to_string(),
    ]);
    f.resize(52, "0".into());
    format!("{}\n", f.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::fd::FdTable;

    fn file(components: &[&[u8]], me: &ProcSelf) -> String {
        match lookup(components, me, &Mounts::default()) {
            Some(ProcNode::File(d)) => String::from_utf8(d).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn machine_files() {
        let exe = GuestPathBuf::root();
        let me = ProcSelf::nobody(&exe);
        let cpu = file(&[b"cpuinfo"], &me);
        assert!(cpu.starts_with("processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc_"));
        assert!(cpu.contains("\nmmu\t\t: sv48\n"));
        assert!(file(&[b"meminfo"], &me).starts_with("MemTotal:        4194304 kB\n"));
        assert_eq!(
            file(&[b"sys", b"kernel", b"osrelease"], &me),
            format!("{}\n", utsname::RELEASE)
        );
        assert_eq!(file(&[b"loadavg"], &me), "0.00 0.00 0.00 1/1 1\n");
        assert!(file(&[b"mounts"], &me).starts_with("overlay / overlay rw"));
        assert_eq!(lookup(&[b"nope"], &me, &Mounts::default()), None);
        // Without a process, only `self` and `exe` are known below the pid.
        assert_eq!(lookup(&[b"1", b"status"], &me, &Mounts::default()), None);
    }

    #[test]
    fn process_files() {
        use crate::vfs::file::{OpenFile, Stdio};
        use std::cell::RefCell;
        use std::rc::Rc;
        let mut p = Process::new(
            7,
            GuestPathBuf(b"/tmp".to_vec()),
            GuestPathBuf(b"/usr/bin/python3.13".to_vec()),
        );
        p.ppid = 1;
        p.fds = FdTable::default();
        p.args = Rc::new(crate::task::ExecArgs {
            cmdline: b"python3\0-c\0".to_vec(),
            environ: b"A=1\0".to_vec(),
        });
        let mut f = OpenFile::stdio(Stdio::In);
        f.guest_path = Some(GuestPathBuf(b"/etc/passwd".to_vec()));
        f.kind = crate::vfs::file::FileKind::Proc(Vec::new());
        p.fds
            .install(Rc::new(RefCell::new(f)), false, 3, 100)
            .unwrap();
        p.mm.map_fixed(0x10000, 0x2000, Prot::RX, VmaKind::Anonymous);
        let others = BTreeMap::new();
        let me = ProcSelf::of(&p, &others, Duration::from_millis(12_340));
        assert_eq!(
            lookup(&[b"self"], &me, &Mounts::default()),
            Some(ProcNode::Symlink(b"7".to_vec()))
        );
        assert_eq!(
            lookup(&[b"7", b"cwd"], &me, &Mounts::default()),
            Some(ProcNode::Symlink(b"/tmp".to_vec()))
        );
        assert_eq!(
            lookup(&[b"7", b"fd", b"3"], &me, &Mounts::default()),
            Some(ProcNode::FdLink(3, b"/etc/passwd".to_vec()))
        );
        assert_eq!(lookup(&[b"7", b"fd", b"4"], &me, &Mounts::default()), None);
        let fds: Vec<_> = list(&[b"7", b"fd"], &me).into_iter().map(|e| e.0).collect();
        assert_eq!(fds, [b"3".to_vec()]);
        assert_eq!(
            file(&[b"7", b"maps"], &me),
            "00010000-00012000 r-xp 00000000 00:00 0\n"
        );
        let status = file(&[b"7", b"status"], &me);
        assert!(
            status.starts_with("Name:\tpython3.13\nUmask:\t0022\nState:\tR (running)\nTgid:\t7\n")
        );
        assert!(status.contains("\nPPid:\t1\n"));
        let stat = file(&[b"7", b"stat"], &me);
        assert!(stat.starts_with("7 (python3.13) R 1 7 7 0 "));
        assert_eq!(stat.trim_end().split(' ').count(), 52);
        assert_eq!(file(&[b"uptime"], &me), "12.34 12.34\n");
        assert_eq!(file(&[b"7", b"comm"], &me), "python3.13\n");
        assert_eq!(file(&[b"7", b"cmdline"], &me), "python3\0-c\0");
        assert_eq!(file(&[b"7", b"environ"], &me), "A=1\0");
    }

    #[test]
    fn other_processes_have_directories_too() {
        use std::cell::RefCell;
        use std::rc::Rc;
        let me = Process::new(3, GuestPathBuf::root(), GuestPathBuf(b"/bin/sh".to_vec()));
        let mut other = Process::new(
            5,
            GuestPathBuf::root(),
            GuestPathBuf(b"/bin/sleep".to_vec()),
        );
        other.ppid = 3;
        let mut others = BTreeMap::new();
        others.insert(5, Rc::new(RefCell::new(other)));
        let view = ProcSelf::of(&me, &others, Duration::ZERO);
        let names: Vec<Vec<u8>> = list(&[], &view).into_iter().map(|e| e.0).collect();
        assert_eq!(
            &names[..3],
            [b"3".to_vec(), b"5".to_vec(), b"self".to_vec()]
        );
        assert_eq!(
            lookup(&[b"5", b"exe"], &view, &Mounts::default()),
            Some(ProcNode::Symlink(b"/bin/sleep".to_vec()))
        );
        assert!(file(&[b"5", b"stat"], &view).starts_with("5 (sleep) R 3 "));
        assert_eq!(file(&[b"loadavg"], &view), "0.00 0.00 0.00 1/2 3\n");
        assert_eq!(lookup(&[b"6"], &view, &Mounts::default()), None);
    }
}
