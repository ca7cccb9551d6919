//! `emp-seal init ENV`: create an overlay's untracked env files (e.g. `dev-secrets.env`) from
//! their tracked examples, keeping each example's comments, order and layout and replacing only
//! the values.
//!
//! Owns: finding every env file the overlay's Secret generators read and each one's `.example`,
//! refusing (before writing anything) an env file kustomize would not load or that lies outside
//! the repository, leaving existing files alone without `force`, and writing the new files with
//! mode 0600. Must not print or prompt by itself (the caller's [`Prompter`] asks), and never puts
//! a value into an error.
//!
//! The files *are* plaintext by design: each is written with [`crate::fsio::write_private`]
//! (mode 0600; an anonymous temp file linked into place, so a crash leaves no file or the whole
//! file, never a torn one, and no stray copy).

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::envfile;
use crate::fsio;
use crate::kustomize::{EnvSource, GeneratedKind, Origin, Overlay, SecretSource};
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
    #[error("{env}: no example for {files} (expected <file>.example next to it)")]
    NoExample { env: String, files: String },
    /// The load restriction the overlay is built with refuses an env file a generator names
    /// (kustomize's default: outside the kustomization's directory; Flux's: outside the
    /// repository): no file is written.
    #[error("{origin}: {problem}; init writes no file")]
    Refused {
        /// The generator's entry naming the file (`FILE:LINE`).
        origin: String,
        /// The model's judgement (see [`Overlay::load_refusal`]).
        problem: String,
    },
    /// An env file is outside the repository (the bound the overlay's files are loaded within:
    /// the git top level for an overlay only Flux deploys, else the root), or its directory
    /// cannot be resolved: no file is written.
    #[error("{origin}: env file {file} {reason}; init writes no file")]
    Unwritable {
        origin: String,
        file: String,
        reason: String,
    },
    #[error("{file} already exists; not overwriting it")]
    Exists { file: String },
    /// Something other than a file is at an env file's path: kustomize cannot read it as one,
    /// and init does not replace it. No file is written.
    #[error("{file} {what}, not an env file: kustomize cannot read it; init writes no file")]
    NotAFile {
        file: String,
        /// What is there (`is a directory`, `is a link that cannot be followed`).
        what: &'static str,
    },
    #[error("{env}: not on a terminal, so values cannot be asked for")]
    NotInteractive { env: String },
    #[error("the value for `{key}` {reason}; the env file format cannot carry it")]
    BadValue { key: String, reason: &'static str },
    #[error("{file}: cannot write: {reason}{created}")]
    Write {
        file: String,
        reason: String,
        /// The files this run created before it (`""`, or ` (created before it: A, B)`).
        created: String,
    },
    /// The example does not parse.
    #[error(transparent)]
    Env(#[from] envfile::EnvError),
    #[error(transparent)]
    Fs(#[from] fsio::FsError),
}

impl InitError {
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            InitError::Seal(e) => return e.hint(),
            InitError::Exists { .. } => "add --force to replace it",
            InitError::NotAFile { .. } => "move it out of the way, then run init again",
            InitError::NotInteractive { .. } => {
                "run it on a terminal, or pass --no-input to keep the example's values"
            }
            InitError::NoEnvFile { .. } => {
                "init creates the env files a SecretGenerator reads; a SealedSecret is sealed with `emp-seal ENV --from FILE`"
            }
            InitError::Refused { .. } => {
                "keep the env file in or below the directory of the kustomization naming it (inside the repository for an overlay only Flux deploys)"
            }
            InitError::Env(e) => e.hint()?,
            InitError::Fs(e) => e.hint()?,
            _ => return None,
        };
        Some(hint.to_owned())
    }
}

/// What [`init`] did.
#[derive(Debug, Default)]
pub struct InitOutcome {
    /// The env files written, in the order the generators name them.
    pub created: Vec<Created>,
    /// Env files that exist and were left as they are (all of them without `force`; with it,
    /// those without an example).
    pub existing: Vec<PathBuf>,
    /// `files:` sources of the Secret generators that do not exist: init does not create them.
    pub missing_files: Vec<PathBuf>,
}

