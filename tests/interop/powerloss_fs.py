"""A FUSE filesystem that forgets, at power loss, whatever fsync did not make durable.

A test tool of the fault suite (faults.py mounts one as each peer's dataDir):

  python3 powerloss_fs.py BACKING MOUNTPOINT

serves MOUNTPOINT until killed. Every file has a volatile copy (what reads
see) and a durable copy; every directory has volatile entries and durable
entries. fsync (or fdatasync) on a file copies the ranges written since the
last one to its durable copy; fsync on a directory makes its current entries
durable (names and the files or directories they point to, whatever their
own state). Nothing else is durable: not a rename, not a new file's name,
not a new directory, until its directory is fsynced (POSIX promises no
more; real filesystems often keep more, and code relying on that loses data
on some of them).

Power loss is: kill this process (SIGKILL) and unmount; a new one started on
the same BACKING serves exactly what was durable. (A test that prepares files
before power can be lost, such as myid, fsyncs them and their directory.)

BACKING holds vol/<ino> and dur/<ino> (the two copies of each file, sparse)
and durable.json (the durable entries of every directory, rewritten at each
directory fsync).
"""

import errno
import json
import os
import stat
import sys
import threading
import time

from fuse import FUSE, FuseOSError, Operations

ROOT = 1


class Node:
    def __init__(self, ino, is_dir, mode):
        self.ino = ino
        self.is_dir = is_dir
        self.mode = mode
        self.entries = {} if is_dir else None   # name -> ino (volatile)
        self.durable = {} if is_dir else None   # name -> ino (durable)
        self.dirty = []  # file: what changed since the last fsync, in order: ("w", offset, length), ("t", size)
        self.mtime = time.time()


