"""A fault-suite worker on the Java client (java/FaultWorker.java).

The same op mix as faults.py's kazoo workers, run by zookeeper.jar 3.8.0's
own client in a JVM of its own; it prints one JSON line per op in
fault_history.py's format (times on the wall clock, from the run's t0, as
the kazoo workers'), which join the run's history. Its op ids start at
FIRST_ID so they never meet the kazoo workers'.
"""

import json
import subprocess
import tempfile
import threading
from pathlib import Path

from conftest import java_classpath

HERE = Path(__file__).resolve().parent
FIRST_ID = 1_000_000_000
_CLASSES = {}


def compiled():
    """The directory holding FaultWorker.class (compiled once per process)."""
    if "dir" not in _CLASSES:
        out = tempfile.mkdtemp(prefix="zk-faults-java-")
        subprocess.run(["javac", "-d", out, "-cp", java_classpath(), str(HERE / "java" / "FaultWorker.java")],
                       check=True, capture_output=True, timeout=300)
        _CLASSES["dir"] = out
    return _CLASSES["dir"]


class JavaWorker:
    def __init__(self, name, hosts, history, seed, t0, workdir):
        self.tag = name
        self.history = history
        self.crash = None
        self.done = False
        cmd = ["java", "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-cp", "%s:%s" % (compiled(), java_classpath()), "FaultWorker",
               hosts, name, str(FIRST_ID), str(int(t0 * 1000)), str(seed)]
        self.err = open(Path(workdir) / ("%s-java-client.log" % name), "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True)
        self.reader = threading.Thread(target=self._read, name="faults-" + name, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if line == "done":
                self.done = True
            elif line:
                try:
                    self.history.add(json.loads(line))
                except ValueError:
                    self.crash = "unparsable line: %r" % line[:200]

    def stop(self, timeout=60.0):
        """Ends the worker (EOF on its stdin); returns a problem or None."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.reader.join(10)
        self.err.close()
        if self.crash or not self.done or self.proc.returncode != 0:
            return "Java client worker %s did not end cleanly (exit %s, %s)" % (
                self.tag, self.proc.returncode, self.crash or "no 'done' line")
        return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
