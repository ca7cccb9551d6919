//! Kustomizations where the model once disagreed with the real `kubectl kustomize`: each case
//! writes an overlay kustomization into a copy of the `sealed-nameref` tree, builds it with
//! kubectl as the oracle and runs the real binary. Where kubectl fails, emp-seal must report one
//! `overlay-build-error` at the line kubectl's complaint is about; where kubectl builds, no
//! build error and nothing unmodelled.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use crate::common::{self, check_hits, of};

const KFILE: &str = "k8s/overlays/prod/kustomization.yaml";
const OVERLAY: &str = "k8s/overlays/prod";

/// The tree's own overlay kustomization, without its namespace.
const HEAD: &str = "\
namePrefix: prod-
resources:
  - ../../base
  - sealedsecret.yaml
configurations:
  - kustomizeconfig.yaml
";

/// A copy of the `sealed-nameref` tree with `HEAD` + `extra` as its overlay kustomization and an
/// empty list as `e.yaml` beside it, in a temp git repository; None when kubectl or git is missing outside CI.
fn tree(extra: &str) -> Option<tempfile::TempDir> {
    let e = format!("{OVERLAY}/e.yaml");
    common::sealed_nameref_tree(&[(KFILE, &format!("{HEAD}{extra}")), (&e, "[]\n")])
}

/// For each `(extra, needle, why)`: kubectl fails, and emp-seal reports one build error, at the
/// first kustomization line containing `needle`, whose message contains `why`.
fn refused(cases: &[(&str, &str, &str)]) {
    for (extra, needle, why) in cases {
        let Some(t) = tree(extra) else { return };
        let built = common::kustomize_raw(&t.path().join(OVERLAY));
        assert!(!built.status.success(), "kubectl builds {extra:?}");
        let (_, hits) = check_hits(t.path(), &[]);
        let errs = of(&hits, "overlay-build-error");
        assert_eq!(errs.len(), 1, "{extra:?}: {hits:?}");
        let line = common::line_of(t.path(), KFILE, needle);
        assert_eq!(
            (errs[0].path.as_str(), errs[0].line),
            (KFILE, line),
            "{extra:?}"
        );
        assert!(
            errs[0].message.contains(why),
            "{extra:?}: {}",
            errs[0].message
        );
    }
}

/// For each `extra`: kubectl builds, and emp-seal reports no build error and nothing unmodelled.
fn accepted(cases: &[&str]) {
    for extra in cases {
        let Some(t) = tree(extra) else { return };
        let built = common::kustomize_raw(&t.path().join(OVERLAY));
        let stderr = String::from_utf8_lossy(&built.stderr);
        assert!(built.status.success(), "kubectl fails {extra:?}: {stderr}");
        let (_, hits) = check_hits(t.path(), &[]);
        for rule in ["overlay-build-error", "overlay-not-modelled"] {
            assert!(of(&hits, rule).is_empty(), "{extra:?}: {hits:?}");
        }
    }
}

/// kustomize reads a kustomization as YAML 1.1: an unquoted `on`, `y`, `no` ... is a boolean,
/// which no string field takes ("cannot unmarshal bool into Go struct field
/// Kustomization.namespace of type string"). The model read them as strings and built.
#[test]
fn yaml11_boolean_words_in_string_fields_fail_the_build() {
    refused(&[
        (
            "namespace: y\n",
            "namespace: y",
            "`namespace` must be a string",
        ),
        (
            "nameSuffix: ON\n",
            "nameSuffix: ON",
            "`nameSuffix` must be a string",
        ),
        (
            "commonLabels: {a: \"b\", c: off}\n",
            "commonLabels",
            "`commonLabels` must be",
        ),
        ("components: [yes]\n", "components", "`components` must be"),
        // A flow mapping over several lines: each word's quoting is read where it is written.
        (
            "generatorOptions:\n  labels: {\n    a: \"on\",\n    b: off}\n",
            "b: off}",
            "`generatorOptions.labels.b` must be a string",
        ),
        (
            "images:\n  - name: app\n    newTag: No\n",
            "newTag",
            "`images[0].newTag` must be a string",
        ),
    ]);
}

/// go-yaml v2 reads `1_000`, `017`, `0X1F`, `0b1_0`, `08` as numbers (resolve.go: `_` dropped,
/// Go's `strconv.ParseInt` base prefixes, then a float), which YAML 1.2 reads as strings: no
/// string field takes them ("cannot unmarshal number into Go struct field
/// Kustomization.nameSuffix of type string"). The model read them as strings and built.
#[test]
fn yaml11_numbers_in_string_fields_fail_the_build() {
    refused(&[
        (
            "nameSuffix: 1_000\n",
            "nameSuffix",
            "`nameSuffix` must be a string",
        ),
        ("namespace: 017\n", "namespace", "`namespace` must be"),
        ("nameSuffix: 08\n", "nameSuffix", "`nameSuffix` must be"),
        (
            "images:\n  - name: app\n    newTag: 0b1_0\n",
            "newTag",
            "`images[0].newTag` must be a string",
        ),
        (
            "commonAnnotations: {a: -0X1F}\n",
            "commonAnnotations",
            "`commonAnnotations` must be",
        ),
    ]);
    // Quoted, or no number to Go (`0o8`, out of range, `_1`): strings to both.
    accepted(&[
        "nameSuffix: \"1_000\"\ncommonLabels: {a: '017'}\n",
        "nameSuffix: -0o8\ncommonAnnotations: {a: 0xfffffffffffffffff, b: _1, c: 1e, d: 1e400}\n",
    ]);
}

