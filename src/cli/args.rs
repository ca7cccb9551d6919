//! Command-line arguments (clap only). Nothing here touches files or secrets: `plan.rs` turns
//! these into validated plans.
//!
//! Secret values never arrive on argv: every secret comes from a file (`--from`, `--key`) or
//! from a hidden prompt.

#![allow(clippy::doc_markdown, rustdoc::invalid_html_tags, rustdoc::bare_urls)] // doc comments here are the --help text users read

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{StringValueParser, StyledStr, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::crypto::Scope;

/// Seal kustomize env files into Bitnami SealedSecrets and check a Kustomize tree's secrets.
///
/// `emp-seal ENV --from FILE` is short for `emp-seal seal ENV --from FILE`.
#[derive(Debug, Parser)]
#[command(
    name = "emp-seal",
    version,
    about,
    long_about = None,
    propagate_version = true,
    subcommand_negates_reqs = true,
    arg_required_else_help = true,
    override_usage = "emp-seal [OPTIONS] <COMMAND>"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub shorthand: Shorthand,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The command line as completions and the man page document it: [`Cli`] without the
/// shorthand's hidden arguments (clap_complete and clap_mangen would list hidden arguments).
#[derive(Debug, Parser)]
#[command(name = "emp-seal", version, about, long_about = None, propagate_version = true)]
pub struct Documented {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command to run: the subcommand, else `seal` for the shorthand; `None` when neither
    /// was given (clap's validation makes that unreachable from a command line).
    pub fn into_parts(self) -> (GlobalArgs, Option<Command>) {
        let command = self.command.or(self.shorthand.0.map(Command::Seal));
        (self.global, command)
    }
}

/// `emp-seal ENV... --from FILE`: `seal`'s arguments at the top level, hidden from help (they
/// are documented under `seal`). Clap parses them; only an ENV on the command line selects the
/// shorthand, never an option's environment variable alone (`EMP_SEAL_NO_INPUT=1 emp-seal
/// check` stays `check`). A first word that resembles a command name (`chek`) is refused with
/// clap's own "a similar subcommand exists" tip; `emp-seal seal ENV` always means the
/// environment.
#[derive(Debug)]
pub struct Shorthand(pub Option<SealArgs>);

impl FromArgMatches for Shorthand {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        if m.value_source("envs") != Some(ValueSource::CommandLine) {
            return Ok(Shorthand(None));
        }
        if let Some(name) = m.subcommand_name() {
            return Err(clap::Error::raw(
                ErrorKind::ArgumentConflict,
                format!("the subcommand '{name}' cannot be used with '<ENV>...'\n"),
            ));
        }
        SealArgs::from_arg_matches(m).map(|a| Shorthand(Some(a)))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Shorthand::from_arg_matches(m)?;
        Ok(())
    }
}

impl Args for Shorthand {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        shorthand_args(SealArgs::augment_args(cmd))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        shorthand_args(SealArgs::augment_args_for_update(cmd))
    }
}

/// Hides `seal`'s arguments at the top level (the global options stay) and lets the ENV
/// refuse a mistyped command name.
fn shorthand_args(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|a| if a.is_global_set() { a } else { a.hide(true) })
        .mut_arg("envs", |a| a.value_parser(ShorthandEnv))
}

/// The top-level ENV's parser: a string, unless clap would call it a mistyped command.
#[derive(Debug, Clone, Copy)]
struct ShorthandEnv;

