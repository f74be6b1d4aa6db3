// Golden-bytes helper for tests/jute_golden.rs.
//
// Serializes one sample of every jute record with Java ZooKeeper's own
// classes and BinaryOutputArchive, and prints "<name> <hex>" per line. The
// Rust test builds the same samples and checks that our encoder writes
// identical bytes and our decoder reads Java's bytes back to equal values.
// Compiled by the test against Debian's /usr/share/java/zookeeper*.jar.

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.MultiResponse;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.*;
import org.apache.zookeeper.proto.*;
import org.apache.zookeeper.server.persistence.FileHeader;
import org.apache.zookeeper.server.quorum.LearnerInfo;
import org.apache.zookeeper.server.quorum.QuorumAuthPacket;
import org.apache.zookeeper.server.quorum.QuorumPacket;
import org.apache.zookeeper.txn.*;

public class JuteGolden {
    static void emit(String name, Record r) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        r.serialize(BinaryOutputArchive.getArchive(bos), name);
        StringBuilder sb = new StringBuilder();
        for (byte b : bos.toByteArray()) {
            sb.append(String.format("%02x", b));
        }
        System.out.println(name + " " + sb);
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        Id world = new Id("world", "anyone");
        Id digest = new Id("digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
        ACL open = new ACL(31, world);
        ACL rd = new ACL(1, digest);
        List<ACL> acls = Arrays.asList(open, rd);
        Stat stat = new Stat(0x100000002L, 0x100000003L, 1700000000123L, 1700000000456L,
                3, -1, 2, 0x17f3a2b4c5d00001L, 5, 2, 0x100000004L);
        StatPersisted sp = new StatPersisted(1L, 2L, 3L, 4L, 5, 6, 7, Long.MIN_VALUE, 9L);

        emit("Id", digest);
        emit("ACL", rd);
        emit("Stat", stat);
        emit("StatPersisted", sp);
        emit("ClientInfo", new ClientInfo("ip", "127.0.0.1"));

        emit("ConnectRequest", new ConnectRequest(0, 0x100000005L, 30000, 0x100000a71af0000L, new byte[16]));
        emit("ConnectResponse", new ConnectResponse(0, 40000, 0x100000a71af0000L, b("0123456789abcdef")));
        emit("SetWatches", new SetWatches(7L, Arrays.asList("/a", "/b"), Collections.emptyList(), Arrays.asList("/c")));
        emit("SetWatches2", new SetWatches2(7L, Arrays.asList("/a"), Arrays.asList("/e"), Arrays.asList("/c"),
                Arrays.asList("/p"), Arrays.asList("/r", "/r2")));
        emit("RequestHeader", new RequestHeader(-8, 101));
        emit("MultiHeader", new MultiHeader(-1, true, -1));
        emit("AuthPacket", new AuthPacket(0, "digest", b("user:pass")));
        emit("ReplyHeader", new ReplyHeader(-1, -1L, -101));
        emit("GetDataRequest", new GetDataRequest("/zk/\u00e9t\u00e9", true));
        emit("SetDataRequest", new SetDataRequest("/a", null, -1));
        emit("ReconfigRequest", new ReconfigRequest("server.4=h:1:2", "", "", -1L));
        emit("SetDataResponse", new SetDataResponse(stat));
        emit("GetSASLRequest", new GetSASLRequest(new byte[0]));
        emit("SetSASLRequest", new SetSASLRequest(b("tok")));
        emit("SetSASLResponse", new SetSASLResponse(null));
        emit("CreateRequest", new CreateRequest("/seq-", b("data"), acls, 3));
        emit("CreateTTLRequest", new CreateTTLRequest("/ttl", b(""), Arrays.asList(open), 5, 60000L));
        emit("DeleteRequest", new DeleteRequest("/a", 4));
        emit("GetChildrenRequest", new GetChildrenRequest("/", false));
        emit("GetAllChildrenNumberRequest", new GetAllChildrenNumberRequest("/a"));
        emit("GetChildren2Request", new GetChildren2Request("/a", true));
        emit("CheckVersionRequest", new CheckVersionRequest("/a", 2));
        emit("GetMaxChildrenRequest", new GetMaxChildrenRequest("/a"));
        emit("GetMaxChildrenResponse", new GetMaxChildrenResponse(10));
        emit("SetMaxChildrenRequest", new SetMaxChildrenRequest("/a", 10));
        emit("SyncRequest", new SyncRequest("/"));
        emit("SyncResponse", new SyncResponse("/"));
        emit("GetACLRequest", new GetACLRequest("/a"));
        emit("SetACLRequest", new SetACLRequest("/a", acls, 0));
        emit("SetACLResponse", new SetACLResponse(stat));
        emit("AddWatchRequest", new AddWatchRequest("/w", 1));
        emit("WatcherEvent", new WatcherEvent(4, 3, "/w"));
        emit("ErrorResponse", new ErrorResponse(-110));
        emit("CreateResponse", new CreateResponse("/seq-0000000001"));
        emit("Create2Response", new Create2Response("/x", stat));
        emit("ExistsRequest", new ExistsRequest("/x", true));
        emit("ExistsResponse", new ExistsResponse(stat));
        emit("GetDataResponse", new GetDataResponse(null, stat));
        emit("GetChildrenResponse", new GetChildrenResponse(Arrays.asList("a", "b", "\u4e2d")));
        emit("GetAllChildrenNumberResponse", new GetAllChildrenNumberResponse(42));
        emit("GetChildren2Response", new GetChildren2Response(Collections.emptyList(), stat));
        emit("GetACLResponse", new GetACLResponse(acls, stat));
        emit("CheckWatchesRequest", new CheckWatchesRequest("/w", 3));
        emit("RemoveWatchesRequest", new RemoveWatchesRequest("/w", 1));
        emit("GetEphemeralsRequest", new GetEphemeralsRequest(""));
        emit("GetEphemeralsResponse", new GetEphemeralsResponse(Arrays.asList("/e1", "/e2")));
        emit("WhoAmIResponse", new WhoAmIResponse(Arrays.asList(new ClientInfo("ip", "127.0.0.1"),
                new ClientInfo("digest", "user"))));

        emit("LearnerInfo", new LearnerInfo(3L, 0x10000, -1L));
        emit("QuorumPacket", new QuorumPacket(2, 0x100000001L, b("proposal"), Arrays.asList(world)));
        emit("QuorumAuthPacket", new QuorumAuthPacket(0xfeedL, 1, null));
        emit("FileHeader", new FileHeader(0x5A4B4C47, 2, 0L));

        emit("TxnDigest", new TxnDigest(2, 0x1234567890L));
        emit("TxnHeader", new TxnHeader(0x100000a71af0000L, 7, 0x100000009L, 1700000000789L, 1));
        emit("CreateTxnV0", new CreateTxnV0("/v0", b("d"), Arrays.asList(open), true));
        emit("CreateTxn", new CreateTxn("/c", null, acls, false, 3));
        emit("CreateTTLTxn", new CreateTTLTxn("/t", b("x"), Arrays.asList(open), 1, 1000L));
        emit("CreateContainerTxn", new CreateContainerTxn("/k", b(""), Arrays.asList(open), 1));
        emit("DeleteTxn", new DeleteTxn("/d"));
        emit("SetDataTxn", new SetDataTxn("/s", b("new"), 4));
        emit("CheckVersionTxn", new CheckVersionTxn("/s", 4));
        emit("SetACLTxn", new SetACLTxn("/s", acls, 1));
        emit("SetMaxChildrenTxn", new SetMaxChildrenTxn("/s", 3));
        emit("CreateSessionTxn", new CreateSessionTxn(30000));
        emit("CloseSessionTxn", new CloseSessionTxn(Arrays.asList("/e1", "/e2")));
        emit("ErrorTxn", new ErrorTxn(-101));
        emit("Txn", new Txn(2, b("xyz")));
        emit("MultiTxn", new MultiTxn(Arrays.asList(new Txn(-1, new byte[] {0, 0, 0, 0}),
                new Txn(-1, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x9b}))));

