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
//! lacks is skipped, so one the repository does not render stays unknown all the same. A Secret's values are not read (a SealedSecret's cannot be offline), nor a
//! ConfigMap the repository does not render beside the parent: a variable one of those may give
//! is not known. One level is read: a value holding an expression (`env: ${cluster}`,
//! substituted when the parent's own object is rendered by the Kustomization deploying it) is
//! not followed up. The same variables fill a child's `targetNamespace`, `namePrefix` and
//! `nameSuffix` ([`substitute_options`]). A child that opts out
//! (`kustomize.toolkit.fluxcd.io/substitute: disabled`) keeps its path and options as written:
//! discovery does not hand it here.

use std::collections::BTreeMap;
use std::path::Path;

use yaml_serde::Value;

use super::DeployOption;

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
        let post = v.get("spec").and_then(|s| s.get("postBuild"));
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
            substitute_from.push(Source::of(&Value::Null));
        }
        let str_at = |k: [&str; 2]| {
            let s = v
                .get(k[0])
                .and_then(|m| m.get(k[1]))
                .and_then(Value::as_str);
            s.map(str::to_owned)
        };
        Some(Parent {
            dir: clean(path),
            substitute,
            substitute_from,
            namespace: str_at(["metadata", "namespace"]),
            target: str_at(["spec", "targetNamespace"]),
            opaque: ["namePrefix", "nameSuffix", "kubeConfig"].iter().any(|k| {
                v.get("spec")
                    .and_then(|s| s.get(*k))
                    .is_some_and(|x| !x.is_null())
            }),
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
                None => {
                    return Err(format!(
                        "`{name}` may be given by the `substituteFrom` {} `{}`{} of the Flux Kustomization at {}, which is read from the cluster",
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

    /// The cluster it applies to, as [`super::Deploy::cluster`] names a Flux one: the parents
    /// rendering its file, else its file's directory.
    fn cluster(&self, parents: &[Parent], reads: &dyn Fn(&str, &str) -> bool) -> String {
        let file = self
            .at
            .rsplit_once(':')
            .map_or(self.at.as_str(), |(f, _)| f);
        let mine: Vec<&str> = (parents.iter())
            .filter(|p| p.renders(file, reads))
            .map(|p| p.at.as_str())
            .collect();
        match mine.is_empty() {
            true => format!("{}/", file.rsplit_once('/').map_or("", |(d, _)| d)),
            false => mine.join(", "),
        }
    }

    /// True when this parent renders the file `file` (repository-relative): its directory holds
    /// the file's, and `reads(dir)` says its build reads the file's directory (`reads` judges
    /// a parent directory with a kustomization file: kustomize reads what it lists; one without
    /// is generated by Flux from every manifest under it).
    pub(super) fn renders(&self, file: &str, reads: &dyn Fn(&str, &str) -> bool) -> bool {
        let file_dir = file.rsplit_once('/').map_or("", |(d, _)| d);
        let under = self.dir.is_empty()
            || file_dir == self.dir
            || file_dir.starts_with(&format!("{}/", self.dir));
        under && reads(&self.dir, file_dir)
    }
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

/// The objects written in `text`, the file `file` (see [`Object`]).
fn objects(file: &str, text: &str) -> Vec<Object> {
    if !text.contains("ConfigMap") && !text.contains("Secret") {
        return Vec::new();
    }
    let pieces = crate::yamlpos::pieces(text, false);
    let values = pieces
        .iter()
        .filter_map(|p| yaml_serde::from_str::<Value>(p.text).ok());
    values
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
        .collect()
}

/// Fills the `data` of the `substituteFrom` entries of `parents` that a Flux Kustomization of
/// the same cluster (another of `parents`) renders in the parent's own namespace, from `files`
/// (repository-relative path, text): a ConfigMap's values, a Secret's keys. `reads` is as for [`Parent::renders`]. An `optional`
/// entry no Kustomization of the repository renders is left unknown too: the cluster may hold
/// it all the same.
pub(super) fn read_sources(
    root: &Path,
    parents: &mut [Parent],
    files: &[(&str, &str)],
    reads: &dyn Fn(&str, &str) -> bool,
) {
    let all: Vec<Object> = files.iter().flat_map(|(f, t)| objects(f, t)).collect();
    let clusters: Vec<String> = parents.iter().map(|p| p.cluster(parents, reads)).collect();
    let mut filled = Vec::new();
    for (i, p) in parents.iter().enumerate() {
        for (j, s) in p.substitute_from.iter().enumerate() {
            let Some(ns) = p.namespace.as_deref() else {
                continue;
            };
            let rendered_by = |q: &Parent, c: &Object| {
                q.renders(&c.file, reads) && rendered_namespace(root, q, c).as_deref() == Some(ns)
            };
            let found: Vec<&Object> = (all.iter().filter(|c| c.name == s.name && c.kind == s.kind))
                .filter(|c| {
                    (parents.iter().zip(&clusters))
                        .any(|(q, k)| *k == clusters[i] && rendered_by(q, c))
                })
                .collect();
            // Two renders of it may differ: which one the cluster holds is not known.
            if let [one] = found[..] {
                filled.push((i, j, one.data.clone()));
            }
        }
    }
    for (i, j, data) in filled {
        parents[i].substitute_from[j].data = Some(data);
    }
}

/// The namespace the object `c` lands in when `q` renders it: `q`'s `targetNamespace`, else
/// the `namespace` of the outermost kustomization between `q`'s directory and `c`'s file that
/// sets one (kustomize's namespace transformer of an including kustomization runs after the
/// included one's), else its own; `None` when that is not known offline or is none (Flux then
/// applies it to the default namespace of its service account's cluster access).
fn rendered_namespace(root: &Path, q: &Parent, c: &Object) -> Option<String> {
    let plain =
        |s: Option<&str>| (s.filter(|s| !s.is_empty() && !s.contains('$'))).map(str::to_owned);
    if q.opaque {
        return None;
    }
    let file_dir = c.file.rsplit_once('/').map_or("", |(d, _)| d);
    let mut dir = q.dir.clone();
    // By whole path segments (`config/prod` does not hold `config/prod-eu`).
    let under = Path::new(file_dir).strip_prefix(&q.dir).ok();
    let rest = under.and_then(Path::to_str).unwrap_or_default();
    let mut outermost = None;
    for step in std::iter::once("").chain(rest.split('/').filter(|s| !s.is_empty())) {
        if !step.is_empty() {
            dir = if dir.is_empty() {
                step.to_owned()
            } else {
                format!("{dir}/{step}")
            };
        }
        let Some(k) = super::kustomization_file(&root.join(&dir)) else {
            continue;
        };
        let text = crate::fsio::read_to_string_limited(&k, super::MAX_FILE_BYTES).ok()?;
        let v: Value = yaml_serde::from_str(crate::yamlpos::without_bom(&text)).ok()?;
        // A prefix or suffix renames it: Flux looks it up by a name this walk does not compute
        // (unknown, fail closed).
        if v.get("namePrefix").is_some() || v.get("nameSuffix").is_some() {
            return None;
        }
        if outermost.is_none() {
            outermost = v.get("namespace").map(|ns| plain(ns.as_str()));
        }
    }
    if let Some(t) = &q.target {
        return plain(Some(t));
    }
    match outermost {
        Some(ns) => ns,
        // A file reached from outside the directory (`../base`) may be moved by a kustomization
        // on that way, which this walk does not read: unknown (fail closed).
        None => under.and(plain(c.namespace.as_deref())),
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
    for o in options.iter_mut().filter(|o| o.is_flux()) {
        let Some(v) = o.value.as_deref().filter(|v| v.contains('$')) else {
            continue;
        };
        let values: Vec<Result<String, String>> = (parents.iter())
            .filter(|p| p.renders(&o.file, reads))
            .map(|p| substitute(v, p))
            .collect();
        if let [Ok(first), rest @ ..] = &values[..]
            && rest.iter().all(|r| r.as_ref() == Ok(first))
        {
            o.value = Some(first.clone());
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
