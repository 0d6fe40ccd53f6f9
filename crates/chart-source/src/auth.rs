//! How git authenticates to a remote: nobody, a credential source (a token, a GitHub App
//! installation token minted per job), or the user's own git credentials (the CLI).
//!
//! Credentials are sent as HTTP basic auth in the `Authorization` header of each request and
//! nowhere else: never in a URL, a mirror's config, an error or a log line. Mirrors are kept
//! per credential identity ([`GitAuth::identity`]), so what one identity fetched is never
//! served to another, or to anonymous callers.

use std::fmt;
use std::sync::Arc;

/// A username and password (or token) for HTTP basic auth.
#[derive(Clone)]
pub struct Credentials {
    /// The username (`x-access-token` for GitHub tokens).
    pub username: String,
    password: String,
}

impl Credentials {
    /// Credentials from a username and a password or token.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// A GitHub token (personal, or an App's installation token) as GitHub's git servers take
    /// it: user `x-access-token`, the token as the password.
    pub fn github_token(token: impl Into<String>) -> Self {
        Credentials::new("x-access-token", token)
    }

    /// The password or token. Never log it.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The `Authorization` header value.
    pub(crate) fn header(&self) -> String {
        use base64::Engine as _;
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// Where credentials come from when a remote needs them.
///
/// `credentials(false)` is asked before each network operation (cache a token and hand it
/// out while it is valid); `credentials(true)` after the remote refused the last ones (a token
/// that expired mid-fetch): return fresh ones or fail. Errors are messages for people and
/// must not contain secrets.
pub trait CredentialSource: Send + Sync {
    /// Credentials for the next request; `refresh` when the last ones were refused.
    fn credentials(&self, refresh: bool) -> Result<Credentials, String>;

    /// Whether asking again with `refresh` can give different credentials (fixed ones
    /// cannot: a refusal of them is final at once).
    fn can_refresh(&self) -> bool {
        true
    }
}

/// Fixed credentials (a personal token, or user and password from a URL).
struct Fixed(Credentials);

impl CredentialSource for Fixed {
    fn credentials(&self, _refresh: bool) -> Result<Credentials, String> {
        Ok(self.0.clone())
    }

    fn can_refresh(&self) -> bool {
        false
    }
}

/// How git authenticates to remotes.
#[derive(Clone, Default)]
pub enum GitAuth {
    /// No credentials: public repositories only.
    #[default]
    Anonymous,
    /// Basic auth from a source, sent with every request.
    Source {
        /// Who the credentials belong to (`github-app-installation-42`, `token-1f2e…`):
        /// mirrors are kept per identity.
        identity: String,
        /// Where the credentials come from.
        source: Arc<dyn CredentialSource>,
    },
    /// The user's own git credentials, as git finds them when the remote asks for some:
    /// `~/.netrc` for the host, else the system `git credential fill` (credential helpers,
    /// `GIT_ASKPASS`, a terminal prompt), approved or rejected afterwards; sent as basic auth
    /// in a header like any other. ssh URLs use the user's ssh (keys, agent). For the CLI.
    UserGit,
}

impl GitAuth {
    /// A fixed GitHub token, as user `x-access-token`. Its identity is a digest of the token.
    pub fn github_token(token: impl Into<String>) -> GitAuth {
        GitAuth::fixed(Credentials::github_token(token))
    }

    /// Fixed credentials. Their identity is a digest of username and password.
    pub fn fixed(credentials: Credentials) -> GitAuth {
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            format!("{}\0{}", credentials.username, credentials.password).as_bytes(),
        );
        let hex: String = digest.as_ref()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        GitAuth::Source {
            identity: format!("basic-{hex}"),
            source: Arc::new(Fixed(credentials)),
        }
    }

    /// Credentials from `source`, kept apart from other identities' under `identity`.
    pub fn from_source(identity: impl Into<String>, source: Arc<dyn CredentialSource>) -> GitAuth {
        GitAuth::Source {
            identity: identity.into(),
            source,
        }
    }

    /// Who the credentials belong to; `None` for anonymous access. Two handles with the same
    /// identity share a mirror.
    pub fn identity(&self) -> Option<&str> {
        match self {
            GitAuth::Anonymous => None,
            GitAuth::Source { identity, .. } => Some(identity),
            GitAuth::UserGit => Some("user-git-credentials"),
        }
    }

    /// Whether this is anonymous access.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, GitAuth::Anonymous)
    }
}

