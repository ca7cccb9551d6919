//! Crash safety through the real binary: SIGKILL at random points of every command that writes
//! (seal, seal --prune, migrate, init, cert --fetch), and a full disk (a small tmpfs, as root).
//!
//! The tree is restored before every kill. After it, the command's target is classified: old
//! (byte-identical to before, or still absent), new (equal to an uninterrupted run's output, or,
//! for files holding fresh ciphertext, parsing and decrypting to the env file's values) or torn,
//! which fails the test; every command must show both old and new. No input file ever changes.
//! Stray `.*.emp-seal-*.tmp` files may remain after SIGKILL (nothing can clean up after it);
//! they are counted, never the target.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the report

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use emp_seal::sealedsecret::SealedSecretFile;

use crate::badinput::{SENTINELS, STUB, Sandbox};
use crate::common;
use crate::fixtures;

const PAPER_SS: &str = "k8s/overlays/paper/sealedsecret.yaml";

fn stray_temp_files(dir: &Path, n: &mut usize) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            stray_temp_files(&p, n);
        } else if p.to_string_lossy().contains(".emp-seal-") {
            *n += 1;
        }
    }
}

/// A sealed file is complete: it parses, and every value decrypts (demo key, OAEP `label`) to the
/// value the env file gives that key.
fn sealed_and_complete(text: &str, label: &[u8], expected: &[(&str, &str)]) -> Result<(), String> {
    let file = SealedSecretFile::parse(text).map_err(|e| format!("does not parse: {e}"))?;
    let (_, doc) = file.sealed_secrets().next().ok_or("no SealedSecret")?;
    let keys = emp_seal::keys::load_private_keys(fixtures::demo_key_pem().as_bytes(), "demo")
        .map_err(|e| e.to_string())?;
    let got: Vec<&str> = doc.encrypted_data.iter().map(|e| e.key.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(k, _)| *k).collect();
    if got.iter().collect::<std::collections::BTreeSet<_>>()
        != want.iter().collect::<std::collections::BTreeSet<_>>()
    {
        return Err(format!("keys {got:?}, want {want:?}"));
    }
    for e in &doc.encrypted_data {
        let v = emp_seal::crypto::unseal_base64(&keys, label, &e.value)
            .map_err(|err| format!("{}: {err}", e.key))?;
        let want = expected.iter().find(|(k, _)| *k == e.key).map(|(_, v)| *v);
        if Some(v.expose_secret()) != want.map(str::as_bytes) {
            return Err(format!("{} decrypts to another value", e.key));
        }
    }
    Ok(())
}

/// What a kill left in the target file.
#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Byte-identical to the state before the command (absent, if it was absent).
    Old,
    /// A complete new version.
    New,
    /// Anything else: the failure this harness exists to catch.
    Torn(String),
}

/// How a complete new target is recognised.
enum NewIs<'a> {
    /// Byte-equal to an uninterrupted run's output (commands whose output is deterministic).
    Uninterrupted,
    /// Accepted by the check (files holding fresh ciphertext, which differs on every run).
    Check(&'a dyn Fn(&str) -> Result<(), String>),
}

/// A file written beside the target, judged after every kill by `check(content, target is new)`.
type Companion<'a> = (
    &'a str,
    &'a dyn Fn(Option<&str>, bool) -> Result<(), String>,
);

/// Tallies of a kill loop.
struct Kills {
    rounds: u32,
    old: usize,
    new: usize,
    stray: usize,
}

/// The contents of every file under `dir`.
fn files_under(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
}

/// Puts the sandbox back to `snap`: files the run created go (stray temp files included), files
/// it changed get their old bytes back. Written directly, not through `fsio` (the code under
/// test).
#[allow(clippy::disallowed_methods)]
fn restore(root: &Path, snap: &BTreeMap<PathBuf, Vec<u8>>) {
    let mut now = BTreeMap::new();
    files_under(root, &mut now);
    for (p, bytes) in &now {
        match snap.get(p) {
            None => std::fs::remove_file(p).unwrap(),
            Some(b) if b != bytes => std::fs::write(p, b).unwrap(),
            Some(_) => {}
        }
    }
    for (p, b) in snap {
        if !now.contains_key(p) {
            std::fs::write(p, b).unwrap();
        }
    }
}

