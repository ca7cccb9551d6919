//! The top-level name-reference fix-up (kustomize `api/filters/nameref/nameref.go`,
//! `selectReferral`): the value each reference field renders with, what it points at, and where
//! it was written.

use super::super::refs::{self, NameRefRule, RawRef};
use super::super::{Identity, Origin, Problem, ProblemKind, Reference, Resolution};
use super::obj::{Obj, Source, effective_ns, get_str, is_cluster_scoped};
use crate::yamlpos::Seg;

/// Every reference of every object, with its rendered value and resolution.
pub(super) fn fix_back_references(
    acc: &[Obj],
    rules: &[NameRefRule],
    problems: &mut Vec<Problem>,
) -> Vec<Reference> {
    pathless_rules(acc, rules, problems);
    let index = resolutions(acc);
    let mut references = Vec::new();
    for o in acc {
        let mut attr_cache: Vec<Option<Vec<RawRef>>> = o.sources.iter().map(|_| None).collect();
        let own = refs::extract(&o.kind, &o.api_version, &o.value, false);
        for r in &own {
            let follow = Follow {
                builtin: refs::builtin_rewrites(r.target_kind, &o.kind, &r.fs_path),
                rules: refs::configured(rules, r, &o.kind, &o.api_version),
            };
            let rewritable = follow.builtin || !follow.rules.is_empty();
            let (mut rendered_name, mut rendered_hash) = (r.name.clone(), false);
            if rewritable {
                match referral(o, r, &follow, acc) {
                    Ok(Some(c)) => (rendered_name, rendered_hash) = (c.name.clone(), c.hashed),
                    Ok(None) => {}
                    Err(()) => problems.push(Problem {
                        kind: ProblemKind::BuildError,
                        origin: attribute(o, r, &own, &mut attr_cache),
                        message: format!(
                            "{} reference `{}` matches several objects: kustomize fails to build",
                            r.target_kind, r.name
                        ),
                    }),
                }
            }
            let resolution = resolve(o, r, acc, &rendered_name, rendered_hash)
                .map_or(Resolution::Unresolved, |i| index[i]);
            let origin = attribute(o, r, &own, &mut attr_cache);
            let keys = keys_written(o, r, &own, &mut attr_cache, &origin);
            references.push(Reference {
                referrer_kind: o.kind.clone(),
                referrer: Identity {
                    name: o.name.clone(),
                    namespace: o.deployed_ns().map(str::to_owned),
                },
                field: r.field,
                target_kind: r.target_kind.to_owned(),
                origin,
                keys,
                path: r.path.clone(),
                name: r.name.clone(),
                optional: r.optional,
                rewritable,
                rendered_name,
                rendered_hash_suffix: rendered_hash,
                resolution,
            });
        }
    }
    references
}

/// Each object's [`Resolution`]: its index among the resources or among the generated objects.
fn resolutions(acc: &[Obj]) -> Vec<Resolution> {
    let mut counts = (0usize, 0usize);
    (acc.iter())
        .map(|o| {
            if o.generated.is_some() {
                counts.1 += 1;
                Resolution::Generated(counts.1 - 1)
            } else {
                counts.0 += 1;
                Resolution::Resource(counts.0 - 1)
            }
        })
        .collect()
}

/// Each key `r` names, with where the latest source holding it under this reference wrote it
/// (`origin`, the reference's own, when none does).
fn keys_written(
    o: &Obj,
    r: &RawRef,
    own: &[RawRef],
    cache: &mut [Option<Vec<RawRef>>],
    origin: &Origin,
) -> Vec<(String, Origin)> {
    (r.keys.iter())
        .map(|(k, path)| {
            let pick = |x: &RawRef| {
                let at = x.keys.iter().find(|(n, _)| x.norm == r.norm && n == k);
                at?.1.clone()
            };
            let at = path
                .as_deref()
                .and_then(|p| written_at(o, p, own, cache, pick));
            (k.clone(), at.unwrap_or_else(|| origin.clone()))
        })
        .collect()
}

/// A `configurations:` nameReference fieldSpec without a path fails the build as soon as an
/// object it selects is built, whatever the object holds (kyaml `api/filters/fieldspec` walks
/// the empty path: "cannot set or create an empty field name").
fn pathless_rules(acc: &[Obj], rules: &[NameRefRule], problems: &mut Vec<Problem>) {
    for rule in rules.iter().filter(|r| r.path.is_empty()) {
        let Some(o) = acc.iter().find(|o| rule.selects(&o.kind, &o.api_version)) else {
            continue;
        };
        let problem = Problem {
            kind: ProblemKind::BuildError,
            origin: rule.origin.clone(),
            message: format!(
                "a nameReference fieldSpec without a path selects {} `{}`: kustomize fails to build (cannot set or create an empty field name)",
                o.kind, o.name
            ),
        };
        // The same file read twice (by a base and its overlay) gives its rules twice; another
        // problem on the same line (a `create` the model cannot read) does not stand for it.
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
}

/// The renamed objects a reference follows: those of its own kind when kustomize's built-in
/// configuration rewrites it, and those `configurations:` rules let it follow.
struct Follow<'r> {
    builtin: bool,
    rules: Vec<&'r NameRefRule>,
}

