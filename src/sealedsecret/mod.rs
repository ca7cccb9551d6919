//! Reading `SealedSecret` files with positions, and editing them losslessly.
//!
//! Owns: finding the `SealedSecret` documents of a (multi-document) YAML file, their identity and
//! scope as the controller reads them, the `spec.encryptedData` entries with their line, column
//! and byte span, and [`apply`], which turns an [`EditPlan`] into new file text that differs from
//! the old only in the bytes the plan names. Must not: encrypt, decrypt, or touch the filesystem
//! (the caller reads with `fsio` and writes with `fsio::atomic_write`).
//!
//! How: a small line scanner (`scan`) finds byte positions; `yaml_serde` gives the typed truth;
//! every block the scanner reports is cross-checked against it, and [`apply`] re-parses its own
//! output and compares it with the intended structure before returning. Anything the scanner
//! cannot place exactly is an [`SealedSecretError::Unsupported`] error, never a guess.
//! See docs/rewrite.md.

pub mod ciphertext;
mod edit;
mod flow;
mod listed;

use std::ops::Range;

use yaml_serde::{Mapping, Value};

use crate::crypto::Scope;

pub use crate::yamlpos::ScalarStyle;
use crate::yamlpos::Seg;
use crate::yamlpos::block::{self as scan, Block, Lines, Val};
use crate::yamlpos::flow::{Map as FlowMap, Node as FlowNode};
pub(crate) use edit::plain_or_quoted;
pub use edit::{EditPlan, ParsedFile, apply};
pub use listed::ListedSealedSecret;

/// The annotation that makes a `SealedSecret` namespace-wide (value exactly `"true"`).
pub const NAMESPACE_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// The annotation that makes a `SealedSecret` cluster-wide (value exactly `"true"`; wins).
pub const CLUSTER_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/cluster-wide";
/// Record: SHA-256 of the sealing certificate's DER, lowercase hex (docs/architecture.md).
pub const CERT_SHA256_ANNOTATION: &str = "emp-seal.dev/cert-sha256";
/// Record: `<scope> <namespace>/<name>` the values were sealed for (docs/architecture.md).
pub const SEALED_FOR_ANNOTATION: &str = "emp-seal.dev/sealed-for";
/// The only API version of the `SealedSecret` kind the controller serves.
pub const API_VERSION: &str = "bitnami.com/v1alpha1";

/// A parsed [`SEALED_FOR_ANNOTATION`] record: the scope and identity the values were sealed for.
/// `seal` and `check` read the record only through [`SealedFor::parse`], so they agree on it;
/// `seal` writes it through its [`Display`](std::fmt::Display).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFor {
    pub scope: Scope,
    /// Empty for a cluster-wide record without a namespace.
    pub namespace: String,
    pub name: String,
}

impl SealedFor {
    /// Parses `<scope> <namespace>/<name>`: the scope as [`Scope::as_str`] spells it, then
    /// whitespace, then the identity. Surrounding whitespace and the amount of whitespace between
    /// the two parts do not matter; whitespace inside the namespace or name (which Kubernetes
    /// names cannot hold), a missing `/` or an unknown scope make the record malformed (none).
    pub fn parse(record: &str) -> Option<SealedFor> {
        let (scope, id) = record.trim().split_once(char::is_whitespace)?;
        let (namespace, name) = id.trim_start().split_once('/')?;
        if namespace.contains(char::is_whitespace) || name.contains(char::is_whitespace) {
            return None;
        }
        Some(SealedFor {
            scope: Scope::parse(scope)?,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }

    /// `doc`'s record: none when it has none, `Some(None)` when it is malformed ([`Self::parse`]).
    pub fn of(doc: &SealedSecretDoc) -> Option<Option<SealedFor>> {
        doc.annotation(SEALED_FOR_ANNOTATION).map(SealedFor::parse)
    }

    /// The OAEP label the recorded values were sealed under.
    pub fn label(&self) -> Vec<u8> {
        self.scope.label(&self.namespace, &self.name)
    }
}

/// The canonical spelling, `<scope> <namespace>/<name>`, which [`SealedFor::parse`] reads back.
impl std::fmt::Display for SealedFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.scope.as_str(),
            self.namespace,
            self.name
        )
    }
}

