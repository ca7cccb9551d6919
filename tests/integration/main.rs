//! The one integration-test binary (style.md): every module below shares `common`.

mod common;
mod kustomize;
