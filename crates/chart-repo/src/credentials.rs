//! Per-host credentials for chart repositories and registries: held in memory only, sent only to
//! their own host, never written to the cache, never in a message, a log or a result.

use std::fmt;

use base64::Engine as _;
use reqwest::Url;

use crate::{Error, Result};

/// The environment variable [`Credentials::from_env`] reads.
pub const CREDENTIALS_ENV: &str = "CHARTIMPACT_HELM_REPO_CREDENTIALS";

#[derive(Clone)]
pub(crate) enum Secret {
    Basic { username: String, password: String },
    Bearer(String),
}

impl Secret {
    /// The `Authorization` header value.
    pub(crate) fn header(&self) -> String {
        match self {
            Secret::Basic { username, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            ),
            Secret::Bearer(t) => format!("Bearer {t}"),
        }
    }

    #[cfg(test)]
    pub(crate) fn basic(&self) -> Option<(&str, &str)> {
        match self {
            Secret::Basic { username, password } => Some((username, password)),
            Secret::Bearer(_) => None,
        }
    }
}

/// Credentials by host (`host` for any port, `host:port` for one port).
///
/// Read from a file ([`Credentials::from_file`]) or the environment ([`Credentials::from_env`]),
/// in either of two forms:
///
/// - a Docker/Helm registry config (`~/.config/helm/registry/config.json`, what `helm registry
///   login` writes): `{"auths": {"registry.example.com": {"auth": "base64(user:password)"}}}`
///   (or `username`/`password`, or `registrytoken` for a bearer token);
/// - a list: `[{"host": "charts.example.com", "username": "u", "password": "p"},
///   {"host": "registry.example.com:5000", "token": "…"}]` (JSON or YAML).
///
/// `Debug` shows the hosts only.
#[derive(Clone, Default)]
pub struct Credentials {
    entries: Vec<(String, Secret)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field(
                "hosts",
                &self.entries.iter().map(|(h, _)| h).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum File {
    Docker {
        auths: std::collections::BTreeMap<String, DockerAuth>,
    },
    List(Vec<Entry>),
}

#[derive(serde::Deserialize, Default)]
struct DockerAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, alias = "identitytoken")]
    registrytoken: Option<String>,
}

#[derive(serde::Deserialize)]
struct Entry {
    host: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

/// `https://host:port/path` or `host:port/path` → `host:port`, lowercase.
fn host_key(s: &str) -> String {
    let s = s.split_once("://").map(|(_, r)| r).unwrap_or(s);
    let s = s.split('/').next().unwrap_or(s);
    let s = s.rsplit('@').next().unwrap_or(s);
    s.trim_end_matches('.').to_ascii_lowercase()
}

impl Credentials {
    /// No credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Basic credentials for `host` (`host` or `host:port`).
    pub fn add_basic(&mut self, host: &str, username: &str, password: &str) -> &mut Self {
        self.entries.push((
            host_key(host),
            Secret::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            },
        ));
        self
    }

