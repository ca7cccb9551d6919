//! A root below the git top level (a monorepo's `services/api`) whose overlay only a Flux
//! Kustomization of the repository deploys: Flux builds it with no load restrictor on a file
//! system confined to the repository (fluxcd/pkg `kustomize/kustomize_generator.go`,
//! `kustomize/filesys/fs_secure.go`), so an env file at the repository's top-level `shared/`,
//! above the root, loads. Where that top is, git says: when git cannot answer (not on PATH,
//! `GIT_DIR` naming no repository), `check` takes the root as the top (the cautious side) and
//! says so in a note naming why. `check --render` renders the overlay from a temporary copy with
//! the env file's `.example` standing in, the copy reaching up to the file.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use crate::common::{self, Hit, of};

/// The overlay, relative to the root.
const OVERLAY: &str = "k8s/overlays/prod";

/// The overlay's kustomization: a Deployment reading the generated Secret, whose env file is
/// at the repository's top-level `shared/`, above the root.
const KUSTOMIZATION: &str = "resources:\n  - deployment.yaml\nsecretGenerator:\n  - name: app-secrets\n    envs:\n      - ../../../../../shared/app.env\n";

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: prod\nspec:\n  selector:\n    matchLabels:\n      app: app\n  template:\n    metadata:\n      labels:\n        app: app\n    spec:\n      containers:\n        - name: app\n          image: app:1\n          env:\n            - name: KEY\n              valueFrom:\n                secretKeyRef:\n                  name: app-secrets\n                  key: API_KEY\n";

/// A Flux Kustomization of this repository's `GitRepository` deploying the overlay.
const FLUX: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: api\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./services/api/k8s/overlays/prod\n  prune: true\n  targetNamespace: prod\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";

/// The Flux `GitRepository` of [`FLUX`], cloning submodules.
const GIT_REPOSITORY: &str = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: https://example.org/fleet.git\n  recurseSubmodules: true\n";

/// The monorepo: a git repository at `<tmp>/top` ignoring `*.env`, emp-seal's root at
/// `services/api`, the Flux Kustomization at `clusters/prod`, the env file's `.example` at
/// `shared/` (the env file absent); everything staged. `None` when git is missing outside CI.
pub struct Monorepo {
    tmp: tempfile::TempDir,
}

impl Monorepo {
    pub fn new() -> Option<Monorepo> {
        if common::which("git").is_none() {
            common::missing("git");
            return None;
        }
        let m = Monorepo {
            tmp: tempfile::tempdir().unwrap(),
        };
        let top = m.top();
        common::write(&top, ".gitignore", "*.env\n");
        common::write(&top, "clusters/prod/api.yaml", FLUX);
        common::write(&top, "shared/app.env.example", "API_KEY=\n");
        let root = m.root();
        common::write(
            &root,
            &format!("{OVERLAY}/kustomization.yaml"),
            KUSTOMIZATION,
        );
        common::write(&root, &format!("{OVERLAY}/deployment.yaml"), DEPLOYMENT);
        common::git(&top, &["init", "-q"]);
        common::git(&top, &["add", "-A"]);
        Some(m)
    }

    /// The git top level.
    pub fn top(&self) -> PathBuf {
        self.tmp.path().join("top")
    }

    /// emp-seal's root.
    pub fn root(&self) -> PathBuf {
        self.top().join("services/api")
    }

    /// `<tmp>`: outside the repository.
    pub fn outside(&self) -> &Path {
        self.tmp.path()
    }
}

