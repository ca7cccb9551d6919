//! Secret-leak audit: every command runs with sentinel secret values, and the sentinels must not
//! appear in stdout, stderr, any file outside the command's intended output (and there never as
//! plaintext), the `TMPDIR` the process had, or a panic message. Also: no command-line flag takes a
//! secret value (clap introspection), and no panic/expect message in `src/` can format a value.
//!
//! The sentinels are in the `--from` files and inside the tree (see [`planted`]), so commands that
//! only read the tree (`check`, `cert`, ...) can leak them too. `unseal` and `diff` are audited on
//! their error path and, after a `seal` in the same sandbox, on their success path.
//!
//! `unseal` exists to print values: its stdout is the one output not scanned. Hidden-input
//! prompts need a terminal and are not exercised here (`pty.rs` drives them on a pseudo-terminal).
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the report

use std::path::Path;

use crate::badinput::{SENTINELS, Sandbox, good_env};
use crate::{common, fixtures};

/// All the forms a sentinel could leak in: plain, standard base64 of the sentinel alone (as a
/// Secret's `data`), and the base64 of the sentinel inside a longer blob (e.g. `KEY=value\n`
/// encoded whole) at each of the three byte alignments.
fn forms() -> Vec<String> {
    SENTINELS
        .iter()
        .flat_map(|s| {
            let mut v = vec![(*s).to_string(), common::b64(s.as_bytes())];
            v.extend((0..3).map(|at| embedded_b64(s.as_bytes(), at)));
            v
        })
        .collect()
}

/// The base64 characters that encode `secret` wherever it sits at `at` (mod 3) bytes into a
/// longer buffer: only the 3-byte groups made of the secret's bytes alone, which do not depend
/// on the bytes around it.
fn embedded_b64(secret: &[u8], at: usize) -> String {
    let lead = at % 3;
    let mut buf = vec![0u8; lead];
    buf.extend_from_slice(secret);
    let first_group = lead.div_ceil(3);
    let end_group = buf.len() / 3;
    common::b64(&buf)[first_group * 4..end_group * 4].to_string()
}

/// The embedded forms find a sentinel base64-encoded inside any longer blob, whatever bytes and
/// alignment surround it.
#[test]
fn embedded_base64_forms_match_every_alignment() {
    let all = forms();
    for s in SENTINELS {
        for lead in 0..6 {
            let blob = [&b"KEY=xyzzy"[..lead], s.as_bytes(), b"\nOTHER=1\n"].concat();
            let encoded = common::b64(&blob);
            assert!(
                all.iter().any(|f| encoded.contains(f.as_str())),
                "{s} after {lead} bytes: {encoded}"
            );
        }
    }
}

/// Sentinel-bearing inputs inside the tree, so that every command reading the tree (not only
/// `seal --from`) meets them: the dev overlay's real env file, whose first line holds a sentinel
/// and whose other lines each trip an env lint with a sentinel in the value (one is a bare value
/// without `=`, which kustomize v5 makes a key of the rendered Secret, so `check --render` meets
/// it among the render's key names); and a plaintext Secret (sentinels in `stringData` and as
/// base64 `data`) that the dev overlay lists.
fn planted() -> Vec<(&'static str, Vec<u8>)> {
    let [pg, redis, api] = SENTINELS;
    let env = format!(
        "POSTGRES_PASSWORD={pg}\n\
         REDIS_PASSWORD=\"{redis}\"\n\
         API_KEY={api} # rotated\n\
         TRAILING={pg}   \n\
         {redis}\n\
         export EXPORTED={redis}\n\
         SPACED = {api}\n  INDENTED={pg}\n\
         EXPANDED=$HOME/{redis}\n\
         ESCAPED={api}\\n\n\
         ={pg}\n\
         DOTTED.KEY={redis}\n\
         CR={api}\rtail\n\
         UNTERMINATED=\"{pg}\n"
    );
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: emp-legacy\ntype: Opaque\n\
         stringData:\n  API_KEY: {api}\n\
         data:\n  POSTGRES_PASSWORD: {}\n  REDIS_PASSWORD: {}\n",
        common::b64(pg.as_bytes()),
        common::b64(redis.as_bytes())
    );
    let kustomization =
        std::fs::read_to_string(common::repo_root().join("k8s/overlays/dev/kustomization.yaml"))
            .unwrap()
            .replacen(
                "  - ../../base\n",
                "  - ../../base\n  - legacy-secret.yaml\n",
                1,
            );
    assert!(kustomization.contains("legacy-secret.yaml"));
    vec![
        (PLANTED[0], env.into_bytes()),
        (PLANTED[1], secret.into_bytes()),
        (PLANTED[2], kustomization.into_bytes()),
    ]
}

