//! Inspection commands (placeholder while the format layer lands).

/// Runs a persistence subcommand if `args[1]` names one.
pub fn run_tool(args: &[String]) -> Option<i32> {
    let _ = args;
    None
}
