//! Flux `Kustomization`s whose `spec.path` holds a `${var}` expression (the `clusters/<env>`
//! layout: `path: ./apps/${cluster_env}`, the variable given by the `postBuild.substitute` of the
//! Kustomization that deploys `clusters/<env>`). Flux substitutes the variables of every object a
//! Kustomization renders after its build (fluxcd/pkg `kustomize/kustomize_varsub.go`,
//! `SubstituteVariables`), so the child's path is the parent's substitution of it. Here the
//! parents are the Flux Kustomizations of this repository whose path holds the child's file, and
//! the expression is evaluated as fluxcd/pkg `envsubst` does (`${var}`, `${var:=default}`,
//! `${var:-default}`, `${var=default}`, `${var-default}`; `$$` is an escaped `$`, and `$var`
//! without braces is left alone) where the variable is known offline: given by the parent's
//! `substitute` map, or by a `substituteFrom` ConfigMap of the repository ([`read_sources`]),
//! or a default when none gives it. The sources are read as fluxcd/pkg
//! `kustomize/kustomize_varsub.go` (`LoadVariables`) reads them: each `substituteFrom` entry in
//! order from the Kustomization's own namespace, a later one's keys over an earlier one's, then
//! `substitute` over all; newlines are dropped from the values; an `optional` entry the cluster
//! lacks is skipped, so one the repository does not render stays unknown all the same. A Secret's
//! values are not read (a SealedSecret's cannot be offline), nor a
//! ConfigMap the repository does not render beside the parent: a variable one of those may give
//! is not known. One level is read: a value holding an expression (`env: ${cluster}`,
//! substituted when the parent's own object is rendered by the Kustomization deploying it) is
//! not followed up. The same variables fill a child's `targetNamespace`, `namePrefix` and
//! `nameSuffix` ([`substitute_options`]). A child that opts out
//! (`kustomize.toolkit.fluxcd.io/substitute: disabled`) keeps its path and options as written:
//! discovery does not hand it here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use yaml_serde::Value;

use super::discover::KustDir;
use super::{DeployOption, is_flux};

/// The kustomization directories discovery read, by canonical path ([`super::discover::Scan`]).
type Kusts = BTreeMap<PathBuf, KustDir>;

use crate::kustomize::varsub::{self, Expression};

/// A Flux `Kustomization` with a literal path: what it deploys and the variables it gives.
#[derive(Debug, Clone)]
pub(super) struct Parent {
    /// The directory it deploys, repository-relative (`""` for the root).
    pub(super) dir: String,
    /// Its `postBuild.substitute` map.
    pub(super) substitute: BTreeMap<String, String>,
    /// Its `postBuild.substituteFrom` entries, in order.
    pub(super) substitute_from: Vec<Source>,
    /// Its `metadata.namespace` (where Flux reads the sources) and `spec.targetNamespace`.
    pub(super) namespace: Option<String>,
    pub(super) target: Option<String>,
    /// It renames what it renders (`spec.namePrefix`/`nameSuffix`) or applies it to another
    /// cluster (`spec.kubeConfig`): its renders answer no `substituteFrom` (fail closed).
    pub(super) opaque: bool,
    /// Its `GitRepository` source (name, namespace), to leave out another repository's.
    pub(super) source: Option<(String, String)>,
    /// Where it is, `file:line` of its `spec.path`.
    pub(super) at: String,
}