/// Errors reading or editing a `SealedSecret` file. Messages start with `line:column` (1-based,
/// relative to the file; the caller prefixes the path) and never contain a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealedSecretError {
    #[error("{line}:{column}: invalid YAML: {reason}")]
    Yaml {
        line: usize,
        column: usize,
        /// The parser's description, without any scalar content.
        reason: String,
    },
    #[error("{line}:{column}: unsupported layout for in-place editing: {what}")]
    Unsupported {
        line: usize,
        column: usize,
        what: String,
    },
    #[error("{line}:{column}: `{field}` must be a string")]
    NotAString {
        line: usize,
        column: usize,
        /// Dotted path of the field.
        field: String,
    },
    #[error("{line}:{column}: `{field}` must be a mapping")]
    NotAMapping {
        line: usize,
        column: usize,
        /// Dotted path of the field.
        field: String,
    },
    #[error(
        "{line}:{column}: SealedSecret has apiVersion `{api_version}`, expected `bitnami.com/v1alpha1`"
    )]
    ApiVersion {
        line: usize,
        column: usize,
        api_version: String,
    },
    /// Both the legacy `spec.data` and `spec.encryptedData`: the controller refuses the object.
    /// Placed at `spec:`, as is [`Self::LegacyData`].
    #[error(
        "{line}:{column}: spec has both the legacy `data` and `encryptedData`; the controller rejects this"
    )]
    DataAndEncryptedData { line: usize, column: usize },
    #[error(
        "{line}:{column}: this SealedSecret uses the legacy `spec.data` blob; it cannot gain `encryptedData` entries"
    )]
    LegacyData { line: usize, column: usize },
    /// The `SealedSecret` has no usable top-level `metadata` (placed at the document start).
    #[error("{line}:{column}: the SealedSecret has no top-level `metadata` mapping")]
    NoMetadata { line: usize, column: usize },
    /// The document index passed to [`apply`] is not a `SealedSecret`.
    #[error("document {index} of the file is not a SealedSecret")]
    NotASealedSecret {
        /// 0-based document index.
        index: usize,
    },
    /// A key in an edit plan is not a valid Secret key ([`crate::envfile::validate_key`]).
    #[error("invalid secret key `{key}`: it {problem}")]
    InvalidKey {
        key: String,
        /// What the API server would reject ([`crate::envfile::KeyProblem::describe`]).
        problem: String,
    },
    #[error("the sealed value for key `{key}` is not base64 text")]
    InvalidValue {
        /// The key whose value is bad (the value itself is never shown).
        key: String,
    },
    #[error("invalid annotation `{key}`: keys and values must be single-line text")]
    InvalidAnnotation { key: String },
    #[error("key `{key}` appears more than once in the edit plan")]
    DuplicateKey { key: String },
    /// The rewritten text did not parse to the intended structure (a bug guard; nothing written).
    #[error(
        "internal check failed: the rewritten file would not read back as intended ({what}); nothing was changed"
    )]
    Verification { what: String },
}

impl From<crate::yamlpos::Unsupported> for SealedSecretError {
    fn from(e: crate::yamlpos::Unsupported) -> Self {
        unsupported((e.line, e.column), e.what)
    }
}

/// [`SealedSecretError::Unsupported`] at `(line, column)`.
fn unsupported(at: (usize, usize), what: impl Into<String>) -> SealedSecretError {
    SealedSecretError::Unsupported {
        line: at.0,
        column: at.1,
        what: what.into(),
    }
}

/// [`SealedSecretError::NotAMapping`] at `(line, column)`.
fn not_a_mapping(at: (usize, usize), field: &str) -> SealedSecretError {
    SealedSecretError::NotAMapping {
        line: at.0,
        column: at.1,
        field: field.to_owned(),
    }
}

/// [`SealedSecretError::NotAString`] at `(line, column)`.
fn not_a_string(at: (usize, usize), field: impl Into<String>) -> SealedSecretError {
    SealedSecretError::NotAString {
        line: at.0,
        column: at.1,
        field: field.into(),
    }
}

impl SealedSecretError {
    /// The 1-based file line and column the error is at, when it has a position.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            Self::Yaml { line, column, .. }
            | Self::Unsupported { line, column, .. }
            | Self::NotAString { line, column, .. }
            | Self::NotAMapping { line, column, .. }
            | Self::ApiVersion { line, column, .. }
            | Self::DataAndEncryptedData { line, column }
            | Self::LegacyData { line, column }
            | Self::NoMetadata { line, column } => Some((*line, *column)),
            _ => None,
        }
    }

    /// A one-line suggestion for the user, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Unsupported { .. } => Some(
                "write the SealedSecret in YAML block style (kubeseal --format yaml) with one-line values, then retry",
            ),
            Self::DataAndEncryptedData { .. } | Self::LegacyData { .. } => {
                Some("re-seal the secret into `encryptedData` and delete `spec.data`")
            }
            Self::NotAString { .. } => Some("quote the value, e.g. \"true\""),
            Self::Verification { .. } => Some("please report this file layout as an emp-seal bug"),
            _ => None,
        }
    }
}

