//! Name references: finding them in an object, and deciding whether kustomize rewrites them.
//!
//! Owns the list of reference fields emp-seal looks at, the built-in nameReference table (which
//! of those fields kustomize rewrites) and `configurations:` nameReference entries. Must not
//! decide rendered names itself: `build` applies the rewrite with the transformed inventory.
//!
//! Upstream: kubernetes-sigs/kustomize `api/internal/konfig/builtinpluginconsts/namereference.go`
//! (the built-in table) and `api/filters/nameref/nameref.go` (how a referral is selected).

use super::Origin;
use crate::yamlpos::Seg;
use yaml_serde::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefField {
    /// `containers[].envFrom[].secretRef.name` (and `initContainers`).
    EnvFromSecret,
    /// `containers[].envFrom[].configMapRef.name`.
    EnvFromConfigMap,
    /// `containers[].env[].valueFrom.secretKeyRef`.
    SecretKeyRef,
    /// `containers[].env[].valueFrom.configMapKeyRef`.
    ConfigMapKeyRef,
    /// `volumes[].secret.secretName`.
    VolumeSecret,
    /// `volumes[].configMap.name`.
    VolumeConfigMap,
    /// `volumes[].projected.sources[].secret.name`.
    ProjectedSecret,
    /// The Secret of another volume source: `csi.nodePublishSecretRef.name`,
    /// `azureFile.secretName`, and `secretRef.name` of `cephfs`, `cinder`, `flexVolume`,
    /// `iscsi`, `rbd`, `scaleIO` and `storageos`. kustomize's nameReference table lists none
    /// of them, so a rename leaves them as written.
    VolumeSourceSecret,
    /// `volumes[].projected.sources[].configMap.name`.
    ProjectedConfigMap,
    /// `volumes[].persistentVolumeClaim.claimName`.
    PersistentVolumeClaim,
    /// Pod `serviceAccountName`.
    ServiceAccountName,
    /// `imagePullSecrets[].name` (pods and `ServiceAccount`s).
    ImagePullSecret,
    /// Ingress `spec.tls[].secretName`.
    IngressTls,
    /// KEDA `ScaledJob`/`ScaledObject` `spec.triggers[].authenticationRef.name`.
    KedaAuthenticationRef,
    /// KEDA `TriggerAuthentication` `spec.secretTargetRef[]`.
    KedaSecretTargetRef,
}

/// What a rendered reference points at in the overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// An object from `resources:` (index into `Overlay::resources()`); for a Secret target this
    /// includes a `SealedSecret` with the same rendered name and namespace (the Secret its
    /// controller creates).
    Resource(usize),
    /// A generated object (index into `Overlay::generated()`).
    Generated(usize),
    /// Nothing in the overlay has that name (it may exist in the cluster; `optional` says
    /// whether a pod starts without it).
    Unresolved,
}

/// A reference found in one value, before rendering.
#[derive(Debug, Clone)]
pub(crate) struct RawRef {
    pub(crate) field: RefField,
    pub(crate) target_kind: &'static str,
    /// Index-form path to the name scalar.
    pub(crate) path: Vec<Seg>,
    /// Path with `[name=..]`-style keys for keyed lists, for matching across patches.
    pub(crate) norm: String,
    /// Slash path without indices, as kustomize fieldSpecs spell it.
    pub(crate) fs_path: String,
    pub(crate) name: String,
    /// The keys read through it, each with the path to its `key` scalar (`None` for the keys
    /// an Ingress reads without naming them).
    pub(crate) keys: Vec<(String, Option<Vec<Seg>>)>,
    pub(crate) optional: bool,
}

/// The pod spec path of a kind, if it has one emp-seal follows.
pub(crate) fn pod_spec_path(kind: &str, api_version: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "PodTemplate" => &["template", "spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicaSet"
        | "ReplicationController" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "ScaledJob" if api_version.starts_with("keda.sh/") => {
            &["spec", "jobTargetRef", "template", "spec"]
        }
        // Argo Rollouts' `Rollout` (argo-rollouts `pkg/apis/rollouts/v1alpha1/types.go`: a
        // Deployment's pod template under `spec.template`). Not in kustomize's nameReference
        // table, so a `nameSuffix` leaves its references as written.
        "Rollout" if api_version.starts_with("argoproj.io/") => &["spec", "template", "spec"],
        _ => return None,
    })
}