impl TypedValueParser for ShorthandEnv {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        let env = StringValueParser::new().parse_ref(cmd, arg, value)?;
        // Clap suggests a similar subcommand only where no positional argument can take the
        // word, and here ENV can; so ask it on a command that has the same subcommands and
        // nothing else. Its error is clap's own "unrecognized subcommand" with the
        // "a similar subcommand exists" tip; a word like no command stays an ENV.
        let probe = clap::Command::new("emp-seal")
            .disable_help_subcommand(true)
            .subcommands(cmd.get_subcommands().cloned());
        match probe.try_get_matches_from(["emp-seal", env.as_str()]) {
            Err(mut e) if e.get(ContextKind::SuggestedSubcommand).is_some() => {
                // An environment may really be called `release` or `checks`: say how to
                // seal it (`seal ENV` never reads a command name).
                let tip = format!("if '{env}' is an environment, use 'emp-seal seal {env}'");
                e.insert(
                    ContextKind::Suggested,
                    ContextValue::StyledStrs(vec![StyledStr::from(tip)]),
                );
                Err(e)
            }
            _ => Ok(env),
        }
    }
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Repository root or any directory inside it [default: found from the current directory]
    #[arg(
        short = 'C',
        long = "repo",
        global = true,
        value_name = "DIR",
        env = "EMP_SEAL_REPO",
        value_parser = path_arg()
    )]
    pub repo: Option<PathBuf>,
    /// When to colour output: auto (a TTY without NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print no summary or progress lines on stderr (errors still are). check's report (on
    /// stdout) and its notes of what it did not verify are always printed.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Seal an env file into one or more overlays' sealedsecret.yaml, rewriting them in place.
    Seal(SealArgs),
    /// Check the whole tree: env examples, generators, SealedSecrets, references, placeholders,
    /// certificates and plaintext secrets. Exit 0 no error found (warnings and notes do not
    /// fail), 1 errors found, 2 usage or input errors.
    Check(CheckArgs),
    /// Inspect a sealing certificate, or fetch a controller's certificate.
    Cert(CertArgs),
    /// Decrypt an overlay's SealedSecret offline with the controller's private key(s).
    Unseal(UnsealArgs),
    /// Show which keys of an env file differ from an overlay's sealed values (never the values).
    Diff(DiffArgs),
    /// Re-encrypt every value of one or more overlays' SealedSecrets to their current
    /// certificates, offline, with the controller's old private key(s). Prints key names and
    /// certificate fingerprints, never a value.
    Reseal(ResealArgs),
    /// Create the untracked env files an overlay's Secret generators read from their examples.
    Init(InitArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff) documenting every subcommand, or write one page per command.
    Man(ManArgs),
    /// Print the repository's layout: its environments, their directories and certificates,
    /// and how each was found (emp-seal.toml, or discovery from the kustomization graph).
    Config(ConfigArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ConfigFormat::Text)]
    pub format: ConfigFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfigFormat {
    /// Aligned text.
    Text,
    /// One JSON object.
    Json,
}

