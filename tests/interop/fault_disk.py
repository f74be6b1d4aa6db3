"""Where a fault-suite peer's dataDir lives, and the disk faults done to it.

`Storage(peer, tmpfs, fuse)`:
- plain: the dataDir is an ordinary directory;
- tmpfs: the dataDir is a tmpfs of its own (TMPFS_SIZE), which `fill()`
  fills to the last byte (disk full) and `free()` empties again;
- fuse: the dataDir is a power-loss filesystem (powerloss_fs.py) whose
  backing store is beside it; `power_off()` kills the filesystem's process
  and unmounts it, `mount()` serves again only what fsync made durable;
- both: the backing store of the power-loss filesystem is the tmpfs, so a
  full disk shows through the FUSE filesystem as it would through a real one.
Mounting needs root.
"""

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TMPFS_SIZE = "256m"
BALLAST = "ballast"


def fsync_path(path):
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Storage:
    def __init__(self, peer, tmpfs, fuse):
        self.peer = peer
        self.tmpfs = tmpfs
        self.fuse = fuse
        self.backing = peer.dir / "backing"
        self.disk = self.backing if fuse else peer.data  # the directory whose filesystem fills
        self.daemon = None
        self.mounted_tmpfs = False

    def setup(self):
        if (self.tmpfs or self.fuse) and os.geteuid() != 0:
            raise RuntimeError("disk-full and power-loss faults mount filesystems: run as root")
        self.backing.mkdir(exist_ok=True)
        (self.peer.data / "myid").unlink(missing_ok=True)  # written again below, durably
        if self.tmpfs:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE, "zk-faults", str(self.disk)],
                           check=True, capture_output=True)
            self.mounted_tmpfs = True
        if self.fuse:
            self.mount()
        myid = self.peer.data / "myid"
        with open(myid, "w") as f:
            f.write(str(self.peer.sid))
            f.flush()
            os.fsync(f.fileno())
        fsync_path(self.peer.data)

    def mount(self, timeout=30.0):
        log = open(self.peer.dir / "powerloss_fs.log", "ab")
        self.daemon = subprocess.Popen([sys.executable, str(HERE / "powerloss_fs.py"), str(self.backing),
                                        str(self.peer.data)], stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while not os.path.ismount(self.peer.data):
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the power-loss filesystem did not mount on %s (exit %s): %s" % (
                    self.peer.data, self.daemon.poll(),
                    (self.peer.dir / "powerloss_fs.log").read_text(errors="replace")[-2000:]))
            time.sleep(0.05)

    def power_off(self):
        """Whatever was not durable is gone (the peer's process is killed first)."""
        if self.daemon is not None:
            self.daemon.kill()
            self.daemon.wait(10)
            self.daemon = None
        subprocess.run(["umount", "-l", str(self.peer.data)], capture_output=True)

    def fill(self):
        """Fills the dataDir's filesystem to the last byte."""
        with open(self.disk / BALLAST, "wb", buffering=0) as f:
            for chunk in (1 << 20, 1 << 12, 1):
                block = b"\0" * chunk
                while True:
                    try:
                        f.write(block)
                    except OSError as e:
                        if e.errno != errno.ENOSPC:
                            raise
                        break

    def free(self):
        (self.disk / BALLAST).unlink()

    def teardown(self):
        if self.fuse:
            self.power_off()
        if self.mounted_tmpfs:
            subprocess.run(["umount", "-l", str(self.disk)], capture_output=True)
            self.mounted_tmpfs = False
