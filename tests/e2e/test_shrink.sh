#!/usr/bin/env bash
# Shrinking a connector from Both to Linux removes exactly the Windows
# release: its Deployment, ServiceAccount, TLS Secret, ClusterRoleBinding
# and virtual Node (which the test registers, playing the virtual
# kubelet), and nothing of the Linux one.
source "$(dirname "$0")/lib.sh"

install_crd
install_connector_role
new_namespace
start_operator

name=shrink
kubectl apply -n "$NS" -f - >/dev/null <<EOF2
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: $name
spec:
  osType: Both
  location: westus2
EOF2
for os in linux windows; do
	eventually 30 kubectl get -n "$NS" deployment "$name-$os-westus2" ||
		fail "Deployment $name-$os-westus2 was not created"
done
# the virtual kubelets register their nodes
lnode="virtual-kubelet-$name-linux-westus2"
wnode="virtual-kubelet-$name-windows-westus2"
# unique per run: the node names carry no namespace
virtual_node "$lnode" linux
virtual_node "$wnode" windows
eventually_eq 30 True jget vkc $name '{.status.connectors[1].nodeReady}' -n "$NS" ||
	fail "status.connectors[1].nodeReady did not become True"

log "osType Both -> Linux"
kubectl patch -n "$NS" vkc "$name" --type=merge -p '{"spec":{"osType":"Linux"}}' >/dev/null
eventually 60 absent node "$wnode" || fail "the Windows virtual node was not removed"
eventually 10 absent deployment "$name-windows-westus2" -n "$NS" || fail "Windows Deployment left"
eventually 10 absent serviceaccount "$name-windows-westus2" -n "$NS" || fail "Windows ServiceAccount left"
eventually 10 absent secret "$name-windows-westus2-tls" -n "$NS" || fail "Windows TLS Secret left"
eventually 10 absent clusterrolebinding "vkc-$NS-$name-windows-westus2" ||
	fail "Windows ClusterRoleBinding left"

log "the Linux release is untouched"
kubectl get node "$lnode" >/dev/null || fail "the Linux virtual node was removed"
kubectl get -n "$NS" deployment "$name-linux-westus2" >/dev/null || fail "Linux Deployment removed"
kubectl get -n "$NS" serviceaccount "$name-linux-westus2" >/dev/null || fail "Linux ServiceAccount removed"
kubectl get -n "$NS" secret "$name-linux-westus2-tls" >/dev/null || fail "Linux TLS Secret removed"
kubectl get clusterrolebinding "vkc-$NS-$name-linux-westus2" >/dev/null ||
	fail "Linux ClusterRoleBinding removed"
eventually_eq 30 Linux jget vkc $name '{.status.connectors[*].osType}' -n "$NS" ||
	fail "status.connectors still lists Windows"
grep -q "deleted Node '$wnode'" "$WORK/operator-0.log" ||
	fail "the operator log does not say it deleted the Windows node"
