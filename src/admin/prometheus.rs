//! The Prometheus endpoint: when `metricsProvider.className` names Java's
//! `PrometheusMetricsProvider`, `GET /metrics` on
//! `metricsProvider.httpHost:metricsProvider.httpPort` (0.0.0.0:7000)
//! answers every metric in the Prometheus text format 0.0.4, with the names
//! Java's provider registers: the server's gauges, the counters (no
//! `_total` suffix, as simpleclient 0.9), the summaries with their
//! quantiles (0.5; plus 0.9 and 0.99 at ADVANCED level), `_count` and
//! `_sum`, the per-key summary sets labelled `key`, and the `process_*`
//! figures of `exportJvmInfo` that exist outside a JVM.
//!
//! The gauges are the serving server's (a [`ServerView`]: standalone, or
//! the quorum peer's current role); while no role serves there are none,
//! as Java unregisters them when a role's server shuts down.
//!
//! Threads: those of its bounded [`super::http_server::HttpServer`]
//! (`PrometheusMetricsProvider-io` and two workers). Rendering is a pure
//! function of the metric values.
//!
//! Mirrors: `org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider`
//! and simpleclient's `TextFormat.write004`.

use std::fmt::Write as _;
use std::sync::Arc;

use log::info;

use super::http_server::{HttpRequest, HttpResponse, HttpServer, Limits};
use super::server_view::{FixedServer, ServerView};
use crate::config::server_config::ServerConfig;
use crate::server::command::{java_double_to_string, mntr, CommandContext};
use crate::server::server_cnxn_factory::CnxnRegistry;
use crate::server::server_metrics::{metrics, Detail, MetricValue, Summary};
use crate::server::zookeeper_server::ZooKeeperServer;

/// The provider class that turns the endpoint on.
pub const PROMETHEUS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
/// Providers that need nothing started.
pub const BUILT_IN_PROVIDERS: [&str; 2] = [
    "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider",
    "org.apache.zookeeper.metrics.impl.NullMetricsProvider",
];
/// simpleclient's `TextFormat.CONTENT_TYPE_004`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The gauge sets and counter set Java registers (empty until quotas exist).
const GAUGE_SETS: [&str; 4] = [
    "quota_count_limit_per_namespace",
    "quota_bytes_limit_per_namespace",
    "quota_count_usage_per_namespace",
    "quota_bytes_usage_per_namespace",
];
const COUNTER_SETS: [&str; 1] = ["quota_exceeded_error_per_namespace"];

/// simpleclient's `doubleToGoString`.
fn go_double(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        java_double_to_string(v)
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {} {}", name, name);
    let _ = writeln!(out, "# TYPE {} {}", name, kind);
}

/// The quantiles Java's provider registers for a detail level.
fn quantiles(detail: Detail) -> &'static [f64] {
    match detail {
        Detail::Basic => &[0.5],
        Detail::Advanced => &[0.5, 0.9, 0.99],
    }
}

/// Samples of one summary; `key` = the summary set's label value.
fn summary_samples(out: &mut String, name: &str, key: Option<&str>, summary: &Summary) {
    let labels = key.map_or(String::new(), |k| format!("key=\"{}\",", escape_label(k)));
    let qs = quantiles(summary.detail());
    let values: Vec<f64> = match summary.count() {
        0 => vec![f64::NAN; qs.len()],
        _ => summary.quantiles(qs),
    };
    for (q, v) in qs.iter().zip(values) {
        let _ = writeln!(
            out,
            "{}{{{}quantile=\"{}\",}} {}",
            name,
            labels,
            java_double_to_string(*q),
            go_double(v)
        );
    }
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", labels)
    };
    let _ = writeln!(
        out,
        "{}_count{} {}",
        name,
        braces,
        go_double(summary.count() as f64)
    );
    let _ = writeln!(
        out,
        "{}_sum{} {}",
        name,
        braces,
        go_double(summary.total() as f64)
    );
}

/// The whole exposition: `gauges` are (name, value) of the server's gauges.
pub fn render(gauges: &[(&str, MetricValue)], process: &[(&str, &str, f64)]) -> String {
    let mut out = String::with_capacity(64 * 1024);
    for (name, value) in gauges {
        family(&mut out, name, "gauge");
        let v = match value {
            MetricValue::Long(v) => *v as f64,
            MetricValue::Double(v) => *v,
            MetricValue::Text(_) => 0.0,
        };
        let _ = writeln!(out, "{} {}", name, go_double(v));
    }
    for name in GAUGE_SETS {
        family(&mut out, name, "gauge");
    }
    let m = metrics();
    for (name, counter) in m.counters() {
        family(&mut out, name, "counter");
        let _ = writeln!(out, "{} {}", name, go_double(counter.get() as f64));
    }
    for name in COUNTER_SETS {
        family(&mut out, name, "counter");
    }
    for (name, summary) in m.summaries() {
        family(&mut out, name, "summary");
        summary_samples(&mut out, name, None, summary);
    }
    for (name, set) in m.summary_sets() {
        family(&mut out, name, "summary");
        for (key, summary) in set.entries() {
            summary_samples(&mut out, name, Some(&key), &summary);
        }
    }
    for (name, kind, value) in process {
        family(&mut out, name, kind);
        let _ = writeln!(out, "{} {}", name, go_double(*value));
    }
    out
}