#[derive(Debug, Args)]
pub struct SealArgs {
    /// Environments (names as `emp-seal config` lists them, or overlay paths) to seal for; each uses its own
    /// certificate and identity. Every file is written, or none is.
    #[arg(required = true, value_name = "ENV")]
    pub envs: Vec<String>,
    /// The env file to seal (kustomize `envs:` dialect). A bare name not found in the current
    /// directory is looked up among the overlays. `-` reads it from standard input; a pipe
    /// (`/dev/stdin`, `<(sops -d secrets.env)`) is read once, so plaintext never touches disk.
    #[arg(long, value_name = "FILE", env = "EMP_SEAL_FROM", value_parser = path_arg())]
    pub from: PathBuf,
    /// Sealing certificate (PEM) [default: the config's, else <overlay>/sealing-cert.pem]. Only valid
    /// with one ENV.
    #[arg(long, value_name = "PATH", env = "SEALED_SECRETS_CERT", value_parser = path_arg())]
    pub cert: Option<PathBuf>,
    /// Scope to seal with [default: the config's scope for ENV, else the scope the file
    /// declares, else strict].
    #[arg(long, value_enum, env = "SEALED_SECRETS_SCOPE")]
    pub scope: Option<ScopeArg>,
    /// Allow --scope to change the file's declared scope (reseals every key).
    #[arg(long)]
    pub rescope: bool,
    /// Seal only these keys (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "KEYS")]
    pub only: Vec<String>,
    /// Remove sealed keys that FILE no longer has.
    #[arg(long)]
    pub prune: bool,
    /// Which SealedSecret to seal when the overlay renders several (rendered name or name in
    /// the file, or NAMESPACE/NAME); without it, the one named like FILE (`redis.env` -> `redis`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Allow --prune to leave the secret empty, or to remove keys the overlay's workloads read
    /// (they are named).
    #[arg(long)]
    pub force: bool,
    /// Refuse the env file when it has warnings (quotes kept literally, ` #` kept in the value,
    /// trailing whitespace, empty values, ...) instead of printing them.
    #[arg(long)]
    pub strict: bool,
    /// Private key(s) of the controller: keys whose sealed value already equals FILE's keep
    /// their ciphertext byte for byte (no churn).
    #[arg(
        long = "key",
        value_name = "KEY",
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_parser = path_arg()
    )]
    pub keys: Vec<PathBuf>,
    /// Move the overlay from its SecretGenerator to a SealedSecret (writes sealedsecret.yaml
    /// and rewrites kustomization.yaml).
    #[arg(long)]
    pub migrate: bool,
    /// With --migrate, for a generator that appends a content hash: name the SealedSecret with
    /// the hashed name kustomize renders, so the Secret keeps its name (its references are
    /// then yours to update).
    #[arg(long, requires = "migrate")]
    pub keep_name: bool,
    /// Never prompt; fail listing missing keys instead. EMP_SEAL_NO_INPUT takes
    /// 1/0/true/false/yes/no (any case).
    #[arg(long, env = "EMP_SEAL_NO_INPUT", value_parser = env_bool)]
    pub no_input: bool,
    /// Show keys to add, change and keep; write nothing.
    #[arg(long, conflicts_with = "stdout")]
    pub dry_run: bool,
    /// Write the new document to stdout instead of the file.
    #[arg(long)]
    pub stdout: bool,
}

/// Scope names on the command line (kubeseal's spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// `<namespace>/<name>` label.
    Strict,
    /// `<namespace>` label.
    NamespaceWide,
    /// Empty label.
    ClusterWide,
}

impl From<ScopeArg> for Scope {
    fn from(s: ScopeArg) -> Scope {
        match s {
            ScopeArg::Strict => Scope::Strict,
            ScopeArg::NamespaceWide => Scope::NamespaceWide,
            ScopeArg::ClusterWide => Scope::ClusterWide,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// `path:line:col: severity[rule-id]: message`.
    Text,
    /// Versioned JSON (docs/output-formats.md).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only report findings located in these files (the whole tree is still read for context).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Release gate for ENV: anything that would ship a broken or unsafe secret is an error.
    /// An empty ENV (`--release ""`, or EMP_SEAL_RELEASE set but empty) is a usage error, never
    /// "no release gate".
    #[arg(long, value_name = "ENV", env = "EMP_SEAL_RELEASE")]
    pub release: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text, env = "EMP_SEAL_FORMAT")]
    pub format: CheckFormat,
    /// Also list suppressed findings.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Exit 0 even with findings (for SARIF upload jobs); errors still exit 2.
    /// EMP_SEAL_EXIT_ZERO takes 1/0/true/false/yes/no (any case).
    #[arg(long, env = "EMP_SEAL_EXIT_ZERO", value_parser = env_bool)]
    pub exit_zero: bool,
    /// Only run these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub rules: Vec<String>,
    /// Also build each checked overlay with the real kustomize (`kubectl kustomize`, else
    /// `kustomize build`) and compare the render with emp-seal's model.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = RenderWhen::Auto, env = "EMP_SEAL_RENDER")]
    pub render: RenderWhen,
    /// A Secret that workloads create at run time, so naming it is not a dangling reference
    /// (repeatable; comma-separated in the environment variable).
    #[arg(
        long = "allow-runtime-secret",
        value_name = "NAME",
        value_delimiter = ',',
        value_parser = secret_name,
        env = "EMP_SEAL_ALLOW_RUNTIME_SECRETS"
    )]
    pub allow_runtime_secrets: Vec<String>,
}

