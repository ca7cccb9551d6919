//! Issue 16: repositories laid out in the ways real `GitOps` repositories are (fixture repos under
//! `tests/fixtures/layouts/<name>`), each end to end through the real binary in a temp copy:
//! `config` names the environments, `seal` writes values the Python peer opens with the test
//! key under the identity the real `kubectl kustomize` renders, and `check`, `check --release`
//! and `check --render=always` pass.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value as Json;
use yaml_serde::Value;

use crate::common::{self, Peer};
use crate::seal_support::{SENTINEL, emp_seal_cmd, fails_cleanly, no_secret, ok, stderr, stdout};

const CERT: &str = "tests/fixtures/certs/rsa-2048-cert.pem";
const KEY: &str = "tests/fixtures/keys/rsa-2048-key.pem";

/// A temp copy of one layout fixture, made a git repository (how the root is found).
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(name: &str) -> Option<Repo> {
        if common::which("git").is_none() {
            common::missing("git");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        common::copy_dir(
            &common::repo_root()
                .join("tests/fixtures/layouts")
                .join(name),
            dir.path(),
        );
        let st = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["init", "-q"])
            .status()
            .unwrap();
        assert!(st.success());
        Some(Repo { dir })
    }

    /// An empty git repository (`None` when git is missing outside CI).
    fn empty() -> Option<Repo> {
        if common::which("git").is_none() {
            common::missing("git");
            return None;
        }
        let repo = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        common::git(repo.root(), &["init", "-q"]);
        Some(repo)
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Runs emp-seal after staging every file but real env files: Argo CD and Flux read the
    /// files they deploy from the repository's commits, so the layouts are tracked as a team's.
    fn run(&self, args: &[&str]) -> Output {
        self.track();
        emp_seal_cmd()
            .arg("-C")
            .arg(self.root())
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs emp-seal in `dir` under the root (no `-C`), staging nothing.
    fn run_in(&self, dir: &str, args: &[&str]) -> Output {
        emp_seal_cmd()
            .current_dir(self.root().join(dir))
            .args(args)
            .output()
            .unwrap()
    }

    /// `config --format json`: (name, directory, how found, certificate) per environment.
    fn layout(&self) -> Vec<(String, String, String, String)> {
        let out = self.run(&["config", "--format", "json"]);
        ok(&out);
        let v: Json = serde_json::from_str(&stdout(&out)).unwrap();
        v["environments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap().to_owned();
                (s("name"), s("directory"), s("found"), s("certificate"))
            })
            .collect()
    }

    /// Stages every file (`.gitignore` kept) but real env files, which stay untracked.
    fn track(&self) {
        common::git(self.root(), &["add", "-A"]);
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(self.root())
            .args(["ls-files", "-z", "--cached"])
            .output()
            .unwrap();
        let listed = String::from_utf8(out.stdout).unwrap();
        let real_env = |f: &&str| {
            let name = f.rsplit('/').next().unwrap_or(f);
            let example = [".example", ".sample", ".template", ".dist"]
                .iter()
                .any(|s| name.ends_with(s));
            !example && (name == ".env" || name.ends_with(".env") || name.starts_with(".env."))
        };
        for f in listed
            .split('\0')
            .filter(|f| !f.is_empty())
            .filter(real_env)
        {
            common::git(self.root(), &["rm", "-q", "--cached", "--", f]);
        }
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        crate::seal_support::write_file(&p, text.as_bytes());
        p
    }
}

/// The fixture's environments as `config` lists them must be `want` (name, directory, found
/// starting with); then every certificate is put in place, every environment sealed (by name,
/// or by path for the first), the values opened, and the three checks pass.
fn end_to_end(name: &str, want: &[(&str, &str, &str)]) {
    let Some(repo) = Repo::new(name) else { return };
    let layout = repo.layout();
    let got: Vec<(&str, &str)> = layout
        .iter()
        .map(|(n, d, _, _)| (n.as_str(), d.as_str()))
        .collect();
    let expected: Vec<(&str, &str)> = want.iter().map(|(n, d, _)| (*n, *d)).collect();
    assert_eq!(got, expected, "{name}: environments");
    for ((_, _, found, _), (_, _, how)) in layout.iter().zip(want) {
        assert!(
            found.starts_with(how),
            "{name}: found `{found}`, want `{how}`"
        );
    }
    let cert = std::fs::read_to_string(common::repo_root().join(CERT)).unwrap();
    for (_, _, _, c) in &layout {
        repo.write(c, &cert);
    }
    let env = repo.write("secrets.env", &format!("DB_PASSWORD={SENTINEL}-db\n"));
    for (i, (n, dir, _, _)) in layout.iter().enumerate() {
        // A path always works as the environment argument.
        let arg = if i == 0 { format!("{dir}/") } else { n.clone() };
        let out = repo.run(&["seal", &arg, "--from", env.to_str().unwrap()]);
        ok(&out);
        no_secret(&out);
        assert!(
            stderr(&out).starts_with(&format!("{n}: ")),
            "{}",
            stderr(&out)
        );
    }
    std::fs::remove_file(&env).unwrap();
    opens(&repo, &layout);
    // Every environment got the same test certificate: `cert` says they share it.
    let out = repo.run(&["cert", &layout[0].0]);
    ok(&out);
    if layout.len() > 1 {
        let shared = format!("(shared: these {} environments", layout.len());
        assert!(stdout(&out).contains(&shared), "{}", stdout(&out));
    }
    // Offline recovery finds the environment by its name, with a `/` in it or not.
    let key = common::repo_root().join(KEY);
    let last = &layout[layout.len() - 1].0;
    let out = repo.run(&[
        "unseal",
        last,
        "--key",
        key.to_str().unwrap(),
        "--format",
        "env",
    ]);
    ok(&out);
    assert!(
        stdout(&out).contains(&format!("DB_PASSWORD={SENTINEL}-db")),
        "{name}: unseal {last}"
    );
    for args in [
        vec!["check".to_owned()],
        vec![
            "check".to_owned(),
            "--release".to_owned(),
            layout[0].0.clone(),
        ],
        vec!["check".to_owned(), "--render=always".to_owned()],
    ] {
        if args.iter().any(|a| a == "--render=always") && common::kubectl().is_none() {
            continue;
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = repo.run(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(stdout(&out).contains("no findings"), "{}", stdout(&out));
    }
}

/// Renders every environment with the real kubectl and opens each SealedSecret value with the
/// Python peer under the rendered identity (strict scope: `namespace/name`).
fn opens(repo: &Repo, layout: &[(String, String, String, String)]) {
    if common::kubectl().is_none() {
        return;
    }
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let key = std::fs::read_to_string(common::repo_root().join(KEY)).unwrap();
    for (n, dir, _, _) in layout {
        let out = common::kustomize(&repo.root().join(dir));
        let mut opened = BTreeMap::new();
        for d in yaml_serde::Deserializer::from_str(&out) {
            let v: Value = serde::Deserialize::deserialize(d).unwrap();
            if v["kind"].as_str() != Some("SealedSecret") {
                continue;
            }
            let label = format!(
                "{}/{}",
                v["metadata"]["namespace"].as_str().unwrap(),
                v["metadata"]["name"].as_str().unwrap()
            );
            for (k, ct) in v["spec"]["encryptedData"].as_mapping().unwrap() {
                let plain = peer
                    .decrypt(&key, label.as_bytes(), &common::unb64(ct.as_str().unwrap()))
                    .unwrap_or_else(|e| panic!("{n}: {label}: {e}"));
                opened.insert(k.as_str().unwrap().to_owned(), plain);
            }
        }
        assert_eq!(
            opened,
            BTreeMap::from([(
                "DB_PASSWORD".to_owned(),
                format!("{SENTINEL}-db").into_bytes()
            )]),
            "{n}"
        );
    }
}

#[test]
fn issue_16_overlays_at_the_repository_root() {
    end_to_end(
        "root-overlays",
        &[
            ("dev", "overlays/dev", "overlay directory"),
            ("prod", "overlays/prod", "overlay directory"),
        ],
    );
}

/// An application repository whose root is its one environment: it is named `.` (it had an
/// empty name and directory, which no command line could give).
#[test]
fn a_kustomization_at_the_repository_root_is_the_environment_dot() {
    end_to_end(
        "root-kustomization",
        &[(".", ".", "top-level kustomization")],
    );
}

#[test]
fn issue_16_deploy_kustomize_overlays_with_every_file_name() {
    end_to_end(
        "deploy-kustomize",
        &[
            (
                "prod",
                "deploy/kustomize/overlays/prod",
                "overlay directory",
            ),
            (
                "staging",
                "deploy/kustomize/overlays/staging",
                "overlay directory",
            ),
        ],
    );
}

#[test]
fn issue_16_apps_sharing_env_names_get_path_suffixes() {
    end_to_end(
        "apps",
        &[
            ("blog/dev", "apps/blog/dev", "top-level kustomization"),
            ("blog/prod", "apps/blog/prod", "top-level kustomization"),
            ("shop/dev", "apps/shop/dev", "top-level kustomization"),
            ("shop/prod", "apps/shop/prod", "top-level kustomization"),
        ],
    );
}

#[test]
fn issue_16_flux_clusters_name_overlays_sharing_a_base_sealed_secret() {
    // apps/base/podinfo holds the SealedSecret both overlays render: it is no environment, and
    // neither are clusters/<env> or infrastructure/<env> (no secret in their render).
    end_to_end(
        "flux",
        &[
            (
                "production",
                "apps/production",
                "Flux Kustomization in clusters/production/apps.yaml",
            ),
            (
                "staging",
                "apps/staging",
                "Flux Kustomization in clusters/staging/apps.yaml",
            ),
        ],
    );
}

#[test]
fn issue_16_argo_cd_applications_name_the_paths() {
    end_to_end(
        "argocd",
        &[
            (
                "live",
                "services/billing/live",
                "Argo CD Application in argocd/applications.yaml",
            ),
            (
                "qa",
                "services/billing/qa",
                "Argo CD Application in argocd/applications.yaml",
            ),
        ],
    );
}

#[test]
fn issue_16_config_file_globs_certificate_and_release_policy() {
    end_to_end(
        "config-file",
        &[
            (
                "live",
                "deploy/shop/envs/live",
                "config glob deploy/*/envs/*",
            ),
            ("qa", "deploy/shop/envs/qa", "config glob deploy/*/envs/*"),
        ],
    );
    let Some(repo) = Repo::new("config-file") else {
        return;
    };
    // The certificate the config names, not <overlay>/sealing-cert.pem.
    let layout = repo.layout();
    assert_eq!(layout[0].3, "certs/live.pem");
    // Without the config's allow-runtime-secret, shop-session-key dangles: the policy is what
    // keeps it quiet.
    let cfg = std::fs::read_to_string(repo.root().join("emp-seal.toml")).unwrap();
    repo.write(
        "emp-seal.toml",
        &cfg.replace("allow-runtime-secret = [\"shop-session-key\"]", ""),
    );
    let out = repo.run(&["check", "--rules", "dangling-reference"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("shop-session-key"),
        "{}",
        stdout(&out)
    );
    // An unknown key: exit 2 naming the key, the file and its line; nothing runs.
    repo.write(
        "emp-seal.toml",
        &format!("{cfg}\n[environment.qa]\ncertficate = \"x.pem\"\n"),
    );
    for args in [
        &["check"][..],
        &["config"],
        &["seal", "qa", "--from", "x.env"],
    ] {
        let out = repo.run(args);
        let e = fails_cleanly(&out);
        let line = cfg.lines().count() + 3;
        assert!(e.contains(&format!("emp-seal.toml:{line}:")), "{e}");
        assert!(e.contains("certficate"), "{e}");
    }
}

/// `[environment.live] certificate = "certs/live.pem"` with no such file: `missing-certificate`
/// said there was no sealing certificate in the overlay's directory (where the config says it is
/// not), and without `--release` nothing at all. It now names the configured path and the
/// config's line (a related location there too), as a warning in a plain check and an error
/// under `--release`; it is a finding, never a config error (exit 2). `seal` and `cert` name the
/// configured path. The default file's absence (qa) is still reported under `--release` only.
#[test]
fn a_configured_certificate_that_is_not_there_is_named_by_its_path() {
    let Some(repo) = Repo::new("config-file") else {
        return;
    };
    std::fs::remove_file(repo.root().join("certs/live.pem")).unwrap();
    let cfg = std::fs::read_to_string(repo.root().join("emp-seal.toml")).unwrap();
    let cfg_line = line_of(&cfg, "certificate = \"certs/live.pem\"");
    let sealed = "deploy/shop/envs/live/sealedsecret.yaml";
    let text = std::fs::read_to_string(repo.root().join(sealed)).unwrap();
    let name_line = u64::try_from(line_of(&text, "  name: shop-secrets")).unwrap();
    for (release, severity) in [(None, "warning"), (Some("live"), "error")] {
        let mut args = vec!["--rules", "missing-certificate"];
        args.extend(release.iter().flat_map(|r| ["--release", *r]));
        let out = repo.run(&[&["check", "--format", "json"][..], &args[..]].concat());
        assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
        let v: Json = serde_json::from_str(&stdout(&out)).unwrap();
        let hits: Vec<&Json> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "missing-certificate")
            .collect();
        assert_eq!(hits.len(), 1, "{release:?}: {}", stdout(&out));
        let f = hits[0];
        assert_eq!(f["severity"], severity, "{f}");
        assert_eq!(f["location"]["path"], sealed, "{f}");
        assert_eq!(f["location"]["line"], name_line, "{f}");
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains("`certs/live.pem`")
                && message.contains(&format!("emp-seal.toml:{cfg_line}"))
                && !message.contains("deploy/shop/envs/live`"),
            "{message}"
        );
        assert!(
            f["hint"].as_str().unwrap().contains("certs/live.pem"),
            "{f}"
        );
        assert_eq!(f["related"][0]["path"], "emp-seal.toml", "{f}");
        assert_eq!(f["related"][0]["line"], cfg_line, "{f}");
    }
    // seal and cert name the configured path, and say it is missing.
    let env = repo.write("s.env", &format!("DB_PASSWORD={SENTINEL}-db\n"));
    for args in [
        &["seal", "live", "--from", env.to_str().unwrap()][..],
        &["cert", "live"],
    ] {
        let e = fails_cleanly(&repo.run(args));
        assert!(
            e.contains("live: no sealing certificate at certs/live.pem"),
            "{args:?}: {e}"
        );
    }
    // With the file back, nothing is missing; qa's default file is absent, a release-only
    // finding as before.
    let cert = std::fs::read_to_string(common::repo_root().join(CERT)).unwrap();
    repo.write("certs/live.pem", &cert);
    let out = repo.run(&[
        "check",
        "--format",
        "json",
        "--rules",
        "missing-certificate",
    ]);
    let v: Json = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(0), "{v}");
    let out = repo.run(&["check", "--rules", "missing-certificate", "--release", "qa"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("no sealing certificate in `deploy/shop/envs/qa`"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn issue_16_config_release_policy_makes_an_allow_comment_ineffective() {
    let Some(repo) = Repo::new("config-file") else {
        return;
    };
    // A placeholder ciphertext with an allow comment: suppressed in a plain check, not under
    // --release, since the config lists the rule as unsuppressible.
    let p = "deploy/shop/envs/qa/sealedsecret.yaml";
    let text = std::fs::read_to_string(repo.root().join(p)).unwrap();
    repo.write(
        p,
        &text.replace(
            "    DB_PASSWORD: AgAAAA...REPLACE_ME",
            "    # emp-seal:allow placeholder-ciphertext\n    DB_PASSWORD: AgAAAA...REPLACE_ME",
        ),
    );
    let plain = repo.run(&[
        "check",
        "--rules",
        "placeholder-ciphertext",
        "--format",
        "json",
    ]);
    let release = repo.run(&[
        "check",
        "--rules",
        "placeholder-ciphertext",
        "--format",
        "json",
        "--release",
        "qa",
    ]);
    let unsuppressed = |o: &Output| {
        let v: Json = serde_json::from_str(&stdout(o)).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["rule"] == "placeholder-ciphertext"
                    && f["location"]["path"].as_str() == Some(p)
                    && f["suppressed"].is_null()
            })
            .count()
    };
    assert_eq!(unsuppressed(&plain), 0, "{}", stdout(&plain));
    assert_eq!(unsuppressed(&release), 1, "{}", stdout(&release));
    // The release gate's own rules run whatever --rules names: qa has no certificate.
    assert!(
        stdout(&release).contains("\"missing-certificate\""),
        "{}",
        stdout(&release)
    );
}

#[test]
fn issue_16_no_environment_is_exit_2_naming_where_it_looked() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    std::fs::remove_dir_all(repo.root().join("overlays")).unwrap();
    repo.write("site/kustomization.yaml", "resources: [cm.yaml]\n");
    repo.write(
        "site/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    );
    for args in [&["check"][..], &["config"]] {
        let out = repo.run(args);
        let e = fails_cleanly(&out);
        assert!(out.stdout.is_empty());
        assert!(e.contains("no overlays found"), "{e}");
        assert!(e.contains("site: no secret in its render"), "{e}");
        assert!(e.contains("Argo CD Application"), "{e}");
    }
    // Everything ignored by the config: the error says so, rather than that none exist.
    repo.write("emp-seal.toml", "ignore = [\"base/**\", \"site/**\"]\n");
    let e = fails_cleanly(&repo.run(&["check"]));
    assert!(
        e.contains("none found outside what emp-seal.toml ignores (base/**, site/**)"),
        "{e}"
    );
}

#[test]
fn issue_16_shipped_tree_variants_and_names_are_unchanged() {
    let out = emp_seal_cmd()
        .arg("-C")
        .arg(common::repo_root())
        .args(["config", "--format", "json"])
        .output()
        .unwrap();
    ok(&out);
    let v: Json = serde_json::from_str(&stdout(&out)).unwrap();
    let envs = v["environments"].as_array().unwrap();
    let got: Vec<(&str, &str, Vec<&str>)> = envs
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["directory"].as_str().unwrap(),
                e["variants"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    let want: Vec<(String, String, Vec<String>)> = ["dev", "paper", "prod"]
        .iter()
        .map(|e| {
            (
                (*e).to_owned(),
                format!("k8s/overlays/{e}"),
                vec![format!("k8s/no-keda/{e}")],
            )
        })
        .collect();
    let want: Vec<(&str, &str, Vec<&str>)> = want
        .iter()
        .map(|(a, b, c)| {
            (
                a.as_str(),
                b.as_str(),
                c.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn issue_16_symlinked_overlay_directory_is_followed_once() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    // envs/stage is a link to overlays/prod's twin elsewhere; a link back to the root loops.
    common::copy_dir(
        &repo.root().join("overlays/prod"),
        &repo.root().join("real/stage"),
    );
    std::os::unix::fs::symlink(
        repo.root().join("real/stage"),
        repo.root().join("overlays/stage"),
    )
    .unwrap();
    std::os::unix::fs::symlink(repo.root(), repo.root().join("overlays/loop")).unwrap();
    let names: Vec<String> = repo.layout().into_iter().map(|(n, ..)| n).collect();
    assert!(names.contains(&"dev".to_owned()), "{names:?}");
    assert!(names.contains(&"prod".to_owned()), "{names:?}");
    // The same real directory is one environment, whichever path reached it first.
    assert_eq!(names.len(), 3, "{names:?}");
}

/// Directories the walk passes over (hidden ones, `target`, `node_modules`) are environments all
/// the same when `target` or `node_modules` holds a kustomization itself (`overlays/target`), or
/// when an Argo CD Application deploys a directory below them, through two hidden ones here
/// (`.deploy/.k8s/prod`, with its base beside it); a hidden scaffold (`overlays/.template`) stays
/// out. Each is checked: its identity mismatch is found.
#[test]
fn skipped_directory_names_are_environments_when_they_hold_or_are_deployed_as_one() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    let prod = repo.root().join("overlays/prod");
    for to in [
        "overlays/target",
        "overlays/node_modules",
        "overlays/.template",
        ".deploy/.k8s/prod",
    ] {
        common::copy_dir(&prod, &repo.root().join(to));
    }
    common::copy_dir(&repo.root().join("base"), &repo.root().join(".deploy/base"));
    let dirs = |repo: &Repo| -> Vec<String> { repo.layout().into_iter().map(|e| e.1).collect() };
    let before = dirs(&repo);
    assert!(before.contains(&"overlays/target".to_owned()), "{before:?}");
    assert!(
        before.contains(&"overlays/node_modules".to_owned()),
        "{before:?}"
    );
    // A hidden directory (a scaffold) is no environment by itself.
    assert!(
        !before
            .iter()
            .any(|d| d.starts_with(".deploy") || d.contains(".template")),
        "{before:?}"
    );
    repo.write(
        "argocd/prod.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: hidden\nspec:\n  source:\n    repoURL: https://example.com/x.git\n    path: .deploy/.k8s/prod\n  destination:\n    namespace: web-prod\n",
    );
    let after = dirs(&repo);
    assert!(after.contains(&".deploy/.k8s/prod".to_owned()), "{after:?}");
    // Checked like any environment: the copies render in web-prod, sealed for web-prod; moved to
    // another namespace, the hidden one's SealedSecret no longer matches.
    let k = repo.root().join(".deploy/.k8s/prod/kustomization.yaml");
    let text = std::fs::read_to_string(&k).unwrap();
    repo.write(
        ".deploy/.k8s/prod/kustomization.yaml",
        &text.replace("web-prod", "web-hidden"),
    );
    let out = repo.run(&["check", "--format", "json"]);
    let hits = common::report_hits(&out.stdout);
    assert!(
        hits.iter()
            .any(|h| h.path.starts_with(".deploy/.k8s/prod/")),
        "{hits:?}\n{}",
        stderr(&out)
    );
}

/// A base shared by two environments with different certificates holds one SealedSecret, sealed
/// for `dev` while `prod` did not include it yet: `prod` renders values only `dev`'s controller
/// opens. `check` says so as an error naming `dev` (not a rotation warning suggesting a reseal).
#[test]
fn a_shared_sealed_secret_sealed_for_another_environment_s_certificate_is_an_error() {
    let Some(repo) = Repo::empty() else { return };
    repo.write(
        "k8s/base/kustomization.yaml",
        "resources:\n  - sealedsecret.yaml\n",
    );
    repo.write(
        "k8s/base/sealedsecret.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\nspec:\n  encryptedData: {}\n",
    );
    let certs = ["rsa-2048-cert.pem", "rsa-3072-cert.pem"].map(|c| {
        std::fs::read_to_string(common::repo_root().join("tests/fixtures/certs").join(c)).unwrap()
    });
    let uses_base = "namespace: app\nresources:\n  - ../../base\n";
    repo.write("k8s/overlays/dev/kustomization.yaml", uses_base);
    repo.write(
        "k8s/overlays/prod/kustomization.yaml",
        "namespace: app\nresources: []\n",
    );
    repo.write("k8s/overlays/dev/sealing-cert.pem", &certs[0]);
    repo.write("k8s/overlays/prod/sealing-cert.pem", &certs[1]);
    let env = repo.write("secrets.env", &format!("DB_PASSWORD={SENTINEL}\n"));
    ok(&repo.run(&["seal", "dev", "--from", env.to_str().unwrap()]));
    std::fs::remove_file(&env).unwrap();
    repo.write("k8s/overlays/prod/kustomization.yaml", uses_base);
    let out = repo.run(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stale: Vec<_> = (common::report_hits(&out.stdout).into_iter())
        .filter(|h| h.rule == "stale-certificate")
        .collect();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0].severity, "error", "{stale:?}");
    assert!(
        stale[0].message.contains("overlay prod: SealedSecret `app-secrets` in k8s/base/sealedsecret.yaml is rendered by dev too"),
        "{stale:?}"
    );
}

/// A developer's gitignored overlay is in no clone, on purpose: its build inputs are not judged
/// as untracked (a note says so), while an untracked file a committed overlay reads still is. An
/// empty directory a build names is called what it is, not "ignored".
#[test]
fn a_gitignored_environment_is_local_and_an_empty_directory_is_no_ignored_file() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    repo.write(".gitignore", "overlays/local/\n");
    repo.write(
        "overlays/local/kustomization.yaml",
        "namespace: web-local\nresources:\n  - ../../base\n",
    );
    let dev = std::fs::read_to_string(repo.root().join("overlays/dev/kustomization.yaml")).unwrap();
    repo.write(
        "overlays/dev/kustomization.yaml",
        &format!("{dev}patches:\n  - path: pd\n"),
    );
    std::fs::create_dir(repo.root().join("overlays/dev/pd")).unwrap();
    let out = repo.run(&["check", "--format", "json"]);
    let untracked: Vec<_> = (common::report_hits(&out.stdout).into_iter())
        .filter(|h| h.rule == "untracked-build-input")
        .map(|h| (h.path, h.severity, h.message))
        .collect();
    assert_eq!(untracked.len(), 2, "{untracked:?}");
    let local = untracked
        .iter()
        .find(|h| h.0 == "overlays/local/kustomization.yaml");
    let local = local.unwrap_or_else(|| panic!("{untracked:?}"));
    assert_eq!(local.1, "note", "{local:?}");
    assert!(
        local
            .2
            .contains("is ignored by a gitignore rule, so no clone"),
        "{local:?}"
    );
    let pd = untracked.iter().find(|h| h.0 == "overlays/dev/pd");
    let pd = pd.unwrap_or_else(|| panic!("{untracked:?}"));
    assert_eq!(pd.1, "error", "{pd:?}");
    assert!(
        pd.2.contains("(it is a directory holding no file git lists)"),
        "{pd:?}"
    );
    // Released, the environment no clone has fails the gate.
    let out = repo.run(&["check", "--release", "local", "--format", "json"]);
    let local: Vec<_> = (common::report_hits(&out.stdout).into_iter())
        .filter(|h| h.rule == "untracked-build-input")
        .map(|h| h.severity)
        .collect();
    assert_eq!(local, ["error"], "{}", stderr(&out));
}

/// `check --release` takes an environment's path like its name; the path of a kustomization
/// directory that is no environment (the shared base) is refused with exit 2, naming it.
#[test]
fn check_release_takes_an_environment_s_path_and_refuses_a_base_s() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    let cert = std::fs::read_to_string(common::repo_root().join(CERT)).unwrap();
    repo.write("overlays/prod/sealing-cert.pem", &cert);
    let by_path = repo.run(&["check", "--release", "overlays/prod/"]);
    let by_name = repo.run(&["check", "--release", "prod"]);
    assert_eq!(
        by_path.status.code(),
        by_name.status.code(),
        "{}",
        stderr(&by_path)
    );
    assert_ne!(by_path.status.code(), Some(2), "{}", stderr(&by_path));
    let base = repo.run(&["check", "--release", "base"]);
    let e = fails_cleanly(&base);
    assert!(
        e.contains(
            "`base` is the kustomization directory base, which is no environment check gates"
        ),
        "{e}"
    );
}

/// A layout kept in a hidden directory is not discovered: the "no environment" error names the
/// directory it did not enter, and an `environments` glob through it finds the environments;
/// with environments found elsewhere, a note names the hidden kustomizations none of them builds
/// (`.k8s/base`, which the configured `.k8s/overlays/*` build, is not named).
#[test]
fn a_hidden_layout_is_named_when_nothing_is_found_and_a_glob_enters_it() {
    let Some(repo) = Repo::empty() else { return };
    let fixture = common::repo_root().join("tests/fixtures/layouts/root-overlays");
    common::copy_dir(&fixture, &repo.root().join(".k8s"));
    let e = fails_cleanly(&repo.run(&["check"]));
    assert!(e.contains("directories not entered (hidden ones, target, node_modules, unless an environments glob in emp-seal.toml names them): .k8s"), "{e}");
    repo.write("emp-seal.toml", "environments = [\".k8s/overlays/*\"]\n");
    let dirs: Vec<String> = repo.layout().into_iter().map(|e| e.1).collect();
    assert_eq!(dirs, [".k8s/overlays/dev", ".k8s/overlays/prod"]);
    // A wildcard before the hidden directory (one per application).
    common::copy_dir(&fixture, &repo.root().join("apps/shop/.k8s"));
    repo.write(
        "emp-seal.toml",
        "environments = [\".k8s/overlays/*\", \"apps/*/.k8s/overlays/*\"]\n",
    );
    let dirs: Vec<String> = repo.layout().into_iter().map(|e| e.1).collect();
    assert_eq!(
        dirs,
        [
            ".k8s/overlays/dev",
            ".k8s/overlays/prod",
            "apps/shop/.k8s/overlays/dev",
            "apps/shop/.k8s/overlays/prod"
        ]
    );
    // Without the glob, the environments found elsewhere are checked and a note names the
    // hidden layout nothing checked (it had passed in silence once any environment was found).
    repo.write("emp-seal.toml", "environments = [\".k8s/overlays/*\"]\n");
    let out = repo.run(&["check"]);
    let err = stderr(&out);
    assert!(
        err.contains("note: 3 kustomization directories under hidden directories, which discovery does not enter, are not checked: apps/shop/.k8s/base, apps/shop/.k8s/overlays/dev, apps/shop/.k8s/overlays/prod; list them"),
        "{err}"
    );
}

/// A symbolic link in the tree that leads nowhere (`overlays/qa -> dev` once `dev` is gone, or
/// into a loop) is no environment kustomize can build: `check` says so in a note, never
/// passing it over in silence.
#[test]
fn a_symbolic_link_leading_nowhere_is_noted() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    std::os::unix::fs::symlink("gone", repo.root().join("overlays/qa")).unwrap();
    std::os::unix::fs::symlink("l2", repo.root().join("overlays/l1")).unwrap();
    std::os::unix::fs::symlink("l1", repo.root().join("overlays/l2")).unwrap();
    let out = repo.run(&["check"]);
    let err = stderr(&out);
    for (link, to) in [
        ("overlays/qa", "gone"),
        ("overlays/l1", "l2"),
        ("overlays/l2", "l1"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("note: {link} is a symbolic link to `{to}`"))),
            "{link}: {err}"
        );
    }
}