/// `emp-seal -C ROOT check --format json ARGS` with `env` set: exit code, findings and the
/// notes' messages.
fn check(
    root: &Path,
    env: &[(&str, &std::ffi::OsStr)],
    args: &[&str],
) -> (i32, Vec<Hit>, Vec<String>) {
    let mut c = common::emp_seal_std();
    c.arg("-C")
        .arg(root)
        .args(["check", "--format", "json"])
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let code = out.status.code().unwrap();
    assert_ne!(code, 2, "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = (v["notes"].as_array().unwrap().iter())
        .map(|n| n["message"].as_str().unwrap().to_owned())
        .collect();
    (code, common::report_hits(&out.stdout), notes)
}

/// The notes saying git could not be asked where the top is.
fn unanswered(notes: &[String]) -> Vec<&String> {
    (notes.iter())
        .filter(|n| n.starts_with("git could not be asked where the repository's top is ("))
        .collect()
}

/// With git answering, the env file above the root loads (no finding, no note about git). With
/// git failing (`GIT_DIR` naming no repository; no git on PATH) the root is taken as the top:
/// the env file is refused (an `overlay-build-error`, so the run is not clean), and one note
/// says git could not be asked, naming git's reason. That failure used to be taken for "in no
/// repository", silently.
#[test]
fn a_failing_git_is_said_and_the_root_taken_as_the_top() {
    let Some(m) = Monorepo::new() else {
        return;
    };
    let root = m.root();
    let (_, hits, notes) = check(&root, &[], &["--render=never"]);
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    assert!(unanswered(&notes).is_empty(), "{notes:?}");

    let nowhere = m.outside().join("no-repository");
    let empty_path = tempfile::tempdir().unwrap();
    let cases: [(&str, &std::ffi::OsStr, &str); 2] = [
        (
            "GIT_DIR",
            nowhere.as_os_str(),
            "fatal: not a git repository",
        ),
        (
            "PATH",
            empty_path.path().as_os_str(),
            "git could not be run: ",
        ),
    ];
    for (var, value, reason) in cases {
        let (code, hits, notes) = check(&root, &[(var, value)], &["--render=never"]);
        let said = unanswered(&notes);
        assert_eq!(said.len(), 1, "{var}: {notes:?}");
        assert!(said[0].contains(reason), "{var}: {notes:?}");
        assert!(
            said[0].contains("the root is taken as the top"),
            "{var}: {notes:?}"
        );
        let refused = of(&hits, "overlay-build-error");
        assert_eq!(refused.len(), 1, "{var}: {hits:?}");
        assert!(refused[0].message.contains("app.env"), "{var}: {hits:?}");
        assert_eq!(code, 1, "{var}: {hits:?}");
    }
}

/// `check --render` renders the Flux-only overlay from a temporary copy in which the env file's
/// `.example` stands in, the copy reaching up to the env file's directory at the repository's
/// top: no `render-failed` (it used to say the overlay "reads files outside the repository"),
/// no `model-divergence`. `kubectl kustomize --load-restrictor LoadRestrictionsNone`, Flux's
/// build, builds the overlay with the env file in place.
#[test]
fn render_copies_up_to_an_env_file_above_the_root() {
    let Some(m) = Monorepo::new() else {
        return;
    };
    if common::kubectl().is_none() {
        return;
    }
    let (_, hits, _) = check(&m.root(), &[], &["--render=always"]);
    assert!(of(&hits, "render-failed").is_empty(), "{hits:?}");
    assert!(of(&hits, "model-divergence").is_empty(), "{hits:?}");
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    // The oracle: Flux's build of a copy with the env file in place.
    let copy = tempfile::tempdir().unwrap();
    common::copy_dir(&m.top(), copy.path());
    common::write(copy.path(), "shared/app.env", "API_KEY=x\n");
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(copy.path().join("services/api").join(OVERLAY))
        .args(["--load-restrictor", "LoadRestrictionsNone"])
        .output()
        .unwrap();
    let render = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(render.contains("name: app-secrets-"), "{render}");
}

/// The files above the root that the Flux-only overlay reads are checked like the root's own,
/// under the names its build reads them by (`../../shared/app.env`), with git's status for
/// them: the env file's `.example` is read (no `example-generator-mismatch` claiming it is
/// missing: the run is clean), and a real env file committed there is a `plaintext-env-file`.
/// Both used to be left unread: the example was reported missing, the committed file passed.
#[test]
fn files_above_the_root_the_overlay_reads_are_checked() {
    let Some(m) = Monorepo::new() else {
        return;
    };
    let root = m.root();
    let (code, hits, _) = check(&root, &[], &["--render=never"]);
    assert!(hits.is_empty(), "{hits:?}");
    assert_eq!(code, 0);

    common::write(
        &m.top(),
        "shared/app.env",
        "API_KEY=not-a-placeholder-value\n",
    );
    common::git(&m.top(), &["add", "-f", "shared/app.env"]);
    let (code, hits, _) = check(&root, &[], &["--render=never"]);
    let committed = of(&hits, "plaintext-env-file");
    assert_eq!(committed.len(), 1, "{hits:?}");
    assert_eq!(committed[0].path, "../../shared/app.env", "{hits:?}");
    assert_eq!(code, 1, "{hits:?}");
}

/// The same, with the shared directory beside the root (`services/shared`, read as
/// `../shared/app.env`) rather than at the top: git's listing names it from the top
/// (`services/shared/app.env`), and the root-relative name must be the one the build uses. It
/// was `../../services/shared/app.env`, which the build's name did not match: the tracked
/// example counted as not tracked (a false `example-generator-mismatch`) and the committed env
/// file passed.
#[test]
fn files_beside_the_root_the_overlay_reads_are_named_as_the_build_names_them() {
    let Some(m) = Monorepo::new() else {
        return;
    };
    let (top, root) = (m.top(), m.root());
    common::git(&top, &["mv", "shared", "services/shared"]);
    let kustomization = KUSTOMIZATION.replace("../../../../../shared", "../../../../shared");
    common::write(
        &root,
        &format!("{OVERLAY}/kustomization.yaml"),
        &kustomization,
    );
    common::git(&top, &["add", "-A"]);
    let (code, hits, _) = check(&root, &[], &["--render=never"]);
    assert!(hits.is_empty(), "{hits:?}");
    assert_eq!(code, 0);

    common::write(
        &top,
        "services/shared/app.env",
        "API_KEY=not-a-placeholder-value\n",
    );
    common::git(&top, &["add", "-f", "services/shared/app.env"]);
    let (code, hits, _) = check(&root, &[], &["--render=never"]);
    let committed = of(&hits, "plaintext-env-file");
    assert_eq!(committed.len(), 1, "{hits:?}");
    assert_eq!(committed[0].path, "../shared/app.env", "{hits:?}");
    assert_eq!(code, 1, "{hits:?}");
}

/// The monorepo with its top-level `shared/` a git submodule (from a repository of its own,
/// `<tmp>/shared-source`) holding a committed real env file, `app.env`, that the Flux-only
/// overlay reads from above the root, and the Flux `GitRepository` cloning submodules
/// (`spec.recurseSubmodules: true`: without it, nothing of `shared/` is in Flux's artifact); the
/// rest staged. `None` when git is missing outside CI.
fn with_shared_submodule() -> Option<Monorepo> {
    let m = Monorepo::new()?;
    let top = m.top();
    let source = m.outside().join("shared-source");
    common::write(&source, "app.env", "API_KEY=not-a-placeholder-value\n");
    common::write(&source, "app.env.example", "API_KEY=\n");
    common::git(&source, &["init", "-q"]);
    common::git(&source, &["add", "-A"]);
    common::git(&source, &["commit", "-qm", "shared"]);
    common::git(&top, &["rm", "-rq", "--cached", "shared"]);
    std::fs::remove_dir_all(top.join("shared")).unwrap();
    let url = source.to_str().unwrap();
    let add = ["-c", "protocol.file.allow=always", "submodule", "add", "-q"];
    common::git(&top, &[&add[..], &[url, "shared"]].concat());
    common::write(&top, "clusters/prod/source.yaml", GIT_REPOSITORY);
    common::git(&top, &["add", "-A"]);
    Some(m)
}

/// A file above the root inside a git submodule is not listed by git for a pathspec naming it
/// from the root (no error either): its status is asked of the submodule. The real env file
/// committed in the `shared/` submodule, which the Flux-only overlay reads, is tracked: a
/// `plaintext-env-file`, and no note. It used to count as git-ignored, and passed.
#[test]
fn a_file_above_the_root_committed_in_a_submodule_is_tracked() {
    let Some(m) = with_shared_submodule() else {
        return;
    };
    let root = m.root();
    let (code, hits, notes) = check(&root, &[], &["--render=never"]);
    let committed = of(&hits, "plaintext-env-file");
    assert_eq!(committed.len(), 1, "{hits:?}");
    assert_eq!(committed[0].path, "../../shared/app.env", "{hits:?}");
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    assert_eq!(code, 1, "{hits:?}");
    assert!(
        !notes.iter().any(|n| n.contains("git could not list")),
        "{notes:?}"
    );
}

/// When git cannot list the submodule a file above the root is in (its `.git` names a git
/// directory that does not exist), while it listed the root and the pathspec naming the file
/// (nothing, no error), the file's status is unknown, and a note names it: not taken as
/// ignored (it used to be, silently), nor as committed (no `plaintext-env-file`: an env file
/// of unknown status is not checked for being committed, as the note says).
#[test]
fn a_file_above_the_root_in_a_submodule_git_cannot_list_is_of_unknown_status() {
    let Some(m) = with_shared_submodule() else {
        return;
    };
    let root = m.root();
    let broken = m.outside().join("no-such-git-dir");
    let gitfile = format!("gitdir: {}\n", broken.display());
    common::write(&m.top(), "shared/.git", &gitfile);
    let (code, hits, notes) = check(&root, &[], &["--render=never"]);
    let said: Vec<&String> = (notes.iter())
        .filter(|n| n.starts_with("git could not list the files above the root"))
        .collect();
    assert_eq!(said.len(), 1, "{notes:?}");
    assert!(
        said[0].contains("(../../shared/app.env, ../../shared/app.env.example)"),
        "{notes:?}"
    );
    assert!(said[0].contains("tracked status is unknown"), "{notes:?}");
    assert!(of(&hits, "plaintext-env-file").is_empty(), "{hits:?}");
    assert_eq!(code, 0, "{hits:?}");
}

/// The Flux Kustomization deploying the overlay is in a git submodule above the root
/// (`clusters/`, a repository of its own): `git ls-files` at the top does not enter it, but it
/// is read all the same (each checked-out submodule is listed in its own repository), so the
/// overlay is Flux's and its env file above the root loads: no finding. It used not to be read:
/// the overlay was built under kustomize's own load restriction, and the env file refused (an
/// `overlay-build-error`).
#[test]
fn a_flux_kustomization_in_a_submodule_above_the_root_is_read() {
    let Some(m) = Monorepo::new() else {
        return;
    };
    let top = m.top();
    let source = m.outside().join("clusters-source");
    common::write(&source, "prod/api.yaml", FLUX);
    common::git(&source, &["init", "-q"]);
    common::git(&source, &["add", "-A"]);
    common::git(&source, &["commit", "-qm", "clusters"]);
    common::git(&top, &["rm", "-rq", "--cached", "clusters"]);
    std::fs::remove_dir_all(top.join("clusters")).unwrap();
    let url = source.to_str().unwrap();
    let add = ["-c", "protocol.file.allow=always", "submodule", "add", "-q"];
    common::git(&top, &[&add[..], &[url, "clusters"]].concat());
    let (code, hits, notes) = check(&m.root(), &[], &["--render=never"]);
    assert!(hits.is_empty(), "{hits:?}");
    assert_eq!(code, 0, "{hits:?}");
    assert!(
        !notes.iter().any(|n| n.contains("git could not")),
        "{notes:?}"
    );
    // A submodule git cannot list: a note says its objects are not read.
    let broken = format!("gitdir: {}\n", m.outside().join("nowhere").display());
    common::write(&top, "clusters/.git", &broken);
    let (_, hits, notes) = check(&m.root(), &[], &["--render=never"]);
    assert_eq!(of(&hits, "overlay-build-error").len(), 1, "{hits:?}");
    assert!(
        notes.iter().any(|n| n.starts_with(
            "git could not list the files of the submodule clusters outside the root"
        )),
        "{notes:?}"
    );
}

/// A file above the root that the Flux-only overlay reads but Flux's artifact leaves out (a
/// `.sourceignore` pattern), or that git does not track, is an `overlay-build-error` whose
/// message names the files relative to the root (`../../shared/cm.yaml`), as every other
/// message does: never by absolute path (they used to be).
#[test]
fn files_above_the_root_out_of_flux_s_source_are_named_relative_to_the_root() {
    let Some(m) = Monorepo::new() else {
        return;
    };
    let (top, root) = (m.top(), m.root());
    let with = KUSTOMIZATION.replace(
        "resources:\n",
        "resources:\n  - ../../../../../shared/cm.yaml\n  - ../../../../../shared/extra.yaml\n",
    );
    common::write(&root, &format!("{OVERLAY}/kustomization.yaml"), &with);
    let cm = |name: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: prod\n")
    };
    common::write(&top, "shared/cm.yaml", &cm("one"));
    common::write(&top, ".sourceignore", "shared/cm.yaml\n");
    common::git(&top, &["add", "-A"]);
    common::write(&top, "shared/extra.yaml", &cm("two"));
    let (_, hits, _) = check(&root, &[], &["--render=never"]);
    let errors = of(&hits, "overlay-build-error");
    let messages: Vec<&str> = errors.iter().map(|h| h.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{hits:?}");
    let shown = top.to_string_lossy().into_owned();
    assert!(messages.iter().all(|m| !m.contains(&shown)), "{messages:?}");
    assert!(
        messages.iter().any(|m| m.contains(
            "file ../../shared/cm.yaml is not in the artifact Flux builds from: the ignore pattern `shared/cm.yaml` at ../../.sourceignore:1 leaves ../../shared/cm.yaml out"
        )),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m
                .contains("file ../../shared/extra.yaml is not tracked by git (it is untracked)")),
        "{messages:?}"
    );
}

