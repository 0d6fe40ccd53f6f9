//! `.Chart` as Helm hands it to templates: `chart.Metadata` with Go field names plus `IsRoot`.

use std::sync::Arc;

use text_template::{ElemType, List, Map, Object, Value};

use crate::chart::{Dependency, Maintainer, Metadata};

fn strings(v: &[String]) -> Value {
    Value::List(List::typed(
        v.iter().map(Value::str).collect(),
        ElemType::String,
    ))
}

fn string_map(m: &std::collections::BTreeMap<String, String>) -> Value {
    let mut map = Map::from_btree(m.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect());
    map.string_values = true;
    Value::Map(map)
}

/// `struct { chart.Metadata; IsRoot bool }`.
#[derive(Debug, Clone)]
pub(crate) struct ChartObject {
    pub md: Arc<Metadata>,
    pub is_root: bool,
}

impl Object for ChartObject {
    fn type_name(&self) -> String {
        "struct { chart.Metadata; IsRoot bool }".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        let md = &self.md;
        Some(match name {
            "Name" => Value::str(&md.name),
            "Home" => Value::str(&md.home),
            "Sources" => strings(&md.sources),
            "Version" => Value::str(&md.version),
            "Description" => Value::str(&md.description),
            "Keywords" => strings(&md.keywords),
            "Maintainers" => Value::list(
                md.maintainers
                    .iter()
                    .map(|m| Value::object(MaintainerObject(m.clone())))
                    .collect(),
            ),
            "Icon" => Value::str(&md.icon),
            "APIVersion" => Value::str(&md.api_version),
            "Condition" => Value::str(&md.condition),
            "Tags" => Value::str(&md.tags),
            "AppVersion" => Value::str(&md.app_version),
            "Deprecated" => Value::Bool(md.deprecated),
            "Annotations" => string_map(&md.annotations),
            "KubeVersion" => Value::str(&md.kube_version),
            "Dependencies" => Value::list(
                md.dependencies
                    .iter()
                    .map(|d| Value::object(DependencyObject(d.clone())))
                    .collect(),
            ),
            "Type" => Value::str(&md.chart_type),
            "IsRoot" => Value::Bool(self.is_root),
            "Metadata" => Value::object(ChartObject {
                md: self.md.clone(),
                is_root: self.is_root,
            }),
            _ => return None,
        })
    }
    fn format(&self) -> String {
        let md = &self.md;
        format!(
            "{{{{{} {} {:?} {} {} {:?} [] {} {} {} {} {} {} map[] {} [] {}}} {}}}",
            md.name,
            md.home,
            md.sources,
            md.version,
            md.description,
            md.keywords,
            md.icon,
            md.api_version,
            md.condition,
            md.tags,
            md.app_version,
            md.deprecated,
            md.kube_version,
            md.chart_type,
            self.is_root
        )
    }
    fn to_data(&self) -> Value {
        let md = &self.md;
        let m = Map::new();
        let put_s = |k: &str, v: &str| {
            if !v.is_empty() {
                m.insert(k, Value::str(v));
            }
        };
        put_s("name", &md.name);
        put_s("home", &md.home);
        if !md.sources.is_empty() {
            m.insert("sources", strings(&md.sources));
        }
        put_s("version", &md.version);
        put_s("description", &md.description);
        if !md.keywords.is_empty() {
            m.insert("keywords", strings(&md.keywords));
        }
        if !md.maintainers.is_empty() {
            m.insert(
                "maintainers",
                Value::list(
                    md.maintainers
                        .iter()
                        .map(|x| MaintainerObject(x.clone()).to_data())
                        .collect(),
                ),
            );
        }
        put_s("icon", &md.icon);
        put_s("apiVersion", &md.api_version);
        put_s("condition", &md.condition);
        put_s("tags", &md.tags);
        put_s("appVersion", &md.app_version);
        if md.deprecated {
            m.insert("deprecated", Value::Bool(true));
        }
        if !md.annotations.is_empty() {
            m.insert("annotations", string_map(&md.annotations));
        }
        put_s("kubeVersion", &md.kube_version);
        if !md.dependencies.is_empty() {
            m.insert(
                "dependencies",
                Value::list(
                    md.dependencies
                        .iter()
                        .map(|d| DependencyObject(d.clone()).to_data())
                        .collect(),
                ),
            );
        }
        put_s("type", &md.chart_type);
        m.insert("IsRoot", Value::Bool(self.is_root));
        Value::Map(m)
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
}

#[derive(Debug, Clone)]
struct MaintainerObject(Maintainer);

impl Object for MaintainerObject {
    fn type_name(&self) -> String {
        "*chart.Maintainer".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "Name" => Value::str(&self.0.name),
            "Email" => Value::str(&self.0.email),
            "URL" => Value::str(&self.0.url),
            _ => return None,
        })
    }
    fn format(&self) -> String {
        format!("&{{{} {} {}}}", self.0.name, self.0.email, self.0.url)
    }
    fn to_data(&self) -> Value {
        let m = Map::new();
        for (k, v) in [
            ("name", &self.0.name),
            ("email", &self.0.email),
            ("url", &self.0.url),
        ] {
            if !v.is_empty() {
                m.insert(k, Value::str(v));
            }
        }
        Value::Map(m)
    }
}

#[derive(Debug, Clone)]
struct DependencyObject(Dependency);

impl Object for DependencyObject {
    fn type_name(&self) -> String {
        "*chart.Dependency".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        let d = &self.0;
        Some(match name {
            "Name" => Value::str(&d.name),
            "Version" => Value::str(&d.version),
            "Repository" => Value::str(&d.repository),
            "Condition" => Value::str(&d.condition),
            "Tags" => strings(&d.tags),
            "Enabled" => Value::Bool(d.enabled),
            "ImportValues" => Value::list(d.import_values.clone()),
            "Alias" => Value::str(&d.alias),
            _ => return None,
        })
    }
    fn format(&self) -> String {
        let d = &self.0;
        format!(
            "&{{{} {} {} {} {:?} {} [] {}}}",
            d.name, d.version, d.repository, d.condition, d.tags, d.enabled, d.alias
        )
    }
    fn to_data(&self) -> Value {
        let d = &self.0;
        let m = Map::new();
        m.insert("name", Value::str(&d.name));
        if !d.version.is_empty() {
            m.insert("version", Value::str(&d.version));
        }
        m.insert("repository", Value::str(&d.repository));
        if !d.condition.is_empty() {
            m.insert("condition", Value::str(&d.condition));
        }
        if !d.tags.is_empty() {
            m.insert("tags", strings(&d.tags));
        }
        if d.enabled {
            m.insert("enabled", Value::Bool(true));
        }
        if !d.import_values.is_empty() {
            m.insert("import-values", Value::list(d.import_values.clone()));
        }
        if !d.alias.is_empty() {
            m.insert("alias", Value::str(&d.alias));
        }
        Value::Map(m)
    }
}