#[test]
fn issue_16_check_render_covers_the_variants_of_an_environment() {
    if common::kubectl().is_none() {
        return;
    }
    let tree = crate::seal_support::Tree::new();
    let run = |args: &[&str]| tree.run(args);
    let clean = run(&["check", "--render=always", "--rules", "render-failed"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    // k8s/no-keda/prod wraps the prod overlay; a component it names is gone: only the real
    // render of the variant can see that (the model checks the environment itself).
    let k = "k8s/no-keda/prod/kustomization.yaml";
    let text = tree.read(k);
    tree.write(k, text.replace("components/no-keda", "components/gone"));
    let out = run(&["check", "--render=always", "--rules", "render-failed"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let o = stdout(&out);
    assert!(o.contains(&format!("{k}:1:1: error[render-failed]")), "{o}");
    assert!(
        o.contains("its variant `kubectl kustomize k8s/no-keda/prod` failed"),
        "{o}"
    );
    // The release gate for prod covers prod's variant; dev's gate does not.
    let prod = run(&["check", "--release", "prod", "--rules", "render-failed"]);
    assert_eq!(prod.status.code(), Some(1), "{}", stdout(&prod));
    let dev = run(&["check", "--release", "dev", "--rules", "render-failed"]);
    assert_eq!(dev.status.code(), Some(0), "{}", stdout(&dev));
}

#[test]
fn issue_16_config_scope_stands_in_for_an_absent_scope_flag() {
    let Some(repo) = Repo::new("config-file") else {
        return;
    };
    let cert = std::fs::read_to_string(common::repo_root().join(CERT)).unwrap();
    repo.write("deploy/shop/envs/qa/sealing-cert.pem", &cert);
    let cfg = std::fs::read_to_string(repo.root().join("emp-seal.toml")).unwrap();
    repo.write(
        "emp-seal.toml",
        &format!("{cfg}\n[environment.qa]\nscope = \"namespace-wide\"\n"),
    );
    let env = repo.write("s.env", &format!("DB_PASSWORD={SENTINEL}-db\n"));
    let env = env.to_str().unwrap();
    // The file declares strict: the configured scope conflicts as --scope would.
    let out = repo.run(&["seal", "qa", "--from", env]);
    let e = fails_cleanly(&out);
    // It names where the scope came from: no --scope was given.
    assert!(
        e.contains("the config file's scope for qa is namespace-wide") && !e.contains("--scope"),
        "{e}"
    );
    let out = repo.run(&["seal", "qa", "--from", env, "--rescope"]);
    ok(&out);
    no_secret(&out);
    let written =
        std::fs::read_to_string(repo.root().join("deploy/shop/envs/qa/sealedsecret.yaml")).unwrap();
    assert!(
        written.contains("sealedsecrets.bitnami.com/namespace-wide: \"true\""),
        "{written}"
    );
    // --scope on the command line still wins over the config.
    let out = repo.run(&[
        "seal",
        "qa",
        "--from",
        env,
        "--scope",
        "strict",
        "--rescope",
    ]);
    ok(&out);
    let written =
        std::fs::read_to_string(repo.root().join("deploy/shop/envs/qa/sealedsecret.yaml")).unwrap();
    assert!(!written.contains("namespace-wide"), "{written}");
}

/// An `[environment.NAME]` table that names no environment (a typo, or a name that changed when
/// a second app brought a second `dev`) is an error naming the file and its line: otherwise its
/// `certificate` and `scope` silently stop applying and `seal` falls back to
/// `<overlay>/sealing-cert.pem`. A table keyed by an environment's directory, or by the
/// directory of another kustomization (a path `seal` takes as given), still works.
#[test]
fn config_environment_table_naming_no_environment_is_an_error() {
    let Some(repo) = Repo::new("config-file") else {
        return;
    };
    let cfg = std::fs::read_to_string(repo.root().join("emp-seal.toml")).unwrap();
    let before = repo.layout();
    // The typo'd table: `lvie` for `live`.
    repo.write(
        "emp-seal.toml",
        &cfg.replace("[environment.live]", "[environment.lvie]"),
    );
    let line = cfg.lines().position(|l| l == "[environment.live]").unwrap() + 1;
    for args in [
        &["check"][..],
        &["config"],
        &["cert", "live"],
        &["seal", "live", "--from", "x.env"],
    ] {
        let out = repo.run(args);
        let e = fails_cleanly(&out);
        assert!(
            e.contains(&format!("emp-seal.toml:{line}:")),
            "{args:?}: {e}"
        );
        assert!(
            e.contains("lvie") && e.contains("no environment"),
            "{args:?}: {e}"
        );
    }
    // By directory, the same table applies.
    repo.write(
        "emp-seal.toml",
        &cfg.replace(
            "[environment.live]",
            "[environment.\"deploy/shop/envs/live\"]",
        ),
    );
    assert_eq!(repo.layout(), before);
    // Both, by name and by directory: one would be dropped in silence, so it is an error at
    // the second table's line.
    let both = format!("{cfg}\n[environment.\"deploy/shop/envs/live\"]\nscope = \"strict\"\n");
    repo.write("emp-seal.toml", &both);
    let line = both.lines().count() - 1;
    for args in [
        &["check"][..],
        &["config"],
        &["seal", "live", "--from", "x.env"],
    ] {
        let e = fails_cleanly(&repo.run(args));
        assert!(
            e.contains(&format!("emp-seal.toml:{line}:")),
            "{args:?}: {e}"
        );
        assert!(e.contains("both name environment live"), "{args:?}: {e}");
    }
}

/// A config that is there but unusable is an error, never "no config" or a policy quietly
/// narrowed: a directory named `emp-seal.toml`, and a `[release] unsuppressible` id no rule has
/// (named by file and line, by `check` and by `config` alike, also when the id is written in
/// single quotes: it was said to be at line 1).
#[test]
fn config_that_cannot_be_used_is_an_error_naming_it() {
    let Some(repo) = Repo::new("config-file") else {
        return;
    };
    let cfg = std::fs::read_to_string(repo.root().join("emp-seal.toml")).unwrap();
    let line = cfg
        .lines()
        .position(|l| l.contains("\"placeholder-ciphertext\""))
        .unwrap()
        + 1;
    for typo in ["\"placeholder-ciphertxt\"", "'placeholder-ciphertxt'"] {
        repo.write(
            "emp-seal.toml",
            &cfg.replace("\"placeholder-ciphertext\"", typo),
        );
        for args in [&["check"][..], &["config"]] {
            let e = fails_cleanly(&repo.run(args));
            assert!(
                e.contains(&format!("emp-seal.toml:{line}:"))
                    && e.contains("placeholder-ciphertxt"),
                "{args:?}: {e}"
            );
        }
    }
    std::fs::remove_file(repo.root().join("emp-seal.toml")).unwrap();
    std::fs::create_dir(repo.root().join("emp-seal.toml")).unwrap();
    for args in [&["check"][..], &["config"]] {
        let e = fails_cleanly(&repo.run(args));
        assert!(e.contains("emp-seal.toml"), "{args:?}: {e}");
    }
}

/// Apps sharing a generic Secret name (`db-credentials` in both `apps/shop` and `apps/blog`):
/// an environment without its own `.env.example` takes the key set its *sibling* environments
/// define for that Secret, and the siblings were every other environment of the repository, so
/// blog's local generator's `BLOG_TOKEN` was demanded of shop's SealedSecrets. Siblings are now
/// the environments whose workloads reading the Secret come from the same files.
#[test]
fn apps_sharing_a_secret_name_do_not_share_key_sets() {
    let Some(repo) = Repo::new("apps") else {
        return;
    };
    for app in ["shop", "blog"] {
        for f in [
            "base/deployment.yaml",
            "dev/sealedsecret.yaml",
            "prod/sealedsecret.yaml",
        ] {
            let rel = format!("apps/{app}/{f}");
            let text = std::fs::read_to_string(repo.root().join(&rel)).unwrap();
            repo.write(
                &rel,
                &text.replace(&format!("{app}-secrets"), "db-credentials"),
            );
        }
        repo.write(
            &format!("apps/{app}/local/kustomization.yaml"),
            &format!(
                "namespace: {app}-local\nresources:\n  - ../base\nsecretGenerator:\n  - name: db-credentials\n    envs:\n      - local.env\n"
            ),
        );
        let keys = if app == "blog" {
            "DB_PASSWORD=\nBLOG_TOKEN=\n"
        } else {
            "DB_PASSWORD=\n"
        };
        repo.write(&format!("apps/{app}/local/local.env.example"), keys);
    }
    let out = repo.run(&["check", "--format", "json"]);
    let mut lacking: Vec<(String, bool)> = common::report_hits(&out.stdout)
        .into_iter()
        .filter(|h| h.rule == "example-sealed-mismatch")
        .map(|h| (h.path, h.message.contains("`BLOG_TOKEN`")))
        .collect();
    lacking.sort();
    // blog's own sibling defines BLOG_TOKEN: blog's SealedSecrets lack it; shop's do not.
    assert_eq!(
        lacking,
        [
            ("apps/blog/dev/sealedsecret.yaml".to_owned(), true),
            ("apps/blog/prod/sealedsecret.yaml".to_owned(), true),
        ],
        "{}",
        stdout(&out)
    );
}

/// An Argo CD Application may set kustomize options of its own (`spec.source.kustomize`:
/// `commonAnnotations`, `patches`, `components`, ...), which Argo CD applies at sync time: the
/// SealedSecret may then deploy under another name or scope than the overlay renders, and no
/// longer decrypt. `check` judged the overlay alone and passed; now such an option the model
/// does not replay is an `overlay-not-modelled` finding at its line (an error under
/// `--release`), and `images` (which renames nothing) is not. (The name and namespace options
/// are modelled: `tests/integration/deploy_options.rs`.)
#[test]
fn argo_cd_kustomize_options_the_model_does_not_replay_are_not_modelled() {
    // Inserts `add` after the line `after` of `rel` in a copy of `fixture`, runs `check ARGS`
    // and gives each overlay-not-modelled finding as (path, severity, line), and the output.
    let case = |fixture: &str, rel: &str, after: &str, add: &str, args: &[&str]| {
        let repo = Repo::new(fixture)?;
        let text = std::fs::read_to_string(repo.root().join(rel)).unwrap();
        repo.write(rel, &text.replace(after, &format!("{after}{add}")));
        let out = repo.run(&[&["check", "--format", "json"][..], args].concat());
        let hits: Vec<(String, String, u64)> = not_modelled_hits(&out)
            .into_iter()
            .map(|h| (h.path, h.severity, h.line))
            .collect();
        Some((hits, stdout(&out)))
    };
    let apps = "argocd/applications.yaml";
    let Some((hits, out)) = case(
        "argocd",
        apps,
        "    path: services/billing/qa\n",
        "    kustomize:\n      images:\n        - example.org/billing:2\n      commonAnnotations: {team: qa}\n",
        &["--release", "qa"],
    ) else {
        return;
    };
    // The `commonAnnotations:` line: the path line, `kustomize:`, `images:` and its item come
    // first.
    let line = std::fs::read_to_string(
        common::repo_root()
            .join("tests/fixtures/layouts/argocd")
            .join(apps),
    )
    .unwrap()
    .lines()
    .position(|l| l == "    path: services/billing/qa")
    .unwrap()
        + 5;
    assert_eq!(
        hits,
        [(apps.to_owned(), "error".to_owned(), line as u64)],
        "{out}"
    );
    // Flux's own options: `components` may rename or move every object of apps/staging.
    let flux = "clusters/staging/apps.yaml";
    let Some((hits, out)) = case(
        "flux",
        flux,
        "  prune: true\n",
        "  components: [../c]\n",
        &[],
    ) else {
        return;
    };
    assert_eq!(hits, [(flux.to_owned(), "warning".to_owned(), 10)], "{out}");
}

/// An Application whose `repoURL` is another repository deploys that repository's path, not
/// this one's: an app-of-apps repository often holds Applications for `services/x/qa` of
/// another repository. Its kustomize options were laid on this repository's directory of the
/// same path (a false `overlay-not-modelled` error under `--release`). With this repository's
/// remotes known, such an Application is not read; one of this repository (any URL form of a
/// remote) still is, and without a remote nothing can be told apart, so every one is.
#[test]
fn argo_cd_applications_of_other_repositories_are_not_laid_on_this_one() {
    let other = "---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: elsewhere\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.org/other.git\n    targetRevision: main\n    path: services/billing/qa\n    kustomize:\n      commonAnnotations: {team: other}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: other\n";
    let apps = "argocd/applications.yaml";
    let not_modelled = |remote: Option<&str>| -> Option<Vec<u64>> {
        let repo = Repo::new("argocd")?;
        let text = std::fs::read_to_string(repo.root().join(apps)).unwrap();
        repo.write(apps, &format!("{text}{other}"));
        if let Some(url) = remote {
            common::git(repo.root(), &["remote", "add", "origin", url]);
        }
        let out = repo.run(&["check", "--format", "json", "--release", "qa"]);
        let lines = not_modelled_hits(&out)
            .into_iter()
            .map(|h| h.line)
            .collect();
        Some(lines)
    };
    let Some(unknown) = not_modelled(None) else {
        return;
    };
    let text = std::fs::read_to_string(
        common::repo_root()
            .join("tests/fixtures/layouts/argocd")
            .join(apps),
    )
    .unwrap();
    let prefix_line = (format!("{text}{other}")
        .lines()
        .position(|l| l == "      commonAnnotations: {team: other}")
        .unwrap()
        + 1) as u64;
    assert_eq!(unknown, [prefix_line]);
    for url in ["git@example.org:gitops.git", "https://EXAMPLE.org/gitops/"] {
        assert_eq!(not_modelled(Some(url)), Some(Vec::new()), "{url}");
    }
    assert_eq!(
        not_modelled(Some("https://example.org/other")),
        Some(vec![prefix_line])
    );
}

/// The same for Flux: a `Kustomization` whose `sourceRef` is a `GitRepository` of another
/// repository deploys that repository's `./apps/staging`, and its options (here `namePrefix`)
/// are not this repository's. With the remotes known it is not read; without a remote, or when
/// its `GitRepository` is not in the tree, it is.
#[test]
fn flux_kustomizations_of_other_repositories_are_not_laid_on_this_one() {
    let sync = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: ssh://git@example.org/fleet.git\n";
    let other = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: other\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: https://example.org/other.git\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: other-apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/staging\n  namePrefix: x-\n  sourceRef:\n    kind: GitRepository\n    name: other\n";
    let not_modelled =
        |remote: Option<&str>, with_repository: bool| -> Option<(Vec<String>, String)> {
            let repo = Repo::new("flux")?;
            repo.write("clusters/staging/flux-system/gotk-sync.yaml", sync);
            let text = if with_repository {
                other.to_owned()
            } else {
                other.split("---\n").nth(1).unwrap().to_owned()
            };
            repo.write("clusters/staging/other.yaml", &text);
            if let Some(url) = remote {
                common::git(repo.root(), &["remote", "add", "origin", url]);
            }
            let out = repo.run(&["check", "--format", "json"]);
            let found = not_modelled_hits(&out)
                .into_iter()
                .map(|h| format!("{}:{}", h.path, h.line))
                .collect();
            // The findings, and where the `namePrefix:` line is in what was written.
            let line = text.lines().position(|l| l == "  namePrefix: x-").unwrap() + 1;
            Some((found, format!("clusters/staging/other.yaml:{line}")))
        };
    let Some((unknown, prefix)) = not_modelled(None, true) else {
        return;
    };
    assert_eq!(unknown, [prefix]);
    let fleet = Some("git@example.org:fleet.git");
    assert_eq!(not_modelled(fleet, true).unwrap().0, Vec::<String>::new());
    let (found, prefix) = not_modelled(fleet, false).unwrap();
    assert_eq!(found, [prefix]);
}

/// The `overlay-not-modelled` findings of a `check --format json` run.
fn not_modelled_hits(out: &std::process::Output) -> Vec<common::Hit> {
    common::report_hits(&out.stdout)
        .into_iter()
        .filter(|h| h.rule == "overlay-not-modelled")
        .collect()
}

/// One run of the Flux fixture with `apps/base/podinfo` rewritten: the Deployment and the
/// SealedSecret in namespace `ns`, the SealedSecret's metadata given `sealed_meta` lines and the
/// Deployment's `deploy_meta` lines, an `agent` container on image `example.org/agent:TAG`, the
/// value sealed for staging, and `post_build` (the `spec.postBuild` block, if any) added to the
/// Flux Kustomization deploying `apps/staging`. `check --format json --release staging` then
/// gives the `overlay-not-modelled` findings as `path:line:severity` and its exit code; the
/// real `kubectl kustomize apps/staging` gives the render (`None` without kubectl).
struct FluxRun {
    hits: Vec<String>,
    code: Option<i32>,
    out: String,
    render: Option<String>,
}

const FLUX_DEPLOYMENT: &str = "apps/base/podinfo/deployment.yaml";
const FLUX_SEALED: &str = "apps/base/podinfo/sealedsecret.yaml";

fn flux_post_build_run(
    ns: &str,
    tag: &str,
    (sealed_meta, deploy_meta): (&str, &str),
    post_build: &str,
) -> Option<FluxRun> {
    let repo = Repo::new("flux")?;
    repo.write(
        "apps/base/podinfo/kustomization.yaml",
        "resources:\n  - deployment.yaml\n  - sealedsecret.yaml\n",
    );
    repo.write(FLUX_DEPLOYMENT, &flux_deployment(ns, tag, deploy_meta));
    repo.write(FLUX_SEALED, &flux_sealed(ns, sealed_meta));
    let cert = std::fs::read_to_string(common::repo_root().join(CERT)).unwrap();
    for env in ["staging", "production"] {
        repo.write(&format!("apps/{env}/sealing-cert.pem"), &cert);
    }
    let env = repo.write("secrets.env", &format!("DB_PASSWORD={SENTINEL}-db\n"));
    let out = repo.run(&["seal", "staging", "--from", env.to_str().unwrap()]);
    ok(&out);
    no_secret(&out);
    std::fs::remove_file(&env).unwrap();
    let apps = "clusters/staging/apps.yaml";
    let text = std::fs::read_to_string(repo.root().join(apps)).unwrap();
    repo.write(apps, &format!("{text}{post_build}"));
    let out = repo.run(&["check", "--format", "json", "--release", "staging"]);
    let hits = not_modelled_hits(&out)
        .into_iter()
        .map(|h| format!("{}:{}:{}", h.path, h.line, h.severity))
        .collect();
    let render = common::kubectl().map(|_| common::kustomize(&repo.root().join("apps/staging")));
    Some(FluxRun {
        hits,
        code: out.status.code(),
        out: format!("{}{}", stdout(&out), stderr(&out)),
        render,
    })
}

fn flux_deployment(ns: &str, tag: &str, meta: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n  namespace: {ns}\n{meta}spec:\n  selector:\n    matchLabels:\n      app: podinfo\n  template:\n    metadata:\n      labels:\n        app: podinfo\n    spec:\n      containers:\n        - name: podinfo\n          image: example.org/podinfo:1\n          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: podinfo-secrets\n                  key: DB_PASSWORD\n        - name: agent\n          image: example.org/agent:{tag}\n"
    )
}

fn flux_sealed(ns: &str, meta: &str) -> String {
    format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: podinfo-secrets\n  namespace: {ns}\n{meta}spec:\n  encryptedData:\n    DB_PASSWORD: AgAAAA...REPLACE_ME\n  template:\n    metadata:\n      name: podinfo-secrets\n      namespace: {ns}\n    type: Opaque\n"
    )
}

/// The 1-based line of `line` in `text`.
fn line_of(text: &str, line: &str) -> usize {
    text.lines().position(|l| l == line).unwrap() + 1
}

/// A Flux `Kustomization`'s `postBuild` substitutes variables in every rendered object after
/// the build. A SealedSecret (and the Deployment using it) written with `namespace: ${NS}` is
/// deployed in the namespace Flux substitutes; the model, like the real `kubectl kustomize`,
/// renders `${NS}`, `seal` sealed the value for `${NS}/podinfo-secrets`, and `check --release`
/// passed while the controller could not decrypt it. Now each object whose fields the secret
/// rules read hold a `${...}` expression is `overlay-not-modelled` at the expression's line (an
/// error under `--release`), with `substitute` or `substituteFrom`; not when the expression is
/// only in an image, when the objects opt out (`kustomize.toolkit.fluxcd.io/substitute:
/// disabled`, as an annotation or a label), when `postBuild` substitutes nothing, or without
/// `postBuild`.
#[test]
fn flux_post_build_substitution_in_secret_names_is_not_modelled() {
    let substitute = "  postBuild:\n    substitute:\n      NS: podinfo\n";
    let Some(run) = flux_post_build_run("${NS}", "1", ("", ""), substitute) else {
        return;
    };
    let ns_line = "  namespace: ${NS}";
    let expected = [
        format!(
            "{FLUX_DEPLOYMENT}:{}:error",
            line_of(&flux_deployment("${NS}", "1", ""), ns_line)
        ),
        format!(
            "{FLUX_SEALED}:{}:error",
            line_of(&flux_sealed("${NS}", ""), ns_line)
        ),
    ];
    assert_eq!(run.hits, expected, "{}", run.out);
    assert_eq!(run.code, Some(1), "{}", run.out);
    assert!(
        run.out.contains("clusters/staging/apps.yaml:13"),
        "{}",
        run.out
    );
    // What kustomize renders is what the model checked: the expression, not a namespace.
    if let Some(render) = &run.render {
        assert!(render.contains("  namespace: ${NS}\n"), "{render}");
    }
    // Variables from the cluster count the same.
    let from =
        "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n";
    let run = flux_post_build_run("${NS}", "1", ("", ""), from).unwrap();
    assert_eq!(run.hits, expected, "{}", run.out);
    // Clean otherwise: the release passes with no finding at all.
    let passes = |run: FluxRun| {
        assert_eq!(run.hits, Vec::<String>::new(), "{}", run.out);
        assert_eq!(run.code, Some(0), "{}", run.out);
        assert!(run.out.contains("\"findings\": []"), "{}", run.out);
        run.render
    };
    // An expression only in an image: no name the secret rules read changes.
    let render =
        passes(flux_post_build_run("podinfo", "${VERSION}", ("", ""), substitute).unwrap());
    if let Some(render) = render {
        assert!(
            render.contains("image: example.org/agent:${VERSION}"),
            "{render}"
        );
    }
    let opt_out = (
        "  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
        "  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
    );
    passes(flux_post_build_run("${NS}", "1", opt_out, substitute).unwrap());
    // Nothing to substitute from: Flux does not substitute.
    let empty = "  postBuild:\n    substitute: {}\n";
    passes(flux_post_build_run("${NS}", "1", ("", ""), empty).unwrap());
    passes(flux_post_build_run("${NS}", "1", ("", ""), "").unwrap());
}

/// The same for a Secret generated under a name with an expression and a workload's reference
/// to it (`envFrom[].secretRef.name: ${APP}-env`): each is `overlay-not-modelled`, at the
/// generator's `name:` line and at the reference's line, naming the `postBuild` line.
#[test]
fn flux_post_build_substitution_in_generated_secrets_and_references_is_not_modelled() {
    let Some(repo) = Repo::new("flux") else {
        return;
    };
    let kustomization = "namespace: podinfo\nresources:\n  - deployment.yaml\n  - sealedsecret.yaml\nsecretGenerator:\n  - name: ${APP}-env\n    literals:\n      - MODE=\n";
    repo.write("apps/base/podinfo/kustomization.yaml", kustomization);
    let deployment = flux_deployment("podinfo", "1", "").replace(
        "          env:\n",
        "          envFrom:\n            - secretRef:\n                name: ${APP}-env\n          env:\n",
    );
    repo.write(FLUX_DEPLOYMENT, &deployment);
    let apps = "clusters/staging/apps.yaml";
    let text = std::fs::read_to_string(repo.root().join(apps)).unwrap();
    let post_build = "  postBuild:\n    substitute:\n      APP: podinfo\n";
    repo.write(apps, &format!("{text}{post_build}"));
    let out = repo.run(&["check", "--format", "json"]);
    let hits = not_modelled_hits(&out);
    let mut got: Vec<String> = hits
        .iter()
        .map(|h| format!("{}:{}:{}", h.path, h.line, h.severity))
        .collect();
    got.sort();
    let mut want = [
        format!(
            "{FLUX_DEPLOYMENT}:{}:warning",
            line_of(&deployment, "                name: ${APP}-env")
        ),
        format!(
            "apps/base/podinfo/kustomization.yaml:{}:warning",
            line_of(kustomization, "  - name: ${APP}-env")
        ),
    ];
    want.sort();
    assert_eq!(got, want, "{}", stdout(&out));
    let post_build_line = line_of(&format!("{text}{post_build}"), "  postBuild:");
    for h in &hits {
        assert!(
            h.message.contains(&format!("({apps}:{post_build_line})")),
            "{}",
            h.message
        );
    }
    // kustomize keeps the expression in the generated name and in the reference it rewrites.
    if common::kubectl().is_some() {
        let render = common::kustomize(&repo.root().join("apps/staging"));
        assert!(render.contains("  name: ${APP}-env-"), "{render}");
        assert!(render.contains("    name: ${APP}-env-"), "{render}");
    }
}

/// A Flux `Kustomization` named `name` deploying `path` of the `GitRepository` `flux-system`,
/// with `extra` lines added to its `spec`.
fn flux_kustomization(name: &str, path: &str, extra: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{extra}"
    )
}

/// With an `emp-seal.toml` listing `environments`, those globs decide which directories are
/// environments, and the Argo CD / Flux objects deploying them were not read at all: a Flux
/// `Kustomization` deploying the configured `qa` with `namePrefix`, or with `postBuild` over a
/// SealedSecret in namespace `${NS}`, left `check --release qa` passing an overlay whose names
/// the controller never sees. Now what every object deploying the directory applies at sync
/// time counts for the configured environment, named by name or by path on the command line;
/// an object deploying a directory no glob matches still names no environment, and `config`
/// still says the globs found them.
#[test]
fn config_glob_environments_get_the_sync_time_options_of_what_deploys_them() {
    let Some(repo) = Repo::new("config-file") else {
        return;
    };
    let qa = "deploy/shop/envs/qa";
    repo.write(
        &format!("{qa}/kustomization.yaml"),
        "resources:\n  - ../../common\n  - sealedsecret.yaml\n",
    );
    let sealed = std::fs::read_to_string(repo.root().join(qa).join("sealedsecret.yaml"))
        .unwrap()
        .replace("namespace: shop-qa", "namespace: ${NS}");
    repo.write(&format!("{qa}/sealedsecret.yaml"), &sealed);
    let objects = [
        flux_kustomization("shop-qa", &format!("./{qa}"), "  namePrefix: qa-\n"),
        flux_kustomization(
            "shop-qa-vars",
            &format!("./{qa}"),
            "  postBuild:\n    substitute:\n      NS: shop-qa\n",
        ),
        flux_kustomization("extra", "./extra", "  namePrefix: x-\n"),
    ]
    .join("---\n");
    let flux = "clusters/qa/shop.yaml";
    repo.write(flux, &objects);
    repo.write("extra/kustomization.yaml", "resources:\n  - cm.yaml\n");
    repo.write(
        "extra/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
    );
    let layout: Vec<(String, String)> = repo
        .layout()
        .into_iter()
        .map(|(name, _, found, _)| (name, found))
        .collect();
    let glob = "config glob deploy/*/envs/*".to_owned();
    assert_eq!(
        layout,
        [("live".to_owned(), glob.clone()), ("qa".to_owned(), glob)]
    );
    let want = vec![
        format!("{flux}:{}:error", line_of(&objects, "  namePrefix: qa-")),
        format!(
            "{qa}/sealedsecret.yaml:{}:error",
            line_of(&sealed, "  namespace: ${NS}")
        ),
    ];
    for release in ["qa", "deploy/shop/envs/qa/"] {
        let out = repo.run(&["check", "--format", "json", "--release", release]);
        let mut hits: Vec<String> = not_modelled_hits(&out)
            .into_iter()
            .map(|h| format!("{}:{}:{}", h.path, h.line, h.severity))
            .collect();
        hits.sort();
        assert_eq!(hits, want, "{release}: {}", stdout(&out));
        assert_eq!(out.status.code(), Some(1), "{release}: {}", stdout(&out));
    }
}

/// An environment found by the `overlays/` convention or as a top-level kustomization that an
/// Argo CD Application also deploys gets the Application's sync-time options (the Application
/// then says how it was found).
#[test]
fn overlay_and_top_level_environments_get_the_options_of_an_application_deploying_them() {
    for (fixture, dir) in [
        ("root-overlays", "overlays/dev"),
        ("apps", "apps/shop/prod"),
    ] {
        let Some(repo) = Repo::new(fixture) else {
            return;
        };
        let app = annotating_app(dir);
        repo.write("argocd/app.yaml", &app);
        let out = repo.run(&["check", "--format", "json"]);
        let hits: Vec<String> = not_modelled_hits(&out)
            .into_iter()
            .map(|h| format!("{}:{}", h.path, h.line))
            .collect();
        let want = format!(
            "argocd/app.yaml:{}",
            line_of(&app, "      commonAnnotations: {team: x}")
        );
        assert_eq!(hits, [want], "{fixture}: {}", stdout(&out));
    }
}

/// Discovery reads the files of a tree of more than 64 in parallel and a smaller tree's on the
/// calling thread (`workspace::discover`): the same tree with 70 more files finds the same
/// Application and reports the same findings.
#[test]
fn a_tree_read_in_parallel_finds_what_the_same_tree_read_on_one_thread_does() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    repo.write("argocd/app.yaml", &annotating_app("overlays/dev"));
    let small = repo.run(&["check", "--format", "json"]);
    assert_eq!(not_modelled_hits(&small).len(), 1, "{}", stdout(&small));
    for i in 0..70 {
        let cm = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pad-{i}\n");
        repo.write(&format!("padding/cm-{i:02}.yaml"), &cm);
    }
    let large = repo.run(&["check", "--format", "json"]);
    assert_eq!(large.status.code(), small.status.code());
    let json = |o: &Output| -> serde_json::Value { serde_json::from_str(&stdout(o)).unwrap() };
    let (mut small, mut large) = (json(&small), json(&large));
    let checked = |v: &mut serde_json::Value| v["summary"]["files_checked"].take().as_u64();
    let (before, after) = (checked(&mut small).unwrap(), checked(&mut large).unwrap());
    assert_eq!(after, before + 70);
    assert_eq!(large, small);
}

