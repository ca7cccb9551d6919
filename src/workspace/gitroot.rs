//! Where emp-seal's root sits in its git repository. Argo CD (`spec.source.path`, argo-cd
//! `pkg/apis/application/v1alpha1/types.go`: a directory path within the git repository) and Flux
//! (`spec.path`, fluxcd/kustomize-controller `api/v1/kustomization_types.go`, relative to the
//! source's root) name directories relative to the git repository's top level, which is above
//! emp-seal's root when that root is found by its config file or its `k8s/overlays` directory
//! inside a larger repository (a monorepo's `services/api`). Those paths are mapped into the
//! root here, and the objects written outside the root are listed for discovery to read.
//!
//! When git cannot answer (it is not on PATH, it refuses the repository as of dubious
//! ownership, `GIT_DIR` names no repository) while the root is in a repository, the root is
//! taken as the top, the cautious side: nothing above it is read or loaded. [`notes`] says so
//! for `check` to print.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

/// Where the root is in its git repository, as git answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GitRoot {
    /// The root is the top level (it holds `.git`).
    Top,
    /// The root is below the top level, at this path (`services/api`, forward slashes).
    Below(String),
    /// No directory from the root up holds `.git` and `GIT_DIR` is not set: in no repository.
    NotARepository,
    /// The root is in a repository (a `.git` above it, or `GIT_DIR` set), but git could not be
    /// asked where it is, for this reason (git's first line of error, or why it could not run).
    GitFailed(String),
}

/// Where the root is in its git repository. Asked of git once per root and process.
fn locate(root: &Path) -> GitRoot {
    static LOCATED: OnceLock<Mutex<HashMap<PathBuf, GitRoot>>> = OnceLock::new();
    let cache = LOCATED.get_or_init(Mutex::default);
    if let Some(g) = cache.lock().ok().and_then(|c| c.get(root).cloned()) {
        return g;
    }
    let asked = if root.join(".git").exists() {
        GitRoot::Top
    } else if in_a_repository(root) {
        match git(root, &["rev-parse", "--show-prefix"]) {
            Ok(out) => match out.trim_end_matches(['\n', '/']) {
                "" => GitRoot::Top,
                p => GitRoot::Below(p.to_owned()),
            },
            Err(reason) => GitRoot::GitFailed(reason),
        }
    } else {
        GitRoot::NotARepository
    };
    if let Ok(mut c) = cache.lock() {
        c.insert(root.to_path_buf(), asked.clone());
    }
    asked
}

/// The root's path inside its git repository (`services/api`), forward slashes; empty when the
/// root is the top level, is in no git repository, or git could not say ([`GitRoot`]: the root
/// is then taken as the top).
pub(crate) fn prefix(root: &Path) -> String {
    match locate(root) {
        GitRoot::Below(p) => p,
        GitRoot::Top | GitRoot::NotARepository | GitRoot::GitFailed(_) => String::new(),
    }
}

/// Why git refuses to answer for the repository the root is in (its first line of error:
/// "detected dubious ownership in repository", a broken `.git`), or None when it answers or the
/// root is in no repository. The tracked status of every file is then unknown.
pub(crate) fn refusal(root: &Path) -> Option<String> {
    match locate(root) {
        GitRoot::GitFailed(reason) => Some(reason),
        GitRoot::Top | GitRoot::Below(_) => listing(root)?.err(),
        GitRoot::NotARepository => None,
    }
}

/// What could not be asked of git about the root's place in its repository, each as a note for
/// `check` to print (without `note: `): git failing where a repository is, so that the root was
/// taken as the top, or failing to list the repository's files above the root.
pub(crate) fn notes(root: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    if let GitRoot::GitFailed(reason) = locate(root) {
        notes.push(format!(
            "git could not be asked where the repository's top is ({reason}): the root is taken as the top: Argo CD Applications and Flux Kustomizations outside the root are not read, an ApplicationSet's git generator reads directories from the root, and an overlay only Flux deploys loads no file above the root (one it names there is an overlay-build-error)"
        ));
    }
    if prefix(root).is_empty() {
        return notes;
    }
    match listing(root) {
        Some(Err(reason)) => notes.push(format!(
            "git could not list the repository's files outside the root ({reason}): Argo CD Applications and Flux Kustomizations there are not read"
        )),
        Some(Ok(l)) => notes.extend(l.unlisted.iter().filter(|(s, _)| outside(root, s)).map(|(s, reason)| format!(
            "git could not list the files of the submodule {s} outside the root ({reason}): Argo CD Applications and Flux Kustomizations there are not read"
        ))),
        None => {}
    }
    notes
}

