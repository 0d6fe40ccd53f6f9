//! OCI registries as helm uses them (the distribution API): `oci://host/path` + chart name is
//! the repository `path/chart`; tags are versions (`+` written as `_`); a version's manifest
//! names the Helm config and the chart layer, whose blob is the `.tgz`. Anonymous bearer
//! tokens (the `WWW-Authenticate` challenge), basic auth from the configured credentials, and
//! plain http for registries without TLS (`--plain-http`). Manifest and blob digests verified.
//!
//! Why not the `oci-client` crate: it is async-only, builds its own reqwest client (so the URL
//! policy could not be applied to redirects — registries redirect blob downloads to storage
//! hosts — nor to addresses at connect time), and reads manifests and blobs without a size
//! cap. helm needs four requests of the distribution API; they are here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::Url;
use serde::Deserialize;
use text_template::semver::Version;

use crate::cache::sha256_hex;
use crate::http::{Auth, Call, Request, Response, bump};
use crate::index::{self, ChartVersion};
use crate::policy::redact;
use crate::repos::{ChartArchive, ChartRepos, exact, select};
use crate::{Error, Result};

/// Helm's OCI media types.
pub(crate) const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
pub(crate) const CHART_LAYER_MEDIA_TYPE: &str =
    "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const LEGACY_CHART_LAYER_MEDIA_TYPE: &str = "application/tar+gzip";
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json;q=0.5";

pub(crate) struct Oci {
    plain_http: bool,
    /// Bearer tokens by (registry, scope).
    tokens: Mutex<HashMap<(String, String), String>>,
}

impl Oci {
    pub(crate) fn new(plain_http: bool) -> Oci {
        Oci {
            plain_http,
            tokens: Mutex::new(HashMap::new()),
        }
    }
}

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: u64,
}

