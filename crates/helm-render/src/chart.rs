//! The chart model and Helm's `LoadFiles`: `Chart.yaml` (v1 and v2) into metadata with Helm's
//! validation and error texts, `requirements.yaml`, `values.yaml`, `values.schema.json`,
//! templates, files, and subcharts from `charts/` (directories and `.tgz` archives).

use std::collections::BTreeMap;
use std::sync::Arc;

use text_template::Value;
use text_template::helm_objects::FileContent;

use crate::budget::{Budget, MAX_SUBCHART_DEPTH};
use crate::error::LoadError;
use crate::files::{ChartFiles, FileLimits, contents};
use crate::yamlconv::{self, ReadError, Target};

/// A chart maintainer (`chart.Maintainer`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maintainer {
    /// `name`.
    pub name: String,
    /// `email`.
    pub email: String,
    /// `url`.
    pub url: String,
}

/// One entry of `dependencies` (`chart.Dependency`).
#[derive(Debug, Clone, Default)]
pub struct Dependency {
    /// `name` (replaced by the alias once dependencies are processed, as Helm does).
    pub name: String,
    /// `version` (a semver range).
    pub version: String,
    /// `repository`.
    pub repository: String,
    /// `condition`: comma-separated value paths.
    pub condition: String,
    /// `tags`.
    pub tags: Vec<String>,
    /// `enabled`.
    pub enabled: bool,
    /// `import-values`: strings or `{child, parent}` maps, as written.
    pub import_values: Vec<Value>,
    /// `alias`.
    pub alias: String,
}

/// `Chart.yaml` (`chart.Metadata`).
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// `name`.
    pub name: String,
    /// `home`.
    pub home: String,
    /// `sources`.
    pub sources: Vec<String>,
    /// `version`.
    pub version: String,
    /// `description`.
    pub description: String,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `maintainers`.
    pub maintainers: Vec<Maintainer>,
    /// `icon`.
    pub icon: String,
    /// `apiVersion` (`v1` when absent).
    pub api_version: String,
    /// `condition`.
    pub condition: String,
    /// `tags`.
    pub tags: String,
    /// `appVersion`.
    pub app_version: String,
    /// `deprecated`.
    pub deprecated: bool,
    /// `annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `kubeVersion`.
    pub kube_version: String,
    /// `dependencies` (from `requirements.yaml` for v1 charts).
    pub dependencies: Vec<Dependency>,
    /// `type`: `application`, `library` or empty.
    pub chart_type: String,
    /// Whether `dependencies` was given at all (Go's non-nil slice, even when empty).
    pub dependencies_declared: bool,
}

/// A loaded chart (`chart.Chart`).
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// `Chart.yaml`.
    pub metadata: Metadata,
    /// `values.yaml` (a map; empty when absent).
    pub values: Value,
    /// `values.schema.json`.
    pub schema: Option<Arc<FileContent>>,
    /// `templates/…` files in load order.
    pub templates: Vec<ChartFile>,
    /// Every other file (what `.Files` sees, and `crds/`).
    pub files: Vec<ChartFile>,
    /// Subcharts.
    pub dependencies: Vec<Chart>,
    /// Whether `Chart.lock`/`requirements.lock` was present.
    pub has_lock: bool,
}

impl Chart {
    /// The chart's name (its alias once dependencies are processed).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Whether this is a library chart.
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type.eq_ignore_ascii_case("library")
    }

    /// Loads a chart from its files (already `.helmignore`-filtered), like Helm's `LoadFiles`,
    /// within the default memory budget ([`crate::budget::DEFAULT_MAX_MEMORY_BYTES`]).
    pub fn load(files: &ChartFiles) -> Result<Chart, LoadError> {
        Self::load_within(
            files,
            &mut Budget::new(crate::budget::DEFAULT_MAX_MEMORY_BYTES),
        )
    }

    /// [`Chart::load`], charging subchart archives and values to the render's budget.
    pub(crate) fn load_within(files: &ChartFiles, budget: &mut Budget) -> Result<Chart, LoadError> {
        load_files(
            files
                .shared()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            budget,
            0,
        )
    }
}

