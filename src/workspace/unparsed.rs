//! YAML and JSON files that seem to hold an Argo CD `Application` / `ApplicationSet` or a Flux
//! `Kustomization` but do not parse (a duplicate key, a tab, an unrendered `{{ }}` template):
//! discovery cannot read the object, so the directory it deploys and the options it applies at
//! sync time are unknown, and `check` says so in a note. A template of a Helm chart (a file under
//! a `templates/` directory next to a `Chart.yaml`) is Helm's, not kustomize's: Helm renders it
//! (with the chart's values) before anything applies it, which emp-seal does not, so the note
//! says that instead of quoting the parser.

use std::path::Path;

/// The deploy kinds, each with the API group whose mention makes a `kind:` line one of them.
const KINDS: [(&str, &str); 3] = [
    ("ApplicationSet", "argoproj.io"),
    ("Application", "argoproj.io"),
    ("Kustomization", "kustomize.toolkit.fluxcd.io"),
];

/// A piece of a file that did not parse and names a deploy kind.
pub(super) struct Unparsed {
    /// The kind, as in [`KINDS`].
    kind: &'static str,
    /// 1-based line in the file of its `kind:` line.
    kind_line: usize,
    /// 1-based line in the file where the parser stopped, with its message (no position);
    /// `None` for YAML that parses into a mapping with a mapping as a key (a `{{ }}` line).
    error: Option<(usize, String)>,
}

/// The deploy kind `text` (a piece of a file starting at 1-based line `first_line`) names in a
/// `kind:` line with its group mentioned in the piece, as an [`Unparsed`] with the parser's
/// `error` (`None` when it parsed into something that is no object).
pub(super) fn unparsed(
    text: &str,
    first_line: usize,
    error: Option<&yaml_serde::Error>,
) -> Option<Unparsed> {
    let (kind, kind_line) = text.lines().enumerate().find_map(|(i, l)| {
        kind_values(l).find_map(|value| {
            KINDS
                .iter()
                .find(|(k, group)| *k == value && text.contains(group))
                .map(|(k, _)| (*k, first_line + i))
        })
    })?;
    let error = error.map(|e| {
        let line = crate::yamlpos::error_position(text, e)
            .map_or(kind_line, |(l, _)| first_line + l.max(1) - 1);
        let message = crate::yamlpos::error_message(e);
        let message = message.split(" at line ").next().unwrap_or(&message);
        (line, message.to_owned())
    });
    Some(Unparsed {
        kind,
        kind_line,
        error,
    })
}

/// The values of the `kind` keys on `line`, as a block mapping writes one (`kind: Application`,
/// maybe quoted, maybe followed by a comment, maybe a list item's first key) and as a flow
/// mapping or JSON does (`{"kind": "Application", ...}`, maybe several on one minified line): a
/// `kind` key (bare or quoted) at the line's start, after `- ` or after `{` or `,`, then `:` and
/// the value up to its closing quote or the next `,`, `}` or blank.
fn kind_values(line: &str) -> impl Iterator<Item = &str> {
    line.match_indices("kind").filter_map(move |(i, _)| {
        let before = line[..i].trim_end_matches(['"', '\'']).trim_end();
        let item = before.chars().all(|c| c == '-' || c.is_whitespace());
        if !(item || before.ends_with(['{', ','])) {
            return None;
        }
        let quote = line[..i]
            .chars()
            .next_back()
            .filter(|c| matches!(c, '"' | '\''));
        let after = &line[i + 4..];
        let after = quote.map_or(Some(after), |q| after.strip_prefix(q))?;
        let value = after.trim_start().strip_prefix(':')?.trim_start();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next()?,
            _ => value.split([',', '}', ' ', '\t']).next()?,
        };
        Some(value)
    })
}

