//! `gtmk` / `stmk`: read and set the trace mask — which request kinds
//! Java's tracer logs. We keep the value (tools read it back) though our
//! logging is driven by `RUST_LOG`.
//!
//! Process-wide, like Java's static `ZooTrace` mask; any thread.
//!
//! Mirrors: `org.apache.zookeeper.server.command.TraceMaskCommand`,
//! `SetTraceMaskCommand` and `ZooTrace`'s mask.

use std::sync::atomic::{AtomicI64, Ordering};

/// `ZooTrace`'s default: client request, client ping and session traces
/// (0b100110010).
pub const DEFAULT_TRACE_MASK: i64 = 306;

static TRACE_MASK: AtomicI64 = AtomicI64::new(DEFAULT_TRACE_MASK);

/// `gtmk`: the current mask.
pub fn get() -> i64 {
    TRACE_MASK.load(Ordering::Relaxed)
}

/// `stmk`: sets the mask and returns it (what the command echoes).
pub fn set(mask: i64) -> i64 {
    TRACE_MASK.store(mask, Ordering::Relaxed);
    mask
}

#[cfg(test)]
mod tests {
    #[test]
    fn set_then_get() {
        let before = super::get();
        assert_eq!(super::set(255), 255);
        assert_eq!(super::get(), 255);
        super::set(before);
    }
}
