#!/usr/bin/env python3
"""Writes the container images the end-to-end tests of `ctr2wasm convert` read.

Usage:
  make-images.py --rootfs ROOTFS OUTDIR   build every fixture into OUTDIR (which must not exist)
  make-images.py --rootfs ROOTFS --cache  build them once into the cache, print the directory

ROOTFS is the Debian riscv64 tree of tests/rootfs/build-debian-rootfs.sh. The cache is
${CTR2WASM_IMAGES_CACHE:-~/.cache/ctr2wasm/images}/<key>/, where the key hashes this script and
the rootfs's stamp file, so editing either rebuilds (and deletes the stale build); a lock file
lets parallel tests share one build. The busybox binaries come from Debian `stable` through
mmdebstrap (network; run as root), so a rebuild after Debian updates busybox-static gives other
digests. Otherwise every byte is reproducible, run after run: members sorted, one fixed mtime,
numeric owners without names, gzip with mtime 0 and no file name, compact JSON.

What OUTDIR holds (each OCI image layout has one tag, `latest`, unless said otherwise):

  busybox/            linux/riscv64: Debian's busybox-static in /bin with applet symlinks,
                      /etc/passwd, /etc/group, /root, /tmp (1777), /work; three gzip layers
                      (below); Cmd prints $GREETING, the working directory and /etc/motd
  debian/             linux/riscv64: layer 1 is the whole Debian rootfs (modes, owners,
                      symlinks, hard links, device nodes in /dev), named "./PATH" under a "./"
                      root entry as `tar -C ROOTFS .` writes it; the other layers use bare
                      names, as Docker does. Cmd /bin/bash, User root
  multi/              an image index: linux/amd64 first, then linux/riscv64 (the busybox image);
                      the amd64 image is busybox-static for amd64 with the same layers 2 and 3
  amd64-only/         `latest` is an index with only linux/amd64; `manifest` is that amd64
                      manifest itself, whose config says amd64 (no platform field to go by)
  corrupt-blob/       busybox, but one byte of layer 2's blob is changed after its digest was
                      taken: the gzip header's mtime field, so the blob still decompresses to
                      the right tar and only a digest check notices
  truncated-gzip/     busybox, but layer 1's blob is cut in half; the manifest's digest and size
                      match the cut bytes, the config's diff_id is still the whole tar's
  escape/             busybox plus a fourth layer whose only member is `../../etc/passwd`: a
                      converter must refuse it, naming the member (umoci clamps it to
                      /etc/passwd instead; nothing may land outside the tree either way)
  busybox-legacy.tar  docker-archive, the classic `docker save` form: manifest.json,
                      <config hex>.json, <layer id>/{VERSION,json,layer.tar}, repositories
  busybox-oci.tar     docker-archive, the Docker 25+ form: oci-layout, index.json,
                      blobs/sha256/... (uncompressed layers) and a manifest.json naming them
  NAME.expect.json    next to each of the above: what a correct conversion shows (see below)
  fixtures.json       {NAME: {transport, path, expect}} for everything above

Layers 2 and 3 of every image, and the files layer 1 adds to the image's base tree, are
FIXTURE_LAYER1/2/3 below; EXPECTED_TREE says what the flattened image must show. In short:
  - whiteout: layer 2 deletes /fixture/deleted.txt and the directory /fixture/gone-dir of
    layer 1; layer 3 recreates /fixture/gone-dir holding only c.txt (the old children must stay
    gone); layer 3 deletes /fixture/l2-then-gone.txt that layer 2 created
  - opaque directory: layer 2 marks /fixture/opaque opaque and adds new.txt and both.txt, so
    exactly those two remain (both.txt with layer 2's content)
  - hard links: /fixture/hl-one.txt and hl-two.txt within layer 1; layer 3 links
    /fixture/motd-hardlink to /etc/motd, which layer 3 itself rewrites (same layer); layer 3
    links /fixture/hardlink-to-lower.txt to /fixture/from-layer2.txt, which only layer 2 holds
    (a link across layers: the OCI spec allows it but warns that extracting it "may fail";
    umoci, containerd and Docker link it to the file the layers below left)
  - overwrite: layer 3 replaces /etc/motd and /fixture/overwritten.txt (content, mode, owner)
  - owners, modes, mtimes: /fixture/owned.txt is 1234:5678 mode 640, /fixture/run.sh is an
    executable script, /fixture/kept.txt keeps mtime 1234567890, everything else has MTIME
  - symlinks: /fixture/link -> kept.txt, /fixture/abs-link -> /etc/motd (absolute: it must
    resolve inside the image)

NAME.expect.json of a good image has:
  name, transport, path            `oci` or `docker-archive`, and the layout or file in OUTDIR
  tag, digest                      the layout's tag; the digest of what it names (an index for
                                   multi), and `tags` when there are two (amd64-only)
  platforms                        {"linux/riscv64": manifest digest, ...}
  config, layers                   the image config's `config` object; each layer's digest and
                                   diff_id (docker archives: repo_tags and config_digest)
  tree                             the EXPECTED_TREE entries plus the base tree's own
  check: {script, stdout}          a POSIX sh script (run with the image's /bin/sh; it uses only
                                   stat, cat, ls, readlink, sha256sum, test) and exactly what
                                   it prints on a correct flatten; multi also has amd64_check
  default_run: {stdin, stdout, status}  what the image's Entrypoint+Cmd, run in WorkingDir with
                                   Env and that stdin, prints and exits with
A bad input has `error`: {kind, ...}, naming the digest or member a converter must report:
digest-mismatch, truncated-gzip, path-escape, missing-platform.
"""