/// `process_*` figures of simpleclient_hotspot's `StandardExports`, read
/// from /proc (missing ones are left out).
pub fn process_metrics() -> Vec<(&'static str, &'static str, f64)> {
    let mut out = Vec::new();
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = 100.0; // USER_HZ on Linux
    if let (Some(utime), Some(stime)) = (
        fields.get(11).and_then(|v| v.parse::<f64>().ok()),
        fields.get(12).and_then(|v| v.parse::<f64>().ok()),
    ) {
        out.push((
            "process_cpu_seconds_total",
            "counter",
            (utime + stime) / ticks,
        ));
    }
    let uptime = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|u| u.split_whitespace().next()?.parse::<f64>().ok());
    let start_ticks = fields.get(19).and_then(|v| v.parse::<f64>().ok());
    if let (Some(uptime), Some(start)) = (uptime, start_ticks) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        out.push((
            "process_start_time_seconds",
            "gauge",
            (now - uptime + start / ticks).floor(),
        ));
    }
    out.push(("process_open_fds", "gauge", mntr::open_fds() as f64));
    out.push(("process_max_fds", "gauge", mntr::max_fds() as f64));
    if let Some(vsize) = fields.get(20).and_then(|v| v.parse::<f64>().ok()) {
        out.push(("process_virtual_memory_bytes", "gauge", vsize));
    }
    if let Some(rss) = fields.get(21).and_then(|v| v.parse::<f64>().ok()) {
        out.push(("process_resident_memory_bytes", "gauge", rss * 4096.0));
    }
    out
}

/// Java boots the metrics provider before anything else and stops when it
/// cannot: an unknown provider class is an error (the message Java logs).
pub fn check_provider(config: &ServerConfig) -> Result<(), String> {
    let name = config.metrics_provider_class_name.as_str();
    if name == PROMETHEUS_PROVIDER || BUILT_IN_PROVIDERS.contains(&name) {
        return Ok(());
    }
    Err(format!(
        "Cannot boot MetricsProvider {}: unknown metrics provider class",
        name
    ))
}

/// Where `/metrics` listens (`metricsProvider.httpHost`, `.httpPort`),
/// or `None` when the Prometheus provider is not configured.
pub fn endpoint_address(config: &ServerConfig) -> Result<Option<(String, u16)>, String> {
    if config.metrics_provider_class_name != PROMETHEUS_PROVIDER {
        return Ok(None);
    }
    let cfg = &config.metrics_provider_configuration;
    let host = cfg
        .get("httpHost")
        .map_or("0.0.0.0", String::as_str)
        .to_string();
    match cfg
        .get("httpPort")
        .map_or(Ok(7000), |p| p.trim().parse::<u16>())
    {
        Ok(port) => Ok(Some((host, port))),
        Err(e) => Err(format!(
            "Cannot boot MetricsProvider {}: httpPort: {}",
            PROMETHEUS_PROVIDER, e
        )),
    }
}

/// The running endpoint.
pub struct PrometheusEndpoint {
    http: HttpServer,
}

impl PrometheusEndpoint {
    /// Binds `host:port` and serves `/metrics` for `zks`.
    pub fn start(
        host: &str,
        port: u16,
        zks: Arc<ZooKeeperServer>,
        registry: Arc<CnxnRegistry>,
    ) -> std::io::Result<PrometheusEndpoint> {
        PrometheusEndpoint::start_view(host, port, Arc::new(FixedServer { zks, registry }))
    }

    /// Binds `host:port` and serves `/metrics` for whatever server `view`
    /// shows at each scrape (threads `PrometheusMetricsProvider-io` and
    /// `-worker-N`, with the limits of [`Limits::default`]).
    pub fn start_view(
        host: &str,
        port: u16,
        view: Arc<dyn ServerView>,
    ) -> std::io::Result<PrometheusEndpoint> {
        info!(
            "Starting /metrics HTTP endpoint at host: {}, port: {}, exportJvmInfo: true",
            host, port
        );
        let handler = Arc::new(move |r: &HttpRequest| answer(r, view.as_ref()));
        let http = HttpServer::bind(
            (host, port),
            "PrometheusMetricsProvider",
            Limits::default(),
            handler,
        )?;
        Ok(PrometheusEndpoint { http })
    }

