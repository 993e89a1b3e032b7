#!/usr/bin/env bash
# test_shutdown.sh: SIGTERM and SIGINT against the real control plane. An
# idle operator exits 0 within 30 s and logs "stopped"; so does one with a
# busy reconcile queue, and the connectors it left half done are finished
# by the next operator; a follower waiting for a Lease stops at once and
# leaves the Lease alone. Prints the measured shutdown times.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
LEASE=vkc-shutdown-$RANDOM
LNS=vkc-system	# where the operator's RBAC allows Leases

trap 'rc=$?
for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${OPERATOR_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
kubectl delete lease -n "$LNS" "$LEASE" --ignore-not-found >/dev/null 2>&1 || true
[ -z "$NS" ] || kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1 || true
set +e; (exit $rc); cleanup' EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# connectors NAME...: creates Linux connectors in eastus, in one request
# per batch of manifests.
connectors() {
	local n
	for n in "$@"; do
		printf -- '---\napiVersion: %s\nkind: VirtualKubeletConnector\nmetadata:\n  name: %s\nspec:\n  osType: Linux\n  location: eastus\n' "$API" "$n"
	done | kubectl apply -n "$NS" -f - >/dev/null
}

ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1/readyz")" = 200 ]; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }

# stop_measured PID SIGNAL LOG WHAT: sends SIGNAL, waits (at most 35 s) for
# exit status 0 and "stopped" in LOG; sets TOOK to the seconds it took.
stop_measured() {
	local pid=$1 sig=$2 logf=$3 what=$4 t0 rc=0 deadline
	t0=$(now)
	kill "-$sig" "$pid"
	deadline=$((SECONDS + 35))
	while kill -0 "$pid" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || fail "$what: still running 35 s after SIG$sig"
		sleep 0.05
	done
	TOOK=$(elapsed "$t0" "$(now)")
	wait "$pid" || rc=$?
	expect_eq "$rc" 0 "$what: exit status after SIG$sig"
	grep -q "stopped" "$logf" || fail "$what: no 'stopped' in the log"
	python3 -c "import sys; sys.exit(not float(sys.argv[1]) < 30)" "$TOOK" ||
		fail "$what: took $TOOK s to exit, want < 30 s"
	log "$what: exited 0 ${TOOK} s after SIG$sig"
}

install_crd
new_namespace

log "idle operator, SIGTERM"
P=$(free_port)
start_operator --health-probe-bind-address "127.0.0.1:$P"
eventually 30 ready "$P" || fail "operator 0 never became ready"
connectors first
eventually 60 kubectl get deployment -n "$NS" first-linux-eastus || fail "connector first: no Deployment"
stop_measured "$OPERATOR_PID" TERM "$WORK/operator-0.log" "idle operator"
IDLE=$TOOK
expect_contains "$(cat "$WORK/operator-0.log")" "terminated: shutting down" "log of the idle operator"

log "busy queue, SIGTERM right after the connectors arrive"
P=$(free_port)
start_operator --health-probe-bind-address "127.0.0.1:$P" --concurrency 1
eventually 30 ready "$P" || fail "operator 1 never became ready"
names=()
for i in $(seq 1 12); do names+=("busy-$i"); done
connectors "${names[@]}"
eventually 20 grep -q "reconciled '$NS/busy-" "$WORK/operator-1.log" || fail "operator 1 reconciled none of the new connectors"
stop_measured "$OPERATOR_PID" TERM "$WORK/operator-1.log" "busy operator"
BUSY=$TOOK
done_before=$(grep -c "reconciled '$NS/busy-" "$WORK/operator-1.log" || true)
log "busy operator had logged $done_before reconciles of the 12 new connectors"

log "the next operator finishes what was left; SIGINT stops it"
P=$(free_port)
start_operator --health-probe-bind-address "127.0.0.1:$P"
for n in "${names[@]}"; do
	eventually 60 kubectl get deployment -n "$NS" "$n-linux-eastus" || fail "connector $n: no Deployment after the restart"
done
stop_measured "$OPERATOR_PID" INT "$WORK/operator-2.log" "operator after SIGINT"
expect_contains "$(cat "$WORK/operator-2.log")" "interrupt: shutting down" "log after SIGINT"

log "a follower waiting for a Lease stops at once and leaves it alone"
kubectl apply -n "$LNS" -f - >/dev/null <<EOF
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: $LEASE
spec:
  holderIdentity: someone-else
  leaseDurationSeconds: 3600
  renewTime: "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)"
EOF
start_operator --leader-elect --leader-election-id "$LEASE" --leader-election-namespace "$LNS"
eventually 30 grep -q "waiting for lease '$LNS/$LEASE' (held by 'someone-else')" "$WORK/operator-3.log" ||
	fail "operator 3 never waited for the Lease"
stop_measured "$OPERATOR_PID" TERM "$WORK/operator-3.log" "waiting follower"
FOLLOWER=$TOOK
python3 -c "import sys; sys.exit(not float(sys.argv[1]) < 5)" "$FOLLOWER" ||
	fail "a waiting follower took $FOLLOWER s to stop, want < 5 s"
expect_eq "$(kubectl get lease -n "$LNS" "$LEASE" -o 'jsonpath={.spec.holderIdentity}')" someone-else \
    "Lease holder after the follower stopped"
if grep -q "became leader" "$WORK/operator-3.log"; then
	fail "the follower took a Lease that had not expired"
fi

echo "measured: SIGTERM to exit: idle ${IDLE} s, busy queue ${BUSY} s, waiting follower ${FOLLOWER} s"
