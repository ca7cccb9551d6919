//! Secret key names: what the API server accepts and what `kubectl --from-env-file` accepts.
//!
//! Owns the two key-name predicates. It must not know about files or values.
//!
//! Upstream: kubernetes `staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`
//! `IsConfigMapKey` (used for Secret `data` keys by `pkg/apis/core/validation`) and
//! `IsEnvVarName` (used by kubectl `pkg/cmd/util/env_file.go` for `--from-env-file`).
//! kustomize checks neither: its `api/internal/validate/fieldvalidator.go` `ErrIfInvalidKey`
//! and `IsEnvVarName` are stubs returning nil.

/// Longest Secret key the API server accepts (`DNS1123SubdomainMaxLength`).
pub(crate) const MAX_KEY_LEN: usize = 253;

/// Why the API server would reject a Secret key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyProblem {
    Empty,
    /// The key is longer than 253 bytes.
    TooLong,
    /// The key contains a character outside `[-._a-zA-Z0-9]`; the first such character.
    BadChar(char),
    /// The key is `.` or `..`, or starts with `..`.
    DotPrefix,
}

impl KeyProblem {
    /// A lowercase phrase for messages, e.g. "contains ' ', outside [-._a-zA-Z0-9]".
    pub fn describe(self) -> String {
        match self {
            Self::Empty => "is empty".to_owned(),
            Self::TooLong => format!("is longer than {MAX_KEY_LEN} bytes"),
            Self::BadChar(c) => format!("contains {:?}, outside [-._a-zA-Z0-9]", c),
            Self::DotPrefix => "is '.' or '..' or starts with '..'".to_owned(),
        }
    }

    /// [`KeyProblem::describe`] for a key that is not shown: a bad character is not named either.
    pub fn describe_withheld(self) -> String {
        match self {
            Self::BadChar(_) => "contains a character outside [-._a-zA-Z0-9]".to_owned(),
            other => other.describe(),
        }
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Checks a Secret `data` key as the API server does (`IsConfigMapKey`): 1 to 253 characters
/// from `[-._a-zA-Z0-9]`, not `.` or `..`, not starting with `..`.
pub fn validate_key(key: &str) -> Result<(), KeyProblem> {
    if key.is_empty() {
        return Err(KeyProblem::Empty);
    }
    if key.len() > MAX_KEY_LEN {
        return Err(KeyProblem::TooLong);
    }
    if let Some(c) = key
        .chars()
        .find(|c| !u8::try_from(*c).is_ok_and(is_key_byte))
    {
        return Err(KeyProblem::BadChar(c));
    }
    if key == "." || key.starts_with("..") {
        return Err(KeyProblem::DotPrefix);
    }
    Ok(())
}

/// Whether `kubectl create secret --from-env-file` accepts the key (`IsEnvVarName`:
/// `[-._a-zA-Z][-._a-zA-Z0-9]*`): a valid key that does not start with a digit.
pub(crate) fn is_env_var_name(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| is_key_byte(b) && !b.is_ascii_digit())
        && bytes.all(is_key_byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_server_key_rules() {
        for ok in ["A", "a.b-c_D9", "9lives", ".hidden", "-", "_"] {
            assert_eq!(validate_key(ok), Ok(()), "{ok}");
        }
        assert_eq!(validate_key(""), Err(KeyProblem::Empty));
        assert_eq!(validate_key("."), Err(KeyProblem::DotPrefix));
        assert_eq!(validate_key(".."), Err(KeyProblem::DotPrefix));
        assert_eq!(validate_key("..a"), Err(KeyProblem::DotPrefix));
        assert_eq!(validate_key("A B"), Err(KeyProblem::BadChar(' ')));
        assert_eq!(validate_key("export A"), Err(KeyProblem::BadChar(' ')));
        assert_eq!(validate_key("é"), Err(KeyProblem::BadChar('é')));
        assert_eq!(validate_key(&"a".repeat(253)), Ok(()));
        assert_eq!(validate_key(&"a".repeat(254)), Err(KeyProblem::TooLong));
    }

    #[test]
    fn env_var_names() {
        assert!(is_env_var_name("A_1") && is_env_var_name("my.env-name"));
        assert!(!is_env_var_name("1A") && !is_env_var_name("") && !is_env_var_name("A B"));
    }
}
