//! RSA key generation and PKCS #1 v1.5 signing on fixed-width Montgomery arithmetic.
//!
//! The `rsa` crate does both on num-bigint-dig, whose generic arithmetic allocates at every
//! step: a 2048-bit key took about a third of a second, so a chart that makes a CA and a few
//! certificates (`genCA`, `genSignedCert`) rendered for seconds, several times slower than
//! helm. Here a number is a little-endian slice of `u64` limbs, a modulus of k limbs is worked
//! with by Montgomery multiplication (CIOS), and nothing allocates inside the loops. The keys
//! and signatures are ordinary RSA: keys are handed to `rsa` (`from_p_q`) for encoding, and a
//! signature is checked against the public key before it is used.

use std::sync::OnceLock;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rsa::BigUint;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

/// Miller–Rabin rounds after the base-2 test, with random bases. FIPS 186-5 (table B.1) asks
/// for 5 rounds for the primes of a 2048-bit key and 4 for a 4096-bit key (error below
/// 2^-100 for random candidates); a few more cost little next to the search.
const EXTRA_ROUNDS: usize = 7;

/// Odd offsets from a random start searched for a prime before drawing a new start.
const WINDOW: usize = 1 << 12;

/// Odd primes below 2^17, to sieve candidates with: a candidate that survives them is prime
/// about one time in 34 for the primes of a 2048-bit key and one in 68 for a 4096-bit key's
/// (41 and 82 with primes below 2^14), and every other one costs a modular exponentiation. The primes that a sieve strikes out would have failed the
/// Miller–Rabin test to base 2, which draws no randomness, so the key is the one a smaller
/// sieve finds.
fn small_primes() -> &'static [u32] {
    static PRIMES: OnceLock<Vec<u32>> = OnceLock::new();
    PRIMES.get_or_init(|| {
        const LIMIT: usize = 1 << 17;
        let mut composite = vec![false; LIMIT];
        let mut primes = Vec::new();
        for i in 2..LIMIT {
            if composite[i] {
                continue;
            }
            if i > 2 {
                primes.push(i as u32);
            }
            for j in (i * i..LIMIT).step_by(i) {
                composite[j] = true;
            }
        }
        primes
    })
}

/// The small primes in groups whose product fits in 64 bits, with that product: a number's
/// residues are found by one long division per group instead of one per prime.
fn prime_groups() -> &'static [(u64, std::ops::Range<usize>)] {
    static GROUPS: OnceLock<Vec<(u64, std::ops::Range<usize>)>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let primes = small_primes();
        let mut groups = Vec::new();
        let mut start = 0;
        while start < primes.len() {
            let (mut product, mut end) = (1u64, start);
            while let Some(&p) = primes.get(end) {
                match product.checked_mul(u64::from(p)) {
                    Some(next) => product = next,
                    None => break,
                }
                end += 1;
            }
            groups.push((product, start..end));
            start = end;
        }
        groups
    })
}

/// `a >= b` for numbers of the same length.
fn ge(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x > y;
        }
    }
    true
}

/// `a -= b` (same length), returning the borrow.
fn sub_assign(a: &mut [u64], b: &[u64]) -> bool {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(y);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        *x = d;
        borrow = b1 || b2;
    }
    borrow
}

/// Arithmetic modulo an odd `n` (its top limb non-zero).
struct Montgomery {
    n: Vec<u64>,
    /// `-n⁻¹ mod 2⁶⁴`.
    inv: u64,
    /// `R mod n` (the Montgomery form of 1), with `R = 2^(64·k)`.
    one: Vec<u64>,
    /// `R² mod n`.
    r2: Vec<u64>,
}

