//! The human format: one `path:line:col: severity[rule-id]: message` line per finding, a
//! `  help: hint` line under it, and a summary line. Colour only when [`RenderOptions::color`].

use std::io::{self, Write};

use super::{RenderOptions, Report};
use crate::finding::{Finding, Severity};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Error => "\x1b[1;31m",
        Severity::Warning => "\x1b[1;33m",
        Severity::Note => "\x1b[1;36m",
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn finding(f: &Finding, out: &mut impl Write, o: &RenderOptions) -> io::Result<()> {
    let (bold, c, reset) = if o.color {
        (BOLD, severity_colour(f.severity), RESET)
    } else {
        ("", "", "")
    };
    writeln!(
        out,
        "{bold}{}{reset}: {c}{}[{}]{reset}: {}{}",
        f.primary,
        f.severity,
        f.rule.id,
        f.message,
        super::marker(f)
    )?;
    writeln!(out, "  {bold}help{reset}: {}", f.hint)?;
    for r in &f.related {
        writeln!(out, "  note: see {r}")?;
    }
    Ok(())
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
    let mut line = if total == 0 {
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
    if s.suppressed > 0 {
        line.push_str(&format!("; {} suppressed", s.suppressed));
    }
    let unverified = report
        .findings
        .iter()
        .filter(|f| f.unverified.is_some() && !f.is_suppressed())
        .count();
    if unverified > 0 {
        line.push_str(&format!("; {unverified} unverified"));
    }
    writeln!(out, "{line}")
}
