//! Findings as plain data: what a rule found, where, how bad, and how to fix it.
//!
//! Owns [`Severity`], [`RuleMeta`], [`Location`], [`Suppression`] and [`Finding`] (which cannot
//! exist without a primary location), and the [`Report`] of a check run that the renderers
//! read. Must not run rules, read files, print, or hold secret values: a finding's message names
//! files, lines and keys, never a value.

use std::fmt;
use std::ops::Range;

/// How serious a finding is. Ordered: `Note < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; never fails a run.
    Note,
    /// Likely wrong; fails a run only where `--release` raises it to an error.
    Warning,
    /// Wrong: the deployment breaks or a secret leaks. Fails a run by default.
    Error,
}

impl Severity {
    /// The lowercase spelling used in every output format (`error`, `warning`, `note`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The static description of one rule. Every rule file defines exactly one `pub static META`.
///
/// The `id` is kebab-case and never changes once released; its documentation lives at
/// `docs/rules.md#<id>`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RuleMeta {
    /// Stable kebab-case identifier, e.g. `placeholder-ciphertext`.
    pub id: &'static str,
    /// One-line description (used in SARIF `shortDescription` and `docs/rules.md`).
    pub summary: &'static str,
    /// Severity of the rule's findings unless a finding says otherwise.
    pub default_severity: Severity,
    /// How to fix a finding of this rule, one line.
    pub hint: &'static str,
    /// What the rule looks at, which decides how the registry runs it. No default: every rule
    /// says, so that a new one cannot be left out of the per-overlay pass.
    pub scope: RuleScope,
}

/// What a rule looks at (`rules::run_only` runs each scope its own way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleScope {
    /// Every YAML/JSON file of the repository that git does not ignore, not only the checked
    /// tree: a leaked Secret is a leak wherever it sits.
    Repository,
    /// The checked tree, once per run.
    Tree,
    /// Once per checked overlay, with that overlay in focus, so that each finding is known to
    /// come from one overlay.
    Overlay,
    /// Like [`RuleScope::Overlay`], and the findings rest on the overlay's rendered model (its
    /// objects, names and references): withheld when kustomize cannot build the overlay (they
    /// would be knock-on effects of the build problem), marked unverified when the model does
    /// not fully replay it.
    Model,
}

impl RuleMeta {
    /// The documentation anchor for this rule, relative to the repository root.
    pub fn help_uri(&self) -> String {
        format!("docs/rules.md#{}", self.id)
    }
}

/// A place in a file of the checked tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// Path relative to the tree root, with forward slashes.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// Byte range in the file, when known.
    pub bytes: Option<Range<usize>>,
}

impl Location {
    /// A location at `line:column` (both 1-based; 0 is raised to 1) of `path`. Backslashes in
    /// `path` are turned into forward slashes.
    pub fn new(path: impl Into<String>, line: u32, column: u32) -> Location {
        let path: String = path.into();
        Location {
            path: path.replace('\\', "/"),
            line: line.max(1),
            column: column.max(1),
            bytes: None,
        }
    }

    /// The start of a file (line 1, column 1), for findings about a whole file.
    pub fn file(path: impl Into<String>) -> Location {
        Location::new(path, 1, 1)
    }

    #[must_use]
    pub fn with_bytes(mut self, bytes: Range<usize>) -> Location {
        self.bytes = Some(bytes);
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

/// Why a finding is suppressed. Suppressed findings are kept, never dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The line (1-based) of the `# emp-seal:allow` comment that suppresses it.
    pub line: u32,
    /// Free text after the rule ids in the comment, if any.
    pub justification: Option<String>,
}

/// One problem found by one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    /// Its severity (the rule's default unless the rule chose otherwise).
    pub severity: Severity,
    /// One line naming what is wrong; never a secret value.
    pub message: String,
    pub primary: Location,
    /// Other places involved (e.g. the generator a mismatching example belongs to).
    pub related: Vec<Location>,
    /// How to fix it (the rule's hint unless the rule chose a more specific one).
    pub hint: String,
    /// Set by the central suppression pass when an allow comment covers it.
    pub suppressed: Option<Suppression>,
    /// Set when the finding rests on a model of an overlay that emp-seal could not fully build
    /// (e.g. it uses `helmCharts`): why the real render may differ. An unverified finding still
    /// counts; a clean result for such an overlay is not a verified one.
    pub unverified: Option<String>,
}

impl Finding {
    /// A finding of `rule` at `primary`, with the rule's severity and hint. The location is
    /// required: there is no way to make a finding without one.
    pub fn new(rule: &'static RuleMeta, primary: Location, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            severity: rule.default_severity,
            message: message.into(),
            primary,
            related: Vec::new(),
            hint: rule.hint.to_string(),
            suppressed: None,
            unverified: None,
        }
    }

    /// Overrides the rule's default severity.
    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    #[must_use]
    pub fn related(mut self, location: Location) -> Finding {
        self.related.push(location);
        self
    }

    /// Replaces the rule's generic hint with a specific one.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = hint.into();
        self
    }

    /// Where a report lists it: by path, line, column and rule id.
    fn order(&self) -> (&str, u32, u32, &str) {
        let p = &self.primary;
        (&p.path, p.line, p.column, self.rule.id)
    }

    /// True when an allow comment covers this finding.
    pub fn is_suppressed(&self) -> bool {
        self.suppressed.is_some()
    }
}

