//! Renderers for a check [`Report`]: human text, versioned JSON, SARIF 2.1.0 and GitHub workflow
//! commands.
//!
//! Owns output formats and the severity mappings they need. Must not run rules, decide exit
//! codes, detect terminals or read the environment (the CLI decides colour from TTY and
//! `NO_COLOR` and passes it in [`RenderOptions`]), and never sees secret values: findings carry
//! none.

use std::io::{self, Write};

use crate::finding::Finding;
pub use crate::finding::Report;

pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

/// An output format of `emp-seal check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `path:line:col: severity[rule-id]: message` lines with a `help:` line each.
    Text,
    /// The versioned JSON document described in docs/output-formats.md.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...::message`).
    Github,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Use ANSI colour (text only). The CLI sets this only on a TTY without `NO_COLOR`.
    pub color: bool,
    /// Show suppressed findings (text and github; json and sarif always carry them, marked).
    pub show_suppressed: bool,
}

pub const TOOL_NAME: &str = "emp-seal";

/// The tool version reported in JSON and SARIF.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the text and github formats append to a finding's message: ` [unverified: why]` and
/// ` (suppressed)`, each when it applies.
fn marker(f: &Finding) -> String {
    let mut marker = String::new();
    if let Some(why) = &f.unverified {
        marker.push_str(&format!(" [unverified: {why}]"));
    }
    if f.is_suppressed() {
        marker.push_str(" (suppressed)");
    }
    marker
}

/// Pretty-printed JSON followed by a newline.
fn pretty(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// Renders `report` in `format` to `out`.
pub fn render(
    format: Format,
    report: &Report,
    out: &mut impl Write,
    options: &RenderOptions,
) -> io::Result<()> {
    match format {
        Format::Text => text::render(report, out, options),
        Format::Json => pretty(out, &json::wire(report)),
        Format::Sarif => pretty(out, &sarif::log(report)),
        Format::Github => github::render(report, out, options),
    }
}
