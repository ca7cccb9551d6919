//! The kubeseal value format against an independent implementation (`PyPI` `aes-gcm-rsa-oaep`,
//! through `common::Peer`), plus emp-seal's own unseal and recovery-key loading.

use emp_seal::crypto::{
    self, CryptoError, GCM_TAG_BYTES, LENGTH_PREFIX_BYTES, Scope, decode_value, encode_value, seal,
    seal_many, unseal, unseal_base64, unseal_many_base64,
};
use emp_seal::keys::{KeyError, load_private_keys};
use emp_seal::secret::SecretValue;

use crate::common::{self, Peer};
use crate::fixtures::{self, BITS};

/// [`seal`], written as kubeseal writes it: one line of padded standard base64.
fn seal_base64(
    key: &crypto::RsaPublicKey,
    label: &[u8],
    plaintext: &[u8],
) -> Result<String, CryptoError> {
    seal(key, label, plaintext).map(|v| encode_value(&v))
}

const NAMESPACE: &str = "emp-paper";
const NAME: &str = "emp-secrets";
const SENTINEL: &[u8] = b"hunter2-sentinel-\xc3\xa9";

/// Each scope with the OAEP label sealed-secrets uses for `NAMESPACE`/`NAME`, written out
/// literally (sealed-secrets `pkg/apis/sealedsecrets/v1alpha1` `EncryptionLabel`): the peer is
/// given these bytes, emp-seal computes its own with `Scope::label`, so a wrong label fails the
/// round trip instead of passing on both sides.
const LABELS: [(Scope, &[u8]); 3] = [
    (Scope::Strict, b"emp-paper/emp-secrets"),
    (Scope::NamespaceWide, b"emp-paper"),
    (Scope::ClusterWide, b""),
];

fn values() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", Vec::new()),
        ("utf-8", "pässwörd ✓ 🔐 \"quoted\" =x\n".as_bytes().to_vec()),
        ("all bytes", (0..=255u8).collect()),
        ("sentinel", SENTINEL.to_vec()),
    ]
}

fn expected_b64_prefix(bits: usize) -> &'static str {
    match bits {
        2048 => "AQ", // 01 00
        3072 => "AY", // 01 80
        4096 => "Ag", // 02 00
        _ => unreachable!(),
    }
}

#[test]
fn labels_match_sealed_secrets_encryption_label() {
    assert_eq!(
        Scope::Strict.label(NAMESPACE, NAME),
        b"emp-paper/emp-secrets"
    );
    assert_eq!(Scope::NamespaceWide.label(NAMESPACE, NAME), b"emp-paper");
    assert!(Scope::ClusterWide.label(NAMESPACE, NAME).is_empty());
}

#[test]
fn emp_seal_values_decrypt_with_peer_and_peer_values_unseal() {
    let Some(mut peer) = Peer::start() else {
        return;
    };
    for bits in BITS {
        let pk = fixtures::public_key(bits);
        let sk = fixtures::private_key(bits);
        let key_pem = fixtures::key_pem(bits);
        let cert_pem = fixtures::cert_pem(bits);
        let k = bits / 8;
        for (scope, peer_label) in LABELS {
            let label = scope.label(NAMESPACE, NAME);
            for (what, value) in values() {
                let ctx = format!("rsa-{bits} {} {what}", scope.as_str());
                // emp-seal -> peer
                let sealed = seal(&pk, &label, &value).unwrap();
                assert_eq!(
                    sealed.len(),
                    LENGTH_PREFIX_BYTES + k + value.len() + GCM_TAG_BYTES,
                    "{ctx}"
                );
                assert_eq!(usize::from(u16::from_be_bytes([sealed[0], sealed[1]])), k);
                let text = seal_base64(&pk, &label, &value).unwrap();
                assert!(text.starts_with(expected_b64_prefix(bits)), "{ctx}");
                assert_eq!(
                    peer.decrypt(&key_pem, peer_label, &sealed).as_deref(),
                    Ok(&value[..]),
                    "{ctx}: peer decrypts emp-seal's value"
                );
                assert_eq!(
                    peer.decrypt(&key_pem, peer_label, &common::unb64(&text))
                        .as_deref(),
                    Ok(&value[..]),
                    "{ctx}: peer decrypts emp-seal's base64 value"
                );
                // peer -> emp-seal
                let theirs = peer.encrypt(&cert_pem, peer_label, &value);
                assert_eq!(theirs.len(), sealed.len(), "{ctx}: same layout as the peer");
                assert_eq!(theirs[..2], sealed[..2], "{ctx}");
                let opened = unseal(std::slice::from_ref(&sk), &label, &theirs).unwrap();
                assert_eq!(
                    opened.expose_secret(),
                    &value[..],
                    "{ctx}: emp-seal unseals the peer's value"
                );
            }
        }
    }
}

