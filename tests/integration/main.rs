//! The one integration-test binary (style.md): every module below shares `common`.

mod common;
mod envfile;
mod k8s_tree;
mod placeholder;
mod report;
mod rules;
