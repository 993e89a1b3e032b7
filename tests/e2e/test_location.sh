#!/usr/bin/env bash
# vkc-test: serial
# (it creates cluster-wide Nodes with topology.kubernetes.io/region labels,
# which change the region every connector without spec.location defaults to)
#
# test_location.sh: location defaulting and renaming, DESIGN.md §2 (spec.
# location), §3 and §5.3. Without spec.location and without any non-virtual
# Node carrying a region, the connector is Ready=False, reason
# LocationUnknown, with a Warning Event and nothing created. Once plain
# Nodes carry regions (two westeurope, one eastus) it takes the most common
# one, westeurope, and creates <name>-linux-westeurope; virtual Nodes
# (type=virtual-kubelet) are not counted, though two of them say eastus
# (counted, eastus would win 3 to 2). Setting spec.location to
# "North Europe" tears the westeurope release down (Deployment, its
# virtual Node, ClusterRoleBinding, TLS Secret, ServiceAccount) and creates
# <name>-linux-northeurope.
#
# The operator is not restarted and the connector not touched after the
# Nodes appear: a user who labels the nodes expects the connector to pick
# the region up by itself. The operator caches a found region for 60 s and
# so must look again at least that often while it has none; the test
# allows 75 s. (Should it not, the test records that, touches the
# connector to check the rest, and fails at the end.)
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
REGION_LABEL=topology.kubernetes.io/region
NAME=loc-$RANDOM
WE=$NAME-linux-westeurope
NE=$NAME-linux-northeurope
TAG=e2e-loc-$$-$RANDOM

# Nodes are cluster-wide: every one this test makes goes when it ends.
TEST_NODES=()
delete_test_nodes() {
	local n
	for n in "${TEST_NODES[@]+"${TEST_NODES[@]}"}"; do
		kubectl delete node "$n" --ignore-not-found --wait=false >/dev/null 2>&1 || true
	done
}
trap 'rc=$?; set +e; delete_test_nodes; (exit $rc); cleanup' EXIT

PROBLEMS=()
problem() {
	log "PROBLEM: $*"
	PROBLEMS+=("$*")
}

# node NAME REGION [virtual]: a Node labelled with REGION; "virtual" adds
# type=virtual-kubelet, the label virtual kubelets register with.
node() {
	local name=$1 region=$2 extra=""
	[ "${3:-}" != virtual ] || extra="    type: virtual-kubelet"
	TEST_NODES+=("$name")
	kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $name
  labels:
    $REGION_LABEL: $region
    kubernetes.io/os: linux
    e2e.vkc/test: $TAG
$extra
EOF
}

ready_reason() {
	kubectl get vkc "$NAME" -n "$NS" \
	    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}'
}

status_location() {
	kubectl get vkc "$NAME" -n "$NS" -o 'jsonpath={.status.location}'
}

ready_is() { [ "$(ready_reason)" = "$1" ]; }
location_is() { [ "$(status_location)" = "$1" ]; }

# children RELEASE: the names of the release's namespaced children and
# ClusterRoleBinding that exist, one a line.
children() {
	local r=$1
	kubectl get deployment "$r" -n "$NS" -o name 2>/dev/null || true
	kubectl get serviceaccount "$r" -n "$NS" -o name 2>/dev/null || true
	kubectl get secret "$r-tls" -n "$NS" -o name 2>/dev/null || true
	kubectl get clusterrolebinding "vkc-$NS-$r" -o name 2>/dev/null || true
	kubectl get node "virtual-kubelet-$r" -o name 2>/dev/null || true
}

no_children() {
	[ -z "$(children "$1")" ]
}

# all_four RELEASE: Deployment, ServiceAccount, TLS Secret and CRB exist.
all_four() {
	[ "$(children "$1" | grep -vc '^node/')" -eq 4 ]
}

install_crd
new_namespace

regional=$(kubectl get nodes -l "$REGION_LABEL,type!=virtual-kubelet" -o name)
[ -z "$regional" ] ||
	fail "precondition: non-virtual Nodes with a region exist, made by someone else ($(echo $regional)); this test needs a cluster without any"

start_operator
kubectl apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: $API
kind: VirtualKubeletConnector
metadata:
  name: $NAME
spec:
  osType: Linux
EOF

log "no Node with a region: Ready=False, LocationUnknown, nothing made"
eventually 30 ready_is False/LocationUnknown ||
	fail "Ready is '$(ready_reason)', want False/LocationUnknown"
expect_eq "$(status_location)" "" "status.location while unknown"
eventually 15 sh -c "kubectl get events -n '$NS' -o name --field-selector \
    'involvedObject.name=$NAME,type=Warning,reason=LocationUnknown' | grep -q ." ||
	problem "no Warning Event with reason LocationUnknown"
