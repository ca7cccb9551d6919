//! Issue 4, the main job, through the real `emp-seal` binary on temp copies of `k8s/`:
//! golden lossless rewrites (compared programmatically with the crate's own span reader), values
//! decrypted by the Python peer under the identity the real `kubectl kustomize` renders, and the
//! behaviours of `emp-seal <ENV> --from FILE` (lookup, scope, identity, missing/unknown keys,
//! dry run, stdout, summary, records, several environments, --only, --prune, no churn).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use crate::seal_support::*;

fn set_mode(p: &std::path::Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// `{}` becomes block style when the first key is added (docs/rewrite.md): normalise that one
/// header before the line comparison.
fn unflow(s: &str) -> String {
    s.replace("encryptedData: {}", "encryptedData:")
}

/// The golden variants: (name, file text, keys the rewrite appends).
fn variants() -> Vec<(String, String, Vec<&'static str>)> {
    let mut v = vec![
        ("comments".to_owned(), fixture("comments.yaml"), vec![]),
        (
            "multidoc".to_owned(),
            fixture("multidoc.yaml"),
            vec!["POSTGRES_PASSWORD"],
        ),
        (
            "namespace_wide".to_owned(),
            fixture("namespace_wide.yaml"),
            vec![],
        ),
        (
            "cluster_wide".to_owned(),
            fixture("cluster_wide.yaml"),
            vec!["API_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"],
        ),
        (
            "placeholders".to_owned(),
            fixture("placeholders.yaml"),
            vec!["POSTGRES_PASSWORD"],
        ),
        (
            "indent4".to_owned(),
            fixture("indent4.yaml"),
            vec!["POSTGRES_PASSWORD", "REDIS_PASSWORD"],
        ),
        (
            "repo_default".to_owned(),
            std::fs::read_to_string(
                crate::common::repo_root().join("k8s/overlays/paper/sealedsecret.yaml"),
            )
            .unwrap(),
            vec![],
        ),
    ];
    let with_crlf: Vec<_> = v
        .iter()
        .filter(|(n, ..)| n != "indent4")
        .map(|(n, t, a)| (format!("{n}+crlf"), crlf(t), a.clone()))
        .collect();
    v.extend(with_crlf);
    v
}

#[test]
fn issue_4_golden_rewrite_changes_only_sealed_values() {
    for (name, text, added) in variants() {
        let tree = Tree::new();
        let target = tree.ss("paper");
        write_file(&target, text.as_bytes());
        set_mode(&target, 0o640);
        let env = tree.write("secrets.env", env_text());
        let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
        ok(&out);
        no_secret(&out);
        let new = std::fs::read_to_string(&target).unwrap();
        let inserted = assert_only_values_changed(&unflow(&text), &new, &added, false);
        assert!(
            inserted
                .iter()
                .any(|l| l.contains("emp-seal.dev/cert-sha256")),
            "{name}: record annotation written"
        );
        assert_eq!(mode(&target), 0o640, "{name}: mode kept");
        let (old_v, new_v) = (values(&text), values(&new));
        for k in env_values().keys() {
            assert_ne!(old_v.get(k), new_v.get(k), "{name}: {k} resealed");
        }
        assert!(assert_decrypts(&tree, "paper", &env_values()) || !crate::common::in_ci());

        // Sealing again changes only the values and the records' values: no line is inserted.
        let out = tree.run(&["seal", "paper", "--from", env.to_str().unwrap()]);
        ok(&out);
        let again = std::fs::read_to_string(&target).unwrap();
        assert!(
            assert_only_values_changed(&new, &again, &[], false).is_empty(),
            "{name}: a reseal inserts nothing"
        );
        assert_eq!(mode(&target), 0o640);
        assert!(assert_decrypts(&tree, "paper", &env_values()) || !crate::common::in_ci());
    }
}

#[test]
fn issue_4_works_from_any_directory_inside_the_repository() {
    let tree = Tree::new();
    let before = std::fs::read_to_string(tree.ss("paper")).unwrap();
    tree.write("secrets.env", env_text());
    // From a subdirectory, with a relative --from and both spellings.
    let out = tree.run_in(
        &tree.path("k8s/base"),
        &["paper", "--from", "../../secrets.env"],
    );
    ok(&out);
    let once = std::fs::read_to_string(tree.ss("paper")).unwrap();
    assert_ne!(before, once);
    let out = tree.run_in(
        &tree.path("k8s/overlays/prod"),
        &["seal", "paper", "--from", "../../../secrets.env"],
    );
    ok(&out);
    assert_ne!(once, std::fs::read_to_string(tree.ss("paper")).unwrap());
    assert_decrypts(&tree, "paper", &env_values());
    // Outside any repository: a clear error.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = tree.run_in(elsewhere.path(), &["paper", "--from", "x.env"]);
    let e = fails_cleanly(&out);
    assert!(e.contains("not inside a repository"), "{e}");
}

#[test]
fn issue_4_bare_from_is_looked_up_among_overlays() {
    let tree = Tree::new();
    tree.write("k8s/overlays/dev/dev-secrets.env", env_text());
    let out = tree.run_in(tree.root(), &["paper", "--from", "dev-secrets.env"]);
    ok(&out);
    no_secret(&out);
    assert!(
        stderr(&out).contains("using k8s/overlays/dev/dev-secrets.env"),
        "{}",
        stderr(&out)
    );
    assert_decrypts(&tree, "paper", &env_values());

    // A file of that name in the working directory wins (nothing printed about lookup).
    tree.write("dev-secrets.env", env_text());
    let out = tree.run_in(tree.root(), &["paper", "--from", "dev-secrets.env"]);
    ok(&out);
    assert!(!stderr(&out).contains("using "), "{}", stderr(&out));

    // Two overlays with the name: ambiguous, nothing written.
    std::fs::remove_file(tree.path("dev-secrets.env")).unwrap();
    tree.write("k8s/overlays/prod/dev-secrets.env", env_text());
    let before = std::fs::read(tree.ss("paper")).unwrap();
    let out = tree.run_in(tree.root(), &["paper", "--from", "dev-secrets.env"]);
    let e = fails_cleanly(&out);
    assert!(
        e.contains("ambiguous") && e.contains("k8s/overlays/prod/dev-secrets.env"),
        "{e}"
    );
    assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());

    // An environment with an example of that name keeps its own file: another environment's
    // is refused by a bare name (it would seal dev's values into prod), and its own is used
    // when present, whatever the other directories hold.
    std::fs::remove_file(tree.path("k8s/overlays/prod/dev-secrets.env")).unwrap();
    tree.write("k8s/overlays/paper/dev-secrets.env.example", "API_KEY=\n");
    let out = tree.run_in(tree.root(), &["paper", "--from", "dev-secrets.env"]);
    let e = fails_cleanly(&out);
    assert!(
        e.contains("has `dev-secrets.env.example`")
            && e.contains("it is in k8s/overlays/dev/dev-secrets.env, not paper's"),
        "{e}"
    );
    let help = stderr(&out);
    assert!(
        help.contains("give the path (--from k8s/overlays/dev/dev-secrets.env)"),
        "{help}"
    );
    assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());
    tree.write("k8s/overlays/paper/dev-secrets.env", env_text());
    let out = tree.run_in(tree.root(), &["paper", "--from", "dev-secrets.env"]);
    ok(&out);
    assert!(
        stderr(&out).contains("using k8s/overlays/paper/dev-secrets.env"),
        "{}",
        stderr(&out)
    );
    // Sealing two environments, one of which has the example but not the file: the other
    // target's file is not its values either.
    tree.clone_overlay("paper", "paper2");
    std::fs::remove_file(tree.path("k8s/overlays/paper2/dev-secrets.env")).unwrap();
    let before2 = std::fs::read(tree.ss("paper2")).unwrap();
    let out = tree.run_in(
        tree.root(),
        &["seal", "paper", "paper2", "--from", "dev-secrets.env"],
    );
    let e = fails_cleanly(&out);
    assert!(
        e.contains("is not in the directory of paper2, which has `dev-secrets.env.example`"),
        "{e}"
    );
    assert_eq!(before2, std::fs::read(tree.ss("paper2")).unwrap());
}

