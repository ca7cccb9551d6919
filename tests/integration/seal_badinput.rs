//! Issue 4, bad input to the main job, table-driven through the real binary: malformed env
//! files, SealedSecret YAML, certificates and flags. Every case must exit 2 with a one-line
//! `error:` (plus an optional `help:`) naming the file (and line where there is one), never
//! panic, leave the target's bytes unchanged, and never print a secret value (every env file
//! here carries the sentinel).
#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::seal_support::*;

type Setup = Box<dyn Fn(&Tree) -> Vec<String>>;

struct Case {
    name: &'static str,
    /// Prepares the tree and returns the arguments (after `-C ROOT`).
    setup: Setup,
    /// Substrings the `error:` line must contain.
    expect: &'static [&'static str],
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// `paper --from <tree>/secrets.env` with `env` as the file's bytes, plus `extra` arguments.
fn env_case(
    name: &'static str,
    env: impl Fn() -> Vec<u8> + 'static,
    extra: &'static [&'static str],
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        setup: Box::new(move |t: &Tree| {
            let p = t.write("secrets.env", env());
            let mut a = vec!["paper".to_owned(), "--from".to_owned(), s(&p)];
            a.extend(extra.iter().map(|x| (*x).to_owned()));
            a
        }),
        expect,
    }
}

/// The paper SealedSecret replaced by `yaml`, sealed with the good env file.
fn yaml_case(name: &'static str, yaml: String, expect: &'static [&'static str]) -> Case {
    Case {
        name,
        setup: Box::new(move |t: &Tree| {
            write_file(&t.ss("paper"), yaml.as_bytes());
            let p = t.write("secrets.env", env_text());
            vec!["paper".into(), "--from".into(), s(&p)]
        }),
        expect,
    }
}

/// The paper certificate replaced by `pem` (None: deleted).
fn cert_case(
    name: &'static str,
    pem: impl Fn() -> Option<String> + 'static,
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        setup: Box::new(move |t: &Tree| {
            let c = t.overlay("paper").join("sealing-cert.pem");
            match pem() {
                Some(p) => write_file(&c, p.as_bytes()),
                None => std::fs::remove_file(&c).unwrap(),
            }
            let p = t.write("secrets.env", env_text());
            vec!["paper".into(), "--from".into(), s(&p)]
        }),
        expect,
    }
}

/// Good arguments plus `extra` (flag cases).
fn flag_case(
    name: &'static str,
    args: impl Fn(&Tree, String) -> Vec<String> + 'static,
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        setup: Box::new(move |t: &Tree| {
            let p = t.write("secrets.env", env_text());
            args(t, s(&p))
        }),
        expect,
    }
}

fn good_env_with(line: &str) -> Vec<u8> {
    format!("{}{line}", env_text()).into_bytes()
}

fn paper_yaml() -> String {
    std::fs::read_to_string(crate::common::repo_root().join("k8s/overlays/paper/sealedsecret.yaml"))
        .unwrap()
}

/// A certificate made by `make_cert.py` (None when the peer venv is missing: the case is skipped).
fn made(args: &'static [&'static str]) -> impl Fn() -> Option<String> {
    move || make_cert(args).or_else(|| Some(String::new()))
}

fn v(a: &[&str]) -> Vec<String> {
    a.iter().map(|x| (*x).to_owned()).collect()
}

