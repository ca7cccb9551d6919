//! The files of a Flux `GitRepository`'s artifact: what source-controller leaves out of the
//! tarball it makes of the repository, which is all kustomize-controller builds from.
//!
//! Upstream (fluxcd/source-controller `internal/controller/gitrepository_controller.go`,
//! `reconcileArtifact`; the storage's `SourceIgnoreFilter`; fluxcd/pkg
//! `sourceignore/sourceignore.go`):
//! - The patterns are every `.sourceignore` file of the repository (`LoadIgnorePatterns`: the
//!   top level's first, then each sub-directory but `.git`, in name order, depth first; each
//!   file's patterns relative to its own directory), then the `GitRepository`'s `spec.ignore`
//!   (relative to the top level). `ReadPatterns` skips a line starting with `#` and a blank one.
//! - When there is at least one such pattern, the matcher is `ExcludeVCS` (`.git/`,
//!   `.gitignore`, `.gitmodules`, `.gitattributes`) followed by them: the other default
//!   exclusions (`ExcludeExt`, `ExcludeCI`, `ExcludeExtra`: `.github/`, `.sops.yaml`, images,
//!   ...) no longer apply. With none, it is `ExcludeVCS` and those defaults (`NewDefaultMatcher`).
//!   This is how `spec.ignore` "overrides" the defaults: any pattern at all drops them.
//! - Patterns are gitignore syntax as go-git's `plumbing/format/gitignore` reads it (fluxcd/pkg
//!   `sourceignore/gitignore/pattern.go` and `matcher.go`, a copy of it): the last pattern that
//!   matches a path decides (a `!` pattern keeps it). Each file is matched on its own path
//!   (the archive walk does not skip an excluded directory's files), so `!` re-includes a file
//!   under an excluded directory, unlike git. Names are matched with Go's `filepath.Match`.
//!
//! - The archive holds only regular files and directories (fluxcd/source-controller
//!   `internal/storage/storage.go`, `Archive`): a symbolic link, and what is reached through
//!   one, is not in it. The `.sourceignore` files are those git tracks (a clone's).
//! - Submodules are cloned only with the `GitRepository`'s `spec.recurseSubmodules: true`
//!   (default false: fluxcd/source-controller `api/v1/gitrepository_types.go`, handed to
//!   fluxcd/pkg `git/gogit/clone.go` as go-git's `RecurseSubmodules`): without it nothing of a
//!   submodule is in the artifact. With it, `LoadIgnorePatterns` walks the checked-out
//!   submodules too, so their tracked `.sourceignore` files count.
//!
//! The model matches `*` and `?` as Go does; a pattern holding `[` or `\` (character classes,
//! escapes) is not replayed, and is reported as not modelled at its line (see
//! [`Artifact::unmodelled`]).

use std::path::{Path, PathBuf};

use super::config::segment_match;
use super::lexical;

/// source-controller's default exclusions (fluxcd/pkg `sourceignore/sourceignore.go`).
const EXCLUDE_VCS: &str = ".git/,.gitignore,.gitmodules,.gitattributes";
const EXCLUDE_DEFAULTS: [&str; 3] = [
    "*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,*.zip",
    ".github/,.circleci/,.travis.yml,.gitlab-ci.yml,appveyor.yml,.drone.yml,cloudbuild.yaml,codeship-services.yml,codeship-steps.yml",
    "**/.goreleaser.yml,**/.sops.yaml,**/.flux.yaml",
];

/// How the messages of [`Artifact::unmodelled`] begin: each is one gap of the run, at a line of
/// an ignore file or `spec.ignore`, reported once however many overlays Flux builds from the
/// artifact ([`is_gap`]).
const GAP: &str = "Flux's artifact: ";

/// Whether a problem's `message` is one of [`Artifact::unmodelled`]'s.
pub(crate) fn is_gap(message: &str) -> bool {
    message.starts_with(GAP)
}

/// The name of source-controller's ignore file.
const IGNORE_FILE: &str = ".sourceignore";

/// One gitignore pattern as go-git parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// The directory (components below the top level) it applies under.
    domain: Vec<String>,
    parts: Vec<String>,
    inclusion: bool,
    dir_only: bool,
    is_glob: bool,
    /// The pattern as written, and where: a file (root-relative) and line; `None` for a
    /// default exclusion.
    text: String,
    at: Option<(String, usize)>,
    /// Holds syntax the model does not replay: never matches here (and is reported).
    unmodelled: bool,
}

/// A `GitRepository`'s `spec.ignore`: its text, its file (root-relative) and the line of its
/// first pattern; `block` when that is a literal block scalar (`|`), whose lines follow one
/// another from there (else every pattern is given the key's line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpecIgnore {
    pub(crate) text: String,
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) block: bool,
}

