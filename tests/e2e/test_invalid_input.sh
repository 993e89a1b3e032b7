#!/usr/bin/env bash
# test_invalid_input.sh: DESIGN.md §5.10 and §3 with twenty-odd different
# invalid connectors applied side by side in one namespace, next to one
# valid connector, all watched by one operator.
#
# - What the schema and CEL can reject is refused by the apiserver at
#   admission, with a message naming the field, and never stored.
# - What passes admission (found with --dry-run=server: release names over
#   63 characters or not DNS-1123 labels, credentials Secrets that are
#   missing or lack a key, resources and taint keys the schema's patterns
#   let through but the children's own validation refuses) ends with
#   Ready=False and its own reason, a Warning Event with that reason, and
#   no child at all (no Deployment, ServiceAccount, Secret or
#   ClusterRoleBinding labelled with its name).
# - The valid connector gets its Deployment meanwhile; the operator is
#   still running at the end and its log shows no crash or sanitizer report.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
NAME_LABEL=connectors.virtual-kubelet.io/name
NS_LABEL=connectors.virtual-kubelet.io/namespace
VALID=valid

# connector NAME SPEC-YAML: a connector manifest, SPEC-YAML indented under
# spec by two spaces per level.
connector() {
	printf 'apiVersion: %s\nkind: VirtualKubeletConnector\nmetadata:\n  name: %s\nspec:\n%s\n' \
	    "$API" "$1" "$2"
}

# Most checks record what is wrong and go on, so one run reports every
# input mishandled; the test fails at the end when there is any.
PROBLEMS=()
problem() {
	log "PROBLEM: $*"
	PROBLEMS+=("$*")
}

# rejected NAME SPEC-YAML NEEDLE...: a real apply must be refused with every
# NEEDLE (the field path first) in the message, and nothing stored.
ADMISSION=0
rejected() {
	local name=$1 spec=$2 out want
	shift 2
	ADMISSION=$((ADMISSION + 1))
	if out=$(connector "$name" "$spec" | kubectl apply -n "$NS" -f - 2>&1); then
		problem "$name: admitted, want rejected at admission naming $1"
		# no operator runs yet: it goes before anything acts on it
		kubectl delete vkc "$name" -n "$NS" --wait=false >/dev/null
		return 0
	fi
	for want in "$@"; do
		case $out in
		*"$want"*) ;;
		*) problem "$name: admission message lacks '$want': $out" ;;
		esac
	done
	absent vkc "$name" -n "$NS" || problem "$name: stored although rejected"
}

# admitted NAME REASON SPEC-YAML: applies a connector the schema lets
# through; the operator must reject it with REASON.
ADMITTED_NAMES=()
ADMITTED_REASONS=()
admitted() {
	local name=$1 reason=$2 spec=$3 out
	out=$(connector "$name" "$spec" | kubectl apply -n "$NS" -f - 2>&1) ||
		fail "${name:0:40}...: rejected at admission, want admitted: $out"
	ADMITTED_NAMES+=("$name")
	ADMITTED_REASONS+=("$reason")
}

ready_reason() {
	kubectl get vkc "$1" -n "$NS" \
	    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}'
}

install_crd
new_namespace

# ---- the credentials Secrets some connectors point at ----
kubectl create secret generic half-secret -n "$NS" \
    --from-literal=clientId=00000000-0000-0000-0000-00000000000a >/dev/null
kubectl create secret generic empty-id -n "$NS" --from-literal=clientId= \
    --from-literal=clientSecret=s3cr3t >/dev/null
kubectl create secret generic no-id -n "$NS" \
    --from-literal=clientSecret=s3cr3t >/dev/null

# admission first, before an operator runs: should one be admitted by
# mistake, it is deleted before anything acts on it
log "inputs the schema and CEL reject at admission"
rejected bad-ostype '  osType: Mac' 'spec.osType' 'Unsupported value: "Mac"'
rejected bad-location-dash '  location: east-us' 'spec.location' \
    'location must be an Azure region name'
