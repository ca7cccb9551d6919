//! The one integration-test binary (style.md): every module below shares `common`.
#![allow(unreachable_pub, clippy::print_stderr, clippy::print_stdout)]

mod cert;
mod check;
mod common;
mod crypto;
mod envfile;
mod fetch_https;
mod fixtures;
mod fsio;
mod k8s_tree;
mod kustomize;
mod lifecycle;
mod placeholder;
mod precommit;
mod pty;
mod report;
mod rules;
mod seal_badinput;
mod seal_cli;
mod seal_faults;
mod seal_support;
mod sealedsecret;
