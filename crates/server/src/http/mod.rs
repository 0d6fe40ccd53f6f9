//! The HTTP handlers, one module per route family, and what they share (bodies, errors,
//! limits).

pub(crate) mod analysis;
pub(crate) mod body;
pub(crate) mod compare;
pub(crate) mod error;
pub(crate) mod health;
pub(crate) mod jobs;
pub(crate) mod limits;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub(crate) mod operations;
pub(crate) mod origin;
pub(crate) mod stream;
pub(crate) mod ui;
pub(crate) mod webhook;