/// Runs `args` to completion once, or kills it (SIGKILL) after `kill_after`.
fn run_once(s: &Sandbox, args: &[&str], kill_after: Option<Duration>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_emp-seal"))
        .args(args)
        .current_dir(&s.root)
        .env("CI", "true")
        .env("TMPDIR", &s.tmp)
        .env_remove("EMP_SEAL_REPO")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(d) = kill_after {
        std::thread::sleep(d);
        let _ = child.kill(); // SIGKILL; may already have exited
    }
    child.wait_with_output().unwrap()
}

/// Kills `args` at `rounds` points spread over twice an uninterrupted run's length, restoring
/// the whole tree before every round, and classifies `target` after each kill as old, new or
/// torn (a torn file fails the test). Inputs must never change. Returns the tallies, or `None`
/// when the command is a stub.
fn kill_loop(
    s: &Sandbox,
    args: &[&str],
    rounds: u32,
    target: &str,
    inputs: &[&str],
    new_is: &NewIs<'_>,
    companion: Option<Companion<'_>>,
) -> Option<Kills> {
    let mut snap = BTreeMap::new();
    files_under(&s.root, &mut snap);
    let original = snap.get(&s.path(target)).cloned();
    // Two uninterrupted runs: whether the command exists yet, its output, and how long a run
    // takes (the faster of the two: the first run pays for cold caches).
    let mut took = Duration::MAX;
    let mut reference = None;
    for _ in 0..2 {
        let t0 = Instant::now();
        let out = run_once(s, args, None);
        took = took.min(t0.elapsed());
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains(STUB) {
            return None;
        }
        assert!(out.status.success(), "{args:?}: {stderr}");
        reference = std::fs::read(s.path(target)).ok();
        restore(&s.root, &snap);
    }
    assert!(
        reference.is_some() && reference != original,
        "{args:?} must change {target}, or old and new cannot be told apart"
    );
    let classify = |after: &Option<Vec<u8>>| -> State {
        if *after == original {
            return State::Old;
        }
        let Some(bytes) = after else {
            return State::Torn("the file is gone".into());
        };
        let verdict = match new_is {
            NewIs::Uninterrupted => (after == &reference)
                .then_some(())
                .ok_or_else(|| "differs from an uninterrupted run's output".to_string()),
            NewIs::Check(check) => std::str::from_utf8(bytes)
                .map_err(|_| "not UTF-8".to_string())
                .and_then(check),
        };
        match verdict {
            Ok(()) => State::New,
            Err(e) => State::Torn(e),
        }
    };
    let mut kills = Kills {
        rounds: 0,
        old: 0,
        new: 0,
        stray: 0,
    };
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    // A loaded machine can stretch a run well past `took`: when the planned rounds saw only one
    // outcome, up to `rounds` more kill later and later (no new file yet) or earlier and
    // earlier (no old file yet) until both have been seen.
    let mut i = 0;
    while i < rounds || (i < 2 * rounds && (kills.old == 0 || kills.new == 0)) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let jitter = f64::from(u32::try_from(seed % 1000).unwrap()) / 1000.0;
        let delay = if i < rounds {
            // Round i kills at a random point of the i-th of `rounds` equal slices of
            // [0, 2 * took).
            took.mul_f64(2.0 * (f64::from(i) + jitter) / f64::from(rounds))
        } else if kills.new == 0 {
            took * (i - rounds + 2)
        } else {
            took.mul_f64(jitter) / (i - rounds + 2)
        };
        i += 1;
        let out = run_once(s, args, Some(delay));
        let after = std::fs::read(s.path(target)).ok();
        let state = classify(&after);
        let new_before = kills.new;
        match state {
            State::Old => kills.old += 1,
            State::New => kills.new += 1,
            State::Torn(e) => panic!(
                "{target} torn after a kill at {delay:?} (exit {:?}): {e}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&after.unwrap_or_default())
            ),
        }
        for p in inputs {
            assert_eq!(
                std::fs::read(s.path(p)).ok().as_ref(),
                snap.get(&s.path(p)),
                "input {p} changed"
            );
        }
        if let Some((path, check)) = companion {
            let text = std::fs::read(s.path(path)).ok();
            let text = text.as_deref().map(String::from_utf8_lossy);
            if let Err(e) = check(text.as_deref(), kills.new > new_before) {
                panic!("{path} torn after a kill at {delay:?}: {e}");
            }
        }
        stray_temp_files(&s.root, &mut kills.stray);
        restore(&s.root, &snap);
    }
    kills.rounds = i;
    Some(kills)
}

