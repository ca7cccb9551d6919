//! What `seal`, `reseal`, `unseal` and `diff` do with a committed SealedSecret the controller
//! would not turn into the Secret they assume, and `--only`'s refusals and
//! duplicates: through the real binary on a temp copy of `k8s/`, the env file outside it.
//! A refused run exits 2 with one `error:` line naming `FILE:LINE`, echoes no value, and leaves
//! every byte of the file as it was.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common;
use crate::seal_support::*;

/// A tree whose paper SealedSecret is sealed from `env` (written outside the tree).
struct Sealed {
    tree: Tree,
    _outside: tempfile::TempDir,
    env: PathBuf,
}

impl Sealed {
    fn new(env: &str) -> Sealed {
        let tree = Tree::new();
        let outside = tempfile::tempdir().unwrap();
        let env = common::write(outside.path(), "secrets.env", env);
        ok(&tree.run(&["seal", "paper", "--from", s(&env)]));
        Sealed {
            tree,
            _outside: outside,
            env,
        }
    }

    fn ss(&self) -> PathBuf {
        self.tree.ss("paper")
    }

    /// Rewrites the SealedSecret file with `edit` applied to its text; returns the new bytes.
    fn edit(&self, edit: impl FnOnce(&str) -> String) -> Vec<u8> {
        let text = std::fs::read_to_string(self.ss()).unwrap();
        let new = edit(&text);
        assert_ne!(new, text, "the edit changed nothing");
        common::write(
            self.tree.root(),
            "k8s/overlays/paper/sealedsecret.yaml",
            &new,
        );
        new.into_bytes()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.tree.run(args)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &[u8], needle: &str) -> usize {
    let text = String::from_utf8_lossy(text);
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// The sealed value of `key` as written (one line, `    KEY: VALUE`).
fn sealed_value(text: &str, key: &str) -> String {
    let prefix = format!("    {key}: ");
    let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap();
    line[prefix.len()..].to_owned()
}

/// Asserts a clean refusal (see the module docs) whose line starts with `at` and contains
/// `needle`; returns the line.
fn refused(o: &Output, file: &Path, before: &[u8], at: &str, needle: &str) -> String {
    let line = fails_cleanly(o);
    no_secret(o);
    assert!(line.starts_with(&format!("error: {at}")), "{line}");
    assert!(line.contains(needle), "{line}");
    assert_eq!(std::fs::read(file).unwrap(), before, "the file changed");
    line
}

/// A key outside `[-._a-zA-Z0-9]` (here holding terminal escapes) in the committed
/// file is refused by every lifecycle command, named at its line and escaped as `check` escapes
/// it; no output carries a raw control character.
#[test]
fn invalid_sealed_key_is_refused_escaped_by_every_lifecycle_command() {
    let t = Sealed::new(&env_text());
    let key = key_a();
    let before = t.edit(|text| {
        let ct = sealed_value(text, "API_KEY");
        text.replace(
            "    REDIS_PASSWORD: ",
            &format!("    \"X\\e[2J\\e]0;owned\\aY\": {ct}\n    REDIS_PASSWORD: "),
        )
    });
    let at = format!(
        "k8s/overlays/paper/sealedsecret.yaml:{}: ",
        line_of(&before, "\"X\\e[2J")
    );
    let shown = "the key \"X\\u{1b}[2J\\u{1b}]0;owned\\u{7}Y\", which contains '\\u{1b}'";
    let file = t.ss();
    let (env, key, path) = (s(&t.env), s(&key), s(&file));
    let runs: [&[&str]; 7] = [
        &["seal", "paper", "--from", env, "--no-input"],
        &["seal", "paper", "--from", env, "--key", key],
        &["reseal", "paper", "--key", key, "--dry-run"],
        &["reseal", "paper", "--key", key, "--skip-unopened"],
        &["unseal", "paper", "--key", key, "--format", "env"],
        &["unseal", path, "--key", key],
        &["diff", "paper", "--from", env, "--key", key],
    ];
    for args in runs {
        let o = t.run(args);
        refused(&o, &file, &before, &at, shown);
        assert!(stderr(&o).contains("invalid-secret-key"), "{}", stderr(&o));
        for out in [&o.stdout, &o.stderr] {
            assert!(
                !out.iter().any(|b| *b == 0x1b || *b == 0x07),
                "{args:?} printed a raw control character: {}",
                String::from_utf8_lossy(out)
            );
        }
    }
}

/// A `spec.template.data` key the API server refuses is refused too, at its line
/// (the controller's Secret would hold it).
#[test]
fn invalid_template_data_key_is_refused_at_its_line() {
    let t = Sealed::new(&env_text());
    let before = t.edit(|text| {
        text.replacen(
            "  template:\n",
            "  template:\n    data:\n      \"b\\e]0;t\\a\": \"x\"\n",
            1,
        )
    });
    let at = format!(
        "k8s/overlays/paper/sealedsecret.yaml:{}: ",
        line_of(&before, "\"b\\e]0;t")
    );
    let file = t.ss();
    let o = t.run(&["unseal", "paper", "--key", s(&key_a())]);
    refused(&o, &file, &before, &at, "the key \"b\\u{1b}]0;t\\u{7}\"");
    assert!(!o.stderr.contains(&0x1b), "{}", stderr(&o));
}

/// A key `spec.template.data` also sets holds the template's result in the
/// controller's Secret. `unseal --format yaml` leaves it out and names it (it printed the
/// decrypted value and said template keys "are not included"); `--format env` keeps the sealed
/// value for `--from` and says so; `diff` does not call it "same".
#[test]
fn template_data_key_is_named_as_overriding_the_sealed_value() {
    let t = Sealed::new(&env_text());
    let key = key_a();
    t.edit(|text| {
        text.replacen(
            "  template:\n",
            "  template:\n    data:\n      API_KEY: \"prefix-{{ index . \\\"API_KEY\\\" }}\"\n",
            1,
        )
    });
    let warning = "warning: k8s/overlays/paper/sealedsecret.yaml: spec.template.data also sets API_KEY: the controller's Secret holds the template's result there, not the sealed value";

    let o = t.run(&["unseal", "paper", "--key", s(&key)]);
    ok(&o);
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(!out.contains("API_KEY"), "{out}");
    let want = &env_values()["POSTGRES_PASSWORD"];
    assert!(
        out.contains(&format!("  POSTGRES_PASSWORD: \"{}\"", common::b64(want))),
        "{out}"
    );
    assert!(err.contains(warning), "{err}");
    assert!(
        err.contains("the Secret printed here leaves those keys out"),
        "{err}"
    );
    assert!(!err.contains("not included"), "{err}");

    let o = t.run(&["unseal", "paper", "--key", s(&key), "--format", "env"]);
    ok(&o);
    let api = String::from_utf8(env_values()["API_KEY"].clone()).unwrap();
    assert!(stdout(&o).contains(&format!("API_KEY={api}\n")));
    assert!(stderr(&o).contains(warning), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the lines printed here hold the sealed values"),
        "{}",
        stderr(&o)
    );

    // The sealed value is the env file's; the Secret's is the template's: not "same".
    let o = t.run(&["diff", "paper", "--from", s(&t.env), "--key", s(&key)]);
    ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains(
            "! API_KEY  same sealed value, but spec.template.data sets the key in the Secret\n"
        ),
        "{out}"
    );
    assert!(!out.contains("= API_KEY"), "{out}");
    assert!(out.contains("= REDIS_PASSWORD  same\n"), "{out}");
    assert!(
        stderr(&o).contains("paper: 2 same, 0 changed, 0 to add, 0 only sealed, 0 placeholder(s), 1 set by spec.template.data"),
        "{}",
        stderr(&o)
    );
    // A changed value is still a change, with the same note.
    let changed = env_text().replace("-api-", "-other-");
    let env2 = common::write(t._outside.path(), "changed.env", &changed);
    let o = t.run(&["diff", "paper", "--from", s(&env2), "--key", s(&key)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("~ API_KEY  changed (spec.template.data sets the key in the Secret)\n"),
        "{}",
        stdout(&o)
    );
    no_secret(&o);
}

/// A correct ciphertext re-encoded so the controller cannot decode it (unpadded,
/// or url-safe base64: `check`'s `invalid-ciphertext`) is named for its encoding, with the right
/// key, not blamed on the keys; `--skip-unopened` does not keep it.
#[test]
fn reseal_names_a_misencoded_value_and_does_not_skip_it() {
    // API_KEY's plaintext is 18 bytes: 2 + 512 + 18 + 16 = 548 bytes, base64 with one `=`.
    let env = format!(
        "POSTGRES_PASSWORD={SENTINEL}-pg\nREDIS_PASSWORD={SENTINEL}-rd\nAPI_KEY={SENTINEL}-ak\n"
    );
    let t = Sealed::new(&env);
    let key = key_a();
    let file = t.ss();
    let original = std::fs::read_to_string(&file).unwrap();
    let before = t.edit(|text| {
        let ct = sealed_value(text, "API_KEY");
        assert!(ct.ends_with('=') && !ct.ends_with("=="), "{ct}");
        text.replace(&ct, ct.trim_end_matches('='))
    });
    let at = format!(
        "k8s/overlays/paper/sealedsecret.yaml:{}: ",
        line_of(&before, "    API_KEY: ")
    );
    let unpadded = "`API_KEY`: the value is unpadded base64; the controller requires `=` padding";
    for extra in [None, Some("--skip-unopened"), Some("--dry-run")] {
        let mut args = vec!["reseal", "paper", "--key", s(&key)];
        args.extend(extra);
        let o = t.run(&args);
        let line = refused(&o, &file, &before, &at, unpadded);
        assert!(!line.contains("no given key opens"), "{line}");
    }
    // `unseal` and `diff` name it the same way.
    let o = t.run(&["unseal", "paper", "--key", s(&key), "--format", "env"]);
    refused(&o, &file, &before, &at, unpadded);
    let o = t.run(&["diff", "paper", "--from", s(&t.env), "--key", s(&key)]);
    refused(&o, &file, &before, &at, unpadded);

    // The url-safe alphabet, on another value.
    let before = t.edit(|_| {
        let ct = sealed_value(&original, "REDIS_PASSWORD");
        assert!(ct.contains(['+', '/']), "{ct}");
        original.replace(&ct, &ct.replace('+', "-").replace('/', "_"))
    });
    let at = format!(
        "k8s/overlays/paper/sealedsecret.yaml:{}: ",
        line_of(&before, "    REDIS_PASSWORD: ")
    );
    let o = t.run(&["reseal", "paper", "--key", s(&key), "--skip-unopened"]);
    refused(
        &o,
        &file,
        &before,
        &at,
        "`REDIS_PASSWORD`: the value uses the url-safe base64 alphabet",
    );
}

/// `--only K --rescope` is refused for the keys `--only` leaves out, not because
/// the env file "lacks" keys it holds (nor with `--prune` as the way out).
#[test]
fn only_with_rescope_names_the_keys_only_leaves_out() {
    let t = Sealed::new(&env_text());
    let file = t.ss();
    let before = std::fs::read(&file).unwrap();
    let at = "k8s/overlays/paper/sealedsecret.yaml: --rescope must reseal every key, but ";
    for prune in [false, true] {
        let mut args = vec!["seal", "paper", "--from", s(&t.env), "--only", "API_KEY"];
        args.extend(["--scope", "cluster-wide", "--rescope"]);
        if prune {
            args.push("--prune");
        }
        let o = t.run(&args);
        let line = refused(
            &o,
            &file,
            &before,
            at,
            "--only leaves out POSTGRES_PASSWORD, REDIS_PASSWORD, which the env file holds (drop --only)",
        );
        assert!(
            !line.contains("lacks") && !line.contains("--prune"),
            "{line}"
        );
    }
    // A key the env file does lack is named as such, beside the ones --only leaves out.
    let short = env_text().replace(&format!("REDIS_PASSWORD={SENTINEL}-redis\n"), "");
    let env = common::write(t._outside.path(), "short.env", &short);
    let o = t.run(&[
        "seal",
        "paper",
        "--from",
        s(&env),
        "--only",
        "API_KEY",
        "--scope",
        "cluster-wide",
        "--rescope",
    ]);
    refused(
        &o,
        &file,
        &before,
        at,
        "--only leaves out POSTGRES_PASSWORD, which the env file holds, and the env file lacks REDIS_PASSWORD",
    );
}

/// `--only API_KEY,API_KEY` seals `API_KEY` once (it failed with "appears more
/// than once in the edit plan"); the value written decrypts (Python peer, on kubectl's render).
#[test]
fn only_naming_a_key_twice_seals_it_once() {
    let t = Sealed::new(&env_text());
    let changed = env_text().replace("-api-", "-twice-");
    let env = common::write(t._outside.path(), "changed.env", &changed);
    let o = t.run(&[
        "seal",
        "paper",
        "--from",
        s(&env),
        "--only",
        "API_KEY,API_KEY",
    ]);
    ok(&o);
    no_secret(&o);
    let mut want = env_values();
    let api = String::from_utf8(want["API_KEY"].clone()).unwrap();
    want.insert(
        "API_KEY".into(),
        api.replace("-api-", "-twice-").into_bytes(),
    );
    assert_decrypts(&t.tree, "paper", &want);
}

/// `spec.template.immutable: true` makes the controller create the Secret immutable (sealed-secrets
/// after v0.24.5): `unseal`'s Secret is the one it creates, so it says `immutable: true` too, and
/// a recovery with `unseal | kubectl apply` does not make it mutable.
#[test]
fn unseal_keeps_the_template_immutable() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    ok(&tree.run(&["paper", "--from", env.to_str().unwrap()]));
    let ss = tree.ss("paper");
    let text = std::fs::read_to_string(&ss).unwrap();
    assert!(text.contains("  template:\n"), "{text}");
    write_file(
        &ss,
        text.replace("  template:\n", "  template:\n    immutable: true\n")
            .as_bytes(),
    );
    let key = tree.write("key.pem", demo_key());
    let out = tree.run(&["unseal", "paper", "--key", key.to_str().unwrap()]);
    ok(&out);
    let secret = String::from_utf8(out.stdout).unwrap();
    assert!(secret.contains("\nimmutable: true\n"), "{secret}");
}
