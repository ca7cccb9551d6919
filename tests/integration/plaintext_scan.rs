//! The repository-wide secret rules through the real binary, on the shapes a committed secret
//! takes outside a plain Secret document: a `SealedSecret`'s `spec.template.data`, a Flux
//! `postBuild.substitute` value, Secret keys that YAML types as numbers or booleans, a `List`
//! inside a `List`, an Argo CD repository URL with a token in it, PGP and OpenSSH private keys in
//! files of any name, and allow markers that are no comments; and the shapes that hold no
//! committed secret (SOPS-encrypted values, a CA certificate, Helm template values), which must
//! not fail the check. Where a render matters, the real `kubectl kustomize` is the oracle.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use crate::common::{self, Hit};

/// Writes `text` to `root/rel`, creating directories.
fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const SEALED: &str = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\n  namespace: app-prod\nspec:\n  encryptedData: {}\n";

/// A repository with one environment, `k8s/overlays/prod` (a Deployment reading the
/// SealedSecret `app-secrets`, whose text is `sealed`), as a git repository (`None` when git is
/// missing outside CI). Stage with [`stage`] after adding files.
fn repository(sealed: &str) -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    put(
        root,
        "k8s/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec: {containers: [{name: app, image: nginx, envFrom: [{secretRef: {name: app-secrets}}]}]}\n",
    );
    put(
        root,
        "k8s/base/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    put(root, "k8s/overlays/prod/sealedsecret.yaml", sealed);
    put(
        root,
        "k8s/overlays/prod/kustomization.yaml",
        "namespace: app-prod\nresources: [../../base, sealedsecret.yaml]\n",
    );
    std::fs::copy(
        common::repo_root().join("tests/fixtures/certs/rsa-4096-cert.pem"),
        root.join("k8s/overlays/prod/sealing-cert.pem"),
    )
    .unwrap();
    common::git(root, &["init", "-q"]);
    Some(tmp)
}

/// Stages every file and runs `check` (JSON): the findings of `rule`, as (path, line, message).
fn check(root: &Path, rule: &str) -> Vec<(String, u64, String)> {
    common::git(root, &["add", "-A"]);
    let (_, hits) = common::check_hits(root, &[]);
    of_rule(&hits, rule)
}

fn of_rule(hits: &[Hit], rule: &str) -> Vec<(String, u64, String)> {
    let mut out: Vec<(String, u64, String)> = hits
        .iter()
        .filter(|h| h.rule == rule && !h.suppressed)
        .map(|h| (h.path.clone(), h.line, h.message.clone()))
        .collect();
    out.sort();
    out
}

/// Where the findings are, without messages.
fn places(found: &[(String, u64, String)]) -> Vec<(&str, u64)> {
    found.iter().map(|(p, l, _)| (p.as_str(), *l)).collect()
}

/// No finding message quotes a value of the test.
fn no_value_in(found: &[(String, u64, String)], values: &[&str]) {
    for (_, _, m) in found {
        for v in values {
            assert!(!m.contains(v), "a message quotes a value: {m}");
        }
    }
}

#[test]
fn sealed_secret_template_data_is_plaintext_the_controller_copies() {
    let sealed = format!(
        "{SEALED}  template:\n    metadata: {{name: app-secrets, namespace: app-prod}}\n    data:\n      DB_PASSWORD: Sup3rS3cretPassw0rd\n      DSN: \"postgres://app:{{{{ .password }}}}@db\"\n      EMPTY: \"\"\n      FROM_FLUX: ${{DB_USER}}\n"
    );
    let Some(tmp) = repository(&sealed) else {
        return;
    };
    let found = check(tmp.path(), "plaintext-secret");
    assert_eq!(
        places(&found),
        [("k8s/overlays/prod/sealedsecret.yaml", 10)],
        "{found:?}"
    );
    // Only the literal value: a Go template over the sealed values, an empty value and a Flux
    // variable are no committed secret.
    assert!(
        found[0]
            .2
            .contains("1 plaintext spec.template.data key (`DB_PASSWORD`)")
    );
    no_value_in(&found, &["Sup3rS3cretPassw0rd"]);
}

