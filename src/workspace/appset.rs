//! Argo CD `ApplicationSet`s: the directories of this repository their generated Applications
//! deploy, where that can be known offline from the repository itself.
//!
//! An `ApplicationSet` renders one Application per parameter set of its generators into
//! `spec.template` (argo-cd `applicationset/utils/utils.go`: `{{param}}` placeholders, or
//! `{{.param}}` with `goTemplate`). Two generators draw their parameters from what is here:
//! a `list` (its `elements`) and a `git` generator's `directories` (`path` is each matching
//! directory, `path.basename` its last component, `path[N]` its N-th; `exclude: true` entries
//! remove directories; argo-cd `applicationset/generators/git.go`); a `matrix` of two such generators combines
//! them (`matrix.go`), and a `merge` of such generators joins them on its keys (`merge.go`).
//! Every other generator (clusters, SCM provider, pull requests, a git generator's `files`,
//! plugins) needs a cluster or a service: its Applications are not read, and `check` says so in
//! a note.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use yaml_serde::Value;

use super::config::{glob_match, segment_match, well_formed};
use crate::yamlpos::{Seg, value_at};

/// Most parameter sets an `ApplicationSet`'s generators may give before it is not read (a note
/// says so): nested `matrix` generators multiply their sets, and expanding them all is work
/// that grows without bound while the Applications the controller would create are as many.
const MAX_PARAMS: usize = 10_000;

/// The `ApplicationSet`s `v` stands for when one of its generators has a `template` of its own
/// (`spec.generators[N].<type>.template`): Argo CD renders that generator's Applications from its
/// template merged over `spec.template` (argo-cd `applicationset/generators/generator_spec_processor.go`,
/// `mergeGeneratorTemplate`: `mergo.Merge`, so what the generator's template sets wins). One
/// `ApplicationSet` per generator, with that generator alone and the merged `spec.template`,
/// and, for a generator with a template, where it is (`spec.generators[N].<type>.template`) and
/// what it holds; `None` when no generator has a template. (The template of a generator inside
/// a `matrix` or `merge` is not Argo CD's: see [`matrix_params`].)
pub(crate) fn per_generator(v: &Value) -> Option<Vec<GeneratorSet>> {
    let spec = v.get("spec")?;
    let generators = spec.get("generators")?.as_sequence()?;
    let own = |g: &Value| -> Option<(String, Value)> {
        let (kind, body) = g.as_mapping()?.iter().next()?;
        let template = body.get("template").filter(|t| !is_zero(t))?;
        Some((kind.as_str()?.to_owned(), template.clone()))
    };
    if !generators.iter().any(|g| own(g).is_some()) {
        return None;
    }
    let base = spec.get("template").cloned().unwrap_or(Value::Null);
    let sets = generators.iter().enumerate().map(|(i, g)| {
        let mut g = g.clone();
        let mut set = v.clone();
        let (own, template) = match own(&g) {
            Some((kind, template)) => {
                if let Some(body) = g.get_mut(kind.as_str()).and_then(Value::as_mapping_mut) {
                    body.remove("template");
                }
                let mut at = ["spec", "generators"].map(Seg::from).to_vec();
                at.extend([Seg::Index(i), Seg::Key(kind), Seg::from("template")]);
                let merged = merge_template(&template, &base);
                (Some((at, template)), merged)
            }
            None => (None, base.clone()),
        };
        if let Some(spec) = set.get_mut("spec").and_then(Value::as_mapping_mut) {
            spec.insert("generators".into(), Value::Sequence(vec![g]));
            spec.insert("template".into(), template);
        }
        (own, set)
    });
    Some(sets.collect())
}

/// One generator's `ApplicationSet` ([`per_generator`]): where its own template is and what it
/// holds (none when it has none), and the `ApplicationSet` with that generator alone.
pub(crate) type GeneratorSet = (Option<(Vec<Seg>, Value)>, Value);

/// `over` merged onto `base` as `mergo.Merge` does without overriding: a value `over` sets (not
/// null, empty or false) wins; mappings merge key by key.
fn merge_template(over: &Value, base: &Value) -> Value {
    match (over, base) {
        (Value::Mapping(o), Value::Mapping(b)) => {
            let mut m = b.clone();
            for (k, v) in o {
                let merged = b
                    .get(k)
                    .map_or_else(|| v.clone(), |bv| merge_template(v, bv));
                m.insert(k.clone(), merged);
            }
            Value::Mapping(m)
        }
        (o, b) if is_zero(o) => b.clone(),
        (o, _) => o.clone(),
    }
}

