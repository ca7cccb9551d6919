#!/usr/bin/env python3
"""Generates a large Kustomize repository for whole-process benchmarks (scripts/bench.sh).

The tree is shaped like the shipped one, scaled up: `k8s/base` is a copy of this repository's
base, and every overlay `k8s/overlays/env-NN` sets a namespace, patches the base, adds its own
workloads (Deployments reading Secret keys by `secretKeyRef`, Services, ConfigMaps, CronJobs,
NetworkPolicies) under `resources/`, documents its keys in `env-NN-secrets.env.example`, and holds
one SealedSecret sealed by the real `emp-seal` binary with one of two freshly generated RSA-4096
certificates. Exactly `--files` YAML files are written in total.

Secret values are random bytes from the operating system, written only to a temporary env file
(mode 0600) that is deleted right after sealing; they are never printed.

Usage: gen-tree.py OUT_DIR --bin BIN [--overlays 50] [--files 5000]
(BIN: an emp-seal binary, e.g. target/x86_64-unknown-linux-musl/release/emp-seal)
"""

import argparse
import base64
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASE_KEYS = ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "API_KEY"]
EXTRA_KEYS = ["SMTP_PASSWORD", "S3_SECRET_ACCESS_KEY", "SENTRY_DSN", "JWT_SIGNING_KEY", "WEBHOOK_SECRET"]
KEYS = BASE_KEYS + EXTRA_KEYS
# ConfigMap first: an overlay's last, partial group of files then never holds a Deployment
# without the ConfigMap it reads (the tree has no findings at any --files count).
KINDS = ["configmap", "deployment", "service", "cronjob", "networkpolicy"]


def deployment(name: str, i: int) -> str:
    key_a = KEYS[i % len(KEYS)]
    key_b = KEYS[(i + 3) % len(KEYS)]
    return f"""# Worker {name}: reads two keys of emp-secrets and its own settings.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  replicas: {1 + i % 3}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      serviceAccountName: emp-app
      automountServiceAccountToken: false
      containers:
        - name: {name}
          image: ghcr.io/emp/{name}:1.{i % 7}.{i % 11}
          args: ["--queue", "{name}", "--concurrency", "{2 + i % 5}"]
          envFrom:
            - configMapRef:
                name: {name}-config
          env:
            - name: {key_a}
              valueFrom:
                secretKeyRef:
                  name: emp-secrets
                  key: {key_a}
            - name: {key_b}
              valueFrom:
                secretKeyRef:
                  name: emp-secrets
                  key: {key_b}
          resources:
            requests:
              cpu: {50 + 10 * (i % 10)}m
              memory: {64 + 32 * (i % 4)}Mi
            limits:
              memory: {256 + 64 * (i % 4)}Mi
"""


def service(name: str, i: int) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: http
      port: 80
      targetPort: {8000 + i % 100}
"""


def configmap(name: str, i: int) -> str:
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
data:
  LOG_LEVEL: {"DEBUG" if i % 4 == 0 else "INFO"}
  QUEUE: {name}
  BATCH_SIZE: "{10 * (1 + i % 9)}"
  FEATURE_FLAGS: "reports,{"replay" if i % 2 else "export"}"
"""


def cronjob(name: str, i: int) -> str:
    key = KEYS[i % len(KEYS)]
    return f"""apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}-nightly
spec:
  schedule: "{i % 60} {i % 24} * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: job
              image: ghcr.io/emp/{name}:1.{i % 7}.{i % 11}
              args: ["nightly"]
              env:
                - name: {key}
                  valueFrom:
                    secretKeyRef:
                      name: emp-secrets
                      key: {key}
"""


def networkpolicy(name: str, i: int) -> str:
    return f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}-ingress
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {name}
  policyTypes: ["Ingress"]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: emp-app
      ports:
        - port: {8000 + i % 100}
"""


RENDER = {
    "deployment": deployment,
    "service": service,
    "configmap": configmap,
    "cronjob": cronjob,
    "networkpolicy": networkpolicy,
}


def sealedsecret(ns: str) -> str:
    data = "\n".join(f"    {k}: AgAAAAAAAAAA...REPLACE_ME" for k in sorted(KEYS))
    return f"""# Secret emp-secrets for {ns}, sealed with this overlay's sealing-cert.pem (strict scope).
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: emp-secrets
  namespace: {ns}