/// A Secret whose `stringData` or `data` is a string or a list, not a map: kustomize renders it
/// as written (the real kustomize is the oracle) and only the API server refuses it, so its text
/// is committed plaintext all the same. An empty string and a Flux variable are not.
#[test]
fn a_secret_whose_data_is_no_map_is_still_plaintext() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    put(
        root,
        "k8s/overlays/prod/misshapen.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: as-text}\nstringData: \"password=hunter2\"\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: as-list}\ndata: [aHVudGVyMg==]\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: blank}\nstringData: \"\"\ndata: ${DATA}\n",
    );
    put(
        root,
        "k8s/overlays/prod/kustomization.yaml",
        "namespace: app-prod\nresources: [../../base, sealedsecret.yaml, misshapen.yaml]\n",
    );
    if common::kubectl().is_some() {
        let rendered = common::kustomize(&root.join("k8s/overlays/prod"));
        assert!(
            rendered.contains("stringData: password=hunter2"),
            "{rendered}"
        );
    }
    let found = check(root, "plaintext-secret");
    assert_eq!(
        places(&found),
        [
            ("k8s/overlays/prod/misshapen.yaml", 4),
            ("k8s/overlays/prod/misshapen.yaml", 9)
        ],
        "{found:?}"
    );
    assert!(
        found[0]
            .2
            .contains("Secret `as-text` holds `stringData` as a string of 16 bytes, not a map"),
        "{found:?}"
    );
    assert!(
        found[1]
            .2
            .contains("Secret `as-list` holds `data` as a list of 1 item, not a map"),
        "{found:?}"
    );
    no_value_in(&found, &["hunter2", "aHVudGVyMg"]);
}

/// A manifest saved with lone carriage returns as line ends (old Mac style) is read as YAML reads
/// it, lines breaking at each CR: a comment on its first line does not hide the Secret below it
/// (the real kustomize renders that Secret), and the finding is on the Secret's own line.
#[test]
fn a_manifest_with_lone_carriage_returns_is_read_line_by_line() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    let secret = "# db credentials\napiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  password: hunter2hunter2\n";
    put(
        root,
        "k8s/overlays/prod/leak.yaml",
        &secret.replace('\n', "\r"),
    );
    put(
        root,
        "k8s/overlays/prod/kustomization.yaml",
        "namespace: app-prod\nresources: [../../base, sealedsecret.yaml, leak.yaml]\n",
    );
    if common::kubectl().is_some() {
        let rendered = common::kustomize(&root.join("k8s/overlays/prod"));
        assert!(rendered.contains("name: leaked"), "{rendered}");
    }
    let found = check(root, "plaintext-secret");
    assert_eq!(
        places(&found),
        [("k8s/overlays/prod/leak.yaml", 6)],
        "{found:?}"
    );
    no_value_in(&found, &["hunter2"]);
}

/// A patch that writes a `SealedSecret`'s `spec.template.data` (or `stringData`) writes
/// plaintext the controller copies into its Secret: an inline JSON 6902 operation and an inline
/// strategic-merge patch are `plaintext-secret` at the line writing each, as the same values in
/// the file are (a `{{ }}` template value is built from sealed values, and is none). A patch
/// setting the template's `type` is judged too: the Secret of type `kubernetes.io/tls` it
/// makes lacks `tls.crt` and `tls.key`, which `invalid-secret-key` reports (it read the file's type only).
/// The real kustomize renders both values and the type.
#[test]
fn a_patch_writing_a_sealed_secret_s_template_is_judged_as_rendered() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    let kustomization = "namespace: app-prod
resources: [../../base, sealedsecret.yaml]
patches:
  - target: {kind: SealedSecret, name: app-secrets}
    patch: |-
      - op: add
        path: /spec/template
        value:
          type: kubernetes.io/tls
          data:
            DB_PASSWORD: aHVudGVyMmh1bnRlcjI=
            DSN: '{{ .password }}'
  - patch: |-
      apiVersion: bitnami.com/v1alpha1
      kind: SealedSecret
      metadata: {name: app-secrets, namespace: app-prod}
      spec:
        template:
          stringData:
            TOKEN: hunter2hunter2
