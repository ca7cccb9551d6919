//! Issue 17 items 2 to 5 through the real binary: secrets from pipes (`--from -`, `/dev/stdin`,
//! process substitution, a named FIFO) checked exactly like a file (the Python peer decrypts
//! what the real `kubectl kustomize` renders), the man pages (checked with `groff -z`, every
//! option of every subcommand present), the messages a newcomer trips on, and placeholders as
//! one finding per key.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use clap::CommandFactory;

use crate::common;
use crate::seal_support::*;

/// Runs `emp-seal -C ROOT ARGS...` with `input` on stdin.
fn run_stdin(tree: &Tree, args: &[&str], input: &[u8]) -> Output {
    let mut c = emp_seal_cmd();
    c.arg("-C")
        .arg(tree.root())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The reader may stop early (a too-large input): a broken pipe is expected then.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// The values sealed from a pipe are the env file's, for the rendered identity (peer + kubectl),
/// and nothing secret is printed: the same checks as for a file.
fn sealed_like_a_file(tree: &Tree, out: &Output) {
    ok(out);
    no_secret(out);
    assert!(
        stderr(out).contains("wrote k8s/overlays/paper/sealedsecret.yaml"),
        "{}",
        stderr(out)
    );
    assert_decrypts(tree, "paper", &env_values());
}

#[test]
fn issue_17_from_a_file_for_comparison() {
    let tree = Tree::new();
    let outside = tempfile::tempdir().unwrap();
    let env = outside.path().join("s.env");
    write_file(&env, env_text().as_bytes());
    sealed_like_a_file(
        &tree,
        &tree.run(&["seal", "paper", "--from", env.to_str().unwrap()]),
    );
}

#[test]
fn issue_17_from_stdin_dash_and_dev_stdin() {
    for from in ["-", "/dev/stdin"] {
        let tree = Tree::new();
        let out = run_stdin(
            &tree,
            &["seal", "paper", "--from", from],
            env_text().as_bytes(),
        );
        sealed_like_a_file(&tree, &out);
    }
}

#[test]
fn issue_17_from_process_substitution_and_named_fifo() {
    let Some(bash) = common::which("bash") else {
        common::missing("bash (process substitution)");
        return;
    };
    let outside = tempfile::tempdir().unwrap();
    let env = outside.path().join("s.env");
    write_file(&env, env_text().as_bytes());

    // `--from <(cat s.env)`: bash hands emp-seal /dev/fd/63, a pipe.
    let tree = Tree::new();
    let out = Command::new(bash)
        .arg("-c")
        .arg(r#"exec "$0" -C "$1" seal paper --from <(cat "$2")"#)
        .arg(assert_cmd::cargo::cargo_bin("emp-seal"))
        .arg(tree.root())
        .arg(&env)
        .env_remove("EMP_SEAL_FROM")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    sealed_like_a_file(&tree, &out);

    // A named FIFO whose writer opens it after emp-seal starts.
    let tree = Tree::new();
    let fifo = outside.path().join("secrets.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success(),
        "mkfifo"
    );
    let text = env_text();
    let f2 = fifo.clone();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut w = std::fs::OpenOptions::new().write(true).open(&f2).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    });
    let out = tree.run(&["seal", "paper", "--from", fifo.to_str().unwrap()]);
    writer.join().unwrap();
    sealed_like_a_file(&tree, &out);
    // Nothing of the pipe's content landed on disk next to it.
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 2);
}

#[test]
fn issue_17_pipe_limits_and_empty_input() {
    let tree = Tree::new();
    let before = std::fs::read_to_string(tree.ss("paper")).unwrap();
    // Past the 8 MiB limit: refused, nothing written.
    let mut huge = Vec::with_capacity(9 << 20);
    while huge.len() < (9 << 20) {
        huge.extend_from_slice(format!("K{}={SENTINEL}\n", huge.len()).as_bytes());
    }
    let out = run_stdin(&tree, &["seal", "paper", "--from", "-"], &huge);
    let line = fails_cleanly(&out);
    assert!(line.starts_with("error: <stdin>: larger than"), "{line}");
    no_secret(&out);
    // Nothing at all on the pipe: says so.
    let out = run_stdin(&tree, &["seal", "paper", "--from", "-"], b"");
    let line = fails_cleanly(&out);
    assert!(
        line.starts_with("error: <stdin>: the pipe gave no data"),
        "{line}"
    );
    // A bad line is named by its line number, like a file's.
    let out = run_stdin(
        &tree,
        &["seal", "paper", "--from", "-"],
        format!("A={SENTINEL}\nnot a line\n").as_bytes(),
    );
    let line = fails_cleanly(&out);
    assert!(line.starts_with("error: <stdin>:2"), "{line}");
    no_secret(&out);
    assert_eq!(std::fs::read_to_string(tree.ss("paper")).unwrap(), before);
}