/// A Flux `Kustomization` whose `sourceRef` is an `OCIRepository`, a `Bucket` or an
/// `ExternalArtifact` deploys a path of that artifact (whatever was pushed), not of this
/// repository. It was read as this repository's: its `namePrefix` was laid on `apps/staging`
/// (a false `overlay-not-modelled`) and the shared base it happened to name became an
/// environment. Now it is not read, and `check` says so in a `note:` naming its file, line and
/// source kind. A `GitRepository` source is read as before.
#[test]
fn flux_kustomizations_of_other_artifacts_are_not_read_and_a_note_says_so() {
    let run = |kind: &str| {
        let repo = Repo::new("flux")?;
        let objects = [
            flux_kustomization("oci-apps", "./apps/staging", "  namePrefix: x-\n"),
            flux_kustomization("oci-base", "./apps/base/podinfo", ""),
        ]
        .join("---\n")
        .replace("    kind: GitRepository\n", &format!("    kind: {kind}\n"));
        let file = "clusters/staging/artifact.yaml";
        repo.write(file, &objects);
        let out = repo.run(&["check", "--format", "json"]);
        let hits: Vec<String> = not_modelled_hits(&out)
            .into_iter()
            .map(|h| format!("{}:{}", h.path, h.line))
            .collect();
        let sourced = format!("    kind: {kind}");
        let lines: Vec<&str> = objects.lines().collect();
        let notes = [
            lines.iter().position(|l| *l == sourced).unwrap() + 1,
            lines.iter().rposition(|l| *l == sourced).unwrap() + 1,
        ]
        .map(|line| format!("{file}:{line}"));
        let envs: Vec<String> = repo.layout().into_iter().map(|e| e.1).collect();
        let prefix = format!("{file}:{}", line_of(&objects, "  namePrefix: x-"));
        Some((hits, notes, envs, prefix, stderr(&out)))
    };
    for kind in ["OCIRepository", "Bucket", "ExternalArtifact"] {
        let Some((hits, notes, envs, _, err)) = run(kind) else {
            return;
        };
        assert_eq!(hits, Vec::<String>::new(), "{kind}");
        assert_eq!(envs, ["apps/production", "apps/staging"], "{kind}");
        for at in notes {
            let note = err
                .lines()
                .find(|l| l.starts_with("note: ") && l.contains(&format!(" in {at} ")))
                .unwrap_or_else(|| panic!("{kind}: no note for {at}: {err}"));
            assert!(note.contains(&format!("of its {kind} source")), "{note}");
        }
    }
    // Read as this repository's when the source is a GitRepository.
    let (hits, _, envs, prefix, err) = run("GitRepository").unwrap();
    assert!(hits.contains(&prefix), "{hits:?}");
    assert!(envs.contains(&"apps/base/podinfo".to_owned()), "{envs:?}");
    assert!(!err.contains("of its GitRepository source"), "{err}");
}

