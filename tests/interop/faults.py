"""The fault-injection suite: real clients, real faults, checks on what was acknowledged.

One run, on one three-node ensemble (all ours, mixed Java 3.8.0 and ours,
or all Java as the control):

1. The peers start (test_election's Peer: loopback ports, tickTime 1000,
   syncLimit 2) and settle on a leader.
2. Workers (kazoo sessions, each starting on a different node, every node
   in its list) run a seeded mix of sequential creates with payloads unique
   to the op, compare-and-set on a counter (setData with the expected
   version; the data is "<new version>:<op id>"), reads of the counter and
   reads of their own acknowledged creates. Every op goes in the history
   (fault_history.py) with its start and end time and outcome.
3. Meanwhile the nemesis applies a schedule drawn from the seed: SIGKILL of
   the leader, of a follower, of two nodes or all three (quorum lost, then
   restarted), SIGSTOP of the leader or a follower for longer than syncLimit
   (then SIGCONT). After each fault every node is healed and the ensemble
   must settle again (one leader, two followers) before the next.
4. The workers stop; every node is read directly (after sync) and the
   history is checked: every acknowledged write on every node, none that
   failed definitely, none twice, nothing invented, the counter's versions
   each written by one cas from the version before, reads within a session
   never going back, the same data on every node, the same `hash` digests,
   no crashed node and no digest mismatch in our logs. The longest time
   without an acknowledged write is part of the figures.

A failed run prints its seed and writes its history (JSON lines) next to the
peers' logs; `python3 tests/interop/faults.py --check FILE` re-runs the
checks on it, and `--seed S` replays the same fault schedule.

Long form: scripts/faults.sh (many rounds, every ensemble kind).
Short form: tests/interop/test_faults.py (run by scripts/test.sh).
"""

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fault_disk import Storage  # noqa: E402
from fault_history import COUNTER, CREATE_DIR, History, cas_value, check, load  # noqa: E402
from test_zab_failover import differing_digests, hosts_of, wait_roles  # noqa: E402
from test_zab_learner import ZabPeer, client, report, wait_mode  # noqa: E402

SESSION_TIMEOUT = 10.0
OP_TIMEOUT = 12.0
SETTLE_TIMEOUT = 150.0  # a JVM restart and an election on a loaded 2-core machine
WORKERS = 3

ENSEMBLES = {
    "rust": [["rust", "rust", "rust"]],
    "mixed": [["rust", "rust", "java"], ["java", "java", "rust"]],
    "java": [["java", "java", "java"]],
}

PROCESS_KINDS = ("kill-leader", "kill-follower", "kill-two", "kill-all", "pause-leader", "pause-follower")
DISK_KINDS = ("disk-full-leader", "disk-full-follower")
NET_KINDS = ("partition-leader", "partition-follower", "partition-link")
POWER_KINDS = ("power-loss-leader", "power-loss-follower", "power-loss-all")
FAULT_KINDS = PROCESS_KINDS + DISK_KINDS + NET_KINDS + POWER_KINDS


# ---- the schedule ------------------------------------------------------------

def schedule(rng, count, kinds=FAULT_KINDS):
    """`count` faults drawn from `rng`: kind, which follower (an index into
    the sorted followers), how long to hold it, how long to let the
    workload run before it."""
    out = []
    for _ in range(count):
        kind = rng.choice(kinds)
        hold = rng.uniform(1.0, 6.0) if kind.startswith(("kill", "power")) else rng.uniform(4.0, 8.0)
        out.append({"kind": kind, "pick": rng.randrange(2), "with_leader": rng.random() < 0.5,
                    "hold": round(hold, 2), "before": round(rng.uniform(2.0, 5.0), 2),
                    "silent": rng.random() < 0.5})
    return out


def targets(fault, peers):
    """The peers a fault hits, resolved against the roles of the moment."""
    leader = wait_roles(peers, timeout=SETTLE_TIMEOUT)
    followers = sorted((p for p in peers if p is not leader), key=lambda p: p.sid)
    kind = fault["kind"]
    if kind.endswith("leader"):
        return [leader]
    if kind.endswith("follower"):
        return [followers[fault["pick"]]]
    if kind == "kill-two":
        return [leader, followers[fault["pick"]]] if fault["with_leader"] else followers
    if kind == "partition-link":
        return [leader, followers[fault["pick"]]]
    return list(peers)


