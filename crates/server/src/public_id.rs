//! Public job ids: what `/api/jobs/{id}`, delivery answers and published links call a job.
//!
//! The store numbers jobs 1, 2, 3…; handing those out would let anyone walk every job. A
//! public id is the job number encrypted (AES-128, one block: the number and a fixed check
//! half) under a key derived from the webhook secrets, so ids are 32 hex digits that say
//! nothing about each other, every replica (same secrets) reads every other's, and a made-up id
//! decodes to nothing. New ids use the first secret; ids made under any configured secret are
//! read, so rotating a secret (new one first, old one kept a while) keeps old links working.

use aes::Aes128;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};

/// The check half of a block: a decoded block without it was not made by us.
const CHECK: [u8; 8] = *b"ci-job-1";

/// Encodes and decodes public job ids.
#[derive(Clone)]
pub(crate) struct JobIds {
    /// The key of new ids first, then the keys of the other secrets.
    ciphers: Vec<Aes128>,
}

impl std::fmt::Debug for JobIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JobIds({} keys)", self.ciphers.len())
    }
}

impl JobIds {
    /// Keys derived from each webhook secret (first: the one new ids use).
    pub(crate) fn new(secrets: &github_events::WebhookSecrets) -> Self {
        let ciphers = secrets
            .iter()
            .map(|s| {
                // The secret's HMAC of a fixed label: a key only this use knows.
                let derived = s.sign(b"chartimpact public job ids v1");
                let digest = ring::digest::digest(&ring::digest::SHA256, derived.as_bytes());
                Aes128::new(GenericArray::from_slice(&digest.as_ref()[..16]))
            })
            .collect();
        JobIds { ciphers }
    }

    /// The public id of job `id`.
    pub(crate) fn encode(&self, id: store::JobId) -> String {
        let mut block = [0u8; 16];
        block[..8].copy_from_slice(&id.get().to_be_bytes());
        block[8..].copy_from_slice(&CHECK);
        let mut block = GenericArray::from(block);
        if let Some(c) = self.ciphers.first() {
            c.encrypt_block(&mut block);
        }
        block.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The job a public id names, if it is one of ours.
    pub(crate) fn decode(&self, public: &str) -> Option<store::JobId> {
        if public.len() != 32 || !public.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&public[2 * i..2 * i + 2], 16).ok()?;
        }
        self.ciphers.iter().find_map(|c| {
            let mut block = GenericArray::from(bytes);
            c.decrypt_block(&mut block);
            if block[8..] != CHECK {
                return None;
            }
            let n = i64::from_be_bytes(block[..8].try_into().ok()?);
            store::JobId::new(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &[&str]) -> github_events::WebhookSecrets {
        github_events::WebhookSecrets::from_list(list).unwrap()
    }

    #[test]
    fn ids_round_trip_hide_the_sequence_and_refuse_forgeries() {
        let ids = JobIds::new(&secrets(&["first-secret-0123456789"]));
        let one = ids.encode(store::JobId::new(1).unwrap());
        let two = ids.encode(store::JobId::new(2).unwrap());
        assert_eq!(one.len(), 32);
        assert_ne!(one[..16], two[..16], "neighbours share no prefix");
        assert_eq!(ids.decode(&one), store::JobId::new(1));
        assert_eq!(ids.decode(&two), store::JobId::new(2));
        assert_eq!(ids.decode("1"), None);
        assert_eq!(ids.decode(&"0".repeat(32)), None);
        let mut flipped = one.clone().into_bytes();
        flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
        assert_eq!(ids.decode(std::str::from_utf8(&flipped).unwrap()), None);
        // Another server's secret: not ours.
        let other = JobIds::new(&secrets(&["other-secret-0123456789"]));
        assert_eq!(other.decode(&one), None);
    }

    #[test]
    fn old_ids_survive_a_rotation() {
        let before = JobIds::new(&secrets(&["old-secret-0123456789"]));
        let id = before.encode(store::JobId::new(42).unwrap());
        let during = JobIds::new(&secrets(&[
            "new-secret-0123456789",
            "old-secret-0123456789",
        ]));
        assert_eq!(during.decode(&id), store::JobId::new(42));
        assert_ne!(during.encode(store::JobId::new(42).unwrap()), id);
    }
}