/// When the only object naming a directory is a Flux `Kustomization` of an `OCIRepository`,
/// that directory is no environment (here a shared base, which nothing else makes one): the
/// error saying no environment was found names the object that was not read.
#[test]
fn a_flux_kustomization_of_an_artifact_names_no_environment() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    std::fs::remove_dir_all(repo.root().join("overlays")).unwrap();
    let objects = flux_kustomization("oci", "./base", "")
        .replace("    kind: GitRepository\n", "    kind: OCIRepository\n");
    repo.write("flux/apps.yaml", &objects);
    let at = format!(
        "flux/apps.yaml:{}",
        line_of(&objects, "    kind: OCIRepository")
    );
    for args in [&["check"][..], &["config"]] {
        let out = repo.run(args);
        let e = fails_cleanly(&out);
        assert!(e.contains("no overlays found"), "{e}");
        assert!(e.contains(&at), "{e}");
    }
}

/// A Flux `Kustomization` without `spec.path` deploys its source's root. It was skipped: with
/// no kustomization at the root, no note said Flux generates one; with one, the root was no
/// environment of its own and the object's `components` reached no finding. Now the root is the
/// environment `.` (by name and directory), and `check` reports the sync-time option; without a
/// kustomization file there, the root is built with the kustomization Flux generates for it
/// (`tests/integration/plain_dirs.rs`), with no note that it is not modelled.
#[test]
fn a_flux_kustomization_without_a_path_deploys_the_repository_root() {
    let Some(repo) = Repo::new("flux") else {
        return;
    };
    let file = "clusters/staging/root.yaml";
    let object =
        flux_kustomization("root", "./", "  components: [../c]\n").replace("  path: ./\n", "");
    repo.write(file, &object);
    let prefix = format!("{file}:{}", line_of(&object, "  components: [../c]"));
    for with_kustomization in [false, true] {
        if with_kustomization {
            repo.write("kustomization.yaml", "resources:\n  - apps/staging\n");
        }
        let out = repo.run(&["check"]);
        assert!(
            !stderr(&out).contains("has no kustomization file"),
            "{}",
            stderr(&out)
        );
        let root = repo
            .layout()
            .into_iter()
            .find(|e| e.2.contains(file))
            .expect("an environment found through the object");
        assert_eq!((root.0.as_str(), root.1.as_str()), (".", "."));
        for args in [
            &["check", "--format", "json"][..],
            &["check", "--format", "json", "--release", "."],
        ] {
            let hits: Vec<String> = not_modelled_hits(&repo.run(args))
                .into_iter()
                .map(|h| format!("{}:{}", h.path, h.line))
                .collect();
            assert_eq!(hits, std::slice::from_ref(&prefix), "{args:?}");
        }
    }
}

/// Discovery reads Argo CD / Flux objects as written in their files. A kustomization that
/// patches them (here `clusters/staging` pointing its `apps` Kustomization at another path, as
/// Flux's multi-tenancy layout does per tenant) changes what they deploy, which discovery does
/// not replay: `check` says so in a note naming the patch entry, instead of nothing.
#[test]
fn a_kustomization_patching_a_flux_kustomization_gets_a_note() {
    let Some(repo) = Repo::new("flux") else {
        return;
    };
    let k = "resources:\n  - apps.yaml\n  - infrastructure.yaml\npatches:\n  - target:\n      kind: Kustomization\n      name: apps\n    patch: |-\n      - op: replace\n        path: /spec/path\n        value: ./apps/production\n";
    repo.write("clusters/staging/kustomization.yaml", k);
    if common::kubectl().is_some() {
        let render = common::kustomize(&repo.root().join("clusters/staging"));
        assert!(render.contains("path: ./apps/production"), "{render}");
    }
    let out = repo.run(&["check"]);
    let at = format!(
        "clusters/staging/kustomization.yaml:{}",
        line_of(k, "  - target:")
    );
    let note = stderr(&out)
        .lines()
        .find(|l| l.starts_with(&format!("note: {at} patches a Flux Kustomization")))
        .map(str::to_owned);
    assert!(note.is_some(), "{}", stderr(&out));
    // Without the patch, no such note.
    repo.write(
        "clusters/staging/kustomization.yaml",
        "resources:\n  - apps.yaml\n  - infrastructure.yaml\n",
    );
    assert!(!stderr(&repo.run(&["check"])).contains("patches a Flux"));
}

/// An Argo CD `ApplicationSet` whose template deploys `{{path}}` over a git `directories`
/// generator (or `services/billing/{{env}}` over a `list` one) names the environments its
/// Applications deploy, and its template's `kustomize.commonAnnotations` is an `overlay-not-modelled`
/// finding for each of them. `ApplicationSet`s were not read at all: the prefix passed. One whose
/// generator needs a cluster (`clusters`) is not read, and a note says so.
#[test]
fn argo_cd_application_sets_name_environments_and_their_options_count() {
    let file = "argocd/applications.yaml";
    let set = |generators: &str, path: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: billing\n  namespace: argocd\nspec:\n  generators:\n{generators}  template:\n    metadata:\n      name: 'billing-{{{{path.basename}}}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://example.org/gitops.git\n        targetRevision: main\n        path: '{path}'\n        kustomize:\n          commonAnnotations: {{team: x}}\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: billing\n"
        )
    };
    let git = "    - git:\n        repoURL: https://example.org/gitops.git\n        revision: main\n        directories:\n          - path: services/billing/*\n          - path: services/billing/common\n            exclude: true\n";
    let list = "    - list:\n        elements:\n          - env: live\n          - env: qa\n";
    // The last: a templated `repoURL`, with this repository's remote known, is read as this
    // repository's (it was taken for another).
    let templated = |text: String| {
        text.replace(
            "        repoURL: https://example.org/gitops.git\n        targetRevision",
            "        repoURL: '{{.repo}}'\n        targetRevision",
        )
    };
    for (generators, path, repo_url) in [
        (git, "{{path}}", false),
        (list, "services/billing/{{.env}}", false),
        (list, "services/billing/{{.env}}", true),
    ] {
        let Some(repo) = Repo::new("argocd") else {
            return;
        };
        let mut text = set(generators, path);
        if repo_url {
            text = templated(text);
            assert!(text.contains("'{{.repo}}'"));
            common::git(
                repo.root(),
                &["remote", "add", "origin", "https://example.org/gitops.git"],
            );
        }
        repo.write(file, &text);
        let envs: Vec<(String, String, String)> = repo
            .layout()
            .into_iter()
            .map(|(n, d, f, _)| (n, d, f))
            .collect();
        let found = format!("Argo CD ApplicationSet in {file}");
        assert_eq!(
            envs,
            [
                ("live".into(), "services/billing/live".into(), found.clone()),
                ("qa".into(), "services/billing/qa".into(), found.clone()),
            ],
            "{path}"
        );
        let prefix = format!(
            "{file}:{}",
            line_of(&text, "          commonAnnotations: {team: x}")
        );
        let hits: Vec<String> = not_modelled_hits(&repo.run(&["check", "--format", "json"]))
            .into_iter()
            .map(|h| format!("{}:{}", h.path, h.line))
            .collect();
        assert_eq!(hits, [prefix.clone(), prefix], "{path}");
    }

    let Some(repo) = Repo::new("argocd") else {
        return;
    };
    let text = set("    - clusters: {}\n", "services/billing/{{name}}");
    repo.write(file, &text);
    let err = stderr(&repo.run(&["check"]));
    let at = format!(
        "{file}:{}",
        line_of(&text, "        path: 'services/billing/{{name}}'")
    );
    assert!(
        err.contains(&format!(
            "note: Argo CD ApplicationSet `billing` in {at} deploys"
        )),
        "{err}"
    );
    assert!(err.contains("(a `clusters` generator)"), "{err}");
}

/// The `file:line` of each `overlay-not-modelled` finding of `check --format json ARGS`.
fn not_modelled_at(repo: &Repo, args: &[&str]) -> Vec<String> {
    let args = [&["check", "--format", "json"][..], args].concat();
    not_modelled_hits(&repo.run(&args))
        .into_iter()
        .map(|h| format!("{}:{}", h.path, h.line))
        .collect()
}

/// Writes `list` to `file`: a `kind: List` holding the two billing Applications, the qa one with
/// `commonAnnotations: {team: qa}`. Asserts the real kustomize deploys both with the annotation,
/// and that discovery finds both environments in `file`.
fn write_application_list(repo: &Repo, file: &str, list: &str) {
    repo.write(file, list);
    if common::kubectl().is_some() {
        let render = common::kustomize(&repo.root().join("argocd"));
        assert!(!render.contains("kind: List"), "{render}");
        assert_eq!(render.matches("kind: Application\n").count(), 2, "{render}");
        assert!(render.contains("team: qa"), "{render}");
    }
    let found: Vec<(String, String)> = repo
        .layout()
        .into_iter()
        .map(|(_, d, f, _)| (d, f))
        .collect();
    let by = format!("Argo CD Application in {file}");
    assert_eq!(
        found,
        [
            ("services/billing/live".to_owned(), by.clone()),
            ("services/billing/qa".to_owned(), by)
        ]
    );
}

/// Argo CD Applications written as the items of a `kind: List` (as `kubectl get -o yaml`
/// prints them) are deployed like any other: kustomize expands a `List` into its items, and so
/// does `kubectl apply`. Discovery read only a document's own object, so the Application in the
/// list named no environment and its `kustomize.commonAnnotations` passed unseen.
#[test]
fn argo_cd_applications_inside_a_list_are_read() {
    let Some(repo) = Repo::new("argocd") else {
        return;
    };
    let file = "argocd/applications.yaml";
    let text = std::fs::read_to_string(repo.root().join(file)).unwrap();
    // Both Applications as the items of one List, the qa one with a `namePrefix`.
    let items: String = text
        .replace(
            "    path: services/billing/qa\n",
            "    path: services/billing/qa\n    kustomize:\n      commonAnnotations: {team: qa}\n",
        )
        .split("---\n")
        .map(|doc| {
            doc.lines()
                .enumerate()
                .map(|(i, l)| format!("{}{l}\n", if i == 0 { "  - " } else { "    " }))
                .collect::<String>()
        })
        .collect();
    let list = format!("apiVersion: v1\nkind: List\nitems:\n{items}");
    write_application_list(&repo, file, &list);
    let prefix = format!(
        "{file}:{}",
        line_of(&list, "          commonAnnotations: {team: qa}")
    );
    assert_eq!(not_modelled_at(&repo, &["--release", "qa"]), [prefix]);
}

/// Azure DevOps and Bitbucket Server spell one repository's SSH and HTTPS URLs with different
/// paths (`git@ssh.dev.azure.com:v3/ORG/PROJECT/REPO` is
/// `https://dev.azure.com/ORG/PROJECT/_git/REPO`; `ssh://git@HOST:7999/P/R.git` is
/// `https://HOST/scm/P/R.git`). An Application naming this repository by the other spelling
/// than its remote was taken for another repository's and not read, so its `commonAnnotations`
/// passed. Now it is read; one naming another repository still is not.
#[test]
fn argo_cd_application_urls_of_azure_devops_and_bitbucket_server_are_this_repository() {
    let file = "argocd/applications.yaml";
    let run = |remote: &str, repo_url: &str| -> Option<(Vec<String>, String)> {
        let repo = Repo::new("argocd")?;
        common::git(repo.root(), &["remote", "add", "origin", remote]);
        let text = std::fs::read_to_string(repo.root().join(file))
            .unwrap()
            .replace("https://example.org/gitops.git", repo_url)
            .replace(
                "    path: services/billing/qa\n",
                "    path: services/billing/qa\n    kustomize:\n      commonAnnotations: {team: qa}\n",
            );
        repo.write(file, &text);
        let prefix = format!(
            "{file}:{}",
            line_of(&text, "      commonAnnotations: {team: qa}")
        );
        Some((not_modelled_at(&repo, &["--release", "qa"]), prefix))
    };
    for (remote, url) in [
        (
            "git@ssh.dev.azure.com:v3/acme/platform/gitops",
            "https://dev.azure.com/acme/platform/_git/gitops",
        ),
        (
            "https://acme@dev.azure.com/acme/platform/_git/gitops",
            "git@ssh.dev.azure.com:v3/acme/platform/gitops",
        ),
        (
            "git@ssh.dev.azure.com:v3/acme/platform/gitops",
            "https://acme.visualstudio.com/platform/_git/gitops",
        ),
        (
            "ssh://git@git.example.org:7999/ops/gitops.git",
            "https://git.example.org/scm/ops/gitops.git",
        ),
    ] {
        let Some((hits, prefix)) = run(remote, url) else {
            return;
        };
        assert_eq!(hits, [prefix], "remote {remote}, repoURL {url}");
    }
    let other = run(
        "git@ssh.dev.azure.com:v3/acme/platform/gitops",
        "https://dev.azure.com/acme/platform/_git/other",
    );
    assert_eq!(other.unwrap().0, Vec::<String>::new());
}