impl Montgomery {
    fn new(n: &[u64]) -> Montgomery {
        let k = n.len();
        // Newton's iteration doubles the correct low bits: 1 → 64 in six steps.
        let mut x: u64 = 1;
        for _ in 0..6 {
            x = x.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(x)));
        }
        let double = |v: &mut Vec<u64>| {
            let mut carry = 0;
            for limb in v.iter_mut() {
                let next = *limb >> 63;
                *limb = (*limb << 1) | carry;
                carry = next;
            }
            if carry == 1 || ge(v, n) {
                sub_assign(v, n);
            }
        };
        let mut one = vec![0u64; k];
        one[0] = 1;
        for _ in 0..64 * k {
            double(&mut one);
        }
        let mut r2 = one.clone();
        for _ in 0..64 * k {
            double(&mut r2);
        }
        Montgomery {
            n: n.to_vec(),
            inv: x.wrapping_neg(),
            one,
            r2,
        }
    }

    /// `out = a·b·R⁻¹ mod n` for `a, b < n`; `t` is scratch of `k + 1` limbs. Multiplication
    /// and reduction share one pass over the limbs (FIOS).
    fn mul(&self, a: &[u64], b: &[u64], out: &mut [u64], t: &mut [u64]) {
        let k = self.n.len();
        let (n, a, b, out) = (&self.n[..k], &a[..k], &b[..k], &mut out[..k]);
        let t = &mut t[..k + 1];
        t.fill(0);
        for &bi in b {
            let s = u128::from(t[0]) + u128::from(a[0]) * u128::from(bi);
            let m = (s as u64).wrapping_mul(self.inv);
            let r = u128::from(s as u64) + u128::from(m) * u128::from(n[0]);
            let (mut c1, mut c2) = ((s >> 64) as u64, (r >> 64) as u64);
            for j in 1..k {
                let s = u128::from(t[j]) + u128::from(a[j]) * u128::from(bi) + u128::from(c1);
                c1 = (s >> 64) as u64;
                let r = u128::from(s as u64) + u128::from(m) * u128::from(n[j]) + u128::from(c2);
                c2 = (r >> 64) as u64;
                t[j - 1] = r as u64;
            }
            let s = u128::from(t[k]) + u128::from(c1) + u128::from(c2);
            t[k - 1] = s as u64;
            t[k] = (s >> 64) as u64;
        }
        out.copy_from_slice(&t[..k]);
        if t[k] != 0 || ge(out, n) {
            sub_assign(out, n);
        }
    }

    /// `out = a·a·R⁻¹ mod n` for `a < n`; `t` is scratch of `2k + 1` limbs. The square's
    /// cross products are computed once and doubled, and the reduction follows as a separate
    /// pass: 1.5k² limb products where [`Montgomery::mul`] takes 2k². Squarings are four in
    /// five of an exponentiation's products.
    fn sqr(&self, a: &[u64], out: &mut [u64], t: &mut [u64]) {
        let k = self.n.len();
        let (n, a, out) = (&self.n[..k], &a[..k], &mut out[..k]);
        let t = &mut t[..2 * k + 1];
        t.fill(0);
        // The cross products a[i]·a[j], i < j (slices, so that the loops carry no bounds checks).
        for i in 0..k {
            let ai = u128::from(a[i]);
            let mut carry = 0u64;
            for (tj, &aj) in t[2 * i + 1..i + k].iter_mut().zip(&a[i + 1..]) {
                let s = u128::from(*tj) + ai * u128::from(aj) + u128::from(carry);
                *tj = s as u64;
                carry = (s >> 64) as u64;
            }
            t[i + k] = carry;
        }
        // Doubled, plus the squares on the diagonal.
        let mut top = 0u64;
        for limb in t[..2 * k].iter_mut() {
            let next = *limb >> 63;
            *limb = (*limb << 1) | top;
            top = next;
        }
        let mut carry = 0u64;
        for (pair, &ai) in t[..2 * k].chunks_exact_mut(2).zip(a) {
            let sq = u128::from(ai) * u128::from(ai);
            let lo = u128::from(pair[0]) + (sq as u64 as u128) + u128::from(carry);
            pair[0] = lo as u64;
            let hi = u128::from(pair[1]) + (sq >> 64) + (lo >> 64);
            pair[1] = hi as u64;
            carry = (hi >> 64) as u64;
        }
        // Montgomery reduction, a limb at a time; each row's carry out is added a row later.
        let mut over = 0u64;
        for i in 0..k {
            let m = u128::from(t[i].wrapping_mul(self.inv));
            let mut carry = 0u64;
            for (tj, &nj) in t[i..i + k].iter_mut().zip(n) {
                let s = u128::from(*tj) + m * u128::from(nj) + u128::from(carry);
                *tj = s as u64;
                carry = (s >> 64) as u64;
            }
            let s = u128::from(t[i + k]) + u128::from(carry) + u128::from(over);
            t[i + k] = s as u64;
            over = (s >> 64) as u64;
        }
        out.copy_from_slice(&t[k..2 * k]);
        if over != 0 || ge(out, n) {
            sub_assign(out, n);
        }
    }

    /// `base^exp` in Montgomery form, for `base < n` in Montgomery form (4-bit windows).
    fn pow_mont(&self, base: &[u64], exp: &[u64]) -> Vec<u64> {
        let k = self.n.len();
        let mut t = vec![0u64; k + 1];
        let mut table = vec![self.one.clone()];
        for i in 1..16 {
            let mut next = vec![0u64; k];
            self.mul(&table[i - 1], base, &mut next, &mut t);
            table.push(next);
        }
        let mut acc = self.one.clone();
        let mut tmp = vec![0u64; k];
        let mut wide = vec![0u64; 2 * k + 1];
        let mut started = false;
        for limb in exp.iter().rev() {
            for shift in (0..16).rev() {
                let w = ((limb >> (shift * 4)) & 0xf) as usize;
                if started {
                    for _ in 0..4 {
                        self.sqr(&acc, &mut tmp, &mut wide);
                        std::mem::swap(&mut acc, &mut tmp);
                    }
                }
                if w != 0 {
                    self.mul(&acc, &table[w], &mut tmp, &mut t);
                    std::mem::swap(&mut acc, &mut tmp);
                    started = true;
                }
            }
        }
        acc
    }

    fn enter_mont(&self, a: &[u64]) -> Vec<u64> {
        let k = self.n.len();
        let mut out = vec![0u64; k];
        self.mul(a, &self.r2, &mut out, &mut vec![0u64; k + 1]);
        out
    }

    fn leave_mont(&self, a: &[u64]) -> Vec<u64> {
        let k = self.n.len();
        let mut one = vec![0u64; k];
        one[0] = 1;
        let mut out = vec![0u64; k];
        self.mul(a, &one, &mut out, &mut vec![0u64; k + 1]);
        out
    }

    /// `base^exp mod n` for `base < n`.
    fn pow(&self, base: &[u64], exp: &[u64]) -> Vec<u64> {
        self.leave_mont(&self.pow_mont(&self.enter_mont(base), exp))
    }
}