/// A whole `SealedSecret` file: every YAML document, with the `SealedSecrets` read in detail.
#[derive(Debug, Clone)]
pub struct SealedSecretFile {
    pub documents: Vec<Document>,
    /// The `SealedSecret`s that are items of its `List` documents, in kustomize's order: read,
    /// never edited ([`ListedSealedSecret`]).
    pub listed: Vec<ListedSealedSecret>,
}

/// One YAML document of the file.
#[derive(Debug, Clone)]
pub struct Document {
    /// 0-based index among the file's documents (the `doc_index` of [`apply`]).
    pub index: usize,
    /// 1-based line of the document's first line.
    pub line: usize,
    /// Byte range of the document's lines (markers excluded).
    pub span: Range<usize>,
    /// `kind`, when the document is a mapping with a string `kind`.
    pub kind: Option<String>,
    /// The `SealedSecret` read from this document, when it is one.
    pub sealed_secret: Option<SealedSecretDoc>,
}

/// What a `SealedSecret` document says, with positions.
#[derive(Debug, Clone)]
pub struct SealedSecretDoc {
    /// Top-level `metadata.name` (what the controller uses for the label).
    pub name: Option<String>,
    /// Top-level `metadata.namespace`.
    pub namespace: Option<String>,
    /// Top-level `metadata.annotations`, in file order.
    pub annotations: Vec<(String, String)>,
    /// The sealing scope from the top-level scope annotations (cluster-wide wins).
    pub scope: Scope,
    /// `spec.template`, as far as emp-seal reads it.
    pub template: Template,
    /// Whether the deprecated `spec.data` blob is present.
    pub has_legacy_data: bool,
    /// How `spec.encryptedData` is written.
    pub encrypted_data_layout: EncryptedDataLayout,
    /// The `spec.encryptedData` entries, in file order.
    pub encrypted_data: Vec<EncryptedEntry>,
}

impl SealedSecretDoc {
    pub fn entry(&self, key: &str) -> Option<&EncryptedEntry> {
        self.encrypted_data.iter().find(|e| e.key == key)
    }

    /// The value of a top-level annotation.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first key its Secret would get that the API server refuses
    /// ([`validate_key`](crate::envfile::validate_key), the check `invalid-secret-key` makes):
    /// its `encryptedData` keys in file order, then its `spec.template.data` keys. With its line
    /// and what is wrong with it.
    pub fn invalid_key(&self) -> Option<(&str, usize, crate::envfile::KeyProblem)> {
        let entries = self.encrypted_data.iter().map(|e| (e.key.as_str(), e.line));
        let template = (self.template.data_keys.iter().flatten())
            .zip(&self.template.data_key_lines)
            .map(|(k, line)| (k.as_str(), *line));
        entries.chain(template).find_map(|(key, line)| {
            let problem = crate::envfile::validate_key(key).err()?;
            Some((key, line, problem))
        })
    }
}

/// `spec.template` as read.
#[derive(Debug, Clone, Default)]
pub struct Template {
    /// `spec.template.metadata.name`.
    pub name: Option<String>,
    /// `spec.template.metadata.namespace`.
    pub namespace: Option<String>,
    /// `spec.template.metadata.annotations` with string values.
    pub annotations: Vec<(String, String)>,
    /// `spec.template.metadata.labels` with string values.
    pub labels: Vec<(String, String)>,
    /// `spec.template.type`.
    pub secret_type: Option<String>,
    /// Keys of `spec.template.data` (Go templates the controller renders); `None` when absent.
    pub data_keys: Option<Vec<String>>,
    /// The 1-based line of each of [`Template::data_keys`], in the same order.
    pub data_key_lines: Vec<usize>,
    /// `spec.template.immutable: true`: the controller creates the Secret immutable
    /// (sealed-secrets after v0.24.5).
    pub immutable: bool,
}

/// How `spec.encryptedData` is written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptedDataLayout {
    /// No `encryptedData` key (or no `spec`).
    Missing,
    /// `encryptedData:` with nothing (null).
    Null,
    /// `encryptedData: {}`.
    FlowEmpty,
    /// A block mapping with entries.
    Block,
    /// A flow mapping with entries (`{"A": "Ag..."}`: JSON, or `{A: Ag...}`).
    Flow,
}

/// One `spec.encryptedData` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedEntry {
    pub key: String,
    /// The base64 ciphertext as written (empty for a null placeholder).
    pub value: String,
    /// 1-based line of the entry.
    pub line: usize,
    /// 1-based column of the value (of its opening quote when quoted).
    pub column: usize,
    /// Byte span of the value in the file text, quotes included (empty for a null value).
    pub span: Range<usize>,
    pub style: ScalarStyle,
}

/// Internal: a parsed document with the scanner's view kept for editing.
#[derive(Debug)]
pub(crate) struct ParsedDoc {
    pub(crate) public: Document,
    pub(crate) value: Value,
    pub(crate) layout: Option<DocLayout>,
}

