//! Sprig's crypto, UUID and random-bytes functions: bcrypt, `htpasswd`, `derivePassword`,
//! AES, and (in [`super::certs`]) keys and certificates. Randomness comes from the execution
//! context's seeded source, so a seed reproduces a render.

use base64::Engine as _;
use rand_chacha::rand_core::RngCore;

use super::{FuncError, FuncMap, Sig, Ty, certs, i, s};
use crate::exec::CallCtx;
use crate::value::Value;

pub(crate) fn register(m: &mut FuncMap) {
    let st = Ty::String;
    let int = Ty::Int;
    m.add("uuidv4", Sig::fixed(&[]), |cx, _| {
        let mut b = [0u8; 16];
        let (x, y) = (cx.context().rng().next_u64(), cx.context().rng().next_u64());
        b[..8].copy_from_slice(&x.to_le_bytes());
        b[8..].copy_from_slice(&y.to_le_bytes());
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = super::encoding::hex(&b);
        Ok(Value::str(format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )))
    });
    m.add("randBytes", Sig::fixed(&[int]), |cx, a| {
        let n = i(&a[0]).max(0) as usize;
        // The bytes, then their base64 text.
        CallCtx::reserve((n as u64).saturating_mul(3))?;
        let bytes: Vec<u8> = (0..n)
            .map(|_| cx.context().rng().next_u64() as u8)
            .collect();
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    });
    m.add("bcrypt", Sig::fixed(&[st]), |cx, a| {
        CallCtx::work(KDF_STEPS)?;
        let mut rng = certs::context_rng(cx);
        Ok(Value::str(bcrypt_hash(s(&a[0]), &mut rng)))
    });
    m.add("htpasswd", Sig::fixed(&[st, st]), |cx, a| {
        CallCtx::work(KDF_STEPS)?;
        let user = s(&a[0]);
        if user.contains(':') {
            return Ok(Value::str(format!("invalid username: {user}")));
        }
        let mut rng = certs::context_rng(cx);
        Ok(Value::str(format!(
            "{user}:{}",
            bcrypt_hash(s(&a[1]), &mut rng)
        )))
    });
    m.add(
        "derivePassword",
        Sig::fixed(&[Ty::Int, st, st, st, st]),
        |_, a| {
            CallCtx::work(KDF_STEPS)?;
            Ok(Value::str(derive_password(
                i(&a[0]) as u32,
                s(&a[1]),
                s(&a[2]),
                s(&a[3]),
                s(&a[4]),
            )))
        },
    );
    m.add("encryptAES", Sig::fixed(&[st, st]), |cx, a| {
        let mut iv = [0u8; 16];
        if !s(&a[1]).is_empty() {
            certs::context_rng(cx).fill_bytes(&mut iv);
        }
        Ok(Value::str(encrypt_aes(s(&a[0]), s(&a[1]), iv)))
    });
    m.add("decryptAES", Sig::fixed(&[st, st]), |_, a| {
        decrypt_aes(s(&a[0]), s(&a[1]))
            .map(Value::str)
            .map_err(FuncError::new)
    });
    certs::register(m);
}

/// Go's `bcrypt.GenerateFromPassword(p, bcrypt.DefaultCost)` as Sprig reports it.
/// What a bcrypt hash or an scrypt derivation counts against the step limit: each takes tens
/// of milliseconds.
const KDF_STEPS: u64 = 50_000;

fn bcrypt_hash(password: &str, rng: &mut impl RngCore) -> String {
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .into();
    }
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    match bcrypt::hash_with_salt(password, 10, salt) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

const MASTER_PASSWORD_SEED: &str = "com.lyndir.masterpassword";

fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_characters(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// Sprig's `derivePassword`: the Master Password algorithm (scrypt, then HMAC-SHA256 over the
/// site, picking a template and characters from the digest).
fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    use hmac::Mac as _;
    let Some(templates) = password_templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = scrypt::Params::new(15, 8, 2, 64).expect("valid scrypt parameters");
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let template = templates[seed[0] as usize % templates.len()];
    template
        .bytes()
        .enumerate()
        .map(|(i, class)| {
            let chars = template_characters(class);
            chars[seed[i + 1] as usize % chars.len()] as char
        })
        .collect()
}

fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password.as_bytes()[..n]);
    key
}

/// Sprig's `encryptAES`: AES-256-CBC, the password zero-padded (or cut) to 32 bytes, PKCS#7
/// padding, the IV prepended, base64.
fn encrypt_aes(password: &str, plaintext: &str, iv: [u8; 16]) -> String {
    use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
    if plaintext.is_empty() {
        return String::new();
    }
    let enc = cbc::Encryptor::<aes::Aes256>::new(&aes_key(password).into(), &iv.into());
    let ct = enc.encrypt_padded_vec_mut::<Pkcs7>(&crate::gostr::to_go_bytes(plaintext));
    let mut out = iv.to_vec();
    out.extend_from_slice(&ct);
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// Sprig's `decryptAES`, with Go's runtime panics (which text/template reports as errors)
/// for malformed input. The padding is not checked, as in Sprig.
fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, String> {
    use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let crypt = base64::engine::general_purpose::STANDARD
        .decode(crypt64)
        .map_err(|e| super::encoding::go_base64_error(&e))?;
    if crypt.len() < 16 {
        return Err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            crypt64.len() / 4 * 3
        ));
    }
    let (iv, body) = crypt.split_at(16);
    if body.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".into());
    }
    if body.is_empty() {
        return Err("runtime error: index out of range [-1]".into());
    }
    let dec = cbc::Decryptor::<aes::Aes256>::new(&aes_key(password).into(), iv.into());
    let plain = dec
        .decrypt_padded_vec_mut::<NoPadding>(body)
        .map_err(|e| e.to_string())?;
    let pad = plain[plain.len() - 1] as usize;
    if pad > plain.len() {
        return Err(format!(
            "runtime error: slice bounds out of range [:{}]",
            plain.len() as i64 - pad as i64
        ));
    }
    Ok(crate::gostr::from_go_bytes(&plain[..plain.len() - pad]).into_owned())
}