/// A file of a chart: its path and its contents, shared with the [`ChartFiles`] it came from.
pub type ChartFile = (String, Arc<FileContent>);

fn meta_err(m: impl Into<String>) -> LoadError {
    LoadError::Metadata(m.into())
}

/// Go's `filepath.Walk` visits entries sorted per directory: compare path components.
pub(crate) fn walk_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.split('/').cmp(b.split('/'))
}

/// Reads a YAML file of the chart within the budget; bad YAML is Helm's `cannot load` error.
fn read_yaml(
    data: &[u8],
    budget: &mut Budget,
    file: &str,
) -> Result<Result<yaml11::Value, String>, LoadError> {
    match yamlconv::parse_within(data, budget, file) {
        Ok(v) => Ok(Ok(v)),
        Err(ReadError::Yaml(m)) => Ok(Err(m)),
        Err(ReadError::Limit(e)) => Err(e),
    }
}

fn load_files(
    mut files: Vec<ChartFile>,
    budget: &mut Budget,
    depth: usize,
) -> Result<Chart, LoadError> {
    if depth > MAX_SUBCHART_DEPTH {
        let file = files.first().map(|(n, _)| n.clone()).unwrap_or_default();
        return Err(LoadError::RenderLimit {
            limit: "max_subchart_depth",
            value: MAX_SUBCHART_DEPTH as u64,
            message: format!("subcharts nest deeper than {MAX_SUBCHART_DEPTH} levels"),
            file,
        });
    }
    files.sort_by(|a, b| walk_order(&a.0, &b.0));
    let mut c = Chart {
        values: Value::Map(text_template::Map::new()),
        ..Chart::default()
    };
    let mut have_meta = false;
    for (name, data) in &files {
        if name == "Chart.yaml" {
            have_meta = true;
            let v = read_yaml(contents(name, data)?, budget, "Chart.yaml")?
                .map_err(|e| meta_err(format!("cannot load Chart.yaml: {e}")))?;
            apply_metadata(&mut c.metadata, &v)
                .map_err(|e| meta_err(format!("cannot load Chart.yaml: {e}")))?;
            if c.metadata.api_version.is_empty() {
                c.metadata.api_version = "v1".into();
            }
        }
    }
    let mut subcharts: BTreeMap<String, Vec<ChartFile>> = BTreeMap::new();
    for (name, data) in files {
        match name.as_str() {
            "Chart.yaml" => {}
            "Chart.lock" | "requirements.lock" => {
                c.has_lock = true;
                if name == "requirements.lock" && c.metadata.api_version == "v1" {
                    c.files.push((name, data));
                }
            }
            "values.yaml" => {
                let v = read_yaml(contents(&name, &data)?, budget, "values.yaml")?
                    .map_err(|e| meta_err(format!("cannot load values.yaml: {e}")))?;
                c.values = yamlconv::to_values_map(&v)
                    .map_err(|e| meta_err(format!("cannot load values.yaml: {e}")))?;
            }
            "values.schema.json" => c.schema = Some(data),
            "requirements.yaml" => {
                have_meta = true;
                let v = read_yaml(contents(&name, &data)?, budget, "requirements.yaml")?
                    .map_err(|e| meta_err(format!("cannot load requirements.yaml: {e}")))?;
                if let Some(m) = v.as_mapping() {
                    for (k, dv) in m.iter() {
                        if k.eq_ignore_ascii_case("dependencies") {
                            c.metadata.dependencies = parse_dependencies(dv).map_err(|e| {
                                meta_err(format!("cannot load requirements.yaml: {e}"))
                            })?;
                            c.metadata.dependencies_declared = !dv.is_null();
                        }
                    }
                }
                if c.metadata.api_version == "v1" {
                    c.files.push((name, data));
                }
            }
            n if n.starts_with("templates/") => c.templates.push((name, data)),
            n if n.starts_with("charts/") => {
                if n.ends_with(".prov") {
                    c.files.push((name, data));
                    continue;
                }
                let rest = &n["charts/".len()..];
                let cname = rest.split('/').next().unwrap_or("").to_string();
                subcharts
                    .entry(cname)
                    .or_default()
                    .push((rest.to_string(), data));
            }
            _ => c.files.push((name, data)),
        }
    }
    if !have_meta {
        return Err(meta_err("Chart.yaml file is missing"));
    }
    validate(&mut c.metadata)?;
    for (n, files) in subcharts {
        if n.starts_with(['_', '.']) {
            continue;
        }
        let sc = if n.ends_with(".tgz") {
            let (fname, data) = &files[0];
            if *fname != n {
                return Err(meta_err(format!(
                    "error unpacking subchart tar in {}: expected {n}, got {fname}",
                    c.name()
                )));
            }
            // Every archive decompresses into the one budget of the render, not a fresh one.
            let limits = FileLimits {
                max_total_bytes: budget.remaining(),
                ..FileLimits::default()
            };
            let file = format!("charts/{n}");
            match ChartFiles::from_tgz(contents(&file, data)?, limits) {
                Ok(f) => budget.charge(f.total_bytes(), &file).and_then(|()| {
                    let inner = f.shared().map(|(k, v)| (k.to_string(), v.clone()));
                    load_files(inner.collect(), budget, depth + 1)
                }),
                // Over the bytes left (not the file count): the render's budget is spent.
                Err(LoadError::Limit { what }) if what.ends_with(" bytes") => {
                    Err(budget.exceeded(&file))
                }
                Err(e) => Err(e),
            }
        } else {
            let inner: Vec<ChartFile> = files
                .into_iter()
                .filter_map(|(f, d)| f.split_once('/').map(|(_, r)| (r.to_string(), d)))
                .collect();
            load_files(inner, budget, depth + 1)
        };
        let sc = sc.map_err(|e| match e {
            // A render limit stays one, whichever subchart met it.
            e @ LoadError::RenderLimit { .. } => e,
            e => meta_err(format!("error unpacking subchart {n} in {}: {e}", c.name())),
        })?;
        c.dependencies.push(sc);
    }
    Ok(c)
}