/// The findings of `check` run from `services/api` of a repository whose SealedSecret is in a
/// base above that root (`services/shared`, reached as `../shared`), with `example` beside it,
/// and the `extra` files (path under the top, text). `None` without git.
fn above_root_example(example: &str, extra: &[(&str, &str)]) -> Option<Vec<common::Hit>> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    let top = t.path();
    let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app\n  namespace: prod\nspec:\n  encryptedData:\n    API_KEY: AgBy3i4OJSWK\n";
    common::write(top, "services/shared/sealed.yaml", sealed);
    common::write(
        top,
        "services/shared/kustomization.yaml",
        "resources: [sealed.yaml]\n",
    );
    common::write(top, "services/shared/app.env.example", example);
    for (path, text) in extra {
        common::write(top, path, text);
    }
    common::write(
        top,
        "services/api/k8s/overlays/prod/kustomization.yaml",
        "resources: [../../../../shared]\n",
    );
    common::git(top, &["init", "-q"]);
    common::git(top, &["add", "-A"]);
    Some(check(&top.join("services/api"), &[], &["--render=never"]).1)
}

/// A SealedSecret in a base above the root with its example beside it: `seal` read that example
/// from disk and asked for its keys, while `check` looked for it in the tree it loaded, which
/// holds no example there, and judged nothing. Both now read it, so a key the example documents
/// and the SealedSecret lacks is reported.
#[test]
fn the_example_beside_a_base_sealed_secret_above_the_root_is_its_key_set() {
    let Some(hits) = above_root_example("API_KEY=\nOTHER=\n", &[]) else {
        return;
    };
    let mismatch = of(&hits, "example-sealed-mismatch");
    assert_eq!(mismatch.len(), 1, "{hits:?}");
    assert_eq!(mismatch[0].path, "../shared/sealed.yaml", "{hits:?}");
    assert!(mismatch[0].message.contains("`OTHER`"), "{hits:?}");
}

