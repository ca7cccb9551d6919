//! The rules of `emp-seal check`: the registry, the input every rule receives ([`Context`]), the
//! central suppression pass and the resulting [`Report`].
//!
//! One rule per file, each with a `pub static META: RuleMeta` and a
//! `pub fn check(cx: &View<'_, '_>) -> Vec<Finding>`. Rules never print, exit, write files or put
//! secret values into findings. Suppression (`# emp-seal:allow <id>`) is applied here, after all
//! rules ran, never inside a rule; suppressed findings are kept.
//!
//! Seams for the coordinator:
//! - Env-file lints come from `envfile` with their own `env-*` ids; [`env::LINTS`] is the list of
//!   their metas that the registry includes, surfaced as-is.
//! - [`Context`] is `#[non_exhaustive]`: models are added as fields with setters.
//! - Every rule's [`RuleMeta::scope`] says how it runs: once over the tree, once over every
//!   YAML/JSON file of the repository, or once per checked overlay with that overlay in focus
//!   ([`View::overlays`] yields it alone), so that each finding is known to come from one
//!   overlay. The rules, and an overlay rule's overlays, run in parallel; the report keeps the
//!   registry's order. Model rules ([`RuleScope::Model`]) are withheld for an overlay kustomize
//!   cannot build and marked unverified for one the model does not fully replay. Those that
//!   judge the rendered model judge each of the overlay's variants too, through
//!   `judge_deployments`.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use rayon::prelude::*;

use crate::crypto::RsaPublicKey;

use crate::finding::{Finding, Report, RuleMeta, RuleScope, Severity, Suppression};

mod certs;
pub mod env;
pub mod locate;
pub mod model;
pub mod sealed_values;
pub mod yamldocs;

/// Whether git tracks a file, as far as the caller found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitStatus {
    /// `git ls-files` lists it.
    Tracked,
    /// Not tracked; `ignored` says whether `.gitignore` covers it.
    Untracked { ignored: bool },
    /// No git repository, or not asked. Rules that need git status skip such files.
    Unknown,
}

/// Repo-relative path to tracked (true) or untracked and not ignored (false), for every file
/// `git ls-files` lists; a file it does not list is ignored.
pub type GitMap = std::collections::BTreeMap<String, bool>;

impl GitStatus {
    /// The status of `rel` in `git` (`None`: no git repository).
    pub fn of(git: Option<&GitMap>, rel: &str) -> GitStatus {
        match git.map(|map| map.get(rel)) {
            None => GitStatus::Unknown,
            Some(Some(true)) => GitStatus::Tracked,
            Some(Some(false)) => GitStatus::Untracked { ignored: false },
            Some(None) => GitStatus::Untracked { ignored: true },
        }
    }
}

/// One file of the checked tree, already read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the tree root, forward slashes.
    pub path: String,
    /// The file's text (files that are not UTF-8 are not given to rules).
    pub text: String,
    pub git: GitStatus,
    /// A YAML/JSON file outside the checked tree, read only for the repository-wide rules
    /// ([`RuleScope::Repository`]): the other rules do not see it.
    pub repository_only: bool,
    /// Why the file could not be read (too large, not UTF-8, unreadable), when it could not:
    /// its text is then empty and `yaml-syntax` or `env-syntax` says that no rule checked it.
    pub unread: Option<String>,
    /// Read as YAML by an environment's build whatever its name (a resource or patch file
    /// named `db-secret` or `secret.txt`): the rules read it as YAML too (see
    /// [`SourceFile::is_yaml`]).
    pub manifest: bool,
}

/// Whether a file outside the tree may hold a Secret or a SealedSecret, so that it is parsed:
/// its text names the kind, or holds a numeric escape (`\u`, `\U`, `\x`), with which a
/// double-quoted YAML or JSON string can spell the kind without its letters (`"\u0053ecret"`,
/// which the API server reads as `Secret`).
pub(crate) fn may_name_secret(text: &str) -> bool {
    text.contains("Secret") || ["\\u", "\\U", "\\x"].iter().any(|e| text.contains(e))
}

