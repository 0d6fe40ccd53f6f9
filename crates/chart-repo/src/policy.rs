//! chart-source's [`UrlPolicy`] applied to every URL this crate contacts: repositories, archive
//! URLs, OCI token services, mirrors and every redirect; host names are checked again when they
//! resolve, so a name that resolves to a private address is refused at connect time.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use chart_source::UrlPolicy;
use reqwest::Url;

use crate::Error;

/// Why the policy refused a connection; carried through reqwest's error chain so a refusal is
/// reported as [`Error::NotAllowed`] and never retried.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) url: String,
    pub(crate) reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not allowed: {}", self.url, self.reason)
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Error::NotAllowed {
            url: r.url,
            reason: r.reason,
        }
    }
}

/// `url` without user-info, query or fragment, at most 200 characters: safe for messages.
pub(crate) fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.as_str().chars().take(200).collect()
}

/// Redacts user-info in a URL given as text (which may not parse).
pub(crate) fn redact_str(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => redact(&u),
        Err(_) => {
            let Some((scheme, rest)) = url.split_once("://") else {
                return url.chars().take(200).collect();
            };
            let end = rest.find('/').unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            let authority = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{authority}{tail}")
                .chars()
                .take(200)
                .collect()
        }
    }
}

/// Checks a URL's scheme, host and (for address literals) address against the policy.
///
/// Plain http is allowed only where private addresses are (the server's
/// `--allow-private-repo-hosts`, or the CLI): on the public internet repositories use https.
pub(crate) fn check(policy: &UrlPolicy, url: &Url) -> Result<(), Refusal> {
    let refuse = |reason: String| Refusal {
        url: redact(url),
        reason,
    };
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_private_addresses => {}
        "http" => {
            return Err(refuse(
                "plain http is refused; use https (or allow private repository hosts)".into(),
            ));
        }
        other => return Err(refuse(format!("scheme {other} is not supported"))),
    }
    let Some(host) = url.host_str() else {
        return Err(refuse("url has no host".into()));
    };
    let port = url.port_or_known_default().unwrap_or(443);
    if !policy.allows_host(host, port) {
        let shown = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        return Err(refuse(format!(
            "host {shown} is not in the allowed hosts ({})",
            policy.allowed_hosts.join(", ")
        )));
    }
    let literal = host.trim_matches(['[', ']']).parse::<IpAddr>().ok();
    if let Some(ip) = literal
        && let Some(why) = policy.refuses_address(ip)
    {
        return Err(refuse(format!("host {host} is {why}")));
    }
    Ok(())
}

/// reqwest's resolver: the system's, with every address checked against the policy (all of a
/// name's addresses must pass, so DNS rebinding between check and connect gains nothing).
pub(crate) struct PolicyResolver {
    pub(crate) policy: Arc<UrlPolicy>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // getaddrinfo blocks; reqwest's blocking client runs this on its own runtime thread.
            let addrs: Vec<SocketAddr> = (host.as_str(), 0)
                .to_socket_addrs()
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })?
                .collect();
            for a in &addrs {
                if let Some(why) = policy.refuses_address(a.ip()) {
                    return Err(Box::new(Refusal {
                        url: host.clone(),
                        reason: format!("host {host} resolves to {why}"),
                    })
                        as Box<dyn std::error::Error + Send + Sync>);
                }
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The policy's refusal inside an error chain, if that is what the error is.
pub(crate) fn find_refusal<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refusal> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<Refusal>() {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str], private: bool) -> UrlPolicy {
        UrlPolicy {
            allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            allow_local: false,
            allow_private_addresses: private,
            ..Default::default()
        }
    }

    #[test]
    fn https_to_allowed_hosts_only() {
        let p = policy(&["charts.example.com"], false);
        let ok = Url::parse("https://charts.example.com/stable").unwrap();
        assert!(check(&p, &ok).is_ok());
        let other = Url::parse("https://evil.example.com/x").unwrap();
        let e = check(&p, &other).unwrap_err();
        assert!(e.reason.contains("not in the allowed hosts"), "{e}");
        let http = Url::parse("http://charts.example.com/stable").unwrap();
        assert!(check(&p, &http).unwrap_err().reason.contains("plain http"));
    }

    #[test]
    fn address_literals_and_wildcard() {
        let p = policy(&["*"], false);
        let lo = Url::parse("https://127.0.0.1:8443/x").unwrap();
        assert!(
            check(&p, &lo)
                .unwrap_err()
                .reason
                .contains("loopback address")
        );
        let meta = Url::parse("https://169.254.169.254/latest").unwrap();
        assert!(check(&p, &meta).is_err());
        let open = policy(&["*"], true);
        assert!(check(&open, &Url::parse("http://127.0.0.1:1/x").unwrap()).is_ok());
    }

    #[test]
    fn redaction_drops_userinfo_and_query() {
        let u = Url::parse("https://user:s3cret@host.example/a/index.yaml?token=abc").unwrap();
        assert_eq!(redact(&u), "https://host.example/a/index.yaml");
        assert_eq!(redact_str("oci://u:p@reg.example/x"), "oci://reg.example/x");
    }
}