";
    put(root, "k8s/overlays/prod/kustomization.yaml", kustomization);
    if common::kubectl().is_some() {
        let rendered = common::kustomize(&root.join("k8s/overlays/prod"));
        for written in [
            "DB_PASSWORD: aHVudGVy",
            "TOKEN: hunter2",
            "type: kubernetes.io/tls",
        ] {
            assert!(rendered.contains(written), "{written}: {rendered}");
        }
    }
    common::git(root, &["add", "-A"]);
    let (_, hits) = common::check_hits(root, &[]);
    let found = of_rule(&hits, "plaintext-secret");
    let file = "k8s/overlays/prod/kustomization.yaml";
    assert_eq!(places(&found), [(file, 11), (file, 20)], "{found:?}");
    assert!(
        found[0].2.contains("SealedSecret `app-secrets`, as this patch writes it, holds 1 plaintext spec.template.data key (`DB_PASSWORD`), which the controller copies into its Secret"),
        "{found:?}"
    );
    assert!(
        found[1]
            .2
            .contains("spec.template.stringData key (`TOKEN`)"),
        "{found:?}"
    );
    no_value_in(&found, &["aHVudGVy", "hunter2"]);
    let refused = of_rule(&hits, "invalid-secret-key");
    assert_eq!(refused.len(), 2, "{hits:?}");
    for (found, key) in refused.iter().zip(["tls.crt", "tls.key"]) {
        let lacks = format!("unseals into a Secret of type `kubernetes.io/tls` without `{key}`");
        assert!(found.2.contains(&lacks), "{refused:?}");
    }
}

#[test]
fn flux_substitute_values_written_into_a_secret_are_plaintext_at_their_line() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    put(
        root,
        "clusters/prod/app.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: app, namespace: flux-system}\nspec:\n  interval: 10m\n  path: ./k8s/overlays/prod\n  prune: true\n  sourceRef: {kind: GitRepository, name: flux-system}\n  postBuild:\n    substitute:\n      DB_PASSWORD: \"Sup3rS3cretPassw0rd\"\n      REGION: eu-west-1\n      EMPTY: \"\"\n",
    );
    // `${DB_PASSWORD}` reads the committed value; `${REGION}` is in no Secret; `${FROM_CLUSTER}`
    // is given by no `substitute` (the cluster's `substituteFrom`); an opted-out Secret keeps
    // its `${DB_PASSWORD}` as written.
    put(
        root,
        "k8s/overlays/prod/db.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: ${DB_PASSWORD}\n  other: ${FROM_CLUSTER}\n  empty: ${EMPTY}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: raw\n  labels: {kustomize.toolkit.fluxcd.io/substitute: disabled}\nstringData:\n  password: ${DB_PASSWORD}\n",
    );
    put(
        root,
        "k8s/overlays/prod/kustomization.yaml",
        "namespace: app-prod\nresources: [../../base, sealedsecret.yaml, db.yaml]\n",
    );
    let found = check(root, "plaintext-secret");
    assert_eq!(
        places(&found),
        [("clusters/prod/app.yaml", 11)],
        "{found:?}"
    );
    assert!(
        found[0]
            .2
            .contains("`DB_PASSWORD` is given here in plaintext and Flux substitutes it into Secret `db` (`stringData` key `password`)"),
        "{found:?}"
    );
    no_value_in(&found, &["Sup3rS3cretPassw0rd"]);
}