/// The same example with a line without `=`: a key to kustomize v5, so `check` reports the
/// SealedSecret lacking it, as it does for an example inside the root, and names it by that line
/// (the tree `check` loaded does not hold this example, so its own record of the line is used),
/// never by its content.
#[test]
fn a_line_without_equals_beside_a_base_above_the_root_is_named_by_its_line() {
    let Some(hits) = above_root_example("API_KEY=\nS3CRETbare\n", &[]) else {
        return;
    };
    assert!(
        hits.iter().all(|h| !h.message.contains("S3CRET")),
        "{hits:?}"
    );
    let mismatch = of(&hits, "example-sealed-mismatch");
    assert_eq!(mismatch.len(), 1, "{hits:?}");
    let line = "the key on line 2 of `../shared/app.env.example` (a line without '=', not shown)";
    assert!(mismatch[0].message.contains(line), "{hits:?}");
}

/// A sibling overlay's SealedSecret of the same name, without an example of its own, takes the
/// key set of that example above the root: the line without `=` it lacks is named by its line
/// there too (it was shown by its content, being in no env file of the tree).
#[test]
fn a_sibling_key_from_a_line_without_equals_above_the_root_is_named_by_its_line() {
    let dev = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app\n  namespace: dev\nspec:\n  encryptedData:\n    API_KEY: AgBy3i4OJSWK\n";
    let extra = [
        ("services/api/k8s/overlays/dev/sealed.yaml", dev),
        (
            "services/api/k8s/overlays/dev/kustomization.yaml",
            "resources: [sealed.yaml]\n",
        ),
    ];
    let Some(hits) = above_root_example("API_KEY=\nS3CRETbare\n", &extra) else {
        return;
    };
    assert!(
        hits.iter().all(|h| !h.message.contains("S3CRET")),
        "{hits:?}"
    );
    let mismatch = of(&hits, "example-sealed-mismatch");
    let in_dev: Vec<_> = (mismatch.iter())
        .filter(|h| h.path == "k8s/overlays/dev/sealed.yaml")
        .collect();
    assert_eq!(in_dev.len(), 1, "{hits:?}");
    let line = "the key on line 2 of `../shared/app.env.example` (a line without '=', not shown)";
    assert!(in_dev[0].message.contains(line), "{hits:?}");
}