/// The planted inputs (see [`planted`]); never scanned as outputs.
const PLANTED: [&str; 3] = [
    "k8s/overlays/dev/dev-secrets.env",
    "k8s/overlays/dev/legacy-secret.yaml",
    "k8s/overlays/dev/kustomization.yaml",
];

fn scan_dir(dir: &Path, skip: &[&Path], hits: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if skip.iter().any(|s| *s == p) {
            continue;
        }
        let t = e.file_type().unwrap();
        if t.is_dir() {
            scan_dir(&p, skip, hits);
        } else if t.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for f in forms() {
                if text.contains(&f) {
                    hits.push(format!("{} holds {f}", p.display()));
                }
            }
        }
    }
}

/// One audited run.
struct Run {
    name: &'static str,
    args: Vec<String>,
    /// Files (relative to the root) that are inputs holding sentinels or intended plaintext
    /// outputs; not scanned.
    plaintext_files: Vec<&'static str>,
    /// Whether stdout is the command's intended plaintext output (only `unseal`).
    stdout_is_output: bool,
    /// Extra set-up: (relative path, content).
    files: Vec<(&'static str, Vec<u8>)>,
    /// Commands run first in the same sandbox (e.g. `seal`, so that `unseal` and `diff` are
    /// audited on their success path); each must succeed.
    before: Vec<Vec<&'static str>>,
    /// Whether the audited run must succeed (an audit of an error path would prove little).
    must_succeed: bool,
    /// Text stdout must hold: proof that the run reached the path being audited.
    stdout_must: Vec<&'static str>,
}

fn run(name: &'static str, args: &[&str]) -> Run {
    Run {
        name,
        args: args.iter().map(|s| (*s).to_string()).collect(),
        plaintext_files: vec!["good.env"],
        stdout_is_output: false,
        files: Vec::new(),
        before: Vec::new(),
        must_succeed: false,
        stdout_must: Vec::new(),
    }
}

fn audit(r: &Run) -> Result<&'static str, String> {
    let s = Sandbox::new();
    for (p, c) in planted().iter().chain(&r.files) {
        s.write(p, c);
    }
    for b in &r.before {
        let out = s.cmd().args(b).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("{}: set-up {b:?} failed: {stderr}", r.name));
        }
    }
    let out = s.cmd().args(&r.args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut hits = Vec::new();
    if r.must_succeed && !out.status.success() {
        hits.push(format!(
            "exit {:?}, not success: {stderr}",
            out.status.code()
        ));
    }
    for want in &r.stdout_must {
        if !stdout.contains(want) {
            hits.push(format!("stdout lacks {want:?}: {stdout}"));
        }
    }
    if r.stdout_is_output && r.must_succeed {
        // The success path was reached: every sealed value was printed, in some form.
        for sentinel in SENTINELS {
            let printed = [sentinel.to_string(), common::b64(sentinel.as_bytes())];
            if !printed.iter().any(|f| stdout.contains(f)) {
                hits.push(format!("stdout lacks the unsealed {sentinel}"));
            }
        }
    }
    if stderr.contains("panicked") {
        hits.push(format!("panicked: {stderr}"));
    }
    for f in forms() {
        if !r.stdout_is_output && stdout.contains(&f) {
            hits.push(format!("stdout holds {f}"));
        }
        if stderr.contains(&f) {
            hits.push(format!("stderr holds {f}"));
        }
    }
    let skip: Vec<_> = r
        .plaintext_files
        .iter()
        .chain(&PLANTED)
        .map(|p| s.path(p))
        .collect();
    let skip_refs: Vec<&Path> = skip.iter().map(std::path::PathBuf::as_path).collect();
    scan_dir(&s.root, &skip_refs, &mut hits);
    scan_dir(&s.tmp, &[], &mut hits);
    let tmp_left: Vec<_> = std::fs::read_dir(&s.tmp).unwrap().flatten().collect();
    if !tmp_left.is_empty() {
        hits.push(format!("{} file(s) left in TMPDIR", tmp_left.len()));
    }
    if hits.is_empty() {
        Ok(if out.status.success() {
            "ok"
        } else {
            "ok (failed run)"
        })
    } else {
        Err(format!("{}: {:?}\n  {}", r.name, r.args, hits.join("\n  ")))
    }
}