#[test]
fn secret_keys_yaml_types_and_lists_inside_lists_are_read_as_kubectl_renders_them() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    let pin = "apiVersion: v1\nkind: Secret\nmetadata: {name: pin}\nstringData:\n  1234: Sup3rS3cretPassw0rd\n  true: An0therS3cret\n";
    let dump = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: v1\n    kind: Secret\n    metadata: {name: nested}\n    stringData: {password: Sup3rS3cretPassw0rd}\n";
    put(root, "legacy/pin.yaml", pin);
    put(root, "legacy/dump.yaml", dump);
    // The oracle: kustomize renders the Secret inside the inner List. (It refuses the typed
    // keys, which `kubectl apply -f` reads as text: the committed values are a leak either way.)
    if common::kubectl().is_some() {
        let kz = tempfile::tempdir().unwrap();
        put(kz.path(), "dump.yaml", dump);
        put(kz.path(), "kustomization.yaml", "resources: [dump.yaml]\n");
        let rendered = common::kustomize(kz.path());
        assert!(rendered.contains("name: nested"), "{rendered}");
        assert!(rendered.contains("password:"), "{rendered}");
    }
    let found = check(root, "plaintext-secret");
    assert_eq!(
        places(&found),
        [("legacy/dump.yaml", 10), ("legacy/pin.yaml", 4)],
        "{found:?}"
    );
    assert!(
        found[1]
            .2
            .contains("2 plaintext stringData keys (`1234`, `true`)")
    );
    no_value_in(&found, &["Sup3rS3cretPassw0rd", "An0therS3cret"]);
}

#[test]
fn argocd_repository_urls_with_a_token_are_credentials() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    let repo = |name: &str, url: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: argocd\n  labels: {{argocd.argoproj.io/secret-type: repository}}\nstringData:\n  type: git\n  url: {url}\n"
        )
    };
    let docs = [
        repo(
            "user-token",
            "https://ghp_T0kenAsUser0123456789@github.com/example/private.git",
        ),
        repo(
            "query-token",
            "https://charts.example.com/stable?private_token=T0kenInQuery",
        ),
        repo(
            "access-token",
            "https://example.com/r.git?ref=main&access_token=T0kenInQuery",
        ),
        // No credential: a plain URL, an SSH user name (SSH authenticates with a key), an
        // scp-like address, a harmless query parameter.
        repo("plain", "https://github.com/example/public.git"),
        repo("ssh", "ssh://git@github.com/example/private.git"),
        repo("scp", "git@github.com:example/private.git"),
        repo("ref", "https://example.com/r.git?ref=main"),
    ];
    put(root, "argocd/repos.yaml", &docs.join("---\n"));
    let found = check(root, "plaintext-secret");
    assert_eq!(
        places(&found),
        [
            ("argocd/repos.yaml", 7),
            ("argocd/repos.yaml", 17),
            ("argocd/repos.yaml", 27)
        ],
        "{found:?}"
    );
    no_value_in(&found, &["T0ken"]);
}

#[test]
fn private_keys_are_found_in_files_of_any_name_pgp_included() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    put(
        root,
        "keys/sops-gpg.asc",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBGXXXXXXXXXXXXXXXXXX\n-----END PGP PRIVATE KEY BLOCK-----\n",
    );
    put(
        root,
        "flux/gpg-cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  key: |\n    -----BEGIN PGP PRIVATE KEY BLOCK-----\n    lQdGBGXXXX\n    -----END PGP PRIVATE KEY BLOCK-----\n",
    );
    put(
        root,
        "keys/deploy_key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    put(
        root,
        "docs/setup/id_rsa_github",
        "# the bot's key\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAxx\n-----END RSA PRIVATE KEY-----\n",
    );
    // A binary file with a key in it, and one without: only the first is a finding.
    let mut blob = vec![0u8, 159, 146, 150, b'\n'];
    blob.extend_from_slice(
        b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n",
    );
    std::fs::create_dir_all(root.join("assets")).unwrap();
    std::fs::write(root.join("assets/blob.bin"), &blob).unwrap();
    std::fs::write(root.join("assets/logo.png"), [137u8, 80, 78, 71, 0, 255]).unwrap();
    // A public key and a certificate are no private keys.
    put(
        root,
        "docs/ca.txt",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQ\n-----END PGP PUBLIC KEY BLOCK-----\n",
    );
    let found = check(root, "committed-private-key");
    assert_eq!(
        places(&found),
        [
            ("assets/blob.bin", 2),
            ("docs/setup/id_rsa_github", 2),
            ("flux/gpg-cm.yaml", 6),
            ("keys/deploy_key", 1),
            ("keys/sops-gpg.asc", 1),
        ],
        "{found:?}"
    );
    assert!(found[4].2.contains("`PGP PRIVATE KEY BLOCK`"), "{found:?}");
    no_value_in(&found, &["lQdGBG", "b3BlbnNz", "MIIEpA", "MHcCAQ"]);
}

