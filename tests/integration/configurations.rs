//! `configurations:` files read as kustomize reads them: the first document, decoded strictly
//! (an unknown field or a value of the wrong type fails the build, `overlay-build-error`), field
//! names matched case-insensitively, a nameReference fieldSpec without a path failing the build
//! once it selects an object.
//!
//! Every case runs the real binary on a copy of the `sealed-nameref` tree (a SealedSecret renamed
//! by `namePrefix`, followed by the Deployment's references through a nameReference entry for
//! kind `SealedSecret`) with its configurations file replaced, and builds the same tree with the
//! real `kubectl kustomize` as the oracle: it must fail where emp-seal reports a build error, and
//! render what emp-seal's reference findings assume where it does not.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use crate::common::{self, check_hits, of};

const CONFIG: &str = "k8s/overlays/prod/kustomizeconfig.yaml";
const OVERLAY: &str = "k8s/overlays/prod";

/// The tree's own configurations file: the Deployment's two Secret references follow the
/// SealedSecret's rename.
const GOOD: &str = "\
nameReference:
  - kind: SealedSecret
    group: bitnami.com
    fieldSpecs:
      - kind: Deployment
        path: spec/template/spec/containers/envFrom/secretRef/name
      - kind: Deployment
        path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
";

/// A copy of the `sealed-nameref` tree with `config` as its configurations file, in a temp git
/// repository; None when kubectl or git is missing outside CI.
fn tree(config: &str) -> Option<tempfile::TempDir> {
    common::sealed_nameref_tree(&[(CONFIG, config)])
}

/// The 1-based line of the first line of the configurations file containing `needle`.
fn line_of(root: &Path, needle: &str) -> u64 {
    common::line_of(root, CONFIG, needle)
}

/// The Secret names the Deployment's two references render with in kubectl's build.
fn kubectl_reference_names(root: &Path) -> Vec<String> {
    let out = common::kustomize(&root.join(OVERLAY));
    let docs: Vec<serde_json::Value> = out
        .split("\n---\n")
        .map(|d| yaml_serde::from_str(d).unwrap())
        .collect();
    let dep = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let c = &dep["spec"]["template"]["spec"]["containers"][0];
    [
        &c["envFrom"][0]["secretRef"]["name"],
        &c["env"][0]["valueFrom"]["secretKeyRef"]["name"],
    ]
    .iter()
    .map(|v| v.as_str().unwrap().to_owned())
    .collect()
}

/// Asserts `check` of the tree at `root` (built with `config`) reports nothing of `clean`, and
/// as many `dangling-reference` findings as kubectl's render has dangling references. The
/// Secret the overlay renders is `prod-app-secrets`: a reference rendering with another name
/// dangles, in kubectl's build and in emp-seal's findings alike.
fn dangles_as_kubectl_renders(root: &Path, config: &str, clean: &[&str]) {
    let rendered = kubectl_reference_names(root);
    let (_, hits) = check_hits(root, &[]);
    for rule in clean {
        assert!(of(&hits, rule).is_empty(), "{config:?}: {hits:?}");
    }
    let dangling = rendered.iter().filter(|n| *n != "prod-app-secrets").count();
    assert_eq!(
        of(&hits, "dangling-reference").len(),
        dangling,
        "{config:?}: kubectl renders {rendered:?}; {hits:?}"
    );
}

/// The tree with its own file builds, and emp-seal finds no build error and no dangling
/// reference in it: the baseline every case below changes one thing of.
#[test]
fn the_tree_with_its_own_configurations_file_is_clean() {
    let Some(t) = tree(GOOD) else { return };
    assert_eq!(kubectl_reference_names(t.path()), ["prod-app-secrets"; 2]);
    let (_, hits) = check_hits(t.path(), &[]);
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    assert!(of(&hits, "dangling-reference").is_empty(), "{hits:?}");
    assert!(of(&hits, "overlay-not-modelled").is_empty(), "{hits:?}");
}