impl Parent {
    /// The parent the Flux `Kustomization` `v` is, with its literal `path` (`None` when the
    /// path holds an expression itself: its own parent's is not replayed twice).
    pub(super) fn of(
        v: &Value,
        path: &str,
        source: Option<(String, String)>,
        at: String,
    ) -> Option<Parent> {
        if path.contains('$') {
            return None;
        }
        let spec = v.get("spec");
        let post = spec.and_then(|s| s.get("postBuild"));
        let mut substitute = super::scalar_pairs(post.and_then(|p| p.get("substitute")));
        substitute
            .values_mut()
            .for_each(|v| *v = v.replace('\n', ""));
        let from = post.and_then(|p| p.get("substituteFrom"));
        let mut substitute_from: Vec<Source> = (from.and_then(Value::as_sequence).into_iter())
            .flatten()
            .map(Source::of)
            .collect();
        // One not understood (not a list) may name anything.
        if from.is_some_and(|f| !f.is_null() && !f.is_sequence()) {
            substitute_from.push(Source {
                not_list: true,
                ..Source::of(&Value::Null)
            });
        }
        let str_at = |k: [&str; 2]| {
            let s = crate::yamlpos::value_at(v, &k).and_then(Value::as_str);
            s.map(str::to_owned)
        };
        Some(Parent {
            dir: clean(path),
            substitute,
            substitute_from,
            namespace: str_at(["metadata", "namespace"]),
            target: str_at(["spec", "targetNamespace"]),
            opaque: ["namePrefix", "nameSuffix", "kubeConfig"]
                .iter()
                .any(|k| spec.and_then(|s| s.get(*k)).is_some_and(|x| !x.is_null())),
            source,
            at,
        })
    }

    /// The value its `substituteFrom` gives `name`: the last entry holding it, `Ok(None)` when
    /// none does, `Err` when an entry after those holding it (or none) is not read offline.
    fn sourced(&self, name: &str) -> Result<Option<&String>, String> {
        for s in self.substitute_from.iter().rev() {
            match s.data.as_ref().map(|d| d.get(name)) {
                Some(Some(Some(v))) => return Ok(Some(v)),
                Some(None) => {}
                Some(Some(None)) => {
                    return Err(format!(
                        "`{name}` is given by the `substituteFrom` Secret `{}` of the Flux Kustomization at {}, whose values emp-seal does not read",
                        s.name.escape_debug(),
                        self.at
                    ));
                }
                // The Kustomization CRD's schema wants a list (fluxcd/kustomize-controller
                // `api/v1/kustomization_types.go`, `PostBuild`): the API server refuses the object.
                None if s.not_list => {
                    return Err(format!(
                        "`{name}` may be given by the `postBuild.substituteFrom` of the Flux Kustomization at {}, and that `substituteFrom` is not a list: the cluster refuses the Kustomization, so which sources it reads is not known",
                        self.at
                    ));
                }
                None => {
                    let broken = (s.broken.as_ref()).map(|f| format!("; {f}, which a Flux Kustomization of its cluster renders, holds a YAML document that does not parse: Flux's build of that render fails, so what the cluster holds is not known")).unwrap_or_default();
                    return Err(format!(
                        "`{name}` may be given by the `substituteFrom` {} `{}`{} of the Flux Kustomization at {}, which is read from the cluster{broken}",
                        s.kind.escape_debug(),
                        s.name.escape_debug(),
                        if s.optional { " (optional)" } else { "" },
                        self.at
                    ));
                }
            }
        }
        Ok(None)
    }

    /// True when this parent renders the file `file` (repository-relative): its directory holds
    /// the file's, and `reads(dir, file)` says its build renders that very file (kustomize
    /// renders the files a kustomization lists; Flux generates the kustomization of a level
    /// without one from the manifests there).
    pub(super) fn renders(&self, file: &str, reads: &dyn Fn(&str, &str) -> bool) -> bool {
        let file_dir = file.rsplit_once('/').map_or("", |(d, _)| d);
        super::within(file_dir, &self.dir) && reads(&self.dir, file)
    }
}

/// The cluster a Flux Kustomization written in `file` applies to, as [`super::Deploy::cluster`]
/// names it: the parents rendering `file` ([`Parent::renders`]), else the file's directory.
pub(super) fn cluster(
    file: &str,
    parents: &[Parent],
    reads: &dyn Fn(&str, &str) -> bool,
) -> String {
    let mine: Vec<&str> = (parents.iter())
        .filter(|p| p.renders(file, reads))
        .map(|p| p.at.as_str())
        .collect();
    match mine.is_empty() {
        true => own_cluster(file),
        false => format!("Flux {}", mine.join(", ")),
    }
}