impl SourceFile {
    /// A file with unknown git status.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let path: String = path.into();
        SourceFile {
            path: path.replace('\\', "/"),
            text: text.into(),
            git: GitStatus::Unknown,
            repository_only: false,
            unread: None,
            manifest: false,
        }
    }

    /// Marks the file as outside the checked tree (see [`SourceFile::repository_only`]). Only
    /// Secrets, `SealedSecrets`, private keys and the Flux `postBuild` substitutions that write
    /// into Secrets matter there, so the text of a file that names none of them is dropped (the
    /// file still counts as checked).
    #[must_use]
    pub fn repository_only(mut self) -> SourceFile {
        self.repository_only = true;
        if self.is_yaml()
            && !may_name_secret(&self.text)
            && !crate::cert::may_hold_private_key(&self.text)
            && !self.text.contains("postBuild")
        {
            self.text = String::new();
        }
        self
    }

    #[must_use]
    pub fn with_text(mut self, text: String) -> SourceFile {
        self.text = text;
        self
    }

    /// Marks the file as not read, for `reason` (see [`SourceFile::unread`]).
    #[must_use]
    pub fn unread(mut self, reason: String) -> SourceFile {
        self.unread = Some(reason);
        self
    }

    #[must_use]
    pub fn with_git(mut self, git: GitStatus) -> SourceFile {
        self.git = git;
        self
    }

    /// True for a file a build reads as YAML ([`SourceFile::manifest`]) and for `.yaml` /
    /// `.yml` files and `.json` (valid YAML; kubeseal's default output), the extension in any
    /// case (`Secret.YAML`).
    pub fn is_yaml(&self) -> bool {
        self.manifest || crate::workspace::is_manifest(&self.path)
    }
}

/// The public key that seals values for the `SealedSecrets` under one directory.
#[derive(Debug, Clone)]
pub struct EnvironmentKey {
    /// Repo-relative directory (forward slashes, no trailing slash; `""` = whole tree).
    pub dir: String,
    /// The environment certificate's public key.
    pub key: RsaPublicKey,
}

/// Everything a rule may look at. Built by the caller (the CLI) and shared by all rules.
#[derive(Debug)]
#[non_exhaustive]
pub struct Context<'a> {
    /// The tree root the paths are relative to.
    pub root: &'a Path,
    pub files: &'a [SourceFile],
    /// `--release`: stricter checks for release gates (e.g. demo certificates are errors).
    pub release: bool,
    /// Environment keys, most specific directory wins (see [`Context::key_for`]).
    pub keys: Vec<EnvironmentKey>,
    /// Overlays, certificates and env files; empty unless the caller loaded them.
    pub tree: model::TreeModel,
    /// Every parsed YAML document, parsed once on first use and shared by every rule.
    docs: std::sync::OnceLock<yamldocs::Parsed<'a>>,
    /// The overlays' `SealedSecret` files, parsed once on first use (see [`Context::sealed_files`]).
    sealed: std::sync::OnceLock<HashMap<String, model::SealedParse>>,
    /// The files reading each Secret in each overlay, built once on first use (see
    /// [`Context::secret_readers`]).
    readers: std::sync::OnceLock<example_sealed_mismatch::Readers>,
    /// Line starts and documents of the files findings are located in (see [`locate`]).
    positions: locate::Positions<'a>,
}

