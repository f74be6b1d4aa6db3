//! `zk-bench compare`: read the JSON lines of many runs, take the median
//! of each figure per (case, label), and print Java and ours side by side
//! with the ratio and whether each performance target is met.
//!
//! Pure code except [`run`], which reads the files and prints. Runs on
//! the main thread.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;

use crate::error::BenchError;
use crate::report::{parse_json_line, Value};

/// How a target judges a figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// ours / baseline must be at least this.
    RatioAtLeast(f64),
    /// ours / baseline must be at most this.
    RatioAtMost(f64),
    /// ours must be at most this, in the figure's own unit.
    AtMost(f64),
    /// ours must be at least this, in the figure's own unit.
    AtLeast(f64),
}

/// One row of the targets table.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub case: &'static str,
    pub metric: &'static str,
    pub goal: Goal,
}

/// The targets of issues 6 (standalone) and 15 (ensembles: case names
/// `ens-*`, matched by [`target_case`]), keyed by the case names
/// scripts/bench.sh uses.
pub const TARGETS: &[Target] = &[
    Target {
        case: "ens-create",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "ens-create",
        metric: "p99_us",
        goal: Goal::RatioAtMost(0.5),
    },
    Target {
        case: "ens-set",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "ens-set",
        metric: "p99_us",
        goal: Goal::RatioAtMost(0.5),
    },
    Target {
        case: "ens-get",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(3.0),
    },
    Target {
        case: "ens-mixed",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(3.0),
    },
    Target {
        case: "ens-failover",
        metric: "first_write_ms",
        goal: Goal::RatioAtMost(0.5),
    },
    Target {
        case: "ens-failover",
        metric: "all_connected_ms",
        goal: Goal::RatioAtMost(0.5),
    },
    Target {
        case: "ens-failover",
        metric: "sessions_expired",
        goal: Goal::AtMost(0.0),
    },
    Target {
        case: "ens-snap-sync",
        metric: "follower_serving_ms",
        goal: Goal::RatioAtMost(0.25),
    },
    Target {
        case: "ens-snap-sync",
        metric: "p99_us",
        goal: Goal::RatioAtMost(0.5),
    },
    Target {
        case: "ens-watches",
        metric: "rss_per_watch_bytes",
        goal: Goal::RatioAtMost(0.25),
    },
    Target {
        case: "ens-watches",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "ens-sessions-max",
        metric: "sessions_held",
        goal: Goal::AtLeast(50_000.0),
    },
    Target {
        case: "ens-sessions-max",
        metric: "rss_per_session_bytes",
        goal: Goal::AtMost(8192.0),
    },
    Target {
        case: "ens-sessions-max",
        metric: "server_alive",
        goal: Goal::AtLeast(1.0),
    },
    Target {
        case: "create",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "create",
        metric: "p99_us",
        goal: Goal::RatioAtMost(0.5),
    },
    Target {
        case: "set",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "set",
        metric: "p99_us",
        goal: Goal::RatioAtMost(0.5),
    },
    Target {
        case: "get",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "get",
        metric: "cpu_us_per_op",
        goal: Goal::RatioAtMost(0.5),
    },
    Target {
        case: "exists",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "exists",
        metric: "cpu_us_per_op",
        goal: Goal::RatioAtMost(0.5),
    },
    Target {
        case: "mixed",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "get-1x1",
        metric: "p50_us",
        goal: Goal::RatioAtMost(0.6),
    },
    Target {
        case: "set-1x1",
        metric: "p50_us",
        goal: Goal::RatioAtMost(0.6),
    },
    Target {
        case: "watch",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "watch-1node",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "connect",
        metric: "ops_per_s",
        goal: Goal::RatioAtLeast(2.0),
    },
    Target {
        case: "sessions",
        metric: "rss_per_session_bytes",
        goal: Goal::AtMost(8192.0),
    },
    // 300 MB, decimal: 300e6 bytes in KiB.
    Target {
        case: "load",
        metric: "rss_kib",
        goal: Goal::AtMost(300e6 / 1024.0),
    },
    Target {
        case: "recover",
        metric: "first_reply_ms",
        goal: Goal::RatioAtMost(0.25),
    },
    Target {
        case: "startup",
        metric: "first_reply_ms",
        goal: Goal::AtMost(20.0),
    },
];