# ---- the workload ------------------------------------------------------------

def classify(exc):
    """ok/fail/unknown for an exception from a kazoo call."""
    from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError
    if isinstance(exc, (BadVersionError, NoNodeError, NodeExistsError)):
        return "fail"
    return "unknown"


class Worker(threading.Thread):
    """One client session running the op mix until `stop` is set."""

    def __init__(self, name, hosts, history, seed, t0, stop):
        super().__init__(name="faults-" + name, daemon=True)
        from kazoo.client import KazooClient
        from kazoo.retry import KazooRetry
        self.tag = name
        self.history = history
        self.rng = random.Random(seed)
        self.t0 = t0
        self.stop = stop
        self.zk = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT, randomize_hosts=False,
                              connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=1.0))
        self.own = []  # (path, payload) of acknowledged creates
        self.crash = None

    def session(self):
        cid = self.zk.client_id
        return "0x%x" % cid[0] if cid else None

    def run(self):
        try:
            while not self.stop.is_set():
                if not self.zk.connected:
                    time.sleep(0.05)
                    continue
                x = self.rng.random()
                if x < 0.5:
                    self.create()
                elif x < 0.8:
                    self.cas()
                elif x < 0.9 or not self.own:
                    self.op({"f": "read"}, lambda: self.zk.get_async(COUNTER),
                            lambda r: [r[1].version, r[0].decode()])
                else:
                    path, payload = self.rng.choice(self.own)
                    self.op({"f": "read_own", "path": path, "payload": payload},
                            lambda: self.zk.get_async(path), lambda r: r[0].decode())
                time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - a bug of the workload itself fails the run
            self.crash = repr(e)

    def create(self):
        rec = {"f": "create"}
        rec["id"] = self.history.new_id()
        rec["payload"] = "c%d" % rec["id"]
        r = self.op(rec, lambda: self.zk.create_async(CREATE_DIR + "/n", rec["payload"].encode(), sequence=True),
                    lambda path: path)
        if r["outcome"] == "ok":
            self.own.append((r["result"], r["payload"]))

    def cas(self):
        rec = {"f": "read"}
        r = self.op(rec, lambda: self.zk.get_async(COUNTER), lambda r: [r[1].version, r[0].decode()])
        if r["outcome"] != "ok":
            return
        version = r["result"][0]
        rec = {"f": "cas", "from": version, "id": self.history.new_id()}
        data = cas_value(version + 1, rec["id"]).encode()
        self.op(rec, lambda: self.zk.set_async(COUNTER, data, version=version), lambda stat: stat.version)

    def op(self, rec, call, result):
        rec.setdefault("id", self.history.new_id())
        rec["proc"] = self.tag
        rec["session"] = self.session()
        rec["start"] = round(time.time() - self.t0, 4)
        try:
            rec["result"] = result(call().get(timeout=OP_TIMEOUT))
            rec["outcome"] = "ok"
        except Exception as e:  # noqa: BLE001 - every outcome is recorded
            from kazoo.exceptions import NoNodeError
            rec["outcome"] = classify(e)
            rec["error"] = type(e).__name__
            if rec["f"] == "read_own" and isinstance(e, NoNodeError):
                rec["outcome"], rec["result"] = "ok", None
        rec["end"] = round(time.time() - self.t0, 4)
        rec["session_end"] = self.session()
        self.history.add(rec)
        return rec


# ---- the run -----------------------------------------------------------------

def final_state(peer):
    """Every znode under CREATE_DIR (data, czxid, mzxid, version) and the
    counter, read through `peer` alone after sync."""
    zk = client(peer)
    try:
        from kazoo.exceptions import NoNodeError
        zk.sync("/")
        try:
            children, dir_stat = zk.get_children(CREATE_DIR, include_data=True)
            children = sorted(children)
            directory = [dir_stat.cversion, dir_stat.numChildren, dir_stat.pzxid]
        except NoNodeError:
            children, directory = [], None
        pending = [(c, zk.get_async(CREATE_DIR + "/" + c)) for c in children]
        nodes = {}
        for c, a in pending:
            data, stat = a.get(timeout=60)
            nodes[CREATE_DIR + "/" + c] = [data.decode(), stat.czxid, stat.mzxid, stat.version]
        try:
            data, stat = zk.get(COUNTER)
            counter = [stat.version, data.decode()]
        except NoNodeError:
            counter = None
        return {"f": "final", "sid": peer.sid, "kind": peer.kind, "nodes": nodes, "counter": counter,
                "dir": directory}
    finally:
        zk.stop()
        zk.close()


