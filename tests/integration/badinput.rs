//! The bad-input corpus: every command and flag fed malformed env files, YAML, certificates,
//! keys, paths, symlinks, directories in place of files, huge files, FIFOs, non-UTF-8 and empty
//! files, through the real `emp-seal` binary on a temp copy of the repository's `k8s/` tree.
//!
//! Every case must: exit 2; print no `panicked`; start stderr with `error:` and name the file,
//! flag or environment at fault on that first line; change no file under the tree (hashed before
//! and after); and never print a sentinel secret value.
//!
//! The cases of `check`, `cert`, `unseal`, `diff`, `init` and `--migrate` live in
//! [`command_cases`], judged like every other case. The shared sandbox helpers are used by
//! `leak.rs` and `crash.rs` too.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the report

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::{common, fixtures};

/// Sentinel secret values: they must never appear anywhere but as ciphertext.
pub(crate) const SENTINELS: [&str; 3] = [
    "s3ntinel-PG-9d41c7e2",
    "s3ntinel-REDIS-51aa0f",
    "s3ntinel-API-c0ffee77",
];

/// A good env file for the paper overlay, holding the sentinels.
pub(crate) fn good_env() -> String {
    format!(
        "POSTGRES_PASSWORD={}\nREDIS_PASSWORD={}\nAPI_KEY={}\n",
        SENTINELS[0], SENTINELS[1], SENTINELS[2]
    )
}

/// A temp copy of the repository's `k8s/` tree with `good.env`, and a private `TMPDIR`.
pub(crate) struct Sandbox {
    _dir: tempfile::TempDir,
    /// The repository root (holds `k8s/` and `good.env`).
    pub(crate) root: PathBuf,
    /// The `TMPDIR` the binary runs with (outside `root`).
    pub(crate) tmp: PathBuf,
}

impl Sandbox {
    /// A fresh sandbox.
    pub(crate) fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        common::copy_dir(&common::repo_root().join("k8s"), &root.join("k8s"));
        let s = Sandbox {
            _dir: dir,
            root,
            tmp,
        };
        s.write("good.env", good_env().as_bytes());
        s
    }

    /// Path of `rel` under the root.
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes a file under the root (test set-up, not the code under test).
    pub(crate) fn write(&self, rel: &str, bytes: &[u8]) {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        let _ = std::fs::remove_file(&p);
        emp_seal::fsio::atomic_write(&p, bytes).unwrap();
    }

    /// The binary, with a scrubbed environment, `CI=true`, no stdin, cwd = root.
    pub(crate) fn cmd(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_emp-seal"));
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("EMP_SEAL_") || k.starts_with("SEALED_SECRETS_") || k == "NO_COLOR" {
                c.env_remove(&k);
            }
        }
        c.current_dir(&self.root)
            .env("CI", "true")
            .env("TMPDIR", &self.tmp)
            .env("RUST_BACKTRACE", "1")
            .timeout(Duration::from_secs(60));
        c
    }

    /// Every file, directory and symlink under the root, with a content hash.
    pub(crate) fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut m = BTreeMap::new();
        snap(&self.root, &self.root, &mut m);
        m
    }

    /// Runs `f`, then applies it; used for one-off set-ups.
    pub(crate) fn setup(&self, steps: &[Step]) {
        for s in steps {
            s.apply(self);
        }
    }
}

fn snap(root: &Path, dir: &Path, m: &mut BTreeMap<PathBuf, String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd {
        let e = e.unwrap();
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap().to_path_buf();
        let t = e.file_type().unwrap();
        let desc = if t.is_symlink() {
            format!("link {}", std::fs::read_link(&p).unwrap().display())
        } else if t.is_dir() {
            snap(root, &p, m);
            "dir".to_string()
        } else if t.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            use std::os::unix::fs::PermissionsExt;
            let mode = e.metadata().unwrap().permissions().mode();
            format!("file {mode:o} {}", common::b64(&Sha256::digest(&bytes)))
        } else {
            "special".to_string()
        };
        m.insert(rel, desc);
    }
}