class PowerLossFs(Operations):
    def __init__(self, backing):
        self.backing = backing
        self._mutex = threading.RLock()
        self.fds = {}
        for d in ("vol", "dur"):
            os.makedirs(os.path.join(backing, d), exist_ok=True)
        self.nodes = {}
        self.next_ino = ROOT + 1
        self._load()

    # ---- the backing store ------------------------------------------------

    def _path(self, kind, ino):
        return os.path.join(self.backing, kind, str(ino))

    def _load(self):
        """The durable state: directories reachable by durable entries from
        the root; every file's volatile copy reset to its durable copy."""
        meta_path = os.path.join(self.backing, "durable.json")
        meta = {"next": ROOT + 1, "nodes": {str(ROOT): [True, 0o755, {}]}}
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                meta = json.load(f)
        self.next_ino = meta["next"]
        saved = meta["nodes"]

        def visit(ino):
            is_dir, mode, entries = saved[str(ino)]
            node = Node(ino, is_dir, mode)
            self.nodes[ino] = node
            if is_dir:
                for name, child in entries.items():
                    if str(child) in saved:
                        node.entries[name] = node.durable[name] = child
                        if child not in self.nodes:
                            visit(child)
            else:
                copy_sparse(self._path("dur", ino), self._path("vol", ino))
        visit(ROOT)
        for kind in ("vol", "dur"):  # files of what power loss forgot
            for name in os.listdir(os.path.join(self.backing, kind)):
                if int(name) not in self.nodes:
                    os.unlink(self._path(kind, name))

    def _save(self):
        """Writes the durable entries of every directory reachable through
        durable entries, and the kind and mode of what they point to."""
        out = {}

        def visit(ino):
            node = self.nodes[ino]
            out[str(ino)] = [node.is_dir, node.mode, dict(node.durable) if node.is_dir else {}]
            if node.is_dir:
                for child in node.durable.values():
                    if str(child) not in out and child in self.nodes:
                        visit(child)
        visit(ROOT)
        tmp = os.path.join(self.backing, "durable.json.tmp")
        with open(tmp, "w") as f:
            json.dump({"next": self.next_ino, "nodes": out}, f)
        os.rename(tmp, os.path.join(self.backing, "durable.json"))

    def _fd(self, ino):
        fd = self.fds.get(ino)
        if fd is None:
            fd = self.fds[ino] = os.open(self._path("vol", ino), os.O_RDWR)
        return fd

    def _sync_file(self, node):
        if node.is_dir:
            return
        src = self._fd(node.ino)
        size = os.fstat(src).st_size
        dst = os.open(self._path("dur", node.ino), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # Replayed in order, each write with what the range holds now:
            # the durable copy ends equal to the volatile one, and sizes
            # set by truncate stay holes (a preallocated log stays sparse).
            for change in node.dirty:
                if change[0] == "t":
                    os.ftruncate(dst, change[1])
                else:
                    _, off, length = change
                    length = max(0, min(length, size - off))
                    if length:
                        os.pwrite(dst, os.pread(src, length, off), off)
            os.ftruncate(dst, size)
        finally:
            os.close(dst)
        node.dirty = []

    # ---- names ------------------------------------------------------------

    def _resolve(self, path):
        node = self.nodes[ROOT]
        for part in [p for p in path.split("/") if p]:
            if not node.is_dir or part not in node.entries:
                raise FuseOSError(errno.ENOENT)
            node = self.nodes[node.entries[part]]
        return node

    def _parent(self, path):
        head, _, name = path.rstrip("/").rpartition("/")
        parent = self._resolve(head or "/")
        if not parent.is_dir:
            raise FuseOSError(errno.ENOTDIR)
        return parent, name

    def _new(self, path, is_dir, mode):
        parent, name = self._parent(path)
        if name in parent.entries:
            raise FuseOSError(errno.EEXIST)
        node = Node(self.next_ino, is_dir, mode & 0o7777)
        self.next_ino += 1
        self.nodes[node.ino] = node
        if not is_dir:
            for kind in ("vol", "dur"):
                open(self._path(kind, node.ino), "wb").close()
        parent.entries[name] = node.ino
        parent.mtime = time.time()
        return node

    # ---- FUSE operations ----------------------------------------------------

    def getattr(self, path, fh=None):
        with self._mutex:
            node = self._resolve(path)
            if node.is_dir:
                mode, size, nlink = stat.S_IFDIR | node.mode, 4096, 2
            else:
                mode, size, nlink = stat.S_IFREG | node.mode, os.fstat(self._fd(node.ino)).st_size, 1
            return {"st_mode": mode, "st_size": size, "st_nlink": nlink, "st_ino": node.ino,
                    "st_uid": os.getuid(), "st_gid": os.getgid(),
                    "st_atime": node.mtime, "st_mtime": node.mtime, "st_ctime": node.mtime}

    def readdir(self, path, fh):
        with self._mutex:
            return [".", ".."] + sorted(self._resolve(path).entries)

    def mkdir(self, path, mode):
        with self._mutex:
            self._new(path, True, mode)

    def create(self, path, mode, fi=None):
        with self._mutex:
            return self._new(path, False, mode).ino

    def open(self, path, flags):
        with self._mutex:
            node = self._resolve(path)
            if flags & os.O_TRUNC:
                self.truncate(path, 0)
            return node.ino

    def read(self, path, size, offset, fh):
        with self._mutex:
            return os.pread(self._fd(self._resolve(path).ino), size, offset)

    def write(self, path, data, offset, fh):
        with self._mutex:
            node = self._resolve(path)
            os.pwrite(self._fd(node.ino), data, offset)
            node.dirty.append(("w", offset, len(data)))
            node.mtime = time.time()
            return len(data)

    def truncate(self, path, length, fh=None):
        with self._mutex:
            node = self._resolve(path)
            os.ftruncate(self._fd(node.ino), length)
            node.dirty.append(("t", length))
            node.mtime = time.time()

    def fsync(self, path, datasync, fh):
        with self._mutex:
            self._sync_file(self._resolve(path))

    def fsyncdir(self, path, datasync, fh):
        with self._mutex:
            node = self._resolve(path)
            node.durable = dict(node.entries)
            self._save()

    def unlink(self, path):
        with self._mutex:
            parent, name = self._parent(path)
            if name not in parent.entries or self.nodes[parent.entries[name]].is_dir:
                raise FuseOSError(errno.ENOENT if name not in parent.entries else errno.EISDIR)
            del parent.entries[name]

    def rmdir(self, path):
        with self._mutex:
            parent, name = self._parent(path)
            node = self._resolve(path)
            if not node.is_dir:
                raise FuseOSError(errno.ENOTDIR)
            if node.entries:
                raise FuseOSError(errno.ENOTEMPTY)
            del parent.entries[name]

    def rename(self, old, new):
        with self._mutex:
            src_parent, src_name = self._parent(old)
            if src_name not in src_parent.entries:
                raise FuseOSError(errno.ENOENT)
            dst_parent, dst_name = self._parent(new)
            moving = self.nodes[src_parent.entries[src_name]]
            target = dst_parent.entries.get(dst_name)
            if target is not None and self.nodes[target].is_dir and self.nodes[target].entries:
                raise FuseOSError(errno.ENOTEMPTY)
            if target is not None and self.nodes[target].is_dir != moving.is_dir:
                raise FuseOSError(errno.EISDIR if moving.is_dir is False else errno.ENOTDIR)
            del src_parent.entries[src_name]
            dst_parent.entries[dst_name] = moving.ino

    def chmod(self, path, mode):
        with self._mutex:
            self._resolve(path).mode = mode & 0o7777

    def chown(self, path, uid, gid):
        with self._mutex:
            self._resolve(path)

    def utimens(self, path, times=None):
        with self._mutex:
            self._resolve(path).mtime = times[1] if times else time.time()

    def statfs(self, path):
        st = os.statvfs(self.backing)
        return {k: getattr(st, k) for k in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail",
                                             "f_files", "f_ffree", "f_favail", "f_namemax")}

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return 0

    def releasedir(self, path, fh):
        return 0

    def opendir(self, path):
        with self._mutex:
            if not self._resolve(path).is_dir:
                raise FuseOSError(errno.ENOTDIR)
            return 0

    def access(self, path, amode):
        with self._mutex:
            self._resolve(path)
            return 0


def copy_sparse(src, dst):
    """Copies src to dst keeping its holes (logs are preallocated sparse)."""
    with open(src, "rb") as s, open(dst, "wb") as d:
        size = os.fstat(s.fileno()).st_size
        off = 0
        while off < size:
            try:
                data = os.lseek(s.fileno(), off, os.SEEK_DATA)
            except OSError:
                break
            hole = os.lseek(s.fileno(), data, os.SEEK_HOLE)
            s.seek(data)
            d.seek(data)
            d.write(s.read(hole - data))
            off = hole
        d.truncate(size)


def main():
    backing, mountpoint = sys.argv[1], sys.argv[2]
    fs = PowerLossFs(backing)
    FUSE(fs, mountpoint, foreground=True, nothreads=False, big_writes=True)


if __name__ == "__main__":
    main()
