//! `cons` and `crst`: every live connection with its full statistics, and
//! resetting those statistics.
//!
//! Runs on the asking thread; reads the factory's connection registry.
//!
//! Mirrors: `org.apache.zookeeper.server.command.ConsCommand`,
//! `CnxnStatResetCommand` and `ServerCnxn.dumpConnectionInfo`.

use super::{CommandContext, ConnectionInfo};

/// `ServerCnxn.dumpConnectionInfo(pw, brief=false)`, without newline. The
/// session part appears only once a session is bound; `lcxid` only once a
/// request with a non-negative xid was answered.
pub fn full_line(info: &ConnectionInfo) -> String {
    let mut line = info.brief();
    line.pop(); // the closing parenthesis, re-added below
    if info.session_id != 0 {
        let s = &info.stats;
        line.push_str(&format!(
            ",sid=0x{:x},lop={},est={},to={}",
            info.session_id, s.last_op, s.established_ms, s.session_timeout
        ));
        if s.last_cxid >= 0 {
            line.push_str(&format!(",lcxid=0x{:x}", s.last_cxid));
        }
        line.push_str(&format!(
            ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={}",
            s.last_zxid,
            s.last_response_time,
            s.last_latency,
            s.min_latency,
            s.avg_latency,
            s.max_latency
        ));
    }
    line.push(')');
    line
}

/// `cons`: one line per connection, then an empty line.
pub fn run(ctx: &CommandContext<'_>) -> String {
    let mut out: String = ctx
        .connections
        .iter()
        .map(|c| full_line(c) + "\n")
        .collect();
    out.push('\n');
    out
}

/// `crst`: resets every connection's statistics.
pub fn reset(ctx: &CommandContext<'_>) -> String {
    reset_all(ctx);
    "Connection stats reset.\n".to_string()
}

/// The reset itself (also the AdminServer's `connection_stat_reset`).
pub fn reset_all(ctx: &CommandContext<'_>) {
    if let Some(registry) = ctx.registry {
        for cnxn in registry.connections() {
            let info = cnxn.info();
            cnxn.stats.reset(info.received, info.sent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::cnxn_stats::CnxnStats;

    fn info(session_id: i64) -> ConnectionInfo {
        let mut stats = CnxnStats::new().snapshot();
        stats.established_ms = 1795336054969;
        ConnectionInfo {
            remote: "127.0.0.1:40428".parse().unwrap(),
            interest_ops: 1,
            queued: 0,
            received: 5,
            sent: 5,
            session_id,
            stats,
        }
    }

    #[test]
    fn sessionless_connection_is_brief() {
        assert_eq!(
            full_line(&info(0)),
            " /127.0.0.1:40428[1](queued=0,recved=5,sent=5)"
        );
    }

    #[test]
    fn session_fields_in_java_order() {
        let mut i = info(0x100000a71af0000);
        i.stats.session_timeout = 10000;
        assert_eq!(
            full_line(&i),
            " /127.0.0.1:40428[1](queued=0,recved=5,sent=5,sid=0x100000a71af0000,lop=NA,\
             est=1795336054969,to=10000,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0)"
        );
        i.stats.last_cxid = 4;
        i.stats.last_zxid = 2;
        i.stats.last_op = "GETC";
        let line = full_line(&i);
        assert!(line.contains(",lop=GETC,"), "{}", line);
        assert!(line.contains(",to=10000,lcxid=0x4,lzxid=0x2,"), "{}", line);
    }

    #[test]
    fn counts_since_reset() {
        let mut i = info(0);
        i.stats.received_at_reset = 3;
        i.stats.sent_at_reset = 5;
        assert_eq!(
            full_line(&i),
            " /127.0.0.1:40428[1](queued=0,recved=2,sent=0)"
        );
    }
}
