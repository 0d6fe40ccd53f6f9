//! The web UI: plain HTML, CSS and JavaScript modules embedded in the binary and served at
//! `/`, so one `chartimpact-server` is the whole application (no CDN, no second server, works
//! offline). The pages are a client of the same JSON API everyone else uses.
//!
//! Why no framework or bundler: the UI is a handful of views over one JSON document, and
//! shipping the source as is keeps the build a plain `cargo build` (no Node.js toolchain to
//! install or audit) while modern browsers load ES modules natively. See `docs/UI.md`.
//!
//! Every response of the server carries the security headers of [`security_headers`]; the
//! Content-Security-Policy allows scripts, styles and connections from this origin only.

use std::sync::OnceLock;

use axum::extract::{Path, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    /// Strong ETag from the content, computed on first use.
    etag: OnceLock<String>,
}

impl Asset {
    fn etag(&self) -> &str {
        self.etag
            .get_or_init(|| format!("\"{}\"", &diff_core::sha256_hex(self.bytes)[..24]))
    }
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/", $name)),
            etag: OnceLock::new(),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: [Asset; 11] = [
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("compare.js", JS),
    asset!("analysis.js", JS),
    asset!("diffview.js", JS),
    asset!("analytics.js", JS),
    asset!("operations.js", JS),
];

/// The pages the UI routes itself (each answers `index.html`; the script reads the path).
pub const UI_ROUTES: &[&str] = &[
    "/",
    "/compare",
    "/analysis/{id}",
    "/analytics",
    "/operations",
];

/// What the browser may load and from where: this origin only, no inline script or style,
/// no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

fn serve(asset: &'static Asset, headers: &axum::http::HeaderMap, status: StatusCode) -> Response {
    let tag = asset.etag();
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    // Names are not content-hashed, so browsers revalidate each time (a 304 is cheap) and a
    // new server version is picked up at once.
    const CACHE: &str = "no-cache";
    if matches && status == StatusCode::OK {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, tag), (header::CACHE_CONTROL, CACHE)],
        )
            .into_response();
    }
    let mut r = (status, asset.bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    r
}

fn index() -> &'static Asset {
    find("index.html").unwrap_or(&ASSETS[0])
}

/// `GET /`, `/compare`, `/analysis/{id}`, `/analytics`, `/operations`: the application page.
pub(crate) async fn page(headers: axum::http::HeaderMap) -> Response {
    serve(index(), &headers, StatusCode::OK)
}

/// `GET /assets/{name}`.
pub(crate) async fn asset(Path(name): Path<String>, headers: axum::http::HeaderMap) -> Response {
    match find(&name).filter(|a| a.name != "index.html") {
        Some(a) => serve(a, &headers, StatusCode::OK),
        None => crate::ApiError::not_found(format!("no UI asset named {name:?}")).into_response(),
    }
}

/// Whether an unknown path should get the UI's "page not found" rather than JSON: a browser
/// navigating (asks for HTML) outside the API's own prefixes.
pub(crate) fn wants_page(path: &str, headers: &axum::http::HeaderMap) -> bool {
    !path.starts_with("/api/")
        && path != "/metrics"
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// The UI page with status 404 (the script shows "page not found").
pub(crate) fn not_found_page(headers: &axum::http::HeaderMap) -> Response {
    serve(index(), headers, StatusCode::NOT_FOUND)
}

/// Adds the security headers to every response that does not set its own.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
    ] {
        if !h.contains_key(name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_embedded_and_named_once() {
        let mut names: Vec<_> = ASSETS.iter().map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ASSETS.len());
        for a in &ASSETS {
            assert!(!a.bytes.is_empty(), "{} is empty", a.name);
        }
    }

    #[test]
    fn index_loads_only_embedded_scripts_and_styles() {
        let html = std::str::from_utf8(index().bytes).unwrap();
        // No inline script or style: the CSP would block them.
        assert!(!html.contains("<script>"), "inline script in index.html");
        assert!(!html.contains("style="), "inline style in index.html");
        for part in html.split("/assets/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(
                find(name).is_some(),
                "index.html loads {name}, not embedded"
            );
        }
    }

    #[test]
    fn modules_import_only_embedded_modules() {
        for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let src = std::str::from_utf8(a.bytes).unwrap();
            for line in src.lines().filter(|l| l.starts_with("import ")) {
                let target = line.rsplit("from").next().unwrap().trim();
                let name = target.trim_matches(|c| c == '"' || c == '\'' || c == ';');
                let name = name.trim_start_matches("./");
                assert!(
                    find(name).is_some(),
                    "{} imports {name}, not embedded",
                    a.name
                );
            }
        }
    }
}
