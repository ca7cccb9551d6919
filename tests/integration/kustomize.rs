//! The kustomize model against the real `kubectl kustomize`: for every fixture overlay, every
//! name and namespace emp-seal computes (resources, `SealedSecret`s, generated objects) and every
//! reference's rendered value must equal what kubectl renders. No expected value is hard-coded.

use crate::common;
use emp_seal::kustomize::{
    self, Generated, Overlay, ProblemKind, Reference, Resolution, Resource, SecretSource, Seg,
};
use std::path::{Path, PathBuf};
use yaml_serde::Value;

fn trees() -> PathBuf {
    common::repo_root().join("tests/fixtures/trees")
}

/// One rendered object from kubectl.
struct Rendered {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    value: Value,
}

fn render(dir: &Path) -> Vec<Rendered> {
    let out = common::kustomize(dir);
    yaml_serde::Deserializer::from_str(&out)
        .map(|d| {
            let value: Value = serde::Deserialize::deserialize(d).expect("kubectl output parses");
            let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
            let meta = value.get("metadata");
            Rendered {
                api_version: s(value.get("apiVersion")).unwrap_or_default(),
                kind: s(value.get("kind")).unwrap_or_default(),
                name: s(meta.and_then(|m| m.get("name"))).unwrap_or_default(),
                namespace: s(meta.and_then(|m| m.get("namespace"))),
                value,
            }
        })
        .collect()
}

/// `base-<10 chars of [a-z0-9]>`, the generator hash kustomize appends.
fn is_hashed(actual: &str, base: &str) -> bool {
    actual
        .strip_prefix(base)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|h| {
            h.len() == 10
                && h.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn name_matches(actual: &str, base: &str, hashed: bool) -> bool {
    if hashed {
        is_hashed(actual, base)
    } else {
        actual == base
    }
}

fn find_resource<'a>(out: &'a [Rendered], r: &Resource) -> &'a Rendered {
    let hits: Vec<&Rendered> = out
        .iter()
        .filter(|o| {
            o.kind == r.kind
                && o.api_version == r.api_version
                && o.name == r.rendered.name
                && o.namespace == r.rendered.namespace
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "{} {:?} (from {}) computed as {:?}: kubectl rendered {:?}",
        r.kind,
        r.original,
        r.origin,
        r.rendered,
        out.iter()
            .filter(|o| o.kind == r.kind)
            .map(|o| (&o.name, &o.namespace))
            .collect::<Vec<_>>()
    );
    hits[0]
}

fn find_generated<'a>(out: &'a [Rendered], g: &Generated) -> &'a Rendered {
    let hits: Vec<&Rendered> = out
        .iter()
        .filter(|o| {
            o.kind == g.kind.kind()
                && o.namespace == g.rendered.namespace
                && name_matches(&o.name, &g.rendered.name, g.hash_suffix)
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "generated {:?} computed as {:?} hash={}: kubectl rendered {:?}",
        g.original,
        g.rendered,
        g.hash_suffix,
        out.iter()
            .filter(|o| o.kind == g.kind.kind())
            .map(|o| (&o.name, &o.namespace))
            .collect::<Vec<_>>()
    );
    hits[0]
}

fn at_path<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| match seg {
        Seg::Key(k) => cur.get(k.as_str()),
        Seg::Index(i) => cur.get(*i),
    })
}

fn line_text(root: &Path, file: &Path, line: usize) -> String {
    let text = std::fs::read_to_string(root.join(file)).expect("origin file readable");
    text.lines().nth(line - 1).unwrap_or_default().to_owned()
}

/// Loads `overlay` of `tree`, renders it with kubectl and checks every computed identity and
/// reference against the render. Returns the model for further, fixture-specific checks.
fn check(tree: &str, overlay: &str) -> Option<Overlay> {
    common::kubectl()?;
    let root = trees().join(tree);
    let model = Overlay::load(&root, overlay).expect("overlay loads");
    assert!(
        model.problems().is_empty(),
        "{tree}/{overlay}: unexpected problems {:?}",
        model.problems()
    );
    let out = render(&model.dir);

    // Every computed object is in the render, and nothing else is.
    assert_eq!(
        model.resources().len() + model.generated().len(),
        out.len(),
        "{tree}/{overlay}: object count differs from kubectl"
    );
    for r in model.resources() {
        find_resource(&out, r);
        let line = line_text(&root, &r.origin.file, r.name_line);
        assert!(
            line.contains("name:") && line.contains(&r.original.name),
            "{}:{} should hold the name of {}: {line:?}",
            r.origin.file.display(),
            r.name_line,
            r.original.name
        );
    }
    for g in model.generated() {
        find_generated(&out, g);
    }

    // SealedSecret identities are the rendered top-level metadata.
    for s in model.secret_sources() {
        if let SecretSource::Sealed(kustomize::SealedRef {
            rendered,
            file,
            line,
            name_in_file,
            ..
        }) = &s
        {
            let hit = out
                .iter()
                .find(|o| o.kind == "SealedSecret" && o.name == rendered.name);
            let hit = hit.expect("sealed secret rendered");
            assert_eq!(&hit.namespace, &rendered.namespace);
            assert!(line_text(&root, file, *line).contains(name_in_file.as_str()));
        }
    }

    // Every reference's rendered value is what kubectl left in that field.
    for r in model.references() {
        check_reference(&root, &out, &model, r);
    }
    Some(model)
}

