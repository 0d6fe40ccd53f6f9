//! The helm CLI backend: runs a real `helm template` on a private temporary directory.
//!
//! Each render gets its own directory holding the chart, the values files and empty
//! `HELM_CACHE_HOME`/`HELM_CONFIG_HOME`/`HELM_DATA_HOME`, so no repository, plugin or
//! credential of the host is seen, and nothing is left behind. Never run: `dependency
//! update/build` (no network), `--enable-dns`, post-renderers.
//!
//! helm follows the `$ref`s of a chart's `values.schema.json`: it reads `file:` URLs and
//! paths on the host, and downloads `http(s)` URLs — and Go sends requests to loopback
//! addresses past any proxy. So before helm runs, every schema of the chart (subcharts and
//! packaged subcharts included) is read and a `$ref` or `$id` that is not a local `#…`
//! reference or an `https` URL of a named host is refused; and helm runs in its own network
//! namespace (`unshare --net`, no interfaces up) where the host allows one, so nothing it
//! requests reaches the host's loopback or the network. Otherwise its requests go to a proxy
//! that refuses.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::RenderError;
use crate::files::ChartFiles;
use crate::render::{Options, Outcome, Renderer, RendererInfo};

/// Where helm's own HTTP requests are sent: nothing listens on the discard port.
const REFUSING_PROXY: &str = "http://127.0.0.1:9";

/// Renders by running a `helm` binary.
#[derive(Debug)]
pub struct HelmCliRenderer {
    binary: PathBuf,
    version: OnceLock<Result<String, String>>,
}