#[test]
fn one_mebibyte_value_round_trips_both_ways() {
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let value: Vec<u8> = (0..=250u8).cycle().take(1024 * 1024).collect();
    for bits in BITS {
        let label = Scope::Strict.label(NAMESPACE, NAME);
        let sealed = seal(&fixtures::public_key(bits), &label, &value).unwrap();
        assert_eq!(sealed.len(), 2 + bits / 8 + value.len() + 16);
        let back = peer
            .decrypt(&fixtures::key_pem(bits), LABELS[0].1, &sealed)
            .unwrap();
        assert!(back == value, "rsa-{bits}: peer decrypts 1 MiB");
        let theirs = peer.encrypt(&fixtures::cert_pem(bits), LABELS[0].1, &value);
        let opened = unseal(&[fixtures::private_key(bits)], &label, &theirs).unwrap();
        assert!(
            opened.expose_secret() == &value[..],
            "rsa-{bits}: unseal 1 MiB"
        );
    }
}

#[test]
fn wrong_label_fails_in_both_directions() {
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let bits = 2048;
    let pk = fixtures::public_key(bits);
    let sk = fixtures::private_key(bits);
    let key_pem = fixtures::key_pem(bits);
    let strict = Scope::Strict.label(NAMESPACE, NAME);
    // Literal labels the controller would use for other scopes and identities.
    let wrong: [&[u8]; 6] = [
        b"emp-paper",
        b"",
        b"other-ns/emp-secrets",
        b"emp-paper/prefix-emp-secrets",
        b"emp-secrets/emp-paper",
        b"emp-paper/emp-secrets/",
    ];
    let ours = seal(&pk, &strict, SENTINEL).unwrap();
    let theirs = peer.encrypt(&fixtures::cert_pem(bits), LABELS[0].1, SENTINEL);
    for label in wrong {
        assert!(
            peer.decrypt(&key_pem, label, &ours).is_err(),
            "peer must refuse {label:?}"
        );
        let err = unseal(std::slice::from_ref(&sk), label, &theirs).unwrap_err();
        assert!(matches!(err, CryptoError::NoKeyCouldDecrypt), "{err:?}");
    }
}

#[test]
fn wrong_key_fails_in_both_directions() {
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let label = Scope::NamespaceWide.label(NAMESPACE, NAME);
    let ours = seal(&fixtures::public_key(4096), &label, SENTINEL).unwrap();
    assert!(
        peer.decrypt(&fixtures::demo_key_pem(), LABELS[1].1, &ours)
            .is_err()
    );
    let theirs = peer.encrypt(&fixtures::cert_pem(4096), LABELS[1].1, SENTINEL);
    let other = load_private_keys(fixtures::demo_key_pem().as_bytes(), "demo").unwrap();
    let err = unseal(&other, &label, &theirs).unwrap_err();
    assert!(matches!(err, CryptoError::NoKeyCouldDecrypt), "{err:?}");
}

#[test]
fn unseal_tries_every_key_like_the_controller() {
    let label = Scope::Strict.label(NAMESPACE, NAME);
    let keys = vec![
        fixtures::private_key(2048),
        fixtures::private_key(3072),
        fixtures::private_key(4096),
    ];
    for bits in BITS {
        let sealed = seal(&fixtures::public_key(bits), &label, SENTINEL).unwrap();
        assert_eq!(
            unseal(&keys, &label, &sealed).unwrap().expose_secret(),
            SENTINEL
        );
    }
    assert!(matches!(
        unseal(&[], &label, b"xx"),
        Err(CryptoError::NoKeys)
    ));
}

#[test]
fn every_session_key_is_fresh() {
    let pk = fixtures::public_key(2048);
    let label = Scope::Strict.label(NAMESPACE, NAME);
    let a = seal(&pk, &label, SENTINEL).unwrap();
    let b = seal(&pk, &label, SENTINEL).unwrap();
    assert_ne!(a, b);
    // Different RSA parts (OAEP is randomised) and different AES parts (different session keys:
    // with the zero nonce, one key would give the same AES ciphertext for the same plaintext).
    assert_ne!(a[2..258], b[2..258]);
    assert_ne!(a[258..], b[258..]);
}