fn cases() -> Vec<Case> {
    let fixture_env = |f: &'static str| {
        move || {
            let mut b = std::fs::read(
                crate::common::repo_root()
                    .join("tests/fixtures/envfile")
                    .join(f),
            )
            .unwrap();
            b.extend(format!("\nZZ_SENTINEL={SENTINEL}\n").as_bytes());
            b
        }
    };
    let ss = "k8s/overlays/paper/sealedsecret.yaml";
    let _ = ss;
    vec![
        // --- env files ---
        env_case(
            "env invalid utf8",
            || format!("API_KEY={SENTINEL}\nREDIS_PASSWORD=\u{0}x").into_bytes().into_iter().map(|b| if b == 0 { 0xff } else { b }).collect(),
            &[],
            &["secrets.env:2", "utf8"],
        ),
        env_case("env fixture invalid utf8", fixture_env("fail_invalid_utf8.env"), &[], &["secrets.env:", "utf8"]),
        env_case("env fixture invalid utf8 in comment", fixture_env("fail_invalid_utf8_comment.env"), &[], &["secrets.env:", "utf8"]),
        env_case("env fixture overlong utf8", fixture_env("fail_overlong_utf8.env"), &[], &["secrets.env:", "utf8"]),
        env_case("env fixture surrogate utf8", fixture_env("fail_surrogate_utf8.env"), &[], &["secrets.env:", "utf8"]),
        env_case("env fixture truncated utf8", fixture_env("fail_truncated_utf8.env"), &[], &["secrets.env:", "utf8"]),
        env_case(
            "env duplicate key",
            || good_env_with(&format!("REDIS_PASSWORD={SENTINEL}-again\n")),
            &[],
            &["secrets.env:5", "REDIS_PASSWORD", "line 3"],
        ),
        env_case("env fixture duplicate after trim", fixture_env("fail_duplicate_after_trim.env"), &[], &["secrets.env:"]),
        env_case("env fixture duplicate crlf", fixture_env("fail_duplicate_crlf.env"), &[], &["secrets.env:"]),
        env_case("env fixture duplicate without =", fixture_env("fail_duplicate_no_equals.env"), &[], &["secrets.env:"]),
        env_case(
            "env invalid key name (space)",
            || good_env_with(&format!("BAD KEY={SENTINEL}\n")),
            &[],
            // A key with a space may be a passphrase: neither it nor the character is shown.
            &["secrets.env:5: the key is not a valid secret key: it contains a character outside"],
        ),
        env_case(
            "env export prefix",
            || good_env_with(&format!("export TOKEN={SENTINEL}\n")),
            &[],
            &["secrets.env:5", "export TOKEN"],
        ),
        env_case(
            "env key with $",
            || good_env_with(&format!("A$B={SENTINEL}\n")),
            &[],
            // `$` may be part of a value (`pa$$word=...`): neither the key nor the character.
            &["secrets.env:5: the key is not a valid secret key: it contains a character outside"],
        ),
        env_case(
            "env key too long",
            || good_env_with(&format!("{}={SENTINEL}\n", "K".repeat(254))),
            &[],
            &["secrets.env:5"],
        ),
        env_case(
            "env line too long",
            || good_env_with(&format!("LONG={SENTINEL}{}\n", "x".repeat(2 * 1024 * 1024))),
            &[],
            &["secrets.env:5"],
        ),
        env_case(
            "env file too large",
            || {
                let mut b = env_text().into_bytes();
                for i in 0..90_000 {
                    b.extend(format!("K{i}={SENTINEL}{}\n", "y".repeat(80)).as_bytes());
                }
                b
            },
            &[],
            &["secrets.env", "limit"],
        ),
        env_case(
            "env only comments (every key missing)",
            || b"# nothing\n\n".to_vec(),
            &[],
            &["secrets.env lacks keys", "API_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD"],
        ),
        env_case(
            "env only comments with --only",
            || format!("# {SENTINEL}\n").into_bytes(),
            &["--only", "API_KEY"],
            &["secrets.env", "API_KEY"],
        ),
        // --- SealedSecret YAML ---
        yaml_case(
            "yaml unparsable",
            paper_yaml().replace("  name: emp-secrets\n  namespace", "  name: \"emp-secrets\n  namespace"),
            &["sealedsecret.yaml"],
        ),
        yaml_case(
            "yaml tab indentation",
            paper_yaml().replace("    REDIS_PASSWORD", "\tREDIS_PASSWORD"),
            &["sealedsecret.yaml:"],
        ),
        // A control character: libyaml's reader gives only a byte offset, named as its line.
        yaml_case(
            "yaml control character",
            paper_yaml().replace("    REDIS_PASSWORD: ", "    REDIS_PASSWORD: \u{1}"),
            &["sealedsecret.yaml:20:", "control characters are not allowed"],
        ),
        // Flow style and JSON are sealed in place since issue 16 (seal_shapes.rs); what the
        // flow scanner cannot place exactly (an anchor, an alias) is still refused.
        yaml_case(
            "yaml flow style with an alias",
            "{apiVersion: bitnami.com/v1alpha1, kind: SealedSecret, metadata: {name: emp-secrets, namespace: emp-paper}, spec: {encryptedData: {API_KEY: &a AgAAAA, REDIS_PASSWORD: *a}}}\n".into(),
            &["sealedsecret.yaml:1"],
        ),
        yaml_case(
            "yaml json (kubeseal default output) with an anchor",
            std::fs::read_to_string(crate::common::repo_root().join("tests/fixtures/sealedsecret/json.yaml")).unwrap().replace("\"K\":", "\"K\": &a "),
            &["sealedsecret.yaml:1"],
        ),
        yaml_case(
            "yaml both data and encryptedData",
            paper_yaml().replace("spec:\n", "spec:\n  data: AgBlegacyAAAA\n"),
            &["sealedsecret.yaml:", "data"],
        ),
        yaml_case(
            "yaml legacy data only",
            std::fs::read_to_string(crate::common::repo_root().join("tests/fixtures/sealedsecret/legacy_data.yaml")).unwrap(),
            &["sealedsecret.yaml:", "legacy"],
        ),
        yaml_case(
            "yaml no SealedSecret",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: emp-secrets\ndata: {}\n".into(),
            &["paper", "SealedSecret"],
        ),
        yaml_case(
            "yaml wrong apiVersion",
            paper_yaml().replace("bitnami.com/v1alpha1", "bitnami.com/v1beta1"),
            &["sealedsecret.yaml:", "apiVersion"],
        ),
        yaml_case(
            "yaml block scalar ciphertext",
            paper_yaml().replace("    API_KEY: AgAAAAAAAAAA...REPLACE_ME\n", "    API_KEY: |\n      AgAAAAAAAAAA\n"),
            &["sealedsecret.yaml:"],
        ),
        yaml_case(
            "yaml anchor in encryptedData",
            paper_yaml().replace("  encryptedData:\n", "  encryptedData: &e\n"),
            &["sealedsecret.yaml:"],
        ),
        yaml_case(
            "yaml content on the --- line",
            format!("--- {{}}\n{}", paper_yaml()),
            &["sealedsecret.yaml:1"],
        ),
        yaml_case(
            "yaml name not a string",
            paper_yaml().replace("  namespace: emp-paper\nspec", "  namespace: [emp-paper]\nspec"),
            &["sealedsecret.yaml:"],
        ),
        // --- certificates ---
        cert_case("cert missing", || None, &["k8s/overlays/paper/sealing-cert.pem"]),
        cert_case("cert not pem", || Some("hello\n".into()), &["k8s/overlays/paper/sealing-cert.pem", "pem"]),
        cert_case(
            "cert bare public key",
            || {
                let out = std::process::Command::new("openssl")
                    .args(["x509", "-noout", "-pubkey", "-in"])
                    .arg(crate::common::repo_root().join("k8s/overlays/paper/sealing-cert.pem"))
                    .output()
                    .unwrap();
                Some(String::from_utf8(out.stdout).unwrap())
            },
            &["k8s/overlays/paper/sealing-cert.pem"],
        ),
        cert_case(
            "cert private key instead",
            || Some(demo_key()),
            &["k8s/overlays/paper/sealing-cert.pem"],
        ),
        cert_case(
            "cert truncated",
            || {
                let p = std::fs::read_to_string(crate::common::repo_root().join("k8s/overlays/paper/sealing-cert.pem")).unwrap();
                Some(p[..p.len() / 2].to_owned())
            },
            &["k8s/overlays/paper/sealing-cert.pem"],
        ),
        cert_case(
            "cert corrupted base64 body",
            || {
                let p = std::fs::read_to_string(crate::common::repo_root().join("k8s/overlays/paper/sealing-cert.pem")).unwrap();
                Some(p.replacen("MII", "M!I", 1))
            },
            &["k8s/overlays/paper/sealing-cert.pem"],
        ),
        cert_case("cert ec", made(&["--key", "ec"]), &["k8s/overlays/paper/sealing-cert.pem", "RSA"]),
        cert_case("cert rsa-1024", made(&["--key", "rsa:1024"]), &["k8s/overlays/paper/sealing-cert.pem", "1024"]),
        cert_case(
            "cert expired",
            made(&["--key", "rsa:2048", "--not-before-days", "-30", "--not-after-days", "-1"]),
            &["k8s/overlays/paper/sealing-cert.pem", "expired"],
        ),
        // --- flags ---
        flag_case("unknown env", |_, e| v(&["staging", "--from", &e]), &["staging", "unknown environment"]),
        flag_case("env path traversal", |_, e| v(&["../paper", "--from", &e]), &["../paper", "unknown environment"]),
        flag_case("env without SealedSecret", |_, e| v(&["dev", "--from", &e]), &["dev", "SealedSecret"]),
        flag_case(
            "--cert with two envs",
            |t, e| v(&["paper", "prod", "--from", &e, "--cert", &s(&t.overlay("paper").join("sealing-cert.pem"))]),
            &["--cert", "2 environments"],
        ),
        flag_case("--only unknown key", |_, e| v(&["paper", "--from", &e, "--only", "NOPE"]), &["NOPE", "secrets.env"]),
        flag_case(
            "--scope conflict",
            |_, e| v(&["paper", "--from", &e, "--scope", "cluster-wide"]),
            &["k8s/overlays/paper/sealedsecret.yaml", "cluster-wide"],
        ),
        flag_case("--scope bogus", |_, e| v(&["paper", "--from", &e, "--scope", "bogus"]), &["bogus"]),
        flag_case("missing --from", |_, _| v(&["paper"]), &["--from"]),
        flag_case(
            "nonexistent --from path",
            |t, _| v(&["paper", "--from", &s(&t.path("nope/secrets.env"))]),
            &["nope/secrets.env"],
        ),
        flag_case("nonexistent bare --from", |_, _| v(&["paper", "--from", "nowhere.env"]), &["nowhere.env", "not found"]),
        flag_case("directory as --from", |t, _| v(&["paper", "--from", &s(&t.path("k8s"))]), &["k8s", "directory"]),
        flag_case(
            "--key not a key",
            |t, e| v(&["paper", "--from", &e, "--key", &s(&t.overlay("paper").join("kustomization.yaml"))]),
            &["kustomization.yaml"],
        ),
        flag_case(
            "--key missing file",
            |t, e| v(&["paper", "--from", &e, "--key", &s(&t.path("no-key.pem"))]),
            &["no-key.pem"],
        ),
        flag_case(
            "--cert missing file",
            |t, e| v(&["paper", "--from", &e, "--cert", &s(&t.path("no-cert.pem"))]),
            &["no-cert.pem"],
        ),
        // The overlay's own kustomization, named from the repository root like every other file.
        flag_case(
            "kustomization does not parse",
            |t, e| {
                write_file(&t.overlay("paper").join("kustomization.yaml"), b"resources: [\n");
                v(&["paper", "--from", &e])
            },
            &["error: k8s/overlays/paper/kustomization.yaml:2: kustomization does not parse"],
        ),
        flag_case(
            "kustomization not UTF-8",
            |t, e| {
                write_file(&t.overlay("paper").join("kustomization.yaml"), b"resources:\n  - \xff\n");
                v(&["paper", "--from", &e])
            },
            &["error: k8s/overlays/paper/kustomization.yaml: not valid UTF-8 (line 2)"],
        ),
        flag_case("--dry-run with --stdout", |_, e| v(&["paper", "--from", &e, "--dry-run", "--stdout"]), &["--dry-run"]),
        // --force only lifts --prune's refusals: alone it would be taken and do nothing.
        flag_case("--force without --prune", |_, e| v(&["paper", "--from", &e, "--force"]), &["--prune"]),
        flag_case(
            "missing keys, no terminal",
            |t, _| {
                let p = t.write("partial.env", format!("REDIS_PASSWORD={SENTINEL}\n"));
                v(&["paper", "--from", &s(&p), "--no-input"])
            },
            &["partial.env lacks keys", "API_KEY, POSTGRES_PASSWORD"],
        ),
    ]
}

#[test]
fn issue_4_malformed_inputs_exit_2_with_one_line_and_leave_the_file() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let tree = Tree::new();
        let args = (c.setup)(&tree);
        let target = tree.ss("paper");
        let before = std::fs::read(&target).ok();
        let before_mode = std::fs::metadata(&target).ok().map(|_| mode(&target));
        let mut full = vec!["-C".to_owned(), s(tree.root())];
        full.extend(args);
        let out = emp_seal_cmd().args(&full).output().unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let e = fails_cleanly(&out);
            no_secret(&out);
            assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));
            for want in c.expect {
                assert!(e.contains(want), "error line lacks {want:?}: {e}");
            }
            e
        }));
        match result {
            Ok(e) => eprintln!("{:<40} {e}", c.name),
            Err(_) => failures.push(format!("{}: {}", c.name, stderr(&out))),
        }
        assert_eq!(
            before,
            std::fs::read(&target).ok(),
            "{}: target changed",
            c.name
        );
        assert_eq!(
            before_mode,
            std::fs::metadata(&target).ok().map(|_| mode(&target))
        );
    }
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}
