//! `emp-seal.toml` (or `.emp-seal.toml`) at the repository root: environment globs,
//! per-environment certificates and scope, the release-gate policy and paths to ignore
//! (docs/check.md, "The config file"). Parsed with the `toml` crate; an unknown key is an error
//! naming the key, the file and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// The config file names, in the order they are looked for.
pub const CONFIG_FILE_NAMES: [&str; 2] = ["emp-seal.toml", ".emp-seal.toml"];

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The parsed config file. The settings a message names carry where they are written
/// ([`Setting`]), so the one parse gives both the values and their lines.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Globs (repository-relative, `*` matches within one path segment) naming environment
    /// directories. When given, they replace discovery.
    pub environments: Option<Spanned<Vec<Setting>>>,
    /// The scope `seal` uses when `--scope` is not given, as if it were: a file declaring another
    /// scope is refused unless `--rescope`.
    pub scope: Option<ScopeName>,
    /// Paths (repository-relative, `*` globs) discovery and `check` skip.
    #[serde(default)]
    pub ignore: Vec<Setting>,
    /// Per-environment settings, by environment name or directory (the key as written).
    #[serde(default)]
    pub environment: BTreeMap<Setting, EnvConfig>,
    /// The release gate's policy.
    #[serde(default)]
    pub release: ReleaseConfig,
    /// The file's text, to turn a span into a line (filled by [`parse`]). Holds no secret: the
    /// file holds paths, globs, scopes and rule ids.
    #[serde(skip)]
    text: String,
}

/// A string setting and the byte span toml gives it (`toml::Spanned`), for the line a message
/// names. Compares, orders and reads as its value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(transparent)]
pub struct Setting(Spanned<String>);

impl std::ops::Deref for Setting {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.get_ref()
    }
}

impl std::borrow::Borrow<str> for Setting {
    fn borrow(&self) -> &str {
        self
    }
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl Config {
    fn line(&self, at: Option<std::ops::Range<usize>>) -> usize {
        span_line(&self.text, at)
    }

    /// The line of the first of `list` that is `value`.
    fn line_in(&self, list: &[Setting], value: &str) -> usize {
        self.line(
            list.iter()
                .find(|s| s.0.get_ref() == value)
                .map(|s| s.0.span()),
        )
    }

    fn environment_globs(&self) -> &[Setting] {
        self.environments.as_ref().map_or(&[], |e| e.get_ref())
    }

    /// The line of the `environments` glob `glob`.
    pub fn environments_line(&self, glob: &str) -> usize {
        self.line_in(self.environment_globs(), glob)
    }

    /// The line of the `[release] unsuppressible` entry `id`.
    pub fn unsuppressible_line(&self, id: &str) -> usize {
        self.line_in(&self.release.unsuppressible, id)
    }

    /// The line of the `[environment.KEY]` table header (or of the dotted or inline key).
    pub fn environment_line(&self, key: &str) -> usize {
        self.line(self.environment.get_key_value(key).map(|(k, _)| k.0.span()))
    }

    /// The line of the `[environment.KEY]` table's `certificate` setting; the table's line when
    /// it sets none.
    pub fn certificate_line(&self, key: &str) -> usize {
        match self
            .environment
            .get(key)
            .and_then(|e| e.certificate.as_ref())
        {
            Some(c) => self.line(Some(c.0.span())),
            None => self.environment_line(key),
        }
    }
}

/// Settings for one environment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EnvConfig {
    /// The sealing certificate: a repository-relative path, or an `https://` URL (shown by
    /// `emp-seal config` as where to fetch it from; the certificate file stays the default).
    pub certificate: Option<Setting>,
    /// Scope for this environment (overrides the top-level `scope`).
    pub scope: Option<ScopeName>,
}

/// `[release]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReleaseConfig {
    /// Rule ids an allow comment cannot suppress under `--release` (added to the built-in ones).
    #[serde(default)]
    pub unsuppressible: Vec<Setting>,
    /// Secret names workloads create at run time (as `--allow-runtime-secret`, added to it).
    #[serde(default)]
    pub allow_runtime_secret: Vec<Setting>,
}

/// A scope as written in the config file. Read through [`toml::Value`] so that a value of the
/// wrong type is named with the key and the allowed values, as a wrong word is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "toml::Value")]
pub enum ScopeName {
    /// Name and namespace bound.
    Strict,
    /// Namespace bound.
    NamespaceWide,
    /// Unbound.
    ClusterWide,
}