#[test]
fn issue_4_scope_conflict_is_refused_and_rescope_rewrites_the_declaration() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();
    let before = std::fs::read(tree.ss("paper")).unwrap();
    let out = tree.run(&["paper", "--from", env, "--scope", "namespace-wide"]);
    let e = fails_cleanly(&out);
    assert!(
        e.contains("k8s/overlays/paper/sealedsecret.yaml")
            && e.contains(
                "sealed strict, but --scope (or SEALED_SECRETS_SCOPE) asks for namespace-wide"
            ),
        "{e}"
    );
    assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());
    // The same scope as declared is no conflict.
    ok(&tree.run(&["paper", "--from", env, "--scope", "strict"]));

    for (scope, nw, cw) in [
        ("namespace-wide", Some("true"), None),
        ("cluster-wide", None, Some("true")),
        ("strict", None, None),
        ("cluster-wide", None, Some("true")),
        ("namespace-wide", Some("true"), None),
    ] {
        let old = tree.read("k8s/overlays/paper/sealedsecret.yaml");
        let out = tree.run(&["paper", "--from", env, "--scope", scope, "--rescope"]);
        ok(&out);
        let new = tree.read("k8s/overlays/paper/sealedsecret.yaml");
        // Scope annotations may be inserted or removed; nothing else but values and records.
        let keep: String = old
            .lines()
            .filter(|l| !l.contains("sealedsecrets.bitnami.com/"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_only_values_changed(&keep, &new, &[], true);
        let Some(r) = render(&tree, "paper") else {
            return;
        };
        assert_eq!(r.scope, scope);
        let get = |k: &str| r.annotations.get(k).map(String::as_str);
        assert_eq!(get("sealedsecrets.bitnami.com/namespace-wide"), nw, "{new}");
        assert_eq!(get("sealedsecrets.bitnami.com/cluster-wide"), cw, "{new}");
        assert_eq!(
            get("emp-seal.dev/sealed-for"),
            Some(format!("{scope} emp-paper/emp-secrets").as_str())
        );
        assert_decrypts(&tree, "paper", &env_values());
        // Without --scope, the new declaration is kept.
        ok(&tree.run(&["paper", "--from", env]));
        assert_eq!(render(&tree, "paper").unwrap().scope, scope);
    }
}

/// `--rescope` must reseal every key: a key the env file lacks cannot stay sealed for the old
/// scope.
#[test]
fn issue_4_rescope_refuses_to_leave_old_scope_values() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", format!("REDIS_PASSWORD={SENTINEL}\n"));
    let before = std::fs::read(tree.ss("paper")).unwrap();
    let out = tree.run(&[
        "paper",
        "--from",
        env.to_str().unwrap(),
        "--only",
        "REDIS_PASSWORD",
        "--scope",
        "cluster-wide",
        "--rescope",
    ]);
    let e = fails_cleanly(&out);
    assert!(
        e.contains("API_KEY") && e.contains("POSTGRES_PASSWORD"),
        "{e}"
    );
    no_secret(&out);
    assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());
}