impl<'a> Context<'a> {
    /// A context over `files` rooted at `root`, not in release mode, with no models.
    pub fn new(root: &'a Path, files: &'a [SourceFile]) -> Context<'a> {
        Context {
            root,
            files,
            release: false,
            keys: Vec::new(),
            tree: model::TreeModel::default(),
            docs: std::sync::OnceLock::new(),
            sealed: std::sync::OnceLock::new(),
            readers: std::sync::OnceLock::new(),
            positions: locate::Positions::default(),
        }
    }

    #[must_use]
    pub fn with_tree(mut self, tree: model::TreeModel) -> Context<'a> {
        self.tree = tree;
        self
    }

    /// The shared parse of every YAML document (see [`yamldocs::yaml_docs`]).
    pub(crate) fn yaml_docs_cache(&self) -> &std::sync::OnceLock<yamldocs::Parsed<'a>> {
        &self.docs
    }

    /// The `SealedSecret` files of every overlay's Secret sources by repo-relative path, as
    /// the `sealedsecret` reader parses them (its error when it refuses one; a file not read is
    /// absent), parsed once.
    pub(crate) fn sealed_files(&self) -> &HashMap<String, model::SealedParse> {
        self.sealed.get_or_init(|| model::parse_sealed_files(self))
    }

    /// By overlay, the files of the workloads reading each Secret (by its name as written),
    /// built once.
    pub(crate) fn secret_readers(&self) -> &example_sealed_mismatch::Readers {
        self.readers
            .get_or_init(|| example_sealed_mismatch::readers(self.all_overlays()))
    }

    #[must_use]
    pub fn release(mut self, release: bool) -> Context<'a> {
        self.release = release;
        self
    }

    /// Whether a finding of rule `id` stands whatever allow comments or `--rules` say: under
    /// `--release`, the built-in [`RELEASE_UNSUPPRESSIBLE`] rules and the config's
    /// `[release] unsuppressible` ones.
    fn unsuppressible(&self, id: &str) -> bool {
        self.release
            && (RELEASE_UNSUPPRESSIBLE.contains(&id)
                || self.tree.release_unsuppressible.iter().any(|r| r == id))
    }

    /// The key for a file: the one whose directory is the longest prefix of `path`.
    pub fn key_for(&self, path: &str) -> Option<&RsaPublicKey> {
        self.keys
            .iter()
            .filter(|k| {
                k.dir.is_empty()
                    || path == k.dir
                    || path
                        .strip_prefix(k.dir.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
            .max_by_key(|k| k.dir.len())
            .map(|k| &k.key)
    }

    /// Every loaded overlay, including those outside a release gate.
    pub fn all_overlays(&self) -> &[model::OverlayModel] {
        &self.tree.overlays
    }

    /// The file with this repo-relative path, if it was read (see [`SourceFile::unread`]).
    pub fn file(&self, path: &str) -> Option<&'a SourceFile> {
        // `check` reads the tree sorted by path; other callers may not.
        let file = match self.files.binary_search_by(|f| f.path.as_str().cmp(path)) {
            Ok(i) => Some(&self.files[i]),
            Err(_) => self.files.iter().find(|f| f.path == path),
        };
        // A file that could not be read has no text to look at: `yaml-syntax` or `env-syntax`
        // reports it, and a rule looking it up must not take its empty text for an empty file.
        file.filter(|f| f.unread.is_none())
    }
}

/// What one run of a rule looks at: the [`Context`] (through `Deref`) and, while an overlay rule
/// runs for one overlay, that overlay in focus.
#[derive(Clone, Copy)]
pub struct View<'c, 'a> {
    cx: &'c Context<'a>,
    /// The overlay in focus: its index in `tree.overlays`.
    focus: Option<usize>,
}

impl<'a> std::ops::Deref for View<'_, 'a> {
    type Target = Context<'a>;

    fn deref(&self) -> &Context<'a> {
        self.cx
    }
}

impl View<'_, '_> {
    /// The overlays the overlay rules report on (see [`model::TreeModel::checked_overlays`]);
    /// only the one in focus while [`run_only`] runs an overlay rule overlay by overlay.
    pub fn overlays(&self) -> impl Iterator<Item = &model::OverlayModel> {
        let focused = self.focus.map(|i| self.tree.overlays[i].name.as_str());
        self.tree
            .checked_overlays()
            .filter(move |o| focused.is_none_or(|f| f == o.name))
    }
}

/// A rule in the registry: its metadata and its check.
pub type Rule = (&'static RuleMeta, fn(&View<'_, '_>) -> Vec<Finding>);

/// Declares each rule's module and registers it, in this order, as `(&META, check)`.
macro_rules! registry {
    ($($rule:ident),* $(,)?) => {
        $(pub mod $rule;)*
        /// Every rule of `emp-seal check` except the env-file lints (see [`env::LINTS`]).
        pub static RULES: &[Rule] = &[(&env::ENV_SYNTAX, env::check), $((&$rule::META, $rule::check)),*];
    };
}

registry!(
    allow_comment_unknown,
    example_generator_mismatch,
    example_sealed_mismatch,
    missing_secret_key,
    dangling_reference,
    placeholder_ciphertext,
    invalid_ciphertext,
    ciphertext_key_size_mismatch,
    identity_mismatch,
    invalid_secret_key,
    sealed_secret_shadowed,
    scope_annotation_misplaced,
    stale_certificate,
    certificate_expired,
    certificate_expiring,
    certificate_weak_key,
    certificate_private_key,
    demo_certificate,
    plaintext_secret,
    committed_private_key,
    plaintext_env_file,
    readable_secret_data,
    render_failed,
    model_divergence,
    overlay_build_error,
    overlay_not_modelled,
    yaml_syntax,
    sealed_with_demo_certificate,
    missing_certificate,
    sealed_secret_unread,
    untracked_build_input,
);

/// Every registered rule's metadata: [`RULES`] followed by the env-file lints, sorted by id.
pub fn all() -> Vec<&'static RuleMeta> {
    let mut v: Vec<&'static RuleMeta> =
        RULES.iter().map(|r| r.0).chain(env::LINTS.iter()).collect();
    v.sort_by_key(|m| m.id);
    v.dedup_by_key(|m| m.id);
    v
}

