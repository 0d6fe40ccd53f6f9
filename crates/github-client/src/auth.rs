//! Credentials: a token, or a GitHub App key that signs JWTs (reference §5, R25).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use crate::{Error, SecretString};

/// How the client authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A personal access token (or any bearer token). Statuses and comments only: check runs
    /// need an App (reference §3.3, R30).
    Token(SecretString),
    /// A GitHub App: the client signs RS256 JWTs with the key and exchanges them for
    /// per-installation tokens.
    App {
        /// The App id, used as the JWT `iss`.
        app_id: u64,
        /// The App's private key in PEM, PKCS#1 (`BEGIN RSA PRIVATE KEY`, what GitHub hands
        /// out) or PKCS#8 (`BEGIN PRIVATE KEY`).
        private_key_pem: SecretString,
    },
}

/// Seconds the JWT `iat` is set in the past, for clock drift (reference R25).
pub(crate) const JWT_IAT_SKEW_SECS: u64 = 60;
/// JWT lifetime after now (GitHub allows at most 600 s; reference R25).
pub(crate) const JWT_EXP_SECS: u64 = 540;

/// Signs App JWTs.
pub(crate) struct AppSigner {
    app_id: u64,
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for AppSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSigner")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl AppSigner {
    pub(crate) fn from_pem(app_id: u64, pem: &SecretString) -> Result<Self, Error> {
        let (label, der) = parse_pem(pem.expose())?;
        let key = match label.as_str() {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            other => {
                return Err(Error::Auth {
                    reason: format!("unsupported private key PEM label {other:?}"),
                });
            }
        }
        .map_err(|e| Error::Auth {
            reason: format!("unusable app private key: {e}"),
        })?;
        Ok(AppSigner {
            app_id,
            key,
            rng: SystemRandom::new(),
        })
    }

    /// A JWT valid from `now - 60 s` to `now + 540 s` (`now` in epoch seconds).
    pub(crate) fn jwt(&self, now: u64) -> Result<SecretString, Error> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iat": now.saturating_sub(JWT_IAT_SKEW_SECS),
            "exp": now + JWT_EXP_SECS,
            "iss": self.app_id.to_string(),
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| Error::Auth {
                reason: "signing the app jwt failed".into(),
            })?;
        Ok(SecretString::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(sig)
        )))
    }
}

/// Splits a PEM document into its label and DER bytes (first block only).
fn parse_pem(pem: &str) -> Result<(String, Vec<u8>), Error> {
    let bad = |reason: &str| Error::Auth {
        reason: format!("app private key: {reason}"),
    };
    let mut lines = pem.lines().map(str::trim);
    let label = lines
        .by_ref()
        .find_map(|l| {
            l.strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
        })
        .ok_or_else(|| bad("no PEM BEGIN line"))?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        if line.contains(':') {
            return Err(bad("encrypted PEM keys are not supported"));
        }
        body.push_str(line);
    }
    if !ended {
        return Err(bad("no PEM END line"));
    }
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| bad("PEM body is not base64"))?;
    Ok((label, der))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    const KEY: &str = include_str!("../tests/fixtures/test-app-key.pem");

    #[test]
    fn jwt_has_github_claims_and_verifies() {
        let signer = AppSigner::from_pem(4242, &SecretString::new(KEY)).unwrap();
        let jwt = signer.jwt(1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iat"], 1_700_000_000 - 60);
        assert_eq!(claims["exp"], 1_700_000_000 + 540);
        assert_eq!(claims["iss"], "4242");
        let public = UnparsedPublicKey::new(
            &RSA_PKCS1_2048_8192_SHA256,
            signer.key.public().as_ref().to_vec(),
        );
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        public
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
        assert!(
            public
                .verify(format!("{}.{}x", parts[0], parts[1]).as_bytes(), &sig)
                .is_err()
        );
    }

    #[test]
    fn bad_pem_is_an_auth_error_without_the_key() {
        let err = AppSigner::from_pem(1, &SecretString::new("garbage")).unwrap_err();
        assert!(matches!(err, Error::Auth { .. }));
        let err = AppSigner::from_pem(
            1,
            &SecretString::new(
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
            ),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("AAAA"));
    }
}