# a location of only spaces would normalise to nothing: CEL refuses it
rejected bad-location-spaces '  location: "   "' 'spec.location' \
    'location must be an Azure region name'
rejected bad-location-empty '  location: ""' 'spec.location' \
    'at least 1 chars long'
rejected bad-resource-group $'  location: eastus\n  aciResourceGroup: "rg."' \
    'spec.aciResourceGroup' 'not ending in a period'
rejected bad-credentials-both $'  location: eastus\n  credentials:\n    secretRef: {name: sp}\n    managedIdentityClientId: 00000000-0000-0000-0000-000000000000' \
    'spec.credentials' 'mutually exclusive'
rejected bad-credentials-empty $'  location: eastus\n  credentials: {}' \
    'spec.credentials' 'needs secretRef or managedIdentityClientId'
rejected bad-secret-name $'  location: eastus\n  credentials:\n    secretRef: {name: Bad_Name}' \
    'spec.credentials.secretRef.name' 'must be a Secret name'
rejected bad-identity $'  location: eastus\n  credentials:\n    managedIdentityClientId: not-a-guid' \
    'spec.credentials.managedIdentityClientId' 'must be a GUID'
rejected bad-tenant $'  location: eastus\n  tenantId: "1234"' 'spec.tenantId' 'must be a GUID'
rejected bad-image-tag $'  location: eastus\n  image:\n    tag: ".bad"' \
    'spec.image.tag' 'must be an image tag'
rejected bad-pull-policy $'  location: eastus\n  image:\n    pullPolicy: Sometimes' \
    'spec.image.pullPolicy' 'Unsupported value: "Sometimes"'
rejected bad-taint-effect $'  location: eastus\n  taint:\n    effect: Evict' \
    'spec.taint.effect' 'Unsupported value: "Evict"'
rejected bad-master-uri $'  location: eastus\n  masterUri: http://example.com' \
    'spec.masterUri' 'must be an https URL'
rejected bad-windows-network $'  location: eastus\n  osType: Windows\n  network:\n    subnetName: aci\n    subnetCidr: 10.241.0.0/16' \
    'spec.network' 'needs osType Linux or Both'
rejected bad-subnet-cidr $'  location: eastus\n  network:\n    subnetName: aci\n    subnetCidr: 10.241.0.1/16' \
    'spec.network.subnetCidr' 'CIDR notation'
rejected bad-cpu-quantity $'  location: eastus\n  resources:\n    limits:\n      cpu: lots' \
    'spec.resources.limits.cpu' 'should match'
rejected bad-drain-timeout $'  location: eastus\n  removal:\n    drainTimeoutSeconds: -1' \
    'spec.removal.drainTimeoutSeconds' 'greater than or equal to 0'
# a repository with its tag: the operator appends spec.image.tag, and
# "...:1.6.4:1.6.4" is no image reference
rejected bad-repository-with-tag $'  location: eastus\n  image:\n    repository: mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet:1.6.4' \
    'spec.image.repository'
# a qualified name's prefix is a DNS subdomain of at most 253 bytes; the
# key's maxLength (317) and pattern let a 262-byte prefix through, and a
# Node refuses the taint ("prefix part must be no more than 253 bytes"),
# so the virtual node could never register
rejected bad-taint-prefix "  location: eastus
  taint:
    key: $(printf 't%.0s' {1..250}).example.com/provider" 'spec.taint.key'

log "the valid connector, and an operator"
connector "$VALID" '  location: eastus' | kubectl apply -n "$NS" -f - >/dev/null
start_operator