/// When `check` renders with the real kustomize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderWhen {
    /// Under `--release`, when kubectl or kustomize is on PATH.
    Auto,
    /// Always; without kubectl or kustomize on PATH, exit 2.
    Always,
    /// Never: the model only.
    Never,
}

#[derive(Debug, Args)]
pub struct CertArgs {
    /// An environment name or a certificate path [default: every overlay's certificate].
    #[arg(value_name = "ENV|PATH")]
    pub target: Option<String>,
    /// Fetch a controller's certificate (http, https or file URL, e.g. .../v1/cert.pem) and save
    /// it as the environment's sealing certificate after checking it. Without URL, the
    /// environment's `certificate` URL in emp-seal.toml.
    #[arg(long, value_name = "URL", num_args = 0..=1)]
    pub fetch: Option<Option<String>>,
    /// Trust only these CA certificates (PEM) for an https --fetch URL, instead of the bundled
    /// public roots; e.g. the cluster CA. kubeconfig is never read. The server is always verified.
    #[arg(long, value_name = "PATH", env = "EMP_SEAL_FETCH_CA_CERT", value_parser = path_arg())]
    pub ca_cert: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnsealFormat {
    /// The Secret the controller would create, as YAML.
    Yaml,
    /// The kustomize env dialect (round-trips into `--from`).
    Env,
}

#[derive(Debug, Args)]
pub struct UnsealArgs {
    /// An environment name or a SealedSecret file.
    #[arg(value_name = "ENV|FILE")]
    pub target: String,
    /// Private key file(s): PEM (PKCS#1 or PKCS#8) or the controller's key Secret (YAML/JSON).
    #[arg(
        long = "key",
        required = true,
        value_name = "KEY",
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_parser = path_arg()
    )]
    pub keys: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = UnsealFormat::Yaml)]
    pub format: UnsealFormat,
    /// Which SealedSecret when the overlay renders (or the file holds) several: its rendered name
    /// (as written, for a file), or NAMESPACE/NAME.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Allow printing secret values to a terminal.
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The environment to compare with.
    #[arg(value_name = "ENV")]
    pub env: String,
    /// The env file to compare.
    #[arg(long, value_name = "FILE", value_parser = path_arg())]
    pub from: PathBuf,
    /// Which SealedSecret when the overlay renders several (rendered name or name in the file,
    /// or NAMESPACE/NAME); without it, the one named like FILE (`redis.env` -> `redis`), as `seal`
    /// picks.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Private key file(s) of the controller.
    #[arg(
        long = "key",
        required = true,
        value_name = "KEY",
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_parser = path_arg()
    )]
    pub keys: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ResealArgs {
    /// Environments (names or overlay paths) whose SealedSecret to re-encrypt, each to its own
    /// certificate (the config's, else <overlay>/sealing-cert.pem). Every file is written, or none is.
    #[arg(required = true, value_name = "ENV")]
    pub envs: Vec<String>,
    /// Private key file(s) that sealed the current values (any of them may open each value):
    /// PEM (PKCS#1 or PKCS#8) or the controller's key Secret (YAML/JSON, List); `-` or a pipe
    /// such as <(vault read ...) is read once.
    #[arg(
        long = "key",
        required = true,
        value_name = "KEY",
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_parser = path_arg()
    )]
    pub keys: Vec<PathBuf>,
    /// Leave values that no given key opens as they are (the file then keeps its old certificate
    /// record) instead of refusing [default: refuse, write nothing, exit 2].
    #[arg(long)]
    pub skip_unopened: bool,
    /// Show which keys would be re-encrypted; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Which SealedSecret when an overlay renders several (rendered name or name in the file,
    /// or NAMESPACE/NAME).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command into DIR (emp-seal.1, emp-seal-seal.1, ...) instead of
    /// printing a single page that documents every command and option to stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The environment whose env files to create.
    #[arg(value_name = "ENV")]
    pub env: String,
    /// Keep the example's values instead of prompting. EMP_SEAL_NO_INPUT takes
    /// 1/0/true/false/yes/no (any case).
    #[arg(long, env = "EMP_SEAL_NO_INPUT", value_parser = env_bool)]
    pub no_input: bool,
    /// Replace existing env files from their examples (without it, they are left as they are).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// bash
    Bash,
    /// zsh
    Zsh,
    /// fish
    Fish,
    /// PowerShell
    Powershell,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// A Secret name given to `--allow-runtime-secret` (or in its environment variable's list),