/// The metadata of a registered rule.
pub fn find(id: &str) -> Option<&'static RuleMeta> {
    all().into_iter().find(|m| m.id == id)
}

/// Rules whose findings are errors under `--release` (a release gate fails on anything that
/// would ship a broken or unsafe secret). Their notes stay notes: a note says what could not be
/// verified (stale-certificate's unrecorded files), never a defect.
pub const RELEASE_ERRORS: &[&str] = &[
    "stale-certificate",
    "certificate-expiring",
    "demo-certificate",
    "readable-secret-data",
    "plaintext-env-file",
    "overlay-not-modelled",
];

/// Rules an allow comment cannot suppress under `--release`: what a release must never ship
/// (values readable with the public demo key or with a private key committed beside the
/// certificate, or sealed with a certificate the gate cannot tie to the environment). Without
/// `--release` their allow comments work as usual.
pub const RELEASE_UNSUPPRESSIBLE: &[&str] = &[
    "demo-certificate",
    "sealed-with-demo-certificate",
    "missing-certificate",
    "stale-certificate",
    "certificate-private-key",
];

/// Rules that run even when `--rules` names others: they say what the chosen rules could not
/// look at (a document that does not parse, an overlay kustomize cannot build), which a
/// narrowed run must not pass in silence.
pub const ALWAYS_RUN: &[&str] = &["yaml-syntax", "overlay-build-error"];

/// Runs every rule over `cx`, applies suppressions and returns the report.
pub fn run(cx: &Context<'_>) -> Report {
    run_only(cx, None)
}

/// Like [`run`], running only the rules whose id is in `only` (every rule when `None`; an env
/// lint runs when `env-syntax` or its own id is listed). [`ALWAYS_RUN`] rules run whatever
/// `only` says, and so, under `--release`, do the rules a release cannot suppress: naming other
/// rules must not switch the release gate's own checks off.
pub fn run_only(cx: &Context<'_>, only: Option<&BTreeSet<String>>) -> Report {
    let selected = |id: &str| {
        only.is_none_or(|ids| ids.contains(id) || ALWAYS_RUN.contains(&id) || cx.unsuppressible(id))
    };
    let env_lint_wanted = |id: &str| {
        id == env::ENV_SYNTAX.id
            && only.is_some_and(|ids| env::LINTS.iter().any(|m| ids.contains(m.id)))
    };
    // The shared parses that are made in parallel are made before the rules run in parallel: a
    // rayon worker blocked on a parse that another job has started could leave the pool no
    // thread to finish it.
    yamldocs::yaml_docs(cx);
    cx.sealed_files();
    let found: Vec<Vec<Finding>> = (RULES.par_iter())
        .filter(|(meta, _)| selected(meta.id) || env_lint_wanted(meta.id))
        .map(|&(meta, check)| match meta.scope {
            RuleScope::Overlay | RuleScope::Model => run_per_overlay(cx, meta, check),
            RuleScope::Tree | RuleScope::Repository => check(&View { cx, focus: None }),
        })
        .collect();
    let mut findings: Vec<Finding> = found.into_iter().flatten().collect();
    findings.retain(|f| selected(f.rule.id));
    if cx.release {
        for f in &mut findings {
            // A note says what was not verified, never a defect: it stays a note.
            if RELEASE_ERRORS.contains(&f.rule.id) && f.severity != Severity::Note {
                f.severity = Severity::Error;
            }
        }
    }
    // Shared files (a base's SealedSecret or reference) are seen once per overlay: keep one
    // finding per rule, place and message.
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| {
        seen.insert((
            f.rule.id,
            f.primary.path.clone(),
            f.primary.line,
            f.primary.column,
            f.message.clone(),
        ))
    });
    finish(cx, findings)
}