#[test]
fn an_allow_marker_suppresses_only_as_a_real_comment() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    // In a quoted value, in a JSON string and in a block scalar the marker is data.
    put(
        root,
        "db.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {note: \"see # emp-seal:allow plaintext-secret\", password: Sup3rS3cretPassw0rd}\n",
    );
    put(
        root,
        "db.json",
        "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"e\",\"annotations\":{\"x\":\"# emp-seal:allow plaintext-secret\"}},\"stringData\":{\"password\":\"Sup3rS3cretPassw0rd\"}}\n",
    );
    put(
        root,
        "block.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: block\n  annotations:\n    note: |\n      # emp-seal:allow plaintext-secret\nstringData:\n  password: Sup3rS3cretPassw0rd\n",
    );
    // A real comment still suppresses, trailing or on the line above.
    put(
        root,
        "allowed.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: allowed}\nstringData: # emp-seal:allow plaintext-secret -- test fixture\n  password: x\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: above}\n# emp-seal:allow plaintext-secret\nstringData:\n  password: x\n",
    );
    common::git(root, &["add", "-A"]);
    let (_, hits) = common::check_hits(root, &[]);
    let reported = of_rule(&hits, "plaintext-secret");
    assert_eq!(
        places(&reported),
        [("block.yaml", 8), ("db.json", 1), ("db.yaml", 4)],
        "{reported:?}"
    );
    let suppressed: Vec<(&str, u64)> = hits
        .iter()
        .filter(|h| h.suppressed)
        .map(|h| (h.path.as_str(), h.line))
        .collect();
    assert_eq!(suppressed, [("allowed.yaml", 4), ("allowed.yaml", 11)]);
}

