// Curator 5.4's recipes against one ZooKeeper server (standalone, or one
// member of an ensemble), printing what each recipe lets its users observe
// as normalized lines: no session ids, times or zxids, only outcomes that a
// correct server makes deterministic (who leads after whom, which events in
// which order, which results). The interop test runs it against Java and
// against ours and compares the lines.
//
// Usage: CuratorRecipes <connectString> [scenario,scenario,...]
// Every scenario works under /recipes/<scenario>; a failing one prints
// "<scenario>: ERROR <exception>" and the others still run. Exit code 0.
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.cache.TreeCacheEvent;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.SharedCountReader;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class CuratorRecipes {
    static final long WAIT_MS = 60_000;
    static String connect;
    static final List<CuratorFramework> clients = new CopyOnWriteArrayList<>();

    interface Scenario {
        void run(String base) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        connect = args[0];
        Map<String, Scenario> all = new LinkedHashMap<>();
        all.put("mutex", CuratorRecipes::mutex);
        all.put("semaphore", CuratorRecipes::semaphore);
        all.put("leader_latch", CuratorRecipes::leaderLatch);
        all.put("leader_selector", CuratorRecipes::leaderSelector);
        all.put("curator_cache", CuratorRecipes::curatorCache);
        all.put("tree_cache", CuratorRecipes::treeCache);
        all.put("persistent_node", CuratorRecipes::persistentNode);
        all.put("atomic_long", CuratorRecipes::atomicLong);
        all.put("shared_count", CuratorRecipes::sharedCount);
        all.put("queue", CuratorRecipes::queue);
        all.put("discovery", CuratorRecipes::discovery);
        all.put("transaction", CuratorRecipes::transaction);
        all.put("ensemble_tracker", CuratorRecipes::ensembleTracker);
        // ensemble_tracker only means something on an ensemble: asked for by name.
        List<String> names = new ArrayList<>(all.keySet());
        names.remove("ensemble_tracker");
        if (args.length > 1) {
            names = Arrays.asList(args[1].split(","));
        }
        for (String name : names) {
            Scenario s = all.get(name);
            if (s == null) {
                throw new IllegalArgumentException("unknown scenario " + name);
            }
            try {
                s.run("/recipes/" + name);
            } catch (Throwable t) {
                line(name, "ERROR " + t);
            } finally {
                for (CuratorFramework c : clients) {
                    c.close();
                }
                clients.clear();
            }
        }
        System.exit(0);
    }

    static synchronized void line(String scenario, String text) {
        System.out.println(scenario + ": " + text);
        System.out.flush();
    }

    static CuratorFramework client() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(20000)
                .connectionTimeoutMs(15000)
                .retryPolicy(new RetryNTimes(40, 250))
                .build();
        clients.add(c);
        c.start();
        if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not connected to " + connect);
        }
        return c;
    }

    static void await(String what, BooleanSupplier condition) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    static long sessionId(CuratorFramework c) throws Exception {
        return c.getZookeeperClient().getZooKeeper().getSessionId();
    }

    /** Ends the client's session on the server: a second connection
     * attaches to the session (the server drops the first one) and closes
     * it, as an expiry would. */
    static void killSession(CuratorFramework c) throws Exception {
        ZooKeeper zk = c.getZookeeperClient().getZooKeeper();
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper killer = new ZooKeeper(connect, 20000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        }, zk.getSessionId(), zk.getSessionPasswd());
        if (!connected.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("could not attach to the session to kill it");
        }
        killer.close();
    }

    static String str(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static List<String> ids(Collection<Participant> ps) {
        List<String> out = new ArrayList<>();
        for (Participant p : ps) {
            out.add(p.getId() + (p.isLeader() ? "*" : ""));
        }
        return out;
    }

    // ---- locks --------------------------------------------------------------

    static void mutex(String base) throws Exception {
        int threads = 4, rounds = 5;
        AtomicInteger holders = new AtomicInteger(), maxHolders = new AtomicInteger(), acquisitions = new AtomicInteger();
        int[] counter = {0};
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            CuratorFramework c = client();
            fs.add(pool.submit(() -> {
                InterProcessMutex m = new InterProcessMutex(c, base + "/lock");
                for (int r = 0; r < rounds; r++) {
                    m.acquire();
                    try {
                        maxHolders.accumulateAndGet(holders.incrementAndGet(), Math::max);
                        acquisitions.incrementAndGet();
                        int v = counter[0];
                        Thread.sleep(5);
                        counter[0] = v + 1;
                        holders.decrementAndGet();
                    } finally {
                        m.release();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        pool.shutdown();
        CuratorFramework c = client();
        InterProcessMutex m = new InterProcessMutex(c, base + "/lock");
        m.acquire();
        boolean reentered = m.acquire(5, TimeUnit.SECONDS);
        InterProcessMutex other = new InterProcessMutex(client(), base + "/lock");
        boolean otherGot = other.acquire(300, TimeUnit.MILLISECONDS);
        m.release();
        m.release();
        boolean otherGotAfter = other.acquire(10, TimeUnit.SECONDS);
        other.release();
        line("mutex", "acquisitions=" + acquisitions + " max_holders=" + maxHolders + " counter=" + counter[0]
                + " reentrant=" + reentered + " other_while_held=" + otherGot + " other_after_release=" + otherGotAfter
                + " lock_nodes_left=" + c.getChildren().forPath(base + "/lock").size());
    }

    static void semaphore(String base) throws Exception {
        int threads = 5, rounds = 4, max = 2;
        AtomicInteger holders = new AtomicInteger(), maxHolders = new AtomicInteger(), acquisitions = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            CuratorFramework c = client();
            fs.add(pool.submit(() -> {
                InterProcessSemaphoreV2 s = new InterProcessSemaphoreV2(c, base + "/sem", max);
                go.await();
                for (int r = 0; r < rounds; r++) {
                    Lease lease = s.acquire();
                    maxHolders.accumulateAndGet(holders.incrementAndGet(), Math::max);
                    acquisitions.incrementAndGet();
                    Thread.sleep(60);
                    holders.decrementAndGet();
                    s.returnLease(lease);
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : fs) {
            f.get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        pool.shutdown();
        CuratorFramework c = client();
        InterProcessSemaphoreV2 s = new InterProcessSemaphoreV2(c, base + "/sem", max);
        Collection<Lease> two = s.acquire(2, 10, TimeUnit.SECONDS);
        Lease third = new InterProcessSemaphoreV2(client(), base + "/sem", max).acquire(300, TimeUnit.MILLISECONDS);
        s.returnAll(two);
        line("semaphore", "acquisitions=" + acquisitions + " max_holders=" + maxHolders
                + " two_at_once=" + (two != null && two.size() == 2) + " third_when_full=" + (third != null)
                + " leases_left=" + c.getChildren().forPath(base + "/sem/leases").size());
    }

    // ---- leaders ------------------------------------------------------------

    static void leaderLatch(String base) throws Exception {
        String path = base + "/latch";
        CuratorFramework[] cs = new CuratorFramework[3];
        LeaderLatch[] latches = new LeaderLatch[3];
        for (int i = 0; i < 3; i++) {
            cs[i] = client();
            latches[i] = new LeaderLatch(cs[i], path, "p" + i);
            latches[i].start();
            int n = i + 1;
            await("latch p" + i + " joined", () -> participants(latches[0]).size() == n);
        }
        await("p0 leads", latches[0]::hasLeadership);
        line("leader_latch", "leader=" + latches[0].getLeader().getId() + " participants=" + ids(latches[0].getParticipants()));
        killSession(cs[0]);
        await("p1 leads", latches[1]::hasLeadership);
        await("p0 rejoined", () -> participants(latches[1]).size() == 3);
        await("p0 no longer leads", () -> !latches[0].hasLeadership());
        line("leader_latch", "after_kill leader=" + latches[1].getLeader().getId()
                + " participants=" + ids(latches[1].getParticipants())
                + " p0_leads=" + latches[0].hasLeadership() + " p2_leads=" + latches[2].hasLeadership());
        latches[1].close();
        await("p2 leads", latches[2]::hasLeadership);
        line("leader_latch", "after_close leader=" + latches[2].getLeader().getId()
                + " participants=" + ids(latches[2].getParticipants()));
        latches[2].close();
        latches[0].close();
    }

    static Collection<Participant> participants(LeaderLatch l) {
        try {
            return l.getParticipants();
        } catch (Exception e) {
            return Collections.emptyList();
        }
    }

    static void leaderSelector(String base) throws Exception {
        String path = base + "/selector";
        List<String> leaders = new CopyOnWriteArrayList<>();
        CuratorFramework[] cs = new CuratorFramework[3];
        LeaderSelector[] sel = new LeaderSelector[3];
        for (int i = 0; i < 3; i++) {
            String id = "p" + i;
            cs[i] = client();
            sel[i] = new LeaderSelector(cs[i], path, new LeaderSelectorListenerAdapter() {
                @Override
                public void takeLeadership(CuratorFramework c) throws Exception {
                    leaders.add(id);
                    Thread.sleep(Long.MAX_VALUE);   // leads until interrupted
                }
            });
            sel[i].setId(id);
            sel[i].autoRequeue();
            sel[i].start();
            int n = i + 1;
            await("selector " + id + " joined", () -> selParticipants(sel[0]).size() == n);
        }
        await("a first leader", () -> leaders.size() == 1);
        line("leader_selector", "leaders=" + leaders + " participants=" + ids(sel[0].getParticipants()));
        killSession(cs[0]);
        await("a second leader", () -> leaders.size() == 2);
        await("p0 requeued", () -> selParticipants(sel[1]).size() == 3);
        line("leader_selector", "after_kill leaders=" + leaders + " participants=" + ids(sel[1].getParticipants()));
        sel[1].close();
        await("a third leader", () -> leaders.size() == 3);
        line("leader_selector", "after_close leaders=" + leaders + " participants=" + ids(sel[2].getParticipants()));
        sel[2].close();
        sel[0].close();
    }

    static Collection<Participant> selParticipants(LeaderSelector s) {
        try {
            return s.getParticipants();
        } catch (Exception e) {
            return Collections.emptyList();
        }
    }

    // ---- caches -------------------------------------------------------------

    /** The same edits for both caches; after each one a marker node is
     * created and awaited, so every event the edit caused has arrived. */
    static void cacheEdits(CuratorFramework c, String base, List<String> events) throws Exception {
        String[][] edits = {
            {"create", base + "/a", "1"}, {"set", base + "/a", "2"}, {"create", base + "/a/b", "x"},
            {"set", base, "root2"}, {"delete", base + "/a/b", null}, {"delete", base + "/a", null},
        };
        int i = 0;
        for (String[] e : edits) {
            switch (e[0]) {
                case "create": c.create().forPath(e[1], bytes(e[2])); break;
                case "set": c.setData().forPath(e[1], bytes(e[2])); break;
                default: c.delete().forPath(e[1]); break;
            }
            String marker = base + "/m" + i++;
            c.create().forPath(marker, bytes("m"));
            await("event for " + marker, () -> events.stream().anyMatch(s -> s.contains(marker + " ")));
        }
    }

    static void curatorCache(String base) throws Exception {
        CuratorFramework c = client();
        c.create().creatingParentsIfNeeded().forPath(base, bytes("root"));
        c.create().forPath(base + "/pre", bytes("p"));
        List<String> events = new CopyOnWriteArrayList<>();
        CuratorCache cache = CuratorCache.build(c, base);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(n -> events.add("created " + n.getPath() + " " + str(n.getData())))
                .forChanges((o, n) -> events.add("changed " + n.getPath() + " " + str(o.getData()) + "->" + str(n.getData())
                        + " v" + o.getStat().getVersion() + "->v" + n.getStat().getVersion()))
                .forDeletes(o -> events.add("deleted " + o.getPath() + " " + str(o.getData())))
                .forInitialized(() -> events.add("initialized"))
                .build());
        cache.start();
        await("initialized", () -> events.contains("initialized"));
        List<String> initial = new ArrayList<>(events.subList(0, events.indexOf("initialized")));
        Collections.sort(initial);
        line("curator_cache", "initial=" + initial);
        int from = events.size();
        cacheEdits(c, base, events);
        line("curator_cache", "events=" + events.subList(from, events.size()));
        List<String> cached = new ArrayList<>();
        cache.stream().forEach(d -> cached.add(d.getPath() + "=" + str(d.getData())));
        Collections.sort(cached);
        line("curator_cache", "cached=" + cached);
        cache.close();
    }

    static void treeCache(String base) throws Exception {
        CuratorFramework c = client();
        c.create().creatingParentsIfNeeded().forPath(base, bytes("root"));
        c.create().forPath(base + "/pre", bytes("p"));
        List<String> events = new CopyOnWriteArrayList<>();
        TreeCache cache = TreeCache.newBuilder(c, base).build();
        cache.getListenable().addListener((cl, e) -> {
            ChildData d = e.getData();
            if (e.getType() == TreeCacheEvent.Type.INITIALIZED) {
                events.add("INITIALIZED");
            } else if (d != null) {
                events.add(e.getType() + " " + d.getPath() + " " + str(d.getData()));
            }
        });
        cache.start();
        await("initialized", () -> events.contains("INITIALIZED"));
        List<String> initial = new ArrayList<>(events.subList(0, events.indexOf("INITIALIZED")));
        Collections.sort(initial);
        line("tree_cache", "initial=" + initial);
        int from = events.size();
        cacheEdits(c, base, events);
        line("tree_cache", "events=" + events.subList(from, events.size()));
        line("tree_cache", "children=" + new java.util.TreeSet<>(cache.getCurrentChildren(base).keySet()));
        cache.close();
    }

    // ---- nodes and values ---------------------------------------------------

    static void persistentNode(String base) throws Exception {
        CuratorFramework c = client();
        c.create().creatingParentsIfNeeded().forPath(base);
        String path = base + "/node";
        PersistentNode pn = new PersistentNode(c, CreateMode.EPHEMERAL, false, path, bytes("hello"));
        pn.start();
        boolean created = pn.waitForInitialCreate(30, TimeUnit.SECONDS);
        long first = sessionId(c);
        Stat s1 = c.checkExists().forPath(path);
        line("persistent_node", "created=" + created + " owner_is_session=" + (s1 != null && s1.getEphemeralOwner() == first));
        CuratorFramework watcher = client();
        killSession(c);
        await("a new session", () -> {
            try {
                return sessionId(c) != first && c.getZookeeperClient().isConnected();
            } catch (Exception e) {
                return false;
            }
        });
        await("the node back under the new session", () -> {
            try {
                Stat s = watcher.checkExists().forPath(path);
                return s != null && s.getEphemeralOwner() == sessionId(c);
            } catch (Exception e) {
                return false;
            }
        });
        pn.setData(bytes("world"));
        await("new data", () -> {
            try {
                return "world".equals(str(watcher.getData().forPath(path)));
            } catch (Exception e) {
                return false;
            }
        });
        line("persistent_node", "recreated_after_session_loss=true data=" + str(watcher.getData().forPath(path))
                + " actual_path=" + pn.getActualPath());
        pn.close();
        await("node deleted on close", () -> {
            try {
                return watcher.checkExists().forPath(path) == null;
            } catch (Exception e) {
                return false;
            }
        });
        line("persistent_node", "deleted_on_close=true");
    }

    static void atomicLong(String base) throws Exception {
        int threads = 3, rounds = 10;
        AtomicInteger ok = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            CuratorFramework c = client();
            fs.add(pool.submit(() -> {
                DistributedAtomicLong v = new DistributedAtomicLong(c, base + "/counter", new RetryNTimes(1000, 5));
                for (int r = 0; r < rounds; r++) {
                    if (v.increment().succeeded()) {
                        ok.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        pool.shutdown();
        DistributedAtomicLong v = new DistributedAtomicLong(client(), base + "/counter", new RetryNTimes(10, 10));
        long value = v.get().postValue();
        AtomicValue<Long> cas = v.compareAndSet(value, 100L);
        AtomicValue<Long> staleCas = v.compareAndSet(value, 5L);
        AtomicValue<Long> sub = v.subtract(58L);
        line("atomic_long", "succeeded=" + ok + " value=" + value + " cas=" + cas.succeeded() + ":" + cas.postValue()
                + " stale_cas=" + staleCas.succeeded() + " subtract=" + sub.preValue() + "->" + sub.postValue());
    }

    static void sharedCount(String base) throws Exception {
        SharedCount a = new SharedCount(client(), base + "/count", 0);
        SharedCount b = new SharedCount(client(), base + "/count", 0);
        List<Integer> seen = new CopyOnWriteArrayList<>();
        b.addListener(new SharedCountListener() {
            @Override
            public void countHasChanged(SharedCountReader r, int newCount) {
                seen.add(newCount);
            }

            @Override
            public void stateChanged(CuratorFramework c, ConnectionState s) {
            }
        });
        a.start();
        b.start();
        a.setCount(5);
        await("b sees 5", () -> b.getCount() == 5 && seen.contains(5));
        VersionedValue<Integer> v = a.getVersionedValue();
        boolean set6 = a.trySetCount(v, 6);
        boolean stale = a.trySetCount(v, 7);
        await("b sees 6", () -> b.getCount() == 6 && seen.contains(6));
        line("shared_count", "seen=" + seen + " try_set=" + set6 + " stale_try_set=" + stale + " b=" + b.getCount()
                + " version=" + b.getVersionedValue().getVersion());
        a.close();
        b.close();
    }

    static void queue(String base) throws Exception {
        QueueSerializer<String> ser = new QueueSerializer<String>() {
            @Override
            public byte[] serialize(String item) {
                return bytes(item);
            }

            @Override
            public String deserialize(byte[] b) {
                return str(b);
            }
        };
        List<String> consumed = new CopyOnWriteArrayList<>();
        QueueConsumer<String> consumer = new QueueConsumer<String>() {
            @Override
            public void consumeMessage(String message) {
                consumed.add(message);
            }

            @Override
            public void stateChanged(CuratorFramework c, ConnectionState s) {
            }
        };
        DistributedQueue<String> producer = QueueBuilder.builder(client(), null, ser, base + "/q").buildQueue();
        producer.start();
        for (int i = 0; i < 10; i++) {
            producer.put("item-" + i);
        }
        DistributedQueue<String> q = QueueBuilder.builder(client(), consumer, ser, base + "/q").lockPath(base + "/lock").buildQueue();
        q.start();
        await("10 items", () -> consumed.size() == 10);
        producer.put("item-10");
        await("11 items", () -> consumed.size() == 11);
        CuratorFramework c = client();
        await("queue drained", () -> {
            try {
                return c.getChildren().forPath(base + "/q").isEmpty();
            } catch (Exception e) {
                return false;
            }
        });
        line("queue", "consumed=" + consumed + " left=0");
        q.close();
        producer.close();
    }

    static void discovery(String base) throws Exception {
        CuratorFramework c1 = client(), c2 = client(), viewer = client();
        ServiceInstance<Void> i1 = ServiceInstance.<Void>builder().name("api").id("i1").address("10.0.0.1").port(8080).build();
        ServiceInstance<Void> i2 = ServiceInstance.<Void>builder().name("api").id("i2").address("10.0.0.2").port(8081).build();
        ServiceInstance<Void> w1 = ServiceInstance.<Void>builder().name("worker").id("w1").address("10.0.0.3").port(9000).build();
        ServiceDiscovery<Void> d1 = ServiceDiscoveryBuilder.builder(Void.class).client(c1).basePath(base).thisInstance(i1).build();
        ServiceDiscovery<Void> d2 = ServiceDiscoveryBuilder.builder(Void.class).client(c2).basePath(base).thisInstance(i2).build();
        ServiceDiscovery<Void> dv = ServiceDiscoveryBuilder.builder(Void.class).client(viewer).basePath(base).build();
        d1.start();
        d2.start();
        dv.start();
        d1.registerService(w1);
        line("discovery", "names=" + sorted(dv.queryForNames()) + " api=" + instances(dv, "api") + " worker=" + instances(dv, "worker"));
        long first = sessionId(c2);
        killSession(c2);
        await("i2 registered again under a new session", () -> {
            try {
                Stat s = viewer.checkExists().forPath(base + "/api/i2");
                return sessionId(c2) != first && s != null && s.getEphemeralOwner() == sessionId(c2);
            } catch (Exception e) {
                return false;
            }
        });
        d1.unregisterService(w1);
        line("discovery", "after_kill api=" + instances(dv, "api") + " worker=" + instances(dv, "worker"));
        d1.close();
        d2.close();
        dv.close();
    }

    static List<String> sorted(Collection<String> in) {
        List<String> out = new ArrayList<>(in);
        Collections.sort(out);
        return out;
    }

    static List<String> instances(ServiceDiscovery<Void> d, String name) throws Exception {
        List<String> out = new ArrayList<>();
        for (ServiceInstance<Void> i : d.queryForInstances(name)) {
            out.add(i.getId() + "@" + i.getAddress() + ":" + i.getPort());
        }
        Collections.sort(out);
        return out;
    }

    // ---- transactions ---------------------------------------------------------

    static void transaction(String base) throws Exception {
        CuratorFramework c = client();
        c.create().creatingParentsIfNeeded().forPath(base, bytes("t0"));
        List<CuratorOp> ok = Arrays.asList(
                c.transactionOp().create().forPath(base + "/a", bytes("a")),
                c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(base + "/seq-", bytes("s")),
                c.transactionOp().setData().forPath(base, bytes("t1")),
                c.transactionOp().check().withVersion(1).forPath(base),
                c.transactionOp().delete().forPath(base + "/a"));
        List<String> results = new ArrayList<>();
        for (CuratorTransactionResult r : c.transaction().forOperations(ok)) {
            results.add(r.getType() + " " + r.getForPath() + " -> " + r.getResultPath() + " err=" + r.getError()
                    + (r.getResultStat() != null ? " v" + r.getResultStat().getVersion() : ""));
        }
        line("transaction", "ok=" + results);
        List<CuratorOp> failing = Arrays.asList(
                c.transactionOp().create().forPath(base + "/b", bytes("b")),
                c.transactionOp().setData().forPath(base, bytes("t2")),
                c.transactionOp().delete().forPath(base + "/missing"),
                c.transactionOp().create().forPath(base + "/c", bytes("c")));
        try {
            c.transaction().forOperations(failing);
            line("transaction", "failing transaction succeeded");
        } catch (KeeperException e) {
            List<String> codes = new ArrayList<>();
            if (e.getResults() != null) {
                for (OpResult r : e.getResults()) {
                    codes.add(r instanceof OpResult.ErrorResult ? "error:" + ((OpResult.ErrorResult) r).getErr() : r.getClass().getSimpleName());
                }
            }
            line("transaction", "failed code=" + e.code() + " path=" + e.getPath() + " results=" + codes);
        }
        List<CuratorOp> badVersion = Arrays.asList(
                c.transactionOp().create().forPath(base + "/d", bytes("d")),
                c.transactionOp().check().withVersion(7).forPath(base));
        try {
            c.transaction().forOperations(badVersion);
            line("transaction", "bad-version transaction succeeded");
        } catch (KeeperException e) {
            line("transaction", "bad_version code=" + e.code() + " path=" + e.getPath());
        }
        Stat s = c.checkExists().forPath(base);
        line("transaction", "after data=" + str(c.getData().forPath(base)) + " version=" + s.getVersion()
                + " children=" + sorted(c.getChildren().forPath(base)));
    }

    // ---- ensemble -------------------------------------------------------------

    /** Curator's EnsembleTracker reads /zookeeper/config (with a watch) and
     * keeps the ensemble's membership as the client's current config. */
    static void ensembleTracker(String base) throws Exception {
        CuratorFramework c = client();
        await("the ensemble's config", () -> c.getCurrentConfig() != null && !c.getCurrentConfig().getAllMembers().isEmpty()
                && c.getZookeeperClient().getCurrentConnectionString().split(",").length == 3);
        org.apache.zookeeper.server.quorum.flexible.QuorumVerifier qv = c.getCurrentConfig();
        List<String> members = new ArrayList<>();
        for (org.apache.zookeeper.server.quorum.QuorumPeer.QuorumServer m : qv.getAllMembers().values()) {
            members.add(m.id + ":" + m.type + "@" + m.addr.getReachableOrOne().getHostString()
                    + (m.clientAddr == null ? "" : " client"));
        }
        Collections.sort(members);
        String raw = str(c.getConfig().forEnsemble());
        line("ensemble_tracker", "members=" + members + " voting=" + qv.getVotingMembers().size()
                + " version=0x" + Long.toHexString(qv.getVersion())
                + " config_lines=" + raw.split("\n").length
                + " connect_hosts=" + c.getZookeeperClient().getCurrentConnectionString().split(",").length);
    }
}
