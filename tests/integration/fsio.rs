//! The atomic writer under faults: modes, symlinks, directories, read-only directories, a full
//! disk, and SIGKILL at random points of many rewrites.
#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Stdio};

use emp_seal::fsio::{FsError, atomic_write, read_to_string_limited};

use crate::common;
use emp_seal::sealedsecret::SealedSecretFile;

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn mode_survives_and_new_file_is_created() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("sealedsecret.yaml");
    atomic_write(&p, b"one\n").unwrap();
    for mode in [0o640, 0o664, 0o600] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        atomic_write(&p, b"two\n").unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o7777, mode);
        assert_eq!(read_to_string_limited(&p, 100).unwrap(), "two\n");
    }
    assert!(leftovers(d.path()).is_empty());
}

#[test]
fn symlink_target_is_replaced_and_link_kept() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("real")).unwrap();
    let target = d.path().join("real/sealedsecret.yaml");
    atomic_write(&target, b"old\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = d.path().join("link.yaml");
    symlink("real/sealedsecret.yaml", &link).unwrap();
    atomic_write(&link, b"new\n").unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
    assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o7777, 0o640);
    assert!(leftovers(d.path()).is_empty() && leftovers(&d.path().join("real")).is_empty());

    let dangling = d.path().join("dangling.yaml");
    symlink("nowhere.yaml", &dangling).unwrap();
    let e = atomic_write(&dangling, b"x").unwrap_err();
    assert!(matches!(e, FsError::DanglingSymlink { .. }), "{e}");
    assert!(!d.path().join("nowhere.yaml").exists());
    assert!(e.to_string().contains("dangling.yaml"));
}

#[test]
fn directory_target_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let e = atomic_write(d.path(), b"x").unwrap_err();
    assert!(matches!(e, FsError::IsADirectory { .. }), "{e}");
}

/// Root ignores directory permission bits, so as root the directory is made immutable with
/// `chattr +i` (works on ext4/xfs/btrfs; not on tmpfs or overlayfs); otherwise mode 0555.
#[test]
fn read_only_directory_is_a_clear_error_and_file_is_untouched() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    let p = dir.join("sealedsecret.yaml");
    atomic_write(&p, b"old\n").unwrap();
    let root = common::is_root();
    if root {
        let ok = Command::new("chattr").arg("+i").arg(&dir).status();
        if !ok.is_ok_and(|s| s.success()) {
            crate::common::missing("chattr +i on the temp filesystem (needed to test as root)");
            return;
        }
    } else {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let r = atomic_write(&p, b"new\n");
    if root {
        Command::new("chattr").arg("-i").arg(&dir).status().unwrap();
    } else {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let e = r.unwrap_err();
    assert!(matches!(e, FsError::ReadOnlyDirectory { .. }), "{e}");
    assert!(e.to_string().contains("ro"));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "old\n");
    assert!(leftovers(&dir).is_empty());
}

/// A full disk: a 64 KiB tmpfs (needs root and mount; skipped with a note otherwise, since
/// that is a capability of the machine, not a missing component).
#[test]
fn full_disk_leaves_the_old_file() {
    let Some(disk) = common::SmallTmpfs::mount("64k") else {
        return;
    };
    let mnt = disk.path().to_path_buf();
    let p = mnt.join("sealedsecret.yaml");
    atomic_write(&p, &vec![b'a'; 20_000]).unwrap();
    let e = atomic_write(&p, &vec![b'b'; 200_000]).unwrap_err();
    assert!(matches!(e, FsError::NoSpace { .. }), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), vec![b'a'; 20_000]);
    assert!(leftovers(&mnt).is_empty());
}

const WRITER_ENV: &str = "EMP_SEAL_TEST_WRITER_TARGET";

fn content(variant: u8) -> String {
    let mut s = String::from(
        "# kill test\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\n  namespace: ns\nspec:\n  encryptedData:\n",
    );
    let n = if variant == 0 { 400 } else { 700 };
    for i in 0..n {
        s.push_str(&format!("    KEY_{i}: AgB{variant}{}\n", "Q".repeat(300)));
    }
    s
}

/// Child side of `sigkill_during_rewrites_leaves_old_or_new`: rewrites the file forever.
#[test]
#[ignore = "child process of fsio::sigkill_during_rewrites_leaves_old_or_new"]
fn writer_child() {
    let Some(target) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let target = std::path::PathBuf::from(target);
    let (a, b) = (content(0), content(1));
    let mut i = 0u64;
    loop {
        atomic_write(
            &target,
            if i.is_multiple_of(2) {
                b.as_bytes()
            } else {
                a.as_bytes()
            },
        )
        .unwrap();
        if i == 0 {
            println!("ready");
        }
        i += 1;
    }
}

#[test]
fn sigkill_during_rewrites_leaves_old_or_new() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("sealedsecret.yaml");
    let (a, b) = (content(0), content(1));
    atomic_write(&p, a.as_bytes()).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut saw = [false, false];
    for _ in 0..50 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "fsio::writer_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_ENV, &p)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("ready") {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "writer child died");
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(std::time::Duration::from_micros(seed % 20_000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let now = read_to_string_limited(&p, 1 << 20).unwrap();
        assert!(now == a || now == b, "torn file of {} bytes", now.len());
        saw[usize::from(now == b)] = true;
        SealedSecretFile::parse(&now).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o7777, 0o640);
    }
    assert!(saw[0] && saw[1], "kills landed on both contents");
    // SIGKILL leaves no chance to clean up: stray temp files may remain, never the target.
    eprintln!(
        "temp files left by 50 SIGKILLs: {}",
        leftovers(d.path()).len()
    );
}