impl HelmCliRenderer {
    /// A renderer running the given binary.
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        HelmCliRenderer {
            binary: binary.into(),
            version: OnceLock::new(),
        }
    }

    /// Finds `helm`: `$CHARTIMPACT_HELM` if set, else the first `helm` on `PATH`.
    pub fn locate() -> Option<Self> {
        if let Some(p) = std::env::var_os("CHARTIMPACT_HELM") {
            let p = PathBuf::from(p);
            return p.is_file().then(|| Self::new(p));
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|d| d.join("helm"))
            .find(|p| p.is_file())
            .map(Self::new)
    }

    /// The binary this renderer runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// helm's version (`v3.17.1`), asked once.
    pub fn version(&self) -> Result<String, RenderError> {
        self.version
            .get_or_init(|| {
                let out = Command::new(&self.binary)
                    .args(["version", "--template", "{{.Version}}"])
                    .env_clear()
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| e.to_string())?;
                if !out.status.success() {
                    return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
                }
                Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
            })
            .clone()
            .map_err(|reason| RenderError::Unavailable {
                renderer: "helm",
                reason,
            })
    }

    fn args(
        &self,
        chart: &Path,
        values: &[PathBuf],
        set_files: &[PathBuf],
        o: &Options,
    ) -> Vec<std::ffi::OsString> {
        let mut a: Vec<std::ffi::OsString> = vec![
            "template".into(),
            o.release_name.clone().into(),
            chart.into(),
            "--namespace".into(),
            o.namespace.clone().into(),
        ];
        for v in values {
            a.push("--values".into());
            a.push(v.into());
        }
        for s in &o.set {
            a.push("--set".into());
            a.push(s.into());
        }
        for s in &o.set_string {
            a.push("--set-string".into());
            a.push(s.into());
        }
        for s in &o.set_json {
            a.push("--set-json".into());
            a.push(s.into());
        }
        for ((key, _), path) in o.set_file.iter().zip(set_files) {
            // The path is a strvals value: escape what the parser would read as syntax.
            let mut arg = std::ffi::OsString::from(format!("{key}="));
            let path = path.to_string_lossy();
            let mut escaped = String::with_capacity(path.len());
            for c in path.chars() {
                if matches!(c, '\\' | ',' | '{' | '}') {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            arg.push(escaped);
            a.push("--set-file".into());
            a.push(arg);
        }
        if let Some(k) = &o.kube_version {
            a.push("--kube-version".into());
            a.push(k.into());
        }
        for v in &o.api_versions {
            a.push("--api-versions".into());
            a.push(v.into());
        }
        if o.include_crds {
            a.push("--include-crds".into());
        }
        if o.no_hooks {
            a.push("--no-hooks".into());
        }
        if o.skip_tests {
            a.push("--skip-tests".into());
        }
        a
    }
}

impl Renderer for HelmCliRenderer {
    fn info(&self) -> RendererInfo {
        RendererInfo {
            name: "helm",
            version: self.version().unwrap_or_else(|_| "unknown".into()),
        }
    }

    /// The binary's path, size and modification time: a new helm binary is a new identity,
    /// without running `helm version` (which costs a process start) on every call.
    fn cache_identity(&self) -> String {
        let meta = std::fs::metadata(&self.binary).ok();
        let size = meta.as_ref().map(|m| m.len()).unwrap_or(0);
        let mtime = meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("helm:{}:{size}:{mtime}", self.binary.display())
    }

    fn render(&self, chart: &ChartFiles, options: &Options) -> Result<Outcome, RenderError> {
        options.validate()?;
        check_schema_refs(
            chart,
            &mut crate::budget::Budget::new(options.max_memory_bytes),
            0,
        )?;
        let version = self.version()?;
        let work = tempfile::Builder::new()
            .prefix("chartimpact-helm-")
            .tempdir()
            .map_err(|source| RenderError::Process {
                what: "a temporary directory".into(),
                source,
            })?;
        let chart_dir = work.path().join("chart");
        std::fs::create_dir(&chart_dir).map_err(|source| RenderError::Process {
            what: "a temporary directory".into(),
            source,
        })?;
        chart.write_to(&chart_dir)?;
        let mut values = Vec::new();
        for (i, v) in options.values.iter().enumerate() {
            let p = work.path().join(format!("values-{i}.yaml"));
            std::fs::write(&p, &v.content).map_err(|source| RenderError::Process {
                what: format!("writing values file {}", v.name),
                source,
            })?;
            values.push(p);
        }
        // `--set-file` content goes into the temporary directory too: helm only ever reads
        // files this renderer wrote.
        let mut set_files = Vec::new();
        for (i, (key, content)) in options.set_file.iter().enumerate() {
            let p = work.path().join(format!("set-file-{i}"));
            std::fs::write(&p, content).map_err(|source| RenderError::Process {
                what: format!("writing --set-file content for {key}"),
                source,
            })?;
            set_files.push(p);
        }
        let home = work.path().join("home");
        let mut cmd = match sandbox() {
            Some(unshare) => {
                let mut c = Command::new(unshare);
                c.args(SANDBOX_ARGS).arg("--").arg(&self.binary);
                c
            }
            None => Command::new(&self.binary),
        };
        cmd.args(self.args(&chart_dir, &values, &set_files, options))
            .env_clear()
            .env("HOME", &home)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("KUBECONFIG", home.join("no-kubeconfig"))
            // helm downloads the http(s) `$ref`s of a chart's values.schema.json. Untrusted
            // charts get no network: every request goes to a proxy that refuses (the discard
            // port on loopback), so helm fails at once, without even resolving the host.
            .env("HTTPS_PROXY", REFUSING_PROXY)
            .env("HTTP_PROXY", REFUSING_PROXY)
            .env("NO_PROXY", "")
            .current_dir(work.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = run_bounded(cmd, options.timeout, options.max_output_bytes)?;
        // The temporary directory is removed when `work` drops, on every path.
        drop(work);
        if !out.success {
            let message = String::from_utf8_lossy(&out.stderr)
                .trim()
                .trim_start_matches("Error: ")
                .to_owned();
            return Err(RenderError::Chart { message });
        }
        let manifest = String::from_utf8(out.stdout).map_err(|_| RenderError::Chart {
            message: "helm printed output that is not UTF-8".into(),
        })?;
        Ok(Outcome {
            manifest,
            renderer: RendererInfo {
                name: "helm",
                version,
            },
        })
    }
}

/// `unshare` arguments: a new user namespace (mapping us to root in it, which needs no
/// privilege) and a new network namespace, whose only interface, loopback, is down.
const SANDBOX_ARGS: &[&str] = &["--user", "--map-root-user", "--net"];

/// The `unshare` binary, if network namespaces can be made here (asked once: some containers
/// and kernels refuse unprivileged user namespaces).
pub(crate) fn sandbox() -> Option<&'static Path> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let unshare = ["/usr/bin/unshare", "/bin/unshare"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())?;
            let ok = Command::new(&unshare)
                .args(SANDBOX_ARGS)
                .arg("--")
                .arg("true")
                .env_clear()
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            ok.then_some(unshare)
        })
        .as_deref()
}

