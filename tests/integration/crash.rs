//! Crash safety through the real binary: SIGKILL at random points of every command that writes
//! (seal, seal --prune; and migrate, init, cert --fetch, which run the same harness and count as
//! pending while they are stubs on this branch), and a full disk (a small tmpfs, as root).
//!
//! After every kill, each file the command writes is either byte-identical to before, or a
//! complete new version: equal to an uninterrupted run's output, or (for files holding fresh
//! ciphertext) parsing and decrypting to the env file's values. No input file ever changes.
//! Stray `.*.emp-seal-*.tmp` files may remain after SIGKILL (nothing can clean up after it);
//! they are counted, never the target.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the report

use std::path::Path;
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

/// A sealed paper file is complete: it parses, and every value decrypts (demo key) to the value
/// the env file gives that key.
fn sealed_and_complete(text: &str, expected: &[(&str, &str)]) -> Result<(), String> {
    let file = SealedSecretFile::parse(text).map_err(|e| format!("does not parse: {e}"))?;
    let (_, doc) = file.sealed_secrets().next().ok_or("no SealedSecret")?;
    let keys = emp_seal::keys::load_private_keys(fixtures::demo_key_pem().as_bytes(), "demo")
        .map_err(|e| e.to_string())?;
    let label = emp_seal::crypto::Scope::Strict.label("emp-paper", "emp-secrets");
    let got: Vec<&str> = doc.encrypted_data.iter().map(|e| e.key.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(k, _)| *k).collect();
    if got.iter().collect::<std::collections::BTreeSet<_>>()
        != want.iter().collect::<std::collections::BTreeSet<_>>()
    {
        return Err(format!("keys {got:?}, want {want:?}"));
    }
    for e in &doc.encrypted_data {
        let v = emp_seal::crypto::unseal_base64(&keys, &label, &e.value)
            .map_err(|err| format!("{}: {err}", e.key))?;
        let want = expected.iter().find(|(k, _)| *k == e.key).map(|(_, v)| *v);
        if Some(v.expose_secret()) != want.map(str::as_bytes) {
            return Err(format!("{} decrypts to another value", e.key));
        }
    }
    Ok(())
}

/// Kills `args` at random points `rounds` times; `check(before, after)` judges the target.
/// Returns (kept old, got new, stray temp files), or `None` when the command is a stub.
fn kill_loop(
    s: &Sandbox,
    args: &[&str],
    rounds: usize,
    target: &str,
    inputs: &[&str],
    created: &[&str],
    check: &dyn Fn(&str) -> Result<(), String>,
) -> Option<(usize, usize, usize)> {
    let bin = env!("CARGO_BIN_EXE_emp-seal");
    let run = |kill_after: Option<Duration>| {
        let mut child = Command::new(bin)
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
    };
    // One uninterrupted run on a copy of the state tells how long a run takes (the kill points
    // are spread over it) and whether the command exists yet.
    let original = std::fs::read(s.path(target)).ok();
    let inputs_before: Vec<Vec<u8>> = inputs
        .iter()
        .map(|p| std::fs::read(s.path(p)).unwrap())
        .collect();
    let t0 = Instant::now();
    let first = run(None);
    let took = t0.elapsed();
    let stderr = String::from_utf8_lossy(&first.stderr);
    if stderr.contains(STUB) {
        return None;
    }
    assert!(first.status.success(), "{args:?}: {stderr}");
    let reset = || {
        if let Some(o) = &original {
            s.write(target, o);
        }
        // Files the command creates beside the target go too, so every round starts afresh.
        for c in created {
            let _ = std::fs::remove_file(s.path(c));
        }
    };
    reset();
    let (mut old, mut new) = (0, 0);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..rounds {
        let before = std::fs::read(s.path(target)).ok();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let micros = u64::try_from(took.as_micros())
            .unwrap_or(u64::MAX)
            .max(1000);
        let delay = Duration::from_micros(seed % (micros + micros / 2));
        let out = run(Some(delay));
        let after = std::fs::read(s.path(target)).ok();
        if after == before {
            old += 1;
        } else {
            let text = String::from_utf8(after.clone().unwrap_or_default())
                .unwrap_or_else(|_| panic!("{target} is not UTF-8 after a kill"));
            if let Err(e) = check(&text) {
                panic!(
                    "{target} torn after a kill at {delay:?} (exit {:?}): {e}\n{text}",
                    out.status.code()
                );
            }
            new += 1;
            // Start the next round from the old state again, so every kill can tear.
            reset();
        }
        for (p, b) in inputs.iter().zip(&inputs_before) {
            assert_eq!(&std::fs::read(s.path(p)).unwrap(), b, "input {p} changed");
        }
    }
    let mut stray = 0;
    stray_temp_files(&s.root, &mut stray);
    Some((old, new, stray))
}