/// The pod spec of a kind emp-seal has no entry for, recognised by its shape: a
/// `spec.template.spec` holding a `containers` list, as a Deployment's does (Knative's
/// `Service`, a `CloneSet` of Kruise, and other workload resources built on the pod template).
/// kustomize's nameReference table knows no such kind, so a rename leaves its references as
/// written; emp-seal still reads them, rather than pass a misspelt Secret name unseen.
fn pod_template_of(value: &Value) -> Option<&'static [&'static str]> {
    const PATH: &[&str] = &["spec", "template", "spec"];
    let spec = PATH.iter().try_fold(value, |v, k| v.get(k))?;
    spec.get("containers")?.as_sequence().map(|_| PATH)
}

struct Walker<'a> {
    out: &'a mut Vec<RawRef>,
    path: Vec<Seg>,
    norm: Vec<String>,
    /// Also a holder without a name (its name empty): a patch may write only its `key`.
    nameless: bool,
}

impl Walker<'_> {
    fn at<F: FnOnce(&mut Self)>(&mut self, seg: Seg, norm: String, f: F) {
        self.path.push(seg);
        self.norm.push(norm);
        f(self);
        self.path.pop();
        self.norm.pop();
    }

    fn key<F: FnOnce(&mut Self, &Value)>(&mut self, v: &Value, k: &str, f: F) {
        if let Some(child) = v.get(k) {
            self.at(Seg::Key(k.to_owned()), k.to_owned(), |w| f(w, child));
        }
    }

    /// Each item of a list; keyed lists use `[name=X]` in the normalised path.
    fn items<F: FnMut(&mut Self, &Value)>(&mut self, v: &Value, keyed: bool, mut f: F) {
        let Some(seq) = v.as_sequence() else { return };
        for (i, item) in seq.iter().enumerate() {
            let norm = match item.get("name").and_then(Value::as_str) {
                Some(n) if keyed => format!("[name={n}]"),
                _ => format!("[{i}]"),
            };
            self.at(Seg::Index(i), norm, |w| f(w, item));
        }
    }

    fn push(&mut self, field: RefField, target: &'static str, name_key: &str, holder: &Value) {
        let name = holder.get(name_key).and_then(Value::as_str);
        let Some(name) = name.or(self.nameless.then_some("")) else {
            return;
        };
        let mut path = self.path.clone();
        path.push(Seg::Key(name_key.to_owned()));
        // Joined from borrowed segments: a pod spec holds dozens of references.
        let norm: Vec<&str> = (self.norm.iter().map(String::as_str))
            .chain([name_key])
            .collect();
        let fs_path = (norm.iter().copied())
            .filter(|s| !s.starts_with('['))
            .collect::<Vec<_>>()
            .join("/");
        // Its own `key`, then its `items[].key`. An Ingress's TLS Secret is read for `tls.crt`
        // and `tls.key` (kubernetes `staging/src/k8s.io/api/networking/v1/types.go`, `IngressTLS`,
        // and the Ingress documentation: "must contain keys named tls.crt and tls.key").
        let items = holder.get("items").and_then(Value::as_sequence);
        let keys = if field == RefField::IngressTls {
            ["tls.crt", "tls.key"].map(|k| (k.to_owned(), None)).into()
        } else {
            let at = |segs: &[Seg]| [&self.path[..], segs, &[Seg::from("key")]].concat();
            let items = items.into_iter().flatten().enumerate();
            std::iter::once((holder, at(&[])))
                .chain(items.map(|(i, v)| (v, at(&[Seg::from("items"), Seg::Index(i)]))))
                .filter_map(|(v, p)| Some((v.get("key")?.as_str()?.to_owned(), Some(p))))
                .collect()
        };
        self.out.push(RawRef {
            field,
            target_kind: target,
            path,
            norm: norm.join("."),
            fs_path,
            name: name.to_owned(),
            keys,
            optional: holder.get("optional").and_then(Value::as_bool) == Some(true),
        });
    }

    fn pod_spec(&mut self, spec: &Value) {
        for list in ["containers", "initContainers"] {
            self.key(spec, list, |w, cs| {
                w.items(cs, true, |w, c| {
                    w.key(c, "envFrom", |w, ef| {
                        w.items(ef, false, |w, e| {
                            w.key(e, "secretRef", |w, r| {
                                w.push(RefField::EnvFromSecret, "Secret", "name", r)
                            });
                            w.key(e, "configMapRef", |w, r| {
                                w.push(RefField::EnvFromConfigMap, "ConfigMap", "name", r);
                            });
                        });
                    });
                    w.key(c, "env", |w, env| {
                        w.items(env, true, |w, e| {
                            w.key(e, "valueFrom", |w, vf| {
                                w.key(vf, "secretKeyRef", |w, r| {
                                    w.push(RefField::SecretKeyRef, "Secret", "name", r)
                                });
                                w.key(vf, "configMapKeyRef", |w, r| {
                                    w.push(RefField::ConfigMapKeyRef, "ConfigMap", "name", r);
                                });
                            });
                        });
                    });
                });
            });
        }
        self.volumes(spec);
        self.push(
            RefField::ServiceAccountName,
            "ServiceAccount",
            "serviceAccountName",
            spec,
        );
        self.image_pull_secrets(spec);
    }

    /// The references of a pod spec's `volumes`.
    fn volumes(&mut self, spec: &Value) {
        self.key(spec, "volumes", |w, vols| {
            w.items(vols, true, |w, vol| {
                w.key(vol, "secret", |w, s| {
                    w.push(RefField::VolumeSecret, "Secret", "secretName", s)
                });
                w.key(vol, "configMap", |w, s| {
                    w.push(RefField::VolumeConfigMap, "ConfigMap", "name", s)
                });
                // kubernetes `staging/src/k8s.io/api/core/v1/types.go`, `VolumeSource`: the
                // sources that name a Secret of the pod's namespace.
                w.key(vol, "csi", |w, c| {
                    w.key(c, "nodePublishSecretRef", |w, r| {
                        w.push(RefField::VolumeSourceSecret, "Secret", "name", r)
                    });
                });
                w.key(vol, "azureFile", |w, a| {
                    w.push(RefField::VolumeSourceSecret, "Secret", "secretName", a)
                });
                for source in [
                    "cephfs",
                    "cinder",
                    "flexVolume",
                    "iscsi",
                    "rbd",
                    "scaleIO",
                    "storageos",
                ] {
                    w.key(vol, source, |w, v| {
                        w.key(v, "secretRef", |w, r| {
                            w.push(RefField::VolumeSourceSecret, "Secret", "name", r)
                        });
                    });
                }
                w.key(vol, "persistentVolumeClaim", |w, s| {
                    w.push(
                        RefField::PersistentVolumeClaim,
                        "PersistentVolumeClaim",
                        "claimName",
                        s,
                    );
                });
                w.key(vol, "projected", |w, p| {
                    w.key(p, "sources", |w, srcs| {
                        w.items(srcs, false, |w, src| {
                            w.key(src, "secret", |w, s| {
                                w.push(RefField::ProjectedSecret, "Secret", "name", s)
                            });
                            w.key(src, "configMap", |w, s| {
                                w.push(RefField::ProjectedConfigMap, "ConfigMap", "name", s);
                            });
                        });
                    });
                });
            });
        });
    }

    /// `imagePullSecrets[].name` of a pod spec or a `ServiceAccount`.
    fn image_pull_secrets(&mut self, holder: &Value) {
        self.key(holder, "imagePullSecrets", |w, ips| {
            w.items(ips, true, |w, s| {
                w.push(RefField::ImagePullSecret, "Secret", "name", s)
            });
        });
    }
}

