// Curator against one server of an ensemble: what Curator's LeaderLatch
// does when it closes (a background delete of its node followed at once
// by a sync), then full LeaderLatch rounds. Prints one line
// "rounds=N answered=M latches=K" and exits 0 only if every round was
// answered within the timeout.
//
// Usage: CuratorLatch <connectString> <rounds>
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;

public class CuratorLatch {
    public static void main(String[] args) throws Exception {
        String connect = args[0];
        int rounds = Integer.parseInt(args[1]);
        int answered = 0;
        int latches = 0;
        try (CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(30000)
                .connectionTimeoutMs(15000)
                .retryPolicy(new RetryNTimes(3, 500))
                .build()) {
            client.start();
            if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
                System.out.println("not connected");
                System.exit(2);
            }
            for (int i = 0; i < rounds; i++) {
                String path = "/curator-latch/n" + i;
                client.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(path);
                CountDownLatch done = new CountDownLatch(1);
                client.delete().inBackground().forPath(path);
                client.sync().inBackground((c, event) -> done.countDown()).forPath(path);
                if (done.await(10, TimeUnit.SECONDS)) {
                    answered++;
                }
            }
            for (int i = 0; i < rounds; i++) {
                LeaderLatch latch = new LeaderLatch(client, "/curator-latch/leader");
                latch.start();
                if (latch.await(10, TimeUnit.SECONDS)) {
                    latches++;
                }
                latch.close();
            }
        }
        System.out.println("rounds=" + rounds + " answered=" + answered + " latches=" + latches);
        System.exit(answered == rounds && latches == rounds ? 0 : 1);
    }
}