/// Runs an overlay rule once per checked overlay, that overlay in focus. A model rule's
/// findings are withheld for an overlay kustomize cannot build, and marked unverified for an
/// overlay the model does not fully replay (see [`RuleScope::Model`]).
fn run_per_overlay(
    cx: &Context<'_>,
    meta: &'static RuleMeta,
    check: fn(&View<'_, '_>) -> Vec<Finding>,
) -> Vec<Finding> {
    let model_rule = meta.scope == RuleScope::Model;
    (cx.tree.overlays.par_iter().enumerate())
        .filter(|(_, ov)| cx.tree.release_env.as_ref().is_none_or(|e| *e == ov.name))
        .filter(|(_, ov)| !(model_rule && ov.fails_build()))
        .flat_map_iter(|(i, ov)| {
            let mut found = check(&View { cx, focus: Some(i) });
            if model_rule && let Some(why) = ov.not_modelled() {
                for f in &mut found {
                    f.unverified = Some(why.clone());
                }
            }
            found
        })
        .collect()
}

/// The findings of a model rule's `judge` on each model the environment `ov` is deployed as
/// ([`model::OverlayModel::deployments`]): its own overlay's, then each variant's. A variant
/// builds its environment, so it repeats the environment's findings: a variant's finding that
/// the environment's own model gives too (the same place and words, but for the overlay's name)
/// is reported once, as the environment's. One only a variant has names the variant, and is
/// unverified when the variant itself uses something the model does not replay.
pub(crate) fn judge_deployments(
    ov: &model::OverlayModel,
    judge: impl Fn(&model::Deployment<'_>) -> Vec<Finding>,
) -> Vec<Finding> {
    let mut deployments = ov.deployments();
    let Some(own) = deployments.next() else {
        return Vec::new();
    };
    let mut out = judge(&own);
    let own_len = out.len();
    let as_own = format!("overlay {}", ov.name);
    for d in deployments {
        let named = format!("overlay {}", d.label());
        let why = d.variant_not_modelled();
        for mut f in judge(&d) {
            let mut same = f.clone();
            same.message = same.message.replacen(&named, &as_own, 1);
            if out[..own_len].contains(&same) {
                continue;
            }
            f.unverified = f.unverified.or_else(|| why.clone());
            out.push(f);
        }
    }
    out
}

/// Applies suppressions to findings produced outside [`run`] (e.g. by the coordinator's
/// rules, or env lints) together with `run`'s, and builds the report. Under `--release`, an
/// allow comment does not suppress a [`RELEASE_UNSUPPRESSIBLE`] rule's finding; the message
/// says so.
pub fn finish(cx: &Context<'_>, mut findings: Vec<Finding>) -> Report {
    apply_suppressions(cx.files, &mut findings);
    if cx.release {
        let blockers = build_blockers(cx);
        for f in &mut findings {
            let blocks = matches!(f.rule.id, "overlay-build-error" | "yaml-syntax")
                && blockers.contains(&f.primary.path);
            if (cx.unsuppressible(f.rule.id) || blocks)
                && let Some(s) = f.suppressed.take()
            {
                f.message.push_str(&format!(
                    " (the allow comment on line {} does not apply under --release)",
                    s.line
                ));
            }
        }
    }
    let mut report = Report::new(findings, cx.files.len(), all());
    report.environments = (cx.tree.checked_overlays())
        .map(|o| o.name.clone())
        .collect();
    report.not_built = (cx.tree.checked_overlays())
        .filter(|o| o.fails_build() || o.variants.iter().any(|v| v.fails_build()))
        .map(|o| o.name.clone())
        .collect();
    report
}

/// The files whose problems keep a checked environment, or one of its variants, from building.
/// A release gate cannot pass an environment it could not build, so under `--release` an allow
/// comment does not suppress `overlay-build-error` or `yaml-syntax` in them.
fn build_blockers(cx: &Context<'_>) -> BTreeSet<String> {
    let problems = (cx.tree.checked_overlays()).flat_map(|o| {
        o.overlay
            .problems()
            .iter()
            .chain(o.variant_problems().map(|(_, p)| p))
    });
    problems
        .filter(|p| p.fails_build())
        .map(|p| crate::workspace::path_str(&p.origin.file))
        .collect()
}

pub const ALLOW_DIRECTIVE: &str = "emp-seal:allow";

/// A parsed `# emp-seal:allow id[,id...] [justification]` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowComment {
    pub ids: BTreeSet<String>,
    /// Text after the ids, if any.
    pub justification: Option<String>,
}