#[test]
fn issue_4_identity_comes_from_the_render_and_disagreement_is_refused() {
    let tree = Tree::new();
    let kpath = tree.overlay("paper").join("kustomization.yaml");
    let k = std::fs::read_to_string(&kpath).unwrap();
    let k = k.replace(
        "namespace: emp-paper\n",
        "namespace: emp-paper-b\nnamePrefix: x-\n",
    );
    write_file(&kpath, k.as_bytes());
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();

    // The shipped file names namespace emp-paper explicitly: refused, naming file, line, field.
    let before = std::fs::read(tree.ss("paper")).unwrap();
    let out = tree.run(&["paper", "--from", env]);
    let e = fails_cleanly(&out);
    let text = String::from_utf8(before.clone()).unwrap();
    let ns_line = text
        .lines()
        .position(|l| l.trim() == "namespace: emp-paper")
        .unwrap()
        + 1;
    assert!(
        e.contains(&format!("k8s/overlays/paper/sealedsecret.yaml:{ns_line}:"))
            && e.contains("metadata.namespace")
            && e.contains("emp-paper-b"),
        "{e}"
    );
    assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());

    // Template name disagreeing with the prefixed name: refused too.
    let no_ns = text.replacen("  namespace: emp-paper\n", "", 1).replacen(
        "      namespace: emp-paper\n",
        "",
        1,
    );
    write_file(&tree.ss("paper"), no_ns.as_bytes());
    let e = fails_cleanly(&tree.run(&["paper", "--from", env]));
    assert!(
        e.contains("spec.template.metadata.name") && e.contains("x-emp-secrets"),
        "{e}"
    );

    // Nothing in the file contradicts the render: sealed for the rendered identity.
    write_file(
        &tree.ss("paper"),
        fixture("renamed_implicit.yaml").as_bytes(),
    );
    let out = tree.run(&["paper", "--from", env]);
    ok(&out);
    let Some(r) = render(&tree, "paper") else {
        return;
    };
    assert_eq!(
        (r.name.as_str(), r.namespace.as_deref()),
        ("x-emp-secrets", Some("emp-paper-b"))
    );
    assert_eq!(
        r.annotations
            .get("emp-seal.dev/sealed-for")
            .map(String::as_str),
        Some("strict emp-paper-b/x-emp-secrets")
    );
    assert!(stderr(&out).contains("emp-paper-b/x-emp-secrets"));
    assert_decrypts(&tree, "paper", &env_values());
}