/// The result of a check run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every finding, suppressed ones included, sorted by path, line, column and rule id.
    pub findings: Vec<Finding>,
    pub files_checked: usize,
    /// The rules that ran or could have run (SARIF lists them as the tool's rules).
    pub rules: Vec<&'static RuleMeta>,
    /// What the check could not look at, in the order found. Every format carries them, so that
    /// a clean report of a run that could not look is told apart from one that did.
    pub notes: Vec<Note>,
    /// The environments whose overlays were checked, by name (under `--release`, that one), so
    /// that a clean report says what it verified.
    pub environments: Vec<String>,
    /// Those of [`Report::environments`] that kustomize cannot build, or one of whose variants it
    /// cannot: their (or the variant's) key and reference checks did not run.
    pub not_built: Vec<String>,
    /// The checked root's path inside its git repository (`services/api`, forward slashes;
    /// empty at the top or outside git): the formats GitHub reads name files from the
    /// repository's top ([`Report::from_top`]).
    pub root_in_repository: String,
}

/// A statement of something the check could not look at (no tool to render with, no git, a
/// deployed directory it does not model, ...). Never a finding: it has no location and does not
/// change the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// A stable id of what kind of thing went unchecked: [`Note::NOT_GIT`],
    /// [`Note::RENDER_UNAVAILABLE`] or [`Note::NOT_CHECKED`].
    pub kind: &'static str,
    /// One line, without the `note: ` the text format prints before it.
    pub message: String,
}

impl Note {
    /// The tree is not in a git repository: tracked status is unknown.
    pub const NOT_GIT: &'static str = "not-a-git-repository";
    /// `--render=auto` wanted to render and no tool was on PATH: the model went unverified.
    pub const RENDER_UNAVAILABLE: &'static str = "render-unavailable";
    /// Files or directories the check did not read or model.
    pub const NOT_CHECKED: &'static str = "not-checked";
    /// Findings the paths given left out of the report (`check PATH...`).
    pub const OUTSIDE_PATHS: &'static str = "outside-paths";

    /// A note of `kind` saying `message` (without `note: `).
    pub fn new(kind: &'static str, message: &str) -> Note {
        Note {
            kind,
            message: message.to_owned(),
        }
    }
}

/// `n word`, with an `s` unless `n` is 1: how a report counts its findings, errors and files.
pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Counts of a report's findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Unsuppressed errors.
    pub errors: usize,
    /// Unsuppressed warnings.
    pub warnings: usize,
    /// Unsuppressed notes.
    pub notes: usize,
    /// Suppressed findings of any severity.
    pub suppressed: usize,
}

impl Report {
    /// A report of `findings` (sorted here) over `files_checked` files, listing `rules` (the
    /// registry's, `rules::all()`).
    pub fn new(
        mut findings: Vec<Finding>,
        files_checked: usize,
        rules: Vec<&'static RuleMeta>,
    ) -> Report {
        findings.sort_by(|a, b| a.order().cmp(&b.order()));
        Report {
            findings,
            files_checked,
            rules,
            notes: Vec::new(),
            environments: Vec::new(),
            not_built: Vec::new(),
            root_in_repository: String::new(),
        }
    }

    /// A finding's root-relative `path` named from the repository's top
    /// ([`Report::root_in_repository`]): `services/api/k8s/x.yaml`, and `services/shared/x`
    /// for `../shared/x`.
    pub fn from_top(&self, path: &str) -> String {
        let mut parts: Vec<&str> = (self.root_in_repository.split('/'))
            .filter(|p| !p.is_empty())
            .collect();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." if parts.last().is_some_and(|p| *p != "..") => {
                    parts.pop();
                }
                _ => parts.push(part),
            }
        }
        parts.join("/")
    }

    /// Counts by severity, suppressed findings apart.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for f in &self.findings {
            if f.is_suppressed() {
                s.suppressed += 1;
                continue;
            }
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Note => s.notes += 1,
            }
        }
        s
    }

    /// 1 when an unsuppressed finding is at or above `fail_on`, else 0. (Exit code 2, for usage
    /// and configuration errors, is the CLI's.)
    pub fn exit_code(&self, fail_on: Severity) -> u8 {
        let failing = self
            .findings
            .iter()
            .any(|f| !f.is_suppressed() && f.severity >= fail_on);
        u8::from(failing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static META: RuleMeta = RuleMeta {
        id: "test-rule",
        summary: "a test rule",
        default_severity: Severity::Warning,
        hint: "fix it",
        scope: RuleScope::Tree,
    };

    #[test]
    fn paths_are_named_from_the_repository_top() {
        let mut r = Report::default();
        assert_eq!(r.from_top("k8s/x.yaml"), "k8s/x.yaml");
        r.root_in_repository = "services/api".into();
        assert_eq!(r.from_top("k8s/x.yaml"), "services/api/k8s/x.yaml");
        assert_eq!(r.from_top("../shared/app.env"), "services/shared/app.env");
        assert_eq!(r.from_top("../../../x"), "../x");
    }

    #[test]
    fn builder_defaults_come_from_the_rule() {
        let f = Finding::new(&META, Location::new("a\\b.yaml", 0, 3), "msg");
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.hint, "fix it");
        assert_eq!(f.primary.to_string(), "a/b.yaml:1:3");
        let f = Finding::new(&META, Location::file("x"), "m")
            .severity(Severity::Error)
            .hint("other")
            .related(Location::new("y", 2, 1));
        assert_eq!((f.severity, f.hint.as_str()), (Severity::Error, "other"));
        assert_eq!(f.related.len(), 1);
    }

    #[test]
    fn severity_order() {
        assert!(Severity::Note < Severity::Warning && Severity::Warning < Severity::Error);
    }
}
