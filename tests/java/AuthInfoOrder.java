// Prints the iteration order of a connection's identity set as Java's
// ServerCnxn keeps it (a set backed by a ConcurrentHashMap of
// org.apache.zookeeper.data.Id), for the identity lists that
// tests/auth_info_order.rs builds the same way: for n = 1..60, the ip
// identity, then n - 1 identities added one after another. One line per
// n: the identities as scheme:id, comma-separated, in iteration order.
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.zookeeper.data.Id;

public class AuthInfoOrder {
    public static void main(String[] args) {
        for (int n = 1; n <= 60; n++) {
            Set<Id> set = Collections.newSetFromMap(new ConcurrentHashMap<>());
            set.add(new Id("ip", "127.0.0.1"));
            for (int j = 1; j < n; j++) {
                set.add(identity(j));
            }
            StringBuilder line = new StringBuilder();
            for (Id id : set) {
                if (line.length() > 0) {
                    line.append(',');
                }
                line.append(id.getScheme()).append(':').append(id.getId());
            }
            System.out.println(line);
        }
    }

    static Id identity(int j) {
        switch (j % 4) {
            case 0: return new Id("digest", "user" + j + ":hash" + (j * 7919));
            case 1: return new Id("super", "");
            case 2: return new Id("sasl", "client" + j + "@EXAMPLE.COM");
            default: return new Id("digest", "u" + j);
        }
    }
}
