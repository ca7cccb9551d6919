//! emp-seal: seal env files into Bitnami `SealedSecrets` and keep a Kustomize tree's secrets
//! consistent.
//!
//! The library does no printing and never exits; the `emp-seal` binary (module `cli`) owns the
//! terminal and the exit code.

pub mod cert;
pub mod check;
pub mod cli;
pub mod crypto;
pub mod envfile;
pub mod error;
pub mod finding;
pub mod fsio;
pub mod keys;
pub mod kustomize;
pub mod report;
pub mod rules;
pub mod sealedsecret;
pub mod secret;
pub mod yamlpos;

pub use error::Error;
pub mod certinfo;
pub mod init;
pub mod migrate;
pub mod recover;
pub mod seal;