fn to_limbs(v: &BigUint, k: usize) -> Vec<u64> {
    let mut limbs = vec![0u64; k];
    for (i, chunk) in v.to_bytes_le().chunks(8).enumerate() {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        limbs[i] = u64::from_le_bytes(b);
    }
    limbs
}

fn from_limbs(limbs: &[u64]) -> BigUint {
    let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
    BigUint::from_bytes_le(&bytes)
}

/// Miller–Rabin to base 2, then [`EXTRA_ROUNDS`] random bases, for odd `n` > 3.
fn probably_prime(n: &[u64], rng: &mut dyn RngCore) -> bool {
    let k = n.len();
    let m = Montgomery::new(n);
    let mut n_minus_1 = n.to_vec();
    n_minus_1[0] -= 1;
    let s = {
        let mut s = 0;
        for &l in &n_minus_1 {
            if l == 0 {
                s += 64;
            } else {
                s += l.trailing_zeros() as usize;
                break;
            }
        }
        s
    };
    let mut d = n_minus_1.clone();
    for _ in 0..s {
        let mut carry = 0;
        for limb in d.iter_mut().rev() {
            let next = *limb & 1;
            *limb = (*limb >> 1) | (carry << 63);
            carry = next;
        }
    }
    let mut minus_one = n.to_vec();
    sub_assign(&mut minus_one, &m.one);
    let mut wide = vec![0u64; 2 * k + 1];
    let mut sq = vec![0u64; k];
    let mut witness = |base: &[u64]| -> bool {
        let mut x = m.pow_mont(&m.enter_mont(base), &d);
        if x == m.one || x == minus_one {
            return false;
        }
        for _ in 1..s {
            m.sqr(&x, &mut sq, &mut wide);
            std::mem::swap(&mut x, &mut sq);
            if x == minus_one {
                return false;
            }
            if x == m.one {
                return true;
            }
        }
        true
    };
    let mut two = vec![0u64; k];
    two[0] = 2;
    if witness(&two) {
        return false;
    }
    let mut rounds = 0;
    while rounds < EXTRA_ROUNDS {
        // A random base in [2, n-2]: draw below the top limb of n, retry the rare misses.
        let mut base = vec![0u64; k];
        for limb in base.iter_mut() {
            *limb = rng.next_u64();
        }
        base[k - 1] %= n[k - 1].max(1);
        let mut low = vec![0u64; k];
        low[0] = 2;
        if !ge(&base, &low) || ge(&base, &n_minus_1) {
            continue;
        }
        if witness(&base) {
            return false;
        }
        rounds += 1;
    }
    true
}