impl HelmCliRenderer {
    /// Whether helm runs without network here: in its own network namespace. When false,
    /// its requests go to a refusing proxy, and the schema check alone keeps it from
    /// loopback addresses.
    pub fn sandboxed() -> bool {
        sandbox().is_some()
    }
}

/// Refuses a chart whose `values.schema.json` (its own, a subchart's, or one in a packaged
/// subchart) has a `$ref` or `$id` helm would resolve outside the schema: a file, a relative
/// path, or a URL that is not `https` to a named host. helm would read the host's files and
/// fetch loopback URLs (Go never proxies loopback) for anyone who can submit a chart.
fn check_schema_refs(
    chart: &ChartFiles,
    budget: &mut crate::budget::Budget,
    depth: usize,
) -> Result<(), RenderError> {
    for (path, data) in chart.iter() {
        if path.ends_with(".tgz") && path.contains("charts/") {
            if depth >= crate::budget::MAX_SUBCHART_DEPTH {
                continue;
            }
            let limits = crate::FileLimits {
                max_total_bytes: budget.remaining(),
                ..crate::FileLimits::default()
            };
            // An archive that cannot be read is helm's to report; it cannot load it either.
            if let Ok(sub) = ChartFiles::from_tgz(data, limits) {
                budget
                    .charge(sub.total_bytes(), path)
                    .map_err(crate::native::load_to_render)?;
                check_schema_refs(&sub, budget, depth + 1).map_err(|e| match e {
                    RenderError::Chart { message } => RenderError::Chart {
                        message: format!("{path}: {message}"),
                    },
                    e => e,
                })?;
            }
            continue;
        }
        if path != "values.schema.json" && !path.ends_with("/values.schema.json") {
            continue;
        }
        // A schema helm cannot parse fails there, with helm's message.
        let Ok(schema) = serde_json::from_slice::<serde_json::Value>(data) else {
            continue;
        };
        if let Some((key, target)) = outside_reference(&schema) {
            return Err(RenderError::Chart {
                message: format!(
                    "{path}: {key} {target:?} is refused: the helm renderer resolves only \
                     references within the schema (\"#/…\") and https URLs of named hosts"
                ),
            });
        }
    }
    Ok(())
}

