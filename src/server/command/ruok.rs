//! `ruok`: "are you ok?" — answers `imok` (no newline) whenever the
//! process can answer at all, even when not serving requests.
//!
//! Runs on the asking connection's reader thread.
//!
//! Mirrors: `org.apache.zookeeper.server.command.RuokCommand`.

/// The whole answer.
pub fn run() -> String {
    "imok".to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn answers_imok_without_newline() {
        assert_eq!(super::run(), "imok");
    }
}