/// A random probable prime of `bits` bits (a multiple of 64) with its two top bits set, so
/// that the product of two has exactly twice as many bits.
fn random_prime(rng: &mut dyn RngCore, bits: usize) -> Vec<u64> {
    let k = bits / 64;
    let primes = small_primes();
    loop {
        let mut start = vec![0u64; k];
        for limb in start.iter_mut() {
            *limb = rng.next_u64();
        }
        start[k - 1] |= 0b11 << 62;
        start[0] |= 1;
        // Offsets j (the number start + 2j) divisible by a small prime are struck out.
        let mut struck = vec![false; WINDOW];
        for (product, group) in prime_groups() {
            let big = start.iter().rev().fold(0u128, |r, &l| {
                ((r << 64) | u128::from(l)) % u128::from(*product)
            }) as u64;
            for &p in &primes[group.clone()] {
                let p = u64::from(p);
                let r = big % p;
                // start + 2j ≡ 0 (mod p)  ⇔  j ≡ -r · 2⁻¹ (mod p), and 2⁻¹ = (p + 1) / 2.
                let first = ((p - r) % p) * p.div_ceil(2) % p;
                let mut j = first as usize;
                while j < WINDOW {
                    struck[j] = true;
                    j += p as usize;
                }
            }
        }
        for (j, &out) in struck.iter().enumerate() {
            if out {
                continue;
            }
            let mut candidate = start.clone();
            let (sum, carry) = candidate[0].overflowing_add(2 * j as u64);
            candidate[0] = sum;
            let mut carry = carry;
            for limb in candidate.iter_mut().skip(1) {
                if !carry {
                    break;
                }
                let (s, c) = limb.overflowing_add(1);
                *limb = s;
                carry = c;
            }
            if carry || candidate[k - 1] >> 62 != 0b11 {
                break;
            }
            if probably_prime(&candidate, rng) {
                return candidate;
            }
        }
    }
}