log "inputs that pass admission and the operator must reject"
# Linux: 100 characters, so the release has 113 (and the name is too long
# for a label value: children could not even carry it)
long_linux="$(printf 'l%.0s' {1..79})-$(printf 'x%.0s' {1..20})"
admitted "$long_linux" InvalidName '  location: eastus'
# Both: 49 characters, so <name>-linux-eastus has 62 (fits) and
# <name>-windows-eastus 64 (does not): nothing is created, not even Linux
long_both="both-$(printf 'b%.0s' {1..44})"
admitted "$long_both" InvalidName $'  osType: Both\n  location: eastus'
# a short name and a long location: 64 characters that normalise to 58
admitted long-location InvalidName \
    '  location: "Australia Southeast Australia Southeast Australia Sou"'
# a dotted name is a valid object name but not a DNS-1123 label
admitted dotted.name InvalidName '  location: eastus'
admitted missing-secret CredentialsNotFound $'  location: eastus\n  credentials:\n    secretRef: {name: does-not-exist}'
admitted secret-without-clientsecret CredentialsNotFound $'  location: eastus\n  credentials:\n    secretRef: {name: half-secret}'
admitted secret-empty-clientid CredentialsNotFound $'  location: eastus\n  credentials:\n    secretRef: {name: empty-id}'
admitted secret-without-clientid CredentialsNotFound $'  location: eastus\n  credentials:\n    secretRef: {name: no-id}'
# the quantity pattern admits these; a Deployment carrying them is refused
# by the apiserver, so the operator must not start making the release
admitted requests-over-limits InvalidSpec $'  location: eastus\n  resources:\n    limits:\n      cpu: "1"\n    requests:\n      cpu: "2"'
admitted negative-limit InvalidSpec $'  location: eastus\n  resources:\n    limits:\n      memory: "-1Gi"'
admitted unknown-resource InvalidSpec $'  location: eastus\n  resources:\n    limits:\n      bogus: "1"'