#[test]
fn corrupted_values_all_fail_with_one_message() {
    let sk = fixtures::private_key(2048);
    let label = Scope::Strict.label(NAMESPACE, NAME);
    let good = seal(&fixtures::public_key(2048), &label, SENTINEL).unwrap();
    let mut bad_tag = good.clone();
    *bad_tag.last_mut().unwrap() ^= 1;
    let mut bad_body = good.clone();
    bad_body[260] ^= 0x80;
    let mut bad_rsa = good.clone();
    bad_rsa[10] ^= 1;
    let mut bad_len = good.clone();
    bad_len[0] = 0x7f;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("one byte", vec![1]),
        ("prefix only", good[..2].to_vec()),
        ("truncated rsa", good[..100].to_vec()),
        ("no tag", good[..good.len() - 16].to_vec()),
        ("bad tag", bad_tag),
        ("bad body", bad_body),
        ("bad rsa", bad_rsa),
        ("bad length", bad_len),
    ];
    let mut messages = std::collections::BTreeSet::new();
    for (what, value) in cases {
        let err = unseal(std::slice::from_ref(&sk), &label, &value).unwrap_err();
        assert!(
            matches!(err, CryptoError::NoKeyCouldDecrypt),
            "{what}: {err:?}"
        );
        messages.insert(err.to_string());
    }
    assert_eq!(
        messages.len(),
        1,
        "one message for every failure: {messages:?}"
    );
    let msg = messages.into_iter().next().unwrap();
    assert!(msg.contains("no key could decrypt"), "{msg}");
    assert!(!msg.contains("hunter2"));
}

#[test]
fn base64_is_go_std_encoding() {
    let pk = fixtures::public_key(2048);
    let sk = fixtures::private_key(2048);
    let label = Scope::ClusterWide.label(NAMESPACE, NAME);
    // Lengths 0..3 exercise every padding case.
    for n in 0..4 {
        let value = vec![b'x'; n];
        let text = seal_base64(&pk, &label, &value).unwrap();
        assert!(!text.contains('\n') && !text.contains(' '));
        assert_eq!(text.len() % 4, 0, "padded");
        assert!(!text.contains('-') && !text.contains('_'));
        let keys = std::slice::from_ref(&sk);
        assert_eq!(
            unseal_base64(keys, &label, &text).unwrap().expose_secret(),
            &value[..]
        );

        // Embedded newlines (as in a folded YAML scalar) are tolerated, like Go.
        let wrapped: String = text
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(
            unseal_base64(keys, &label, &wrapped)
                .unwrap()
                .expose_secret(),
            &value[..]
        );

        // Unpadded, URL-safe and space-separated forms are rejected, like Go's StdEncoding.
        let raw = decode_value(&text).unwrap();
        if text.ends_with('=') {
            let unpadded = text.trim_end_matches('=');
            assert!(matches!(decode_value(unpadded), Err(CryptoError::Base64)));
        }
        let url = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE.encode(&raw)
        };
        if url != text {
            assert!(matches!(decode_value(&url), Err(CryptoError::Base64)));
        }
        let spaced = format!("{} {}", &text[..8], &text[8..]);
        assert!(matches!(decode_value(&spaced), Err(CryptoError::Base64)));
    }
}

#[test]
fn seal_many_keeps_order_and_uses_fresh_keys() {
    let pk = fixtures::public_key(2048);
    let sk = fixtures::private_key(2048);
    let label = Scope::Strict.label(NAMESPACE, NAME);
    let inputs: Vec<SecretValue> = (0..24)
        .map(|i| SecretValue::new(format!("value-{i}").into_bytes()))
        .collect();
    let out = seal_many(&crypto::SealingKey::new(&pk), &label, &inputs).unwrap();
    assert_eq!(out.len(), inputs.len());
    let distinct: std::collections::BTreeSet<&String> = out.iter().collect();
    assert_eq!(distinct.len(), out.len());
    for (input, text) in inputs.iter().zip(&out) {
        let opened = unseal_base64(std::slice::from_ref(&sk), &label, text).unwrap();
        assert_eq!(opened, *input);
    }
}