/// What a `GitRepository` of this repository says of its artifact: its `spec.ignore`, and
/// whether it clones submodules (`spec.recurseSubmodules: true`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GitSpec {
    pub(crate) ignore: Option<SpecIgnore>,
    pub(crate) recurse_submodules: bool,
}

/// The `.sourceignore` patterns of a repository, read once for every `GitRepository` of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IgnoreFiles {
    patterns: Vec<Pattern>,
    /// What cannot be read or replayed: root-relative file, line, message.
    unmodelled: Vec<(String, usize, String)>,
}

/// The artifact source-controller makes of a repository: which of its files it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The repository's top level, lexically normalised, and resolved.
    top: PathBuf,
    canonical_top: Option<PathBuf>,
    /// The submodules not cloned (top-relative components): every one without
    /// `spec.recurseSubmodules`.
    submodules: Vec<Vec<String>>,
    /// In increasing priority.
    patterns: Vec<Pattern>,
    /// What the model cannot replay of the patterns: root-relative file, line, message.
    pub unmodelled: Vec<(String, usize, String)>,
}

impl IgnoreFiles {
    /// Every `.sourceignore` of the repository whose top level is `top`, files named relative
    /// to `root`: those git tracks (a Flux clone holds nothing else), in `LoadIgnorePatterns`'
    /// order (a directory's before its sub-directories', those in name order). Outside git,
    /// those a walk of `top` finds that does not enter what discovery's walk skips. Those in
    /// submodules (tracked there) only with `submodules`.
    pub(crate) fn load(root: &Path, top: &Path, submodules: bool) -> IgnoreFiles {
        let mut out = IgnoreFiles::default();
        let Some(tracked) = super::gitroot::tracked(root, IGNORE_FILE, submodules) else {
            load_dir(root, top, &[], &mut out);
            return out;
        };
        let mut domains: Vec<Vec<String>> = (tracked.iter())
            .map(|f| f.split('/').map(str::to_owned).collect::<Vec<_>>())
            .map(|parts| parts[..parts.len() - 1].to_vec())
            .collect();
        domains.sort_unstable();
        for domain in domains {
            let file = top.join(domain.join("/")).join(IGNORE_FILE);
            read_file(root, &file, &domain, &mut out);
        }
        out
    }
}

/// Reads the ignore file `file` (at `domain` below the top level) into `out`. One that cannot
/// be read fails source-controller's artifact: reported.
fn read_file(root: &Path, file: &Path, domain: &[String], out: &mut IgnoreFiles) {
    let shown = super::rel(root, file);
    match crate::fsio::read_limited(file, super::MAX_FILE_BYTES) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => read_patterns(&text, domain, &shown, None, out),
            Err(_) => out.unmodelled.push((
                shown,
                1,
                "this source-controller ignore file is not UTF-8: emp-seal does not read its patterns".to_owned(),
            )),
        },
        Err(e) => out.unmodelled.push((
            shown,
            1,
            format!("this source-controller ignore file cannot be read ({e}): emp-seal does not know which files the Flux artifact holds"),
        )),
    }
}

/// `LoadIgnorePatterns` of `dir` (at `domain` below the top level) into `out`, outside git: its
/// sub-directories but those discovery's walk skips (`.git` among them). A directory that
/// cannot be listed fails source-controller's artifact: reported.
fn load_dir(root: &Path, dir: &Path, domain: &[String], out: &mut IgnoreFiles) {
    let file = dir.join(IGNORE_FILE);
    if file.is_file() {
        read_file(root, &file, domain, out);
    }
    let entries = match super::plain::sorted_entries(dir) {
        Ok(entries) => entries,
        Err(e) => {
            out.unmodelled.push((
                super::rel(root, dir),
                1,
                format!("this directory cannot be listed ({}): source-controller fails to load its ignore files, and emp-seal does not know which files the Flux artifact holds", e.kind()),
            ));
            return;
        }
    };
    for (name, is_dir) in entries {
        if is_dir && !super::discover::skipped_dir(&name) {
            let mut sub = domain.to_vec();
            sub.push(name.clone());
            load_dir(root, &dir.join(&name), &sub, out);
        }
    }
}

/// `ReadPatterns`: the patterns of `text` at `domain`, from `file`, each at its line (`line`:
/// where `spec.ignore`'s lines are, see [`SpecIgnore`]).
fn read_patterns(
    text: &str,
    domain: &[String],
    file: &str,
    line: Option<(usize, bool)>,
    out: &mut IgnoreFiles,
) {
    for (i, raw) in text.split('\n').enumerate() {
        let s = raw.strip_suffix('\r').unwrap_or(raw);
        if s.starts_with('#') || s.trim().is_empty() {
            continue;
        }
        let at = match line {
            None => i + 1,
            Some((first, true)) => first + i,
            Some((first, false)) => first,
        };
        let p = parse(s, domain, Some((file.to_owned(), at)));
        if p.unmodelled {
            out.unmodelled.push((
                file.to_owned(),
                at,
                format!("the source-controller ignore pattern `{s}` holds `[` or `\\`, which emp-seal does not match: it does not know which files it leaves out of the Flux artifact"),
            ));
        }
        out.patterns.push(p);
    }
}

