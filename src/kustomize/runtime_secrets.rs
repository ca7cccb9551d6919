//! Secrets that operators create at run time from a custom resource the overlay renders
//! (cert-manager `Certificate`, External Secrets `ExternalSecret`, ...): data ([`SECRET_MAKERS`])
//! and the reading of one rendered object against it (`made_by`).
//!
//! The object is read as it renders (after patches), with its rendered name and namespace:
//! kustomize's `namePrefix`/`nameSuffix` rewrite a custom resource's `metadata.name` but no
//! name inside its `spec` (kustomize knows no name-reference field of these kinds), so a Secret
//! named by a spec field keeps the written name while one named after the object takes the
//! rendered name.

use yaml_serde::Value;

use crate::yamlpos::value_at;

/// How a row finds the name of the Secret its object makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretName {
    /// The first of these string fields (paths of mapping keys) that is set and not empty;
    /// when none is, the object's rendered `metadata.name` if `or_own_name`, else no Secret.
    FirstOf {
        fields: &'static [&'static [&'static str]],
        or_own_name: bool,
    },
    /// The string at `key` of every item of the list at `list` (several Secrets per object).
    EachOf {
        list: &'static [&'static str],
        key: &'static str,
    },
}

/// When the object makes the Secret at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// Always.
    Always,
    /// Unless the string at `field` is one of `values` (absent: made).
    Unless {
        field: &'static [&'static str],
        values: &'static [&'static str],
    },
    /// Only when the field at `field` is the boolean `true` (absent: not made).
    WhenTrue(&'static [&'static str]),
}

/// The namespace the Secret lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lands {
    /// The object's own rendered namespace.
    OwnNamespace,
    /// Namespaces the operator selects at run time: those of the string list at `listed` when
    /// no field of `selectors` is present, else any namespace (label selectors match
    /// namespaces by their labels in the cluster, which the tree does not show).
    Selected {
        listed: &'static [&'static str],
        selectors: &'static [&'static [&'static str]],
    },
}

/// One kind of custom resource that makes Secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretMaker {
    /// API group of its `apiVersion` (every version of the group).
    pub group: &'static str,
    pub kind: &'static str,
    pub name: SecretName,
    pub made: Made,
    pub lands: Lands,
}

/// The custom resources whose operators create a Secret (documented in
/// docs/rules.md#dangling-reference). Bitnami `SealedSecret` is not here: the model reads it as
/// the Secret it unseals into.
pub static SECRET_MAKERS: &[SecretMaker] = &[
    // cert-manager/cert-manager `pkg/apis/certmanager/v1/types_certificate.go`:
    // `CertificateSpec.SecretName`, required, no default.
    SecretMaker {
        group: "cert-manager.io",
        kind: "Certificate",
        name: SecretName::FirstOf {
            fields: &[&["spec", "secretName"]],
            or_own_name: false,
        },
        made: Made::Always,
        lands: Lands::OwnNamespace,
    },
    // external-secrets/external-secrets `apis/externalsecrets/v1/externalsecret_types.go`:
    // `ExternalSecretTarget.Name` "Defaults to the .metadata.name of the ExternalSecret";
    // `CreationPolicy` `Merge` and `None` do not create the Secret (default `Owner`).
    SecretMaker {
        group: "external-secrets.io",
        kind: "ExternalSecret",
        name: SecretName::FirstOf {
            fields: &[&["spec", "target", "name"]],
            or_own_name: true,
        },
        made: Made::Unless {
            field: &["spec", "target", "creationPolicy"],
            values: &["Merge", "None"],
        },
        lands: Lands::OwnNamespace,
    },
    // external-secrets/external-secrets `apis/externalsecrets/v1/clusterexternalsecret_types.go`:
    // an ExternalSecret per selected namespace, named `ExternalSecretName` ("Defaults to the
    // name of the ClusterExternalSecret"), from `ExternalSecretSpec` (its target name defaults
    // to that ExternalSecret's name); namespaces by `NamespaceSelector(s)` (labels, at run
    // time) ORed with the `Namespaces` names.
    SecretMaker {
        group: "external-secrets.io",
        kind: "ClusterExternalSecret",
        name: SecretName::FirstOf {
            fields: &[
                &["spec", "externalSecretSpec", "target", "name"],
                &["spec", "externalSecretName"],
            ],
            or_own_name: true,
        },
        made: Made::Unless {
            field: &["spec", "externalSecretSpec", "target", "creationPolicy"],
            values: &["Merge", "None"],
        },
        lands: Lands::Selected {
            listed: &["spec", "namespaces"],
            selectors: &[
                &["spec", "namespaceSelector"],
                &["spec", "namespaceSelectors"],
            ],
        },
    },
    // hashicorp/vault-secrets-operator `api/v1beta1/common.go`: `Destination.Name`, and
    // `Destination.Create` (default false: the Secret must exist already) for the three kinds
    // whose spec has a `Destination` (`vaultstaticsecret_types.go`,
    // `vaultdynamicsecret_types.go`, `vaultpkisecret_types.go`).
    vault("VaultStaticSecret"),
    vault("VaultDynamicSecret"),
    vault("VaultPKISecret"),
    // 1Password/onepassword-operator `internal/controller/onepassworditem_controller.go`
    // (`handleOnePasswordItem`): the Secret is named `resource.GetName()`, in its namespace.
    SecretMaker {
        group: "onepassword.com",
        kind: "OnePasswordItem",
        name: SecretName::FirstOf {
            fields: &[],
            or_own_name: true,
        },
        made: Made::Always,
        lands: Lands::OwnNamespace,
    },
    // isindir/sops-secrets-operator `api/v1alpha3/sopssecret_types.go`:
    // `SopsSecretSpec.SecretsTemplate` (`secretTemplates`), each `SopsSecretTemplate.Name`
    // required. A name sops encrypted (`ENC[...]`) names no Secret a reference uses.
    SecretMaker {
        group: "isindir.github.com",
        kind: "SopsSecret",
        name: SecretName::EachOf {
            list: &["spec", "secretTemplates"],
            key: "name",
        },
        made: Made::Always,
        lands: Lands::OwnNamespace,
    },
];

