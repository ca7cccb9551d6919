//! Every command that writes to stdout treats a reader that has gone away (`emp-seal config |
//! head -0`) as the end of its output: the same exit code as with a reader, and no panic.

use std::process::Stdio;

use crate::common::{emp_seal, emp_seal_std, repo_root};

/// Runs `args` in the shipped repository with stdout a pipe whose reading end is already closed.
fn run_into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = emp_seal_std();
    cmd.current_dir(repo_root()).args(args);
    cmd.stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped());
    cmd.output().expect("run")
}

#[test]
fn a_closed_stdout_ends_the_output_without_a_panic() {
    for args in [
        &["config"][..],
        &["config", "--format", "json"],
        &["completions", "bash"],
        &["check"],
        &["check", "--format", "json"],
        &["cert"],
    ] {
        let with_reader = emp_seal()
            .current_dir(repo_root())
            .args(args)
            .output()
            .expect("run");
        assert!(!with_reader.stdout.is_empty(), "{args:?} printed nothing");
        let closed = run_into_closed_pipe(args);
        let stderr = String::from_utf8_lossy(&closed.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(
            closed.status.code(),
            with_reader.status.code(),
            "{args:?}: {stderr}"
        );
    }
}