/// go-git's `ParsePattern`.
fn parse(p: &str, domain: &[String], at: Option<(String, usize)>) -> Pattern {
    let text = p.to_owned();
    let (inclusion, mut p) = match p.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, p),
    };
    if !p.ends_with("\\ ") {
        p = p.trim_end_matches(' ');
    }
    let dir_only = p.ends_with('/');
    if dir_only {
        p = &p[..p.len() - 1];
    }
    Pattern {
        domain: domain.to_vec(),
        parts: p.split('/').map(str::to_owned).collect(),
        inclusion,
        dir_only,
        is_glob: p.contains('/'),
        unmodelled: p.contains(['[', '\\']),
        text,
        at,
    }
}

impl Artifact {
    /// The artifact of the repository whose top level is `top`, its `.sourceignore` files read
    /// (`files`, [`IgnoreFiles::load`]ed for `spec`), with the `GitRepository`'s `spec`; `root`
    /// is emp-seal's.
    pub(crate) fn new(root: &Path, top: &Path, files: &IgnoreFiles, spec: &GitSpec) -> Artifact {
        let mut own = files.clone();
        if let Some(s) = &spec.ignore {
            read_patterns(&s.text, &[], &s.file, Some((s.line, s.block)), &mut own);
        }
        let defaults: &[&str] = if own.patterns.is_empty() {
            &EXCLUDE_DEFAULTS
        } else {
            &[]
        };
        let mut patterns: Vec<Pattern> = std::iter::once(EXCLUDE_VCS)
            .chain(defaults.iter().copied())
            .flat_map(|list| list.split(','))
            .map(|p| parse(p, &[], None))
            .collect();
        patterns.extend(own.patterns);
        Artifact {
            top: lexical(top),
            canonical_top: top.canonicalize().ok(),
            submodules: match spec.recurse_submodules {
                true => Vec::new(),
                false => (super::gitroot::submodules(root).iter())
                    .map(|s| s.split('/').map(str::to_owned).collect())
                    .collect(),
            },
            patterns,
            unmodelled: (own.unmodelled.into_iter())
                .map(|(file, line, m)| (file, line, format!("{GAP}{m}")))
                .collect(),
        }
    }

    /// Why the file `path` is not in the artifact: the pattern that leaves it out, described
    /// for a message; `None` when it is there (or not in the repository at all).
    pub fn leaves_out(&self, path: &Path) -> Option<String> {
        if let Some(link) = self.link_on(path) {
            return Some(format!(
                "the symbolic link {link} (source-controller archives regular files and directories only)"
            ));
        }
        let rel = self.components(path)?;
        if let Some(s) =
            (self.submodules.iter()).find(|s| s.len() < rel.len() && rel.starts_with(s))
        {
            return Some(format!(
                "the git submodule {} (source-controller clones submodules only with the GitRepository's `spec.recurseSubmodules: true`)",
                s.join("/")
            ));
        }
        let rel: Vec<&str> = rel.iter().map(String::as_str).collect();
        let p = self
            .patterns
            .iter()
            .rev()
            .find_map(|p| p.matches(&rel).map(|inclusion| (p, inclusion)))?;
        if p.1 {
            return None;
        }
        Some(match &p.0.at {
            Some((file, line)) => format!("the ignore pattern `{}` at {file}:{line}", p.0.text),
            None => format!("source-controller's default exclusion `{}`", p.0.text),
        })
    }

    /// The first symbolic link on `path`'s way down from the top level (top-relative, forward
    /// slashes), if any: source-controller's archive walk keeps only regular files and
    /// directories (fluxcd/source-controller `internal/storage/storage.go`, `Archive`, which
    /// does not follow links), so neither a link nor anything reached through one is in the
    /// artifact.
    fn link_on(&self, path: &Path) -> Option<String> {
        super::link_below(&self.top, path).map(|at| super::rel(&self.top, &at))
    }

    /// `path`'s components below the top level, lexically or else with symlinks resolved.
    fn components(&self, path: &Path) -> Option<Vec<String>> {
        let to_strings = |r: &Path| {
            let parts: Vec<String> = r
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            (!parts.is_empty()).then_some(parts)
        };
        if let Ok(r) = lexical(path).strip_prefix(&self.top) {
            return to_strings(r);
        }
        let canonical = path.canonicalize().ok()?;
        to_strings(canonical.strip_prefix(self.canonical_top.as_ref()?).ok()?)
    }
}

