//! `check --render`: builds overlays with the real kustomize (`kubectl kustomize DIR`, or
//! `kustomize build DIR`) and reduces each render to what the model is compared on (object
//! kinds, names, namespaces, `SealedSecret` scope annotations, Secret and `SealedSecret` key
//! names, and every name reference), so that the rules `render-failed` and `model-divergence`
//! can judge the model against it.
//!
//! Owns finding the tool, running it as a child process (no shell), the temporary copy of the
//! tree in which an absent env file's `.example` stands in for it, and parsing the render with
//! `yaml_serde`. Must not print, keep or pass on secret values: a render of a generator reading a
//! real env file holds plaintext Secrets, so the tool's stdout lives in a zeroizing buffer, every
//! string of a Secret document is zeroized once its key names are taken, and only names and
//! keys leave this module. The tool's stderr reaches findings only as far as it is made of known
//! kustomize phrases, their quoted content hidden (`render/message.rs`); it is never logged.
//! Real env files are never copied into the temporary tree. (Zeroizing covers the buffers this module owns; the pipe reader's and the
//! YAML parser's transient allocations are freed without it.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rayon::prelude::*;
use serde::Deserialize;
use yaml_serde::Value;
use zeroize::{Zeroize, Zeroizing};

use crate::envfile;
use crate::fsio;
use crate::kustomize::{self, Overlay, Seg};
use crate::workspace::{path_str, rel};

mod message;

/// Largest render read from the tool.
const MAX_RENDER_BYTES: usize = 64 * 1024 * 1024;

/// Longest stretch of the tool's stderr quoted in a finding.
const MAX_MESSAGE_CHARS: usize = 1500;

/// The annotation keys that set a `SealedSecret`'s scope (sealed-secrets
/// `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go`).
pub const SCOPE_ANNOTATIONS: [&str; 2] = [
    "sealedsecrets.bitnami.com/namespace-wide",
    "sealedsecrets.bitnami.com/cluster-wide",
];

/// `--render`: whether `check` builds the overlays with the real kustomize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RenderMode {
    /// On under `--release` when `kubectl` or `kustomize` is on PATH; off otherwise.
    #[default]
    Auto,
    /// Always; a missing tool is an error (exit 2).
    Always,
    Never,
}

/// Errors that stop a rendering check before any rule runs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("--render=always: neither `kubectl` nor `kustomize` is on PATH")]
    NoTool,
}

impl RenderError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            RenderError::NoTool => Some(
                "install kubectl (its `kubectl kustomize`) or kustomize, or pass --render=never to check against the model only",
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tool {
    program: PathBuf,
    /// True for `kubectl kustomize DIR`, false for `kustomize build DIR`.
    kubectl: bool,
}

impl Tool {
    /// `kubectl` on PATH, else `kustomize` (kubectl first: the k8s/ README deploys with it).
    pub fn find() -> Option<Tool> {
        let path = std::env::var_os("PATH")?;
        let on_path = |name: &str| {
            std::env::split_paths(&path)
                .filter(|d| !d.as_os_str().is_empty())
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        };
        let (program, kubectl) = on_path("kubectl")
            .map(|p| (p, true))
            .or_else(|| on_path("kustomize").map(|p| (p, false)))?;
        Some(Tool { program, kubectl })
    }

    /// How findings name the command: `kubectl kustomize` or `kustomize build`.
    pub fn name(&self) -> &'static str {
        if self.kubectl {
            "kubectl kustomize"
        } else {
            "kustomize build"
        }
    }

    /// [`Tool::name`], with the flag that lifts the load restrictor when `unrestricted` (an
    /// overlay built without one: Flux).
    fn name_with(&self, unrestricted: bool) -> &'static str {
        match (self.kubectl, unrestricted) {
            (true, true) => "kubectl kustomize --load-restrictor LoadRestrictionsNone",
            (false, true) => "kustomize build --load-restrictor LoadRestrictionsNone",
            (_, false) => self.name(),
        }
    }

    /// The command rendering `dir`; `unrestricted` lifts kustomize's load restrictor (for an
    /// overlay Flux builds, and for the temporary kustomization listing a directory's files,
    /// see [`run_deployed`]).
    fn command(&self, dir: &Path, unrestricted: bool) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.arg(if self.kubectl { "kustomize" } else { "build" })
            .arg(dir);
        if unrestricted {
            cmd.args(["--load-restrictor", "LoadRestrictionsNone"]);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

/// A name reference as the real render has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedRef {
    pub target_kind: String,
    /// Path of the name scalar in the object.
    pub path: Vec<Seg>,
    pub name: String,
    /// `key` / `items[].key` read through the reference.
    pub keys: Vec<String>,
}