/// A Vault Secrets Operator kind: `spec.destination.name` when `spec.destination.create`.
const fn vault(kind: &'static str) -> SecretMaker {
    SecretMaker {
        group: "secrets.hashicorp.com",
        kind,
        name: SecretName::FirstOf {
            fields: &[&["spec", "destination", "name"]],
            or_own_name: false,
        },
        made: Made::WhenTrue(&["spec", "destination", "create"]),
        lands: Lands::OwnNamespace,
    }
}

/// Where a Secret made at run time lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretScope {
    /// This namespace (`None`: the object renders without one).
    Namespace(Option<String>),
    /// Each of these namespaces.
    Namespaces(Vec<String>),
    /// Any namespace.
    Any,
}

impl SecretScope {
    /// True when a Secret of this scope is in `namespace`.
    pub fn covers(&self, namespace: Option<&str>) -> bool {
        match self {
            SecretScope::Namespace(ns) => ns.as_deref() == namespace,
            SecretScope::Namespaces(list) => namespace.is_some_and(|n| list.iter().any(|l| l == n)),
            SecretScope::Any => true,
        }
    }
}

/// A Secret an operator makes at run time from an object the overlay renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeSecret {
    pub name: String,
    pub scope: SecretScope,
}

/// The Secrets the rendered object (`value` as patched, named `name` in `namespace` after
/// rendering) makes at run time by [`SECRET_MAKERS`]. Empty for any other object, and for a
/// field that is not the type the row expects (nothing is assumed made).
pub(crate) fn made_by(
    (group, kind): (&str, &str),
    value: &Value,
    (name, namespace): (&str, Option<&str>),
) -> Vec<RuntimeSecret> {
    let Some(row) = SECRET_MAKERS
        .iter()
        .find(|r| r.kind == kind && r.group == group)
    else {
        return Vec::new();
    };
    if !is_made(row.made, value) {
        return Vec::new();
    }
    let scope = match row.lands {
        Lands::OwnNamespace => SecretScope::Namespace(namespace.map(str::to_owned)),
        Lands::Selected { listed, selectors } => selected(value, listed, selectors),
    };
    names(row.name, value, name)
        .into_iter()
        .map(|name| RuntimeSecret {
            name,
            scope: scope.clone(),
        })
        .collect()
}

fn is_made(made: Made, value: &Value) -> bool {
    match made {
        Made::Always => true,
        Made::Unless { field, values } => match value_at(value, field) {
            None | Some(Value::Null) => true,
            Some(v) => v.as_str().is_some_and(|s| !values.contains(&s)),
        },
        Made::WhenTrue(field) => value_at(value, field).and_then(Value::as_bool) == Some(true),
    }
}