fn runs() -> Vec<Run> {
    let demo_key = fixtures::demo_key_pem();
    let two = format!(
        "POSTGRES_PASSWORD={}\nAPI_KEY={}\n",
        SENTINELS[0], SENTINELS[2]
    );
    let bad_key_line = format!("{}\nMY KEY={}\n", good_env(), SENTINELS[0]).into_bytes();
    let bad_utf8 = [
        good_env().as_bytes(),
        b"X=",
        SENTINELS[1].as_bytes(),
        b"\xff\n",
    ]
    .concat();
    let dup = format!("{}API_KEY={}\n", good_env(), SENTINELS[2]).into_bytes();
    // A base64 value pasted alone on a line: its `=` padding makes it a valid key for kustomize.
    let padded = common::b64(SENTINELS[0].as_bytes());
    assert!(padded.ends_with('='), "the sentinel's base64 is padded");
    let padded_line = format!("{}{padded}\n", good_env()).into_bytes();
    let mut v = vec![
        run("seal", &["paper", "--from", "good.env"]),
        run("seal_quiet", &["-q", "seal", "paper", "--from", "good.env"]),
        run(
            "seal_dry_run",
            &["paper", "--from", "good.env", "--dry-run"],
        ),
        run("seal_stdout", &["paper", "--from", "good.env", "--stdout"]),
        run(
            "seal_only",
            &["paper", "--from", "good.env", "--only", "API_KEY"],
        ),
        run(
            "seal_scope_strict",
            &["paper", "--from", "good.env", "--scope", "strict"],
        ),
        run(
            "seal_env_lookup",
            &["paper", "--from", "good.env", "--no-input"],
        ),
        run("check_text", &["check"]),
        run("check_json", &["check", "--format", "json"]),
        run("check_sarif", &["check", "--format", "sarif"]),
        run("check_github", &["check", "--format", "github"]),
        run("check_release", &["check", "--release", "paper"]),
        run("cert", &["cert"]),
        run("cert_json", &["cert", "paper", "--json"]),
        run("completions", &["completions", "bash"]),
        run("man", &["man"]),
    ];
    // Refused (a workload reads the pruned REDIS_PASSWORD), then forced: both paths audited.
    for (name, args) in [
        ("seal_prune", &["paper", "--from", "two.env", "--prune"][..]),
        (
            "seal_prune_force",
            &["paper", "--from", "two.env", "--prune", "--force"][..],
        ),
    ] {
        let mut prune = run(name, args);
        prune.must_succeed = name == "seal_prune_force";
        prune.files.push(("two.env", two.clone().into_bytes()));
        prune.plaintext_files.push("two.env");
        v.push(prune);
    }
    let mut key = run(
        "seal_no_churn_key",
        &["paper", "--from", "good.env", "--key", "demo-key.pem"],
    );
    key.files
        .push(("demo-key.pem", demo_key.clone().into_bytes()));
    v.push(key);
    for (name, content) in [
        ("seal_error_invalid_key", bad_key_line),
        ("seal_error_invalid_utf8", bad_utf8),
        ("seal_error_duplicate", dup),
        ("seal_error_padded_base64_line", padded_line),
    ] {
        let mut r = run(name, &["paper", "--from", "bad.env"]);
        r.files.push(("bad.env", content));
        r.plaintext_files.push("bad.env");
        v.push(r);
    }
    // unseal and diff on the shipped placeholders: their error path.
    for (name, fmt) in [("unseal_yaml", "yaml"), ("unseal_env", "env")] {
        let mut r = run(
            name,
            &["unseal", "paper", "--key", "demo-key.pem", "--format", fmt],
        );
        r.files
            .push(("demo-key.pem", demo_key.clone().into_bytes()));
        r.stdout_is_output = true;
        v.push(r);
    }
    let mut d = run(
        "diff",
        &[
            "diff",
            "paper",
            "--from",
            "good.env",
            "--key",
            "demo-key.pem",
        ],
    );
    d.files
        .push(("demo-key.pem", demo_key.clone().into_bytes()));
    v.push(d);
    v.extend(mistagged_and_one_line_key_runs());
    v.extend(sealed_first_runs(&demo_key));
    v.extend(render_runs());
    let mut i = run("init", &["init", "prod", "--no-input"]);
    i.files.push((
        "k8s/overlays/prod/prod-secrets.env.example",
        good_env().into_bytes(),
    ));
    i.plaintext_files.extend([
        "k8s/overlays/prod/prod-secrets.env.example",
        "k8s/overlays/prod/prod-secrets.env",
    ]);
    v.push(i);
    let mut m = run(
        "migrate",
        &[
            "prod",
            "--from",
            "good.env",
            "--migrate",
            "--cert",
            "k8s/overlays/paper/sealing-cert.pem",
        ],
    );
    m.plaintext_files.push("good.env");
    v.push(m);
    v
}

