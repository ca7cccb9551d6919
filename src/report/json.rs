//! The JSON format, version 1: `{"version": 1, "tool": {...}, "findings": [...], "notes": [...],
//! "summary": {...}}`, documented in docs/output-formats.md.
//!
//! The wire types here are separate from the internal types on purpose: changing `Finding` must
//! not change this output. Any change to these types that is not a pure addition of an optional
//! field requires `version: 2`. Suppressed findings are always included, with `suppressed` set.

use serde::Serialize;

use super::{Report, TOOL_NAME, TOOL_VERSION};
use crate::finding::{Finding, Location};

/// The schema version of this format.
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct WireReport<'a> {
    /// Always [`VERSION`].
    pub version: u32,
    pub tool: WireTool,
    /// Every finding, sorted by path, line, column and rule.
    pub findings: Vec<WireFinding<'a>>,
    /// What the run could not look at (no tool to render with, no git, a directory it does not
    /// model, ...); empty when it looked at everything. Added in 1; always present.
    pub notes: Vec<WireNote<'a>>,
    pub summary: WireSummary,
}

/// A statement of something the run could not look at.
#[derive(Debug, Serialize)]
pub struct WireNote<'a> {
    /// `not-a-git-repository`, `render-unavailable` or `not-checked`.
    pub kind: &'a str,
    /// One line; never a secret value.
    pub message: &'a str,
}

#[derive(Debug, Serialize)]
pub struct WireTool {
    /// `emp-seal`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct WireFinding<'a> {
    /// Rule id (kebab-case, stable).
    pub rule: &'a str,
    /// `error`, `warning` or `note`.
    pub severity: &'a str,
    /// One-line message; never a secret value.
    pub message: &'a str,
    pub location: WireLocation<'a>,
    /// Related locations (possibly empty).
    pub related: Vec<WireLocation<'a>>,
    pub hint: &'a str,
    /// Documentation anchor, `docs/rules.md#<rule>`.
    pub help_uri: String,
    /// `null`, or the allow comment that suppresses it.
    pub suppressed: Option<WireSuppression<'a>>,
    /// Present only when the finding rests on an overlay model emp-seal could not fully build
    /// (rule `overlay-not-modelled`): why the real render may differ. Added in 1 as an optional
    /// field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct WireLocation<'a> {
    /// Repo-relative path, forward slashes.
    pub path: &'a str,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
    /// Byte offset of the start, or `null`.
    pub byte_start: Option<usize>,
    /// Byte offset one past the end, or `null`.
    pub byte_end: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct WireSuppression<'a> {
    /// Always `inline` (an `# emp-seal:allow` comment).
    pub kind: &'static str,
    /// Line of the comment.
    pub line: u32,
    /// Text after the ids, or `null`.
    pub justification: Option<&'a str>,
}

/// Counts; suppressed findings are counted only in `suppressed`.
#[derive(Debug, Serialize)]
pub struct WireSummary {
    pub files_checked: usize,
    /// Unsuppressed errors.
    pub errors: usize,
    /// Unsuppressed warnings.
    pub warnings: usize,
    /// Unsuppressed notes.
    pub notes: usize,
    /// Suppressed findings.
    pub suppressed: usize,
    /// The environments whose overlays were checked.
    pub environments: Vec<String>,
    /// Those of `environments` that kustomize cannot build.
    pub not_built: Vec<String>,
}

fn location(l: &Location) -> WireLocation<'_> {
    WireLocation {
        path: &l.path,
        line: l.line,
        column: l.column,
        byte_start: l.bytes.as_ref().map(|r| r.start),
        byte_end: l.bytes.as_ref().map(|r| r.end),
    }
}

fn finding(f: &Finding) -> WireFinding<'_> {
    WireFinding {
        rule: f.rule.id,
        severity: f.severity.as_str(),
        message: &f.message,
        location: location(&f.primary),
        related: f.related.iter().map(location).collect(),
        hint: &f.hint,
        help_uri: f.rule.help_uri(),
        suppressed: f.suppressed.as_ref().map(|s| WireSuppression {
            kind: "inline",
            line: s.line,
            justification: s.justification.as_deref(),
        }),
        unverified: f.unverified.as_deref(),
    }
}

pub fn wire(report: &Report) -> WireReport<'_> {
    let s = report.summary();
    WireReport {
        version: VERSION,
        tool: WireTool {
            name: TOOL_NAME,
            version: TOOL_VERSION,
        },
        findings: report.findings.iter().map(finding).collect(),
        notes: (report.notes.iter())
            .map(|n| WireNote {
                kind: n.kind,
                message: &n.message,
            })
            .collect(),
        summary: WireSummary {
            files_checked: report.files_checked,
            errors: s.errors,
            warnings: s.warnings,
            notes: s.notes,
            suppressed: s.suppressed,
            environments: report.environments.clone(),
            not_built: report.not_built.clone(),
        },
    }
}
