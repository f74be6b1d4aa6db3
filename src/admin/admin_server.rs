//! The AdminServer: HTTP on `admin.serverAddress:admin.serverPort`
//! (0.0.0.0:8080). `GET <admin.commandURL>` (`/commands`) lists links to
//! every command; `GET /commands/<name-or-alias>?k=v` answers the
//! command's JSON (always 200, errors inside the JSON, as Java); any other
//! path is 404 and any method but GET/HEAD 405. Java 3.9's `snapshot`
//! (`snap`) is served too but not listed (the list is Java 3.8.0's); it
//! answers only a caller whose `Authorization` header names an identity
//! holding every permission on `/` (`auth_request`), else 401/403 with
//! Java's JSON, and then streams the snapshot (`snapshot_command`).
//!
//! Commands answer from a [`ServerView`]: the standalone server, or in
//! quorum mode whichever server the peer's current role serves with (one
//! AdminServer per process, started once, not per role). While no role
//! serves, commands that need a server answer Java's "not currently
//! serving" error under the name they were called by, and `monitor`
//! answers 500 as Java's (whose MonitorCommand fails on the missing
//! server).
//!
//! HTTPS: `admin.forceHttps` (TLS only) or `admin.portUnification` (TLS
//! and plain HTTP on the port), with the quorum's key and trust stores
//! and, with `admin.needClientAuth`, a required client certificate (see
//! `config::admin_tls`); the `/metrics` endpoint stays plain HTTP, as
//! Java's Prometheus provider's.
//!
//! Threads: those of its [`HttpServer`] (named `AdminServer-io` and
//! `AdminServer-worker-N`): connections wait in one poll loop, two workers
//! run commands; `admin.idleTimeout` bounds each request head and each
//! pause of a response write, 8 KiB each request head. `shutdown` stops and joins
//! them. A port that cannot be bound is an error for the caller:
//! standalone Java 3.8.0 exits with code 4 then, a quorum peer only warns.
//!
//! Mirrors: `org.apache.zookeeper.server.admin.JettyAdminServer`.

use std::fmt;
use std::sync::Arc;

use log::{debug, info, warn};
use std::time::Duration;

use super::auth_request::{self, AuthVerdict, Connection, ALL_ON_ROOT};
use super::commands;
use super::http_server::{error_page, HttpRequest, HttpResponse, HttpServer, HttpTls, Limits};
use super::json_outputter;
use super::server_view::{FixedServer, ServerView};
use super::snapshot_command::{self, json_answer, SnapshotCommand};
use crate::common::x500_principal::subject_name;
use crate::common::x509_util::{chain_is_trusted, ChainVerifier};
use crate::config::admin_tls::AdminTlsMode;
use crate::config::server_config::ServerConfig;
use crate::server::auth::ip_authentication_provider::host_address;
use crate::server::command::CommandContext;
use crate::server::server_cnxn_factory::CnxnRegistry;
use crate::server::zookeeper_server::ZooKeeperServer;

/// `ExitCode.ERROR_STARTING_ADMIN_SERVER`.
pub const EXIT_ERROR_STARTING_ADMIN_SERVER: i32 = 4;

/// The AdminServer could not start.
#[derive(Debug)]
pub struct AdminServerError {
    /// Java's message: "Problem starting AdminServer on address ..., port
    /// ... and command URL ...".
    pub message: String,
    /// What the OS said.
    pub cause: String,
}

impl fmt::Display for AdminServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.message, self.cause)
    }
}

impl std::error::Error for AdminServerError {}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The command URL itself: the list of links.
    Index,
    /// A command (or an unknown name) and its query parameters.
    Command(String, Vec<(String, String)>),
    /// Outside the command URL.
    NotFound,
}

/// Routes a request target (`/commands/stat?x=1`) under `command_url`.
pub fn route(target: &str, command_url: &str) -> Route {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let base = command_url.trim_end_matches('/');
    let Some(rest) = path.strip_prefix(base) else {
        return Route::NotFound;
    };
    match rest {
        "" | "/" => Route::Index,
        _ => match rest.strip_prefix('/') {
            Some(name) => Route::Command(percent_decode(name), parse_query(query)),
            None => Route::NotFound,
        },
    }
}