fn check_reference(root: &Path, out: &[Rendered], model: &Overlay, r: &Reference) {
    let referrer = out.iter().find(|o| {
        o.kind == r.referrer_kind
            && o.name == r.referrer.name
            && o.namespace == r.referrer.namespace
    });
    assert!(
        referrer.is_some(),
        "referrer {} {:?} not rendered",
        r.referrer_kind,
        r.referrer
    );
    let referrer = referrer.expect("checked above");
    let actual = at_path(&referrer.value, &r.path).and_then(Value::as_str);
    assert!(
        actual.is_some(),
        "{} {:?}: no value at {:?}",
        r.referrer_kind,
        r.referrer,
        r.path
    );
    let actual = actual.expect("checked above");
    assert!(
        name_matches(actual, &r.rendered_name, r.rendered_hash_suffix),
        "{} {:?} field {:?}: computed {} (hash {}), kubectl rendered {actual}",
        r.referrer_kind,
        r.referrer,
        r.field,
        r.rendered_name,
        r.rendered_hash_suffix
    );
    // The origin line is where the value was written.
    let text = line_text(root, &r.origin.file, r.origin.line);
    assert!(
        text.contains(r.name.as_str()),
        "{} should hold `{}`: {text:?}",
        r.origin,
        r.name
    );
    // A resolved reference names an object of the overlay with exactly that rendered name.
    match r.resolution {
        Resolution::Resource(i) => assert_eq!(model.resources()[i].rendered.name, r.rendered_name),
        Resolution::Generated(i) => assert_eq!(model.generated()[i].rendered.name, r.rendered_name),
        Resolution::Unresolved => {
            let kind_matches = |o: &&Rendered| {
                o.kind == r.target_kind || (r.target_kind == "Secret" && o.kind == "SealedSecret")
            };
            assert!(
                !out.iter()
                    .filter(kind_matches)
                    .any(|o| o.name == actual && o.namespace == r.referrer.namespace),
                "{actual} exists in the render but was not resolved"
            );
        }
    }
}

fn find_ref<'a>(
    m: &'a Overlay,
    referrer_kind: &str,
    field: kustomize::RefField,
) -> Vec<&'a Reference> {
    m.references()
        .iter()
        .filter(|r| r.referrer_kind == referrer_kind && r.field == field)
        .collect()
}

#[test]
fn plain_namespace() {
    let Some(m) = check("plain-namespace", "dev") else {
        return;
    };
    assert!(m.references().len() >= 6, "refs: {:?}", m.references());
}

#[test]
fn prefix_and_suffix_rewrite_builtin_fields_only() {
    let Some(m) = check("prefix-suffix", "staging") else {
        return;
    };
    use kustomize::RefField as F;
    // Built-in fields follow the rename; CRD fields (KEDA) and a ReplicaSet's
    // serviceAccountName do not. These facts come from the kubectl comparison in `check`;
    // here we only make sure the fixture exercises both sides.
    assert!(
        find_ref(&m, "StatefulSet", F::ServiceAccountName)
            .iter()
            .all(|r| r.rewritable)
    );
    assert!(
        find_ref(&m, "ReplicaSet", F::ServiceAccountName)
            .iter()
            .all(|r| !r.rewritable)
    );
    assert!(
        find_ref(&m, "ScaledJob", F::ServiceAccountName)
            .iter()
            .all(|r| !r.rewritable)
    );
    assert!(
        find_ref(&m, "ScaledJob", F::KedaAuthenticationRef)
            .iter()
            .all(|r| !r.rewritable)
    );
    assert!(
        find_ref(&m, "TriggerAuthentication", F::KedaSecretTargetRef)
            .iter()
            .all(|r| !r.rewritable)
    );
    assert!(!find_ref(&m, "Ingress", F::IngressTls).is_empty());
    assert!(!find_ref(&m, "ServiceAccount", F::ImagePullSecret).is_empty());
    assert!(!find_ref(&m, "CronJob", F::ProjectedSecret).is_empty());
    // The SealedSecret moved and was renamed: its Secret is not what the workloads reference.
    let Some(SecretSource::Sealed(kustomize::SealedRef {
        rendered,
        name_in_file,
        namespace_in_file,
        ..
    })) = m.secret_source()
    else {
        panic!("sealed source expected")
    };
    assert_ne!(rendered.name, name_in_file);
    assert_ne!(rendered.namespace, namespace_in_file);
    let sa = find_ref(&m, "CronJob", F::EnvFromSecret);
    assert!(sa.iter().all(|r| r.resolution == Resolution::Unresolved));
}