#[test]
fn sops_values_ca_certificates_and_helm_template_values_are_no_plaintext() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    put(
        root,
        "clusters/prod/db.sops.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\nstringData:\n    password: ENC[AES256_GCM,data:Tr7oVmQ0uSc=,iv:0Y9jU6Vw8nYqk6yq0QbQ7gS6bN8=,tag:q0D3eQ==,type:str]\nsops:\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\n    version: 3.8.1\n",
    );
    // The same value outside a SOPS document is no encrypted value.
    put(
        root,
        "clusters/prod/fake.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: fake\nstringData:\n  password: ENC[AES256_GCM,data:Tr7oVmQ0uSc=,iv:0Y9j,tag:q0D3eQ==,type:str]\n",
    );
    let pem =
        std::fs::read_to_string(common::repo_root().join("tests/fixtures/certs/rsa-2048-cert.pem"))
            .unwrap();
    put(
        root,
        "clusters/prod/ingress-ca.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: ingress-ca}}\ndata:\n  ca.crt: {}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: tls}}\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
            common::b64(pem.as_bytes()),
            common::b64(pem.as_bytes()),
            common::b64(b"not a certificate")
        ),
    );
    put(
        root,
        "charts/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    );
    put(
        root,
        "charts/app/templates/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"{{ .Release.Name }}-db\"\nstringData:\n  password: \"{{ .Values.db.password }}\"\n  literal: hunter2\n",
    );
    common::git(root, &["add", "-A"]);
    let (code, hits) = common::check_hits(root, &[]);
    // Only what is plaintext: the fake SOPS value, the key beside the certificate, the Helm
    // template's literal value.
    let plaintext = of_rule(&hits, "plaintext-secret");
    assert_eq!(
        places(&plaintext),
        [
            ("charts/app/templates/secret.yaml", 5),
            ("clusters/prod/fake.yaml", 5),
            ("clusters/prod/ingress-ca.yaml", 10)
        ],
        "{plaintext:?}"
    );
    assert!(plaintext[0].2.contains("(`literal`)"), "{plaintext:?}");
    assert!(plaintext[2].2.contains("(`tls.key`)"), "{plaintext:?}");
    let readable = of_rule(&hits, "readable-secret-data");
    assert_eq!(
        places(&readable),
        [("clusters/prod/ingress-ca.yaml", 12)],
        "{readable:?}"
    );
    // The chart's template gets the note the docs promise, and does not fail the check alone.
    let notes: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "yaml-syntax" && h.path == "charts/app/templates/secret.yaml")
        .collect();
    assert_eq!(notes.len(), 1, "{hits:?}");
    assert_eq!(notes[0].severity, "note");
    assert!(notes[0].message.contains("Helm chart charts/app"));
    assert_eq!(code, 1);
}

/// A chart's template as charts write them, with unquoted `{{ }}` values and lines that are one
/// action (`{{- include ... | nindent 4 }}`), does not parse as YAML: it is read with its actions
/// masked, so the value it writes as it is (`password: hunter2`) is a plaintext-secret error, as
/// in a template that parses, and its templated ones are not. A template an action spans lines
/// of still does not parse: its note says nothing checked it.
#[test]
fn a_helm_template_that_parses_only_with_its_actions_masked_is_judged() {
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    put(
        root,
        "charts/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    );
    put(
        root,
        "charts/app/templates/secret.yaml",
        "{{- if .Values.enabled }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ include \"app.fullname\" . }}-db\n  labels:\n    {{- include \"app.labels\" . | nindent 4 }}\nstringData:\n  templated: {{ .Values.db.password | quote }}\n  literal: hunter2-masked\n{{- end }}\n",
    );
    put(
        root,
        "charts/app/templates/spanning.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ include\n    \"app.fullname\" . }}\nstringData:\n  literal: hunter2-spanning\n",
    );
    // A comment action renders nothing: the value before it is written as it is. A key that is
    // an action is named as the template writes it, never by the mask.
    put(
        root,
        "charts/app/templates/comment.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-c\nstringData:\n  password: hunter2-comment {{/* keep in sync */}}\n  {{ .Values.key }}: hunter2-keyed\n",
    );
    common::git(root, &["add", "-A"]);
    let (code, hits) = common::check_hits(root, &[]);
    assert_eq!(code, 1, "{hits:?}");
    let plaintext = of_rule(&hits, "plaintext-secret");
    assert_eq!(plaintext.len(), 2, "{plaintext:?}");
    assert_eq!(
        plaintext[0].0, "charts/app/templates/comment.yaml",
        "{plaintext:?}"
    );
    assert!(
        plaintext[0].2.contains("2 plaintext stringData keys"),
        "{plaintext:?}"
    );
    assert!(!plaintext[0].2.contains("EMP_SEAL"), "{plaintext:?}");
    assert_eq!(
        plaintext[1].0, "charts/app/templates/secret.yaml",
        "{plaintext:?}"
    );
    assert!(plaintext[1].2.contains("(`literal`)"), "{plaintext:?}");
    let notes: Vec<(&str, &str)> = (hits.iter())
        .filter(|h| h.rule == "yaml-syntax")
        .map(|h| (h.path.as_str(), h.message.as_str()))
        .collect();
    assert!(
        notes
            .iter()
            .any(|(p, m)| *p == "charts/app/templates/secret.yaml"
                && m.contains("a template of the Helm chart")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|(p, m)| *p == "charts/app/templates/spanning.yaml"
                && m.starts_with("not read as a manifest")),
        "{notes:?}"
    );
    assert!(!format!("{hits:?}").contains("hunter2"), "{hits:?}");
}

/// Secret `data` is decoded as the API server decodes it (Go's `base64.StdEncoding`, which
/// accepts non-zero trailing bits): `aGVsbG9=` is `hello` there, so a readable value written
/// that way is no less readable. The strict decoder used to miss it.
#[test]
fn data_the_api_server_decodes_with_loose_trailing_bits_is_still_readable() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let loose = "aGVsbG9=";
    let python = "import base64,sys; sys.stdout.write(base64.b64decode(sys.argv[1]).decode())";
    if let Some(py) = common::which("python3") {
        let out = std::process::Command::new(py)
            .args(["-c", python, loose])
            .output()
            .expect("python3");
        assert_eq!(out.stdout, b"hello", "a lenient decoder reads it as text");
    }
    common::write(
        root,
        "deploy/token.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\ndata:\n  TOKEN: {loose}\n"
        ),
    );
    common::git(root, &["add", "-A"]);
    let (_, hits) = common::check_hits(root, &[]);
    let readable = of_rule(&hits, "readable-secret-data");
    assert_eq!(
        places(&readable),
        [("deploy/token.yaml", 6)],
        "{readable:?}"
    );
}

