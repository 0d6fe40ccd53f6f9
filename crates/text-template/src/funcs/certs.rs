//! Sprig's key and certificate functions (`genPrivateKey`, `genCA`, `genSelfSignedCert`,
//! `genSignedCert`, their `WithKey` forms and `buildCustomCert`), laid out as Go's
//! `crypto/x509` writes them. Keys, serial numbers and signatures draw only on the execution
//! context's random source, and validity starts at its clock, so a seed reproduces a render.

use std::net::IpAddr;

use base64::Engine as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use x509_cert::der::{Decode, Encode};

use super::der::{self, bits, octets, oid, seq, tlv, uint};
use super::{FuncError, FuncMap, Sig, Ty, err, i, s};
use crate::exec::CallCtx;
use crate::value::{MethodResult, Object, Value};

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
const OID_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
const OID_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_SHA256_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// Go's `x509.KeyUsage` bits as Sprig sets them, already bit-reversed into a BIT STRING.
const KEY_USAGE_LEAF: &[u8] = &[0x03, 0x02, 0x05, 0xa0];
const KEY_USAGE_CA: &[u8] = &[0x03, 0x02, 0x02, 0xa4];

/// Sprig's `certificate` struct.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    cert: String,
    key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> String {
        "sprig.certificate".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(&self.cert)),
            "Key" => Some(Value::str(&self.key)),
            _ => None,
        }
    }
    fn format(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
    fn to_data(&self) -> Value {
        Value::map([
            ("Cert", Value::str(&self.cert)),
            ("Key", Value::str(&self.key)),
        ])
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
}

impl Certificate {
    fn from_value(v: &Value) -> Result<Certificate, FuncError> {
        match v {
            Value::Object(o) if o.type_name() == "sprig.certificate" => {
                let get = |n| o.field(n).and_then(|v| v.as_str().map(str::to_string));
                Ok(Certificate {
                    cert: get("Cert").unwrap_or_default(),
                    key: get("Key").unwrap_or_default(),
                })
            }
            other => err(format!(
                "wrong type for value; expected sprig.certificate; got {}",
                other.type_name()
            )),
        }
    }
}

/// What generating an RSA key counts against the step limit (about what a second of template
/// execution takes): at most fifty 4096-bit keys fit the default limit.
const RSA_4096_STEPS: u64 = 1_000_000;
const RSA_2048_STEPS: u64 = 250_000;

/// A private key of one of the kinds Sprig generates or parses.
pub(crate) enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ec(p256::SecretKey),
    Ed25519(ed25519_dalek::SigningKey),
    /// Go's `DSAKeyFormat` DER. Go's x509 can neither sign with DSA nor put a DSA key in a
    /// certificate, so only the encoding is kept.
    Dsa(Vec<u8>),
}

/// A ChaCha20 generator seeded from the execution context's random source.
pub(crate) fn context_rng(cx: &mut CallCtx<'_>) -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_mut(8) {
        chunk.copy_from_slice(&cx.context().rng().next_u64().to_le_bytes());
    }
    ChaCha20Rng::from_seed(seed)
}

impl PrivateKey {
    fn generate(kind: &str, rng: &mut ChaCha20Rng) -> Result<PrivateKey, String> {
        Ok(match kind {
            "" | "rsa" => PrivateKey::rsa(rng, 4096)?,
            "dsa" => {
                CallCtx::work(RSA_4096_STEPS).map_err(|e| e.message().to_owned())?;
                let components = dsa::Components::generate(rng, dsa::KeySize::DSA_2048_256);
                let key = dsa::SigningKey::generate(rng, components);
                let c = key.verifying_key().components();
                let ints: Vec<Vec<u8>> = [
                    &[][..],
                    &c.p().to_bytes_be(),
                    &c.q().to_bytes_be(),
                    &c.g().to_bytes_be(),
                    &key.verifying_key().y().to_bytes_be(),
                    &key.x().to_bytes_be(),
                ]
                .iter()
                .map(|b| uint(b))
                .collect();
                let refs: Vec<&[u8]> = ints.iter().map(Vec::as_slice).collect();
                PrivateKey::Dsa(seq(&refs))
            }
            "ecdsa" => PrivateKey::Ec(p256::SecretKey::random(rng)),
            "ed25519" => {
                let mut seed = [0u8; 32];
                rng.fill_bytes(&mut seed);
                PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            other => return Err(format!("Unknown type {other}")),
        })
    }

    fn rsa(rng: &mut ChaCha20Rng, bits: usize) -> Result<PrivateKey, String> {
        // Key generation takes a good part of a second in one step: count it as many steps
        // and read the clock first, so a loop of them stops at the deadline.
        CallCtx::work(if bits > 2048 {
            RSA_4096_STEPS
        } else {
            RSA_2048_STEPS
        })
        .map_err(|e| e.message().to_owned())?;
        if let Some(k) = super::rsa_fast::generate(rng, bits) {
            return Ok(PrivateKey::Rsa(Box::new(k)));
        }
        rsa::RsaPrivateKey::new(rng, bits)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| format!("error generating rsa key: {e}"))
    }

