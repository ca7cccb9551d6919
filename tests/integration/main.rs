//! The one integration-test binary (style.md): every module below shares `common`.
#![allow(unreachable_pub, clippy::print_stderr, clippy::print_stdout)]

mod badinput;
mod cert;
mod cert_messages;
mod check;
mod common;
mod crash;
mod crypto;
mod envfile;
mod fetch_https;
mod fixtures;
mod fsio;
mod gate;
mod issue17;
mod k8s_tree;
mod kustomize;
mod leak;
mod lifecycle;
mod lock;
mod migrate_inline;
mod placeholder;
mod precommit;
mod prop;
mod pty;
mod render;
mod report;
mod reseal;
mod rules;
mod seal_badinput;
mod seal_cli;
mod seal_faults;
mod seal_safety;
mod seal_shapes;
mod seal_support;
mod sealedsecret;
mod snapshots_cli;
