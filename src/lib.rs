//! emp-seal: seal env files into Bitnami `SealedSecrets` and keep a Kustomize tree's secrets
//! consistent.
//!
//! The library does no printing and never exits; the `emp-seal` binary (module `cli`) owns the
//! terminal and the exit code.
//!
//! Sealing one env file's values for a strict-scope SealedSecret, then opening one again with the
//! controller's private key (recovery):
//!
//! ```
//! use emp_seal::{cert::Certificate, crypto, envfile, keys};
//!
//! let cert = Certificate::from_pem(include_bytes!("../tests/fixtures/certs/rsa-2048-cert.pem"))?;
//! let env = envfile::parse(b"API_KEY=s3cret\nREDIS_PASSWORD=\n")?;
//! // Strict scope: the label binds each value to the rendered namespace and name.
//! let label = crypto::Scope::Strict.label("emp-paper", "emp-secrets");
//! let values: Vec<_> = env.entries.iter().map(|e| e.value.duplicate()).collect();
//! let sealed = crypto::seal_many(cert.sealing_key(), &label, &values)?;
//! // kubeseal's layout: u16 length of the RSA block, the block, AES-GCM ciphertext and tag.
//! assert!(sealed[0].starts_with("AQ")); // 0x0100 = 256 bytes for RSA-2048
//!
//! let key = keys::load_private_keys(include_bytes!("../tests/fixtures/keys/rsa-2048-key.pem"), "key.pem")?;
//! let opened = crypto::unseal_base64(&key, &label, &sealed[0])?;
//! assert_eq!(opened.expose_secret(), b"s3cret");
//! // The wrong identity cannot open it, exactly as the controller refuses it.
//! let other = crypto::Scope::Strict.label("emp-prod", "emp-secrets");
//! assert!(crypto::unseal_base64(&key, &other, &sealed[0]).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
mod par;
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
pub mod render;
pub mod reseal;
pub mod seal;
pub mod workspace;
