//! Who may read what, and who a request is from.
//!
//! The compare API is a service for anyone who can reach it; what it stores is not. Stored
//! results name repositories, branches and pull requests (webhook analyses of private
//! repositories too), and jobs carry errors. So:
//!
//! - With an API token (`--api-token`), every `/api/*` route but health, the OpenAPI document
//!   and the webhook intake (signed by GitHub) needs `Authorization: Bearer <token>`.
//! - Without one, a server that listens on a loopback address answers requests that are
//!   plainly local (a loopback peer, a loopback `Host`, no proxy's forwarding headers) as it
//!   always did: everything is readable. Everyone else is *anonymous*: compares and listings
//!   of a repository's versions and charts run, a stored result is readable by its id, but the
//!   list of results, popular charts, jobs and the results of webhook analyses are not.
//! - `/metrics` needs the metrics token when one is set (`--metrics-token`).
//!
//! A token is compared in constant time and never kept as text.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::hmac;

use crate::{ApiError, AppState};

/// The shortest token accepted, in bytes: a token is a password to everything the server
/// stores, so a short one is refused rather than brute-forced.
pub const MIN_TOKEN_LEN: usize = 16;

/// A bearer token from configuration, held only as an HMAC tag (compared in constant time;
/// `Debug` shows `Token(***)`).
#[derive(Clone)]
pub struct Token {
    key: hmac::Key,
    tag: hmac::Tag,
}

/// Why a configured token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Shorter than [`MIN_TOKEN_LEN`].
    #[error(
        "the token is {len} bytes long; use at least {MIN_TOKEN_LEN} random bytes \
         (`chartimpact-server gen-secret` prints one)"
    )]
    TooShort {
        /// Its length.
        len: usize,
    },
    /// Holds characters an HTTP header cannot carry.
    #[error("the token may hold only visible ASCII characters (it travels in a header)")]
    NotVisibleAscii,
}

impl Token {
    /// A token from configuration (surrounding whitespace, e.g. a file's newline, removed).
    pub fn new(text: &str) -> Result<Token, TokenError> {
        let text = text.trim();
        if text.len() < MIN_TOKEN_LEN {
            return Err(TokenError::TooShort { len: text.len() });
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::NotVisibleAscii);
        }
        let mut k = [0u8; 32];
        // A random key per process: the tag says nothing about the token outside this process.
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut k);
        let key = hmac::Key::new(hmac::HMAC_SHA256, &k);
        let tag = hmac::sign(&key, text.as_bytes());
        Ok(Token { key, tag })
    }

    /// Whether `presented` is this token (constant time).
    pub fn matches(&self, presented: &str) -> bool {
        hmac::verify(&self.key, presented.as_bytes(), self.tag.as_ref()).is_ok()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Tokens and the addresses of trusted reverse proxies.
#[derive(Debug, Clone, Default)]
pub struct AccessConfig {
    /// Needed for the API (all but health, OpenAPI and the webhook intake); `None`: only
    /// plainly local requests to a loopback listener read everything.
    pub api_token: Option<Token>,
    /// Needed for `/metrics`; `None`: metrics are open (they hold counts, no names).
    pub metrics_token: Option<Token>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (rate limits and per-client
    /// limits then apply to the client, not to the proxy).
    pub trusted_proxies: Vec<IpNet>,
}

/// What a request may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Everything: the right token, or a plainly local request to a tokenless loopback server.
    Full,
    /// Compares and listings of repositories; a non-webhook result by its id.
    Anonymous,
}

/// The address a request is attributed to: the peer, or with a trusted proxy in front the
/// client it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientAddr(pub(crate) IpAddr);

impl ClientAddr {
    /// The key of per-client limits: an IPv4 address, or an IPv6 address's /64 (one host
    /// commonly has a whole /64 to pick addresses from).
    pub(crate) fn limit_key(self) -> IpAddr {
        match self.0 {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        }
    }
}

/// An address range, `10.0.0.0/8` or `2001:db8::/32` (a bare address is its own range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is in the range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("{s:?} is not an address or a range such as 10.0.0.0/8");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(IpNet { addr, prefix })
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The headers a reverse proxy adds: a request bearing one came through a proxy, so it is
/// not plainly local whatever its peer address.
const FORWARDING_HEADERS: &[&str] = &[
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-real-ip",
    "cf-connecting-ip",
];

/// The client address of a request from `peer`: with a trusted proxy as the peer, the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy.
pub(crate) fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> ClientAddr {
    let peer = canonical(peer);
    if !trusted.iter().any(|n| n.contains(peer)) {
        return ClientAddr(peer);
    }
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for") {
        let Ok(list) = value.to_str() else {
            return ClientAddr(peer);
        };
        for hop in list.rsplit(',') {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                return ClientAddr(client);
            };
            client = canonical(ip);
            if !trusted.iter().any(|n| n.contains(client)) {
                return ClientAddr(client);
            }
        }
    }
    ClientAddr(client)
}

/// Whether a request is plainly from this machine: a loopback peer, a loopback `Host` (a page
/// on another origin that resolves its name to 127.0.0.1 — DNS rebinding — sends its own
/// name) and no proxy's forwarding headers.
fn plainly_local(peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
    let loopback_peer = peer.is_some_and(|p| canonical(p).is_loopback());
    let forwarded = FORWARDING_HEADERS.iter().any(|h| headers.contains_key(*h));
    let host_ok = match headers.get(header::HOST).map(|h| h.to_str()) {
        None => true,
        Some(Ok(host)) => is_loopback_host(host),
        Some(Err(_)) => false,
    };
    loopback_peer && !forwarded && host_ok
}