/// The object a rewritable reference of `o` is rewritten to: one of the objects it may
/// [`Follow`] that has had the referenced name, in the referrer's namespace (unless either side
/// is cluster-scoped); among several, the ones with the referrer's prefixes and suffixes. `Err`
/// when that still leaves several that render differently.
fn referral<'a>(
    o: &Obj,
    r: &RawRef,
    follow: &Follow<'_>,
    acc: &'a [Obj],
) -> Result<Option<&'a Obj>, ()> {
    let ref_ns = effective_ns(o.namespace.as_deref(), &o.kind);
    let mut cands: Vec<&Obj> = acc
        .iter()
        .filter(|c| {
            // Only the core group for the core kinds; any group for the others.
            let followed = (follow.builtin && c.kind == r.target_kind)
                || (follow.rules.iter()).any(|rule| rule.follows(&c.kind, &c.api_version));
            followed
                && (c.group().is_empty()
                    || !matches!(
                        c.kind.as_str(),
                        "Secret" | "ConfigMap" | "ServiceAccount" | "PersistentVolumeClaim"
                    ))
        })
        .filter(|c| c.had_name(&r.name))
        .filter(|c| {
            is_cluster_scoped(&o.kind)
                || is_cluster_scoped(&c.kind)
                || c.kind == "ServiceAccount"
                || effective_ns(c.namespace.as_deref(), &c.kind) == ref_ns
        })
        .collect();
    if cands.len() > 1 {
        cands.retain(|c| c.prefixes == o.prefixes && c.suffixes == o.suffixes);
    }
    match cands.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many if many
            .iter()
            .all(|c| c.name == many[0].name && c.hashed == many[0].hashed) =>
        {
            Ok(Some(many[0]))
        }
        _ => Err(()),
    }
}

/// The index in `acc` of the object the rendered value names (a `SealedSecret` stands for the
/// Secret it becomes), in the namespaces they are applied into ([`Obj::deployed_ns`]).
fn resolve(o: &Obj, r: &RawRef, acc: &[Obj], name: &str, hashed: bool) -> Option<usize> {
    let ref_ns = effective_ns(o.deployed_ns(), &o.kind);
    acc.iter().position(|c| {
        let kind_ok = c.kind == r.target_kind
            || (r.target_kind == "Secret"
                && c.kind == "SealedSecret"
                && c.api_version == "bitnami.com/v1alpha1");
        kind_ok
            && c.name == name
            && c.hashed == hashed
            && (is_cluster_scoped(&c.kind) || effective_ns(c.deployed_ns(), &c.kind) == ref_ns)
    })
}

/// Where a final reference was written: the latest source that holds it.
fn attribute(o: &Obj, r: &RawRef, own: &[RawRef], cache: &mut [Option<Vec<RawRef>>]) -> Origin {
    let pick = |x: &RawRef| (x.norm == r.norm && x.name == r.name).then(|| x.path.clone());
    written_at(o, &r.path, own, cache, pick).unwrap_or_else(|| o.origin.clone())
}

/// Where the value at `path` of `o` was written: the latest source that holds it, `pick`
/// giving its path among that source's references (`None` when the source does not hold it).
///
/// `cache` holds, per source of `o`, the references extracted from that source's document: an
/// object with several references is attributed once per reference, and extraction is the
/// expensive part. `own` are the references of `o`'s value, which a source still holding that
/// very value (not patched since) has too.
fn written_at(
    o: &Obj,
    path: &[Seg],
    own: &[RawRef],
    cache: &mut [Option<Vec<RawRef>>],
    pick: impl Fn(&RawRef) -> Option<Vec<Seg>>,
) -> Option<Origin> {
    for (s, cached) in o.sources.iter().zip(cache.iter_mut()).rev() {
        match s {
            Source::Json {
                doc,
                file,
                op,
                written,
                exact,
            } => {
                // The op's value is the subtree at `written`: the rest of the path is in it,
                // unless a later op moved the items of a list there (then the `value:` line).
                if let Some(rest) = path.strip_prefix(written.as_slice()) {
                    let rest = if *exact { rest } else { &[] };
                    let at = [&[Seg::Index(*op), Seg::from("value")], rest].concat();
                    return Some(Origin::new(file, doc.line_of(&at)));
                }
            }
            Source::Item {
                doc,
                file,
                at,
                value,
            } => {
                let extracted: &[RawRef] = if std::sync::Arc::ptr_eq(value, &o.value) {
                    own
                } else {
                    cached
                        .get_or_insert_with(|| refs::extract(&o.kind, &o.api_version, value, true))
                };
                if let Some(p) = extracted.iter().find_map(&pick) {
                    return Some(Origin::new(file, doc.line_of(&[&at[..], &p[..]].concat())));
                }
            }
            Source::Doc(d, file) => {
                let Ok(v) = &d.value else { continue };
                let extracted: &[RawRef] = if std::sync::Arc::ptr_eq(v, &o.value) {
                    own
                } else {
                    cached.get_or_insert_with(|| {
                        let kind = get_str(v, "kind")
                            .filter(|k| !k.is_empty())
                            .unwrap_or(&o.kind);
                        let api = get_str(v, "apiVersion")
                            .filter(|k| !k.is_empty())
                            .unwrap_or(&o.api_version);
                        refs::extract(kind, api, v, true)
                    })
                };
                if let Some(p) = extracted.iter().find_map(&pick) {
                    return Some(Origin::new(file, d.line_of(&p)));
                }
            }
        }
    }
    None
}
