//! The human format: one `path:line:col: severity[rule-id]: message` line per finding, a
//! `  help: hint` line under it, and a summary line. Colour only when [`RenderOptions::color`].
//! Every string from the checked tree goes through [`escape`], so that it stays on its line and
//! cannot drive the terminal.

use std::borrow::Cow;
use std::io::{self, Write};

use super::{RenderOptions, Report};
use crate::finding::{Finding, Severity, plural};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Error => "\x1b[1;31m",
        Severity::Warning => "\x1b[1;33m",
        Severity::Note => "\x1b[1;36m",
    }
}

/// `s` with every character that could end the line or act on a terminal written as an escape:
/// `\n`, `\r`, `\t`, and `\u{..}` for the other control characters (C0, DEL, C1, among them
/// ESC), the Unicode line and paragraph separators, and the bidirectional formatting characters
/// that reorder what a terminal shows. Paths, names and messages come from the checked tree, so
/// without this a file or Secret name could print a line that looks like a finding of its own,
/// or hide text. Other text is unchanged.
pub fn escape(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if !s.contains(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` as `check` shows a key or name read from the checked tree: quoted, with Rust's escapes
/// (`"X\u{1b}[2J"`), then [`escape`]d. Every other command names such a key this way.
pub fn quoted(s: &str) -> String {
    escape(&format!("{s:?}")).into_owned()
}

fn finding(f: &Finding, out: &mut impl Write, o: &RenderOptions) -> io::Result<()> {
    let (bold, c, reset) = if o.color {
        (BOLD, severity_colour(f.severity), RESET)
    } else {
        ("", "", "")
    };
    writeln!(
        out,
        "{bold}{}{reset}: {c}{}[{}]{reset}: {}",
        escape(&f.primary.to_string()),
        f.severity,
        f.rule.id,
        escape(&format!("{}{}", f.message, super::marker(f)))
    )?;
    writeln!(out, "  {bold}help{reset}: {}", escape(&f.hint))?;
    for r in &f.related {
        writeln!(out, "  note: see {}", escape(&r.to_string()))?;
    }
    Ok(())
}

/// `environment dev` or `3 environments: dev, paper, prod`; past eight names, the first six and
/// how many more, so that the summary stays one line.
fn environments(names: &[String]) -> String {
    match names {
        [one] => format!("environment {one}"),
        _ => format!("{} environments: {}", names.len(), name_list(names)),
    }
}

/// `names` joined by commas; past eight, the first six and how many more.
fn name_list(names: &[String]) -> String {
    let shown = if names.len() > 8 { &names[..6] } else { names };
    let mut list = shown.join(", ");
    if shown.len() < names.len() {
        list.push_str(&format!(" and {} more", names.len() - shown.len()));
    }
    list
}

pub fn render(report: &Report, out: &mut impl Write, options: &RenderOptions) -> io::Result<()> {
    for f in &report.findings {
        if f.is_suppressed() && !options.show_suppressed {
            continue;
        }
        finding(f, out, options)?;
    }
    let s = report.summary();
    let total = s.errors + s.warnings + s.notes;
    let mut line = if total == 0 && report.files_checked == 0 {
        "nothing was checked: no file check reads is under the paths given".to_owned()
    } else if total == 0 {
        format!("no findings in {}", plural(report.files_checked, "file"))
    } else {
        format!(
            "{} ({}, {}, {}) in {}",
            plural(total, "finding"),
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.notes, "note"),
            plural(report.files_checked, "file")
        )
    };
    if !report.environments.is_empty() {
        let checked = environments(&report.environments);
        line.push_str(&format!("; checked {}", escape(&checked)));
    }
    if !report.not_built.is_empty() {
        let names = name_list(&report.not_built);
        line.push_str(&format!("; did not build: {}", escape(&names)));
    }
    if s.suppressed > 0 {
        line.push_str(&format!("; {} suppressed", s.suppressed));
    }
    let unverified = (report.findings.iter())
        .filter(|f| f.unverified.is_some() && !f.is_suppressed())
        .count();
    if unverified > 0 {
        line.push_str(&format!("; {unverified} unverified"));
    }
    writeln!(out, "{line}")
}

#[cfg(test)]
mod tests {
    /// The summary names one environment alone, up to eight in full, and past eight the first
    /// six and how many more.
    #[test]
    fn summary_environment_cut_off() {
        let names: Vec<String> = (1..=9).map(|i| format!("env{i}")).collect();
        let summary = |n: usize| {
            let report = crate::finding::Report {
                files_checked: 3,
                environments: names[..n].to_vec(),
                ..Default::default()
            };
            let mut out = Vec::new();
            super::render(&report, &mut out, &Default::default()).unwrap();
            String::from_utf8(out).unwrap()
        };
        let all8 = "env1, env2, env3, env4, env5, env6, env7, env8";
        let cases = [
            (1, "no findings in 3 files; checked environment env1\n".to_owned()),
            (8, format!("no findings in 3 files; checked 8 environments: {all8}\n")),
            (
                9,
                "no findings in 3 files; checked 9 environments: env1, env2, env3, env4, env5, env6 and 3 more\n"
                    .to_owned(),
            ),
        ];
        for (n, want) in cases {
            assert_eq!(summary(n), want, "{n} names");
        }
    }
}