/// Internal: where things are in a `SealedSecret` document.
#[derive(Debug)]
pub(crate) enum DocLayout {
    /// A block-style document.
    Block(Box<BlockLayout>),
    /// A document written as one flow mapping (JSON).
    Flow(FlowMap),
}

/// Internal: the blocks of a block-style `SealedSecret` document. `annotations_flow` and
/// `encrypted_flow` hold those mappings when they are written in flow style inside it.
#[derive(Debug, Default)]
pub(crate) struct BlockLayout {
    pub(crate) root: Block,
    pub(crate) metadata: Option<Block>,
    pub(crate) annotations: Option<Block>,
    pub(crate) annotations_flow: Option<FlowMap>,
    pub(crate) spec: Option<Block>,
    pub(crate) encrypted: Option<Block>,
    pub(crate) encrypted_flow: Option<FlowMap>,
}

impl SealedSecretFile {
    /// Parses a YAML file that may hold several documents, reading every `SealedSecret` in it.
    pub fn parse(text: &str) -> Result<SealedSecretFile, SealedSecretError> {
        Self::of(ParsedFile::parse(text)?)
    }

    /// The file `parsed` is, its listed `SealedSecret`s read.
    ///
    /// # Errors
    /// A listed `SealedSecret` that does not read (`ParsedFile::listed`).
    pub fn of(parsed: ParsedFile<'_>) -> Result<SealedSecretFile, SealedSecretError> {
        let listed = parsed.listed()?;
        Ok(SealedSecretFile {
            documents: parsed.into_documents(),
            listed,
        })
    }

    /// The `SealedSecret` documents with their document index.
    pub fn sealed_secrets(&self) -> impl Iterator<Item = (usize, &SealedSecretDoc)> {
        self.documents
            .iter()
            .filter_map(|d| d.sealed_secret.as_ref().map(|s| (d.index, s)))
    }
}

/// Splits into documents ([`crate::yamlpos::document_pieces`]) and reads each.
pub(crate) fn parse_docs(lines: &Lines<'_>) -> Result<Vec<ParsedDoc>, SealedSecretError> {
    // `Lines` starts after a byte-order mark; so do the pieces (the mark adds no line).
    let text = lines.text.strip_prefix('\u{feff}').unwrap_or(lines.text);
    let pieces = crate::yamlpos::document_pieces(text);
    for p in pieces.iter().filter(|p| p.explicit) {
        check_start_marker(lines, p.first_line - 2)?;
    }
    let mut docs = Vec::with_capacity(pieces.len());
    for (index, piece) in pieces.into_iter().enumerate() {
        let start = piece.first_line - 1;
        let body = start..start + piece.text.split_inclusive('\n').count();
        docs.push(parse_doc(lines, index, body, piece.head_line - 1)?);
    }
    Ok(docs)
}

/// Refuses `--- value`: readable, but not editable by line.
fn check_start_marker(lines: &Lines<'_>, i: usize) -> Result<(), SealedSecretError> {
    let after = lines.content(i)[3..].trim_start_matches([' ', '\t']);
    if after.is_empty() || after.starts_with('#') {
        return Ok(());
    }
    Err(unsupported((i + 1, 5), "content on the `---` line"))
}

fn line_span(lines: &Lines<'_>, r: &Range<usize>) -> Range<usize> {
    if r.start >= r.end {
        let pos = lines
            .lines
            .get(r.start)
            .map_or(lines.text.len(), |l| l.start);
        return pos..pos;
    }
    lines.lines[r.start].start..lines.lines[r.end - 1].next
}

fn parse_doc(
    lines: &Lines<'_>,
    index: usize,
    body: Range<usize>,
    yaml_start: usize,
) -> Result<ParsedDoc, SealedSecretError> {
    let span = line_span(lines, &body);
    // yaml_serde reads the document from its `%` directives and `---` to the end of its body.
    let ytext = &lines.text[line_span(lines, &(yaml_start..body.end)).start..span.end];
    let value: Value = yaml_serde::from_str::<yaml_serde::Value>(ytext).map_err(|e| {
        let (l, c) = crate::yamlpos::error_position(ytext, &e).unwrap_or((1, 1));
        let full = crate::yamlpos::error_message(&e);
        let reason = full
            .split(" at line ")
            .next()
            .unwrap_or("syntax error")
            .to_owned();
        SealedSecretError::Yaml {
            line: yaml_start + l,
            column: c,
            reason,
        }
    })?;
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (sealed_secret, layout) = if kind.as_deref() == Some("SealedSecret") {
        let (doc, layout) = read_sealed_secret(lines, &body, &value)?;
        (Some(doc), Some(layout))
    } else {
        (None, None)
    };
    let public = Document {
        index,
        line: body.start + 1,
        span,
        kind,
        sealed_secret,
    };
    Ok(ParsedDoc {
        public,
        value,
        layout,
    })
}

