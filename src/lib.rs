//! emp-seal: seal env files into Bitnami SealedSecrets and keep a Kustomize tree's secrets
//! consistent.
//!
//! The library does no printing and never exits; the `emp-seal` binary (module `cli`) owns the
//! terminal and the exit code.

pub mod cli;
pub mod crypto;
pub mod error;
pub mod secret;

pub use error::Error;
pub mod seal;