    /// Sprig's `parsePrivateKeyPEM`.
    fn parse_pem(text: &str) -> Result<PrivateKey, String> {
        let Some((kind, der)) = der::pem_decode(text) else {
            return Err("no PEM data in input".into());
        };
        if kind == "PRIVATE KEY" {
            if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(&der) {
                return Ok(PrivateKey::Rsa(Box::new(k)));
            }
            if let Ok(k) = p256::SecretKey::from_pkcs8_der(&der) {
                return Ok(PrivateKey::Ec(k));
            }
            if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(&der) {
                return Ok(PrivateKey::Ed25519(k));
            }
            return Err(match pkcs8_algorithm(&der) {
                Some(oid) => format!(
                    "decoding PEM as PKCS#8: x509: PKCS#8 wrapping contained private key with unknown algorithm: {oid}"
                ),
                None => "decoding PEM as PKCS#8: asn1: structure error".into(),
            });
        }
        let Some(prefix) = kind.strip_suffix(" PRIVATE KEY") else {
            return Err(format!("no private key data in PEM block of type {kind}"));
        };
        match prefix {
            "RSA" => rsa::RsaPrivateKey::from_pkcs1_der(&der)
                .map(|k| PrivateKey::Rsa(Box::new(k)))
                .map_err(|_| {
                    "parsing RSA private key from PEM: x509: failed to parse private key".into()
                }),
            "EC" => p256::SecretKey::from_sec1_der(&der)
                .map(PrivateKey::Ec)
                .map_err(|_| {
                    "parsing EC private key from PEM: x509: failed to parse EC private key".into()
                }),
            "DSA" => match der::read(&der) {
                Some((0x30, _, _)) => Ok(PrivateKey::Dsa(der)),
                _ => Err("parsing DSA private key from PEM: asn1: structure error".into()),
            },
            _ => Err(format!("invalid private key type {kind}")),
        }
    }

    /// Sprig's `pemBlockForKey`.
    fn to_pem(&self) -> String {
        match self {
            PrivateKey::Rsa(k) => der::pem_encode(
                "RSA PRIVATE KEY",
                k.to_pkcs1_der()
                    .map(|d| d.as_bytes().to_vec())
                    .unwrap_or_default()
                    .as_slice(),
            ),
            PrivateKey::Ec(k) => {
                // Go's MarshalECPrivateKey: version, key, [0] curve, [1] public point.
                let der = seq(&[
                    &uint(&[1]),
                    &octets(&k.to_bytes()),
                    &tlv(0xa0, &oid(OID_P256)),
                    &tlv(0xa1, &bits(&k.public_key().to_sec1_bytes())),
                ]);
                der::pem_encode("EC PRIVATE KEY", &der)
            }
            PrivateKey::Ed25519(k) => {
                let algo = seq(&[&oid(OID_ED25519)]);
                let der = seq(&[&uint(&[]), &algo, &octets(&octets(k.as_bytes()))]);
                der::pem_encode("PRIVATE KEY", &der)
            }
            PrivateKey::Dsa(der) => der::pem_encode("DSA PRIVATE KEY", der),
        }
    }

    /// Go's `marshalPublicKey`: (SubjectPublicKeyInfo DER, the key bytes inside it).
    fn public_key_info(&self) -> Result<(Vec<u8>, Vec<u8>), String> {
        let (algo, key) = match self {
            PrivateKey::Rsa(k) => (
                seq(&[&oid(OID_RSA), der::NULL]),
                k.to_public_key()
                    .to_pkcs1_der()
                    .map(|d| d.as_bytes().to_vec())
                    .map_err(|e| e.to_string())?,
            ),
            PrivateKey::Ec(k) => (
                seq(&[&oid(OID_EC_PUBLIC_KEY), &oid(OID_P256)]),
                k.public_key().to_sec1_bytes().to_vec(),
            ),
            PrivateKey::Ed25519(k) => (
                seq(&[&oid(OID_ED25519)]),
                k.verifying_key().to_bytes().to_vec(),
            ),
            PrivateKey::Dsa(_) => {
                return Err("x509: unsupported public key type: *dsa.PublicKey".into());
            }
        };
        Ok((seq(&[&algo, &bits(&key)]), key))
    }

