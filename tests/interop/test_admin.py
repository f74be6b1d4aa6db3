"""The AdminServer: every command Java 3.8.0 has,
by primary name and alias, compared with Java on the same workload.

Java's AdminServer needs the servlet API jar, which Debian's stock
classpath lacks (there it silently does not start); these tests add it.
The JSON key sets (recursively) and the values that must match are
compared; the pretty-printed layout is checked on ours.
"""

import json
import socket
import urllib.error
import urllib.request

import pytest

import conftest
from conftest import ZkServer, free_port, JAVA_LIB

COMMANDS = {
    "configuration": ["conf", "config"], "connection_stat_reset": ["crst"],
    "connections": ["cons"], "dirs": [], "dump": [], "environment": ["env", "envi"],
    "get_trace_mask": ["gtmk"], "hash": [], "initial_configuration": ["icfg"],
    "is_read_only": ["isro"], "last_snapshot": ["lsnp"], "leader": ["lead"],
    "monitor": ["mntr"], "observer_connection_stat_reset": ["orst"], "observers": ["obsr"],
    "ruok": [], "server_stats": ["srvr"], "set_trace_mask": ["stmk"], "stat_reset": ["srst"],
    "stats": ["stat"], "system_properties": ["sysp"], "voting_view": [], "watches": ["wchc"],
    "watches_by_path": ["wchp"], "watch_summary": ["wchs"], "zabstate": [],
}


class AdminZkServer(ZkServer):
    """A server with the AdminServer on; Java gets the servlet API jar."""

    def command(self):
        cmd = super().command()
        if self.impl == "java":
            i = cmd.index("-cp") + 1
            cmd[i] += ":" + str(JAVA_LIB / "servlet-api.jar")
        return cmd


@pytest.fixture(scope="module")
def admin(impl, tmp_path_factory):
    from kazoo.client import KazooClient
    conftest.require_impl(impl)
    if impl == "java":
        conftest.need((JAVA_LIB / "servlet-api.jar").exists(),
                      "servlet-api.jar missing: Java's AdminServer cannot start")
    port = free_port()
    srv = AdminZkServer(impl, tmp_path_factory.mktemp("admin-%s" % impl), {
        "admin.enableServer": "true", "admin.serverPort": str(port),
        "admin.serverAddress": "127.0.0.1"})
    srv.start()
    srv.admin_port = port
    clients = []
    for _ in range(2):
        c = KazooClient(hosts=srv.hosts, timeout=10.0)
        c.start(timeout=30)
        clients.append(c)
    a, b = clients
    a.create("/adm", b"hello")
    a.create("/adm/b", b"x")
    a.create("/adme", b"", ephemeral=True)
    a.get("/adm", watch=lambda e: None)
    a.exists("/adm/b", watch=lambda e: None)
    b.get("/adm", watch=lambda e: None)
    srv.sessions = {c.client_id[0]: n for n, c in zip("AB", clients)}
    yield srv
    for c in clients:
        c.stop()
        c.close()
    srv.stop()