total=$((ADMISSION + ${#ADMITTED_NAMES[@]}))
log "$ADMISSION rejected at admission, ${#ADMITTED_NAMES[@]} admitted: $total invalid connectors"
[ "$total" -ge 20 ] || fail "only $total invalid connectors"

log "the valid connector beside them gets its Deployment"
eventually 60 kubectl get deployment "$VALID-linux-eastus" -n "$NS" ||
	fail "Deployment $VALID-linux-eastus never created"
expect_eq "$(jget deployment "$VALID-linux-eastus" "{.metadata.labels.${NAME_LABEL//./\\.}}" -n "$NS")" \
    "$VALID" "valid Deployment's name label"
valid_location_is_eastus() {
	[ "$(jget vkc "$VALID" '{.status.location}' -n "$NS")" = eastus ]
}
eventually 30 valid_location_is_eastus ||
	fail "valid connector: status.location never eastus"

log "each admitted invalid connector: Ready=False with its reason"
deadline=$((SECONDS + 60))
pending=("${!ADMITTED_NAMES[@]}")
while [ ${#pending[@]} -gt 0 ] && [ $SECONDS -lt $deadline ]; do
	still=()
	for i in "${pending[@]}"; do
		[ "$(ready_reason "${ADMITTED_NAMES[$i]}" 2>/dev/null)" = "False/${ADMITTED_REASONS[$i]}" ] ||
			still+=("$i")
	done
	pending=("${still[@]+"${still[@]}"}")
	[ ${#pending[@]} -eq 0 ] || sleep 1
done
for i in "${!ADMITTED_NAMES[@]}"; do
	name=${ADMITTED_NAMES[$i]}
	want=${ADMITTED_REASONS[$i]}
	got=$(ready_reason "$name" 2>/dev/null || true)
	if [ "$got" != "False/$want" ]; then
		problem "connector '$name': Ready is '$got', want 'False/$want' (message: $(jget vkc "$name" '{.status.conditions[?(@.type=="Ready")].message}' -n "$NS"))"
		continue
	fi
	[ -n "$(jget vkc "$name" '{.status.conditions[?(@.type=="Ready")].message}' -n "$NS")" ] ||
		problem "connector '$name': Ready condition has no message"
	got=$(jget vkc "$name" '{.status.conditions[?(@.type=="Degraded")].status}' -n "$NS")
	[ "$got" = True ] || problem "connector '$name': Degraded is '$got', want True"
done

log "each admitted invalid connector: a Warning Event with its reason"
warning_event() {
	kubectl get events -n "$NS" -o name --field-selector \
	    "involvedObject.name=$1,involvedObject.kind=VirtualKubeletConnector,type=Warning,reason=$2" |
	    grep -q .
}
for i in "${!ADMITTED_NAMES[@]}"; do
	name=${ADMITTED_NAMES[$i]}
	want=${ADMITTED_REASONS[$i]}
	eventually 10 warning_event "$name" "$want" 2>/dev/null ||
		problem "connector '$name': no Warning Event with reason $want (its events: $(kubectl get events -n "$NS" --field-selector "involvedObject.name=$name" -o 'jsonpath={range .items[*]}{.type}/{.reason}: {.message}; {end}'))"
done

log "no child exists for any invalid connector"
# give a wrong pass time to create something after its status was written
sleep 3
children=$( {
	kubectl get deployments,serviceaccounts,secrets -n "$NS" -o json
	kubectl get clusterrolebindings -l "$NS_LABEL=$NS" -o json
} | python3 -c '
import json, sys
dec = json.JSONDecoder()
text = sys.stdin.read()
pos = 0
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    doc, pos = dec.raw_decode(text, pos)
    for o in doc["items"]:
        m = o["metadata"]
        labels = m.get("labels") or {}
        owners = [r.get("name", "") for r in m.get("ownerReferences") or []
                  if r.get("kind") == "VirtualKubeletConnector"]
        owner = labels.get("connectors.virtual-kubelet.io/name") or \
            (owners[0] if owners else None)
        if owner is None and labels.get("app.kubernetes.io/managed-by") == "vkc-operator":
            owner = "?"
        if owner is not None:
            print("%s\t%s/%s" % (owner, o["kind"], m["name"]))
')
invalid_children=$(printf '%s\n' "$children" | awk -F'\t' -v v="$VALID" 'NF && $1 != v')
[ -z "$invalid_children" ] ||
	problem "children of invalid connectors exist: $(printf '%s' "$invalid_children" | tr '\t\n' ': ')"
# and by name: nothing named after an invalid connector's release
in_ns=$(kubectl get deployments,serviceaccounts,secrets -n "$NS" -o name)
crbs=$(kubectl get clusterrolebindings -o name)
for name in "${ADMITTED_NAMES[@]}"; do
	out=$(printf '%s\n' "$in_ns" | grep -F "/$name-" || true)
	[ -z "$out" ] || problem "connector '$name': child $(echo $out) exists"
	out=$(printf '%s\n' "$crbs" | grep -F "/vkc-$NS-$name-" || true)
	[ -z "$out" ] || problem "connector '$name': $(echo $out) exists"
done
# the valid one has its four children
for kind in deployment serviceaccount; do
	kubectl get "$kind" "$VALID-linux-eastus" -n "$NS" >/dev/null ||
		fail "valid connector: $kind missing"
done
kubectl get secret "$VALID-linux-eastus-tls" -n "$NS" >/dev/null ||
	fail "valid connector: TLS Secret missing"
kubectl get clusterrolebinding "vkc-$NS-$VALID-linux-eastus" >/dev/null ||
	fail "valid connector: ClusterRoleBinding missing"

log "the operator survived it all"
kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator exited"
if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|Assertion .* failed|double free|stack smashing' \
    "$WORK/operator-0.log" >&2; then
	fail "the operator's log shows a crash or sanitizer report"
fi

[ ${#PROBLEMS[@]} -eq 0 ] ||
	fail "${#PROBLEMS[@]} problems:
$(printf '  - %s\n' "${PROBLEMS[@]}")"
