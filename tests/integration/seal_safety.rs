//! Issue 14, items 8-10: `seal` never quietly weakens a secret. A pasted multi-line value is
//! refused, `--prune` keeps keys the workloads read unless `--force` (which names them), env-file
//! warnings are printed (fatal under `--strict`), and several environments never write one shared
//! file with different certificates or identities. Every test runs the real binary on a
//! temporary copy of `k8s/` (or a small tree written here) and checks the target is unchanged on
//! every refusal.

use std::path::Path;

use crate::common;
use crate::lifecycle::{emp, read, run, s, tree, unsealed, write};

const PAPER: &str = "k8s/overlays/paper/sealedsecret.yaml";

/// A private key as someone would paste it into an env file; each body line is a sentinel.
pub(crate) const PEM_BODY: [&str; 4] = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7pastedSENTINEL1",
    "pastedSENTINEL2abcdefGHIJKLmnopQRSTuvwxYZ0123456789abcdefGHIJKLmn==",
    "pasted+SENTINEL3/with+slash/and+plus/abcdefGHIJKLmnopQRSTuvwxYZ01",
    "9pastedSENTINEL4startsWithADigit",
];

/// `KEY=-----BEGIN PRIVATE KEY-----`, the body, `-----END PRIVATE KEY-----`; the BEGIN line is
/// line `first`.
pub(crate) fn pasted_pem(key: &str) -> String {
    format!(
        "{key}=-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        PEM_BODY.join("\n")
    )
}

/// The one `error:` line of a run refused with exit 2.
fn the_error(o: &crate::lifecycle::Out) -> &str {
    assert_eq!(o.code, 2, "{}", o.stderr);
    let errors: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", o.stderr);
    errors[0]
}

