//! The library's error type: every use case's error, composed. The CLI turns it into one
//! `error:` line and a `help:` hint; messages name files, lines and keys, never a secret value.

/// Any error a library use case returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `emp-seal seal` (the main job).
    #[error(transparent)]
    Seal(#[from] crate::seal::SealError),
    /// `emp-seal check`.
    #[error(transparent)]
    Check(#[from] crate::check::CheckError),
    /// `emp-seal init`.
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    /// `emp-seal seal --migrate`.
    #[error(transparent)]
    Migrate(#[from] crate::migrate::MigrateError),
    /// `emp-seal unseal` and `emp-seal diff`.
    #[error(transparent)]
    Recover(#[from] crate::recover::RecoverError),
    /// `emp-seal reseal`.
    #[error(transparent)]
    Reseal(#[from] crate::reseal::ResealError),
    /// `emp-seal cert` and `cert --fetch`.
    #[error(transparent)]
    CertInfo(#[from] crate::certinfo::CertInfoError),
}

impl Error {
    /// What the user can do about it, printed by the CLI as `help: ...`.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Seal(e) => e.hint(),
            Error::Check(e) => e.hint(),
            Error::Init(e) => e.hint(),
            Error::Migrate(e) => e.hint(),
            Error::Recover(e) => e.hint(),
            Error::CertInfo(e) => e.hint(),
            Error::Reseal(e) => e.hint(),
        }
    }
}