/// The cluster of a Flux Kustomization in `file` before its parents are known: its directory's.
pub(super) fn own_cluster(file: &str) -> String {
    format!("Flux {}/", file.rsplit_once('/').map_or("", |(d, _)| d))
}

/// One `postBuild.substituteFrom` entry, and the `data` of the ConfigMap it names when the
/// repository renders it where Flux reads it ([`read_sources`]; `None`: not known offline; a
/// Secret's keys, each without its value).
#[derive(Debug, Clone)]
pub(super) struct Source {
    kind: String,
    name: String,
    optional: bool,
    data: Option<BTreeMap<String, Option<String>>>,
    /// A file of its cluster's renders holding a document that does not parse, when one does.
    broken: Option<String>,
    /// It stands for a `substituteFrom` that is not a list.
    not_list: bool,
}

impl Source {
    fn of(v: &Value) -> Source {
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Source {
            kind: text("kind"),
            name: text("name"),
            optional: v.get("optional").and_then(Value::as_bool) == Some(true),
            data: None,
            broken: None,
            not_list: false,
        }
    }
}

/// A ConfigMap, Secret or SealedSecret (the Secret it makes) written in a file of the
/// repository: not one a generator makes (whose name may carry a hash suffix), which no file
/// holds. A Secret's keys are known, never its values.
struct Object {
    kind: &'static str,
    file: String,
    name: String,
    namespace: Option<String>,
    data: BTreeMap<String, Option<String>>,
}

/// The objects written in `text`, the file `file` (see [`Object`]); `None` when a document of
/// it does not parse (it may be any object).
fn objects(file: &str, text: &str) -> Option<Vec<Object>> {
    if !text.contains("ConfigMap") && !text.contains("Secret") {
        return Some(Vec::new());
    }
    let pieces = crate::yamlpos::pieces(text, false);
    let values: Vec<Value> = (pieces.iter())
        .map(|p| yaml_serde::from_str::<Value>(p.text).ok())
        .collect::<Option<_>>()?;
    let objects = (values.into_iter())
        .filter_map(|v| {
            let (kind, keys) = match (v.get("apiVersion")?.as_str()?, v.get("kind")?.as_str()?) {
                ("v1", "ConfigMap") => ("ConfigMap", ["data", ""]),
                ("v1", "Secret") => ("Secret", ["data", "stringData"]),
                (a, "SealedSecret") if a.starts_with("bitnami.com/") => ("Secret", ["", ""]),
                _ => return None,
            };
            let meta = v.get("metadata")?;
            // A SealedSecret's Secret holds its `encryptedData` and `spec.template.data` keys.
            let spec = v.get("spec");
            let sealed = [
                spec.and_then(|s| s.get("encryptedData")),
                spec.and_then(|s| s.get("template"))
                    .and_then(|t| t.get("data")),
            ];
            let mut data = BTreeMap::new();
            for map in keys.iter().map(|k| v.get(*k)).chain(sealed) {
                for (k, value) in super::scalar_pairs(map) {
                    let value = (kind == "ConfigMap").then(|| value.replace('\n', ""));
                    data.insert(k, value);
                }
            }
            Some(Object {
                kind,
                file: file.to_owned(),
                name: meta.get("name")?.as_str()?.to_owned(),
                namespace: meta
                    .get("namespace")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                data,
            })
        })
        .collect();
    Some(objects)
}

/// The canonical kustomization directories of the build of a Flux Kustomization deploying a
/// directory whose builds read a file's directory (both repository-relative); `None` when not
/// known (a kustomization on the way does not parse).
pub(super) type Routes<'a> = dyn Fn(&str, &str) -> Option<Vec<std::path::PathBuf>> + 'a;

