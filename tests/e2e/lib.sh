# shellcheck shell=bash
# lib.sh: shared helpers for the end-to-end tests, sourced by each
# tests/e2e/test_*.sh. Every test gets its own namespace and, when it asks,
# its own operator process watching only that namespace; both are removed
# when the test exits. The control plane is hack/local-cluster.sh's.
set -euo pipefail

SRC=${VKC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${VKC_BUILD_DIR:-$SRC/build}
OPERATOR=${VKC_OPERATOR:-$BUILD/vkc-operator}
KUBECONFIG=$("$SRC/hack/local-cluster.sh" kubeconfig)
export KUBECONFIG
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vkc-e2e.XXXXXX")
NS=""
OPERATOR_PIDS=()
CLEANUP_NODES=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# fail MESSAGE: ends the test.
fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

cleanup() {
	local rc=$?
	local pid
	for pid in "${OPERATOR_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${OPERATOR_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ $rc -ne 0 ]; then
		for f in "$WORK"/operator*.log; do
			[ -f "$f" ] || continue
			echo "---- $f (last 60 lines)" >&2
			tail -n 60 "$f" >&2
		done
	fi
	if [ -n "$NS" ]; then
		# ClusterRoleBindings cannot be owned by the namespace's objects
		kubectl delete clusterrolebinding --ignore-not-found --wait=false \
		    -l "connectors.virtual-kubelet.io/namespace=$NS" >/dev/null 2>&1 || true
	fi
	for n in "${CLEANUP_NODES[@]}"; do
		kubectl delete node "$n" --ignore-not-found --wait=false >/dev/null 2>&1 || true
	done
	if [ -n "$NS" ]; then
		# connectors carry a finalizer; without an operator left to remove
		# it, drop it so the namespace can go
		{ kubectl get vkc -n "$NS" -o name 2>/dev/null || true; } | while read -r o; do
			kubectl patch -n "$NS" "$o" --type=merge \
			    -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
		done
		kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
	fi
	rm -rf "$WORK"
	if [ $rc -eq 0 ]; then
		echo "PASS: $TEST_NAME"
	fi
	exit $rc
}
trap cleanup EXIT

# install_crd: applies the CRD and waits until it is served.
install_crd() {
	kubectl apply --server-side --force-conflicts -f "$SRC/crds/" >/dev/null
	kubectl wait --for=condition=Established --timeout=60s \
	    crd/virtualkubeletconnectors.connectors.virtual-kubelet.io >/dev/null
}

# new_namespace: creates this test's namespace and sets NS.
new_namespace() {
	NS="e2e-$(echo "$TEST_NAME" | tr '_' '-' | cut -c1-40)-$RANDOM"
	kubectl create namespace "$NS" >/dev/null
}

# operator_kubeconfig: prints the path of a kubeconfig that authenticates
# as the operator's own ServiceAccount (vkc-system/vkc-operator, with the
# RBAC of manifests/rbac), made once per hour for every test to share; so
# every end-to-end test proves that RBAC sufficient.
operator_kubeconfig() {
	local dir kc token
	dir=$("$SRC/hack/local-cluster.sh" env | sed -n 's/^export VKC_CLUSTER_DIR=//p')
	kc=$dir/operator-sa.kubeconfig
	(
		flock 9
		if [ -s "$kc" ] && [ $(($(date +%s) - $(stat -c %Y "$kc"))) -lt 3600 ]; then
			exit 0
		fi
		mkdir -p "$WORK/rbac"
		cat >"$WORK/rbac/kustomization.yaml" <<EOK
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: vkc-system
resources:
- $(realpath --relative-to="$WORK/rbac" "$SRC/manifests/rbac")
EOK
		kubectl create namespace vkc-system --dry-run=client -o yaml |
			kubectl apply -f - >/dev/null
		kubectl kustomize --load-restrictor LoadRestrictionsNone "$WORK/rbac" |
			kubectl apply --server-side --force-conflicts -f - >/dev/null
		token=$(kubectl create token vkc-operator -n vkc-system --duration=24h)
		kubectl config view --raw --minify -o json | python3 -c '
import json, sys
cfg = json.load(sys.stdin)
cfg["users"] = [{"name": "vkc-operator", "user": {"token": sys.argv[1]}}]
cfg["contexts"][0]["context"]["user"] = "vkc-operator"
print(json.dumps(cfg))' "$token" >"$kc.tmp"
		mv "$kc.tmp" "$kc"
	) 9>"$dir/operator-sa.lock"
	echo "$kc"
}

# start_operator [ARGS...]: runs the operator for NS in the background, as
# its own ServiceAccount (pass --kubeconfig "$KUBECONFIG" to run it as the
# admin instead); its log is $WORK/operator-N.log. Sets OPERATOR_PID.
start_operator() {
	local n=${#OPERATOR_PIDS[@]} kc
	kc=$(operator_kubeconfig)
	"$OPERATOR" --kubeconfig "$kc" --namespace "$NS" \
	    --metrics-bind-address 0 --health-probe-bind-address 0 -v 2 "$@" \
	    >"$WORK/operator-$n.log" 2>&1 &
	OPERATOR_PID=$!
	OPERATOR_PIDS+=("$OPERATOR_PID")
}

# eventually SECONDS COMMAND...: runs COMMAND until it succeeds, failing the
# test after SECONDS.
eventually() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out waiting for: $*" >&2
			"$@" >&2 || true
			return 1
		fi
		sleep 0.2
	done
}

# eventually_eq SECONDS WANT COMMAND...: runs COMMAND until what it prints
# is WANT (COMMAND runs anew each time; "$(...)" in the caller would not).
eventually_eq() {
	local deadline=$((SECONDS + $1)) want=$2 got
	shift 2
	while :; do
		got=$("$@" 2>/dev/null) || got=""
		[ "$got" = "$want" ] && return 0
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out waiting for '$*' to print '$want' (it printed '$got')" >&2
			return 1
		fi
		sleep 0.2
	done
}

# eventually_ne SECONDS NOT COMMAND...: runs COMMAND until what it prints is
# not NOT.
eventually_ne() {
	local deadline=$((SECONDS + $1)) not=$2 got
	shift 2
	while :; do
		got=$("$@" 2>/dev/null) || got=""
		[ "$got" != "$not" ] && return 0
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out waiting for '$*' to print other than '$not'" >&2
			return 1
		fi
		sleep 0.2
	done
}

# absent KIND NAME [kubectl args]: true when the object does not exist.
absent() {
	local kind=$1 name=$2
	shift 2
	! kubectl get "$kind" "$name" "$@" >/dev/null 2>&1
}

# jget KIND NAME JSONPATH [kubectl args]: prints a field.
jget() {
	local kind=$1 name=$2 path=$3
	shift 3
	kubectl get "$kind" "$name" "$@" -o "jsonpath=$path"
}

# expect_eq ACTUAL WANT WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# expect_contains HAYSTACK NEEDLE WHAT
expect_contains() {
	case $1 in
	*"$2"*) ;;
	*) fail "$3: '$2' not found in: $1" ;;
	esac
}

