#!/usr/bin/env bash
# test_control_plane: the local control plane (hack/local-cluster.sh) is the
# real thing the other end-to-end tests rely on: the v1.37.2 apiserver, a
# controller manager whose garbage collector, deployment, replicaset and
# serviceaccount controllers run, an idempotent `up`, and the bearer-token
# users (an admin, and an ordinary user RBAC refuses). It never stops the
# shared cluster.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

CLUSTER=$SRC/hack/local-cluster.sh

check_version() {
	local server
	server=$(kubectl version 2>/dev/null | sed -n 's/^Server Version: //p')
	expect_eq "$server" v1.37.2 "kubectl version: server version"
}

# check_garbage_collector: B is owned by A; deleting A must take B with it,
# which only the controller manager's garbage collector does.
check_garbage_collector() {
	local uid
	kubectl create configmap owner -n "$NS" --from-literal=k=v >/dev/null
	uid=$(jget configmap owner '{.metadata.uid}' -n "$NS")
	[ -n "$uid" ] || fail "ConfigMap owner has no uid"
	kubectl apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: dependent
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: owner
    uid: $uid
data: {k: v}
EOF
	# the owner exists, so the collector must leave the dependent alone
	sleep 2
	kubectl get configmap dependent -n "$NS" >/dev/null ||
		fail "the dependent was deleted while its owner still exists"
	kubectl delete configmap owner -n "$NS" >/dev/null
	eventually 30 absent configmap dependent -n "$NS" ||
		fail "garbage collector: the dependent ConfigMap outlived its owner by 30s"
}

has_objects() { [ -n "$(kubectl get "$@" -o name 2>/dev/null)" ]; }

# check_deployment: deployment controller makes a ReplicaSet, replicaset
# controller makes a Pod, which the ServiceAccount admission plugin only
# admits once the serviceaccount controller made the namespace's "default".
check_deployment() {
	kubectl create deployment web -n "$NS" --image=registry.invalid/pause:1 >/dev/null
	eventually 30 has_objects replicaset -n "$NS" -l app=web ||
		fail "deployment controller: no ReplicaSet for Deployment web after 30s"
	eventually 30 has_objects pod -n "$NS" -l app=web ||
		fail "replicaset controller: no Pod for Deployment web after 30s"
	expect_eq "$(jget serviceaccount default '{.metadata.name}' -n "$NS")" default \
		"serviceaccount controller: the namespace's default ServiceAccount"
	kubectl create token default -n "$NS" >/dev/null ||
		fail "kubectl create token: no token for ServiceAccount default"
}

# check_up_again: `up` on a running cluster is quick and leaves it serving.
check_up_again() {
	local start elapsed
	start=$(date +%s%N)
	"$CLUSTER" up 2>/dev/null || fail "local-cluster.sh up on a running cluster failed"
	elapsed=$((($(date +%s%N) - start) / 1000000))
	log "second up took ${elapsed}ms"
	[ "$elapsed" -lt 5000 ] || fail "second up took ${elapsed}ms, want under 5s"
	kubectl get namespace "$NS" >/dev/null || fail "the cluster stopped answering after up"
}

whoami_as() {
	kubectl --kubeconfig "$1" auth whoami -o jsonpath='{.status.userInfo.username}'
}

# check_tokens: the admin token has every right; the ordinary user is
# authenticated but may not read Secrets.
check_tokens() {
	local out
	eval "$("$CLUSTER" env)"
	expect_eq "$(whoami_as "$VKC_TOKEN_KUBECONFIG")" vkc-token-admin "token kubeconfig user"
	expect_eq "$(kubectl --kubeconfig "$VKC_TOKEN_KUBECONFIG" auth can-i '*' '*' -A)" yes \
		"token kubeconfig: admin rights"
	expect_eq "$(whoami_as "$VKC_USER_KUBECONFIG")" "$VKC_E2E_USER" "user kubeconfig user"
	if out=$(kubectl --kubeconfig "$VKC_USER_KUBECONFIG" get secrets -n "$NS" 2>&1); then
		fail "the non-admin user could list Secrets: $out"
	fi
	expect_contains "$out" forbidden "the non-admin user listing Secrets"
}

new_namespace
check_version
check_garbage_collector
check_deployment
check_up_again
check_tokens