#[test]
fn issue_4_missing_keys_fail_without_a_terminal() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", format!("REDIS_PASSWORD={SENTINEL}\n"));
    let before = std::fs::read(tree.ss("paper")).unwrap();
    for extra in [&[][..], &["--no-input"][..]] {
        let mut args = vec!["paper", "--from", env.to_str().unwrap()];
        args.extend(extra);
        let out = tree.run(&args);
        let e = fails_cleanly(&out);
        assert!(e.contains("API_KEY, POSTGRES_PASSWORD"), "{e}");
        assert!(!e.contains("REDIS_PASSWORD"), "{e}");
        no_secret(&out);
        assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());
    }
}

#[test]
fn issue_4_unknown_keys_are_warned_and_sealed() {
    let tree = Tree::new();
    let env = tree.write(
        "secrets.env",
        format!("{}EXTRA_TOKEN={SENTINEL}-extra\n", env_text()),
    );
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    ok(&out);
    no_secret(&out);
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l.starts_with("warning: paper: `EXTRA_TOKEN`")),
        "{err}"
    );
    assert!(!err.contains("`REDIS_PASSWORD` is not"), "{err}");
    let mut want = env_values();
    want.insert(
        "EXTRA_TOKEN".into(),
        format!("{SENTINEL}-extra").into_bytes(),
    );
    assert_decrypts(&tree, "paper", &want);
    // Appended after the last entry.
    let text = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    let keys: Vec<String> = values(&text).into_keys().collect();
    assert!(keys.contains(&"EXTRA_TOKEN".to_owned()));
    let pos = |k: &str| text.find(&format!("    {k}: ")).unwrap();
    assert!(pos("EXTRA_TOKEN") > pos("REDIS_PASSWORD"));
}

#[test]
fn issue_4_dry_run_lists_and_writes_nothing() {
    let tree = Tree::new();
    write_file(&tree.ss("paper"), fixture("multidoc.yaml").as_bytes());
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();
    let before = std::fs::read(tree.ss("paper")).unwrap();
    let out = tree.run(&["paper", "--from", env, "--dry-run"]);
    ok(&out);
    no_secret(&out);
    let s = stdout(&out);
    assert!(
        s.contains("would rewrite k8s/overlays/paper/sealedsecret.yaml"),
        "{s}"
    );
    assert!(s.contains("add      POSTGRES_PASSWORD"), "{s}");
    // Their old values are placeholders: sealed for the first time, not changed (issue 17).
    assert!(s.contains("seal     API_KEY, REDIS_PASSWORD"), "{s}");
    assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());
    let out = tree.run(&["paper", "--from", env, "--dry-run", "--only", "API_KEY"]);
    ok(&out);
    let s = stdout(&out);
    assert!(
        s.contains("seal     API_KEY\n") && s.contains("keep     REDIS_PASSWORD"),
        "{s}"
    );
    assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());
    assert!(
        std::fs::read_dir(tree.overlay("paper")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp"))
    );
}

