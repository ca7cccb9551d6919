//! Private keys for offline recovery (`kubeseal --recovery-unseal` equivalent).
//!
//! Owns reading RSA private keys from PEM (`RSA PRIVATE KEY` / PKCS#1, `PRIVATE KEY` / PKCS#8,
//! several blocks in one file) and from the controller's key Secrets as `kubectl get secret
//! -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml|json` prints them
//! (one Secret, a `List`, or several YAML documents). It must not be used by sealing, read files
//! itself or print: callers pass bytes and a source name for messages.
//! Upstream: sealed-secrets `pkg/kubeseal/kubeseal.go` (recovery keys), `pkg/crypto/keys.go`.
//!
//! The keys are [`UnsealingKey`]s (the `rsa` crate's, wiped on drop; `docs/security.md` on
//! RUSTSEC-2023-0071); they are used only by [`crate::crypto::unseal`]. PEM is read by
//! `rustls-pki-types`.

use std::collections::BTreeMap;

use base64::Engine as _;
use rustls_pki_types::pem::{PemObject as _, SectionKind};
use serde::Deserialize;
use zeroize::{Zeroize as _, Zeroizing};

use crate::cert::pem_problem;
use crate::crypto::UnsealingKey;
use crate::yamlpos::Seg;

/// Why private keys could not be loaded. Messages name the source and never contain key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("{source_name}: neither a pem private key nor a kubernetes secret in yaml or json")]
    Unrecognised { source_name: String },
    /// YAML/JSON that does not parse; only the position is reported.
    #[error("{source_name}:{line}:{column}: not a valid kubernetes secret document")]
    Document {
        source_name: String,
        /// 1-based line of the parse error (0 if unknown).
        line: usize,
        /// 1-based column of the parse error (0 if unknown).
        column: usize,
    },
    #[error("{source_name}: secret {secret}: data.tls.key is not valid base64")]
    Base64 { source_name: String, secret: String },
    /// A password-protected PKCS#8 key.
    #[error("{source_name}: {location}: encrypted private keys are not supported")]
    Encrypted {
        source_name: String,
        location: String,
    },
    /// A block or Secret that should hold an RSA private key does not.
    #[error("{source_name}: {location}: not a valid rsa private key ({reason})")]
    BadKey {
        source_name: String,
        location: String,
        /// What the decoder reported (structure only).
        reason: String,
    },
    #[error("{source_name}: no rsa private key found")]
    NoKeys { source_name: String },
}

impl KeyError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            KeyError::Unrecognised { .. } | KeyError::NoKeys { .. } => Some(
                "export the controller's keys with `kubectl get secret -n kube-system -l \
                 sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`",
            ),
            KeyError::Encrypted { .. } => {
                Some("decrypt it first, e.g. `openssl pkey -in key.pem -out plain.pem`")
            }
            _ => None,
        }
    }
}

/// Loads every RSA private key in `bytes`: PEM blocks (`RSA PRIVATE KEY`, `PRIVATE KEY`; other
/// blocks such as certificates are skipped) or Kubernetes Secrets holding `tls.key` (a single
/// Secret, a `List` of them, or several YAML documents; JSON works as YAML).
///
/// # Errors
/// The first [`KeyError`] met; [`KeyError::NoKeys`] if nothing held a key.
pub fn load_private_keys(bytes: &[u8], source_name: &str) -> Result<Vec<UnsealingKey>, KeyError> {
    let keys = if looks_like_pem(bytes) {
        keys_from_pem(bytes, source_name, None)?
    } else {
        keys_from_documents(bytes, source_name)?
    };
    if keys.is_empty() {
        return Err(KeyError::NoKeys {
            source_name: source_name.to_string(),
        });
    }
    Ok(keys)
}