/// A file that seems to hold an Argo CD Application but does not parse was skipped without a
/// word: the directory it deploys and its sync-time `namePrefix` were unknown and nothing said
/// so. A Helm chart's template (`{{- if }}` around the object, under `templates/` next to a
/// `Chart.yaml`) is Helm's to render: one note says emp-seal does not render it. Anywhere else
/// (a duplicate key) a note names the parser's line. A file that parses gets no such note.
#[test]
fn argo_cd_objects_that_do_not_parse_or_are_helm_templates_get_a_note() {
    let Some(repo) = Repo::new("argocd") else {
        return;
    };
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: billing-qa\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.org/gitops.git\n    path: services/billing/qa\n    kustomize:\n      namePrefix: qa-\n  destination:\n    server: https://kubernetes.default.svc\n";
    repo.write(
        "charts/apps/Chart.yaml",
        "apiVersion: v2\nname: apps\nversion: 0.1.0\n",
    );
    repo.write("charts/apps/values.yaml", "billing:\n  enabled: true\n");
    let template = format!("{{{{- if .Values.billing.enabled }}}}\n{app}{{{{- end }}}}\n");
    let helm = "charts/apps/templates/billing.yaml";
    repo.write(helm, &template);
    // The same object with a key given twice, outside any chart.
    let dup = app.replace(
        "  project: default\n",
        "  project: default\n  project: other\n",
    );
    let plain = "clusters/apps/billing.yaml";
    repo.write(plain, &dup);
    let out = repo.run(&["check"]);
    let err = stderr(&out);
    let kind_line = line_of(&template, "kind: Application");
    let helm_note = format!("note: {helm}:{kind_line} is a template of the Helm chart charts/apps");
    assert!(err.contains(&helm_note), "{err}");
    let plain_note = err
        .lines()
        .find(|l| l.starts_with(&format!("note: {plain}:")))
        .unwrap_or_else(|| panic!("no note on {plain}: {err}"));
    assert!(
        plain_note.contains("an Argo CD Application (`kind:` at line 2) does not parse as YAML"),
        "{plain_note}"
    );
    assert!(plain_note.contains("duplicate"), "{plain_note}");
    // Exit code as without those files: the notes block nothing.
    assert_ne!(out.status.code(), Some(2), "{err}");

    repo.write(plain, app);
    repo.write(helm, app);
    let err = stderr(&repo.run(&["check"]));
    assert!(!err.contains(&format!("note: {plain}:")), "{err}");
    assert!(!err.contains("Helm chart"), "{err}");
}

/// A directory an Argo CD Application deploys was dropped as "no secret in its render" when
/// the model could not see all of it: a remote base (`https://...`) it does not fetch, or a
/// `kind: List` of SealedSecrets it does not expand. It is deployed, so it is now an
/// environment, and `check` reports what it could not model there; a top-level kustomization
/// with a remote base that nothing deploys is still no environment.
#[test]
fn a_deployed_directory_the_model_cannot_see_whole_is_an_environment() {
    let Some(repo) = Repo::new("argocd") else {
        return;
    };
    let app = |name: &str, path: &str| {
        format!(
            "---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.org/gitops.git\n    path: {path}\n  destination:\n    server: https://kubernetes.default.svc\n"
        )
    };
    let file = "argocd/applications.yaml";
    let text = std::fs::read_to_string(repo.root().join(file)).unwrap();
    repo.write(
        file,
        &format!(
            "{text}{}{}",
            app("redis", "services/redis/live"),
            app("secrets", "services/secrets/live")
        ),
    );
    repo.write(
        "services/redis/live/kustomization.yaml",
        "namespace: redis\nresources:\n  - https://example.org/platform//redis/live?ref=v1.2.0\n",
    );
    repo.write(
        "services/redis/other/kustomization.yaml",
        "namespace: redis\nresources:\n  - https://example.org/platform//redis/other?ref=v1.2.0\n",
    );
    repo.write(
        "services/secrets/live/kustomization.yaml",
        "namespace: billing-live\nresources:\n  - secrets.yaml\n",
    );
    let sealed = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: bitnami.com/v1alpha1\n    kind: SealedSecret\n    metadata:\n      name: db\n    spec:\n      encryptedData:\n        PASSWORD: AgAAAA...REPLACE_ME\n";
    repo.write("services/secrets/live/secrets.yaml", sealed);
    if common::kubectl().is_some() {
        // The real kustomize renders the SealedSecret of the list.
        let render = common::kustomize(&repo.root().join("services/secrets/live"));
        assert!(render.contains("kind: SealedSecret"), "{render}");
    }
    let dirs: Vec<String> = repo.layout().into_iter().map(|e| e.1).collect();
    assert_eq!(
        dirs,
        [
            "services/billing/live",
            "services/billing/qa",
            "services/redis/live",
            "services/secrets/live"
        ]
    );
    let hits: Vec<String> = not_modelled_at(&repo, &[])
        .into_iter()
        .filter(|h| !h.starts_with("services/billing"))
        .collect();
    assert_eq!(
        hits,
        // The List's SealedSecret item is read like a document: not a gap.
        ["services/redis/live/kustomization.yaml:3"]
    );
}

/// Flux's `clusters/<env>` layout: each cluster's `flux-system` Kustomization deploys
/// `clusters/<env>` with `postBuild.substitute: {cluster_env: <env>}`, and the `apps`
/// Kustomization there deploys `./apps/${cluster_env}` with `targetNamespace`. Flux substitutes
/// the variable when it renders `clusters/<env>`; discovery took the path as written, found no
/// such directory and said nothing, so the `targetNamespace` was never reported. Now the
/// variable is taken from the Kustomization deploying the file; one not known offline, and a
/// path that is no directory, get a note naming the file and line.
#[test]
fn flux_paths_with_variables_of_the_deploying_kustomization_are_resolved() {
    let Some(repo) = Repo::new("flux") else {
        return;
    };
    let sync = |env: &str, post: &str| {
        flux_kustomization("flux-system", &format!("./clusters/{env}"), post)
    };
    let apps = flux_kustomization(
        "apps",
        "./apps/${cluster_env}",
        "  targetNamespace: podinfo-${cluster_env}\n",
    );
    for env in ["staging", "production"] {
        let post = format!("  postBuild:\n    substitute:\n      cluster_env: {env}\n");
        repo.write(
            &format!("clusters/{env}/flux-system/gotk-sync.yaml"),
            &sync(env, &post),
        );
        repo.write(&format!("clusters/{env}/apps.yaml"), &apps);
    }
    // qa's variable is not given; its `infra` deploys a directory that is not there.
    repo.write("clusters/qa/flux-system/gotk-sync.yaml", &sync("qa", ""));
    repo.write("clusters/qa/apps.yaml", &apps);
    repo.write(
        "clusters/qa/infra.yaml",
        &flux_kustomization("infra", "./infrastructure/qa", ""),
    );
    // The parent's variable also fills the child's own `targetNamespace` (Flux substitutes the
    // whole object it renders): `podinfo-staging` is a namespace the model applies, so the
    // option is no longer `overlay-not-modelled` there; qa's, whose variable is not given, is.
    let target = line_of(&apps, "  targetNamespace: podinfo-${cluster_env}");
    let hits = not_modelled_at(&repo, &[]);
    for env in ["staging", "production"] {
        let at = format!("clusters/{env}/apps.yaml:{target}");
        assert!(!hits.contains(&at), "{at}: {hits:?}");
    }
    let err = stderr(&repo.run(&["check"]));
    let path = line_of(&apps, "  path: ./apps/${cluster_env}");
    let unknown = format!(
        "note: Flux Kustomization `apps` in clusters/qa/apps.yaml:{path} deploys `./apps/${{cluster_env}}`, which emp-seal cannot resolve offline (`cluster_env` is not given"
    );
    assert!(err.contains(&unknown), "{err}");
    let infra = flux_kustomization("infra", "./infrastructure/qa", "");
    let missing = format!(
        "note: Flux Kustomization in clusters/qa/infra.yaml:{} deploys `./infrastructure/qa`, which is no directory of this repository",
        line_of(&infra, "  path: ./infrastructure/qa")
    );
    assert!(err.contains(&missing), "{err}");
}

/// A Flux Kustomization marked `kustomize.toolkit.fluxcd.io/substitute: disabled` (annotation or
/// label) is left alone by the substitution of the Kustomization deploying its file, so its
/// `${var}` path stays as written: discovery resolved it with the parent's variables anyway and
/// laid its `targetNamespace` on a directory Flux never deploys from it. Now its path is taken as
/// written, which names no directory, and a note says so.
#[test]
fn a_flux_kustomization_opted_out_of_substitution_keeps_its_path_as_written() {
    for (marker, at) in [("annotations", "  annotations"), ("labels", "  labels")] {
        let Some(repo) = Repo::new("flux") else {
            return;
        };
        let post = "  postBuild:\n    substitute:\n      cluster_env: staging\n";
        repo.write(
            "clusters/staging/flux-system/gotk-sync.yaml",
            &flux_kustomization("flux-system", "./clusters/staging", post),
        );
        let apps = flux_kustomization(
            "apps",
            "./apps/${cluster_env}",
            "  targetNamespace: podinfo-${cluster_env}\n",
        )
        .replace(
            "  namespace: flux-system\n",
            &format!(
                "  namespace: flux-system\n{at}:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"
            ),
        );
        repo.write("clusters/staging/apps.yaml", &apps);
        let target = format!(
            "clusters/staging/apps.yaml:{}",
            line_of(&apps, "  targetNamespace: podinfo-${cluster_env}")
        );
        let hits = not_modelled_at(&repo, &[]);
        assert!(!hits.contains(&target), "{marker}: {hits:?}");
        let err = stderr(&repo.run(&["check"]));
        let note = format!(
            "note: Flux Kustomization in clusters/staging/apps.yaml:{} deploys `./apps/${{cluster_env}}`, which is no directory of this repository",
            line_of(&apps, "  path: ./apps/${cluster_env}")
        );
        assert!(err.contains(&note), "{marker}: {err}");
    }
}

/// An `ApplicationSet` generator may have a `template` of its own, which Argo CD merges over
/// `spec.template` for that generator's Applications (what the generator's template sets
/// wins). Its `kustomize.commonAnnotations` was never read; now it counts for each directory that
/// generator names, at its own line, and a generator without one keeps `spec.template`'s.
#[test]
fn an_application_set_generator_template_is_merged_over_the_spec_template() {
    let Some(repo) = Repo::new("argocd") else {
        return;
    };
    let file = "argocd/applications.yaml";
    let set = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: billing\n  namespace: argocd\nspec:\n  generators:\n    - list:\n        elements:\n          - env: qa\n        template:\n          metadata: {}\n          spec:\n            project: default\n            source:\n              repoURL: https://example.org/gitops.git\n              path: services/billing/{{env}}\n              kustomize:\n                commonAnnotations: {team: v2}\n            destination: {}\n    - list:\n        elements:\n          - env: live\n  template:\n    metadata:\n      name: 'billing-{{env}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://example.org/gitops.git\n        path: 'services/billing/{{env}}'\n        kustomize:\n          commonLabels:\n            team: billing\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: billing\n";
    repo.write(file, set);
    let prefix = format!(
        "{file}:{}",
        line_of(set, "                commonAnnotations: {team: v2}")
    );
    assert_eq!(not_modelled_at(&repo, &["--release", "qa"]), [prefix]);
    assert_eq!(
        not_modelled_at(&repo, &["--release", "live"]),
        Vec::<String>::new()
    );
    let dirs: Vec<(String, String)> = repo.layout().into_iter().map(|e| (e.1, e.2)).collect();
    let by = format!("Argo CD ApplicationSet in {file}");
    assert_eq!(
        dirs,
        [
            ("services/billing/live".to_owned(), by.clone()),
            ("services/billing/qa".to_owned(), by)
        ]
    );
}

/// Nested `matrix` generators multiply their parameter sets: three lists of 120 elements give
/// 1,728,000 Applications, which discovery expanded one by one. Past 10,000 sets the
/// `ApplicationSet` is not read, and a note says so.
#[test]
fn an_application_set_with_too_many_parameter_sets_is_not_read_and_a_note_says_so() {
    let Some(repo) = Repo::new("argocd") else {
        return;
    };
    let list = |key: &str, indent: usize| -> String {
        (0..120)
            .map(|i| format!("{}- {key}: v{i}\n", " ".repeat(indent)))
            .collect()
    };
    let set = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: many\n  namespace: argocd\nspec:\n  generators:\n    - matrix:\n        generators:\n          - list:\n              elements:\n{}          - matrix:\n              generators:\n                - list:\n                    elements:\n{}                - list:\n                    elements:\n{}  template:\n    metadata:\n      name: 'x-{{{{a}}}}-{{{{b}}}}-{{{{c}}}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://example.org/gitops.git\n        path: 'services/{{{{a}}}}/{{{{b}}}}/{{{{c}}}}'\n      destination:\n        server: https://kubernetes.default.svc\n",
        list("a", 16),
        list("b", 22),
        list("c", 22)
    );
    let file = "argocd/many.yaml";
    repo.write(file, &set);
    let err = stderr(&repo.run(&["check"]));
    let at = format!(
        "{file}:{}",
        line_of(&set, "        path: 'services/{{a}}/{{b}}/{{c}}'")
    );
    let note = err
        .lines()
        .find(|l| l.starts_with(&format!("note: Argo CD ApplicationSet `many` in {at} ")))
        .unwrap_or_else(|| panic!("no note at {at}: {err}"));
    assert!(note.contains("more than 10000 parameter sets"), "{note}");
}

/// A git submodule holding an overlay: discovery walks the work tree and finds its environment,
/// and its files are now read by the file rules too. `git ls-files` does not enter submodules,
/// so their files counted as git-ignored and a plaintext Secret committed in one passed `check`
/// (and `check --release` of that environment), while `check` run inside the submodule reported
/// it. A submodule that is not checked out is named in a note: its files are not there to read.
#[test]
fn a_git_submodule_is_checked_and_one_not_checked_out_is_named() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    let source = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = source.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        crate::seal_support::write_file(&p, text.as_bytes());
    };
    write(
        "overlays/prod/kustomization.yaml",
        "namespace: platform\nresources: [secret.yaml]\n",
    );
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: platform}\nstringData:\n  PASSWORD: test-only-plaintext\n";
    write("overlays/prod/secret.yaml", secret);
    common::git(source.path(), &["init", "-q"]);
    common::git(source.path(), &["add", "-A"]);
    common::git(source.path(), &["commit", "-qm", "platform"]);
    let url = source.path().to_str().unwrap();
    let add = ["-c", "protocol.file.allow=always", "submodule", "add", "-q"];
    let mut args = add.to_vec();
    args.extend([url, "vendor/platform"]);
    common::git(repo.root(), &args);
    common::git(repo.root(), &["add", "-A"]);
    common::git(repo.root(), &["commit", "-qm", "with a submodule"]);

    let dir = "vendor/platform/overlays/prod";
    assert!(repo.layout().iter().any(|e| e.1 == dir));
    let file = format!("{dir}/secret.yaml");
    for args in [&[][..], &["--release", dir]] {
        let (code, hits) = common::check_hits(repo.root(), args);
        assert_eq!(code, 1, "{args:?}");
        let plaintext: Vec<(&str, u64)> = hits
            .iter()
            .filter(|h| h.rule == "plaintext-secret")
            .map(|h| (h.path.as_str(), h.line))
            .collect();
        assert_eq!(plaintext, [(file.as_str(), 4)], "{args:?}");
    }
    let err = stderr(&repo.run(&["check"]));
    assert!(!err.contains("submodule"), "{err}");

    common::git(
        repo.root(),
        &["submodule", "deinit", "-q", "-f", "vendor/platform"],
    );
    assert!(!repo.root().join(&file).exists());
    let err = stderr(&repo.run(&["check"]));
    assert!(
        err.contains(
            "note: git submodule vendor/platform: not checked out, so its files are not checked"
        ),
        "{err}"
    );
}

/// A sparse checkout leaves tracked files out of the working tree: a committed plaintext Secret
/// there passed `check` (exit 0, no note) though git still tracks it. A note now names the
/// directories not checked.
#[test]
fn files_a_sparse_checkout_leaves_out_are_named() {
    let Some(repo) = Repo::new("root-overlays") else {
        return;
    };
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  PASSWORD: test-only-plaintext\n";
    let file = "deploy/db/secret.yaml";
    repo.write(file, secret);
    common::git(repo.root(), &["add", "-A"]);
    common::git(repo.root(), &["commit", "-qm", "a secret"]);
    let plaintext = |hits: &[common::Hit]| {
        hits.iter()
            .any(|h| h.rule == "plaintext-secret" && h.path == file)
    };
    let (_, hits) = common::check_hits(repo.root(), &[]);
    assert!(plaintext(&hits), "{hits:?}");
    let err = stderr(&repo.run(&["check"]));
    assert!(!err.contains("sparse"), "{err}");

    let sparse = ["sparse-checkout", "set", "--no-cone", "/*", "!/deploy/"];
    common::git(repo.root(), &sparse);
    assert!(!repo.root().join(file).exists());
    let err = stderr(&repo.run(&["check"]));
    assert!(
        err.contains("note: a sparse checkout leaves 1 tracked file(s) out of the working tree (in deploy/db): they are not checked"),
        "{err}"
    );
    // What the config's `ignore` leaves out is not checked anyway: not named.
    assert!(!repo.root().join("emp-seal.toml").exists());
    repo.write("emp-seal.toml", "ignore = [\"deploy/**\"]\n");
    let err = stderr(&repo.run(&["check"]));
    assert!(!err.contains("sparse"), "{err}");
}