def apply(fault, hit, peers, net):
    silent = fault.get("silent", False)
    if fault["kind"] == "partition-link":
        net.cut(hit[0].sid, hit[1].sid, silent)
        return
    for p in hit:
        if fault["kind"].startswith("partition"):
            for q in peers:
                if q is not p:
                    net.cut(p.sid, q.sid, silent)
        elif fault["kind"].startswith("pause"):
            os.kill(p.proc.pid, signal.SIGSTOP)
        elif fault["kind"].startswith("disk-full"):
            p.storage.fill()
        elif fault["kind"].startswith("power-loss"):
            p.proc.kill()
            p.storage.power_off()
            p.proc.wait(10)
        else:
            p.proc.kill()
            p.proc.wait(10)


def heal(fault, hit, net):
    """Undoes a fault; a node that exited meanwhile (as a node whose disk
    filled may) is started again."""
    if fault["kind"].startswith("partition"):
        net.heal_all()
        return
    for p in hit:
        if fault["kind"].startswith("pause"):
            os.kill(p.proc.pid, signal.SIGCONT)
        elif fault["kind"].startswith("disk-full"):
            p.storage.free()
            if p.proc.poll() is not None:
                fault.setdefault("exited", []).append([p.sid, p.proc.returncode])
                p.start()
        elif fault["kind"].startswith("power-loss"):
            p.storage.mount()
            p.start()
        else:
            p.start()


def start_peers(peers, tmpfs, fuse):
    for p in peers:
        p.storage = Storage(p, tmpfs, fuse)
        p.storage.setup()
        p.write_config(peers)
    for p in peers:
        p.start()
    for p in peers:
        wait_mode(p, ["leader", "follower"], timeout=SETTLE_TIMEOUT)
    wait_roles(peers, timeout=SETTLE_TIMEOUT)
    return peers


def stop_peers(peers):
    for p in peers:
        if p.proc is not None and p.proc.poll() is None:
            os.kill(p.proc.pid, signal.SIGCONT)
        p.stop()