/// A `bits`-bit RSA key with exponent 65537, or `None` when `bits` is not a multiple of 128
/// (the caller then uses `rsa`'s own generator).
pub(crate) fn generate(rng: &mut dyn RngCore, bits: usize) -> Option<rsa::RsaPrivateKey> {
    if bits == 0 || !bits.is_multiple_of(128) {
        return None;
    }
    let e = BigUint::from(65537u32);
    // p - 1 must be prime to e (65537 is prime: it must not divide p - 1).
    let prime = |mut rng: ChaCha20Rng| loop {
        let p = from_limbs(&random_prime(&mut rng, bits / 2));
        if (&p - 1u32) % &e != BigUint::from(0u32) {
            return p;
        }
    };
    loop {
        // Each prime has its own generator seeded from the caller's, so the key is the same
        // whether the two are searched for side by side (two cores) or one after the other.
        let mut seeds = [[0u8; 32]; 2];
        for seed in &mut seeds {
            rng.fill_bytes(seed);
        }
        let [for_p, for_q] = seeds.map(ChaCha20Rng::from_seed);
        let (p, q) = if std::thread::available_parallelism().is_ok_and(|n| n.get() > 1) {
            std::thread::scope(|scope| {
                let spare = for_q.clone();
                let prime = &prime;
                let other = std::thread::Builder::new()
                    .name("rsa-prime".into())
                    .spawn_scoped(scope, move || prime(for_q));
                let p = prime(for_p);
                let q = match other {
                    Ok(h) => h
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(_) => prime(spare),
                };
                (p, q)
            })
        } else {
            (prime(for_p), prime(for_q))
        };
        if p == q {
            continue;
        }
        if let Ok(key) = rsa::RsaPrivateKey::from_p_q(p, q, e.clone()) {
            return Some(key);
        }
    }
}