fn key_loc(lines: &Lines<'_>, c: &scan::Child) -> (usize, usize) {
    (c.line + 1, lines.column(c.line, c.entry.key_start))
}

/// Scans the block under `c` (its lines after the key line), cross-checked against its typed
/// mapping `m` (the value of `field`).
fn sub_block(
    lines: &Lines<'_>,
    c: &scan::Child,
    m: &Mapping,
    field: &str,
) -> Result<Block, SealedSecretError> {
    let b = lines.block(c.line + 1, c.last + 1, Some(c.entry.indent))?;
    check_keys(&b.keys(), Some(m), key_loc(lines, c), field)?;
    Ok(b)
}

/// Cross-checks that the scanner's keys are exactly the mapping's keys, in order.
pub(crate) fn check_keys(
    ours: &[&str],
    map: Option<&Mapping>,
    at: (usize, usize),
    field: &str,
) -> Result<(), SealedSecretError> {
    let same = map.is_some_and(|m| {
        m.keys()
            .map(Value::as_str)
            .eq(ours.iter().map(|k| Some(*k)))
    });
    if same {
        return Ok(());
    }
    Err(unsupported(
        at,
        format!(
            "the keys of `{field}` could not be located exactly (anchors, aliases, merge keys, or a key over several lines?)"
        ),
    ))
}

/// Reads a mapping of string values (annotations, labels).
fn string_map(
    v: Option<&Value>,
    field: &str,
    at: (usize, usize),
) -> Result<Vec<(String, String)>, SealedSecretError> {
    let Some(m) = opt_mapping(v, field, at)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(m.len());
    for (k, val) in m {
        let key = k
            .as_str()
            .ok_or_else(|| not_a_string(at, format!("{field} key")))?;
        let s = val
            .as_str()
            .ok_or_else(|| not_a_string(at, format!("{field}.{key}")))?;
        out.push((key.to_string(), s.to_string()));
    }
    Ok(out)
}

/// The mapping `v`; `None` when it is absent or null.
fn opt_mapping<'v>(
    v: Option<&'v Value>,
    field: &str,
    at: (usize, usize),
) -> Result<Option<&'v Mapping>, SealedSecretError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Mapping(m)) => Ok(Some(m)),
        Some(_) => Err(not_a_mapping(at, field)),
    }
}

fn opt_string(
    v: Option<&Value>,
    field: &str,
    at: (usize, usize),
) -> Result<Option<String>, SealedSecretError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(not_a_string(at, field)),
    }
}

/// The sealing scope the top-level annotations declare (a file's own, or an object's as
/// kustomize renders it).
pub(crate) fn scope_of(annotations: &[(String, String)]) -> Scope {
    // sealed-secrets pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go SecretScope:
    // cluster-wide is checked first; the value must be exactly "true".
    let is_true = |k: &str| annotations.iter().any(|(a, v)| a == k && v == "true");
    if is_true(CLUSTER_WIDE_ANNOTATION) {
        Scope::ClusterWide
    } else if is_true(NAMESPACE_WIDE_ANNOTATION) {
        Scope::NamespaceWide
    } else {
        Scope::Strict
    }
}

/// What `yaml_serde`'s value of a `SealedSecret` document says: identity, scope, template and
/// which `encryptedData` state it is in. `at` gives the file position of a key path for messages.
fn read_typed(
    value: &Value,
    at: &dyn Fn(&[&str]) -> (usize, usize),
) -> Result<SealedSecretDoc, SealedSecretError> {
    let not_a_mapping = |path: &[&str], field: &str| not_a_mapping(at(path), field);
    if !value.is_mapping() {
        return Err(not_a_mapping(&[], "document"));
    }
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if api_version != API_VERSION {
        let (line, column) = at(&["apiVersion"]);
        return Err(SealedSecretError::ApiVersion {
            line,
            column,
            api_version: api_version.to_string(),
        });
    }
    let meta = opt_mapping(value.get("metadata"), "metadata", at(&["metadata"]))?;
    let get = |key: &str| meta.and_then(|m| m.get(key));
    let string = |k: &str| opt_string(get(k), &format!("metadata.{k}"), at(&["metadata", k]));
    let name = string("name")?;
    let namespace = string("namespace")?;
    let annotations = string_map(
        get("annotations"),
        "metadata.annotations",
        at(&["metadata", "annotations"]),
    )?;
    let mut doc = SealedSecretDoc {
        name,
        namespace,
        scope: scope_of(&annotations),
        annotations,
        template: Template::default(),
        has_legacy_data: false,
        encrypted_data_layout: EncryptedDataLayout::Missing,
        encrypted_data: Vec::new(),
    };
    let Some(sm) = opt_mapping(value.get("spec"), "spec", at(&["spec"]))? else {
        return Ok(doc);
    };
    doc.has_legacy_data = sm.get("data").is_some_and(|d| !d.is_null());
    match sm.get("encryptedData") {
        None => {}
        Some(Value::Null) => doc.encrypted_data_layout = EncryptedDataLayout::Null,
        // sealed-secrets sealedsecret_expansion.go Unseal refuses both at once.
        Some(Value::Mapping(em)) if doc.has_legacy_data && !em.is_empty() => {
            let (line, column) = at(&["spec"]);
            return Err(SealedSecretError::DataAndEncryptedData { line, column });
        }
        Some(Value::Mapping(_)) => {}
        Some(_) => {
            return Err(not_a_mapping(
                &["spec", "encryptedData"],
                "spec.encryptedData",
            ));
        }
    }
    doc.template = read_template(sm.get("template"), at)?;
    Ok(doc)
}

