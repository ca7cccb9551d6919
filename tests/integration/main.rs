//! The one integration-test binary (style.md): every module below shares `common`.

mod cert;
mod common;
mod crypto;
mod fixtures;