impl TryFrom<toml::Value> for ScopeName {
    type Error = String;
    fn try_from(v: toml::Value) -> Result<Self, String> {
        match v.as_str() {
            Some("strict") => Ok(ScopeName::Strict),
            Some("namespace-wide") => Ok(ScopeName::NamespaceWide),
            Some("cluster-wide") => Ok(ScopeName::ClusterWide),
            _ => Err(format!(
                "scope: `{v}` is not one of `strict`, `namespace-wide`, `cluster-wide`"
            )),
        }
    }
}

impl ScopeName {
    pub fn scope(self) -> crate::crypto::Scope {
        match self {
            ScopeName::Strict => crate::crypto::Scope::Strict,
            ScopeName::NamespaceWide => crate::crypto::Scope::NamespaceWide,
            ScopeName::ClusterWide => crate::crypto::Scope::ClusterWide,
        }
    }
}

/// A config file that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{file}: cannot read: {message}")]
    Unreadable {
        /// The file, repository-relative.
        file: String,
        message: String,
    },
    /// Not valid TOML, or a key or value the file may not hold.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file, repository-relative.
        file: String,
        /// 1-based line.
        line: usize,
        /// The parser's message (names an unknown key).
        message: String,
    },
    /// Both `emp-seal.toml` and `.emp-seal.toml` exist.
    #[error("both emp-seal.toml and .emp-seal.toml exist at {root}: keep one")]
    Both { root: String },
}

/// The config file at `root`, if any.
pub fn config_path(root: &Path) -> Option<PathBuf> {
    // Anything at the name counts: a directory or a dangling link there is an error on reading,
    // never "no config" (which would drop its settings in silence).
    CONFIG_FILE_NAMES
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.symlink_metadata().is_ok())
}

/// Reads and parses the config at `root` (`Ok(None)` when there is none).
///
/// # Errors
/// [`ConfigError`].
pub fn load(root: &Path) -> Result<Option<(String, Config)>, ConfigError> {
    let Some(path) = config_path(root) else {
        return Ok(None);
    };
    if CONFIG_FILE_NAMES
        .iter()
        .all(|n| root.join(n).symlink_metadata().is_ok())
    {
        return Err(ConfigError::Both {
            root: root.display().to_string(),
        });
    }
    let file = super::rel(root, &path);
    let text = crate::fsio::read_to_string_limited(&path, MAX_CONFIG_BYTES).map_err(|e| {
        ConfigError::Unreadable {
            file: file.clone(),
            message: e.to_string(),
        }
    })?;
    parse(&file, &text).map(|c| Some((file, c)))
}

/// Parses config text; `file` names it in errors.
///
/// # Errors
/// [`ConfigError::Invalid`] with the line the parser points at.
pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
    let invalid = |line, message: String| ConfigError::Invalid {
        file: file.to_owned(),
        line,
        message,
    };
    let mut config: Config = toml::from_str(text).map_err(|e| {
        invalid(
            span_line(text, e.span()),
            e.message().trim().replace('\n', " "),
        )
    })?;
    text.clone_into(&mut config.text);
    for (what, globs) in [
        ("environments", config.environment_globs()),
        ("ignore", &config.ignore[..]),
    ] {
        if let Some((bad, why)) = globs
            .iter()
            .find_map(|g| glob_problem(what, g).map(|why| (g, why)))
        {
            let line = config.line(Some(bad.0.span()));
            return Err(invalid(line, format!("{what}: `{bad}` {why}")));
        }
    }
    if let Some(bad) = (config.release.allow_runtime_secret.iter()).find(|n| n.trim().is_empty()) {
        let message =
            "release.allow-runtime-secret: an empty Secret name allows nothing: name the Secret";
        return Err(invalid(config.line(Some(bad.0.span())), message.to_owned()));
    }
    for (env, c) in &config.environment {
        let Some(cert) = c.certificate.as_deref() else {
            continue;
        };
        let url = cert.starts_with("https://") || cert.starts_with("http://");
        // A blank one (` `) names no file, as an empty one does not.
        if !url && (!valid_glob(cert) || cert.contains('*') || cert.trim().is_empty()) {
            let message = format!(
                "environment.{env}.certificate: `{cert}` is neither a repository-relative path (no `..`, no leading `/`) nor an http(s) URL"
            );
            return Err(invalid(config.certificate_line(env), message));
        }
    }
    if let Some(globs) = (config.environments.as_ref()).filter(|g| g.get_ref().is_empty()) {
        let message = "environments is empty: name at least one glob, or remove the key to discover environments";
        return Err(invalid(config.line(Some(globs.span())), message.to_owned()));
    }
    Ok(config)
}

