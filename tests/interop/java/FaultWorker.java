import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * A fault-suite worker on the Java client (zookeeper.jar 3.8.0): the same op
 * mix as faults.py's kazoo workers (sequential creates with unique payloads,
 * compare-and-set on the counter, reads of the counter and of its own
 * creates), one JSON line per op on stdout, in fault_history.py's format.
 *
 * Usage: FaultWorker CONNECT NAME FIRST_ID T0_EPOCH_MS SEED
 * Runs until stdin closes, then closes its session and prints "done".
 */
public class FaultWorker {
    private static final String CREATE_DIR = "/faults/w";
    private static final String COUNTER = "/faults/counter";

    private final ZooKeeper zk;
    private final String name;
    private final long t0;
    private final Random rng;
    private long nextId;
    private final List<String[]> own = new ArrayList<>();

    FaultWorker(ZooKeeper zk, String name, long firstId, long t0, long seed) {
        this.zk = zk;
        this.name = name;
        this.nextId = firstId;
        this.t0 = t0;
        this.rng = new Random(seed);
    }

    public static void main(String[] args) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        Watcher watcher = event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        };
        ZooKeeper zk = new ZooKeeper(args[0], 10000, watcher);
        if (!connected.await(60, TimeUnit.SECONDS)) {
            System.err.println("never connected to " + args[0]);
            System.exit(2);
        }
        AtomicBoolean stop = new AtomicBoolean();
        Thread stdin = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                while (in.readLine() != null) {
                    // until EOF
                }
            } catch (Exception e) {
                // EOF or a broken pipe: stop either way
            }
            stop.set(true);
        });
        stdin.setDaemon(true);
        stdin.start();
        FaultWorker w = new FaultWorker(zk, args[1], Long.parseLong(args[2]), Long.parseLong(args[3]),
                Long.parseLong(args[4]));
        while (!stop.get()) {
            if (zk.getState() != ZooKeeper.States.CONNECTED) {
                Thread.sleep(50);
                continue;
            }
            double x = w.rng.nextDouble();
            if (x < 0.5) {
                w.create();
            } else if (x < 0.8) {
                w.cas();
            } else if (x < 0.9 || w.own.isEmpty()) {
                w.read();
            } else {
                w.readOwn();
            }
            Thread.sleep(10);
        }
        zk.close();
        System.out.println("done");
    }

    /** Seconds since t0 on the wall clock; a start is taken a millisecond
     * early and an end a millisecond late, so that the clock's granularity
     * never orders two overlapping ops. */
    private double now() {
        return (System.currentTimeMillis() - t0 - 1) / 1000.0;
    }

    private double end() {
        return (System.currentTimeMillis() - t0 + 1) / 1000.0;
    }

    private String session() {
        long id = zk.getSessionId();
        return id == 0 ? null : "0x" + Long.toHexString(id);
    }

    /** One op's record; `fields` are extra "key", value pairs. */
    private void emit(long id, String f, double start, String session, String outcome, String error,
                      Object result, Object... fields) {
        StringBuilder b = new StringBuilder("{");
        b.append("\"id\": ").append(id).append(", \"f\": ").append(q(f)).append(", \"proc\": ").append(q(name));
        b.append(", \"start\": ").append(start).append(", \"end\": ").append(end());
        b.append(", \"session\": ").append(q(session)).append(", \"session_end\": ").append(q(session()));
        b.append(", \"outcome\": ").append(q(outcome));
        if (error != null) {
            b.append(", \"error\": ").append(q(error));
        }
        if (outcome.equals("ok")) {
            b.append(", \"result\": ").append(json(result));
        }
        for (int i = 0; i < fields.length; i += 2) {
            b.append(", ").append(q((String) fields[i])).append(": ").append(json(fields[i + 1]));
        }
        System.out.println(b.append("}"));
        System.out.flush();
    }

    private static String outcome(Exception e) {
        if (e instanceof KeeperException.BadVersionException || e instanceof KeeperException.NoNodeException
                || e instanceof KeeperException.NodeExistsException) {
            return "fail";
        }
        return "unknown";
    }

    void create() {
        long id = nextId++;
        String payload = "c" + id;
        double start = now();
        String s = session();
        try {
            String path = zk.create(CREATE_DIR + "/n", payload.getBytes(StandardCharsets.UTF_8),
                    ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            own.add(new String[] {path, payload});
            emit(id, "create", start, s, "ok", null, path, "payload", payload);
        } catch (Exception e) {
            emit(id, "create", start, s, outcome(e), e.getClass().getSimpleName(), null, "payload", payload);
        }
    }

    /** Reads the counter; returns its version, or -1 when the read failed. */
    int read() {
        long id = nextId++;
        double start = now();
        String s = session();
        try {
            Stat stat = new Stat();
            String data = new String(zk.getData(COUNTER, false, stat), StandardCharsets.UTF_8);
            emit(id, "read", start, s, "ok", null, new Object[] {stat.getVersion(), data});
            return stat.getVersion();
        } catch (Exception e) {
            emit(id, "read", start, s, outcome(e), e.getClass().getSimpleName(), null);
            return -1;
        }
    }

    void cas() {
        int version = read();
        if (version < 0) {
            return;
        }
        long id = nextId++;
        double start = now();
        String s = session();
        byte[] data = ((version + 1) + ":" + id).getBytes(StandardCharsets.UTF_8);
        try {
            Stat stat = zk.setData(COUNTER, data, version);
            emit(id, "cas", start, s, "ok", null, stat.getVersion(), "from", version);
        } catch (Exception e) {
            emit(id, "cas", start, s, outcome(e), e.getClass().getSimpleName(), null, "from", version);
        }
    }

    void readOwn() {
        String[] mine = own.get(rng.nextInt(own.size()));
        long id = nextId++;
        double start = now();
        String s = session();
        try {
            String data = new String(zk.getData(mine[0], false, null), StandardCharsets.UTF_8);
            emit(id, "read_own", start, s, "ok", null, data, "path", mine[0], "payload", mine[1]);
        } catch (KeeperException.NoNodeException e) {
            emit(id, "read_own", start, s, "ok", null, null, "path", mine[0], "payload", mine[1]);
        } catch (Exception e) {
            emit(id, "read_own", start, s, outcome(e), e.getClass().getSimpleName(), null,
                    "path", mine[0], "payload", mine[1]);
        }
    }

    private static String json(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Object[]) {
            StringBuilder b = new StringBuilder("[");
            for (Object o : (Object[]) v) {
                b.append(b.length() > 1 ? ", " : "").append(json(o));
            }
            return b.append("]").toString();
        }
        if (v instanceof Number) {
            return v.toString();
        }
        return q(v.toString());
    }

    private static String q(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append("\"").toString();
    }
}
