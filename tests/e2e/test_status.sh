#!/usr/bin/env bash
# Status is kstatus-compatible: observedGeneration, Ready/Progressing/
# Degraded conditions whose lastTransitionTime moves only when the status
# flips, connectors[] with nodeReady read from the real Node, scheduling[]
# hints; `kubectl wait --for=condition=Ready` works. The test plays the
# kubelet (there is none): it registers the virtual Node and marks the
# connector pod Ready. Also: paused stops all writes for the object.
source "$(dirname "$0")/lib.sh"

install_crd
install_connector_role
new_namespace
start_operator

name=status
dep="$name-linux-southcentralus"
node="virtual-kubelet-$name-linux-southcentralus"
kubectl apply -n "$NS" -f - >/dev/null <<EOF2
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: $name
spec:
  location: South Central US
EOF2
cond() { jget vkc "$name" "{.status.conditions[?(@.type==\"$1\")].$2}" -n "$NS"; }
eventually_eq 30 DeploymentNotAvailable cond Ready reason ||
	fail "Ready reason is '$(cond Ready reason)', want DeploymentNotAvailable"
expect_eq "$(cond Ready status)" False "Ready before the pod runs"
expect_eq "$(cond Progressing status)" True "Progressing before the pod runs"
expect_eq "$(cond Degraded status)" False "Degraded"
expect_eq "$(jget vkc "$name" '{.status.observedGeneration}' -n "$NS")" \
    "$(jget vkc "$name" '{.metadata.generation}' -n "$NS")" "observedGeneration"
expect_eq "$(jget vkc "$name" '{.status.scheduling[0].nodeSelector}' -n "$NS")" \
    '{"kubernetes.io/os":"linux","kubernetes.io/role":"agent","type":"virtual-kubelet"}' \
    "scheduling nodeSelector"
expect_eq "$(jget vkc "$name" '{.status.scheduling[0].tolerations[0]}' -n "$NS")" \
    '{"effect":"NoSchedule","key":"virtual-kubelet.io/provider","operator":"Equal","value":"azure"}' \
    "scheduling toleration"
ltt=$(cond Ready lastTransitionTime)

log "the connector pod runs (played): the node is not registered yet"
eventually 30 bash -c "kubectl get pods -n $NS -l app.kubernetes.io/instance=$dep -o name | grep -q ." ||
	fail "no pod for the Deployment"
make_pods_ready "app.kubernetes.io/instance=$dep"
eventually_eq 30 NodeNotReady cond Ready reason ||
	fail "Ready reason is '$(cond Ready reason)', want NodeNotReady"
expect_eq "$(jget vkc "$name" '{.status.connectors[0].nodeReady}' -n "$NS")" Unknown "nodeReady"
expect_eq "$(cond Ready lastTransitionTime)" "$ltt" "lastTransitionTime moved without a flip"

log "the virtual kubelet registers its node: kubectl wait succeeds"
virtual_node "$node" linux
kubectl wait -n "$NS" --for=condition=Ready "vkc/$name" --timeout=60s >/dev/null ||
	fail "kubectl wait --for=condition=Ready timed out"
expect_eq "$(jget vkc "$name" '{.status.connectors[0].nodeReady}' -n "$NS")" True "nodeReady"
expect_eq "$(jget vkc "$name" '{.status.connectors[0].readyReplicas}' -n "$NS")" 1 "readyReplicas"
expect_eq "$(cond Progressing status)" False "Progressing once Ready"
kubectl get vkc -n "$NS" "$name" | grep -q "True" || fail "kubectl get does not print Ready True"

log "the node goes NotReady: Ready flips"
virtual_node "$node" linux False
eventually_eq 30 False cond Ready status || fail "Ready did not flip to False"
expect_eq "$(cond Ready reason)" NodeNotReady "reason"

log "paused: no write for the object"
virtual_node "$node" linux True
eventually_eq 30 True cond Ready status || fail "Ready did not flip back"
kubectl patch -n "$NS" vkc "$name" --type=merge -p '{"spec":{"paused":true}}' >/dev/null
sleep 1
kubectl set image -n "$NS" "deployment/$dep" virtual-kubelet=example.invalid/paused:1 >/dev/null
sleep 3
expect_eq "$(jget deployment "$dep" '{.spec.template.spec.containers[0].image}' -n "$NS")" \
    example.invalid/paused:1 "image while paused"
kubectl patch -n "$NS" vkc "$name" --type=merge -p '{"spec":{"paused":false}}' >/dev/null
eventually_eq 10 mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet:1.6.4 \
    jget deployment "$dep" '{.spec.template.spec.containers[0].image}' -n "$NS" ||
	fail "image not reverted after unpausing"