/// The 1-based line of a span of `text` (1 when there is none).
fn span_line(text: &str, at: Option<std::ops::Range<usize>>) -> usize {
    at.map_or(1, |s| {
        crate::fsio::line_at(text.as_bytes(), s.start.min(text.len()))
    })
}

/// Why the `what` glob `g` cannot be used, if it cannot. The glob `.` alone names the
/// repository root (an environment there); any other `.` segment matches no repository-relative
/// path, and an `ignore` glob of `*` segments, or `.`, only skips the whole tree: either would
/// leave `check` looking at less than the file says, without a word.
fn glob_problem(what: &str, g: &str) -> Option<&'static str> {
    let everything = g == "." || g.split('/').all(|s| s.chars().all(|c| c == '*'));
    if !valid_glob(g) {
        Some("is not a repository-relative path (no `..`, no leading `/`, not empty)")
    } else if !well_formed(g) {
        Some("is not a well-formed glob (a `[` class without its `]`, or a trailing `\\`)")
    } else if g != "." && g.split('/').any(|s| s == ".") {
        Some("has a `.` segment, which no repository-relative path has: it matches nothing")
    } else if what == "ignore" && everything {
        Some("matches every path: check would look at nothing (name what to skip)")
    } else {
        None
    }
}

fn valid_glob(g: &str) -> bool {
    !g.is_empty() && !g.starts_with('/') && !g.split('/').any(|s| s == ".." || s.is_empty())
}

/// True when the repository-relative `path` matches `glob`: segments compare one to one, each as
/// Go's `path.Match` compares one (`*` any run of characters, `?` one, `[a-z]` / `[^a-z]` one
/// of / none of a class, `\` quotes the next), and a final `**` matches any rest.
pub fn glob_match(glob: &str, path: &str) -> bool {
    let g: Vec<&str> = glob.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if g.last() == Some(&"**") {
        let head = &g[..g.len() - 1];
        return p.len() >= head.len() && head.iter().zip(&p).all(|(a, b)| segment_match(a, b));
    }
    g.len() == p.len() && g.iter().zip(&p).all(|(a, b)| segment_match(a, b))
}

/// True unless `glob` has a class without its `]` or ends in a lone `\` (Go's
/// `path.ErrBadPattern`), which would otherwise match nothing without a word.
pub fn well_formed(glob: &str) -> bool {
    let p: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 == p.len() => return false,
            '\\' => i += 2,
            '[' => match class(&p[i..], '\0') {
                Some((_, len)) => i += len,
                None => return false,
            },
            _ => i += 1,
        }
    }
    true
}