/// A `configurations:` nameReference entry for kind `SealedSecret` (the sealed-secrets FAQ's
/// answer to namePrefix) makes kustomize rewrite the Deployment's Secret references to the
/// SealedSecret's new name; the model left them as written, so `check` reported two dangling
/// references on a tree that deploys fine.
#[test]
fn configured_sealed_secret_name_references_follow_the_rename() {
    let Some(m) = check("sealed-nameref", "prod") else {
        return;
    };
    let secret_refs: Vec<&Reference> = m
        .references()
        .iter()
        .filter(|r| r.target_kind == "Secret")
        .collect();
    assert_eq!(secret_refs.len(), 2, "{secret_refs:?}");
    for r in secret_refs {
        assert!(r.rewritable, "{r:?}");
        assert_eq!(r.rendered_name, "prod-app-secrets");
        assert!(matches!(r.resolution, Resolution::Resource(_)), "{r:?}");
    }
}

#[test]
fn nested_overlays_apply_each_level() {
    let Some(mid) = check("nested", "mid") else {
        return;
    };
    let Some(top) = check("nested", "top") else {
        return;
    };
    let ident = |m: &Overlay| match m.secret_source() {
        Some(SecretSource::Sealed(kustomize::SealedRef { rendered, .. })) => rendered,
        other => panic!("sealed expected, got {other:?}"),
    };
    assert_ne!(ident(&mid), ident(&top));
    // `configurations:` in top teaches kustomize the KEDA fields.
    use kustomize::RefField as F;
    assert!(
        find_ref(&top, "TriggerAuthentication", F::KedaSecretTargetRef)
            .iter()
            .all(|r| r.rewritable)
    );
    assert!(
        find_ref(&mid, "TriggerAuthentication", F::KedaSecretTargetRef)
            .iter()
            .all(|r| !r.rewritable)
    );
    let ws = emp_seal::workspace::get(&trees().join("nested"));
    let names: Vec<&str> = ws.envs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["mid", "top"]);
}

#[test]
fn components_run_in_the_including_kustomization() {
    let Some(m) = check("component", "prod") else {
        return;
    };
    assert!(m.resources().iter().any(|r| r.kind == "Job"));
    assert!(m.generated().iter().all(|g| g.hash_suffix));
    // The envFrom secretRef was added by a component's patch: its origin is the patch file.
    let from_patch = m
        .references()
        .iter()
        .find(|r| r.field == kustomize::RefField::EnvFromSecret)
        .expect("patched reference");
    assert!(
        from_patch.origin.file.ends_with("add-secret.yaml"),
        "{}",
        from_patch.origin
    );
}

#[test]
fn generators_with_and_without_hash() {
    let Some(dev) = check("generators", "dev") else {
        return;
    };
    let by_name = |m: &Overlay, n: &str| {
        m.generated()
            .iter()
            .find(|g| g.original.name == n)
            .cloned()
            .expect(n)
    };
    let merged = by_name(&dev, "emp-secrets");
    assert!(merged.hash_suffix);
    assert_eq!(merged.specs.len(), 2);
    let keys = merged.keys.clone().expect("env files readable");
    assert!(keys.contains(&"REDIS_PASSWORD".to_owned()) && keys.contains(&"BASE_ONLY".to_owned()));
    let file_gen = by_name(&dev, "dev-extra");
    assert!(file_gen.specs[0].from_generators_file && !file_gen.hash_suffix);
    assert!(!by_name(&dev, "plain-config").hash_suffix);
    let Some(prod) = check("generators", "prod") else {
        return;
    };
    assert!(!by_name(&prod, "emp-secrets").hash_suffix);
}

#[test]
fn patches_change_names_and_references() {
    let Some(m) = check("patches", "paper") else {
        return;
    };
    // A JSON6902 patch put the SealedSecret's name back: its identity is the patched one.
    let Some(SecretSource::Sealed(kustomize::SealedRef { rendered, .. })) = m.secret_source()
    else {
        panic!("sealed")
    };
    assert_eq!(rendered.name, "emp-secrets");
    let ta = m
        .references()
        .iter()
        .find(|r| r.field == kustomize::RefField::KedaAuthenticationRef)
        .expect("auth ref");
    assert!(
        ta.origin.file.ends_with("kustomization.yaml"),
        "{}",
        ta.origin
    );
    assert!(matches!(ta.resolution, Resolution::Resource(_)));
}

#[test]
fn generator_file_with_wrong_api_version_is_a_problem() {
    let root = trees().join("bad-generator");
    let m = Overlay::load(&root, "paper").expect("loads");
    let p = m
        .problems()
        .iter()
        .find(|p| p.kind == ProblemKind::ExternalPlugin)
        .expect("problem");
    assert!(p.origin.file.ends_with("secret-generator.yaml"));
    assert_eq!(
        line_text(&root, &p.origin.file, p.origin.line),
        "apiVersion: v1"
    );
    if common::kubectl().is_none() {
        return;
    }
    let out = common::kustomize_raw(&m.dir);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("external plugins disabled"));
}