/// Numbers are read as go-yaml v2 reads them where a number belongs: a `replicas` count of
/// `0x_2` is 2 to kustomize.
#[test]
fn yaml11_number_as_replicas_count_builds() {
    accepted(&["replicas:\n  - name: app\n    count: 0x_2\n"]);
}

/// A list of strings with an item of another type is refused at that item's line, not the
/// field's.
#[test]
fn mistyped_item_of_a_list_of_strings_is_reported_at_its_line() {
    refused(&[
        ("components:\n  - off\n", "- off", "`components` must be"),
        ("components:\n  - 0X1F\n", "- 0X1F", "`components` must be"),
        // Nothing of a kustomization kustomize cannot decode is read: `../x` is not looked for.
        (
            "components: [../x, 0X1F]\n",
            "components",
            "`components` must be",
        ),
    ]);
}

/// `generatorOptions` booleans are decoded with the kustomization, generator or not: a quoted
/// `"yes"` is refused once ("cannot unmarshal string into Go struct field
/// GeneratorOptions.generatorOptions.disableNameSuffixHash of type bool").
#[test]
fn generator_options_non_boolean_fails_once() {
    let two =
        "configMapGenerator:\n  - name: g\n    literals: [a=b]\n  - name: h\n    literals: [a=b]\n";
    refused(&[
        (
            "generatorOptions:\n  disableNameSuffixHash: \"yes\"\n",
            "disableNameSuffixHash",
            "`generatorOptions.disableNameSuffixHash` must be a boolean",
        ),
        (
            &format!("{two}generatorOptions:\n  immutable: 'on'\n"),
            "immutable",
            "`generatorOptions.immutable` must be a boolean",
        ),
    ]);
}

/// The same words quoted are strings, and other spellings (`yEs`) no booleans: kubectl builds.
#[test]
fn quoted_or_other_spellings_of_boolean_words_are_strings() {
    accepted(&[
        "namespace: 'y'\n",
        "nameSuffix: \"-on\"\ncommonLabels: {a: 'off', b: yEs}\n",
        "generatorOptions:\n  disableNameSuffixHash: yes\n",
        // The quoted `"on"` beside a plain `on` on the same line is a string.
        "generatorOptions: {disableNameSuffixHash: on, labels: {a: \"on\"}}\n",
    ]);
}

/// go-yaml v2 reads a plain `on`, `10` as a mapping key as a boolean or a number, which no label
/// map and no kustomization field takes: kubectl fails (json: unknown field "10", or an
/// unsupported type when applying labels). The model read them as strings and built. A map
/// kustomize decodes but sets on no object (`generatorOptions` without a generator, the
/// kustomization's `metadata`) builds.
#[test]
fn yaml11_words_and_numbers_as_keys_fail_the_build() {
    refused(&[
        (
            "commonLabels:\n  on: x\n",
            "commonLabels",
            "`commonLabels` must be",
        ),
        // At the key's own line, block or flow, not at the map's.
        (
            "labels:\n  - pairs:\n      a: b\n      off: x\n",
            "off: x",
            "`labels[0].pairs` has a key that is no string",
        ),
        (
            "generatorOptions:\n  labels: {a: b,\n    on: x}\nconfigMapGenerator:\n  - name: g\n    literals: [a=b]\n",
            "on: x",
            "`generatorOptions.labels` has a key that is no string",
        ),
        // A word key with a value that is no string: the value's error names the key.
        (
            "metadata:\n  labels: {a: b,\n    yes: 1}\n",
            "yes: 1",
            "`metadata.labels.yes` must be a string",
        ),
        (
            "metadata:\n  labels:\n    a: b\n    yes: 1\n",
            "yes: 1",
            "`metadata.labels.yes` must be a string",
        ),
        ("10: x\n", "10: x", "unknown kustomization field `10`"),
        // At the word's own line (it was the file's first line).
        ("y: x\n", "y: x", "unknown kustomization field `true`"),
        // `generatorOptions` labels are set on each inline generator's object: only there
        // does the key fail.
        (
            "generatorOptions:\n  labels:\n    yes: x\nconfigMapGenerator:\n  - name: g\n    literals: [a=b]\n",
            "yes: x",
            "`generatorOptions.labels` has a key that is no string",
        ),
    ]);
    accepted(&[
        "commonLabels:\n  \"on\": x\ncommonAnnotations: {'y': x}\n",
        // Decoded (the key as its JSON text, sigs.k8s.io/yaml) and set on no object: kubectl
        // builds (the model refused both).
        "generatorOptions:\n  labels:\n    yes: x\n  annotations: {10: x}\n",
        "metadata:\n  annotations:\n    on: x\n",
    ]);
}

