//! Errors of parsing and executing templates.

use std::fmt;

use crate::context::Limit;
use crate::parse::ParseError;

/// Why parsing or executing a template failed. The `Display` text is Go's message.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The template text is malformed: `template: NAME:LINE: MESSAGE`.
    #[error("template: {name}:{line}: {message}")]
    Parse {
        /// The template (file) being parsed.
        name: String,
        /// 1-based line.
        line: usize,
        /// Go's message.
        message: String,
    },
    /// Execution failed: `template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
    #[error("{0}")]
    Exec(ExecError),
    /// `execute` was asked for a template the set does not have.
    #[error("{message}")]
    NoTemplate {
        /// Go's message.
        message: String,
    },
    /// A caller-set limit was exceeded.
    #[error("{limit} in template {template}")]
    Limit {
        /// Which limit.
        limit: Limit,
        /// The template that was executing when the limit stopped it (an `include`d or
        /// `template`d one, not necessarily the one `execute` was asked for).
        template: String,
    },
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse {
            name: e.name,
            line: e.line,
            message: e.message,
        }
    }
}

/// An execution error, formatted as Go's `text/template` formats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecError {
    template: String,
    message: String,
}

impl ExecError {
    pub(crate) fn new(template: String, message: String) -> Self {
        ExecError { template, message }
    }
    /// The name of the template that was executing.
    pub fn template(&self) -> &str {
        &self.template
    }
    /// The full message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExecError {}