/// Fills the `data` of the `substituteFrom` entries of `parents` that a Flux Kustomization of
/// the same cluster (another of `parents`) renders in the parent's own namespace, from `files`
/// (repository-relative path, text): a ConfigMap's values, a Secret's keys. `reads` is as for
/// [`Parent::renders`]. An `optional` entry no Kustomization of the repository renders is left
/// unknown too: the cluster may hold it all the same. So is every entry when a file its cluster
/// renders holds a document that does not parse: Flux's build of that render fails (the
/// cluster keeps what an earlier revision applied), and that document may be the source. Only
/// files naming `ConfigMap` or `Secret` are parsed ([`objects`]): one naming neither holds no
/// source, and a broken document in it is not looked for.
pub(super) fn read_sources(
    root: &Path,
    kust: &Kusts,
    parents: &mut [Parent],
    files: &[(&str, &str)],
    reads: &dyn Fn(&str, &str) -> bool,
    routes: &Routes<'_>,
) {
    let mut broken = Vec::new();
    let mut all: Vec<Object> = Vec::new();
    for (f, t) in files {
        match objects(f, t) {
            Some(o) => all.extend(o),
            None => broken.push(*f),
        }
    }
    let file_of = |p: &Parent| {
        p.at.rsplit_once(':')
            .map_or(p.at.clone(), |(f, _)| f.to_owned())
    };
    let clusters: Vec<String> = (parents.iter())
        .map(|p| cluster(&file_of(p), parents, reads))
        .collect();
    let mut filled = Vec::new();
    for (i, p) in parents.iter().enumerate() {
        let mine = || (parents.iter().zip(&clusters)).filter(|(_, k)| **k == clusters[i]);
        let bad = (broken.iter()).find(|f| mine().any(|(q, _)| q.renders(f, reads)));
        for (j, s) in p.substitute_from.iter().enumerate() {
            let Some(ns) = p.namespace.as_deref().filter(|_| bad.is_none()) else {
                filled.push((i, j, Err(bad.map(|f| (*f).to_owned()))));
                continue;
            };
            let rendered_by = |q: &Parent, c: &Object| {
                q.renders(&c.file, reads)
                    && rendered_namespace(kust, root, q, c, routes).as_deref() == Some(ns)
            };
            let found: Vec<&Object> = (all.iter().filter(|c| c.name == s.name && c.kind == s.kind))
                .filter(|c| mine().any(|(q, _)| rendered_by(q, c)))
                .collect();
            // Two renders of it may differ: which one the cluster holds is not known.
            if let [one] = found[..] {
                filled.push((i, j, Ok(one.data.clone())));
            }
        }
    }
    for (i, j, data) in filled {
        let s = &mut parents[i].substitute_from[j];
        (s.data, s.broken) = (data.as_ref().ok().cloned(), data.err().flatten());
    }
}