/// A key given twice in a kustomization: kubectl takes the last one (sigs.k8s.io/yaml decodes
/// with go-yaml v2); the model does not read the file, and the finding says so at the second
/// key, naming the first (it named the mapping's start line instead, and pointed at the first).
#[test]
fn duplicate_kustomization_key_is_reported_as_kubectl_would_read_it() {
    let Some(t) = tree("nameSuffix: -a\nnameSuffix: -b\n") else {
        return;
    };
    let built = common::kustomize_raw(&t.path().join(OVERLAY));
    assert!(built.status.success(), "{built:?}");
    let render = String::from_utf8_lossy(&built.stdout);
    assert!(render.contains("name: prod-app-b\n"), "{render}");
    let (_, hits) = check_hits(t.path(), &[]);
    let errs = of(&hits, "yaml-syntax");
    assert_eq!(errs.len(), 1, "{hits:?}");
    let first = common::line_of(t.path(), KFILE, "nameSuffix: -a");
    let second = common::line_of(t.path(), KFILE, "nameSuffix: -b");
    assert_eq!(errs[0].line, second, "{hits:?}");
    let msg = &errs[0].message;
    assert!(msg.contains(&format!("(first at line {first})")), "{msg}");
    assert!(
        msg.contains("kubectl kustomize takes the last one"),
        "{msg}"
    );
}

/// kustomize's `ReplicaCountTransformer` fails when an entry names no object of its kinds ("does
/// not match a config with the following GVK"), by any name the object has had; the model did
/// not look.
#[test]
fn replicas_entry_naming_nothing_fails_the_build() {
    refused(&[
        (
            "replicas:\n  - name: nope\n    count: 2\n",
            "- name: nope",
            "`nope` names no object of a kind `replicas` applies to",
        ),
        (
            "replicas:\n  - name: app-secrets\n    count: 2\n",
            "- name: app-secrets",
            "names no",
        ),
    ]);
    accepted(&[
        "replicas:\n  - name: app\n    count: 2\n",
        "replicas:\n  - name: prod-app\n    count: 2\n",
    ]);
}

/// Several strategic-merge patches in one `patches` entry may not have a `target` (kustomize
/// api/internal/builtins/PatchTransformer.go); without one they apply. The model applied both.
#[test]
fn several_strategic_merge_patches_with_a_target_fail_the_build() {
    let two = "    patch: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: app, labels: {a: b}}\n      ---\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: app, labels: {c: d}}\n";
    refused(&[(
        &format!("patches:\n  - target: {{kind: Deployment}}\n{two}"),
        "- target",
        "2 strategic-merge patches in one `patches` entry with a `target`",
    )]);
    accepted(&[&format!("patches:\n  - {}", &two[4..])]);
}

/// An empty list as a patch: kustomize reads it as both kinds of patch in a `patches` entry
/// (the model read an inline `[]` as a file name), and as an empty patch in the older lists (the
/// model applied nothing to an empty `patchesJson6902` file and built).
#[test]
fn empty_list_patches_fail_as_kustomize_says() {
    let both = "illegally qualifies as both an SM and JSON patch";
    let json = "patchesJson6902:\n  - target: {group: apps, version: v1, kind: Deployment, name: app}\n    path: e.yaml\n";
    refused(&[
        (
            "patches:\n  - target: {kind: Secret}\n    patch: '[]'\n",
            "- target",
            both,
        ),
        ("patches:\n  - patch: '[ ]'\n", "- patch", both),
        (json, "- target", "patch appears to be empty"),
    ]);
}

/// A directory whose kustomization is `kind: Component` builds like a Kustomization when it is
/// what is built (only an included one must match its list); the model refused it.
#[test]
fn component_built_directly_is_built() {
    accepted(&["apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"]);
    let Some(t) = tree("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n") else {
        return;
    };
    let (_, hits) = check_hits(t.path(), &[]);
    // The overlay is checked: the Deployment's references to the renamed Secret are judged.
    assert!(
        !hits.iter().any(|h| h.message.contains("did not run")),
        "{hits:?}"
    );
}

/// A kustomization that is one YAML 1.1 word (`yes`, quoted or with a comment) is no mapping:
/// kubectl refuses it, and emp-seal reports one build error. The word reader once indexed the
/// word as if it were a list and panicked.
#[test]
fn a_kustomization_of_one_word_is_a_build_error_not_a_panic() {
    for text in ["yes\n", "\"yes\"\n", "on # c\n"] {
        let Some(t) = tree("") else { return };
        std::fs::write(t.path().join(KFILE), text).unwrap();
        let built = common::kustomize_raw(&t.path().join(OVERLAY));
        assert!(!built.status.success(), "kubectl builds {text:?}");
        let (_, hits) = check_hits(t.path(), &[]);
        let errs = of(&hits, "overlay-build-error");
        assert_eq!(errs.len(), 1, "{text:?}: {hits:?}");
        assert!(
            errs[0].message.contains("not a mapping"),
            "{text:?}: {hits:?}"
        );
    }
}