/// The `root-kustomization` layout with a second environment `deploy/overlays/prod` (namespace
/// `prod`, its own SealedSecret), the sealing certificate at the root and in `prod`.
fn root_and_prod() -> Option<Repo> {
    let repo = Repo::new("root-kustomization")?;
    let cert = std::fs::read_to_string(common::repo_root().join(CERT)).unwrap();
    let sealed = std::fs::read_to_string(repo.root().join("sealedsecret.yaml")).unwrap();
    repo.write(
        "deploy/overlays/prod/kustomization.yaml",
        "namespace: prod\nresources:\n  - sealedsecret.yaml\n",
    );
    repo.write(
        "deploy/overlays/prod/sealedsecret.yaml",
        &sealed.replace("namespace: web", "namespace: prod"),
    );
    for dir in [".", "deploy/overlays/prod"] {
        repo.write(&format!("{dir}/sealing-cert.pem"), &cert);
    }
    Some(repo)
}

/// The root is the environment `.` and `deploy/overlays/prod` another. A path argument is taken
/// from the working directory: run in `deploy/overlays/prod`, `check --release .` and
/// `seal . --dry-run` picked the root's environment by its name `.`, not the directory they
/// were run in. Now `.` there is `prod`; in a directory that is no kustomization it names none
/// (exit 2); at the root, or with `-C` from outside the repository, it is the root's.
#[test]
fn dot_is_the_working_directory_not_the_root_environment() {
    let Some(repo) = root_and_prod() else {
        return;
    };
    let envs: Vec<(String, String)> = repo.layout().into_iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(
        envs,
        [
            (".".to_owned(), ".".to_owned()),
            ("prod".to_owned(), "deploy/overlays/prod".to_owned())
        ]
    );
    let hits = |out: &Output| {
        let mut h: Vec<(String, String, u64)> = common::report_hits(&out.stdout)
            .into_iter()
            .map(|h| (h.rule, h.path, h.line))
            .collect();
        h.sort();
        h
    };
    let json = ["check", "--format", "json", "--release"];
    let release = |dir: &str, env: &str| hits(&repo.run_in(dir, &[&json[..], &[env]].concat()));
    let prod = release(".", "prod");
    let root = release(".", ".");
    assert!(
        prod.iter()
            .any(|h| h.1 == "deploy/overlays/prod/sealedsecret.yaml")
    );
    assert!(root.iter().any(|h| h.1 == "sealedsecret.yaml"));
    assert_ne!(prod, root);
    assert_eq!(release("deploy/overlays/prod", "."), prod);
    assert_eq!(release("deploy/overlays/prod", "./"), prod);
    assert_eq!(release("deploy", "./overlays/prod"), prod);
    assert_eq!(release("deploy/overlays/prod", "../../.."), root);
    // `-C` from outside the repository: the root's own.
    assert_eq!(hits(&repo.run(&[&json[..], &["."]].concat())), root);
    // The root's environment is still `.` to every command run in a subdirectory.
    let all = |dir: &str| hits(&repo.run_in(dir, &["check", "--format", "json"]));
    assert_eq!(all("deploy/overlays/prod"), all("."));
    // A directory that holds no kustomization names no environment.
    let e = fails_cleanly(&repo.run_in("deploy/overlays", &["check", "--release", "."]));
    assert!(e.contains("unknown environment `.`"), "{e}");

    let env = repo.write("secrets.env", &format!("DB_PASSWORD={SENTINEL}-db\n"));
    let seal = |dir: &str| {
        let out = repo.run_in(
            dir,
            &["seal", ".", "--from", env.to_str().unwrap(), "--dry-run"],
        );
        ok(&out);
        no_secret(&out);
        format!("{}{}", stdout(&out), stderr(&out))
    };
    let sealed_env = |out: &str| {
        out.lines()
            .filter_map(|l| l.split_once(" (").map(|(env, _)| env.to_owned()))
            .next()
    };
    let (sub, top) = (seal("deploy/overlays/prod"), seal("."));
    assert_eq!(sealed_env(&sub).as_deref(), Some("prod"), "{sub}");
    assert_eq!(sealed_env(&top).as_deref(), Some("."), "{top}");
}

/// `cert`, `unseal`, `diff` and `init` take an environment path from the working directory, as
/// `check --release`, `seal` and `reseal` do: run in `deploy/overlays/prod`, `.` was the root's
/// environment `.` for them (`cert .` and `unseal .` then read `.` as a path, `diff .` compared
/// with the root's SealedSecret, `init .` refused the root's SealedSecret). Now `.` there is
/// `prod` (or `dev`); at the root it is still the root's; a directory that is no kustomization
/// names no environment (exit 2); a file typed from the working directory is still that file.
#[test]
fn dot_is_the_working_directory_for_cert_unseal_diff_and_init() {
    let Some(repo) = root_and_prod() else {
        return;
    };
    // An environment whose Secret comes from an env file, for `init`.
    repo.write(
        "deploy/overlays/dev/kustomization.yaml",
        "namespace: dev\nsecretGenerator:\n  - name: web-secrets\n    envs:\n      - secrets.env\n",
    );
    repo.write(
        "deploy/overlays/dev/secrets.env.example",
        "DB_PASSWORD=changeme\n",
    );
    let values = tempfile::tempdir().unwrap();
    let env_file = |name: &str, value: &str| {
        let p = values.path().join(name);
        crate::seal_support::write_file(&p, format!("DB_PASSWORD={value}\n").as_bytes());
        p.to_str().unwrap().to_owned()
    };
    let (root_env, prod_env) = (
        env_file("root.env", "root-v"),
        env_file("prod.env", "prod-v"),
    );
    ok(&repo.run(&["seal", ".", "--from", &root_env]));
    ok(&repo.run(&["seal", "prod", "--from", &prod_env]));
    let succeeds = |dir: &str, args: &[&str]| {
        let out = repo.run_in(dir, args);
        ok(&out);
        stdout(&out)
    };
    let key = common::repo_root().join(KEY);
    let key = key.to_str().unwrap();
    let prod = "deploy/overlays/prod";

    // `cert .`: the certificate it reports on (the first line names its file).
    let cert_file = |dir: &str| {
        succeeds(dir, &["cert", "."])
            .lines()
            .next()
            .map(str::to_owned)
    };
    assert_eq!(
        cert_file(prod).as_deref(),
        Some("deploy/overlays/prod/sealing-cert.pem")
    );
    assert_eq!(cert_file(".").as_deref(), Some("sealing-cert.pem"));

    // `unseal .`: the values of the environment's SealedSecret.
    let unseal = |dir: &str, target: &str| {
        succeeds(dir, &["unseal", target, "--key", key, "--format", "env"])
    };
    assert_eq!(unseal(prod, "."), "DB_PASSWORD=prod-v\n");
    assert_eq!(unseal(".", "."), "DB_PASSWORD=root-v\n");
    assert_eq!(unseal(prod, "./sealedsecret.yaml"), "DB_PASSWORD=prod-v\n");

    // `diff .`: the environment and the file it compared with.
    let diff = |dir: &str, from: &str| succeeds(dir, &["diff", ".", "--from", from, "--key", key]);
    let sub = diff(prod, &prod_env);
    assert!(
        sub.starts_with("prod deploy/overlays/prod/sealedsecret.yaml vs ")
            && sub.contains("= DB_PASSWORD  same"),
        "{sub}"
    );
    let top = diff(".", &root_env);
    assert!(
        top.starts_with(". sealedsecret.yaml vs ") && top.contains("= DB_PASSWORD  same"),
        "{top}"
    );

    // `init .`: the env file of the overlay it runs in.
    succeeds("deploy/overlays/dev", &["init", ".", "--no-input"]);
    assert!(
        repo.root()
            .join("deploy/overlays/dev/secrets.env")
            .is_file()
    );

    // A directory that holds no kustomization names no environment.
    let nowhere: [&[&str]; 4] = [
        &["cert", "."],
        &["unseal", ".", "--key", key],
        &["diff", ".", "--from", &prod_env, "--key", key],
        &["init", ".", "--no-input"],
    ];
    for args in nowhere {
        let e = fails_cleanly(&repo.run_in("deploy/overlays", args));
        assert!(
            e.contains("unknown environment `deploy/overlays`"),
            "{args:?}: {e}"
        );
    }
}

/// A monorepo whose emp-seal root (`services/api`, found by its `k8s/overlays`) is below the git
/// repository's top. Argo CD and Flux name directories relative to the git repository; they
/// were looked up under emp-seal's root, so `services/api/k8s/overlays/prod` was not found there
/// and the Application's `namePrefix` was ignored (no finding from `services/api`, an
/// `overlay-not-modelled` from the git top), while an Application of the top's own
/// `k8s/overlays/prod` was laid on `services/api/k8s/overlays/prod`. Now the paths are taken
/// from the git top and mapped into the root, and objects outside the root count too: from
/// `services/api` the findings are those found from the top for the same directory.
#[test]
fn monorepo_paths_are_relative_to_the_git_repository() {
    let Some(repo) = Repo::empty() else {
        return;
    };
    for (dir, ns) in [
        ("services/api/k8s/overlays/prod", "api"),
        ("k8s/overlays/prod", "top"),
    ] {
        repo.write(
            &format!("{dir}/kustomization.yaml"),
            "resources:\n  - sealedsecret.yaml\n",
        );
        repo.write(&format!("{dir}/sealedsecret.yaml"), &flux_sealed(ns, ""));
    }
    let app = |name: &str, path: &str, option: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  source:\n    repoURL: https://example.org/monorepo.git\n    path: {path}\n    kustomize:\n      {option}\n  destination:\n    server: https://kubernetes.default.svc\n"
        )
    };
    repo.write(
        "services/api/deploy/argocd.yaml",
        &[
            app("api", "services/api/k8s/overlays/prod", "namePrefix: v2-"),
            app("top", "k8s/overlays/prod", "namespace: elsewhere"),
        ]
        .join("---\n"),
    );
    repo.write(
        "clusters/prod/apps.yaml",
        &flux_kustomization(
            "api",
            "./services/api/k8s/overlays/prod",
            "  targetNamespace: api2\n",
        ),
    );
    common::git(repo.root(), &["add", "-A"]);
    let sub = repo.root().join("services/api");
    let run_sub = |args: &[&str]| {
        emp_seal_cmd()
            .arg("-C")
            .arg(&sub)
            .args(args)
            .output()
            .unwrap()
    };
    let paths = |out: &Output| {
        let mut hits: Vec<(String, u64)> = not_modelled_hits(out)
            .into_iter()
            .map(|h| (h.path, h.line))
            .collect();
        hits.sort();
        hits
    };
    let json = ["check", "--format", "json", "--release"];
    let top = paths(&repo.run(&[&json[..], &["services/api/k8s/overlays/prod"]].concat()));
    assert_eq!(top.len(), 2, "{top:?}");
    let mut want: Vec<(String, u64)> = top
        .into_iter()
        .map(|(p, line)| match p.strip_prefix("services/api/") {
            Some(inside) => (inside.to_owned(), line),
            None => (format!("../../{p}"), line),
        })
        .collect();
    want.sort();
    assert_eq!(paths(&run_sub(&[&json[..], &["prod"]].concat())), want);

    let out = run_sub(&["config", "--format", "json"]);
    ok(&out);
    let v: Json = serde_json::from_str(&stdout(&out)).unwrap();
    let found: Vec<&str> = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["found"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["Argo CD Application in deploy/argocd.yaml"]);
}

/// An `ApplicationSet` git generator's `directories` patterns are relative to the git
/// repository's top, as Argo CD reads them (argo-cd `reposerver/repository/repository.go`,
/// `GetGitDirectories`). With emp-seal's root at `services/api` below that top, they were
/// matched from the root: `services/api/k8s/overlays/*` matched nothing there, so the
/// `ApplicationSet` deploying the root's overlays named none of them and its kustomize option passed
/// unseen, while the top's own `k8s/overlays/*` matched the root's `k8s/overlays/*` and laid that
/// other `ApplicationSet`'s `namespace` on them. Now the patterns are matched from the git top
/// and what they give is mapped into the root, as an Application's `path` is: from
/// `services/api` the findings and environments are those found from the top for the same
/// directories.
#[test]
fn monorepo_application_set_directories_are_relative_to_the_git_repository() {
    let Some(repo) = Repo::empty() else {
        return;
    };
    for top in ["services/api/", ""] {
        for env in ["dev", "prod"] {
            let dir = format!("{top}k8s/overlays/{env}");
            repo.write(
                &format!("{dir}/kustomization.yaml"),
                "resources:\n  - sealedsecret.yaml\n",
            );
            repo.write(&format!("{dir}/sealedsecret.yaml"), &flux_sealed(env, ""));
        }
    }
    let set = |name: &str, pattern: &str, option: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  generators:\n    - git:\n        repoURL: https://example.org/monorepo.git\n        revision: HEAD\n        directories:\n          - path: '{pattern}'\n  template:\n    metadata:\n      name: '{name}-{{{{path.basename}}}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://example.org/monorepo.git\n        path: '{{{{path}}}}'\n        kustomize:\n          {option}\n      destination:\n        server: https://kubernetes.default.svc\n"
        )
    };
    let file = "argocd/appsets.yaml";
    let text = [
        set(
            "api",
            "services/api/k8s/overlays/*",
            "commonAnnotations: {team: x}",
        ),
        set("top", "k8s/overlays/*", "namespace: elsewhere"),
    ]
    .join("---\n");
    repo.write(file, &text);
    common::git(repo.root(), &["add", "-A"]);
    let sub = repo.root().join("services/api");
    let run_sub = |args: &[&str]| {
        emp_seal_cmd()
            .arg("-C")
            .arg(&sub)
            .args(args)
            .output()
            .unwrap()
    };
    let prefix_line = line_of(&text, "          commonAnnotations: {team: x}");
    for env in ["dev", "prod"] {
        let args = ["check", "--format", "json", "--release"];
        let top_dir = format!("services/api/k8s/overlays/{env}");
        let top = not_modelled_at(&repo, &["--release", &top_dir]);
        assert_eq!(top, [format!("{file}:{prefix_line}")], "{env}");
        let from_sub: Vec<String> = not_modelled_hits(&run_sub(&[&args[..], &[env]].concat()))
            .into_iter()
            .map(|h| format!("{}:{}", h.path, h.line))
            .collect();
        assert_eq!(from_sub, [format!("../../{file}:{prefix_line}")], "{env}");
    }
    let out = run_sub(&["config", "--format", "json"]);
    ok(&out);
    let v: Json = serde_json::from_str(&stdout(&out)).unwrap();
    let found: Vec<(&str, &str)> = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["directory"].as_str().unwrap(),
                e["found"].as_str().unwrap(),
            )
        })
        .collect();
    let by = format!("Argo CD ApplicationSet in ../../{file}");
    assert_eq!(
        found,
        [
            ("k8s/overlays/dev", &by[..]),
            ("k8s/overlays/prod", &by[..])
        ]
    );
}

/// Discovery reads `.json` files for Argo CD / Flux objects as it reads YAML ones (JSON is
/// YAML), but the note on one that does not parse looked only for a YAML `kind:` line: an Argo
/// CD Application in a JSON file with a missing comma (pretty-printed or minified on one line)
/// was skipped without a word, its `namePrefix` unseen. Now it gets the same note as a YAML one,
/// at the parser's line, naming its `"kind"` line; a JSON file that parses gets none, and
/// neither does a broken JSON file naming no deploy kind of its group (a `package.json`).
#[test]
fn argo_cd_objects_in_json_that_does_not_parse_get_a_note() {
    let Some(repo) = Repo::new("argocd") else {
        return;
    };
    let app = "{\n  \"apiVersion\": \"argoproj.io/v1alpha1\",\n  \"kind\": \"Application\",\n  \"metadata\": {\"name\": \"billing-qa\", \"namespace\": \"argocd\"},\n  \"spec\": {\n    \"project\": \"default\",\n    \"source\": {\n      \"repoURL\": \"https://example.org/gitops.git\",\n      \"path\": \"services/billing/qa\",\n      \"kustomize\": {\"namePrefix\": \"qa-\"}\n    },\n    \"destination\": {\"server\": \"https://kubernetes.default.svc\"}\n  }\n}\n";
    let pretty = "argocd/billing-qa.json";
    let minified = "argocd/min/billing-qa.json";
    let one_line: String = app.lines().map(str::trim).collect();
    // Valid JSON first: read as an Application (its option counts), no note.
    repo.write(pretty, app);
    repo.write(minified, &one_line);
    repo.write(
        "package.json",
        "{\"name\": \"tools\", \"kind\": \"Tool\",\n \"homepage\": \"https://argoproj.io\"\n",
    );
    let prefix = format!(
        "{pretty}:{}",
        line_of(app, "      \"kustomize\": {\"namePrefix\": \"qa-\"}")
    );
    let hits = not_modelled_at(&repo, &["--release", "qa"]);
    assert!(hits.contains(&prefix), "{hits:?}");
    let err = stderr(&repo.run(&["check"]));
    assert!(!err.contains("note: argocd/"), "{err}");
    assert!(!err.contains("package.json"), "{err}");

    // A comma missing after the `source` block, in both.
    let broken = app.replace("    },\n    \"destination\"", "    }\n    \"destination\"");
    repo.write(pretty, &broken);
    repo.write(minified, &broken.lines().map(str::trim).collect::<String>());
    let out = repo.run(&["check"]);
    let err = stderr(&out);
    let note = |file: &str| {
        err.lines()
            .find(|l| l.starts_with(&format!("note: {file}:")))
            .unwrap_or_else(|| panic!("no note on {file}: {err}"))
            .to_owned()
    };
    let want = "an Argo CD Application (`\"kind\"` at line 3) does not parse as JSON";
    let pretty_note = note(pretty);
    assert!(pretty_note.contains(want), "{pretty_note}");
    let at = line_of(
        &broken,
        "    \"destination\": {\"server\": \"https://kubernetes.default.svc\"}",
    );
    assert!(
        pretty_note.starts_with(&format!("note: {pretty}:{at}: ")),
        "{pretty_note}"
    );
    let min_note = note(minified);
    assert!(
        min_note.contains("an Argo CD Application (`\"kind\"` at line 1) does not parse as JSON"),
        "{min_note}"
    );
    assert!(!err.contains("package.json"), "{err}");
    assert_ne!(out.status.code(), Some(2), "{err}");
}