/// Inputs whose parsers' own words would quote them: a Secret value under a YAML tag it does not
/// match (`!!int VALUE`: the decoder's message quotes the scalar), in a file the paper overlay
/// lists and in one no overlay reads; and a private key pasted on one line after the paper
/// certificate (its "label" would run to the key's end).
fn mistagged_and_one_line_key_runs() -> Vec<Run> {
    let [pg, redis, api] = SENTINELS;
    let tagged = |name: &str, value: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n  password: !!int {value}\n"
        )
    };
    let root = common::repo_root();
    let paper = std::fs::read_to_string(root.join("k8s/overlays/paper/kustomization.yaml"))
        .unwrap()
        .replacen("resources:\n", "resources:\n  - tagged.yaml\n", 1);
    assert!(paper.contains("- tagged.yaml"));
    // Built at run time: no source line may hold a private key's BEGIN marker.
    let label = "PRIVATE KEY";
    let cert = std::fs::read_to_string(root.join("k8s/overlays/paper/sealing-cert.pem")).unwrap()
        + &format!("-----BEGIN {label}-----MIIEv{api}-----END {label}-----\n");
    let tree: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "k8s/overlays/paper/tagged.yaml",
            tagged("tagged", pg).into_bytes(),
        ),
        ("k8s/overlays/paper/kustomization.yaml", paper.into_bytes()),
        ("k8s/stray/tagged.yaml", tagged("stray", redis).into_bytes()),
        ("k8s/overlays/paper/sealing-cert.pem", cert.into_bytes()),
    ];
    [
        ("mistagged_check", &["check", "--format", "github"][..]),
        ("mistagged_check_json", &["check", "--format", "json"][..]),
        (
            "mistagged_seal",
            &["paper", "--from", "good.env", "--dry-run"][..],
        ),
        ("one_line_key_cert", &["cert", "paper"][..]),
    ]
    .into_iter()
    .map(|(name, args)| {
        let mut r = run(name, args);
        r.files.clone_from(&tree);
        r.plaintext_files.extend(tree.iter().map(|(path, _)| *path));
        r
    })
    .collect()
}

/// `check --render=always` with the real `kubectl kustomize` (a missing kubectl fails under
/// CI=true). On the planted tree the dev render holds the bare value line as a key name, so its
/// Secret's keys diverge from the model's (which leave such lines out). With a clean dev env file
/// the dev overlay renders plaintext Secrets (the env file's values and the planted Secret's); a
/// `replacements:` entry the model does not follow makes each render diverge, proof that the
/// renders were read and compared.
fn render_runs() -> Vec<Run> {
    if common::kubectl().is_none() {
        return Vec::new();
    }
    let mut v = Vec::new();
    for (name, fmt) in [
        ("check_render_keys", "text"),
        ("check_render_keys_json", "json"),
    ] {
        let mut r = run(name, &["check", "--render=always", "--format", fmt]);
        r.stdout_must = vec!["model-divergence", "more not shown"];
        v.push(r);
    }
    let [pg, redis, api] = SENTINELS;
    let clean = format!("POSTGRES_PASSWORD={pg}\nREDIS_PASSWORD={redis}\nAPI_KEY={api}\n");
    let kustomization = String::from_utf8(planted()[2].1.clone()).unwrap()
        + "replacements:\n  - source: {kind: ConfigMap, name: emp-config, fieldPath: metadata.name}\n    targets:\n      - select: {kind: Deployment}\n        fieldPaths: [spec.template.spec.serviceAccountName]\n";
    for (name, fmt) in [
        ("check_render_plaintext", "text"),
        ("check_render_plaintext_sarif", "sarif"),
    ] {
        let mut r = run(name, &["check", "--render=always", "--format", fmt]);
        r.files.push((PLANTED[0], clean.clone().into_bytes()));
        r.files
            .push((PLANTED[2], kustomization.clone().into_bytes()));
        r.stdout_must = vec!["model-divergence", "overlay dev: "];
        v.push(r);
    }
    v
}