import argparse
import copy
import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import types

MTIME = 1700000000  # 2023-11-14T22:13:20Z, every member's mtime unless said otherwise
KEPT_MTIME = 1234567890  # /fixture/kept.txt's, so a converter that resets mtimes shows
CREATED = "2023-11-14T22:13:20Z"
SUITE = "stable"
MIRROR = "http://deb.debian.org/debian"
TAG = "latest"

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"

BUSYBOX_APPLETS = [
    "[", "basename", "cat", "chmod", "cp", "cut", "date", "dirname", "echo", "env", "false",
    "find", "grep", "head", "id", "ln", "ls", "md5sum", "mkdir", "mv", "printf", "pwd",
    "readlink", "rm", "sed", "sh", "sha256sum", "sleep", "sort", "stat", "tail", "tee", "test",
    "touch", "tr", "true", "uname", "uniq", "wc", "xargs",
]
BUSYBOX_ENV = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello-from-image"]
DEBIAN_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def fail(message):
    print(f"make-images: {message}", file=sys.stderr)
    sys.exit(1)


def log(message):
    print(f"make-images: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Layer members: a TarInfo and where its bytes come from (bytes, a host file, or nothing).


class Member:
    def __init__(self, info, data=None, source=None):
        self.info = info
        self.data = data
        self.source = source


def _info(path, kind, mode, uid=0, gid=0, mtime=MTIME):
    info = tarfile.TarInfo(path)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.uname = info.gname = ""
    info.mtime = mtime
    return info


def file(path, data, mode=0o644, uid=0, gid=0, mtime=MTIME):
    data = data.encode() if isinstance(data, str) else data
    info = _info(path, tarfile.REGTYPE, mode, uid, gid, mtime)
    info.size = len(data)
    return Member(info, data=data)


def directory(path, mode=0o755, uid=0, gid=0):
    return Member(_info(path, tarfile.DIRTYPE, mode, uid, gid))


def symlink(path, target):
    info = _info(path, tarfile.SYMTYPE, 0o777)
    info.linkname = target
    return Member(info)


def hardlink(path, target):
    info = _info(path, tarfile.LNKTYPE, 0o644)
    info.linkname = target
    return Member(info)


def whiteout(path):
    """The marker that deletes `path` of a lower layer: DIR/.wh.BASENAME, an empty file."""
    parent, base = os.path.split(path)
    return file(os.path.join(parent, ".wh." + base), b"", mode=0o644)


def opaque(dirpath):
    """The marker that hides every child `dirpath` has in lower layers."""
    return file(os.path.join(dirpath, ".wh..wh..opq"), b"", mode=0o644)


def tree_members(root, prefix):
    """Members for every file under `root`, named `prefix` + relative path, with modes, owners,
    symlinks, hard links (the first path in sorted order holds the data) and device nodes;
    every mtime is MTIME. Sockets are skipped: tar cannot hold them."""
    members = []
    if prefix:
        members.append(Member(_info(prefix, tarfile.DIRTYPE, stat.S_IMODE(os.lstat(root).st_mode))))
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            host = os.path.join(dirpath, name)
            rel = os.path.relpath(host, root)
            st = os.lstat(host)
            mode = stat.S_IMODE(st.st_mode)
            info = _info(prefix + rel, tarfile.REGTYPE, mode, st.st_uid, st.st_gid)
            if stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
                members.append(Member(info))
            elif stat.S_ISLNK(st.st_mode):
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(host)
                members.append(Member(info))
            elif stat.S_ISREG(st.st_mode):
                info.size = st.st_size
                members.append(Member(info, source=host))
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                info.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
                info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
                members.append(Member(info))
            elif stat.S_ISFIFO(st.st_mode):
                info.type = tarfile.FIFOTYPE
                members.append(Member(info))
    members.sort(key=lambda m: m.info.name)
    # Hard links: the first path (in member order) of each inode keeps the data.
    first = {}
    for m in members:
        if m.source is None:
            continue
        st = os.lstat(m.source)
        if st.st_nlink < 2:
            continue
        key = (st.st_dev, st.st_ino)
        if key in first:
            m.info.type = tarfile.LNKTYPE
            m.info.linkname = first[key]
            m.info.size = 0
            m.source = None
        else:
            first[key] = m.info.name
    return members


def merge(base, extra):
    """`base` with `extra` added; an extra member replaces a base member of the same name."""
    names = {m.info.name.rstrip("/") for m in extra}
    kept = [m for m in base if m.info.name.rstrip("/") not in names]
    return sorted(kept + extra, key=lambda m: m.info.name)


# ---------------------------------------------------------------------------------------------
# The fixture layers every image shares.

FIXTURE_LAYER1 = [
    directory("etc"),
    file("etc/motd", "motd from layer 1\n"),
    directory("fixture"),
    file("fixture/kept.txt", "kept from layer 1\n", mtime=KEPT_MTIME),
    file("fixture/owned.txt", "owned by 1234:5678\n", mode=0o640, uid=1234, gid=5678),
    file("fixture/run.sh", "#!/bin/sh\necho run.sh ran with \"$@\"\n", mode=0o755),
    file("fixture/overwritten.txt", "layer 1 version\n", mode=0o600),
    file("fixture/deleted.txt", "layer 1, deleted by layer 2\n"),
    directory("fixture/gone-dir"),
    file("fixture/gone-dir/a.txt", "layer 1, directory deleted by layer 2\n"),
    directory("fixture/gone-dir/sub"),
    file("fixture/gone-dir/sub/b.txt", "layer 1, directory deleted by layer 2\n"),
    directory("fixture/opaque"),
    file("fixture/opaque/old.txt", "layer 1, hidden by layer 2's opaque marker\n"),
    directory("fixture/opaque/old-sub"),
    file("fixture/opaque/old-sub/deep.txt", "layer 1, hidden by layer 2's opaque marker\n"),
    file("fixture/opaque/both.txt", "both.txt from layer 1\n"),
    file("fixture/hl-one.txt", "hard-linked within layer 1\n"),
    hardlink("fixture/hl-two.txt", "fixture/hl-one.txt"),
    symlink("fixture/link", "kept.txt"),
    symlink("fixture/abs-link", "/etc/motd"),
]

FIXTURE_LAYER2 = [
    directory("fixture"),
    whiteout("fixture/deleted.txt"),
    whiteout("fixture/gone-dir"),
    directory("fixture/opaque"),
    opaque("fixture/opaque"),
    file("fixture/opaque/new.txt", "new.txt from layer 2\n"),
    file("fixture/opaque/both.txt", "both.txt from layer 2\n"),
    file("fixture/from-layer2.txt", "created by layer 2\n"),
    file("fixture/l2-then-gone.txt", "created by layer 2, deleted by layer 3\n"),
]

FIXTURE_LAYER3 = [
    directory("etc"),
    file("etc/motd", "motd from layer 3\n"),
    directory("fixture"),
    file("fixture/overwritten.txt", "overwritten by layer 3\n", mode=0o644, uid=42, gid=43),
    hardlink("fixture/motd-hardlink", "etc/motd"),
    hardlink("fixture/hardlink-to-lower.txt", "fixture/from-layer2.txt"),
    whiteout("fixture/l2-then-gone.txt"),
    directory("fixture/gone-dir"),
    file("fixture/gone-dir/c.txt", "recreated by layer 3\n"),
]


# Entries of an expected tree; check_script turns each into commands and their output.


def expect_file(path, content=None, sha256=None, mode="644", uid=0, gid=0, nlink=1, mtime=MTIME):
    entry = {"path": path, "type": "file", "mode": mode, "uid": uid, "gid": gid,
             "nlink": nlink, "mtime": mtime}
    if content is not None:
        entry["content"] = content
    else:
        entry["sha256"] = sha256
    return entry


def expect_dir(path, entries=None, mode="755", uid=0, gid=0):
    return {"path": path, "type": "dir", "mode": mode, "uid": uid, "gid": gid,
            "entries": entries}


def expect_symlink(path, target):
    return {"path": path, "type": "symlink", "target": target}


def expect_absent(path):
    return {"path": path, "type": "absent"}


def expect_same_inode(a, b):
    return {"type": "same-inode", "paths": [a, b]}


# What the flattened fixture layers must show, in every image.
EXPECTED_TREE = [
    expect_file("/etc/motd", "motd from layer 3\n", nlink=2),
    expect_dir("/fixture", [
        "abs-link", "from-layer2.txt", "gone-dir", "hardlink-to-lower.txt", "hl-one.txt",
        "hl-two.txt", "kept.txt", "link", "motd-hardlink", "opaque", "overwritten.txt",
        "owned.txt", "run.sh",
    ]),
    expect_file("/fixture/kept.txt", "kept from layer 1\n", mtime=KEPT_MTIME),
    expect_file("/fixture/owned.txt", "owned by 1234:5678\n", mode="640", uid=1234, gid=5678),
    expect_file("/fixture/run.sh", "#!/bin/sh\necho run.sh ran with \"$@\"\n", mode="755"),
    expect_file("/fixture/overwritten.txt", "overwritten by layer 3\n", uid=42, gid=43),
    expect_absent("/fixture/deleted.txt"),
    expect_absent("/fixture/.wh.deleted.txt"),
    expect_dir("/fixture/gone-dir", ["c.txt"]),
    expect_absent("/fixture/gone-dir/a.txt"),
    expect_absent("/fixture/gone-dir/sub"),
    expect_file("/fixture/gone-dir/c.txt", "recreated by layer 3\n"),
    expect_dir("/fixture/opaque", ["both.txt", "new.txt"]),
    expect_file("/fixture/opaque/both.txt", "both.txt from layer 2\n"),
    expect_file("/fixture/opaque/new.txt", "new.txt from layer 2\n"),
    expect_absent("/fixture/opaque/old.txt"),
    expect_absent("/fixture/opaque/old-sub"),
    expect_absent("/fixture/opaque/.wh..wh..opq"),
    expect_file("/fixture/hl-one.txt", "hard-linked within layer 1\n", nlink=2),
    expect_file("/fixture/hl-two.txt", "hard-linked within layer 1\n", nlink=2),
    expect_same_inode("/fixture/hl-one.txt", "/fixture/hl-two.txt"),
    expect_file("/fixture/motd-hardlink", "motd from layer 3\n", nlink=2),
    expect_same_inode("/etc/motd", "/fixture/motd-hardlink"),
    expect_file("/fixture/from-layer2.txt", "created by layer 2\n", nlink=2),
    expect_file("/fixture/hardlink-to-lower.txt", "created by layer 2\n", nlink=2),
    expect_same_inode("/fixture/from-layer2.txt", "/fixture/hardlink-to-lower.txt"),
    expect_absent("/fixture/l2-then-gone.txt"),
    expect_symlink("/fixture/link", "kept.txt"),
    expect_symlink("/fixture/abs-link", "/etc/motd"),
]


def check_script(tree):
    """A POSIX sh script printing each entry of `tree`, and exactly what it must print."""
    lines = ["export LC_ALL=C"]
    out = []
    for e in tree:
        kind = e["type"]
        if kind == "file":
            p = e["path"]
            lines.append(f"stat -c '%n %F %a %u:%g %h %Y' {p}")
            out.append(f"{p} regular file {e['mode']} {e['uid']}:{e['gid']} {e['nlink']} "
                       f"{e['mtime']}\n")
            if "content" in e:
                lines.append(f"cat {p}")
                out.append(e["content"])
            else:
                lines.append(f"sha256sum {p}")
                out.append(f"{e['sha256']}  {p}\n")
        elif kind == "dir":
            p = e["path"]
            lines.append(f"stat -c '%n %F %a %u:%g' {p}")
            out.append(f"{p} directory {e['mode']} {e['uid']}:{e['gid']}\n")
            if e["entries"] is not None:
                lines.append(f"ls -1A {p}")
                out.extend(name + "\n" for name in e["entries"])
        elif kind == "symlink":
            p = e["path"]
            lines.append(f"stat -c '%n %F' {p}; readlink {p}")
            out.append(f"{p} symbolic link\n{e['target']}\n")
        elif kind == "absent":
            p = e["path"]
            lines.append(f"if [ -e {p} ] || [ -L {p} ]; then echo '{p} exists'; "
                         f"else echo '{p} absent'; fi")
            out.append(f"{p} absent\n")
        elif kind == "same-inode":
            a, b = e["paths"]
            lines.append(f"if [ {a} -ef {b} ]; then echo '{a} {b} same inode'; "
                         f"else echo '{a} {b} different inodes'; fi")
            out.append(f"{a} {b} same inode\n")
        else:
            raise AssertionError(kind)
    return {"script": "\n".join(lines) + "\n", "stdout": "".join(out)}


# ---------------------------------------------------------------------------------------------
# Blobs, layers, layouts.


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def write_tar(path, members):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            if m.source is not None:
                with open(m.source, "rb") as src:
                    tar.addfile(m.info, src)
            elif m.data is not None:
                tar.addfile(m.info, io.BytesIO(m.data))
            else:
                tar.addfile(m.info)


class Layer:
    """One layer, written once to the store: its tar (diff_id) and its gzip (digest)."""

    def __init__(self, store, members, comment):
        os.makedirs(store, exist_ok=True)
        tmp = os.path.join(store, "tmp.tar")
        write_tar(tmp, members)
        self.diff_id_hex = sha256_file(tmp)
        self.tar = os.path.join(store, self.diff_id_hex + ".tar")
        os.replace(tmp, self.tar)
        self.tar_size = os.path.getsize(self.tar)
        self.gz = os.path.join(store, self.diff_id_hex + ".tar.gz")
        with open(self.tar, "rb") as src, open(self.gz, "wb") as raw:
            # No file name and mtime 0 in the header: the bytes depend only on the tar.
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                               compresslevel=6) as gz:
                shutil.copyfileobj(src, gz, 1 << 20)
        self.digest_hex = sha256_file(self.gz)
        self.size = os.path.getsize(self.gz)
        self.comment = comment

    @property
    def diff_id(self):
        return "sha256:" + self.diff_id_hex

    @property
    def digest(self):
        return "sha256:" + self.digest_hex