/// trimmed (`a, b` names `a` and `b`: no Secret name holds a space); a blank one is a usage
/// error, never "allow nothing" without a word.
pub fn secret_name(value: &str) -> Result<String, String> {
    match value.trim() {
        "" => Err("a Secret name cannot be empty or blank".to_owned()),
        name => Ok(name.to_owned()),
    }
}

/// A path argument, or its environment variable's value: one that is empty or only spaces is a
/// usage error (exit 2) naming that, not a file named ` ` that is then not found; so is one that
/// is file content rather than a path (a line break, a PEM header, ...), which is never shown. Any other
/// value is taken as it is, valid UTF-8 or not.
pub fn path_arg() -> PathArg {
    PathArg
}

/// The parser [`path_arg`] returns.
#[derive(Clone, Copy)]
pub struct PathArg;

impl TypedValueParser for PathArg {
    type Value = PathBuf;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<PathBuf, clap::Error> {
        if let Some(what) = content_not_path(value) {
            // clap's own value errors quote the value: this one names only the option.
            let name = arg.map_or_else(
                || "a path option".to_owned(),
                |a| {
                    let flag = a
                        .get_long()
                        .map_or_else(|| a.get_id().to_string(), |l| format!("--{l}"));
                    match a.get_env() {
                        Some(env) => format!("{flag} (or {})", env.to_string_lossy()),
                        None => flag,
                    }
                },
            );
            let message = format!(
                "the value of {name} is not a file path: it {what} (not shown); give the path of a file holding it\n"
            );
            return Err(clap::Error::raw(ErrorKind::InvalidValue, message).with_cmd(cmd));
        }
        let parser = clap::builder::OsStringValueParser::new().try_map(non_blank);
        parser.parse_ref(cmd, arg, value)
    }
}