/// Parses an allow comment anywhere in `line`: a `#`, optional spaces, `emp-seal:allow`, spaces,
/// then comma-separated ids (spaces after commas allowed), then an optional justification
/// (a leading `--` or `:` is dropped).
pub fn parse_allow(line: &str) -> Option<AllowComment> {
    directive_in(line).and_then(parse_ids)
}

/// The text after the first allow directive in `line` (a `#`, optional spaces,
/// `emp-seal:allow`, then a blank or the line's end), ids and justification still in it.
pub(crate) fn directive_in(line: &str) -> Option<&str> {
    let mut search = line;
    loop {
        let hash = search.find('#')?;
        let after = search[hash + 1..].trim_start_matches([' ', '\t']);
        if let Some(rest) = after.strip_prefix(ALLOW_DIRECTIVE)
            && (rest.is_empty() || rest.starts_with([' ', '\t']))
        {
            return Some(rest);
        }
        search = &search[hash + 1..];
    }
}

pub(crate) fn parse_ids(rest: &str) -> Option<AllowComment> {
    let mut ids = BTreeSet::new();
    let mut s = rest.trim_start();
    loop {
        let end = s
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .unwrap_or(s.len());
        if end == 0 {
            break;
        }
        ids.insert(s[..end].to_string());
        s = &s[end..];
        match s.trim_start_matches([' ', '\t']).strip_prefix(',') {
            Some(next) => s = next.trim_start_matches([' ', '\t']),
            None => break,
        }
    }
    if ids.is_empty() {
        return None;
    }
    let j = s
        .trim()
        .trim_start_matches("--")
        .trim_start_matches(':')
        .trim();
    Some(AllowComment {
        ids,
        justification: (!j.is_empty()).then(|| j.to_string()),
    })
}

/// Marks findings covered by an allow comment as suppressed; never removes any.
///
/// A finding is covered when its primary line carries `# emp-seal:allow <id>` (a trailing
/// comment), or when the line directly above it is a comment-only line carrying it. The second
/// form exists for env files, where kustomize keeps a trailing `# ...` as part of the value, so a
/// trailing allow comment would change the deployed secret. Only a real comment counts
/// (`allow_comments`): the same text inside a quoted value or a block scalar is data, and a
/// JSON file has no comments at all.
pub fn apply_suppressions(files: &[SourceFile], findings: &mut [Finding]) {
    let mut by_path: HashMap<&str, &SourceFile> = HashMap::new();
    for file in files {
        by_path.entry(file.path.as_str()).or_insert(file);
    }
    let mut comments: HashMap<&str, Vec<Option<(&str, bool)>>> = HashMap::new();
    for f in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
        let Some(file) = by_path.get(f.primary.path.as_str()) else {
            continue;
        };
        let lines = comments
            .entry(file.path.as_str())
            .or_insert_with(|| allow_comments(file));
        let idx = usize::try_from(f.primary.line)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        let own = lines.get(idx).copied().flatten();
        let above = idx
            .checked_sub(1)
            .and_then(|i| lines.get(i).copied().flatten())
            .filter(|(_, alone)| *alone);
        let candidates = [
            own.map(|(c, _)| (c, f.primary.line)),
            above.map(|(c, _)| (c, f.primary.line - 1)),
        ];
        for (text, line) in candidates.into_iter().flatten() {
            if let Some(allow) = parse_allow(text)
                && allow.ids.contains(f.rule.id)
            {
                f.suppressed = Some(Suppression {
                    line,
                    justification: allow.justification,
                });
                break;
            }
        }
    }
}