/// A set-up step for a case.
#[derive(Clone)]
pub(crate) enum Step {
    /// Write a file (creating parents).
    Write(&'static str, Vec<u8>),
    /// Remove a file.
    Remove(&'static str),
    /// Replace a path by an empty directory.
    Dir(&'static str),
    /// `symlink(target, link)`.
    Link(&'static str, &'static str),
    /// A FIFO.
    Fifo(&'static str),
}

impl Step {
    fn apply(&self, s: &Sandbox) {
        match self {
            Step::Write(p, b) => s.write(p, b),
            Step::Remove(p) => std::fs::remove_file(s.path(p)).unwrap(),
            Step::Dir(p) => {
                let _ = std::fs::remove_file(s.path(p));
                std::fs::create_dir_all(s.path(p)).unwrap();
            }
            Step::Link(target, link) => {
                let _ = std::fs::remove_file(s.path(link));
                symlink(target, s.path(link)).unwrap();
            }
            Step::Fifo(p) => {
                let st = std::process::Command::new("mkfifo")
                    .arg(s.path(p))
                    .status()
                    .unwrap();
                assert!(st.success(), "mkfifo");
            }
        }
    }
}

/// One corpus case.
#[derive(Clone)]
pub(crate) struct Case {
    /// A short unique name.
    pub(crate) name: String,
    /// Set-up on a fresh sandbox.
    pub(crate) steps: Vec<Step>,
    /// The arguments (after the binary name).
    pub(crate) args: Vec<OsString>,
    /// What stderr's first line must name (a file, flag, key or environment).
    pub(crate) names: String,
}

fn case(name: &str, steps: Vec<Step>, args: &[&str], names: &str) -> Case {
    Case {
        name: name.to_string(),
        steps,
        args: args.iter().map(OsString::from).collect(),
        names: names.to_string(),
    }
}

fn w(p: &'static str, b: impl AsRef<[u8]>) -> Step {
    Step::Write(p, b.as_ref().to_vec())
}

fn seal(from: &str, extra: &[&str]) -> Vec<String> {
    let mut v = vec!["paper".to_string(), "--from".into(), from.into()];
    v.extend(extra.iter().map(|s| (*s).to_string()));
    v
}

fn sealc(name: &str, steps: Vec<Step>, from: &str, extra: &[&str], names: &str) -> Case {
    let args = seal(from, extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    case(name, steps, &refs, names)
}

const PAPER_SS: &str = "k8s/overlays/paper/sealedsecret.yaml";
const PAPER_CERT: &str = "k8s/overlays/paper/sealing-cert.pem";
const PAPER_KUST: &str = "k8s/overlays/paper/kustomization.yaml";

fn paper_ss() -> String {
    std::fs::read_to_string(common::repo_root().join(PAPER_SS)).unwrap()
}

fn huge(byte: u8) -> Vec<u8> {
    vec![byte; 9 * 1024 * 1024]
}

/// Malformed env files, each fed to `seal paper --from bad.env`.
fn env_cases() -> Vec<Case> {
    let good = good_env();
    let long_line = format!("A={}\n", "x".repeat(70_000));
    let items: Vec<(&str, Vec<u8>)> = vec![
        (
            "env_invalid_utf8_value",
            format!("{good}X=\u{0}")
                .into_bytes()
                .into_iter()
                .chain(*b"\xff\xfe\n")
                .collect(),
        ),
        (
            "env_invalid_utf8_comment",
            [good.as_bytes(), b"# caf\xe9\n"].concat(),
        ),
        (
            "env_overlong_utf8",
            [good.as_bytes(), b"X=\xc0\xaf\n"].concat(),
        ),
        (
            "env_surrogate_utf8",
            [good.as_bytes(), b"X=\xed\xa0\x80\n"].concat(),
        ),
        (
            "env_truncated_utf8",
            [good.as_bytes(), b"X=\xe2\x82"].concat(),
        ),
        ("env_latin1_file", b"POSTGRES_PASSWORD=p\xe4ss\n".to_vec()),
        ("env_utf16_file", b"\xff\xfeP\0=\0x\0\n\0".to_vec()),
        (
            "env_duplicate_key",
            format!("{good}API_KEY=again\n").into_bytes(),
        ),
        (
            "env_duplicate_after_trim",
            format!("{good}   API_KEY=again\n").into_bytes(),
        ),
        (
            "env_duplicate_crlf",
            format!("{good}API_KEY=x\r\n").into_bytes(),
        ),
        (
            "env_duplicate_no_equals",
            format!("{good}API_KEY\n").into_bytes(),
        ),
        (
            "env_line_too_long",
            format!("{good}{long_line}").into_bytes(),
        ),
        (
            "env_key_with_space",
            format!("{good}MY KEY=1\n").into_bytes(),
        ),
        (
            "env_export_prefix",
            format!("{good}export X=1\n").into_bytes(),
        ),
        ("env_key_with_colon", format!("{good}A:B=1\n").into_bytes()),
        ("env_key_dot", format!("{good}.=1\n").into_bytes()),
        ("env_key_dotdot", format!("{good}..=1\n").into_bytes()),
        (
            "env_key_too_long",
            format!("{good}{}=1\n", "K".repeat(254)).into_bytes(),
        ),
        ("env_key_nul", [good.as_bytes(), b"A\0B=1\n"].concat()),
        ("env_key_slash", format!("{good}a/b=1\n").into_bytes()),
        (
            "env_bom_second_line",
            format!("{good}\u{feff}X=1\n").into_bytes(),
        ),
        (
            "env_key_trailing_space",
            format!("{good}X =1\n").into_bytes(),
        ),
        ("env_key_unicode", format!("{good}KÉY=1\n").into_bytes()),
        (
            "env_key_zero_width",
            format!("{good}\u{200b}X=1\n").into_bytes(),
        ),
        ("env_empty_file", Vec::new()),
        ("env_comments_only", b"# nothing here\n\n   \n".to_vec()),
        ("env_only_empty_keys", b"=a\n=b\n".to_vec()),
        (
            "env_missing_keys",
            format!("API_KEY={}\n", SENTINELS[2]).into_bytes(),
        ),
    ];
    let mut v: Vec<Case> = items
        .into_iter()
        .map(|(n, bytes)| {
            sealc(
                n,
                vec![Step::Write("bad.env", bytes)],
                "bad.env",
                &["--no-input"],
                "bad.env",
            )
        })
        .collect();
    // The missing-keys case names the environment, not the file.
    for c in &mut v {
        if c.name == "env_missing_keys"
            || c.name == "env_empty_file"
            || c.name == "env_comments_only"
        {
            c.names = "paper".into();
        }
    }
    v
}

/// Paths: missing, directories, symlinks, FIFOs, huge and special files as `--from`.
fn path_cases() -> Vec<Case> {
    vec![
        sealc("from_missing", vec![], "missing.env", &[], "missing.env"),
        sealc(
            "from_missing_nested",
            vec![],
            "sub/missing.env",
            &[],
            "sub/missing.env",
        ),
        sealc(
            "from_directory",
            vec![Step::Dir("envdir")],
            "envdir",
            &[],
            "envdir",
        ),
        sealc("from_dot", vec![], ".", &[], "."),
        sealc(
            "from_dangling_symlink",
            vec![Step::Link("nowhere.env", "dangling.env")],
            "dangling.env",
            &[],
            "dangling.env",
        ),
        sealc(
            "from_symlink_loop",
            vec![Step::Link("loop.env", "loop.env")],
            "loop.env",
            &[],
            "loop.env",
        ),
        sealc(
            "from_symlink_to_dir",
            vec![Step::Dir("d"), Step::Link("d", "todir.env")],
            "todir.env",
            &[],
            "todir.env",
        ),
        sealc(
            "from_fifo",
            vec![Step::Fifo("pipe.env")],
            "pipe.env",
            &[],
            "pipe.env",
        ),
        sealc("from_dev_zero", vec![], "/dev/zero", &[], "/dev/zero"),
        sealc("from_dev_null", vec![], "/dev/null", &[], "/dev/null"),
        sealc("from_proc_dir", vec![], "/proc/self", &[], "/proc/self"),
        sealc(
            "from_huge_file",
            vec![Step::Write("huge.env", huge(b'A'))],
            "huge.env",
            &[],
            "huge.env",
        ),
        sealc("from_empty_path", vec![], "", &[], "error:"),
        Case {
            name: "from_non_utf8_path".into(),
            steps: vec![],
            args: vec![
                "paper".into(),
                "--from".into(),
                OsString::from_vec(b"caf\xe9.env".to_vec()),
            ],
            names: "caf".into(),
        },
        sealc("from_trailing_slash", vec![], "good.env/", &[], "good.env"),
    ]
}

/// Certificates: `--cert` and the overlay's default `sealing-cert.pem`.
fn cert_cases(extra: &[(String, Vec<u8>)]) -> Vec<Case> {
    let key_pem = fixtures::key_pem(2048);
    let cert_pem = fixtures::cert_pem(2048);
    let body: String = cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let public_key = {
        let b = body.clone();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            &b[..64]
        )
    };
    let truncated = cert_pem[..cert_pem.len() / 2].to_string();
    let bad_b64 = cert_pem.replacen('M', "!", 3);
    let der = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .unwrap()
    };
    let flipped = {
        let mut d = der.clone();
        d[1] ^= 0x7f; // the outer SEQUENCE's length byte
        use base64::Engine;
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(&d)
        )
    };
    let mut items: Vec<(String, Vec<u8>)> = vec![
        ("cert_empty".into(), Vec::new()),
        ("cert_garbage_text".into(), b"not a certificate\n".to_vec()),
        ("cert_binary".into(), vec![0u8, 159, 146, 150, 255, 1, 2]),
        ("cert_private_key".into(), key_pem.into_bytes()),
        ("cert_public_key".into(), public_key.into_bytes()),
        ("cert_truncated".into(), truncated.into_bytes()),
        ("cert_bad_base64".into(), bad_b64.into_bytes()),
        ("cert_der".into(), der),
        ("cert_bad_der_length".into(), flipped.into_bytes()),
        ("cert_huge".into(), huge(b'-')),
        (
            "cert_empty_block".into(),
            b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".to_vec(),
        ),
    ];
    items.extend(extra.iter().cloned());
    let mut v = Vec::new();
    for (n, bytes) in items {
        v.push(Case {
            name: format!("{n}_flag"),
            steps: vec![Step::Write("bad-cert.pem", bytes.clone())],
            args: seal("good.env", &["--cert", "bad-cert.pem"])
                .into_iter()
                .map(OsString::from)
                .collect(),
            names: "bad-cert.pem".into(),
        });
        v.push(Case {
            name: format!("{n}_default"),
            steps: vec![Step::Write(PAPER_CERT, bytes)],
            args: seal("good.env", &[])
                .into_iter()
                .map(OsString::from)
                .collect(),
            names: "sealing-cert.pem".into(),
        });
    }
    v.extend([
        sealc(
            "cert_missing_flag",
            vec![],
            "good.env",
            &["--cert", "nope.pem"],
            "nope.pem",
        ),
        sealc(
            "cert_missing_default",
            vec![Step::Remove(PAPER_CERT)],
            "good.env",
            &[],
            "sealing-cert.pem",
        ),
        sealc(
            "cert_directory_flag",
            vec![Step::Dir("cdir")],
            "good.env",
            &["--cert", "cdir"],
            "cdir",
        ),
        sealc(
            "cert_directory_default",
            vec![Step::Remove(PAPER_CERT), Step::Dir(PAPER_CERT)],
            "good.env",
            &[],
            "sealing-cert.pem",
        ),
        sealc(
            "cert_dangling_symlink_default",
            vec![Step::Remove(PAPER_CERT), Step::Link("gone.pem", PAPER_CERT)],
            "good.env",
            &[],
            "sealing-cert.pem",
        ),
        sealc(
            "cert_fifo_flag",
            vec![Step::Fifo("c.fifo")],
            "good.env",
            &["--cert", "c.fifo"],
            "c.fifo",
        ),
        case(
            "cert_with_two_envs",
            vec![],
            &["paper", "prod", "--from", "good.env", "--cert", PAPER_CERT],
            "--cert",
        ),
    ]);
    v
}

/// Malformed `sealedsecret.yaml` of the paper overlay.
fn sealedsecret_cases() -> Vec<Case> {
    let ss = paper_ss();
    let crlf_lone_cr = ss.replace('\n', "\r");
    let items: Vec<(&str, Vec<u8>, &str)> = vec![
        ("ss_invalid_yaml", format!("{ss}  bad: [unclosed\n").into_bytes(), "sealedsecret.yaml"),
        ("ss_tab_indent", ss.replace("    API_KEY", "\tAPI_KEY").into_bytes(), "sealedsecret.yaml"),
        ("ss_empty", Vec::new(), "paper"),
        ("ss_non_utf8", [ss.as_bytes(), b"# \xff\n"].concat(), "sealedsecret.yaml"),
        ("ss_huge", [ss.as_bytes(), &huge(b'#')].concat(), "sealedsecret.yaml"),
        ("ss_lone_cr", crlf_lone_cr.into_bytes(), "paper"),
        (
            "ss_json",
            // JSON is read and sealed since issue 16; an anchor in it is not placeable.
            br#"{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"emp-secrets","namespace":"emp-paper"},"spec":{"encryptedData":{"API_KEY": &a "AgA"}}}"#.to_vec(),
            "sealedsecret.yaml",
        ),
        (
            "ss_flow_encrypted_data",
            ss.replace(
                "  encryptedData:\n    API_KEY: AgAAAAAAAAAA...REPLACE_ME\n    POSTGRES_PASSWORD: AgAAAAAAAAAA...REPLACE_ME\n    REDIS_PASSWORD: AgAAAAAAAAAA...REPLACE_ME\n",
                "  encryptedData: {API_KEY: &a AgA, POSTGRES_PASSWORD: *a, REDIS_PASSWORD: AgC}\n",
            )
            .into_bytes(),
            "sealedsecret.yaml",
        ),
        ("ss_encrypted_data_list", ss.replace("    API_KEY: AgAAAAAAAAAA...REPLACE_ME\n", "    - API_KEY\n").into_bytes(), "sealedsecret.yaml"),
        ("ss_anchor", ss.replace("    API_KEY: AgAAAAAAAAAA...REPLACE_ME", "    API_KEY: &a AgAAAAAAAAAA").replace("    REDIS_PASSWORD: AgAAAAAAAAAA...REPLACE_ME", "    REDIS_PASSWORD: *a").into_bytes(), "sealedsecret.yaml"),
        ("ss_block_scalar_value", ss.replace("    API_KEY: AgAAAAAAAAAA...REPLACE_ME", "    API_KEY: |\n      AgAAAA\n      AAAA").into_bytes(), "sealedsecret.yaml"),
        ("ss_value_not_string", ss.replace("    API_KEY: AgAAAAAAAAAA...REPLACE_ME", "    API_KEY: 12").into_bytes(), "sealedsecret.yaml"),
        ("ss_metadata_scalar", ss.replace("metadata:\n  name: emp-secrets\n  namespace: emp-paper\n", "metadata: x\n").into_bytes(), "sealedsecret.yaml"),
        ("ss_name_mismatch", ss.replacen("  name: emp-secrets\n  namespace", "  name: other-name\n  namespace", 1).into_bytes(), "sealedsecret.yaml"),
        ("ss_two_sealed_secrets", format!("{ss}---\n{}", ss.replace("emp-secrets", "emp-secrets-2")).into_bytes(), "paper"),
        ("ss_kind_missing", ss.replace("kind: SealedSecret\n", "").into_bytes(), "paper"),
        ("ss_wrong_api_version", ss.replace("bitnami.com/v1alpha1", "bitnami.com/v2").into_bytes(), "paper"),
        ("ss_duplicate_key", ss.replace("    REDIS_PASSWORD: AgAAAAAAAAAA...REPLACE_ME", "    API_KEY: AgBBBB").into_bytes(), "sealedsecret.yaml"),
        ("ss_content_on_marker", ss.replace("apiVersion: bitnami.com/v1alpha1\n", "--- !!map\napiVersion: bitnami.com/v1alpha1\n").into_bytes(), "sealedsecret.yaml"),
    ];
    let mut v: Vec<Case> = items
        .into_iter()
        .map(|(n, bytes, names)| {
            sealc(
                n,
                vec![Step::Write(PAPER_SS, bytes)],
                "good.env",
                &[],
                names,
            )
        })
        .collect();
    v.extend([
        sealc(
            "ss_missing",
            vec![Step::Remove(PAPER_SS)],
            "good.env",
            &[],
            "sealedsecret.yaml",
        ),
        sealc(
            "ss_directory",
            vec![Step::Remove(PAPER_SS), Step::Dir(PAPER_SS)],
            "good.env",
            &[],
            "sealedsecret.yaml",
        ),
        sealc(
            "ss_dangling_symlink",
            vec![Step::Remove(PAPER_SS), Step::Link("nowhere.yaml", PAPER_SS)],
            "good.env",
            &[],
            "sealedsecret.yaml",
        ),
        sealc(
            "ss_fifo",
            vec![Step::Remove(PAPER_SS), Step::Fifo(PAPER_SS)],
            "good.env",
            &[],
            "sealedsecret.yaml",
        ),
    ]);
    v
}

/// Broken kustomizations of the paper overlay.
fn kustomization_cases() -> Vec<Case> {
    let k = std::fs::read_to_string(common::repo_root().join(PAPER_KUST)).unwrap();
    let items: Vec<(&str, Vec<u8>)> = vec![
        (
            "kust_invalid_yaml",
            format!("{k}\nresources: [unclosed\n").into_bytes(),
        ),
        ("kust_non_utf8", [k.as_bytes(), b"# \xff\n"].concat()),
        (
            "kust_resources_scalar",
            k.replace("resources:\n  - ../../base\n", "resources: 7\n")
                .into_bytes(),
        ),
        (
            "kust_missing_resource",
            k.replace("  - sealedsecret.yaml", "  - sealedsecret-gone.yaml")
                .into_bytes(),
        ),
    ];
    let mut v: Vec<Case> = items
        .into_iter()
        .map(|(n, b)| {
            sealc(
                n,
                vec![Step::Write(PAPER_KUST, b)],
                "good.env",
                &[],
                "kustomization.yaml",
            )
        })
        .collect();
    v.push(sealc(
        "kust_directory",
        vec![Step::Remove(PAPER_KUST), Step::Dir(PAPER_KUST)],
        "good.env",
        &[],
        "paper",
    ));
    v
}

/// Environments, repository roots and seal's flags.
fn arg_cases() -> Vec<Case> {
    let key = fixtures::key_pem(2048);
    let cert = fixtures::cert_pem(2048);
    // `seal ENV --from good.env`, and `paper --from good.env --key FILE`.
    let env =
        |n: &str, e: &str, names: &str| case(n, vec![], &["seal", e, "--from", "good.env"], names);
    let with_key = |n: &str, steps: Vec<Step>, file: &str, names: &str| {
        case(
            n,
            steps,
            &["paper", "--from", "good.env", "--key", file],
            names,
        )
    };
    vec![
        env("env_unknown", "nope", "nope"),
        env("env_traversal", "../paper", "../paper"),
        env("env_absolute", "/etc", "/etc"),
        env("env_dot", ".", "`.`"),
        env("env_empty_string", "", "``"),
        env("env_nested_name", "overlays/paper", "overlays/paper"),
        env("env_generator_overlay", "prod", "prod"),
        case(
            "env_named_twice",
            vec![],
            &["seal", "paper", "paper", "--from", "good.env"],
            "names the environment 'paper' twice",
        ),
        case(
            "env_named_twice_by_path",
            vec![],
            &["paper", "k8s/overlays/paper", "--from", "good.env"],
            "names the environment 'paper' twice ('k8s/overlays/paper')",
        ),
        case(
            "env_one_bad_of_two",
            vec![],
            &["seal", "paper", "nope", "--from", "good.env"],
            "nope",
        ),
        case(
            "repo_missing",
            vec![],
            &[
                "-C",
                "/nonexistent/repo",
                "seal",
                "paper",
                "--from",
                "good.env",
            ],
            "/nonexistent/repo",
        ),
        case(
            "repo_is_device",
            vec![],
            &["-C", "/dev/null", "seal", "paper", "--from", "good.env"],
            "/dev/null",
        ),
        case(
            "repo_without_overlays",
            vec![],
            &["-C", "/", "seal", "paper", "--from", "good.env"],
            "k8s/overlays",
        ),
        case(
            "only_unknown_key",
            vec![],
            &["paper", "--from", "good.env", "--only", "NOT_THERE"],
            "NOT_THERE",
        ),
        case(
            "only_invalid_key",
            vec![],
            &["paper", "--from", "good.env", "--only", "bad key"],
            "bad key",
        ),
        case(
            "only_empty",
            vec![],
            &["paper", "--from", "good.env", "--only", ""],
            "--only",
        ),
        case(
            "prune_to_empty_without_force",
            vec![w("none.env", "# no keys\n")],
            &["paper", "--from", "none.env", "--prune"],
            "--force",
        ),
        case(
            "scope_conflict",
            vec![],
            &["paper", "--from", "good.env", "--scope", "cluster-wide"],
            "sealedsecret.yaml",
        ),
        case(
            "rescope_incomplete",
            vec![w("one.env", format!("API_KEY={}\n", SENTINELS[2]))],
            &[
                "paper",
                "--from",
                "one.env",
                "--scope",
                "cluster-wide",
                "--rescope",
                "--only",
                "API_KEY",
            ],
            "sealedsecret.yaml",
        ),
        with_key("key_missing", vec![], "nokey.pem", "nokey.pem"),
        with_key("key_directory", vec![Step::Dir("kdir")], "kdir", "kdir"),
        with_key("key_empty", vec![w("k.pem", "")], "k.pem", "k.pem"),
        with_key(
            "key_garbage",
            vec![w("k.pem", "garbage\n")],
            "k.pem",
            "k.pem",
        ),
        with_key(
            "key_is_cert",
            vec![w("k.pem", cert.clone())],
            "k.pem",
            "k.pem",
        ),
        with_key(
            "key_truncated",
            vec![w("k.pem", &key[..key.len() / 2])],
            "k.pem",
            "k.pem",
        ),
        with_key(
            "key_encrypted",
            vec![w(
                "k.pem",
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
            )],
            "k.pem",
            "k.pem",
        ),
        with_key(
            "key_secret_bad_base64",
            vec![w(
                "k.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sealed-secrets-key\ndata:\n  tls.key: '!!!notbase64'\n",
            )],
            "k.yaml",
            "k.yaml",
        ),
        with_key(
            "key_components_disagree",
            vec![w("k.pem", flip_last_der_bit(&key))],
            "k.pem",
            "k.pem",
        ),
        with_key(
            "key_second_of_two_bad",
            vec![w("k1.pem", key.clone()), w("k2.pem", "junk")],
            "k1.pem,k2.pem",
            "k2.pem",
        ),
        with_key("key_huge", vec![w("k.pem", huge(b'k'))], "k.pem", "k.pem"),
        with_key("key_fifo", vec![Step::Fifo("k.fifo")], "k.fifo", "k.fifo"),
    ]
}

/// Usage errors clap reports (every command).
fn clap_cases() -> Vec<Case> {
    let c = |n: &str, a: &[&str], names: &str| case(n, vec![], a, names);
    vec![
        c("clap_unknown_flag", &["--bogus"], "--bogus"),
        c(
            "clap_unknown_subcommand_flag",
            &["seal", "paper", "--from", "good.env", "--bogus"],
            "--bogus",
        ),
        c("clap_seal_no_env", &["seal", "--from", "good.env"], "<ENV>"),
        c("clap_seal_no_from", &["seal", "paper"], "--from"),
        c(
            "clap_seal_from_no_value",
            &["seal", "paper", "--from"],
            "--from",
        ),
        c(
            "clap_seal_bad_scope",
            &["paper", "--from", "good.env", "--scope", "global"],
            "--scope",
        ),
        c(
            "clap_seal_dry_run_and_stdout",
            &["paper", "--from", "good.env", "--dry-run", "--stdout"],
            "--dry-run",
        ),
        c(
            "clap_seal_flag_with_value",
            &["paper", "--from", "good.env", "--prune=yes"],
            "--prune",
        ),
        c(
            "clap_seal_repeated_from",
            &["paper", "--from", "good.env", "--from", "good.env"],
            "--from",
        ),
        c(
            "clap_bad_color",
            &["--color", "rainbow", "check"],
            "--color",
        ),
        c(
            "clap_repo_no_value",
            &["seal", "paper", "--from", "good.env", "-C"],
            "--repo",
        ),
        c("clap_completions_no_shell", &["completions"], "<SHELL>"),
        c(
            "clap_completions_bad_shell",
            &["completions", "tcsh"],
            "tcsh",
        ),
        c(
            "clap_completions_extra",
            &["completions", "bash", "zsh"],
            "zsh",
        ),
        c("clap_man_extra", &["man", "extra"], "extra"),
        c(
            "clap_check_bad_format",
            &["check", "--format", "xml"],
            "--format",
        ),
        c("clap_cert_bad_flag", &["cert", "--bogus"], "--bogus"),
        c("clap_unseal_no_key", &["unseal", "paper"], "--key"),
        c(
            "clap_unseal_bad_format",
            &["unseal", "paper", "--key", "k.pem", "--format", "toml"],
            "--format",
        ),
        c(
            "clap_diff_no_key",
            &["diff", "paper", "--from", "good.env"],
            "--key",
        ),
        c(
            "clap_diff_no_from",
            &["diff", "paper", "--key", "k.pem"],
            "--from",
        ),
        c("clap_init_no_env", &["init"], "<ENV>"),
        c("clap_init_two_envs", &["init", "prod", "dev"], "dev"),
        c("clap_help_bogus", &["help", "bogus"], "bogus"),
    ]
}

/// Cases of `check`, `cert`, `unseal`, `diff`, `init` and `--migrate`.
fn command_cases() -> Vec<Case> {
    let key = fixtures::key_pem(2048);
    let k = |n: &str, steps: Vec<Step>, a: &[&str], names: &str| case(n, steps, a, names);
    let badenv = || w("bad.env", b"A=\xff\n");
    vec![
        // check
        k(
            "check_path_missing",
            vec![],
            &["check", "k8s/nope.yaml"],
            "k8s/nope.yaml",
        ),
        k(
            "check_release_unknown_env",
            vec![],
            &["check", "--release", "nope"],
            "nope",
        ),
        k(
            "check_unknown_rule",
            vec![],
            &["check", "--rules", "no-such-rule"],
            "no-such-rule",
        ),
        k(
            "check_repo_not_a_repo",
            vec![],
            &["-C", "/", "check"],
            "k8s/overlays",
        ),
        k(
            "check_path_fifo",
            vec![Step::Fifo("k8s/ff")],
            &["check", "k8s/ff"],
            "k8s/ff: not a regular file",
        ),
        k(
            "check_config_ignore_dot",
            vec![w(
                "emp-seal.toml",
                "# all\nignore = [\"legacy/**\", \".\"]\n",
            )],
            &["check"],
            "emp-seal.toml:2: ignore: `.`",
        ),
        k(
            "check_config_ignore_everything",
            vec![w("emp-seal.toml", "ignore = [\"**\"]\n")],
            &["check"],
            "emp-seal.toml:1: ignore: `**` matches every path",
        ),
        k(
            "check_config_scope_integer",
            vec![w("emp-seal.toml", "\nscope = 3\n")],
            &["check"],
            "emp-seal.toml:2: scope: `3` is not one of `strict`, `namespace-wide`, `cluster-wide`",
        ),
        k(
            "check_runtime_secret_empty",
            vec![],
            &["check", "--allow-runtime-secret", ""],
            "--allow-runtime-secret",
        ),
        k(
            "check_runtime_secret_blank",
            vec![],
            &["check", "--allow-runtime-secret", " "],
            "--allow-runtime-secret",
        ),
        k(
            "check_runtime_secret_empty_in_list",
            vec![],
            &["check", "--allow-runtime-secret", "argocd-redis,"],
            "--allow-runtime-secret",
        ),
        k(
            "check_config_runtime_secret_empty",
            vec![w(
                "emp-seal.toml",
                "[release]\nallow-runtime-secret = [\n  \"argocd-redis\",\n  \"\",\n]\n",
            )],
            &["check"],
            "emp-seal.toml:4: release.allow-runtime-secret",
        ),
        // cert
        k(
            "cert_path_missing",
            vec![],
            &["cert", "nope.pem"],
            "nope.pem",
        ),
        k(
            "cert_path_garbage",
            vec![w("g.pem", "garbage\n")],
            &["cert", "g.pem"],
            "g.pem",
        ),
        k(
            "cert_path_empty",
            vec![w("g.pem", "")],
            &["cert", "g.pem"],
            "g.pem",
        ),
        k(
            "cert_path_directory",
            vec![Step::Dir("cd.pem")],
            &["cert", "cd.pem"],
            "cd.pem",
        ),
        k(
            "cert_path_private_key",
            vec![w("g.pem", key.clone())],
            &["cert", "g.pem"],
            "g.pem",
        ),
        k("cert_unknown_env", vec![], &["cert", "nope"], "nope"),
        k(
            "cert_fetch_bad_scheme",
            vec![],
            &["cert", "paper", "--fetch", "ftp://example.invalid/cert.pem"],
            "ftp://",
        ),
        k(
            "cert_fetch_missing_file",
            vec![],
            &["cert", "paper", "--fetch", "file:///nonexistent/cert.pem"],
            "/nonexistent/cert.pem",
        ),
        k(
            "cert_fetch_garbage_file",
            vec![w("g.pem", "garbage\n")],
            &["cert", "paper", "--fetch", "file://GPEM"],
            "g.pem",
        ),
        k(
            "cert_fetch_no_env",
            vec![],
            &["cert", "--fetch", "file:///nonexistent/cert.pem"],
            "--fetch",
        ),
        // unseal
        k(
            "unseal_key_missing",
            vec![],
            &["unseal", "paper", "--key", "nokey.pem"],
            "nokey.pem",
        ),
        k(
            "unseal_key_secret_bad_base64",
            vec![w(
                "k.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sealed-secrets-key\ndata:\n  tls.crt: \"\"\n  tls.key: \"!!\"\n",
            )],
            &["unseal", "paper", "--key", "k.yaml"],
            "k.yaml:7: secret sealed-secrets-key",
        ),
        k(
            "unseal_key_list_item_no_pem",
            vec![w(
                "k.yaml",
                "kind: List\nitems:\n- kind: Secret\n  metadata: {name: a}\n- kind: Secret\n  metadata: {name: b}\n  data:\n    tls.key: aGVsbG8=\n",
            )],
            &["unseal", "paper", "--key", "k.yaml"],
            "k.yaml:8: secret b",
        ),
        k(
            "unseal_key_garbage",
            vec![w("k.pem", "junk\n")],
            &["unseal", "paper", "--key", "k.pem"],
            "k.pem",
        ),
        k(
            "unseal_key_directory",
            vec![Step::Dir("kd")],
            &["unseal", "paper", "--key", "kd"],
            "kd",
        ),
        k(
            "unseal_key_empty",
            vec![w("k.pem", "")],
            &["unseal", "paper", "--key", "k.pem"],
            "k.pem",
        ),
        k(
            "unseal_unknown_env",
            vec![w("k.pem", key.clone())],
            &["unseal", "nope", "--key", "k.pem"],
            "nope",
        ),
        k(
            "unseal_file_garbage",
            vec![w("k.pem", key.clone()), w("s.yaml", "a: [\n")],
            &["unseal", "s.yaml", "--key", "k.pem"],
            "s.yaml",
        ),
        k(
            "unseal_file_missing",
            vec![w("k.pem", key.clone())],
            &["unseal", "gone.yaml", "--key", "k.pem"],
            "gone.yaml",
        ),
        k(
            "unseal_wrong_key",
            vec![w("k.pem", key.clone())],
            &["unseal", "paper", "--key", "k.pem"],
            "sealedsecret.yaml",
        ),
        // diff
        k(
            "diff_from_invalid_utf8",
            vec![w("k.pem", key.clone()), badenv()],
            &["diff", "paper", "--from", "bad.env", "--key", "k.pem"],
            "bad.env",
        ),
        k(
            "diff_from_missing",
            vec![w("k.pem", key.clone())],
            &["diff", "paper", "--from", "gone.env", "--key", "k.pem"],
            "gone.env",
        ),
        k(
            "diff_key_garbage",
            vec![w("k.pem", "junk")],
            &["diff", "paper", "--from", "good.env", "--key", "k.pem"],
            "k.pem",
        ),
        k(
            "diff_unknown_env",
            vec![w("k.pem", key.clone())],
            &["diff", "nope", "--from", "good.env", "--key", "k.pem"],
            "nope",
        ),
        // init
        k(
            "init_unknown_env",
            vec![],
            &["init", "nope", "--no-input"],
            "nope",
        ),
        k(
            "init_no_example",
            vec![],
            &["init", "paper", "--no-input"],
            "paper",
        ),
        // An existing env file is left as it is (exit 0, lifecycle.rs); one outside the overlay
        // is refused, naming the generator's entry.
        k(
            "init_env_outside_overlay",
            vec![
                w(
                    "k8s/overlays/prod/secret-generator.yaml",
                    "apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: emp-secrets\nenvs:\n  - ../shared.env\n",
                ),
                w("k8s/overlays/shared.env.example", "A=\n"),
            ],
            &["init", "prod", "--no-input"],
            "k8s/overlays/prod/secret-generator.yaml:6",
        ),
        k(
            "init_example_invalid_utf8",
            vec![w("k8s/overlays/prod/prod-secrets.env.example", b"A=\xff\n")],
            &["init", "prod", "--no-input"],
            "prod-secrets.env.example",
        ),
        k(
            "init_example_directory",
            vec![
                Step::Remove("k8s/overlays/prod/prod-secrets.env.example"),
                Step::Dir("k8s/overlays/prod/prod-secrets.env.example"),
            ],
            &["init", "prod", "--no-input"],
            "prod-secrets.env.example",
        ),
        // seal --migrate
        k(
            "migrate_already_sealed",
            vec![],
            &["paper", "--from", "good.env", "--migrate"],
            "paper",
        ),
        k(
            "migrate_bad_env",
            vec![badenv()],
            &["prod", "--from", "bad.env", "--migrate"],
            "bad.env",
        ),
        k(
            "migrate_no_cert",
            vec![],
            &["prod", "--from", "good.env", "--migrate", "--no-input"],
            "sealing-cert.pem",
        ),
        k(
            "migrate_bad_cert",
            vec![w("g.pem", "garbage")],
            &["prod", "--from", "good.env", "--migrate", "--cert", "g.pem"],
            "g.pem",
        ),
    ]
}

/// Runs one case on a fresh sandbox and checks every promise; `Err` describes the failure.
pub(crate) fn run_case(c: &Case) -> Result<(), String> {
    let s = Sandbox::new();
    s.setup(&c.steps);
    let args: Vec<OsString> = c
        .args
        .iter()
        .map(|a| {
            // `GPEM` stands for the absolute path of g.pem (file URLs need one).
            let t = a.to_string_lossy();
            if t.contains("GPEM") {
                OsString::from(t.replace("GPEM", &s.path("g.pem").display().to_string()))
            } else {
                a.clone()
            }
        })
        .collect();
    let before = s.snapshot();
    let out = s
        .cmd()
        .args(&args)
        .output()
        .map_err(|e| format!("spawn: {e}"))?;
    let after = s.snapshot();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.status.code() != Some(2) {
        problems.push(format!("exit {:?}, want 2", out.status.code()));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        problems.push("panicked".to_string());
    }
    let first = stderr.lines().next().unwrap_or("");
    if !first.starts_with("error:") {
        problems.push(format!(
            "first stderr line {first:?} does not start with `error:`"
        ));
    }
    // The first line, plus the indented lines clap lists under it ("the following required
    // arguments were not provided:\n  --from <FILE>").
    let head: Vec<&str> = std::iter::once(first)
        .chain(stderr.lines().skip(1).take_while(|l| l.starts_with("  ")))
        .collect();
    if !head.iter().any(|l| l.contains(c.names.as_str())) {
        problems.push(format!(
            "first stderr line {first:?} does not name {:?}",
            c.names
        ));
    }
    if before != after {
        let changed: Vec<_> = before
            .keys()
            .chain(after.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .collect();
        problems.push(format!("files changed: {changed:?}"));
    }
    for sentinel in SENTINELS {
        if stdout.contains(sentinel) || stderr.contains(sentinel) {
            problems.push(format!("sentinel {sentinel} printed"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}\n  args {:?}\n  stderr: {}",
            c.name,
            problems.join("; "),
            c.args,
            stderr.trim_end().replace('\n', "\n          ")
        ))
    }
}

/// Certificates made at test time (dates move; key types vary), when the peer venv exists.
fn made_certs() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    if let Some((c, _)) = fixtures::make_cert(2048, -30, -1) {
        v.push(("cert_expired".to_string(), c.into_bytes()));
    }
    if let Some((c, _)) = fixtures::make_cert(1024, -1, 400) {
        v.push(("cert_rsa_1024".to_string(), c.into_bytes()));
    }
    if let Some((c, _)) = fixtures::make_cert_with("ec", -1, 400) {
        v.push(("cert_ec".to_string(), c.into_bytes()));
    }
    v
}

/// Every implemented-command case.
pub(crate) fn ready_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(env_cases());
    v.extend(path_cases());
    v.extend(cert_cases(&made_certs()));
    v.extend(sealedsecret_cases());
    v.extend(kustomization_cases());
    v.extend(arg_cases());
    v.extend(clap_cases());
    v
}

fn run_all(cases: &[Case]) -> (usize, Vec<String>) {
    let mut pass = 0;
    let mut failures = Vec::new();
    for c in cases {
        match run_case(c) {
            Ok(()) => pass += 1,
            Err(e) => failures.push(e),
        }
    }
    (pass, failures)
}

#[test]
fn corpus_is_large_and_names_are_unique() {
    let mut all: Vec<String> = ready_cases()
        .into_iter()
        .chain(command_cases())
        .map(|c| c.name)
        .collect();
    let n = all.len();
    let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &all {
        *groups
            .entry(name.split('_').next().unwrap_or(""))
            .or_default() += 1;
    }
    eprintln!("bad-input corpus: {n} cases by prefix: {groups:?}");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "case names are unique");
    assert!(n >= 100, "the corpus has {n} cases, want at least 100");
}

