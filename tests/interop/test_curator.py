"""Curator 5.4's recipes (Debian's jars) against Java 3.8.0 and against ours.

`java/CuratorRecipes.java` runs InterProcessMutex and InterProcessSemaphoreV2
under contention, LeaderLatch and LeaderSelector with the leader's session
killed, CuratorCache and TreeCache events, an ephemeral PersistentNode across
a session loss, DistributedAtomicLong, SharedCount, DistributedQueue,
ServiceDiscovery (curator-x-discovery), transactions with a failing op and,
on the ensemble, Curator's EnsembleTracker (the membership it reads from
/zookeeper/config), and prints what each one observed as normalized lines. Each implementation
runs it standalone and on a 3-member ensemble through a follower; the lines
must be the same as Java's, and Java's must be the outcomes the recipes
promise (EXPECTED: a test that compared two broken runs would pass).
"""

import subprocess

import pytest

from conftest import HERE, JAVA_LIB, ZkServer, need, require_impl
from test_zab_learner import ZabPeer, report, start_ensemble, stop_all

JARS = ["curator-client", "curator-framework", "curator-recipes", "curator-x-discovery", "zookeeper",
        "zookeeper-jute", "guava", "slf4j-api", "slf4j-nop", "jackson-databind", "jackson-core",
        "jackson-annotations"]
FOLLOWER, LEADER = 1, 3

P = "/recipes/"
EXPECTED = [
    "mutex: acquisitions=20 max_holders=1 counter=20 reentrant=true other_while_held=false "
    "other_after_release=true lock_nodes_left=0",
    "semaphore: acquisitions=20 max_holders=2 two_at_once=true third_when_full=false leases_left=0",
    "leader_latch: leader=p0 participants=[p0*, p1, p2]",
    "leader_latch: after_kill leader=p1 participants=[p1*, p2, p0] p0_leads=false p2_leads=false",
    "leader_latch: after_close leader=p2 participants=[p2*, p0]",
    "leader_selector: leaders=[p0] participants=[p0*, p1, p2]",
    "leader_selector: after_kill leaders=[p0, p1] participants=[p1*, p2, p0]",
    "leader_selector: after_close leaders=[p0, p1, p2] participants=[p2*, p0]",
    "curator_cache: initial=[created {0}curator_cache root, created {0}curator_cache/pre p]",
    "curator_cache: events=[created {0}curator_cache/a 1, created {0}curator_cache/m0 m, "
    "changed {0}curator_cache/a 1->2 v0->v1, created {0}curator_cache/m1 m, created {0}curator_cache/a/b x, "
    "created {0}curator_cache/m2 m, changed {0}curator_cache root->root2 v0->v1, created {0}curator_cache/m3 m, "
    "deleted {0}curator_cache/a/b x, created {0}curator_cache/m4 m, deleted {0}curator_cache/a 2, "
    "created {0}curator_cache/m5 m]",
    "curator_cache: cached=[{0}curator_cache/m0=m, {0}curator_cache/m1=m, {0}curator_cache/m2=m, "
    "{0}curator_cache/m3=m, {0}curator_cache/m4=m, {0}curator_cache/m5=m, {0}curator_cache/pre=p, "
    "{0}curator_cache=root2]",
    "tree_cache: initial=[NODE_ADDED {0}tree_cache root, NODE_ADDED {0}tree_cache/pre p]",
    "tree_cache: events=[NODE_ADDED {0}tree_cache/a 1, NODE_ADDED {0}tree_cache/m0 m, "
    "NODE_UPDATED {0}tree_cache/a 2, NODE_ADDED {0}tree_cache/m1 m, NODE_ADDED {0}tree_cache/a/b x, "
    "NODE_ADDED {0}tree_cache/m2 m, NODE_UPDATED {0}tree_cache root2, NODE_ADDED {0}tree_cache/m3 m, "
    "NODE_REMOVED {0}tree_cache/a/b x, NODE_ADDED {0}tree_cache/m4 m, NODE_REMOVED {0}tree_cache/a 2, "
    "NODE_ADDED {0}tree_cache/m5 m]",
    "tree_cache: children=[m0, m1, m2, m3, m4, m5, pre]",
    "persistent_node: created=true owner_is_session=true",
    "persistent_node: recreated_after_session_loss=true data=world actual_path={0}persistent_node/node",
    "persistent_node: deleted_on_close=true",
    "atomic_long: succeeded=30 value=30 cas=true:100 stale_cas=false subtract=100->42",
    "shared_count: seen=[5, 6] try_set=true stale_try_set=false b=6 version=2",
    "queue: consumed=[item-0, item-1, item-2, item-3, item-4, item-5, item-6, item-7, item-8, item-9, "
    "item-10] left=0",
    "discovery: names=[api, worker] api=[i1@10.0.0.1:8080, i2@10.0.0.2:8081] worker=[w1@10.0.0.3:9000]",
    "discovery: after_kill api=[i1@10.0.0.1:8080, i2@10.0.0.2:8081] worker=[]",
    "transaction: ok=[CREATE {0}transaction/a -> {0}transaction/a err=0, "
    "CREATE {0}transaction/seq- -> {0}transaction/seq-0000000001 err=0, SET_DATA {0}transaction -> null err=0 v1, "
    "CHECK {0}transaction -> null err=0, DELETE {0}transaction/a -> null err=0]",
    # The ops before the failing one are rolled back (0), the failing one
    # has its code (-101 NONODE), the ones after it -2 (RUNTIMEINCONSISTENCY).
    "transaction: failed code=NONODE path=null results=[error:0, error:0, error:-101, error:-2]",
    "transaction: bad_version code=BADVERSION path=null",
    "transaction: after data=t1 version=1 children=[seq-0000000001]",
]
EXPECTED = [line.format(P) for line in EXPECTED]
# Curator's EnsembleTracker on a 3-member ensemble whose server lines name
# the client addresses: it reads /zookeeper/config and connects to all three.
EXPECTED_TRACKER = [
    "ensemble_tracker: members=[1:PARTICIPANT@127.0.0.1 client, 2:PARTICIPANT@127.0.0.1 client, "
    "3:PARTICIPANT@127.0.0.1 client] voting=3 version=0x0 config_lines=4 connect_hosts=3",
]

