"""Smoke run of scripts/bench.sh's ensemble mode: three nodes of
Java and of ours, every new case at a tiny size, once each.

Asserts only that the tool works: every run completes, reports no errors,
and measures what its case is about (the leader was killed and every
session came back, the new follower served, every notification arrived,
the sessions asked for were held and the server survived), and that the
comparison table shows the ratios. Never on speed: figures come from full
runs of scripts/bench.sh, not from tests."""

import json
import os
import subprocess

import pytest

from conftest import IMPLS, JVM_FLAGS, REPO, RUST_BIN, require_impl

SIZES = {"ENS_SESSIONS": "60", "SNAP_COUNT": "2000", "WATCH_SESSIONS": "8",
         "WATCH_COUNT": "400", "MAX_SESSIONS": "100", "DURATION": "1", "WARMUP": "1"}
CASES = "create,failover,snap-sync,watches,sessions-max"


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    for impl in IMPLS:
        require_impl(impl)
    out = tmp_path_factory.mktemp("bench-ensemble")
    env = dict(os.environ, SKIP_BUILD="1", ZK_RUST_BIN=str(RUST_BIN),
               JAVA_FLAGS=" ".join(JVM_FLAGS), **SIZES)
    proc = subprocess.run(
        [str(REPO / "scripts" / "bench.sh"), "--ensemble", "3", "--quick", "--only", CASES,
         "--impls", ",".join(IMPLS), "--out", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    text = proc.stdout.decode(errors="replace")
    results = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines() if l]
    return proc.returncode, text, {(r["case"], r["label"]): r for r in results}


def run_of(bench_run, case, impl):
    rc, text, runs = bench_run
    assert rc == 0, text[-6000:]
    run = runs.get(("ens3-" + case, impl))
    assert run is not None, "no %s run of %s:\n%s" % (impl, case, text[-6000:])
    assert run["errors"] == 0, run
    return run


def test_create_spreads_load_over_the_ensemble(bench_run, impl):
    run = run_of(bench_run, "create", impl)
    assert run["ops"] > 0 and run["p99_us"] > 0, run


def test_failover_kills_the_leader_and_every_session_comes_back(bench_run, impl):
    run = run_of(bench_run, "failover", impl)
    assert run["first_write_ms"] > 0, run
    # Every idle session lost its connection (the leader died, the
    # followers closed theirs when they went looking) and re-attached.
    assert run["sessions_dropped"] > 0 and run["sessions_lost"] == 0, run
    assert run["sessions_expired"] == 0, run
    assert run["all_connected_ms"] > 0, run


def test_snap_sync_follower_serves(bench_run, impl):
    load = run_of(bench_run, "snap-sync-load", impl)
    assert load["ops"] == int(SIZES["SNAP_COUNT"]), load
    run = run_of(bench_run, "snap-sync", impl)
    assert run["follower_serving_ms"] > 0 and run["ops"] > 0, run


def test_watches_are_set_and_every_notification_arrives(bench_run, impl):
    run = run_of(bench_run, "watches", impl)
    assert run["watches_set"] == int(SIZES["WATCH_COUNT"]), run
    assert run["ops"] == run["notifications_expected"] > 0, run
    assert "rss_per_watch_bytes" in run, run


def test_sessions_max_holds_the_sessions_and_the_server_survives(bench_run, impl):
    run = run_of(bench_run, "sessions-max", impl)
    assert run["sessions_held"] == int(SIZES["MAX_SESSIONS"]), run
    assert run["server_alive"] == 1, run


def test_table_shows_ratios_and_targets(bench_run):
    rc, text, _ = bench_run
    assert rc == 0, text[-6000:]
    # One run each (with one implementation it is its own baseline).
    assert "| ens3-failover (1+1 runs) |" in text, text[-3000:]
    assert "first acked write ms" in text and "follower serving ms" in text, text[-3000:]
    assert "RSS B/watch" in text and "sessions held" in text, text[-3000:]