/// What a file that may hold private keys shows of them, line for line, without them: comment
/// lines (`# ...`, where allow comments go), PEM `-----BEGIN`/`-----END` lines, and the
/// `tls.key` field name of a Kubernetes Secret (YAML or JSON, as a backup of the controller's
/// keys holds them); every other line is blank. `check` keeps this instead of the text.
pub fn outline(text: &str) -> String {
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            let indent = &l[..l.len() - t.len()];
            if t.starts_with('#') {
                l.to_owned()
            } else if t.starts_with("-----BEGIN ") || t.starts_with("-----END ") {
                // Only the marker: a key pasted on one line follows it.
                let end = t[5..].find("-----").map_or(0, |i| i + 10);
                format!("{indent}{}", &t[..end])
            } else if let Some(rest) = t.strip_prefix("\"tls.key\"").or(t.strip_prefix("tls.key"))
                && rest.trim_start().starts_with(':')
            {
                format!("{indent}tls.key:")
            } else {
                String::new()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

fn keys_from_pem(
    bytes: &[u8],
    source_name: &str,
    secret: Option<&str>,
) -> Result<Vec<UnsealingKey>, KeyError> {
    let place = |block: Option<(usize, &str)>| match (secret, block) {
        (Some(name), Some((n, _))) => format!("secret {name}: tls.key block {n}"),
        (Some(name), None) => format!("secret {name}: tls.key"),
        (None, Some((n, label))) => format!("pem block {n} ({label})"),
        (None, None) => "pem".to_owned(),
    };
    // rustls-pki-types skips labels it does not know, such as `ENCRYPTED PRIVATE KEY`, and reads
    // the RFC 1421 header of an OpenSSL-encrypted PKCS#1 key as bad base64: look for both first.
    // Named by its BEGIN line in a file: the block numbers of `place` count only the blocks
    // rustls-pki-types yields, which skips labels it does not know (`DH PARAMETERS`).
    if let Some((n, line, label)) = encrypted_block(bytes) {
        let location = match secret {
            Some(_) => place(Some((n, &label))),
            None => format!("pem block at line {line} ({label})"),
        };
        return Err(KeyError::Encrypted {
            source_name: source_name.to_string(),
            location,
        });
    }
    let mut keys = Vec::new();
    for (index, item) in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes).enumerate() {
        let (kind, der) = item.map_err(|e| KeyError::BadKey {
            source_name: source_name.to_string(),
            location: place(None),
            reason: pem_problem(&e).to_owned(),
        })?;
        let der = Zeroizing::new(der);
        let (parsed, label) = match kind {
            SectionKind::RsaPrivateKey => (UnsealingKey::from_pkcs1_der(&der), "RSA PRIVATE KEY"),
            SectionKind::PrivateKey => (UnsealingKey::from_pkcs8_der(&der), "PRIVATE KEY"),
            _ => continue,
        };
        keys.push(parsed.map_err(|e| KeyError::BadKey {
            source_name: source_name.to_string(),
            location: place(Some((index + 1, label))),
            reason: e.to_string(),
        })?);
    }
    Ok(keys)
}

/// A Secret, or a `List` of them, as far as recovery needs it.
#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    items: Vec<Document>,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    data: BTreeMap<String, String>,
    #[serde(default, rename = "stringData")]
    string_data: BTreeMap<String, String>,
}

impl Drop for Document {
    fn drop(&mut self) {
        for v in self.data.values_mut().chain(self.string_data.values_mut()) {
            v.zeroize();
        }
    }
}

#[derive(Deserialize, Default)]
struct Metadata {
    name: Option<String>,
}

fn keys_from_documents(bytes: &[u8], source_name: &str) -> Result<Vec<UnsealingKey>, KeyError> {
    let mut keys = Vec::new();
    let mut any = false;
    // The reader and `yamlpos::documents` both start after a UTF-8 byte-order mark, as go-yaml
    // does (`yamlpos::without_bom`): libyaml would read it as content.
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    let positions = crate::yamlpos::documents(text);
    for (i, de) in yaml_serde::Deserializer::from_slice(bytes).enumerate() {
        let doc = Option::<Document>::deserialize(de).map_err(|e| {
            let (line, column) = crate::yamlpos::error_position(text, &e).unwrap_or((0, 0));
            KeyError::Document {
                source_name: source_name.to_string(),
                line,
                column,
            }
        })?;
        let Some(doc) = doc else { continue };
        any = true;
        let at = Place {
            source_name,
            doc: positions.get(i),
            path: Vec::new(),
        };
        collect_secret_keys(&doc, &at, &mut keys)?;
    }
    if !any {
        return Err(KeyError::Unrecognised {
            source_name: source_name.to_string(),
        });
    }
    Ok(keys)
}

