#!/usr/bin/env bash
# test_fault_operator_kill.sh: issue 7's third fault. The operator is
# SIGKILLed at ten random points while connectors are being created,
# updated (a new image tag, osType Linux <-> Both, a new location) and
# deleted, and started again each time. After every restart everything
# converges: each live connector has exactly the children its spec asks
# for (one Deployment, ServiceAccount, TLS Secret and ClusterRoleBinding
# per release, counted by the label connectors.virtual-kubelet.io/name,
# no duplicates, Deployments running the spec's image), each deleted
# connector is fully cleaned up (no child, pods included, and the
# connector itself gone), statuses observed. No operator log shows a
# sanitizer report. VKC_FAULT_SEED replays a run (it is logged).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
ROUNDS=${VKC_FAULT_ROUNDS:-10}
POOL=16
SEED=${VKC_FAULT_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$SEED
T0=$SECONDS

# ClusterRoleBindings are cluster-scoped and outlive the namespace: they
# go once the operator has stopped (it would put them back)
# shellcheck disable=SC2154 # rc and p are assigned inside the trap
trap 'rc=$?; set +e
	for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
	(exit $rc); cleanup' EXIT



exists() { kubectl get vkc "$1" -n "$NS" >/dev/null 2>&1; }

# burst N: N random operations on connectors k00..k15, as fast as the
# client goes; the ops of one burst are written to $WORK/ops.
burst() {
	local i k name os tag
	for ((i = 0; i < $1; i++)); do
		k=$((RANDOM % POOL))
		name=$(printf k%02d "$k")
		if ! exists "$name"; then
			os=$([ $((RANDOM % 2)) -eq 0 ] && echo Linux || echo Both)
			echo "create $name $os" >>"$WORK/ops"
			# a file, not stdin: retry runs it again
			printf 'apiVersion: %s\nkind: VirtualKubeletConnector\nmetadata:\n  name: %s\nspec:\n  osType: %s\n  location: eastus\n' \
			    "$API" "$name" "$os" >"$WORK/conn-$BASHPID.yaml"
			retry kubectl apply -n "$NS" -f "$WORK/conn-$BASHPID.yaml"
			continue
		fi
		case $((RANDOM % 5)) in
		0) tag=1.6.$((RANDOM % 9))
			echo "tag $name $tag" >>"$WORK/ops"
			retry kubectl patch vkc "$name" -n "$NS" --type=merge -p "{\"spec\":{\"image\":{\"tag\":\"$tag\"}}}" ;;
		1) os=$([ $((RANDOM % 2)) -eq 0 ] && echo Linux || echo Both)
			echo "osType $name $os" >>"$WORK/ops"
			retry kubectl patch vkc "$name" -n "$NS" --type=merge -p "{\"spec\":{\"osType\":\"$os\"}}" ;;
		2) loc=$([ $((RANDOM % 2)) -eq 0 ] && echo eastus || echo "West Europe")
			echo "location $name $loc" >>"$WORK/ops"
			retry kubectl patch vkc "$name" -n "$NS" --type=merge -p "{\"spec\":{\"location\":\"$loc\"}}" ;;
		*) echo "delete $name" >>"$WORK/ops"
			retry kubectl delete vkc "$name" -n "$NS" --wait=false --ignore-not-found ;;
		esac
	done
}

install_crd
install_connector_role
new_namespace
log "seed $SEED (VKC_FAULT_SEED replays it)"
start_operator
log "a first population"
burst 8
eventually 120 converged || { converged || true; fail "no convergence before the first kill"; }

for ((round = 1; round <= ROUNDS; round++)); do
	: >"$WORK/ops"
	# ops run in the background while the operator is killed at a random
	# point of its work on them: after 1 to 40 more lines of its log (or
	# 4 s, should it have less to do)
	oplog=$WORK/operator-$((${#OPERATOR_PIDS[@]} - 1)).log
	base=$(wc -l <"$oplog")
	burst $((4 + RANDOM % 6)) &
	ops=$!
	target=$((base + 1 + RANDOM % 40))
	t=$SECONDS
	while [ "$(wc -l <"$oplog")" -lt "$target" ] && [ $((SECONDS - t)) -lt 4 ]; do
		sleep 0.05
	done
	lines=$(($(wc -l <"$oplog") - base))
	last=$(tail -n 1 "$oplog" | cut -c1-160)
	kill -KILL "$OPERATOR_PID"
	wait "$OPERATOR_PID" 2>/dev/null || true
	log "round $round: killed the operator after $lines lines of its log about the ops; its last line: $last"
	wait "$ops" || fail "round $round: the test's own ops failed"
	log "round $round ops: $(tr '\n' ';' <"$WORK/ops")"
	# sometimes more changes while no operator runs
	if [ $((RANDOM % 3)) -eq 0 ]; then
		: >"$WORK/ops"
		burst 3
		log "round $round, operator down: $(tr '\n' ';' <"$WORK/ops")"
	fi
	start_operator
	t=$SECONDS
	eventually 120 converged || { converged || true; fail "round $round: no convergence after the restart"; }
	log "round $round: converged $((SECONDS - t))s after the restart: $(converged)"
done

kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator exited"
if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|Assertion .* failed|double free' \
    "$WORK"/operator-*.log >&2; then
	fail "an operator log shows a crash or sanitizer report"
fi
log "total $((SECONDS - T0)) s"