/// A `matrix` generator renders its second generator with each parameter set of its first
/// (argo-cd `applicationset/generators/matrix.go`, `getParams`; `InterpolateGenerator`): a
/// `list` of teams and a `git` generator of `apps/{{team}}/overlays/*` deploy every team's
/// overlays. The pattern was matched as written, found no `apps/{{team}}` directory, and the
/// `ApplicationSet` named nothing without a word: its kustomize option passed unseen on the four
/// overlays. Now each team's directories are found and the option counts for each. (The
/// children's own `template`s are not Argo CD's: it keeps only their parameters.)
#[test]
fn a_matrix_second_generator_is_rendered_with_the_first_ones_parameters() {
    let Some(repo) = Repo::empty() else {
        return;
    };
    for team in ["billing", "shop"] {
        for env in ["dev", "prod"] {
            let dir = format!("apps/{team}/overlays/{env}");
            repo.write(
                &format!("{dir}/kustomization.yaml"),
                "resources:\n  - sealedsecret.yaml\n",
            );
            repo.write(
                &format!("{dir}/sealedsecret.yaml"),
                &flux_sealed(&format!("{team}-{env}"), ""),
            );
        }
    }
    let file = "argocd/teams.yaml";
    let text = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: teams\n  namespace: argocd\nspec:\n  generators:\n    - matrix:\n        generators:\n          - list:\n              elements:\n                - team: billing\n                - team: shop\n          - git:\n              repoURL: https://example.org/gitops.git\n              revision: HEAD\n              directories:\n                - path: 'apps/{{team}}/overlays/*'\n              template:\n                metadata: {}\n                spec:\n                  project: default\n                  source:\n                    repoURL: https://example.org/gitops.git\n                    path: '{{path}}'\n                    kustomize:\n                      nameSuffix: -ignored\n                  destination: {}\n  template:\n    metadata:\n      name: '{{team}}-{{path.basename}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://example.org/gitops.git\n        path: '{{path}}'\n        kustomize:\n          commonAnnotations: {team: x}\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: apps\n";
    repo.write(file, text);
    let by = format!("Argo CD ApplicationSet in {file}");
    let found: Vec<(String, String)> = repo.layout().into_iter().map(|e| (e.1, e.2)).collect();
    let want: Vec<(String, String)> = [
        "apps/billing/overlays/dev",
        "apps/billing/overlays/prod",
        "apps/shop/overlays/dev",
        "apps/shop/overlays/prod",
    ]
    .iter()
    .map(|d| ((*d).to_owned(), by.clone()))
    .collect();
    assert_eq!(found, want);
    let prefix = format!(
        "{file}:{}",
        line_of(text, "          commonAnnotations: {team: x}")
    );
    for env in ["billing/overlays/dev", "shop/overlays/prod"] {
        assert_eq!(
            not_modelled_at(&repo, &["--release", env]),
            std::slice::from_ref(&prefix),
            "{env}"
        );
    }
}

/// Flux substitutes a Kustomization's variables in every object it renders, a child
/// Kustomization's own `postBuild.substitute` values included (fluxcd/pkg
/// `kustomize/kustomize_varsub.go`): `flux-system` gives `cluster_env`, the `tenants`
/// Kustomization it deploys gives `env: ${cluster_env}`, and the `podinfo` Kustomization that one
/// deploys has `path: ./apps/${env}`. Discovery reads one level: it substituted `${env}` with the
/// text `${cluster_env}` and said `./apps/${cluster_env}` was no directory of this repository.
/// Now the note says the path cannot be resolved offline and why (the value is an expression
/// the Kustomization deploying `tenants` may substitute first).
#[test]
fn a_flux_variable_given_as_an_expression_by_its_parent_is_not_read_as_a_path() {
    let Some(repo) = Repo::new("flux") else {
        return;
    };
    repo.write(
        "clusters/staging/flux-system/gotk-sync.yaml",
        &flux_kustomization(
            "flux-system",
            "./clusters/staging",
            "  postBuild:\n    substitute:\n      cluster_env: staging\n",
        ),
    );
    let tenants = flux_kustomization(
        "tenants",
        "./tenants",
        "  postBuild:\n    substitute:\n      env: ${cluster_env}\n",
    );
    repo.write("clusters/staging/tenants.yaml", &tenants);
    repo.write(
        "clusters/staging/kustomization.yaml",
        "resources:\n  - apps.yaml\n  - infrastructure.yaml\n  - tenants.yaml\n",
    );
    let podinfo = flux_kustomization("podinfo", "./apps/${env}", "  targetNamespace: podinfo\n");
    repo.write("tenants/podinfo.yaml", &podinfo);
    let err = stderr(&repo.run(&["check"]));
    let path = line_of(&podinfo, "  path: ./apps/${env}");
    let at = line_of(&tenants, "  path: ./tenants");
    let want = format!(
        "note: Flux Kustomization `podinfo` in tenants/podinfo.yaml:{path} deploys `./apps/${{env}}`, which emp-seal cannot resolve offline (`env` is given by the `postBuild` of the Flux Kustomization at clusters/staging/tenants.yaml:{at} as `${{cluster_env}}`"
    );
    assert!(err.contains(&want), "{err}");
    assert!(!err.contains("./apps/${cluster_env}"), "{err}");
}

/// Text before a SealedSecret in one file: a ConfigMap ended by a `...` line, then a
/// SealedSecret kustomize never reads (kyaml splits at `---` lines only and decodes one document
/// per piece, so what follows `...` up to the next `---` is dropped), then `---`.
const DOCUMENT_END_PREFIX: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: podinfo-settings
...
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: never-read
  annotations:
    note: dropped
spec:
  template:
    metadata:
      name: never-read
---
";

/// The render of `dir` by the real `kubectl kustomize` keeps the documents before a `...` line
/// and after the next `---`, and drops what is between (the oracle for the tests below).
fn assert_document_end_dropped(dir: &Path) {
    if common::kubectl().is_none() {
        common::missing("kubectl");
        return;
    }
    let render = common::kustomize(dir);
    assert!(render.contains("name: podinfo-settings"), "{render}");
    assert!(!render.contains("never-read"), "{render}");
}

/// The substitution check reads a document as kustomize numbers them: with a `...` line before
/// the SealedSecret, it used to cut the file at `...` too, read the dropped text as the
/// SealedSecret's document and miss the `${NS}` in its `spec.template.metadata.namespace`.
#[test]
fn flux_post_build_reads_the_document_kustomize_reads_after_a_document_end_line() {
    let Some(repo) = Repo::new("flux") else {
        return;
    };
    let sealed = flux_sealed("podinfo", "")
        .replace("      namespace: podinfo\n", "      namespace: ${NS}\n");
    let text = format!("{DOCUMENT_END_PREFIX}{sealed}");
    repo.write(FLUX_SEALED, &text);
    repo.write(FLUX_DEPLOYMENT, &flux_deployment("podinfo", "1", ""));
    let apps = "clusters/staging/apps.yaml";
    let cluster = std::fs::read_to_string(repo.root().join(apps)).unwrap();
    repo.write(
        apps,
        &format!("{cluster}  postBuild:\n    substitute:\n      NS: podinfo\n"),
    );
    assert_document_end_dropped(&repo.root().join("apps/staging"));

    let out = repo.run(&["check", "--format", "json", "--release", "staging"]);
    let hits: Vec<String> = not_modelled_hits(&out)
        .into_iter()
        .map(|h| format!("{}:{}", h.path, h.line))
        .collect();
    let line = line_of(&text, "      namespace: ${NS}");
    assert_eq!(hits, [format!("{FLUX_SEALED}:{line}")], "{}", stdout(&out));
}

/// A finding located in a SealedSecret's document (`identity-mismatch` at its `sealed-for`
/// record) names the line in the document kustomize read, not in the text a `...` line ends.
#[test]
fn findings_after_a_document_end_line_name_the_line_kustomize_read() {
    let Some(repo) = Repo::empty() else {
        return;
    };
    let file = "k8s/overlays/prod/sealedsecret.yaml";
    let sealed = "\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: app
  namespace: prod
  annotations:
    emp-seal.dev/sealed-for: strict staging/app
spec:
  encryptedData:
    API_KEY: AgBy3i4OJSWK+PiTySYZZA==
";
    repo.write(
        "k8s/overlays/prod/kustomization.yaml",
        "resources:\n  - sealedsecret.yaml\n",
    );
    repo.write(file, &format!("{DOCUMENT_END_PREFIX}{sealed}"));
    common::git(repo.root(), &["add", "-A"]);
    assert_document_end_dropped(&repo.root().join("k8s/overlays/prod"));

    let (_, hits) = common::check_hits(repo.root(), &["--rules", "identity-mismatch"]);
    let found: Vec<(&str, u64)> = common::of(&hits, "identity-mismatch")
        .iter()
        .map(|h| (h.path.as_str(), h.line))
        .collect();
    let line = common::line_of(repo.root(), file, "emp-seal.dev/sealed-for");
    assert_eq!(found, [(file, line)], "{hits:?}");
}

/// Config errors and findings name the line toml places each setting at. The table key `live`
/// and the `environments` glob ending in `live` share a line that holds "environment": the
/// table's line and its `certificate` line were searched for in the text, and both were said to
/// be that glob's line.
#[test]
fn config_lines_are_where_toml_places_the_settings() {
    let Some(repo) = Repo::new("config-file") else {
        return;
    };
    let head = "environments = [\"deploy/shop/envs/live\", \"deploy/shop/envs/qa\"]\n";
    let cfg = format!(
        "{head}[environment.live]\nscope = \"strict\"\ncertificate = \"certs/gone.pem\"\n[environment.shop]\n"
    );
    repo.write("emp-seal.toml", &cfg);
    let line = |l: &str| cfg.lines().position(|c| c == l).unwrap() + 1;
    let e = fails_cleanly(&repo.run(&["config"]));
    let want = format!(
        "emp-seal.toml:{}: [environment.shop]",
        line("[environment.shop]")
    );
    assert!(e.contains(&want), "{e}");

    let cfg = cfg.replace("[environment.shop]\n", "");
    repo.write("emp-seal.toml", &cfg);
    let out = repo.run(&["check", "--rules", "missing-certificate"]);
    let at = format!(
        "the path emp-seal.toml:{} configures",
        line("certificate = \"certs/gone.pem\"")
    );
    assert!(stdout(&out).contains(&at), "{}", stdout(&out));
}

/// A List inside a List: kustomize (api/resource/factory.go, `inlineAnyEmbeddedLists`) expands
/// the inner one too, so its Argo CD Applications are deployed. Discovery read one level of
/// items only and found no Application here.
#[test]
fn argo_cd_applications_inside_a_list_inside_a_list_are_read() {
    let Some(repo) = Repo::new("argocd") else {
        return;
    };
    let file = "argocd/applications.yaml";
    let text = std::fs::read_to_string(repo.root().join(file)).unwrap();
    let text = text.replace(
        "    path: services/billing/qa\n",
        "    path: services/billing/qa\n    kustomize:\n      commonAnnotations: {team: qa}\n",
    );
    // Each document as an item of a list, its lines indented by `by`.
    let as_items = |docs: &[&str], by: usize| -> String {
        let pad = " ".repeat(by);
        let mut out = String::new();
        for doc in docs {
            for (i, l) in doc.lines().enumerate() {
                let head = if i == 0 { "- " } else { "  " };
                out.push_str(&format!("{pad}{head}{l}\n"));
            }
        }
        out
    };
    let apps: Vec<&str> = text.split("---\n").collect();
    let inner = format!("apiVersion: v1\nkind: List\nitems:\n{}", as_items(&apps, 0));
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}",
        as_items(&[&inner], 2)
    );
    write_application_list(&repo, file, &list);
    let annotation = common::line_of(repo.root(), file, "commonAnnotations: {team: qa}");
    let prefix = format!("{file}:{annotation}");
    assert_eq!(not_modelled_at(&repo, &["--release", "qa"]), [prefix]);
}

/// An environment without `.env.example` files of its own takes the key set of its sibling
/// environments' examples for its SealedSecret, but every sibling's examples counted, whatever
/// Secret they describe: Flux's `clusters/prod` holding a `regcred` SealedSecret was told it
/// lacked the `API_KEY` of `overlays/prod`'s `app-secrets` example, and that its own
/// `.dockerconfigjson` was extra. A sibling's examples now count only for a SealedSecret of
/// the name it seals; one of the same name still gets them.
#[test]
fn sibling_examples_count_only_for_a_sealed_secret_of_their_name() {
    let Some(repo) = Repo::empty() else {
        return;
    };
    let sealed = |name: &str, key: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: app\nspec:\n  encryptedData:\n    {key}: AgBy3i4OJSWK+PiTySYZZA==\n"
        )
    };
    let kustomization = "resources:\n  - sealedsecret.yaml\n";
    for (dir, name, key) in [
        ("overlays/prod", "app-secrets", "API_KEY"),
        ("overlays/staging", "app-secrets", "DB_PASSWORD"),
        ("clusters/prod", "regcred", ".dockerconfigjson"),
    ] {
        repo.write(&format!("{dir}/kustomization.yaml"), kustomization);
        repo.write(&format!("{dir}/sealedsecret.yaml"), &sealed(name, key));
    }
    repo.write("overlays/prod/app.env.example", "API_KEY=\n");
    let out = repo.run(&["check", "--format", "json"]);
    let mut hits: Vec<(String, String)> = common::report_hits(&out.stdout)
        .into_iter()
        .filter(|h| h.rule == "example-sealed-mismatch")
        .map(|h| (h.path, h.message))
        .collect();
    hits.sort();
    let paths: Vec<&str> = hits.iter().map(|(p, _)| p.as_str()).collect();
    // staging's `app-secrets` lacks prod's API_KEY and holds DB_PASSWORD; regcred is no sibling's.
    assert_eq!(
        paths,
        ["overlays/staging/sealedsecret.yaml"; 2],
        "{}",
        stdout(&out)
    );
    assert!(
        hits[0].1.contains("`API_KEY`") && hits[1].1.contains("`DB_PASSWORD`")
            || hits[1].1.contains("`API_KEY`") && hits[0].1.contains("`DB_PASSWORD`"),
        "{hits:?}"
    );
}

/// The Flux pattern of a base holding the SealedSecret itself, its `.env.example` beside it:
/// that example was read by neither `check` nor `seal` (only an overlay's own examples were),
/// so a SealedSecret lacking every key it documents passed `check`, and `seal` did not ask for
/// them. The examples beside a base's SealedSecret now stand in for an overlay's own.
#[test]
fn examples_beside_a_base_sealed_secret_are_its_key_set() {
    let Some(repo) = Repo::empty() else {
        return;
    };
    repo.write(
        "apps/base/kustomization.yaml",
        "namespace: app\nresources:\n  - sealedsecret.yaml\n",
    );
    repo.write(
        "apps/base/sealedsecret.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\nspec:\n  encryptedData: {}\n",
    );
    repo.write("apps/base/app.env.example", "API_KEY=\nDB_PASSWORD=\n");
    let cert = std::fs::read_to_string(common::repo_root().join(CERT)).unwrap();
    for env in ["staging", "production"] {
        repo.write(
            &format!("apps/{env}/kustomization.yaml"),
            "resources:\n  - ../base\n",
        );
        repo.write(&format!("apps/{env}/sealing-cert.pem"), &cert);
    }
    let lacking = |repo: &Repo| -> Vec<String> {
        let out = repo.run(&["check", "--format", "json"]);
        let mut v: Vec<String> = common::report_hits(&out.stdout)
            .into_iter()
            .filter(|h| h.rule == "example-sealed-mismatch")
            .map(|h| format!("{}: {}", h.path, h.message))
            .collect();
        v.sort();
        v
    };
    let found = lacking(&repo);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .all(|m| m.starts_with("apps/base/sealedsecret.yaml: ")
                && m.contains("lacks keys of the environment's key set: `API_KEY`, `DB_PASSWORD`")),
        "{found:?}"
    );
    let from = repo.write("only-api.env", &format!("API_KEY={SENTINEL}\n"));
    let from = from.to_str().unwrap();
    let e = fails_cleanly(&repo.run(&["seal", "staging", "production", "--from", from]));
    assert!(
        e.contains("lacks keys the overlay needs: DB_PASSWORD"),
        "{e}"
    );
    repo.write(
        "only-api.env",
        &format!("API_KEY={SENTINEL}\nDB_PASSWORD={SENTINEL}\n"),
    );
    ok(&repo.run(&["seal", "staging", "production", "--from", from]));
    assert_eq!(lacking(&repo), Vec::<String>::new());
}

/// A `SealedSecret` document named `name` in namespace `app` holding `keys` (placeholder values).
fn sealed_doc(name: &str, keys: &[&str]) -> String {
    let data: String = keys
        .iter()
        .map(|k| format!("\n    {k}: AgBy3i4OJSWK+PiTySYZZA=="))
        .collect();
    let data = if data.is_empty() {
        " {}".to_owned()
    } else {
        data
    };
    format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: app\nspec:\n  encryptedData:{data}\n"
    )
}

/// `check`'s `example-sealed-mismatch` findings, as `path: message`, sorted.
fn example_sealed_hits(repo: &Repo) -> Vec<String> {
    let out = repo.run(&["check", "--format", "json"]);
    let mut v: Vec<String> = common::report_hits(&out.stdout)
        .into_iter()
        .filter(|h| h.rule == "example-sealed-mismatch")
        .map(|h| format!("{}: {}", h.path, h.message))
        .collect();
    v.sort();
    v
}

/// `apps/dev` (with a sealing certificate) deploying `apps/base`.
fn base_and_dev(repo: &Repo, base: &str, dev: &str) {
    repo.write("apps/base/kustomization.yaml", base);
    repo.write("apps/dev/kustomization.yaml", dev);
    let cert = std::fs::read_to_string(common::repo_root().join(CERT)).unwrap();
    repo.write("apps/dev/sealing-cert.pem", &cert);
}

/// Two SealedSecrets in one directory (a base's, then an overlay's own), each with its example
/// (`<name>.env.example`) beside it, and an example naming neither: `check` judged neither
/// against any example (several SealedSecrets), while `seal --name db` asked for `api`'s key
/// and the other example's too. An example named after a SealedSecret now belongs to it alone,
/// one naming none to neither, for both.
#[test]
fn examples_named_after_a_sealed_secret_belong_to_it() {
    for dir in ["apps/base", "apps/dev"] {
        let Some(repo) = Repo::empty() else {
            return;
        };
        let resources = "namespace: app\nresources:\n  - sealedsecret.yaml\n";
        let (base, dev) = if dir == "apps/base" {
            (resources, "resources:\n  - ../base\n")
        } else {
            (
                "resources: []\n",
                "resources:\n  - ../base\n  - sealedsecret.yaml\n",
            )
        };
        base_and_dev(&repo, base, dev);
        let docs = format!(
            "{}---\n{}",
            sealed_doc("db", &[]),
            sealed_doc("api", &["API_KEY"])
        );
        repo.write(&format!("{dir}/sealedsecret.yaml"), &docs);
        repo.write(&format!("{dir}/db.env.example"), "DB_PASSWORD=\n");
        repo.write(&format!("{dir}/api.env.example"), "API_KEY=\n");
        repo.write(&format!("{dir}/shared.env.example"), "SHARED=\n");
        let found = example_sealed_hits(&repo);
        assert_eq!(found.len(), 1, "{dir}: {found:?}");
        assert!(
            found[0].starts_with(&format!("{dir}/sealedsecret.yaml: "))
                && found[0]
                    .contains("`db` lacks a key of the environment's key set: `DB_PASSWORD`"),
            "{dir}: {found:?}"
        );
        let from = repo.write("db.env", &format!("DB_PASSWORD={SENTINEL}\n"));
        let from = from.to_str().unwrap();
        ok(&repo.run(&["seal", "dev", "--name", "db", "--from", from]));
        assert_eq!(example_sealed_hits(&repo), Vec::<String>::new(), "{dir}");
    }
}