/// Both outcomes were seen: the kills landed before and after the write.
fn assert_both(what: &str, k: &Kills) {
    eprintln!(
        "{what}: {} kills: {} left the old file, {} the complete new one, {} stray temp files",
        k.rounds, k.old, k.new, k.stray
    );
    assert!(
        k.old > 0 && k.new > 0,
        "{what}: kills must land before and after the write ({} old, {} new)",
        k.old,
        k.new
    );
}

#[test]
fn sigkill_during_seal_leaves_old_or_complete_new() {
    let s = Sandbox::new();
    let expected = [
        ("POSTGRES_PASSWORD", SENTINELS[0]),
        ("REDIS_PASSWORD", SENTINELS[1]),
        ("API_KEY", SENTINELS[2]),
    ];
    let kills = kill_loop(
        &s,
        &["paper", "--from", "good.env"],
        40,
        PAPER_SS,
        &[
            "good.env",
            "k8s/overlays/paper/sealing-cert.pem",
            "k8s/overlays/paper/kustomization.yaml",
        ],
        &NewIs::Check(&|t| sealed_and_complete(t, b"emp-paper/emp-secrets", &expected)),
        None,
    )
    .expect("seal is implemented");
    assert_both("seal", &kills);
}

#[test]
fn sigkill_during_prune_leaves_old_or_complete_new() {
    let s = Sandbox::new();
    s.write(
        "two.env",
        format!(
            "POSTGRES_PASSWORD={}\nAPI_KEY={}\n",
            SENTINELS[0], SENTINELS[2]
        )
        .as_bytes(),
    );
    let expected = [
        ("POSTGRES_PASSWORD", SENTINELS[0]),
        ("API_KEY", SENTINELS[2]),
    ];
    // REDIS_PASSWORD is read by a workload, so --prune needs --force (issue 14 item 9).
    let kills = kill_loop(
        &s,
        &["paper", "--from", "two.env", "--prune", "--force"],
        30,
        PAPER_SS,
        &["two.env"],
        &NewIs::Check(&|t| sealed_and_complete(t, b"emp-paper/emp-secrets", &expected)),
        None,
    )
    .expect("seal --prune is implemented");
    assert_both("prune", &kills);
}

