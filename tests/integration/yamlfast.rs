//! The YAML fast path against `yaml_serde` itself: whenever the fast path reads a document, the
//! value is `yaml_serde`'s; whenever `yaml_serde` fails, the fast path defers. On every YAML
//! document in the repository and on generated (often broken) documents.

use std::path::Path;

use emp_seal::yamlfast;
use proptest::prelude::*;
use yaml_serde::Value;

use crate::common;

/// The one property: a fast answer is `yaml_serde`'s answer.
fn check(text: &str) -> Result<bool, String> {
    let slow = yaml_serde::from_str::<Value>(text);
    match (yamlfast::parse(text), slow) {
        (None, _) => Ok(false),
        (Some(fast), Ok(slow)) if fast == slow => Ok(true),
        (Some(fast), Ok(slow)) => Err(format!(
            "different values for {text:?}:\nfast {fast:?}\nslow {slow:?}"
        )),
        (Some(fast), Err(e)) => Err(format!(
            "fast path accepted what yaml_serde refuses ({e}) for {text:?}: {fast:?}"
        )),
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !name.starts_with('.') && name != "target" {
                yaml_files(&p, out);
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(p);
        }
    }
}

/// Documents of a file, split at `---` lines as the callers split them.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.starts_with("---") {
            docs.push(String::new());
        } else if let Some(d) = docs.last_mut() {
            d.push_str(line);
        }
    }
    docs.retain(|d| d.lines().any(|l| !l.trim().is_empty()));
    docs
}

#[test]
fn every_yaml_document_in_the_repository_reads_the_same() {
    let root = common::repo_root();
    let mut files = Vec::new();
    for d in ["k8s", "tests", "docs", "fuzz"] {
        yaml_files(&root.join(d), &mut files);
    }
    assert!(files.len() > 50, "found only {} YAML files", files.len());
    let (mut docs, mut fast, mut k8s_docs, mut k8s_fast) = (0, 0, 0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let in_k8s = f.starts_with(root.join("k8s"));
        for d in documents(&text) {
            docs += 1;
            let hit = check(&d).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            fast += usize::from(hit);
            if in_k8s {
                k8s_docs += 1;
                k8s_fast += usize::from(hit);
            }
        }
    }
    eprintln!("fast path read {fast} of {docs} documents ({k8s_fast} of {k8s_docs} under k8s/)");
    // The speed-up is real only if the shipped tree takes the fast path.
    assert_eq!(
        k8s_fast, k8s_docs,
        "documents under k8s/ that the fast path defers"
    );
    assert!(
        fast * 2 > docs,
        "the fast path read only {fast} of {docs} documents"
    );
}

/// A deterministic source of choices from proptest's bytes.
struct Src<'a> {
    bytes: &'a [u8],
    i: usize,
}

impl Src<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let b = self.bytes.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        usize::from(b) % n
    }
}

/// Keys and scalars the fast path reads, and ones it must defer (or that break the document).
const KEYS: &[&str] = &[
    "name",
    "a",
    "b",
    "app.kubernetes.io/name",
    "x-y",
    "80",
    "true",
    "a b",
];
const ODD_KEYS: &[&str] = &[
    "null", "~", "-5", "a#b", "k:v", "? q", "\"q\"", "'s'", "key ", "-", ":x", "0x1", "1.5", "007",
    "[a]",
];
const SCALARS: &[&str] = &[
    "x",
    "hello world",
    "1",
    "0",
    "-3",
    "true",
    "False",
    "NULL",
    "~",
    "''",
    "'it''s'",
    "\"q\\\"x\"",
    "\"a\" # c",
    "[]",
    "{}",
    "[ ]",
    "{ }",
    "|",
    "|-",
    "http://h:80/p#f",
    "x # comment",
    "x#y",
    "-x",
    "../../base",
    "1.4.0-rc.1",
    "é",
    "250m",
    "\"0 6 * * 1-5\"",
];
const ODD_SCALARS: &[&str] = &[
    "+3",
    "007",
    "1.5",
    "1e3",
    ".inf",
    "-.inf",
    ".nan",
    "0x1f",
    "0o17",
    "'a'#c",
    "\"\\n\\t\\u00e9\"",
    "\"\\x41\"",
    "[a, b]",
    "{a: 1}",
    "&a x",
    "*a",
    "!!str 1",
    "!tag x",
    ">",
    "|+",
    "|2",
    "a: b",
    "a:",
    "- x",
    "? x",
    ":x",
    "@x",
    "`x`",
    "%x",
    "a, b",
    "b]",
    "}",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775808",
    "-0",
    "0.",
    "yes",
    "Infinity",
    "nan",
    "\"unterminated",
    "'unterminated",
    "-",
    "+",
    ".",
    ".5",
    "0b101",
];

impl Src<'_> {
    fn key(&mut self) -> &'static str {
        if self.pick(8) == 0 {
            ODD_KEYS[self.pick(ODD_KEYS.len())]
        } else {
            KEYS[self.pick(KEYS.len())]
        }
    }

    fn scalar(&mut self) -> &'static str {
        if self.pick(8) == 0 {
            ODD_SCALARS[self.pick(ODD_SCALARS.len())]
        } else {
            SCALARS[self.pick(SCALARS.len())]
        }
    }
}

