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

/// A closed stderr (`2>&-`, or `2>&1 | head -1` whose reader has gone) loses the messages, never
/// the command: the file a command writes is written, and the exit code is the one it has with
/// a reader, with no panic (exit 101).
#[test]
fn a_closed_stderr_loses_the_messages_not_the_command() {
    let demo = repo_root().join("tests/fixtures/demo");
    let cert = format!("file://{}", demo.join("paper-sealing-cert.pem").display());
    let key = demo.join("paper-sealing-key.pem");
    let key = key.to_str().expect("utf-8 path");
    let cases: [(&[&str], Option<&str>); 5] = [
        (
            &["cert", "paper", "--fetch", &cert],
            Some("k8s/overlays/paper/sealing-cert.pem"),
        ),
        (
            &["init", "dev", "--no-input"],
            Some("k8s/overlays/dev/dev-secrets.env"),
        ),
        (&["unseal", "paper", "--key", key], None),
        (&["check"], None),
        (&["release", "--from", "x.env"], None),
    ];
    for (args, written) in cases {
        let run = |stderr: Stdio| {
            let tree = tempfile::tempdir().expect("tempdir");
            crate::common::copy_dir(&repo_root().join("k8s"), &tree.path().join("k8s"));
            if let Some(w) = written {
                let _ = std::fs::remove_file(tree.path().join(w));
            }
            let mut cmd = emp_seal_std();
            cmd.current_dir(tree.path()).args(args);
            let out = cmd
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(stderr)
                .output()
                .expect("run");
            let made = written.map(|w| tree.path().join(w).is_file());
            (out, made)
        };
        let (with_reader, made) = run(Stdio::piped());
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let (closed, made_closed) = run(Stdio::from(writer));
        assert_eq!(
            closed.status.code(),
            with_reader.status.code(),
            "{args:?}: {}",
            String::from_utf8_lossy(&with_reader.stderr)
        );
        assert_eq!(made_closed, made, "{args:?}");
        if let Some(w) = written {
            assert_eq!(made, Some(true), "{args:?} did not write {w}");
        }
    }
}