def get(srv, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (srv.admin_port, path), timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode(errors="replace")


def key_paths(value, prefix=""):
    """Every key path of a JSON value; numeric keys, paths and ids as '*'."""
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            name = "*" if k.lstrip("-").isdigit() or k.startswith("/") else k
            out.add(prefix + "." + name)
            out |= key_paths(v, prefix + "." + name)
    elif isinstance(value, list):
        for v in value:
            out |= key_paths(v, prefix + "[]")
    return out


def test_index_lists_every_command(admin, crosscheck):
    status, _, body = get(admin, "/commands")
    assert status == 200
    lines = body.splitlines()
    assert lines[1::2] == ["<br/>"] * len(COMMANDS)
    assert lines[0::2] == ['<a href="/commands/%s">%s</a>' % (n, n) for n in sorted(COMMANDS)]
    crosscheck.check("index", body)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_keys(admin, crosscheck, name):
    status, ctype, body = get(admin, "/commands/" + name)
    assert status == 200 and ctype.startswith("application/json"), (status, ctype)
    doc = json.loads(body)
    keys = list(doc)
    assert keys[-2:] in (["command", "error"], ["error", "command"]), keys
    assert doc["command"] == name
    # Same answer under every alias.
    for alias in COMMANDS[name]:
        aliased = json.loads(get(admin, "/commands/" + alias)[2])
        assert list(aliased) == keys and aliased["command"] == name, alias
    if name == "system_properties":
        # JVM properties: ours has no JVM (environment, like envi, keeps
        # Java's keys with values that say what ours is).
        crosscheck.check("error", doc["error"])
        return
    crosscheck.check("keys", (keys, sorted(key_paths(doc))))


def test_values_that_must_match(admin, crosscheck):
    def cmd(name):
        return json.loads(get(admin, "/commands/" + name)[2])
    named = lambda sid: admin.sessions.get(int(sid), "?")
    stats = cmd("server_stats")
    mntr = cmd("monitor")
    values = {
        "node_count": stats["node_count"],
        "zxid": stats["server_stats"]["last_processed_zxid"],
        "state": stats["server_stats"]["server_state"],
        "mntr": {k: mntr[k] for k in ("znode_count", "watch_count", "ephemerals_count",
                                      "approximate_data_size", "global_sessions",
                                      "server_state", "outstanding_requests")},
        "watch_summary": {k: v for k, v in cmd("watch_summary").items()},
        "watches": {named(k): sorted(v) for k, v in cmd("watches")["session_id_to_watched_paths"].items()},
        "by_path": {k: sorted(named(s) for s in v)
                    for k, v in cmd("watches_by_path")["path_to_session_ids"].items()},
        "ephemerals": {named(k): v for k, v in cmd("dump")["session_id_to_ephemeral_paths"].items()},
        "connections": sorted(named(c["session_id"]) for c in cmd("connections")["connections"]),
        "isro": cmd("is_read_only")["read_only"],
        "leader": cmd("leader"),
        "zabstate": cmd("zabstate"),
        "voting_view": cmd("voting_view"),
        "observers": cmd("observers"),
        "unknown": cmd("no_such_command"),
        "stmk_missing": cmd("set_trace_mask"),
        "stmk": cmd("set_trace_mask?traceMask=306"),
        "gtmk": cmd("gtmk"),
        "icfg_has_port": ("clientPort=%d" % admin.port) in cmd("icfg")["initial_configuration"],
    }
    assert values["watches"] == {"A": ["/adm", "/adm/b"], "B": ["/adm"]}
    assert values["ephemerals"] == {"A": ["/adme"]}
    assert values["connections"] == ["A", "B"]
    assert values["unknown"] == {"command": "no_such_command", "error": "Unknown command: no_such_command"}
    assert values["icfg_has_port"]
    crosscheck.check("values", values)


def test_not_found_outside_the_command_url(admin, crosscheck):
    status, _, _ = get(admin, "/nothing-here")
    assert status == 404
    crosscheck.check("404", status)


def test_pretty_layout(admin, crosscheck):
    """Jackson's pretty printer: ' : ' separators, 2-space indent, inline arrays."""
    _, _, body = get(admin, "/commands/connections")
    lines = body.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert lines[1] == '  "connections" : [ {'
    assert '  "secure_connections" : [ ],' in lines
    assert '  "error" : null' == lines[-2]
    crosscheck.check("layout", [l.split(" : ")[0] for l in lines if '"remote_socket_address"' in l][:1])


def test_bind_failure_exits_like_java(impl, tmp_path_factory, crosscheck):
    """Java 3.8.0 exits with code 4 ("Unable to start AdminServer") when the
    admin port is taken."""
    import subprocess
    conftest.require_impl(impl)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        srv = AdminZkServer(impl, tmp_path_factory.mktemp("admin-bind-%s" % impl), {
            "admin.enableServer": "true", "admin.serverPort": str(port),
            "admin.serverAddress": "127.0.0.1"})
        proc = subprocess.run(srv.command(), cwd=srv.workdir, capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    out = (proc.stdout + proc.stderr).decode(errors="replace")
    assert proc.returncode == 4, out[-2000:]
    assert "Unable to start AdminServer" in out
    crosscheck.check("exit", proc.returncode)
