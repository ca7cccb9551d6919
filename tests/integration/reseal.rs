//! Issue 17 item 1, `emp-seal reseal`, end to end through the real binary: seal with certificate
//! A (the demo paper certificate), replace the overlay's certificate with B, reseal with A's key.
//! Then B's key opens every value unchanged (the independent Python peer, on what the real
//! `kubectl kustomize` renders), A's key opens none, no plaintext is anywhere in the tree or in
//! TMPDIR. SIGKILL during a reseal (old or new file, both seen) is in `crash.rs`, with the kill
//! harness every writer shares; the leak audit of reseal's paths is in `leak.rs`.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{self, Peer};
use crate::seal_support::*;

/// A tree whose paper SealedSecret is sealed with A, whose certificate is then replaced by B.
/// The env file lives outside the tree (in the returned temp dir), so a plaintext scan of the tree
/// finds only what emp-seal wrote.
struct Rotated {
    tree: Tree,
    outside: tempfile::TempDir,
    sealed_with_a: String,
}

fn rotated() -> Rotated {
    let tree = Tree::new();
    let outside = tempfile::tempdir().unwrap();
    let env = outside.path().join("secrets.env");
    write_file(&env, env_text().as_bytes());
    ok(&tree.run(&["seal", "paper", "--from", env.to_str().unwrap()]));
    let sealed_with_a = std::fs::read_to_string(tree.ss("paper")).unwrap();
    std::fs::copy(cert_b(), tree.overlay("paper").join("sealing-cert.pem")).unwrap();
    Rotated {
        tree,
        outside,
        sealed_with_a,
    }
}

fn run_with_tmp(tree: &Tree, tmp: &Path, args: &[&str]) -> Output {
    let mut c = emp_seal_cmd();
    c.arg("-C").arg(tree.root()).args(args).env("TMPDIR", tmp);
    c.output().unwrap()
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8], out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            files_containing(&p, needle, out);
        } else if t.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                out.push(p);
            }
        }
    }
}

/// The inode and modification time of `p` (a rename over it, or a write, changes one of them).
fn file_stamp(p: &Path) -> (u64, std::time::SystemTime) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).unwrap();
    (m.ino(), m.modified().unwrap())
}

/// Decrypts every rendered value with `key` under the rendered identity's label (Python peer).
fn open_rendered(tree: &Tree, key: &Path) -> Option<BTreeMap<String, Result<Vec<u8>, String>>> {
    let r = render(tree, "paper")?;
    let mut peer = Peer::start()?;
    let pem = std::fs::read_to_string(key).unwrap();
    Some(
        r.encrypted
            .iter()
            .map(|(k, v)| (k.clone(), peer.decrypt(&pem, &r.label(), &common::unb64(v))))
            .collect(),
    )
}

