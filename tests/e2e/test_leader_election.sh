#!/usr/bin/env bash
# test_leader_election.sh: operators with --leader-elect sharing one Lease
# against the real control plane. Exactly one reconciles and says so in
# its log, in the Lease and in leader_election_master_status; SIGKILL of
# the leader hands over once the lease expires by the follower's clock
# (not before ~10 s, within 15 s + retry); SIGTERM releases the Lease so
# the follower takes over at once; a leader whose Lease is taken from it
# stops and exits 1; a leader alone empties holderIdentity on SIGTERM.
# The operators run as their ServiceAccount, whose RBAC allows Leases in
# vkc-system only, as deployed; without --leader-election-namespace the
# Lease goes to the watched namespace. Prints the measured handover times.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
LEASE=vkc-le-$RANDOM
LNS=vkc-system

# stop the operators before removing the Lease, or a leader re-creates it
trap 'rc=$?
for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${OPERATOR_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
kubectl delete lease -n "$LNS" "$LEASE" "$LEASE-default" --ignore-not-found >/dev/null 2>&1 || true
[ -z "$NS" ] || kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1 || true
set +e; (exit $rc); cleanup' EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# connector NAME: creates a Linux connector in eastus.
connector() {
	kubectl apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: $API
kind: VirtualKubeletConnector
metadata:
  name: $1
spec:
  osType: Linux
  location: eastus
EOF
}

# elector N: starts operator N (log $WORK/operator-N.log).
declare -A PID MPORT
elector() {
	MPORT[$1]=$(free_port)
	start_operator --leader-elect --leader-election-id "$LEASE" \
	    --leader-election-namespace "$LNS" \
	    --metrics-bind-address "127.0.0.1:${MPORT[$1]}"
	PID[$1]=$OPERATOR_PID
}

oplog() { cat "$WORK/operator-$1.log"; }
holder() { kubectl get lease -n "$LNS" "$LEASE" -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null; }
held() { [ -n "$(holder)" ]; }
holder_has() { case $(holder) in *"_$1_"*) return 0 ;; esac; return 1; }
is_master() { [ "$(master_status "$1")" = "$2" ]; }
leads() { grep -q "became leader" "$WORK/operator-$1.log"; }
master_status() {
	curl -sf "http://127.0.0.1:${MPORT[$1]}/metrics" |
		awk -v n="leader_election_master_status{name=\"$LEASE\"}" '$1 == n { print $2 }'
}
alive() { kill -0 "$1" 2>/dev/null; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
# wait_leader N SECONDS: waits until operator N logs "became leader".
wait_leader() {
	local deadline=$((SECONDS + $2))
	until leads "$1"; do
		[ $SECONDS -lt "$deadline" ] || fail "operator $1 did not become leader within $2 s"
		sleep 0.1
	done
}
# exits_with PID WANT SECONDS WHAT: waits for PID to exit with status WANT.
exits_with() {
	local deadline=$((SECONDS + $3)) rc=0
	while alive "$1"; do
		[ $SECONDS -lt "$deadline" ] || fail "$4: still running after $3 s"
		sleep 0.1
	done
	wait "$1" || rc=$?
	expect_eq "$rc" "$2" "$4: exit status"
}

install_crd
new_namespace

log "two electors for lease '$LNS/$LEASE'"
elector 0
elector 1
eventually 30 held || fail "nobody took lease $LNS/$LEASE"
eventually 10 sh -c "grep -q 'became leader' '$WORK/operator-0.log' || grep -q 'became leader' '$WORK/operator-1.log'" ||
	fail "no operator logged 'became leader'"
sleep 3	# a follower that wrongly took the Lease too would have by now
if leads 0 && leads 1; then
	fail "both operators logged 'became leader'"
fi
if leads 0; then L=0 F=1; else L=1 F=0; fi
log "leader: operator $L (pid ${PID[$L]}); follower: operator $F (pid ${PID[$F]})"
eventually 10 holder_has "${PID[$L]}" || fail "Lease holderIdentity names the leader: $(holder), want pid ${PID[$L]}"
expect_contains "$(oplog "$F")" "waiting for lease '$LNS/$LEASE'" "follower log"
eventually 10 is_master "$L" 1 || fail "leader_election_master_status on the leader: $(master_status "$L"), want 1"
expect_eq "$(master_status "$F")" 0 "leader_election_master_status on the follower"

log "only the leader reconciles"
connector one
eventually 60 kubectl get deployment -n "$NS" one-linux-eastus || fail "connector one: no Deployment"
eventually 10 grep -q "reconciled '$NS/one'" "$WORK/operator-$L.log" || fail "leader never logged reconciling one"
if grep -q "reconciled '$NS/" "$WORK/operator-$F.log"; then
	fail "the follower reconciled: $(grep "reconciled '$NS/" "$WORK/operator-$F.log" | head -3)"
fi

log "SIGKILL of the leader: the follower takes over when the lease expires"
t0=$(now)
kill -KILL "${PID[$L]}"
wait "${PID[$L]}" 2>/dev/null || true
wait_leader "$F" 30
t1=$(now)
KILL_HANDOVER=$(elapsed "$t0" "$t1")
log "handover after SIGKILL: ${KILL_HANDOVER} s (lease 15 s, retry 2 s)"
python3 -c "import sys; sys.exit(not (10 <= float(sys.argv[1]) <= 22))" "$KILL_HANDOVER" ||
	fail "handover after SIGKILL took $KILL_HANDOVER s, want 10..22 s (the lease must expire first, by the follower's clock)"
eventually 10 holder_has "${PID[$F]}" || fail "Lease holderIdentity after SIGKILL: $(holder), want pid ${PID[$F]}"
eventually 5 is_master "$F" 1 || fail "leader_election_master_status on the new leader: $(master_status "$F")"
connector two
eventually 60 kubectl get deployment -n "$NS" two-linux-eastus || fail "connector two: no Deployment after the handover"

log "SIGTERM of the leader: it releases the Lease, the follower takes over at once"
elector 2
eventually 20 grep -q "waiting for lease" "$WORK/operator-2.log" || fail "operator 2 never waited for the lease"
expect_eq "$(master_status 2)" 0 "leader_election_master_status on the new follower"
t0=$(now)
kill -TERM "${PID[$F]}"
wait_leader 2 10
t1=$(now)
TERM_HANDOVER=$(elapsed "$t0" "$t1")
log "handover after SIGTERM: ${TERM_HANDOVER} s"
python3 -c "import sys; sys.exit(not float(sys.argv[1]) <= 5)" "$TERM_HANDOVER" ||
	fail "handover after SIGTERM took $TERM_HANDOVER s, want at most 5 s"
exits_with "${PID[$F]}" 0 30 "leader after SIGTERM"
expect_contains "$(oplog "$F")" "released lease '$LNS/$LEASE'" "old leader's log"
eventually 10 holder_has "${PID[2]}" || fail "Lease holderIdentity after SIGTERM: $(holder), want pid ${PID[2]}"
connector three
eventually 60 kubectl get deployment -n "$NS" three-linux-eastus || fail "connector three: no Deployment after the handover"

log "a leader alone empties holderIdentity on SIGTERM"
kill -TERM "${PID[2]}"
exits_with "${PID[2]}" 0 30 "lone leader after SIGTERM"
expect_eq "$(holder)" "" "Lease holderIdentity after the last leader stopped"

log "a released Lease is taken at once; a leader whose Lease is taken exits 1"
t0=$(now)
elector 3
wait_leader 3 15
log "new operator led $(elapsed "$t0" "$(now)") s after starting"
eventually 10 holder_has "${PID[3]}" || fail "Lease holderIdentity of operator 3: $(holder), want pid ${PID[3]}"
kubectl patch lease -n "$LNS" "$LEASE" --type merge -p \
    "{\"spec\":{\"holderIdentity\":\"intruder\",\"renewTime\":\"$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)\"}}" >/dev/null
exits_with "${PID[3]}" 1 15 "leader whose Lease was taken"
expect_contains "$(oplog 3)" "lost lease '$LNS/$LEASE'" "log of the leader whose Lease was taken"
expect_eq "$(holder)" intruder "Lease holderIdentity after the loss (must not be released or retaken)"

log "without --leader-election-namespace the Lease goes to the watched namespace"
start_operator --kubeconfig "$KUBECONFIG" --leader-elect --leader-election-id "$LEASE-default"
eventually 30 kubectl get lease -n "$NS" "$LEASE-default" || fail "no Lease $LEASE-default in $NS"
eventually 10 grep -q "became leader: lease '$NS/$LEASE-default'" "$WORK/operator-4.log" ||
	fail "operator 4 did not lead lease '$NS/$LEASE-default'"

echo "measured: handover after SIGKILL ${KILL_HANDOVER} s, after SIGTERM ${TERM_HANDOVER} s"