def image_config(arch, layers, config):
    """The image config blob: `config` (Entrypoint, Cmd, Env, ...) and the layers' diff_ids."""
    return dumps({
        "created": CREATED,
        "architecture": arch,
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": CREATED, "created_by": layer.comment} for layer in layers],
    })


class Layout:
    """An OCI image layout directory."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"))
        with open(os.path.join(path, "oci-layout"), "wb") as fh:
            fh.write(dumps({"imageLayoutVersion": "1.0.0"}))

    def blob_path(self, digest):
        return os.path.join(self.path, "blobs", "sha256", digest.split(":", 1)[1])

    def add_bytes(self, media_type, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        if not os.path.exists(path):
            with open(path, "wb") as fh:
                fh.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def add_file(self, media_type, host, digest, size):
        path = self.blob_path(digest)
        if not os.path.exists(path):
            shutil.copyfile(host, path)
        return {"mediaType": media_type, "digest": digest, "size": size}

    def add_image(self, arch, layers, config):
        """Adds the config and manifest of an image with gzip `layers`; returns the manifest
        descriptor (with its platform)."""
        config_desc = self.add_bytes(MEDIA_CONFIG, image_config(arch, layers, config))
        layer_descs = [self.add_file(MEDIA_LAYER_GZIP, layer.gz, layer.digest, layer.size)
                       for layer in layers]
        manifest = {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": config_desc,
            "layers": layer_descs,
        }
        desc = self.add_bytes(MEDIA_MANIFEST, dumps(manifest))
        desc["platform"] = {"architecture": arch, "os": "linux"}
        return desc

    def add_index(self, manifests):
        index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": manifests}
        return self.add_bytes(MEDIA_INDEX, dumps(index))

    def write_index_json(self, tagged):
        """index.json naming each descriptor of `tagged` ({tag: descriptor}) by its tag."""
        manifests = []
        for tag, desc in tagged.items():
            entry = {k: desc[k] for k in ("mediaType", "digest", "size")}
            entry["annotations"] = {"org.opencontainers.image.ref.name": tag}
            manifests.append(entry)
        index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": manifests}
        with open(os.path.join(self.path, "index.json"), "wb") as fh:
            fh.write(dumps(index))


# ---------------------------------------------------------------------------------------------
# Inputs: busybox-static for an architecture, the Debian rootfs.


def fetch_busybox(work, arch):
    """Debian stable's busybox-static for `arch`: (binary bytes, package version)."""
    out = os.path.join(work, f"busybox-{arch}.tar")
    log(f"fetching busybox-static for {arch} from Debian {SUITE}")
    cmd = [
        "mmdebstrap", "--quiet", f"--arch={arch}", "--variant=extract",
        "--include=busybox-static", "--aptopt=Acquire::Check-Valid-Until \"false\"",
        SUITE, out, f"deb {MIRROR} {SUITE} main",
    ]
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        fail(f"mmdebstrap could not fetch busybox-static for {arch}:\n{result.stderr}")
    with tarfile.open(out) as tar:
        binary = tar.extractfile("./usr/bin/busybox").read()
        changelog = tar.extractfile("./usr/share/doc/busybox-static/changelog.Debian.gz")
        first = gzip.decompress(changelog.read()).split(b"\n", 1)[0].decode()
    os.unlink(out)
    # "busybox (1:1.37.0-6) unstable; urgency=medium"
    version = first.split("(", 1)[1].split(")", 1)[0]
    return binary, version