/// `k=v&k2=v2`, percent-decoded, `+` as space; the first value of a key wins.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (
            percent_decode(&k.replace('+', " ")),
            percent_decode(&v.replace('+', " ")),
        );
        if !out.iter().any(|(existing, _)| *existing == k) {
            out.push((k, v));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The link list (`JettyAdminServer.commandLinks`), one line per link.
pub fn index_page(command_url: &str) -> String {
    let base = command_url.trim_end_matches('/');
    commands::primary_names()
        .iter()
        .map(|name| format!("<a href=\"{}/{}\">{}</a>\n<br/>\n", base, name, name))
        .collect()
}

/// The running AdminServer.
pub struct AdminServer {
    http: HttpServer,
    /// What was configured, for the log lines.
    description: String,
    stopped: bool,
}

impl AdminServer {
    /// Binds and starts serving a standalone server.
    pub fn start(
        zks: Arc<ZooKeeperServer>,
        registry: Arc<CnxnRegistry>,
    ) -> Result<AdminServer, AdminServerError> {
        let view = Arc::new(FixedServer { zks, registry });
        AdminServer::start_view(view.clone(), view.zks.config())
    }

    /// Binds `admin.serverAddress:admin.serverPort` and serves whatever
    /// server `view` shows at each request.
    pub fn start_view(
        view: Arc<dyn ServerView>,
        cfg: &ServerConfig,
    ) -> Result<AdminServer, AdminServerError> {
        let (address, port, url) = (
            cfg.admin_server_address.clone(),
            cfg.admin_server_port,
            cfg.admin_command_url.clone(),
        );
        let description = format!("address {}, port {} and command URL {}", address, port, url);
        let problem = |cause: String| AdminServerError {
            message: format!("Problem starting AdminServer on {}", description),
            cause,
        };
        let whitelist = cfg.four_letter_word_whitelist.clone();
        let x509_super_user = cfg
            .system_properties
            .get("zookeeper.X509AuthenticationProvider.superUser")
            .map(str::to_string);
        let x509_verifier = cfg.admin_tls.as_ref().and_then(|t| t.x509_verifier.clone());
        let worker = Worker {
            x509_verifier,
            view,
            whitelist,
            command_url: url,
            snapshot: SnapshotCommand::new(cfg),
            use_x_forwarded_for: cfg.ip_use_x_forwarded_for,
            x509_super_user,
        };
        let limits = Limits {
            deadline: Duration::from_millis(cfg.admin_idle_timeout_ms.max(1)),
            ..Limits::default()
        };
        let handler = Arc::new(move |r: &HttpRequest| worker.answer(r));
        let tls = cfg.admin_tls.as_ref().map(|t| match t.mode {
            AdminTlsMode::ForceHttps => HttpTls::Force(t.server_config.clone()),
            AdminTlsMode::PortUnification => HttpTls::Unified(t.server_config.clone()),
        });
        let http = HttpServer::bind_tls(
            (address.as_str(), port),
            "AdminServer",
            limits,
            handler,
            tls,
        )
        .map_err(|e| problem(e.to_string()))?;
        info!("Started AdminServer on {}", description);
        Ok(AdminServer {
            http,
            description,
            stopped: false,
        })
    }

    /// The bound port (the real one when 0 was configured).
    pub fn port(&self) -> Option<u16> {
        Some(self.http.local_addr().port())
    }

    /// Stops taking requests and joins the threads.
    pub fn shutdown(&mut self) {
        if !self.stopped {
            self.stopped = true;
            self.http.shutdown();
            info!("Stopped AdminServer on {}", self.description);
        }
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What answers requests (shared by the worker threads).
struct Worker {
    /// Where the serving server is looked up, per request.
    view: Arc<dyn ServerView>,
    /// `4lw.commands.whitelist` (commands report it, never filter by it).
    whitelist: Vec<String>,
    command_url: String,
    /// 3.9's `snapshot`, with its rate limit.
    snapshot: SnapshotCommand,
    /// `IPAuthenticationProvider.usexforwardedfor`.
    use_x_forwarded_for: bool,
    /// `X509AuthenticationProvider.superUser`.
    x509_super_user: Option<String>,
    /// Checks a client certificate for the `x509` scheme.
    x509_verifier: Option<ChainVerifier>,
}

impl Worker {
    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        debug!("AdminServer {} {}", request.method, request.target);
        if matches!(request.method.as_str(), "GET" | "HEAD" | "POST") {
            if let Route::Command(name, params) = route(&request.target, &self.command_url) {
                if snapshot_command::is_snapshot(&name) {
                    return self.protected(&name, &params, request);
                }
            }
        }
        let (status, content_type, body) = self.route(&request.method, &request.target);
        HttpResponse::text(status, content_type, body)
    }

    /// A command Java guards with an `AuthRequest` (`snapshot`): the
    /// serving check, the auth check, then the command.
    fn protected(
        &self,
        name: &str,
        params: &[(String, String)],
        request: &HttpRequest,
    ) -> HttpResponse {
        let Some(server) = self.view.server() else {
            return json_answer(200, name, Some(crate::server::command::ZK_NOT_SERVING));
        };
        let state = server.server_state();
        let root_acl = server
            .zk_database()
            .tree
            .read()
            .get_acl_of(ALL_ON_ROOT.path)
            .map(|(acl, _)| acl);
        let Ok(root_acl) = root_acl else {
            return json_answer(500, name, Some("Error occurred during auth"));
        };
        let verdict = auth_request::check(
            &state.auth,
            state.config.skip_acl,
            &root_acl,
            ALL_ON_ROOT,
            request.authorization.as_deref(),
            &self.connection_of(request),
            self.x509_super_user.as_deref(),
        );
        if verdict != AuthVerdict::Allowed {
            warn!(
                "AdminServer: {} from {:?} refused: {}",
                name,
                request.remote,
                verdict.error().unwrap_or_default()
            );
            return json_answer(verdict.status(), name, verdict.error());
        }
        if request.method == "POST" {
            // Java 3.9 checks the credentials of a POST too, then fails
            // (a GET command has no POST side): Jetty's 500.
            return HttpResponse::text(500, Some("text/html"), error_page(500, "Server Error"));
        }
        self.snapshot.run(&server, params)
    }

    /// What the request's connection brings to the auth check.
    fn connection_of(&self, request: &HttpRequest) -> Connection {
        let remote = request.remote.map(|a| host_address(a.ip()));
        let client_ip = match (&request.forwarded_for, self.use_x_forwarded_for) {
            // Java takes the first comma-separated token, trimmed.
            (Some(header), true) => header
                .split(',')
                .find(|t| !t.is_empty())
                .map(|t| t.trim().to_string()),
            _ => remote,
        };
        let trusted = match &self.x509_verifier {
            Some(verifier) => chain_is_trusted(verifier, &request.peer_certificates),
            None => false,
        };
        let x509_subject = request
            .peer_certificates
            .first()
            .filter(|_| trusted)
            .and_then(|own| subject_name(own).ok());
        Connection {
            client_ip,
            x509_subject,
        }
    }

    /// Status, content type and body for one request.
    fn route(&self, method: &str, target: &str) -> (u16, Option<&'static str>, String) {
        if !matches!(method, "GET" | "HEAD") {
            return (
                405,
                Some("text/html"),
                error_page(405, "Method Not Allowed"),
            );
        }
        match route(target, &self.command_url) {
            Route::Index => (200, None, index_page(&self.command_url)),
            Route::Command(name, params) => self.command(&name, &params),
            Route::NotFound => (404, Some("text/html"), error_page(404, "Not Found")),
        }
    }

    /// Runs one command against the server serving now (if any).
    fn command(
        &self,
        name: &str,
        params: &[(String, String)],
    ) -> (u16, Option<&'static str>, String) {
        let server = self.view.server();
        if server.is_none() && commands::fails_without_server(name) {
            return (
                500,
                Some("text/html"),
                error_page(500, "Server Error: no server is serving"),
            );
        }
        let registry = self.view.registry();
        let mode = self.view.mode();
        let mut ctx = CommandContext {
            stats: server.as_ref().map(|s| s.stats()),
            mode: &mode,
            connections: registry
                .as_ref()
                .map(|r| r.connection_infos())
                .unwrap_or_default(),
            whitelist: &self.whitelist,
            argument: None,
            server: server.as_deref(),
            registry: registry.as_deref(),
        };
        ctx.drop_closing_connections();
        let json = commands::run(name, params, &ctx);
        (
            200,
            Some(json_outputter::CONTENT_TYPE),
            json_outputter::to_pretty_string(&json),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/commands", "/commands"), Route::Index);
        assert_eq!(route("/commands/", "/commands"), Route::Index);
        assert_eq!(
            route("/commands/stat", "/commands"),
            Route::Command("stat".into(), vec![])
        );
        assert_eq!(
            route("/commands/stmk?traceMask=255&traceMask=1", "/commands"),
            Route::Command("stmk".into(), vec![("traceMask".into(), "255".into())])
        );
        assert_eq!(route("/", "/commands"), Route::NotFound);
        assert_eq!(route("/commandsx", "/commands"), Route::NotFound);
        assert_eq!(
            route("/admin/x", "/admin/"),
            Route::Command("x".into(), vec![])
        );
    }

    #[test]
    fn query_decoding() {
        assert_eq!(
            parse_query("a=%2Fx+y&b"),
            vec![("a".into(), "/x y".into()), ("b".into(), "".into())]
        );
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn index_lists_sorted_links() {
        let page = index_page("/commands");
        assert!(page.starts_with("<a href=\"/commands/configuration\">configuration</a>\n<br/>\n"));
        assert_eq!(page.lines().count(), 2 * 26);
    }
}
