//! The one integration-test binary (style.md): every module below shares `common`.
#![allow(unreachable_pub, clippy::print_stderr, clippy::print_stdout)]

mod badinput;
mod cert;
mod common;
mod crash;
mod crypto;
mod envfile;
mod fixtures;
mod fsio;
mod k8s_tree;
mod kustomize;
mod leak;
mod placeholder;
mod prop;
mod report;
mod rules;
mod sealedsecret;
