//! Sprig's crypto, UUID and random-bytes functions. Randomness comes from the execution
//! context's seeded source. Certificate and key generation, bcrypt, AES and derivePassword are
//! registered (so charts parse) but fail with an "unsupported" error for now.

use base64::Engine as _;

use super::{FuncMap, Sig, Ty, err, i};
use crate::value::Value;

fn unsupported(m: &mut FuncMap, name: &'static str, sig: Sig) {
    m.add(name, sig, move |_, _| {
        err(format!("{name} is not supported by the native renderer"))
    });
}

pub(crate) fn register(m: &mut FuncMap) {
    let st = Ty::String;
    let int = Ty::Int;
    let any = Ty::Any;
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
        cx.check_output(n)?;
        let bytes: Vec<u8> = (0..n)
            .map(|_| cx.context().rng().next_u64() as u8)
            .collect();
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    });
    unsupported(m, "bcrypt", Sig::fixed(&[st]));
    unsupported(m, "htpasswd", Sig::fixed(&[st, st]));
    unsupported(m, "derivePassword", Sig::fixed(&[Ty::Int, st, st, st, st]));
    unsupported(m, "genPrivateKey", Sig::fixed(&[st]));
    unsupported(m, "buildCustomCert", Sig::fixed(&[st, st]));
    unsupported(m, "genCA", Sig::fixed(&[st, int]));
    unsupported(m, "genCAWithKey", Sig::fixed(&[st, int, st]));
    unsupported(
        m,
        "genSelfSignedCert",
        Sig::fixed(&[st, Ty::List, Ty::List, int]),
    );
    unsupported(
        m,
        "genSelfSignedCertWithKey",
        Sig::fixed(&[st, Ty::List, Ty::List, int, st]),
    );
    unsupported(
        m,
        "genSignedCert",
        Sig::fixed(&[st, Ty::List, Ty::List, int, any]),
    );
    unsupported(
        m,
        "genSignedCertWithKey",
        Sig::fixed(&[st, Ty::List, Ty::List, int, any, st]),
    );
    unsupported(m, "encryptAES", Sig::fixed(&[st, st]));
    unsupported(m, "decryptAES", Sig::fixed(&[st, st]));
}
