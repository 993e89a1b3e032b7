#!/usr/bin/env bash
# test_namespace_scope.sh: an operator started with --namespace NS leaves
# everything outside NS alone. Cluster-scoped children (ClusterRoleBindings,
# virtual Nodes) are cached cluster-wide, so their events name connectors
# of other namespaces, which this operator cannot see; it must not take
# them for vanished connectors and tear their children down. A
# ClusterRoleBinding labelled as another namespace's connector's must
# survive while this operator reconciles its own connector.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
OTHER_NS="other-$RANDOM-elsewhere"
GHOST="vkc-$OTHER_NS-ghost-linux-eastus"

trap 'rc=$?; set +e
kubectl delete clusterrolebinding "$GHOST" --ignore-not-found >/dev/null 2>&1
[ -z "$NS" ] || kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
(exit $rc); cleanup' EXIT

install_crd
new_namespace

log "a ClusterRoleBinding of connector '$OTHER_NS/ghost', which this operator does not watch"
kubectl apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: $GHOST
  labels:
    app.kubernetes.io/instance: ghost-linux-eastus
    app.kubernetes.io/managed-by: vkc-operator
    app.kubernetes.io/name: virtual-kubelet
    connectors.virtual-kubelet.io/name: ghost
    connectors.virtual-kubelet.io/namespace: $OTHER_NS
    connectors.virtual-kubelet.io/os: linux
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: virtual-kubelet-connector
subjects:
  - kind: ServiceAccount
    name: ghost-linux-eastus
    namespace: $OTHER_NS
EOF

start_operator
kubectl apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: $API
kind: VirtualKubeletConnector
metadata:
  name: mine
spec:
  osType: Linux
  location: eastus
EOF
eventually 60 kubectl get deployment -n "$NS" mine-linux-eastus || fail "connector mine: no Deployment"
eventually 30 kubectl get clusterrolebinding "vkc-$NS-mine-linux-eastus" || fail "connector mine: no ClusterRoleBinding"
# the operator has seen the ghost's binding since its first list; give
# any wrong teardown time to show
sleep 5
kubectl get clusterrolebinding "$GHOST" >/dev/null 2>&1 ||
	fail "the operator for '$NS' deleted ClusterRoleBinding '$GHOST' of namespace '$OTHER_NS'"
outside=$(grep -E "(deleted|removed|created|updated) [A-Za-z ]*'" "$WORK/operator-0.log" | grep -v -e "'$NS/" -e "'vkc-$NS-" || true)
expect_eq "$outside" "" "writes outside namespace '$NS'"