/// A config file below the root is not read (a run reads its root's only): pre-commit runs
/// hooks from the git top level, where a monorepo project's `services/api/emp-seal.toml` (its
/// `unsuppressible` list, its `ignore`) was dropped without a word. `check` from the top now
/// names it in a note, and `check --release` of an environment below it refuses (exit 2), for
/// its settings would not apply to the gate (and `seal` of it refuses, for it would seal with
/// the top's settings); from the project's own root both are as before.
#[test]
fn a_config_file_below_the_root_is_named_and_refuses_a_release_below_it() {
    let Some(m) = Monorepo::new() else {
        return;
    };
    common::write(
        &m.root(),
        "emp-seal.toml",
        "[release]\nunsuppressible = [\"placeholder-ciphertext\"]\n",
    );
    common::git(&m.top(), &["add", "-A"]);
    let note =
        "services/api/emp-seal.toml is not read: a run reads the config file of its root only";
    let (_, _, notes) = check(&m.top(), &[], &[]);
    assert!(notes.iter().any(|n| n.starts_with(note)), "{notes:?}");
    let (_, _, notes) = check(&m.root(), &[], &[]);
    assert!(
        !notes.iter().any(|n| n.contains("emp-seal.toml")),
        "{notes:?}"
    );

    let release = format!("services/api/{OVERLAY}");
    let from = m.outside().join("in.env");
    common::write(m.outside(), "in.env", "API_KEY=test-only-1\n");
    // Refused from the top, naming the project's config: `check --release`, and `seal` and
    // `cert`, which would use the top's settings (its default certificate and scope), writing
    // nothing.
    let refused = |args: &[&str]| {
        let out = common::emp_seal_std()
            .arg("-C")
            .arg(m.top())
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("is below services/api/emp-seal.toml, which this run does not read")
                && stderr.contains("help: run from that directory: `-C services/api`"),
            "{stderr}"
        );
    };
    let release_gate = ["check", "--release", &release];
    refused(&release_gate);
    refused(&["seal", &release, "--from", from.to_str().unwrap()]);
    refused(&["cert", &release]);
    assert!(!m.root().join(OVERLAY).join("sealedsecret.yaml").exists());
    let (code, _, _) = check(&m.root(), &[], &["--release", OVERLAY]);
    assert_ne!(code, 2);

    // Nested configs: the innermost holding the environment is named, whose root reads it (the
    // outer one, met first, sorting before `api`, was named).
    common::write(&m.top(), "services/.emp-seal.toml", "");
    common::git(&m.top(), &["add", "-A"]);
    refused(&release_gate);
}

