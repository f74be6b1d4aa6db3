"""The fault suite's history and its checker (pure code, no servers).

A run of the fault suite (faults.py) records every client operation as one
dict, appended to a `History` as JSON-serialisable values:

  {"id": 17, "proc": "w1", "f": "create", "start": 3.52, "end": 3.55,
   "session": "0x1000...", "session_end": "0x1000...", "outcome": "ok",
   "payload": "c17:s42", "result": "/faults/w/n0000000012"}

`f` is one of
  create    a sequential create under /faults/w with a payload unique to the op
  cas       setData on /faults/counter with the expected version `from`; the
            data written is "<from+1>:<id>", so value == version at every read
            and every version names the op that wrote it; result: new version
  read      a read of the counter; result: [version, data]
  read_own  a read of one of this proc's own acknowledged creates
            (`path`, `payload`); result: the data or None (no node)
and `outcome` is ok (acknowledged), fail (the server answered an error: the
op did not happen) or unknown (connection loss, timeout, session expiry:
it may or may not have happened).

Fault events (`f` = "fault"), the workload's time span (`f` = "workload")
and, after the run, one `f` = "final" record per node (every znode under
/faults/w with its data, czxid, mzxid, version; the counter) complete the
history. `check(records)` returns the problems found
and the run's figures; it is what the suite asserts on, and what
`faults.py --check FILE` re-runs on a saved history.
"""

import json

CREATE_DIR = "/faults/w"
COUNTER = "/faults/counter"


class History:
    """Thread-safe append-only list of op records, written as JSON lines."""

    def __init__(self):
        import threading
        self._lock = threading.Lock()
        self.records = []
        self._next = 0

    def new_id(self):
        with self._lock:
            self._next += 1
            return self._next

    def add(self, record):
        with self._lock:
            self.records.append(record)

    def dump(self, path):
        with open(path, "w") as f:
            for r in self.records:
                f.write(json.dumps(r, sort_keys=True) + "\n")


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cas_value(version, op_id):
    return "%d:%d" % (version, op_id)


def parse_cas_value(data):
    """(number, op id) from counter data, or None when it is not of that form."""
    try:
        num, op = data.split(":")
        return int(num), int(op)
    except (AttributeError, ValueError):
        return None


def seq_of(path):
    return int(path[-10:])


def max_gap(ack_times, start, end):
    """Longest stretch of [start, end] without an acknowledgement (seconds)."""
    points = [start] + sorted(t for t in ack_times if start <= t <= end) + [end]
    return max(b - a for a, b in zip(points, points[1:]))