def run(kinds, seed, faults, workdir, fault_kinds=FAULT_KINDS, log=print, plan=None, java_client=None):
    """One run; returns (problems, figures, history path). The history is
    written to workdir/history.jsonl in every case. `plan` replaces the
    schedule drawn from the seed (a test of one fault). `java_client` adds
    a worker on the Java client (default: in mixed ensembles)."""
    if java_client is None:
        java_client = "java" in kinds and "rust" in kinds
    rng = random.Random(seed)
    drawn = schedule(rng, faults, fault_kinds)
    plan = drawn if plan is None else plan
    tmpfs = any(k in DISK_KINDS for k in fault_kinds)
    fuse = any(k in POWER_KINDS for k in fault_kinds)
    net = None
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    history = History()
    peers = []
    workers = []
    problems = []
    stop = threading.Event()
    log("faults: seed %d, fault kinds %s, ensemble %s, plan %s"
        % (seed, ",".join(fault_kinds), "+".join(kinds), json.dumps(plan)))
    try:
        if any(k in NET_KINDS for k in fault_kinds):
            from fault_net import Network, NsPeer
            net = Network()
            peers = [NsPeer(kind, sid, workdir / ("s%d-%s" % (sid, kind)), net)
                     for sid, kind in enumerate(kinds, start=1)]
        else:
            peers = [ZabPeer(kind, sid, workdir / ("s%d-%s" % (sid, kind))) for sid, kind in enumerate(kinds, start=1)]
        start_peers(peers, tmpfs, fuse)
        setup = client(peers[0])
        setup.ensure_path(CREATE_DIR)
        setup.create(COUNTER, cas_value(0, 0).encode())
        setup.stop()
        setup.close()
        t0 = time.time()  # the wall clock: the Java worker reads the same one
        for i in range(WORKERS):
            order = peers[i % len(peers):] + peers[:i % len(peers)]
            w = Worker("w%d" % i, hosts_of(order), history, rng.randrange(1 << 30), t0, stop)
            w.zk.start(timeout=60)
            workers.append(w)
        for w in workers:
            w.start()
        if java_client:
            from fault_java import JavaWorker
            workers.append(JavaWorker("j%d" % WORKERS, hosts_of(peers[::-1]), history, rng.randrange(1 << 30),
                                      t0, workdir))
        for n, fault in enumerate(plan):
            time.sleep(fault["before"])
            hit = targets(fault, peers)
            rec = {"f": "fault", "n": n, "kind": fault["kind"], "sids": [p.sid for p in hit],
                   "start": round(time.time() - t0, 4)}
            if fault["kind"].startswith("partition"):
                rec["silent"] = fault.get("silent", False)
            log("faults: %s%s on %s at %.1fs" % (fault["kind"], " (silent)" if rec.get("silent") else "",
                                                 rec["sids"], rec["start"]))
            apply(fault, hit, peers, net)
            time.sleep(fault["hold"])
            heal(fault, hit, net)
            rec["healed"] = round(time.time() - t0, 4)
            if "exited" in fault:
                rec["exited"] = fault.pop("exited")
                log("faults: peers that exited: %s" % rec["exited"])
            leader = wait_roles(peers, timeout=SETTLE_TIMEOUT)
            rec["settled"] = round(time.time() - t0, 4)
            rec["leader"] = leader.sid
            history.add(rec)
        time.sleep(3.0)  # writes after the last fault
        history.add({"f": "workload", "start": 0.0, "end": round(time.time() - t0, 4)})
        stop.set()
        for w in workers:
            if not isinstance(w, Worker):
                problem = w.stop()
                if problem:
                    problems.append(problem)
                continue
            w.join(OP_TIMEOUT * 3)
            if w.is_alive() or w.crash:
                problems.append("worker %s did not end cleanly: %s" % (w.tag, w.crash or "still running"))
            w.zk.stop()
            w.zk.close()
        workers = []
        wait_roles(peers, timeout=SETTLE_TIMEOUT)
        for p in peers:
            history.add(final_state(p))
        # Digests two nodes list for one zxid must agree; where only Java
        # peers disagree it is Java's, noted in the history and not counted
        # against ours (a Java 3.8.0 follower writes the new epoch and acks
        # NEWLEADER before its DIFF's txns reach the disk: killed then, its
        # replay after the restart misses them and computes other digests).
        # A Java peer that logged its own replay's digest mismatches is left
        # out of the comparison (noted): its digests are of that replay.
        kind_of = {p.sid: p.kind for p in peers}
        flagged = [p for p in peers if p.kind == "java" and "Digests are not matching" in p.text()]
        for p in flagged:
            history.add({"f": "note", "what": "Java peer %d logged digest mismatches in its replay" % p.sid})
        compared = [p for p in peers if p not in flagged]
        for zxid, digests in sorted(differing_digests(compared).items()):
            if any(kind_of[sid] == "rust" for sid in digests):
                problems.append("digests differ at zxid 0x%s: %r" % (zxid, digests))
            else:
                history.add({"f": "note", "what": "Java peers' digests differ", "zxid": zxid, "digests": digests})
        for p in peers:
            if p.proc.poll() is not None:
                problems.append("%s peer %d exited with %s" % (p.kind, p.sid, p.proc.returncode))
            text = p.text()
            if p.kind == "rust" and ("Digests are not matching" in text or "panicked" in text):
                problems.append("rust peer %d logged a digest mismatch or a panic" % p.sid)
    except BaseException as e:
        problems.append("run aborted: %s: %s" % (type(e).__name__, str(e)[:4000]))
        raise_later = e
    else:
        raise_later = None
    finally:
        stop.set()
        for w in workers:
            try:
                if isinstance(w, Worker):
                    w.zk.stop()
                    w.zk.close()
                else:
                    w.kill()
            except Exception:  # noqa: BLE001 - cleanup
                pass
        stop_peers(peers)
        for p in peers:
            if getattr(p, "storage", None) is not None:
                p.storage.teardown()
        if net is not None:
            net.close()
    found, figures = check(history.records)
    problems += found
    figures["problems"] = len(problems)
    figures["ensemble"] = "+".join(kinds)
    figures["seed"] = seed
    path = workdir / "history.jsonl"
    history.dump(path)
    if problems:
        path = keep(workdir, kinds, seed, history, peers)
    if isinstance(raise_later, (KeyboardInterrupt, SystemExit)):
        raise raise_later
    return problems, figures, path


