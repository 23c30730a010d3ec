#!/usr/bin/env bash
# The dev overlay's two Secrets (gateway-secrets, mysql-secrets) with fresh random values: the keys of
# k8s/base/secret.yaml, none of its placeholders (the services refuse those).
#
#   k8s/overlays/dev/create-secrets.sh            creates the namespace and each Secret that is missing
#                                                 in the current kubectl context; an existing one is kept
#                                                 (new passwords would lock MySQL's users out of their data)
#   k8s/overlays/dev/create-secrets.sh --print    prints both Secrets as YAML and touches no cluster
#
# NAMESPACE (payment-gateway-dev) selects the namespace. Then: kubectl apply -k k8s/overlays/dev
set -euo pipefail

namespace="${NAMESPACE:-payment-gateway-dev}"

command -v openssl >/dev/null || { echo "create-secrets.sh: openssl is required (Debian: apt-get install openssl)" >&2; exit 1; }

key32() { openssl rand -base64 32; }        # 32 random bytes: the AES-256 keys and the HMAC pepper
password() { openssl rand -hex 24; }        # URL-safe: the DATABASE_URLs embed them

gateway_secrets() {
  cat <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: gateway-secrets
  namespace: ${namespace}
type: Opaque
stringData:
  admin-token: '$(key32)'
  secret-pepper: '$(key32)'
  panel-secret-key: '$(key32)'
  card-data-keys: 'k1:$(key32)'
  webhook-secrets-key: '$(key32)'
  redis-password: '$(password)'
  audit-hmac-key: '$(key32)'
EOF
}

mysql_secrets() {
  cat <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: mysql-secrets
  namespace: ${namespace}
type: Opaque
stringData:
  root-password: '$(password)'
  processor-password: '$(password)'
  gateway-password: '$(password)'
  backup-password: '$(password)'
EOF
}

if [ "${1:-}" = "--print" ]; then
  gateway_secrets
  echo "---"
  mysql_secrets
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [--print]" >&2; exit 2; }

command -v kubectl >/dev/null || { echo "create-secrets.sh: kubectl is required" >&2; exit 1; }
kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
for secret in gateway-secrets mysql-secrets; do
  if kubectl -n "$namespace" get secret "$secret" >/dev/null 2>&1; then
    echo "kept     $namespace/$secret (already there)"
  else
    "${secret//-/_}" | kubectl create -f - >/dev/null
    echo "created  $namespace/$secret (random values; read them with kubectl -n $namespace get secret $secret -o yaml)"
  fi
done