fn field_err(kind: &str, strukt: &str, field: &str, ty: &str) -> String {
    format!(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go struct field {strukt}.{field} of type {ty}"
    )
}

fn get_string(v: &yaml11::Value, strukt: &str, field: &str) -> Result<String, String> {
    yamlconv::target_string(v, Target::String)
        .ok_or_else(|| field_err(yamlconv::json_kind(v), strukt, field, "string"))
}

fn get_strings(v: &yaml11::Value, strukt: &str, field: &str) -> Result<Vec<String>, String> {
    match v {
        yaml11::Value::Null => Ok(Vec::new()),
        yaml11::Value::Sequence(items) => {
            items.iter().map(|i| get_string(i, strukt, field)).collect()
        }
        other => Err(field_err(
            yamlconv::json_kind(other),
            strukt,
            field,
            "[]string",
        )),
    }
}

fn get_bool(v: &yaml11::Value, strukt: &str, field: &str) -> Result<bool, String> {
    match v {
        yaml11::Value::Null => Ok(false),
        yaml11::Value::Bool(b) => Ok(*b),
        yaml11::Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
        other => Err(field_err(yamlconv::json_kind(other), strukt, field, "bool")),
    }
}

fn apply_metadata(md: &mut Metadata, v: &yaml11::Value) -> Result<(), String> {
    let m = match v {
        yaml11::Value::Null => return Ok(()),
        yaml11::Value::Mapping(m) => m,
        other => {
            return Err(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type chart.Metadata",
                yamlconv::json_kind(other)
            ));
        }
    };
    const S: &str = "Metadata";
    for (k, v) in m.iter() {
        match k.to_ascii_lowercase().as_str() {
            "name" => md.name = get_string(v, S, "name")?,
            "home" => md.home = get_string(v, S, "home")?,
            "sources" => md.sources = get_strings(v, S, "sources")?,
            "version" => md.version = get_string(v, S, "version")?,
            "description" => md.description = get_string(v, S, "description")?,
            "keywords" => md.keywords = get_strings(v, S, "keywords")?,
            "maintainers" => {
                md.maintainers = match v {
                    yaml11::Value::Null => Vec::new(),
                    yaml11::Value::Sequence(items) => items
                        .iter()
                        .map(parse_maintainer)
                        .collect::<Result<_, _>>()?,
                    other => {
                        return Err(field_err(
                            yamlconv::json_kind(other),
                            S,
                            "maintainers",
                            "[]*chart.Maintainer",
                        ));
                    }
                }
            }
            "icon" => md.icon = get_string(v, S, "icon")?,
            "apiversion" => md.api_version = get_string(v, S, "apiVersion")?,
            "condition" => md.condition = get_string(v, S, "condition")?,
            "tags" => md.tags = get_string(v, S, "tags")?,
            "appversion" => md.app_version = get_string(v, S, "appVersion")?,
            "deprecated" => md.deprecated = get_bool(v, S, "deprecated")?,
            "annotations" => {
                md.annotations = match v {
                    yaml11::Value::Null => BTreeMap::new(),
                    yaml11::Value::Mapping(am) => am
                        .iter()
                        .map(|(k, v)| Ok((k.clone(), get_string(v, S, "annotations")?)))
                        .collect::<Result<_, String>>()?,
                    other => {
                        return Err(field_err(
                            yamlconv::json_kind(other),
                            S,
                            "annotations",
                            "map[string]string",
                        ));
                    }
                }
            }
            "kubeversion" => md.kube_version = get_string(v, S, "kubeVersion")?,
            "dependencies" => {
                md.dependencies = parse_dependencies(v)?;
                md.dependencies_declared = !v.is_null();
            }
            "type" => md.chart_type = get_string(v, S, "type")?,
            _ => {}
        }
    }
    Ok(())
}