#[derive(Deserialize)]
struct Manifest {
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// A `WWW-Authenticate` challenge: scheme and parameters.
pub(crate) fn parse_challenge(h: &str) -> (String, HashMap<String, String>) {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let mut params = HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else {
            break;
        };
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            out.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => out.push(c),
                }
            }
            (out, &q[end.min(q.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        params.insert(k, v);
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    (scheme.to_ascii_lowercase(), params)
}

/// `sha256:<hex>` → `<hex>`, if that is what it is.
fn sha256_of(digest: &str) -> Option<&str> {
    digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

struct Target<'a> {
    /// `scheme://host[:port]`.
    origin: Url,
    /// `path/chart`.
    name: String,
    /// `host/path/chart` for messages.
    reference: String,
    shown: &'a str,
}

impl Target<'_> {
    /// The registry API URL `v2/<name>/<endpoint>` of this chart.
    fn api(&self, endpoint: &str) -> Result<Url> {
        self.origin
            .join(&format!("v2/{}/{endpoint}", self.name))
            .map_err(|e| Error::InvalidUrl {
                url: self.reference.clone(),
                reason: e.to_string(),
            })
    }
}

impl ChartRepos {
    fn oci_target<'a>(&self, location: &str, shown: &'a str, chart: &str) -> Result<Target<'a>> {
        let (host, path) = location.split_once('/').unwrap_or((location, ""));
        let scheme = if self.inner.oci.plain_http {
            "http"
        } else {
            "https"
        };
        let origin = Url::parse(&format!("{scheme}://{host}/")).map_err(|e| Error::InvalidUrl {
            url: format!("oci://{location}"),
            reason: e.to_string(),
        })?;
        if chart.is_empty()
            || !chart
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        {
            return Err(Error::InvalidUrl {
                url: format!("oci://{location}/{chart}"),
                reason: format!("{chart:?} is not a valid OCI repository name"),
            });
        }
        let name = if path.is_empty() {
            chart.to_owned()
        } else {
            format!("{path}/{chart}")
        };
        Ok(Target {
            reference: format!("{host}/{name}"),
            origin,
            name,
            shown,
        })
    }

    /// GET with the registry's auth dance: configured credentials first, a bearer token when
    /// the registry challenges for one.
    fn oci_get(
        &self,
        t: &Target<'_>,
        url: &Url,
        accept: Option<&str>,
        what: &'static str,
        max: u64,
        call: &Call,
    ) -> Result<Response> {
        let http = &self.inner.http;
        let scope = format!("repository:{}:pull", t.name);
        let token_key = (t.origin.as_str().to_owned(), scope.clone());
        let cached = self
            .inner
            .oci
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&token_key)
            .cloned();
        let mut req = Request::get(url, what, t.shown, max);
        req.accept = accept;
        req.auth = match &cached {
            Some(tok) => Auth::Header(format!("Bearer {tok}")),
            None => Auth::Host,
        };
        let resp = http.get(&req, call)?;
        if resp.status != 401 {
            return self.oci_auth_status(resp, t);
        }
        let challenge = resp.header("www-authenticate").unwrap_or("").to_owned();
        let (scheme, params) = parse_challenge(&challenge);
        if scheme != "bearer" {
            // Basic: the configured credentials were sent already, or there are none.
            return Err(Error::AuthenticationRequired {
                repository: t.shown.to_owned(),
                status: 401,
                had_credentials: resp.sent_auth,
            });
        }
        let token = self.oci_token(t, &params, &scope, call)?;
        self.inner
            .oci
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token_key, token.clone());
        req.auth = Auth::Header(format!("Bearer {token}"));
        let resp = http.get(&req, call)?;
        self.oci_auth_status(resp, t)
    }

    fn oci_auth_status(&self, resp: Response, t: &Target<'_>) -> Result<Response> {
        if matches!(resp.status, 401 | 403) {
            return Err(Error::AuthenticationRequired {
                repository: t.shown.to_owned(),
                status: resp.status,
                had_credentials: resp.sent_auth
                    || self.inner.http.credentials.for_url(&t.origin).is_some(),
            });
        }
        Ok(resp)
    }

    /// A token from the challenge's realm (checked against the URL policy like any URL),
    /// anonymous or with the registry's basic credentials.
    fn oci_token(
        &self,
        t: &Target<'_>,
        params: &HashMap<String, String>,
        scope: &str,
        call: &Call,
    ) -> Result<String> {
        let realm = params.get("realm").ok_or_else(|| Error::InvalidManifest {
            reference: t.reference.clone(),
            reason: "the registry asked for a bearer token without naming a realm".into(),
        })?;
        let mut url = Url::parse(realm).map_err(|e| Error::InvalidUrl {
            url: crate::policy::redact_str(realm),
            reason: format!("token realm: {e}"),
        })?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = params.get("service") {
                q.append_pair("service", s);
            }
            q.append_pair("scope", params.get("scope").map_or(scope, String::as_str));
        }
        let creds = self.inner.http.credentials.for_url(&t.origin);
        let mut req = Request::get(&url, "token", t.shown, 1 << 20);
        req.auth = match creds {
            Some(s) => Auth::Header(s.header()),
            None => Auth::Anonymous,
        };
        let resp = self.inner.http.get(&req, call)?;
        if resp.status != 200 {
            return Err(Error::AuthenticationRequired {
                repository: t.shown.to_owned(),
                status: resp.status,
                had_credentials: creds.is_some(),
            });
        }
        let tr: TokenResponse =
            serde_json::from_slice(&resp.body).map_err(|_| Error::InvalidManifest {
                reference: t.reference.clone(),
                reason: format!(
                    "the token service at {} answered no JSON token",
                    redact(&url)
                ),
            })?;
        tr.token
            .or(tr.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::InvalidManifest {
                reference: t.reference.clone(),
                reason: format!("the token service at {} answered no token", redact(&url)),
            })
    }

    /// Every tag of `chart` that is a version, newest first.
    pub(crate) fn oci_versions(
        &self,
        location: &str,
        shown: &str,
        chart: &str,
        call: &Call,
    ) -> Result<Vec<ChartVersion>> {
        let t = self.oci_target(location, shown, chart)?;
        let mut url = t.api("tags/list")?;
        url.query_pairs_mut().append_pair("n", "1000");
        let mut tags = Vec::new();
        for _page in 0..100 {
            let resp = self.oci_get(
                &t,
                &url,
                Some("application/json"),
                "tag list",
                self.inner.limits.max_manifest_bytes,
                call,
            )?;
            match resp.status {
                200 => {}
                404 => {
                    return Err(Error::ChartNotFound {
                        repository: shown.to_owned(),
                        chart: chart.to_owned(),
                        nearest: Vec::new(),
                    });
                }
                s => {
                    return Err(Error::Status {
                        url: redact(&url),
                        status: s,
                        hint: None,
                    });
                }
            }
            let list: TagList =
                serde_json::from_slice(&resp.body).map_err(|e| Error::InvalidManifest {
                    reference: t.reference.clone(),
                    reason: format!("tag list is not JSON: {e}"),
                })?;
            tags.extend(list.tags.unwrap_or_default());
            // RFC 5988 pagination: `Link: </v2/…/tags/list?n=…&last=…>; rel="next"`.
            let next = resp
                .header("link")
                .and_then(|l| l.split(';').next())
                .map(|l| {
                    l.trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_owned()
                });
            match next {
                Some(n) if !n.is_empty() => {
                    url = url.join(&n).map_err(|e| Error::InvalidUrl {
                        url: t.reference.clone(),
                        reason: e.to_string(),
                    })?;
                }
                _ => break,
            }
        }
        let mut versions: Vec<ChartVersion> = tags
            .iter()
            .map(|tag| ChartVersion::tag(chart, tag))
            .filter(|v| Version::parse(&v.version).is_some())
            .collect();
        index::sort_newest_first(&mut versions);
        versions.dedup_by(|a, b| a.version == b.version);
        Ok(versions)
    }

    pub(crate) fn fetch_oci(
        &self,
        location: &str,
        shown: &str,
        chart: &str,
        version: &str,
        call: &Call,
    ) -> Result<ChartArchive> {
        let t = self.oci_target(location, shown, chart)?;
        let version = match exact(version) {
            Some(v) => v,
            None => {
                let versions = self.oci_versions(location, shown, chart, call)?;
                select(&versions, shown, chart, version, false)?
                    .version
                    .clone()
            }
        };
        let tag = version.replace('+', "_");
        let url = t.api(&format!("manifests/{tag}"))?;
        let reference = format!("{}:{tag}", t.reference);
        let resp = self.oci_get(
            &t,
            &url,
            Some(MANIFEST_ACCEPT),
            "manifest",
            self.inner.limits.max_manifest_bytes,
            call,
        )?;
        match resp.status {
            200 => {}
            404 => {
                let nearest = self
                    .oci_versions(location, shown, chart, call)
                    .map(|vs| index::nearest_versions(&vs, &version))
                    .unwrap_or_default();
                return Err(Error::VersionNotFound {
                    repository: shown.to_owned(),
                    chart: chart.to_owned(),
                    version,
                    nearest,
                });
            }
            s => {
                return Err(Error::Status {
                    url: redact(&url),
                    status: s,
                    hint: None,
                });
            }
        }
        if let Some(d) = resp.header("docker-content-digest")
            && let Some(hex) = sha256_of(d)
        {
            let actual = sha256_hex(&resp.body);
            if !hex.eq_ignore_ascii_case(&actual) {
                return Err(Error::DigestMismatch {
                    url: reference,
                    expected: hex.to_ascii_lowercase(),
                    actual,
                });
            }
        }
        let manifest: Manifest =
            serde_json::from_slice(&resp.body).map_err(|e| Error::InvalidManifest {
                reference: reference.clone(),
                reason: format!("not an OCI image manifest: {e}"),
            })?;
        if manifest.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(Error::InvalidManifest {
                reference,
                reason: format!(
                    "not a Helm chart: config media type {} (want {CONFIG_MEDIA_TYPE})",
                    manifest.config.media_type
                ),
            });
        }
        let layer = manifest
            .layers
            .iter()
            .find(|l| l.media_type == CHART_LAYER_MEDIA_TYPE)
            .or_else(|| {
                manifest
                    .layers
                    .iter()
                    .find(|l| l.media_type == LEGACY_CHART_LAYER_MEDIA_TYPE)
            })
            .ok_or_else(|| Error::InvalidManifest {
                reference: reference.clone(),
                reason: format!("no layer of media type {CHART_LAYER_MEDIA_TYPE}"),
            })?;
        let hex = sha256_of(&layer.digest)
            .ok_or_else(|| Error::InvalidManifest {
                reference: reference.clone(),
                reason: format!("unsupported layer digest {}", layer.digest),
            })?
            .to_ascii_lowercase();
        if layer.size > self.inner.limits.max_archive_bytes {
            return Err(Error::TooLarge {
                what: "chart archive",
                url: reference,
                limit: self.inner.limits.max_archive_bytes,
            });
        }
        if let Some(hit) = self.cached_by_digest(&hex, &reference, chart) {
            return Ok(hit);
        }
        let _flight = self.flight(&format!("blob {hex}"));
        if let Some(hit) = self.cached_by_digest(&hex, &reference, chart) {
            return Ok(hit);
        }
        let blob_url = t.api(&format!("blobs/{}", layer.digest))?;
        let resp = self.oci_get(
            &t,
            &blob_url,
            None,
            "chart archive",
            self.inner.limits.max_archive_bytes,
            call,
        )?;
        if resp.status != 200 {
            return Err(Error::Status {
                url: redact(&blob_url),
                status: resp.status,
                hint: Some(format!("the manifest of {reference} names this blob")),
            });
        }
        bump(&self.inner.counters.archive_downloads);
        let actual = sha256_hex(&resp.body);
        if actual != hex || resp.body.len() as u64 != layer.size {
            return Err(Error::DigestMismatch {
                url: reference,
                expected: hex,
                actual,
            });
        }
        let (name, ver) = self.check_archive(&resp.body, &reference, chart, &version)?;
        self.inner.cache.put_archive(&hex, &resp.body)?;
        Ok(ChartArchive {
            name,
            version: ver,
            digest: hex,
            bytes: Arc::new(resp.body),
            url: reference,
            cached: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:charts/app:pull""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:charts/app:pull");
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(s, "basic");
        assert_eq!(p["realm"], "Registry Realm");
    }
}