left=$(kubectl get deployments,serviceaccounts,secrets -n "$NS" \
    -l "connectors.virtual-kubelet.io/name=$NAME" -o name)
[ -z "$left" ] || problem "children made while the location is unknown: $(echo $left)"

log "Nodes get regions: two westeurope, one eastus, and two virtual eastus"
node "$TAG-we-1" westeurope
node "$TAG-we-2" WestEurope	# normalised as az did: counts as westeurope
node "$TAG-eus-1" eastus
# virtual: not counted. One is the node the westeurope release's virtual
# kubelet would register, so its teardown is seen too.
node "virtual-kubelet-$WE" eastus virtual
node "$TAG-vk-2" eastus virtual
start=$SECONDS

if ! eventually 75 sh -c "[ \"\$(kubectl get vkc '$NAME' -n '$NS' -o jsonpath='{.status.location}')\" = westeurope ] &&
    kubectl get deployment '$WE' -n '$NS'"; then
	problem "75 s after the Nodes got regions, status.location is '$(status_location)' (Ready $(ready_reason)) and Deployment $WE $(kubectl get deployment "$WE" -n "$NS" -o name 2>/dev/null || echo absent): a connector left LocationUnknown is never looked at again"
	log "touching the connector to check the rest"
	kubectl annotate vkc "$NAME" -n "$NS" --overwrite e2e.vkc/touched="$(date +%s)" >/dev/null
	eventually 30 sh -c "[ \"\$(kubectl get vkc '$NAME' -n '$NS' -o jsonpath='{.status.location}')\" = westeurope ] &&
	    kubectl get deployment '$WE' -n '$NS'" ||
		fail "even after a touch, status.location is '$(status_location)', want westeurope; Deployment $WE: $(kubectl get deployment "$WE" -n "$NS" -o name 2>&1)"
else
	log "westeurope after $((SECONDS - start)) s"
fi
[ "$(ready_reason)" != False/LocationUnknown ] ||
	fail "status.location is westeurope but Ready is still LocationUnknown"

log "the westeurope release is complete and no other was made"
eventually 30 all_four "$WE" ||
	fail "release $WE incomplete: $(children "$WE" | tr '\n' ' ')"
no_children "$NAME-linux-eastus" ||
	problem "an eastus release exists: $(children "$NAME-linux-eastus" | tr '\n' ' ')"
expect_eq "$(jget deployment "$WE" '{.spec.template.spec.containers[0].env[?(@.name=="ACI_REGION")].value}' -n "$NS")" \
    westeurope "ACI_REGION of $WE"
expect_eq "$(jget vkc "$NAME" '{.status.connectors[0].nodeName}' -n "$NS")" \
    "virtual-kubelet-$WE" "status.connectors[0].nodeName"
kubectl get node "virtual-kubelet-$WE" >/dev/null ||
	fail "virtual Node virtual-kubelet-$WE gone before any teardown"

log "spec.location \"North Europe\": westeurope torn down, northeurope made"
kubectl patch vkc "$NAME" -n "$NS" --type=merge \
    -p '{"spec":{"location":"North Europe"}}' >/dev/null
eventually 60 all_four "$NE" ||
	fail "release $NE never complete: $(children "$NE" | tr '\n' ' ')"
eventually 60 no_children "$WE" ||
	fail "release $WE not torn down, still: $(children "$WE" | tr '\n' ' ')"
eventually 30 location_is northeurope ||
	fail "status.location is '$(status_location)', want northeurope"
expect_eq "$(jget deployment "$NE" '{.spec.template.spec.containers[0].env[?(@.name=="ACI_REGION")].value}' -n "$NS")" \
    northeurope "ACI_REGION of $NE"
expect_eq "$(jget deployment "$NE" '{.spec.template.spec.containers[0].args}' -n "$NS" | tr -d '[]"' | tr ',' ' ')" \
    "--provider azure --nodename virtual-kubelet-$NE --os Linux --authentication-token-webhook=true --client-verify-ca /etc/kubernetes/certs/ca.crt" \
    "args of $NE"
expect_eq "$(jget vkc "$NAME" '{.status.connectors[*].deployment}' -n "$NS")" "$NE" \
    "status.connectors after the rename"
# the plain Nodes are the cluster's, not the connector's: untouched
for n in "$TAG-we-1" "$TAG-we-2" "$TAG-eus-1" "$TAG-vk-2"; do
	kubectl get node "$n" >/dev/null 2>&1 || problem "Node $n was deleted"
done

kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator exited"
[ ${#PROBLEMS[@]} -eq 0 ] ||
	fail "${#PROBLEMS[@]} problems:
$(printf '  - %s\n' "${PROBLEMS[@]}")"