/// The namespace the object `c` lands in when `q` renders it: `q`'s `targetNamespace`, else
/// the `namespace` of the outermost kustomization of `q`'s build ([`Routes`]) between `q`'s
/// directory and `c`'s file that sets one (kustomize's namespace transformer of an including
/// kustomization runs after the
/// included one's), else its own; `None` when that is not known offline or is none (Flux then
/// applies it to the default namespace of its service account's cluster access). A
/// kustomization of `q`'s build off that directory path whose build reads the file ([`Routes`])
/// may move or rename it by another way: unless `q`'s own directory sets the namespace (and
/// none renames), unknown (fail closed); so is a file no kustomization of the build lists.
fn rendered_namespace(
    kust: &Kusts,
    root: &Path,
    q: &Parent,
    c: &Object,
    routes: &Routes<'_>,
) -> Option<String> {
    let plain =
        |s: Option<&str>| (s.filter(|s| !s.is_empty() && !s.contains('$'))).map(str::to_owned);
    if q.opaque {
        return None;
    }
    let file_dir = c.file.rsplit_once('/').map_or("", |(d, _)| d);
    let build = routes(&q.dir, file_dir)?;
    let mut off = build.clone();
    let mut dir = q.dir.clone();
    // By whole path segments (`config/prod` does not hold `config/prod-eu`).
    let under = Path::new(file_dir).strip_prefix(&q.dir).ok();
    let rest = under.and_then(Path::to_str).unwrap_or_default();
    let (mut outermost, mut generated) = (None, under.is_some());
    for step in std::iter::once("").chain(rest.split('/').filter(|s| !s.is_empty())) {
        if !step.is_empty() {
            dir = if dir.is_empty() {
                step.to_owned()
            } else {
                format!("{dir}/{step}")
            };
        }
        let canonical = std::fs::canonicalize(root.join(&dir)).ok();
        off.retain(|k| Some(k) != canonical.as_ref());
        let k = kustomization(kust, &root.join(&dir), canonical.as_ref())?;
        generated &= k.is_none();
        // A kustomization the build does not include sets no namespace of it.
        if outermost.is_none() && canonical.is_some_and(|k| build.contains(&k)) {
            let ns = k.and_then(|k| k.namespace.as_deref());
            outermost = ns.map(|ns| (step.is_empty(), plain(Some(ns))));
        }
    }
    for k in &off {
        kustomization(kust, k, Some(k))?;
    }
    // The file itself is rendered when a kustomization of the build lists it in `resources`,
    // or Flux generates the one kustomization on its way (every manifest is listed).
    let file = std::fs::canonicalize(root.join(&c.file)).ok();
    let lists =
        |k: &PathBuf| (kust.get(k).zip(file.as_ref())).is_some_and(|(k, f)| k.files.contains(f));
    if !generated && !build.iter().any(lists) {
        return None;
    }
    if let Some(t) = &q.target {
        return plain(Some(t));
    }
    match outermost {
        Some((true, ns)) => ns,
        _ if !off.is_empty() => None,
        Some((_, ns)) => ns,
        // A file reached from outside the directory (`../base`) may be moved by a kustomization
        // on that way, which this walk does not read: unknown (fail closed).
        None => under.and(plain(c.namespace.as_deref())),
    }
}

/// The kustomization of the directory `dir` (canonical: `canonical`) as discovery read it
/// (`Some(None)` when it has none; an empty kustomization file is one that lists nothing);
/// `None` when discovery did not read it or it does not parse or sets a `namePrefix` or
/// `nameSuffix`: Flux looks the source up by a name this walk does not compute (fail closed).
fn kustomization<'a>(
    kust: &'a Kusts,
    dir: &Path,
    canonical: Option<&PathBuf>,
) -> Option<Option<&'a KustDir>> {
    match canonical.and_then(|c| kust.get(c)) {
        Some(k) => (k.parsed && !k.renames).then_some(Some(k)),
        None => super::kustomization_file(dir).is_none().then_some(None),
    }
}

/// Fills the `${...}` in the values of the Flux options `options` (a child Kustomization's
/// `targetNamespace`, ...; its object at `lines` of its file not opted out) with the variables
/// of the `parents` rendering their file, when they all give one value: Flux substitutes the
/// child's whole object when the parent renders it.
pub(super) fn substitute_options(
    options: &mut [DeployOption],
    parents: &[Parent],
    reads: &dyn Fn(&str, &str) -> bool,
) {
    for o in options.iter_mut().filter(|o| is_flux(o.tool)) {
        let Some(v) = o.value.as_deref().filter(|v| v.contains('$')) else {
            continue;
        };
        let values: Vec<Result<String, String>> = (parents.iter())
            .filter(|p| p.renders(&o.file, reads))
            .map(|p| substitute(v, p))
            .collect();
        match &values[..] {
            [Ok(first), rest @ ..] if rest.iter().all(|r| r.as_ref() == Ok(first)) => {
                o.value = Some(first.clone());
            }
            [] => {
                o.unresolved = Some(format!(
                    "no Flux Kustomization of this repository renders {}, whose `postBuild` would give the variables",
                    o.file
                ))
            }
            _ => {
                o.unresolved = Some(
                    values
                        .iter()
                        .find_map(|r| r.as_ref().err().cloned())
                        .unwrap_or_else(|| {
                            "the Flux Kustomizations rendering its file give it different values"
                                .to_owned()
                        }),
                )
            }
        }
    }
}