/// How a path argument reads as the content of a file rather than its path, so that it is
/// refused without being shown (a CI variable set to a key or an env file instead of a file
/// holding it would otherwise land in the job log with "no such file"): it holds a line break,
/// is longer than any path (4096 bytes), or, naming no file, holds a PEM header, is 16
/// characters or more with neither a directory nor an extension (a hex or base32 key, a
/// token), is a line of base64 (40 characters or more), or reads as a setting (`KEY=value`,
/// `KEY: value`). A bare name found in an overlay directory is looked up later: such a name
/// needs an extension or under 16 characters to get there.
fn content_not_path(value: &OsStr) -> Option<String> {
    let bytes = value.as_encoded_bytes();
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    if bytes.iter().any(|b| matches!(b, b'\n' | b'\r')) {
        let s = if lines == 1 { "" } else { "s" };
        return Some(format!("holds {lines} line{s}"));
    }
    if bytes.len() > 4096 {
        return Some(format!("is {} bytes long", bytes.len()));
    }
    if std::path::Path::new(value).exists() {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    let body = text.strip_prefix("export ").unwrap_or(&text);
    // `KEY=value` whose value is no path (`env=prod/db.env` names a file).
    let env_line = body.split_once('=').is_some_and(|(key, value)| {
        !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !value.contains('/')
    });
    // `KEY: value`, as YAML writes a setting (a path holds no `: `).
    let yaml_line = text.contains(": ");
    // A path has a structure: a directory (`/`) or an extension (`.env`, `.pem`). A value of
    // 16 characters or more with neither is a secret given where its file belongs (a hex or
    // base32 key, `AGE-SECRET-KEY-...`, a JWT, whose last dotted part is no extension).
    let extension = (text.rsplit_once('.')).is_some_and(|(_, e)| {
        (1..=8).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    let unstructured = text.len() >= 16 && !text.contains('/') && !extension;
    // A line of a PEM body: longer than a file name usually is, of base64 characters only
    // (`/` and `+`, no `.`, `-` or `_`, which a path's names hold), mixing upper case, lower
    // case and digits as random text does.
    let has = |f: fn(&u8) -> bool| text.as_bytes().iter().any(f);
    let base64_line = text.len() >= 40
        && has(u8::is_ascii_uppercase)
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_digit)
        && (text.bytes()).all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
    let token = unstructured || base64_line;
    if text.contains("-----BEGIN") {
        Some("holds a PEM block".to_owned())
    } else if env_line || yaml_line {
        Some("reads as a setting (`KEY=value`, `KEY: value`)".to_owned())
    } else if token {
        Some("reads as a key or token, not a path (no directory, no extension)".to_owned())
    } else {
        None
    }
}

fn non_blank(value: std::ffi::OsString) -> Result<PathBuf, &'static str> {
    match value.to_str().map(str::trim) {
        Some("") => Err("a path cannot be empty or blank"),
        _ => Ok(PathBuf::from(value)),
    }
}

/// The value of a boolean flag's environment variable (and `true` when the flag itself is
/// given): the CI idioms `1`/`0`, `true`/`false`, `yes`/`no`, in any case. Anything else,
/// including an empty value, is a usage error (exit 2) rather than a guess.
pub fn env_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        "" => Err(
            "an empty value (from the flag's environment variable) is not a boolean: use 1/0, true/false or yes/no"
                .to_owned(),
        ),
        _ => Err(format!(
            "`{value}` (from the flag's environment variable) is not a boolean: use 1/0, true/false or yes/no"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
        Documented::command().debug_assert();
    }

    #[test]
    fn secret_names_are_trimmed_and_never_blank() {
        assert_eq!(secret_name(" regcred "), Ok("regcred".to_owned()));
        assert!(secret_name(" ").is_err() && secret_name("").is_err());
    }

    #[test]
    fn content_given_as_a_path_is_recognised() {
        let reads = |s: &str| content_not_path(OsStr::new(s));
        assert_eq!(reads("a\nb\n").as_deref(), Some("holds 2 lines"));
        assert_eq!(reads("a\r").as_deref(), Some("holds 1 line"));
        assert_eq!(
            reads("-----BEGIN PRIVATE KEY----- x").as_deref(),
            Some("holds a PEM block")
        );
        let setting = Some("reads as a setting (`KEY=value`, `KEY: value`)");
        for line in ["API_KEY=abc", "export API_KEY=abc", "password: hunter2"] {
            assert_eq!(reads(line).as_deref(), setting, "{line}");
        }
        let token = Some("reads as a key or token, not a path (no directory, no extension)");
        for line in [
            "MIIJQgIBADANBgkqhkiG9w0BAQEFAASCCSwwggkoAgEAAoICAQ",
            "n//8Ps3T9hGkQz1l+oWq2r7yV//0aBcDeFgHiJkLmNoPqRsTu",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "AGE-SECRET-KEY-1QQPQZF8W9HLCE4Z7D2L3Y",
            "JBSWY3DPEHPK3PXP4GQ2",
        ] {
            assert_eq!(reads(line).as_deref(), token, "{line}");
        }
        assert!(reads(&"a".repeat(5000)).is_some_and(|w| w.starts_with("is 5000 bytes")));
        for path in [
            "keys/prod-key.pem",
            "./x",
            "/etc/sealed-secrets/controller.key",
            "k8s/overlays/production/sealing-certificate.pem",
            "deploy/environments/production/controller/sealingcert",
            "/home/ci/builds/Project1/k8s/overlays/prod/sealing-cert.pem",
            "PaymentsService-Production-Secrets-v2.env",
            "env=prod/db.env",
            "short-name",
        ] {
            assert_eq!(reads(path), None, "{path}");
        }
        // A path that names a file is one, whatever it looks like.
        let d = tempfile::tempdir().unwrap();
        let named = d.path().join("KEY=value");
        crate::fsio::atomic_write(&named, b"").unwrap();
        assert_eq!(content_not_path(named.as_os_str()), None);
    }

    #[test]
    fn path_args_are_never_blank() {
        let blank = |s: &str| non_blank(s.into());
        assert_eq!(blank(" a b "), Ok(PathBuf::from(" a b ")));
        assert!(blank("").is_err() && blank(" \t").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let latin1 = std::ffi::OsString::from_vec(b"caf\xe9.env".to_vec());
            assert_eq!(non_blank(latin1.clone()), Ok(PathBuf::from(latin1)));
        }
    }

    #[test]
    fn env_bool_takes_ci_idioms_only() {
        for t in ["1", "true", "TRUE", "Yes", "yes", " true "] {
            assert_eq!(env_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "false", "False", "NO", "no"] {
            assert_eq!(env_bool(f), Ok(false), "{f}");
        }
        for bad in ["", " ", "2", "on", "y", "nope"] {
            assert!(env_bool(bad).is_err(), "{bad:?}");
        }
    }

    fn parse(a: &[&str]) -> Result<(GlobalArgs, Option<Command>), clap::Error> {
        Cli::try_parse_from(a).map(Cli::into_parts)
    }

    #[test]
    fn shorthand_is_seal() {
        for argv in [
            &["emp-seal", "paper", "--from", "x.env"][..],
            &["emp-seal", "seal", "paper", "--from", "x.env"],
            &["emp-seal", "-C", "repo", "paper", "--from", "x.env"],
            &["emp-seal", "--from", "x.env", "paper"],
        ] {
            let (_, c) = parse(argv).unwrap();
            let Some(Command::Seal(a)) = c else {
                panic!("{argv:?}: {c:?}")
            };
            assert_eq!(a.envs, ["paper"], "{argv:?}");
            assert_eq!(a.from, PathBuf::from("x.env"), "{argv:?}");
        }
        let (g, c) = parse(&["emp-seal", "-C", "repo", "check"]).unwrap();
        assert!(matches!(c, Some(Command::Check(_))), "{c:?}");
        assert_eq!(g.repo, Some(PathBuf::from("repo")));
    }

    #[test]
    fn mistyped_command_gets_clap_suggestion() {
        let e = parse(&["emp-seal", "chek"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSubcommand);
        let text = e.render().to_string();
        assert!(
            text.contains("unrecognized subcommand 'chek'")
                && text.contains("a similar subcommand exists: 'check'"),
            "{text}"
        );
        // An environment whose name resembles a command is refused with the way to seal it.
        let e = parse(&["emp-seal", "release", "--from", "x.env"]).unwrap_err();
        let text = e.render().to_string();
        assert!(
            text.contains("a similar subcommand exists: 'reseal'")
                && text.contains("if 'release' is an environment, use 'emp-seal seal release'"),
            "{text}"
        );
        // `seal ENV` always means the environment, however it is spelt.
        let (_, c) = parse(&["emp-seal", "seal", "chek", "--from", "x"]).unwrap();
        assert!(matches!(c, Some(Command::Seal(a)) if a.envs == ["chek"]));
    }

    #[test]
    fn shorthand_and_subcommand_conflict() {
        let e = parse(&["emp-seal", "paper", "--from", "x", "check"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{e}");
    }
}