/// Every reference in one object value (`nameless`: with the holders that name nothing, as a
/// patch writing only a `key` has them).
pub(crate) fn extract(kind: &str, api_version: &str, value: &Value, nameless: bool) -> Vec<RawRef> {
    let mut out = Vec::new();
    let mut w = Walker {
        out: &mut out,
        path: Vec::new(),
        norm: Vec::new(),
        nameless,
    };
    if let Some(p) = pod_spec_path(kind, api_version).or_else(|| pod_template_of(value)) {
        fn descend(w: &mut Walker<'_>, v: &Value, rest: &[&str]) {
            match rest.split_first() {
                None => w.pod_spec(v),
                Some((k, tail)) => w.key(v, k, |w, c| descend(w, c, tail)),
            }
        }
        descend(&mut w, value, p);
    }
    let keda = api_version.starts_with("keda.sh/");
    match kind {
        "Ingress" => w.key(value, "spec", |w, s| {
            w.key(s, "tls", |w, tls| {
                w.items(tls, false, |w, t| {
                    w.push(RefField::IngressTls, "Secret", "secretName", t)
                });
            });
        }),
        "ServiceAccount" => w.image_pull_secrets(value),
        "ScaledJob" | "ScaledObject" if keda => w.key(value, "spec", |w, s| {
            w.key(s, "triggers", |w, ts| {
                w.items(ts, false, |w, t| {
                    w.key(t, "authenticationRef", |w, a| {
                        let target = match a.get("kind").and_then(Value::as_str) {
                            Some("ClusterTriggerAuthentication") => "ClusterTriggerAuthentication",
                            _ => "TriggerAuthentication",
                        };
                        w.push(RefField::KedaAuthenticationRef, target, "name", a);
                    });
                });
            });
        }),
        "TriggerAuthentication" | "ClusterTriggerAuthentication" if keda => {
            w.key(value, "spec", |w, s| {
                w.key(s, "secretTargetRef", |w, refs| {
                    w.items(refs, false, |w, r| {
                        w.push(RefField::KedaSecretTargetRef, "Secret", "name", r)
                    });
                });
            });
        }
        _ => {}
    }
    out
}

