//! The kubeseal hybrid scheme: RSA-OAEP(SHA-256) wraps a fresh AES-256-GCM session key per value.
//!
//! Owns scope → OAEP label and the byte layout of one value. Pure bytes in, bytes out: no
//! filesystem, no YAML, no printing.
//! Upstream: sealed-secrets `pkg/crypto/crypto.go` (HybridEncrypt/HybridDecrypt) and
//! `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go` (EncryptionLabel).

/// How widely a sealed value may be moved (sealed-secrets `SealingScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Bound to one name in one namespace; label `<namespace>/<name>`. The default.
    Strict,
    /// Any name in one namespace; label `<namespace>`.
    NamespaceWide,
    /// Any name in any namespace; empty label.
    ClusterWide,
}

impl Scope {
    /// The kebab-case spelling used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }

    /// The OAEP label for this scope and identity.
    ///
    /// sealed-secrets `EncryptionLabel`: cluster-wide → empty, namespace-wide → namespace,
    /// strict → `namespace/name`.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }
}