/// The note naming the files git lists whose names are not UTF-8 (but those `ignored` says the
/// run would not read anyway), which no rule can read by the name listed: at most five, and how
/// many more.
pub(crate) fn unnamed_note(root: &Path, ignored: impl Fn(&str) -> bool) -> Option<String> {
    let Some(Ok(listing)) = listing(root) else {
        return None;
    };
    let prefix = prefix(root);
    let files: Vec<String> = (listing.unnamed.iter())
        .map(|f| from_root(&prefix, f))
        .filter(|f| !ignored(f))
        .collect();
    if files.is_empty() {
        return None;
    }
    Some(format!(
        "{} file(s) whose names are not UTF-8 were not read (no rule checked them, whatever they hold; a directory so named is no environment): {} (shown with U+FFFD for each such byte); rename them to check them",
        files.len(),
        super::first_five(&files)
    ))
}

/// The note naming what a sparse checkout leaves out under the root (but what `ignored` says
/// the run would not read anyway): the directories (at most five, the outermost) holding tracked
/// files that are not in the working tree. Nothing reads them, so an environment or a committed
/// Secret there would otherwise pass unseen.
pub(crate) fn sparse_note(root: &Path, ignored: impl Fn(&str) -> bool) -> Option<String> {
    let Some(Ok(listing)) = listing(root) else {
        return None;
    };
    let prefix = prefix(root);
    let under: Vec<String> = (listing.sparse.iter())
        .filter(|f| super::within(f, &prefix))
        .map(|f| from_root(&prefix, f))
        .filter(|f| !ignored(f))
        .collect();
    if under.is_empty() {
        return None;
    }
    // The outermost directories; a file of the root itself makes the root the one named.
    let mut dirs: Vec<&str> = Vec::new();
    for f in &under {
        let dir = f.rsplit_once('/').map_or("", |(d, _)| d);
        if !dirs.iter().any(|d| super::within(dir, d)) {
            dirs.retain(|d| !super::within(d, dir));
            dirs.push(dir);
        }
    }
    dirs.sort_unstable();
    let named = match dirs.as_slice() {
        [""] => "the root directory".to_owned(),
        _ => super::first_five(&dirs),
    };
    Some(format!(
        "a sparse checkout leaves {} tracked file(s) out of the working tree (in {named}): they are not checked (no environment there is found, and no rule reads them); `git sparse-checkout disable` checks them out",
        under.len()
    ))
}

/// Whether the top-relative path `f` is outside the root (the root is below the top level).
fn outside(root: &Path, f: &str) -> bool {
    !super::below(f, &prefix(root))
}

/// False when no directory from `root` up holds `.git` (a directory, or the file of a worktree
/// or submodule) and `GIT_DIR` is not set: git then finds no repository for it, and is not
/// asked (a process per command run outside git).
fn in_a_repository(root: &Path) -> bool {
    let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    std::env::var_os("GIT_DIR").is_some() || abs.ancestors().any(|d| d.join(".git").exists())
}

/// `git -C dir ARGS`'s standard output, when it succeeds; else why not: the first line git
/// wrote to its standard error, or why it could not be run.
pub(super) fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("git could not be run: {e}"))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().map(str::trim).find(|l| !l.is_empty());
    Err(first.map_or_else(
        || format!("git {} failed ({})", args.join(" "), out.status),
        str::to_owned,
    ))
}

/// The repository's files as git lists them from its top level (tracked, and untracked but not
/// ignored), entering every checked-out submodule (`git ls-files` does not, and its
/// `--recurse-submodules` cannot be combined with `--others`): paths relative to the top, with
/// forward slashes.
#[derive(Debug, Clone, Default)]
struct Listing {
    /// Each file, with whether git tracks it (a file not listed is ignored).
    files: BTreeMap<String, bool>,
    /// The submodules (gitlinks, mode 160000), checked out or not.
    submodules: Vec<String>,
    /// The checked-out submodules git could not list, each with git's reason.
    unlisted: Vec<(String, String)>,
    /// The tracked files a sparse checkout leaves out of the working tree (git's skip-worktree
    /// bit, `S` in `git ls-files -t`, and no file on disk).
    sparse: Vec<String>,
    /// The files whose names are not UTF-8 (as git lists them, lossily: U+FFFD for each byte
    /// that is not), which cannot be read by their listed name: not read, and said so.
    unnamed: Vec<String>,
    /// The top level with every symbolic link resolved (`None` when it cannot be), for
    /// [`clone_lacks`] to judge where a file's links lead.
    real_top: Option<PathBuf>,
}