def busybox_base(binary):
    """Layer 1's own tree of the busybox images (the fixture files come on top)."""
    members = [
        directory("bin"),
        file("bin/busybox", binary, mode=0o755),
        directory("etc"),
        file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                           "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
        file("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
        directory("root", mode=0o700),
        directory("tmp", mode=0o1777),
        directory("work"),
    ]
    members += [symlink("bin/" + applet, "busybox") for applet in BUSYBOX_APPLETS]
    return members


def busybox_tree(binary):
    """The expected tree entries of busybox_base."""
    return [
        expect_file("/bin/busybox", sha256=hashlib.sha256(binary).hexdigest(), mode="755"),
        expect_symlink("/bin/sh", "busybox"),
        expect_symlink("/bin/cat", "busybox"),
        expect_file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                         "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
        expect_dir("/tmp", mode="1777"),
        expect_dir("/root", mode="700"),
        expect_dir("/work", []),
    ]


BUSYBOX_CONFIG = {
    "Env": BUSYBOX_ENV,
    "Cmd": ["/bin/sh", "-c", "echo default-cmd $GREETING; pwd; cat /etc/motd"],
    "WorkingDir": "/work",
}
BUSYBOX_DEFAULT_RUN = {
    "stdin": "",
    "stdout": "default-cmd hello-from-image\n/work\nmotd from layer 3\n",
    "status": 0,
}

DEBIAN_CONFIG = {
    "Env": DEBIAN_ENV,
    "Cmd": ["/bin/bash"],
    "WorkingDir": "/",
    "User": "root",
}
# bash reads its commands from stdin when it is not a terminal.
DEBIAN_DEFAULT_RUN = {
    "stdin": "echo \"$0 in $PWD as $(id -u)\"; cat /fixture/abs-link; exit 7\n",
    "stdout": "/bin/bash in / as 0\nmotd from layer 3\n",
    "status": 7,
}


def debian_tree(rootfs):
    def sha(path):
        return sha256_file(os.path.join(rootfs, path))

    return [
        expect_symlink("/bin", "usr/bin"),
        expect_file("/usr/bin/bash", sha256=sha("usr/bin/bash"), mode="755"),
        expect_file("/usr/bin/python3.13", sha256=sha("usr/bin/python3.13"), mode="755"),
        expect_file("/etc/debian_version", open(os.path.join(rootfs, "etc/debian_version")).read()),
        expect_dir("/tmp", mode="1777"),
        expect_absent("/.ctr2wasm-rootfs-key"),
    ]


# ---------------------------------------------------------------------------------------------
# The fixtures.


class Builder:
    def __init__(self, out, rootfs, work):
        self.out = out
        self.rootfs = rootfs
        self.work = work
        self.store = os.path.join(work, "layers")
        self.index = {}

    def expect(self, name, path, body):
        """Writes NAME.expect.json; `path` is the layout or archive, relative to the output."""
        transport = "docker-archive" if path.endswith(".tar") else "oci"
        body = {"name": name, "transport": transport, "path": path, **body}
        with open(os.path.join(self.out, name + ".expect.json"), "w") as fh:
            json.dump(body, fh, indent=2)
            fh.write("\n")
        self.index[name] = {"transport": transport, "path": path,
                            "expect": name + ".expect.json"}

    def layer(self, members, comment):
        return Layer(self.store, members, comment)

    def layout(self, name):
        return Layout(os.path.join(self.out, name))

    def good_image(self, name, arch, layers, config, tree, default_run):
        layout = self.layout(name)
        desc = layout.add_image(arch, layers, config)
        layout.write_index_json({TAG: desc})
        self.expect(name, name, {
            "tag": TAG,
            "digest": desc["digest"],
            "platforms": {f"linux/{arch}": desc["digest"]},
            "config": config,
            "layers": [{"digest": layer.digest, "diff_id": layer.diff_id} for layer in layers],
            "tree": tree,
            "check": check_script(tree),
            "default_run": default_run,
        })

    def build(self):
        os.makedirs(self.out)
        riscv_binary, riscv_version = fetch_busybox(self.work, "riscv64")
        amd64_binary, amd64_version = fetch_busybox(self.work, "amd64")
        fixture_layer1 = sorted(FIXTURE_LAYER1, key=lambda m: m.info.name)
        top = [self.layer(FIXTURE_LAYER2, "fixture layer 2: whiteouts, opaque directory"),
               self.layer(FIXTURE_LAYER3, "fixture layer 3: overwrites, hard links")]

        log("busybox")
        riscv = [self.layer(merge(busybox_base(riscv_binary), fixture_layer1),
                            f"busybox-static {riscv_version} for riscv64, fixture layer 1")]
        riscv += top
        riscv_tree = busybox_tree(riscv_binary) + EXPECTED_TREE
        self.good_image("busybox", "riscv64", riscv, BUSYBOX_CONFIG, riscv_tree,
                        BUSYBOX_DEFAULT_RUN)

        log("multi, amd64-only")
        amd64 = [self.layer(merge(busybox_base(amd64_binary), fixture_layer1),
                            f"busybox-static {amd64_version} for amd64, fixture layer 1")]
        amd64 += top
        amd64_tree = busybox_tree(amd64_binary) + EXPECTED_TREE
        self.multi(riscv, amd64, riscv_tree, amd64_tree)
        self.amd64_only(amd64)

        log("bad inputs")
        self.corrupt_blob(riscv)
        self.truncated_gzip(riscv)
        self.escape(riscv)

        log("docker archives")
        self.docker_legacy(riscv, riscv_tree)
        self.docker_oci(riscv, riscv_tree)

        log(f"debian (layer 1 is {self.rootfs})")
        # Layer 1 names members "./PATH" under a "./" root entry, as `tar -C ROOTFS .` does;
        # the fixture files get the same prefix. The other layers use bare names, as Docker's.
        base = [m for m in tree_members(self.rootfs, "./")
                if m.info.name != "./.ctr2wasm-rootfs-key"]
        deb = [self.layer(merge(base, [dot_prefixed(m) for m in fixture_layer1]),
                          f"Debian {SUITE} riscv64 rootfs, fixture layer 1")] + top
        self.good_image("debian", "riscv64", deb, DEBIAN_CONFIG,
                        debian_tree(self.rootfs) + EXPECTED_TREE, DEBIAN_DEFAULT_RUN)

        with open(os.path.join(self.out, "fixtures.json"), "w") as fh:
            json.dump(self.index, fh, indent=2)
            fh.write("\n")

    def multi(self, riscv, amd64, riscv_tree, amd64_tree):
        layout = self.layout("multi")
        amd64_desc = layout.add_image("amd64", amd64, BUSYBOX_CONFIG)
        riscv_desc = layout.add_image("riscv64", riscv, BUSYBOX_CONFIG)
        # amd64 first: a converter that takes the first entry picks the wrong one.
        index_desc = layout.add_index([amd64_desc, riscv_desc])
        layout.write_index_json({TAG: index_desc})
        self.expect("multi", "multi", {
            "tag": TAG,
            "digest": index_desc["digest"],
            "platforms": {"linux/amd64": amd64_desc["digest"],
                          "linux/riscv64": riscv_desc["digest"]},
            "config": BUSYBOX_CONFIG,
            "tree": riscv_tree,
            "check": check_script(riscv_tree),
            "amd64_check": check_script(amd64_tree),
            "default_run": BUSYBOX_DEFAULT_RUN,
        })

    def amd64_only(self, amd64):
        layout = self.layout("amd64-only")
        desc = layout.add_image("amd64", amd64, BUSYBOX_CONFIG)
        index_desc = layout.add_index([desc])
        layout.write_index_json({TAG: index_desc, "manifest": desc})
        self.expect("amd64-only", "amd64-only", {
            "tag": TAG,
            "digest": index_desc["digest"],
            "tags": {TAG: index_desc["digest"], "manifest": desc["digest"]},
            "platforms": {"linux/amd64": desc["digest"]},
            "error": {"kind": "missing-platform", "wanted": "linux/riscv64",
                      "available": ["linux/amd64"]},
        })

    def corrupt_blob(self, layers):
        layout = self.layout("corrupt-blob")
        desc = layout.add_image("riscv64", layers, BUSYBOX_CONFIG)
        layout.write_index_json({TAG: desc})
        victim = layers[1]
        path = layout.blob_path(victim.digest)
        with open(path, "r+b") as fh:
            fh.seek(4)  # gzip MTIME, 0 until now: the blob still decompresses to the same tar
            fh.write(b"\x01")
        self.expect("corrupt-blob", "corrupt-blob", {
            "tag": TAG,
            "digest": desc["digest"],
            "error": {"kind": "digest-mismatch", "layer": 1, "digest": victim.digest,
                      "actual": "sha256:" + sha256_file(path)},
        })

    def truncated_gzip(self, layers):
        layout = self.layout("truncated-gzip")
        victim = layers[0]
        with open(victim.gz, "rb") as fh:
            cut = fh.read()[: victim.size // 2]
        cut_desc = layout.add_bytes(MEDIA_LAYER_GZIP, cut)
        # Layer 1 as the manifest names it: the cut blob, but the whole tar's diff_id.
        cut_layer = types.SimpleNamespace(
            digest=cut_desc["digest"], size=cut_desc["size"],
            gz=layout.blob_path(cut_desc["digest"]), diff_id=victim.diff_id,
            comment=victim.comment)
        desc = layout.add_image("riscv64", [cut_layer] + layers[1:], BUSYBOX_CONFIG)
        layout.write_index_json({TAG: desc})
        self.expect("truncated-gzip", "truncated-gzip", {
            "tag": TAG,
            "digest": desc["digest"],
            "error": {"kind": "truncated-gzip", "layer": 0, "digest": cut_desc["digest"],
                      "size": cut_desc["size"], "diff_id": victim.diff_id},
        })

    def escape(self, layers):
        name = "../../etc/passwd"
        evil = self.layer([file(name, "escaped from the layer\n")],
                          "a member named ../../etc/passwd")
        layout = self.layout("escape")
        desc = layout.add_image("riscv64", layers + [evil], BUSYBOX_CONFIG)
        layout.write_index_json({TAG: desc})
        self.expect("escape", "escape", {
            "tag": TAG,
            "digest": desc["digest"],
            "error": {"kind": "path-escape", "layer": 3, "digest": evil.digest,
                      "member": name},
        })

    def docker_legacy(self, layers, tree):
        config = image_config("riscv64", layers, BUSYBOX_CONFIG)
        config_hex = hashlib.sha256(config).hexdigest()
        files = {config_hex + ".json": config}
        layer_paths = []
        parent = ""
        for layer in layers:
            # Docker derives v1 layer ids from the parent's id and the layer; any stable hex
            # does, since readers go by manifest.json.
            layer_id = hashlib.sha256((parent + " " + layer.diff_id).encode()).hexdigest()
            v1 = {"id": layer_id, "created": CREATED, "os": "linux"}
            if parent:
                v1["parent"] = parent
            files[layer_id + "/VERSION"] = b"1.0"
            files[layer_id + "/json"] = dumps(v1)
            files[layer_id + "/layer.tar"] = layer.tar
            layer_paths.append(layer_id + "/layer.tar")
            parent = layer_id
        files["manifest.json"] = dumps([{"Config": config_hex + ".json",
                                         "RepoTags": ["busybox:latest"],
                                         "Layers": layer_paths}])
        files["repositories"] = dumps({"busybox": {"latest": parent}})
        write_archive(os.path.join(self.out, "busybox-legacy.tar"), files)
        self.expect("busybox-legacy", "busybox-legacy.tar", {
            "repo_tags": ["busybox:latest"],
            "config_digest": "sha256:" + config_hex,
            "config": BUSYBOX_CONFIG,
            "tree": tree,
            "check": check_script(tree),
            "default_run": BUSYBOX_DEFAULT_RUN,
        })

    def docker_oci(self, layers, tree):
        config = image_config("riscv64", layers, BUSYBOX_CONFIG)
        config_hex = hashlib.sha256(config).hexdigest()
        manifest = dumps({
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": {"mediaType": MEDIA_CONFIG, "digest": "sha256:" + config_hex,
                       "size": len(config)},
            # Docker stores layers uncompressed: digest == diff_id.
            "layers": [{"mediaType": MEDIA_LAYER_TAR, "digest": layer.diff_id,
                        "size": layer.tar_size} for layer in layers],
        })
        manifest_hex = hashlib.sha256(manifest).hexdigest()
        files = {
            "oci-layout": dumps({"imageLayoutVersion": "1.0.0"}),
            "blobs/sha256/" + config_hex: config,
            "blobs/sha256/" + manifest_hex: manifest,
            "index.json": dumps({
                "schemaVersion": 2,
                "mediaType": MEDIA_INDEX,
                "manifests": [{
                    "mediaType": MEDIA_MANIFEST, "digest": "sha256:" + manifest_hex,
                    "size": len(manifest),
                    "annotations": {
                        "io.containerd.image.name": "docker.io/library/busybox:latest",
                        "org.opencontainers.image.ref.name": TAG,
                    },
                }],
            }),
            "manifest.json": dumps([{
                "Config": "blobs/sha256/" + config_hex,
                "RepoTags": ["busybox:latest"],
                "Layers": ["blobs/sha256/" + layer.diff_id_hex for layer in layers],
            }]),
            "repositories": dumps({"busybox": {"latest": layers[-1].diff_id_hex}}),
        }
        for layer in layers:
            files["blobs/sha256/" + layer.diff_id_hex] = layer.tar
        write_archive(os.path.join(self.out, "busybox-oci.tar"), files)
        self.expect("busybox-oci", "busybox-oci.tar", {
            "repo_tags": ["busybox:latest"],
            "digest": "sha256:" + manifest_hex,
            "config_digest": "sha256:" + config_hex,
            "config": BUSYBOX_CONFIG,
            "tree": tree,
            "check": check_script(tree),
            "default_run": BUSYBOX_DEFAULT_RUN,
        })


def dot_prefixed(member):
    """`member` renamed "./NAME" (and a hard link's target too)."""
    info = copy.copy(member.info)
    info.name = "./" + member.info.name
    if info.type == tarfile.LNKTYPE:
        info.linkname = "./" + member.info.linkname
    return Member(info, member.data, member.source)


def write_archive(path, files):
    """A docker-archive tar of `files` ({name: bytes, or a host path}), parents added."""
    dirs = set()
    for name in files:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    members = [directory(x) for x in dirs]
    for name, content in files.items():
        if isinstance(content, bytes):
            members.append(file(name, content))
        else:
            info = _info(name, tarfile.REGTYPE, 0o644)
            info.size = os.path.getsize(content)
            members.append(Member(info, source=content))
    write_tar(path, sorted(members, key=lambda m: m.info.name))


# ---------------------------------------------------------------------------------------------


def build_into(out, rootfs):
    if shutil.which("mmdebstrap") is None:
        fail("mmdebstrap is missing: install the Debian package mmdebstrap (.ci/setup does)")
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent, prefix=".make-images.") as work:
        staging = os.path.join(work, "out")
        Builder(staging, rootfs, work).build()
        os.rename(staging, out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rootfs", required=True, help="the Debian riscv64 rootfs")
    parser.add_argument("--cache", action="store_true",
                        help="build into the cache if needed and print the directory")
    parser.add_argument("out", nargs="?", help="the directory to create")
    args = parser.parse_args()
    if args.cache == (args.out is not None):
        parser.error("give either OUTDIR or --cache")
    if not os.path.isfile(os.path.join(args.rootfs, "usr/bin/bash")):
        fail(f"{args.rootfs} is not the Debian rootfs (no usr/bin/bash): "
             "build it with converter/tests/rootfs/build-debian-rootfs.sh")
    if args.out is not None:
        if os.path.exists(args.out):
            fail(f"{args.out} exists")
        build_into(args.out, args.rootfs)
        return

    stamp = os.path.join(args.rootfs, ".ctr2wasm-rootfs-key")
    if not os.path.isfile(stamp):
        fail(f"{stamp} is missing: build the rootfs with build-debian-rootfs.sh")
    key = hashlib.sha256()
    with open(__file__, "rb") as fh:
        key.update(fh.read())
    with open(stamp, "rb") as fh:
        key.update(fh.read())
    cache = os.environ.get("CTR2WASM_IMAGES_CACHE") or os.path.expanduser(
        "~/.cache/ctr2wasm/images")
    os.makedirs(cache, exist_ok=True)
    out = os.path.join(cache, key.hexdigest()[:32])
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(out):
            build_into(out, args.rootfs)
            log(f"done: {out}")
            # Builds of other versions of this script or the rootfs are stale: two checkouts
            # taking turns rebuild (seconds), but the cache never grows.
            for name in os.listdir(cache):
                if name != os.path.basename(out) and not name.startswith("."):
                    shutil.rmtree(os.path.join(cache, name), ignore_errors=True)
    print(out)


if __name__ == "__main__":
    main()