# virtual_node NAME OS [READY]: creates the Node a virtual kubelet would
# register (its labels and taint), Ready True unless READY says otherwise;
# it is deleted when the test ends.
virtual_node() {
	local name=$1 os=$2 ready=${3:-True}
	CLEANUP_NODES+=("$name")
	kubectl apply -f - >/dev/null <<EON
apiVersion: v1
kind: Node
metadata:
  name: $name
  labels:
    type: virtual-kubelet
    kubernetes.io/role: agent
    kubernetes.io/os: $os
    kubernetes.io/hostname: $name
spec:
  taints:
  - key: virtual-kubelet.io/provider
    value: azure
    effect: NoSchedule
EON
	kubectl patch node "$name" --subresource=status --type=merge -p \
	    "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"$ready\",\"reason\":\"KubeletReady\",\"message\":\"played by the test\",\"lastHeartbeatTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"lastTransitionTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]}}" >/dev/null
}

# make_pods_ready SELECTOR: plays the kubelet for the pods a Deployment
# made (there is no kubelet here): marks them Running and Ready.
make_pods_ready() {
	local p
	for p in $(kubectl get pods -n "$NS" -l "$1" -o name); do
		kubectl patch -n "$NS" "$p" --subresource=status --type=merge -p \
		    "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":\"ContainersReady\",\"status\":\"True\"}]}}" >/dev/null
	done
}

# free_port: a free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# writes METRICS_URL: counts the operator's write requests (everything but
# GET and WATCH) from its /metrics.
writes_sent() {
	curl -fsS "$1" | awk '/^rest_client_requests_total/ && !/method="(GET|WATCH)"/ { n += $NF } END { print n + 0 }'
}

# install_connector_role: the ClusterRole connectors are bound to.
install_connector_role() {
	kubectl apply --server-side --force-conflicts \
	    -f "$SRC/manifests/rbac/connector_role.yaml" >/dev/null
}