# Per topology, the lines each implementation printed (Java runs first).
OBSERVED = {}


@pytest.fixture(scope="module")
def curator_classpath(tmp_path_factory):
    """Compiles CuratorRecipes.java against Debian's Curator 5.4 jars."""
    jars = [JAVA_LIB / ("%s.jar" % j) for j in JARS]
    missing = [str(j) for j in jars if not j.exists()]
    need(not missing, "Curator jars missing (apt-get install libcurator-recipes-java "
                      "libcurator-discovery-java): %s" % missing)
    out = tmp_path_factory.mktemp("curator-recipes-classes")
    cp = ":".join(str(j) for j in jars)
    subprocess.run(["javac", "-nowarn", "-d", str(out), "-cp", cp, str(HERE / "java" / "CuratorRecipes.java")],
                   check=True, capture_output=True)
    return "%s:%s" % (out, cp)


SCENARIOS = ["mutex", "semaphore", "leader_latch", "leader_selector", "curator_cache", "tree_cache",
             "persistent_node", "atomic_long", "shared_count", "queue", "discovery", "transaction"]


def run_recipes(classpath, connect, what, log_tail, scenarios=SCENARIOS):
    cmd = ["java", "-Xmx192m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classpath, "CuratorRecipes",
           connect, ",".join(scenarios)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, "%s: exit %d\n%s\n%s\n%s" % (what, done.returncode, done.stdout,
                                                              done.stderr[-3000:], log_tail())
    return done.stdout.splitlines()


def compare(topology, impl, lines, log_tail, expected=EXPECTED):
    OBSERVED.setdefault(topology, {})[impl] = lines
    if impl == "java":
        assert lines == expected, "Java 3.8.0 %s: the recipes did not behave as expected:\n%s" % (
            topology, "\n".join(lines))
    else:
        reference = OBSERVED[topology].get("java", EXPECTED)
        diff = ["java: %s\n%s: %s" % (a, impl, b) for a, b in zip(reference, lines) if a != b]
        assert lines == reference, "%s %s differs from Java 3.8.0:\n%s\n%s" % (
            impl, topology, "\n".join(diff) or "\n".join(lines), log_tail())


def test_recipes_standalone(impl, curator_classpath, tmp_path):
    require_impl(impl)
    srv = ZkServer(impl, tmp_path / impl)
    srv.start()
    try:
        lines = run_recipes(curator_classpath, srv.hosts, "%s standalone" % impl, srv.log_tail)
    finally:
        srv.stop()
    compare("standalone", impl, lines, srv.log_tail)


def test_recipes_through_a_follower(impl, curator_classpath, tmp_path):
    require_impl(impl)
    peers = [ZabPeer(impl, sid, tmp_path / ("s%d" % sid)) for sid in (1, 2, 3)]
    try:
        start_ensemble(peers, LEADER)
        follower = peers[FOLLOWER - 1]
        lines = run_recipes(curator_classpath, "127.0.0.1:%d" % follower.client_port,
                            "%s ensemble, follower %d" % (impl, FOLLOWER), lambda: report(peers))
        compare("ensemble", impl, lines, lambda: report(peers)[-8000:])
    finally:
        stop_all(peers)


class TrackedPeer(ZabPeer):
    """A member whose server lines carry the client address
    (`server.N=host:quorum:election;host:client`), which is what Curator's
    EnsembleTracker turns into a connect string."""

    def write_config(self, peers):
        super().write_config(peers)
        text = self.cfg.read_text()
        for p in peers:
            line = "server.%d=127.0.0.1:%d:%d" % (p.sid, p.quorum_port, p.election_port)
            text = text.replace(line + "\n", "%s;127.0.0.1:%d\n" % (line, p.client_port))
        self.cfg.write_text(text)


def test_ensemble_tracker(impl, curator_classpath, tmp_path):
    require_impl(impl)
    peers = [TrackedPeer(impl, sid, tmp_path / ("s%d" % sid)) for sid in (1, 2, 3)]
    try:
        start_ensemble(peers, LEADER)
        follower = peers[FOLLOWER - 1]
        lines = run_recipes(curator_classpath, "127.0.0.1:%d" % follower.client_port,
                            "%s ensemble tracker" % impl, lambda: report(peers), ["ensemble_tracker"])
        compare("tracker", impl, lines, lambda: report(peers)[-8000:], EXPECTED_TRACKER)
    finally:
        stop_all(peers)
