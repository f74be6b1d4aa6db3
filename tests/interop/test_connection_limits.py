"""The client connection limit our server derives from the machine (issue
15): it raises the soft open-file limit to the hard one at startup, logs
the limit with the setting that binds it and what to raise, and at the
limit refuses each new connection with a log line instead of running out
of descriptors or threads (which would abort the process).

Our server only: Java's NIO server needs no thread per connection, raises
the limit silently (the JVM's MaxFDLimit) and has no such log line. The
server runs under prlimit with open files soft 100, hard 400: the limit
is then 400 minus the 256 descriptors kept for logs, snapshots and
quorum sockets."""

import re
import shutil
import time

import pytest

from conftest import ZkServer, need
from rawzk import RawZk

HARD = 400
LIMIT = HARD - 256


class LimitedServer(ZkServer):
    def command(self):
        return ["prlimit", "--nofile=100:%d" % HARD, "--"] + super().command()


@pytest.fixture
def server(tmp_path):
    need(shutil.which("prlimit") is not None, "prlimit (util-linux) not installed")
    srv = LimitedServer("rust", tmp_path, {"maxClientCnxns": "0"})
    srv.start()
    yield srv
    srv.stop()


def wait_for_log(srv, pattern, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, srv.log_path.read_text(errors="replace"))
        if m:
            return m
        time.sleep(0.1)
    pytest.fail("no log line matching %r; log:\n%s" % (pattern, srv.log_tail()))


def test_startup_raises_the_fd_limit_and_logs_the_connection_limit(server):
    wait_for_log(server, r"raised the open-file limit from 100 to %d" % HARD)
    line = wait_for_log(server, r"client connection limit: (\d+) .*bound by open files.*raise (.*)")
    assert int(line.group(1)) == LIMIT, line.group(0)
    assert "vm.max_map_count" in line.group(2) and "kernel.pid_max" in line.group(2), line.group(0)


def test_at_the_limit_new_connections_are_refused_and_the_server_lives_on(server):
    held = []
    try:
        for _ in range(LIMIT):
            c = RawZk("127.0.0.1", server.port)
            c.connect()
            assert c.session_id, "a session below the limit was refused"
            held.append(c)
        refused = []
        for _ in range(5):
            c = RawZk("127.0.0.1", server.port, sock_timeout=5.0)
            refused.append(c.is_closed(wait=5.0))
        assert all(refused), refused
        wait_for_log(server, r"Too many connections: refusing .* with %d open, the client "
                             r"connection limit \(bound by open files" % LIMIT)
        assert server.proc.poll() is None, server.log_tail()
        # Room again once some close: the server serves new sessions.
        for c in held[:3]:
            c.sock.close()
        held = held[3:]
        time.sleep(1.0)
        c = RawZk("127.0.0.1", server.port)
        c.connect()
        assert c.session_id
        held.append(c)
    finally:
        for c in held:
            c.sock.close()