/// A Go zero value as `mergo` sees it: null, an empty string, list or map, false, zero.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Sequence(s) => s.is_empty(),
        Value::Mapping(m) => m.is_empty(),
        _ => false,
    }
}

/// The repository-relative directories `template_path` (the template's `source.path`) names
/// for the `ApplicationSet` `v`, each with the parameter set that gives it (to fill the
/// template's other fields, [`filled`]): itself, with none, when it holds no placeholder; else
/// one per parameter set of its generators ([`params`]). `root` is the git repository's top level: a git generator's
/// `directories` patterns, like the paths it gives, are relative to it (above emp-seal's root in
/// a monorepo, see [`super::gitroot::top`]). `Err` says why they cannot be known.
pub(crate) fn paths(
    root: &Path,
    v: &Value,
    template_path: &str,
    elsewhere: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, Params)>, String> {
    // A Go-templated patch of each generated Application (`spec.templatePatch`) may change its
    // path and options per parameter set, which is not replayed here.
    if value_at(v, &["spec", "templatePatch"]).is_some() {
        return Err("its `templatePatch` may change each Application".to_owned());
    }
    if !template_path.contains("{{") {
        return Ok(vec![(template_path.to_owned(), Params::new())]);
    }
    let generators = value_at(v, &["spec", "generators"])
        .and_then(Value::as_sequence)
        .ok_or("no generators")?;
    let at = Repo {
        root,
        elsewhere,
        go_template: value_at(v, &["spec", "goTemplate"]).and_then(Value::as_bool) == Some(true),
    };
    let mut out = std::collections::BTreeSet::new();
    let mut sets = 0usize;
    for g in generators {
        let params = params(&at, g)?;
        sets = sets.saturating_add(params.len());
        if sets > MAX_PARAMS {
            return Err(too_many());
        }
        for set in params {
            out.insert((fill(template_path, |name| set.get(name).cloned())?, set));
        }
    }
    Ok(out.into_iter().collect())
}

/// One generated Application's parameters, by name (`path`, `path.basename`, a list key).
pub(crate) type Params = BTreeMap<String, String>;

/// `deploy_time` as the Application generated from the parameter set `set` applies it: every
/// option value with placeholders (`destination.namespace: '{{path[1]}}'`, `namePrefix:
/// '{{env}}-'`) filled, since Argo CD renders every string field of the template with the set
/// (argo-cd `applicationset/utils/utils.go`, `RenderTemplateParams`). A value with a placeholder
/// the set has no value for stays as written (not known offline).
pub(crate) fn filled(deploy_time: &super::DeployTime, set: &Params) -> super::DeployTime {
    let fill_one = |o: &mut super::DeployOption| {
        if let Some(v) = o.value.as_mut().filter(|v| v.contains("{{"))
            && let Ok(done) = fill(v, |name| set.get(name).cloned())
        {
            *v = done;
        }
    };
    let mut out = deploy_time.clone();
    out.options.iter_mut().for_each(&fill_one);
    for d in &mut out.deploys {
        d.options
            .iter_mut()
            .chain(d.destination.as_mut())
            .for_each(&fill_one);
    }
    out
}

/// What an `ApplicationSet`'s generators are expanded against: the git repository's top
/// (`root`, see [`paths`]), which repository URLs are others (`elsewhere`), and whether the
/// `ApplicationSet` sets `goTemplate`.
struct Repo<'a> {
    root: &'a Path,
    elsewhere: &'a dyn Fn(&str) -> bool,
    go_template: bool,
}