#[test]
fn issue_4_stdout_prints_the_new_document_and_leaves_the_file() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    let before = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    let out = tree.run(&["paper", "--from", env.to_str().unwrap(), "--stdout"]);
    ok(&out);
    assert_eq!(before, tree.read("k8s/overlays/paper/sealedsecret.yaml"));
    let printed = stdout(&out);
    assert!(!printed.contains(SENTINEL));
    assert!(!stderr(&out).contains(SENTINEL));
    assert_only_values_changed(&before, &printed, &[], false);
    // What was printed is a working file.
    write_file(&tree.ss("paper"), printed.as_bytes());
    assert_decrypts(&tree, "paper", &env_values());
}

/// `notAfter=Nov 26 12:31:15 2036 GMT` -> `2036-11-26T12:31:15Z`.
fn openssl_enddate(cert: &std::path::Path) -> String {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-enddate", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    let f: Vec<&str> = s
        .trim()
        .trim_start_matches("notAfter=")
        .split_whitespace()
        .collect();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = months.iter().position(|m| *m == f[0]).unwrap() + 1;
    format!(
        "{}-{m:02}-{:02}T{}Z",
        f[3],
        f[1].parse::<u32>().unwrap(),
        f[2]
    )
}

#[test]
fn issue_4_summary_and_records_match_openssl_and_the_render() {
    if crate::common::which("openssl").is_none() {
        crate::common::missing("openssl");
        return;
    }
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    let cert = tree.overlay("paper").join("sealing-cert.pem");
    let fp = openssl_sha256(&cert).unwrap();
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    ok(&out);
    let Some(r) = render(&tree, "paper") else {
        return;
    };
    let identity = format!(
        "{} {}/{}",
        r.scope,
        r.namespace.clone().unwrap_or_default(),
        r.name
    );
    let err = stderr(&out);
    for want in [
        "paper: wrote k8s/overlays/paper/sealedsecret.yaml".to_owned(),
        format!("sha256 {fp}"),
        format!("expires {}", openssl_enddate(&cert)),
        format!("scope    {identity}"),
        "sealed   3 key(s)".to_owned(),
        "API_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD".to_owned(),
        "DEMO certificate".to_owned(),
    ] {
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    }
    assert_eq!(
        r.annotations.get("emp-seal.dev/cert-sha256"),
        Some(&fp),
        "record = openssl's SHA-256"
    );
    assert_eq!(
        r.annotations.get("emp-seal.dev/sealed-for"),
        Some(&identity)
    );
    // --quiet: no summary, still written.
    let out = tree.run(&["-q", "paper", "--from", env.to_str().unwrap()]);
    ok(&out);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn issue_4_several_environments_all_or_nothing() {
    let tree = Tree::new();
    tree.clone_overlay("paper", "paper2");
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();
    let out = tree.run(&["seal", "paper", "paper2", "--from", env]);
    ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains("paper: wrote") && err.contains("paper2: wrote"),
        "{err}"
    );
    assert_decrypts(&tree, "paper", &env_values());
    assert_decrypts(&tree, "paper2", &env_values());

    // --stdout prints both files as one YAML stream, each after a comment naming it.
    let out = tree.run(&["seal", "paper", "paper2", "--from", env, "--stdout"]);
    ok(&out);
    let printed = stdout(&out);
    assert!(
        printed.starts_with("---\n# k8s/overlays/paper/sealedsecret.yaml\n")
            && printed.contains("---\n# k8s/overlays/paper2/sealedsecret.yaml\n"),
        "{printed}"
    );
    let kinds: Vec<String> = yaml_serde::Deserializer::from_str(&printed)
        .filter_map(|d| <yaml_serde::Value as serde::Deserialize>::deserialize(d).ok())
        .filter_map(|v| Some(v.get("kind")?.as_str()?.to_owned()))
        .collect();
    assert_eq!(kinds, ["SealedSecret", "SealedSecret"], "{printed}");

    // The second environment fails at planning (expired certificate): the first is untouched.
    let Some(expired) = make_cert(&[
        "--key",
        "rsa:2048",
        "--not-before-days",
        "-400",
        "--not-after-days",
        "-1",
    ]) else {
        return;
    };
    write_file(
        &tree.overlay("paper2").join("sealing-cert.pem"),
        expired.as_bytes(),
    );
    let p1 = std::fs::read(tree.ss("paper")).unwrap();
    let p2 = std::fs::read(tree.ss("paper2")).unwrap();
    let out = tree.run(&["seal", "paper", "paper2", "--from", env]);
    let e = fails_cleanly(&out);
    assert!(e.contains("k8s/overlays/paper2/sealing-cert.pem"), "{e}");
    assert!(e.contains("expired"), "{e}");
    assert_eq!(p1, std::fs::read(tree.ss("paper")).unwrap());
    assert_eq!(p2, std::fs::read(tree.ss("paper2")).unwrap());

    // --cert names one certificate: refused with two environments.
    let e = fails_cleanly(
        &tree.run(&[
            "seal",
            "paper",
            "paper2",
            "--from",
            env,
            "--cert",
            tree.overlay("paper")
                .join("sealing-cert.pem")
                .to_str()
                .unwrap(),
        ]),
    );
    assert!(e.contains("--cert"), "{e}");
}