/// git refusing to list the repository (`GIT_DIR` naming no repository here; as root, also a
/// checkout owned by another user, git's "dubious ownership", the usual state of a CI container
/// whose workspace another user checked out): which files are committed is unknown. Plain
/// `check` says so with git's reason; `--release` refuses to gate (exit 2) instead of passing
/// a committed real env file it could not see as committed.
#[test]
fn git_refusing_to_list_is_named_and_fails_the_release_gate() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let env = "k8s/overlays/prod/prod-secrets.env";
    common::write(
        root,
        env,
        "API_KEY=x\nPOSTGRES_PASSWORD=y\nREDIS_PASSWORD=z\n",
    );
    common::git(root, &["add", "-f", env]);
    let (_, hits, _) = check(root, &[], &["--render=never", "--release", "prod"]);
    assert_eq!(of(&hits, "plaintext-env-file").len(), 1, "{hits:?}");

    let nowhere = root.join("no-repository");
    let mut cases = vec![(Some(nowhere.as_os_str()), "fatal: not a git repository")];
    if common::is_root() {
        let owner = std::process::Command::new("chown")
            .args(["-R", "4242:4242"])
            .arg(root)
            .status();
        assert!(owner.is_ok_and(|s| s.success()), "chown");
        cases.push((None, "dubious ownership"));
    }
    for (git_dir, reason) in cases {
        let vars: Vec<(&str, &std::ffi::OsStr)> =
            git_dir.map(|d| ("GIT_DIR", d)).into_iter().collect();
        let (_, _, notes) = check(root, &vars, &["--render=never"]);
        let said: Vec<&String> = (notes.iter())
            .filter(|n| n.starts_with("git could not list the repository's files ("))
            .collect();
        assert_eq!(said.len(), 1, "{notes:?}");
        assert!(
            said[0].contains(reason) && said[0].contains("tracked status is unknown"),
            "{notes:?}"
        );

        let mut c = common::emp_seal_std();
        c.arg("-C")
            .arg(root)
            .args(["check", "--release", "prod", "--render=never"]);
        for (k, v) in &vars {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("error: git could not list the repository's files")
                && err.contains(reason),
            "{err}"
        );
        assert!(err.contains("safe.directory"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

/// The formats GitHub reads name files from the repository's top, where GitHub resolves them
/// (its checkout), whatever the checked root: `::error file=services/api/...` and SARIF URIs
/// `services/api/...`. The text and JSON reports keep naming them from the root.
#[test]
fn github_and_sarif_name_files_from_the_repository_top() {
    let Some(m) = Monorepo::new() else {
        return;
    };
    let root = m.root();
    let leak = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak\nstringData:\n  password: hunter2-top\n";
    common::write(&root, "k8s/leak.yaml", leak);
    common::git(&m.top(), &["add", "-A"]);
    let run = |format: &str| {
        let out = common::emp_seal_std()
            .arg("-C")
            .arg(&root)
            .args(["check", "--render=never", "--format", format])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let github = run("github");
    assert!(
        github.contains("::error file=services/api/k8s/leak.yaml,line="),
        "{github}"
    );
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let uris: Vec<&str> = (sarif["runs"][0]["results"].as_array().unwrap().iter())
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"services/api/k8s/leak.yaml"), "{uris:?}");
    let (_, hits, _) = check(&root, &[], &["--render=never"]);
    assert!(hits.iter().any(|h| h.path == "k8s/leak.yaml"), "{hits:?}");
}