/// Where a Secret is: its file, the file's document and the path to it there (`items[i]` of
/// a `List`), so that an error names the line of its `tls.key`.
struct Place<'p> {
    source_name: &'p str,
    doc: Option<&'p crate::yamlpos::Document<'p>>,
    path: Vec<Seg>,
}

impl Place<'_> {
    /// `file:line` of the Secret's `field`.`tls.key` (of the nearest part of it found).
    fn line_of(&self, field: &str) -> String {
        let Some(doc) = self.doc else {
            return self.source_name.to_owned();
        };
        let mut path = self.path.clone();
        path.extend([Seg::Key(field.to_owned()), Seg::Key("tls.key".to_owned())]);
        format!("{}:{}", self.source_name, doc.find_or_parent(&path).line)
    }
}

fn collect_secret_keys(
    doc: &Document,
    at: &Place<'_>,
    keys: &mut Vec<UnsealingKey>,
) -> Result<(), KeyError> {
    for (i, item) in doc.items.iter().enumerate() {
        let mut path = at.path.clone();
        path.extend([Seg::Key("items".to_owned()), Seg::Index(i)]);
        collect_secret_keys(item, &Place { path, ..*at }, keys)?;
    }
    let name = doc.metadata.name.as_deref().unwrap_or("<unnamed>");
    let field = match doc.string_data.contains_key("tls.key") {
        true => "stringData",
        false => "data",
    };
    let source_name = at.line_of(field);
    // sealed-secrets stores keys as kubernetes.io/tls Secrets: data["tls.key"] is base64 PEM.
    // stringData wins over data, as the API server would merge it.
    let pem: Zeroizing<Vec<u8>> = if let Some(raw) = doc.string_data.get("tls.key") {
        Zeroizing::new(raw.as_bytes().to_vec())
    } else if let Some(b64) = doc.data.get("tls.key") {
        let compact = crate::secret::compact_base64(b64);
        Zeroizing::new(
            crate::crypto::GO_STD_ENCODING
                .decode(compact.as_bytes())
                .map_err(|_| KeyError::Base64 {
                    source_name: source_name.clone(),
                    secret: name.to_string(),
                })?,
        )
    } else {
        return Ok(());
    };
    let found = keys_from_pem(&pem, &source_name, Some(name))?;
    if found.is_empty() {
        return Err(KeyError::BadKey {
            source_name: source_name.clone(),
            location: format!("secret {name}"),
            reason: "tls.key holds no private key pem block".to_string(),
        });
    }
    keys.extend(found);
    Ok(())
}

/// The first encrypted key block of a PEM text: its 1-based number among the text's blocks, its
/// BEGIN line and its label. PKCS#8 labels it `ENCRYPTED PRIVATE KEY`; OpenSSL's encrypted PKCS#1 keeps
/// `RSA PRIVATE KEY` and adds a `Proc-Type: 4,ENCRYPTED` header line (RFC 1421).
fn encrypted_block(bytes: &[u8]) -> Option<(usize, usize, String)> {
    let begins = crate::cert::pem_begins(bytes);
    let text = String::from_utf8_lossy(bytes);
    let proc_type: Vec<usize> = (1..)
        .zip(text.lines())
        .filter(|(_, l)| l.trim() == "Proc-Type: 4,ENCRYPTED")
        .map(|(n, _)| n)
        .collect();
    // A header line belongs to the block begun last before it.
    let holds_header = |i: usize| {
        let end = begins.get(i + 1).map_or(usize::MAX, |b| b.0);
        proc_type.iter().any(|&p| p > begins[i].0 && p < end)
    };
    let n =
        (0..begins.len()).find(|&i| begins[i].1 == "ENCRYPTED PRIVATE KEY" || holds_header(i))?;
    Some((n + 1, begins[n].0, begins[n].1.clone()))
}