/// A path as a repository-relative directory: without `./`, leading or trailing `/`.
pub(super) fn clean(path: &str) -> String {
    let p = path.trim_start_matches("./").trim_matches('/');
    if p == "." {
        String::new()
    } else {
        p.to_owned()
    }
}

/// `text` with every `${...}` expression evaluated with the variables of `parent` (see the
/// module doc; the expressions as [`varsub::expressions`] finds them, `$$` in the text between
/// them a literal `$`); `Err` saying which expression is not known offline and why.
pub(super) fn substitute(text: &str, parent: &Parent) -> Result<String, String> {
    let mut out = String::new();
    let mut from = 0;
    for e in varsub::expressions(text) {
        out.push_str(&text[from..e.span.start].replace("$$", "$"));
        if !e.closed {
            return Err(format!("`{text}` has an unclosed `${{`"));
        }
        out.push_str(&evaluate(&e, parent)?);
        from = e.span.end;
    }
    out.push_str(&text[from..].replace("$$", "$"));
    Ok(out)
}

/// The value of the expression `e` with `parent`'s variables.
fn evaluate(e: &Expression<'_>, parent: &Parent) -> Result<String, String> {
    let (body, (name, op)) = (e.body, e.split_name());
    let default = [":=", ":-", "=", "-"]
        .into_iter()
        .find_map(|o| op.strip_prefix(o).map(|d| (o.starts_with(':'), d)));
    if name.is_empty() || (!op.is_empty() && default.is_none()) {
        return Err(format!(
            "`${{{body}}}` is a form of substitution emp-seal does not evaluate"
        ));
    }
    let value = match parent.substitute.get(name) {
        Some(v) => Some(v),
        None => parent.sourced(name)?,
    };
    match (value, default) {
        // The parent's own object is rendered (and its `substitute` values substituted) by the
        // Kustomization deploying its file, if that one substitutes: one level is read here.
        (Some(v), _) if v.contains('$') => Err(format!(
            "`{name}` is given by the `postBuild` of the Flux Kustomization at {} as `{}`, an expression the Kustomization deploying that one may substitute first, which emp-seal does not follow",
            parent.at,
            v.escape_debug()
        )),
        // `:=` / `:-` take the default for an empty value too, `=` / `-` only for an unset one.
        (Some(v), Some((true, d))) if v.is_empty() => literal(d, body),
        (Some(v), _) => Ok(v.clone()),
        (None, Some((_, d))) => literal(d, body),
        (None, None) => Err(format!(
            "`{name}` is not given by the `postBuild.substitute` of the Flux Kustomization at {}",
            parent.at
        )),
    }
}

