//! What of the real kustomize's error message `render-failed` may show: the message read as a
//! sequence of known kustomize phrases (an allowlist), each of whose parts is either fixed text,
//! a path, an object id or a key name, or content that is never shown. From the first stretch
//! that is not a known phrase on, the message is replaced by [`NOT_SHOWN`].
//!
//! Closed by default: kustomize quotes what it could not read (a `literals:` item without `=`,
//! an inline patch, a line of an env file), and no list of the overlay's values can be known to
//! cover everything it may quote, so only the shapes below are shown, and in them the parts that
//! hold such content are always replaced. The wording of the hidden parts is the model's
//! (`overlay-build-error`): "(content not shown)".

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What stands in for everything of the message that is not shown.
pub(super) const NOT_SHOWN: &str = "(content not shown)";

/// A path or URL as kustomize quotes it: no whitespace, no quote, no `@` (a URL's user
/// information may hold a credential; such a path is not shown).
const PATH: &str = r#"[^\s'"`\[\]@;]+"#;
/// Paths separated by single spaces, as Go prints a `[]string`.
const PATHS: &str = r#"[^\s'"`\[\]@;]+(?: [^\s'"`\[\]@;]+)*"#;
/// A kustomize resource id (`ConfigMap.v1.[noGrp]/name.[noNs]`): kinds, groups, names.
const ID: &str = r"[A-Za-z0-9_.\-\[\]/:~]+";
/// A key name or field name.
const KEY: &str = r"[A-Za-z0-9_.\-]+";
/// Anything, across lines: content that is never shown.
const HIDDEN: &str = r"(?s:.*)";