/// The second environment fails while *writing* (its directory is immutable): the first,
/// already renamed into place, is restored byte for byte.
#[test]
fn issue_4_several_environments_roll_back_a_written_file() {
    let tree = Tree::new();
    tree.clone_overlay("paper", "paper2");
    let env = tree.write("secrets.env", env_text());
    let p1 = std::fs::read(tree.ss("paper")).unwrap();
    let p2 = std::fs::read(tree.ss("paper2")).unwrap();
    let Some(guard) = crate::seal_faults::ReadOnlyDir::new(&tree.overlay("paper2")) else {
        return;
    };
    let out = tree.run(&["seal", "paper", "paper2", "--from", env.to_str().unwrap()]);
    drop(guard);
    let e = fails_cleanly(&out);
    assert!(e.contains("paper2"), "{e}");
    assert_eq!(p1, std::fs::read(tree.ss("paper")).unwrap(), "rolled back");
    assert_eq!(p2, std::fs::read(tree.ss("paper2")).unwrap());
}

#[test]
fn issue_4_only_prune_and_no_churn() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    let envs = env.to_str().unwrap();
    ok(&tree.run(&["paper", "--from", envs]));
    let first = values(&tree.read("k8s/overlays/paper/sealedsecret.yaml"));

    // --only: one value changes, the others keep their bytes.
    let before = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    ok(&tree.run(&["paper", "--from", envs, "--only", "REDIS_PASSWORD"]));
    let after = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    assert_only_values_changed(&before, &after, &[], false);
    let v = values(&after);
    assert_ne!(v["REDIS_PASSWORD"], first["REDIS_PASSWORD"]);
    assert_eq!(v["API_KEY"], first["API_KEY"]);
    assert_eq!(v["POSTGRES_PASSWORD"], first["POSTGRES_PASSWORD"]);
    let e = fails_cleanly(&tree.run(&["paper", "--from", envs, "--only", "NOPE"]));
    assert!(e.contains("`NOPE`") && e.contains("secrets.env"), "{e}");

    // No churn: with the private key, unchanged values keep their ciphertext byte for byte.
    let key = crate::common::repo_root().join("tests/fixtures/demo/paper-sealing-key.pem");
    let mut changed = env_values();
    changed.insert(
        "REDIS_PASSWORD".into(),
        format!("{SENTINEL}-rotated").into_bytes(),
    );
    let text: String = changed
        .iter()
        .map(|(k, v)| format!("{k}={}\n", String::from_utf8_lossy(v)))
        .collect();
    write_file(&env, text.as_bytes());
    let before = values(&tree.read("k8s/overlays/paper/sealedsecret.yaml"));
    let out = tree.run(&["paper", "--from", envs, "--key", key.to_str().unwrap()]);
    ok(&out);
    no_secret(&out);
    let after = values(&tree.read("k8s/overlays/paper/sealedsecret.yaml"));
    assert_eq!(after["API_KEY"], before["API_KEY"]);
    assert_eq!(after["POSTGRES_PASSWORD"], before["POSTGRES_PASSWORD"]);
    assert_ne!(after["REDIS_PASSWORD"], before["REDIS_PASSWORD"]);
    assert!(
        stderr(&out).contains("kept     API_KEY, POSTGRES_PASSWORD"),
        "{}",
        stderr(&out)
    );
    assert_decrypts(&tree, "paper", &changed);

    // --prune: keys the env file no longer has go; only their lines.
    write_file(
        &env,
        format!("REDIS_PASSWORD={SENTINEL}-rotated\n").as_bytes(),
    );
    let before = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    let out = tree.run(&["paper", "--from", envs, "--prune"]);
    ok(&out);
    let after = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    assert_eq!(
        values(&after).into_keys().collect::<Vec<_>>(),
        ["REDIS_PASSWORD"]
    );
    let kept: String = before
        .lines()
        .filter(|l| !l.contains("API_KEY:") && !l.contains("POSTGRES_PASSWORD:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_only_values_changed(&kept, &after, &[], false);
    assert!(stderr(&out).contains("removed  API_KEY, POSTGRES_PASSWORD"));
    let want: BTreeMap<String, Vec<u8>> = [(
        "REDIS_PASSWORD".to_owned(),
        format!("{SENTINEL}-rotated").into_bytes(),
    )]
    .into();
    assert_decrypts(&tree, "paper", &want);

    // --prune that would empty the secret: refused without --force.
    write_file(&env, b"# nothing left\n");
    let before = std::fs::read(tree.ss("paper")).unwrap();
    let e = fails_cleanly(&tree.run(&["paper", "--from", envs, "--prune"]));
    assert!(
        e.contains("--prune would remove every key (REDIS_PASSWORD)"),
        "{e}"
    );
    assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());
    ok(&tree.run(&["paper", "--from", envs, "--prune", "--force"]));
    let after = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    assert!(after.contains("encryptedData: {}"), "{after}");
    assert!(values(&after).is_empty());
}

