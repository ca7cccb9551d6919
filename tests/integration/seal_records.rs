//! The `emp-seal.dev/cert-sha256` and `emp-seal.dev/sealed-for` records stay true for every value
//! when a run leaves some values as they are (`seal --only`, `reseal --skip-unopened`): a run
//! that would record this run's certificate and identity over values it cannot vouch for is
//! refused (nothing written), unless `--key` shows the kept values open under the current
//! certificate for the rendered identity. What a value opens under is proved by the Python peer,
//! on what the real `kubectl kustomize` renders.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use crate::common::{self, Peer};
use crate::seal_support::*;

fn cert_a() -> String {
    std::fs::read_to_string(common::repo_root().join("tests/fixtures/demo/paper-sealing-cert.pem"))
        .unwrap()
}

/// The paper overlay's SealedSecret label (strict `emp-paper/emp-secrets`).
const PAPER_LABEL: &[u8] = b"emp-paper/emp-secrets";

/// A tree whose paper SealedSecret emp-seal sealed with certificate A (records for A), and an
/// env file outside it.
fn sealed_with_a() -> (Tree, tempfile::TempDir, PathBuf) {
    let tree = Tree::new();
    let outside = tempfile::tempdir().unwrap();
    let env = outside.path().join("secrets.env");
    write_file(&env, env_text().as_bytes());
    ok(&tree.run(&["seal", "paper", "--from", env.to_str().unwrap()]));
    (tree, outside, env)
}

/// A one-key env file next to `env` that gives `API_KEY` a new value.
fn api_only(env: &std::path::Path) -> PathBuf {
    let p = env.with_file_name("api.env");
    write_file(&p, format!("API_KEY={SENTINEL}-api-2\n").as_bytes());
    p
}

fn record(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find(|l| l.contains(name))
        .map(|l| l.trim().to_owned())
}

/// The prober's repro: after the certificate changed, `--only` used to record the new
/// certificate over the kept values, still sealed with the old one, and `check --release` then
/// passed. Now the run is refused, naming the kept keys and both fingerprints, nothing is
/// written, and `check --release` keeps failing. A's key does not help: A is not the current
/// certificate.
#[test]
fn only_refuses_to_record_a_new_certificate_over_kept_values() {
    let (tree, _outside, env) = sealed_with_a();
    std::fs::copy(cert_b(), tree.overlay("paper").join("sealing-cert.pem")).unwrap();
    let before = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    let check = stale_certificate_check(&tree);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));

    let api = api_only(&env);
    let api = api.to_str().unwrap();
    let ka = key_a();
    for extra in [&[][..], &["--key", ka.to_str().unwrap()][..]] {
        let mut args = vec!["seal", "paper", "--from", api, "--only", "API_KEY"];
        args.extend_from_slice(extra);
        let out = tree.run(&args);
        no_secret(&out);
        let line = fails_cleanly(&out);
        assert!(
            line.contains("k8s/overlays/paper/sealedsecret.yaml")
                && line.contains("POSTGRES_PASSWORD, REDIS_PASSWORD")
                && line.contains("emp-seal.dev/cert-sha256")
                && !line.contains("API_KEY"),
            "{line}"
        );
        // Both fingerprints in the one short form every message uses: 12 hex digits and `...`.
        let demo = common::repo_root().join("tests/fixtures/demo/paper-sealing-cert.pem");
        for (cert, followed_by) in [(demo, " ("), (cert_b(), ";")] {
            let sha = openssl_sha256(&cert).expect("openssl");
            let short = format!("sha256 {}...{followed_by}", &sha[..12]);
            assert!(
                line.contains(&short) && !line.contains(&sha[..13]),
                "{short}: {line}"
            );
        }
        let help = stderr(&out);
        assert!(
            help.contains("help: ") && help.contains("emp-seal reseal paper --key"),
            "{help}"
        );
        assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), before);
    }
    let check = stale_certificate_check(&tree);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));

    // Resealing first (A's key opens the old values) makes the records true; `--only` then works
    // and every value opens with B's key under the rendered label.
    ok(&tree.run(&["reseal", "paper", "--key", ka.to_str().unwrap()]));
    ok(&tree.run(&["seal", "paper", "--from", api, "--only", "API_KEY"]));
    let check = stale_certificate_check(&tree);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    let Some(r) = render(&tree, "paper") else {
        return;
    };
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let b = std::fs::read_to_string(key_b()).unwrap();
    let mut want = env_values();
    want.insert("API_KEY".into(), format!("{SENTINEL}-api-2").into_bytes());
    for (k, v) in &want {
        let got = peer.decrypt(&b, &r.label(), &common::unb64(&r.encrypted[k]));
        assert_eq!(got.as_ref().ok(), Some(v), "{k} under B");
    }
}