/// `unseal` and `diff` on their success path: the same sandbox is sealed first (paper's
/// certificate is the demo one, whose private key the tests hold). `unseal`'s stdout is the
/// output the user asked for; its stderr and every file are still audited. `diff` must print no
/// value at all, for an unchanged env file and for one where a value changed, a key was added
/// and a key went.
fn sealed_first_runs(demo_key: &str) -> Vec<Run> {
    let seal: Vec<&'static str> = vec!["paper", "--from", "good.env"];
    let changed = format!(
        "POSTGRES_PASSWORD={}\nAPI_KEY={}\nNEW_KEY={}\n",
        SENTINELS[1], SENTINELS[2], SENTINELS[0]
    );
    let mut v = Vec::new();
    for (name, args) in [
        (
            "sealed_unseal_yaml",
            &[
                "unseal",
                "paper",
                "--key",
                "demo-key.pem",
                "--format",
                "yaml",
            ][..],
        ),
        (
            "sealed_unseal_env",
            &[
                "unseal",
                "paper",
                "--key",
                "demo-key.pem",
                "--format",
                "env",
            ][..],
        ),
        (
            "sealed_unseal_file",
            &[
                "unseal",
                "k8s/overlays/paper/sealedsecret.yaml",
                "--key",
                "demo-key.pem",
            ][..],
        ),
        (
            "sealed_diff_same",
            &[
                "diff",
                "paper",
                "--from",
                "good.env",
                "--key",
                "demo-key.pem",
            ][..],
        ),
        (
            "sealed_diff_changed",
            &[
                "diff",
                "paper",
                "--from",
                "changed.env",
                "--key",
                "demo-key.pem",
            ][..],
        ),
    ] {
        let mut r = run(name, args);
        r.files.push(("demo-key.pem", demo_key.as_bytes().to_vec()));
        r.files.push(("changed.env", changed.clone().into_bytes()));
        r.plaintext_files.push("changed.env");
        r.before.push(seal.clone());
        r.stdout_is_output = name.starts_with("sealed_unseal");
        // diff exits 1 when the file and the sealed values differ.
        r.must_succeed = name != "sealed_diff_changed";
        r.stdout_must = match name {
            "sealed_diff_same" => vec!["= POSTGRES_PASSWORD", "= REDIS_PASSWORD", "= API_KEY"],
            "sealed_diff_changed" => vec![
                "~ POSTGRES_PASSWORD",
                "- REDIS_PASSWORD",
                "= API_KEY",
                "+ NEW_KEY",
            ],
            _ => Vec::new(),
        };
        v.push(r);
    }
    v
}

#[test]
fn sentinels_never_leak_from_any_command() {
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for r in runs() {
        match audit(&r) {
            Ok(v) => summary.push(format!("{}={v}", r.name)),
            Err(e) => failures.push(e),
        }
    }
    eprintln!("leak audit: {}", summary.join(", "));
    assert!(failures.is_empty(), "leaks:\n{}", failures.join("\n"));
}