/// The parameter sets of one generator: a `list`'s elements; a `git` generator's directories
/// (patterns expanded against the tree under `root`, excluded ones removed; none for another
/// repository, `elsewhere`); a `matrix`'s two generators combined ([`matrix_params`]); a
/// `merge` ([`merge_params`]). `Err` names a generator whose parameters are not known offline.
fn params(at: &Repo<'_>, g: &Value) -> Result<Vec<Params>, String> {
    if let Some(list) = g.get("list") {
        with_values(list, list_params(list)?)
    } else if let Some(git) = g.get("git") {
        let url = git.get("repoURL").and_then(Value::as_str).unwrap_or("");
        if (at.elsewhere)(url) {
            return Ok(Vec::new());
        }
        with_values(git, git_params(at.root, git)?)
    } else if let Some(children) = g
        .get("matrix")
        .and_then(|m| m.get("generators"))
        .and_then(Value::as_sequence)
    {
        matrix_params(at, children)
    } else if let Some(merge) = g.get("merge") {
        merge_params(at, merge)
    } else {
        let name = g
            .as_mapping()
            .and_then(|m| m.keys().next())
            .and_then(Value::as_str)
            .unwrap_or("unnamed");
        Err(format!("a `{name}` generator"))
    }
}

/// A `matrix` generator's parameter sets (argo-cd `applicationset/generators/matrix.go`): every
/// set of its first generator combined with every set its second gives once rendered with that
/// set (`generator_spec_processor.go`, `InterpolateGenerator`: `{{team}}` in the second's
/// fields is the first's `team`). A parameter both give keeps the first's value with
/// `goTemplate`; without it, two different values make Argo CD refuse the `ApplicationSet`
/// (`utils.CombineStringMaps`), which is not read then. A child generator's own `template` is
/// not used: Argo CD keeps only the parameters of a `matrix` or `merge` child (both pass it an
/// empty template and return its parameters alone, `matrix.go` / `merge.go`, `getParams`).
fn matrix_params(at: &Repo<'_>, children: &[Value]) -> Result<Vec<Params>, String> {
    let [a, b] = children else {
        return Err("a `matrix` generator without exactly two generators".to_owned());
    };
    let first = params(at, a)?;
    // The second's own `template` is Argo CD's to ignore, not to render here.
    let mut b = b.clone();
    if let Some(body) = b.as_mapping_mut().and_then(|m| m.values_mut().next()) {
        body.as_mapping_mut().map(|m| m.remove("template"));
    }
    let b = &b;
    let fixed = if templated(b) {
        None
    } else {
        Some(params(at, b)?)
    };
    let mut out = Vec::new();
    for x in &first {
        let second = match &fixed {
            Some(sets) => sets.clone(),
            None => params(at, &interpolate(b, x)?)?,
        };
        if out.len().saturating_add(second.len()) > MAX_PARAMS {
            return Err(too_many());
        }
        for y in second {
            let mut set = y;
            for (k, v) in x {
                match set.get(k) {
                    Some(w) if w != v && !at.go_template => {
                        return Err(format!(
                            "its `matrix` generators both give `{k}`, with different values, which Argo CD refuses"
                        ));
                    }
                    _ => set.insert(k.clone(), v.clone()),
                };
            }
            out.push(set);
        }
    }
    Ok(out)
}

/// True when a string in `v` holds a placeholder.
fn templated(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{"),
        Value::Sequence(items) => items.iter().any(templated),
        Value::Mapping(m) => m.values().any(templated),
        _ => false,
    }
}

/// The generator `g` with every placeholder of `set` filled in its strings, one not in `set`
/// left as written for the generator's own parameters (argo-cd `applicationset/utils/utils.go`,
/// `RenderGeneratorParams`, which renders every string field of the generator).
fn interpolate(g: &Value, set: &Params) -> Result<Value, String> {
    Ok(match g {
        Value::String(s) if s.contains("{{") => Value::String(fill(s, |name| {
            Some(
                set.get(name)
                    .cloned()
                    .unwrap_or_else(|| format!("{{{{{name}}}}}")),
            )
        })?),
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .map(|v| interpolate(v, set))
                .collect::<Result<_, _>>()?,
        ),
        Value::Mapping(m) => {
            let mut out = yaml_serde::Mapping::new();
            for (k, v) in m {
                out.insert(k.clone(), interpolate(v, set)?);
            }
            Value::Mapping(out)
        }
        other => other.clone(),
    })
}

/// Why an `ApplicationSet` whose generators give more than [`MAX_PARAMS`] sets is not read.
fn too_many() -> String {
    format!("its generators give more than {MAX_PARAMS} parameter sets, more than emp-seal expands")
}

