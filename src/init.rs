//! `emp-seal init ENV`: create an overlay's untracked env file (e.g. `dev-secrets.env`) from
//! its tracked example, keeping the example's comments, order and layout and replacing only the
//! values.
//!
//! Owns: finding the env file a `SecretGenerator` reads and its `.example`, the refusal to
//! overwrite without `force`, and writing the new file with mode 0600. Must not print or prompt by
//! itself (the caller's [`Prompter`] asks), and never puts a value into an error.
//!
//! The file *is* plaintext by design: it is written with [`crate::fsio::write_private`] (mode
//! 0600; an anonymous temp file linked into place, so a crash leaves no file or the whole file,
//! never a torn one, and no stray copy).

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::envfile;
use crate::fsio;
use crate::kustomize::{Overlay, SecretSource};
use crate::seal::{Prompter, SealError};
use crate::secret::SecretValue;
use crate::workspace::{MAX_INPUT_BYTES, rel};

/// Errors of `emp-seal init`. Messages name files and keys, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// Resolving the environment or a prompt failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("{env}: the overlay's Secret does not come from an env file ({desc})")]
    NoEnvFile {
        env: String,
        /// Where it comes from instead.
        desc: String,
    },
    /// None of the generator's env files has an `.example` next to it.
    #[error("{env}: no example for {files} (expected <file>.example next to it)")]
    NoExample { env: String, files: String },
    #[error("{file} already exists; not overwriting it")]
    Exists { file: String },
    /// Prompting is impossible and `--no-input` was not given.
    #[error("{env}: not on a terminal, so values cannot be asked for")]
    NotInteractive { env: String },
    /// An answer cannot be written in the env dialect.
    #[error("the value for `{key}` {reason}; the env file format cannot carry it")]
    BadValue { key: String, reason: &'static str },
    #[error("{file}: cannot write: {reason}")]
    Write {
        file: String,
        /// The OS error.
        reason: String,
    },
    /// The example does not parse.
    #[error(transparent)]
    Env(#[from] envfile::EnvError),
    #[error(transparent)]
    Fs(#[from] fsio::FsError),
}

impl InitError {
    pub fn hint(&self) -> Option<String> {
        match self {
            InitError::Seal(e) => e.hint(),
            InitError::Exists { .. } => Some("add --force to replace it".to_owned()),
            InitError::NotInteractive { .. } => {
                Some("run it on a terminal, or pass --no-input to keep the example's values".to_owned())
            }
            InitError::NoEnvFile { .. } => Some(
                "init creates the env file a SecretGenerator reads; a SealedSecret is sealed with `emp-seal ENV --from FILE`"
                    .to_owned(),
            ),
            InitError::Env(e) => e.hint().map(str::to_owned),
            InitError::Fs(e) => e.hint().map(str::to_owned),
            _ => None,
        }
    }
}

/// What [`init`] did.
#[derive(Debug)]
pub struct InitOutcome {
    pub file: PathBuf,
    pub example: PathBuf,
    /// Keys whose value was typed.
    pub asked: Vec<String>,
    /// Keys that kept the example's value.
    pub kept: Vec<String>,
}

/// Finds the env file of `env`'s `SecretGenerator` that has an `.example`: `(file, example)`.
///
/// # Errors
/// [`InitError::NoEnvFile`], [`InitError::NoExample`], or the environment's errors.
pub fn locate(root: &Path, env: &str) -> Result<(PathBuf, PathBuf), InitError> {
    crate::workspace::overlay_dir(root, env)?;
    let overlay = Overlay::load(root, env).map_err(SealError::from)?;
    let mut envs = Vec::new();
    let mut other = None;
    for s in overlay.secret_sources() {
        match s {
            SecretSource::Generator { envs: e, .. } => envs.extend(e),
            SecretSource::Sealed { file, .. } => {
                other.get_or_insert_with(|| format!("a SealedSecret in {}", file.display()));
            }
        }
    }
    if envs.is_empty() {
        return Err(InitError::NoEnvFile {
            env: env.to_owned(),
            desc: other.unwrap_or_else(|| "it has no Secret source".to_owned()),
        });
    }
    // `join` keeps an absolute path as it is.
    for e in &envs {
        let file = root.join(e);
        let mut example = file.clone().into_os_string();
        example.push(".example");
        let example = PathBuf::from(example);
        // Anything at that path (even a directory or a dangling link) is the example the user
        // meant: reading it then reports its real problem, naming it.
        if std::fs::symlink_metadata(&example).is_ok() {
            return Ok((file, example));
        }
    }
    Err(InitError::NoExample {
        env: env.to_owned(),
        files: envs
            .iter()
            .map(|p| rel(root, &root.join(p)))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Creates `env`'s env file from its example. With a prompter that can prompt, asks every key
/// (an empty answer keeps the example's value); with `no_input`, keeps every example value.
/// Refuses an existing file unless `force`.
///
/// # Errors
/// Any [`InitError`]; nothing is written on error.
pub fn init(
    root: &Path,
    env: &str,
    force: bool,
    no_input: bool,
    prompter: &mut dyn Prompter,
) -> Result<InitOutcome, InitError> {
    let (file, example) = locate(root, env)?;
    let file_name = rel(root, &file);
    if !force && std::fs::symlink_metadata(&file).is_ok() {
        return Err(InitError::Exists { file: file_name });
    }
    if !no_input && !prompter.can_prompt() {
        return Err(InitError::NotInteractive {
            env: env.to_owned(),
        });
    }
    let text = Zeroizing::new(fsio::read_limited(&example, MAX_INPUT_BYTES)?);
    let parsed = envfile::parse_with_path(Path::new(&rel(root, &example)), &text)?;
    // Never ask for, or list, a "key" that may be a piece of a value (a pasted value, a line
    // without `=`): seal would refuse such a file anyway.
    parsed.refuse_non_keys_with_path(Path::new(&rel(root, &example)))?;
    let (asked, kept, answers) = ask_values(env, &parsed, no_input, prompter)?;
    let out = splice(&text, answers);
    // Whatever was spliced must read back as the same keys (a guard against span bugs).
    let back = envfile::parse(&out)?;
    if back.keys().ne(parsed.keys()) {
        return Err(InitError::Write {
            file: file_name,
            reason: "internal check failed: the new file would not keep the example's keys"
                .to_owned(),
        });
    }
    write_env_file(&file, &file_name, &out, force)?;
    Ok(InitOutcome {
        file,
        example,
        asked,
        kept,
    })
}

/// Typed values with the value spans of the example they replace.
type Answers = Vec<(std::ops::Range<usize>, SecretValue)>;

/// Asks every key of the example (none with `no_input`); an empty answer keeps the example's
/// value. Returns the keys typed, the keys kept, and the answers. Refuses an answer the env
/// dialect cannot carry.
fn ask_values(
    env: &str,
    parsed: &envfile::EnvFile,
    no_input: bool,
    prompter: &mut dyn Prompter,
) -> Result<(Vec<String>, Vec<String>, Answers), InitError> {
    let mut asked = Vec::new();
    let mut kept = Vec::new();
    let mut answers = Vec::new();
    for e in &parsed.entries {
        let answer = (!no_input).then(|| prompter.ask(env, &e.key)).transpose()?;
        let Some(v) = answer.filter(|v| !v.is_empty()) else {
            kept.push(e.key.clone());
            continue;
        };
        if let Some(reason) = unwritable(v.expose_secret()) {
            return Err(InitError::BadValue {
                key: e.key.clone(),
                reason,
            });
        }
        asked.push(e.key.clone());
        answers.push((e.value_span.clone(), v));
    }
    Ok((asked, kept, answers))
}

/// Why a typed value cannot be written as one env-file value, if it cannot.
fn unwritable(bytes: &[u8]) -> Option<&'static str> {
    if bytes.contains(&b'\n') || bytes.contains(&b'\r') {
        Some("contains a line break")
    } else if std::str::from_utf8(bytes).is_err() {
        Some("is not valid utf-8")
    } else {
        None
    }
}

/// The example's text with each answer in place of the value span it replaces.
fn splice(text: &[u8], mut answers: Answers) -> Zeroizing<Vec<u8>> {
    // Last first, so earlier spans stay valid.
    let mut out = Zeroizing::new(text.to_vec());
    answers.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    for (span, v) in &answers {
        let mut next = Zeroizing::new(Vec::with_capacity(out.len() + v.len()));
        next.extend_from_slice(&out[..span.start]);
        next.extend_from_slice(v.expose_secret());
        next.extend_from_slice(&out[span.end..]);
        out = next;
    }
    out
}

/// Writes the new env file with mode 0600, refusing an existing one unless `force`.
fn write_env_file(file: &Path, file_name: &str, out: &[u8], force: bool) -> Result<(), InitError> {
    // Writers of one file serialise (fsio::lock_for_write); without --force, write_private
    // itself refuses a file another run created meanwhile.
    let _lock = fsio::lock_for_write(&[file])?;
    fsio::write_private(file, out, force).map_err(|e| match e {
        fsio::FsError::AlreadyExists { .. } => InitError::Exists {
            file: file_name.to_owned(),
        },
        e => InitError::Write {
            file: file_name.to_owned(),
            reason: e.to_string(),
        },
    })
}