#[test]
fn errors_never_show_the_value() {
    let label = Scope::Strict.label(NAMESPACE, NAME);
    let sk = fixtures::private_key(2048);
    let errs = [
        unseal(std::slice::from_ref(&sk), &label, SENTINEL).unwrap_err(),
        unseal_base64(std::slice::from_ref(&sk), &label, "aHVudGVyMi1zZW50aW5lbA").unwrap_err(),
    ];
    for e in errs {
        let shown = format!("{e} {e:?} {:?}", e.hint());
        assert!(
            !shown.contains("hunter2") && !shown.contains("aHVudGVy"),
            "{shown}"
        );
    }
    assert_eq!(fixtures::public_key(3072).size(), 384);
}

// ---- recovery keys (emp_seal::keys) ----

fn secret_yaml(name: &str, key_pem: &str) -> String {
    format!(
        "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: {name}\n    namespace: kube-system\n    \
         labels:\n      sealedsecrets.bitnami.com/sealed-secrets-key: active\n  type: kubernetes.io/tls\n  \
         data:\n    tls.crt: {}\n    tls.key: {}\n",
        common::b64(b"not used"),
        common::b64(key_pem.as_bytes())
    )
}

fn same_key(a: &emp_seal::crypto::UnsealingKey, b: &emp_seal::crypto::UnsealingKey) -> bool {
    a.public_key_der() == b.public_key_der()
}

#[test]
fn keys_load_from_pkcs1_pkcs8_and_several_blocks() {
    let p8 = load_private_keys(fixtures::key_pem(2048).as_bytes(), "k8").unwrap();
    let p1 = load_private_keys(fixtures::pkcs1_key_pem().as_bytes(), "k1").unwrap();
    assert_eq!((p8.len(), p1.len()), (1, 1));
    assert!(same_key(&p8[0], &p1[0]));

    let bundle = format!(
        "comment line\n{}{}{}",
        fixtures::pkcs1_key_pem(),
        fixtures::cert_pem(2048),
        fixtures::key_pem(4096)
    );
    let keys = load_private_keys(bundle.as_bytes(), "bundle.pem").unwrap();
    assert_eq!(keys.len(), 2, "certificate blocks are skipped");
    assert!(same_key(&keys[1], &fixtures::private_key(4096)));
}

#[test]
fn keys_load_from_controller_secret_list_yaml_and_json() {
    // What `kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key
    // -o yaml` prints: a List of kubernetes.io/tls Secrets with base64 PKCS#1 in tls.key.
    let list = format!(
        "apiVersion: v1\nitems:\n{}{}kind: List\nmetadata:\n  resourceVersion: \"\"\n",
        secret_yaml("sealed-secrets-keyaaaa", &fixtures::pkcs1_key_pem()),
        secret_yaml("sealed-secrets-keybbbb", &fixtures::key_pem(4096)),
    );
    let keys = load_private_keys(list.as_bytes(), "keys.yaml").unwrap();
    assert_eq!(keys.len(), 2);

    // The same as JSON (-o json), and one Secret alone, and two YAML documents.
    let as_value: serde_json::Value = yaml_serde::from_str(&list).unwrap();
    let json = serde_json::to_string_pretty(&as_value).unwrap();
    assert_eq!(
        load_private_keys(json.as_bytes(), "keys.json")
            .unwrap()
            .len(),
        2
    );
    let single = serde_json::to_string(&as_value["items"][1]).unwrap();
    let one = load_private_keys(single.as_bytes(), "one.json").unwrap();
    assert!(same_key(&one[0], &fixtures::private_key(4096)));
    let docs = format!(
        "{}\n---\n{}",
        yaml_serde::to_string(&as_value["items"][0]).unwrap(),
        yaml_serde::to_string(&as_value["items"][1]).unwrap()
    );
    assert_eq!(
        load_private_keys(docs.as_bytes(), "docs.yaml")
            .unwrap()
            .len(),
        2
    );

    // Recovery end to end: a value sealed for the 4096 certificate unseals with the list.
    let label = Scope::Strict.label(NAMESPACE, NAME);
    let sealed = seal_base64(&fixtures::public_key(4096), &label, SENTINEL).unwrap();
    assert_eq!(
        unseal_base64(&keys, &label, &sealed)
            .unwrap()
            .expose_secret(),
        SENTINEL
    );
}