fn parse_maintainer(v: &yaml11::Value) -> Result<Maintainer, String> {
    let mut m = Maintainer::default();
    match v {
        yaml11::Value::Null => {
            return Err("validation: maintainers must not contain empty or null nodes".into());
        }
        yaml11::Value::Mapping(mm) => {
            for (k, v) in mm.iter() {
                match k.to_ascii_lowercase().as_str() {
                    "name" => m.name = get_string(v, "Maintainer", "name")?,
                    "email" => m.email = get_string(v, "Maintainer", "email")?,
                    "url" => m.url = get_string(v, "Maintainer", "url")?,
                    _ => {}
                }
            }
        }
        other => {
            return Err(field_err(
                yamlconv::json_kind(other),
                "Metadata",
                "maintainers",
                "chart.Maintainer",
            ));
        }
    }
    Ok(m)
}

fn parse_dependencies(v: &yaml11::Value) -> Result<Vec<Dependency>, String> {
    let items = match v {
        yaml11::Value::Null => return Ok(Vec::new()),
        yaml11::Value::Sequence(items) => items,
        other => {
            return Err(field_err(
                yamlconv::json_kind(other),
                "Metadata",
                "dependencies",
                "[]*chart.Dependency",
            ));
        }
    };
    let mut out = Vec::new();
    const S: &str = "Dependency";
    for item in items {
        let mut d = Dependency::default();
        match item {
            yaml11::Value::Null => {
                return Err("validation: dependencies must not contain empty or null nodes".into());
            }
            yaml11::Value::Mapping(m) => {
                for (k, v) in m.iter() {
                    match k.to_ascii_lowercase().as_str() {
                        "name" => d.name = get_string(v, S, "name")?,
                        "version" => d.version = get_string(v, S, "version")?,
                        "repository" => d.repository = get_string(v, S, "repository")?,
                        "condition" => d.condition = get_string(v, S, "condition")?,
                        "tags" => d.tags = get_strings(v, S, "tags")?,
                        "enabled" => d.enabled = get_bool(v, S, "enabled")?,
                        "import-values" => {
                            d.import_values = match v {
                                yaml11::Value::Null => Vec::new(),
                                yaml11::Value::Sequence(items) => {
                                    items.iter().map(Value::from_yaml).collect()
                                }
                                other => {
                                    return Err(field_err(
                                        yamlconv::json_kind(other),
                                        S,
                                        "import-values",
                                        "[]interface {}",
                                    ));
                                }
                            }
                        }
                        "alias" => d.alias = get_string(v, S, "alias")?,
                        _ => {}
                    }
                }
            }
            other => {
                return Err(field_err(
                    yamlconv::json_kind(other),
                    "Metadata",
                    "dependencies",
                    "chart.Dependency",
                ));
            }
        }
        out.push(d);
    }
    Ok(out)
}

