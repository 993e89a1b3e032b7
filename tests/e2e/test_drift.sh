#!/usr/bin/env bash
# Drift: a hand-edited field the operator owns (the image) is put back, a
# deleted child (a ServiceAccount, a ClusterRoleBinding) comes back, each
# within seconds; and at rest the operator sends no write at all.
source "$(dirname "$0")/lib.sh"

install_crd
install_connector_role
new_namespace
port=$(free_port)
start_operator --metrics-bind-address "127.0.0.1:$port"
metrics="http://127.0.0.1:$port/metrics"

name=drift
dep="$name-linux-eastus2"
kubectl apply -n "$NS" -f - >/dev/null <<EOF2
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: $name
spec:
  location: eastus2
  image:
    tag: 1.6.4
EOF2
eventually 30 kubectl get -n "$NS" deployment "$dep" || fail "Deployment was not created"
want=mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet:1.6.4
image() { jget deployment "$dep" '{.spec.template.spec.containers[0].image}' -n "$NS"; }
expect_eq "$(image)" "$want" "image"

log "a hand-edited image is reverted"
kubectl set image -n "$NS" "deployment/$dep" virtual-kubelet=example.invalid/evil:latest >/dev/null
t0=$SECONDS
eventually_eq 10 "$want" image || fail "the image was not reverted: $(image)"
log "reverted within $((SECONDS - t0)) s"

log "a deleted ServiceAccount and ClusterRoleBinding come back"
kubectl delete -n "$NS" serviceaccount "$dep" >/dev/null
eventually 10 kubectl get -n "$NS" serviceaccount "$dep" || fail "the ServiceAccount did not come back"
kubectl delete clusterrolebinding "vkc-$NS-$dep" >/dev/null
eventually 10 kubectl get clusterrolebinding "vkc-$NS-$dep" || fail "the ClusterRoleBinding did not come back"

log "a changed spec is applied (upgrade-connector)"
kubectl patch -n "$NS" vkc "$name" --type=merge -p '{"spec":{"image":{"tag":"1.6.5"}}}' >/dev/null
eventually_eq 10 "${want%:*}:1.6.5" image || fail "the new tag was not applied: $(image)"

log "at rest no write is sent"
sleep 2
before=$(writes_sent "$metrics")
sleep 8
after=$(writes_sent "$metrics")
expect_eq "$after" "$before" "writes sent during 8 s at rest"
# and reads stay cheap: no LIST at rest either (everything is watched)
gets_before=$(curl -fsS "$metrics" | awk '/^rest_client_requests_total/ && /method="GET"/ { n += $NF } END { print n + 0 }')
sleep 3
gets_after=$(curl -fsS "$metrics" | awk '/^rest_client_requests_total/ && /method="GET"/ { n += $NF } END { print n + 0 }')
expect_eq "$gets_after" "$gets_before" "GETs sent during 3 s at rest"

log "a restarted operator finds everything in place: still no write"
kill -TERM "$OPERATOR_PID"
wait "$OPERATOR_PID" || fail "the operator did not exit 0 on SIGTERM"
port=$(free_port)
start_operator --metrics-bind-address "127.0.0.1:$port"
metrics="http://127.0.0.1:$port/metrics"
eventually 30 curl -fsS "$metrics" || fail "the restarted operator serves no metrics"
# its first pass over every connector has run once a reconcile is counted
eventually 30 bash -c "curl -fsS '$metrics' | grep -q '^controller_runtime_reconcile_total.*result=\"[a-z_]*\"} [1-9]'" ||
	fail "the restarted operator reconciled nothing"
sleep 3
expect_eq "$(writes_sent "$metrics")" 0 "writes sent by the restarted operator"