def keep(workdir, kinds, seed, history, peers):
    """A failed run's history and logs, copied where no temp-dir rotation
    removes them (FAULTS_KEEP, default /tmp/zk-faults-failures); returns the
    history's path there."""
    import shutil
    dest = Path(os.environ.get("FAULTS_KEEP") or "/tmp/zk-faults-failures") / (
        "%s-seed%d-%s" % ("+".join(kinds), seed, time.strftime("%Y%m%dT%H%M%S")))
    dest.mkdir(parents=True, exist_ok=True)
    history.dump(dest / "history.jsonl")
    if peers:
        (dest / "peers.log").write_text(report(peers))
    for p in peers:
        try:
            shutil.copy(p.log, dest / ("peer%d-%s.log" % (p.sid, p.kind)))
        except OSError:
            pass
    return dest / "history.jsonl"


def describe(figures):
    java = " (%d ops by the Java client)" % figures["java_client_ops"] if figures.get("java_client_ops") else ""
    if figures.get("java_digest_notes"):
        java += ", %d notes on Java peers' digests" % figures["java_digest_notes"]
    return ("%(ensemble)s seed %(seed)d: %(faults)d faults %(fault_kinds)s, %(writes_acked)d writes acknowledged "
            "(creates %(creates)s, cas %(cas)s), %(reads_ok)d reads" % figures) + java + (
            ", longest time without an acknowledged write %(max_write_gap_s)ss, %(problems)d problems" % figures)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=None, help="first round's seed (default: random, printed)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per ensemble kind (seed, seed+1, ...)")
    ap.add_argument("--faults", type=int, default=6, help="faults per round")
    ap.add_argument("--ensembles", default="rust,mixed,java", help="comma list of rust, mixed, java")
    ap.add_argument("--fault-kinds", default=",".join(FAULT_KINDS),
                    help="comma list of fault kinds to draw from (%s)" % ", ".join(FAULT_KINDS))
    ap.add_argument("--out", default=None, help="directory for logs and histories (default: a temp dir)")
    ap.add_argument("--check", metavar="HISTORY", help="only re-run the checks on a saved history")
    args = ap.parse_args(argv)
    # SIGTERM unwinds like ^C: peers stopped, filesystems unmounted, namespaces deleted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import logging
    logging.basicConfig(level=logging.ERROR)  # kazoo's reconnect warnings are expected here
    if args.check:
        problems, figures = check(load(args.check))
        print(json.dumps(figures))
        for p in problems:
            print("PROBLEM: " + p)
        return 1 if problems else 0
    fault_kinds = tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip())
    unknown = set(fault_kinds) - set(FAULT_KINDS)
    if unknown:
        ap.error("unknown fault kinds: %s" % ", ".join(sorted(unknown)))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    out = Path(args.out or tempfile.mkdtemp(prefix="zk-faults-"))
    print("faults: seed %d, %d rounds x %d faults, logs and histories under %s" % (seed, args.rounds, args.faults, out))
    failed = []
    totals = {}
    for r in range(args.rounds):
        for name in [s.strip() for s in args.ensembles.split(",") if s.strip()]:
            s = seed + r
            kinds = random.Random(s).choice(ENSEMBLES[name])
            problems, figures, path = run(kinds, s, args.faults, out / ("%s-round%d" % (name, r)), fault_kinds)
            print("faults: " + describe(figures), flush=True)
            t = totals.setdefault(name, {"rounds": 0, "faults": 0, "writes_acked": 0, "problems": 0, "max_gap": 0.0})
            t["rounds"] += 1
            t["faults"] += figures["faults"]
            t["writes_acked"] += figures["writes_acked"]
            t["problems"] += len(problems)
            t["max_gap"] = max(t["max_gap"], figures["max_write_gap_s"] or 0.0)
            if problems:
                failed.append((name, s, path))
                for p in problems[:20]:
                    print("faults:   PROBLEM: " + p)
                print("faults:   history %s (replay: --seed %d --ensembles %s --rounds 1 --faults %d "
                      "--fault-kinds %s)" % (path, s, name, args.faults, ",".join(fault_kinds)))
    print("faults: totals")
    for name, t in totals.items():
        print("faults:   %-6s %d rounds, %d faults, %d writes acknowledged, %d problems, "
              "longest time without an acknowledged write %.2fs"
              % (name, t["rounds"], t["faults"], t["writes_acked"], t["problems"], t["max_gap"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