#[test]
fn discovery_and_repo_root() {
    let root = trees().join("generators");
    let deep = root.join("k8s/overlays/dev");
    assert_eq!(
        emp_seal::workspace::find_repo_root(&deep).as_deref(),
        Some(root.as_path())
    );
    let names: Vec<String> = emp_seal::workspace::get(&root)
        .envs
        .iter()
        .map(|o| o.name.clone())
        .collect();
    assert_eq!(names, ["dev", "prod"]);
    assert!(Overlay::load(&root, "missing").is_err());
}

#[test]
fn seed_layout_overlays_agree_on_the_secret_name() {
    let root = trees().join("seed-layout");
    let ws = emp_seal::workspace::get(&root);
    assert_eq!(ws.envs.len(), 3);
    for o in &ws.envs {
        let Some(m) = check("seed-layout", &o.name) else {
            return;
        };
        let rendered = match m.secret_source() {
            Some(SecretSource::Sealed(kustomize::SealedRef { rendered, .. })) => rendered,
            Some(SecretSource::Generator {
                rendered,
                hash_suffix,
                from_generators_file,
                ..
            }) => {
                assert!(!hash_suffix && from_generators_file);
                rendered
            }
            None => panic!("{}: no secret source", o.name),
        };
        // Every workload reference to the Secret resolves to this overlay's source.
        for r in m.references().iter().filter(|r| r.target_kind == "Secret") {
            assert_eq!(r.rendered_name, rendered.name, "{} {:?}", o.name, r.field);
            assert_ne!(
                r.resolution,
                Resolution::Unresolved,
                "{} {:?}",
                o.name,
                r.field
            );
        }
    }
}