/// A base holding one SealedSecret beside its example and a Secret generator's
/// `gen.env.example`: both examples counted for the SealedSecret, so `check` said it lacked the
/// generator's key and `seal` asked for it. An example a generator reads describes the
/// generated Secret only.
#[test]
fn an_example_a_generator_reads_is_no_sealed_secret_key_set() {
    let Some(repo) = Repo::empty() else {
        return;
    };
    base_and_dev(
        &repo,
        "namespace: app\nresources:\n  - sealedsecret.yaml\nsecretGenerator:\n  - name: gen\n    envs:\n      - gen.env\n",
        "resources:\n  - ../base\n",
    );
    repo.write(
        "apps/base/sealedsecret.yaml",
        &sealed_doc("app-secrets", &[]),
    );
    repo.write("apps/base/app.env.example", "API_KEY=\n");
    repo.write("apps/base/gen.env.example", "GEN_TOKEN=\n");
    repo.write("apps/base/gen.env", "GEN_TOKEN=x\n");
    repo.write(".gitignore", "*.env\n");
    let found = example_sealed_hits(&repo);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("lacks a key of the environment's key set: `API_KEY`"),
        "{found:?}"
    );
    let from = repo.write("api.env", &format!("API_KEY={SENTINEL}\n"));
    ok(&repo.run(&["seal", "dev", "--from", from.to_str().unwrap()]));
    assert_eq!(example_sealed_hits(&repo), Vec::<String>::new());
}

/// An overlay example that does not parse (a key given twice): `check` dropped all of the
/// overlay's examples and fell through to other key sources (here none, so nothing was
/// judged), while `seal` skipped that file and asked for the other examples' keys. Both now
/// take the examples that parse; `check` judges no key extra, since the broken file's keys are
/// unknown (`env-syntax` reports it).
#[test]
fn an_example_that_does_not_parse_leaves_the_others_for_check_and_seal() {
    let Some(repo) = Repo::empty() else {
        return;
    };
    base_and_dev(
        &repo,
        "resources: []\n",
        "namespace: app\nresources:\n  - ../base\n  - sealedsecret.yaml\n",
    );
    repo.write(
        "apps/dev/sealedsecret.yaml",
        &sealed_doc("app-secrets", &["OTHER"]),
    );
    repo.write("apps/dev/app.env.example", "API_KEY=\n");
    repo.write("apps/dev/broken.env.example", "TWICE=\nTWICE=\n");
    let found = example_sealed_hits(&repo);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("lacks a key of the environment's key set: `API_KEY`"),
        "{found:?}"
    );
    let from = repo.write("other.env", &format!("OTHER={SENTINEL}\n"));
    let from = from.to_str().unwrap();
    let e = fails_cleanly(&repo.run(&["seal", "dev", "--from", from, "--no-input"]));
    assert!(e.contains("lacks keys the overlay needs: API_KEY"), "{e}");
}

/// An `ApplicationSet` fills each generated Application's whole template from its parameter
/// set (argo-cd `applicationset/utils/utils.go`, `RenderTemplateParams`), so a
/// `destination.namespace: 'billing-{{path.basename}}'` or a `kustomize.namePrefix:
/// '{{path.basename}}-'` is one known value per directory. Only `source.path` was filled: every
/// such option was "not known offline", an `overlay-not-modelled` warning on a correct tree and
/// a strict SealedSecret without namespace an `identity-mismatch` error, while a destination
/// that moves the Deployment away from its Secret was never judged.
#[test]
fn application_set_options_are_filled_per_generated_application() {
    let set = |destination: &str, kustomize: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: billing\n  namespace: argocd\nspec:\n  generators:\n    - git:\n        repoURL: https://example.org/gitops.git\n        revision: main\n        directories:\n          - path: services/billing/*\n          - path: services/billing/common\n            exclude: true\n  template:\n    metadata:\n      name: 'billing-{{{{path.basename}}}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://example.org/gitops.git\n        targetRevision: main\n        path: '{{{{path}}}}'\n{kustomize}      destination:\n        server: https://kubernetes.default.svc\n        namespace: '{destination}'\n"
        )
    };
    let run = |destination: &str, kustomize: &str| -> Option<Vec<String>> {
        let repo = Repo::new("argocd")?;
        repo.write("argocd/applications.yaml", &set(destination, kustomize));
        // The overlays leave the namespace to the destination; the SealedSecrets name theirs.
        for env in ["live", "qa"] {
            let k = format!("services/billing/{env}/kustomization.yaml");
            let text = std::fs::read_to_string(repo.root().join(&k)).unwrap();
            repo.write(
                &k,
                &text.replace(&format!("namespace: billing-{env}\n"), ""),
            );
        }
        let out = repo.run(&["check", "--format", "json"]);
        let mut hits: Vec<String> = common::report_hits(&out.stdout)
            .into_iter()
            .filter(|h| h.rule != "placeholder-ciphertext")
            .map(|h| format!("{}:{}:{}", h.path, h.line, h.rule))
            .collect();
        hits.sort();
        Some(hits)
    };
    let Some(clean) = run("billing-{{path.basename}}", "") else {
        return;
    };
    assert_eq!(clean, Vec::<String>::new());
    // The destination `qa` / `live` puts the Deployment where its Secret is not.
    let dangling = "services/billing/common/deployment.yaml:21:dangling-reference".to_owned();
    let moved = run("{{path.basename}}", "").unwrap();
    assert_eq!(moved, [dangling.clone(), dangling.clone()]);
    // `qa-billing-secrets` is not the `billing-secrets` the Deployment reads (kustomize does
    // not rewrite a reference to a SealedSecret).
    let prefix = "        kustomize:\n          namePrefix: '{{path.basename}}-'\n";
    // And the template's `billing-secrets` is not the name the SealedSecret now renders as.
    let renamed = run("billing-{{path.basename}}", prefix).unwrap();
    let template =
        |env: &str| format!("services/billing/{env}/sealedsecret.yaml:11:identity-mismatch");
    assert_eq!(
        renamed,
        [dangling.clone(), dangling, template("live"), template("qa")]
    );
}

/// Writes an overlay `dir` reading a `SealedSecret` whose value is a placeholder, a base its
/// Deployment reads the key from, and a link `link -> <dir's name>` beside it.
fn linked_overlay(repo: &Repo, dir: &str, link: &str) {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: x\n          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: api-secrets\n                  key: DB_PASSWORD\n";
    repo.write("base/kustomization.yaml", "resources:\n  - deploy.yaml\n");
    repo.write("base/deploy.yaml", deployment);
    let up = "../".repeat(dir.matches('/').count() + 1);
    let kust = format!("resources:\n  - {up}base\n  - sealedsecret.yaml\n");
    repo.write(&format!("{dir}/kustomization.yaml"), &kust);
    let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: api-secrets\nspec:\n  encryptedData:\n    DB_PASSWORD: REPLACE_ME\n  template:\n    metadata:\n      name: api-secrets\n";
    repo.write(&format!("{dir}/sealedsecret.yaml"), sealed);
    std::fs::copy(
        common::repo_root().join(CERT),
        repo.root().join(dir).join("sealing-cert.pem"),
    )
    .unwrap();
    let name = dir.rsplit('/').next().unwrap();
    std::os::unix::fs::symlink(name, repo.root().join(link)).unwrap();
}

/// An Argo CD Application deploying `dir` with a sync-time `commonAnnotations` (which the model
/// does not apply: one `overlay-not-modelled` at that line).
fn annotating_app(dir: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.org/gitops.git\n    path: {dir}\n    kustomize:\n      commonAnnotations: {{team: x}}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: app\n"
    )
}

/// Writes `argocd/ENV.yaml`, an Argo CD Application deploying `path` into the namespace `env`.
fn argo_app(repo: &Repo, env: &str, path: &str) {
    repo.write(
        &format!("argocd/{env}.yaml"),
        &format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {env}\n  namespace: argocd\nspec:\n  source:\n    repoURL: https://example.org/gitops.git\n    path: {path}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {env}\n"),
    );
}

/// The paths of `check --release ENV --format json`'s findings (exit 1 expected).
fn release_paths(repo: &Repo, env: &str) -> BTreeMap<String, usize> {
    let out = repo.run(&["check", "--release", env, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut paths = BTreeMap::new();
    for h in common::report_hits(&out.stdout) {
        *paths.entry(h.path).or_default() += 1;
    }
    paths
}

/// An overlay a symbolic link reaches (`overlays/qa -> dev`) is an environment by the path
/// deployed, not by the link's target: `config`, `check --release qa` and its findings name
/// `qa`, as kubectl kustomize builds `overlays/qa` through the link; `dev` stays its own.
#[test]
fn a_symlinked_overlay_is_an_environment_by_the_path_deployed() {
    let Some(repo) = Repo::empty() else { return };
    linked_overlay(&repo, "k8s/overlays/dev", "k8s/overlays/qa");
    if let Some(kubectl) = common::kubectl() {
        let out = std::process::Command::new(kubectl)
            .args(["kustomize", "k8s/overlays/qa"])
            .current_dir(repo.root())
            .output()
            .unwrap();
        ok(&out);
        assert!(
            stdout(&out).contains("kind: SealedSecret"),
            "{}",
            stdout(&out)
        );
    }
    let layout = repo.layout();
    let got: Vec<(&str, &str)> = (layout.iter())
        .map(|(n, d, ..)| (n.as_str(), d.as_str()))
        .collect();
    assert_eq!(
        got,
        [("dev", "k8s/overlays/dev"), ("qa", "k8s/overlays/qa")]
    );
    let qa = release_paths(&repo, "qa");
    assert!(
        qa.contains_key("k8s/overlays/qa/sealedsecret.yaml"),
        "{qa:?}"
    );
    assert!(
        qa.keys().all(|p| !p.starts_with("k8s/overlays/dev/")),
        "{qa:?}"
    );
    // By path too, not by the link's target.
    assert_eq!(release_paths(&repo, "k8s/overlays/qa"), qa);
    let dev = release_paths(&repo, "dev");
    assert!(
        dev.contains_key("k8s/overlays/dev/sealedsecret.yaml"),
        "{dev:?}"
    );
}

/// An Argo CD Application deploying `apps/qa`, a link to `apps/dev`, deploys the environment
/// `qa` (`dev`, deployed by nothing, is none); `seal qa` writes the file the link leads to and
/// names both.
#[test]
fn an_application_deploying_a_symlinked_directory_names_the_environment_by_its_path() {
    let Some(repo) = Repo::empty() else { return };
    linked_overlay(&repo, "apps/dev", "apps/qa");
    argo_app(&repo, "qa", "apps/qa");
    let layout = repo.layout();
    let got: Vec<(&str, &str, &str)> = (layout.iter())
        .map(|(n, d, f, _)| (n.as_str(), d.as_str(), f.as_str()))
        .collect();
    assert_eq!(
        got,
        [("qa", "apps/qa", "Argo CD Application in argocd/qa.yaml")]
    );
    let qa = release_paths(&repo, "qa");
    assert!(qa.contains_key("apps/qa/sealedsecret.yaml"), "{qa:?}");
    let env = repo.write("qa.env", "DB_PASSWORD=s3cret-value\n");
    let out = repo.run(&["seal", "qa", "--from", env.to_str().unwrap()]);
    ok(&out);
    let said = stdout(&out) + &stderr(&out);
    assert!(
        said.contains(
            "qa: wrote apps/dev/sealedsecret.yaml (through the symlinked directory apps/qa)"
        ),
        "{said}"
    );
    let written = std::fs::read_to_string(repo.root().join("apps/dev/sealedsecret.yaml")).unwrap();
    assert!(
        !written.contains("REPLACE_ME") && written.contains("strict qa/api-secrets"),
        "{written}"
    );
    assert!(
        std::fs::symlink_metadata(repo.root().join("apps/qa"))
            .unwrap()
            .is_symlink()
    );
}

/// `check --format json`'s findings as `path rule`; and the first line of their messages.
fn findings(repo: &Repo) -> (Vec<String>, String) {
    let out = repo.run(&["check", "--format", "json"]);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    let hits = common::report_hits(&out.stdout);
    let message = hits.first().map(|h| h.message.clone()).unwrap_or_default();
    let got = hits.into_iter().map(|h| format!("{} {}", h.path, h.rule));
    (got.collect(), message)
}

/// Seals `env` (by the name discovery gives the path `dir`) with `dir` the only environment,
/// from a fresh env file; its one value must open with the Python peer under the strict scope
/// label `env/api-secrets` (the test key) only.
fn seal_opens_as(repo: &Repo, env: &str, dir: &str) {
    let config = repo.write("emp-seal.toml", &format!("environments = [\"{dir}\"]\n"));
    let from = repo.write(
        &format!("{env}.env"),
        &format!("DB_PASSWORD={SENTINEL}-{env}\n"),
    );
    ok(&repo.run(&["seal", env, "--from", from.to_str().unwrap()]));
    std::fs::remove_file(config).unwrap();
    std::fs::remove_file(from).unwrap();
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let file = repo.root().join(dir).join("sealedsecret.yaml");
    let v: Value = yaml_serde::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let ct = common::unb64(v["spec"]["encryptedData"]["DB_PASSWORD"].as_str().unwrap());
    let key = std::fs::read_to_string(common::repo_root().join(KEY)).unwrap();
    let mut open = |label: &str| peer.decrypt(&key, label.as_bytes(), &ct).ok();
    let want = format!("{SENTINEL}-{env}").into_bytes();
    assert_eq!(open(&format!("{env}/api-secrets")), Some(want), "{env}");
    let other = if env == "qa" { "dev" } else { "qa" };
    assert_eq!(open(&format!("{other}/api-secrets")), None, "{env}");
}

/// `seal ENV` must refuse, its error holding `why`, and leave the SealedSecret as it was.
fn seal_refuses(repo: &Repo, env: &str, why: &str) {
    let file = repo.root().join("k8s/overlays/dev/sealedsecret.yaml");
    let before = std::fs::read(&file).unwrap();
    let from = repo.write(&format!("{env}.env"), &format!("DB_PASSWORD={SENTINEL}\n"));
    let out = repo.run(&["seal", env, "--from", from.to_str().unwrap()]);
    std::fs::remove_file(from).unwrap();
    let error = fails_cleanly(&out);
    assert!(error.contains(why), "{error}");
    assert_eq!(std::fs::read(&file).unwrap(), before, "{env}");
}

/// What an Argo CD Application deploying `k8s/overlays/qa` (a link to `dev`) applies at sync
/// time (its destination namespace) reaches `qa` only: `dev`, which the layout finds and
/// nothing deploys, renders without a namespace. `seal dev` refuses (it sealed for
/// `qa/api-secrets`), `seal qa` refuses as `dev` renders the file too (it sealed), and a file
/// sealed for `qa` is an `identity-mismatch` in `dev` (`check` passed). Deployed by an
/// Application of its own into `dev`, no file is right for both: `seal` refuses and `check`
/// says `dev` renders another identity; with `qa` deployed by nothing, the other way round.
#[test]
fn deploy_options_reach_only_the_path_deployed_through_a_link() {
    let Some(repo) = Repo::empty() else { return };
    linked_overlay(&repo, "k8s/overlays/dev", "k8s/overlays/qa");
    argo_app(&repo, "qa", "k8s/overlays/qa");
    seal_refuses(&repo, "dev", "the SealedSecret renders without a namespace");
    seal_refuses(
        &repo,
        "qa",
        "environment `dev` also renders this SealedSecret",
    );
    seal_opens_as(&repo, "qa", "k8s/overlays/qa");
    let mismatch = |p: &str| vec![format!("{p}/sealedsecret.yaml identity-mismatch")];
    let (got, message) = findings(&repo);
    assert_eq!(got, mismatch("k8s/overlays/dev"));
    assert!(message.contains("renders without a namespace"), "{message}");
    argo_app(&repo, "dev", "k8s/overlays/dev");
    seal_refuses(
        &repo,
        "dev",
        "environment `qa` also renders this SealedSecret",
    );
    let (got, message) = findings(&repo);
    assert_eq!(got, mismatch("k8s/overlays/dev"));
    let sealed_for_qa = "sealed for qa/api-secrets (strict scope) but renders as dev/api-secrets";
    assert!(message.contains(sealed_for_qa), "{message}");
    std::fs::remove_file(repo.root().join("argocd/qa.yaml")).unwrap();
    seal_opens_as(&repo, "dev", "k8s/overlays/dev");
    let (got, message) = findings(&repo);
    assert_eq!(got, mismatch("k8s/overlays/qa"));
    assert!(message.contains("renders without a namespace"), "{message}");
}

/// Layouts where a kustomization wraps one other overlay but is no variant of it: regional
/// overlays over a shared per-environment part, each with its own SealedSecret or certificate
/// (two environments; the part both include is none), an app whose base includes a shared
/// directory (its `dev` and `prod` are environments, the base never), and an `overlays/common`
/// component an overlay includes (a shared part, not an environment). The shipped tree's `no-keda`
/// wrappers, which add no secret, stay variants (`issue_16_shipped_tree_variants_and_names_are_unchanged`).
#[test]
fn wrappers_with_secrets_of_their_own_and_shared_parts_are_told_apart() {
    let Some(repo) = Repo::empty() else {
        return;
    };
    let k = "kustomization.yaml";
    repo.write(&format!("base/{k}"), "resources: [cm.yaml]\n");
    repo.write(
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    repo.write(
        &format!("regions/prod/common/{k}"),
        "namespace: prod\nresources: [../../../base]\n",
    );
    let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: s, namespace: prod}\nspec: {encryptedData: {}}\n";
    for region in ["eu", "us"] {
        repo.write(
            &format!("regions/prod/{region}/{k}"),
            "resources: [../common, ss.yaml]\n",
        );
        repo.write(&format!("regions/prod/{region}/ss.yaml"), sealed);
    }
    repo.write(&format!("shared/mon/{k}"), "resources: [cm.yaml]\n");
    repo.write(
        "shared/mon/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n",
    );
    repo.write(
        &format!("apps/shop/base/{k}"),
        "resources: [../../../shared/mon, ss.yaml]\n",
    );
    repo.write("apps/shop/base/ss.yaml", sealed);
    for env in ["dev", "prod"] {
        repo.write(
            &format!("apps/shop/{env}/{k}"),
            "namespace: prod\nresources: [../base]\n",
        );
    }
    repo.write(
        &format!("overlays/common/{k}"),
        "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\nresources: [ss.yaml]\n",
    );
    repo.write("overlays/common/ss.yaml", sealed);
    repo.write(
        &format!("overlays/qa/{k}"),
        "namespace: prod\nresources: [../../base]\ncomponents: [../common]\n",
    );
    let dirs: Vec<String> = repo.layout().into_iter().map(|(_, d, _, _)| d).collect();
    assert_eq!(
        dirs,
        [
            "apps/shop/dev",
            "apps/shop/prod",
            "overlays/qa",
            "regions/prod/eu",
            "regions/prod/us"
        ],
    );
}