/// A [`Listing`], or why git could not make it.
type Listed = Result<Arc<Listing>, String>;

/// The [`Listing`] of the repository the root is in, asked of git once per root and process;
/// `Err` with git's reason when it cannot list the top level, `None` outside a repository. One
/// `check` is one process: discovery, the Flux artifact and the rules' tracked status
/// ([`status`]) all judge this one listing; a process that changes the repository between two
/// checks of the same root sees the first listing.
fn listing(root: &Path) -> Option<Listed> {
    static LISTED: OnceLock<Mutex<HashMap<PathBuf, Listed>>> = OnceLock::new();
    if !matches!(locate(root), GitRoot::Top | GitRoot::Below(_)) {
        return None;
    }
    let cache = LISTED.get_or_init(Mutex::default);
    if let Some(l) = cache.lock().ok().and_then(|c| c.get(root).cloned()) {
        return Some(l);
    }
    let top = top(root);
    let mut out = Listing {
        real_top: std::fs::canonicalize(&top).ok(),
        ..Listing::default()
    };
    let listed = list_into(&top, "", &mut out).map(|()| Arc::new(out));
    if let Ok(mut c) = cache.lock() {
        c.insert(root.to_path_buf(), listed.clone());
    }
    Some(listed)
}

/// Adds what git lists in the repository at `dir` (`prefix` below the top level, with a
/// trailing `/`; `""` for the top) to `out`, and in its checked-out submodules (those whose
/// directory holds a `.git`) the same way.
fn list_into(dir: &Path, prefix: &str, out: &mut Listing) -> Result<(), String> {
    let args = ["ls-files", "-z", "-t", "-s", "--cached", "--others"];
    let listed = git(dir, &[&args[..], &["--exclude-standard"]].concat())?;
    let mut submodules = Vec::new();
    // `? path` for an untracked file, `T MODE OBJECT STAGE<TAB>path` for a tracked one.
    for entry in listed.split('\0').filter(|e| e.len() > 2) {
        let (status, rest) = entry.split_at(2);
        let tracked = status != "? ";
        let (meta, path) = match rest.split_once('\t') {
            Some((meta, path)) if tracked => (meta, path),
            _ => ("", rest),
        };
        if meta.starts_with("160000 ") {
            submodules.push(path.to_owned());
        } else if path.contains('\u{FFFD}') && dir.join(path).symlink_metadata().is_err() {
            out.unnamed.push(format!("{prefix}{path}"));
        } else {
            if status == "S " && dir.join(path).symlink_metadata().is_err() {
                out.sparse.push(format!("{prefix}{path}"));
            }
            *out.files.entry(format!("{prefix}{path}")).or_default() |= tracked;
        }
    }
    for sub in submodules {
        let shown = format!("{prefix}{sub}");
        let inner = dir.join(&sub);
        if inner.join(".git").exists()
            && let Err(why) = list_into(&inner, &format!("{shown}/"), out)
        {
            out.unlisted.push((shown.clone(), why));
        }
        out.submodules.push(shown);
    }
    Ok(())
}

/// The files named `name` git tracks anywhere in the repository the root is in, relative to its
/// top level (forward slashes): what a clone holds, as Flux's source-controller makes one
/// (untracked files are not in it); those in submodules only with `submodules`. `None` when the
/// root is in no repository or git cannot list them.
pub(crate) fn tracked(root: &Path, name: &str, submodules: bool) -> Option<Vec<String>> {
    let listing = listing(root)?.ok()?;
    let in_submodule = |f: &str| listing.submodules.iter().any(|s| super::below(f, s));
    Some(
        (listing.files.iter())
            .filter(|(f, tracked)| **tracked && (*f == name || f.ends_with(&format!("/{name}"))))
            .filter(|(f, _)| submodules || !in_submodule(f))
            .map(|(f, _)| f.clone())
            .collect(),
    )
}

