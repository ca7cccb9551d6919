//! Issue 17 item 6, no lost update, through the real binary: concurrent `seal --only K_i` runs on
//! one overlay each keep their key; a run that cannot get the lock in time exits 2 ("file is
//! busy") and writes nothing; a killed (SIGKILL) holder does not block the next run.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::seal_support::*;

const KEYS: usize = 8;

fn env_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("many.env");
    let text: String = (1..=KEYS)
        .map(|i| format!("K_{i}={SENTINEL}-{i}\n"))
        .collect();
    write_file(&p, text.as_bytes());
    p
}

fn spawn_seal(tree: &Tree, from: &Path, key: &str, extra_env: &[(&str, &str)]) -> Child {
    let mut c = emp_seal_cmd();
    c.arg("-C")
        .arg(tree.root())
        .args(["seal", "paper", "--from"])
        .arg(from)
        .args(["--only", key])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Whether some process holds an exclusive flock on `dir` (probed without blocking).
fn dir_locked(dir: &Path) -> bool {
    let f = std::fs::File::open(dir).unwrap();
    match rustix::fs::flock(
        f.as_fd(),
        rustix::fs::FlockOperation::NonBlockingLockExclusive,
    ) {
        Ok(()) => false,
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => true,
        Err(e) => panic!("flock probe: {e}"),
    }
}

#[test]
fn issue_17_concurrent_seals_lose_no_key() {
    let tree = Tree::new();
    let outside = tempfile::tempdir().unwrap();
    let from = env_file(outside.path());
    let original = std::fs::read_to_string(tree.ss("paper")).unwrap();
    let keys = emp_seal::keys::load_private_keys(demo_key().as_bytes(), "demo").unwrap();
    let label = emp_seal::crypto::Scope::Strict.label("emp-paper", "emp-secrets");
    let rounds = 12;
    let mut succeeded = 0;
    for round in 0..rounds {
        write_file(&tree.ss("paper"), original.as_bytes());
        let children: Vec<(String, Child)> = (1..=KEYS)
            .map(|i| {
                let k = format!("K_{i}");
                let c = spawn_seal(&tree, &from, &k, &[]);
                (k, c)
            })
            .collect();
        let mut ok_keys = Vec::new();
        for (k, c) in children {
            let out = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!err.contains(SENTINEL), "{err}");
            if out.status.success() {
                ok_keys.push(k);
            } else {
                // Only a busy lock may fail a run here, and it must say so.
                assert!(err.contains("file is busy"), "round {round}: {k}: {err}");
            }
        }
        let text = std::fs::read_to_string(tree.ss("paper")).unwrap();
        let v = values(&text);
        for k in &ok_keys {
            let ct = v
                .get(k)
                .unwrap_or_else(|| panic!("round {round}: {k} exited 0 but is not in the file"));
            let i: usize = k.trim_start_matches("K_").parse().unwrap();
            let opened = emp_seal::crypto::unseal_base64(&keys, &label, ct).unwrap();
            assert_eq!(opened.expose_secret(), format!("{SENTINEL}-{i}").as_bytes());
        }
        succeeded += ok_keys.len();
    }
    eprintln!(
        "concurrent seals: {succeeded} of {} runs exited 0, every one kept",
        rounds * KEYS
    );
    assert!(succeeded > 0, "no run ever succeeded");
}

