//! Rule `plaintext-env-file`: a real env file (not an `.example`) that git tracks, or that git
//! does not ignore (one `git add .` away from being committed).
//!
//! Real env files: a file named `.env`, `*.env`, or `.env.*`, except `*.example`, `*.sample`,
//! `*.template` and `*.dist`. Files with unknown git status are skipped. Only the file's name and
//! git status are looked at, never its content.

use super::{GitStatus, View};
use crate::envfile;
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "plaintext-env-file",
    summary: "A real env file is tracked by git, or not ignored",
    default_severity: Severity::Error,
    hint: "git rm --cached the file, add it to .gitignore (keep a .example beside it), and rotate every value it exposed",
    scope: RuleScope::Tree,
};

/// Reports tracked or unignored real env files.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for file in cx
        .files
        .iter()
        .filter(|f| envfile::is_real_env_file(&f.path))
    {
        let new = |what: &str| {
            let message = format!("real env file `{}` is {what} by git", file.path);
            Finding::new(&META, Location::file(file.path.clone()), message)
        };
        out.push(match file.git {
            GitStatus::Tracked => new("tracked"),
            GitStatus::Untracked { ignored: false } => new("not ignored")
                .severity(Severity::Warning)
                .hint("add the file to .gitignore so it cannot be committed by accident"),
            GitStatus::Untracked { ignored: true } | GitStatus::Unknown => continue,
        });
    }
    out
}