#[cfg(test)]
mod tests {
    /// A bad Secret after empty documents (`---` alone, a comment alone, `...`), or in a file
    /// opened by a byte-order mark, is named at its own `tls.key` line.
    #[test]
    fn bad_secret_after_empty_documents_names_its_line() {
        let bad = "kind: Secret\nmetadata:\n  name: s\ndata:\n  tls.key: '@@@'\n";
        let before = [
            "",
            "---\n---\n",
            "---\n# only a comment\n---\n",
            "a: 1\n...\n---\n",
        ];
        for (pre, bom) in before.iter().flat_map(|p| [(p, ""), (p, "\u{feff}")]) {
            let text = format!("{bom}{pre}{bad}---\n");
            let err = super::load_private_keys(text.as_bytes(), "in.yaml").unwrap_err();
            let line = 1 + text.lines().position(|l| l.contains("tls.key")).unwrap();
            let want = format!("in.yaml:{line}: secret s: data.tls.key is not valid base64");
            assert_eq!(err.to_string(), want, "{text:?}");
        }
    }

    /// The encrypted block is named by its number among the text's blocks, PKCS#8 and
    /// OpenSSL's encrypted PKCS#1 (a `Proc-Type` header) alike.
    #[test]
    fn the_encrypted_block_is_numbered() {
        let block = |label: &str, header: &str| {
            format!("-----BEGIN {label}-----\n{header}AAAA\n-----END {label}-----\n")
        };
        let plain = block("PRIVATE KEY", "");
        let pkcs8 = block("ENCRYPTED PRIVATE KEY", "");
        let pkcs1 = block(
            "RSA PRIVATE KEY",
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\n",
        );
        for (text, want) in [
            (
                format!("{plain}{pkcs8}"),
                Some((2, "ENCRYPTED PRIVATE KEY")),
            ),
            (
                format!("{plain}{plain}{pkcs1}"),
                Some((3, "RSA PRIVATE KEY")),
            ),
            (format!("{pkcs1}{plain}"), Some((1, "RSA PRIVATE KEY"))),
            (format!("{plain}{plain}"), None),
        ] {
            let got = super::encrypted_block(text.as_bytes());
            assert_eq!(
                got.as_ref().map(|(n, _, l)| (*n, l.as_str())),
                want,
                "{text}"
            );
            if let Some((n, line, _)) = got {
                let begin = text.lines().nth(line - 1).unwrap_or_default();
                assert!(
                    begin.starts_with("-----BEGIN "),
                    "block {n} at {line}: {text}"
                );
            }
        }
    }

    #[test]
    fn outline_keeps_where_keys_are_and_nothing_of_them() {
        let text = "# backup\n-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n-----END RSA PRIVATE KEY-----\n  -----BEGIN PRIVATE KEY-----MIIEone-line-----END PRIVATE KEY-----\ndata:\n  tls.key: LS0tsecret\n  \"tls.key\" : \"LS0tsecret\"\n  tls.keys: x\n-----BEGIN unterminated MIIEsecret\n";
        let out = super::outline(text);
        assert_eq!(
            out.split('\n').collect::<Vec<_>>(),
            [
                "# backup",
                "-----BEGIN RSA PRIVATE KEY-----",
                "",
                "-----END RSA PRIVATE KEY-----",
                "  -----BEGIN PRIVATE KEY-----",
                "",
                "  tls.key:",
                "  tls.key:",
                "",
                "",
            ]
        );
        assert!(!out.contains("secret") && !out.contains("MIIE"), "{out}");
    }
}