/// Renders roff to plain text with groff (`-Tascii`, so `\-` is a plain `-`).
fn groff_text(roff: &Path) -> String {
    let out = Command::new("groff")
        .args(["-man", "-Tascii", "-P-c", "-P-b", "-P-u"])
        .arg(roff)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `groff -z` (parse, no output) succeeds and warns about nothing.
fn groff_clean(roff: &Path) {
    let out = Command::new("groff")
        .args(["-man", "-z", "-ww"])
        .arg(roff)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}: {}",
        roff.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (subcommand, its long options) from the real clap definition.
fn commands() -> Vec<(String, Vec<String>)> {
    let cli = emp_seal::cli::args::Cli::command();
    cli.get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| {
            let longs = s
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .collect();
            (s.get_name().to_owned(), longs)
        })
        .collect()
}

#[test]
fn issue_17_man_single_page_documents_every_option() {
    if common::which("groff").is_none() {
        common::missing("groff");
        return;
    }
    let tree = Tree::new();
    let out = tree.run(&["man"]);
    ok(&out);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("emp-seal.1");
    write_file(&page, &out.stdout);
    groff_clean(&page);
    let text = groff_text(&page);
    let cmds = commands();
    assert!(cmds.iter().any(|(n, _)| n == "reseal"));
    for (i, (name, longs)) in cmds.iter().enumerate() {
        let heading = format!("EMP SEAL {}", name.to_uppercase());
        let start = text
            .find(&heading)
            .unwrap_or_else(|| panic!("no section {heading}:\n{text}"));
        let end = cmds
            .get(i + 1)
            .and_then(|(n, _)| text[start..].find(&format!("EMP SEAL {}", n.to_uppercase())))
            .map_or(text.len(), |e| start + e);
        let section = &text[start..end];
        for l in longs {
            assert!(
                section.contains(l.as_str()),
                "{name}: {l} missing from:\n{section}"
            );
        }
    }
}

#[test]
fn issue_17_man_dir_writes_one_page_per_command() {
    if common::which("groff").is_none() {
        common::missing("groff");
        return;
    }
    let tree = Tree::new();
    let dir = tempfile::tempdir().unwrap();
    let out = tree.run(&["man", "--dir", dir.path().to_str().unwrap()]);
    ok(&out);
    groff_clean(&dir.path().join("emp-seal.1"));
    for (name, longs) in commands() {
        let page = dir.path().join(format!("emp-seal-{name}.1"));
        assert!(page.is_file(), "{} missing", page.display());
        groff_clean(&page);
        let text = groff_text(&page);
        for l in &longs {
            assert!(
                text.contains(l.as_str()),
                "{name}: {l} missing from its page"
            );
        }
    }
    // A missing directory is one clear error.
    let out = tree.run(&["man", "--dir", dir.path().join("nope").to_str().unwrap()]);
    let line = fails_cleanly(&out);
    assert!(line.contains("nope"), "{line}");
}

/// A tree and an env file outside it.
fn tree_and_env() -> (Tree, tempfile::TempDir, String) {
    let tree = Tree::new();
    let outside = tempfile::tempdir().unwrap();
    let env = outside.path().join("s.env");
    write_file(&env, env_text().as_bytes());
    let env = env.to_str().unwrap().to_owned();
    (tree, outside, env)
}

#[test]
fn issue_17_hint_for_empty_file_or_plain_secret_is_not_migrate() {
    let (tree, _o, env) = tree_and_env();
    write_file(&tree.ss("paper"), b"# to be sealed\n");
    let out = tree.run(&["seal", "paper", "--from", &env]);
    fails_cleanly(&out);
    let err = stderr(&out);
    assert!(!err.contains("--migrate"), "{err}");
    assert!(err.contains("sealedsecret.yaml holds no document"), "{err}");
    assert!(err.contains("help: write a SealedSecret skeleton"), "{err}");

    write_file(
        &tree.ss("paper"),
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: emp-secrets\nstringData:\n  API_KEY: x\n",
    );
    let out = tree.run(&["seal", "paper", "--from", &env]);
    let line = fails_cleanly(&out);
    let err = stderr(&out);
    assert!(!err.contains("--migrate"), "{err}");
    assert!(line.contains("plain `kind: Secret`"), "{line}");
    assert!(line.contains("sealedsecret.yaml:1"), "{line}");
    assert!(err.contains("rotate the values"), "{err}");
}