/// One object of a render, reduced to what the model is compared on. Never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedObject {
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// The top-level scope annotations ([`SCOPE_ANNOTATIONS`]) and their values.
    pub scope: BTreeMap<String, String>,
    /// Key names: a Secret's `data` and `stringData`, a `SealedSecret`'s `spec.encryptedData`.
    pub keys: Option<BTreeSet<String>>,
    /// Every name reference in the object.
    pub refs: Vec<RenderedRef>,
}

/// Why an overlay has no render: each a message, redacted (never the tool's stdout).
#[derive(Debug, Clone)]
pub enum NotRendered {
    /// The tool failed, or what it renders could not be prepared or read.
    Failed(String),
    /// The tool was not run, and why (`run_deployed`).
    NotRun(String),
}

impl From<String> for NotRendered {
    fn from(message: String) -> NotRendered {
        NotRendered::Failed(message)
    }
}

impl NotRendered {
    /// The same outcome with its message passed through `f`.
    fn map(self, f: impl FnOnce(&str) -> String) -> NotRendered {
        match self {
            NotRendered::Failed(m) => NotRendered::Failed(f(&m)),
            NotRendered::NotRun(m) => NotRendered::NotRun(f(&m)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RenderedOverlay {
    pub overlay: String,
    /// Repo-relative path of the overlay's kustomization file.
    pub kustomization: String,
    /// `kubectl kustomize` or `kustomize build`.
    pub tool: &'static str,
    /// How a user runs the same render (what `render-failed`'s hint names): the command, with
    /// `--load-restrictor LoadRestrictionsNone` when the render lifted the restrictor (an
    /// overlay only Flux deploys, a directory without a kustomization file), on the overlay's
    /// directory, or for a directory without a kustomization file, on a kustomization listing
    /// its files as the tool deploying it generates one (see `run_deployed`).
    pub command: String,
    /// Repo-relative env files whose `.example` stood in for them (they are absent here).
    pub stand_ins: Vec<String>,
    /// The objects, or why the overlay did not render (redacted; never the tool's stdout).
    pub outcome: Result<Vec<RenderedObject>, NotRendered>,
    /// For the render of a variant of the overlay (a kustomization wrapping it, such as
    /// `k8s/no-keda/dev`): its repo-relative directory. Variants come after the overlay itself.
    pub variant: Option<String>,
    /// The line of `kustomization` findings about the render point at: 1, or for a directory
    /// without a kustomization file, the line of the deploying object's `path` (`kustomization`
    /// is then that object's file).
    pub line: usize,
}

/// Renders the overlays `check` reports on (all of `overlays`, environment name and model, or
/// only `release`'s) when `mode` asks for it:
/// `Always`, or `Auto` under `--release`. Returns the renders and, when `Auto` found no tool, a
/// note saying the model went unverified.
///
/// # Errors
/// [`RenderError::NoTool`] under `Always` without `kubectl` or `kustomize` on PATH.
pub fn render_checked(
    root: &Path,
    overlays: &[(&str, &Overlay)],
    variants: &[Variant<'_>],
    release: Option<&str>,
    mode: RenderMode,
) -> Result<(Vec<RenderedOverlay>, Option<String>), RenderError> {
    let wanted = match mode {
        RenderMode::Never => false,
        RenderMode::Always => true,
        RenderMode::Auto => release.is_some(),
    };
    if !wanted {
        return Ok((Vec::new(), None));
    }
    let Some(tool) = Tool::find() else {
        if mode == RenderMode::Always {
            return Err(RenderError::NoTool);
        }
        return Ok((
            Vec::new(),
            Some("--render=auto: neither kubectl nor kustomize is on PATH, so the overlay was checked against emp-seal's model only, not against a real render".to_owned()),
        ));
    };
    let all_env_files: BTreeSet<String> =
        overlays.iter().flat_map(|(_, o)| o.env_files()).collect();
    let checked = |env: &str| release.is_none_or(|r| r == env);
    let mut renders: Vec<RenderedOverlay> = (overlays.par_iter())
        .filter(|(name, _)| checked(name))
        .map(|(_, o)| render_overlay(&tool, root, o, &all_env_files))
        .collect();
    // `check` covers what a user deploys from `k8s/no-keda/dev` as well as `k8s/overlays/dev`.
    renders.par_extend(
        variants
            .par_iter()
            .filter(|v| checked(v.env))
            .map(|v| RenderedOverlay {
                overlay: v.env.to_owned(),
                variant: Some(v.dir.to_owned()),
                ..render_overlay(&tool, root, v.model, &all_env_files)
            }),
    );
    Ok((renders, None))
}

/// A variant of an environment (a kustomization wrapping its overlay, such as
/// `k8s/no-keda/dev`): the environment's name, the variant's repo-relative directory and its
/// model, as `check` loaded them.
pub struct Variant<'a> {
    pub env: &'a str,
    pub dir: &'a str,
    pub model: &'a Overlay,
}

/// Renders one overlay. `all_env_files` holds the env files of every overlay's generators
/// (repo-relative), none of which is copied into a temporary tree.
pub fn render_overlay(
    tool: &Tool,
    root: &Path,
    overlay: &Overlay,
    all_env_files: &BTreeSet<String>,
) -> RenderedOverlay {
    let (kustomization, line) = match overlay.generated_entries() {
        Some((_, at)) => (root.join(&at.file), at.line),
        None => (
            crate::workspace::kustomization_file(&overlay.dir)
                .unwrap_or_else(|| overlay.dir.join("kustomization.yaml")),
            1,
        ),
    };
    let envs = overlay.env_files();
    // The fields the objects deploying the overlay set in its own kustomization: set in a copy's.
    let fields = overlay.deployed_fields();
    let in_place = !fields.is_empty() && overlay.generated_entries().is_none();
    // Or an env file is absent but its `.example` is not: render a copy in which it stands in.
    let copy = in_place
        || envs
            .iter()
            .any(|e| !root.join(e).is_file() && root.join(format!("{e}.example")).is_file());
    let (stand_ins, outcome) = if copy {
        let stand_ins = envs
            .iter()
            .filter(|e| root.join(format!("{e}.example")).is_file())
            .cloned()
            .collect();
        let outcome = make_copy(root, overlay, &envs, all_env_files)
            .map_err(NotRendered::Failed)
            .and_then(|(tmp, at)| {
                // The root's image in the copy (below it when the copy is taken from above it).
                let copied_root = tmp.path().join(at);
                let dir = copied_root.join(rel(root, &overlay.dir));
                if in_place {
                    set_fields(&dir, &fields).map_err(NotRendered::Failed)?;
                }
                run_deployed(tool, overlay, &dir, &copied_root, &BTreeSet::new())
                    .map_err(|e| e.map(|m| m.replace(&tmp.path().display().to_string(), "<copy>")))
            });
        (stand_ins, outcome)
    } else {
        (
            Vec::new(),
            run_deployed(tool, overlay, &overlay.dir, root, &envs),
        )
    };
    RenderedOverlay {
        overlay: overlay.name.clone(),
        kustomization: rel(root, &kustomization),
        tool: tool.name_with(overlay.unrestricted()),
        command: command_run(tool, root, overlay),
        stand_ins,
        outcome,
        variant: None,
        line,
    }
}

/// [`RenderedOverlay::command`]: what [`run_deployed`] runs for `overlay`, as a user runs it.
fn command_run(tool: &Tool, root: &Path, overlay: &Overlay) -> String {
    let dir = rel(root, &overlay.dir);
    let listed = overlay.generated_entries().is_some();
    let name = tool.name_with(overlay.unrestricted() || listed);
    if listed {
        format!("`{name} DIR`, DIR holding a kustomization that lists the files of {dir}")
    } else if !overlay.deployed_fields().is_empty() {
        format!("`{name} {dir}`, with the deploy-time options set in its kustomization")
    } else {
        format!("`{name} {dir}`")
    }
}

/// The temporary copy: every file under [`copy_base`] except real env files and every env
/// file a generator reads, then each of `envs` as its `.example`; with the root's path in it
/// (`""` unless the copy is taken from a repository top above the root).
fn make_copy(
    root: &Path,
    overlay: &Overlay,
    envs: &BTreeSet<String>,
    all_env_files: &BTreeSet<String>,
) -> Result<(tempfile::TempDir, String), String> {
    let Some(plan) = copy_base(root, overlay, envs) else {
        let bound = if overlay.unrestricted() {
            "outside the repository (its git top level), which the Flux Kustomizations deploying it load nothing outside of"
        } else {
            "outside the root"
        };
        return Err(format!(
            "the render needs a temporary copy (an env file is absent, or the options deploying the overlay are set in the copy's kustomization) and the overlay reads files {bound}, so none can be made"
        ));
    };
    for e in envs {
        if root.join(e).is_file() && !root.join(format!("{e}.example")).is_file() {
            return Err(format!(
                "{e} has no .example to stand in for it in the temporary copy the render needs (another env file of the overlay is absent, or the options deploying it are set in the copy's kustomization), and real env files are never copied"
            ));
        }
    }
    let failed = |e: fsio::FsError| format!("cannot make a temporary copy: {e}");
    let tmp = fsio::temp_dir().map_err(failed)?;
    let mut files = BTreeSet::new();
    crate::workspace::list_files(&plan.bound, &plan.base, &|n| n == ".git", &mut files);
    let env_files: BTreeSet<String> = (all_env_files.iter())
        .filter_map(|e| plan.in_bound(e))
        .collect();
    // A `.git` file (a worktree's link) is not copied either.
    for f in files.iter().filter(|f| {
        f.rsplit('/').next() != Some(".git")
            && !envfile::is_real_env_file(f)
            && !env_files.contains(*f)
    }) {
        fsio::copy_file(&plan.bound.join(f), &tmp.path().join(f)).map_err(failed)?;
    }
    for e in envs {
        let example = root.join(format!("{e}.example"));
        if let (true, Some(to)) = (example.is_file(), plan.in_bound(e)) {
            fsio::copy_file(&example, &tmp.path().join(to)).map_err(failed)?;
        }
    }
    Ok((tmp, plan.root_in))
}

/// What the temporary copy is taken from ([`copy_base`]).
#[derive(Debug, PartialEq, Eq)]
struct CopyPlan {
    /// The overlay's load bound ([`Overlay::load_bound`]): the root, or for an overlay only
    /// Flux deploys the repository's top level, which may be above the root.
    bound: PathBuf,
    /// The directory to copy, relative to `bound`.
    base: String,
    /// The root, relative to `bound` (`""` when it is the bound).
    root_in: String,
}

impl CopyPlan {
    /// The root-relative path `p` relative to the bound, lexically; `None` when it is outside.
    fn in_bound(&self, p: &str) -> Option<String> {
        let joined = path_str(&Path::new(&self.root_in).join(p));
        let outside = joined.starts_with('/') || joined.starts_with("../") || joined == "..";
        (!outside).then_some(joined)
    }
}

/// The directory to copy: the overlay's directory, widened to the common ancestor of every
/// file the model says the overlay reads ([`Overlay::files`]: a patch with no reference in a
/// sibling directory, or an env file above the root, which an overlay Flux builds with no load
/// restrictor may read, too), within the overlay's load bound (the bound the model refuses
/// files outside of for an overlay only Flux deploys). `None` when one of them is outside it.
fn copy_base(root: &Path, overlay: &Overlay, envs: &BTreeSet<String>) -> Option<CopyPlan> {
    let bound = overlay.load_bound(root);
    let root_in = if bound == root {
        String::new()
    } else {
        path_str(root.strip_prefix(path_str(bound)).ok()?)
    };
    let mut plan = CopyPlan {
        bound: PathBuf::from(path_str(bound)),
        base: String::new(),
        root_in,
    };
    let mut paths = vec![format!("{}/x", rel(root, &overlay.dir))];
    paths.extend(overlay.files().into_iter().map(path_str));
    paths.extend(envs.iter().cloned());
    let paths: Vec<String> = (paths.iter())
        .map(|p| plan.in_bound(p))
        .collect::<Option<_>>()?;
    // Each path's directory, as components; the first is the overlay's own.
    let mut dirs = paths.iter().map(|p| {
        let mut parts: Vec<&str> = p.split('/').collect();
        parts.pop();
        parts
    });
    let mut common = dirs.next()?;
    for d in dirs {
        let n = common.iter().zip(&d).take_while(|(a, b)| a == b).count();
        common.truncate(n);
    }
    plan.base = common.join("/");
    Some(plan)
}

/// Renders `dir` (the overlay, or its temporary copy) as the objects deploying `overlay` build
/// and apply it, when the model replays their sync-time options: the kustomization fields they
/// set (`namespace`, `namePrefix`, `nameSuffix`), already written into the copy's kustomization
/// ([`set_fields`]), or for a directory without a kustomization file, into the temporary one
/// listing its files ([`wrapper`]); and Argo CD's destination namespace laid on the rendered
/// namespaced objects without one (argo-cd `controller/state.go`, `DeduplicateTargetObjects`).
/// `root` and `envs` as for [`run_tool`].
fn run_deployed(
    tool: &Tool,
    overlay: &Overlay,
    dir: &Path,
    root: &Path,
    envs: &BTreeSet<String>,
) -> Result<Vec<RenderedObject>, NotRendered> {
    // Flux builds with no load restrictor within the repository (`Overlay::unrestricted`);
    // kustomize has no such bound, so an overlay reading a file outside the repository, which
    // Flux refuses, is not rendered: the render would load it.
    if let Some(p) = overlay.outside_source() {
        return Err(NotRendered::NotRun(format!(
            "{}: {}, and `{}` has no such bound and would load it, so its render cannot stand for Flux's",
            p.origin,
            p.message,
            tool.name_with(overlay.unrestricted())
        )));
    }
    let mut objects = match overlay.generated_entries() {
        None => run_tool(tool, dir, (root, envs), None, overlay.unrestricted())?,
        Some((entries, _)) => {
            // A directory without a kustomization file: the temporary kustomization lists its
            // files as the tool's generated one does; kustomize's load restrictor would refuse
            // files outside the temporary directory, so it is lifted for this render.
            // kustomize's messages name those files by the wrapper's relative path, shown as
            // the directory's.
            let (wrapper, path) = wrapper(dir, entries, &overlay.deployed_fields())?;
            let restore = Some((path.as_str(), dir));
            run_tool(tool, wrapper.path(), (root, envs), restore, true)
                .map_err(|m| m.replace(&wrapper.path().display().to_string(), "<wrapper>"))?
        }
    };
    if let Some(ns) = overlay.destination() {
        objects
            .iter_mut()
            .filter(|o| kustomize::lands_in_destination(&o.kind, o.namespace.as_deref()))
            .for_each(|o| o.namespace = Some(ns.to_owned()));
    }
    Ok(objects)
}

/// Sets `fields` in the kustomization of `dir` (the overlay in its temporary copy), over its
/// own values, as the objects deploying it do before building: Argo CD runs `kustomize edit
/// set namespace`, `nameprefix` and `namesuffix` (argo-cd `util/kustomize/kustomize.go`,
/// `Build`), Flux writes `targetNamespace`, `namePrefix` and `nameSuffix` into the file
/// (fluxcd/pkg `kustomize/kustomize_generator.go`, `WriteFile`); both re-serialize it. Setting
/// them in a kustomization wrapping the overlay instead would add a prefix to the overlay's own.
fn set_fields(dir: &Path, fields: &[(&str, &str)]) -> Result<(), String> {
    let failed = |e: String| {
        format!("cannot set the deploy-time options in the temporary copy's kustomization: {e}")
    };
    let file = crate::workspace::kustomization_file(dir)
        .ok_or_else(|| failed("it has no kustomization file".to_owned()))?;
    let text = fsio::read_to_string_limited(&file, crate::workspace::MAX_FILE_BYTES)
        .map_err(|e| failed(e.to_string()))?;
    let Ok(Value::Mapping(k)) = yaml_serde::from_str::<Value>(&text) else {
        return Err(failed("it is not one YAML mapping".to_owned()));
    };
    write_kustomization(&file, k, fields, true).map_err(failed)
}

/// Writes the kustomization `k` to `file` (over an existing one when `replace`), with `fields`
/// set over its own values.
fn write_kustomization(
    file: &Path,
    mut k: yaml_serde::Mapping,
    fields: &[(&str, &str)],
    replace: bool,
) -> Result<(), String> {
    for (field, value) in fields {
        k.insert(Value::from(*field), Value::from(*value));
    }
    // Written as JSON (which is YAML), every string quoted: YAML output would leave a string
    // like `yes` or `1_000` plain, which kustomize, reading YAML 1.1, takes for another type.
    // The tools deploying it quote them too (go-yaml v2 `encode.go`).
    let text = serde_json::to_string(&Value::Mapping(k)).map_err(|e| e.to_string())?;
    fsio::write_private(file, text.as_bytes(), replace).map_err(|e| e.to_string())
}

/// A temporary directory holding a kustomization that lists the `entries` under `dir` by a
/// relative path (kustomize refuses an absolute one) and sets `fields`, as the tool deploying a
/// directory without a kustomization file generates one; with the relative path.
fn wrapper(
    dir: &Path,
    entries: &[String],
    fields: &[(&str, &str)],
) -> Result<(tempfile::TempDir, String), String> {
    let failed = |e: String| {
        format!("cannot make the temporary kustomization that lists the directory's files: {e}")
    };
    let tmp = fsio::temp_dir().map_err(|e| failed(e.to_string()))?;
    let from = std::fs::canonicalize(tmp.path()).map_err(|e| failed(e.to_string()))?;
    let to = std::fs::canonicalize(dir).map_err(|e| failed(e.to_string()))?;
    let up = from.components().count().saturating_sub(1);
    if from.components().next() != to.components().next() {
        return Err(failed("the overlay is on another drive".to_owned()));
    }
    let path = format!(
        "{}{}",
        "../".repeat(up),
        path_str(to.strip_prefix("/").unwrap_or(&to))
    );
    let resources = entries
        .iter()
        .map(|e| match e.trim_start_matches("./") {
            "" | "." => Value::from(path.as_str()),
            e => Value::from(format!("{path}/{e}")),
        })
        .collect();
    let mut k = yaml_serde::Mapping::new();
    k.insert("resources".into(), Value::Sequence(resources));
    write_kustomization(&tmp.path().join("kustomization.yaml"), k, fields, false)
        .map_err(failed)?;
    Ok((tmp, path))
}

/// Runs the tool on `dir` and reduces its output. `envs` (repo-relative to `root`) are the env
/// files the render reads in place, whose values are redacted from the tool's stderr. With
/// `restore` (a relative path and the directory it leads to), the path is shown as the
/// directory in the tool's messages. `unrestricted` lifts the load restrictor.
fn run_tool(
    tool: &Tool,
    dir: &Path,
    (root, envs): (&Path, &BTreeSet<String>),
    restore: Option<(&str, &Path)>,
    unrestricted: bool,
) -> Result<Vec<RenderedObject>, String> {
    let output = tool
        .command(dir, unrestricted)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tool.name()))?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if let Some((path, to)) = restore {
            stderr = stderr.replace(path, &to.display().to_string());
        }
        let said = redact(&stderr, root, envs);
        // A tool killed by a signal (a crash, the OOM killer) may say nothing.
        let signal = std::os::unix::process::ExitStatusExt::signal(&output.status);
        return Err(match (said.trim().is_empty(), signal) {
            (true, Some(signal)) => format!("{} was killed by signal {signal}", tool.name()),
            (true, None) => format!(
                "{} exited with {} and said nothing",
                tool.name(),
                output.status
            ),
            (false, _) => said,
        });
    }
    if stdout.len() > MAX_RENDER_BYTES {
        return Err(format!(
            "the render is larger than {} MiB",
            MAX_RENDER_BYTES / 1024 / 1024
        ));
    }
    parse_render(&stdout)
}

/// The tool's stderr as a finding may show it: kustomize's message, the repository's path cut,
/// read as known phrases whose quoted content is hidden ([`message::shown`]: an allowlist, so
/// what is not known is not shown). Then, as a second guard on the paths and key names that are
/// shown, every value of the env files the render read is hidden too. The files are split
/// leniently (the render may have failed because kustomize refused one): every value after the
/// first `=`, every key that is not a valid Secret key, and every line without `=` counts as a
/// value. A file that is not UTF-8 cannot be matched against kustomize's escaped quoting of it,
/// so the message is then withheld.
fn redact(stderr: &str, root: &Path, envs: &BTreeSet<String>) -> String {
    let mut text =
        message::shown(&tool_message(stderr).replace(&format!("{}/", root.display()), ""));
    for e in envs {
        let Ok(bytes) = fsio::read_limited(&root.join(e), crate::workspace::MAX_FILE_BYTES) else {
            continue;
        };
        let bytes = Zeroizing::new(bytes);
        let Ok(file) = std::str::from_utf8(&bytes) else {
            return format!(
                "the tool failed, and {e} is not UTF-8, so its message (which may quote the file) is withheld"
            );
        };
        for line in file.lines() {
            let line = line.trim_start().trim_end_matches('\r');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let secrets: Vec<&str> = match line.split_once('=') {
                Some((key, value)) if envfile::validate_key(key).is_ok() => vec![value],
                Some((key, value)) => vec![key, value],
                None => vec![line],
            };
            for secret in secrets.into_iter().map(str::trim) {
                if secret.len() >= 3 && text.contains(secret) {
                    text = hide(&text, secret);
                }
            }
        }
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        let cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
        text = format!("{cut} [...]");
    }
    text.replace('\n', " | ")
}

/// `text` with `secret` hidden everywhere but inside the markers already there: a value that is
/// part of the marker's own words (`content`, `shown`) is hidden in the tool's text all the same.
fn hide(text: &str, secret: &str) -> String {
    (text.split(message::NOT_SHOWN))
        .map(|part| part.replace(secret, message::NOT_SHOWN))
        .collect::<Vec<_>>()
        .join(message::NOT_SHOWN)
}

/// The error text of the tool's stderr: kubectl logs it as `E... run.go:NN] "command failed"
/// err="<message>"` (klog), or for a message of several lines as `err=<`, the lines indented
/// by a tab, then ` >` (k8s.io/klog/v2 internal/serialize/keyvalues.go, `writeStringValue`);
/// standalone kustomize as `Error: <message>`.
fn tool_message(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if let Some((_, rest)) = trimmed.split_once(" err=\"")
        && let Some(inner) = rest.strip_suffix('"')
    {
        return inner.replace("\\\"", "\"");
    }
    if let Some((_, rest)) = trimmed.split_once(" err=<\n")
        && let Some(inner) = rest.strip_suffix('>')
    {
        let lines: Vec<&str> = inner
            .lines()
            .map(|l| l.strip_prefix('\t').unwrap_or(l).trim_end())
            .filter(|l| !l.is_empty())
            .collect();
        return lines.join("\n");
    }
    trimmed
        .strip_prefix("Error: ")
        .unwrap_or(trimmed)
        .to_owned()
}

/// Parses the render (any number of YAML documents) and reduces every object.
fn parse_render(stdout: &[u8]) -> Result<Vec<RenderedObject>, String> {
    let mut out = Vec::new();
    for de in yaml_serde::Deserializer::from_slice(stdout) {
        let doc = Option::<Value>::deserialize(de).map_err(|e| {
            // The error's position only: its text could quote the document.
            let text = std::str::from_utf8(stdout).unwrap_or_default();
            let (line, column) = crate::yamlpos::error_position(text, &e).unwrap_or((0, 0));
            format!("the render does not parse as YAML at line {line}, column {column}")
        })?;
        let Some(mut value) = doc else { continue };
        if value.is_null() {
            continue;
        }
        let reduced = reduce(&value);
        if reduced.kind == "Secret" {
            scrub(&mut value);
        }
        drop(value);
        out.push(reduced);
    }
    Ok(out)
}

fn reduce(value: &Value) -> RenderedObject {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let api_version = s(value.get("apiVersion")).unwrap_or_default();
    let kind = s(value.get("kind")).unwrap_or_default();
    let meta = value.get("metadata");
    let annotations = meta.and_then(|m| m.get("annotations"));
    let scope = SCOPE_ANNOTATIONS
        .iter()
        .filter_map(|k| Some(((*k).to_owned(), scalar(annotations?.get(k)?))))
        .collect();
    let keys = crate::kustomize::secret_key_names(&kind, value);
    let refs = kustomize::extract_refs(&kind, &api_version, value, false)
        .into_iter()
        .map(|r| RenderedRef {
            target_kind: r.target_kind.to_owned(),
            path: r.path,
            name: r.name,
            keys: r.keys.into_iter().map(|(k, _)| k).collect(),
        })
        .collect();
    RenderedObject {
        name: s(meta.and_then(|m| m.get("name"))).unwrap_or_default(),
        namespace: s(meta.and_then(|m| m.get("namespace"))),
        kind,
        scope,
        keys,
        refs,
    }
}

/// A scalar annotation value as text (`"true"`, `true` and `1` stay distinguishable).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => format!("{b} (a YAML boolean)"),
        Value::Number(n) => format!("{n} (a YAML number)"),
        Value::Null => "null".to_owned(),
        _ => "(not a scalar)".to_owned(),
    }
}

