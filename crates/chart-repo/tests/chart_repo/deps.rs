//! Dependencies.
