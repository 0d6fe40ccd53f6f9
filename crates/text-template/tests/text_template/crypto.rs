//! Sprig's key and certificate functions: the structure of what we generate (parsed back with
//! x509-cert, as Go's crypto/x509 lays it out), signatures that verify, and determinism under
//! a seed. Byte-exact vectors (derivePassword, decryptAES of helm's ciphertexts, key
//! re-encoding) are conformance cases recorded from helm.

use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use text_template::{ExecContext, FixedClock, Instant, TemplateSet, Value};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

const NOW: i64 = 1_700_000_000;

/// An EC key helm's `genPrivateKey "ecdsa"` made.
const EC_KEY: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIHmTawiRH4sDI6GqXgwhZ4YPnv3feiCt//671+kH6slnoAoGCCqGSM49
AwEHoUQDQgAEm5ca2rjs/ZgbeQSY6A35fQkLaymgEkz1mLSWBJQWcHzg0TUfUJ4d
hul2J67gwdMaNYQoq90YFDyGl4JiixAa1w==
-----END EC PRIVATE KEY-----
";

fn render(text: &str, seed: u64) -> Result<String, String> {
    let mut set = TemplateSet::helm();
    set.parse("t", text).map_err(|e| e.to_string())?;
    let mut ctx = ExecContext::new(seed).with_clock(FixedClock(Instant {
        unix_seconds: NOW,
        nanos: 0,
    }));
    let data = Value::map([("key", Value::from(EC_KEY))]);
    set.execute("t", &data, &mut ctx).map_err(|e| e.to_string())
}

/// The DER inside a PEM block.
fn der(pem: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .expect("PEM body is base64")
}

fn pem_parts(out: &str) -> Vec<String> {
    out.split("|||").map(str::to_string).collect()
}

fn extension<'a>(cert: &'a Certificate, oid: &str) -> Option<(bool, &'a [u8])> {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id.to_string() == oid)
        .map(|e| (e.critical, e.extn_value.as_bytes()))
}

fn cn(name: &x509_cert::name::Name) -> String {
    name.to_string()
}