/// A default value, when it holds no expression of its own.
fn literal(default: &str, body: &str) -> Result<String, String> {
    if default.contains('$') {
        Err(format!(
            "`${{{body}}}` has a default emp-seal does not evaluate"
        ))
    } else {
        Ok(default.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent(vars: &[(&str, &str)], from: bool) -> Parent {
        Parent {
            dir: "clusters/prod".to_owned(),
            substitute: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            substitute_from: (from.then(|| Source::of(&Value::Null)))
                .into_iter()
                .collect(),
            namespace: None,
            target: None,
            opaque: false,
            source: None,
            at: "clusters/prod/sync.yaml:6".to_owned(),
        }
    }

    const SETTINGS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: flux-system\ndata:\n  X: \"1\"\n";

    /// `clusters/prod/apps.yaml` substituting from ConfigMap `cluster-settings` and Secret `s`,
    /// and `clusters/<config_at>/config.yaml` deploying `config/prod`, both in `flux-system`.
    fn pair(config_at: &str) -> Vec<Parent> {
        let from = |kind: &str, name: &str| {
            Source::of(&yaml_serde::from_str(&format!("{{kind: {kind}, name: {name}}}")).unwrap())
        };
        let apps = Parent {
            dir: "apps".to_owned(),
            substitute_from: vec![from("ConfigMap", "cluster-settings"), from("Secret", "s")],
            namespace: Some("flux-system".to_owned()),
            at: "clusters/prod/apps.yaml:8".to_owned(),
            ..parent(&[], false)
        };
        let config = Parent {
            dir: "config/prod".to_owned(),
            at: format!("clusters/{config_at}/config.yaml:8"),
            ..parent(&[], false)
        };
        vec![apps, config]
    }

    /// The `data` `read_sources` gives the apps parent's entries (`None`: unknown), and the
    /// file it names as broken.
    fn read(
        config_at: &str,
        files: &[(&str, &str)],
        ns: bool,
    ) -> Vec<(Option<String>, Option<String>)> {
        let mut parents = pair(config_at);
        parents[0].namespace = parents[0].namespace.take().filter(|_| ns);
        let root = tempfile::tempdir().expect("tempdir");
        read_sources(
            root.path(),
            &BTreeMap::new(),
            &mut parents,
            files,
            &|_, _| true,
            &|_, _| Some(Vec::new()),
        );
        (parents[0].substitute_from.iter())
            .map(|s| (s.data.as_ref().map(|d| format!("{d:?}")), s.broken.clone()))
            .collect()
    }

    #[test]
    fn read_sources_takes_one_render_of_the_cluster_in_the_parents_namespace() {
        let secret = "kind: Secret\napiVersion: v1\nmetadata: {name: s, namespace: flux-system}\nstringData: {K: v}\n";
        let files = [
            ("config/prod/a.yaml", SETTINGS),
            ("config/prod/s.yaml", secret),
        ];
        let one = read("prod", &files, true);
        assert_eq!(one[0], (Some(r#"{"X": Some("1")}"#.into()), None));
        // A Secret's keys, never its values.
        assert_eq!(one[1], (Some(r#"{"K": None}"#.into()), None));
        // No namespace to read from; another cluster's render; two renders: unknown.
        assert_eq!(read("prod", &files, false)[0], (None, None));
        assert_eq!(read("staging", &files, true)[0], (None, None));
        let two = [files[0], ("config/prod/b.yaml", SETTINGS)];
        assert_eq!(read("prod", &two, true)[0], (None, None));
        // A document that does not parse may be the source: unknown, naming the file.
        let broken = format!("kind: ConfigMap\nmetadata: {{name: x\n---\n{SETTINGS}");
        let bad = read("prod", &[("config/prod/a.yaml", &broken)], true);
        assert_eq!(bad[0], (None, Some("config/prod/a.yaml".into())));
    }

    #[test]
    fn rendered_namespace_is_the_outermost_on_the_only_route() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        let put = |rel: &str, text: &str| {
            std::fs::create_dir_all(root.join(rel)).expect("mkdir");
            crate::fsio::atomic_write(&root.join(rel).join("kustomization.yaml"), text.as_bytes())
                .expect("write");
        };
        put("config/prod", "resources: [sub, cm.yaml]\n");
        put(
            "config/prod/sub",
            "namespace: inner\nresources: [cm.yaml]\n",
        );
        for f in ["config/prod/cm.yaml", "config/prod/sub/cm.yaml"] {
            crate::fsio::atomic_write(&root.join(f), SETTINGS.as_bytes()).expect("write");
        }
        let q = Parent {
            dir: "config/prod".to_owned(),
            ..parent(&[], false)
        };
        let c = |file: &str, ns: &str| {
            objects(file, &SETTINGS.replace("flux-system", ns))
                .expect("parses")
                .remove(0)
        };
        let canon = root.canonicalize().expect("root");
        // The build's kustomizations reading the file's directory: those on its path.
        let on = |f: &str| {
            let sub = f.ends_with("/sub").then(|| canon.join(f));
            vec![canon.join("config/prod")].into_iter().chain(sub)
        };
        let none = |_: &str, f: &str| Some(on(f).collect());
        let off = |_: &str, f: &str| Some(on(f).chain([canon.join("elsewhere")]).collect());
        let ns = |q: &Parent, c: &Object, routes: &Routes<'_>| {
            let kust = super::super::discover::scan(root, &|_| false, &[]).kust;
            rendered_namespace(&kust, root, q, c, routes)
        };
        let inner = c("config/prod/sub/cm.yaml", "own");
        assert_eq!(ns(&q, &inner, &none).as_deref(), Some("inner"));
        // Another route off the path may move it; routes not known; renamed or remote: unknown.
        assert_eq!(ns(&q, &inner, &off), None);
        assert_eq!(ns(&q, &inner, &|_, _| None), None);
        let opaque = Parent {
            opaque: true,
            ..q.clone()
        };
        assert_eq!(ns(&opaque, &inner, &none), None);
        // `targetNamespace` over all.
        let target = Parent {
            target: Some("t".into()),
            ..q.clone()
        };
        assert_eq!(ns(&target, &inner, &off).as_deref(), Some("t"));
        // None set on the path: its own, when plain; outside the directory: unknown.
        assert_eq!(
            ns(&q, &c("config/prod/cm.yaml", "own"), &none).as_deref(),
            Some("own")
        );
        assert_eq!(ns(&q, &c("config/prod/cm.yaml", "${ns}"), &none), None);
        assert_eq!(ns(&q, &c("config/base/cm.yaml", "own"), &none), None);
        // The deployed directory's own `namespace` holds on every route; a prefix renames.
        put("config/prod", "namespace: top\nresources: [sub]\n");
        assert_eq!(ns(&q, &inner, &off).as_deref(), Some("top"));
        put("config/prod/sub", "namePrefix: p-\nresources: [cm.yaml]\n");
        assert_eq!(ns(&q, &inner, &none), None);
        // A file no kustomization of the build lists is not rendered.
        put("config/prod/sub", "namespace: inner\nresources: []\n");
        assert_eq!(ns(&target, &inner, &none), None);
    }

    #[test]
    fn expressions_evaluate_as_flux_envsubst_does() {
        let p = parent(&[("env", "prod"), ("empty", "")], false);
        let ok = |t: &str| substitute(t, &p);
        assert_eq!(ok("./apps/${env}"), Ok("./apps/prod".into()));
        assert_eq!(ok("a/${missing:=dev}/${env:-x}"), Ok("a/dev/prod".into()));
        assert_eq!(
            ok("${empty:=d}|${empty=d}|${empty-d}|${unset-d}"),
            Ok("d|||d".into())
        );
        assert_eq!(ok("$${env}/$env"), Ok("${env}/$env".into()));
        assert!(
            ok("${missing}")
                .unwrap_err()
                .contains("`missing` is not given")
        );
        assert!(ok("${env^^}").is_err());
        assert!(ok("${env").is_err());
        assert!(ok("${x:=${env}}").is_err());
        // A value that is itself an expression is its own parent's to substitute.
        let nested = parent(&[("env", "${cluster}")], false);
        assert!(
            substitute("./apps/${env}", &nested)
                .unwrap_err()
                .contains("as `${cluster}`")
        );
        // A variable the parent does not give may come from its `substituteFrom`.
        let from = parent(&[("env", "prod")], true);
        assert_eq!(substitute("${env}", &from), Ok("prod".into()));
        assert!(
            substitute("${region:=eu}", &from)
                .unwrap_err()
                .contains("substituteFrom")
        );
    }

    #[test]
    fn a_parent_renders_files_under_its_directory_that_its_build_reads() {
        let p = parent(&[], false);
        let all = |_: &str, _: &str| true;
        assert!(p.renders("clusters/prod/apps.yaml", &all));
        assert!(p.renders("clusters/prod/sub/apps.yaml", &all));
        assert!(!p.renders("clusters/production/apps.yaml", &all));
        assert!(!p.renders("clusters/prod/apps.yaml", &|_, _| false));
        let root = Parent {
            dir: clean("./"),
            ..parent(&[], false)
        };
        assert!(root.renders("apps.yaml", &all));
    }
}