/// Reads a block-style `SealedSecret` document: the typed view, then the scanner's blocks
/// cross-checked against it and the `encryptedData` entries with their spans.
fn read_sealed_secret(
    lines: &Lines<'_>,
    body: &Range<usize>,
    value: &Value,
) -> Result<(SealedSecretDoc, DocLayout), SealedSecretError> {
    let span = line_span(lines, body);
    let ydoc = crate::yamlpos::Document::new(&lines.text[span.clone()], body.start + 1, span.start);
    let at = |path: &[&str]| {
        let segs: Vec<Seg> = path.iter().map(|k| Seg::from(*k)).collect();
        let p = ydoc.find_or_parent(&segs);
        (p.line as usize, p.column as usize)
    };
    let mut doc = read_typed(value, &at)?;
    let first = (body.start..body.end).find(|&i| !lines.is_trivia(i));
    if let Some(i) = first
        && lines.content(i).trim_start().starts_with('{')
    {
        let start = lines.lines[i].start + lines.indent(i);
        let layout = flow::read_layout(lines.text, start..span.end, value, &at, &mut doc)?;
        return Ok((doc, DocLayout::Flow(layout)));
    }
    let layout = read_blocks(lines, body, value, &mut doc)?;
    Ok((doc, DocLayout::Block(Box::new(layout))))
}

/// The scanner's blocks of a block-style document, cross-checked against `value`.
fn read_blocks(
    lines: &Lines<'_>,
    body: &Range<usize>,
    value: &Value,
    doc: &mut SealedSecretDoc,
) -> Result<BlockLayout, SealedSecretError> {
    let doc_at = (body.start + 1, 1);
    let root = lines.block(body.start, body.end, None)?;
    check_keys(&root.keys(), value.as_mapping(), doc_at, "document")?;
    let mut layout = BlockLayout {
        root,
        ..BlockLayout::default()
    };
    if let Some(Value::Mapping(m)) = value.get("metadata") {
        let child = layout
            .root
            .get("metadata")
            .ok_or(SealedSecretError::NoMetadata {
                line: doc_at.0,
                column: 1,
            })?;
        refuse_flow_container(lines, child, m, "metadata")?;
        let mb = sub_block(lines, child, m, "metadata")?;
        if let (Some(ac), Some(Value::Mapping(am))) = (mb.get("annotations"), m.get("annotations"))
            && !am.is_empty()
        {
            let field = "metadata.annotations";
            match flow_value(lines, ac, am, field)? {
                Some(fm) => layout.annotations_flow = Some(fm),
                None => layout.annotations = Some(sub_block(lines, ac, am, field)?),
            }
        }
        layout.metadata = Some(mb);
    }
    if let Some(Value::Mapping(sm)) = value.get("spec") {
        let sc = layout
            .root
            .get("spec")
            .ok_or_else(|| not_a_mapping(doc_at, "spec"))?;
        refuse_flow_container(lines, sc, sm, "spec")?;
        let sb = sub_block(lines, sc, sm, "spec")?;
        if let (Some(Value::Mapping(em)), Some(ec)) =
            (sm.get("encryptedData"), sb.get("encryptedData"))
        {
            read_block_entries(lines, ec, em, doc, &mut layout)?;
        }
        layout.spec = Some(sb);
    }
    Ok(layout)
}

