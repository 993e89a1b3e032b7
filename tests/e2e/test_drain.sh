#!/usr/bin/env bash
# Deleting a connector with spec.removal.drain cordons its virtual node and
# evicts the pods bound to it (Eviction API) before the node is deleted;
# the node goes only after the connector's own pods are gone.
source "$(dirname "$0")/lib.sh"

install_crd
install_connector_role
new_namespace
start_operator

name=drain
node="virtual-kubelet-$name-linux-centralus"
kubectl apply -n "$NS" -f - >/dev/null <<EOF2
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: $name
spec:
  location: centralus
  removal:
    drain: true
    drainTimeoutSeconds: 120
EOF2
eventually 30 kubectl get -n "$NS" deployment "$name-linux-centralus" ||
	fail "Deployment was not created"
virtual_node "$node" linux
# a workload the scheduler placed on the virtual node
kubectl apply -n "$NS" -f - >/dev/null <<EOF2
apiVersion: v1
kind: Pod
metadata:
  name: burst
spec:
  nodeName: $node
  tolerations:
  - key: virtual-kubelet.io/provider
    operator: Equal
    value: azure
    effect: NoSchedule
  containers:
  - name: app
    image: mcr.microsoft.com/azuredocs/aci-helloworld
EOF2

log "deleting the connector"
kubectl delete -n "$NS" vkc "$name" --wait=false >/dev/null
eventually_eq 30 true jget node "$node" '{.spec.unschedulable}' ||
	fail "the node was not cordoned"
eventually_ne 30 "" jget pod burst '{.metadata.deletionTimestamp}' -n "$NS" ||
	fail "the pod on the virtual node was not evicted"
kubectl get node "$node" >/dev/null 2>&1 || fail "the node went before its pod"
kubectl get -n "$NS" vkc "$name" >/dev/null 2>&1 ||
	fail "the connector went before the drain finished"
grep -q "evicted pod '$NS/burst'" "$WORK/operator-0.log" ||
	fail "the operator log does not record the eviction"

log "playing the kubelet: the evicted pod terminates"
kubectl delete -n "$NS" pod burst --grace-period=0 --force >/dev/null 2>&1
eventually 60 absent node "$node" || fail "the virtual node was not deleted after the drain"
eventually 30 absent vkc "$name" -n "$NS" || fail "the connector was not removed"
absent deployment "$name-linux-centralus" -n "$NS" || fail "Deployment left behind"
absent clusterrolebinding "vkc-$NS-$name-linux-centralus" || fail "ClusterRoleBinding left behind"
# the order: eviction, then the Deployment, then the node
log_order=$(grep -nE "evicted pod|deleted Deployment|deleted Node" "$WORK/operator-0.log" | cut -d: -f1 | tr '\n' ' ')
set -- $log_order
[ $# -ge 3 ] && [ "$1" -lt "$2" ] && [ "$2" -lt "$3" ] ||
	fail "teardown order was not evict, Deployment, Node: $(grep -E 'evicted pod|deleted Deployment|deleted Node' "$WORK/operator-0.log")"
