//! Watch tables. Mirrors: `WatchManager`.