#[test]
fn sigkill_during_seal_leaves_old_or_complete_new() {
    let s = Sandbox::new();
    let expected = [
        ("POSTGRES_PASSWORD", SENTINELS[0]),
        ("REDIS_PASSWORD", SENTINELS[1]),
        ("API_KEY", SENTINELS[2]),
    ];
    let (old, new, stray) = kill_loop(
        &s,
        &["paper", "--from", "good.env"],
        40,
        PAPER_SS,
        &[
            "good.env",
            "k8s/overlays/paper/sealing-cert.pem",
            "k8s/overlays/paper/kustomization.yaml",
        ],
        &[],
        &|t| sealed_and_complete(t, &expected),
    )
    .expect("seal is implemented");
    eprintln!(
        "seal: 40 kills: {old} left the old file, {new} the complete new one, {stray} stray temp files"
    );
    assert!(
        old > 0 && new > 0,
        "kills landed before and after the write ({old}/{new})"
    );
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
    let (old, new, stray) = kill_loop(
        &s,
        &["paper", "--from", "two.env", "--prune"],
        30,
        PAPER_SS,
        &["two.env"],
        &[],
        &|t| sealed_and_complete(t, &expected),
    )
    .expect("seal --prune is implemented");
    eprintln!("prune: 30 kills: {old} old, {new} complete new, {stray} stray temp files");
    assert!(
        old > 0 && new > 0,
        "kills landed before and after the write ({old}/{new})"
    );
}

/// Commands stubbed on this branch: the same harness, pending until they exist.
#[test]
fn sigkill_during_migrate_init_and_cert_fetch() {
    // init: the new env file equals an uninterrupted run's.
    let s = Sandbox::new();
    let target = "k8s/overlays/prod/prod-secrets.env";
    let reference = {
        let r = Sandbox::new();
        let out = r
            .cmd()
            .args(["init", "prod", "--no-input"])
            .output()
            .unwrap();
        std::fs::read(r.path(target))
            .ok()
            .filter(|_| out.status.success())
    };
    let init = kill_loop(
        &s,
        &["init", "prod", "--no-input", "--force"],
        20,
        target,
        &["k8s/overlays/prod/prod-secrets.env.example"],
        &[],
        &|t| {
            if Some(t.as_bytes()) == reference.as_deref() {
                Ok(())
            } else {
                Err("differs from an uninterrupted run".into())
            }
        },
    );
    report("init", init);

    // cert --fetch from a file URL: the saved certificate is the fetched one, whole.
    let s = Sandbox::new();
    let src = s.path("fetched.pem");
    s.write("fetched.pem", fixtures::cert_pem(4096).as_bytes());
    let url = format!("file://{}", src.display());
    let want = fixtures::cert_pem(4096);
    let cert = kill_loop(
        &s,
        &["cert", "paper", "--fetch", &url],
        20,
        "k8s/overlays/paper/sealing-cert.pem",
        &["fetched.pem"],
        &[],
        &|t| {
            emp_seal::cert::Certificate::from_pem(t.as_bytes())
                .map_err(|e| e.to_string())
                .and_then(|c| {
                    let w = emp_seal::cert::Certificate::from_pem(want.as_bytes()).unwrap();
                    (c.sha256_fingerprint() == w.sha256_fingerprint())
                        .then_some(())
                        .ok_or_else(|| "another certificate".to_string())
                })
        },
    );
    report("cert --fetch", cert);

    // migrate: kustomization.yaml is old or a complete YAML document.
    let s = Sandbox::new();
    s.write(
        "k8s/overlays/prod/sealing-cert.pem",
        fixtures::demo_cert_pem().as_bytes(),
    );
    let migrate = kill_loop(
        &s,
        &["prod", "--from", "good.env", "--migrate", "--no-input"],
        20,
        "k8s/overlays/prod/kustomization.yaml",
        &["good.env"],
        &["k8s/overlays/prod/sealedsecret.yaml"],
        &|t| {
            yaml_serde::from_str::<yaml_serde::Value>(t)
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
    );
    report("migrate", migrate);
}

fn report(what: &str, r: Option<(usize, usize, usize)>) {
    match r {
        None => eprintln!("PENDING: {what} is a stub on this build; the kill harness is ready"),
        Some((old, new, stray)) => {
            eprintln!("{what}: {old} old, {new} complete new, {stray} stray temp files");
        }
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