/// Figures shown for every case when present, in this order.
const METRICS: &[(&str, &str)] = &[
    ("ops_per_s", "ops/s"),
    ("p50_us", "p50 us"),
    ("p99_us", "p99 us"),
    ("cpu_us_per_op", "server cpu us/op"),
    ("client_cpu_us_per_op", "client cpu us/op"),
    ("rss_kib", "server RSS KiB"),
    ("rss_per_session_bytes", "RSS B/session"),
    ("first_reply_ms", "first reply ms"),
    ("first_write_ms", "first acked write ms"),
    ("all_connected_ms", "all sessions back ms"),
    ("sessions_dropped", "sessions dropped"),
    ("sessions_expired", "sessions expired"),
    ("sessions_lost", "sessions not back"),
    ("follower_serving_ms", "follower serving ms"),
    ("leader_sees_follower_ms", "leader sees follower ms"),
    ("watches_set", "watches set"),
    ("rss_per_watch_bytes", "RSS B/watch"),
    ("sessions_held", "sessions held"),
    ("server_alive", "server alive (1/0)"),
    ("errors", "errors"),
];

/// The case name the targets use: `ens3-create` and `ens5-create` are
/// both `ens-create` (the targets do not depend on the ensemble's size).
pub fn target_case(case: &str) -> String {
    if let Some(rest) = case.strip_prefix("ens") {
        if let Some((digits, name)) = rest.split_once('-') {
            if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
                return format!("ens-{}", name);
            }
        }
    }
    case.to_string()
}

/// Whether a target holds; None when a figure is missing.
pub fn met(goal: Goal, ours: Option<f64>, baseline: Option<f64>) -> Option<bool> {
    match goal {
        Goal::AtMost(limit) => ours.map(|v| v <= limit),
        Goal::AtLeast(limit) => ours.map(|v| v >= limit),
        Goal::RatioAtLeast(r) => Some(ours? >= r * baseline?),
        Goal::RatioAtMost(r) => Some(ours? <= r * baseline?),
    }
}

fn goal_text(goal: Goal) -> String {
    match goal {
        Goal::RatioAtLeast(r) => format!(">= {}x", r),
        Goal::RatioAtMost(r) => format!("<= {}x", r),
        Goal::AtMost(v) => format!("<= {}", fmt_num(v)),
        Goal::AtLeast(v) => format!(">= {}", fmt_num(v)),
    }
}

/// The median; the mean of the middle two for an even count.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 || (v == v.trunc() && v.abs() < 1e15) {
        format!("{:.0}", v)
    } else if v.abs() >= 1.0 {
        format!("{:.2}", v)
    } else {
        format!("{:.3}", v)
    }
}

/// Runs per case (in first-seen order), then per label.
type Runs = Vec<(String, BTreeMap<String, Vec<BTreeMap<String, Value>>>)>;

/// Groups parsed JSON lines by case and label.
pub fn group(lines: &str) -> Runs {
    let mut runs: Runs = Vec::new();
    for map in lines
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .filter_map(parse_json_line)
    {
        let text = |k: &str| match map.get(k) {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        };
        let (case, label) = (text("case"), text("label"));
        let pos = match runs.iter().position(|(c, _)| *c == case) {
            Some(p) => p,
            None => {
                runs.push((case, BTreeMap::new()));
                runs.len() - 1
            }
        };
        runs[pos].1.entry(label).or_default().push(map);
    }
    runs
}

fn median_of(runs: Option<&Vec<BTreeMap<String, Value>>>, metric: &str) -> Option<f64> {
    let mut values: Vec<f64> = runs?
        .iter()
        .filter_map(|m| match m.get(metric) {
            Some(Value::Num(v)) => Some(*v),
            _ => None,
        })
        .collect();
    median(&mut values)
}

/// The side-by-side markdown table.
pub fn table(runs: &Runs, baseline: &str, ours: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| case | figure | {} | {} | {}/{} | target | met |",
        baseline, ours, ours, baseline
    );
    let _ = writeln!(t, "|---|---|---:|---:|---:|---|---|");
    for (case, by_label) in runs {
        let count = |l: &str| by_label.get(l).map_or(0, |v| v.len());
        let name = format!("{} ({}+{} runs)", case, count(baseline), count(ours));
        let mut first = true;
        for (metric, title) in METRICS {
            let b = median_of(by_label.get(baseline), metric);
            let o = median_of(by_label.get(ours), metric);
            if b.is_none() && o.is_none() {
                continue;
            }
            let target_name = target_case(case);
            let target = TARGETS
                .iter()
                .find(|t| t.case == target_name && t.metric == *metric);
            let ratio = match (o, b) {
                (Some(o), Some(b)) if b != 0.0 => fmt_num(o / b),
                _ => "-".into(),
            };
            let (goal, verdict) = match target {
                Some(t) => (
                    goal_text(t.goal),
                    match met(t.goal, o, b) {
                        Some(true) => "yes",
                        Some(false) => "**no**",
                        None => "?",
                    },
                ),
                None => (String::new(), ""),
            };
            let show = |v: Option<f64>| v.map_or("-".into(), fmt_num);
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} | {} | {} |",
                if first { name.as_str() } else { "" },
                title,
                show(b),
                show(o),
                ratio,
                goal,
                verdict
            );
            first = false;
        }
    }
    t
}

