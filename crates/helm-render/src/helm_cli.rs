//! The helm CLI backend: runs a real `helm template` on a private temporary directory.
//!
//! Each render gets its own directory holding the chart, the values files and empty
//! `HELM_CACHE_HOME`/`HELM_CONFIG_HOME`/`HELM_DATA_HOME`, so no repository, plugin or
//! credential of the host is seen, and nothing is left behind. Never run: `dependency
//! update/build` (no network), `--enable-dns`, post-renderers; the schema `$ref`s helm would
//! download go to a proxy that refuses.

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
        let mut cmd = Command::new(&self.binary);
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