#[test]
fn issue_17_reseal_end_to_end() {
    let r = rotated();
    let tree = &r.tree;
    let tmp = tempfile::tempdir().unwrap();

    // `check` reports the stale certificate and names the exact command.
    let out = tree.run(&["check", "--rules", "stale-certificate"]);
    assert!(
        stdout(&out).contains("warning[stale-certificate]")
            && stdout(&out).contains("emp-seal reseal paper --key OLD_KEY.pem"),
        "{}",
        stdout(&out)
    );

    let out = run_with_tmp(
        tree,
        tmp.path(),
        &["reseal", "paper", "--key", key_a().to_str().unwrap()],
    );
    ok(&out);
    no_secret(&out);
    let err = stderr(&out);
    let fp_a =
        openssl_sha256(&common::repo_root().join("tests/fixtures/demo/paper-sealing-cert.pem"));
    let fp_b = openssl_sha256(&cert_b());
    if let (Some(a), Some(b)) = (&fp_a, &fp_b) {
        assert!(err.contains(&format!("old cert sha256 {a}")), "{err}");
        assert!(err.contains(&format!("new cert sha256 {b}")), "{err}");
    } else {
        common::missing("openssl (fingerprints)");
    }
    assert!(
        err.contains("resealed API_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD"),
        "{err}"
    );

    // Lossless: only the values and emp-seal's record changed.
    let after = std::fs::read_to_string(tree.ss("paper")).unwrap();
    assert_only_values_changed(&r.sealed_with_a, &after, &[], false);
    if let Some(b) = &fp_b {
        let record = after
            .lines()
            .find(|l| l.contains("emp-seal.dev/cert-sha256:"))
            .unwrap();
        assert!(record.contains(b.as_str()), "{record}");
    }

    // B's key opens every value unchanged, A's key opens none (peer, on kubectl's render).
    let Some(with_b) = open_rendered(tree, &key_b()) else {
        return;
    };
    let want = env_values();
    assert_eq!(with_b.len(), want.len());
    for (k, v) in &want {
        assert_eq!(with_b[k].as_ref().unwrap(), v, "{k} under B");
    }
    let with_a = open_rendered(tree, &key_a()).unwrap();
    for (k, v) in &with_a {
        assert!(v.is_err(), "A's key still opens {k}");
    }

    // No plaintext anywhere in the tree or in TMPDIR.
    let mut found = Vec::new();
    files_containing(tree.root(), SENTINEL.as_bytes(), &mut found);
    files_containing(tmp.path(), SENTINEL.as_bytes(), &mut found);
    assert!(found.is_empty(), "plaintext on disk: {found:?}");

    // The stale finding is gone; a second reseal keeps every ciphertext (already current).
    let out = tree.run(&[
        "check",
        "--rules",
        "stale-certificate",
        "--release",
        "paper",
    ]);
    assert!(
        !stdout(&out).contains("stale-certificate"),
        "{}",
        stdout(&out)
    );
    // Nothing changed: the file is not rewritten (same inode, same mtime) and the summary says
    // so instead of `wrote` (it said `wrote` and renamed a fresh copy over the file).
    let before = file_stamp(&tree.ss("paper"));
    let out = tree.run(&[
        "reseal",
        "paper",
        "--key",
        &format!("{},{}", key_a().display(), key_b().display()),
    ]);
    ok(&out);
    let err = stderr(&out);
    assert!(err.contains("resealed 0 key(s)"), "{err}");
    assert!(
        err.contains("paper: left unchanged k8s/overlays/paper/sealedsecret.yaml")
            && !err.contains("wrote"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(tree.ss("paper")).unwrap(), after);
    assert_eq!(
        file_stamp(&tree.ss("paper")),
        before,
        "the file was rewritten"
    );
    drop(r.outside);
}

#[test]
fn issue_17_reseal_refuses_values_no_key_opens() {
    let r = rotated();
    let tree = &r.tree;
    // The wrong key: every value is named, exit 2, nothing written.
    let wrong = common::repo_root().join("tests/fixtures/keys/rsa-2048-key.pem");
    let out = tree.run(&["reseal", "paper", "--key", wrong.to_str().unwrap()]);
    let line = fails_cleanly(&out);
    for k in ["API_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"] {
        assert!(line.contains(&format!("`{k}`")), "{line}");
    }
    assert!(
        line.contains("k8s/overlays/paper/sealedsecret.yaml"),
        "{line}"
    );
    assert_eq!(
        std::fs::read_to_string(tree.ss("paper")).unwrap(),
        r.sealed_with_a
    );
}

/// A SealedSecret key the API server rejects in a Secret (`..API_KEY`: Kubernetes
/// `IsConfigMapKey` refuses `.`, `..` and a leading `..`) is refused with the same rule as env
/// files and `check` (`envfile::validate_key`). The editor had its own copy, which missed the dot
/// rule, so reseal re-encrypted and wrote the key. Exit 2, naming the key's line, the key (quoted
/// as `check` quotes it: it is refused on reading now, before anything is opened) and the
/// problem, nothing written.
#[test]
fn reseal_refuses_a_key_the_api_server_rejects() {
    let r = rotated();
    let tree = &r.tree;
    let bad = r
        .sealed_with_a
        .replace("\n    API_KEY: ", "\n    ..API_KEY: ");
    assert_ne!(bad, r.sealed_with_a);
    write_file(&tree.ss("paper"), bad.as_bytes());
    let out = tree.run(&["reseal", "paper", "--key", key_a().to_str().unwrap()]);
    let line = fails_cleanly(&out);
    let at = 1 + bad.lines().position(|l| l.contains("..API_KEY")).unwrap();
    assert!(
        line.starts_with(&format!(
            "error: k8s/overlays/paper/sealedsecret.yaml:{at}: "
        )) && line.contains("the key \"..API_KEY\"")
            && line.contains("starts with '..'"),
        "{line}"
    );
    assert_eq!(std::fs::read_to_string(tree.ss("paper")).unwrap(), bad);
}

/// One value sealed with a key that is not given: refused (naming it, writing nothing) unless
/// `--skip-unopened`, which reseals the others, leaves it byte for byte and keeps A's record.
#[test]
fn issue_17_reseal_skip_unopened() {
    let r = rotated();
    let tree = &r.tree;
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let other_cert =
        std::fs::read_to_string(common::repo_root().join("tests/fixtures/certs/rsa-2048-cert.pem"))
            .unwrap();
    let foreign = common::b64(&peer.encrypt(&other_cert, b"emp-paper/emp-secrets", b"other"));
    let old_api = values(&r.sealed_with_a)["API_KEY"].clone();
    let mixed = r.sealed_with_a.replace(&old_api, &foreign);
    write_file(&tree.ss("paper"), mixed.as_bytes());

    let key = key_a();
    let out = tree.run(&["reseal", "paper", "--key", key.to_str().unwrap()]);
    let line = fails_cleanly(&out);
    assert!(line.contains("`API_KEY`"), "{line}");
    assert!(!line.contains("POSTGRES_PASSWORD"), "{line}");
    assert_eq!(std::fs::read_to_string(tree.ss("paper")).unwrap(), mixed);

    let out = tree.run(&[
        "reseal",
        "paper",
        "--key",
        key.to_str().unwrap(),
        "--skip-unopened",
    ]);
    ok(&out);
    no_secret(&out);
    assert!(
        stderr(&out).contains("skipped  API_KEY"),
        "{}",
        stderr(&out)
    );
    let after = std::fs::read_to_string(tree.ss("paper")).unwrap();
    let v = values(&after);
    assert_eq!(
        v["API_KEY"], foreign,
        "the unopened value is kept byte for byte"
    );
    let old_record = |t: &str| {
        t.lines()
            .find(|l| l.contains("emp-seal.dev/cert-sha256"))
            .map(str::to_owned)
    };
    assert_eq!(
        old_record(&after),
        old_record(&mixed),
        "the old record stays"
    );
    let b = std::fs::read_to_string(key_b()).unwrap();
    for k in ["POSTGRES_PASSWORD", "REDIS_PASSWORD"] {
        let got = peer
            .decrypt(&b, b"emp-paper/emp-secrets", &common::unb64(&v[k]))
            .unwrap();
        assert_eq!(&got, &env_values()[k], "{k}");
    }
}

/// Several environments: a value one of them cannot open stops every file from being written.
#[test]
fn issue_17_reseal_several_envs_all_or_nothing() {
    let r = rotated();
    let tree = &r.tree;
    tree.clone_overlay("paper", "paper2");
    // paper2's REDIS_PASSWORD: a ciphertext for another identity, which no key opens under
    // paper2's label.
    let peer_ct = {
        let Some(mut peer) = Peer::start() else {
            return;
        };
        let a_cert = std::fs::read_to_string(
            common::repo_root().join("tests/fixtures/demo/paper-sealing-cert.pem"),
        )
        .unwrap();
        common::b64(&peer.encrypt(&a_cert, b"elsewhere/emp-secrets", b"x"))
    };
    let text = r
        .sealed_with_a
        .replace(&values(&r.sealed_with_a)["REDIS_PASSWORD"], &peer_ct);
    write_file(&tree.ss("paper2"), text.as_bytes());
    let key = key_a();
    let out = tree.run(&["reseal", "paper", "paper2", "--key", key.to_str().unwrap()]);
    let line = fails_cleanly(&out);
    assert!(line.contains("paper2/sealedsecret.yaml"), "{line}");
    assert!(line.contains("`REDIS_PASSWORD`"), "{line}");
    assert_eq!(
        std::fs::read_to_string(tree.ss("paper")).unwrap(),
        r.sealed_with_a
    );
    assert_eq!(std::fs::read_to_string(tree.ss("paper2")).unwrap(), text);

    // Fixed, both are written in one run.
    write_file(&tree.ss("paper2"), r.sealed_with_a.as_bytes());
    ok(&tree.run(&["reseal", "paper", "paper2/", "--key", key.to_str().unwrap()]));
    for env in ["paper", "paper2"] {
        let t = std::fs::read_to_string(tree.ss(env)).unwrap();
        assert_ne!(t, r.sealed_with_a, "{env} was resealed");
    }
}

/// `reseal` warns about the certificate it seals to as `seal` does: here a certificate file
/// that also holds the controller's private key (sealing needs only the certificate).
#[test]
fn reseal_warns_about_the_certificate_it_seals_to() {
    let r = rotated();
    let tree = &r.tree;
    let bundle = format!(
        "{}{}",
        std::fs::read_to_string(cert_b()).unwrap(),
        std::fs::read_to_string(key_b()).unwrap()
    );
    write_file(
        &tree.overlay("paper").join("sealing-cert.pem"),
        bundle.as_bytes(),
    );
    let key = key_a();
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec!["reseal", "paper", "--key", key.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = tree.run(&args);
        ok(&out);
        let err = stderr(&out);
        assert!(
            err.lines().any(|l| l.starts_with("warning: paper: ")
                && l.contains("sealing-cert.pem")
                && l.contains("also holds a private key")),
            "{extra:?}: {err}"
        );
    }
}

/// What the Python peer seals for paper's rendered identity with certificate A (the demo one),
/// base64: a value sealed before the rotation, as a patch of the overlay would carry it.
fn sealed_with_a_by_peer(peer: &mut Peer, plaintext: &[u8]) -> String {
    let a_cert = std::fs::read_to_string(
        common::repo_root().join("tests/fixtures/demo/paper-sealing-cert.pem"),
    )
    .unwrap();
    common::b64(&peer.encrypt(&a_cert, b"emp-paper/emp-secrets", plaintext))
}

/// Runs `emp-seal ARGS` and expects a one-line refusal containing every one of `want`, with
/// `file` byte-identical and no secret value in the output.
fn refused_leaving(tree: &Tree, args: &[&str], file: &Path, want: &[&str]) -> String {
    let before = std::fs::read(file).unwrap();
    let out = tree.run(args);
    no_secret(&out);
    let line = fails_cleanly(&out);
    for w in want {
        assert!(line.contains(w), "{args:?}: `{w}` not in: {line}");
    }
    assert_eq!(
        before,
        std::fs::read(file).unwrap(),
        "{args:?} wrote the file"
    );
    line
}

/// One way an overlay patch adds a key (`EXTRA`) the SealedSecret file does not hold: the text
/// appended to paper's kustomization, the extra file it names (if any), and the file and the
/// text of the line that writes the value.
struct AddingPatch {
    kustomization_tail: String,
    extra_file: Option<(&'static str, String)>,
    written_in: &'static str,
    marker: &'static str,
}

fn adding_patches(value: &str) -> Vec<AddingPatch> {
    let k = "k8s/overlays/paper/kustomization.yaml";
    vec![
        // An inline JSON 6902 op under `patches:`.
        AddingPatch {
            kustomization_tail: format!(
                "  - patch: |-\n      - op: add\n        path: /spec/encryptedData/EXTRA\n        value: {value}\n    target:\n      kind: SealedSecret\n      name: emp-secrets\n"
            ),
            extra_file: None,
            written_in: k,
            marker: "        value: ",
        },
        // A strategic-merge patch file.
        AddingPatch {
            kustomization_tail: "  - path: patch-extra.yaml\n".to_owned(),
            extra_file: Some((
                "k8s/overlays/paper/patch-extra.yaml",
                format!(
                    "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: emp-secrets\n  namespace: emp-paper\nspec:\n  encryptedData:\n    EXTRA: {value}\n"
                ),
            )),
            written_in: "k8s/overlays/paper/patch-extra.yaml",
            marker: "    EXTRA: ",
        },
        // The older `patchesJson6902:` field with an operations file.
        AddingPatch {
            kustomization_tail: "patchesJson6902:\n  - target:\n      group: bitnami.com\n      version: v1alpha1\n      kind: SealedSecret\n      name: emp-secrets\n    path: ops-extra.yaml\n".to_owned(),
            extra_file: Some((
                "k8s/overlays/paper/ops-extra.yaml",
                format!("- op: add\n  path: /spec/encryptedData/EXTRA\n  value: {value}\n"),
            )),
            written_in: "k8s/overlays/paper/ops-extra.yaml",
            marker: "  value: ",
        },
    ]
}

impl AddingPatch {
    /// Adds the patch to the tree; returns `file:line` of the line that writes the value.
    fn apply(&self, tree: &Tree) -> String {
        let k = "k8s/overlays/paper/kustomization.yaml";
        tree.write(k, format!("{}{}", tree.read(k), self.kustomization_tail));
        if let Some((rel, text)) = &self.extra_file {
            tree.write(rel, text);
        }
        let line = tree
            .read(self.written_in)
            .lines()
            .position(|l| l.starts_with(self.marker))
            .unwrap()
            + 1;
        format!("{}:{line}", self.written_in)
    }

    /// Takes the patch out of the tree again.
    fn remove(&self, tree: &Tree) {
        let k = "k8s/overlays/paper/kustomization.yaml";
        let text = tree.read(k).replace(&self.kustomization_tail, "");
        tree.write(k, text);
        if let Some((rel, _)) = &self.extra_file {
            std::fs::remove_file(tree.path(rel)).unwrap();
        }
    }
}

/// The `stale-certificate` findings of `check --release paper` at `at` (`file:line`), and the
/// exit code.
fn stale_at(tree: &Tree, at: &str) -> (i32, Vec<common::Hit>) {
    let (code, hits) = common::check_hits(tree.root(), &["--release", "paper"]);
    let found = hits
        .into_iter()
        .filter(|h| h.rule == "stale-certificate" && format!("{}:{}", h.path, h.line) == at)
        .collect();
    (code, found)
}

/// A patch of the overlay that ADDS a key the SealedSecret file does not hold (an inline JSON
/// 6902 op, a strategic-merge patch file, `patchesJson6902`), its value sealed with the old
/// certificate A. `reseal` re-encrypted only the file's keys, exited 0 and recorded B's
/// fingerprint; `check --release` then passed, though the rendered `EXTRA` opens only with A's
/// key (the Python peer on kubectl's render). `seal` wrote the file too. Now both refuse, naming
/// the key and the patch's line, the file unchanged; and `check --release` reports the patched
/// value (`stale-certificate`, at the patch), also once the file itself is resealed to B.
/// `unseal` and `diff` of the environment printed and compared the file's values, not the
/// rendered ones: they refuse the same way.
#[test]
fn a_key_an_overlay_patch_adds_is_refused_by_seal_and_reseal_and_not_certified_by_check() {
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let plaintext = format!("{SENTINEL}-extra");
    let value = sealed_with_a_by_peer(&mut peer, plaintext.as_bytes());
    for patch in adding_patches(&value) {
        let r = rotated();
        let tree = &r.tree;
        let env = r.outside.path().join("secrets.env");
        let at = patch.apply(tree);

        // The oracle: kubectl renders EXTRA with the patch's value; only A's key opens it.
        if let (Some(with_a), Some(with_b)) =
            (open_rendered(tree, &key_a()), open_rendered(tree, &key_b()))
        {
            assert_eq!(with_a["EXTRA"].as_deref(), Ok(plaintext.as_bytes()), "{at}");
            assert!(with_b["EXTRA"].is_err(), "{at}");
        }

        let ss = tree.ss("paper");
        let key = key_a();
        let reseal = ["reseal", "paper", "--key", key.to_str().unwrap()];
        let want = ["`EXTRA`", "is added by the patch at", &at];
        refused_leaving(tree, &reseal, &ss, &want);
        let mut dry = reseal.to_vec();
        dry.push("--dry-run");
        refused_leaving(tree, &dry, &ss, &want);
        let seal = ["paper", "--from", env.to_str().unwrap()];
        refused_leaving(tree, &seal, &ss, &want);
        // unseal and diff would read the file's values, which are not all the render holds.
        let unseal = [
            "unseal",
            "paper",
            "--key",
            key.to_str().unwrap(),
            "--format",
            "env",
        ];
        let diff = [
            "diff",
            "paper",
            "--from",
            env.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ];
        for read in [&unseal[..], &diff[..]] {
            let line = refused_leaving(tree, read, &ss, &want);
            assert!(line.contains("nothing is decrypted"), "{line}");
        }

        let (code, stale) = stale_at(tree, &at);
        assert_eq!(code, 1);
        assert_eq!(stale.len(), 1, "{at}: {stale:?}");
        assert_eq!(stale[0].severity, "error", "{at}");
        assert!(stale[0].message.contains("`EXTRA`"), "{}", stale[0].message);

        // The probe's order: the file resealed to B without the patch, then the patch back.
        // The file's record is now true, and still does not vouch for the patch's value.
        patch.remove(tree);
        ok(&tree.run(&reseal));
        patch.apply(tree);
        let (code, stale) = stale_at(tree, &at);
        assert_eq!((code, stale.len()), (1, 1), "{at}: {stale:?}");
        let (_, hits) = common::check_hits(tree.root(), &["--release", "paper"]);
        let file_stale = hits.iter().filter(|h| {
            h.rule == "stale-certificate" && h.path == "k8s/overlays/paper/sealedsecret.yaml"
        });
        assert_eq!(file_stale.count(), 0, "the file's record is B's: {hits:?}");
        if let Some(with_b) = open_rendered(tree, &key_b()) {
            for k in ["API_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"] {
                assert_eq!(with_b[k].as_deref(), Ok(&env_values()[k][..]), "{k}");
            }
            assert!(with_b["EXTRA"].is_err(), "{at}");
        }
    }
}

/// The overlay gained `namePrefix: p-` after the seal: the render is `emp-paper/p-emp-secrets`,
/// the values were sealed for `emp-paper/emp-secrets`. `reseal` blamed the keys ("no given key
/// opens 3 value(s)"), though the key given is the one that sealed them; `seal` named the real
/// cause. Now `reseal` refuses as `seal` does, naming the template's name; and where the file
/// does not name its template (nothing to compare), the values that open under the file's own
/// identity are the evidence it names. The peer confirms A's key opens the rendered values only
/// under the file's identity.
#[test]
fn reseal_names_the_identity_the_overlay_changed_not_the_keys() {
    let r = rotated();
    let tree = &r.tree;
    let k = "k8s/overlays/paper/kustomization.yaml";
    tree.write(k, format!("{}namePrefix: p-\n", tree.read(k)));
    if let Some(rendered) = render(tree, "paper")
        && let Some(mut peer) = Peer::start()
    {
        assert_eq!(rendered.name, "p-emp-secrets");
        let a = std::fs::read_to_string(key_a()).unwrap();
        let ct = common::unb64(&rendered.encrypted["API_KEY"]);
        assert!(peer.decrypt(&a, &rendered.label(), &ct).is_err());
        let opened = peer.decrypt(&a, b"emp-paper/emp-secrets", &ct).unwrap();
        assert_eq!(opened, env_values()["API_KEY"]);
    }
    let ss = tree.ss("paper");
    let key = key_a();
    let reseal = ["reseal", "paper", "--key", key.to_str().unwrap()];
    let template_name = tree
        .read("k8s/overlays/paper/sealedsecret.yaml")
        .lines()
        .position(|l| l == "      name: emp-secrets")
        .unwrap()
        + 1;
    let at = format!("k8s/overlays/paper/sealedsecret.yaml:{template_name}");
    let want = [
        at.as_str(),
        "spec.template.metadata.name is `emp-secrets`",
        "`p-emp-secrets`",
    ];
    let line = refused_leaving(tree, &reseal, &ss, &want);
    assert!(!line.contains("no given key opens"), "{line}");

    // A template that does not name the Secret: the decryption is the evidence.
    let text = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    tree.write(
        "k8s/overlays/paper/sealedsecret.yaml",
        text.replacen("      name: emp-secrets\n", "", 1),
    );
    let want = [
        "k8s/overlays/paper/sealedsecret.yaml: ",
        "`API_KEY` (line",
        "`POSTGRES_PASSWORD` (line",
        "`REDIS_PASSWORD` (line",
        "open(s) under `strict emp-paper/emp-secrets`",
        "renders the SealedSecret as `strict emp-paper/p-emp-secrets`",
    ];
    for skip in [&[][..], &["--skip-unopened"]] {
        let mut args = reseal.to_vec();
        args.extend_from_slice(skip);
        let line = refused_leaving(tree, &args, &ss, &want);
        assert!(!line.contains("no given key opens"), "{line}");
    }

    // No `metadata.namespace` in the file either: the file's name in the rendered namespace is
    // what the values open under (reseal said only "no given key opens").
    let text = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    let no_ns = text.replacen("\n  namespace: emp-paper\n", "\n", 1);
    assert_ne!(no_ns, text);
    tree.write("k8s/overlays/paper/sealedsecret.yaml", no_ns);
    if let Some(rendered) = render(tree, "paper") {
        assert_eq!(rendered.namespace.as_deref(), Some("emp-paper"));
    }
    let want = [
        "`API_KEY` (line",
        "open(s) under `strict emp-paper/emp-secrets` (the file's own name in the rendered namespace)",
        "renders the SealedSecret as `strict emp-paper/p-emp-secrets`",
    ];
    let line = refused_leaving(tree, &reseal, &ss, &want);
    assert!(!line.contains("no given key opens"), "{line}");
}
