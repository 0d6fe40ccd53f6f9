//! The `Renderer` seam: one request, one manifest stream, whichever engine runs it.

use std::time::Duration;

use crate::error::RenderError;
use crate::files::ChartFiles;

/// A values file to apply, in order, like `helm template -f`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuesFile {
    /// A name for messages (`values/prod.yaml`, `inline`).
    pub name: String,
    /// The YAML text.
    pub content: Vec<u8>,
}

/// How to render: the flags of `helm template`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Release name (`release`).
    pub release_name: String,
    /// Release namespace (`default`).
    pub namespace: String,
    /// `-f` files, applied in order.
    pub values: Vec<ValuesFile>,
    /// `--set key=value` expressions, applied in order after the files.
    pub set: Vec<String>,
    /// `--set-string` expressions.
    pub set_string: Vec<String>,
    /// `--set-json key=JSON` expressions, applied after the files and before `--set`.
    pub set_json: Vec<String>,
    /// `--set-file`, applied last: each a key path (`a.b[0]`, Helm's `--set` key syntax) and
    /// the file's content, which becomes the key's string value. Callers read the files; the
    /// renderers never read paths.
    pub set_file: Vec<(String, Vec<u8>)>,
    /// `--kube-version`.
    pub kube_version: Option<String>,
    /// `--api-versions`.
    pub api_versions: Vec<String>,
    /// `--include-crds`.
    pub include_crds: bool,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// Stop after this long.
    pub timeout: Duration,
    /// Refuse output larger than this.
    pub max_output_bytes: usize,
    /// The render's memory budget: most bytes the input may make one render allocate —
    /// subchart archives decompressed, values files and `values.yaml` read (YAML aliases
    /// expanded), user and coalesced values, the schema validator's copy, and every string,
    /// list and map the templates build plus their output. Counted as allocated, never given
    /// back, and checked before allocating wherever the size is known in advance; exceeding
    /// it is [`RenderError::Limit`] with `limit: "max_memory_bytes"`. Default 256 MiB
    /// ([`crate::DEFAULT_MAX_MEMORY_BYTES`]); the native renderer applies it (the helm
    /// backend is bounded by its timeout and output cap instead).
    pub max_memory_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            release_name: "release".into(),
            namespace: "default".into(),
            values: Vec::new(),
            set: Vec::new(),
            set_string: Vec::new(),
            set_json: Vec::new(),
            set_file: Vec::new(),
            kube_version: None,
            api_versions: Vec::new(),
            include_crds: false,
            no_hooks: false,
            skip_tests: false,
            timeout: Duration::from_secs(60),
            max_output_bytes: 64 << 20,
            max_memory_bytes: crate::budget::DEFAULT_MAX_MEMORY_BYTES,
        }
    }
}

impl Options {
    /// A stable text of every option, for cache keys (values by content hash).
    pub fn fingerprint(&self) -> String {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        let mut put = |s: &[u8]| {
            ctx.update(&(s.len() as u64).to_le_bytes());
            ctx.update(s);
        };
        put(self.release_name.as_bytes());
        put(self.namespace.as_bytes());
        for v in &self.values {
            put(&v.content);
        }
        for s in &self.set {
            put(b"set");
            put(s.as_bytes());
        }
        for s in &self.set_string {
            put(b"set-string");
            put(s.as_bytes());
        }
        for s in &self.set_json {
            put(b"set-json");
            put(s.as_bytes());
        }
        for (key, content) in &self.set_file {
            put(b"set-file");
            put(key.as_bytes());
            put(content);
        }
        put(self.kube_version.as_deref().unwrap_or("").as_bytes());
        for a in &self.api_versions {
            put(a.as_bytes());
        }
        put(&[
            u8::from(self.include_crds),
            u8::from(self.no_hooks),
            u8::from(self.skip_tests),
        ]);
        ctx.finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub(crate) fn validate(&self) -> Result<(), RenderError> {
        let name = &self.release_name;
        let dns1123 = |s: &str| {
            !s.is_empty()
                && s.len() <= 53
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                && !s.starts_with(['-', '.'])
                && !s.ends_with(['-', '.'])
        };
        if !dns1123(name) {
            return Err(RenderError::Option(format!(
                "release name {name:?} is invalid: use at most 53 lowercase letters, digits, '-' or '.'"
            )));
        }
        if !dns1123(&self.namespace) {
            return Err(RenderError::Option(format!(
                "namespace {:?} is invalid",
                self.namespace
            )));
        }
        for s in self
            .set
            .iter()
            .chain(&self.set_string)
            .chain(&self.set_json)
        {
            if s.starts_with('-') {
                return Err(RenderError::Option(format!(
                    "--set value {s:?} may not start with '-'"
                )));
            }
        }
        for (key, _) in &self.set_file {
            // Exactly one key path: anything else (`a=x,b`) would make helm read another path.
            if key.starts_with('-') || !crate::strvals::is_single_key(key) {
                return Err(RenderError::Option(format!(
                    "--set-file key {key:?} is invalid: give one key path such as a.b[0].c"
                )));
            }
        }
        if let Some(v) = &self.kube_version
            && (v.starts_with('-') || v.is_empty())
        {
            return Err(RenderError::Option(format!(
                "kube version {v:?} is invalid"
            )));
        }
        Ok(())
    }
}

/// Which engine produced a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RendererInfo {
    /// `native` or `helm`.
    pub name: &'static str,
    /// The engine's version (`v3.17.1` for helm).
    pub version: String,
}

/// A rendered chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Exactly what `helm template` prints.
    pub manifest: String,
    /// Which engine ran.
    pub renderer: RendererInfo,
}

/// Renders a chart; implemented by the native engine and by the helm CLI backend.
pub trait Renderer: Send + Sync {
    /// What this renderer is.
    fn info(&self) -> RendererInfo;

    /// Renders `chart` (its files as read from git or disk, unfiltered: `.helmignore` is
    /// applied by the renderer, as Helm does).
    fn render(&self, chart: &ChartFiles, options: &Options) -> Result<Outcome, RenderError>;

    /// What identifies this renderer's output in a cache key; cheap to compute (no process is
    /// started). Defaults to the name and version.
    fn cache_identity(&self) -> String {
        let i = self.info();
        format!("{}:{}", i.name, i.version)
    }
}
