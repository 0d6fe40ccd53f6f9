//! Document compression: zstd at level 3.
//!
//! Large documents are (de)compressed on tokio's blocking pool so a multi-megabyte compare
//! result does not stall the async workers.

use crate::StoreError;

const LEVEL: i32 = 3;

/// Documents at least this large are compressed off the async worker threads.
const BLOCKING_THRESHOLD: usize = 256 * 1024;

pub(crate) fn compress(compare_id: &str, document: &[u8]) -> Result<Vec<u8>, StoreError> {
    zstd::bulk::compress(document, LEVEL).map_err(|source| StoreError::Compress {
        compare_id: compare_id.to_owned(),
        source,
    })
}

/// Decompresses a stored document and checks it has the size recorded beside it.
pub(crate) fn decompress(
    compare_id: &str,
    compressed: &[u8],
    expected_len: u64,
) -> Result<Vec<u8>, StoreError> {
    let document = zstd::stream::decode_all(compressed).map_err(|e| {
        StoreError::corrupt(compare_id, format!("document does not decompress: {e}"))
    })?;
    if document.len() as u64 != expected_len {
        return Err(StoreError::corrupt(
            compare_id,
            format!(
                "document decompresses to {} bytes, {expected_len} recorded",
                document.len()
            ),
        ));
    }
    Ok(document)
}

/// [`compress`], on the blocking pool when the document is large.
pub(crate) async fn compress_async(
    compare_id: &str,
    document: Vec<u8>,
) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    if document.len() < BLOCKING_THRESHOLD {
        let compressed = compress(compare_id, &document)?;
        return Ok((document, compressed));
    }
    let id = compare_id.to_owned();
    join(tokio::task::spawn_blocking(move || {
        let compressed = compress(&id, &document)?;
        Ok((document, compressed))
    }))
    .await
}

/// [`decompress`], on the blocking pool when the document is large.
pub(crate) async fn decompress_async(
    compare_id: &str,
    compressed: Vec<u8>,
    expected_len: u64,
) -> Result<Vec<u8>, StoreError> {
    if compressed.len() < BLOCKING_THRESHOLD / 4 {
        return decompress(compare_id, &compressed, expected_len);
    }
    let id = compare_id.to_owned();
    join(tokio::task::spawn_blocking(move || {
        decompress(&id, &compressed, expected_len)
    }))
    .await
}

async fn join<T>(task: tokio::task::JoinHandle<Result<T, StoreError>>) -> Result<T, StoreError> {
    match task.await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only happens while the runtime shuts down.
        Err(_) => Err(StoreError::Shutdown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let doc = br#"{"success":true,"diff":"...."}"#.repeat(100);
        let packed = compress("id", &doc).unwrap();
        assert!(packed.len() < doc.len());
        assert_eq!(decompress("id", &packed, doc.len() as u64).unwrap(), doc);
    }

    #[test]
    fn empty_document_round_trips() {
        let packed = compress("id", b"").unwrap();
        assert_eq!(decompress("id", &packed, 0).unwrap(), b"");
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        let err = decompress("abc", b"definitely not zstd", 10).unwrap_err();
        match err {
            StoreError::Corrupt { compare_id, reason } => {
                assert_eq!(compare_id, "abc");
                assert!(reason.contains("does not decompress"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn truncated_frame_is_corrupt() {
        let doc = vec![7u8; 10_000];
        let packed = compress("id", &doc).unwrap();
        let err = decompress("id", &packed[..packed.len() - 3], 10_000).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn size_mismatch_is_corrupt() {
        let packed = compress("id", b"hello").unwrap();
        let err = decompress("id", &packed, 6).unwrap_err();
        assert_eq!(
            err.to_string(),
            "stored result id is corrupt: document decompresses to 5 bytes, 6 recorded"
        );
    }

    #[tokio::test]
    async fn large_documents_use_the_blocking_pool() {
        let doc: Vec<u8> = (0..1_000_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let (original, packed) = compress_async("id", doc.clone()).await.unwrap();
        assert_eq!(original, doc);
        let back = decompress_async("id", packed, doc.len() as u64)
            .await
            .unwrap();
        assert_eq!(back, doc);
    }
}
