//! Secret and `ConfigMap` generators as kustomize builds them: `behavior: merge` and `replace`,
//! generated objects that collide, generator entries kustomize refuses, `generatorOptions`, and
//! `generators:` files; and `List` resources, whose items kustomize renders.
//!
//! Every case runs the real binary on a tree written into a temp git repository, and the real
//! `kubectl kustomize` (v5) is the oracle: what a test calls unbuildable fails to build there,
//! and what it calls rendered is in kubectl's render. Env files are gitignored, as in a real
//! repository; kubectl renders a copy of the tree in which each `*.env.example` is copied to its
//! env file (as CI would fill them).
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use crate::common::{self, check_hits as check, line_of, of, write};

const DEPLOYMENT_HEAD: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels:
      app: a
  template:
    metadata:
      labels:
        app: a
    spec:
      containers:
        - name: c
          image: nginx
";

/// A Deployment whose container reads `key` of Secret `secret`.
fn deployment_reading(secret: &str, key: &str) -> String {
    format!(
        "{DEPLOYMENT_HEAD}          env:\n            - name: V\n              valueFrom:\n                secretKeyRef:\n                  name: {secret}\n                  key: {key}\n"
    )
}

/// A Deployment whose container takes every key of Secret `secret` (`envFrom`).
fn deployment_env_from(secret: &str) -> String {
    format!(
        "{DEPLOYMENT_HEAD}          envFrom:\n            - secretRef:\n                name: {secret}\n"
    )
}

/// `files` in a temp git repository that ignores `*.env` (everything staged).
fn repo(files: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    common::staged_repo(&[&[(".gitignore", "*.env\n")][..], files].concat())
}

/// Copies every `*.env.example` under `dir` to its env file.
fn fill_env_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            fill_env_files(&p);
        } else if let Some(env) = p.to_str().and_then(|s| s.strip_suffix(".example")) {
            std::fs::copy(&p, env).unwrap();
        }
    }
}

/// kubectl's build of `overlay` (repo-relative) in a copy of the tree whose env files are
/// filled from their examples: `Ok(render)` or `Err(stderr)`; `None` when kubectl is missing
/// outside CI.
fn kubectl_build(root: &Path, overlay: &str) -> Option<Result<String, String>> {
    common::kubectl()?;
    let copy = tempfile::tempdir().unwrap();
    common::copy_dir(root, copy.path());
    fill_env_files(copy.path());
    let out = common::kustomize_raw(&copy.path().join(overlay));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Some(if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    })
}

// ---------------------------------------------------------------------------------------------
// behavior: replace

