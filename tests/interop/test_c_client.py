"""Debian's C client (libzookeeper-mt) creating, reading and watching a node.

tests/interop/c/zk_c_smoke.c is compiled once per session with gcc against
the installed headers and library; its output (deterministic lines only) is
checked here and compared between implementations.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import HERE, need

# Every test runs against a standalone server and through a follower of
# a 3-node ensemble (conftest.EnsembleServer).
ZK_TOPOLOGIES = ("standalone", "ensemble")

SOURCE = HERE / "c" / "zk_c_smoke.c"
HEADER = Path("/usr/include/zookeeper/zookeeper.h")


@pytest.fixture(scope="session")
def c_smoke(tmp_path_factory):
    need(shutil.which("gcc") is not None, "gcc not installed")
    need(HEADER.exists(), "libzookeeper-mt-dev not installed (%s)" % HEADER)
    out = tmp_path_factory.mktemp("c-client") / "zk_c_smoke"
    proc = subprocess.run(["gcc", "-O1", "-Wall", "-DTHREADED", "-o", str(out), str(SOURCE),
                           "-lzookeeper_mt", "-lpthread"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, "gcc failed:\n" + proc.stdout
    return out


def test_c_client_create_read_watch(zk, c_smoke, crosscheck):
    proc = subprocess.run([str(c_smoke), zk.hosts, "/c_smoke"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    out = proc.stdout.splitlines()
    assert proc.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (
        proc.returncode, proc.stdout, proc.stderr[-3000:])
    assert out[0] == "connected"
    assert "negotiated timeout=10000" in out
    assert "created /c_smoke" in out
    assert "created /c_smoke/seq-0000000000" in out
    assert "data=hello" in out and "data=world" in out
    assert ("stat version=0 cversion=0 aversion=0 dataLength=5 numChildren=0 "
            "czxid==mzxid:1 pzxid>=czxid:1 ephemeral:0") in out
    assert ("stat version=1 cversion=2 aversion=0 dataLength=5 numChildren=2 "
            "czxid==mzxid:0 pzxid>=czxid:1 ephemeral:0") in out
    assert "ephemeral stat version=0 cversion=0 aversion=0 dataLength=1 numChildren=0 " \
           "czxid==mzxid:1 pzxid>=czxid:1 ephemeral:1" in out
    # ZOO_CHANGED_EVENT 3, ZOO_CREATED_EVENT 1, ZOO_CHILD_EVENT 4; SyncConnected 3
    assert out.index("event data type=3 state=3 path=/c_smoke") < \
        out.index("event exists type=1 state=3 path=/c_smoke/new")
    assert "event child type=4 state=3 path=/c_smoke" in out
    assert "children: new seq-0000000000" in out
    assert "null data len=-1" in out
    assert out[-1] == "done failures=0"
    crosscheck.check("output", out)