/// Seals the paper SealedSecret's `POSTGRES_PASSWORD` and `REDIS_PASSWORD` with certificate A
/// for `label` (`value(key)` as plaintext) in place of their placeholders, with no records, as
/// kubeseal writes them; returns the file's text.
fn kubeseal_wrote(tree: &Tree, peer: &mut Peer, label: &[u8], value: fn(&str) -> &[u8]) -> String {
    let a = cert_a();
    let mut text = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    for k in ["POSTGRES_PASSWORD", "REDIS_PASSWORD"] {
        let ct = common::b64(&peer.encrypt(&a, label, value(k)));
        text = text.replace(
            &format!("{k}: AgAAAAAAAAAA...REPLACE_ME"),
            &format!("{k}: {ct}"),
        );
    }
    write_file(&tree.ss("paper"), text.as_bytes());
    text
}

/// `check --release paper --rules stale-certificate`.
fn stale_certificate_check(tree: &Tree) -> std::process::Output {
    tree.run(&[
        "check",
        "--release",
        "paper",
        "--rules",
        "stale-certificate",
    ])
}

/// A file kubeseal wrote (no records), its values sealed for another namespace than the overlay
/// now renders: `--only` used to record `sealed-for` the rendered identity over values that do
/// not open under it. Refused, naming the missing records; `--key` does not help, since the kept
/// values do not open under the rendered label.
#[test]
fn only_refuses_unknown_identity_of_kept_values() {
    let tree = Tree::new();
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let text = kubeseal_wrote(&tree, &mut peer, b"old-ns/emp-secrets", |_| b"old");
    let outside = tempfile::tempdir().unwrap();
    let api = api_only(&outside.path().join("x.env"));
    let ka = key_a();
    for extra in [&[][..], &["--key", ka.to_str().unwrap()][..]] {
        let mut args = vec!["seal", "paper", "--from", api.to_str().unwrap()];
        args.extend_from_slice(&["--only", "API_KEY"]);
        args.extend_from_slice(extra);
        let out = tree.run(&args);
        let line = fails_cleanly(&out);
        assert!(
            line.contains("POSTGRES_PASSWORD, REDIS_PASSWORD")
                && line.contains("no `emp-seal.dev/sealed-for`"),
            "{line}"
        );
        assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), text);
    }
}

/// A file kubeseal wrote (no records) whose values are sealed with the current certificate for
/// the rendered identity: without `--key` emp-seal cannot know that and refuses; with the current
/// certificate's key it checks the kept values, and the records it writes hold for every value.
#[test]
fn only_with_the_current_key_checks_kept_values_and_records() {
    let tree = Tree::new();
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let text = kubeseal_wrote(&tree, &mut peer, PAPER_LABEL, str::as_bytes);
    let outside = tempfile::tempdir().unwrap();
    let api = api_only(&outside.path().join("x.env"));
    let api = api.to_str().unwrap();

    let line = fails_cleanly(&tree.run(&["seal", "paper", "--from", api, "--only", "API_KEY"]));
    assert!(
        line.contains("no `emp-seal.dev/cert-sha256`")
            && line.contains("no `emp-seal.dev/sealed-for`"),
        "{line}"
    );
    assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), text);

    let ka = key_a();
    let ka = ka.to_str().unwrap();
    ok(&tree.run(&[
        "seal", "paper", "--from", api, "--only", "API_KEY", "--key", ka,
    ]));
    let after = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    assert_eq!(
        record(&after, "emp-seal.dev/sealed-for").as_deref(),
        Some("emp-seal.dev/sealed-for: strict emp-paper/emp-secrets")
    );
    assert!(record(&after, "emp-seal.dev/cert-sha256").is_some());
    // (The demo certificate's own findings stay: `--release` reports them whatever `--rules`.)
    let check = stale_certificate_check(&tree);
    assert!(
        !stdout(&check).contains("stale-certificate"),
        "{}",
        stdout(&check)
    );
    let Some(r) = render(&tree, "paper") else {
        return;
    };
    let key = demo_key();
    for (k, want) in [
        ("API_KEY", format!("{SENTINEL}-api-2")),
        ("POSTGRES_PASSWORD", "POSTGRES_PASSWORD".to_owned()),
        ("REDIS_PASSWORD", "REDIS_PASSWORD".to_owned()),
    ] {
        let got = peer.decrypt(&key, &r.label(), &common::unb64(&r.encrypted[k]));
        assert_eq!(got.as_deref().ok(), Some(want.as_bytes()), "{k}");
    }
}