/// Malformed files kustomize refuses to decode ("error unmarshaling JSON"), and a fieldSpec
/// without a path that selects the Deployment ("cannot set or create an empty field name"):
/// exactly one `overlay-build-error`, at the offending line of the configurations file, and
/// kubectl fails on the same tree. The model used to skip what it could not read, and report
/// the references as dangling instead.
#[test]
fn configurations_kustomize_refuses_are_build_errors() {
    let cases: [(&str, &str, &str); 13] = [
        ("nameReference: 5\n", "nameReference", "must be a list"),
        (
            "nameReference:\n  - SealedSecret\n",
            "- SealedSecret",
            "must be a mapping",
        ),
        (
            "nameReference:\n  - kind: SealedSecret\n    fieldSpecs: spec/template\n",
            "fieldSpecs",
            "must be a list",
        ),
        (
            "nameReference:\n  - kind: SealedSecret\n    fieldSpecs:\n      - 5\n",
            "- 5",
            "must be a mapping",
        ),
        (
            "nameReference:\n  - kind: 5\n    fieldSpecs: []\n",
            "kind: 5",
            "must be a string",
        ),
        (
            "nameReference:\n  - kind: SealedSecret\n    fieldSpecs:\n      - kind: Deployment\n        path: [spec]\n",
            "path: [spec]",
            "must be a string",
        ),
        (
            "nameReference:\n  - kind: SealedSecret\n    fieldSpecs:\n      - kind: Deployment\n        path: spec/x\n        create: \"true\"\n",
            "create:",
            "must be a boolean",
        ),
        (
            &format!("{GOOD}bogus: 1\n"),
            "bogus",
            "unknown field `bogus`",
        ),
        (
            "nameReference:\n  - kind: SealedSecret\n    fieldspec: []\n",
            "fieldspec:",
            "unknown field `fieldspec`",
        ),
        ("- nameReference\n", "- nameReference", "must be a mapping"),
        (
            "nameReference:\n  - kind: SealedSecret\n    fieldSpecs:\n      - kind: Deployment\n",
            "- kind: Deployment",
            "without a path",
        ),
        (
            "nameReference:\n  - kind: SealedSecret\n    fieldSpecs:\n      - null\n",
            "- null",
            "without a path",
        ),
        // The `create` the model cannot read (not modelled) is on the fieldSpec's own line: the
        // build error was hidden behind that problem.
        (
            "nameReference:\n  - kind: SealedSecret\n    fieldSpecs:\n      - create: yes\n        kind: Deployment\n",
            "- create: yes",
            "without a path",
        ),
    ];
    for (config, needle, why) in cases {
        let Some(t) = tree(config) else { return };
        let built = common::kustomize_raw(&t.path().join(OVERLAY));
        assert!(!built.status.success(), "kubectl builds {config:?}");
        let (code, hits) = check_hits(t.path(), &[]);
        assert_eq!(code, 1, "{config:?}: {hits:?}");
        let errs = of(&hits, "overlay-build-error");
        assert_eq!(errs.len(), 1, "{config:?}: {hits:?}");
        let at = (errs[0].path.as_str(), errs[0].line);
        assert_eq!(at, (CONFIG, line_of(t.path(), needle)), "{config:?}");
        assert!(
            errs[0].message.contains(why),
            "{config:?}: {}",
            errs[0].message
        );
    }
}

/// What kustomize accepts: field names in another case (Go `encoding/json`), a null entry, a
/// pathless fieldSpec that selects nothing built, a leading `/` on a path. No build error, and
/// the references render as kubectl renders them (the capitalised spelling is followed: before,
/// the model ignored it and reported both references as dangling).
#[test]
fn configurations_kustomize_accepts_are_read_as_it_reads_them() {
    let capitalised = GOOD
        .replace("nameReference", "NameReference")
        .replace("fieldSpecs", "FieldSpecs")
        .replace("path:", "PATH:");
    let leading_slash = GOOD.replace("path: spec", "path: /spec");
    let extra = "nameReference:\n  - null\n  - kind: SealedSecret\n    fieldSpecs:\n      - kind: CronJob\n";
    let with_extra = format!("{GOOD}  - kind: Secret\n    fieldSpecs: null\n");
    for config in [&capitalised, &leading_slash, extra, &with_extra] {
        let Some(t) = tree(config) else { return };
        dangles_as_kubectl_renders(
            t.path(),
            config,
            &["overlay-build-error", "overlay-not-modelled"],
        );
    }
}