    /// The signature AlgorithmIdentifier Go picks for this key.
    fn signature_algorithm(&self) -> Result<Vec<u8>, String> {
        match self {
            PrivateKey::Rsa(_) => Ok(seq(&[&oid(OID_SHA256_RSA), der::NULL])),
            PrivateKey::Ec(_) => Ok(seq(&[&oid(OID_ECDSA_SHA256)])),
            PrivateKey::Ed25519(_) => Ok(seq(&[&oid(OID_ED25519)])),
            PrivateKey::Dsa(_) => {
                Err("x509: certificate private key does not implement crypto.Signer".into())
            }
        }
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(k) => super::rsa_fast::sign_sha256(k, msg).unwrap_or_else(|| {
                rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k.as_ref().clone())
                    .sign(msg)
                    .to_vec()
            }),
            PrivateKey::Ec(k) => {
                let sig: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(k).sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::Ed25519(k) => k.sign(msg).to_bytes().to_vec(),
            PrivateKey::Dsa(_) => Vec::new(),
        }
    }
}

/// The dotted algorithm OID of a PKCS#8 PrivateKeyInfo.
fn pkcs8_algorithm(der: &[u8]) -> Option<String> {
    let (_, info, _) = der::read(der)?;
    let (_, _, rest) = der::read(info)?;
    let (_, algo, _) = der::read(rest)?;
    let (tag, oid, _) = der::read(algo)?;
    if tag != 0x06 {
        return None;
    }
    x509_cert::der::asn1::ObjectIdentifier::from_bytes(oid)
        .ok()
        .map(|o| o.to_string())
}

/// The parts of a parsed CA certificate a signed certificate needs.
struct Issuer {
    subject: Vec<u8>,
    public_key_info: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
}

impl Issuer {
    fn parse(pem: &str) -> Result<Issuer, String> {
        let Some((_, der)) = der::pem_decode(pem) else {
            return Err("unable to decode certificate".into());
        };
        let cert = x509_cert::Certificate::from_der(&der).map_err(|e| {
            format!("error parsing certificate: decodedSignerCert.Bytes: x509: malformed certificate ({e})")
        })?;
        let tbs = &cert.tbs_certificate;
        let enc = |r: Result<Vec<u8>, x509_cert::der::Error>| r.map_err(|e| e.to_string());
        let subject_key_id = tbs.extensions.iter().flatten().find_map(|e| {
            (e.extn_id.as_bytes() == OID_SUBJECT_KEY_ID).then(|| {
                match der::read(e.extn_value.as_bytes()) {
                    Some((0x04, id, _)) => id.to_vec(),
                    _ => Vec::new(),
                }
            })
        });
        Ok(Issuer {
            subject: enc(tbs.subject.to_der())?,
            public_key_info: enc(tbs.subject_public_key_info.to_der())?,
            subject_key_id: subject_key_id.filter(|id| !id.is_empty()),
        })
    }
}

/// What Sprig's `getBaseCertTemplate` and the CA override put in a certificate.
struct Template {
    cn: String,
    ips: Vec<IpAddr>,
    dns: Vec<String>,
    days: i64,
    is_ca: bool,
}

impl Template {
    fn new(cn: &str, ips: &Value, dns: &Value, days: i64) -> Result<Template, String> {
        let items = |v: &Value| match v {
            Value::List(l) => l.to_vec(),
            _ => Vec::new(),
        };
        let mut ip_addrs = Vec::new();
        for ip in items(ips) {
            let Some(text) = ip.as_str() else {
                return Err(format!(
                    "error parsing ip: {} is not a string",
                    crate::gofmt::sprint_value(&ip)
                ));
            };
            let addr = text
                .parse::<IpAddr>()
                .map_err(|_| format!("error parsing ip: {text}"))?;
            ip_addrs.push(addr);
        }
        let mut names = Vec::new();
        for name in items(dns) {
            let Some(text) = name.as_str() else {
                return Err(format!(
                    "error processing alternate dns name: {} is not a string",
                    crate::gofmt::sprint_value(&name)
                ));
            };
            names.push(text.to_string());
        }
        Ok(Template {
            cn: cn.to_string(),
            ips: ip_addrs,
            dns: names,
            days,
            is_ca: false,
        })
    }

    /// `pkix.Name{CommonName: cn}` as an RDNSequence; Go picks PrintableString when it can.
    fn subject(&self) -> Vec<u8> {
        if self.cn.is_empty() {
            return seq(&[]);
        }
        let printable = self
            .cn
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
        let value = tlv(if printable { 0x13 } else { 0x0c }, self.cn.as_bytes());
        let attr = seq(&[&oid(OID_CN), &value]);
        seq(&[&tlv(0x31, &attr)])
    }