    /// The bound port.
    pub fn port(&self) -> Option<u16> {
        Some(self.http.local_addr().port())
    }

    /// Stops serving and joins the threads.
    pub fn shutdown(&mut self) {
        self.http.shutdown();
    }
}

/// The serving server's gauges (its role's included), in registration
/// order; none while no server serves.
fn gauge_values(view: &dyn ServerView) -> Vec<(&'static str, MetricValue)> {
    let Some(zks) = view.server() else {
        return Vec::new();
    };
    let registry = view.registry();
    let mode = view.mode();
    let mut ctx = CommandContext {
        stats: Some(zks.stats()),
        mode: &mode,
        connections: registry
            .as_ref()
            .map(|r| r.connection_infos())
            .unwrap_or_default(),
        whitelist: &[],
        argument: None,
        server: Some(&zks),
        registry: registry.as_deref(),
    };
    ctx.drop_closing_connections();
    mntr::all_gauges(&zks, &ctx)
}

fn answer(request: &HttpRequest, view: &dyn ServerView) -> HttpResponse {
    let path = request.target.split('?').next().unwrap_or("");
    match path {
        "/metrics" | "/metrics/" => {
            let body = render(&gauge_values(view), &process_metrics());
            HttpResponse::text(200, Some(CONTENT_TYPE), body)
        }
        _ => HttpResponse::text(404, None, "Not Found\n".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_and_families() {
        let text = render(
            &[
                ("znode_count", MetricValue::Long(8)),
                ("avg_latency", MetricValue::Double(0.5)),
            ],
            &[],
        );
        assert!(text.starts_with(
            "# HELP znode_count znode_count\n# TYPE znode_count gauge\nznode_count 8.0\n"
        ));
        assert!(text.contains("\navg_latency 0.5\n"));
        assert!(text.contains("# TYPE fsynctime summary\nfsynctime{quantile=\"0.5\",} "));
        assert!(text.contains("# TYPE readlatency summary\n"));
        assert!(text.contains("readlatency{quantile=\"0.99\",} "));
        assert!(text.contains("# TYPE bytes_received_count counter\nbytes_received_count "));
        assert!(text.contains("# TYPE quota_count_limit_per_namespace gauge\n"));
    }

    #[test]
    fn summary_sample_lines() {
        let s = Summary::new(Detail::Basic);
        let mut out = String::new();
        summary_samples(&mut out, "write_per_namespace", Some("a"), &s);
        assert_eq!(
            out,
            "write_per_namespace{key=\"a\",quantile=\"0.5\",} NaN\nwrite_per_namespace_count{key=\"a\",} 0.0\n\
             write_per_namespace_sum{key=\"a\",} 0.0\n"
        );
        s.add(4);
        let mut out = String::new();
        summary_samples(&mut out, "fsynctime", None, &s);
        assert_eq!(
            out,
            "fsynctime{quantile=\"0.5\",} 4.0\nfsynctime_count 1.0\nfsynctime_sum 4.0\n"
        );
    }

    #[test]
    fn go_doubles_and_labels() {
        assert_eq!(go_double(f64::NAN), "NaN");
        assert_eq!(go_double(f64::INFINITY), "+Inf");
        assert_eq!(go_double(3.0), "3.0");
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn provider_settings() {
        let mut config =
            ServerConfig::with_defaults("/tmp/unused", "127.0.0.1:2181".parse().unwrap());
        assert_eq!(check_provider(&config), Ok(()));
        assert_eq!(endpoint_address(&config), Ok(None));
        config.metrics_provider_class_name = PROMETHEUS_PROVIDER.to_string();
        assert_eq!(
            endpoint_address(&config),
            Ok(Some(("0.0.0.0".to_string(), 7000)))
        );
        config
            .metrics_provider_configuration
            .insert("httpPort".into(), " 7001".into());
        config
            .metrics_provider_configuration
            .insert("httpHost".into(), "127.0.0.1".into());
        assert_eq!(
            endpoint_address(&config),
            Ok(Some(("127.0.0.1".to_string(), 7001)))
        );
        config
            .metrics_provider_configuration
            .insert("httpPort".into(), "x".into());
        assert!(endpoint_address(&config).is_err());
        config.metrics_provider_class_name = "com.example.Nope".to_string();
        assert!(check_provider(&config)
            .unwrap_err()
            .contains("com.example.Nope"));
    }

    #[test]
    fn process_figures_exist_on_linux() {
        let names: Vec<&str> = process_metrics().iter().map(|(n, _, _)| *n).collect();
        assert!(names.contains(&"process_open_fds"));
        assert!(names.contains(&"process_cpu_seconds_total"));
    }
}
