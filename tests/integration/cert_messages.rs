//! Issue 17 item 4, the certificate messages a newcomer reads, through the real binary on files
//! in a temp tree: what `cert --fetch` prints after a replace, URL mistakes, expired
//! certificates, and certificates whose key cannot seal.

use crate::fixtures;
use crate::lifecycle::{VALUES, env_text, read, run, s, tree, write};
use crate::seal_support::openssl_sha256;

/// The first `error:` line and the `help:` line of a failed run.
fn error_and_help(stderr: &str) -> (String, String) {
    let line = |p: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with(p))
            .unwrap_or_default()
            .to_owned()
    };
    (line("error: "), line("help: "))
}

#[test]
fn issue_17_cert_fetch_prints_the_new_fingerprint() {
    let t = tree();
    let root = t.path();
    let target = root.join("k8s/overlays/paper/sealing-cert.pem");
    let Some(old) = openssl_sha256(&target) else {
        return;
    };
    let src = root.join("work/new.pem");
    write(&src, &fixtures::cert_pem(3072));
    let Some(new) = openssl_sha256(&src) else {
        return;
    };
    assert_ne!(old, new);
    let o = run(
        root,
        &["cert", "paper", "--fetch", &format!("file://{}", s(&src))],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(
        lines[0], "k8s/overlays/paper/sealing-cert.pem: replaced",
        "{}",
        o.stderr
    );
    // The fingerprint shown as the certificate's is the new one; the old one is labelled.
    assert!(
        lines.contains(&format!("  sha256   {new}").as_str()),
        "{}",
        o.stderr
    );
    assert!(
        lines.contains(&format!("  was      sha256 {old}").as_str()),
        "{}",
        o.stderr
    );
    // The note names the rotation command (it said "re-seal").
    assert!(
        lines.contains(&"note: values sealed with the old certificate still decrypt while the controller keeps its old key; `emp-seal reseal paper --key OLD_KEY.pem` re-encrypts them with the new one"),
        "{}",
        o.stderr
    );
    assert_eq!(read(&target), fixtures::cert_pem(3072));
    // Fetching the same certificate again changes nothing and says so, without a `was` line.
    let o = run(
        root,
        &["cert", "paper", "--fetch", &format!("file://{}", s(&src))],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("unchanged (same certificate)"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(&format!("  sha256   {new}")),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("was"), "{}", o.stderr);
}

#[test]
fn issue_17_url_mistakes_are_named_as_url_mistakes() {
    let t = tree();
    let root = t.path();
    let target = root.join("k8s/overlays/paper/sealing-cert.pem");
    let original = read(&target);
    for (url, needle) in [
        ("file://work/new.pem", "a file URL needs an absolute path"),
        (
            "ftp://example.invalid/cert.pem",
            "unsupported URL scheme `ftp`",
        ),
        (
            "gopher://example.invalid/",
            "unsupported URL scheme `gopher`",
        ),
        ("127.0.0.1:8080/v1/cert.pem", "not a URL"),
    ] {
        let o = run(root, &["cert", "paper", "--fetch", url]);
        assert_eq!(o.code, 2, "{url}: {}", o.stderr);
        let (error, help) = error_and_help(&o.stderr);
        assert!(
            error.starts_with(&format!("error: {url}: ")) && error.contains(needle),
            "{url}: {}",
            o.stderr
        );
        assert!(
            help.contains("file:///absolute/path"),
            "{url}: {}",
            o.stderr
        );
        assert!(!o.stderr.contains("port-forward"), "{url}: {}", o.stderr);
        assert_eq!(read(&target), original);
    }
    // An unreachable controller still gets the port-forward hint.
    let o = run(
        root,
        &["cert", "paper", "--fetch", "http://127.0.0.1:1/v1/cert.pem"],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("port-forward"), "{}", o.stderr);
}

#[test]
fn issue_17_expired_certificates_are_described_as_expired() {
    let t = tree();
    let root = t.path();
    let Some((expired, _)) = fixtures::make_cert(2048, -30, -2) else {
        return;
    };
    let p = root.join("work/expired.pem");
    write(&p, &expired);
    // Shown: the report says EXPIRED, exit 1.
    let o = run(root, &["cert", s(&p)]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    // Two days, or three when the seconds since the certificate was made round it down.
    assert!(
        o.stdout.contains("EXPIRED 2 days ago") || o.stdout.contains("EXPIRED 3 days ago"),
        "{}",
        o.stdout
    );
    // Fetched: refused as expired, nothing about encrypting.
    let o = run(
        root,
        &["cert", "paper", "--fetch", &format!("file://{}", s(&p))],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    let (error, _) = error_and_help(&o.stderr);
    assert!(
        error.contains("the certificate expired on "),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("encrypt"), "{}", o.stderr);
}

#[test]
fn issue_17_unusable_certificates_still_show_subject_and_expiry() {
    let t = tree();
    let root = t.path();
    for (spec, why) in [
        ("ec", "expected RSA public key but found an EC (ECDSA) key"),
        (
            "rsa:1024",
            "the certificate's RSA key has 1024 bits; at least 2048 are required",
        ),
    ] {
        let Some((pem, _)) = fixtures::make_cert_with(spec, -1, 365) else {
            return;
        };
        let p = root.join(format!("work/{}.pem", spec.replace(':', "-")));
        write(&p, &pem);
        let Some(subject) = fixtures::openssl(
            &["x509", "-noout", "-subject", "-nameopt", "RFC2253"],
            pem.as_bytes(),
        ) else {
            return;
        };
        let subject = String::from_utf8_lossy(&subject)
            .trim()
            .trim_start_matches("subject=")
            .to_owned();
        let not_after = fixtures::openssl(&["x509", "-noout", "-enddate"], pem.as_bytes())
            .expect("openssl ran above");
        let o = run(root, &["cert", s(&p)]);
        assert_eq!(o.code, 2, "{spec}: {}", o.stderr);
        let (error, help) = error_and_help(&o.stderr);
        assert!(
            error.contains(&format!("the certificate `{subject}` (expires ")),
            "{spec}: {error} (openssl: {subject})"
        );
        assert!(
            error.ends_with(&format!("cannot be used for sealing: {why}")),
            "{spec}: {error}"
        );
        assert!(help.contains("RSA-4096"), "{spec}: {}", o.stderr);
        // The expiry shown is the certificate's NotAfter (openssl prints it as `notAfter=...`).
        let year = String::from_utf8_lossy(&not_after)
            .split_whitespace()
            .find(|w| w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()))
            .expect("a year")
            .to_owned();
        assert!(
            error.contains(&format!("(expires {year}-")),
            "{spec}: {error}"
        );
    }
}

/// A download holding a private key next to the certificate (a controller's `tls.key` bundled
/// with its `tls.crt`, a server misconfigured to serve its key) is refused: the certificate file
/// is committed, and `--fetch` wrote the download byte for byte. Nothing is written, and no
/// piece of the key is printed.
#[test]
fn cert_fetch_refuses_a_download_holding_a_private_key() {
    let t = tree();
    let root = t.path();
    let target = root.join("k8s/overlays/paper/sealing-cert.pem");
    let before = read(&target);
    let key = fixtures::key_pem(2048);
    let cert = fixtures::cert_pem(2048);
    // A base64 line of the key body, to look for in the output.
    let key_line = key
        .lines()
        .find(|l| !l.starts_with("-----") && l.len() > 40)
        .expect("a key body line")
        .to_owned();
    for (name, body) in [
        ("key-then-cert.pem", format!("{key}{cert}")),
        ("cert-then-key.pem", format!("{cert}{key}")),
        (
            "cert-then-rsa-key.pem",
            format!("{cert}{}", fixtures::pkcs1_key_pem()),
        ),
    ] {
        let src = root.join("work").join(name);
        write(&src, &body);
        let o = run(
            root,
            &["cert", "paper", "--fetch", &format!("file://{}", s(&src))],
        );
        assert_eq!(o.code, 2, "{name}: {}", o.stderr);
        let (error, _) = error_and_help(&o.stderr);
        assert_eq!(
            o.stderr.lines().next(),
            Some(error.as_str()),
            "{name}: {}",
            o.stderr
        );
        assert!(
            error.contains(name)
                && error.contains("private key")
                && error.contains("nothing was saved"),
            "{name}: {error}"
        );
        assert!(
            !o.stderr.contains(&key_line) && !o.stdout.contains(&key_line),
            "{name}: key material printed"
        );
        assert_eq!(
            read(&target),
            before,
            "{name}: the certificate file changed"
        );
    }
}

/// `cert` without a target inspected every environment's certificate that is there and said
/// nothing of those that are not (the shipped tree's dev and prod), so its output read as if it
/// had looked at every environment; with none there at all it said "no overlay has a
/// sealing-cert.pem" even where emp-seal.toml configures other paths. Now each environment it
/// could not inspect is named with the path it looked at.
#[test]
fn cert_without_a_target_names_each_environment_whose_certificate_is_not_there() {
    let t = tree();
    let root = t.path();
    let o = run(root, &["cert"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for env in ["dev", "prod"] {
        let note = format!(
            "note: {env}: no sealing certificate at k8s/overlays/{env}/sealing-cert.pem, not inspected"
        );
        assert!(o.stderr.lines().any(|l| l == note), "{env}: {}", o.stderr);
    }
    assert!(!o.stderr.contains("paper: no sealing"), "{}", o.stderr);

    // No certificate there at all: every path looked at is named, the configured one too.
    std::fs::remove_file(root.join("k8s/overlays/paper/sealing-cert.pem")).unwrap();
    write(
        &root.join("emp-seal.toml"),
        "[environment.paper]\ncertificate = \"certs/paper.pem\"\n",
    );
    let o = run(root, &["cert"]);
    let (error, help) = error_and_help(&o.stderr);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        error.contains("no environment's sealing certificate is there"),
        "{error}"
    );
    for path in [
        "certs/paper.pem",
        "k8s/overlays/dev/sealing-cert.pem",
        "k8s/overlays/prod/sealing-cert.pem",
    ] {
        assert!(error.contains(path), "{path}: {error}");
    }
    assert!(help.contains("--fetch"), "{help}");
}

/// `cert` without a target compares every environment's SealedSecrets with each certificate
/// that is there: paper's, sealed with paper's demo certificate, is `this` for it and `other`
/// for prod's certificate, and each certificate is used by its own environment.
#[test]
fn cert_without_a_target_compares_every_environment_with_each_certificate() {
    let t = tree();
    let root = t.path();
    let from = root.join("work/in.env");
    write(&from, &env_text(&VALUES));
    let o = run(root, &["paper", "--from", s(&from), "--no-input"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    write(
        &root.join("k8s/overlays/prod/sealing-cert.pem"),
        &fixtures::cert_pem(2048),
    );
    let o = run(root, &["cert", "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let certs = v["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2, "{}", o.stdout);
    for (env, state) in [("paper", "this"), ("prod", "other")] {
        let cert = (certs.iter())
            .find(|c| c["used_by"] == serde_json::json!([env]))
            .unwrap_or_else(|| panic!("{env}: {}", o.stdout));
        let states: Vec<(&str, &str)> = (cert["sealed"].as_array().unwrap().iter())
            .map(|s| (s["env"].as_str().unwrap(), s["state"].as_str().unwrap()))
            .collect();
        assert_eq!(states, [("paper", state)], "{env}: {}", o.stdout);
    }
}

/// A certificate file holding two certificates (the old one, then the current one after a
/// rotation done with `kubeseal --fetch-cert >> cert.pem`) was read as kubeseal reads it, by
/// its first block: `seal` sealed to the old key in silence (perhaps the compromised key the
/// rotation retired), and `check` and `cert` passed it. Every command now refuses the file
/// with one line naming it and both blocks' lines (exit 2), and changes nothing.
#[test]
fn a_certificate_file_holding_two_certificates_is_refused() {
    let t = tree();
    let root = t.path();
    let cert = root.join("k8s/overlays/paper/sealing-cert.pem");
    let two = format!("{}{}", read(&cert), fixtures::cert_pem(3072));
    let second_line = read(&cert).lines().count() + 1;
    write(&cert, &two);
    write(&root.join("work/two.pem"), &two);
    write(&root.join("work/good.env"), &env_text(&VALUES));
    let sealed = read(&root.join("k8s/overlays/paper/sealedsecret.yaml"));
    let fetch = format!("file://{}", s(&root.join("work/two.pem")));
    let env = s(&root.join("work/good.env")).to_owned();
    for (args, file) in [
        (
            vec!["paper", "--from", &env],
            "k8s/overlays/paper/sealing-cert.pem",
        ),
        (
            vec!["paper", "--from", &env, "--cert", "work/two.pem"],
            "work/two.pem",
        ),
        (vec!["check"], "k8s/overlays/paper/sealing-cert.pem"),
        (
            vec!["check", "--release", "paper"],
            "k8s/overlays/paper/sealing-cert.pem",
        ),
        (vec!["cert", "paper"], "k8s/overlays/paper/sealing-cert.pem"),
        (vec!["cert", "dev", "--fetch", &fetch], "work/two.pem"),
    ] {
        let o = run(root, &args);
        assert_eq!(o.code, 2, "{args:?}: {}{}", o.stdout, o.stderr);
        let (error, _) = error_and_help(&o.stderr);
        assert_eq!(o.stderr.lines().next(), Some(error.as_str()), "{args:?}");
        let blocks = format!("holds 2 CERTIFICATE blocks (lines 1, {second_line})");
        assert!(
            error.contains(file) && error.contains(&blocks),
            "{args:?}: {error}"
        );
        assert!(!o.stderr.contains("panicked"), "{args:?}: {}", o.stderr);
    }
    assert_eq!(read(&cert), two);
    assert_eq!(
        read(&root.join("k8s/overlays/paper/sealedsecret.yaml")),
        sealed
    );
    assert!(!root.join("k8s/overlays/dev/sealing-cert.pem").exists());
}