    fn extensions(
        &self,
        subject_key_id: Option<&[u8]>,
        authority_key_id: Option<&[u8]>,
        subject_is_empty: bool,
    ) -> Vec<u8> {
        fn ext(id: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
            if critical {
                seq(&[&oid(id), &[0x01, 0x01, 0xff], &octets(value)])
            } else {
                seq(&[&oid(id), &octets(value)])
            }
        }
        let mut exts = vec![
            ext(
                OID_KEY_USAGE,
                true,
                if self.is_ca {
                    KEY_USAGE_CA
                } else {
                    KEY_USAGE_LEAF
                },
            ),
            ext(
                OID_EXT_KEY_USAGE,
                false,
                &seq(&[&oid(OID_SERVER_AUTH), &oid(OID_CLIENT_AUTH)]),
            ),
            ext(
                OID_BASIC_CONSTRAINTS,
                true,
                &if self.is_ca {
                    seq(&[&[0x01, 0x01, 0xff]])
                } else {
                    seq(&[])
                },
            ),
        ];
        if let Some(id) = subject_key_id {
            exts.push(ext(OID_SUBJECT_KEY_ID, false, &octets(id)));
        }
        if let Some(id) = authority_key_id {
            exts.push(ext(OID_AUTHORITY_KEY_ID, false, &seq(&[&tlv(0x80, id)])));
        }
        if !self.dns.is_empty() || !self.ips.is_empty() {
            let mut names: Vec<Vec<u8>> =
                self.dns.iter().map(|d| tlv(0x82, d.as_bytes())).collect();
            for ip in &self.ips {
                let bytes = match ip {
                    IpAddr::V4(v4) => v4.octets().to_vec(),
                    IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                        Some(v4) => v4.octets().to_vec(),
                        None => v6.octets().to_vec(),
                    },
                };
                names.push(tlv(0x87, &bytes));
            }
            let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
            exts.push(ext(OID_SUBJECT_ALT_NAME, subject_is_empty, &seq(&refs)));
        }
        let refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
        tlv(0xa3, &seq(&refs))
    }
}

/// Go's `x509.CreateCertificate` followed by Sprig's PEM encoding of certificate and key.
fn create(
    cx: &mut CallCtx<'_>,
    rng: &mut ChaCha20Rng,
    template: &Template,
    key: &PrivateKey,
    parent: Option<(&Issuer, &PrivateKey)>,
) -> Result<Certificate, String> {
    let wrap = |e: String| format!("error creating certificate: {e}");
    let signer = parent.map_or(key, |(_, k)| k);
    let sig_algo = signer.signature_algorithm().map_err(wrap)?;
    let (spki, public_key) = key.public_key_info().map_err(wrap)?;
    let subject = template.subject();
    let issuer = parent.map_or_else(|| subject.clone(), |(p, _)| p.subject.clone());
    let authority_key_id = match parent {
        Some((p, _)) if issuer != subject => p.subject_key_id.clone(),
        _ => None,
    };
    let subject_key_id = template.is_ca.then(|| {
        use sha1::Digest as _;
        sha1::Sha1::digest(&public_key).to_vec()
    });
    if let Some((p, k)) = parent {
        let (signer_spki, _) = k.public_key_info().map_err(wrap)?;
        if signer_spki != p.public_key_info {
            return Err(wrap(
                "x509: provided PrivateKey doesn't match parent's PublicKey".into(),
            ));
        }
    }
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    let now = cx.context().now().unix_seconds;
    let validity = seq(&[
        &der::time(now),
        &der::time(now.saturating_add(template.days.saturating_mul(86400))),
    ]);
    let tbs = seq(&[
        &tlv(0xa0, &uint(&[2])),
        &uint(&serial),
        &sig_algo,
        &issuer,
        &validity,
        &subject,
        &spki,
        &template.extensions(
            subject_key_id.as_deref(),
            authority_key_id.as_deref(),
            subject == seq(&[]),
        ),
    ]);
    let signature = signer.sign(&tbs);
    let cert = seq(&[&tbs, &sig_algo, &bits(&signature)]);
    Ok(Certificate {
        cert: der::pem_encode("CERTIFICATE", &cert),
        key: key.to_pem(),
    })
}

fn cert_value(r: Result<Certificate, String>) -> MethodResult {
    r.map(Value::object).map_err(FuncError::new)
}