/// `spec.encryptedData` of a block-style document: `{}`, a block, or a one-line-per-entry
/// flow mapping.
fn read_block_entries(
    lines: &Lines<'_>,
    ec: &scan::Child,
    em: &Mapping,
    doc: &mut SealedSecretDoc,
    layout: &mut BlockLayout,
) -> Result<(), SealedSecretError> {
    let enc_at = key_loc(lines, ec);
    if em.is_empty() {
        doc.encrypted_data_layout = match ec.entry.val {
            Val::FlowEmptyMap { .. } => EncryptedDataLayout::FlowEmpty,
            _ => {
                let what = "an empty `encryptedData` written other than `{}`";
                return Err(unsupported(enc_at, what));
            }
        };
        return Ok(());
    }
    if let Some(fm) = flow_value(lines, ec, em, "spec.encryptedData")? {
        doc.encrypted_data = flow::entries(lines.text, &fm, em)?;
        doc.encrypted_data_layout = EncryptedDataLayout::Flow;
        layout.encrypted_flow = Some(fm);
        return Ok(());
    }
    doc.encrypted_data_layout = EncryptedDataLayout::Block;
    if ec.entry.val != Val::Empty {
        let what = "`encryptedData` written neither as a block nor as a flow mapping";
        return Err(unsupported(enc_at, what));
    }
    let eb = sub_block(lines, ec, em, "spec.encryptedData")?;
    for c in &eb.children {
        doc.encrypted_data.push(read_entry(lines, c, em)?);
    }
    layout.encrypted = Some(eb);
    Ok(())
}

/// Refuses `metadata` or `spec` written as a non-empty flow mapping inside a block document
/// (`metadata: {name: x}`): the editor reaches into them by lines, so a flow mapping is edited
/// inside a block document only where it is the edited mapping itself (`metadata.annotations`,
/// `spec.encryptedData`), and the typed keys would otherwise be reported as not located.
fn refuse_flow_container(
    lines: &Lines<'_>,
    c: &scan::Child,
    m: &Mapping,
    field: &str,
) -> Result<(), SealedSecretError> {
    let b = lines.text.as_bytes();
    let p = scan::skip_blanks(b, c.entry.after_colon, b.len());
    if m.is_empty() || b.get(p) != Some(&b'{') {
        return Ok(());
    }
    Err(unsupported(
        key_loc(lines, c),
        format!(
            "`{field}` is a flow mapping (`{field}: {{...}}`) inside a block document; there, only `metadata.annotations` and `spec.encryptedData` may be flow mappings: write `{field}` in block style"
        ),
    ))
}

/// The flow mapping written as the value of a block entry (`key: {a: b}`), when it is one,
/// cross-checked against its typed mapping `m` (the value of `field`).
fn flow_value(
    lines: &Lines<'_>,
    c: &scan::Child,
    m: &Mapping,
    field: &str,
) -> Result<Option<FlowMap>, SealedSecretError> {
    let b = lines.text.as_bytes();
    let p = scan::skip_blanks(b, c.entry.after_colon, b.len());
    if b.get(p) != Some(&b'{') {
        return Ok(None);
    }
    let (FlowNode::Map(fm), _) = crate::yamlpos::flow::parse(lines.text, p)? else {
        return Ok(None);
    };
    check_keys(&fm.keys(), Some(m), key_loc(lines, c), field)?;
    Ok(Some(fm))
}

/// One encryptedData entry, cross-checked with the typed value.
fn read_entry(
    lines: &Lines<'_>,
    c: &scan::Child,
    em: &Mapping,
) -> Result<EncryptedEntry, SealedSecretError> {
    let key = c.entry.key.clone();
    let (line, key_col) = key_loc(lines, c);
    let field = format!("spec.encryptedData.{key}");
    let typed = em.get(key.as_str());
    let refuse = |what: &str| unsupported((line, key_col), format!("{what} for key `{key}`"));
    if c.last != c.line {
        return Err(refuse("a value spanning several lines"));
    }
    let entry = |value: &str, span: Range<usize>, style| EncryptedEntry {
        key: key.clone(),
        value: value.to_string(),
        line,
        column: lines.column(c.line, span.start),
        span,
        style,
    };
    match (&c.entry.val, typed) {
        (Val::Scalar { style, span, raw }, Some(Value::String(s))) => {
            if raw != s {
                return Err(refuse("a value that does not read back as written"));
            }
            Ok(entry(s, span.clone(), *style))
        }
        (Val::Empty, Some(Value::Null)) => {
            let at = c.entry.after_colon;
            Ok(entry("", at..at, ScalarStyle::Empty))
        }
        // `KEY: null` and `KEY: ~` are the null `KEY:` is, as in flow style (`flow.rs`).
        (Val::Scalar { span, .. }, Some(Value::Null)) => {
            Ok(entry("", span.clone(), ScalarStyle::Plain))
        }
        (Val::Scalar { span, .. }, Some(_)) => Err(not_a_string(
            (line, lines.column(c.line, span.start)),
            field,
        )),
        (Val::BlockScalar, _) => Err(refuse("a block scalar (`|`/`>`) value")),
        (Val::Other(what), _) => Err(refuse(what)),
        _ => Err(not_a_string((line, key_col), field)),
    }
}