def check(records):
    """(problems, figures) for one run's records."""
    problems = []
    ops = [r for r in records if r["f"] in ("create", "cas", "read", "read_own")]
    finals = [r for r in records if r["f"] == "final"]
    faults = [r for r in records if r["f"] == "fault"]
    by_id = {r["id"]: r for r in ops}
    creates = [r for r in ops if r["f"] == "create"]
    cases = [r for r in ops if r["f"] == "cas"]
    if not finals:
        problems.append("no final state was read from any node")

    # -- creates: every acknowledged one on every node, once; no failed one; nothing invented
    by_payload = {r["payload"]: r for r in creates}
    for fin in finals:
        where = "node %s" % fin["sid"]
        nodes = fin["nodes"]
        seen = {}
        for path, (data, _czxid, _mzxid, _version) in nodes.items():
            seen.setdefault(data, []).append(path)
        for data, paths in sorted(seen.items()):
            op = by_payload.get(data)
            if op is None:
                problems.append("%s: %s holds %r, which no create wrote" % (where, paths, data))
            elif len(paths) > 1:
                problems.append("%s: create %d applied %d times: %s" % (where, op["id"], len(paths), sorted(paths)))
            elif op["outcome"] == "fail":
                problems.append("%s: create %d failed (%s) but %s holds its payload"
                                % (where, op["id"], op.get("error"), paths[0]))
            elif op["outcome"] == "ok" and paths[0] != op["result"]:
                problems.append("%s: create %d was acknowledged as %s but its payload is at %s"
                                % (where, op["id"], op["result"], paths[0]))
        if fin.get("dir") is not None and fin["dir"][1] != len(nodes):
            problems.append("%s: %s counts %d children, lists %d" % (where, CREATE_DIR, fin["dir"][1], len(nodes)))
        lost = [r for r in creates if r["outcome"] == "ok" and r["payload"] not in seen]
        if lost:
            problems.append("%s: %d acknowledged creates missing, e.g. %s"
                            % (where, len(lost), ["%d %s" % (r["id"], r["result"]) for r in lost[:5]]))
    # Writes are linearizable: an acknowledged create that ended before
    # another began has the smaller sequence number (one parent, no deletes).
    acked = sorted((r for r in creates if r["outcome"] == "ok"), key=lambda r: r["end"])
    for a, b in _real_time_pairs(acked):
        if seq_of(a["result"]) >= seq_of(b["result"]):
            problems.append("create %d (%s, acknowledged at %.3f) ordered after create %d (%s, started %.3f)"
                            % (a["id"], a["result"], a["end"], b["id"], b["result"], b["start"]))

    # -- the counter
    writer_of = {}  # version -> op id, from every observation
    def observe(version, op_id, where):
        if version == 0:
            return
        prev = writer_of.setdefault(version, op_id)
        if prev != op_id:
            problems.append("counter version %d written by both op %d and op %d (%s)" % (version, prev, op_id, where))
    for r in cases:
        if r["outcome"] == "ok":
            if r["result"] != r["from"] + 1:
                problems.append("cas %d from version %d acknowledged with version %s"
                                % (r["id"], r["from"], r["result"]))
            observe(r["result"], r["id"], "cas %d" % r["id"])
    froms = {}
    for r in cases:
        if r["outcome"] == "ok":
            froms.setdefault(r["from"], []).append(r["id"])
    for v, ids in sorted(froms.items()):
        if len(ids) > 1:
            problems.append("two acknowledged cas from version %d: ops %s" % (v, ids))
    reads = [r for r in ops if r["f"] == "read" and r["outcome"] == "ok"]
    observations = [(r["result"][0], r["result"][1], "read %d" % r["id"]) for r in reads]
    observations += [(f["counter"][0], f["counter"][1], "node %s after the run" % f["sid"]) for f in finals
                     if f["counter"] is not None]
    problems += ["node %s: the counter is gone" % f["sid"] for f in finals if f["counter"] is None]
    for version, data, where in observations:
        parsed = parse_cas_value(data)
        if parsed is None or parsed[0] != version:
            problems.append("%s: counter data %r at version %d" % (where, data, version))
            continue
        observe(version, parsed[1], where)
    for version, op_id in sorted(writer_of.items()):
        op = by_id.get(op_id)
        if op is None or op["f"] != "cas" or op["from"] != version - 1:
            problems.append("counter version %d names op %d, which was no cas from version %d"
                            % (version, op_id, version - 1))
        elif op["outcome"] == "fail":
            problems.append("cas %d failed (%s) but counter version %d holds it" % (op_id, op.get("error"), version))
    acked_cas = sorted((r for r in cases if r["outcome"] == "ok"), key=lambda r: r["end"])
    for a, b in _real_time_pairs(acked_cas):
        if a["result"] >= b["result"]:
            problems.append("cas %d (version %d, acknowledged at %.3f) ordered after cas %d (version %d, started %.3f)"
                            % (a["id"], a["result"], a["end"], b["id"], b["result"], b["start"]))
    top = max((r["result"] for r in acked_cas), default=0)
    for f in finals:
        if f["counter"] is not None and f["counter"][0] < top:
            problems.append("node %s: counter at version %d after the run, %d was acknowledged"
                            % (f["sid"], f["counter"][0], top))

    # -- per session: reads never go back, a session reads its own writes
    problems += _session_order(ops, by_payload)

    # -- every node the same
    if finals:
        first = finals[0]
        for f in finals[1:]:
            if f.get("dir") != first.get("dir"):
                problems.append("node %s: %s (cversion, numChildren, pzxid) %r, node %s: %r"
                                % (f["sid"], CREATE_DIR, f.get("dir"), first["sid"], first.get("dir")))
            if f["nodes"] != first["nodes"] or f["counter"] != first["counter"]:
                diff = sorted(set(f["nodes"]) ^ set(first["nodes"]))
                changed = sorted(p for p in set(f["nodes"]) & set(first["nodes"]) if f["nodes"][p] != first["nodes"][p])
                problems.append("node %s differs from node %s: %d paths on one only (e.g. %s), %d differ (e.g. %s), "
                                "counter %r vs %r" % (f["sid"], first["sid"], len(diff), diff[:3], len(changed),
                                                     changed[:3], f["counter"], first["counter"]))

    acks = [r["end"] for r in ops if r["f"] in ("create", "cas") and r["outcome"] == "ok"]
    window = [r for r in records if r["f"] == "workload"]
    start = min([r["start"] for r in ops + window], default=0.0)
    end = max([r["end"] for r in ops + window], default=0.0)
    figures = {
        "faults": len(faults),
        "fault_kinds": sorted({f["kind"] for f in faults}),
        "ops": len(ops),
        "writes_acked": len(acks),
        "creates": _outcomes(creates),
        "cas": _outcomes(cases),
        "java_client_ops": sum(1 for r in ops if r["proc"].startswith("j")),
        "reads_ok": len(reads) + sum(1 for r in ops if r["f"] == "read_own" and r["outcome"] == "ok"),
        "max_write_gap_s": round(max_gap(acks, start, end), 2) if end > start else None,
        "java_digest_notes": sum(1 for r in records if r["f"] == "note"),
        "problems": len(problems),
    }
    return problems, figures