fn gen_node(src: &mut Src<'_>, out: &mut String, indent: usize, depth: usize) {
    let width = 1 + src.pick(4);
    let items = 1 + src.pick(4);
    let seq = src.pick(3) == 0;
    for _ in 0..items {
        noise(src, out, indent);
        out.push_str(&" ".repeat(indent));
        if seq {
            out.push('-');
            gen_value(src, out, indent, width, depth, true);
        } else {
            out.push_str(src.key());
            out.push(':');
            gen_value(src, out, indent, width, depth, false);
        }
    }
}

fn gen_value(
    src: &mut Src<'_>,
    out: &mut String,
    indent: usize,
    width: usize,
    depth: usize,
    in_seq: bool,
) {
    match src.pick(if depth > 3 { 2 } else { 6 }) {
        0 | 1 => {
            out.push(' ');
            let s = src.scalar();
            out.push_str(s);
            out.push('\n');
            if s.starts_with('|') || s.starts_with('>') {
                for _ in 0..src.pick(4) {
                    let extra = src.pick(3);
                    if src.pick(4) == 0 {
                        out.push_str(&" ".repeat(src.pick(indent + width + 2)));
                    } else {
                        out.push_str(&" ".repeat(indent + width + extra));
                        out.push_str(src.scalar());
                    }
                    out.push('\n');
                }
            }
        }
        2 if in_seq => {
            // `- key: value` with the rest of the mapping under the key's column.
            out.push(' ');
            out.push_str(src.key());
            out.push(':');
            out.push(' ');
            out.push_str(src.scalar());
            out.push('\n');
            if src.pick(2) == 0 {
                gen_node(src, out, indent + 2, depth + 1);
            }
        }
        3 if !in_seq && src.pick(2) == 0 => {
            // A sequence at the key's own indentation.
            out.push('\n');
            for _ in 0..1 + src.pick(3) {
                out.push_str(&" ".repeat(indent));
                out.push_str("- ");
                out.push_str(src.scalar());
                out.push('\n');
            }
        }
        _ => {
            if src.pick(3) == 0 {
                out.push_str(" # c");
            }
            out.push('\n');
            gen_node(src, out, indent + width, depth + 1);
        }
    }
}

/// Blank lines, comments, and the occasional broken line.
fn noise(src: &mut Src<'_>, out: &mut String, indent: usize) {
    match src.pick(12) {
        0 => out.push('\n'),
        1 => out.push_str("# comment\n"),
        2 => {
            out.push_str(&" ".repeat(indent + src.pick(3)));
            out.push_str("# indented comment\n");
        }
        3 => out.push_str(&" ".repeat(src.pick(6))),
        _ => {}
    }
}

/// Small random edits that often break the document.
fn mutate(src: &mut Src<'_>, text: &mut String) {
    const BITS: &[&str] = &[
        " ", "  ", ":", "-", "#", "'", "\"", "\t", "\r", "|", "\n", "- ", ": ", "\u{1}", "\u{7f}",
        "\u{85}", "\u{2028}", "\u{2029}", "\u{a0}", "\u{fffe}", "\u{feff}", "\\", "---", "...",
        "%", "&", "*", "!", "[", "{",
    ];
    for _ in 0..src.pick(3) {
        if text.is_empty() {
            return;
        }
        let mut at = src.pick(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        if src.pick(2) == 0 {
            text.insert_str(at, BITS[src.pick(BITS.len())]);
        } else {
            let mut end = at + 1;
            while end < text.len() && !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(at..end.min(text.len()), "");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn generated_documents_read_the_same_or_defer(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut src = Src { bytes: &bytes, i: 0 };
        let mut text = String::new();
        let indent = src.pick(3);
        gen_node(&mut src, &mut text, indent, 0);
        if src.pick(4) == 0 {
            mutate(&mut src, &mut text);
        }
        if src.pick(5) == 0 {
            text.pop(); // no final line break
        }
        prop_assert!(check(&text).is_ok(), "{}", check(&text).unwrap_err());
    }
}

/// The generator reaches the fast path often enough for the property above to mean something.
#[test]
fn generated_documents_often_take_the_fast_path() {
    let mut fast = 0;
    let n = 2000;
    for seed in 0..n as u32 {
        let bytes: Vec<u8> = (0..512u32)
            .map(|i| {
                let x = seed.wrapping_mul(2_654_435_761) ^ i.wrapping_mul(40503);
                x.to_le_bytes()[1]
            })
            .collect();
        let mut src = Src {
            bytes: &bytes,
            i: 0,
        };
        let mut text = String::new();
        gen_node(&mut src, &mut text, 0, 0);
        if check(&text).unwrap() {
            fast += 1;
        }
    }
    eprintln!("{fast} of {n} generated documents took the fast path");
    assert!(
        fast * 10 > n,
        "only {fast} of {n} generated documents took the fast path"
    );
}