impl fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitAuth::Anonymous => f.write_str("GitAuth::Anonymous"),
            GitAuth::Source { identity, .. } => write!(f, "GitAuth::Source({identity})"),
            GitAuth::UserGit => f.write_str("GitAuth::UserGit"),
        }
    }
}

/// Credentials for `host` from a netrc file (`$NETRC`, else `~/.netrc`), as curl reads it for
/// git: the `machine` entry for the host, else `default`.
pub(crate) fn netrc_credentials(host: &str) -> Option<Credentials> {
    let path = std::env::var_os("NETRC")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".netrc")))?;
    let text = std::fs::read_to_string(path).ok()?;
    parse_netrc(&text, host)
}

fn parse_netrc(text: &str, host: &str) -> Option<Credentials> {
    let mut tokens = text.split_whitespace();
    let mut found: Option<(Option<String>, Option<String>)> = None;
    let mut default: Option<(Option<String>, Option<String>)> = None;
    // Which entry the login/password tokens belong to: 0 none, 1 ours, 2 default, 3 other.
    let mut current = 0u8;
    while let Some(t) = tokens.next() {
        match t {
            "machine" => {
                let m = tokens.next().unwrap_or_default();
                current = if m.eq_ignore_ascii_case(host) && found.is_none() {
                    found = Some((None, None));
                    1
                } else {
                    3
                };
            }
            "default" => {
                current = if default.is_none() {
                    default = Some((None, None));
                    2
                } else {
                    3
                };
            }
            "login" | "password" => {
                let v = tokens.next().unwrap_or_default().to_owned();
                let slot = match current {
                    1 => found.as_mut(),
                    2 => default.as_mut(),
                    _ => None,
                };
                if let Some((login, password)) = slot {
                    if t == "login" {
                        *login = Some(v);
                    } else {
                        *password = Some(v);
                    }
                }
            }
            "account" => {
                tokens.next();
            }
            "macdef" => {
                // A macro runs to the next blank line; nothing we read follows it reliably.
                break;
            }
            _ => {}
        }
    }
    let (login, password) = found.or(default)?;
    Some(Credentials::new(login?, password.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_rfc7617_base64() {
        assert_eq!(
            Credentials::new("Aladdin", "open sesame").header(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(Credentials::new("a", "").header(), "Basic YTo=");
        assert_eq!(Credentials::new("ab", "").header(), "Basic YWI6");
    }

    #[test]
    fn debug_hides_the_password() {
        let c = Credentials::github_token("ghs_secret");
        assert!(!format!("{c:?}").contains("ghs_secret"));
        let a = GitAuth::github_token("ghs_secret");
        assert!(!format!("{a:?}").contains("ghs_secret"));
        assert!(!a.identity().unwrap().contains("ghs_secret"));
        assert_ne!(
            a.identity(),
            GitAuth::github_token("ghs_other").identity(),
            "different tokens, different mirrors"
        );
    }

    #[test]
    fn netrc_machine_then_default() {
        let text = "machine other.example login o password op\n\
                    machine git.example.com\n  login me\n  password tok\n\
                    default login anon password x\n";
        let c = parse_netrc(text, "GIT.example.com").unwrap();
        assert_eq!((c.username.as_str(), c.password()), ("me", "tok"));
        let d = parse_netrc(text, "elsewhere.example").unwrap();
        assert_eq!(d.username, "anon");
        assert!(parse_netrc("machine a login b password c", "z").is_none());
    }
}