spec:
  encryptedData:
{data}
  template:
    metadata:
      name: emp-secrets
      namespace: {ns}
    type: Opaque
"""


def kustomization(ns: str, tag: str, extra: list[str]) -> str:
    res = "\n".join(f"  - {r}" for r in ["../../base", "sealedsecret.yaml", *extra])
    return f"""# Overlay for {ns}.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

namespace: {ns}

resources:
{res}

images:
  - name: ghcr.io/emp/emp-app
    newTag: {tag}

patches:
  - path: patch-configmap.yaml
  - path: patch-deployment.yaml
"""


def patch_configmap(env: str, ns: str) -> str:
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: emp-config
data:
  EMP_ENV: {env}
  POSTGRES_HOST: postgres.{ns}.svc.cluster.local
  REDIS_HOST: redis.{ns}.svc.cluster.local
"""


def patch_deployment(i: int) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: emp-app
spec:
  replicas: {1 + i % 4}
"""


def make_cert(path: Path, tmp: Path) -> None:
    key = tmp / "throwaway.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:4096", "-nodes", "-sha256",
            "-keyout", str(key), "-out", str(path), "-days", "3650",
            "-subj", "/O=sealed-secret/CN=sealed-secret",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    key.unlink()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--bin", type=Path, required=True, help="the emp-seal binary used to seal")
    ap.add_argument("--overlays", type=int, default=50)
    ap.add_argument("--files", type=int, default=5000, help="total YAML files to write")
    a = ap.parse_args()

    out: Path = a.out
    if out.exists():
        print(f"{out} exists; give a new directory", file=sys.stderr)
        return 2
    shutil.copytree(REPO / "k8s" / "base", out / "k8s" / "base")
    base_yaml = len(list((out / "k8s" / "base").glob("*.yaml")))
    fixed = 4  # kustomization, sealedsecret, two patches
    extra_total = a.files - base_yaml - a.overlays * fixed
    if extra_total < 0:
        print("--files too small for that many overlays", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        certs = [tmp / "cert-a.pem", tmp / "cert-b.pem"]
        for c in certs:
            make_cert(c, tmp)
        for n in range(a.overlays):
            env = f"env-{n:02d}"
            ns = f"emp-{env}"
            d = out / "k8s" / "overlays" / env
            (d / "resources").mkdir(parents=True)
            count = extra_total // a.overlays + (1 if n < extra_total % a.overlays else 0)
            extra = []
            for j in range(count):
                kind = KINDS[j % len(KINDS)]
                name = f"worker-{j // len(KINDS):02d}"
                rel = f"resources/{name}-{kind}.yaml"
                (d / rel).write_text(RENDER[kind](name, n + j))
                extra.append(rel)
            (d / "kustomization.yaml").write_text(kustomization(ns, f"1.{n}.0", extra))
            (d / "patch-configmap.yaml").write_text(patch_configmap(env, ns))
            (d / "patch-deployment.yaml").write_text(patch_deployment(n))
            (d / "sealedsecret.yaml").write_text(sealedsecret(ns))
            (d / f"{env}-secrets.env.example").write_text(
                f"# Keys of emp-secrets for {env}; copy to {env}-secrets.env and fill in.\n"
                + "".join(f"{k}=\n" for k in KEYS)
            )
            shutil.copyfile(certs[n % 2], d / "sealing-cert.pem")

            envfile = tmp / f"{env}.env"
            fd = os.open(envfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                for k in KEYS:
                    f.write(f"{k}={base64.b64encode(os.urandom(24)).decode()}\n")
            subprocess.run(
                [str(a.bin), "-q", "-C", str(out), env, "--from", str(envfile), "--no-input"],
                check=True,
            )
            envfile.unlink()

    total = sum(1 for _ in out.rglob("*.yaml"))
    print(f"{out}: {a.overlays} overlays, {total} YAML files", file=sys.stderr)
    return 0 if total == a.files else 1


if __name__ == "__main__":
    sys.exit(main())
