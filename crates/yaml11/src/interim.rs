//! Temporary reader on serde-saphyr until the fast reader lands.

use crate::{Document, Error, Limits, Mapping, Number, Value};

pub(crate) fn parse_stream(text: &str, limits: &Limits) -> Result<Vec<Document>, Error> {
    if text.len() > limits.max_bytes {
        return Err(Error::TooLarge {
            size: text.len(),
            limit: limits.max_bytes,
        });
    }
    let mut out = Vec::new();
    let mut start_line = 1usize;
    let mut index = 0usize;
    let mut chunk = String::new();
    let mut line_no = 0usize;
    let flush = |chunk: &mut String,
                 start: usize,
                 index: usize,
                 out: &mut Vec<Document>|
     -> Result<(), Error> {
        let v: serde_json::Value = serde_saphyr::from_str_with_options(
            chunk,
            serde_saphyr::options! { legacy_octal_numbers: true, budget: serde_saphyr::budget! { max_documents: 1_000_000, max_nodes: 100_000_000, max_events: 100_000_000, max_total_scalar_bytes: 1 << 30 } },
        )
        .map_err(|e| Error::Syntax { document: index, line: start, column: 1, message: e.to_string() })?;
        if !v.is_null() {
            out.push(Document {
                index,
                line: start,
                value: convert(v),
            });
        }
        chunk.clear();
        Ok(())
    };
    for line in text.split_inclusive('\n') {
        line_no += 1;
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") {
            if index > 0 || !chunk.trim().is_empty() {
                index += 1;
                flush(&mut chunk, start_line, index, &mut out)?;
            }
            start_line = line_no + 1;
            chunk.push_str(&bare[3..]);
            chunk.push('\n');
            continue;
        }
        chunk.push_str(line);
    }
    index += 1;
    flush(&mut chunk, start_line, index, &mut out)?;
    Ok(out)
}

fn convert(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Number(Number::Int(i)),
            None => Value::Number(Number::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(a) => Value::Sequence(a.into_iter().map(convert).collect()),
        serde_json::Value::Object(o) => {
            let mut m = Mapping::with_capacity(o.len());
            for (k, v) in o {
                m.insert(k, convert(v));
            }
            Value::Mapping(m)
        }
    }
}