/// True when kustomize's built-in nameReference table rewrites `fs_path` of `referrer_kind`
/// when an object of `target_kind` is renamed
/// (kustomize `api/internal/konfig/builtinpluginconsts/namereference.go`).
pub(crate) fn builtin_rewrites(target_kind: &str, referrer_kind: &str, fs_path: &str) -> bool {
    // The pod spec paths of the table are those `extract` follows, but for KEDA's `ScaledJob`
    // and Argo's `Rollout` (which need an API group, not given here).
    let pod_rest = pod_spec_path(referrer_kind, "").and_then(|segs| {
        segs.iter().try_fold(fs_path, |rest, seg| {
            rest.strip_prefix(seg)?.strip_prefix('/')
        })
    });
    // Fields of `containers[]` are listed for `initContainers[]` too.
    let container_rest = pod_rest.and_then(|r| {
        r.strip_prefix("containers/")
            .or_else(|| r.strip_prefix("initContainers/"))
    });
    // Secret and ConfigMap references are listed for these kinds only (not ReplicationController).
    let cm_secret_kinds = matches!(
        referrer_kind,
        "Pod"
            | "PodTemplate"
            | "Deployment"
            | "ReplicaSet"
            | "DaemonSet"
            | "StatefulSet"
            | "Job"
            | "CronJob"
    );
    // ServiceAccount and PVC references are listed for these (not ReplicaSet nor PodTemplate).
    let sa_pvc_kinds = matches!(
        referrer_kind,
        "Pod"
            | "StatefulSet"
            | "Deployment"
            | "ReplicationController"
            | "CronJob"
            | "Job"
            | "DaemonSet"
    );
    match target_kind {
        "Secret" => {
            (cm_secret_kinds
                && (matches!(
                    pod_rest,
                    Some(
                        "volumes/secret/secretName"
                            | "imagePullSecrets/name"
                            | "volumes/projected/sources/secret/name"
                    )
                ) || matches!(
                    container_rest,
                    Some("env/valueFrom/secretKeyRef/name" | "envFrom/secretRef/name")
                )))
                || (referrer_kind == "Ingress" && fs_path == "spec/tls/secretName")
                || (referrer_kind == "ServiceAccount" && fs_path == "imagePullSecrets/name")
        }
        "ConfigMap" => {
            cm_secret_kinds
                && (matches!(
                    pod_rest,
                    Some("volumes/configMap/name" | "volumes/projected/sources/configMap/name")
                ) || matches!(
                    container_rest,
                    Some("env/valueFrom/configMapKeyRef/name" | "envFrom/configMapRef/name")
                ))
        }
        "ServiceAccount" => sa_pvc_kinds && pod_rest == Some("serviceAccountName"),
        "PersistentVolumeClaim" => {
            sa_pvc_kinds && pod_rest == Some("volumes/persistentVolumeClaim/claimName")
        }
        _ => false,
    }
}

