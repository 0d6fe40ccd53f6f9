//! serde-saphyr, configured as close to go-yaml v2 as it goes, as the comparison reader.

/// Every non-empty document of `text`, read by serde-saphyr into JSON values.
pub fn read(text: &str) -> Result<Vec<serde_json::Value>, String> {
    let options = serde_saphyr::options! {
        legacy_octal_numbers: true,
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 100_000_000,
            max_events: 100_000_000,
            max_total_scalar_bytes: 1 << 30,
            max_buffered_comment_events: 1 << 20,
        },
    };
    serde_saphyr::from_multiple_with_options(text, options).map_err(|e| e.to_string())
}

/// Every non-empty document of `text`, read by yaml11 and serialized to JSON values.
pub fn ours(text: &str) -> Result<Vec<serde_json::Value>, yaml11::Error> {
    let docs = yaml11::parse_stream(text, &yaml11::Limits::default())?;
    Ok(docs
        .iter()
        .map(|d| serde_json::to_value(&d.value).expect("values serialize"))
        .collect())
}