/// kustomize decodes the first YAML document of the file only: a second document is not read
/// (not even refused), and a file whose first document is empty (`---` twice) gives no rules,
/// so the references stay as written and dangle. The model used to read every document.
#[test]
fn only_the_first_document_of_a_configurations_file_is_read() {
    for (config, dangling) in [
        (format!("{GOOD}---\nbogus: 1\n"), 0),
        (format!("---\n---\n{GOOD}"), 2),
        (format!("# a comment\n---\n{GOOD}"), 0),
    ] {
        let Some(t) = tree(&config) else { return };
        let rendered = kubectl_reference_names(t.path());
        let kubectl_dangling = rendered.iter().filter(|n| *n != "prod-app-secrets").count();
        assert_eq!(kubectl_dangling, dangling, "{config:?}: {rendered:?}");
        let (_, hits) = check_hits(t.path(), &[]);
        assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
        assert_eq!(
            of(&hits, "dangling-reference").len(),
            dangling,
            "{config:?}: {hits:?}"
        );
    }
}

/// What the model does not replay is `overlay-not-modelled` (its findings unverified), never a
/// silent pass: fieldSpecs of the name prefix, a path kyaml walks otherwise than as field
/// names (a trailing `/`, which kubectl accepts here because the field it names is absent),
/// and a path that is no string (kustomize walks its text, here a field that is absent; it is
/// no fieldSpec without a path, which the model used to report as a build error).
#[test]
fn configurations_the_model_does_not_replay_are_not_modelled() {
    let prefix = format!("{GOOD}namePrefix:\n  - path: metadata/name\n");
    let trailing = GOOD.replace("secretKeyRef/name", "secretKeyRef/nam/");
    let boolean = format!("{GOOD}      - kind: Deployment\n        path: true\n");
    for (config, needle) in [
        (&prefix, "namePrefix"),
        (&trailing, "nam/"),
        (&boolean, "path: true"),
    ] {
        let Some(t) = tree(config) else { return };
        assert!(
            common::kustomize_raw(&t.path().join(OVERLAY))
                .status
                .success()
        );
        let (_, hits) = check_hits(t.path(), &[]);
        assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
        let nm = of(&hits, "overlay-not-modelled");
        assert_eq!(nm.len(), 1, "{config:?}: {hits:?}");
        assert_eq!(
            (nm[0].path.as_str(), nm[0].line),
            (CONFIG, line_of(t.path(), needle))
        );
    }
}

/// A `nameReference` entry's `group` and `version` select the renamed objects whose renames its
/// fields follow (the tree's SealedSecret is `bitnami.com/v1alpha1`): another group or version
/// leaves the references as written, so they dangle; an empty one selects any. A fieldSpec with
/// an empty `kind` selects every kind. The model followed every object of the entry's kind.
/// kubectl's render is the oracle.
#[test]
fn name_reference_group_and_version_select_the_renamed_objects() {
    let configs = [
        GOOD.replace("group: bitnami.com", "group: other.io"),
        GOOD.replace("group: bitnami.com", "version: v9"),
        GOOD.replace("group: bitnami.com", "version: v1alpha1"),
        GOOD.replace("group: bitnami.com", "group: \"\""),
        GOOD.replace("- kind: Deployment", "- kind: \"\""),
    ];
    for config in &configs {
        let Some(t) = tree(config) else { return };
        dangles_as_kubectl_renders(t.path(), config, &["overlay-build-error"]);
    }
    let other = tree(&configs[0]);
    let Some(t) = other else { return };
    assert!(
        kubectl_reference_names(t.path())
            .iter()
            .all(|n| n != "prod-app-secrets")
    );
}

const MORE: &str = "k8s/overlays/prod/more-config.yaml";

/// The tree with `config` as its configurations file and `more` as a second one after it.
fn tree2(config: &str, more: &str) -> Option<tempfile::TempDir> {
    let t = tree(config)?;
    std::fs::write(t.path().join(MORE), more).unwrap();
    let k = t.path().join(OVERLAY).join("kustomization.yaml");
    let text = std::fs::read_to_string(&k).unwrap() + "  - more-config.yaml\n";
    std::fs::write(&k, text).unwrap();
    common::git(t.path(), &["add", "-A"]);
    Some(t)
}

/// A Secret nameReference entry (no version: not the built-in entry's target) whose one
/// fieldSpec has `create` as given; its item line is the `path:` line.
fn secret_entry(create: bool) -> String {
    format!(
        "  - kind: Secret\n    fieldSpecs:\n      - path: spec/template/metadata/annotations/x\n        kind: Deployment\n        create: {create}\n"
    )
}