/// `localhost`, `127.0.0.1:8080`, `[::1]:8080`, …
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        }),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| canonical(ip).is_loopback())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized(message: &str) -> Response {
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"chartimpact\""),
    );
    response
}

/// Middleware (outermost): attributes the request to its client address.
pub(crate) async fn attribute(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = match peer {
        Some(peer) => client_addr(
            peer,
            req.headers(),
            &state.inner.config.access.trusted_proxies,
        ),
        None => ClientAddr(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
    };
    req.extensions_mut().insert(client);
    next.run(req).await
}

/// Middleware of the API routes: decides the request's [`Access`], and with a token
/// configured refuses anyone without it.
pub(crate) async fn api_access(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let access = match &state.inner.config.access.api_token {
        Some(token) => match bearer(req.headers()) {
            Some(presented) if token.matches(presented) => Access::Full,
            Some(_) => {
                crate::metrics::rejected("unauthorized");
                return unauthorized("the API token is not valid");
            }
            None => {
                crate::metrics::rejected("unauthorized");
                return unauthorized(
                    "this server needs an API token: send Authorization: Bearer <token>",
                );
            }
        },
        None => {
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            if state.local_listener() && plainly_local(peer, req.headers()) {
                Access::Full
            } else {
                Access::Anonymous
            }
        }
    };
    req.extensions_mut().insert(access);
    next.run(req).await
}

/// Middleware of `/metrics`: the metrics token, when one is set.
pub(crate) async fn metrics_access(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(token) = &state.inner.config.access.metrics_token
        && !bearer(req.headers()).is_some_and(|t| token.matches(t))
    {
        crate::metrics::rejected("unauthorized");
        return unauthorized(
            "the metrics need the metrics token: send Authorization: Bearer <token>",
        );
    }
    next.run(req).await
}

/// Whether the request has full access (the API token, or a plainly local request).
pub(crate) fn is_full(access: &Option<axum::Extension<Access>>) -> bool {
    matches!(access, Some(axum::Extension(Access::Full)))
}

/// `Ok` with full access; otherwise what an anonymous request for `what` is told.
pub(crate) fn require_full(
    state: &AppState,
    access: &Option<axum::Extension<Access>>,
    what: &str,
) -> Result<(), ApiError> {
    if is_full(access) {
        Ok(())
    } else {
        Err(needs_token(state, what))
    }
}

/// What an anonymous request to a route that needs more is told.
pub(crate) fn needs_token(state: &AppState, what: &str) -> ApiError {
    crate::metrics::rejected("forbidden");
    if state.inner.config.access.api_token.is_some() {
        // Not reached: the middleware answers 401 first. Kept for completeness.
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("{what} needs the API token"),
        )
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "{what} is only for the operator: this server has no API token, so it shows \
                 this only to local requests (start it with --api-token, or \
                 CHARTIMPACT_API_TOKEN, and send Authorization: Bearer <token>)"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_themselves_and_never_print() {
        let t = Token::new("0123456789abcdef0123\n").unwrap();
        assert!(t.matches("0123456789abcdef0123"));
        assert!(!t.matches("0123456789abcdef0124"));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert_eq!(
            Token::new("short").unwrap_err(),
            TokenError::TooShort { len: 5 }
        );
        assert!(Token::new("0123456789abcdef 0123").is_err());
    }

    #[test]
    fn ranges_contain_their_addresses() {
        let n: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        let one: IpNet = "192.168.1.7".parse().unwrap();
        assert!(one.contains("192.168.1.7".parse().unwrap()));
        assert!(!one.contains("192.168.1.8".parse().unwrap()));
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("ten".parse::<IpNet>().is_err());
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        let a = ClientAddr("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientAddr("2001:db8:1:2:bbbb::9".parse().unwrap());
        let c = ClientAddr("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a.limit_key(), b.limit_key());
        assert_ne!(a.limit_key(), c.limit_key());
        let v4 = ClientAddr("::ffff:192.0.2.1".parse().unwrap());
        assert_eq!(v4.limit_key(), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9, 10.0.0.3".parse().unwrap(),
        );
        // From the proxy: the right-most untrusted hop (a client can prepend anything).
        assert_eq!(
            client_addr("10.0.0.2".parse().unwrap(), &h, &trusted).0,
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // From anyone else: the peer.
        assert_eq!(
            client_addr("198.51.100.1".parse().unwrap(), &h, &trusted).0,
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        // No header: the proxy itself.
        assert_eq!(
            client_addr("10.0.0.2".parse().unwrap(), &HeaderMap::new(), &trusted).0,
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn local_means_loopback_peer_loopback_host_and_no_proxy() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let host = |h: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, h.parse().unwrap());
            m
        };
        assert!(plainly_local(Some(lo), &host("127.0.0.1:8080")));
        assert!(plainly_local(Some(lo), &host("localhost:8080")));
        assert!(plainly_local(Some(lo), &host("[::1]:8080")));
        assert!(plainly_local(Some(lo), &HeaderMap::new()));
        // DNS rebinding: the attacker's name in Host.
        assert!(!plainly_local(Some(lo), &host("evil.example:8080")));
        assert!(!plainly_local(Some(lo), &host("127.0.0.1.evil.example")));
        // Through a proxy on this machine.
        let mut proxied = host("localhost:8080");
        proxied.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        assert!(!plainly_local(Some(lo), &proxied));
        // Another machine.
        assert!(!plainly_local(
            Some("192.0.2.1".parse().unwrap()),
            &host("localhost")
        ));
        assert!(!plainly_local(None, &HeaderMap::new()));
    }
}
