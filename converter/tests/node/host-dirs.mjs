// Host directories for a WASI (preview1) module under node, resolved without races.
//
// node's own WASI (uvwasi) names every file by joining strings to the preopen's host path and
// lets the kernel resolve the whole path again on each call, so a directory swapped for a
// symlink between two calls sends the next one outside the preopen. Here every descriptor
// below a preopen holds an open host directory or file, and every path is walked one
// component at a time from the descriptor it is relative to: a component is opened through
// `/proc/self/fd/N/NAME` with O_NOFOLLOW, which is `openat(N, NAME, O_NOFOLLOW)` (the kernel
// jumps to the open directory N itself, then looks NAME up in it) for a runtime without the
// *at calls. Symlinks met on the way are followed by this walker only while they stay beneath
// the starting descriptor, as WASI requires; `..` never climbs above it.
//
// Everything else (stdio, clocks, random, poll_oneoff on stdin, proc_exit) stays with node's
// WASI, which gets no preopens: its descriptors are 0, 1 and 2, ours 3 and up. Linux only
// (it needs /proc).

import fs from 'node:fs';

const C = fs.constants;

// WASI errno values (preview1 `errno`), by the name node gives the host error.
const ERRNO = {
  E2BIG: 1, EACCES: 2, EAGAIN: 6, EBADF: 8, EBUSY: 10, EDQUOT: 19, EEXIST: 20, EFAULT: 21,
  EFBIG: 22, EINTR: 27, EINVAL: 28, EIO: 29, EISDIR: 31, ELOOP: 32, EMFILE: 33, EMLINK: 34,
  ENAMETOOLONG: 37, ENFILE: 41, ENODEV: 43, ENOENT: 44, ENOMEM: 48, ENOSPC: 51, ENOSYS: 52,
  ENOTDIR: 54, ENOTEMPTY: 55, ENOTSUP: 58, EOPNOTSUPP: 58, ENOTTY: 59, ENXIO: 60,
  EOVERFLOW: 61, EPERM: 63, EPIPE: 64, EROFS: 66, ESPIPE: 67, ETXTBSY: 71, EXDEV: 72,
};
const SUCCESS = 0;
const EBADF = 8;
const EINVAL = 28;
const ENOENT = 44;
const ELOOP = 32;
const ENOTDIR = 54;
const ENOTSUP = 58;
const ENOTCAPABLE = 76;

// WASI filetype values.
const FILETYPE = {
  unknown: 0, blockDevice: 1, charDevice: 2, directory: 3, regular: 4, socketStream: 6,
  symlink: 7,
};

const LOOKUP_SYMLINK_FOLLOW = 1;
const OFLAGS_CREAT = 1;
const OFLAGS_DIRECTORY = 2;
const OFLAGS_EXCL = 4;
const OFLAGS_TRUNC = 8;
const FDFLAGS_APPEND = 1;
const FDFLAGS_DSYNC = 2;
const FDFLAGS_NONBLOCK = 4;
const FDFLAGS_SYNC = 16;
const RIGHT_FD_READ = 1n << 1n;
const RIGHT_FD_WRITE = 1n << 6n;
const ALL_RIGHTS = (1n << 29n) - 1n;
const FSTFLAGS_ATIM = 1;
const FSTFLAGS_ATIM_NOW = 2;
const FSTFLAGS_MTIM = 4;
const FSTFLAGS_MTIM_NOW = 8;
// Linux's limit on symlinks followed in one lookup (MAXSYMLINKS).
const MAX_SYMLINKS = 40;

/// A host error as a WASI errno, to return from an import.
class WasiError extends Error {
  constructor(errno) {
    super(`wasi errno ${errno}`);
    this.errno = errno;
  }
}

function errnoOf(e) {
  if (e instanceof WasiError) {
    return e.errno;
  }
  if (e && typeof e.code === 'string' && e.code in ERRNO) {
    return ERRNO[e.code];
  }
  throw e;
}

/// `/proc/self/fd/FD/NAME` as bytes: `openat(FD, NAME)` for node's path-based calls.
function at(fd, name) {
  return Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), name]);
}

function filetypeOfMode(mode) {
  switch (Number(mode) & 0o170000) {
    case 0o040000: return FILETYPE.directory;
    case 0o100000: return FILETYPE.regular;
    case 0o120000: return FILETYPE.symlink;
    case 0o020000: return FILETYPE.charDevice;
    case 0o060000: return FILETYPE.blockDevice;
    case 0o140000: return FILETYPE.socketStream;
    default: return FILETYPE.unknown;
  }
}