/// Why a clone of the repository lacks a file ([`clone_lacks`]). Its `Display` is a phrase to
/// follow the file's name in a message ("is not tracked by git (it is untracked)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lacks {
    /// git does not track the file as written: `untracked`, `ignored by a gitignore rule`, or
    /// in a nested repository ([`state`]).
    NotTracked(&'static str),
    /// It is read through this symbolic link (root-relative), which git does not track.
    Link(String),
    /// It is a tracked link to this file (root-relative), which git does not track.
    Target(String),
    /// It lies outside the git repository.
    Outside,
    /// It is a link to a file outside the git repository.
    LeadsOutside,
}

impl std::fmt::Display for Lacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lacks::NotTracked(state) => f.write_str(&not_tracked("it", state)),
            Lacks::Link(l) => write!(
                f,
                "is read through the symbolic link `{l}`, which git does not track"
            ),
            Lacks::Target(t) => write!(f, "leads to `{t}`, which git does not track"),
            Lacks::Outside => f.write_str("lies outside the git repository"),
            Lacks::LeadsOutside => f.write_str("leads to a file outside the git repository"),
        }
    }
}

impl Lacks {
    /// True when git leaves the file out by a gitignore pattern: kept out of the repository on
    /// purpose.
    pub(crate) fn is_ignored(&self) -> bool {
        matches!(self, Lacks::NotTracked(state) if *state == IGNORED)
    }

    /// Why a build from a clone does not find a file, as `{file} {because}`, `subject`
    /// naming the file in the reason (`it`): "is not tracked by git (it is untracked)", or
    /// "is not in the repository's commits (it is read through the symbolic link ...)".
    pub(crate) fn because(&self, subject: &str) -> String {
        match self {
            Lacks::NotTracked(state) => not_tracked(subject, state),
            other => format!("is not in the repository's commits ({subject} {other})"),
        }
    }
}

/// "is not tracked by git (`subject` is `state`)": the one wording of [`Lacks::NotTracked`].
fn not_tracked(subject: &str, state: &str) -> String {
    format!("is not tracked by git ({subject} is {state})")
}

/// Why a clone of the repository the root is in (what CI checks out, what Argo CD and Flux sync)
/// lacks the file a build reads at `path` (as reached from `root`, maybe above it or through
/// symbolic links): git lists a symbolic link as itself, so a file read through one is missing
/// when a link on its path as written is untracked, or when the file it leads to is; a file
/// outside the repository is in no clone. `None` when the clone has it, or git cannot tell (no
/// listing, which the report's `not-a-git-repository` note states; a submodule git could not
/// list, which [`notes`] and `check`'s submodule note state). Judged against the listing git
/// gave when the process first asked ([`listing`]): a file staged later is not seen.
pub(crate) fn clone_lacks(root: &Path, path: &Path) -> Option<Lacks> {
    CloneContents::of(root)?.lacks(path)
}

/// What [`clone_lacks`] judges a file against, taken once for a run of files: the root's
/// [`listing`], its repository's top level and the root's place in it.
pub(crate) struct CloneContents {
    listing: Arc<Listing>,
    top: PathBuf,
    prefix: String,
}

impl CloneContents {
    /// `None` when git cannot tell what a clone holds ([`clone_lacks`]).
    pub(crate) fn of(root: &Path) -> Option<CloneContents> {
        let listing = listing(root)?.ok()?;
        let (top, prefix) = (super::lexical(&top(root)), prefix(root));
        Some(CloneContents {
            listing,
            top,
            prefix,
        })
    }