fn parse_key(pem: &str) -> Result<PrivateKey, String> {
    PrivateKey::parse_pem(pem).map_err(|e| format!("parsing private key: {e}"))
}

fn ca(cx: &mut CallCtx<'_>, cn: &str, days: i64, key: Option<&str>) -> MethodResult {
    let mut rng = context_rng(cx);
    let key = match key {
        Some(pem) => parse_key(pem),
        None => PrivateKey::rsa(&mut rng, 2048),
    }
    .map_err(FuncError::new)?;
    let mut template = Template::new(cn, &Value::Nil, &Value::Nil, days).map_err(FuncError::new)?;
    template.is_ca = true;
    cert_value(create(cx, &mut rng, &template, &key, None))
}

fn self_signed(cx: &mut CallCtx<'_>, a: &[Value], key: Option<&str>) -> MethodResult {
    let mut rng = context_rng(cx);
    let key = match key {
        Some(pem) => parse_key(pem),
        None => PrivateKey::rsa(&mut rng, 2048),
    }
    .map_err(FuncError::new)?;
    let template = Template::new(s(&a[0]), &a[1], &a[2], i(&a[3])).map_err(FuncError::new)?;
    cert_value(create(cx, &mut rng, &template, &key, None))
}

fn signed(cx: &mut CallCtx<'_>, a: &[Value], key: Option<&str>) -> MethodResult {
    let ca = Certificate::from_value(&a[4])?;
    let mut rng = context_rng(cx);
    let key = match key {
        Some(pem) => parse_key(pem),
        None => PrivateKey::rsa(&mut rng, 2048),
    }
    .map_err(FuncError::new)?;
    let issuer = Issuer::parse(&ca.cert).map_err(FuncError::new)?;
    let ca_key = PrivateKey::parse_pem(&ca.key)
        .map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    let template = Template::new(s(&a[0]), &a[1], &a[2], i(&a[3])).map_err(FuncError::new)?;
    cert_value(create(
        cx,
        &mut rng,
        &template,
        &key,
        Some((&issuer, &ca_key)),
    ))
}

fn build_custom(b64cert: &str, b64key: &str) -> Result<Certificate, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert = b64
        .decode(b64cert)
        .map_err(|_| "unable to decode base64 certificate".to_string())?;
    let key = b64
        .decode(b64key)
        .map_err(|_| "unable to decode base64 private key".to_string())?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let Some((_, der)) = der::pem_decode(&cert) else {
        return Err("unable to decode certificate".into());
    };
    x509_cert::Certificate::from_der(&der).map_err(|_| {
        "error parsing certificate: decodedCert.Bytes: x509: malformed certificate".to_string()
    })?;
    PrivateKey::parse_pem(&key).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(Certificate { cert, key })
}

pub(crate) fn register(m: &mut FuncMap) {
    let st = Ty::String;
    let int = Ty::Int;
    let list = Ty::List;
    let any = Ty::Any;
    m.add("genPrivateKey", Sig::fixed(&[st]), |cx, a| {
        let mut rng = context_rng(cx);
        let key = PrivateKey::generate(s(&a[0]), &mut rng);
        // A limit met while generating is the execution's, not the chart's message.
        if let Some(l) = crate::budget::exceeded() {
            return Err(FuncError::new(l.to_string()));
        }
        Ok(Value::str(match key {
            Ok(k) => k.to_pem(),
            Err(e) => e,
        }))
    });
    m.add("buildCustomCert", Sig::fixed(&[st, st]), |_, a| {
        cert_value(build_custom(s(&a[0]), s(&a[1])))
    });
    m.add("genCA", Sig::fixed(&[st, int]), |cx, a| {
        ca(cx, s(&a[0]), i(&a[1]), None)
    });
    m.add("genCAWithKey", Sig::fixed(&[st, int, st]), |cx, a| {
        ca(cx, s(&a[0]), i(&a[1]), Some(s(&a[2])))
    });
    m.add(
        "genSelfSignedCert",
        Sig::fixed(&[st, list, list, int]),
        |cx, a| self_signed(cx, &a, None),
    );
    m.add(
        "genSelfSignedCertWithKey",
        Sig::fixed(&[st, list, list, int, st]),
        |cx, a| self_signed(cx, &a, Some(s(&a[4]))),
    );
    m.add(
        "genSignedCert",
        Sig::fixed(&[st, list, list, int, any]),
        |cx, a| signed(cx, &a, None),
    );
    m.add(
        "genSignedCertWithKey",
        Sig::fixed(&[st, list, list, int, any, st]),
        |cx, a| signed(cx, &a, Some(s(&a[5]))),
    );
}