/// Issue 16: a symlinked directory that leads back into the kustomization graph is a cycle, as
/// kubectl reports it, not an endless walk: `check` finishes with an `overlay-build-error` at
/// the `resources:` entry naming the link.
#[cfg(unix)]
#[test]
fn issue_16_a_symlink_cycle_is_a_build_error() {
    use crate::lifecycle::{run, write};
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path();
    write(
        &root.join("k8s/base/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    );
    write(
        &root.join("k8s/base/kustomization.yaml"),
        "resources:\n  - cm.yaml\n  - loop\n",
    );
    std::os::unix::fs::symlink(".", root.join("k8s/base/loop")).expect("symlink");
    write(
        &root.join("k8s/overlays/x/kustomization.yaml"),
        "resources:\n  - ../../base\n",
    );
    if common::kubectl().is_some() {
        let real = common::kustomize_raw(&root.join("k8s/overlays/x"));
        assert!(!real.status.success(), "kubectl builds a cycle");
        assert!(
            String::from_utf8_lossy(&real.stderr).contains("cycle detected"),
            "{}",
            String::from_utf8_lossy(&real.stderr)
        );
    }
    let model = Overlay::load(root, "x").expect("loads");
    let cycles: Vec<_> = model
        .problems()
        .iter()
        .filter(|p| p.message.contains("cycle"))
        .collect();
    assert_eq!(cycles.len(), 1, "{:?}", model.problems());
    assert_eq!(cycles[0].kind, ProblemKind::BuildError);
    // The model names a file the way the walk reached it (`check` shows it normalised).
    assert!(
        cycles[0].origin.file.ends_with("base/kustomization.yaml"),
        "{}",
        cycles[0].origin
    );

    assert_eq!(cycles[0].origin.line, 3);
    assert!(
        cycles[0].message.contains("symlinked directory"),
        "{}",
        cycles[0].message
    );
    // The objects outside the cycle are still modelled.
    assert!(model.resources().iter().any(|r| r.rendered.name == "c"));

    let out = run(root, &["check", "--format", "text"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "k8s/base/kustomization.yaml:3:3: error[overlay-build-error]: overlay x: cycle through k8s/base/loop/kustomization.yaml"
        ),
        "{}",
        out.stdout
    );
}

/// The name in its file and the rendered identity of the SealedSecret `m` renders.
fn sealed_of(m: &Overlay) -> (String, kustomize::Identity) {
    let sealed = m.secret_source().and_then(|s| match s {
        SecretSource::Sealed(kustomize::SealedRef {
            name_in_file,
            rendered,
            ..
        }) => Some((name_in_file, rendered)),
        SecretSource::Generator { .. } => None,
    });
    sealed.expect("the overlay renders a SealedSecret")
}

/// A strategic-merge patch whose top is `$patch: delete` removes what it matches from the
/// render: here an inline patch without a target (the SealedSecret) and a patch file with one
/// (the Secret). The model kept both and called the overlay not modelled. `check` compares
/// every object and reference with kubectl's render; the Deployment's references to the two
/// are left as written, resolving to nothing.
#[test]
fn delete_patches_remove_objects_from_the_render() {
    let Some(m) = check("smp-delete-rename", "drop") else {
        return;
    };
    let kinds: Vec<&str> = m.resources().iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["Deployment"]);
    assert!(m.secret_sources().is_empty());
    let refs: Vec<&Reference> = m
        .references()
        .iter()
        .filter(|r| r.target_kind == "Secret")
        .collect();
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert!(refs.iter().all(|r| r.resolution == Resolution::Unresolved));
}

/// `options.allowNameChange: true` on a `patches:` entry gives the targets the patch's own
/// `metadata.name` (not its namespace). The model kept the old names and called the overlay not
/// modelled. kubectl's render is the oracle (`check`): kustomize rewrites the reference to the
/// renamed v1 Secret and not the one to the SealedSecret, and a kustomization above finds both
/// objects by their names before the rename.
#[test]
fn allow_name_change_renames_the_patched_objects() {
    let Some(m) = check("smp-delete-rename", "rename") else {
        return;
    };
    let (in_file, rendered) = sealed_of(&m);
    assert_ne!(rendered.name, in_file);
    let secret = m.resources().iter().find(|r| r.kind == "Secret");
    let secret = secret.expect("the Secret renders");
    assert_ne!(secret.rendered.name, secret.original.name);
    let followed = m
        .references()
        .iter()
        .find(|r| r.name == secret.original.name);
    let followed = followed.expect("the Deployment reads the Secret");
    assert_eq!(followed.rendered_name, secret.rendered.name);
    assert!(matches!(followed.resolution, Resolution::Resource(_)));

    let Some(top) = check("smp-delete-rename", "rename-top") else {
        return;
    };
    // The untargeted patch naming the SealedSecret's old name reached it; the deleting one
    // naming the Secret's old name removed it.
    let (_, top_rendered) = sealed_of(&top);
    let sealed = top.resources().iter().find(|r| r.kind == "SealedSecret");
    let sealed = sealed.expect("the SealedSecret renders");
    assert_eq!(sealed.rendered, top_rendered);
    assert!(sealed.annotations.iter().any(|(k, _)| k == "team"));
    assert!(top.resources().iter().all(|r| r.kind != "Secret"));
}

/// A `kind: List` (or `SecretList`, ...) without an `items` field is not expanded: kustomize
/// keeps it as a resource (a `namePrefix` renames it, an unnamed one keeps no name), while
/// `items: []` and `items: null` are empty lists. The model dropped every such list. Two kept
/// lists of one id collide and fail the build. kubectl's render is the oracle.
#[test]
fn a_list_without_items_is_kept_as_a_resource_like_kubectl() {
    if common::kubectl().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let list = |kind: &str, name: Option<&str>, items: &str| {
        let meta = name.map_or(String::new(), |n| format!("metadata:\n  name: {n}\n"));
        format!("apiVersion: v1\nkind: {kind}\n{meta}{items}")
    };
    let lists = [
        list("List", Some("kept"), ""),
        list("List", None, ""),
        list("List", Some("empty"), "items: []\n"),
        list("List", Some("null"), "items: null\n"),
        list("SecretList", Some("kept"), ""),
        // A list inside a list's items, without items, is kept too.
        list(
            "List",
            Some("outer"),
            "items:\n- apiVersion: v1\n  kind: SecretList\n",
        ) + "  metadata:\n    name: inner\n",
        list(
            "List",
            Some("outer2"),
            "items:\n- apiVersion: v1\n  kind: ConfigMapList\n",
        ),
    ];
    common::write(root, "a/lists.yaml", &lists.join("---\n"));
    common::write(
        root,
        "a/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
    );
    common::write(
        root,
        "a/kustomization.yaml",
        "namespace: ns\nnamePrefix: p-\nresources:\n- lists.yaml\n- cm.yaml\n",
    );
    let model = Overlay::load(root, "a").expect("overlay loads");
    assert!(model.problems().is_empty(), "{:?}", model.problems());
    let out = render(&model.dir);
    let mut want: Vec<(String, String, String, Option<String>)> = out
        .iter()
        .map(|o| {
            let id = (o.api_version.clone(), o.kind.clone());
            (id.0, id.1, o.name.clone(), o.namespace.clone())
        })
        .collect();
    let mut got: Vec<(String, String, String, Option<String>)> = (model.resources().iter())
        .map(|r| {
            let id = (r.api_version.clone(), r.kind.clone());
            (
                id.0,
                id.1,
                r.rendered.name.clone(),
                r.rendered.namespace.clone(),
            )
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "the model's resources are kubectl's render");
    assert!(got.iter().any(|(_, k, n, _)| k == "List" && n == "p-kept"));

    // A second unnamed List collides with the first: kubectl fails, and so does the model.
    let two = [list("List", None, ""), list("List", None, "")].join("---\n");
    common::write(root, "a/lists.yaml", &two);
    let model = Overlay::load(root, "a").expect("overlay loads");
    assert!(!common::kustomize_raw(&model.dir).status.success());
    assert!(
        model.problems().iter().any(|p| p.fails_build()),
        "{:?}",
        model.problems()
    );
}

/// The ids (apiVersion, kind, name) of the model's resources, sorted.
fn model_ids(model: &Overlay) -> Vec<(String, String, String)> {
    let mut ids: Vec<_> = (model.resources().iter())
        .map(|r| {
            (
                r.api_version.clone(),
                r.kind.clone(),
                r.rendered.name.clone(),
            )
        })
        .collect();
    ids.sort();
    ids
}

/// The ids kubectl renders for `dir`, sorted, or `None` when its build fails.
fn kubectl_ids(dir: &Path) -> Option<Vec<(String, String, String)>> {
    if !common::kustomize_raw(dir).status.success() {
        return None;
    }
    let mut ids: Vec<_> = (render(dir).into_iter())
        .filter(|o| !o.value.is_null())
        .map(|o| (o.api_version, o.kind, o.name))
        .collect();
    ids.sort();
    Some(ids)
}

/// Odd `items` of `kind: List` documents, as kubectl reads them: kyaml's reader unwraps a
/// `List` alone in its file (and any `List` item of a list) leniently, dropping scalar and `{}`
/// items, while the factory fails on items that are no array (a `SecretList`, a list inside a
/// list alone in its file, a list in a file of several documents, even one cut by a trailing
/// `---`). The model reported every non-sequence `items` as a build error. kubectl is the
/// oracle of whether the build fails and what it renders; a failing build's problem is at the
/// line marked `# bad`.
#[test]
fn odd_list_items_fail_or_vanish_like_kubectl() {
    if common::kubectl().is_none() {
        return;
    }
    let list = |kind: &str, items: &str| format!("apiVersion: v1\nkind: {kind}\n{items}\n");
    let nested = |inner: &str, items: &str| {
        format!(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: {inner}\n  {items}\n"
        )
    };
    let cm = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";
    let cases = [
        list("List", "items: x"),
        list("List", "items: {}"),
        list("List", "items: 3"),
        list("List", "items: {a: 1} # bad"),
        list("ResourceList", "items: x"),
        list("List", "functionConfig: {a: 1}"),
        list("SecretList", "items: x # bad"),
        list("SecretList", "items: {} # bad"),
        nested("List", "items: x # bad"),
        nested("List", "items: {} # bad"),
        list("List", "items: x # bad") + cm,
        format!("# header\n---\n{}", list("List", "items: x # bad")),
        format!("---\n{}", list("List", "items: x")),
        list("List", "items: x # bad") + "---\n",
        // A list in an item of a list the factory expands is read alone again.
        nested("List", "items: x") + cm,
        nested("List", "items: {a: 1} # bad") + cm,
        nested("SecretList", "items: x # bad") + cm,
        format!(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n{}",
            "  - apiVersion: v1\n    kind: List\n    items: x\n"
        ),
    ];
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    common::write(root, "a/kustomization.yaml", "resources:\n- r.yaml\n");
    for text in cases {
        common::write(root, "a/r.yaml", &text);
        let model = Overlay::load(root, "a").expect("overlay loads");
        let failing: Vec<_> = model
            .problems()
            .iter()
            .filter(|p| p.fails_build())
            .collect();
        match kubectl_ids(&model.dir) {
            Some(want) => {
                assert!(failing.is_empty(), "{text}: {failing:?}");
                assert_eq!(model_ids(&model), want, "{text}");
            }
            None => {
                let bad = text.lines().position(|l| l.ends_with("# bad"));
                let line = bad.expect("a failing case marks its line") + 1;
                assert!(
                    failing.iter().any(|p| p.origin.line == line),
                    "{text}: want a build error at line {line}: {failing:?}"
                );
            }
        }
    }
}

/// An empty `metadata.name`: kubectl refuses it on any object but a list kept whole (no
/// `items`), which a `namePrefix` or `nameSuffix` renames (`p-`); renamed twice (a prefix and a
/// suffix, or prefixes at two levels), kustomize panics and the build fails. The model skipped
/// the rename and built. kubectl is the oracle of failure and names; a failing build's problem
/// is at the `name: ""` line.
#[test]
fn an_empty_name_is_renamed_or_fails_like_kubectl() {
    if common::kubectl().is_none() {
        return;
    }
    let named = |kind: &str| format!("apiVersion: v1\nkind: {kind}\nmetadata:\n  name: \"\"\n");
    let k = |extra: &str| format!("{extra}resources:\n- r.yaml\n");
    let cases = [
        (k("namePrefix: p-\n"), named("List"), None),
        (k("nameSuffix: -s\n"), named("List"), None),
        (k(""), named("List"), None),
        (k("namePrefix: p-\nnameSuffix: -s\n"), named("List"), None),
        (
            k("namePrefix: p-\nnameSuffix: -s\n"),
            "apiVersion: v1\nkind: List\n".to_owned(),
            None,
        ),
        (k("namePrefix: p-\n"), named("ConfigMap"), None),
        (k(""), named("ConfigMap"), None),
        (
            k("namePrefix: p-\n"),
            named("List"),
            Some("namePrefix: t-\nresources:\n- ../a\n"),
        ),
    ];
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    for (kustomization, text, top) in cases {
        common::write(root, "a/kustomization.yaml", &kustomization);
        common::write(root, "a/r.yaml", &text);
        let overlay = match top {
            Some(t) => {
                common::write(root, "top/kustomization.yaml", t);
                "top"
            }
            None => "a",
        };
        let model = Overlay::load(root, overlay).expect("overlay loads");
        let failing: Vec<_> = model
            .problems()
            .iter()
            .filter(|p| p.fails_build())
            .collect();
        let case = format!("{kustomization}{text}{top:?}");
        match kubectl_ids(&model.dir) {
            Some(want) => {
                assert!(failing.is_empty(), "{case}: {failing:?}");
                assert_eq!(model_ids(&model), want, "{case}");
            }
            None => assert!(
                failing.iter().any(|p| p.origin.line == 4),
                "{case}: want a build error at the name's line: {failing:?}"
            ),
        }
    }
}

/// A Deployment `name` whose containers read the ConfigMaps `names`.
fn deployment_reading(name: &str, names: &[&str]) -> String {
    let refs: String = (names.iter())
        .map(|n| format!("        - configMapRef: {{name: {n}}}\n"))
        .collect();
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n      - name: {name}\n        image: nginx:1.27\n        envFrom:\n{refs}"
    )
}

/// The ConfigMaps [`paths_through_links_resolve_as_kustomize_resolves_them`] looks for.
const LINKED_NAMES: [&str; 3] = ["k8s-common", "vendor-common", "own"];

/// The tree of [`paths_through_links_resolve_as_kustomize_resolves_them`], staged in git:
/// `k8s/linked` leads to `vendor/x/base`, whose kustomization names `../common`
/// (`vendor/x/common`, beside where the link leads); `k8s/common` is another directory of that
/// name. Each of `overlays` (name, `resources:` entry) reads a Deployment naming
/// [`LINKED_NAMES`]; the overlay `linked-dir` is itself a link, to `vendor/y/app`.
fn linked_tree(overlays: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    let cm = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    let kust = |entry: &str| format!("resources:\n- {entry}\n- deploy.yaml\n");
    let mut files = vec![
        (
            "k8s/common/kustomization.yaml".to_owned(),
            "resources: [cm.yaml]\n".to_owned(),
        ),
        ("k8s/common/cm.yaml".to_owned(), cm("k8s-common")),
        (
            "vendor/x/common/kustomization.yaml".to_owned(),
            kust("cm.yaml"),
        ),
        ("vendor/x/common/cm.yaml".to_owned(), cm("vendor-common")),
        (
            "vendor/x/common/deploy.yaml".to_owned(),
            deployment_reading("vendor", &["absent"]),
        ),
        (
            "vendor/x/base/kustomization.yaml".to_owned(),
            "resources: [../common]\n".to_owned(),
        ),
        ("k8s/overlays/slash/cm.yaml".to_owned(), cm("own")),
    ];
    for (o, entry) in overlays {
        let dir = match *o {
            "linked-dir" => "vendor/y/app".to_owned(),
            _ => format!("k8s/overlays/{o}"),
        };
        files.push((format!("{dir}/kustomization.yaml"), kust(entry)));
        files.push((
            format!("{dir}/deploy.yaml"),
            deployment_reading("web", &LINKED_NAMES),
        ));
    }
    let files: Vec<(&str, &str)> = (files.iter())
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let t = common::staged_repo(&files)?;
    let root = t.path();
    std::os::unix::fs::symlink("../vendor/x/base", root.join("k8s/linked")).expect("symlink");
    let app = root.join("k8s/overlays/linked-dir");
    std::os::unix::fs::symlink("../../vendor/y/app", app).expect("symlink");
    common::git(root, &["add", "-A"]);
    Some(t)
}

/// A path through a symbolic link, resolved as kustomize resolves it (api/internal/loader/
/// fileloader.go joins an entry onto its kustomization's directory lexically, and that directory
/// has its links resolved, kyaml filesys/confirmeddir.go): a `..` inside one entry steps back over
/// the link as written (`linked/../common` is `common`), while a kustomization reached through a
/// link (or an overlay directory that is one) names its `../common` from where the link leads.
/// Every overlay's verdict on which ConfigMap a Deployment may name is kubectl's, in one `check`
/// run whose builds share their parsed files.
#[cfg(unix)]
#[test]
fn paths_through_links_resolve_as_kustomize_resolves_them() {
    let overlays = [
        ("through", "../../linked"),
        ("direct", "../../common"),
        ("stepped-back", "../../linked/../common"),
        ("slash", "cm.yaml/"),
        ("linked-dir", "../../x/common"),
    ];
    let Some(t) = linked_tree(&overlays) else {
        return;
    };
    let root = t.path();
    if common::kubectl().is_none() {
        return;
    }
    let (_, hits) = common::check_hits(root, &[]);
    let mut wrong = Vec::new();
    for (o, _) in overlays {
        let rendered = render(&root.join("k8s/overlays").join(o));
        let has = |n: &str| {
            rendered
                .iter()
                .any(|r| r.kind == "ConfigMap" && r.name == n)
        };
        assert!(
            LINKED_NAMES.iter().any(|n| has(n)),
            "{o}: kubectl renders a ConfigMap"
        );
        for n in LINKED_NAMES {
            let dangling = hits.iter().any(|h| {
                h.rule == "dangling-reference"
                    && h.message
                        .starts_with(&format!("overlay {o}: Deployment `web`"))
                    && h.message.contains(&format!("ConfigMap `{n}`"))
            });
            if dangling == has(n) {
                wrong.push(format!("overlay {o}, ConfigMap {n}: dangling {dangling}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}\n{hits:#?}");
    // A finding in a file reached through the link names the file it is in.
    let absent: Vec<_> = (hits.iter())
        .filter(|h| h.message.contains("ConfigMap `absent`"))
        .map(|h| {
            (
                h.path.as_str(),
                h.message.split(':').next().unwrap_or_default(),
            )
        })
        .collect();
    let at = "vendor/x/common/deploy.yaml";
    assert_eq!(
        absent,
        [(at, "overlay linked-dir"), (at, "overlay through")],
        "{hits:#?}"
    );
}

/// A file named past a link in a directory that does not exist where the link leads: kubectl
/// fails to build, and `check` names the file where kustomize looks for it (beside where the link
/// leads), not the file of that name beside the link.
#[cfg(unix)]
#[test]
fn a_missing_file_past_a_link_is_named_where_kustomize_looks() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    let patch = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {a: b}\n";
    let files = [
        (
            "vendor/z/base/kustomization.yaml",
            "resources: [cm.yaml]\npatches:\n- path: ../nodir/patch.yaml\n",
        ),
        ("vendor/z/base/cm.yaml", cm),
        ("k8s/nodir/patch.yaml", patch),
        (
            "k8s/overlays/o/kustomization.yaml",
            "resources: [../../linked]\n",
        ),
    ];
    let Some(t) = common::staged_repo(&files) else {
        return;
    };
    let root = t.path();
    std::os::unix::fs::symlink("../vendor/z/base", root.join("k8s/linked")).expect("symlink");
    common::git(root, &["add", "-A"]);
    if common::kubectl().is_some() {
        let real = common::kustomize_raw(&root.join("k8s/overlays/o"));
        assert!(!real.status.success(), "kubectl builds it");
    }
    let (_, hits) = common::check_hits(root, &[]);
    let named = |f: &str| hits.iter().any(|h| h.message.contains(f));
    assert!(named("vendor/z/nodir/patch.yaml"), "{hits:#?}");
    assert!(!named("k8s/nodir/patch.yaml"), "{hits:#?}");
}

/// kustomize builds no directory named by an absolute path (a `resources:` directory or a
/// component: "new root ... cannot be absolute"), while it loads a file so named: `check` fails
/// the first two overlays as kubectl does and passes the third.
#[test]
fn an_absolute_directory_entry_fails_the_build_an_absolute_file_does_not() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    let files = [
        ("k8s/base/kustomization.yaml", "resources: [cm.yaml]\n"),
        ("k8s/base/cm.yaml", cm),
        (
            "k8s/comp/kustomization.yaml",
            "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\n",
        ),
    ];
    let Some(t) = common::staged_repo(&files) else {
        return;
    };
    let root = &std::fs::canonicalize(t.path()).expect("canonical");
    let abs = |rel: &str| root.join(rel).display().to_string();
    let overlays = [
        ("dir", format!("resources:\n- {}\n", abs("k8s/base"))),
        (
            "component",
            format!(
                "resources: [../../base]\ncomponents:\n- {}\n",
                abs("k8s/comp")
            ),
        ),
        (
            "file",
            format!("resources:\n- {}\n", abs("k8s/overlays/file/cm.yaml")),
        ),
    ];
    for (o, text) in &overlays {
        common::write(root, &format!("k8s/overlays/{o}/kustomization.yaml"), text);
    }
    common::write(root, "k8s/overlays/file/cm.yaml", cm);
    common::git(root, &["add", "-A"]);
    let (_, hits) = common::check_hits(root, &[]);
    for (o, _) in overlays {
        let refused = hits.iter().any(|h| {
            h.rule == "overlay-build-error"
                && h.message.starts_with(&format!("overlay {o}: "))
                && h.message.contains("cannot be absolute")
        });
        assert_eq!(refused, o != "file", "{o}: {hits:#?}");
        let failed = (hits.iter()).any(|h| h.message.starts_with(&format!("overlay {o}: ")));
        assert_eq!(failed, refused, "{o}: {hits:#?}");
        if common::kubectl().is_some() {
            let real = common::kustomize_raw(&root.join("k8s/overlays").join(o));
            assert_eq!(real.status.success(), !refused, "kubectl on {o}");
        }
    }
}