impl Pattern {
    /// go-git's `pattern.Match` of the file `path` (never a directory: the archive walk matches
    /// each file, a directory pattern matching through its parent components): `Some(inclusion)`
    /// when it matches.
    fn matches(&self, path: &[&str]) -> Option<bool> {
        if self.unmodelled || path.len() <= self.domain.len() {
            return None;
        }
        if self.domain.iter().zip(path).any(|(d, p)| d != p) {
            return None;
        }
        let path = &path[self.domain.len()..];
        let matched = if self.is_glob {
            self.glob_match(path)
        } else {
            self.simple_name_match(path)
        };
        matched.then_some(self.inclusion)
    }

    /// go-git's `simpleNameMatch`: the pattern matches any component of the path.
    fn simple_name_match(&self, path: &[&str]) -> bool {
        for (i, name) in path.iter().enumerate() {
            if !segment_match(&self.parts[0], name) {
                continue;
            }
            return !(self.dir_only && i == path.len() - 1);
        }
        false
    }

    /// go-git's `globMatch`, step for step (a pattern with a `/`).
    fn glob_match(&self, mut path: &[&str]) -> bool {
        let mut matched = false;
        let mut can_traverse = false;
        for (i, pattern) in self.parts.iter().enumerate() {
            if pattern.is_empty() {
                can_traverse = false;
                continue;
            }
            if pattern == "**" {
                if i == self.parts.len() - 1 {
                    break;
                }
                can_traverse = true;
                continue;
            }
            if pattern.contains("**") || path.is_empty() {
                return false;
            }
            if can_traverse {
                can_traverse = false;
                while let Some((e, rest)) = path.split_first() {
                    path = rest;
                    if segment_match(pattern, e) {
                        matched = true;
                        break;
                    } else if path.is_empty() {
                        matched = false;
                    }
                }
            } else {
                if !segment_match(pattern, path[0]) {
                    return false;
                }
                matched = true;
                path = &path[1..];
            }
        }
        // A directory-only pattern whose last part matched the file itself does not match.
        matched && !(self.dir_only && path.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &[&str], path: &str) -> bool {
        let ps: Vec<Pattern> = patterns.iter().map(|p| parse(p, &[], None)).collect();
        let rel: Vec<&str> = path.split('/').collect();
        ps.iter()
            .rev()
            .find_map(|p| p.matches(&rel))
            .is_some_and(|inclusion| !inclusion)
    }

    #[test]
    fn go_git_semantics() {
        assert!(segment_match("*.yaml", "a.yaml"));
        assert!(segment_match("a?c", "abc"));
        assert!(!segment_match("*.yaml", "a.yml"));
        assert!(segment_match("**", "x"));
        // A name pattern matches any component: the directory's files too.
        assert!(excluded(&["secrets"], "apps/secrets/a.yaml"));
        assert!(!excluded(&["secrets/"], "apps/secrets"));
        assert!(excluded(&["secrets/"], "apps/secrets/a.yaml"));
        // An anchored pattern matches a prefix of the path.
        assert!(excluded(&["/apps"], "apps/prod/a.yaml"));
        assert!(!excluded(&["/apps"], "x/apps/a.yaml"));
        // The Flux documentation's "exclude all, include deploy".
        assert!(excluded(&["/*", "!/deploy"], "docs/a.yaml"));
        assert!(!excluded(&["/*", "!/deploy"], "deploy/prod/a.yaml"));
        assert!(excluded(&["**/.sops.yaml"], ".sops.yaml"));
        assert!(excluded(&["**/.sops.yaml"], "a/b/.sops.yaml"));
        assert!(excluded(&["a/**/b.yaml"], "a/x/y/b.yaml"));
        assert!(excluded(&["abc/**"], "abc/x/y.yaml"));
        assert!(!excluded(&["a**b/c"], "ab/c"));
        assert!(!excluded(&["*.yaml", "!keep.yaml"], "keep.yaml"));
    }

    #[test]
    fn patterns_keep_their_domain() {
        let mut files = IgnoreFiles::default();
        read_patterns(
            "# c\n\nsecret.yaml\n",
            &["apps".to_owned()],
            "apps/.sourceignore",
            None,
            &mut files,
        );
        assert_eq!(files.patterns.len(), 1);
        assert_eq!(
            files.patterns[0].at,
            Some(("apps/.sourceignore".to_owned(), 3))
        );
        assert_eq!(
            files.patterns[0].matches(&["apps", "secret.yaml"]),
            Some(false)
        );
        assert_eq!(files.patterns[0].matches(&["secret.yaml"]), None);
    }
}