/// The sealed file holds ciphertext only, and sealing twice with the same env file and the
/// controller's key (`--key`) is byte-stable; and what `unseal` would print is never in it.
#[test]
fn sealed_output_is_ciphertext_only() {
    let s = Sandbox::new();
    let out = s
        .cmd()
        .args(["paper", "--from", "good.env"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(s.path("k8s/overlays/paper/sealedsecret.yaml")).unwrap();
    for f in forms() {
        assert!(!text.contains(&f), "sealed file holds {f}");
    }
    let file = emp_seal::sealedsecret::SealedSecretFile::parse(&text).unwrap();
    let (_, doc) = file.sealed_secrets().next().unwrap();
    let key =
        emp_seal::keys::load_private_keys(fixtures::demo_key_pem().as_bytes(), "demo").unwrap();
    let label = emp_seal::crypto::Scope::Strict.label("emp-paper", "emp-secrets");
    for e in &doc.encrypted_data {
        let plain = emp_seal::crypto::unseal_base64(&key, &label, &e.value).unwrap();
        assert!(
            SENTINELS
                .iter()
                .any(|s| s.as_bytes() == plain.expose_secret()),
            "{} decrypts to a sentinel",
            e.key
        );
    }
}

/// No flag or positional takes a secret: every value-taking argument names a path, a name, an
/// id list, a URL or an enum, by clap's own definition of the CLI.
#[test]
fn no_argument_takes_a_secret_value() {
    use clap::CommandFactory;
    const ALLOWED: &[&str] = &[
        "DIR", "FILE", "PATH", "ENV", "KEYS", "KEY", "IDS", "URL", "ENV|PATH", "ENV|FILE",
    ];
    const FORBIDDEN: &[&str] = &["value", "secret", "password", "token", "literal", "plain"];
    // Reviewed exceptions: arguments that take the *name* of a Kubernetes object, never a value
    // (`check --allow-runtime-secret NAME`, `seal --name NAME` picking a SealedSecret).
    const SECRET_NAMES: &[&str] = &["allow_runtime_secrets", "name"];
    fn walk(cmd: &clap::Command, path: &str, seen: &mut usize, bad: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let takes_value = a.get_action().takes_values();
            if !takes_value {
                continue;
            }
            *seen += 1;
            let id = a.get_id().as_str().to_lowercase();
            let names: Vec<String> = a
                .get_value_names()
                .map(|v| v.iter().map(ToString::to_string).collect())
                .unwrap_or_default();
            let is_enum = !a.get_possible_values().is_empty();
            if SECRET_NAMES.contains(&id.as_str()) {
                assert_eq!(names, ["NAME"], "{path} --{id} takes an object name");
                continue;
            }
            if FORBIDDEN.iter().any(|f| id.contains(f)) {
                bad.push(format!("{path} --{id}: id looks like a secret"));
            }
            if !is_enum && !names.iter().all(|n| ALLOWED.contains(&n.as_str())) {
                bad.push(format!(
                    "{path} {id}: value name {names:?} not a path/name/id"
                ));
            }
            if let Some(env) = a.get_env() {
                // kubeseal's own prefix names the product, not the value.
                let env = env.to_string_lossy().to_lowercase();
                let env = env.trim_start_matches("sealed_secrets_").to_string();
                if FORBIDDEN.iter().any(|f| env.contains(f)) {
                    bad.push(format!("{path} {id}: env var {env} looks like a secret"));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), seen, bad);
        }
    }
    let mut seen = 0;
    let mut bad = Vec::new();
    walk(
        &emp_seal::cli::args::Cli::command(),
        "emp-seal",
        &mut seen,
        &mut bad,
    );
    assert!(seen >= 15, "walked {seen} value-taking arguments");
    assert!(bad.is_empty(), "{bad:?}");
}

/// Panic audit: outside `#[cfg(test)]`, `src/` has no `panic!`, `unreachable!`, `todo!`,
/// `unimplemented!`, `unwrap()`, `assert!`, `dbg!`, and every `expect` message is a plain
/// `"invariant: ..."` literal: no panic message can format a value.
#[test]
fn no_panic_message_can_carry_a_value() {
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut all = Vec::new();
    files(&common::repo_root().join("src"), &mut all);
    assert!(all.len() > 20);
    let mut bad = Vec::new();
    let mut expects = 0;
    for f in all {
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (i, line) in code.lines().enumerate() {
            let l = line.trim_start();
            if l.starts_with("//") {
                continue;
            }
            let at = format!("{}:{}", f.display(), i + 1);
            for banned in [
                "panic!(",
                "unreachable!(",
                "todo!(",
                "unimplemented!(",
                ".unwrap()",
                "assert!(",
                "assert_eq!(",
                "dbg!(",
            ] {
                if l.contains(banned) {
                    bad.push(format!("{at}: {banned}"));
                }
            }
            if let Some(pos) = l.find(".expect(") {
                expects += 1;
                let rest = &l[pos + ".expect(".len()..];
                if !rest.starts_with("\"invariant: ") || rest.contains('{') {
                    bad.push(format!(
                        "{at}: expect message is not a plain invariant literal"
                    ));
                }
            } else if l.starts_with(".expect(") || l.ends_with(".expect(") {
                bad.push(format!("{at}: expect message on another line"));
            }
        }
    }
    eprintln!("panic audit: {expects} expect(\"invariant: ...\") sites, no other panics");
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Issue 14 item 8: a private key pasted into env files inside the checked tree (the dev
/// overlay's real `dev-secrets.env`, which the generator reads, and a `.env.example`) never
/// appears in any output: every rule runs on it, in every output format, plus `seal` and `diff`
/// from that file. Each file gives exactly one `env-multiline-value` finding, on the BEGIN line.
#[test]
fn issue_14_pasted_private_key_never_leaks_from_any_rule_or_format() {
    use crate::lifecycle::{demo_key, run, s, tree, write};
    use crate::seal_safety::{PEM_BODY, pasted_pem};
    // A value alone on a line without `=` (line 10), and a JSON blob (lines 11-14).
    const BARE: &str = "bareSENTINELtoken0123456789XyZ";
    const JSON_SECRET: &str = "jsonSENTINEL-private-key-material";
    let t = tree();
    let root = t.path();
    let dev = "k8s/overlays/dev/dev-secrets.env";
    let example = "k8s/overlays/prod/prod-secrets.env.example";
    write(
        &root.join(dev),
        &format!(
            "POSTGRES_PASSWORD=p\n{}REDIS_PASSWORD=r\nAPI_KEY=a\n{BARE}\nJSON_KEY={{\n  \"private_key\": \"{JSON_SECRET}\",\n  \"type\": \"service_account\"\n}}\n",
            pasted_pem("TLS_KEY")
        ),
    );
    let old_example = std::fs::read_to_string(root.join(example)).unwrap();
    let example_first = old_example.lines().count() + 1;
    write(
        &root.join(example),
        &format!("{old_example}{}", pasted_pem("GCP_KEY")),
    );
    let leaked = |what: &str, out: &str| {
        for piece in [BARE, JSON_SECRET, "service_account"] {
            assert!(!out.contains(piece), "{what}: `{piece}` leaked:\n{out}");
        }
        for line in PEM_BODY {
            // The whole line, its key part (before a `=`), and its middle third.
            let key = line.split('=').next().unwrap();
            let mid = &line[line.len() / 3..2 * line.len() / 3];
            for piece in [line, key, mid] {
                assert!(!out.contains(piece), "{what}: `{piece}` leaked:\n{out}");
            }
        }
    };
    let key = demo_key(root);
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["check"],
        vec!["check", "--show-suppressed"],
        vec!["check", "--release", "paper"],
        vec!["check", dev, example],
        vec!["seal", "paper", "--from", dev],
        vec!["seal", "paper", "--from", dev, "--dry-run"],
        vec!["diff", "paper", "--from", dev, "--key", s(&key)],
        vec!["init", "prod", "--no-input"],
    ];
    for f in ["text", "json", "sarif", "github"] {
        runs.push(vec!["check", "--format", f]);
    }
    // The real kustomize reads the pasted file too, and makes key names of its lines.
    if common::kubectl().is_some() {
        runs.push(vec!["check", "--render=always"]);
        runs.push(vec!["check", "--render=always", "--format", "json"]);
    }
    for args in &runs {
        let o = run(root, args);
        leaked(&format!("{args:?} stdout"), &o.stdout);
        leaked(&format!("{args:?} stderr"), &o.stderr);
    }
    // The findings: one per pasted value, on its first line, nothing on the lines after it.
    let o = run(root, &["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    let findings = v["findings"].as_array().expect("findings");
    let on = |path: &str, line: u64| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["location"]["path"] == path && f["location"]["line"] == line)
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(on(dev, 10), ["env-missing-equals"], "the bare value line");
    assert_eq!(on(dev, 11), ["env-multiline-value"], "the JSON blob");
    for line in 12..=14 {
        assert!(on(dev, line).is_empty(), "line {line}: {:?}", on(dev, line));
    }
    for (path, first) in [
        (dev, 2u64),
        (example, u64::try_from(example_first).unwrap()),
    ] {
        let mine: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| f["location"]["path"] == path)
            .filter(|f| f["rule"].as_str().unwrap().starts_with("env-"))
            .filter(|f| {
                let l = f["location"]["line"].as_u64().unwrap();
                l >= first && l <= first + 5
            })
            .collect();
        assert_eq!(mine.len(), 1, "{path}: {mine:#?}");
        assert_eq!(mine[0]["rule"], "env-multiline-value", "{path}");
        assert_eq!(mine[0]["location"]["line"], first, "{path}");
        assert_eq!(mine[0]["severity"], "error", "{path}");
    }
    if common::kubectl().is_some() {
        // The render audited above reached kustomize, which made key names of the pasted lines.
        let o = run(root, &["check", "--render=always", "--format", "json"]);
        assert!(
            o.stdout.contains("\"model-divergence\"") && o.stdout.contains("more not shown"),
            "{}",
            o.stdout
        );
    }
    let seal = run(root, &["seal", "paper", "--from", dev]);
    assert_eq!(seal.code, 2, "{}", seal.stderr);
    assert!(
        seal.stderr.contains(&format!("{dev}:2: a PEM block")),
        "{}",
        seal.stderr
    );
}

/// The paper SealedSecret with `API_KEY` sealed with the 2048-bit TEST ONLY certificate (`b-cert.pem`
/// below) and the other keys with the demo certificate, each for the paper label and holding a
/// sentinel: a reseal with B's key opens `API_KEY` only. Built in process, since `seal` does not
/// write a file whose values two certificates sealed (its records would not hold for them all).
fn mixed_paper_file() -> Vec<u8> {
    let [pg, redis, api] = SENTINELS;
    let demo = emp_seal::cert::Certificate::from_pem(fixtures::demo_cert_pem().as_bytes()).unwrap();
    let text =
        std::fs::read_to_string(common::repo_root().join("k8s/overlays/paper/sealedsecret.yaml"))
            .unwrap();
    let b = fixtures::public_key(2048);
    [
        ("API_KEY", &b, api),
        ("POSTGRES_PASSWORD", demo.public_key(), pg),
        ("REDIS_PASSWORD", demo.public_key(), redis),
    ]
    .into_iter()
    .fold(text, |t, (k, key, v)| {
        let ct = emp_seal::crypto::seal(key, b"emp-paper/emp-secrets", v.as_bytes()).unwrap();
        let ct = emp_seal::crypto::encode_value(&ct);
        t.replace(
            &format!("{k}: AgAAAAAAAAAA...REPLACE_ME"),
            &format!("{k}: {ct}"),
        )
    })
    .into_bytes()
}

/// Issue 17: `reseal` opens every sealed value in memory and seals it again; none of it may
/// reach stdout, stderr, the tree (outside the ciphertext it writes) or `TMPDIR`. The paper
/// overlay is first sealed from the sentinel env file with another certificate (the 2048-bit
/// TEST ONLY pair, `b-cert.pem`), so that `reseal --key b-key.pem` really re-encrypts every value
/// to paper's own (demo) certificate. Audited: that success path, its `--dry-run`, and the
/// refusal after some values opened (`API_KEY` sealed with B, the others with the demo
/// certificate, whose key is not given), with and without `--skip-unopened`.
#[test]
fn issue_17_reseal_never_leaks() {
    let b_files = || {
        vec![
            ("b-cert.pem", fixtures::cert_pem(2048).into_bytes()),
            ("b-key.pem", fixtures::key_pem(2048).into_bytes()),
        ]
    };
    let sealed_with_b: Vec<&'static str> = vec![
        "seal",
        "paper",
        "--from",
        "good.env",
        "--cert",
        "b-cert.pem",
    ];
    let reseal_b = ["reseal", "paper", "--key", "b-key.pem"];
    let mut runs = Vec::new();

    let mut ok = run("reseal", &reseal_b);
    ok.before.push(sealed_with_b.clone());
    ok.must_succeed = true;
    runs.push((ok, "ok"));

    let mut dry = run("reseal_dry_run", &[&reseal_b[..], &["--dry-run"]].concat());
    dry.before.push(sealed_with_b.clone());
    dry.must_succeed = true;
    runs.push((dry, "ok"));

    let mixed = ("k8s/overlays/paper/sealedsecret.yaml", mixed_paper_file());
    let mut refused = run("reseal_refused_unopened", &reseal_b);
    refused.files.push(mixed.clone());
    runs.push((refused, "ok (failed run)"));

    let mut skip = run(
        "reseal_skip_unopened",
        &[&reseal_b[..], &["--skip-unopened"]].concat(),
    );
    skip.files.push(mixed);
    skip.must_succeed = true;
    runs.push((skip, "ok"));

    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for (mut r, want) in runs {
        r.files.extend(b_files());
        match audit(&r) {
            Ok(v) if v == want => summary.push(format!("{}={v}", r.name)),
            Ok(v) => failures.push(format!("{}: {v}, expected {want}", r.name)),
            Err(e) => failures.push(e),
        }
    }
    eprintln!("reseal leak audit: {}", summary.join(", "));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A key or an env file given where its path belongs (a CI variable set to the content instead
/// of to a file holding it, a line of a key pasted as `--key`) is refused without being shown:
/// exit 2, one `error:` line naming the option, no sentinel and no line of the key, no file
/// changed.
#[test]
fn content_given_as_a_path_is_never_shown() {
    let s = Sandbox::new();
    let before = s.snapshot();
    let key = fixtures::demo_key_pem();
    let key_line = key.lines().nth(1).unwrap().to_owned();
    let env = good_env();
    let one_line = format!("POSTGRES_PASSWORD={}", SENTINELS[0]);
    // (the option named, a variable and its value, the arguments)
    type Case<'a> = (&'a str, Option<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: [Case<'_>; 5] = [
        (
            "--key",
            Some(("SEALED_SECRETS_RECOVERY_PRIVATE_KEY", &key)),
            vec!["unseal", "paper"],
        ),
        // seal reads the variable for its optional --key, asked for or not.
        (
            "--key",
            Some(("SEALED_SECRETS_RECOVERY_PRIVATE_KEY", &key)),
            vec!["seal", "paper", "--from", "good.env", "--dry-run"],
        ),
        (
            "--from",
            Some(("EMP_SEAL_FROM", &env)),
            vec!["seal", "paper", "--dry-run"],
        ),
        ("--key", None, vec!["unseal", "paper", "--key", &key_line]),
        (
            "--from",
            None,
            vec!["diff", "paper", "--from", &one_line, "--key", "k.pem"],
        ),
    ];
    for (option, var, args) in cases {
        let mut cmd = s.cmd();
        if let Some((name, value)) = var {
            cmd.env(name, value);
        }
        let out = cmd.args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("error: the value of {option}"))
                && first.contains("is not a file path")
                && first.contains("(not shown)"),
            "{args:?}: {stderr}"
        );
        let lines: Vec<&str> = key.lines().filter(|l| l.len() > 20).collect();
        for leaked in forms().iter().map(String::as_str).chain(lines) {
            assert!(!stderr.contains(leaked), "{args:?}: {stderr}");
        }
    }
    assert_eq!(s.snapshot(), before, "no file changed");
}
