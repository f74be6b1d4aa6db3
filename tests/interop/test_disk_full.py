"""A full disk under the txn log: the server stops (exit code 1,
the OS error named in the log) instead of acknowledging what it could not
make durable, and every acknowledged write is there when the dataDir is
served again, by our server and by Java 3.8.0.

The dataDir is a 1 MiB tmpfs the test mounts (root).
"""

import os
import shutil
import subprocess
import time

import pytest

import rawzk as Z
from conftest import RUST_BIN, ZkServer, java_available, need
from rawzk import RawZk


@pytest.fixture
def small_disk(tmp_path):
    need(os.geteuid() == 0, "mounting a tmpfs needs root")
    mnt = tmp_path / "ours" / "data"
    mnt.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_stops_the_server_and_loses_nothing_acknowledged(tmp_path, small_disk):
    need(RUST_BIN.is_file(), "our binary %s is not built" % RUST_BIN)
    need(java_available(), "Java ZooKeeper not installed")
    cfg = {"preAllocSize": "16", "snapCount": "100000", "maxSessionTimeout": "60000"}
    srv = ZkServer("rust", tmp_path / "ours", cfg)
    assert srv.data_dir == small_disk
    srv.start()
    acked = {}
    try:
        c = RawZk("127.0.0.1", srv.port, sock_timeout=10).connect(timeout_ms=30000)
        for i in range(400):
            path, data = "/n%04d" % i, os.urandom(8000)
            try:
                c.create(path, data)
            except (Z.ZkError, Z.ConnectionClosed, OSError):
                break
            acked[path] = data
        deadline = time.monotonic() + 30
        while srv.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        code = srv.proc.poll()
    finally:
        srv.stop()
    log = srv.log_path.read_text(errors="replace")
    assert code == 1, "exit code %r; log:\n%s" % (code, log[-3000:])
    assert "No space left on device" in log and "Severe unrecoverable error" in log
    assert 20 < len(acked) < 400

    # Served again from a copy on a disk with room: ours, then Java's.
    copy = tmp_path / "copy"
    shutil.copytree(small_disk, copy / "data")
    for impl in ("rust", "java"):
        again = ZkServer(impl, copy, cfg)
        again.start()
        try:
            r = RawZk("127.0.0.1", again.port).connect()
            for path, data in acked.items():
                assert r.get_data(path)[0] == data, "%s lost %s" % (impl, path)
            r.close_session()
        finally:
            again.stop()
