#!/usr/bin/env bash
# vkc-test: serial
# test_fault_apiserver_churn.sh: issue 7's first fault. A burst of 200
# connectors (osType Both: 1600 children and 400 pods) is created, some
# are updated (a new image tag, a shrink to Linux, a new location) and some
# deleted (some right after their creation), while kube-apiserver is
# stopped for about 2 s and started again three times: once during the
# creates, once during the updates, once during the deletes, each time
# with the operator's queue full (and etcd compacted during the second
# outage). The test's own writes are retried until
# they go through. Afterwards, with no operator restart, everything
# converges:
#
# - every live connector has exactly its children: for each release one
#   Deployment, ServiceAccount, TLS Secret and ClusterRoleBinding, counted
#   by the label connectors.virtual-kubelet.io/name, and nothing more
#   (no duplicate, nothing left of a release shrunk or renamed away);
#   Deployments run the image the spec names;
# - no child (pods included) whose connector is gone, and no connector
#   left half-deleted;
# - every status observed: observedGeneration == generation;
# - the operator is alive and its log holds no sanitizer report.
#
# It stops the shared apiserver: ctest runs it alone (the line above).
# VKC_FAULT_CONNECTORS and VKC_FAULT_OS_TYPE size it (default 200, Both).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
CLUSTER=$SRC/hack/local-cluster.sh
N=${VKC_FAULT_CONNECTORS:-200}
OS_TYPE=${VKC_FAULT_OS_TYPE:-Both}
DOWN_S=${VKC_APISERVER_DOWN_S:-2}
BATCH=10
T0=$SECONDS

# if the test dies with the apiserver down, bring it back for everyone;
# ClusterRoleBindings are cluster-scoped and outlive the namespace: they
# go once the operator has stopped (it would put them back)
# (errexit is off in here: "(exit $rc)" only hands rc on to cleanup)
RESTARTER=""
# shellcheck disable=SC2154 # rc and p are assigned inside the trap
trap 'rc=$?; set +e; [ -z "$RESTARTER" ] || kill "$RESTARTER" 2>/dev/null
	"$CLUSTER" status >/dev/null 2>&1 || "$CLUSTER" up >/dev/null 2>&1
	for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
	(exit $rc); cleanup' EXIT

# retry COMMAND...: the test's own writes, retried while the apiserver is
# away (for two minutes at most).
retry() {
	local deadline=$((SECONDS + 120))
	until "$@" >/dev/null 2>>"$WORK/client.err"; do
		[ $SECONDS -lt $deadline ] || fail "gave up retrying: $*"
		sleep 0.5
	done
}

manifests() { # FIRST LAST
	local i
	for ((i = $1; i <= $2; i++)); do
		printf -- '---\napiVersion: %s\nkind: VirtualKubeletConnector\nmetadata:\n  name: c%03d\nspec:\n  osType: %s\n  location: eastus\n' \
		    "$API" "$i" "$OS_TYPE"
	done
}


apiserver_pid() { "$CLUSTER" status 2>/dev/null | sed -n 's/^kube-apiserver .*(pid \([0-9]*\)).*/\1/p'; }

# restarter: three restarts, each when the churn reaches a phase (the
# main flow touches $WORK/phaseN); records each outage.
restarter() {
	local i t
	for i in 1 2 3; do
		while [ ! -e "$WORK/phase$i" ]; do
			[ -d "$WORK" ] || return 1
			sleep 0.1
		done
		t=$SECONDS
		echo "restart $i: stop at +$((SECONDS - T0))s, pid $(apiserver_pid)" >>"$WORK/restarts"
		"$CLUSTER" stop kube-apiserver 2>>"$WORK/restarter.log"
		# the second time, etcd is also compacted while the apiserver is
		# away: the operator's resourceVersions are then surely gone
		[ "$i" -ne 2 ] || "$CLUSTER" compact 2>>"$WORK/restarter.log"
		sleep "$DOWN_S"
		"$CLUSTER" up 2>>"$WORK/restarter.log" || { echo "up failed" >>"$WORK/restarts"; return 1; }
		echo "restart $i: up again after $((SECONDS - t))s, pid $(apiserver_pid)" >>"$WORK/restarts"
	done
}

install_crd
install_connector_role
new_namespace
METRICS=$(free_port)
start_operator --metrics-bind-address "127.0.0.1:$METRICS"
OP=$OPERATOR_PID
eventually 30 curl -fsS "http://127.0.0.1:$METRICS/metrics" || fail "operator never served /metrics"