    /// A bearer token for `host`.
    pub fn add_token(&mut self, host: &str, token: &str) -> &mut Self {
        self.entries
            .push((host_key(host), Secret::Bearer(token.to_owned())));
        self
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds every entry of `other` (later entries for the same host win).
    pub fn extend(&mut self, other: Credentials) {
        self.entries.extend(other.entries);
    }

    /// Parses the text of a credentials file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Credentials> {
        let bad = |reason: String| Error::Credentials {
            origin: origin.to_owned(),
            reason,
        };
        let file: File = if text.trim_start().starts_with(['{', '[']) {
            serde_json::from_str(text).map_err(|e| {
                bad(format!(
                    "not a registry config or credentials list (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            })?
        } else {
            serde_saphyr::from_str(text)
                .map_err(|_| bad("not a registry config or credentials list".into()))?
        };
        let mut out = Credentials::new();
        match file {
            File::Docker { auths } => {
                for (host, a) in auths {
                    if let Some(t) = a.registrytoken.filter(|t| !t.is_empty()) {
                        out.add_token(&host, &t);
                    } else if let (Some(u), Some(p)) = (&a.username, &a.password) {
                        out.add_basic(&host, u, p);
                    } else if let Some(enc) = a.auth.filter(|a| !a.is_empty()) {
                        let dec = base64::engine::general_purpose::STANDARD
                            .decode(enc.trim())
                            .ok()
                            .and_then(|d| String::from_utf8(d).ok())
                            .ok_or_else(|| {
                                bad(format!(
                                    "the auth of {} is not base64 user:password",
                                    host_key(&host)
                                ))
                            })?;
                        let (u, p) = dec.split_once(':').ok_or_else(|| {
                            bad(format!(
                                "the auth of {} is not user:password",
                                host_key(&host)
                            ))
                        })?;
                        out.add_basic(&host, u, p);
                    }
                }
            }
            File::List(entries) => {
                for e in entries {
                    match (e.token, e.username, e.password) {
                        (Some(t), _, _) => out.add_token(&e.host, &t),
                        (None, Some(u), Some(p)) => out.add_basic(&e.host, &u, &p),
                        _ => {
                            return Err(bad(format!(
                                "entry for {} needs username and password, or token",
                                host_key(&e.host)
                            )));
                        }
                    };
                }
            }
        }
        Ok(out)
    }

    /// Reads a credentials file (see the type's documentation for its forms).
    pub fn from_file(path: &std::path::Path) -> Result<Credentials> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Credentials {
            origin: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Credentials::parse(&text, &path.display().to_string())
    }

    /// [`CREDENTIALS_ENV`], then the entries of `file` (which win for the same host): what
    /// the binaries' `--helm-repo-credentials` adds to the environment's.
    pub fn from_env_and_file(file: Option<&std::path::Path>) -> Result<Credentials> {
        let mut credentials = Credentials::from_env()?;
        if let Some(file) = file {
            credentials.extend(Credentials::from_file(file)?);
        }
        Ok(credentials)
    }

    /// Reads [`CREDENTIALS_ENV`] (the same forms as a file, inline); none when it is unset.
    pub fn from_env() -> Result<Credentials> {
        match std::env::var(CREDENTIALS_ENV) {
            Ok(text) if !text.trim().is_empty() => Credentials::parse(&text, CREDENTIALS_ENV),
            _ => Ok(Credentials::new()),
        }
    }

    /// The credentials for `url`'s host: an entry with its port first, then one for the host.
    pub(crate) fn for_url(&self, url: &Url) -> Option<&Secret> {
        let host = url.host_str()?.to_ascii_lowercase();
        let with_port = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        self.entries
            .iter()
            .rev()
            .find(|(h, _)| *h == with_port)
            .or_else(|| self.entries.iter().rev().find(|(h, _)| *h == host))
            .map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_and_lists() {
        let docker = r#"{"auths":{"reg.example.com:5000":{"auth":"dTpwQHNz"},"https://charts.example.com/v1/":{"username":"a","password":"b"}}}"#;
        let c = Credentials::parse(docker, "test").unwrap();
        let u = Url::parse("https://reg.example.com:5000/v2/").unwrap();
        assert_eq!(c.for_url(&u).unwrap().basic(), Some(("u", "p@ss")));
        let u = Url::parse("https://charts.example.com/x").unwrap();
        assert_eq!(c.for_url(&u).unwrap().basic(), Some(("a", "b")));
        assert!(
            c.for_url(&Url::parse("https://reg.example.com/x").unwrap())
                .is_none()
        );
        let list = "- host: h.example\n  token: t0k\n";
        let c = Credentials::parse(list, "test").unwrap();
        let s = c
            .for_url(&Url::parse("https://h.example:8443/x").unwrap())
            .unwrap();
        assert_eq!(s.header(), "Bearer t0k");
        assert!(!format!("{c:?}").contains("t0k"));
    }

    #[test]
    fn errors_never_show_secrets() {
        let e = Credentials::parse(r#"{"auths":{"h":{"auth":"c2VjcmV0"}}}"#, "f").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        let e = Credentials::parse(r#"[{"host":"h","username":"u"}]"#, "f").unwrap_err();
        assert!(e.to_string().contains("needs username and password"), "{e}");
    }
}