fn read_template(
    v: Option<&Value>,
    find: &dyn Fn(&[&str]) -> (usize, usize),
) -> Result<Template, SealedSecretError> {
    let mut t = Template::default();
    let at = find(&["spec", "template"]);
    let Some(m) = opt_mapping(v, "spec.template", at)? else {
        return Ok(t);
    };
    if let Some(meta) = m.get("metadata").and_then(Value::as_mapping) {
        let field = |k: &str| format!("spec.template.metadata.{k}");
        t.name = opt_string(meta.get("name"), &field("name"), at)?;
        t.namespace = opt_string(meta.get("namespace"), &field("namespace"), at)?;
        t.annotations = string_map(meta.get("annotations"), &field("annotations"), at)?;
        t.labels = string_map(meta.get("labels"), &field("labels"), at)?;
    }
    t.secret_type = opt_string(m.get("type"), "spec.template.type", at)?;
    t.immutable = m.get("immutable").and_then(Value::as_bool) == Some(true);
    t.data_keys = match m.get("data") {
        None => None,
        Some(Value::Mapping(d)) => Some(
            d.keys()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        Some(_) => Some(Vec::new()),
    };
    t.data_key_lines = (t.data_keys.iter().flatten())
        .map(|k| find(&["spec", "template", "data", k]).0)
        .collect();
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SS: &str = "# head\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\n  namespace: ns\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\nspec:\n  encryptedData:\n    A: AgBx # c\n    'B': \"AgBy\"\n  template:\n    metadata:\n      name: s\n    data:\n      x: |\n        # {{ .A }}\n";

    #[test]
    fn sealed_for_records_parse() {
        let r = |ns: &str, name: &str| SealedFor {
            scope: Scope::Strict,
            namespace: ns.into(),
            name: name.into(),
        };
        assert_eq!(
            SealedFor::parse("strict emp-paper/emp-secrets"),
            Some(r("emp-paper", "emp-secrets"))
        );
        assert_eq!(
            SealedFor::parse(" strict  \temp-paper/emp-secrets "),
            Some(r("emp-paper", "emp-secrets"))
        );
        // The canonical spelling reads back as itself.
        let canonical = r("emp-paper", "emp-secrets").to_string();
        assert_eq!(canonical, "strict emp-paper/emp-secrets");
        assert_eq!(
            SealedFor::parse(&canonical),
            Some(r("emp-paper", "emp-secrets"))
        );
        assert_eq!(
            SealedFor::parse("cluster-wide /x").map(|r| (r.scope, r.label())),
            Some((Scope::ClusterWide, Vec::new()))
        );
        for bad in [
            "strict nope",
            "wide a/b",
            "strict",
            "strict a/ b",
            "strict a /b",
        ] {
            assert_eq!(SealedFor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_identity_scope_and_entries() {
        let f = SealedSecretFile::parse(SS).unwrap();
        let (i, d) = f.sealed_secrets().next().unwrap();
        assert_eq!(i, 0);
        assert_eq!(d.name.as_deref(), Some("s"));
        assert_eq!(d.namespace.as_deref(), Some("ns"));
        assert_eq!(d.scope, Scope::NamespaceWide);
        assert_eq!(d.encrypted_data.len(), 2);
        let b = d.entry("B").unwrap();
        assert_eq!(&SS[b.span.clone()], "\"AgBy\"");
        assert_eq!((b.line, b.column), (12, 10));
        assert_eq!(
            d.template.data_keys.as_deref(),
            Some(&["x".to_string()][..])
        );
    }

    #[test]
    fn cluster_wide_wins_and_must_be_exactly_true() {
        let t = SS.replace(
            "    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
            "    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"\n",
        );
        let f = SealedSecretFile::parse(&t).unwrap();
        assert_eq!(
            f.sealed_secrets().next().unwrap().1.scope,
            Scope::ClusterWide
        );
        let t = SS.replace("\"true\"", "\"True\"");
        let f = SealedSecretFile::parse(&t).unwrap();
        assert_eq!(f.sealed_secrets().next().unwrap().1.scope, Scope::Strict);
    }

    #[test]
    fn data_and_encrypted_data_is_an_error() {
        let t = SS.replace("spec:\n", "spec:\n  data: AgAA\n");
        let e = SealedSecretFile::parse(&t).unwrap_err();
        assert!(
            matches!(e, SealedSecretError::DataAndEncryptedData { line: 9, .. }),
            "{e}"
        );
    }

    #[test]
    fn yaml_error_has_file_line() {
        let t = "a: 1\n---\nkind: x\n  bad: [\n";
        let e = SealedSecretFile::parse(t).unwrap_err();
        match e {
            SealedSecretError::Yaml { line, .. } => assert!(line >= 3, "{line}"),
            e => panic!("{e}"),
        }
    }
}