/// One env file [`init`] wrote.
#[derive(Debug)]
pub struct Created {
    pub file: PathBuf,
    /// The file's path from the repository root with its directory's links resolved: where git
    /// keeps it (with `..` steps for one above the root, in a repository whose top is above it,
    /// which an overlay only Flux deploys loads).
    pub in_repository: PathBuf,
    pub example: PathBuf,
    /// Keys whose value was typed.
    pub asked: Vec<String>,
    /// Keys that kept the example's value.
    pub kept: Vec<String>,
    /// A file was there (`--force`) and is replaced.
    pub replaced: bool,
}

/// An env file a Secret generator of the overlay reads.
#[derive(Debug)]
struct Target {
    /// The path, joined to the root (an absolute path as it is).
    file: PathBuf,
    /// As messages name it.
    name: String,
    in_repository: PathBuf,
}

/// The env files the overlay's Secret generators read, each once, in their order, and the
/// missing `files:` sources. Refuses any env file kustomize would not load or that is outside
/// the repository, so that nothing is written when one is.
///
/// # Errors
/// [`InitError::NoEnvFile`], [`InitError::Refused`], [`InitError::Unwritable`], or the
/// environment's errors.
fn targets(root: &Path, env: &str) -> Result<(Vec<Target>, Vec<PathBuf>), InitError> {
    crate::workspace::overlay_dir(root, env)?;
    let overlay = Overlay::load(root, env).map_err(SealError::from)?;
    let specs = (overlay.generated().iter())
        .filter(|g| g.kind == GeneratedKind::Secret)
        .flat_map(|g| &g.specs);
    let mut targets: Vec<Target> = Vec::new();
    let mut missing_files = Vec::new();
    // Where init may write, both resolved: the root, and the bound the model loads the
    // overlay's files within (`Overlay::load_bound`: the repository's top level for an
    // overlay only Flux deploys, else the root).
    let bound = std::fs::canonicalize(root)
        .and_then(|r| Ok((r, std::fs::canonicalize(overlay.load_bound(root))?)));
    for spec in specs {
        for EnvSource { path, line } in &spec.envs {
            // kustomize would not load it, so a file written there cannot make the build work.
            if let Some(p) = overlay.load_refusal(path) {
                return Err(InitError::Refused {
                    origin: shown_at(root, &p.origin),
                    problem: p.message.clone(),
                });
            }
            let file = root.join(path);
            let entry = Origin::new(&spec.origin.file, *line);
            let in_repository = inside_repository(root, &bound, &file, &entry)?;
            if !targets.iter().any(|t| t.in_repository == in_repository) {
                let name = rel(root, &file);
                targets.push(Target {
                    file,
                    name,
                    in_repository,
                });
            }
        }
        for f in &spec.files {
            // Following links: a link to nothing is no source kustomize can read.
            let absent = std::fs::metadata(root.join(&f.path)).is_err();
            if absent && !missing_files.contains(&f.path) {
                missing_files.push(f.path.clone());
            }
        }
    }
    if targets.is_empty() {
        let sealed = (overlay.secret_sources().iter())
            .find_map(SecretSource::as_sealed)
            .map(|s| format!("a SealedSecret in {}", s.file.display()));
        return Err(InitError::NoEnvFile {
            env: env.to_owned(),
            desc: sealed.unwrap_or_else(|| "it has no Secret source".to_owned()),
        });
    }
    Ok((targets, missing_files))
}