    /// [`clone_lacks`] for a file of this root.
    pub(crate) fn lacks(&self, path: &Path) -> Option<Lacks> {
        let (listing, top, prefix) = (&*self.listing, &self.top, &self.prefix);
        let untracked = |f: &str| {
            !listing.files.get(f).copied().unwrap_or(false)
                && !(listing.unlisted.iter()).any(|(s, _)| super::below(f, s))
        };
        let full = super::lexical(path);
        let Ok(written) = full.strip_prefix(top) else {
            return Some(Lacks::Outside);
        };
        // git does not track a path beyond a symbolic link (`git add` refuses it): a tracked file
        // that is no link itself is in the clone, with no link on its path to judge.
        if !untracked(&super::path_str(written)) && !full.is_symlink() {
            return None;
        }
        let mut at = top.clone();
        for c in written.components() {
            at.push(c);
            let f = super::path_str(at.strip_prefix(top).ok()?);
            if at.symlink_metadata().is_ok_and(|m| m.is_symlink()) && untracked(&f) {
                return Some(match at == full {
                    true => Lacks::NotTracked(state(listing, top, &f)),
                    false => Lacks::Link(from_root(prefix, &f)),
                });
            }
        }
        let real = std::fs::canonicalize(&full).ok()?;
        let Ok(real) = real.strip_prefix(listing.real_top.as_ref()?) else {
            return Some(Lacks::LeadsOutside);
        };
        let (real, written) = (super::path_str(real), super::path_str(written));
        match untracked(&real) {
            false => None,
            true if real == written => Some(Lacks::NotTracked(state(listing, top, &real))),
            true => Some(Lacks::Target(from_root(prefix, &real))),
        }
    }
}

/// How git leaves out the file `f` (relative to the repository's `top`) it does not track:
/// `untracked`; in a nested git repository that is no submodule (`--others` lists such a
/// directory as itself, not its files, and `git add` records it as a gitlink, not the file);
/// or ignored (not listed otherwise: `--exclude-standard` left it out, by a pattern of a
/// `.gitignore`, `.git/info/exclude` or `core.excludesFile`, all of which gitignore(5) calls
/// gitignore patterns).
fn state(listing: &Listing, top: &Path, f: &str) -> &'static str {
    if listing.files.contains_key(f) {
        return "untracked";
    }
    let mut dirs = Path::new(f).ancestors().skip(1);
    if dirs.any(|d| !d.as_os_str().is_empty() && top.join(d).join(".git").exists()) {
        return "in a nested git repository that is not a submodule";
    }
    // git tracks files, never a directory as such: one whose files it lists is no question
    // here, an empty one is never listed, ignored or not.
    match top.join(f).is_dir() {
        true => "a directory holding no file git lists",
        false => IGNORED,
    }
}

/// [`state`] of a file git leaves out by a gitignore pattern.
const IGNORED: &str = "ignored by a gitignore rule";

/// Each file's tracked status by its root-relative path, and the submodules not listed with
/// why ([`status`]).
pub(crate) type Status = (BTreeMap<String, bool>, Vec<(String, String)>);

/// What git lists of the repository the root is in, for `check`, from the one [`listing`]:
/// each file's tracked status by its root-relative path (`../../shared/app.env` for a file
/// above a root at `services/api`; a file not listed is ignored), and the submodules whose
/// files are not listed (root-relative), each with why. `None` when the root is in no
/// repository or git cannot list it ([`notes`]).
pub(crate) fn status(root: &Path) -> Option<Status> {
    let listing = listing(root)?.ok()?;
    let prefix = prefix(root);
    let rel = |f: &str| from_root(&prefix, f);
    let files = (listing.files.iter()).map(|(f, t)| (rel(f), *t)).collect();
    let top = top(root);
    let failed = |s: &str| listing.unlisted.iter().find(|(u, _)| u == s);
    let unlisted = (listing.submodules.iter())
        .filter_map(|s| match failed(s) {
            Some(_) => Some((rel(s), "git cannot list its files".to_owned())),
            None => {
                (!top.join(s).join(".git").exists()).then(|| (rel(s), "not checked out".to_owned()))
            }
        })
        .collect();
    Some((files, unlisted))
}

/// The path `f` (relative to the repository's top) named from the root at `prefix` (also
/// relative to the top), as the build names files: `../shared/app.env` for
/// `services/shared/app.env` from `services/api`, `k8s/base` for `services/api/k8s/base`.
fn from_root(prefix: &str, f: &str) -> String {
    if prefix.is_empty() {
        return f.to_owned();
    }
    let (at, to): (Vec<&str>, Vec<&str>) = (
        prefix.split('/').filter(|s| !s.is_empty()).collect(),
        f.split('/').collect(),
    );
    let shared = at.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts = vec![".."; at.len() - shared];
    parts.extend(&to[shared..]);
    parts.join("/")
}