/// DER of the SHA-256 `DigestInfo` header (RFC 8017, section 9.2, note 1).
const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The RSASSA-PKCS1-v1_5 SHA-256 signature of `msg`, by the Chinese remainder theorem on the
/// key's two primes; `None` for keys of other shapes, or if the result does not verify (the
/// caller then signs with `rsa`). The signature is unique, so it is the one `rsa` makes.
pub(crate) fn sign_sha256(key: &rsa::RsaPrivateKey, msg: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest as _;
    let [p, q] = key.primes() else { return None };
    let size = key.size();
    let hash = sha2::Sha256::digest(msg);
    let pad = size.checked_sub(3 + SHA256_DIGEST_INFO.len() + hash.len())?;
    if pad < 8 {
        return None;
    }
    let mut em = vec![0x00, 0x01];
    em.extend(std::iter::repeat_n(0xff, pad));
    em.push(0x00);
    em.extend_from_slice(SHA256_DIGEST_INFO);
    em.extend_from_slice(&hash);
    let m = BigUint::from_bytes_be(&em);
    let d = key.d();
    let limbs = |v: &BigUint| v.bits().div_ceil(64).max(1);
    let (kp, kq) = (limbs(p), limbs(q));
    let (mp, mq) = (
        Montgomery::new(&to_limbs(p, kp)),
        Montgomery::new(&to_limbs(q, kq)),
    );
    let dp = to_limbs(&(d % (p - 1u32)), kp);
    let dq = to_limbs(&(d % (q - 1u32)), kq);
    let sp = from_limbs(&mp.pow(&to_limbs(&(&m % p), kp), &dp));
    let sq = from_limbs(&mq.pow(&to_limbs(&(&m % q), kq), &dq));
    // q⁻¹ mod p by Fermat (p is prime): q^(p-2).
    let q_inv = from_limbs(&mp.pow(&to_limbs(&(q % p), kp), &to_limbs(&(p - 2u32), kp)));
    let diff = (&sp + p - (&sq % p)) % p;
    let h = (&q_inv * diff) % p;
    let s = &sq + h * q;
    // Check against the public key before handing it out.
    let n = key.n();
    let kn = limbs(n);
    let mn = Montgomery::new(&to_limbs(n, kn));
    let back = from_limbs(&mn.pow(&to_limbs(&s, kn), &to_limbs(key.e(), limbs(key.e()))));
    if back != m {
        return None;
    }
    let bytes = s.to_bytes_be();
    let mut out = vec![0u8; size - bytes.len()];
    out.extend_from_slice(&bytes);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modular_powers_match_big_integer_arithmetic() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for k in [1usize, 2, 5, 16] {
            for _ in 0..20 {
                let mut n: Vec<u64> = (0..k).map(|_| rng.next_u64()).collect();
                n[0] |= 1;
                n[k - 1] |= 1 << (rng.next_u64() % 64);
                let nb = from_limbs(&n);
                let base = from_limbs(&(0..k).map(|_| rng.next_u64()).collect::<Vec<_>>()) % &nb;
                let exp: Vec<u64> = (0..k).map(|_| rng.next_u64()).collect();
                let m = Montgomery::new(&n);
                let got = from_limbs(&m.pow(&to_limbs(&base, k), &exp));
                assert_eq!(got, base.modpow(&from_limbs(&exp), &nb), "k={k}");
            }
        }
    }

    #[test]
    fn squares_match_products() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        for k in [1usize, 2, 3, 5, 16, 32] {
            for round in 0..50 {
                let mut n: Vec<u64> = (0..k).map(|_| rng.next_u64()).collect();
                n[0] |= 1;
                n[k - 1] |= 1 << 63;
                if round % 5 == 0 {
                    // Moduli near 2^(64k), where the reductions carry furthest.
                    for limb in n.iter_mut().skip(1) {
                        *limb = u64::MAX;
                    }
                }
                let m = Montgomery::new(&n);
                let nb = from_limbs(&n);
                let mut a = to_limbs(
                    &(from_limbs(&(0..k).map(|_| rng.next_u64()).collect::<Vec<_>>()) % &nb),
                    k,
                );
                if round % 7 == 0 {
                    a = to_limbs(&(&nb - 1u32), k);
                }
                let (mut p1, mut p2) = (vec![0u64; k], vec![0u64; k]);
                m.mul(&a, &a, &mut p1, &mut vec![0u64; k + 1]);
                m.sqr(&a, &mut p2, &mut vec![0u64; 2 * k + 1]);
                assert_eq!(p1, p2, "k={k} round={round}");
            }
        }
    }

    #[test]
    fn keys_are_those_of_the_smaller_sieve() {
        // Fixed seeds give fixed keys whatever sieve finds them; the moduli's fingerprints were
        // taken with the 2^14 sieve and generic squaring.
        use sha2::Digest as _;
        for (seed, bits, expected) in [(5u64, 1024, "9e71"), (6, 2048, "086f")] {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let key = generate(&mut rng, bits).unwrap();
            let digest = sha2::Sha256::digest(key.n().to_bytes_be());
            let hex: String = digest.iter().take(2).map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, expected, "seed {seed}, {bits} bits");
        }
    }

    #[test]
    fn primality_agrees_on_known_numbers() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        // 2^127 - 1 is prime; 2^127 + 1 is divisible by 3; a Carmichael number fools Fermat.
        let m127 = [u64::MAX, u64::MAX >> 1];
        assert!(probably_prime(&m127, &mut rng));
        assert!(!probably_prime(&[1, 1 << 63], &mut rng));
        assert!(!probably_prime(&[561], &mut rng));
        assert!(!probably_prime(&[41041], &mut rng));
        assert!(probably_prime(&[1_000_000_007], &mut rng));
    }

    #[test]
    fn keys_are_valid_and_signatures_verify() {
        use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let key = generate(&mut rng, 1024).unwrap();
        assert_eq!(key.size(), 128);
        key.validate().unwrap();
        let msg = b"to be signed";
        let ours = sign_sha256(&key, msg).unwrap();
        let theirs = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone())
            .sign(msg)
            .to_vec();
        assert_eq!(ours, theirs);
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
        let sig = rsa::pkcs1v15::Signature::try_from(ours.as_slice()).unwrap();
        verifier.verify(msg, &sig).unwrap();
    }
}
