#!/usr/bin/env bash
# test_apiserver_restart.sh: kube-apiserver restarts under a running
# operator and no event is lost. A connector created just before the stop
# and one created right after the restart both get their Deployments, and
# deleting a connector after the restart tears its children down: the
# watches reconnected (with backoff) without an operator restart, and the
# process stayed up and ready throughout.
#
# This stops the shared apiserver for a few seconds, so it runs alone.
# vkc-test: serial
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
CLUSTER=$SRC/hack/local-cluster.sh
DOWN_S=${VKC_APISERVER_DOWN_S:-2}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

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

ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PROBE/readyz")" = 200 ]; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }

# if the test dies with the apiserver down, bring it back for everyone
trap 'rc=$?; set +e
"$CLUSTER" status >/dev/null 2>&1 || "$CLUSTER" up >/dev/null 2>&1
[ -z "$NS" ] || kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
(exit $rc); cleanup' EXIT

install_crd
new_namespace
PROBE=$(free_port)
METRICS=$(free_port)
start_operator --health-probe-bind-address "127.0.0.1:$PROBE" --metrics-bind-address "127.0.0.1:$METRICS"
OP=$OPERATOR_PID
eventually 30 ready || fail "operator never became ready"
connector before
eventually 60 kubectl get deployment -n "$NS" before-linux-eastus || fail "connector before: no Deployment"

log "restarting kube-apiserver (down for ${DOWN_S} s, then up)"
connector edge
t0=$(now)
"$CLUSTER" stop kube-apiserver
sleep "$DOWN_S"
"$CLUSTER" up
OUTAGE=$(elapsed "$t0" "$(now)")
log "apiserver back after ${OUTAGE} s"
eventually 30 kubectl get --raw /readyz || fail "apiserver not ready after 'up'"
connector after

kill -0 "$OP" 2>/dev/null || fail "the operator died while the apiserver was down"
eventually 90 kubectl get deployment -n "$NS" edge-linux-eastus || fail "connector created before the stop: no Deployment"
eventually 90 kubectl get deployment -n "$NS" after-linux-eastus || fail "connector created after the restart: no Deployment"
log "deleting a connector after the restart tears its children down"
kubectl delete vkc -n "$NS" before --wait=false >/dev/null
eventually 90 absent vkc before -n "$NS" || fail "connector before: not finalized after the restart"
eventually 30 absent deployment before-linux-eastus -n "$NS" || fail "connector before: Deployment left behind"

kill -0 "$OP" 2>/dev/null || fail "the operator exited"
expect_eq "$(grep -c 'vkc-operator .*: apiserver' "$WORK/operator-0.log")" 1 "operator starts (must not restart)"
if grep -Eq '(terminated|interrupt|lease lost): shutting down' "$WORK/operator-0.log"; then
	fail "the operator shut down: $(grep -E ': shutting down$' "$WORK/operator-0.log")"
fi
eventually 30 ready || fail "operator not ready after the restart"
lists=$(curl -sf "http://127.0.0.1:$METRICS/metrics" | awk '/^vkc_cache_lists_total/ { printf "%s ", $0 }')
log "full lists per cache after the restart: $lists"
echo "measured: apiserver outage ${OUTAGE} s"
