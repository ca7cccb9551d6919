//! Issue 4, faults of the main job through the real binary: a read-only overlay directory, a
//! symlinked target (followed, link kept; dangling refused), and SIGKILL at random points of many
//! rewrites (the file is always the old or the new one, never torn).
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use crate::seal_support::*;

fn temp_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count()
}

/// Makes a directory unwritable for the current user until dropped. Root ignores permission
/// bits, so as root the directory is made immutable with `chattr +i` (ext4/xfs/btrfs; not
/// tmpfs/overlayfs); otherwise mode 0555. `None` (after `common::missing`) when impossible.
pub struct ReadOnlyDir {
    dir: PathBuf,
    root: bool,
}

impl ReadOnlyDir {
    pub fn new(dir: &Path) -> Option<ReadOnlyDir> {
        let root = common::is_root();
        if root {
            let ok = Command::new("chattr").arg("+i").arg(dir).status();
            if !ok.is_ok_and(|s| s.success()) {
                crate::common::missing("chattr +i on the temp filesystem (needed to test as root)");
                return None;
            }
        } else {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        Some(ReadOnlyDir {
            dir: dir.to_path_buf(),
            root,
        })
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        if self.root {
            let _ = Command::new("chattr").arg("-i").arg(&self.dir).status();
        } else {
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[test]
fn issue_4_read_only_directory_leaves_the_file_and_exits_2() {
    let tree = Tree::new();
    let env = tree.write("secrets.env", env_text());
    let before = std::fs::read(tree.ss("paper")).unwrap();
    let Some(guard) = ReadOnlyDir::new(&tree.overlay("paper")) else {
        return;
    };
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    drop(guard);
    let e = fails_cleanly(&out);
    no_secret(&out);
    assert!(e.contains("k8s/overlays/paper"), "{e}");
    assert!(e.contains("read-only or not writable"), "{e}");
    assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());
    assert_eq!(temp_files(&tree.overlay("paper")), 0);
}

/// A read-only `sealedsecret.yaml` (mode 0444) in a writable directory: the rename would replace
/// it, undoing the owner's choice, so the run is refused, as root too (by the mode bits), and
/// with two environments neither file is written.
#[test]
fn read_only_file_is_refused_and_no_file_is_written() {
    let tree = Tree::new();
    tree.clone_overlay("paper", "stage");
    let env = tree.write("secrets.env", env_text());
    let before = std::fs::read(tree.ss("paper")).unwrap();
    let before_stage = std::fs::read(tree.ss("stage")).unwrap();
    std::fs::set_permissions(tree.ss("stage"), std::fs::Permissions::from_mode(0o444)).unwrap();
    for envs in [&["stage"][..], &["paper", "stage"]] {
        let mut args = vec!["seal"];
        args.extend(envs);
        args.extend(["--from", env.to_str().unwrap()]);
        let out = tree.run(&args);
        let e = fails_cleanly(&out);
        no_secret(&out);
        assert!(
            e.contains("sealedsecret.yaml: the file is read-only (mode 0444)"),
            "{e}"
        );
        assert!(stderr(&out).contains("help: if it should change, make it writable"));
        assert_eq!(before, std::fs::read(tree.ss("paper")).unwrap());
        assert_eq!(before_stage, std::fs::read(tree.ss("stage")).unwrap());
        assert_eq!(mode(&tree.ss("stage")), 0o444);
    }
    std::fs::set_permissions(tree.ss("stage"), std::fs::Permissions::from_mode(0o644)).unwrap();
    ok(&tree.run(&["stage", "--from", env.to_str().unwrap()]));
    assert_decrypts(&tree, "stage", &env_values());

    // A run that would leave the read-only file as it is (every value kept, with the key that
    // opens them) writes nothing, and is no refusal.
    let sealed = std::fs::read(tree.ss("stage")).unwrap();
    std::fs::set_permissions(tree.ss("stage"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let key = tree.write("key.pem", demo_key());
    let args = [
        "stage",
        "--from",
        env.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    ok(&tree.run(&args));
    assert_eq!(sealed, std::fs::read(tree.ss("stage")).unwrap());
}

/// Documented in docs/sealing.md: a symlinked `sealedsecret.yaml` is followed; the file it
/// names is replaced (its mode kept) and the link stays a link.
#[test]
fn issue_4_symlinked_target_is_followed_and_the_link_kept() {
    let tree = Tree::new();
    let dir = tree.overlay("paper");
    std::fs::create_dir(dir.join("shared")).unwrap();
    let real = dir.join("shared/sealed.yaml");
    std::fs::rename(tree.ss("paper"), &real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink("shared/sealed.yaml", tree.ss("paper")).unwrap();
    let old = std::fs::read_to_string(&real).unwrap();
    let env = tree.write("secrets.env", env_text());
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    ok(&out);
    let link = std::fs::symlink_metadata(tree.ss("paper")).unwrap();
    assert!(link.file_type().is_symlink(), "the link is kept");
    assert_eq!(
        std::fs::read_link(tree.ss("paper")).unwrap(),
        PathBuf::from("shared/sealed.yaml")
    );
    let new = std::fs::read_to_string(&real).unwrap();
    assert_only_values_changed(&old, &new, &[], false);
    assert_eq!(mode(&real), 0o600);
    assert_eq!(temp_files(&dir), 0);
    assert_eq!(temp_files(&dir.join("shared")), 0);
    assert_decrypts(&tree, "paper", &env_values());
}

#[test]
fn issue_4_dangling_symlink_target_is_refused() {
    let tree = Tree::new();
    std::fs::remove_file(tree.ss("paper")).unwrap();
    symlink("gone.yaml", tree.ss("paper")).unwrap();
    let env = tree.write("secrets.env", env_text());
    let out = tree.run(&["paper", "--from", env.to_str().unwrap()]);
    let e = fails_cleanly(&out);
    assert!(e.contains("sealedsecret.yaml"), "{e}");
    assert_eq!(
        std::fs::read_link(tree.ss("paper")).unwrap(),
        PathBuf::from("gone.yaml")
    );
    assert!(!tree.overlay("paper").join("gone.yaml").exists());
}

/// SIGKILL the real binary at random points while it seals 100 keys, many times over: each time
/// the file is byte-identical to what it was, or a complete rewrite (only values and records
/// differ, every value a full RSA-4096 ciphertext), and it parses; the mode never changes.
#[test]
fn issue_4_sigkill_during_rewrites_never_tears_the_file() {
    let tree = Tree::new();
    let mut env = env_text();
    for i in 0..100 {
        env.push_str(&format!("KEY_{i:03}={SENTINEL}-{i}\n"));
    }
    let env = tree.write("secrets.env", env);
    let target = tree.ss("paper");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let args = ["-C", tree.root().to_str().unwrap(), "-q", "paper", "--from"];
    // Warm-up run so every later old file already has all 103 keys; also gives the duration.
    let t0 = std::time::Instant::now();
    let out = emp_seal_cmd().args(args).arg(&env).output().unwrap();
    ok(&out);
    let full = u64::try_from(t0.elapsed().as_micros()).unwrap().max(1_000);
    // Kill delays are drawn from [0, max); `max` grows by 10% after every kill that landed before
    // the rename and shrinks by 10% after every run that finished first, so it settles around the
    // run's length (kills near the write) whatever the machine's speed.
    let mut max = full;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut olds, mut news, mut finished) = (0, 0, 0);
    for _ in 0..40 {
        let old = std::fs::read_to_string(&target).unwrap();
        let mut child = emp_seal_cmd()
            .args(args)
            .arg(&env)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(std::time::Duration::from_micros(seed % max));
        let exited = child.try_wait().unwrap();
        if let Some(status) = exited {
            assert!(status.success(), "an uninterrupted run succeeds");
            finished += 1;
            max -= max / 10;
        } else {
            let _ = child.kill(); // SIGKILL
            child.wait().unwrap();
        }
        let now = std::fs::read_to_string(&target).unwrap();
        emp_seal::sealedsecret::SealedSecretFile::parse(&now).unwrap();
        assert_eq!(mode(&target), 0o640);
        if now == old {
            assert!(exited.is_none(), "a finished run rewrote the file");
            olds += 1;
            max += max / 10;
            continue;
        }
        news += 1;
        assert_only_values_changed(&old, &now, &[], false);
        let (ov, nv) = (values(&old), values(&now));
        assert_eq!(nv.len(), 103);
        for (k, v) in &nv {
            assert_ne!(Some(v), ov.get(k), "{k} resealed");
            assert!(v.starts_with("Ag") && v.len() >= 708, "{k} is a full value");
        }
    }
    assert!(
        olds > 0 && news > 0,
        "kills landed before and after the rename"
    );
    eprintln!(
        "sigkill x40: {olds} old, {news} new ({finished} finished first), {} stray temp files",
        temp_files(&tree.overlay("paper"))
    );
    let mut want = env_values();
    want.insert("KEY_042".into(), format!("{SENTINEL}-42").into_bytes());
    assert_decrypts(&tree, "paper", &want);
}
