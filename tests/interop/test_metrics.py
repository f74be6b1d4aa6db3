"""Metrics (mntr's figures): the Prometheus endpoint of
ours (`metricsProvider.className=...PrometheusMetricsProvider`).

Debian's Java 3.8.0 lacks the Prometheus provider module, so Java's metric
names are taken from Java's `mntr` on the same workload: every gauge and
counter key is a Prometheus family of the same name, and every summary
(`avg_/min_/max_/cnt_/sum_<name>`) is a Prometheus summary `<name>` with
`_count`, `_sum` and quantiles (per-namespace summaries as `<set>{key=...}`).
The scrape must parse: `promtool check metrics` when installed (Debian's
`prometheus` package; only lint remarks about Java's own names allowed),
and always a strict parser of the text format 0.0.4 here.
"""

import re
import shutil
import subprocess
import urllib.request

import pytest

import conftest
from conftest import free_port

PROMETHEUS = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
SUMMARY_PREFIXES = ("avg_", "min_", "max_", "cnt_", "sum_", "p50_", "p95_", "p99_", "p999_")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? '
                    r'(NaN|[+-]Inf|-?\d+(?:\.\d+)?(?:E-?\d+)?)$')


def parse_exposition(text):
    """Strict text format 0.0.4: HELP then TYPE per family, samples of the
    family after its TYPE. Returns {family: (type, [(name, labels, value)])}."""
    families, current = {}, None
    lines = text.splitlines()
    assert text.endswith("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            kind_line = lines[i + 1]
            m = re.fullmatch(r"# TYPE (\S+) (counter|gauge|summary|histogram|untyped)", kind_line)
            assert m and m.group(1) == name, (line, kind_line)
            assert name not in families, "family %s twice" % name
            families[name] = (m.group(2), [])
            current = name
            i += 2
            continue
        m = SAMPLE.match(line)
        assert m, "bad sample line %r" % line
        sample = m.group(1)
        allowed = {current} | ({current + "_count", current + "_sum"}
                               if families[current][0] == "summary" else set())
        assert sample in allowed, "%s outside its family %s" % (sample, current)
        families[current][1].append((sample, m.group(2) or "", m.group(3)))
        i += 1
    return families


@pytest.fixture(scope="module")
def scraped(server_factory, tmp_path_factory):
    """(ours /metrics text, Java's mntr keys), after the same workload."""
    from kazoo.client import KazooClient
    mntr = {}
    text = None
    for impl in ("java", "rust"):
        conftest.require_impl(impl)
        extra = {}
        if impl == "rust":
            port = free_port()
            extra = {"metricsProvider.className": PROMETHEUS,
                     "metricsProvider.httpHost": "127.0.0.1",
                     "metricsProvider.httpPort": str(port)}
        srv = server_factory(impl, "metrics", extra)
        c = KazooClient(hosts=srv.hosts, timeout=10.0)
        c.start(timeout=30)
        c.create("/met", b"data")
        c.create("/met/x", b"")
        c.get("/met")
        c.set("/met", b"more")
        c.delete("/met/x")
        mntr[impl] = [l.split("\t")[0][3:] for l in srv.four_letter("mntr").splitlines()]
        if impl == "rust":
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
                assert r.status == 200
                assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                text = r.read().decode()
        c.stop()
        c.close()
        srv.stop()
    return text, mntr


def test_scrape_parses(scraped):
    text, _ = scraped
    families = parse_exposition(text)
    assert families["znode_count"][0] == "gauge"
    assert families["fsynctime"][0] == "summary"
    promtool = shutil.which("promtool")
    if promtool is None:
        return
    proc = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                          capture_output=True, timeout=60)
    out = (proc.stdout + proc.stderr).decode()
    # Exit 3 = lint remarks only (Java's names: counters without _total,
    # gauges ending in _count, units like _ms); anything else is an error.
    assert proc.returncode in (0, 3), out
    assert "error while linting" not in out and "parsing error" not in out, out
    for line in out.splitlines():
        assert re.search(r'should (have|not)|abbreviated units', line), line


def java_families(mntr_keys):
    """Java's Prometheus families from its mntr keys: (plain names, summaries)."""
    keys = [k for k in mntr_keys if k not in ("version", "server_state")]
    summaries = {k[4:] for k in keys if k.startswith("cnt_")}
    plain = [k for k in keys if not any(k.startswith(p) and k[len(p):] in summaries
                                        for p in SUMMARY_PREFIXES)]
    return plain, summaries


def test_java_metric_names_are_exported(scraped):
    text, mntr = scraped
    assert mntr["rust"] == mntr["java"], "mntr keys (and order) differ from Java's"
    families = parse_exposition(text)
    plain, summaries = java_families(mntr["java"])
    assert len(plain) > 60 and len(summaries) > 60
    for name in plain:
        assert name in families and families[name][0] in ("gauge", "counter"), name
    for name in summaries:
        if name.endswith("_per_namespace"):
            ns, _, family = name.partition("_")
            samples = families[family][1]
            assert any(s == family + "_count" and 'key="%s"' % ns in labels
                       for s, labels, _ in samples), name
            continue
        kind, samples = families[name]
        assert kind == "summary", name
        names = {s for s, _, _ in samples}
        assert names == {name, name + "_count", name + "_sum"}, name
        assert any('quantile="0.5"' in labels for _, labels, _ in samples), name


def test_recorded_values(scraped):
    """Values we measure: the workload's writes and reads are counted."""
    text, _ = scraped
    families = parse_exposition(text)
    value = lambda fam, sample, label="": next(float(v) for s, l, v in families[fam][1]
                                               if s == sample and label in l)
    assert value("write_per_namespace", "write_per_namespace_count", 'key="met"') == 4
    assert value("read_per_namespace", "read_per_namespace_count", 'key="met"') >= 1
    assert value("updatelatency", "updatelatency_count") >= 4
    assert value("fsynctime", "fsynctime_count") >= 1
    assert value("bytes_received_count", "bytes_received_count") > 0
    assert value("znode_count", "znode_count") == 6