/// Two fieldSpecs of one list with the same kind and path but another `create` fail kustomize's
/// merge of the configurations ("conflicting fieldspecs"), in two files (either order) or in two
/// entries of one file, and so does one that conflicts with kustomize's built-in configuration
/// (a `namePrefix` `metadata/name` with `create: true`, a `create: true` on a field of the
/// built-in `v1` Secret entry, a `commonAnnotations` `metadata/annotations` without create):
/// kubectl fails, and emp-seal reports one `overlay-build-error` at the later fieldSpec, naming
/// the earlier one. The model built these clean.
#[test]
fn conflicting_field_specs_are_build_errors() {
    let annot = "path: spec/template/metadata/annotations/x";
    let nameref = "nameReference:\n".to_owned();
    let cases: Vec<(String, String, &str, &str)> = vec![
        (
            format!("{GOOD}{}", secret_entry(true)),
            format!("{nameref}{}", secret_entry(false)),
            MORE,
            "kustomizeconfig.yaml:",
        ),
        (
            format!("{GOOD}{}", secret_entry(false)),
            format!("{nameref}{}", secret_entry(true)),
            MORE,
            "kustomizeconfig.yaml:",
        ),
        (
            format!("{GOOD}{}{}", secret_entry(true), secret_entry(false)),
            String::new(),
            CONFIG,
            "kustomizeconfig.yaml:",
        ),
        (
            format!("{GOOD}namePrefix:\n  - path: metadata/name\n    create: true\n"),
            String::new(),
            CONFIG,
            "built-in",
        ),
        (
            format!(
                "{GOOD}  - kind: Secret\n    version: v1\n    fieldSpecs:\n      - path: spec/template/spec/volumes/secret/secretName\n        kind: Deployment\n        create: true\n"
            ),
            String::new(),
            CONFIG,
            "built-in",
        ),
        (
            format!("{GOOD}commonAnnotations:\n  - path: metadata/annotations\n"),
            String::new(),
            CONFIG,
            "built-in",
        ),
    ];
    for (config, more, file, with) in &cases {
        let Some(t) = tree2(config, more) else { return };
        let built = common::kustomize_raw(&t.path().join(OVERLAY));
        assert!(
            !built.status.success(),
            "kubectl builds {config:?} {more:?}"
        );
        let stderr = String::from_utf8_lossy(&built.stderr);
        assert!(stderr.contains("conflicting fieldspecs"), "{stderr}");
        let (code, hits) = check_hits(t.path(), &[]);
        assert_eq!(code, 1, "{config:?}: {hits:?}");
        let errs = of(&hits, "overlay-build-error");
        assert_eq!(errs.len(), 1, "{config:?} {more:?}: {hits:?}");
        // The later fieldSpec: the last line naming its path or its `create`.
        let text = std::fs::read_to_string(t.path().join(file)).unwrap();
        let needle = [
            "path: metadata/name",
            "secretName",
            "path: metadata/annotations",
            annot,
        ]
        .into_iter()
        .find(|n| text.contains(n))
        .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let line = lines.iter().rposition(|l| l.contains(needle)).unwrap() + 1;
        assert_eq!(
            (errs[0].path.as_str(), errs[0].line),
            (*file, line as u64),
            "{config:?} {more:?}"
        );
        assert!(errs[0].message.contains(with), "{}", errs[0].message);
        if *with != "built-in" {
            let first = std::fs::read_to_string(t.path().join(CONFIG)).unwrap();
            let earlier = first.lines().position(|l| l.contains(annot)).unwrap() + 1;
            assert!(
                errs[0].message.contains(&format!("{CONFIG}:{earlier}")),
                "{}",
                errs[0].message
            );
        }
    }
}

