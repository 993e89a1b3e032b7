#!/usr/bin/env bash
# soak.sh: runs this build's operator (built with AddressSanitizer, so
# LeakSanitizer checks it at exit) for SOAK_SECONDS (default 600) while
# connectors are created, changed, paused, broken, fixed and deleted in a
# loop, then stops it with SIGTERM. It fails when the operator crashes,
# reports a leak or a sanitizer error, does not exit 0, or leaves children
# behind; it prints the operator's RSS over time. Run by `make soak`.
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-600}
install_crd
install_connector_role
new_namespace
port=$(free_port)
# ASan keeps freed memory in quarantine; a small one keeps RSS readable
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=16}
start_operator --metrics-bind-address "127.0.0.1:$port"
metrics="http://127.0.0.1:$port/metrics"
eventually 30 curl -fsS "$metrics" || fail "the operator serves no metrics"

kubectl create secret generic soak-credentials -n "$NS" \
    --from-literal=clientId=11111111-2222-3333-4444-555555555555 \
    --from-literal=clientSecret=soak >/dev/null

connector() { # NAME OSTYPE LOCATION [EXTRA-SPEC-YAML]
	kubectl apply -n "$NS" -f - >/dev/null <<EOY
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: $1
spec:
  osType: $2
  location: $3
${4:-}
EOY
}

rss() { awk '/VmRSS/ { print $2 }' "/proc/$OPERATOR_PID/status"; }
log "soaking for $SOAK_SECONDS s; RSS at start: $(rss) kB"
end=$((SECONDS + SOAK_SECONDS))
round=0
next_report=$((SECONDS + 60))
while [ $SECONDS -lt $end ]; do
	round=$((round + 1))
	i=$((round % 8))
	case $((round % 6)) in
	0) connector "s$i" Both "East US" ;;
	1) connector "s$i" Linux westeurope "  image:
    tag: 1.6.$((round % 5))" ;;
	2) connector "s$i" Windows eastus "  credentials:
    secretRef:
      name: soak-credentials" ;;
	3) connector "s$i" Linux eastus "  credentials:
    secretRef:
      name: missing-$round" ;;
	4) kubectl patch -n "$NS" vkc "s$i" --type=merge -p '{"spec":{"paused":true}}' >/dev/null 2>&1 || true
	   kubectl patch -n "$NS" vkc "s$i" --type=merge -p '{"spec":{"paused":false}}' >/dev/null 2>&1 || true ;;
	5) kubectl delete -n "$NS" vkc "s$i" --wait=false >/dev/null 2>&1 || true ;;
	esac
	if [ $((round % 10)) -eq 0 ]; then
		kubectl create secret generic soak-credentials -n "$NS" \
		    --from-literal=clientId=11111111-2222-3333-4444-555555555555 \
		    --from-literal=clientSecret="soak-$round" --dry-run=client -o yaml |
			kubectl apply -f - >/dev/null 2>&1
	fi
	kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator died during the soak (round $round)"
	if [ $SECONDS -ge $next_report ]; then
		log "round $round: RSS $(rss) kB"
		next_report=$((SECONDS + 60))
	fi
	sleep 0.5
done

log "deleting every connector"
kubectl delete -n "$NS" vkc --all --wait=false >/dev/null
eventually 120 bash -c "[ -z \"\$(kubectl get vkc -n $NS -o name)\" ]" ||
	fail "connectors were not all removed"
eventually 60 bash -c "[ -z \"\$(kubectl get deploy,sa,secret,clusterrolebinding -A -l connectors.virtual-kubelet.io/namespace=$NS -o name)\" ]" ||
	fail "children left behind after the soak"
log "after $round rounds: RSS $(rss) kB; stopping the operator"
kill -TERM "$OPERATOR_PID"
rc=0
wait "$OPERATOR_PID" || rc=$?
OPERATOR_PIDS=()
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$WORK/operator-0.log"; then
	grep -A30 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$WORK/operator-0.log" | head -60 >&2
	fail "the sanitizers reported an error"
fi
[ $rc -eq 0 ] || fail "the operator exited $rc after SIGTERM"
log "no leak, no sanitizer error, exit 0 after $round rounds"