/// The notes on `file`'s pieces that did not parse, each with its `file:line`: one for the
/// file when it is a Helm chart's template, else one per piece.
pub(super) fn notes(root: &Path, file: &str, pieces: &[Unparsed]) -> Vec<(String, String)> {
    let what = |u: &Unparsed| match u.kind {
        "Kustomization" => "a Flux Kustomization",
        "ApplicationSet" => "an Argo CD ApplicationSet",
        _ => "an Argo CD Application",
    };
    const UNKNOWN: &str = "the directory it deploys and the kustomize options it applies at sync time are not known to emp-seal";
    if let (Some(chart), Some(first)) = (helm_chart(root, file), pieces.first()) {
        let at = format!("{file}:{}", first.kind_line);
        let note = format!(
            "{at} is a template of the Helm chart {chart} (it names {}): Helm renders it with the chart's values, which emp-seal does not, so it is not read: {UNKNOWN}",
            what(first)
        );
        return vec![(at, note)];
    }
    // A JSON file is read as YAML (which JSON is): it is named as what it is written in.
    let (syntax, key) = if file.ends_with(".json") {
        ("JSON", "\"kind\"")
    } else {
        ("YAML", "kind:")
    };
    pieces
        .iter()
        .map(|u| {
            let (line, why) = match &u.error {
                Some((line, message)) => (*line, format!("does not parse as {syntax} ({message})")),
                None => (
                    u.kind_line,
                    "does not parse as a Kubernetes object (a mapping key is itself a mapping or list: an unrendered `{{ }}` template?)".to_owned(),
                ),
            };
            let at = format!("{file}:{line}");
            let note = format!(
                "{at}: {} (`{key}` at line {}) {why}, so it is not read: {UNKNOWN}",
                what(u),
                u.kind_line
            );
            (at, note)
        })
        .collect()
}

/// The chart directory (repository-relative) when `file` is under a `templates/` directory
/// whose parent holds a `Chart.yaml` (Helm's chart layout; `.` for a chart at the root).
pub(crate) fn helm_chart(root: &Path, file: &str) -> Option<String> {
    let parts: Vec<&str> = file.split('/').collect();
    (0..parts.len().saturating_sub(1))
        .rev()
        .filter(|&i| parts[i] == "templates")
        .map(|i| parts[..i].join("/"))
        .find(|chart| root.join(chart).join("Chart.yaml").is_file())
        .map(|chart| {
            if chart.is_empty() {
                ".".to_owned()
            } else {
                chart
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_naming_a_deploy_kind_of_its_group_is_found_and_others_are_not() {
        let text = "{{- if .Values.on }}\napiVersion: argoproj.io/v1alpha1\nkind: \"Application\" # app\nspec: {}\n{{- end }}\n";
        let e = yaml_serde::from_str::<yaml_serde::Value>(text).unwrap_err();
        let u = unparsed(text, 10, Some(&e)).expect("found");
        assert_eq!((u.kind, u.kind_line), ("Application", 12));
        assert!(u.error.is_some());
        // A `kind: Kustomization` without Flux's group is kustomize's own file.
        assert!(unparsed("kind: Kustomization\nresources: [\n", 1, None).is_none());
        // JSON, or a flow mapping: the `kind` member, wherever it is on its line.
        let json = "{\"apiVersion\": \"kustomize.toolkit.fluxcd.io/v1\",\n \"spec\": {\"sourceRef\": {\"kind\": \"GitRepository\"}}, \"kind\" : \"Kustomization\"}\n";
        let u = unparsed(json, 1, None).expect("found");
        assert_eq!((u.kind, u.kind_line), ("Kustomization", 2));
        let flow = "apiVersion: argoproj.io/v1\nitems:\n  - {kind: ApplicationSet}\n";
        assert_eq!(
            unparsed(flow, 1, None).map(|u| u.kind),
            Some("ApplicationSet")
        );
        assert!(
            unparsed(
                "apiVersion: argoproj.io/v1\nsubkind: Application\n",
                1,
                None
            )
            .is_none()
        );
        assert!(
            unparsed(
                "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\n",
                1,
                None
            )
            .is_none()
        );
    }

    #[test]
    fn a_helm_template_gets_one_note_naming_its_chart() {
        let t = tempfile::tempdir().expect("tempdir");
        crate::workspace::write_fixture(t.path(), "charts/apps/Chart.yaml", "name: apps\n");
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\n";
        let piece = || unparsed(text, 1, None).expect("found");
        let helm = notes(
            t.path(),
            "charts/apps/templates/x/a.yaml",
            &[piece(), piece()],
        );
        assert_eq!(helm.len(), 1);
        assert!(
            helm[0].1.contains("Helm chart charts/apps"),
            "{}",
            helm[0].1
        );
        let plain = notes(
            t.path(),
            "charts/other/templates/a.yaml",
            &[piece(), piece()],
        );
        assert_eq!(plain.len(), 2);
        assert!(plain[0].1.contains("does not parse"), "{}", plain[0].1);
    }
}