/// Each line's comment (from its `#`) and whether the line holds nothing else, as the YAML
/// layer finds comments ([`crate::yamlpos::comment_offsets`]); env files and key files reach
/// the rules as their comment lines only, which it reads the same way. None in a JSON file.
pub(crate) fn allow_comments(file: &SourceFile) -> Vec<Option<(&str, bool)>> {
    if file.path.to_ascii_lowercase().ends_with(".json") {
        return Vec::new();
    }
    crate::yamlpos::comment_offsets(&file.text)
        .into_iter()
        .zip(file.text.lines())
        .map(|(at, line)| at.map(|at| (&line[at..], line[..at].trim().is_empty())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;

    #[test]
    fn ids_are_unique_kebab_case_and_stable() {
        let metas: Vec<&RuleMeta> = RULES.iter().map(|r| r.0).chain(env::LINTS.iter()).collect();
        let unique: BTreeSet<&str> = metas.iter().map(|m| m.id).collect();
        assert_eq!(unique.len(), metas.len(), "duplicate rule id");
        for m in &metas {
            assert!(
                m.id.split('-').all(|p| !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
                "{} is not kebab-case",
                m.id
            );
            assert!(!m.summary.is_empty() && !m.hint.is_empty(), "{}", m.id);
        }
        let ids: Vec<&str> = all().into_iter().map(|m| m.id).collect();
        insta::assert_snapshot!(ids.join("\n"), @r"
        allow-comment-unknown
        certificate-expired
        certificate-expiring
        certificate-private-key
        certificate-weak-key
        ciphertext-key-size-mismatch
        committed-private-key
        dangling-reference
        demo-certificate
        env-bare-cr
        env-bom
        env-crlf
        env-empty-key
        env-escape-sequence
        env-export-prefix
        env-inline-comment
        env-invalid-key
        env-key-not-env-name
        env-leading-whitespace
        env-missing-equals
        env-multiline-attempt
        env-multiline-value
        env-quoted-value
        env-space-around-equals
        env-syntax
        env-trailing-whitespace
        env-variable-expansion
        example-generator-mismatch
        example-sealed-mismatch
        identity-mismatch
        invalid-ciphertext
        invalid-secret-key
        missing-certificate
        missing-secret-key
        model-divergence
        overlay-build-error
        overlay-not-modelled
        placeholder-ciphertext
        plaintext-env-file
        plaintext-secret
        readable-secret-data
        render-failed
        scope-annotation-misplaced
        sealed-secret-shadowed
        sealed-secret-unread
        sealed-with-demo-certificate
        stale-certificate
        untracked-build-input
        yaml-syntax
        ");
    }

    #[test]
    fn every_rule_is_documented() {
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"),
        )
        .expect("docs/rules.md");
        for m in all() {
            assert!(
                docs.contains(&format!("<a id=\"{}\"></a>", m.id))
                    && docs.contains(&format!("### {}\n", m.id))
                    && docs.contains(m.summary)
                    && docs.contains(m.hint),
                "docs/rules.md is missing or out of date for {}",
                m.id
            );
        }
    }

    #[test]
    fn parse_allow_forms() {
        let a = parse_allow(
            "KEY: x # emp-seal:allow plaintext-secret, readable-secret-data -- test fixture",
        )
        .unwrap();
        assert_eq!(
            a.ids.iter().map(String::as_str).collect::<Vec<_>>(),
            ["plaintext-secret", "readable-secret-data"]
        );
        assert_eq!(a.justification.as_deref(), Some("test fixture"));
        assert_eq!(
            parse_allow("#emp-seal:allow x").unwrap().justification,
            None
        );
        assert!(parse_allow("# emp-seal:allowx").is_none());
        assert!(parse_allow("# emp-seal:allow").is_none());
        assert!(parse_allow("no comment").is_none());
    }

    #[test]
    fn suppression_on_line_and_above() {
        let files = [SourceFile::new(
            "a.yaml",
            "a: 1 # emp-seal:allow plaintext-secret\n# emp-seal:allow plaintext-secret\nb: 2\nc: 3 # emp-seal:allow other\n",
        )];
        let mk = |line| {
            Finding::new(
                &plaintext_secret::META,
                Location::new("a.yaml", line, 1),
                "m",
            )
        };
        let mut fs = vec![mk(1), mk(3), mk(4)];
        apply_suppressions(&files, &mut fs);
        assert_eq!(fs[0].suppressed.as_ref().map(|s| s.line), Some(1));
        assert_eq!(fs[1].suppressed.as_ref().map(|s| s.line), Some(2));
        assert!(fs[2].suppressed.is_none(), "other id does not suppress");
        let report = Report::new(fs, 1, all());
        assert_eq!(report.findings.len(), 3, "suppressed findings are kept");
        assert_eq!(report.exit_code(Severity::Error), 1);
        assert_eq!(report.summary().suppressed, 2);
    }
}