/// A `merge` generator's parameter sets (argo-cd `applicationset/generators/merge.go`): the
/// first generator's, each overridden by the set of each later generator that agrees with it on
/// every `mergeKeys` parameter (a parameter a set lacks agrees with one the other lacks). Argo CD
/// refuses a merge of fewer than two generators, one without merge keys, and a later generator
/// two of whose sets agree on them (the first generator's may).
fn merge_params(at: &Repo<'_>, merge: &Value) -> Result<Vec<Params>, String> {
    let keys: Vec<&str> = merge
        .get("mergeKeys")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let children = merge
        .get("generators")
        .and_then(Value::as_sequence)
        .filter(|c| !c.is_empty() && !keys.is_empty())
        .ok_or("a `merge` generator without `generators` or `mergeKeys`")?;
    if children.len() < 2 {
        return Err(
            "a `merge` generator of fewer than two generators, which Argo CD refuses".into(),
        );
    }
    let key_of = |set: &Params| -> Vec<Option<String>> {
        keys.iter().map(|k| set.get(*k).cloned()).collect()
    };
    let mut base = params(at, &children[0])?;
    for (n, child) in children.iter().enumerate().skip(1) {
        let mut by_key: HashMap<Vec<Option<String>>, Params> = HashMap::new();
        for other in params(at, child)? {
            if by_key.insert(key_of(&other), other).is_some() {
                return Err(format!(
                    "a `merge` generator whose generator {} gives two parameter sets with the same `mergeKeys` values, which Argo CD refuses",
                    n + 1
                ));
            }
        }
        for b in &mut base {
            if let Some(other) = by_key.get(&key_of(b)) {
                b.extend(other.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
    Ok(base)
}

/// A `list` generator's elements, their scalar values as text.
fn list_params(list: &Value) -> Result<Vec<Params>, String> {
    let elements = list
        .get("elements")
        .and_then(Value::as_sequence)
        .ok_or("a `list` generator without `elements`")?;
    Ok(elements
        .iter()
        .filter(|e| e.is_mapping())
        .map(|e| super::scalar_pairs(Some(e)))
        .collect())
}

/// A `git` generator's `directories`: each directory a pattern matches, less the excluded ones,
/// as `path` (also `path.path`), `path.basename` and `path[N]` (its N-th component), each name
/// under the generator's `pathParamPrefix` if it has one (argo-cd
/// `applicationset/generators/git.go`, `generateParamsFromApps`).
fn git_params(root: &Path, git: &Value) -> Result<Vec<Params>, String> {
    let dirs = git
        .get("directories")
        .and_then(Value::as_sequence)
        .ok_or("a `git` generator without `directories` (its `files` are read at sync time)")?;
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for d in dirs {
        let pattern = d.get("path").and_then(Value::as_str).unwrap_or_default();
        if !well_formed(pattern) {
            return Err(format!("the malformed directory pattern `{pattern}`"));
        }
        if d.get("exclude").and_then(Value::as_bool) == Some(true) {
            exclude.push(pattern.to_owned());
        } else {
            include.push(pattern.to_owned());
        }
    }
    let prefix = match git.get("pathParamPrefix").and_then(Value::as_str) {
        Some(p) if !p.is_empty() => format!("{p}."),
        _ => String::new(),
    };
    let mut out = Vec::new();
    for pattern in include {
        for dir in expand(root, &pattern) {
            if exclude.iter().any(|x| glob_match(x, &dir)) {
                continue;
            }
            let mut set = Params::new();
            for (i, part) in dir.split('/').enumerate() {
                set.insert(format!("{prefix}path[{i}]"), part.to_owned());
            }
            let basename = dir.rsplit('/').next().unwrap_or(&dir).to_owned();
            set.insert(format!("{prefix}path.basename"), basename);
            set.insert(format!("{prefix}path.path"), dir.clone());
            set.insert(format!("{prefix}path"), dir);
            out.push(set);
        }
    }
    Ok(out)
}

/// `sets`, each with the generator's `values` added as `values.<name>`, every value filled from
/// that set's parameters (argo-cd `applicationset/generators/generator_spec_processor.go`).
fn with_values(generator: &Value, mut sets: Vec<Params>) -> Result<Vec<Params>, String> {
    let Some(values) = generator.get("values").and_then(Value::as_mapping) else {
        return Ok(sets);
    };
    for set in &mut sets {
        let mut added = Vec::new();
        for (k, v) in values {
            let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                continue;
            };
            added.push((format!("values.{k}"), fill(v, |n| set.get(n).cloned())?));
        }
        set.extend(added);
    }
    Ok(sets)
}

/// `template` with every `{{ name }}` / `{{ .name }}` replaced by `value(name)`; `Err` naming
/// the first placeholder it has no value for.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .map(|e| start + e)
            .ok_or_else(|| format!("`{template}` has an unclosed `{{{{`"))?;
        let name = rest[start + 2..end].trim();
        let v = placeholder(name)
            .and_then(|n| value(&n))
            .ok_or_else(|| format!("`{{{{{name}}}}}` is not known offline"))?;
        out.push_str(&rest[..start]);
        out.push_str(&v);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The parameter name a placeholder's text asks for: `name` or `.name` as written, and
/// `index .X.segments N` (`goTemplate`'s N-th path component) as `X[N]`.
fn placeholder(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words[..] {
        [name] => Some(name.trim_start_matches('.').to_owned()),
        ["index", list, n] => {
            let base = list.strip_prefix('.')?.strip_suffix(".segments")?;
            Some(format!("{base}[{}]", n.parse::<usize>().ok()?))
        }
        _ => None,
    }
}

/// The directories under `root` a git generator's pattern matches (Go's `path.Match`, which
/// argo-cd's `git.go` applies to every directory of the repository: so per component, and a
/// `**` is a `*`), repository-relative, without hidden ones.
fn expand(root: &Path, pattern: &str) -> Vec<String> {
    let mut found = vec![String::new()];
    for part in pattern
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
    {
        let mut next = Vec::new();
        for base in &found {
            let join = |name: &str| {
                if base.is_empty() {
                    name.to_owned()
                } else {
                    format!("{base}/{name}")
                }
            };
            if !part.contains(['*', '?', '[', '\\']) {
                if root.join(join(part)).is_dir() {
                    next.push(join(part));
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(root.join(base)) else {
                continue;
            };
            for e in entries.filter_map(Result::ok) {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') && e.path().is_dir() && segment_match(part, &name) {
                    next.push(join(&name));
                }
            }
        }
        found = next;
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The directories [`super::paths`] gives (without their parameter sets), deduplicated.
    fn paths(
        root: &Path,
        v: &Value,
        template_path: &str,
        elsewhere: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, String> {
        let dirs = super::paths(root, v, template_path, elsewhere)?;
        let dirs: std::collections::BTreeSet<String> = dirs.into_iter().map(|(d, _)| d).collect();
        Ok(dirs.into_iter().collect())
    }

    /// A repository with `apps/{a,b,skip}/prod` and `apps/c/dev`.
    fn apps() -> tempfile::TempDir {
        let t = tempfile::tempdir().expect("tempdir");
        for d in ["apps/a/prod", "apps/b/prod", "apps/skip/prod", "apps/c/dev"] {
            std::fs::create_dir_all(t.path().join(d)).expect("mkdir");
        }
        t
    }

    /// An `ApplicationSet` with the generators `gens` (YAML indented under `generators:`).
    fn set(gens: &str) -> Value {
        yaml_serde::from_str(&format!("spec:\n  generators:\n{gens}")).expect("parses")
    }

    /// No directory is another repository's.
    fn here(_: &str) -> bool {
        false
    }

    #[test]
    fn git_directory_generator_gives_its_directories_of_this_repository() {
        let t = apps();
        let git = set(
            "    - git:\n        repoURL: https://example.org/r.git\n        directories:\n          - path: apps/*\n          - path: apps/skip\n            exclude: true\n",
        );
        // (`apps/c/prod` does not exist: the caller skips what is not a directory, as Argo CD's
        // Application for it would fail.)
        let want: Vec<String> = vec![
            "apps/a/prod".into(),
            "apps/b/prod".into(),
            "apps/c/prod".into(),
        ];
        assert_eq!(
            paths(t.path(), &git, "{{path}}/prod", &here),
            Ok(want.clone())
        );
        let got = paths(t.path(), &git, "apps/{{.path.basename}}/prod", &here);
        assert_eq!(got, Ok(want));
        // Another repository's directories are not this one's.
        assert_eq!(paths(t.path(), &git, "{{path}}", &|_| true), Ok(Vec::new()));
    }

    #[test]
    fn list_generator_gives_its_elements_and_an_unknown_parameter_says_so() {
        let t = apps();
        let list =
            set("    - list:\n        elements:\n          - env: dev\n          - env: prod\n");
        let got = paths(t.path(), &list, "apps/c/{{env}}", &here);
        assert_eq!(got, Ok(vec!["apps/c/dev".into(), "apps/c/prod".into()]));
        assert_eq!(
            paths(t.path(), &list, "literal/path", &here),
            Ok(vec!["literal/path".into()])
        );
        let unknown = paths(t.path(), &list, "apps/{{cluster}}", &here);
        assert_eq!(unknown, Err("`{{cluster}}` is not known offline".into()));
    }

    #[test]
    fn matrix_generator_combines_its_generators() {
        let t = apps();
        let matrix = set(
            "    - matrix:\n        generators:\n          - git:\n              repoURL: https://example.org/r.git\n              directories:\n                - path: apps/*\n          - list:\n              elements:\n                - env: dev\n",
        );
        let got = paths(t.path(), &matrix, "{{path}}/{{env}}", &here);
        let want = ["apps/a/dev", "apps/b/dev", "apps/c/dev", "apps/skip/dev"];
        assert_eq!(got, Ok(want.map(String::from).to_vec()));
    }

    #[test]
    fn matrix_renders_the_second_generator_with_each_set_of_the_first() {
        let t = apps();
        // The second generator rendered with each set of the first (`{{team}}`); a parameter
        // both give, with different values, is Argo CD's error (without `goTemplate`), with the
        // same value it is one.
        let matrix = |extra: &str, second: &str| {
            let gens = format!(
                "    - matrix:\n        generators:\n          - list:\n              elements:\n                - {{team: a{extra}}}\n                - {{team: b{extra}}}\n          - {second}\n"
            );
            yaml_serde::from_str::<Value>(&format!("spec:\n  generators:\n{gens}")).expect("parses")
        };
        let git = "git:\n              repoURL: https://example.org/r.git\n              directories:\n                - path: 'apps/{{team}}/*'\n              values:\n                app: '{{team}}-{{path.basename}}'\n";
        let git = format!(
            "{git}              template:\n                metadata:\n                  name: '{{{{ .path.basename | lower }}}}'\n"
        );
        let git = git.as_str();
        let interpolated = paths(t.path(), &matrix("", git), "{{path}}/{{values.app}}", &here);
        let want = ["apps/a/prod/a-prod", "apps/b/prod/b-prod"];
        assert_eq!(interpolated, Ok(want.map(String::from).to_vec()));
        let refused = paths(t.path(), &matrix(", path: x", git), "{{path}}", &here);
        assert!(refused.is_err_and(|e| e.contains("both give `path`")));
        let same = matrix(
            ", path: x",
            "list:\n              elements:\n                - {env: '{{team}}-1', path: x}\n",
        );
        let got = paths(t.path(), &same, "{{team}}/{{env}}", &here);
        assert_eq!(got, Ok(vec!["a/a-1".into(), "b/b-1".into()]));
    }

    #[test]
    fn a_template_patch_is_refused() {
        let t = apps();
        let patched: Value =
            yaml_serde::from_str("spec:\n  templatePatch: '{}'\n").expect("parses");
        assert!(paths(t.path(), &patched, "literal", &here).is_err());
    }

    #[test]
    fn merge_generator_overrides_sets_by_their_merge_keys() {
        let t = apps();
        // `merge`: the git directories, `c` given another path by a list element.
        let merge = set(
            "    - merge:\n        mergeKeys: [path.basename]\n        generators:\n          - git:\n              repoURL: https://example.org/r.git\n              directories:\n                - path: apps/*\n          - list:\n              elements:\n                - path.basename: c\n                  path: apps/c/dev\n",
        );
        let got = paths(t.path(), &merge, "{{path}}", &here);
        let want = ["apps/a", "apps/b", "apps/c/dev", "apps/skip"];
        assert_eq!(got, Ok(want.map(String::from).to_vec()));
        // A set lacking a merge key agrees with a later set lacking it too.
        let lacking = set(
            "    - merge:\n        mergeKeys: [team]\n        generators:\n          - list:\n              elements:\n                - env: a\n                - env: b\n                  team: x\n          - list:\n              elements:\n                - dir: none\n                - team: x\n                  dir: x\n",
        );
        let got = paths(t.path(), &lacking, "{{env}}/{{dir}}", &here);
        assert_eq!(got, Ok(vec!["a/none".into(), "b/x".into()]));
        // The first generator's sets may agree; each is overridden.
        let base_twice = set(
            "    - merge:\n        mergeKeys: [env]\n        generators:\n          - list:\n              elements:\n                - env: a\n                  n: '1'\n                - env: a\n                  n: '2'\n          - list:\n              elements:\n                - env: a\n                  dir: x\n",
        );
        let got = paths(t.path(), &base_twice, "{{env}}/{{dir}}/{{n}}", &here);
        assert_eq!(got, Ok(vec!["a/x/1".into(), "a/x/2".into()]));
    }

    #[test]
    fn merge_refuses_what_argo_cd_refuses() {
        let t = apps();
        // What Argo CD refuses: one generator, two later sets agreeing on the merge keys.
        let one = set(
            "    - merge:\n        mergeKeys: [env]\n        generators:\n          - list:\n              elements:\n                - env: a\n",
        );
        let err = paths(t.path(), &one, "{{env}}", &here).unwrap_err();
        assert!(err.contains("fewer than two generators"), "{err}");
        let twice = set(
            "    - merge:\n        mergeKeys: [env]\n        generators:\n          - list:\n              elements:\n                - env: a\n                - env: a\n          - list:\n              elements:\n                - env: a\n                  dir: x\n                - env: a\n                  dir: y\n",
        );
        let err = paths(t.path(), &twice, "{{env}}/{{dir}}", &here).unwrap_err();
        assert!(
            err.contains("generator 2 gives two parameter sets"),
            "{err}"
        );
    }

    #[test]
    fn a_clusters_generator_is_refused() {
        let t = apps();
        let clusters = set("    - clusters: {}\n");
        assert_eq!(
            paths(t.path(), &clusters, "{{name}}", &here),
            Err("a `clusters` generator".into())
        );
    }

    #[test]
    fn directory_patterns_match_as_go_path_match_and_git_parameters_name_components() {
        let t = tempfile::tempdir().expect("tempdir");
        for d in [
            "apps/a1/prod",
            "apps/b2/prod",
            "apps/c/prod",
            "apps/.hidden/prod",
        ] {
            std::fs::create_dir_all(t.path().join(d)).expect("mkdir");
        }
        let set = |gens: &str| -> Value {
            yaml_serde::from_str(&format!("spec:\n  generators:\n{gens}")).expect("parses")
        };
        let here = |_: &str| false;
        let git = |pattern: &str, extra: &str| {
            set(&format!(
                "    - git:\n        repoURL: https://example.org/r.git\n{extra}        directories:\n          - path: '{pattern}'\n"
            ))
        };
        let got = |v: &Value, template: &str| paths(t.path(), v, template, &here);
        let owned = |v: &[&str]| Ok(v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        // `**` is two `*`s inside one component; `?` one character; a class one of its own.
        assert_eq!(
            got(&git("apps/**", ""), "{{path}}"),
            owned(&["apps/a1", "apps/b2", "apps/c"])
        );
        assert_eq!(
            got(&git("apps/??", ""), "{{path}}"),
            owned(&["apps/a1", "apps/b2"])
        );
        assert_eq!(
            got(&git("apps/[^a]*", ""), "{{path}}"),
            owned(&["apps/b2", "apps/c"])
        );
        assert_eq!(
            got(&git("apps/*/prod", ""), "{{path[1]}}"),
            owned(&["a1", "b2", "c"])
        );
        let segments = got(&git("apps/*", ""), "x/{{ index .path.segments 1 }}");
        assert_eq!(segments, owned(&["x/a1", "x/b2", "x/c"]));
        assert_eq!(
            got(&git("apps/[a", ""), "{{path}}"),
            Err("the malformed directory pattern `apps/[a`".into())
        );
        // `pathParamPrefix` names the parameters under it; `values` are filled from them.
        let prefixed = git("apps/c", "        pathParamPrefix: app\n");
        assert_eq!(
            got(&prefixed, "{{.app.path.path}}/{{app.path[0]}}"),
            owned(&["apps/c/apps"])
        );
        assert!(got(&prefixed, "{{path}}").is_err());
        let valued = git(
            "apps/c",
            "        values:\n          env: '{{path.basename}}-prod'\n",
        );
        assert_eq!(
            got(&valued, "{{path}}/{{.values.env}}"),
            owned(&["apps/c/c-prod"])
        );
    }
}