/// One path segment against one pattern segment (Go's `path.Match` inside a segment; upstream
/// `src/path/match.go`).
///
/// Every atom but `*` matches one character, so a mismatch only ever returns to the last `*`
/// and lets it take one character more: at most the product of the pattern's and the name's
/// lengths in steps, where trying every split at every `*` is exponential in the number of stars
/// (patterns come from the repository: the config, Flux ignore files, `ApplicationSet` paths).
pub fn segment_match(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = s.chars().collect();
    let (mut pi, mut si) = (0, 0);
    // Where the last `*` is in the pattern, and where in `s` its match ends so far.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if p.get(pi) == Some(&'*') {
            star = Some((pi, si));
            pi += 1;
        } else if let Some(len) = atom(&p[pi..], s[si]) {
            pi += len;
            si += 1;
        } else if let Some((sp, ss)) = star {
            star = Some((sp, ss + 1));
            (pi, si) = (sp + 1, ss + 1);
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The length of the atom opening `p` (not a `*`) when it matches `c`: `?`, a class, a quoted
/// character (a backslash before it) or a literal one.
fn atom(p: &[char], c: char) -> Option<usize> {
    match *p.first()? {
        '?' => Some(1),
        '[' => class(p, c).and_then(|(hit, len)| hit.then_some(len)),
        '\\' if p.len() > 1 => (p[1] == c).then_some(2),
        literal => (literal == c).then_some(1),
    }
}

/// The class `[...]` at the start of `p`: whether `c` is in it, and its length; `None` when it
/// is malformed as Go's `path.Match` has it (no closing `]`, an empty class, an unquoted `-` or
/// `]` where a character belongs). `^` first negates; `a-z` is a range; `\\` quotes.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let negated = p.get(1) == Some(&'^');
    let mut i = if negated { 2 } else { 1 };
    let mut hit = false;
    let one = |i: &mut usize| -> Option<char> {
        let ch = match *p.get(*i)? {
            '\\' => {
                *i += 1;
                *p.get(*i)?
            }
            '-' | ']' => return None,
            ch => ch,
        };
        *i += 1;
        Some(ch)
    };
    let mut any = false;
    loop {
        if any && p.get(i) == Some(&']') {
            return Some((hit != negated, i + 1));
        }
        any = true;
        let lo = one(&mut i)?;
        let hi = if p.get(i) == Some(&'-') {
            i += 1;
            one(&mut i)?
        } else {
            lo
        };
        hit |= lo <= c && c <= hi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_key_file_and_line() {
        let text = "environments = [\"deploy/*\"]\n\n[release]\nunsupressible = [\"x\"]\n";
        let e = parse("emp-seal.toml", text).expect_err("unknown key");
        let s = e.to_string();
        assert!(s.starts_with("emp-seal.toml:4: "), "{s}");
        assert!(s.contains("unsupressible"), "{s}");
    }

    #[test]
    fn bad_values_are_errors() {
        let e = parse("c.toml", "scope = \"wide\"\n").expect_err("bad scope");
        assert!(e.to_string().starts_with("c.toml:1: "), "{e}");
        let e = parse("c.toml", "ignore = [\"../x\"]\n").expect_err("escapes");
        assert!(e.to_string().contains("../x"), "{e}");
        let e = parse("c.toml", "ignore = [\"a\",\n  \"env-[ab\"]\n").expect_err("class");
        assert!(
            e.to_string()
                .starts_with("c.toml:2: ignore: `env-[ab` is not a well-formed glob"),
            "{e}"
        );
        let e = parse("c.toml", "\nscope = 3\n").expect_err("scope of the wrong type");
        assert_eq!(
            e.to_string(),
            "c.toml:2: scope: `3` is not one of `strict`, `namespace-wide`, `cluster-wide`"
        );
        for (text, line) in [
            ("ignore = [\"k8s\", \".\"]\n", 1),
            ("ignore = [\"k8s/./x\"]\n", 1),
            ("environments = [\"./k8s\"]\n", 1),
            ("ignore = [\"*/**\"]\n", 1),
            ("[release]\nallow-runtime-secret = [\" \"]\n", 2),
        ] {
            let e = parse("c.toml", text).expect_err(text);
            assert!(
                e.to_string().starts_with(&format!("c.toml:{line}: ")),
                "{e}"
            );
        }
        parse("c.toml", "ignore = [\"*/legacy\", \"legacy/**\"]\n")
            .expect("a glob naming something");
        parse("c.toml", "environments = [\".\"]\n").expect("`.` names the root");
        let e = parse("c.toml", "environments = []\n").expect_err("empty");
        assert!(e.to_string().contains("empty"), "{e}");
        let e = parse("c.toml", "[environment.p]\ncertificate = \" \"\n").expect_err("blank");
        assert!(
            e.to_string()
                .starts_with("c.toml:2: environment.p.certificate"),
            "{e}"
        );
        let e = parse("c.toml", "[environment.p]\ncertificate = \"../p.pem\"\n").expect_err("out");
        assert!(
            e.to_string()
                .starts_with("c.toml:2: environment.p.certificate"),
            "{e}"
        );
        let e = parse("c.toml", "environments = [\n").expect_err("syntax");
        assert!(e.to_string().starts_with("c.toml:"), "{e}");
    }

    /// A bad glob is reported at the line holding it as a string, not at an earlier comment that
    /// names it, and an empty glob at its own line, not line 1.
    #[test]
    fn a_bad_glob_is_reported_at_its_setting_not_at_a_comment() {
        let text =
            "# skip env-[ab later\nscope = \"strict\"\nignore = [\n  \"a\",\n  \"env-[ab\",\n]\n";
        let e = parse("c.toml", text).expect_err("class");
        assert!(e.to_string().starts_with("c.toml:5: ignore: "), "{e}");
        let text = "scope = \"strict\"\nenvironments = [\"\"]\n";
        let e = parse("c.toml", text).expect_err("empty glob");
        assert!(e.to_string().starts_with("c.toml:2: environments: "), "{e}");
        let text = "# was ../p.pem\n[environment.p]\ncertificate = \"../p.pem\"\n";
        let e = parse("c.toml", text).expect_err("out");
        assert!(e.to_string().starts_with("c.toml:3: environment.p."), "{e}");
    }

    #[test]
    fn certificate_line_is_the_setting_in_the_environment_table() {
        let c = parse(
            "c.toml",
            "# certificate paths\n[environment.dev]\nscope = \"strict\"\n[environment.prod]\n# the certificate\nscope = \"strict\"\ncertificate = \"certs/prod.pem\"\n[environment.qa]\ncertificate = \"https://qa.example/cert.pem\"\n",
        )
        .expect("parses");
        assert_eq!(c.certificate_line("prod"), 7);
        assert_eq!(c.certificate_line("qa"), 9);
        // No certificate in the table: the table's line, never the next table's setting.
        assert_eq!(c.certificate_line("dev"), 2);
        let c = parse(
            "c.toml",
            "scope = \"strict\"\nenvironment.prod.certificate = \"p.pem\"\n",
        )
        .expect("parses");
        assert_eq!(c.certificate_line("prod"), 2);
    }

    /// Lines come from the spans toml gives: a line that merely mentions a key or a value
    /// (the `environments` glob ending in `prod`, a comment) is not taken for the setting.
    #[test]
    fn setting_lines_are_the_spans_toml_gives() {
        let c = parse(
            "c.toml",
            "environments = [\"k8s/overlays/prod\"]\n# prod's certificate\n[environment.prod]\ncertificate = \"p.pem\"\n[environment]\nqa = { certificate = \"q.pem\" }\n[release]\nunsuppressible = [\n  \"prod\",\n  'x',\n]\n",
        )
        .expect("parses");
        assert_eq!(c.environment_line("prod"), 3);
        assert_eq!(c.certificate_line("prod"), 4);
        assert_eq!((c.environment_line("qa"), c.certificate_line("qa")), (6, 6));
        assert_eq!(c.environments_line("k8s/overlays/prod"), 1);
        assert_eq!(c.unsuppressible_line("x"), 10);
        let text =
            "environments = [\"deploy/prod\"]\n\n[environment.prod]\ncertificate = \"../p.pem\"\n";
        let e = parse("c.toml", text).expect_err("out");
        assert!(
            e.to_string().starts_with("c.toml:4: environment.prod."),
            "{e}"
        );
        let e = parse(
            "c.toml",
            "# environments\nscope = \"strict\"\nenvironments = []\n",
        )
        .expect_err("empty");
        assert!(
            e.to_string().starts_with("c.toml:3: environments is empty"),
            "{e}"
        );
    }

    #[test]
    fn full_file_parses() {
        let c = parse(
            "c.toml",
            "environments = [\"deploy/*/overlays/*\"]\nscope = \"namespace-wide\"\nignore = [\"legacy/**\"]\n[environment.prod]\ncertificate = \"certs/prod.pem\"\nscope = \"strict\"\n[release]\nunsuppressible = [\"plaintext-secret\"]\nallow-runtime-secret = [\"argocd-redis\"]\n",
        )
        .expect("parses");
        assert_eq!(c.scope, Some(ScopeName::NamespaceWide));
        assert_eq!(
            c.environment["prod"].certificate.as_deref(),
            Some("certs/prod.pem")
        );
        assert_eq!(*c.release.allow_runtime_secret[0], *"argocd-redis");
    }

    #[test]
    fn globs_match_segments() {
        assert!(glob_match("deploy/*/overlays/*", "deploy/web/overlays/dev"));
        assert!(!glob_match(
            "deploy/*/overlays/*",
            "deploy/web/overlays/dev/x"
        ));
        assert!(!glob_match("deploy/*/overlays/*", "deploy/overlays/dev"));
        assert!(glob_match("env-*", "env-prod"));
        assert!(!glob_match("env-*", "prod"));
        assert!(glob_match("legacy/**", "legacy/a/b.yaml"));
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(!glob_match("a*b*c", "aXcYb"));
        // One segment compares as Go's `path.Match` does.
        assert!(glob_match("env-?", "env-a") && !glob_match("env-?", "env-ab"));
        assert!(glob_match("[a-c]x", "bx") && !glob_match("[a-c]x", "dx"));
        assert!(glob_match("[^a-c]x", "dx") && !glob_match("[^a-c]x", "ax"));
        assert!(!glob_match("[ab-]x", "-x") && glob_match(r"[ab\-]x", "-x"));
        assert!(glob_match(r"\*", "*") && !glob_match(r"\*", "a"));
        assert!(glob_match("**", "a") && !glob_match("a/**/c", "a/b/x/c"));
        assert!(glob_match("*a*?c", "xxabyc") && !glob_match("*a*?c", "xxac"));
        // Many stars against a long name that almost matches: answered at once (trying every
        // split at every star would not finish).
        let long = "a".repeat(200);
        assert!(!segment_match(&format!("{}b", "*a".repeat(30)), &long));
        assert!(segment_match(&"*a".repeat(30), &long));
        for bad in ["a[b", "a\\", "[]", "[-a]", "[a-]"] {
            assert!(!well_formed(bad), "{bad}");
        }
        assert!(!well_formed("a[]]") && well_formed("[^a]x/*"));
    }
}