def _outcomes(rs):
    out = {"ok": 0, "fail": 0, "unknown": 0}
    for r in rs:
        out[r["outcome"]] += 1
    return out


def _real_time_pairs(acked):
    """(a, b) with a acknowledged before b started, a the latest such op for
    each b: enough to check a total order that must respect real time."""
    by_start = sorted(acked, key=lambda r: r["start"])
    i, best = 0, None
    for b in by_start:
        while i < len(acked) and acked[i]["end"] < b["start"]:
            a = acked[i]
            if best is None or _key(a) > _key(best):
                best = a
            i += 1
        if best is not None:
            yield best, b


def _key(r):
    return seq_of(r["result"]) if r["f"] == "create" else r["result"]


def _session_order(ops, by_payload):
    """Within one session (same id when each op began and ended), counter
    versions seen never decrease and a read of an own acknowledged create
    finds it."""
    problems = []
    last = {}   # session -> (version, op id)
    acked_in = {}  # payload -> session of its acknowledgement
    for r in sorted(ops, key=lambda r: (r["proc"], r["start"])):
        s = r.get("session")
        if not s or s != r.get("session_end") or r["outcome"] != "ok":
            continue
        if r["f"] == "create":
            acked_in[r["payload"]] = s
            continue
        if r["f"] == "read_own":
            if acked_in.get(r["payload"]) == s and r["result"] != r["payload"]:
                problems.append("read %d: session %s read %r at %s, which it created with %r"
                                % (r["id"], s, r["result"], r["path"], r["payload"]))
            continue
        version = r["result"] if r["f"] == "cas" else r["result"][0]
        prev = last.get(s)
        if prev is not None and version < prev[0]:
            problems.append("session %s went back: op %d saw counter version %d after op %d saw %d"
                            % (s, r["id"], version, prev[1], prev[0]))
        last[s] = (version, r["id"])
    return problems
