#!/usr/bin/env bash
# test_crd.sh: the VirtualKubeletConnector API and the install manifests
# against the real apiserver: the CRD is served, `kubectl explain` teaches
# it, the schema and CEL rules reject bad input with clear messages, the
# defaults fill in, the status subresource takes the operator's shape, the
# printer columns show, and every sample and the install set apply.
# No operator runs here.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

CRD=virtualkubeletconnectors.connectors.virtual-kubelet.io
API=connectors.virtual-kubelet.io/v1alpha1

# connector NAME [SPEC-YAML]: a connector manifest; SPEC-YAML is indented
# under spec (two spaces per level, as written by the caller).
connector() {
	printf 'apiVersion: %s\nkind: VirtualKubeletConnector\nmetadata:\n  name: %s\n' \
	    "$API" "$1"
	if [ $# -gt 1 ]; then
		printf 'spec:\n%s\n' "$2"
	fi
}

# reject WHAT WANT... (manifest on stdin): the apiserver must refuse it,
# with every WANT in its message.
reject() {
	local what=$1 out want
	shift
	if out=$(kubectl create --dry-run=server -n "$NS" -f - 2>&1); then
		fail "$what: accepted, want rejected: $out"
	fi
	for want in "$@"; do
		expect_contains "$out" "$want" "$what"
	done
}

# accept WHAT (manifest on stdin): the apiserver must take it.
accept() {
	local out
	out=$(kubectl create --dry-run=server -n "$NS" -f - 2>&1) ||
		fail "$1: rejected: $out"
}

install_crd
new_namespace

log "CRD is established under its names"
expect_eq "$(kubectl get crd "$CRD" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}')" \
    True "Established"
expect_eq "$(kubectl get crd "$CRD" -o 'jsonpath={.status.conditions[?(@.type=="NamesAccepted")].status}')" \
    True "NamesAccepted"
expect_eq "$(kubectl get crd "$CRD" -o 'jsonpath={.status.acceptedNames.shortNames}')" \
    '["vkc"]' "short names"
expect_eq "$(kubectl get crd "$CRD" -o 'jsonpath={.status.acceptedNames.categories}')" \
    '["virtual-kubelet"]' "categories"
expect_eq "$(kubectl get crd "$CRD" -o 'jsonpath={.spec.scope}')" Namespaced "scope"
# kubectl's discovery cache may lag the new CRD for a moment
eventually 30 kubectl get virtual-kubelet -n "$NS" ||
	fail "category virtual-kubelet: kubectl get virtual-kubelet failed"

log "every schema field has a description"
missing=$(kubectl get crd "$CRD" -o json | python3 -c '
import json, sys
crd = json.load(sys.stdin)
bad = []
def walk(path, s):
    if path and not s.get("description", "").strip() and path not in ("metadata",):
        bad.append(path)
    for k, v in s.get("properties", {}).items():
        walk(path + "." + k if path else k, v)
    if "items" in s:
        walk(path + "[]", s["items"])
walk("", crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
print(" ".join(bad))
')
expect_eq "$missing" "" "fields without a description"

log "kubectl explain teaches the API"
# explain reads the OpenAPI document, published a moment after Established
eventually 30 kubectl explain vkc.spec || fail "kubectl explain vkc.spec never worked"
# explain FIELD WANT...: every WANT in the explanation, line breaks ignored
explain() {
	local field=$1 out want
	shift
	out=$(kubectl explain "$field" 2>&1) || fail "kubectl explain $field: $out"
	out=$(tr -s ' \n' '  ' <<<"$out")
	for want in "$@"; do
		expect_contains "$out" "$want" "kubectl explain $field"
	done
}
explain vkc "Azure Container Instances" "az aks install-connector"
explain vkc.spec osType location aciResourceGroup credentials tenantId \
    subscriptionId image taint masterUri monitoredNamespace network resources \
    rbac removal paused "an empty spec installs a Linux connector"
explain vkc.spec.osType "--os-type" "Default Linux" "Both"
explain vkc.spec.location "--location" "normalised"
explain vkc.spec.aciResourceGroup "--aci-resource-group"
explain vkc.spec.credentials.secretRef "--service-principal" "--client-secret" "clientSecret"
explain vkc.spec.image.tag "--image-tag" "1.6.4"
explain vkc.spec.removal.drain "--graceful"
explain vkc.spec.network "Windows"
explain vkc.status "kubectl wait"
explain vkc.status.scheduling "tolerations" "nodeSelector"

log "schema rejects bad values"
connector bad-os '  osType: Solaris' | reject "osType Solaris" 'spec.osType' 'Unsupported value: "Solaris"'
connector bad-loc '  location: east-us!' | reject "location east-us!" 'spec.location' 'location must be an Azure region name'
connector bad-loc '  location: "   "' | reject "blank location" 'spec.location' 'location must be an Azure region name'
connector bad-rg '  aciResourceGroup: my-rg.' | reject "resource group ending in a period" 'spec.aciResourceGroup' \
	'aciResourceGroup must be an Azure resource group name'
connector bad-rg "  aciResourceGroup: $(printf 'r%.0s' $(seq 91))" |
	reject "resource group of 91" 'spec.aciResourceGroup' 'Too long'
connector bad-tenant '  tenantId: not-a-guid' | reject "tenantId" 'spec.tenantId' 'tenantId must be a GUID'
connector bad-sub '  subscriptionId: 0000-abcd' | reject "subscriptionId" 'spec.subscriptionId' 'subscriptionId must be a GUID'
connector bad-mi '  credentials:
    managedIdentityClientId: x' | reject "managedIdentityClientId" \
	'spec.credentials.managedIdentityClientId' 'managedIdentityClientId must be a GUID'
connector bad-uri '  masterUri: http://example.com' | reject "masterUri http" 'spec.masterUri' 'masterUri must be an https URL'
connector bad-tag '  image:
    tag: "1.6.4 latest"' | reject "image.tag with a space" 'spec.image.tag' 'image.tag must be an image tag'
connector bad-pull '  image:
    pullPolicy: Sometimes' | reject "image.pullPolicy" 'spec.image.pullPolicy' 'Unsupported value'
connector bad-effect '  taint:
    effect: Evict' | reject "taint.effect" 'spec.taint.effect' 'Unsupported value'
connector bad-key '  taint:
    key: "not a key"' | reject "taint.key" 'spec.taint.key'
connector bad-secret '  credentials:
    secretRef:
      name: My_Secret' | reject "secretRef.name" 'spec.credentials.secretRef.name' 'secretRef.name must be a Secret name'
connector bad-secret '  credentials:
    secretRef: {}' | reject "secretRef without name" 'spec.credentials.secretRef.name' 'Required value'
connector bad-repo '  image:
    repository: "mcr.microsoft.com/vk:1.0@sha256:00"' | reject "image.repository with a digest" 'spec.image.repository'
connector bad-vnet '  network:
    vnetName: -vnet
    subnetName: aci.
    subnetCidr: 10.241.0.0/16' | reject "vnetName and subnetName" \
	'vnetName must be an Azure virtual network name' 'subnetName must be an Azure subnet name'
connector bad-drain '  removal:
    drainTimeoutSeconds: 86400' | reject "drainTimeoutSeconds" 'spec.removal.drainTimeoutSeconds'
connector bad-ns '  monitoredNamespace: Default' | reject "monitoredNamespace" 'spec.monitoredNamespace' \
	'monitoredNamespace must be a namespace name'
connector bad-res '  resources:
    limits:
      memory: lots' | reject "resources quantity" 'spec.resources.limits.memory'
connector bad-role '  rbac:
    clusterRoleName: ".."' | reject "clusterRoleName .." 'clusterRoleName must be a valid ClusterRole name'

log "CEL rules reject their bad input with their message"
connector both-creds '  credentials:
    secretRef:
      name: sp
    managedIdentityClientId: 0a1b2c3d-0000-1111-2222-333344445555' |
	reject "secretRef with managedIdentityClientId" 'spec.credentials' \
	    'secretRef and managedIdentityClientId are mutually exclusive'
connector empty-creds '  credentials: {}' |
	reject "empty credentials" 'spec.credentials' \
	    'credentials needs secretRef or managedIdentityClientId'
connector win-net '  osType: Windows
  network:
    subnetName: aci
    subnetCidr: 10.241.0.0/16' |
	reject "network with Windows" 'spec.network' \
	    'network needs osType Linux or Both'
connector net-nocidr '  network:
    subnetName: aci' |
	reject "subnetName without subnetCidr" 'spec.network.subnetCidr' \
	    'subnetName and subnetCidr go together'
connector net-noname '  network:
    subnetCidr: 10.241.0.0/16' |
	reject "subnetCidr without subnetName" 'spec.network.subnetName' 'Required value'
connector net-cidr '  network:
    subnetName: aci
    subnetCidr: 10.241.0.0/33' |
	reject "subnetCidr /33" 'spec.network.subnetCidr' 'subnetCidr must be a network address'
connector net-host '  network:
    subnetName: aci
    subnetCidr: 10.241.1.1/16' |
	reject "subnetCidr with host bits" 'spec.network.subnetCidr' 'subnetCidr must be a network address'
connector net-cluster '  network:
    subnetName: aci
    subnetCidr: 10.241.0.0/16
    clusterCidr: pods' |
	reject "clusterCidr" 'spec.network.clusterCidr' 'clusterCidr must be a network address'
connector net-dns '  network:
    subnetName: aci
    subnetCidr: 10.241.0.0/16
    kubeDnsIp: 10.0.0.300' |
	reject "kubeDnsIp" 'spec.network.kubeDnsIp' 'kubeDnsIp must be an IP address'

log "valid input is accepted"
connector ok-all '  osType: Both
  location: East US
  aciResourceGroup: my_ACI-rg.(1)
  tenantId: 0a1b2c3d-0000-1111-2222-333344445555
  subscriptionId: 0A1B2C3D-0000-1111-2222-333344445555
  credentials:
    secretRef:
      name: sp-credentials
  image:
    repository: myregistry.azurecr.io:5000/virtual-kubelet
    tag: 1.6.4_rc.1
    pullPolicy: Always
  taint:
    key: example.com/aci
    value: ""
    effect: NoExecute
  masterUri: https://mycluster-dns-1234abcd.hcp.eastus.azmk8s.io:443
  monitoredNamespace: apps
  network:
    vnetName: aks-vnet_1
    vnetResourceGroup: MC_rg_cluster_eastus
    subnetName: aci-subnet
    subnetCidr: 10.241.0.0/16
    clusterCidr: 10.244.0.0/16
    kubeDnsIp: 10.0.0.10
  resources:
    requests:
      cpu: 100m
      memory: 128Mi
    limits:
      cpu: 1
      memory: 1Gi
  rbac:
    clusterRoleName: system:aggregate-to-view
  removal:
    drain: true
    drainTimeoutSeconds: 0
  paused: true' | accept "every field set"
connector ok-mi '  osType: Windows
  credentials:
    managedIdentityClientId: 0a1b2c3d-0000-1111-2222-333344445555' |
	accept "Windows with a managed identity"
connector ok-v6 '  network:
    subnetName: aci
    subnetCidr: fd00:10::/64
    kubeDnsIp: fd00::a' | accept "IPv6 network"
# An over-long release name is the operator's to report (InvalidName), not
# admission's.
connector "$(printf 'a%.0s' $(seq 60))" '  osType: Both
  location: East US' | accept "a name too long for a release"

log "an empty connector gets every default"
connector minimal | kubectl create -n "$NS" -f - >/dev/null
spec=$(kubectl get vkc minimal -n "$NS" -o json | python3 -c '
import json, sys
s = json.load(sys.stdin)["spec"]
print(json.dumps(s, sort_keys=True, separators=(",", ":")))
')
expect_eq "$spec" "$(python3 -c '
import json
print(json.dumps({
    "osType": "Linux",
    "image": {"repository": "mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet",
              "tag": "1.6.4", "pullPolicy": "IfNotPresent"},
    "taint": {"key": "virtual-kubelet.io/provider", "value": "azure",
              "effect": "NoSchedule"},
    "rbac": {"clusterRoleName": "virtual-kubelet-connector"},
    "removal": {"drain": False, "drainTimeoutSeconds": 300},
    "paused": False,
}, sort_keys=True, separators=(",", ":")))
')" "defaulted spec of an empty connector"

log "defaults fill in around what is set"
connector partial '  image:
    tag: 1.7.0
  taint:
    effect: NoExecute
  removal:
    drain: true' | kubectl create -n "$NS" -f - >/dev/null
expect_eq "$(jget vkc partial '{.spec.image.repository} {.spec.image.tag} {.spec.image.pullPolicy}' -n "$NS")" \
    "mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet 1.7.0 IfNotPresent" "partial image"
expect_eq "$(jget vkc partial '{.spec.taint.key}={.spec.taint.value}:{.spec.taint.effect}' -n "$NS")" \
    "virtual-kubelet.io/provider=azure:NoExecute" "partial taint"
expect_eq "$(jget vkc partial '{.spec.removal.drain} {.spec.removal.drainTimeoutSeconds}' -n "$NS")" \
    "true 300" "partial removal"

log "the status subresource takes the operator's status"
kubectl patch vkc minimal -n "$NS" --subresource=status --type=merge -p '{
  "status": {
    "observedGeneration": 1,
    "location": "eastus",
    "conditions": [
      {"type": "Ready", "status": "True", "reason": "Available",
       "message": "every connector is available and its node is Ready",
       "lastTransitionTime": "2025-01-01T00:00:00Z", "observedGeneration": 1},
      {"type": "Progressing", "status": "False", "reason": "Available",
       "message": "", "lastTransitionTime": "2025-01-01T00:00:00Z",
       "observedGeneration": 1},
      {"type": "Degraded", "status": "False", "reason": "Available",
       "message": "", "lastTransitionTime": "2025-01-01T00:00:00Z",
       "observedGeneration": 1}
    ],
    "connectors": [
      {"osType": "Linux", "nodeName": "virtual-kubelet-minimal-linux-eastus",
       "deployment": "minimal-linux-eastus", "readyReplicas": 1,
       "nodeReady": "True"}
    ],
    "scheduling": [
      {"osType": "Linux", "nodeName": "virtual-kubelet-minimal-linux-eastus",
       "nodeSelector": {"kubernetes.io/os": "linux",
                        "kubernetes.io/role": "agent",
                        "type": "virtual-kubelet"},
       "tolerations": [{"key": "virtual-kubelet.io/provider",
                        "operator": "Equal", "value": "azure",
                        "effect": "NoSchedule"}]}
    ]
  }
}' >/dev/null
expect_eq "$(jget vkc minimal '{.status.connectors[0].deployment} {.status.connectors[0].readyReplicas} {.status.connectors[0].nodeReady}' -n "$NS")" \
    "minimal-linux-eastus 1 True" "status.connectors kept"
expect_eq "$(jget vkc minimal '{.status.scheduling[0].nodeSelector.type} {.status.scheduling[0].tolerations[0].operator}' -n "$NS")" \
    "virtual-kubelet Equal" "status.scheduling kept"
expect_eq "$(jget vkc minimal '{.status.conditions[?(@.type=="Ready")].observedGeneration}' -n "$NS")" \
    "1" "condition observedGeneration kept"
out=$(kubectl patch vkc minimal -n "$NS" --subresource=status --type=merge \
    -p '{"status":{"connectors":[{"osType":"Linux","nodeReady":"Maybe"}]}}' 2>&1) &&
	fail "status nodeReady Maybe: accepted"
expect_contains "$out" "nodeReady" "status nodeReady Maybe"
# the main resource ignores status, the status subresource ignores spec
kubectl patch vkc minimal -n "$NS" --type=merge \
    -p '{"spec":{"paused":true},"status":{"location":"westus"}}' >/dev/null
expect_eq "$(jget vkc minimal '{.status.location} {.spec.paused} {.metadata.generation}' -n "$NS")" \
    "eastus true 2" "status ignored on the main resource"

log "kubectl get vkc shows the printer columns"
out=$(kubectl get vkc minimal -n "$NS" | awk '{ $1 = $1; print }')
expect_eq "$(head -n1 <<<"$out")" "NAME OS LOCATION READY AGE" "printer columns"
expect_contains "$(tail -n1 <<<"$out")" "minimal Linux eastus True " "printer column values"
out=$(kubectl get vkc minimal -n "$NS" -o wide | awk '{ $1 = $1; print }')
expect_eq "$(head -n1 <<<"$out")" "NAME OS LOCATION READY REASON AGE" "wide printer columns"
expect_contains "$(tail -n1 <<<"$out")" "minimal Linux eastus True Available " "wide printer column values"

log "every sample applies"
n=0
for f in "$SRC"/manifests/samples/*.yaml; do
	[ "$(basename "$f")" = kustomization.yaml ] && continue
	out=$(kubectl apply --dry-run=server -n "$NS" -f "$f" 2>&1) ||
		fail "sample $(basename "$f"): $out"
	n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "samples: found $n, want at least 4"
out=$(kubectl apply --dry-run=server -n "$NS" -k "$SRC/manifests/samples" 2>&1) ||
	fail "kubectl apply -k manifests/samples: $out"
p=connectors.virtual-kubelet.io_v1alpha1_virtualkubeletconnector
expect_eq "$(kubectl create --dry-run=server -n "$NS" -o 'jsonpath={.metadata.name} {.spec.osType} {.spec.location}' \
    -f "$SRC/manifests/samples/${p}_both.yaml")" "virtual-kubelet Both East US" "the Both sample"
expect_eq "$(kubectl create --dry-run=server -n "$NS" -o 'jsonpath={.spec.osType}' \
    -f "$SRC/manifests/samples/${p}.yaml")" "Linux" "the default sample"
expect_eq "$(kubectl create --dry-run=server -n "$NS" -o 'jsonpath={.spec.osType}' \
    -f "$SRC/manifests/samples/${p}_windows.yaml")" "Windows" "the Windows sample"

log "manifests/install.yaml is manifests/default rendered"
kubectl kustomize "$SRC/manifests/default" >"$WORK/rendered.yaml"
awk 'body || !/^#/ { body = 1; print }' "$SRC/manifests/install.yaml" >"$WORK/install.yaml"
cmp -s "$WORK/rendered.yaml" "$WORK/install.yaml" ||
	fail "manifests/install.yaml is out of date; regenerate it as its header says: $(diff "$WORK/install.yaml" "$WORK/rendered.yaml" | head -n 20)"

log "the install set applies, and its operator pod meets the restricted policy"
# Rendered into this test's namespace rather than vkc-system, so that
# nothing outside it is changed; the namespace enforces the restricted Pod
# Security Standard, which warns about a violating pod template.
kubectl label namespace "$NS" pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/warn=restricted >/dev/null
mkdir -p "$WORK/overlay"
rel=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' \
    "$SRC/manifests/default" "$WORK/overlay")
printf 'namespace: %s\nresources:\n  - %s\n' "$NS" "$rel" >"$WORK/overlay/kustomization.yaml"
out=$(kubectl apply --dry-run=server -k "$WORK/overlay" 2>&1) ||
	fail "kubectl apply -k manifests/default --dry-run=server: $out"
expect_contains "$out" "deployment.apps/vkc-operator created (server dry run)" "install set"
expect_contains "$out" "clusterrole.rbac.authorization.k8s.io/virtual-kubelet-connector" "install set"
case $out in
*PodSecurity*) fail "operator pod violates the restricted policy: $out" ;;
esac
# the operator's ClusterRole: no wildcards; bind only on the connector role
kubectl apply --dry-run=server -k "$WORK/overlay" -o json >"$WORK/install.json" 2>"$WORK/install.err" ||
	fail "kubectl apply -k manifests/default --dry-run=server -o json: $(cat "$WORK/install.err")"
rules=$(python3 -c '
import json, sys
doc = json.load(sys.stdin)
for d in doc.get("items", [doc]):
    if d["kind"] not in ("ClusterRole", "Role"):
        continue
    for r in d.get("rules", []):
        for k in ("apiGroups", "resources", "verbs", "resourceNames"):
            if "*" in r.get(k, []):
                print("wildcard in", d["metadata"]["name"], r)
        if set(r["verbs"]) & {"bind", "escalate", "impersonate"} and \
                r.get("resourceNames") != ["virtual-kubelet-connector"]:
            print("unrestricted", r["verbs"], "in", d["metadata"]["name"])
' <"$WORK/install.json" 2>&1) || fail "reading the install set's roles: $rules"
expect_eq "$rules" "" "RBAC rules"

log "the operator's role lets it do its work and no more"
# The two ClusterRoles are applied for real (as the install does; like the
# CRD they stay), and bound to ServiceAccounts of this test's namespace by
# bindings that are removed on exit.
CRBS=("e2e-$NS-operator" "e2e-$NS-connector")
# runs before lib.sh's cleanup, which is handed the test's exit status
crb_cleanup() {
	local rc=$?
	kubectl delete clusterrolebinding "${CRBS[@]}" --ignore-not-found >/dev/null 2>&1 || true
	set +e
	return $rc
}
trap 'crb_cleanup; cleanup' EXIT
kubectl apply --server-side --force-conflicts \
    -f "$SRC/manifests/rbac/role.yaml" -f "$SRC/manifests/rbac/connector_role.yaml" >/dev/null
kubectl create clusterrolebinding "e2e-$NS-operator" --clusterrole=vkc-operator \
    --serviceaccount="$NS:vkc-operator" >/dev/null
kubectl create clusterrolebinding "e2e-$NS-connector" --clusterrole=virtual-kubelet-connector \
    --serviceaccount="$NS:connector" >/dev/null
OP=system:serviceaccount:$NS:vkc-operator
VK=system:serviceaccount:$NS:connector
# can AS WANT VERB RESOURCE [ARGS]: kubectl auth can-i answers WANT
can() {
	local as=$1 want=$2 got
	shift 2
	got=$(kubectl auth can-i --as="$as" "$@" 2>/dev/null) || true
	expect_eq "$got" "$want" "can-i $* as ${as##*:}"
}
# RBAC is cached briefly after a change
eventually 30 kubectl auth can-i --as="$OP" list virtualkubeletconnectors.connectors.virtual-kubelet.io -A ||
	fail "the operator's binding never took effect"
eventually 30 kubectl auth can-i --as="$VK" create tokenreviews.authentication.k8s.io ||
	fail "the connector's binding never took effect"
can "$OP" yes watch virtualkubeletconnectors.connectors.virtual-kubelet.io -A
can "$OP" yes patch virtualkubeletconnectors.connectors.virtual-kubelet.io --subresource=status -n default
can "$OP" no patch virtualkubeletconnectors.connectors.virtual-kubelet.io --subresource=scale -n default
can "$OP" yes update virtualkubeletconnectors.connectors.virtual-kubelet.io --subresource=finalizers -n default
can "$OP" no create virtualkubeletconnectors.connectors.virtual-kubelet.io -n default
can "$OP" yes create deployments.apps -n default
can "$OP" yes delete secrets -n default
can "$OP" yes patch nodes
can "$OP" no update nodes
can "$OP" yes create pods --subresource=eviction -n default
can "$OP" no delete pods -n default
can "$OP" yes create events.events.k8s.io -n default
can "$OP" no get configmaps -n default
can "$OP" no '*' '*'
can "$OP" yes bind clusterroles/virtual-kubelet-connector
can "$OP" no bind clusterroles/cluster-admin
can "$VK" yes create nodes
can "$VK" no delete nodes
can "$VK" yes patch pods --subresource=status -n default
can "$VK" no create pods --subresource=eviction -n default
can "$VK" yes create subjectaccessreviews.authorization.k8s.io
can "$VK" no create secrets -n default
# what `bind` is for: the operator may bind connectors to their role, and
# only to it (RBAC's escalation check runs on a server-side dry run too)
crb() {
	printf 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: vkc-%s-probe\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: %s\nsubjects:\n- kind: ServiceAccount\n  name: probe\n  namespace: %s\n' \
	    "$NS" "$1" "$NS"
}
out=$(crb virtual-kubelet-connector | kubectl create --as="$OP" --dry-run=server -f - 2>&1) ||
	fail "the operator cannot bind a connector to virtual-kubelet-connector: $out"
out=$(crb cluster-admin | kubectl create --as="$OP" --dry-run=server -f - 2>&1) &&
	fail "the operator can bind cluster-admin: $out"
expect_contains "$out" "forbidden" "binding cluster-admin as the operator"