fn names(how: SecretName, value: &Value, own: &str) -> Vec<String> {
    match how {
        SecretName::FirstOf {
            fields,
            or_own_name,
        } => {
            // A field written but not a string names nothing we can read: no fallback either.
            let mut first = None;
            for f in fields {
                match value_at(value, f) {
                    None | Some(Value::Null) => continue,
                    Some(Value::String(s)) if s.is_empty() => continue,
                    Some(Value::String(s)) => first = Some(Some(s.clone())),
                    Some(_) => first = Some(None),
                }
                break;
            }
            match first {
                Some(found) => found.into_iter().collect(),
                None => (or_own_name && !own.is_empty())
                    .then(|| own.to_owned())
                    .into_iter()
                    .collect(),
            }
        }
        SecretName::EachOf { list, key } => value_at(value, list)
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|item| item.get(key).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// The namespaces a cluster-wide maker selects: any when a label selector is present (or the
/// name list is not a list of strings), else the listed names.
fn selected(
    value: &Value,
    listed: &'static [&'static str],
    selectors: &'static [&'static [&'static str]],
) -> SecretScope {
    let present = |v: Option<&Value>| !matches!(v, None | Some(Value::Null));
    if selectors.iter().any(|s| present(value_at(value, s))) {
        return SecretScope::Any;
    }
    let names: Option<Vec<String>> = value_at(value, listed)
        .and_then(Value::as_sequence)
        .map(|s| s.iter().map(|n| n.as_str().map(str::to_owned)).collect())
        .unwrap_or(Some(Vec::new()));
    names.map_or(SecretScope::Any, SecretScope::Namespaces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(yaml: &str, name: &str, ns: Option<&str>) -> Vec<RuntimeSecret> {
        let v: Value = yaml_serde::from_str(yaml).expect("test yaml");
        let api = v["apiVersion"].as_str().unwrap_or_default();
        let group = api.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = v["kind"].as_str().unwrap_or_default();
        made_by((group, kind), &v, (name, ns))
    }

    fn in_ns(name: &str, ns: &str) -> RuntimeSecret {
        RuntimeSecret {
            name: name.to_owned(),
            scope: SecretScope::Namespace(Some(ns.to_owned())),
        }
    }

    #[test]
    fn external_secret_target_name_defaults_to_the_rendered_name_and_merge_makes_none() {
        let es = "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata: {name: a}\nspec: {target: {name: t}}\n";
        assert_eq!(made(es, "p-a", Some("n")), [in_ns("t", "n")]);
        let es = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: a}\nspec: {target: {name: ''}}\n";
        assert_eq!(made(es, "p-a", Some("n")), [in_ns("p-a", "n")]);
        let es = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: a}\nspec: {target: {creationPolicy: Merge}}\n";
        assert_eq!(made(es, "a", Some("n")), []);
        // A target name that is not a string: nothing is assumed.
        let es = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: a}\nspec: {target: {name: [x]}}\n";
        assert_eq!(made(es, "a", Some("n")), []);
        // Another group's ExternalSecret is not this one.
        let es = "apiVersion: example.com/v1\nkind: ExternalSecret\nmetadata: {name: a}\n";
        assert_eq!(made(es, "a", Some("n")), []);
    }

    #[test]
    fn vault_destinations_need_create_and_sops_makes_each_template() {
        let v = "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultPKISecret\nmetadata: {name: a}\nspec: {destination: {name: d, create: true}}\n";
        assert_eq!(made(v, "a", Some("n")), [in_ns("d", "n")]);
        let v = "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultStaticSecret\nmetadata: {name: a}\nspec: {destination: {name: d}}\n";
        assert_eq!(made(v, "a", Some("n")), []);
        let s = "apiVersion: isindir.github.com/v1alpha3\nkind: SopsSecret\nmetadata: {name: a}\nspec: {secretTemplates: [{name: x}, {name: y}, {data: {}}]}\n";
        assert_eq!(made(s, "a", Some("n")), [in_ns("x", "n"), in_ns("y", "n")]);
    }

    #[test]
    fn cluster_external_secret_lands_in_listed_or_any_namespace() {
        let c = "apiVersion: external-secrets.io/v1\nkind: ClusterExternalSecret\nmetadata: {name: c}\nspec: {externalSecretName: e, namespaces: [a, b], externalSecretSpec: {}}\n";
        let got = made(c, "c", None);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "e");
        assert!(got[0].scope.covers(Some("a")) && !got[0].scope.covers(Some("z")));
        let c = "apiVersion: external-secrets.io/v1\nkind: ClusterExternalSecret\nmetadata: {name: c}\nspec: {namespaces: [a], namespaceSelectors: [{matchLabels: {x: y}}], externalSecretSpec: {target: {name: t}}}\n";
        assert_eq!(
            made(c, "c", None),
            [RuntimeSecret {
                name: "t".to_owned(),
                scope: SecretScope::Any
            }]
        );
    }
}