/// Zeroizes every string in a value (a Secret's document, before it is dropped).
fn scrub(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Sequence(seq) => seq.iter_mut().for_each(scrub),
        Value::Mapping(m) => m.values_mut().for_each(scrub),
        Value::Tagged(t) => scrub(&mut t.value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_in_the_markers_own_words_is_hidden_in_the_tool_text() {
        let text = format!("path k8s/content/x {} y", message::NOT_SHOWN);
        let hidden = hide(&text, "content");
        assert_eq!(hidden, format!("path k8s/{0}/x {0} y", message::NOT_SHOWN));
    }
    use crate::workspace::write_fixture as put;

    #[test]
    fn a_render_is_reduced_to_names_and_keys() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: n\ndata:\n  A: eA==\nstringData:\n  B: x\n---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: ss\n  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"\n    other: y\nspec:\n  encryptedData:\n    K: AgB\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      serviceAccountName: sa\n      containers:\n        - name: c\n          envFrom:\n            - secretRef:\n                name: s\n";
        let objs = parse_render(text.as_bytes()).expect("parses");
        assert_eq!(objs.len(), 3);
        assert_eq!(objs[0].keys, Some(["A", "B"].map(str::to_owned).into()));
        assert_eq!(objs[0].namespace.as_deref(), Some("n"));
        assert_eq!(objs[1].keys, Some(["K".to_owned()].into()));
        assert_eq!(
            objs[1].scope.get("sealedsecrets.bitnami.com/cluster-wide"),
            Some(&"true".to_owned())
        );
        assert_eq!(objs[1].scope.len(), 1);
        let names: Vec<(&str, &str)> = objs[2]
            .refs
            .iter()
            .map(|r| (r.target_kind.as_str(), r.name.as_str()))
            .collect();
        assert_eq!(names, [("Secret", "s"), ("ServiceAccount", "sa")]);
    }

    #[test]
    fn kubectl_and_kustomize_messages_are_unwrapped() {
        let klog = "E1203 18:03:37.126821   21391 run.go:72] \"command failed\" err=\"accumulating resources: 'x.yaml': \\\"q\\\" gone\"\n";
        assert_eq!(
            tool_message(klog),
            "accumulating resources: 'x.yaml': \"q\" gone"
        );
        let multi = "E1204 22:07:16.600188   13033 run.go:72] \"command failed\" err=<\n\tFound multiple kustomization files under: /r/k\n\t: exit 1\n >\n";
        assert_eq!(
            tool_message(multi),
            "Found multiple kustomization files under: /r/k\n: exit 1"
        );
        assert_eq!(tool_message("Error: no such file\n"), "no such file");
        assert_eq!(tool_message("plain"), "plain");
    }

    #[test]
    fn a_parse_error_quotes_no_text() {
        let err = parse_render(b"a: b\n---\nkey: [unclosed SENTINEL-VALUE\n").expect_err("bad");
        assert!(!err.contains("SENTINEL"), "{err}");
        assert!(err.contains("line"), "{err}");
    }

    /// Two overlays, `dev` and `prod`, each with a generator reading `<env>.env` and
    /// `creds.txt`; only prod's real env file exists, and dev's `resources:` reach `k8s/shared`
    /// (so dev's copy widens to `k8s/`, where prod's real env file and a `k8s/.env` also are).
    fn two_overlays(root: &Path) {
        for env in ["dev", "prod"] {
            put(
                root,
                &format!("k8s/overlays/{env}/kustomization.yaml"),
                &format!(
                    "secretGenerator:\n  - name: s\n    envs:\n      - {env}.env\n    files:\n      - creds.txt\n"
                ),
            );
            put(
                root,
                &format!("k8s/overlays/{env}/{env}.env.example"),
                "A=example\n",
            );
        }
        put(root, "k8s/overlays/prod/prod.env", "A=SENTINEL-real\n");
        put(root, "k8s/overlays/dev/creds.txt", "not an env file\n");
        // dev reads a file outside its directory: the copy widens to k8s/, where prod's real
        // env file also is.
        let dev_kust = std::fs::read_to_string(root.join("k8s/overlays/dev/kustomization.yaml"))
            .expect("read");
        put(
            root,
            "k8s/overlays/dev/kustomization.yaml",
            &format!("resources:\n  - ../../shared\n{dev_kust}"),
        );
        put(
            root,
            "k8s/shared/kustomization.yaml",
            "resources:\n  - cm.yaml\n",
        );
        put(
            root,
            "k8s/shared/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        );
        put(root, "k8s/.env", "B=SENTINEL-dotenv\n");
    }

    #[test]
    fn the_copy_holds_examples_and_never_a_real_env_file() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        two_overlays(root);
        let dev = Overlay::load(root, "dev").expect("loads");
        let prod = Overlay::load(root, "prod").expect("loads");
        let mut all = dev.env_files();
        all.extend(prod.env_files());
        let envs = dev.env_files();
        assert_eq!(envs, ["k8s/overlays/dev/dev.env".to_owned()].into());
        let (copy, at) = make_copy(root, &dev, &envs, &all).expect("copy");
        assert_eq!(at, "");
        let mut files = BTreeSet::new();
        crate::workspace::list_files(copy.path(), "", &|n| n == ".git", &mut files);
        let want: BTreeSet<String> = [
            "k8s/overlays/dev/creds.txt",
            "k8s/overlays/dev/dev.env",
            "k8s/overlays/dev/dev.env.example",
            "k8s/overlays/dev/kustomization.yaml",
            "k8s/overlays/prod/kustomization.yaml",
            "k8s/overlays/prod/prod.env.example",
            "k8s/shared/cm.yaml",
            "k8s/shared/kustomization.yaml",
        ]
        .map(str::to_owned)
        .into();
        assert_eq!(files, want);
        let stood_in =
            std::fs::read_to_string(copy.path().join("k8s/overlays/dev/dev.env")).expect("read");
        assert_eq!(stood_in, "A=example\n");
        assert!(
            !root.join("k8s/overlays/dev/dev.env").exists(),
            "the tree is untouched"
        );
    }

    #[test]
    fn no_copy_when_a_present_env_file_lacks_its_example() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        two_overlays(root);
        // prod's own env file is present but another is absent: nothing real is copied.
        put(
            root,
            "k8s/overlays/prod/kustomization.yaml",
            "secretGenerator:\n  - name: s\n    envs:\n      - prod.env\n      - gone.env\n",
        );
        put(root, "k8s/overlays/prod/gone.env.example", "C=1\n");
        std::fs::remove_file(root.join("k8s/overlays/prod/prod.env.example")).expect("rm");
        let prod = Overlay::load(root, "prod").expect("loads");
        let envs = prod.env_files();
        let err = make_copy(root, &prod, &envs, &envs).expect_err("refused");
        assert!(err.contains("prod.env has no .example"), "{err}");
    }

    #[test]
    fn copy_base_is_the_overlay_or_wider() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        put(root, "k8s/overlays/x/kustomization.yaml", "resources: []\n");
        let o = Overlay::load(root, "x").expect("loads");
        assert_eq!(
            copy_base(root, &o, &BTreeSet::new())
                .map(|p| p.base)
                .as_deref(),
            Some("k8s/overlays/x")
        );
        let wide: BTreeSet<String> = ["deploy/x.env".to_owned()].into();
        let plan = copy_base(root, &o, &wide).map(|p| p.base);
        assert_eq!(plan.as_deref(), Some(""));
    }
}