/// `init`, `cert --fetch` and `--migrate`: deterministic outputs, so a complete new file is
/// byte-equal to an uninterrupted run's. (While a command is a stub on a branch, it is reported
/// as pending instead.)
#[test]
fn sigkill_during_migrate_init_and_cert_fetch() {
    const ROUNDS: u32 = 20;
    // init: creates the env file from the example.
    let s = Sandbox::new();
    let init = kill_loop(
        &s,
        &["init", "prod", "--no-input"],
        ROUNDS,
        "k8s/overlays/prod/prod-secrets.env",
        &["k8s/overlays/prod/prod-secrets.env.example"],
        &NewIs::Uninterrupted,
        None,
    );
    report("init", init.as_ref());

    // cert --fetch from a file URL: replaces the overlay's certificate.
    let s = Sandbox::new();
    let src = s.path("fetched.pem");
    s.write("fetched.pem", fixtures::cert_pem(4096).as_bytes());
    let url = format!("file://{}", src.display());
    let cert = kill_loop(
        &s,
        &["cert", "paper", "--fetch", &url],
        ROUNDS,
        "k8s/overlays/paper/sealing-cert.pem",
        &["fetched.pem"],
        &NewIs::Uninterrupted,
        None,
    );
    report("cert --fetch", cert.as_ref());

    // migrate: rewrites kustomization.yaml after creating sealedsecret.yaml, which must be
    // complete whenever it exists, and exist once the kustomization lists it.
    let s = Sandbox::new();
    let expected = [
        ("POSTGRES_PASSWORD", SENTINELS[0]),
        ("REDIS_PASSWORD", SENTINELS[1]),
        ("API_KEY", SENTINELS[2]),
    ];
    let sealed = |text: Option<&str>, kustomization_is_new: bool| match text {
        None if kustomization_is_new => Err("missing, but the kustomization lists it".into()),
        None => Ok(()),
        Some(t) => sealed_and_complete(t, b"emp-prod/emp-secrets", &expected),
    };
    s.write(
        "k8s/overlays/prod/sealing-cert.pem",
        fixtures::demo_cert_pem().as_bytes(),
    );
    let migrate = kill_loop(
        &s,
        &["prod", "--from", "good.env", "--migrate", "--no-input"],
        ROUNDS,
        "k8s/overlays/prod/kustomization.yaml",
        &["good.env"],
        &NewIs::Uninterrupted,
        Some(("k8s/overlays/prod/sealedsecret.yaml", &sealed)),
    );
    report("migrate", migrate.as_ref());
}

fn report(what: &str, r: Option<&Kills>) {
    match r {
        None => eprintln!("PENDING: {what} is a stub on this build; the kill harness is ready"),
        Some(k) => assert_both(what, k),
    }
}

/// A full disk under `seal`: a small tmpfs holds the tree, then a filler takes every free byte.
/// The command must exit 2 naming the file and the full disk, leave the file as it was and no
/// temp file behind; with space again, the same command succeeds. Needs root to mount.
#[test]
fn full_disk_during_seal_is_a_clear_error() {
    use std::io::Write;
    let Some(disk) = common::SmallTmpfs::mount("2m") else {
        return;
    };
    let mnt = disk.path().to_path_buf();
    let s = Sandbox::new();
    let root = mnt.join("repo");
    let st = Command::new("cp")
        .arg("-a")
        .arg(&s.root)
        .arg(&root)
        .status()
        .unwrap();
    assert!(st.success());
    let ss = root.join(PAPER_SS);
    let before = std::fs::read(&ss).unwrap();
    // Take every free byte.
    let mut filler = std::fs::File::create(mnt.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    while filler.write_all(&block).is_ok() {}
    let _ = filler.write_all(&[0]);
    drop(filler);
    let run = || {
        assert_cmd::Command::new(env!("CARGO_BIN_EXE_emp-seal"))
            .args(["paper", "--from", "good.env"])
            .current_dir(&root)
            .env("CI", "true")
            .env("TMPDIR", &s.tmp)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // The demo-certificate note comes first; the error line names the file and the cause.
    let first = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or("");
    assert!(
        first.contains("sealedsecret.yaml") && first.contains("no space"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read(&ss).unwrap(),
        before,
        "file unchanged on a full disk"
    );
    let mut stray = 0;
    stray_temp_files(&root, &mut stray);
    assert_eq!(stray, 0, "no temp file left on a full disk");
    eprintln!("full disk: {first}");
    std::fs::remove_file(mnt.join("filler")).unwrap();
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(std::fs::read(&ss).unwrap(), before);
}
