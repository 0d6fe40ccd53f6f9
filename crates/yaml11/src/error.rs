//! What can go wrong while reading YAML.

/// An error that names where in the input things went wrong and, for limits, which limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not valid YAML.
    #[error("document {document}: line {line} column {column}: {message}")]
    Syntax {
        /// 1-based document index in the stream.
        document: usize,
        /// 1-based line in the whole input.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the reader expected or found.
        message: String,
    },
    /// The input is larger than [`crate::Limits::max_bytes`].
    #[error("input is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Input size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The stream has more documents than [`crate::Limits::max_documents`].
    #[error("more than {limit} documents in one stream")]
    TooManyDocuments {
        /// The limit.
        limit: usize,
    },
    /// Collections nest deeper than [`crate::Limits::max_depth`].
    #[error("document {document}: line {line}: nesting deeper than {limit} levels")]
    TooDeep {
        /// 1-based document index.
        document: usize,
        /// 1-based line.
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// Alias expansion produced more values than [`crate::Limits::max_nodes`].
    #[error("document {document}: more than {limit} values after alias expansion")]
    TooManyNodes {
        /// 1-based document index.
        document: usize,
        /// The limit.
        limit: usize,
    },
    /// Alias expansion built more bytes of values than [`crate::Limits::max_value_bytes`].
    #[error("document {document}: values over {limit} bytes after alias expansion")]
    TooManyBytes {
        /// 1-based document index.
        document: usize,
        /// The limit.
        limit: usize,
    },
    /// A single value was expected but the input holds several documents.
    #[error("expected one document, found a second one at line {line}")]
    MultipleDocuments {
        /// Line where the second document starts.
        line: usize,
    },
}