/// `zk-bench compare [--baseline L] [--ours L] FILE...`.
pub fn run(args: &[String]) -> Result<(), BenchError> {
    let (mut baseline, mut ours, mut files) = ("java".to_string(), "rust".to_string(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--baseline" => {
                baseline = it
                    .next()
                    .cloned()
                    .ok_or_else(|| BenchError::Usage("--baseline needs a label".into()))?
            }
            "--ours" => {
                ours = it
                    .next()
                    .cloned()
                    .ok_or_else(|| BenchError::Usage("--ours needs a label".into()))?
            }
            _ => files.push(a.clone()),
        }
    }
    if files.is_empty() {
        return Err(BenchError::Usage(
            "compare needs at least one results file".into(),
        ));
    }
    let mut all = String::new();
    for f in &files {
        all.push_str(&fs::read_to_string(f)?);
        all.push('\n');
    }
    print!("{}", table(&group(&all), &baseline, &ours));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn goals() {
        assert_eq!(
            met(Goal::RatioAtLeast(2.0), Some(20.0), Some(10.0)),
            Some(true)
        );
        assert_eq!(
            met(Goal::RatioAtLeast(2.0), Some(19.0), Some(10.0)),
            Some(false)
        );
        assert_eq!(
            met(Goal::RatioAtMost(0.5), Some(5.0), Some(10.0)),
            Some(true)
        );
        assert_eq!(
            met(Goal::RatioAtMost(0.5), Some(6.0), Some(10.0)),
            Some(false)
        );
        assert_eq!(met(Goal::AtMost(20.0), Some(19.0), None), Some(true));
        assert_eq!(met(Goal::RatioAtMost(0.5), Some(6.0), None), None);
    }

    #[test]
    fn table_takes_medians_and_judges_targets() {
        let lines = "\
{\"case\":\"get\",\"label\":\"java\",\"ops_per_s\":100,\"cpu_us_per_op\":10,\"errors\":0}
noise line
{\"case\":\"get\",\"label\":\"rust\",\"ops_per_s\":150,\"cpu_us_per_op\":4,\"errors\":0}
{\"case\":\"get\",\"label\":\"rust\",\"ops_per_s\":250,\"cpu_us_per_op\":6,\"errors\":0}
{\"case\":\"get\",\"label\":\"rust\",\"ops_per_s\":210,\"cpu_us_per_op\":5,\"errors\":0}
{\"case\":\"startup\",\"label\":\"rust\",\"first_reply_ms\":12.5}
";
        let runs = group(lines);
        assert_eq!(runs.len(), 2);
        let t = table(&runs, "java", "rust");
        assert!(
            t.contains("| get (1+3 runs) | ops/s | 100 | 210 | 2.10 | >= 2x | yes |"),
            "{}",
            t
        );
        assert!(
            t.contains("| server cpu us/op | 10 | 5 | 0.500 | <= 0.5x | yes |"),
            "{}",
            t
        );
        assert!(
            t.contains("| startup (0+1 runs) | first reply ms | - | 12.50 | - | <= 20 | yes |"),
            "{}",
            t
        );
    }

    #[test]
    fn ensemble_cases_share_their_targets() {
        assert_eq!(target_case("ens3-create"), "ens-create");
        assert_eq!(target_case("ens5-snap-sync"), "ens-snap-sync");
        assert_eq!(target_case("create"), "create");
        assert_eq!(target_case("ensx-create"), "ensx-create");
        let lines = "{\"case\":\"ens3-failover\",\"label\":\"java\",\"first_write_ms\":4000,\"sessions_expired\":0}\n{\"case\":\"ens3-failover\",\"label\":\"rust\",\"first_write_ms\":1000,\"sessions_expired\":2}\n";
        let t = table(&group(lines), "java", "rust");
        assert!(
            t.contains("| first acked write ms | 4000 | 1000 | 0.250 | <= 0.5x | yes |"),
            "{}",
            t
        );
        assert!(
            t.contains("| sessions expired | 0 | 2 | - | <= 0 | **no** |"),
            "{}",
            t
        );
    }

    #[test]
    fn a_missed_target_is_marked() {
        let lines = "{\"case\":\"set\",\"label\":\"java\",\"p99_us\":1000}\n{\"case\":\"set\",\"label\":\"rust\",\"p99_us\":900}\n";
        let t = table(&group(lines), "java", "rust");
        assert!(
            t.contains("| p99 us | 1000 | 900 | 0.900 | <= 0.5x | **no** |"),
            "{}",
            t
        );
    }
}
