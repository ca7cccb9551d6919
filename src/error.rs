//! The library's error type, composed of each module's errors.

/// Any error the library returns. Messages name the file and line, never a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O problem not covered by a module error.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// What the user can do about it, printed by the CLI as `help: ...`.
    pub fn hint(&self) -> Option<String> {
        None
    }
}