/// A wait that is no whole number of seconds (`abc`, empty, `-1`) is refused before anything
/// is written; it used to fall back to the default in silence.
#[test]
fn a_lock_wait_that_is_no_number_is_refused() {
    let tree = Tree::new();
    let outside = tempfile::tempdir().unwrap();
    let from = env_file(outside.path());
    let before = std::fs::read_to_string(tree.ss("paper")).unwrap();
    for bad in ["abc", "", "-1", "1.5"] {
        let out = spawn_seal(&tree, &from, "K_1", &[("EMP_SEAL_LOCK_WAIT", bad)])
            .wait_with_output()
            .unwrap();
        let line = fails_cleanly(&out);
        assert!(
            line.contains("EMP_SEAL_LOCK_WAIT is not a whole number"),
            "{bad:?}: {line}"
        );
        assert_eq!(std::fs::read_to_string(tree.ss("paper")).unwrap(), before);
    }
    // One too large for the clock is no deadline: the free lock is taken (it panicked).
    let huge = [("EMP_SEAL_LOCK_WAIT", "18446744073709551615")];
    let out = spawn_seal(&tree, &from, "K_1", &huge)
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn issue_17_busy_lock_exits_2_and_writes_nothing() {
    let tree = Tree::new();
    let outside = tempfile::tempdir().unwrap();
    let from = env_file(outside.path());
    let before = std::fs::read_to_string(tree.ss("paper")).unwrap();
    // Hold the overlay directory's lock from this process.
    let dir = std::fs::File::open(tree.overlay("paper")).unwrap();
    rustix::fs::flock(dir.as_fd(), rustix::fs::FlockOperation::LockExclusive).unwrap();
    let t0 = Instant::now();
    let out = spawn_seal(&tree, &from, "K_1", &[("EMP_SEAL_LOCK_WAIT", "1")])
        .wait_with_output()
        .unwrap();
    let line = fails_cleanly(&out);
    assert!(line.contains("file is busy"), "{line}");
    assert!(line.contains("sealedsecret.yaml"), "{line}");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "the wait is bounded"
    );
    assert_eq!(std::fs::read_to_string(tree.ss("paper")).unwrap(), before);
    drop(dir);
    // Released: the same run succeeds.
    let out = spawn_seal(&tree, &from, "K_1", &[])
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real emp-seal holding the lock (kept there by the debug-build-only
/// `EMP_SEAL_TEST_HOLD_LOCK_MS`) is killed with SIGKILL; the next run takes the lock at once, and no file
/// is left behind that could block anyone.
#[test]
fn issue_17_sigkilled_holder_does_not_block() {
    let tree = Tree::new();
    let outside = tempfile::tempdir().unwrap();
    let from = env_file(outside.path());
    let overlay = tree.overlay("paper");
    let listing = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let files_before = listing(&overlay);
    for round in 0..3 {
        let mut holder = spawn_seal(
            &tree,
            &from,
            "K_1",
            &[("EMP_SEAL_TEST_HOLD_LOCK_MS", "60000")],
        );
        let t0 = Instant::now();
        while !dir_locked(&overlay) {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "round {round}: the holder never took the lock"
            );
            assert!(holder.try_wait().unwrap().is_none(), "holder exited early");
            std::thread::sleep(Duration::from_millis(5));
        }
        holder.kill().unwrap(); // SIGKILL
        holder.wait().unwrap();
        assert!(
            !dir_locked(&overlay),
            "round {round}: the lock outlived its holder"
        );
        assert_eq!(
            listing(&overlay),
            files_before,
            "round {round}: a file was left behind"
        );
        let t0 = Instant::now();
        let out = spawn_seal(&tree, &from, "K_2", &[("EMP_SEAL_LOCK_WAIT", "2")])
            .wait_with_output()
            .unwrap();
        assert!(
            out.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "round {round}: waited for a dead holder"
        );
    }
}

/// Every writer (`seal`, `reseal`, `seal --migrate`, `cert --fetch`, `init`) waits for the
/// directory lock, then exits 2 with `file is busy` and changes nothing.
#[test]
fn issue_17_every_writer_respects_the_lock() {
    let tree = Tree::new();
    let outside = tempfile::tempdir().unwrap();
    let from = env_file(outside.path());
    let from = from.to_str().unwrap();
    let key = common::repo_root().join("tests/fixtures/demo/paper-sealing-key.pem");
    let cert = common::repo_root().join("tests/fixtures/certs/rsa-4096-cert.pem");
    // prod can be migrated: it has a generator; give it a certificate and its env file.
    std::fs::copy(&cert, tree.overlay("prod").join("sealing-cert.pem")).unwrap();
    tree.write(
        "k8s/overlays/prod/prod-secrets.env",
        std::fs::read(tree.overlay("prod").join("prod-secrets.env.example")).unwrap(),
    );
    // paper holds one real ciphertext, so reseal has something to open (its placeholders are
    // skipped).
    ok(&tree.run(&["seal", "paper", "--from", from, "--only", "K_1"]));
    let cert_url = format!("file://{}", cert.display());
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "paper",
            vec!["seal", "paper", "--from", from, "--only", "K_2"],
        ),
        (
            "paper",
            vec![
                "reseal",
                "paper",
                "--key",
                key.to_str().unwrap(),
                "--skip-unopened",
            ],
        ),
        ("paper", vec!["cert", "paper", "--fetch", &cert_url]),
        (
            "prod",
            vec![
                "seal",
                "prod",
                "--from",
                "prod-secrets.env",
                "--migrate",
                "--no-input",
            ],
        ),
        ("dev", vec!["init", "dev", "--no-input"]),
    ];
    let snapshot = |t: &Tree| {
        let mut v = Vec::new();
        for env in ["dev", "paper", "prod"] {
            let mut files: Vec<_> = std::fs::read_dir(t.overlay(env))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for f in files {
                v.push((f.clone(), std::fs::read(&f).unwrap()));
            }
        }
        v
    };
    for (env, args) in &cases {
        let before = snapshot(&tree);
        let dir = std::fs::File::open(tree.overlay(env)).unwrap();
        rustix::fs::flock(dir.as_fd(), rustix::fs::FlockOperation::LockExclusive).unwrap();
        let mut c = emp_seal_cmd();
        c.arg("-C")
            .arg(tree.root())
            .arg("-q")
            .args(args)
            .env("EMP_SEAL_LOCK_WAIT", "1");
        let out = c.output().unwrap();
        let line = fails_cleanly(&out);
        assert!(line.contains("file is busy"), "{args:?}: {line}");
        assert!(snapshot(&tree) == before, "{args:?} changed a file");
        drop(dir);
        // Unlocked, the same command succeeds.
        let mut c = emp_seal_cmd();
        c.arg("-C").arg(tree.root()).args(args);
        let out = c.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
}