/// A `nameReference` entry without fieldSpecs (an empty list, none at all, or a null entry,
/// whose target is the empty one) is still an entry a later entry of its target merges into
/// (kustomize `builtinconfig/namebackreferences.go` `mergeOne`): the later entry's own
/// conflicting fieldSpecs then fail the build, in the same file or a second one. kubectl fails;
/// emp-seal reports one `overlay-build-error` at the later fieldSpec. The model built these clean.
#[test]
fn an_entry_without_field_specs_merges_later_ones() {
    let fs = "fieldSpecs:\n      - path: spec/template/metadata/annotations/x\n        kind: Deployment\n        create: true\n      - path: spec/template/metadata/annotations/x\n        kind: Deployment\n";
    let secret = "  - kind: Secret\n";
    let cases = [
        (
            format!("{GOOD}{secret}    fieldSpecs: []\n{secret}    {fs}"),
            String::new(),
            CONFIG,
        ),
        (
            format!("{GOOD}{secret}{secret}    {fs}"),
            String::new(),
            CONFIG,
        ),
        (format!("{GOOD}  -\n  - {fs}"), String::new(), CONFIG),
        (
            format!("{GOOD}{secret}"),
            format!("nameReference:\n{secret}    {fs}"),
            MORE,
        ),
    ];
    for (config, more, file) in &cases {
        let Some(t) = tree2(config, more) else { return };
        let built = common::kustomize_raw(&t.path().join(OVERLAY));
        let stderr = String::from_utf8_lossy(&built.stderr);
        assert!(
            stderr.contains("conflicting fieldspecs"),
            "{config:?} {more:?}: {stderr}"
        );
        let (code, hits) = check_hits(t.path(), &[]);
        assert_eq!(code, 1, "{config:?}: {hits:?}");
        let errs = of(&hits, "overlay-build-error");
        assert_eq!(errs.len(), 1, "{config:?} {more:?}: {hits:?}");
        let text = std::fs::read_to_string(t.path().join(file)).unwrap();
        let last = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("annotations/x"));
        let last = last.last().unwrap().0 + 1;
        assert_eq!((errs[0].path.as_str(), errs[0].line), (*file, last as u64));
        assert!(
            errs[0].message.contains("conflicts with the one at"),
            "{}",
            errs[0].message
        );
    }
}

/// What kustomize's merge accepts: an entry repeated identically (in one file and in a second
/// one), one entry of a new target holding conflicting fieldSpecs (kustomize appends a new
/// target's entry without merging it), and added fieldSpecs that meet no other (a
/// `commonAnnotations` path for SealedSecrets, a `create: true` field of a custom kind under the
/// built-in `v1` Secret entry). kubectl builds each; emp-seal reports no build error and nothing
/// not modelled, and the references render as kubectl renders them.
#[test]
fn field_specs_kustomize_merges_build_clean() {
    let entries = GOOD.trim_start_matches("nameReference:\n");
    let cases = [
        (format!("{GOOD}{entries}"), String::new()),
        (GOOD.to_owned(), GOOD.to_owned()),
        (
            format!(
                "{GOOD}{}      - path: spec/template/metadata/annotations/x\n        kind: Deployment\n",
                secret_entry(true)
            ),
            String::new(),
        ),
        (
            format!(
                "{GOOD}commonAnnotations:\n  - kind: SealedSecret\n    path: spec/template/metadata/annotations\n    create: true\n"
            ),
            String::new(),
        ),
        (
            format!(
                "{GOOD}  - kind: Secret\n    version: v1\n    fieldSpecs:\n      - kind: SealedSecret\n        path: spec/template/metadata/name\n        create: true\n"
            ),
            String::new(),
        ),
    ];
    for (config, more) in &cases {
        let Some(t) = tree2(config, more) else { return };
        dangles_as_kubectl_renders(
            t.path(),
            config,
            &["overlay-build-error", "overlay-not-modelled"],
        );
    }
}

/// A fieldSpec of a list whose built-in table the model does not hold (`commonLabels`), for a
/// kind that table names, may conflict with it: `overlay-not-modelled` at its line, never a
/// silent pass (kubectl happens to build this one). One for a custom kind cannot conflict and
/// is clean.
#[test]
fn field_specs_that_may_meet_an_unheld_built_in_table_are_not_modelled() {
    for (kind, expected) in [("Deployment", 1), ("SealedSecret", 0)] {
        let config =
            format!("{GOOD}commonLabels:\n  - kind: {kind}\n    path: spec/x\n    create: true\n");
        let Some(t) = tree(&config) else { return };
        assert!(
            common::kustomize_raw(&t.path().join(OVERLAY))
                .status
                .success()
        );
        let (_, hits) = check_hits(t.path(), &[]);
        assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
        let nm = of(&hits, "overlay-not-modelled");
        assert_eq!(nm.len(), expected, "{kind}: {hits:?}");
        if let Some(nm) = nm.first() {
            assert_eq!(
                (nm.path.as_str(), nm.line),
                (CONFIG, line_of(t.path(), "path: spec/x") - 1)
            );
        }
    }
}