/// The git submodules of the repository the root is in (checked out or not), relative to its
/// top level; none when git cannot list them.
pub(crate) fn submodules(root: &Path) -> Vec<String> {
    match listing(root) {
        Some(Ok(l)) => l.submodules.clone(),
        _ => Vec::new(),
    }
}

/// The directory under `root` that the path `p` of an Argo CD / Flux object names (relative to
/// the git repository's top level, a leading `./` or `/` allowed), or `None` when it names a
/// directory outside the root: another part of the monorepo, none of this root's environments.
pub(crate) fn deployed_dir(root: &Path, p: &str) -> Option<PathBuf> {
    let rel = p.trim_start_matches("./").trim_start_matches('/');
    let prefix = prefix(root);
    if prefix.is_empty() {
        return Some(root.join(rel));
    }
    let full = super::path_str(Path::new(rel));
    if full == prefix {
        return Some(root.to_path_buf());
    }
    let inside = full.strip_prefix(&prefix)?.strip_prefix('/')?;
    Some(root.join(inside))
}

/// The git repository's top level as reached from `root` (`root/../..` for a root at
/// `services/api`), where Argo CD reads an `ApplicationSet` git generator's `directories`
/// patterns (argo-cd `reposerver/repository/repository.go`, `GetGitDirectories`: every directory
/// of the repository, relative to its top); `root` itself when it is the top, in no git
/// repository, or git cannot say where the top is ([`notes`]). What is found there is mapped back with [`deployed_dir`].
pub(crate) fn top(root: &Path) -> PathBuf {
    match depth(root) {
        0 => root.to_path_buf(),
        n => root.join("../".repeat(n)),
    }
}

/// How many directories the root is below the git repository's top level (2 for
/// `services/api`); 0 when it is the top, in no git repository, or git cannot say ([`top`]).
pub(crate) fn depth(root: &Path) -> usize {
    let prefix = prefix(root);
    if prefix.is_empty() {
        0
    } else {
        prefix.split('/').count()
    }
}

/// Whether the root-relative path `rel` (`../../shared/app.env` for a root at `services/api`)
/// names a file in the git repository: not absolute and not above its top ([`depth`]).
pub(crate) fn in_repository(root: &Path, rel: &str) -> bool {
    if rel.starts_with('/') {
        return false;
    }
    let up = rel.split('/').take_while(|c| *c == "..").count();
    let mut below_up = rel.split('/').skip(up).peekable();
    below_up.peek().is_some() && !below_up.any(|c| c == "..") && (up == 0 || up <= depth(root))
}

/// The YAML files of the git repository outside the root (when the root is below its top
/// level), named relative to the root (`../../argocd/api.yaml`), that are not kustomization
/// files and not in a directory the discovery walk skips: an Argo CD Application or Flux
/// Kustomization there may deploy a directory of the root. What git lists (tracked, or
/// untracked and not ignored); nothing when git cannot list them ([`notes`] says so).
pub(crate) fn outside_manifests(root: &Path) -> Vec<String> {
    let prefix = prefix(root);
    if prefix.is_empty() {
        return Vec::new();
    }
    let Some(Ok(listing)) = listing(root) else {
        return Vec::new();
    };
    let mut files: Vec<String> = listing
        .files
        .keys()
        .map(String::as_str)
        .filter(|f| super::is_manifest(f) && !super::below(f, &prefix))
        .filter(|f| {
            let mut parts: Vec<&str> = f.split('/').collect();
            let name = parts.pop().unwrap_or_default();
            !super::KUSTOMIZATION_FILE_NAMES.contains(&name)
                && !parts.into_iter().any(super::discover::skipped_dir)
        })
        .map(|f| from_root(&prefix, f))
        .collect();
    files.sort();
    files.dedup();
    files
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_named_from_the_root_by_the_shortest_way() {
        for (prefix, f, want) in [
            ("", "shared/app.env", "shared/app.env"),
            ("services/api", "services/api/k8s/base", "k8s/base"),
            (
                "services/api",
                "services/shared/app.env",
                "../shared/app.env",
            ),
            ("services/api", "shared/app.env", "../../shared/app.env"),
            ("services/api", "services/apix/a", "../apix/a"),
        ] {
            assert_eq!(super::from_root(prefix, f), want, "{prefix} {f}");
        }
    }
}