#[test]
fn bad_input_ready_commands() {
    let cases = ready_cases();
    let (pass, failures) = run_all(&cases);
    eprintln!(
        "bad-input corpus (seal, completions, clap): {pass}/{} passed",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_input_other_commands() {
    let cases = command_cases();
    let (pass, failures) = run_all(&cases);
    eprintln!(
        "bad-input corpus (check, cert, unseal, diff, init, --migrate): {pass}/{} passed",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Regression (found by this corpus): `--from` naming a FIFO blocked forever in `open`.
#[test]
fn regression_fifo_env_file_does_not_block() {
    let s = Sandbox::new();
    s.setup(&[Step::Fifo("pipe.env")]);
    let path = s.path("pipe.env");
    let (tx, rx) = std::sync::mpsc::channel();
    // A guard, not a timing assertion: a regression would otherwise hang the suite.
    std::thread::spawn(move || tx.send(emp_seal::fsio::read_limited(&path, 1024)));
    let e = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("read_limited returned instead of blocking on the FIFO")
        .unwrap_err();
    assert!(
        matches!(e, emp_seal::fsio::FsError::NotARegularFile { .. }),
        "{e}"
    );
}

/// Regression: a FIFO where an overlay's generator reads its env file (or where it reads a
/// patch) made `check` and `init --force` block forever in `open` (as `kubectl kustomize`
/// itself does). The model reads no special file: `check` reports the overlay as not
/// buildable, `init` refuses the file.
#[test]
fn regression_fifo_generator_env_file_does_not_block() {
    let s = Sandbox::new();
    s.setup(&[
        Step::Fifo("k8s/overlays/dev/dev-secrets.env"),
        Step::Remove("k8s/overlays/prod/patch-configmap.yaml"),
        Step::Fifo("k8s/overlays/prod/patch-configmap.yaml"),
        Step::Write(PAPER_KUST, paper_kust_with("pipe-resource")),
        Step::Fifo("k8s/overlays/paper/pipe-resource"),
    ]);
    let before = s.snapshot();
    let wait = Duration::from_secs(30);
    let o = (s.cmd().args(["check", "--format", "json"]).timeout(wait))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("\"overlay-build-error\"")
            && stdout.contains("env file k8s/overlays/dev/dev-secrets.env cannot be read")
            && stdout.contains("k8s/overlays/prod/patch-configmap.yaml: not a regular file")
            && stdout.contains("resource `pipe-resource` is not a regular file"),
        "{stdout}"
    );
    let mut init = s.cmd();
    let o = (init
        .args(["init", "dev", "--no-input", "--force"])
        .timeout(wait))
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: ") && first.ends_with("dev-secrets.env: not a regular file"),
        "{stderr}"
    );
    assert_eq!(s.snapshot(), before);
}

/// The paper overlay's kustomization with one more resource, `entry`.
fn paper_kust_with(entry: &str) -> Vec<u8> {
    let k = std::fs::read_to_string(common::repo_root().join(PAPER_KUST)).unwrap();
    let more = format!("  - sealedsecret.yaml\n  - {entry}\n");
    assert!(k.contains("  - sealedsecret.yaml\n"), "{k}");
    k.replacen("  - sealedsecret.yaml\n", &more, 1).into_bytes()
}

/// A file an overlay's build reads (a resource, a generator's env file) is read with the size
/// limit every file `check` reads has: one over it is reported as not read, never read whole.
#[test]
fn build_inputs_over_the_size_limit_are_not_read() {
    let s = Sandbox::new();
    let huge = vec![b'#'; 17 * 1024 * 1024];
    s.setup(&[
        Step::Write(PAPER_KUST, paper_kust_with("huge.yaml")),
        Step::Write("k8s/overlays/paper/huge.yaml", huge.clone()),
        Step::Write("k8s/overlays/dev/dev-secrets.env", huge),
    ]);
    let o = s
        .cmd()
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    let limit = "larger than the 16777216-byte limit: kustomize fails to build";
    assert!(
        stdout.contains(&format!(
            "cannot read k8s/overlays/paper/huge.yaml: {limit}"
        )) && stdout.contains(&format!(
            "env file k8s/overlays/dev/dev-secrets.env cannot be read: {limit}"
        )),
        "{stdout}"
    );
}

/// `check` on a directory holding nothing it reads says that nothing was checked, never "no
/// findings" (which reads as clean).
#[test]
fn check_of_nothing_says_nothing_was_checked() {
    let s = Sandbox::new();
    s.setup(&[Step::Dir("k8s/empty")]);
    let o = s.cmd().args(["check", "k8s/empty"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.starts_with("nothing was checked") && !stdout.contains("no findings"),
        "{stdout}"
    );
}

/// A one-block PEM file with the last bit of its DER flipped. For a private key that is the
/// lowest bit of the CRT coefficient: well-formed DER whose numbers no longer agree.
fn flip_last_der_bit(pem: &str) -> String {
    let label = pem
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .expect("a PEM block");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut der = common::unb64(&body);
    *der.last_mut().expect("non-empty DER") ^= 1;
    let b64 = common::b64(&der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}