#[test]
fn issue_14_seal_refuses_a_pasted_pem_naming_its_first_line() {
    let t = tree();
    let root = t.path();
    let before = read(&root.join(PAPER));
    let from = root.join("work/pasted.env");
    write(
        &from,
        &format!(
            "API_KEY=a\nPOSTGRES_PASSWORD=p\n{}REDIS_PASSWORD=r\n",
            pasted_pem("TLS_KEY")
        ),
    );
    for extra in [
        &[][..],
        &["--dry-run"][..],
        &["--stdout"][..],
        &["--no-input"][..],
    ] {
        let mut args = vec!["paper", "--from", s(&from)];
        args.extend_from_slice(extra);
        let o = run(root, &args);
        let error = the_error(&o);
        assert!(
            error.contains("work/pasted.env:3:") && error.contains("PEM"),
            "{}",
            o.stderr
        );
        for line in PEM_BODY {
            assert!(
                !o.stderr.contains(line) && !o.stdout.contains(line),
                "{line} in {o:?}",
                o = o.stderr
            );
        }
        assert!(!o.stderr.contains("SENTINEL") && !o.stdout.contains("SENTINEL"));
        assert_eq!(read(&root.join(PAPER)), before, "{args:?} changed the file");
    }
    // A JSON blob: refused at its first line.
    write(
        &from,
        "API_KEY=a\nGCP={\n  \"private_key\": \"jsonSENTINEL\"\n}\nPOSTGRES_PASSWORD=p\nREDIS_PASSWORD=r\n",
    );
    let o = run(root, &["paper", "--from", s(&from)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("work/pasted.env:2: a JSON value continues over the lines up to 4"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("SENTINEL"), "{}", o.stderr);
    assert_eq!(read(&root.join(PAPER)), before);
    // A lone value-looking line without `=` is refused by its line number only.
    write(
        &from,
        "API_KEY=a\nPOSTGRES_PASSWORD=p\nREDIS_PASSWORD=r\nhunter2SENTINEL\n",
    );
    let o = run(root, &["paper", "--from", s(&from)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("work/pasted.env:4 has no '='"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("SENTINEL"), "{}", o.stderr);
    assert_eq!(read(&root.join(PAPER)), before);
}

#[test]
fn issue_14_prune_keeps_keys_the_workloads_read_unless_forced() {
    let t = tree();
    let root = t.path();
    // First seal all three keys, so the file holds real ciphertext for each.
    let full = root.join("work/full.env");
    write(&full, "API_KEY=a\nPOSTGRES_PASSWORD=p\nREDIS_PASSWORD=r\n");
    let o = run(root, &["paper", "--from", s(&full)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let sealed = read(&root.join(PAPER));

    // REDIS_PASSWORD is read by the TriggerAuthentication's secretTargetRef.
    let partial = root.join("work/partial.env");
    write(&partial, "API_KEY=a2\nPOSTGRES_PASSWORD=p2\n");
    let o = run(root, &["paper", "--from", s(&partial), "--prune"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("--prune would remove keys the workloads read: REDIS_PASSWORD (read by TriggerAuthentication/"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("--force"), "{}", o.stderr);
    assert_eq!(
        read(&root.join(PAPER)),
        sealed,
        "refused prune changed the file"
    );

    // A key nobody reads is pruned without --force.
    let extra = root.join("work/extra.env");
    write(
        &extra,
        "API_KEY=a\nPOSTGRES_PASSWORD=p\nREDIS_PASSWORD=r\nUNREAD=u\n",
    );
    assert_eq!(run(root, &["paper", "--from", s(&extra)]).code, 0);
    let o = run(root, &["paper", "--from", s(&full), "--prune"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!unsealed(root).contains_key("UNREAD"));

    let o = run(
        root,
        &["paper", "--from", s(&partial), "--prune", "--force"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let warning = o
        .stderr
        .lines()
        .find(|l| l.starts_with("warning: paper: --prune --force removes keys the workloads read"))
        .unwrap_or_else(|| panic!("no warning: {}", o.stderr));
    assert!(
        warning.contains("REDIS_PASSWORD (read by TriggerAuthentication/emp-"),
        "{warning}"
    );
    let got = unsealed(root);
    assert!(!got.contains_key("REDIS_PASSWORD"), "{:?}", got.keys());
    assert_eq!(got["API_KEY"], b"a2");
}

#[test]
fn issue_14_env_warnings_are_printed_and_fatal_under_strict() {
    let t = tree();
    let root = t.path();
    let before = read(&root.join(PAPER));
    let from = root.join("work/lints.env");
    write(
        &from,
        "API_KEY=\"quotedSENTINEL\"\nPOSTGRES_PASSWORD=pgSENTINEL # inline\nREDIS_PASSWORD=\nEXTRA=trailingSENTINEL  \n",
    );
    let o = run(root, &["paper", "--from", s(&from), "--strict"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let error = o
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("error line");
    for want in [
        "work/lints.env: --strict",
        "line 1 `API_KEY`",
        "[env-quoted-value]",
        "line 2 `POSTGRES_PASSWORD`",
        "[env-inline-comment]",
        "line 3 `REDIS_PASSWORD`",
        "[empty-value]",
        "line 4 `EXTRA`",
        "[env-trailing-whitespace]",
    ] {
        assert!(error.contains(want), "`{want}` not in {error}");
    }
    assert!(!o.stderr.contains("SENTINEL"), "{}", o.stderr);
    assert_eq!(read(&root.join(PAPER)), before, "--strict wrote the file");

    let o = run(root, &["paper", "--from", s(&from)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for want in [
        "warning: work/lints.env:1: `API_KEY`: a quoted value whose quotes kustomize keeps [env-quoted-value]",
        "warning: work/lints.env:2: `POSTGRES_PASSWORD`: a ` #` comment that kustomize keeps in the value [env-inline-comment]",
        "warning: work/lints.env:3: `REDIS_PASSWORD`: an empty value, sealed as the empty string [empty-value]",
        "warning: work/lints.env:4: `EXTRA`: trailing whitespace kept in the value [env-trailing-whitespace]",
    ] {
        assert!(o.stderr.contains(want), "`{want}` not in {}", o.stderr);
    }
    assert!(!o.stderr.contains("SENTINEL"), "{}", o.stderr);
    // Sealed as kustomize reads them: the quotes and the comment are part of the values.
    let got = unsealed(root);
    assert_eq!(got["API_KEY"], b"\"quotedSENTINEL\"");
    assert_eq!(got["POSTGRES_PASSWORD"], b"pgSENTINEL # inline");
    assert_eq!(got["REDIS_PASSWORD"], b"");
    // --migrate does not report the warnings, so it refuses --strict rather than ignore it.
    let o = run(root, &["prod", "--from", s(&from), "--migrate", "--strict"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("--migrate cannot be combined with --strict"),
        "{}",
        o.stderr
    );
    // The other seal options --migrate has no use for are refused too, and nothing is written.
    let kustomization = root.join("k8s/overlays/prod/kustomization.yaml");
    let before_migrate = read(&kustomization);
    for extra in [&["--rescope"][..], &["--force"], &["--name", "emp-secrets"]] {
        let mut args = vec!["prod", "--from", s(&from), "--migrate"];
        args.extend_from_slice(extra);
        let o = run(root, &args);
        assert_eq!(o.code, 2, "{extra:?}: {}", o.stderr);
        let want = format!("--migrate cannot be combined with {}", extra[0]);
        assert!(o.stderr.contains(&want), "`{want}` not in {}", o.stderr);
        assert_eq!(read(&kustomization), before_migrate, "{extra:?} wrote");
        assert!(!root.join("k8s/overlays/prod/sealedsecret.yaml").exists());
    }
    // A clean file warns about nothing.
    let clean = root.join("work/clean.env");
    // (EXTRA is sealed now, so the overlay needs it.)
    write(
        &clean,
        "API_KEY=a\nPOSTGRES_PASSWORD=p\nREDIS_PASSWORD=r\nEXTRA=e\n",
    );
    let o = run(root, &["paper", "--from", s(&clean), "--strict"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stderr.contains("warning:"), "{}", o.stderr);
}

/// A SealedSecret in a base that two overlays share: two overlays with `namespace` (optionally
/// different) and a certificate each.
fn shared_tree(ns_a: &str, ns_b: &str, cert_b: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path();
    write(
        &root.join("k8s/base/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - sealedsecret.yaml\n",
    );
    write(
        &root.join("k8s/base/sealedsecret.yaml"),
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\nspec:\n  encryptedData:\n    API_KEY: AgAAAAAAAAAA...REPLACE_ME\n  template:\n    type: Opaque\n",
    );
    let demo = read(&common::repo_root().join("k8s/overlays/paper/sealing-cert.pem"));
    for (env, ns, cert) in [
        ("a", ns_a, demo.clone()),
        ("b", ns_b, read(&common::repo_root().join(cert_b))),
    ] {
        write(
            &root.join(format!("k8s/overlays/{env}/kustomization.yaml")),
            &format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nresources:\n  - ../../base\n"
            ),
        );
        write(
            &root.join(format!("k8s/overlays/{env}/sealing-cert.pem")),
            &cert,
        );
    }
    write(&root.join("work/in.env"), "API_KEY=sharedSENTINEL\n");
    t
}

#[test]
fn issue_14_multi_env_seal_refuses_one_shared_file_with_different_certs_or_identities() {
    const DEMO: &str = "k8s/overlays/paper/sealing-cert.pem";
    const OTHER: &str = "tests/fixtures/certs/rsa-2048-cert.pem";
    for (ns_b, cert_b, want) in [
        ("team", OTHER, "different certificates"),
        (
            "other-team",
            DEMO,
            "different identities (strict team/app-secrets, strict other-team/app-secrets)",
        ),
    ] {
        let t = shared_tree("team", ns_b, cert_b);
        let root = t.path();
        let before = read(&root.join("k8s/base/sealedsecret.yaml"));
        let o = emp(root)
            .args(["seal", "a", "b", "--from", "work/in.env"])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        let error = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .expect("error line");
        assert!(
            error.contains(
                "k8s/base/sealedsecret.yaml: environments `a` and `b` both seal this file"
            ) && error.contains(want),
            "{error}"
        );
        assert!(!stderr.contains("SENTINEL"));
        assert_eq!(read(&root.join("k8s/base/sealedsecret.yaml")), before);
        // One environment at a time is refused too: `b`'s controller reads the same file, and
        // could not open values sealed for `a`.
        let o = emp(root)
            .args(["seal", "a", "--from", "work/in.env"])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(
                "error: k8s/base/sealedsecret.yaml: environment `b` also renders this SealedSecret"
            ) && stderr.contains(want),
            "{stderr}"
        );
        assert_eq!(read(&root.join("k8s/base/sealedsecret.yaml")), before);
    }
    // Same certificate, same rendered identity: both environments agree, and the run succeeds.
    let t = shared_tree("team", "team", DEMO);
    let o = emp(t.path())
        .args(["seal", "a", "b", "--from", "work/in.env"])
        .output()
        .expect("run");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// An environment that renders the shared file without a namespace is named so in the refusal:
/// `strict <no namespace>/app-secrets`, not `strict /app-secrets`.
#[test]
fn seal_names_an_identity_without_a_namespace_as_such() {
    let t = shared_tree("team", "unused", "k8s/overlays/paper/sealing-cert.pem");
    let root = t.path();
    let b = root.join("k8s/overlays/b/kustomization.yaml");
    write(&b, &read(&b).replace("namespace: unused\n", ""));
    let before = read(&root.join("k8s/base/sealedsecret.yaml"));
    let o = run(root, &["seal", "a", "--from", "work/in.env"]);
    let error = the_error(&o);
    assert!(
        error.contains("environment `b` also renders this SealedSecret")
            && error.contains(
                "identities (strict team/app-secrets, strict <no namespace>/app-secrets)"
            ),
        "{error}"
    );
    assert!(!o.stderr.contains("SENTINEL"));
    assert_eq!(read(&root.join("k8s/base/sealedsecret.yaml")), before);
}

/// An environment whose build may read the shared file but whose overlay cannot be loaded (its
/// kustomization does not parse, or a resource of its build does not) renders that file in an
/// unknown way: seal refuses, naming it and why, and writes nothing. An environment known not
/// to reach the file does not block the seal, however broken.
#[test]
fn seal_refuses_a_shared_file_when_another_environment_that_may_render_it_cannot_be_loaded() {
    const DEMO: &str = "k8s/overlays/paper/sealing-cert.pem";
    const SHARED: &str = "k8s/base/sealedsecret.yaml";
    let head =
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team\n";
    let broken = [
        // Its kustomization does not parse: what it includes is unknown.
        (
            "k8s/overlays/b/kustomization.yaml",
            "namespace: [team\nresources:\n  - ../../base\n".to_owned(),
            "k8s/overlays/b/kustomization.yaml:",
        ),
        // It includes the base, and a resource of its own that does not parse.
        (
            "k8s/overlays/b/kustomization.yaml",
            format!("{head}resources:\n  - ../../base\n  - broken.yaml\n"),
            "k8s/overlays/b/broken.yaml:",
        ),
    ];
    for (file, text, why) in broken {
        let t = shared_tree("team", "team", DEMO);
        let root = t.path();
        write(
            &root.join("k8s/overlays/b/broken.yaml"),
            "kind: [ConfigMap\n",
        );
        write(&root.join(file), &text);
        let before = read(&root.join(SHARED));
        let o = run(root, &["seal", "a", "--from", "work/in.env"]);
        let error = the_error(&o);
        assert!(
            error.starts_with(&format!("error: {SHARED}: environment `b`"))
                && error.contains("cannot be loaded")
                && error.contains(why),
            "{}",
            o.stderr
        );
        let help = o.stderr.lines().find(|l| l.starts_with("help:"));
        assert!(
            help.is_some_and(|h| h.contains("fix") && h.contains("its own SealedSecret")),
            "{}",
            o.stderr
        );
        assert!(!o.stderr.contains("SENTINEL"));
        assert_eq!(read(&root.join(SHARED)), before, "{file}: written");
    }
    // `c` includes only its own directory (discovery read its kustomization): broken as it is,
    // it cannot render the base's file, and `a` seals.
    let t = shared_tree("team", "team", DEMO);
    let root = t.path();
    write(
        &root.join("k8s/overlays/c/kustomization.yaml"),
        &format!("{head}resources:\n  - broken.yaml\n"),
    );
    write(
        &root.join("k8s/overlays/c/broken.yaml"),
        "kind: [ConfigMap\n",
    );
    let o = run(root, &["seal", "a", "--from", "work/in.env"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

/// Seal names a file an overlay reaches through `../` by its repository-relative path, with `.`
/// and `..` steps resolved lexically: in its summary, its dry run and its errors.
#[test]
fn seal_messages_name_a_base_file_by_its_normalised_path() {
    const DEMO: &str = "k8s/overlays/paper/sealing-cert.pem";
    let t = shared_tree("team", "team", DEMO);
    let root = t.path();
    for (args, code, want) in [
        (
            &["seal", "a", "--from", "work/in.env", "--dry-run"][..],
            0,
            "a (strict team/app-secrets): would rewrite k8s/base/sealedsecret.yaml",
        ),
        (
            &["seal", "a", "--from", "work/in.env", "--name", "nope"],
            2,
            "(it renders `app-secrets` in k8s/base/sealedsecret.yaml)",
        ),
        (
            &["seal", "a", "b", "--from", "work/in.env"],
            0,
            "a: wrote k8s/base/sealedsecret.yaml",
        ),
    ] {
        let o = run(root, args);
        assert_eq!(o.code, code, "{args:?}: {}", o.stderr);
        let all = format!("{}{}", o.stdout, o.stderr);
        assert!(all.contains(want), "{args:?}: `{want}` not in {all}");
        assert!(!all.contains("/../"), "{args:?}: {all}");
    }
}

/// An overlay `a` (namespace `team`) over the given layers (`(dir, namePrefix, base dir)`: each a
/// kustomization with that prefix over a base holding a SealedSecret `app-secrets`), plus its own
/// SealedSecret named `own` when given.
fn layered_tree(layers: &[(&str, &str, &str)], own: Option<&str>) -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path();
    let kust = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
    let sealed = |name: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\nspec:\n  encryptedData:\n    API_KEY: AgAAAAAAAAAA...REPLACE_ME\n  template:\n    type: Opaque\n"
        )
    };
    let mut resources = String::new();
    for (dir, prefix, base) in layers {
        write(
            &root.join(format!("k8s/{base}/kustomization.yaml")),
            &format!("{kust}resources:\n  - sealedsecret.yaml\n"),
        );
        write(
            &root.join(format!("k8s/{base}/sealedsecret.yaml")),
            &sealed("app-secrets"),
        );
        write(
            &root.join(format!("k8s/{dir}/kustomization.yaml")),
            &format!("{kust}namePrefix: {prefix}\nresources:\n  - ../{base}\n"),
        );
        resources.push_str(&format!("  - ../../{dir}\n"));
    }
    if let Some(name) = own {
        write(
            &root.join("k8s/overlays/a/sealedsecret.yaml"),
            &sealed(name),
        );
        resources.push_str("  - sealedsecret.yaml\n");
    }
    write(
        &root.join("k8s/overlays/a/kustomization.yaml"),
        &format!("{kust}namespace: team\nresources:\n{resources}"),
    );
    write(
        &root.join("k8s/overlays/a/sealing-cert.pem"),
        &read(&common::repo_root().join("k8s/overlays/paper/sealing-cert.pem")),
    );
    write(&root.join("work/in.env"), "API_KEY=sharedSENTINEL\n");
    t
}

/// `--name` takes the rendered name; the name in the file is accepted when it picks one
/// SealedSecret. A name that is one SealedSecret's rendered name and another's name in the file
/// picks the rendered one; a name in the file that several render under other names is refused
/// naming what they render as, never as "renders no SealedSecret named".
#[test]
fn seal_name_takes_the_rendered_name_and_an_unambiguous_name_in_the_file() {
    let dry = |root: &Path, name: &str| {
        run(
            root,
            &[
                "seal",
                "a",
                "--from",
                "work/in.env",
                "--name",
                name,
                "--dry-run",
            ],
        )
    };
    let rewrites = |o: &crate::lifecycle::Out, what: &str| {
        assert_eq!(o.code, 0, "{}", o.stderr);
        let want = format!("a (strict {what}): would rewrite ");
        assert!(o.stdout.contains(&want), "`{want}` not in {}", o.stdout);
    };
    // One SealedSecret renamed by a layer: either name picks it.
    let t = layered_tree(&[("mid", "mid-", "base")], None);
    rewrites(&dry(t.path(), "app-secrets"), "team/mid-app-secrets");
    rewrites(&dry(t.path(), "mid-app-secrets"), "team/mid-app-secrets");
    // `app-secrets` is the overlay's own SealedSecret's rendered name and the base's name in
    // its file: the rendered name wins.
    let t = layered_tree(&[("mid", "mid-", "base")], Some("app-secrets"));
    let o = dry(t.path(), "app-secrets");
    rewrites(&o, "team/app-secrets");
    assert!(
        o.stdout.contains("k8s/overlays/a/sealedsecret.yaml"),
        "{}",
        o.stdout
    );
    rewrites(&dry(t.path(), "mid-app-secrets"), "team/mid-app-secrets");
    // Two SealedSecrets named `app-secrets` in their files, rendered under two other names.
    let t = layered_tree(&[("mid", "mid-", "base"), ("mid2", "mid2-", "base2")], None);
    let before = read(&t.path().join("k8s/base/sealedsecret.yaml"));
    let o = run(
        t.path(),
        &[
            "seal",
            "a",
            "--from",
            "work/in.env",
            "--name",
            "app-secrets",
        ],
    );
    let error = the_error(&o);
    assert!(
        !error.contains("renders no SealedSecret named")
            && error.contains("`mid-app-secrets` in k8s/base/sealedsecret.yaml")
            && error.contains("`mid2-app-secrets` in k8s/base2/sealedsecret.yaml")
            && error.contains("--name takes the rendered name"),
        "{}",
        o.stderr
    );
    assert_eq!(read(&t.path().join("k8s/base/sealedsecret.yaml")), before);
    rewrites(&dry(t.path(), "mid2-app-secrets"), "team/mid2-app-secrets");
}

/// An environment that renders the shared file, but whose certificate cannot be used (missing,
/// or not a certificate) or whose render of it emp-seal does not model (`replacements`), may
/// need other values than the run seals: seal refuses, naming it and why, and writes nothing.
#[test]
fn seal_refuses_a_shared_file_another_environment_renders_with_an_unknown_certificate_or_identity()
{
    const DEMO: &str = "k8s/overlays/paper/sealing-cert.pem";
    const SHARED: &str = "k8s/base/sealedsecret.yaml";
    let replacements = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team\nresources:\n  - ../../base\nreplacements:\n  - source: {kind: ConfigMap, name: x, fieldPath: data.ns}\n    targets:\n      - select: {kind: SealedSecret}\n        fieldPaths: [metadata.namespace]\n";
    let cases: [(&str, Option<&str>, &str); 3] = [
        (
            "k8s/overlays/b/sealing-cert.pem",
            None,
            "its certificate cannot be used",
        ),
        (
            "k8s/overlays/b/sealing-cert.pem",
            Some("not a certificate\n"),
            "its certificate cannot be used",
        ),
        (
            "k8s/overlays/b/kustomization.yaml",
            Some(replacements),
            "k8s/overlays/b/kustomization.yaml:6: `replacements` is not modelled",
        ),
    ];
    for (file, text, why) in cases {
        let t = shared_tree("team", "team", DEMO);
        let root = t.path();
        match text {
            Some(text) => write(&root.join(file), text),
            None => std::fs::remove_file(root.join(file)).expect("rm"),
        }
        let before = read(&root.join(SHARED));
        let o = run(root, &["seal", "a", "--from", "work/in.env"]);
        let error = the_error(&o);
        assert!(
            error.starts_with(&format!("error: {SHARED}: environment `b`")) && error.contains(why),
            "{file}: `{why}` not in {}",
            o.stderr
        );
        assert_eq!(read(&root.join(SHARED)), before, "{file}: written");
    }
}