/// Outside the kustomize tree a file is parsed when it may hold a Secret; a JSON Secret whose
/// kind is spelt with an escape (`"\u0053ecret"`, which kustomize and the API server read as
/// `Secret`) holds no literal `Secret`, and used to pass unread.
#[test]
fn a_secret_whose_kind_is_spelt_with_an_escape_is_still_read() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let json = "{\"apiVersion\":\"v1\",\"kind\":\"\\u0053ecret\",\"metadata\":{\"name\":\"db\"},\"stringData\":{\"password\":\"test-only-value\"}}\n";
    assert!(!json.contains("Secret"));
    common::write(root, "deploy/db.json", json);
    common::git(root, &["add", "-A"]);
    if common::kubectl().is_some() {
        let k = tempfile::tempdir().unwrap();
        common::write(k.path(), "db.json", json);
        common::write(k.path(), "kustomization.yaml", "resources: [db.json]\n");
        let out = common::kustomize_raw(k.path());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("kind: Secret"),
            "kustomize reads the kind: {text}"
        );
    }
    let (code, hits) = common::check_hits(root, &[]);
    let plaintext = of_rule(&hits, "plaintext-secret");
    assert_eq!(places(&plaintext), [("deploy/db.json", 1)], "{hits:?}");
    assert_eq!(code, 1);
}

/// Flow collections nested thousands deep: the YAML parser's time grows with the square of the
/// depth, so such a document is refused before it is parsed, at
/// the line where the nesting passes 512: a note outside the tree, a build error in it.
#[test]
fn flow_nesting_thousands_deep_is_refused_before_parsing() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let depth = 64_000;
    let deep = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: deep\nstringData:\n  x: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    common::write(root, "deploy/deep.yaml", &deep);
    common::write(root, "k8s/overlays/dev/deep.yaml", &deep);
    let kust = root.join("k8s/overlays/dev/kustomization.yaml");
    let text = std::fs::read_to_string(&kust).unwrap();
    let text = text.replacen("resources:\n", "resources:\n  - deep.yaml\n", 1);
    common::write(root, "k8s/overlays/dev/kustomization.yaml", &text);
    common::git(root, &["add", "-A"]);
    let (_, hits) = common::check_hits(root, &[]);
    let at = |path: &str| {
        hits.iter().find(|h| h.path == path).map(|h| {
            (
                h.rule.as_str(),
                h.line,
                h.message.contains("nested more than 512 deep"),
            )
        })
    };
    assert_eq!(
        at("deploy/deep.yaml"),
        Some(("yaml-syntax", 6, true)),
        "{hits:?}"
    );
    let (rule, line, said) = at("k8s/overlays/dev/deep.yaml").expect("a finding in the tree");
    assert_eq!((line, said), (6, true), "{hits:?}");
    assert!(
        matches!(rule, "yaml-syntax" | "overlay-build-error"),
        "{hits:?}"
    );
}