        MultiOperationRecord multi = new MultiOperationRecord();
        multi.add(Op.create("/m", b("v"), Arrays.asList(open), 0));
        multi.add(Op.create("/mc", null, Arrays.asList(open), 4));
        multi.add(Op.delete("/d", -1));
        multi.add(Op.setData("/s", b("x"), 3));
        multi.add(Op.check("/c", 1));
        emit("MultiOperationRecord", multi);
        MultiOperationRecord multiRead = new MultiOperationRecord();
        multiRead.add(Op.getChildren("/a"));
        multiRead.add(Op.getData("/a"));
        emit("MultiOperationRecordRead", multiRead);
        MultiResponse resp = new MultiResponse();
        resp.add(new OpResult.CreateResult("/m"));
        resp.add(new OpResult.CreateResult("/mc", stat));
        resp.add(new OpResult.DeleteResult());
        resp.add(new OpResult.SetDataResult(stat));
        resp.add(new OpResult.CheckResult());
        resp.add(new OpResult.ErrorResult(-101));
        emit("MultiResponse", resp);
        MultiResponse readResp = new MultiResponse();
        readResp.add(new OpResult.GetChildrenResult(Arrays.asList("x", "y")));
        readResp.add(new OpResult.GetDataResult(b("v"), stat));
        emit("MultiResponseRead", readResp);
    }
}
