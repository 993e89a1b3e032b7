#!/usr/bin/env bash
# The walking skeleton, end to end with kubectl: a Both connector in
# "East US" gets its per-OS Deployments and ServiceAccounts with the right
# node names and OS; an unknown osType is refused by the apiserver naming
# the field; deleting a connector removes its children, by the operator's
# finalizer while it runs, and by the garbage collector through the
# ownerReferences when it does not.
source "$(dirname "$0")/lib.sh"

install_crd
install_connector_role
new_namespace
start_operator

log "a Both connector in East US"
kubectl apply -n "$NS" -f - >/dev/null <<'EOF2'
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: virtual-kubelet
spec:
  osType: Both
  location: East US
EOF2
for os in linux windows; do
	eventually 30 kubectl get -n "$NS" deployment "virtual-kubelet-$os-eastus" ||
		fail "Deployment virtual-kubelet-$os-eastus was not created"
	kubectl get -n "$NS" serviceaccount "virtual-kubelet-$os-eastus" >/dev/null ||
		fail "ServiceAccount virtual-kubelet-$os-eastus was not created"
	args=$(jget deployment "virtual-kubelet-$os-eastus" \
	    '{.spec.template.spec.containers[0].args}' -n "$NS")
	expect_contains "$args" "\"--nodename\",\"virtual-kubelet-virtual-kubelet-$os-eastus\"" \
	    "$os --nodename"
	title=Linux
	[ "$os" = windows ] && title=Windows
	expect_contains "$args" "\"--os\",\"$title\"" "$os --os"
	expect_eq "$(jget deployment "virtual-kubelet-$os-eastus" \
	    '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].controller}/{.metadata.ownerReferences[0].blockOwnerDeletion}' -n "$NS")" \
	    "VirtualKubeletConnector/true/true" "$os Deployment ownerReference"
	expect_eq "$(jget deployment "virtual-kubelet-$os-eastus" '{.spec.strategy.type}' -n "$NS")" \
	    Recreate "$os strategy"
	expect_eq "$(jget deployment "virtual-kubelet-$os-eastus" \
	    '{.spec.template.spec.serviceAccountName}' -n "$NS")" \
	    "virtual-kubelet-$os-eastus" "$os serviceAccountName"
	expect_eq "$(jget deployment "virtual-kubelet-$os-eastus" \
	    '{.metadata.labels.app\.kubernetes\.io/managed-by}' -n "$NS")" \
	    vkc-operator "$os managed-by label"
done
eventually_eq 30 eastus jget vkc virtual-kubelet '{.status.location}' -n "$NS" ||
	fail "status.location is not eastus"
expect_eq "$(jget vkc virtual-kubelet '{.metadata.finalizers[0]}' -n "$NS")" \
    connectors.virtual-kubelet.io/cleanup "finalizer"

log "osType Solaris is refused at admission, naming the field"
out=$(kubectl apply -n "$NS" -f - 2>&1 <<'EOF2'
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: solaris
spec:
  osType: Solaris
EOF2
) && fail "osType Solaris was accepted"
expect_contains "$out" "spec.osType" "rejection message"
expect_contains "$out" "Solaris" "rejection message"
absent vkc solaris -n "$NS" || fail "the Solaris connector exists"

log "deleting the connector removes every child (the operator's finalizer)"
kubectl delete -n "$NS" vkc virtual-kubelet --timeout=60s >/dev/null ||
	fail "the connector was not deleted within 60 s"
for os in linux windows; do
	absent deployment "virtual-kubelet-$os-eastus" -n "$NS" || fail "$os Deployment left behind"
	absent serviceaccount "virtual-kubelet-$os-eastus" -n "$NS" || fail "$os ServiceAccount left behind"
	absent secret "virtual-kubelet-$os-eastus-tls" -n "$NS" || fail "$os TLS Secret left behind"
	absent clusterrolebinding "vkc-$NS-virtual-kubelet-$os-eastus" ||
		fail "$os ClusterRoleBinding left behind"
done

log "without the operator, the garbage collector removes owned children"
kubectl apply -n "$NS" -f - >/dev/null <<'EOF2'
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: gc
spec:
  osType: Linux
  location: westus
EOF2
eventually 30 kubectl get -n "$NS" deployment gc-linux-westus ||
	fail "Deployment gc-linux-westus was not created"
kill -TERM "$OPERATOR_PID"
wait "$OPERATOR_PID" || fail "the operator did not exit 0 on SIGTERM"
kubectl patch -n "$NS" vkc gc --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
kubectl delete -n "$NS" vkc gc --wait=true --timeout=30s >/dev/null
eventually 60 absent deployment gc-linux-westus -n "$NS" ||
	fail "the garbage collector did not remove Deployment gc-linux-westus"
eventually 30 absent serviceaccount gc-linux-westus -n "$NS" ||
	fail "the garbage collector did not remove ServiceAccount gc-linux-westus"
# a ClusterRoleBinding cannot be owned by a namespaced object: the
# operator, back, removes the one whose connector vanished unseen
kubectl get clusterrolebinding "vkc-$NS-gc-linux-westus" >/dev/null ||
	fail "the ClusterRoleBinding should outlive the stripped connector"
start_operator
eventually 30 absent clusterrolebinding "vkc-$NS-gc-linux-westus" ||
	fail "the orphaned ClusterRoleBinding was not removed"