#[test]
fn key_loading_errors_are_clear_and_leak_nothing() {
    let no_key = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  other: eA==\n";
    type Case = (&'static str, Vec<u8>, fn(&KeyError) -> bool);
    let cases: Vec<Case> = vec![
        ("cert only", fixtures::cert_pem(2048).into_bytes(), |e| {
            matches!(e, KeyError::NoKeys { .. })
        }),
        ("secret without tls.key", no_key.as_bytes().to_vec(), |e| {
            matches!(e, KeyError::NoKeys { .. })
        }),
        ("not yaml", b"key: [unclosed".to_vec(), |e| {
            matches!(e, KeyError::Document { .. })
        }),
        ("empty", Vec::new(), |e| {
            matches!(e, KeyError::Unrecognised { .. })
        }),
        (
            "bad base64 tls.key",
            b"kind: Secret\nmetadata:\n  name: s\ndata:\n  tls.key: '@@@'\n".to_vec(),
            |e| matches!(e, KeyError::Base64 { .. }),
        ),
        (
            "truncated key",
            {
                let pem = fixtures::pkcs1_key_pem();
                let lines: Vec<&str> = pem.lines().collect();
                let keep = [&lines[..6], &lines[lines.len() - 1..]].concat().join("\n");
                keep.into_bytes()
            },
            |e| matches!(e, KeyError::BadKey { .. }),
        ),
    ];
    for (what, bytes, ok) in cases {
        let err = load_private_keys(&bytes, "input.yaml").unwrap_err();
        assert!(ok(&err), "{what}: {err:?}");
        let shown = err.to_string();
        assert!(shown.starts_with("input.yaml"), "{what}: {shown}");
        assert!(!shown.contains('\n'), "{what}: one line: {shown}");
        assert!(!shown.contains("MII"), "{what}: no key material: {shown}");
    }

    // A password-protected PKCS#8 key.
    let Some(enc) = fixtures::openssl(
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:test-only",
        ],
        fixtures::key_pem(2048).as_bytes(),
    ) else {
        return;
    };
    let err = load_private_keys(&enc, "enc.pem").unwrap_err();
    assert!(matches!(err, KeyError::Encrypted { .. }), "{err:?}");
    assert!(err.hint().is_some());
}

#[test]
fn keys_outside_2048_to_8192_bits_are_refused_with_the_reason() {
    // Private keys are taken at 2048..=8192 bits: the range certificates are accepted in. A 1024-bit key, in both encodings, is refused by name and size.
    let Some(pkcs8) = fixtures::openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
        ],
        b"",
    ) else {
        return;
    };
    let Some(pkcs1) = fixtures::openssl(&["pkey", "-traditional"], &pkcs8) else {
        return;
    };
    assert!(String::from_utf8_lossy(&pkcs1).contains("BEGIN RSA PRIVATE KEY"));
    for (what, bytes) in [("pkcs8", &pkcs8), ("pkcs1", &pkcs1)] {
        let err = load_private_keys(bytes, "small.pem").unwrap_err();
        assert!(matches!(err, KeyError::BadKey { .. }), "{what}: {err:?}");
        assert!(
            err.to_string().starts_with("small.pem: pem block 1 (")
                && err
                    .to_string()
                    .ends_with("): not a valid rsa private key (the modulus is under 2048 bits)"),
            "{what}: {err}"
        );
    }
}

#[test]
fn unseal_accepts_aes128_and_aes192_session_keys_like_go() {
    // Go's aes.NewCipher takes 16-, 24- or 32-byte keys, so the controller's HybridDecrypt opens
    // values whose wrapped session key is AES-128 or AES-192; emp-seal's unseal must too. The
    // values are built outside emp-seal's crates, by Python's `cryptography` (OpenSSL).
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let label = Scope::Strict.label(NAMESPACE, NAME);
    let sk = fixtures::private_key(2048);
    for n in [16usize, 24, 32] {
        let session: Vec<u8> = (0..=255u8).take(n).collect();
        let value =
            peer.encrypt_with_session_key(&fixtures::cert_pem(2048), &label, &session, SENTINEL);
        let opened = unseal(std::slice::from_ref(&sk), &label, &value).unwrap();
        assert_eq!(opened.expose_secret(), SENTINEL, "aes-{}", n * 8);
    }
}