/// Issue 15: the `emp-seal ENV --from FILE` shorthand is clap's own (no argv rewriting), so a
/// mistyped command gets clap's suggestion in the one-line `error:` + `help:` form, exit 2;
/// the options' environment variables alone never turn another command into `seal`, and the
/// shorthand reads them like `seal` does.
#[test]
fn issue_15_mistyped_command_is_suggested_and_shorthand_is_clap() {
    let tree = Tree::new();
    let before = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    let out = tree.run(&["chek"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "error: unrecognized subcommand 'chek'",
            "help: a similar subcommand exists: 'check'; if 'chek' is an environment, use 'emp-seal seal chek'"
        ],
        "{err}"
    );
    // The same word after `seal` is an environment (and there is no such overlay).
    let env = tree.write("secrets.env", env_text());
    let env = env.to_str().unwrap();
    let out = tree.run(&["seal", "chek", "--from", env]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !stderr(&out).contains("similar subcommand"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), before);

    // A seal option's environment variable does not make `check` a seal run.
    let mut c = emp_seal_cmd();
    c.arg("-C").arg(tree.root()).arg("check");
    c.env("EMP_SEAL_NO_INPUT", "1")
        .env("SEALED_SECRETS_CERT", "nowhere.pem");
    let out = c.output().unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stderr(&out).contains("--from"), "{}", stderr(&out));

    // The shorthand reads EMP_SEAL_FROM as `seal` does, and writes the same file.
    let mut c = emp_seal_cmd();
    c.arg("-C").arg(tree.root()).args(["paper", "--dry-run"]);
    c.env("EMP_SEAL_FROM", env);
    let short = c.output().unwrap();
    ok(&short);
    let long = tree.run(&["seal", "paper", "--dry-run", "--from", env]);
    ok(&long);
    let listing = |o: &std::process::Output| format!("{}{}", stdout(o), stderr(o));
    assert_eq!(listing(&short), listing(&long));
    assert!(
        listing(&short).contains("POSTGRES_PASSWORD"),
        "{}",
        listing(&short)
    );
}