/// Where `file` really is (its directory with symlinks resolved, and its name) from the root
/// (with `..` steps when it is above it, in a repository whose top is above the root), refused
/// unless that is inside the bound's top (`bound`: the resolved root and top): init never writes
/// outside it.
fn inside_repository(
    root: &Path,
    bound: &std::io::Result<(PathBuf, PathBuf)>,
    file: &Path,
    entry: &Origin,
) -> Result<PathBuf, InitError> {
    let refuse = |reason: String| InitError::Unwritable {
        origin: shown_at(root, entry),
        file: rel(root, file),
        reason,
    };
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return Err(refuse("is not a file path".to_owned()));
    };
    let dir = std::fs::canonicalize(dir)
        .map_err(|e| refuse(format!("is in a directory that cannot be resolved ({e})")))?;
    let (canon_root, top) = bound.as_ref().map_err(|e| {
        refuse(format!(
            "cannot be placed: the repository cannot be resolved ({e})"
        ))
    })?;
    if let Ok(inside) = dir.strip_prefix(canon_root) {
        return Ok(inside.join(name));
    }
    // Above the root, within the top: `..` up to the top, then down to the file.
    match (dir.strip_prefix(top), canon_root.strip_prefix(top)) {
        (Ok(inside), Ok(below)) => Ok(below
            .components()
            .map(|_| Path::new(".."))
            .collect::<PathBuf>()
            .join(inside)
            .join(name)),
        _ => Err(refuse("is outside the repository".to_owned())),
    }
}

/// `FILE:LINE` of `origin` as messages name files (a file outside the repository relative to it
/// too, with `..` steps resolved).
fn shown_at(root: &Path, origin: &Origin) -> String {
    format!("{}:{}", rel(root, &root.join(&origin.file)), origin.line)
}

fn example_of(file: &Path) -> PathBuf {
    let mut example = file.to_path_buf().into_os_string();
    example.push(".example");
    PathBuf::from(example)
}

/// Creates every missing env file `env`'s Secret generators read, each from its example, and
/// leaves the existing ones as they are (with `force`, replaces those that have an example).
/// With a prompter that can prompt, asks every key (an empty answer keeps the example's value);
/// with `no_input`, keeps every example value.
///
/// # Errors
/// Any [`InitError`]; nothing is written when a check fails, an example is missing or does not
/// parse, or a prompt fails. A write that fails after others names those it created.
pub fn init(
    root: &Path,
    env: &str,
    force: bool,
    no_input: bool,
    prompter: &mut dyn Prompter,
) -> Result<InitOutcome, InitError> {
    let (targets, missing_files) = targets(root, env)?;
    let mut outcome = InitOutcome {
        missing_files,
        ..InitOutcome::default()
    };
    let mut todo = Vec::new();
    let mut no_example = Vec::new();
    for t in targets {
        let example = example_of(&t.file);
        // Anything at the example's path (even a directory or a dangling link) is the example
        // the user meant: reading it then reports its real problem, naming it.
        let has_example = std::fs::symlink_metadata(&example).is_ok();
        let exists = std::fs::symlink_metadata(&t.file).is_ok();
        if let Some(what) = exists.then(|| not_a_file(&t.file)).flatten() {
            return Err(InitError::NotAFile { file: t.name, what });
        }
        match (exists, has_example) {
            (true, true) if force => todo.push((t, example)),
            (true, _) => outcome.existing.push(t.file),
            (false, true) => todo.push((t, example)),
            (false, false) => no_example.push(t.name),
        }
    }
    if !no_example.is_empty() {
        return Err(InitError::NoExample {
            env: env.to_owned(),
            files: no_example.join(", "),
        });
    }
    if todo.is_empty() {
        return Ok(outcome);
    }
    // Refused before the first prompt, so that no typed value is lost: a file `force` would
    // replace that is read-only, or a directory that cannot take the file.
    fsio::refuse_read_only(todo.iter().map(|(t, _)| t.file.as_path()))?;
    for (t, _) in &todo {
        if let Some(dir) = t.file.parent() {
            fsio::refuse_unwritable_dir(dir)?;
        }
    }
    if !no_input && !prompter.can_prompt() {
        return Err(InitError::NotInteractive {
            env: env.to_owned(),
        });
    }
    let several = todo.len() > 1;
    let mut planned = Vec::new();
    for (t, example) in todo {
        // With several files, each prompt names the file its key goes to.
        let label = if several {
            format!("{env} ({})", t.name)
        } else {
            env.to_owned()
        };
        planned.push(from_example(root, &label, t, example, no_input, prompter)?);
    }
    write_all(root, planned, force, &mut outcome)?;
    Ok(outcome)
}