/// `openssl pkeyutl` opens the RSA part of emp-seal's values: OAEP with SHA-256 for the digest
/// and MGF1, the scope's label, and a 32-byte session key inside; another label is refused.
#[test]
fn openssl_opens_the_rsa_part_with_the_scope_label() {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("test-only-key.pem");
    crate::lifecycle::write(&key, &fixtures::key_pem(2048));
    let key_arg = key.to_str().unwrap();
    let open = |label: &[u8], rsa_ct: &[u8]| {
        let label_opt = format!("rsa_oaep_label:{}", hex(label));
        let mut args = vec![
            "pkeyutl",
            "-decrypt",
            "-inkey",
            key_arg,
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
        ];
        if !label.is_empty() {
            args.extend(["-pkeyopt", label_opt.as_str()]);
        }
        fixtures::openssl_result(&args, rsa_ct)
    };
    for (scope, label) in LABELS {
        let value = seal(&fixtures::public_key(2048), label, SENTINEL).unwrap();
        let rsa_len = usize::from(u16::from_be_bytes([value[0], value[1]]));
        assert_eq!(rsa_len, 256, "{scope:?}");
        let rsa_ct = &value[LENGTH_PREFIX_BYTES..LENGTH_PREFIX_BYTES + rsa_len];
        let Some(session) = open(label, rsa_ct) else {
            return;
        };
        let session = session.unwrap_or_else(|e| panic!("{scope:?}: openssl refused: {e}"));
        assert_eq!(session.len(), 32, "{scope:?}: an AES-256 session key");
        assert_eq!(
            value.len(),
            LENGTH_PREFIX_BYTES + rsa_len + SENTINEL.len() + GCM_TAG_BYTES
        );
        let other = if label.is_empty() {
            b"x".to_vec()
        } else {
            Vec::new()
        };
        assert!(
            open(&other, rsa_ct).is_some_and(|r| r.is_err()),
            "{scope:?}: openssl must refuse another label"
        );
    }
}

/// One prepared key seals many values; each opens with the peer, and the key knows its
/// ciphertext length.
#[test]
fn sealing_key_is_reusable_and_reports_its_ciphertext_len() {
    let Some(mut peer) = Peer::start() else {
        return;
    };
    for bits in BITS {
        let pk = fixtures::public_key(bits);
        let key = crypto::SealingKey::new(&pk);
        assert_eq!(key.ciphertext_len(), bits / 8);
        assert_eq!(key.ciphertext_len(), pk.size());
        let label = Scope::Strict.label(NAMESPACE, NAME);
        let a = key.seal(&label, SENTINEL).unwrap();
        let b = key.seal(&label, SENTINEL).unwrap();
        assert_ne!(a, b, "a fresh session key and OAEP seed per value");
        for v in [&a, &b] {
            assert_eq!(
                v.len(),
                LENGTH_PREFIX_BYTES + bits / 8 + SENTINEL.len() + GCM_TAG_BYTES
            );
            assert_eq!(
                peer.decrypt(&fixtures::key_pem(bits), &label, v).as_deref(),
                Ok(SENTINEL)
            );
        }
    }
}

#[test]
fn unseal_many_keeps_input_order_and_reports_each_failure_in_place() {
    let label = Scope::Strict.label(NAMESPACE, NAME);
    let cert = fixtures::cert(2048);
    let keys = [fixtures::private_key(2048)];
    let plain: Vec<SecretValue> = (0..9)
        .map(|i| SecretValue::new(format!("value-{i}").into_bytes()))
        .collect();
    let mut texts = seal_many(cert.sealing_key(), &label, &plain).unwrap();
    // The third is sealed for another name, the sixth is not base64.
    texts[2] = seal_base64(
        cert.public_key(),
        &Scope::Strict.label(NAMESPACE, "other"),
        b"x",
    )
    .unwrap();
    texts[5] = "not base64!".to_owned();
    for n in [0, 1, texts.len()] {
        let opened = unseal_many_base64(&keys, &label, &texts[..n]);
        assert_eq!(opened.len(), n);
        for (i, o) in opened.iter().enumerate() {
            match i {
                2 => assert!(
                    matches!(o, Err(CryptoError::NoKeyCouldDecrypt)),
                    "{i}: {o:?}"
                ),
                5 => assert!(matches!(o, Err(CryptoError::Base64)), "{i}: {o:?}"),
                _ => assert_eq!(
                    o.as_ref().unwrap().expose_secret(),
                    plain[i].expose_secret(),
                    "{i}"
                ),
            }
        }
    }
}
