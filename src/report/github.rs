//! GitHub Actions workflow commands: `::error file=P,line=L,col=C,title=RULE::message`, one per
//! finding (`warning` and `notice` for the other severities).
//!
//! Escaping follows the Actions toolkit (`@actions/core` `command.ts`): in the message `%`, `\r`,
//! `\n` become `%25`, `%0D`, `%0A`; in property values `:` and `,` also become `%3A` and `%2C`.
//! Text from the checked tree (paths, names in messages) first has its control and bidirectional
//! characters written as escapes, as in the text report ([`super::text::escape`]): the Actions log
//! renders ANSI sequences.

use std::io::{self, Write};

use super::{RenderOptions, Report, text};
use crate::finding::Severity;

/// Escapes a command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders workflow commands: first a `::notice` per note of what the run could not look at,
/// then the findings. Suppressed findings appear only with `show_suppressed`, as notices.
pub fn render(report: &Report, out: &mut impl Write, options: &RenderOptions) -> io::Result<()> {
    for n in &report.notes {
        writeln!(
            out,
            "::notice title={}::{}",
            escape_property(&format!("{} note ({})", super::TOOL_NAME, n.kind)),
            escape_data(&text::escape(&n.message))
        )?;
    }
    for f in &report.findings {
        if f.is_suppressed() && !options.show_suppressed {
            continue;
        }
        let cmd = match f.severity {
            _ if f.is_suppressed() => "notice",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let said = format!("{}{}", f.message, super::marker(f));
        let message = format!("{}\nhelp: {}", text::escape(&said), text::escape(&f.hint));
        writeln!(
            out,
            "::{cmd} file={},line={},col={},title={}::{}",
            escape_property(&text::escape(&report.from_top(&f.primary.path))),
            f.primary.line,
            f.primary.column,
            escape_property(f.rule.id),
            escape_data(&message)
        )?;
    }
    Ok(())
}