/// A file whose name is not UTF-8 cannot be read by the name git lists (lossily): it is not
/// checked, and a note names it, so that "no findings" is not read as "verified clean" for a
/// plaintext Secret committed under such a name. Renamed, it is checked.
#[test]
fn files_whose_names_are_not_utf8_are_named_in_a_note() {
    use std::os::unix::ffi::OsStrExt;
    let Some(tmp) = repository(SEALED) else {
        return;
    };
    let root = tmp.path();
    let name = std::ffi::OsStr::from_bytes(b"db-secret-\xfe.yaml");
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {password: hunter2-bytes}\n";
    std::fs::create_dir_all(root.join("deploy")).unwrap();
    std::fs::write(root.join("deploy").join(name), secret).unwrap();
    common::git(root, &["add", "-A"]);
    let out = common::emp_seal_std()
        .arg("-C")
        .arg(root)
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes: Vec<&str> = (v["notes"].as_array().unwrap().iter())
        .map(|n| n["message"].as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(
            |n| n.starts_with("1 file(s) whose names are not UTF-8 were not read")
                && n.contains("deploy/db-secret-\u{FFFD}.yaml")
        ),
        "{notes:?}"
    );
    common::git(root, &["rm", "-q", "--cached", "-r", "deploy"]);
    std::fs::rename(
        root.join("deploy").join(name),
        root.join("deploy/db-secret.yaml"),
    )
    .unwrap();
    common::git(root, &["add", "-A"]);
    let (_, hits) = common::check_hits(root, &[]);
    assert_eq!(of_rule(&hits, "plaintext-secret").len(), 1, "{hits:?}");
}

/// A SealedSecret named `App_Secrets` is accepted by the API server (a custom resource's name
/// may hold anything but `/` and `%`), but the Secret the controller makes of it is not: a
/// Secret's name is a DNS subdomain. `invalid-secret-key` reports it at the SealedSecret's name,
/// and a Secret generator's name the same way at its entry; a valid name is no finding.
#[test]
fn a_secret_name_the_api_server_refuses_is_reported() {
    let bad = SEALED.replace("name: app-secrets", "name: App_Secrets");
    let Some(tmp) = repository(&bad) else {
        return;
    };
    let root = tmp.path();
    put(
        root,
        "k8s/overlays/prod/kustomization.yaml",
        "namespace: app-prod\nresources: [../../base, sealedsecret.yaml]\nsecretGenerator:\n  - name: Bad_Name\n    literals: [MODE=]\n",
    );
    common::git(root, &["add", "-A"]);
    let (_, hits) = common::check_hits(root, &[]);
    let found = of_rule(&hits, "invalid-secret-key");
    assert_eq!(
        places(&found),
        [
            ("k8s/overlays/prod/kustomization.yaml", 4),
            ("k8s/overlays/prod/sealedsecret.yaml", 4)
        ],
        "{hits:?}"
    );
    assert!(found[1].2.contains("SealedSecret `App_Secrets` makes a Secret named `App_Secrets`, which is no DNS subdomain"), "{found:?}");
    assert!(
        found[0]
            .2
            .contains("Secret generator `Bad_Name` makes a Secret named `Bad_Name`"),
        "{found:?}"
    );
    let Some(good) = repository(SEALED) else {
        return;
    };
    let (_, hits) = common::check_hits(good.path(), &[]);
    assert!(of_rule(&hits, "invalid-secret-key").is_empty(), "{hits:?}");
}