/// Runs that write several files lock their directories in one fixed (sorted) order: concurrent
/// `seal paper paper2` and `seal paper2 paper` runs never deadlock. With a 60-second lock wait, a
/// deadlock would end in `file is busy`; every run must instead exit 0, and every key must be in
/// both files after each round.
#[test]
fn issue_17_multi_env_runs_in_opposite_orders_do_not_deadlock() {
    let tree = Tree::new();
    tree.clone_overlay("paper", "paper2");
    let outside = tempfile::tempdir().unwrap();
    let from = env_file(outside.path());
    let originals: Vec<String> = ["paper", "paper2"]
        .iter()
        .map(|e| std::fs::read_to_string(tree.ss(e)).unwrap())
        .collect();
    let keys = emp_seal::keys::load_private_keys(demo_key().as_bytes(), "demo").unwrap();
    let label = emp_seal::crypto::Scope::Strict.label("emp-paper", "emp-secrets");
    for round in 0..4 {
        for (env, text) in ["paper", "paper2"].iter().zip(&originals) {
            write_file(&tree.ss(env), text.as_bytes());
        }
        let children: Vec<(String, Child)> = (1..=KEYS)
            .map(|i| {
                let k = format!("K_{i}");
                let envs = if i % 2 == 0 {
                    ["paper", "paper2"]
                } else {
                    ["paper2", "paper"]
                };
                let mut c = emp_seal_cmd();
                c.arg("-C")
                    .arg(tree.root())
                    .arg("seal")
                    .args(envs)
                    .arg("--from")
                    .arg(&from)
                    .args(["--only", &k])
                    .env("EMP_SEAL_LOCK_WAIT", "60")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped());
                (k, c.spawn().unwrap())
            })
            .collect();
        for (k, c) in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {k}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for env in ["paper", "paper2"] {
            let v = values(&std::fs::read_to_string(tree.ss(env)).unwrap());
            for i in 1..=KEYS {
                let ct = v
                    .get(&format!("K_{i}"))
                    .unwrap_or_else(|| panic!("round {round}: {env} lost K_{i}"));
                let opened = emp_seal::crypto::unseal_base64(&keys, &label, ct).unwrap();
                assert_eq!(opened.expose_secret(), format!("{SENTINEL}-{i}").as_bytes());
            }
        }
    }
}