/// The phrases, in the order they are tried, each anchored where the previous one ended. A group
/// named `h...` is hidden content; any other group is shown as it is. Sources are kustomize v5's
/// `api/` tree (error wrapping in `internal/target/kusttarget.go`, `api/loader/fileloader.go`,
/// `api/kv/kv.go`, `api/internal/generators/utils.go`, `api/resmap/reswrangler.go`,
/// `api/filters/replacement/replacement.go`, `api/internal/builtins/PatchTransformer.go`) and
/// Go's `os` errors.
static PHRASES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    let p = |s: String| {
        Regex::new(&format!("^(?:{s})")).expect("invariant: every phrase is a valid regex")
    };
    vec![
        // Context that wraps the cause.
        p(r"accumulating (?:resources|components): ".to_owned()),
        p(r"accumulation err='".to_owned()),
        p(r"accumulateDirectory: ".to_owned()),
        p(format!(
            r"(?:accumulating|merging) resources from '(?P<p>{PATH})': "
        )),
        p(r#"loader\.New ""#.to_owned()),
        p(format!(r"must build at directory: (?:'(?P<p>{PATH})': )?")),
        p(r"not a valid directory: ".to_owned()),
        p(format!(r"evalsymlink failure on '(?P<p>{PATH})' : ")),
        p(format!(r"(?:lstat|stat|open|readlink) (?P<p>{PATH}): ")),
        p(r"'?': ".to_owned()),
        p(format!(r"'(?P<p>{PATH})?' must resolve to a file'?: ")),
        p(format!(r"couldn't make target for path '(?P<p>{PATH})?': ")),
        p(r#"""#.to_owned()),
        p(r"loading KV pairs: ".to_owned()),
        p(format!(r"(?:file sources|env source files): \[(?P<p>{PATHS})\]: ")),
        p(r"invalid Kustomization: json: ".to_owned()),
        // Causes.
        p(r"no such file or directory|permission denied|file is not directory|not a directory|is a directory".to_owned()),
        p(format!(
            r"security; file '(?P<p1>{PATH})' is not in or below '(?P<p2>{PATH})'"
        )),
        p(format!(
            r"may not add resource with an already registered id: (?P<i>{ID})"
        )),
        p(format!(r"Found multiple kustomization files under: (?P<p>{PATH})")),
        p(r"kustomization\.yaml is empty".to_owned()),
        p(format!(
            r"cycle detected: candidate root '(?P<p1>{PATH})?' contains visited root '(?P<p2>{PATH})?'"
        )),
        p(format!(
            r"unable to find one of 'kustomization\.yaml', 'kustomization\.yml' or 'Kustomization' in directory '(?P<p>{PATH})?'"
        )),
        p(format!(
            r"literal sources \[(?P<h1>{HIDDEN})\]: invalid literal source (?P<h2>{HIDDEN}), expected key=value"
        )),
        p(format!(
            r"line \[(?P<h1>[0-9 ]*)\] has invalid utf8 bytes : (?P<h2>{HIDDEN})"
        )),
        p(format!(
            r"(?:configmap|secret) (?P<n>{KEY}) illegally repeats the key `(?P<k>{KEY})`"
        )),
        p(format!(r#"unknown field "(?P<k>{KEY})""#)),
        p(format!(
            r"cannot unmarshal [a-z]+ into Go struct field (?P<k>{KEY}) of type (?P<t>[A-Za-z0-9_.\[\]*]+)"
        )),
        p(format!(
            r#"no resource matches strategic merge patch "(?P<i>{ID})": "#
        )),
        p(format!(
            r"no matches for Id (?P<i1>{ID}); failed to find unique target for patch (?P<i2>{ID})"
        )),
        p(format!(
            r"fieldPath `(?P<k>{KEY})` is missing for replacement source (?P<i>{ID})"
        )),
        p(
            r"(?:add|remove|replace|move|copy) operation does not apply: doc is missing path: (?P<k>[A-Za-z0-9_.~/\-]+): missing value"
                .to_owned(),
        ),
        p(format!(
            r"trouble configuring builtin (?P<n>[A-Za-z]+) with config: `(?P<h1>{HIDDEN})`: unable to parse SM or JSON patch from \[(?P<h2>{HIDDEN})\]"
        )),
        p(format!(
            r"must specify a target for JSON patch \[(?P<h>{HIDDEN})\]"
        )),
        // A generator, transformer or validator of a kind kustomize has no builtin for, without
        // --enable-alpha-plugins (api/internal/plugins/loader/loader.go,
        // `types.NewErrOnlyBuiltinPluginsAllowed`): the kind is a name.
        p(format!(
            r"external plugins disabled; unable to load external plugin '(?P<n>{KEY})'"
        )),
        // go-yaml's syntax errors are fixed problem texts, quoting at most one character.
        p(format!(
            r"MalformedYAMLError: yaml: (?:line [0-9]+: )?[a-z][a-z ]*(?:'[^'\s]?'[a-z ]*)*(?:<[a-z ]+>)? in File: (?P<p>{PATH})"
        )),
    ]
});

/// `message` (the tool's, with the repository's path already cut) as far as it is made of known
/// phrases, then [`NOT_SHOWN`] for the rest; their hidden parts are [`NOT_SHOWN`] too.
pub(super) fn shown(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while !rest.is_empty() {
        let Some((re, c)) = PHRASES.iter().find_map(|re| {
            re.captures(rest)
                .filter(|c| !c[0].is_empty())
                .map(|c| (re, c))
        }) else {
            out.push_str(NOT_SHOWN);
            break;
        };
        out.push_str(&phrase(re, &c));
        rest = &rest[c[0].len()..];
    }
    out
}

/// One matched phrase with its hidden groups (named `h...`) replaced.
fn phrase(re: &Regex, c: &Captures<'_>) -> String {
    let whole = &c[0];
    let mut out = String::new();
    let mut at = 0;
    for (name, m) in re.capture_names().zip(c.iter()) {
        let (Some(name), Some(m)) = (name, m) else {
            continue;
        };
        if name.starts_with('h') {
            out.push_str(&whole[at..m.start()]);
            out.push_str(NOT_SHOWN);
            at = m.end();
        }
    }
    out.push_str(&whole[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_phrases_are_shown_and_their_content_is_not() {
        let cases = [
            (
                "accumulating resources: accumulation err='accumulating resources from 'not-there.yaml': evalsymlink failure on 'k/not-there.yaml' : lstat k/not-there.yaml: no such file or directory': must build at directory: not a valid directory: evalsymlink failure on 'k/not-there.yaml' : lstat k/not-there.yaml: no such file or directory",
                None,
            ),
            (
                "loading KV pairs: literal sources [a=b SENTINEL]: invalid literal source SENTINEL, expected key=value",
                Some(
                    "loading KV pairs: literal sources [(content not shown)]: invalid literal source (content not shown), expected key=value",
                ),
            ),
            (
                "trouble configuring builtin PatchTransformer with config: `\npatch: |\n  - SENTINEL\n`: unable to parse SM or JSON patch from [patch: \"- SENTINEL\"]",
                Some(
                    "trouble configuring builtin PatchTransformer with config: `(content not shown)`: unable to parse SM or JSON patch from [(content not shown)]",
                ),
            ),
            (
                "loading KV pairs: env source files: [x.env]: line [255 83] has invalid utf8 bytes : \u{fffd}SENTINEL",
                Some(
                    "loading KV pairs: env source files: [x.env]: line [(content not shown)] has invalid utf8 bytes : (content not shown)",
                ),
            ),
            ("configmap s illegally repeats the key `A`", None),
            (
                "external plugins disabled; unable to load external plugin 'SuffixTransformer'",
                None,
            ),
            (
                "accumulating resources: accumulation err='accumulating resources from 'https://u:SENTINEL@h/x': Get ...",
                Some("accumulating resources: accumulation err='(content not shown)"),
            ),
            (
                "accumulating resources: accumulating resources from 'bad.yaml': MalformedYAMLError: yaml: line 1: did not find expected ',' or ']' in File: bad.yaml",
                None,
            ),
            (
                "accumulating resources: accumulating resources from 'bad.yaml': MalformedYAMLError: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `SENTINEL` into map",
                Some(
                    "accumulating resources: accumulating resources from 'bad.yaml': (content not shown)",
                ),
            ),
            (
                "accumulating resources: accumulation err='accumulating resources from '..': 'k8s' must resolve to a file': cycle detected: candidate root 'k8s' contains visited root 'k8s/overlays/dev'",
                None,
            ),
            (
                "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory 'k8s/overlays/staging'",
                None,
            ),
            (
                "accumulating components: accumulateDirectory: \"couldn't make target for path 'comp': kustomization.yaml is empty\"",
                None,
            ),
            ("SENTINEL", Some("(content not shown)")),
        ];
        for (message, want) in cases {
            let got = shown(message);
            assert_eq!(got, want.unwrap_or(message), "{message}");
            assert!(!got.contains("SENTINEL"), "{got}");
        }
    }
}