log "churn: $N connectors (osType $OS_TYPE) while kube-apiserver restarts three times"
restarter &
RESTARTER=$!
deleted=()
for ((first = 0; first < N; first += BATCH)); do
	last=$((first + BATCH - 1 < N - 1 ? first + BATCH - 1 : N - 1))
	manifests "$first" "$last" >"$WORK/batch.yaml"
	retry kubectl apply -n "$NS" -f "$WORK/batch.yaml"
	# some go again right after their creation, before or during their
	# first reconcile
	for ((i = first; i <= last; i++)); do
		if [ $((i % 20)) -eq 9 ]; then
			retry kubectl delete vkc "$(printf c%03d "$i")" -n "$NS" --wait=false --ignore-not-found
			deleted+=("$i")
		fi
	done
	[ "$first" -lt $((N / 2)) ] || touch "$WORK/phase1"
done
touch "$WORK/phase1"
log "created $N (+$((SECONDS - T0))s); updating"
updates=0
for ((i = 0; i < N; i++)); do
	name=$(printf c%03d "$i")
	case $((i % 20)) in
	1 | 11 | 16) # a new image tag: the Deployments roll
		retry kubectl patch vkc "$name" -n "$NS" --type=merge -p '{"spec":{"image":{"tag":"1.6.5"}}}' ;;
	2 | 12) # a shrink (Both to Linux) or a grow (Linux to Both)
		[ "$OS_TYPE" = Both ] && os=Linux || os=Both
		retry kubectl patch vkc "$name" -n "$NS" --type=merge -p "{\"spec\":{\"osType\":\"$os\"}}" ;;
	3) # a rename: every release is replaced
		retry kubectl patch vkc "$name" -n "$NS" --type=merge -p '{"spec":{"location":"West Europe"}}' ;;
	*) continue ;;
	esac
	updates=$((updates + 1))
	[ $updates -lt 20 ] || touch "$WORK/phase2"
done
touch "$WORK/phase2"
log "updated $updates (+$((SECONDS - T0))s); deleting"
for ((i = 0; i < N; i++)); do
	case $((i % 20)) in
	7 | 17 | 11) ;; # 11 was just updated: deleted mid-roll
	*) continue ;;
	esac
	retry kubectl delete vkc "$(printf c%03d "$i")" -n "$NS" --wait=false --ignore-not-found
	deleted+=("$i")
	[ ${#deleted[@]} -lt $((N / 20 + 10)) ] || touch "$WORK/phase3"
done
touch "$WORK/phase3"
log "deleted ${#deleted[@]} (+$((SECONDS - T0))s); waiting for the restarts to end"
wait "$RESTARTER" || fail "restarting kube-apiserver failed: $(cat "$WORK/restarts" "$WORK/restarter.log")"
cat "$WORK/restarts" >&2
[ "$(grep -c 'up again' "$WORK/restarts")" -eq 3 ] || fail "kube-apiserver was not restarted three times"
log "churn over (+$((SECONDS - T0))s); the client's own errors while the apiserver was away: $(grep -c . "$WORK/client.err" || true)"

kill -0 "$OP" 2>/dev/null || fail "the operator exited during the churn"
log "waiting for convergence"
eventually 240 converged || { converged || true; fail "no convergence within 240 s after the churn"; }
converged >&2
log "converged (+$((SECONDS - T0))s)"
expect_eq "$(kubectl get vkc -n "$NS" -o name | wc -l)" $((N - ${#deleted[@]})) "live connectors"

kill -0 "$OP" 2>/dev/null || fail "the operator exited"
if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|Assertion .* failed|double free' \
    "$WORK/operator-0.log" >&2; then
	fail "the operator's log shows a crash or sanitizer report"
fi
metrics=$(curl -fsS "http://127.0.0.1:$METRICS/metrics")
log "relists per cache: $(awk '/^vkc_cache_lists_total/ { printf "%s ", $0 }' <<<"$metrics")"
log "requests: $(awk '/^rest_client_requests_total/ { n += $NF } END { print n }' <<<"$metrics"), reconcile errors: $(awk '/^controller_runtime_reconcile_errors_total/ { n += $NF } END { print n }' <<<"$metrics")"
log "total $((SECONDS - T0)) s"