#[test]
fn issue_17_placeholders_are_listed_as_sealed() {
    let (tree, _o, env) = tree_and_env();
    let out = tree.run(&["seal", "paper", "--from", &env]);
    ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains("sealed   API_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD"),
        "{err}"
    );
    assert!(!err.contains("resealed"), "{err}");
    // A second run (real ciphertexts now) reseals them.
    let out = tree.run(&["seal", "paper", "--from", &env]);
    ok(&out);
    assert!(
        stderr(&out).contains("resealed API_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn issue_17_summary_names_the_symlinked_file_written() {
    let (tree, _o, env) = tree_and_env();
    // The link stays inside the overlay: kustomize's load restrictor refuses a link whose target
    // leaves the kustomization root.
    let shared = tree.write(
        "k8s/overlays/paper/shared/paper-sealedsecret.yaml",
        std::fs::read(tree.ss("paper")).unwrap(),
    );
    std::fs::remove_file(tree.ss("paper")).unwrap();
    std::os::unix::fs::symlink("shared/paper-sealedsecret.yaml", tree.ss("paper")).unwrap();
    let out = tree.run(&["seal", "paper", "--from", &env]);
    ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains(
            "wrote k8s/overlays/paper/shared/paper-sealedsecret.yaml (through the symlink k8s/overlays/paper/sealedsecret.yaml)"
        ),
        "{err}"
    );
    assert!(
        std::fs::symlink_metadata(tree.ss("paper"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(values(&std::fs::read_to_string(shared).unwrap()).len(), 3);
}

#[test]
fn issue_17_migrate_header_names_no_absolute_path() {
    let (tree, outside, _env) = tree_and_env();
    let env = tree.write("k8s/overlays/dev/dev-secrets.env", env_text());
    // A certificate from outside the repository, given by absolute path.
    let cert = outside.path().join("downloaded-cert.pem");
    std::fs::copy(tree.overlay("paper").join("sealing-cert.pem"), &cert).unwrap();
    let out = tree.run(&[
        "seal",
        "dev",
        "--from",
        env.to_str().unwrap(),
        "--migrate",
        "--cert",
        cert.to_str().unwrap(),
        "--scope",
        "strict",
    ]);
    ok(&out);
    let text = std::fs::read_to_string(tree.ss("dev")).unwrap();
    let header: String = text.lines().take_while(|l| l.starts_with('#')).collect();
    assert!(header.contains("downloaded-cert.pem"), "{header}");
    for abs in [outside.path(), tree.root()] {
        assert!(!text.contains(abs.to_str().unwrap()), "{header}");
    }
    assert!(!header.contains("/tmp"), "{header}");
}

#[test]
fn issue_17_sarif_information_uri_is_not_sealed_secrets() {
    let tree = Tree::new();
    let out = tree.run(&["check", "--format", "sarif", "--exit-zero"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let driver = &v["runs"][0]["tool"]["driver"];
    assert!(!stdout(&out).contains("bitnami-labs/sealed-secrets\""));
    let repo = env!("CARGO_PKG_REPOSITORY");
    if repo.is_empty() {
        assert!(driver.get("informationUri").is_none(), "{driver}");
        assert_eq!(
            driver["fullDescription"]["text"],
            env!("CARGO_PKG_DESCRIPTION")
        );
    } else {
        assert_eq!(driver["informationUri"], repo);
    }
}

#[test]
fn issue_17_env_with_trailing_slash_or_overlay_path() {
    let (tree, _o, env) = tree_and_env();
    ok(&tree.run(&["seal", "paper/", "--from", &env]));
    ok(&tree.run(&["paper/", "--from", &env]));
    let out = tree.run_in(
        tree.root(),
        &["seal", "k8s/overlays/paper/", "--from", &env],
    );
    ok(&out);
    assert!(stderr(&out).contains("\npaper: wrote"), "{}", stderr(&out));
    assert_decrypts(&tree, "paper", &env_values());
}

/// `REGENERATE_WITH_kubeseal`, `<sealed>`, `CHANGEME`, `AgAAAA...`: each is one
/// `placeholder-ciphertext` finding, never paired with `invalid-ciphertext`.
#[test]
fn issue_17_placeholder_values_are_one_finding_per_key() {
    let tree = Tree::new();
    let text = std::fs::read_to_string(tree.ss("paper")).unwrap();
    let mut lines: Vec<String> = Vec::new();
    for l in text.lines() {
        match l.trim_start().split(':').next() {
            Some("API_KEY") => lines.push("    API_KEY: REGENERATE_WITH_kubeseal".into()),
            Some("POSTGRES_PASSWORD") => {
                lines.push("    POSTGRES_PASSWORD: \"<sealed>\"".into());
                lines.push("    EXTRA_A: CHANGEME".into());
                lines.push("    EXTRA_B: AgAAAA...".into());
            }
            _ => lines.push(l.to_owned()),
        }
    }
    write_file(&tree.ss("paper"), (lines.join("\n") + "\n").as_bytes());
    let out = tree.run(&["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut per_key: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in v["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap_or_default().to_owned();
        if !rule.contains("ciphertext") {
            continue;
        }
        let msg = f["message"].as_str().unwrap();
        let key = msg.split('`').nth(1).unwrap().to_owned();
        per_key.entry(key).or_default().push(rule);
    }
    for k in [
        "API_KEY",
        "POSTGRES_PASSWORD",
        "EXTRA_A",
        "EXTRA_B",
        "REDIS_PASSWORD",
    ] {
        assert_eq!(
            per_key.get(k).map(Vec::as_slice),
            Some(&["placeholder-ciphertext".to_owned()][..]),
            "{k}: {per_key:?}"
        );
    }
}

/// A YAML error in the second document of the overlay's SealedSecret file is reported at its
/// line in the file (the parser counts from the document's start).
#[test]
fn issue_17_yaml_parse_error_names_the_file_line() {
    let (tree, _o, env) = tree_and_env();
    let text = std::fs::read_to_string(tree.ss("paper")).unwrap();
    let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata:\n  a: b\n---\n";
    let broken = format!(
        "{head}{}",
        text.replacen("  template:\n", "  template: [\n", 1)
    );
    write_file(&tree.ss("paper"), broken.as_bytes());
    let bad_line = broken.lines().position(|l| l == "  template: [").unwrap() + 1;
    let out = tree.run(&["seal", "paper", "--from", &env]);
    let line = fails_cleanly(&out);
    let at: usize = line
        .split("sealedsecret.yaml:")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line in {line}"));
    // The parser stops a little after the opening `[`: within the next lines, never at the
    // document's own numbering.
    assert!(
        (bad_line..=bad_line + 3).contains(&at),
        "reported line {at}, the error is at {bad_line}: {line}"
    );
    assert!(!line.contains(" at line "), "{line}");
}

/// `identity-mismatch` (check) and seal's refusal both point at the disagreeing field's own line,
/// not at another field with the same key and value (`metadata.name` vs the template's `name`).
#[test]
fn issue_17_identity_mismatch_points_at_the_field() {
    let (tree, _o, env) = tree_and_env();
    let k = tree.overlay("paper").join("kustomization.yaml");
    let kt = std::fs::read_to_string(&k).unwrap().replace(
        "namespace: emp-paper\n",
        "namespace: emp-paper\nnamePrefix: pre-\n",
    );
    write_file(&k, kt.as_bytes());
    let text = std::fs::read_to_string(tree.ss("paper")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let template = lines.iter().position(|l| *l == "  template:").unwrap();
    let field = template
        + lines[template..]
            .iter()
            .position(|l| *l == "      name: emp-secrets")
            .unwrap()
        + 1;
    let top = lines
        .iter()
        .position(|l| *l == "  name: emp-secrets")
        .unwrap()
        + 1;
    assert_ne!(field, top);

    let out = tree.run(&["seal", "paper", "--from", &env]);
    let line = fails_cleanly(&out);
    assert!(
        line.contains(&format!(
            "sealedsecret.yaml:{field}: spec.template.metadata.name"
        )),
        "{line}"
    );
    let out = tree.run(&["check", "--rules", "identity-mismatch"]);
    let s = stdout(&out);
    assert!(
        s.contains(&format!(
            "sealedsecret.yaml:{field}:7: error[identity-mismatch]"
        )),
        "{s}"
    );
}