/// The first `$ref`/`$id`/`id` in a schema that points outside it, with its key.
fn outside_reference(schema: &serde_json::Value) -> Option<(&'static str, String)> {
    use serde_json::Value as J;
    let mut stack = vec![schema];
    while let Some(v) = stack.pop() {
        match v {
            J::Array(items) => stack.extend(items),
            J::Object(o) => {
                for (k, x) in o {
                    let key = match k.as_str() {
                        "$ref" => "$ref",
                        "$id" => "$id",
                        "id" => "id",
                        // Data, not schemas: keys in them mean nothing to the validator.
                        "enum" | "const" | "default" | "examples" => continue,
                        _ => {
                            stack.push(x);
                            continue;
                        }
                    };
                    match x {
                        J::String(target) if !allowed_reference(target) => {
                            return Some((key, target.clone()));
                        }
                        // `id` may also name a property whose schema is an object.
                        J::String(_) => {}
                        other => stack.push(other),
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// `#…` within the schema, or an `https` URL whose host is a name (not an address, not
/// `localhost`): with no network those fail in helm, as before, but never reach the host.
fn allowed_reference(r: &str) -> bool {
    if r.starts_with('#') {
        return true;
    }
    let Some(rest) = r.strip_prefix("https://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // `user@host:port`: the host is after the last `@`, before the port.
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if host_port.starts_with('[') {
        return false;
    }
    let host = host_port
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let named = host.contains('.')
        && host.chars().any(|c| c.is_ascii_alphabetic())
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    named
        && host.parse::<std::net::IpAddr>().is_err()
        && host != "localhost"
        && !host.ends_with(".localhost")
        && !host.ends_with(".localhost.")
}

struct Finished {
    success: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs a command, killing it when it overruns `timeout` or prints more than `max` bytes.
fn run_bounded(mut cmd: Command, timeout: Duration, max: usize) -> Result<Finished, RenderError> {
    let mut child = cmd.spawn().map_err(|source| RenderError::Unavailable {
        renderer: "helm",
        reason: format!("cannot run helm: {source}"),
    })?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let r = (&mut stdout).take(max as u64 + 1).read_to_end(&mut buf);
        // Keep draining so the child never blocks on a full pipe before it is killed.
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        r.map(|_| buf)
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let r = (&mut stderr).take(1 << 20).read_to_end(&mut buf);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        r.map(|_| buf)
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = out_reader.join();
                let _ = err_reader.join();
                return Err(RenderError::Timeout {
                    seconds: timeout.as_secs_f64(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(source) => {
                return Err(RenderError::Process {
                    what: "helm".into(),
                    source,
                });
            }
        }
    };
    let stdout = out_reader
        .join()
        .map_err(|_| RenderError::Chart {
            message: "reading helm's output failed".into(),
        })?
        .map_err(|source| RenderError::Process {
            what: "reading helm's output".into(),
            source,
        })?;
    let stderr = err_reader
        .join()
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    if stdout.len() > max {
        return Err(RenderError::OutputTooLarge { limit: max });
    }
    Ok(Finished {
        success: status.success(),
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_outside_the_schema_are_refused() {
        for ok in [
            "#",
            "#/definitions/a",
            "https://json.schemastore.org/x.json",
            "https://user@example.com:8443/s.json#/a",
        ] {
            assert!(allowed_reference(ok), "{ok}");
        }
        for refused in [
            "http://example.com/s.json",
            "file:///etc/passwd",
            "FILE:///etc/passwd",
            "../../../../etc/passwd",
            "/etc/passwd",
            "other.json",
            "//example.com/s.json",
            "https://127.0.0.1:8080/",
            "https://[::1]/",
            "https://localhost/",
            "https://api.localhost/",
            "https://2130706433/",
            "https://example.com@127.0.0.1/",
            "https:///etc/passwd",
        ] {
            assert!(!allowed_reference(refused), "{refused}");
        }
    }

    #[test]
    fn every_schema_position_is_checked_but_data_is_not() {
        let schema: serde_json::Value = serde_json::from_str(
            r#"{"properties":{"id":{"type":"string"},"a":{"items":[{"allOf":[{"$ref":"file:///x"}]}]}},
                "default":{"id":"file:///not-a-schema"}}"#,
        )
        .unwrap();
        assert_eq!(
            outside_reference(&schema),
            Some(("$ref", "file:///x".to_string()))
        );
        let data_only: serde_json::Value = serde_json::from_str(
            r#"{"enum":[{"$ref":"file:///x"}],"examples":[{"$id":"x"}],"properties":{"id":{"type":"string"}}}"#,
        )
        .unwrap();
        assert_eq!(outside_reference(&data_only), None);
        let id: serde_json::Value =
            serde_json::from_str(r#"{"$id":"http://127.0.0.1:1/","type":"object"}"#).unwrap();
        assert_eq!(
            outside_reference(&id),
            Some(("$id", "http://127.0.0.1:1/".to_string()))
        );
    }

    #[test]
    fn the_sandbox_has_no_way_to_the_hosts_loopback() {
        let Some(unshare) = sandbox() else {
            eprintln!("skipping: unprivileged network namespaces are not available here");
            return;
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connect = format!("exec 3<>/dev/tcp/127.0.0.1/{port}");
        let outside = Command::new("bash")
            .args(["-c", &connect])
            .status()
            .unwrap();
        assert!(outside.success(), "the probe connects without the sandbox");
        let inside = Command::new(unshare)
            .args(SANDBOX_ARGS)
            .args(["--", "bash", "-c", &connect])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!inside.success(), "the sandbox reached the host's loopback");
    }
}