#[test]
fn ca_and_signed_certificate_have_sprigs_structure() {
    let out = render(
        r#"{{ $ca := genCAWithKey "my-ca" 365 .key }}{{ $leaf := genSignedCertWithKey "svc.ns" (list "10.0.0.1" "::1") (list "a.example.com" "b") 30 $ca (genPrivateKey "ed25519") }}{{ $ca.Cert }}|||{{ $ca.Key }}|||{{ $leaf.Cert }}|||{{ $leaf.Key }}"#,
        1,
    )
    .unwrap();
    let parts = pem_parts(&out);
    assert_eq!(parts[1], EC_KEY, "the CA key comes back as given");
    assert!(parts[3].starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let ca = Certificate::from_der(&der(&parts[0])).unwrap();
    let leaf = Certificate::from_der(&der(&parts[2])).unwrap();

    assert_eq!(cn(&ca.tbs_certificate.subject), "CN=my-ca");
    assert_eq!(ca.tbs_certificate.issuer, ca.tbs_certificate.subject);
    assert_eq!(cn(&leaf.tbs_certificate.subject), "CN=svc.ns");
    assert_eq!(leaf.tbs_certificate.issuer, ca.tbs_certificate.subject);

    let validity = |c: &Certificate| {
        let v = &c.tbs_certificate.validity;
        (
            v.not_before.to_unix_duration().as_secs() as i64,
            v.not_after.to_unix_duration().as_secs() as i64,
        )
    };
    assert_eq!(validity(&ca), (NOW, NOW + 365 * 86400));
    assert_eq!(validity(&leaf), (NOW, NOW + 30 * 86400));

    // Key usage (critical): CA = digitalSignature|keyEncipherment|keyCertSign.
    assert_eq!(
        extension(&ca, "2.5.29.15"),
        Some((true, &[0x03, 0x02, 0x02, 0xa4][..]))
    );
    assert_eq!(
        extension(&leaf, "2.5.29.15"),
        Some((true, &[0x03, 0x02, 0x05, 0xa0][..]))
    );
    // Basic constraints (critical): CA:TRUE / CA:FALSE.
    assert_eq!(
        extension(&ca, "2.5.29.19"),
        Some((true, &[0x30, 0x03, 0x01, 0x01, 0xff][..]))
    );
    assert_eq!(
        extension(&leaf, "2.5.29.19"),
        Some((true, &[0x30, 0x00][..]))
    );
    // Extended key usage: serverAuth, clientAuth on both.
    for c in [&ca, &leaf] {
        let (critical, eku) = extension(c, "2.5.29.37").unwrap();
        assert!(!critical);
        assert_eq!(eku.len(), 22);
    }
    // The CA's subject key id is the leaf's authority key id.
    let (_, skid) = extension(&ca, "2.5.29.14").unwrap();
    let (_, akid) = extension(&leaf, "2.5.29.35").unwrap();
    assert_eq!(&skid[2..], &akid[4..]);
    assert!(extension(&leaf, "2.5.29.14").is_none());
    assert!(extension(&ca, "2.5.29.35").is_none());
    // SANs: DNS names, then IPs (IPv4 as 4 bytes).
    let (critical, san) = extension(&leaf, "2.5.29.17").unwrap();
    assert!(!critical);
    let mut want = vec![0x30, 42, 0x82, 13];
    want.extend_from_slice(b"a.example.com");
    want.extend_from_slice(&[0x82, 1, b'b', 0x87, 4, 10, 0, 0, 1, 0x87, 16]);
    want.extend_from_slice(&[0; 15]);
    want.push(1);
    assert_eq!(san, &want[..]);

    // Both are signed by the CA key.
    let ca_key: p256::SecretKey =
        p256::SecretKey::from_sec1_der(&der(EC_KEY)).expect("EC key parses");
    let verifier = p256::ecdsa::VerifyingKey::from(ca_key.public_key());
    for c in [&ca, &leaf] {
        let tbs = c.tbs_certificate.to_der().unwrap();
        let sig = p256::ecdsa::Signature::from_der(c.signature.as_bytes().unwrap()).unwrap();
        verifier.verify(&tbs, &sig).expect("signature verifies");
    }
}

#[test]
fn self_signed_without_subject_marks_sans_critical() {
    let out = render(
        r#"{{ (genSelfSignedCertWithKey "" (list "192.168.0.1") nil 1 .key).Cert }}"#,
        3,
    )
    .unwrap();
    let cert = Certificate::from_der(&der(&out)).unwrap();
    assert!(cert.tbs_certificate.subject.0.is_empty());
    let (critical, _) = extension(&cert, "2.5.29.17").unwrap();
    assert!(critical);
}

#[test]
fn gen_ca_makes_an_rsa_2048_ca() {
    let out = render(
        r#"{{ $ca := genCA "rsa-ca" 10 }}{{ $ca.Cert }}|||{{ $ca.Key }}"#,
        5,
    )
    .unwrap();
    let parts = pem_parts(&out);
    assert!(parts[1].starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let cert = Certificate::from_der(&der(&parts[0])).unwrap();
    assert_eq!(
        cert.signature_algorithm.oid.to_string(),
        "1.2.840.113549.1.1.11"
    );
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::traits::PublicKeyParts as _;
    let key = rsa::RsaPrivateKey::from_pkcs1_der(&der(&parts[1])).unwrap();
    assert_eq!(key.size(), 256);
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
    let sig = rsa::pkcs1v15::Signature::try_from(cert.signature.as_bytes().unwrap()).unwrap();
    use rsa::signature::Verifier as _;
    verifier
        .verify(&cert.tbs_certificate.to_der().unwrap(), &sig)
        .expect("self-signature verifies");
}

#[test]
fn same_seed_same_keys_and_ciphertexts() {
    let t = r#"{{ genPrivateKey "ecdsa" }}{{ genPrivateKey "ed25519" }}{{ encryptAES "k" "text" }}{{ htpasswd "u" "p" }}{{ (genSelfSignedCertWithKey "x" nil (list "x") 3 .key).Cert }}"#;
    assert_eq!(render(t, 9).unwrap(), render(t, 9).unwrap());
    assert_ne!(render(t, 9).unwrap(), render(t, 10).unwrap());
}

#[test]
fn generated_keys_parse_as_their_pem_types() {
    let out = render(
        r#"{{ genPrivateKey "ecdsa" }}|||{{ genPrivateKey "ed25519" }}"#,
        11,
    )
    .unwrap();
    let parts = pem_parts(&out);
    p256::SecretKey::from_sec1_der(&der(&parts[0])).expect("SEC1 EC key");
    use ed25519_dalek::pkcs8::DecodePrivateKey as _;
    ed25519_dalek::SigningKey::from_pkcs8_der(&der(&parts[1])).expect("PKCS#8 Ed25519 key");
}

#[test]
fn aes_round_trips_and_bcrypt_verifies() {
    let out = render(
        r#"{{ $c := encryptAES "pw" "secret text" }}{{ decryptAES "pw" $c }}|||{{ bcrypt "hunter2" }}"#,
        13,
    )
    .unwrap();
    let parts = pem_parts(&out);
    assert_eq!(parts[0], "secret text");
    assert!(parts[1].starts_with("$2a$10$"));
    assert!(bcrypt::verify("hunter2", &parts[1]).unwrap());
}

/// RSA 4096 and DSA parameter generation take minutes in an unoptimised build; run with
/// `cargo test --release -- --ignored`.
#[test]
#[ignore = "slow without optimisations"]
fn rsa_4096_and_dsa_keys() {
    let out = render(
        r#"{{ genPrivateKey "rsa" }}|||{{ genPrivateKey "dsa" }}"#,
        17,
    )
    .unwrap();
    let parts = pem_parts(&out);
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::traits::PublicKeyParts as _;
    let key = rsa::RsaPrivateKey::from_pkcs1_der(&der(&parts[0])).unwrap();
    assert_eq!(key.size(), 512);
    let der = der(&parts[1]);
    // SEQUENCE { 0, P, Q, G, Y, X } with a 2048-bit P and a 256-bit Q.
    let ints =
        x509_cert::der::asn1::SequenceOf::<x509_cert::der::asn1::UintRef<'_>, 6>::from_der(&der)
            .unwrap();
    let lens: Vec<usize> = ints.iter().map(|i| i.as_bytes().len()).collect();
    assert_eq!(&lens[..3], &[1, 256, 32]);
    assert!(parts[1].starts_with("-----BEGIN DSA PRIVATE KEY-----\n"));
}