/// The base generates `app-secrets` with `BASE_KEY` and the Deployment reads it; the dev overlay
/// (or a component it includes) replaces the Secret with one holding `DEV_KEY` only. Env files
/// are absent (only their `.example`s are tracked, as on CI).
fn replaced_in(replace_in_component: bool) -> Option<tempfile::TempDir> {
    let replace = "secretGenerator:\n  - name: app-secrets\n    behavior: replace\n    envs:\n      - dev.env\n";
    let mut files = vec![
        (
            "base/kustomization.yaml",
            "resources:\n  - deploy.yaml\nsecretGenerator:\n  - name: app-secrets\n    envs:\n      - base.env\n".to_owned(),
        ),
        ("base/base.env.example", "BASE_KEY=\n".to_owned()),
        ("base/deploy.yaml", deployment_reading("app-secrets", "BASE_KEY")),
    ];
    if replace_in_component {
        files.push((
            "overlays/dev/kustomization.yaml",
            "resources:\n  - ../../base\ncomponents:\n  - ../../components/swap\n".to_owned(),
        ));
        let component =
            format!("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n{replace}");
        files.push(("components/swap/kustomization.yaml", component));
        files.push(("components/swap/dev.env.example", "DEV_KEY=\n".to_owned()));
    } else {
        files.push((
            "overlays/dev/kustomization.yaml",
            format!("resources:\n  - ../../base\n{replace}"),
        ));
        files.push(("overlays/dev/dev.env.example", "DEV_KEY=\n".to_owned()));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    repo(&files)
}

/// `behavior: replace` drops the keys of the Secret it replaces, also when its env files are
/// absent and their `.example`s stand in: the Deployment reading a dropped key is reported.
#[test]
fn a_replaced_generator_loses_the_keys_of_the_one_it_replaces() {
    for in_component in [false, true] {
        let Some(t) = replaced_in(in_component) else {
            return;
        };
        if let Some(render) = kubectl_build(t.path(), "overlays/dev") {
            let render = render.unwrap();
            // The Secret's data holds DEV_KEY only (the Deployment still names BASE_KEY).
            assert!(render.contains("DEV_KEY: \"\""), "{render}");
            assert!(!render.contains("BASE_KEY:"), "{render}");
        }
        let (code, hits) = check(t.path(), &[]);
        assert_eq!(code, 1, "{hits:?}");
        let missing = of(&hits, "missing-secret-key");
        assert_eq!(missing.len(), 1, "component {in_component}: {hits:?}");
        assert_eq!(missing[0].path, "base/deploy.yaml");
        assert!(missing[0].message.contains("BASE_KEY"), "{missing:?}");
    }
}

/// A generator with `behavior: replace` or `merge` onto a Secret written in a file (not
/// generated): kustomize puts the generated object in its place, with the written `data` merged
/// in for `merge` only, and the written `stringData` dropped either way. A Deployment reading a
/// key the generator dropped is reported; one reading a key it added is not.
#[test]
fn a_generator_merging_onto_a_written_secret_gives_it_the_generated_keys() {
    let written = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\ndata:\n  OLD: b2xk\nstringData:\n  PLAIN: x\n";
    for behavior in ["replace", "merge"] {
        let overlay = format!(
            "resources:\n  - ../../base\nsecretGenerator:\n  - name: token\n    behavior: {behavior}\n    literals:\n      - NEW=\n"
        );
        let deploy = format!(
            "{DEPLOYMENT_HEAD}          env:\n            - name: A\n              valueFrom:\n                secretKeyRef:\n                  name: token\n                  key: OLD\n            - name: B\n              valueFrom:\n                secretKeyRef:\n                  name: token\n                  key: NEW\n            - name: C\n              valueFrom:\n                secretKeyRef:\n                  name: token\n                  key: PLAIN\n"
        );
        let Some(t) = repo(&[
            (
                "base/kustomization.yaml",
                "resources:\n  - deploy.yaml\n  - secret.yaml\n",
            ),
            ("base/secret.yaml", written),
            ("base/deploy.yaml", &deploy),
            ("overlays/dev/kustomization.yaml", &overlay),
        ]) else {
            return;
        };
        if let Some(render) = kubectl_build(t.path(), "overlays/dev") {
            let render = render.unwrap();
            assert!(render.contains("NEW: \"\""), "{render}");
            assert_eq!(
                render.contains("OLD: b2xk"),
                behavior == "merge",
                "{render}"
            );
            assert!(!render.contains("PLAIN: x"), "{render}");
        }
        let render = if common::kubectl().is_some() {
            "always"
        } else {
            "never"
        };
        let (code, hits) = check(t.path(), &["--release", "dev", "--render", render]);
        assert_eq!(code, 1, "{behavior}: {hits:?}");
        assert!(
            of(&hits, "model-divergence").is_empty(),
            "{behavior}: {hits:?}"
        );
        let missing: Vec<u64> = of(&hits, "missing-secret-key")
            .iter()
            .map(|h| h.line)
            .collect();
        let at = |key: &str| line_of(t.path(), "base/deploy.yaml", &format!("key: {key}"));
        let want = match behavior {
            "merge" => vec![at("PLAIN")],
            _ => vec![at("OLD"), at("PLAIN")],
        };
        assert_eq!(missing, want, "{behavior}: {hits:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The same generated object twice

/// Runs check on `t` and asserts exactly one `overlay-build-error`, at `rel` on the line holding
/// `needle` (the `n`-th such line, 1-based) and whose message holds `words`; kubectl fails to
/// build `overlay` with `kubectl_says`.
fn one_build_error(
    t: &Path,
    overlay: &str,
    (rel, needle, n): (&str, &str, usize),
    words: &str,
    kubectl_says: &str,
) {
    if let Some(built) = kubectl_build(t, overlay) {
        let err = built.expect_err("kubectl builds what emp-seal calls unbuildable");
        assert!(err.contains(kubectl_says), "{err}");
    }
    let (code, hits) = check(t, &[]);
    assert_eq!(code, 1, "{hits:?}");
    let errs = of(&hits, "overlay-build-error");
    assert_eq!(errs.len(), 1, "{hits:?}");
    let text = std::fs::read_to_string(t.join(rel)).unwrap();
    let line = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(n - 1)
        .map(|(i, _)| u64::try_from(i + 1).unwrap());
    assert_eq!(
        (errs[0].path.as_str(), Some(errs[0].line)),
        (rel, line),
        "{hits:?}"
    );
    assert!(errs[0].message.contains(words), "{}", errs[0].message);
}

/// Two bases each generating Secret `shared`: the overlay including both is refused by kustomize
/// ("may not add resource with an already registered id").
#[test]
fn two_bases_generating_one_secret_is_a_build_error() {
    let base =
        |env: &str| format!("secretGenerator:\n  - name: shared\n    envs:\n      - {env}\n");
    let a = format!("resources:\n  - deploy.yaml\n{}", base("a.env"));
    let deploy = deployment_reading("shared", "A");
    let Some(t) = repo(&[
        ("base/a/kustomization.yaml", &a),
        ("base/a/a.env.example", "A=\n"),
        ("base/a/deploy.yaml", &deploy),
        ("base/b/kustomization.yaml", &base("b.env")),
        ("base/b/b.env.example", "B=\n"),
        (
            "overlays/dev/kustomization.yaml",
            "resources:\n  - ../../base/a\n  - ../../base/b\n",
        ),
    ]) else {
        return;
    };
    one_build_error(
        t.path(),
        "overlays/dev",
        ("base/b/kustomization.yaml", "name: shared", 1),
        "Secret `shared` is defined twice (also at base/a/kustomization.yaml:4)",
        "may not add resource with an already registered id: Secret.v1.[noGrp]/shared",
    );
}

const GENERATOR_ONE: &str = "apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: gen-secrets\nenvs:\n  - one.env\n";
const GENERATOR_TWO: &str = "apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: gen-secrets\nbehavior: merge\nenvs:\n  - two.env\n";

/// Two `generators:` configurations of one kind and name, in two files or two documents of one
/// file, are refused by kustomize, whatever their behavior.
#[test]
fn one_generator_name_declared_twice_under_generators_is_a_build_error() {
    let both = format!("{GENERATOR_ONE}---\n{GENERATOR_TWO}");
    // (generators: entries, their files, where the second declaration is, its nth name line)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, usize);
    let cases: [Case<'_>; 2] = [
        (
            "generators:\n  - gen1.yaml\n  - gen2.yaml\n",
            &[("gen1.yaml", GENERATOR_ONE), ("gen2.yaml", GENERATOR_TWO)],
            "overlays/dev/gen2.yaml",
            1,
        ),
        (
            "generators:\n  - gen.yaml\n",
            &[("gen.yaml", &both)],
            "overlays/dev/gen.yaml",
            2,
        ),
    ];
    let deploy = deployment_env_from("gen-secrets");
    for (kustomization, generators, rel, nth) in cases {
        let k = format!("resources:\n  - deploy.yaml\n{kustomization}");
        let mut files = vec![
            ("overlays/dev/kustomization.yaml".to_owned(), k),
            ("overlays/dev/deploy.yaml".to_owned(), deploy.clone()),
            ("overlays/dev/one.env.example".to_owned(), "A=\n".to_owned()),
            ("overlays/dev/two.env.example".to_owned(), "B=\n".to_owned()),
        ];
        for (name, text) in generators {
            files.push((format!("overlays/dev/{name}"), (*text).to_owned()));
        }
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let Some(t) = repo(&files) else {
            return;
        };
        one_build_error(
            t.path(),
            "overlays/dev",
            (rel, "name: gen-secrets", nth),
            "SecretGenerator `gen-secrets` is declared twice",
            "may not add resource with an already registered id: SecretGenerator.builtin.[noGrp]/gen-secrets",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// kind: List

const LIST: &str = "\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Secret
    metadata:
      name: plain
    stringData:
      A: \"\"
  - apiVersion: v1
    kind: List
    items:
      - apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: app
        spec:
          selector:
            matchLabels:
              app: a
          template:
            metadata:
              labels:
                app: a
            spec:
              containers:
                - name: c
                  image: nginx
                  env:
                    - name: V
                      valueFrom:
                        secretKeyRef:
                          name: plain
                          key: B
";

/// kustomize renders the items of a `List` (nested ones too): the model has them, so the
/// Deployment inside reading a key the Secret inside lacks is reported at that reference, and
/// nothing is left unmodelled.
#[test]
fn the_items_of_a_list_are_in_the_model() {
    let Some(t) = repo(&[
        (
            "overlays/dev/kustomization.yaml",
            "namespace: app\nresources:\n  - list.yaml\n",
        ),
        ("overlays/dev/list.yaml", LIST),
    ]) else {
        return;
    };
    if let Some(render) = kubectl_build(t.path(), "overlays/dev") {
        let render = render.unwrap();
        for line in ["kind: Secret", "name: plain", "kind: Deployment", "key: B"] {
            assert!(render.contains(line), "{render}");
        }
    }
    let (code, hits) = check(t.path(), &["--release", "dev"]);
    assert_eq!(code, 1, "{hits:?}");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].rule, "missing-secret-key", "{hits:?}");
    // At the reference's `key: B`, inside the nested List.
    let line = line_of(t.path(), "overlays/dev/list.yaml", "key: B");
    assert_eq!(
        (hits[0].path.as_str(), hits[0].line),
        ("overlays/dev/list.yaml", line)
    );
}

/// A `SealedSecret` inside a `List` is rendered, and the rules read it like a document: its
/// record names another namespace than it renders in (`identity-mismatch` at the item's record),
/// and the overlay is not reported not fully modelled.
#[test]
fn a_sealed_secret_inside_a_list_is_not_passed_unread() {
    let list = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: bitnami.com/v1alpha1\n    kind: SealedSecret\n    metadata:\n      name: app-secrets\n      annotations:\n        emp-seal.dev/sealed-for: strict other/app-secrets\n    spec:\n      encryptedData: {}\n";
    let Some(t) = repo(&[
        (
            "overlays/dev/kustomization.yaml",
            "namespace: app\nresources:\n  - list.yaml\n",
        ),
        ("overlays/dev/list.yaml", list),
    ]) else {
        return;
    };
    if let Some(render) = kubectl_build(t.path(), "overlays/dev") {
        assert!(render.unwrap().contains("kind: SealedSecret"));
    }
    let (code, hits) = check(t.path(), &["--release", "dev"]);
    assert_eq!(code, 1, "{hits:?}");
    assert!(of(&hits, "overlay-not-modelled").is_empty(), "{hits:?}");
    let mismatch = of(&hits, "identity-mismatch");
    assert_eq!(mismatch.len(), 1, "{hits:?}");
    let line = line_of(
        t.path(),
        "overlays/dev/list.yaml",
        "emp-seal.dev/sealed-for",
    );
    assert_eq!(
        (mismatch[0].path.as_str(), mismatch[0].line),
        ("overlays/dev/list.yaml", line)
    );
}

// ---------------------------------------------------------------------------------------------
// Generator entries kustomize refuses

/// Overlay `dev`: a Deployment taking every key of Secret `s`, the given generator entries, and
/// `dev.env.example` (`A=`).
fn refused_case(generators: &str) -> Option<tempfile::TempDir> {
    let k = format!("resources:\n  - deploy.yaml\n{generators}");
    repo(&[
        ("overlays/dev/kustomization.yaml", &k),
        ("overlays/dev/deploy.yaml", &deployment_env_from("s")),
        ("overlays/dev/dev.env.example", "A=\n"),
    ])
}

/// Each entry kustomize refuses is one `overlay-build-error` in the kustomization, at the line
/// holding the needle; kubectl fails on it.
#[test]
fn generator_entries_kustomize_refuses_are_build_errors() {
    let named = "secretGenerator:\n  - name: s\n    envs:\n      - dev.env\n";
    let cases = [
        (
            format!("{named}    files:\n      - tls.key=key.pem\n"),
            "- tls.key=key.pem",
            "key.pem",
            "evalsymlink failure",
        ),
        (
            format!("{named}  - literals:\n      - B=\n"),
            "- literals:",
            "without a name",
            "must have a name",
        ),
        (
            "secretGenerator:\n  - name: s\n    envs: dev.env\n".to_owned(),
            "envs:",
            "a list of strings",
            "cannot unmarshal string",
        ),
        (
            format!("{named}    literals: B=1\n"),
            "literals:",
            "a list of strings",
            "cannot unmarshal string",
        ),
        (
            format!("{named}    options:\n      disableNameSuffixHash: \"true\"\n"),
            "disableNameSuffixHash",
            "true or false",
            "cannot unmarshal string",
        ),
        (
            format!("{named}    options: {{immutable: 'yes'}}\n"),
            "options:",
            "true or false",
            "cannot unmarshal string",
        ),
        (
            format!("generatorOptions:\n  disableNameSuffixHash: \"yes\"\n{named}"),
            "disableNameSuffixHash",
            "`generatorOptions.disableNameSuffixHash` must be a boolean",
            "cannot unmarshal string",
        ),
        (
            format!("{named}    literals:\n      - \"=\"\n"),
            "- \"=\"",
            "literals",
            "invalid literal source",
        ),
        (
            format!("{named}    files:\n      - a=b=c\n"),
            "- a=b=c",
            "a=b=c",
            "contains '='",
        ),
        (
            format!("{named}    files:\n      - =dev.env.example\n"),
            "- =dev.env.example",
            "=dev.env.example",
            "missing key name",
        ),
    ];
    for (generators, needle, words, kubectl_says) in cases {
        let Some(t) = refused_case(&generators) else {
            return;
        };
        one_build_error(
            t.path(),
            "overlays/dev",
            ("overlays/dev/kustomization.yaml", needle, 1),
            words,
            kubectl_says,
        );
    }
}

/// A problem with one `files:` entry (its file absent, outside the overlay, or a link in the
/// overlay leading out of it) is reported at that entry's line, as an `envs:` entry's is, not at
/// the generator's `name:`; kubectl refuses each.
#[test]
fn a_refused_files_entry_is_reported_at_its_own_line() {
    let k = "overlays/dev/kustomization.yaml";
    for (entry, words, kubectl_says) in [
        ("B=absent.txt", "cannot be read", "evalsymlink failure"),
        (
            "B=../shared/ca.txt",
            "is not in or below overlays/dev",
            "is not in or below",
        ),
        (
            "B=linked.txt",
            "(a link to overlays/shared/ca.txt)",
            "is not in or below",
        ),
    ] {
        let generator = format!(
            "configMapGenerator:\n  - name: ca\n    files:\n      - A=ok.txt\n      - {entry}\n"
        );
        let Some(t) = repo(&[
            (k, &generator),
            ("overlays/dev/ok.txt", "fine\n"),
            ("overlays/shared/ca.txt", "not a secret\n"),
        ]) else {
            return;
        };
        let link = t.path().join("overlays/dev/linked.txt");
        std::os::unix::fs::symlink("../shared/ca.txt", link).unwrap();
        common::git(t.path(), &["add", "-A"]);
        if common::kubectl().is_some() {
            let out = common::kustomize_raw(&t.path().join("overlays/dev"));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "kubectl builds {entry}");
            assert!(err.contains(kubectl_says), "{entry}: {err}");
        }
        let (code, hits) = check(t.path(), &[]);
        let errs = of(&hits, "overlay-build-error");
        assert_eq!(errs.len(), 1, "{entry}: {hits:?}");
        assert_eq!(
            (errs[0].path.as_str(), errs[0].line),
            (k, line_of(t.path(), k, entry)),
            "{hits:?}"
        );
        assert_ne!(errs[0].line, line_of(t.path(), k, "name: ca"));
        assert!(errs[0].message.contains(words), "{}", errs[0].message);
        assert_eq!(code, 1, "{hits:?}");
    }
}

/// A `files:` source that is absent like an env file, with a tracked `.example` beside it,
/// stands in for it as an env file's example does: no build error.
#[test]
fn an_absent_generator_file_with_an_example_is_not_an_error() {
    let generators = "secretGenerator:\n  - name: s\n    files:\n      - A=token.env\n";
    let k = format!("resources:\n  - deploy.yaml\n{generators}");
    let Some(t) = repo(&[
        ("overlays/dev/kustomization.yaml", &k),
        ("overlays/dev/deploy.yaml", &deployment_reading("s", "A")),
        ("overlays/dev/token.env.example", "x"),
    ]) else {
        return;
    };
    if let Some(render) = kubectl_build(t.path(), "overlays/dev") {
        assert!(render.unwrap().contains("A: eA=="));
    }
    let (_, hits) = check(t.path(), &[]);
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
}

/// A `ConfigMap` generator giving one key from its env file and its literals is refused by
/// kustomize ("illegally repeats the key").
#[test]
fn a_config_map_generator_repeating_a_key_is_a_build_error() {
    let generators = "secretGenerator:\n  - name: s\n    envs:\n      - dev.env\nconfigMapGenerator:\n  - name: cm\n    envs:\n      - config.properties\n    literals:\n      - A=1\n";
    let Some(t) = refused_case(generators) else {
        return;
    };
    write(t.path(), "overlays/dev/config.properties", "A=0\n");
    common::git(t.path(), &["add", "-A"]);
    one_build_error(
        t.path(),
        "overlays/dev",
        ("overlays/dev/kustomization.yaml", "name: cm", 1),
        "key `A` twice",
        "illegally repeats the key",
    );
}

// ---------------------------------------------------------------------------------------------
// generatorOptions, YAML 1.1 booleans and behavior

/// Overlay `dev`: a `TriggerAuthentication` naming Secret `s` (a field kustomize does not
/// rewrite, so the Secret must render without a hash) and the given generator settings.
fn unhashed_case(kustomization: &str) -> Option<tempfile::TempDir> {
    let ta = "apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: ta\nspec:\n  secretTargetRef:\n    - parameter: p\n      name: s\n      key: A\n";
    let k = format!("resources:\n  - ta.yaml\n{kustomization}");
    repo(&[
        ("overlays/dev/kustomization.yaml", &k),
        ("overlays/dev/ta.yaml", ta),
        ("overlays/dev/dev.env.example", "A=\n"),
    ])
}

/// kubectl renders Secret `s` without a hash suffix, and check passes: a global
/// `disableNameSuffixHash: true` (in any case: Go's JSON decoding) wins over the entry's `false`;
/// a YAML 1.1 `yes`/`on` is true in a kustomization; an unknown `behavior` (`Create`, `MERGE`) creates.
#[test]
fn generator_settings_kustomize_accepts_are_read_as_it_reads_them() {
    let entry = "secretGenerator:\n  - name: s\n    envs:\n      - dev.env\n";
    let cases = [
        format!(
            "generatorOptions:\n  disableNameSuffixHash: true\n{entry}    options:\n      disableNameSuffixHash: false\n"
        ),
        format!("generatorOptions:\n  disableNameSuffixHash: yes\n{entry}"),
        format!("generatorOptions:\n  DisableNameSuffixHash: true\n{entry}"),
        format!("{entry}    options: {{disableNameSuffixHash: On}}\n"),
        format!("{entry}    behavior: Create\n    options:\n      disableNameSuffixHash: Y\n"),
        format!("{entry}    behavior: MERGE\n    options:\n      disableNameSuffixHash: true\n"),
    ];
    for k in cases {
        let Some(t) = unhashed_case(&k) else {
            return;
        };
        if let Some(render) = kubectl_build(t.path(), "overlays/dev") {
            let render = render.unwrap();
            assert!(
                render.contains("kind: Secret\nmetadata:\n  name: s\n"),
                "{k}\n{render}"
            );
        }
        let (code, hits) = check(t.path(), &[]);
        assert_eq!((code, hits.len()), (0, 0), "{k}\n{hits:?}");
    }
}

/// A `generators:` file's field in another case (`Literals:`) is read by kustomize (Go's JSON
/// decoding matches field names case-insensitively), not by the model: the overlay is reported
/// not fully modelled, as for an inline entry, and the model's findings are unverified.
#[test]
fn a_generator_file_field_in_another_case_is_not_modelled() {
    let Some(t) = unhashed_case("generators:\n  - g.yaml\n") else {
        return;
    };
    let g = "apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: s\nLiterals:\n  - A=\noptions:\n  disableNameSuffixHash: true\n";
    write(t.path(), "overlays/dev/g.yaml", g);
    common::git(t.path(), &["add", "-A"]);
    if let Some(render) = kubectl_build(t.path(), "overlays/dev") {
        assert!(render.unwrap().contains("  A: \"\""));
    }
    let (_, hits) = check(t.path(), &[]);
    // The model's findings stand, marked unverified (as for an inline entry's `Envs:`).
    let missing = of(&hits, "missing-secret-key");
    assert!(missing.iter().all(|h| h.unverified.is_some()), "{hits:?}");
    let gaps = of(&hits, "overlay-not-modelled");
    assert_eq!(gaps.len(), 1, "{hits:?}");
    let line = line_of(t.path(), "overlays/dev/g.yaml", "Literals:");
    assert_eq!(
        (gaps[0].path.as_str(), gaps[0].line),
        ("overlays/dev/g.yaml", line)
    );
}

// ---------------------------------------------------------------------------------------------
// A key given again by a merge or replace entry

/// The base generates `app-secrets` from `base.env` (`API_KEY`, `MODE`); overlay `dev` gives
/// `API_KEY` again with an entry of `behavior` whose sources are `sources` (YAML lines under the
/// entry). Env files are absent, their `.example`s tracked.
fn regiven(behavior: &str, sources: &str) -> Option<tempfile::TempDir> {
    let dev = format!(
        "resources:\n  - ../../base\nsecretGenerator:\n  - name: app-secrets\n    behavior: {behavior}\n{sources}"
    );
    repo(&[
        (
            "base/kustomization.yaml",
            "resources:\n  - deploy.yaml\nsecretGenerator:\n  - name: app-secrets\n    envs:\n      - base.env\n",
        ),
        ("base/base.env.example", "API_KEY=\nMODE=\n"),
        ("base/deploy.yaml", &deployment_env_from("app-secrets")),
        ("overlays/dev/kustomization.yaml", &dev),
        ("overlays/dev/dev.env.example", "API_KEY=\n"),
    ])
}

/// A `behavior: merge` or `replace` entry giving a key the base's entry gives overrides it, and
/// kustomize builds it: `example-generator-mismatch` used to call the key "given more than once".
#[test]
fn a_key_given_again_by_a_merge_or_replace_entry_is_no_repeat() {
    let env = "    envs:\n      - dev.env\n";
    let literal = "    literals:\n      - API_KEY=\n";
    for (behavior, sources) in [("merge", env), ("replace", env), ("merge", literal)] {
        let Some(t) = regiven(behavior, sources) else {
            return;
        };
        if let Some(render) = kubectl_build(t.path(), "overlays/dev") {
            let render = render.unwrap();
            assert!(render.contains("API_KEY: \"\""), "{render}");
            assert_eq!(render.contains("MODE:"), behavior == "merge", "{render}");
        }
        let (_, hits) = check(t.path(), &[]);
        let repeats = of(&hits, "example-generator-mismatch");
        assert!(repeats.is_empty(), "{behavior} {sources:?}: {hits:?}");
    }
}

/// One entry giving a key twice (its env file and its literals) is refused by kustomize, also
/// when it merges into the base's: reported once, at that entry.
#[test]
fn a_merge_entry_repeating_a_key_itself_is_reported_at_that_entry() {
    let sources = "    envs:\n      - dev.env\n    literals:\n      - API_KEY=\n";
    let Some(t) = regiven("merge", sources) else {
        return;
    };
    if let Some(built) = kubectl_build(t.path(), "overlays/dev") {
        let err = built.unwrap_err();
        assert!(err.contains("illegally repeats the key"), "{err}");
    }
    let (_, hits) = check(t.path(), &[]);
    let repeats = of(&hits, "example-generator-mismatch");
    assert_eq!(repeats.len(), 1, "{hits:?}");
    let rel = "overlays/dev/kustomization.yaml";
    let at = (repeats[0].path.as_str(), repeats[0].line);
    assert_eq!(at, (rel, line_of(t.path(), rel, "- name: app-secrets")));
    assert!(
        repeats[0]
            .message
            .contains("(literals, overlays/dev/dev.env)"),
        "{}",
        repeats[0].message
    );
}

/// A `literals:` item kustomize refuses (no `=`, or no key before it) is reported at that item's
/// line, as a `files:` or `envs:` entry is, not at the generator's `name:`; kubectl refuses each.
#[test]
fn a_refused_literals_item_is_reported_at_its_own_line() {
    let k = "overlays/dev/kustomization.yaml";
    for item in ["NOEQUALS", "=1"] {
        let generator = format!(
            "configMapGenerator:\n  - name: cm\n    literals:\n      - A=1\n      - {item}\n"
        );
        let Some(t) = repo(&[(k, &generator)]) else {
            return;
        };
        if common::kubectl().is_some() {
            let out = common::kustomize_raw(&t.path().join("overlays/dev"));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "kubectl builds {item}");
            assert!(err.contains("invalid literal source"), "{item}: {err}");
        }
        let (code, hits) = check(t.path(), &[]);
        let errs = of(&hits, "overlay-build-error");
        assert_eq!(errs.len(), 1, "{item}: {hits:?}");
        let item_line = line_of(t.path(), k, &format!("- {item}"));
        assert_eq!(
            (errs[0].path.as_str(), errs[0].line),
            (k, item_line),
            "{hits:?}"
        );
        assert!(
            errs[0].message.contains("item 2 of `literals:`"),
            "{}",
            errs[0].message
        );
        assert_eq!(code, 1, "{hits:?}");
    }
}

/// One plugin entry case: the kustomization, whether kubectl builds it, the rule the model
/// reports at the entry's line (None: no finding there), and what kubectl's error names.
struct EntryCase {
    kustomization: String,
    builds: bool,
    rule: Option<&'static str>,
    kubectl_says: &'static str,
}

/// `generators:` and `transformers:` entries are told apart as kustomize tells them: text that
/// reads as objects (each with a kind and a metadata.name), or as nothing, is inline
/// configuration, whatever its layout (one line of JSON too); text that does not is a path, and
/// naming nothing fails the build; a URL is fetched. kubectl is the oracle of each.
#[test]
fn generator_and_transformer_entries_are_classified_as_kustomize_does() {
    let json = r#"{\"apiVersion\":\"builtin\",\"kind\":\"ConfigMapGenerator\",\"metadata\":{\"name\":\"x\"},\"literals\":[\"a=b\"]}"#;
    let cases = [
        EntryCase {
            kustomization: format!("generators:\n  - \"{json}\"\n"),
            builds: true,
            // A builtin generator given inline is modelled, as a file's is.
            rule: None,
            kubectl_says: "",
        },
        EntryCase {
            kustomization: "generators:\n  - \"\"\n".to_owned(),
            builds: true,
            rule: None,
            kubectl_says: "",
        },
        EntryCase {
            kustomization: "generators:\n  - |\n    literals:\n      - a=b\n".to_owned(),
            builds: false,
            rule: Some("overlay-build-error"),
            kubectl_says: "no such file or directory",
        },
        EntryCase {
            kustomization: "transformers:\n  - missing.yaml\n".to_owned(),
            builds: false,
            rule: Some("overlay-build-error"),
            kubectl_says: "no such file or directory",
        },
        EntryCase {
            kustomization: "generators:\n  - https://example.invalid/gen.yaml\n".to_owned(),
            builds: false,
            rule: Some("overlay-not-modelled"),
            kubectl_says: "accumulating resources from 'https://example.invalid/gen.yaml': Get",
        },
    ];
    let k = "overlays/dev/kustomization.yaml";
    for case in &cases {
        let Some(t) = repo(&[(k, &case.kustomization)]) else {
            return;
        };
        if let Some(built) = kubectl_build(t.path(), "overlays/dev") {
            assert_eq!(
                built.is_ok(),
                case.builds,
                "{}: {built:?}",
                case.kustomization
            );
            if let Err(e) = built {
                assert!(e.contains(case.kubectl_says), "{}: {e}", case.kustomization);
            }
        }
        let (_, hits) = check(t.path(), &[]);
        let line = line_of(t.path(), k, "  - ");
        let at: Vec<&str> = hits
            .iter()
            .filter(|h| h.path == k && h.line == line)
            .map(|h| h.rule.as_str())
            .collect();
        let want: Vec<&str> = case.rule.into_iter().collect();
        assert_eq!(at, want, "{}: {hits:?}", case.kustomization);
        if !case.builds {
            continue;
        }
        assert!(
            of(&hits, "overlay-build-error").is_empty(),
            "{}: {hits:?}",
            case.kustomization
        );
    }
}

/// A `literals:` item that is not a string (a number, a boolean) makes kustomize refuse the
/// kustomization or the `generators:` file ("cannot unmarshal number into Go struct field ...
/// of type string"): an `overlay-build-error` at the item's own line, and the overlay fails
/// (exit 1). kubectl is the oracle.
#[test]
fn a_literals_item_that_is_not_a_string_is_a_build_error_at_its_line() {
    let k = "overlays/dev/kustomization.yaml";
    let g = "overlays/dev/gen.yaml";
    for item in ["7", "true"] {
        let inline = format!(
            "configMapGenerator:\n  - name: cm\n    literals:\n      - A=1\n      - {item}\n"
        );
        let file = format!(
            "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: cm\nliterals:\n  - A=1\n  - {item}\n"
        );
        for (files, at) in [
            (vec![(k, &*inline)], k),
            (vec![(k, GEN_FILE), (g, &*file)], g),
        ] {
            let Some(t) = repo(&files) else {
                return;
            };
            if let Some(built) = kubectl_build(t.path(), "overlays/dev") {
                let err = built.unwrap_err();
                assert!(err.contains("cannot unmarshal"), "{item}: {err}");
            }
            let needle = format!("- {item}");
            one_build_error_at(t.path(), at, &needle, "item 2 of", item);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Inline generator configuration

/// A builtin Secret generator configuration, as a `generators:` file holds it.
const INLINE_GENERATOR: &str = "apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: app-secrets\nenvs:\n  - app.env\nliterals:\n  - TOKEN=plain-token\n";

/// Overlay `dev` reading key `MISSING` of Secret `app-secrets`, generated by
/// [`INLINE_GENERATOR`] given inline under `generators:` (`inline`) or as a file.
fn generator_entry_case(inline: bool) -> Option<tempfile::TempDir> {
    let k = "overlays/dev/kustomization.yaml";
    let deploy = deployment_reading("app-secrets", "MISSING");
    let mut files = vec![
        ("overlays/dev/deploy.yaml", deploy),
        ("overlays/dev/app.env.example", "A=\n".to_owned()),
    ];
    if inline {
        let indented: String = INLINE_GENERATOR
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect();
        let text = format!("resources:\n  - deploy.yaml\ngenerators:\n  - |\n{indented}");
        files.push((k, text));
    } else {
        let text = "resources:\n  - deploy.yaml\ngenerators:\n  - gen.yaml\n".to_owned();
        files.push((k, text));
        files.push(("overlays/dev/gen.yaml", INLINE_GENERATOR.to_owned()));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    repo(&files)
}

/// Each finding as (rule, the text of the line it is at, message): comparable between two
/// layouts whose files differ.
fn findings_by_line(root: &Path, hits: &[common::Hit]) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = hits
        .iter()
        .map(|h| {
            let text = std::fs::read_to_string(root.join(&h.path)).unwrap();
            let line = text.lines().nth(usize::try_from(h.line).unwrap() - 1);
            (
                h.rule.clone(),
                line.unwrap_or_default().trim().to_owned(),
                h.message.clone(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A builtin `SecretGenerator` configuration given inline under `generators:` generates what
/// the same configuration in a file does: kubectl renders the same Secret (name with its hash
/// suffix, keys) both ways, and check reports the same findings (the key the Deployment reads
/// that the Secret lacks, the plaintext literal at the generator's `name:` line, here in the
/// kustomization) and nothing unmodelled; `--render always` finds no divergence.
#[test]
fn an_inline_generator_configuration_is_modelled_like_a_file() {
    let (Some(inline), Some(file)) = (generator_entry_case(true), generator_entry_case(false))
    else {
        return;
    };
    let renders = [
        kubectl_build(inline.path(), "overlays/dev"),
        kubectl_build(file.path(), "overlays/dev"),
    ];
    if let [Some(a), Some(b)] = renders {
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a, b);
        assert!(a.contains("  name: app-secrets-"), "{a}");
        assert!(a.contains("  TOKEN: ") && a.contains("  A: "), "{a}");
        let (code, hits) = check(inline.path(), &["--render", "always"]);
        assert!(of(&hits, "model-divergence").is_empty(), "{hits:?}");
        assert!(of(&hits, "render-failed").is_empty(), "{hits:?}");
        assert_eq!(code, 1, "{hits:?}");
    }
    let (_, hits) = check(inline.path(), &[]);
    let (_, file_hits) = check(file.path(), &[]);
    assert!(of(&hits, "overlay-not-modelled").is_empty(), "{hits:?}");
    let plain = of(&hits, "plaintext-secret");
    assert_eq!(plain.len(), 1, "{hits:?}");
    let k = "overlays/dev/kustomization.yaml";
    let name_line = line_of(inline.path(), k, "name: app-secrets");
    assert_eq!((plain[0].path.as_str(), plain[0].line), (k, name_line));
    assert_eq!(of(&hits, "missing-secret-key").len(), 1, "{hits:?}");
    assert_eq!(
        findings_by_line(inline.path(), &hits),
        findings_by_line(file.path(), &file_hits)
    );
}

/// A dev kustomization whose generators are in `gen.yaml`.
const GEN_FILE: &str = "generators:\n  - gen.yaml\n";

/// Asserts `check` of `root` finds one `overlay-build-error`, at the line of `at` holding
/// `needle`, saying `says`, and exits 1 (`what` names the case).
fn one_build_error_at(root: &Path, at: &str, needle: &str, says: &str, what: &str) {
    let (code, hits) = check(root, &[]);
    let errs = of(&hits, "overlay-build-error");
    assert_eq!(errs.len(), 1, "{what} {at}: {hits:?}");
    let line = line_of(root, at, needle);
    assert_eq!(
        (errs[0].path.as_str(), errs[0].line),
        (at, line),
        "{what} {at}: {hits:?}"
    );
    assert!(errs[0].message.contains(says), "{}", errs[0].message);
    assert_eq!(code, 1, "{hits:?}");
}

/// A null item (`- ~`) of `literals:`, `envs:` or `files:`, inline or in a `generators:` file:
/// kustomize reads it as an empty string and fails to build (kubectl is the oracle). It is an
/// `overlay-build-error` at the item's own line, like an item that is not a string, not a
/// complaint about the whole field; the overlay fails (exit 1).
#[test]
fn a_null_generator_item_is_a_build_error_at_its_line() {
    let k = "overlays/dev/kustomization.yaml";
    let g = "overlays/dev/gen.yaml";
    for field in ["literals", "envs", "files"] {
        let inline = format!("configMapGenerator:\n  - name: cm\n    {field}:\n      - ~\n");
        let file = format!(
            "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: cm\n{field}:\n  - ~\n"
        );
        for (files, at) in [
            (vec![(k, &*inline)], k),
            (vec![(k, GEN_FILE), (g, &*file)], g),
        ] {
            let Some(t) = repo(&files) else {
                return;
            };
            if let Some(built) = kubectl_build(t.path(), "overlays/dev") {
                assert!(built.is_err(), "{field} {at}: kubectl builds it");
            }
            one_build_error_at(t.path(), at, "- ~", "is null", field);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The type an image pull Secret renders with

/// The Deployment pulls with `regcred` (a generator of type `kubernetes.io/dockerconfigjson`
/// in the base, which the overlay merges into without a `type`) and `pull` (a Secret of type
/// `Opaque` that the overlay patches to `kubernetes.io/dockerconfigjson`), and `gen` (an
/// `Opaque` generated Secret patched likewise). kustomize keeps the merging entry's object, so
/// `regcred` renders `Opaque` (api `resmap/reswrangler.go`, `appendReplaceOrMerge`), and `pull`
/// and `gen` render as patched. The rule read the first generator entry's type and the Secret's
/// file as written, so it passed `regcred` and reported `pull`, and then read a generated
/// Secret's type from its generator only, reporting `gen`; now it reports the Secrets kubectl renders with a type the kubelet does not read
/// credentials from, and only those.
#[test]
fn an_image_pull_secret_is_judged_by_the_type_it_renders_with() {
    let deployment = format!(
        "{DEPLOYMENT_HEAD}      imagePullSecrets:\n        - name: regcred\n        - name: pull\n        - name: gen\n"
    );
    let Some(t) = repo(&[
        (
            "base/kustomization.yaml",
            "resources:\n  - deploy.yaml\n  - pull.yaml\nsecretGenerator:\n  - name: regcred\n    type: kubernetes.io/dockerconfigjson\n    literals:\n      - .dockerconfigjson={}\n",
        ),
        ("base/deploy.yaml", &deployment),
        (
            "base/pull.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull\ntype: Opaque\n",
        ),
        (
            "overlays/dev/kustomization.yaml",
            "resources:\n  - ../../base\nsecretGenerator:\n  - name: regcred\n    behavior: merge\n    literals:\n      - EXTRA=x\n  - name: gen\n    literals:\n      - .dockerconfigjson={}\npatches:\n  - patch: |-\n      apiVersion: v1\n      kind: Secret\n      metadata:\n        name: pull\n      type: kubernetes.io/dockerconfigjson\n  - patch: '{apiVersion: v1, kind: Secret, metadata: {name: gen}, type: kubernetes.io/dockerconfigjson}'\n",
        ),
    ]) else {
        return;
    };
    // The oracle: the rendered name of every Secret whose type is not a registry type.
    let mut expected = Vec::new();
    if let Some(render) = kubectl_build(t.path(), "overlays/dev") {
        for doc in render.unwrap().split("\n---\n") {
            let v: yaml_serde::Value = yaml_serde::from_str(doc).unwrap();
            let ty = v.get("type").and_then(yaml_serde::Value::as_str);
            if v.get("kind").and_then(yaml_serde::Value::as_str) == Some("Secret")
                && ty != Some("kubernetes.io/dockerconfigjson")
            {
                // The finding names a generated Secret without its content hash suffix.
                let name = v["metadata"]["name"].as_str().unwrap();
                let unhashed = name.rsplit_once('-').filter(|(_, h)| h.len() == 10);
                expected.push(unhashed.map_or(name, |(n, _)| n).to_owned());
            }
        }
        assert_eq!(expected.len(), 1, "one of the three is not a registry type");
    }
    let (_, hits) = check(t.path(), &[]);
    let reported: Vec<String> = of(&hits, "missing-secret-key")
        .iter()
        .filter_map(|h| h.message.split("with Secret `").nth(1))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect();
    if common::kubectl().is_some() {
        assert_eq!(reported, expected, "{hits:?}");
    }
}