/// Go's `unicode.IsSpace` → ' ', non-printable dropped.
fn sanitize(s: &mut String) {
    if s.chars()
        .all(|c| !c.is_whitespace() && !c.is_control() || c == ' ')
    {
        return;
    }
    *s = s
        .chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() {
                None
            } else {
                Some(c)
            }
        })
        .collect();
}

fn validation(msg: impl Into<String>) -> LoadError {
    meta_err(format!("validation: {}", msg.into()))
}

fn validate(md: &mut Metadata) -> Result<(), LoadError> {
    for s in [
        &mut md.name,
        &mut md.description,
        &mut md.home,
        &mut md.icon,
        &mut md.condition,
        &mut md.tags,
        &mut md.app_version,
        &mut md.kube_version,
    ] {
        sanitize(s);
    }
    for s in md.sources.iter_mut().chain(md.keywords.iter_mut()) {
        sanitize(s);
    }
    if md.api_version.is_empty() {
        return Err(validation("chart.metadata.apiVersion is required"));
    }
    if md.name.is_empty() {
        return Err(validation("chart.metadata.name is required"));
    }
    if md.name.contains('/') {
        return Err(validation(format!(
            "chart.metadata.name {} is invalid",
            text_template::quote_go(&md.name)
        )));
    }
    if md.version.is_empty() {
        return Err(validation("chart.metadata.version is required"));
    }
    if crate::semver::Version::parse(&md.version).is_none() {
        return Err(validation(format!(
            "chart.metadata.version {} is invalid",
            text_template::quote_go(&md.version)
        )));
    }
    if !matches!(md.chart_type.as_str(), "" | "application" | "library") {
        return Err(validation(
            "chart.metadata.type must be application or library",
        ));
    }
    for m in &mut md.maintainers {
        sanitize(&mut m.name);
        sanitize(&mut m.email);
        sanitize(&mut m.url);
    }
    let mut seen = std::collections::BTreeSet::new();
    for d in &mut md.dependencies {
        sanitize(&mut d.name);
        sanitize(&mut d.version);
        sanitize(&mut d.repository);
        sanitize(&mut d.condition);
        for t in &mut d.tags {
            sanitize(t);
        }
        if !d.alias.is_empty()
            && !d
                .alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(validation(format!(
                "dependency {} has disallowed characters in the alias",
                text_template::quote_go(&d.name)
            )));
        }
        let key = if d.alias.is_empty() {
            d.name.clone()
        } else {
            d.alias.clone()
        };
        if !seen.insert(key.clone()) {
            return Err(validation(format!(
                "more than one dependency with name or alias {}",
                text_template::quote_go(&key)
            )));
        }
    }
    Ok(())
}