/// What is at `path`, when it is there but is no file (following links): kustomize reads an
/// env file's bytes, so neither can be one.
fn not_a_file(path: &Path) -> Option<&'static str> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Some("is a directory"),
        Ok(_) => None,
        Err(_) => Some("is a link that cannot be followed"),
    }
}

/// An env file to write: what [`InitOutcome`] records of it, its name and its new text.
struct Planned {
    created: Created,
    name: String,
    text: Zeroizing<Vec<u8>>,
}

/// The new text of `t` from its example: each key asked (or kept, with `no_input`) under the
/// prompt label `label`.
fn from_example(
    root: &Path,
    label: &str,
    t: Target,
    example: PathBuf,
    no_input: bool,
    prompter: &mut dyn Prompter,
) -> Result<Planned, InitError> {
    let text = Zeroizing::new(fsio::read_limited(&example, MAX_INPUT_BYTES)?);
    let parsed = envfile::parse_with_path(Path::new(&rel(root, &example)), &text)?;
    // Never ask for, or list, a "key" that may be a piece of a value (a pasted value, a line
    // without `=`): seal would refuse such a file anyway.
    parsed.refuse_non_keys_with_path(Path::new(&rel(root, &example)))?;
    let (asked, kept, answers) = ask_values(label, &parsed, no_input, prompter)?;
    let out = splice(&text, answers);
    // Whatever was spliced must read back as the same keys (a guard against span bugs).
    let back = envfile::parse(&out)?;
    if back.keys().ne(parsed.keys()) {
        return Err(InitError::Write {
            file: t.name.clone(),
            reason: "internal check failed: the new file would not keep the example's keys"
                .to_owned(),
            created: String::new(),
        });
    }
    let created = Created {
        replaced: t.file.symlink_metadata().is_ok(),
        file: t.file,
        in_repository: t.in_repository,
        example,
        asked,
        kept,
    };
    Ok(Planned {
        created,
        name: t.name,
        text: out,
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

/// The example's text with each answer in place of the value span it replaces, in one buffer
/// sized up front (no reallocation leaves a copy of a value behind).
fn splice(text: &[u8], mut answers: Answers) -> Zeroizing<Vec<u8>> {
    answers.sort_by_key(|(span, _)| span.start);
    let typed: usize = answers.iter().map(|(_, v)| v.len()).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() + typed));
    let mut at = 0;
    for (span, v) in &answers {
        // The spans do not overlap: one entry per key and per line (the env parser refuses a
        // repeated key).
        out.extend_from_slice(&text[at..span.start]);
        out.extend_from_slice(v.expose_secret());
        at = span.end;
    }
    out.extend_from_slice(&text[at..]);
    out
}

/// Writes the planned env files with mode 0600, refusing an existing one unless `force`, and
/// records them in `outcome`.
fn write_all(
    root: &Path,
    planned: Vec<Planned>,
    force: bool,
    outcome: &mut InitOutcome,
) -> Result<(), InitError> {
    // Writers of one file serialise (fsio::lock_for_write); without --force, write_private
    // itself refuses a file another run created meanwhile.
    let files: Vec<&Path> = planned.iter().map(|p| p.created.file.as_path()).collect();
    let _lock = fsio::lock_for_write(&files)?;
    for Planned {
        created,
        name,
        text,
    } in planned
    {
        if let Err(e) = fsio::write_private(&created.file, &text, force) {
            let done: Vec<String> = (outcome.created.iter())
                .map(|c| rel(root, &c.file))
                .collect();
            return Err(match e {
                fsio::FsError::AlreadyExists { .. } if done.is_empty() => {
                    InitError::Exists { file: name }
                }
                e => InitError::Write {
                    file: name,
                    reason: e.to_string(),
                    created: if done.is_empty() {
                        String::new()
                    } else {
                        format!(" (created before it: {})", done.join(", "))
                    },
                },
            });
        }
        outcome.created.push(created);
    }
    Ok(())
}
