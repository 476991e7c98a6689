//! What a container runtime does before the first instruction: find the command in `$PATH`,
//! and turn the image's `User` into ids — both against the guest's own file system, as
//! runc does inside the container.

use crate::abi::Errno;
use crate::vfs::path::Follow;
use crate::vfs::procfs::ProcSelf;
use crate::vfs::{GuestPathBuf, Vfs};

/// The `PATH` a container gets when its image sets none (Docker's default).
const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The path to execute for `program`: itself if it names a path (has a `/`), else the first
/// executable regular file called that in the `PATH` of `env`. `None` if there is none.
pub fn find_command(
    vfs: &Vfs,
    me: &ProcSelf,
    cwd: &GuestPathBuf,
    program: &[u8],
    env: &[Vec<u8>],
) -> Option<Vec<u8>> {
    if program.contains(&b'/') {
        return Some(program.to_vec());
    }
    if program.is_empty() {
        return None;
    }
    let path = env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .unwrap_or(DEFAULT_PATH);
    path.split(|&b| b == b':').find_map(|dir| {
        let dir = if dir.is_empty() { &b"."[..] } else { dir };
        let mut candidate = dir.to_vec();
        candidate.push(b'/');
        candidate.extend_from_slice(program);
        let node = vfs.resolve(me, cwd, &candidate, Follow::Final).ok()?.node?;
        node.is_executable_file().then_some(candidate)
    })
}

/// Why `User` could not be turned into ids.
#[derive(Debug, thiserror::Error)]
#[error("user {user:?}: {problem}")]
pub struct UserError {
    pub user: String,
    pub problem: &'static str,
}

/// `(uid, gid)` for an image's `User`: `uid`, `uid:gid`, `name` or `name:group`, names
/// looked up in the guest's `/etc/passwd` and `/etc/group`. Empty means root.
pub fn resolve_user(vfs: &Vfs, me: &ProcSelf, user: &str) -> Result<(u32, u32), UserError> {
    if user.is_empty() {
        return Ok((0, 0));
    }
    let err = |problem| UserError {
        user: user.to_string(),
        problem,
    };
    let (name, group) = match user.split_once(':') {
        Some((n, g)) => (n, Some(g)),
        None => (user, None),
    };
    let passwd = read_guest_file(vfs, me, b"/etc/passwd").unwrap_or_default();
    // passwd: name:x:uid:gid:gecos:home:shell
    let entry = |field: usize, value: &str| {
        passwd.split(|&b| b == b'\n').find_map(|line| {
            let fields: Vec<&[u8]> = line.split(|&b| b == b':').collect();
            (fields.len() > 3 && fields[field] == value.as_bytes()).then(|| {
                let n = |f: &[u8]| std::str::from_utf8(f).ok()?.parse::<u32>().ok();
                Some((n(fields[2])?, n(fields[3])?))
            })?
        })
    };
    let (uid, primary_gid) = match name.parse::<u32>() {
        Ok(uid) => (uid, entry(2, name).map_or(0, |e| e.1)),
        Err(_) => entry(0, name).ok_or_else(|| err("no such user in /etc/passwd"))?,
    };
    let gid = match group {
        None => primary_gid,
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => {
                let groups = read_guest_file(vfs, me, b"/etc/group").unwrap_or_default();
                // group: name:x:gid:members
                groups
                    .split(|&b| b == b'\n')
                    .find_map(|line| {
                        let fields: Vec<&[u8]> = line.split(|&b| b == b':').collect();
                        (fields.len() > 2 && fields[0] == g.as_bytes())
                            .then(|| std::str::from_utf8(fields[2]).ok()?.parse().ok())?
                    })
                    .ok_or_else(|| err("no such group in /etc/group"))?
            }
        },
    };
    Ok((uid, gid))
}

fn read_guest_file(vfs: &Vfs, me: &ProcSelf, path: &[u8]) -> Result<Vec<u8>, Errno> {
    let (_, node) = vfs
        .resolve(me, &GuestPathBuf::root(), path, Follow::Final)?
        .existing()?;
    node.read_all()
}
