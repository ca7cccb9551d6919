//! `emp-seal init`: every env file the overlay's Secret generators read is created (several
//! `envs:` entries, several generators), existing ones are left alone, and an env file that
//! kustomize's load restrictor would refuse (outside the overlay, outside the repository, or
//! through a linked directory leading out) is refused before anything is written. The real
//! `kubectl kustomize` is the oracle for what builds and what kustomize refuses.

use std::path::{Path, PathBuf};

use crate::common;
use crate::lifecycle::{read, run, tree, write};

/// The 1-based line of the first line of `path` equal to `line` (trimmed).
fn line_of(path: &Path, line: &str) -> usize {
    1 + read(path)
        .lines()
        .position(|l| l.trim() == line)
        .expect("the line is in the file")
}

/// The keys of an env file (`KEY=...` lines).
fn env_keys(path: &Path) -> Vec<String> {
    let text = read(path);
    let mut keys: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_owned()))
        .collect();
    keys.sort();
    keys
}

/// The sorted `data` keys of the rendered Secret `name` (with or without a hash suffix).
fn rendered_keys(render: &str, name: &str) -> Vec<String> {
    let doc = render
        .split("\n---\n")
        .map(|d| yaml_serde::from_str::<serde_json::Value>(d).expect("rendered yaml"))
        .find(|v| {
            let n = v["metadata"]["name"].as_str().unwrap_or_default();
            v["kind"] == "Secret" && (n == name || n.starts_with(&format!("{name}-")))
        })
        .expect("the Secret is rendered");
    let mut keys: Vec<String> = doc["data"]
        .as_object()
        .expect("data")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// The dev overlay with two `envs:` in its generator file and a second, inline Secret
/// generator with an env file of its own, each with an example. Returns (dev, the env files).
fn several_env_files(root: &Path) -> (PathBuf, [PathBuf; 3]) {
    let dev = root.join("k8s/overlays/dev");
    let generator = dev.join("secret-generator.yaml");
    let text = read(&generator).replace(
        "  - dev-secrets.env\n",
        "  - dev-secrets.env\n  - extra.env\n",
    );
    write(&generator, &text);
    let kust = dev.join("kustomization.yaml");
    let text =
        read(&kust) + "\nsecretGenerator:\n  - name: other-secrets\n    envs:\n      - other.env\n";
    write(&kust, &text);
    write(
        &dev.join("extra.env.example"),
        "# extra\nEXTRA_TOKEN=change-me\n",
    );
    write(&dev.join("other.env.example"), "OTHER_KEY=\n");
    let files = ["dev-secrets.env", "extra.env", "other.env"].map(|f| dev.join(f));
    (dev, files)
}

#[test]
fn init_creates_every_env_file_the_secret_generators_read() {
    let t = tree();
    let root = t.path();
    let (dev, files) = several_env_files(root);
    let o = run(root, &["init", "dev", "--no-input"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    use std::os::unix::fs::PermissionsExt;
    for f in &files {
        let example = PathBuf::from(format!("{}.example", f.display()));
        assert_eq!(read(f), read(&example), "{}", f.display());
        let mode = std::fs::metadata(f).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    if common::kubectl().is_none() {
    } else {
        // kustomize builds the overlay, each Secret with the keys of its env files.
        let render = common::kustomize(&dev);
        let mut want = [&files[0], &files[1]].map(|f| env_keys(f)).concat();
        want.sort();
        assert_eq!(rendered_keys(&render, "emp-secrets"), want);
        let other = rendered_keys(&render, "other-secrets");
        assert_eq!(other, env_keys(&files[2]));
    }
    // A second run has nothing to do, names each file, and leaves them as they are.
    write(&files[1], "EXTRA_TOKEN=mine\n");
    let o = run(root, &["init", "dev", "--no-input"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("nothing to do"), "{}", o.stderr);
    for f in &files {
        let name = f.strip_prefix(root).unwrap().display().to_string();
        assert!(
            o.stderr.contains(&format!("{name}: exists; left as it is")),
            "{name}: {}",
            o.stderr
        );
    }
    assert_eq!(read(&files[1]), "EXTRA_TOKEN=mine\n");
    // Only the missing one is created.
    std::fs::remove_file(&files[2]).expect("rm");
    let o = run(root, &["init", "dev", "--no-input"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stderr.contains("nothing to do"), "{}", o.stderr);
    assert_eq!(read(&files[2]), read(&dev.join("other.env.example")));
    assert_eq!(read(&files[1]), "EXTRA_TOKEN=mine\n");
}

/// Runs `init dev` where the generator file names `entry` after `dev-secrets.env`, and asserts
/// it is refused: exit 2, one error line naming the generator file and the entry's line, and
/// `needle`; no file written in dev or at `written_at`.
fn refused(root: &Path, entry: &str, needle: &str, written_at: &Path) {
    let dev = root.join("k8s/overlays/dev");
    let generator = dev.join("secret-generator.yaml");
    let line = format!("  - {entry}\n");
    let text = read(&generator).replace(
        "  - dev-secrets.env\n",
        &format!("  - dev-secrets.env\n{line}"),
    );
    write(&generator, &text);
    let before: Vec<_> = std::fs::read_dir(&dev)
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .collect();
    let o = run(root, &["init", "dev", "--no-input"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let errors: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    let at = format!(
        "error: k8s/overlays/dev/secret-generator.yaml:{}: ",
        line_of(&generator, &format!("- {entry}"))
    );
    assert_eq!(errors.len(), 1, "{}", o.stderr);
    assert!(errors[0].starts_with(&at), "{at}: {}", o.stderr);
    assert!(errors[0].contains(needle), "{needle}: {}", o.stderr);
    // All or nothing: not even dev-secrets.env, which was fine.
    let after: Vec<_> = std::fs::read_dir(&dev)
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(after, before);
    assert!(!written_at.exists(), "{} was written", written_at.display());
}

/// kustomize itself refuses the file once it exists (and the overlay's own env file does): the
/// refusal is kustomize's.
fn kustomize_refuses(root: &Path, file: &Path) {
    if common::kubectl().is_none() {
        return;
    }
    let dev = root.join("k8s/overlays/dev");
    write(&dev.join("dev-secrets.env"), "API_KEY=x\n");
    write(file, "A=b\n");
    let out = common::kustomize_raw(&dev);
    assert!(!out.status.success(), "kustomize built it");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not in or below"), "{err}");
}

#[test]
fn init_refuses_an_env_file_outside_the_overlay_and_writes_nothing() {
    let t = tree();
    let root = t.path();
    let shared = root.join("k8s/overlays/shared.env");
    write(&root.join("k8s/overlays/shared.env.example"), "A=\n");
    refused(
        root,
        "../shared.env",
        "is not in or below k8s/overlays/dev",
        &shared,
    );
    kustomize_refuses(root, &shared);
}

#[test]
fn init_refuses_an_env_file_outside_the_repository_and_writes_nothing() {
    let t = tree();
    let root = t.path();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let target = elsewhere.path().join("x.env");
    write(&elsewhere.path().join("x.env.example"), "A=\n");
    // A relative path from the overlay up to `/`, then down to the other directory.
    let dev = root.join("k8s/overlays/dev");
    let up = "../".repeat(dev.components().count() - 1);
    let down = target.strip_prefix("/").expect("absolute");
    let entry = format!("{up}{}", down.display());
    refused(root, &entry, "kustomize refuses to load it", &target);
    kustomize_refuses(root, &target);
}

#[test]
fn init_refuses_an_env_file_in_a_linked_directory_leading_out_of_the_overlay() {
    let t = tree();
    let root = t.path();
    let shared = root.join("k8s/shared");
    write(&shared.join("l.env.example"), "A=\n");
    std::os::unix::fs::symlink(&shared, root.join("k8s/overlays/dev/link")).expect("symlink");
    let target = shared.join("l.env");
    refused(root, "link/l.env", "k8s/overlays/dev/link/l.env", &target);
    kustomize_refuses(root, &target);
}

#[test]
fn init_warns_about_a_files_source_it_does_not_create() {
    let t = tree();
    let root = t.path();
    let dev = root.join("k8s/overlays/dev");
    let kust = dev.join("kustomization.yaml");
    let text =
        read(&kust) + "\nsecretGenerator:\n  - name: tls-secrets\n    files:\n      - tls.key\n";
    write(&kust, &text);
    let o = run(root, &["init", "dev", "--no-input"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(dev.join("dev-secrets.env").exists());
    assert!(
        o.stderr
            .lines()
            .any(|l| l.starts_with("warning: k8s/overlays/dev/tls.key")
                && l.contains("does not exist")),
        "{}",
        o.stderr
    );
}

#[test]
fn init_refuses_an_env_file_of_a_base_outside_the_repository() {
    let t = tree();
    let root = t.path();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let base = elsewhere.path().join("base");
    let kust = base.join("kustomization.yaml");
    write(
        &kust,
        "secretGenerator:\n  - name: base-secrets\n    envs:\n      - b.env\n",
    );
    write(&base.join("b.env.example"), "B=\n");
    let dev = root.join("k8s/overlays/dev");
    let up = "../".repeat(dev.components().count() - 1);
    let entry = format!(
        "{up}{}",
        base.strip_prefix("/").expect("absolute").display()
    );
    let dev_kust = dev.join("kustomization.yaml");
    let text = read(&dev_kust).replace(
        "  - ../../base\n",
        &format!("  - ../../base\n  - {entry}\n"),
    );
    write(&dev_kust, &text);
    let o = run(root, &["init", "dev", "--no-input"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    // Messages name files relative to the repository, outside it too.
    let from_root = |p: &Path| {
        let up = "../".repeat(root.components().count() - 1);
        format!("{up}{}", p.strip_prefix("/").expect("absolute").display())
    };
    let at = format!(
        "error: {}:{}: env file {} is outside the repository",
        from_root(&kust),
        line_of(&kust, "- b.env"),
        from_root(&base.join("b.env"))
    );
    let errors: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", o.stderr);
    assert!(errors[0].starts_with(&at), "{at}: {}", o.stderr);
    assert!(
        errors[0].contains("is outside the repository"),
        "{}",
        o.stderr
    );
    assert!(!base.join("b.env").exists());
    assert!(!dev.join("dev-secrets.env").exists());
    if common::kubectl().is_none() {
        return;
    }
    // kustomize would load it: the refusal is init's own (it never writes outside the
    // repository), not the load restrictor's.
    write(&base.join("b.env"), "B=x\n");
    write(&dev.join("dev-secrets.env"), "API_KEY=x\n");
    common::kustomize(&dev);
}

/// A directory, or a link that leads nowhere, at the path of an env file a generator reads was
/// taken for an existing env file: `init` left it "as it is" and went on, while kustomize cannot
/// read it and the overlay still did not build. Now `init` names it and writes nothing.
#[test]
fn init_refuses_what_is_no_file_at_an_env_file_path_and_writes_nothing() {
    for what in ["is a directory", "is a link that cannot be followed"] {
        let t = tree();
        let root = t.path();
        let (dev, [_, extra, _]) = several_env_files(root);
        if what == "is a directory" {
            std::fs::create_dir(&extra).expect("mkdir");
        } else {
            std::os::unix::fs::symlink(dev.join("nowhere"), &extra).expect("symlink");
        }
        let o = run(root, &["init", "dev", "--no-input"]);
        assert_eq!(o.code, 2, "{what}: {}", o.stderr);
        let error = format!(
            "error: k8s/overlays/dev/extra.env {what}, not an env file: kustomize cannot read it; init writes no file"
        );
        assert!(o.stderr.lines().any(|l| l == error), "{what}: {}", o.stderr);
        assert!(!dev.join("dev-secrets.env").exists(), "{what}: written");
        // kustomize cannot build the overlay with it there either.
        if common::kubectl().is_none() {
            continue;
        }
        write(&dev.join("dev-secrets.env"), "API_KEY=x\n");
        let out = common::kustomize_raw(&dev);
        assert!(!out.status.success(), "{what}: kustomize built it");
    }
}

/// A root below the git top level (a monorepo's `services/api`, with no `.git` of its own): the
/// env files init creates are still judged by git, and one git does not ignore is warned about.
/// The warning used to be skipped whenever the root had no `.git` entry.
#[test]
fn init_below_the_git_top_warns_about_an_env_file_git_does_not_ignore() {
    if common::which("git").is_none() {
        common::missing("git");
        return;
    }
    let top = tempfile::tempdir().expect("tempdir");
    let root = top.path().join("services/api");
    common::copy_dir(&common::repo_root().join("k8s"), &root.join("k8s"));
    let (dev, _) = several_env_files(&root);
    common::git(top.path(), &["init", "-q"]);
    write(
        &top.path().join(".gitignore"),
        "dev-secrets.env\nother.env\n",
    );
    let o = run(&root, &["init", "dev", "--no-input"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(dev.join("extra.env").is_file(), "{}", o.stderr);
    let warned: Vec<&str> = (o.stderr.lines())
        .filter_map(|l| {
            l.strip_prefix("warning: ")?
                .split_once(" is not ignored by git")
        })
        .map(|(file, _)| file)
        .collect();
    assert_eq!(warned, ["k8s/overlays/dev/extra.env"], "{}", o.stderr);
}

/// Each env file `init` creates that git does not ignore is named in a warning; one git ignores
/// is not. An env file of a base the overlay reaches through a linked directory is judged where
/// git keeps it (`git check-ignore` refuses a path through a link: "beyond a symbolic link"):
/// that refusal used to pass the file as ignored, without a warning, and printed git's error.
#[test]
fn init_warns_about_each_created_env_file_git_does_not_ignore() {
    if common::which("git").is_none() {
        common::missing("git");
        return;
    }
    let t = tree();
    let root = t.path();
    let (dev, _) = several_env_files(root);
    write(
        &root.join("k8s/shared/kustomization.yaml"),
        "secretGenerator:\n  - name: shared-secrets\n    envs:\n      - s.env\n",
    );
    write(&root.join("k8s/shared/s.env.example"), "S=\n");
    std::os::unix::fs::symlink("shared", root.join("k8s/linked")).expect("symlink");
    let kust = dev.join("kustomization.yaml");
    let text = read(&kust).replace("  - ../../base\n", "  - ../../base\n  - ../../linked\n");
    write(&kust, &text);
    common::git(root, &["init", "-q"]);
    write(&root.join(".gitignore"), "dev-secrets.env\nother.env\n");
    let o = run(root, &["init", "dev", "--no-input"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(root.join("k8s/shared/s.env").is_file(), "{}", o.stderr);
    let mut warned: Vec<&str> = (o.stderr.lines())
        .filter_map(|l| {
            l.strip_prefix("warning: ")?
                .split_once(" is not ignored by git")
        })
        .map(|(file, _)| file)
        .collect();
    warned.sort_unstable();
    assert_eq!(
        warned,
        ["k8s/linked/s.env", "k8s/overlays/dev/extra.env"],
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("fatal:"), "{}", o.stderr);
    if common::kubectl().is_none() {
        return;
    }
    // kustomize builds the overlay with the files init wrote.
    common::kustomize(&dev);
}

/// A root below the git top level (a monorepo's `services/api`) whose overlay only a Flux
/// Kustomization of the repository deploys, reading an env file at the repository's top-level
/// `shared/`, above the root: Flux loads it (the model's bound for that overlay is the git top),
/// so init creates it from its example. It used to refuse it as outside the repository,
/// bounding it by emp-seal's root. One outside the git top is still refused, nothing written.
/// Oracle: `kubectl kustomize --load-restrictor LoadRestrictionsNone`, Flux's build, builds the
/// overlay with the file init wrote.
#[test]
fn init_creates_an_env_file_above_the_root_for_a_flux_only_overlay() {
    let Some(m) = crate::git_bound::Monorepo::new() else {
        return;
    };
    let o = run(&m.root(), &["init", "prod", "--no-input"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let env = m.top().join("shared/app.env");
    assert_eq!(read(&env), "API_KEY=\n");
    // git ignores it (`*.env` at the top), asked from the root: no warning, no git error.
    assert!(!o.stderr.contains("not ignored by git"), "{}", o.stderr);
    assert!(!o.stderr.contains("fatal:"), "{}", o.stderr);
    if common::kubectl().is_some() {
        let dir = m.root().join("k8s/overlays/prod");
        let out = std::process::Command::new("kubectl")
            .arg("kustomize")
            .arg(&dir)
            .args(["--load-restrictor", "LoadRestrictionsNone"])
            .output()
            .expect("run kubectl");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("name: app-secrets-"));
    } else {
        common::missing("kubectl");
    }

    // Outside the git top: refused (Flux loads nothing there), nothing written.
    let Some(m) = crate::git_bound::Monorepo::new() else {
        return;
    };
    let kust = m.root().join("k8s/overlays/prod/kustomization.yaml");
    let text = read(&kust).replace("../../../../../shared/app.env", "../../../../../../out.env");
    write(&kust, &text);
    write(&m.outside().join("out.env.example"), "OUT=\n");
    let o = run(&m.root(), &["init", "prod", "--no-input"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("is outside the repository"),
        "{}",
        o.stderr
    );
    assert!(!m.outside().join("out.env").exists());
}
