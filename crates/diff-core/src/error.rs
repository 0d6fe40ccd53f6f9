//! What can go wrong in diff-core.

/// An error reading or comparing manifests.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A stream is not valid YAML or exceeds a size limit.
    #[error("cannot read {stream}")]
    Yaml {
        /// The stream's name.
        stream: String,
        /// What the YAML reader found.
        #[source]
        source: yaml11::Error,
    },
    /// A document is YAML but not a Kubernetes object.
    #[error("{stream}: document {document} (line {line}): {problem}")]
    Invalid {
        /// The stream's name.
        stream: String,
        /// 1-based document number.
        document: usize,
        /// 1-based line where the document starts.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// `suppressRegex` does not compile.
    #[error("invalid suppress regex {pattern:?}")]
    SuppressRegex {
        /// The pattern as given.
        pattern: String,
        /// Why it does not compile.
        #[source]
        source: regex::Error,
    },
}