/// One `configurations:` nameReference fieldSpec (decoded in `build`, as kustomize decodes the
/// file).
#[derive(Debug, Clone)]
pub(crate) struct NameRefRule {
    /// The kind renamed objects must have (`nameReference[].kind`).
    pub(crate) target_kind: String,
    /// The group and version renamed objects must have (`nameReference[].group`/`version`;
    /// unset or empty: any).
    pub(crate) target_group: Option<String>,
    pub(crate) target_version: Option<String>,
    /// The referring field, slash-separated as written (empty when the fieldSpec has none).
    pub(crate) path: String,
    pub(crate) referrer_kind: Option<String>,
    pub(crate) referrer_group: Option<String>,
    pub(crate) referrer_version: Option<String>,
    /// Where the fieldSpec is written.
    pub(crate) origin: Origin,
}

impl NameRefRule {
    /// True when the fieldSpec selects an object of this kind and apiVersion ([`gvk_selects`]).
    pub(crate) fn selects(&self, kind: &str, api_version: &str) -> bool {
        let by = [
            &self.referrer_group,
            &self.referrer_version,
            &self.referrer_kind,
        ]
        .map(any);
        gvk_selects(by, split_gvk(kind, api_version))
    }

    /// True when the rule follows the renames of an object of this kind and apiVersion
    /// (kustomize api/filters/nameref/nameref.go picks the referral candidates whose id the
    /// entry's group, version and kind select, [`gvk_selects`]; the model asks for the kind).
    pub(crate) fn follows(&self, kind: &str, api_version: &str) -> bool {
        let [g, v] = [&self.target_group, &self.target_version].map(any);
        self.target_kind == kind && gvk_selects([g, v, kind], split_gvk(kind, api_version))
    }
}

/// A field of a group, version and kind selector: unset is empty, which selects any value.
fn any(field: &Option<String>) -> &str {
    field.as_deref().unwrap_or_default()
}

/// The group, version and kind of an object of this kind and apiVersion.
pub(crate) fn split_gvk<'a>(kind: &'a str, api_version: &'a str) -> [&'a str; 3] {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    [group, version, kind]
}

/// True when the selector's group, version and kind select those of `gvk` (kustomize
/// `api/resid/gvk.go` `IsSelected`): each field the selector sets (not empty) must be equal.
pub(crate) fn gvk_selects(selector: [&str; 3], gvk: [&str; 3]) -> bool {
    std::iter::zip(selector, gvk).all(|(s, x)| s.is_empty() || s == x)
}

/// The `configurations:` rules that let this reference follow renamed objects (empty when no
/// rule covers it; a rule may point at the name scalar or at the map holding `name`, as
/// kustomize's `setMapping` allows): see [`NameRefRule::follows`] for the objects.
/// A `SealedSecret` rule covers a Secret reference: the controller creates the Secret under the
/// SealedSecret's name, and the sealed-secrets FAQ adds such a rule for `namePrefix`
/// (kustomize api/filters/nameref/nameref.go follows any kind a rule names).
pub(crate) fn configured<'r>(
    rules: &'r [NameRefRule],
    r: &RawRef,
    referrer_kind: &str,
    referrer_api_version: &str,
) -> Vec<&'r NameRefRule> {
    let parent = r.fs_path.rsplit_once('/').map_or("", |(p, _)| p);
    rules
        .iter()
        .filter(|rule| {
            (rule.target_kind == r.target_kind
                || (r.target_kind == "Secret" && rule.target_kind == "SealedSecret"))
                && rule.selects(referrer_kind, referrer_api_version)
                && (rule.path == r.fs_path || (r.fs_path.ends_with("/name") && rule.path == parent))
        })
        .collect()
}