function filetypeOfDirent(dirent) {
  if (dirent.isDirectory()) return FILETYPE.directory;
  if (dirent.isFile()) return FILETYPE.regular;
  if (dirent.isSymbolicLink()) return FILETYPE.symlink;
  if (dirent.isCharacterDevice()) return FILETYPE.charDevice;
  if (dirent.isBlockDevice()) return FILETYPE.blockDevice;
  if (dirent.isSocket()) return FILETYPE.socketStream;
  return FILETYPE.unknown;
}

/// Splits a WASI path (bytes) into its components; an absolute path is not beneath anything.
function components(path) {
  if (path.length === 0) {
    throw new WasiError(ENOENT);
  }
  if (path[0] === 0x2f) {
    throw new WasiError(ENOTCAPABLE);
  }
  const parts = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x2f) {
      parts.push(path.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

const DOT = Buffer.from('.');
const isDot = (name) => name.length === 1 && name[0] === 0x2e;
const isDotDot = (name) => name.length === 2 && name[0] === 0x2e && name[1] === 0x2e;

/// One open descriptor below a preopen: a directory or a file, with its own host fd.
class Entry {
  constructor(hostFd, filetype, {
    preopen = null, rights = ALL_RIGHTS, inheriting = ALL_RIGHTS, append = false,
  } = {}) {
    this.hostFd = hostFd;
    this.filetype = filetype;
    this.preopen = preopen; // the guest path of a preopened directory
    this.rights = rights;
    this.inheriting = inheriting;
    this.append = append;
    this.position = 0n; // node has no lseek: reads and writes are positioned here
    this.listing = null; // fd_readdir's entries, taken at cookie 0
  }

  get seekable() {
    return this.filetype === FILETYPE.regular || this.filetype === FILETYPE.blockDevice;
  }
}

/// Where a path leads: the open directory that holds the last component, and its name.
/// `close()` releases the directories opened on the way.
class Resolved {
  constructor(stack, name, owned) {
    this.stack = stack;
    this.name = name;
    this.owned = owned;
  }

  get dirFd() {
    return this.stack[this.stack.length - 1];
  }

  get path() {
    return at(this.dirFd, this.name);
  }

  close() {
    for (const fd of this.owned) {
      fs.closeSync(fd);
    }
    this.owned = [];
  }
}

export class HostDirs {
  /// `preopens`: guest path -> host directory, as node's WASI takes them.
  constructor(preopens) {
    this.fds = new Map();
    this.memory = null;
    for (const [guest, host] of Object.entries(preopens)) {
      const hostFd = fs.openSync(host, C.O_RDONLY | C.O_DIRECTORY);
      this.fds.set(this.nextFd(), new Entry(hostFd, FILETYPE.directory, { preopen: guest }));
    }
  }

  nextFd() {
    let fd = 3;
    while (this.fds.has(fd)) {
      fd++;
    }
    return fd;
  }

  view() {
    return new DataView(this.memory.buffer);
  }

  bytes(ptr, len) {
    return Buffer.from(new Uint8Array(this.memory.buffer, ptr, len));
  }

  entry(fd) {
    const entry = this.fds.get(fd);
    if (entry === undefined) {
      throw new WasiError(EBADF);
    }
    return entry;
  }

  directory(fd) {
    const entry = this.entry(fd);
    if (entry.filetype !== FILETYPE.directory) {
      throw new WasiError(ENOTDIR);
    }
    return entry;
  }

  /// Walks `path` beneath directory descriptor `fd` (see the module docs). The last
  /// component is followed if it is a symlink and `follow` is set.
  resolve(fd, path, follow) {
    const base = this.directory(fd).hostFd;
    const stack = [base];
    const owned = [];
    const pending = components(path).reverse();
    let links = 0;
    try {
      for (;;) {
        const name = pending.pop();
        const last = pending.length === 0;
        if (name.length === 0 || isDot(name)) {
          if (last) {
            return new Resolved(stack, DOT, owned);
          }
          continue;
        }
        if (isDotDot(name)) {
          if (stack.length === 1) {
            throw new WasiError(ENOTCAPABLE);
          }
          fs.closeSync(stack.pop());
          owned.pop();
          if (last) {
            return new Resolved(stack, DOT, owned);
          }
          continue;
        }
        if (last && !follow) {
          return new Resolved(stack, name, owned);
        }
        const here = stack[stack.length - 1];
        try {
          if (last) {
            // A name that is no symlink, or not there (yet: O_CREAT), is the answer itself.
            let link = false;
            try {
              link = fs.lstatSync(at(here, name)).isSymbolicLink();
            } catch {
              // The operation on the name reports what is wrong with it.
            }
            if (!link) {
              return new Resolved(stack, name, owned);
            }
          } else {
            const next = fs.openSync(at(here, name), C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
            stack.push(next);
            owned.push(next);
            continue;
          }
        } catch (e) {
          // O_NOFOLLOW refuses a symlink with ELOOP (or O_DIRECTORY with ENOTDIR): a
          // symlink is followed here; for anything else the error is the answer.
          if (!((e.code === 'ELOOP' || e.code === 'ENOTDIR') &&
                fs.lstatSync(at(here, name)).isSymbolicLink())) {
            throw e;
          }
        }
        const target = fs.readlinkSync(at(here, name), { encoding: 'buffer' });
        if (++links > MAX_SYMLINKS) {
          throw new WasiError(ELOOP);
        }
        // An absolute target or one with `..` above `fd` is refused by `components`
        // and the `..` rule above.
        pending.push(...components(target).reverse());
      }
    } catch (e) {
      for (const fd of owned) {
        fs.closeSync(fd);
      }
      throw e;
    }
  }

  /// Runs `op(resolved)` on `path` beneath `fd` and releases what the walk opened.
  withPath(fd, ptr, len, follow, op) {
    const resolved = this.resolve(fd, this.bytes(ptr, len), follow);
    try {
      return op(resolved);
    } finally {
      resolved.close();
    }
  }

  writeFilestat(ptr, st) {
    const v = this.view();
    v.setBigUint64(ptr, BigInt.asUintN(64, st.dev), true);
    v.setBigUint64(ptr + 8, BigInt.asUintN(64, st.ino), true);
    v.setUint8(ptr + 16, filetypeOfMode(st.mode));
    v.setBigUint64(ptr + 24, st.nlink, true);
    v.setBigUint64(ptr + 32, st.size, true);
    v.setBigUint64(ptr + 40, st.atimeNs, true);
    v.setBigUint64(ptr + 48, st.mtimeNs, true);
    v.setBigUint64(ptr + 56, st.ctimeNs, true);
  }

  /// Times for node's utimes calls (seconds), from WASI's fstflags; an unset one is kept.
  times(current, atim, mtim, flags) {
    const now = Date.now() / 1000;
    const pick = (set, setNow, value, old) => {
      if (setNow) return now;
      if (set) return Number(value) / 1e9;
      return Number(old) / 1e9;
    };
    if ((flags & FSTFLAGS_ATIM && flags & FSTFLAGS_ATIM_NOW) ||
        (flags & FSTFLAGS_MTIM && flags & FSTFLAGS_MTIM_NOW)) {
      throw new WasiError(EINVAL);
    }
    return [
      pick(flags & FSTFLAGS_ATIM, flags & FSTFLAGS_ATIM_NOW, atim, current.atimeNs),
      pick(flags & FSTFLAGS_MTIM, flags & FSTFLAGS_MTIM_NOW, mtim, current.mtimeNs),
    ];
  }

  /// Reads (`write` false) or writes the iovecs at `iovs`, from `position` on (null: where the
  /// host fd is, for pipes and devices and appends).
  transfer(entry, iovs, count, write, position) {
    const v = this.view();
    let total = 0;
    let offset = position;
    for (let i = 0; i < count; i++) {
      const ptr = v.getUint32(iovs + 8 * i, true);
      const len = v.getUint32(iovs + 8 * i + 4, true);
      if (len === 0) {
        continue;
      }
      const buf = new Uint8Array(this.memory.buffer, ptr, len);
      const pos = offset === null ? null : Number(offset);
      const n = write
        ? fs.writeSync(entry.hostFd, buf, 0, len, pos)
        : fs.readSync(entry.hostFd, buf, 0, len, pos);
      total += n;
      if (offset !== null) {
        offset += BigInt(n);
      }
      if (n < len) {
        break;
      }
    }
    return total;
  }

  /// fd_read/fd_write: transfers at the entry's position and moves it. O_APPEND on the host
  /// fd puts every write at the end, whatever the position; a pipe or device has none.
  atPosition(entry, iovs, count, write) {
    const append = write && entry.append;
    const position = entry.seekable && !append ? entry.position : null;
    const n = this.transfer(entry, iovs, count, write, position);
    if (append && entry.seekable) {
      entry.position = fs.fstatSync(entry.hostFd, { bigint: true }).size;
    } else if (entry.seekable) {
      entry.position += BigInt(n);
    }
    return n;
  }

  /// The preview1 functions this class answers for its descriptors; node's WASI gets the
  /// calls on every other descriptor.
  handlers() {
    const self = this;
    return {
      fd_prestat_get(fd, buf) {
        const entry = self.entry(fd);
        if (entry.preopen === null) {
          throw new WasiError(EBADF);
        }
        const v = self.view();
        v.setUint8(buf, 0);
        v.setUint32(buf + 4, Buffer.byteLength(entry.preopen), true);
      },
      fd_prestat_dir_name(fd, ptr, len) {
        const entry = self.entry(fd);
        if (entry.preopen === null) {
          throw new WasiError(EBADF);
        }
        const name = Buffer.from(entry.preopen);
        if (len < name.length) {
          throw new WasiError(EINVAL);
        }
        name.copy(new Uint8Array(self.memory.buffer, ptr, len));
      },
      fd_close(fd) {
        const entry = self.entry(fd);
        self.fds.delete(fd);
        fs.closeSync(entry.hostFd);
      },
      fd_fdstat_get(fd, buf) {
        const entry = self.entry(fd);
        const v = self.view();
        v.setUint8(buf, entry.filetype);
        v.setUint16(buf + 2, entry.append ? FDFLAGS_APPEND : 0, true);
        v.setBigUint64(buf + 8, entry.rights, true);
        v.setBigUint64(buf + 16, entry.inheriting, true);
      },
      fd_filestat_get(fd, buf) {
        self.writeFilestat(buf, fs.fstatSync(self.entry(fd).hostFd, { bigint: true }));
      },
      fd_filestat_set_size(fd, size) {
        fs.ftruncateSync(self.entry(fd).hostFd, Number(size));
      },
      fd_filestat_set_times(fd, atim, mtim, flags) {
        const entry = self.entry(fd);
        const current = fs.fstatSync(entry.hostFd, { bigint: true });
        fs.futimesSync(entry.hostFd, ...self.times(current, atim, mtim, flags));
      },
      fd_sync(fd) {
        fs.fsyncSync(self.entry(fd).hostFd);
      },
      fd_datasync(fd) {
        fs.fdatasyncSync(self.entry(fd).hostFd);
      },
      fd_read(fd, iovs, count, nread) {
        self.view().setUint32(nread, self.atPosition(self.entry(fd), iovs, count, false), true);
      },
      fd_pread(fd, iovs, count, offset, nread) {
        const entry = self.entry(fd);
        self.view().setUint32(nread, self.transfer(entry, iovs, count, false, offset), true);
      },
      fd_write(fd, iovs, count, nwritten) {
        self.view().setUint32(nwritten, self.atPosition(self.entry(fd), iovs, count, true), true);
      },
      fd_pwrite(fd, iovs, count, offset, nwritten) {
        const entry = self.entry(fd);
        self.view().setUint32(nwritten, self.transfer(entry, iovs, count, true, offset), true);
      },
      fd_seek(fd, offset, whence, newOffset) {
        const entry = self.entry(fd);
        if (!entry.seekable) {
          throw new WasiError(entry.filetype === FILETYPE.directory ? EBADF : ERRNO.ESPIPE);
        }
        let base;
        switch (whence) {
          case 0: base = 0n; break;
          case 1: base = entry.position; break;
          case 2: base = fs.fstatSync(entry.hostFd, { bigint: true }).size; break;
          default: throw new WasiError(EINVAL);
        }
        const position = base + offset;
        if (position < 0n) {
          throw new WasiError(EINVAL);
        }
        entry.position = position;
        self.view().setBigUint64(newOffset, position, true);
      },
      fd_tell(fd, out) {
        self.view().setBigUint64(out, self.entry(fd).position, true);
      },
      fd_readdir(fd, buf, len, cookie, used) {
        const entry = self.directory(fd);
        const dir = Buffer.from(`/proc/self/fd/${entry.hostFd}`);
        if (cookie === 0n || entry.listing === null) {
          const names = fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
          const self_ = fs.fstatSync(entry.hostFd, { bigint: true });
          const parent = fs.statSync(at(entry.hostFd, Buffer.from('..')), { bigint: true });
          entry.listing = [
            { name: Buffer.from('.'), ino: self_.ino, type: FILETYPE.directory },
            { name: Buffer.from('..'), ino: parent.ino, type: FILETYPE.directory },
          ];
          for (const dirent of names) {
            const name = Buffer.from(dirent.name);
            let ino = 0n;
            try {
              ino = fs.lstatSync(at(entry.hostFd, name), { bigint: true }).ino;
            } catch {
              // Removed since the listing: it is listed, as by a getdents that came first.
            }
            entry.listing.push({ name, ino, type: filetypeOfDirent(dirent) });
          }
        }
        const out = new Uint8Array(self.memory.buffer, buf, len);
        const record = Buffer.alloc(24);
        let filled = 0;
        for (let i = Number(cookie); i < entry.listing.length && filled < len; i++) {
          const { name, ino, type } = entry.listing[i];
          record.writeBigUInt64LE(BigInt(i + 1), 0);
          record.writeBigUInt64LE(ino, 8);
          record.writeUInt32LE(name.length, 16);
          record.writeUInt32LE(type, 20);
          const whole = Buffer.concat([record, name]);
          const n = Math.min(whole.length, len - filled);
          out.set(whole.subarray(0, n), filled);
          filled += n;
        }
        self.view().setUint32(used, filled, true);
      },
      path_open(fd, lookup, ptr, len, oflags, rightsBase, rightsInheriting, fdflags, out) {
        const parent = self.directory(fd);
        const directory = (oflags & OFLAGS_DIRECTORY) !== 0;
        const wantsWrite = (rightsBase & RIGHT_FD_WRITE) !== 0n;
        const wantsRead = (rightsBase & RIGHT_FD_READ) !== 0n;
        let flags = C.O_NOFOLLOW;
        if (directory) {
          flags |= C.O_RDONLY | C.O_DIRECTORY;
        } else if (wantsWrite) {
          flags |= wantsRead ? C.O_RDWR : C.O_WRONLY;
        } else {
          flags |= C.O_RDONLY;
        }
        if (oflags & OFLAGS_CREAT) flags |= C.O_CREAT;
        if (oflags & OFLAGS_EXCL) flags |= C.O_EXCL;
        if (oflags & OFLAGS_TRUNC) flags |= C.O_TRUNC;
        if (fdflags & FDFLAGS_APPEND) flags |= C.O_APPEND;
        if (fdflags & FDFLAGS_DSYNC) flags |= C.O_DSYNC;
        if (fdflags & FDFLAGS_NONBLOCK) flags |= C.O_NONBLOCK;
        if (fdflags & FDFLAGS_SYNC) flags |= C.O_SYNC;
        const follow = (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0;
        const hostFd = self.withPath(fd, ptr, len, follow, (r) => fs.openSync(r.path, flags, 0o666));
        let filetype;
        try {
          filetype = filetypeOfMode(fs.fstatSync(hostFd, { bigint: true }).mode);
        } catch (e) {
          fs.closeSync(hostFd);
          throw e;
        }
        const wasiFd = self.nextFd();
        self.fds.set(wasiFd, new Entry(hostFd, filetype, {
          rights: rightsBase & parent.inheriting,
          inheriting: rightsInheriting & parent.inheriting,
          append: (fdflags & FDFLAGS_APPEND) !== 0,
        }));
        self.view().setUint32(out, wasiFd, true);
      },
      path_filestat_get(fd, lookup, ptr, len, buf) {
        const follow = (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0;
        const st = self.withPath(fd, ptr, len, follow, (r) => fs.lstatSync(r.path, { bigint: true }));
        self.writeFilestat(buf, st);
      },
      path_filestat_set_times(fd, lookup, ptr, len, atim, mtim, flags) {
        const follow = (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0;
        self.withPath(fd, ptr, len, follow, (r) => {
          const current = fs.lstatSync(r.path, { bigint: true });
          fs.lutimesSync(r.path, ...self.times(current, atim, mtim, flags));
        });
      },
      path_create_directory(fd, ptr, len) {
        self.withPath(fd, ptr, len, false, (r) => fs.mkdirSync(r.path, 0o777));
      },
      path_remove_directory(fd, ptr, len) {
        self.withPath(fd, ptr, len, false, (r) => fs.rmdirSync(r.path));
      },
      path_unlink_file(fd, ptr, len) {
        self.withPath(fd, ptr, len, false, (r) => fs.unlinkSync(r.path));
      },
      path_readlink(fd, ptr, len, buf, bufLen, used) {
        const target = self.withPath(fd, ptr, len, false,
          (r) => fs.readlinkSync(r.path, { encoding: 'buffer' }));
        const n = Math.min(target.length, bufLen);
        target.copy(new Uint8Array(self.memory.buffer, buf, bufLen), 0, 0, n);
        self.view().setUint32(used, n, true);
      },
      path_symlink(targetPtr, targetLen, fd, ptr, len) {
        const target = self.bytes(targetPtr, targetLen);
        self.withPath(fd, ptr, len, false, (r) => fs.symlinkSync(target, r.path));
      },
      path_rename(fd, ptr, len, newFd, newPtr, newLen) {
        self.withPath(fd, ptr, len, false, (from) =>
          self.withPath(newFd, newPtr, newLen, false, (to) => fs.renameSync(from.path, to.path)));
      },
      path_link(fd, lookup, ptr, len, newFd, newPtr, newLen) {
        const follow = (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0;
        self.withPath(fd, ptr, len, follow, (from) =>
          self.withPath(newFd, newPtr, newLen, false, (to) => fs.linkSync(from.path, to.path)));
      },
    };
  }

  /// node's WASI imports with this class's descriptors taken over: each call on one of ours
  /// is answered here (any `fd_*` or `sock_*` call not handled above gets ENOTSUP on them),
  /// every other call goes to node's WASI unchanged. `poll_oneoff` reports our descriptors
  /// ready at once, as Linux reports regular files and directories.
  wrap(imports) {
    const wasi = imports.wasi_snapshot_preview1;
    const handlers = this.handlers();
    const wrapped = {};
    const answer = (handler, args) => {
      try {
        handler(...args);
        return SUCCESS;
      } catch (e) {
        return errnoOf(e);
      }
    };
    const ours = (fd) => this.fds.has(fd);
    for (const [name, inner] of Object.entries(wasi)) {
      const handler = handlers[name];
      if (name === 'poll_oneoff') {
        wrapped[name] = (...args) => this.pollOneoff(inner, args);
      } else if (name === 'path_rename' || name === 'path_link') {
        // (fd, ..., new_fd at argument 3 for rename, 4 for link)
        const second = name === 'path_rename' ? 3 : 4;
        wrapped[name] = (...args) => {
          if (ours(args[0]) && ours(args[second])) return answer(handler, args);
          if (ours(args[0]) || ours(args[second])) return ERRNO.EXDEV;
          return inner(...args);
        };
      } else if (name === 'path_symlink') {
        wrapped[name] = (...args) => (ours(args[2]) ? answer(handler, args) : inner(...args));
      } else if (handler !== undefined) {
        wrapped[name] = (...args) => (ours(args[0]) ? answer(handler, args) : inner(...args));
      } else if (name.startsWith('fd_') || name.startsWith('sock_') || name.startsWith('path_')) {
        wrapped[name] = (...args) => (ours(args[0]) ? ENOTSUP : inner(...args));
      } else {
        wrapped[name] = inner;
      }
    }
    return { ...imports, wasi_snapshot_preview1: wrapped };
  }

  /// poll_oneoff: a subscription on one of our descriptors is ready now, so those events are
  /// reported without waiting; other subscriptions go to node's WASI.
  pollOneoff(inner, [subs, events, count, nevents]) {
    const v = this.view();
    let ready = 0;
    for (let i = 0; i < count; i++) {
      const sub = subs + 48 * i;
      const tag = v.getUint8(sub + 8);
      if ((tag === 1 || tag === 2) && this.fds.has(v.getUint32(sub + 16, true))) {
        const event = events + 32 * ready;
        new Uint8Array(this.memory.buffer, event, 32).fill(0);
        v.setBigUint64(event, v.getBigUint64(sub, true), true);
        v.setUint8(event + 10, tag);
        ready++;
      }
    }
    if (ready === 0) {
      return inner(subs, events, count, nevents);
    }
    v.setUint32(nevents, ready, true);
    return SUCCESS;
  }
}
