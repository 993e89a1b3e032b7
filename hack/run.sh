#!/usr/bin/env bash
# run.sh: runs vkc-operator for real. With KUBECONFIG set (or --kubeconfig
# among the arguments) it uses that cluster; otherwise it starts the local
# control plane (hack/local-cluster.sh). It installs the CRD, the connector
# ClusterRole and, on the local control plane, the sample Both connector,
# then runs the operator in the foreground: its log says what it creates.
# Ctrl-C stops it. Arguments are passed to the operator.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
operator=${VKC_OPERATOR:-$root/build/vkc-operator}
local_cluster=false

given=false
for a in "$@"; do
	case $a in --kubeconfig|--kubeconfig=*) given=true ;; esac
done
if [ -z "${KUBECONFIG:-}" ] && [ "$given" = false ]; then
	"$root/hack/local-cluster.sh" up
	KUBECONFIG=$("$root/hack/local-cluster.sh" kubeconfig)
	export KUBECONFIG
	local_cluster=true
fi

echo "installing the CRD and the connector ClusterRole" >&2
kubectl apply --server-side --force-conflicts -f "$root/crds/" >&2
kubectl wait --for=condition=Established --timeout=60s \
	crd/virtualkubeletconnectors.connectors.virtual-kubelet.io >/dev/null
kubectl apply --server-side --force-conflicts \
	-f "$root/manifests/rbac/connector_role.yaml" >&2
if [ "$local_cluster" = true ]; then
	echo "applying the sample connector (osType Both, location East US)" >&2
	kubectl apply -f "$root/manifests/samples/connectors.virtual-kubelet.io_v1alpha1_virtualkubeletconnector_both.yaml" >&2
	echo "watch it with: KUBECONFIG=$KUBECONFIG kubectl get vkc,deploy,sa,secret" >&2
fi
exec "$operator" --metrics-bind-address 127.0.0.1:8080 \
	--health-probe-bind-address 127.0.0.1:8081 "$@"