/// `reseal --skip-unopened` keeps the file's records as they were: the old certificate's (so
/// `check` keeps reporting the file) and no `sealed-for` where the file had none (the skipped
/// value's identity is unknown; it used to be recorded as the rendered one).
#[test]
fn reseal_skip_unopened_keeps_every_record_as_it_was() {
    let (tree, _outside, _env) = sealed_with_a();
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let sealed = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    let old_cert = record(&sealed, "emp-seal.dev/cert-sha256").unwrap();
    // No identity record, and API_KEY sealed for another identity with A: no key opens it under
    // the rendered label.
    let foreign = common::b64(&peer.encrypt(&cert_a(), b"elsewhere/emp-secrets", b"x"));
    let mixed: String = sealed
        .split_inclusive('\n')
        .filter(|l| !l.contains("emp-seal.dev/sealed-for"))
        .collect::<String>()
        .replace(&values(&sealed)["API_KEY"], &foreign);
    write_file(&tree.ss("paper"), mixed.as_bytes());
    std::fs::copy(cert_b(), tree.overlay("paper").join("sealing-cert.pem")).unwrap();

    let ka = key_a();
    let out = tree.run(&[
        "reseal",
        "paper",
        "--key",
        ka.to_str().unwrap(),
        "--skip-unopened",
    ]);
    ok(&out);
    let after = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    assert_eq!(record(&after, "emp-seal.dev/sealed-for"), None, "{after}");
    assert!(
        stderr(&out).contains("the file keeps its old emp-seal.dev/* records"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        record(&after, "emp-seal.dev/cert-sha256").as_deref(),
        Some(old_cert.as_str())
    );
    assert_eq!(values(&after)["API_KEY"], foreign);
    let b = std::fs::read_to_string(key_b()).unwrap();
    for k in ["POSTGRES_PASSWORD", "REDIS_PASSWORD"] {
        let got = peer.decrypt(&b, PAPER_LABEL, &common::unb64(&values(&after)[k]));
        assert_eq!(got.as_ref().ok(), Some(&env_values()[k]), "{k} under B");
    }
}

/// `seal` and `check` read a `sealed-for` record through one parser, so they agree on it. A
/// record with two spaces after the scope names the rendered identity for both: `check` used to
/// accept it while `seal --only` read the namespace as ` emp-paper` and refused the run as if the
/// overlay had moved the SealedSecret. A record with whitespace inside the identity is malformed
/// for both: `check` reports it and `seal --only` refuses to keep values it cannot vouch for.
#[test]
fn seal_and_check_read_a_sealed_for_record_alike() {
    let (tree, _outside, env) = sealed_with_a();
    let sealed = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    let written = "sealed-for: strict emp-paper/emp-secrets";
    assert!(sealed.contains(written), "{sealed}");
    let api = api_only(&env);
    let api = api.to_str().unwrap();
    let check = |tree: &Tree| tree.run(&["check", "--rules", "identity-mismatch"]);

    let bad = sealed.replace(written, "sealed-for: strict emp-paper/ emp-secrets");
    write_file(&tree.ss("paper"), bad.as_bytes());
    let out = check(&tree);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("is not `<scope> <namespace>/<name>`"),
        "{}",
        stdout(&out)
    );
    let line = fails_cleanly(&tree.run(&["seal", "paper", "--from", api, "--only", "API_KEY"]));
    assert!(
        line.contains("`emp-seal.dev/sealed-for` is not `<scope> <namespace>/<name>`"),
        "{line}"
    );
    assert_eq!(tree.read("k8s/overlays/paper/sealedsecret.yaml"), bad);

    let spaced = sealed.replace(written, "sealed-for: strict  emp-paper/emp-secrets");
    write_file(&tree.ss("paper"), spaced.as_bytes());
    let out = check(&tree);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let out = tree.run(&["seal", "paper", "--from", api, "--only", "API_KEY"]);
    no_secret(&out);
    ok(&out);
    let after = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    assert_eq!(
        record(&after, "emp-seal.dev/sealed-for").as_deref(),
        Some("emp-seal.dev/sealed-for: strict emp-paper/emp-secrets")
    );
    assert_ne!(values(&after)["API_KEY"], values(&sealed)["API_KEY"]);
    assert_eq!(
        values(&after)["POSTGRES_PASSWORD"],
        values(&sealed)["POSTGRES_PASSWORD"]
    );
}
