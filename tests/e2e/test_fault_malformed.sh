#!/usr/bin/env bash
# test_fault_malformed.sh: issue 7's fifth fault. Fifty-odd malformed
# connectors of all sorts, applied one after another to a running
# operator beside one valid connector (osType Both):
#
# - wrong JSON types where the schema has types (spec a string or a list,
#   numbers, objects and floats for strings, integers and quantities),
#   NUL bytes, non-ASCII and printf directives in strings, values over
#   their limits, unknown fields, bad names: rejected at admission;
# - what admission lets through but is semantically bad (release names
#   over 63 characters or not DNS labels, missing or incomplete
#   credentials Secrets, quantities and resource names the Deployment's
#   own validation refuses, a taint key too long for a toleration, a
#   ClusterRole the operator may not bind, an image repository that is no
#   image reference): reported, i.e. Ready=False with a reason (not one
#   of success or progress) and a Warning Event of that reason, with no
#   child at all (nothing half-made);
#
# every malformed connector must end up one or the other. The valid
# connector gets exactly its children and an observed status; the
# operator stays up and its log shows no crash or sanitizer report.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

T0=$SECONDS
VALID=valid-both
NAME_LABEL=connectors.virtual-kubelet.io/name

# ClusterRoleBindings are cluster-scoped and outlive the namespace: they
# go once the operator has stopped (it would put them back)
# shellcheck disable=SC2154 # rc and p are assigned inside the trap
trap 'rc=$?; set +e
	for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
	(exit $rc); cleanup' EXIT

PROBLEMS=()
problem() {
	log "PROBLEM: $*"
	PROBLEMS+=("$*")
}

# The cases: one JSON manifest per line of $WORK/cases, "NAME<TAB>JSON".
# A case is a spec (merged over {location: eastus} unless it says
# "location") or, under "object", a whole manifest.
python3 - >"$WORK/cases" <<'PY'
import json
API = "connectors.virtual-kubelet.io/v1alpha1"
cases = []
def spec(name, s, base=True):
    if base and isinstance(s, dict) and "location" not in s:
        s = dict(s, location="eastus")
    cases.append((name, {"apiVersion": API, "kind": "VirtualKubeletConnector",
                         "metadata": {"name": name}, "spec": s}))
def obj(name, o):
    cases.append((name, o))
long_prefix = ".".join(c * 60 for c in "abcde") + "/provider"   # 304 characters
# -- wrong types and values the schema refuses
spec("spec-string", "Linux", False)
spec("spec-list", [1, 2], False)
spec("spec-null-location", {"location": None})
spec("ostype-number", {"osType": 3})
spec("ostype-lower", {"osType": "linux"})
spec("location-number", {"location": 42})
spec("location-object", {"location": {"name": "eastus"}})
spec("location-list", {"location": ["eastus"]})
spec("location-nul", {"location": "east\u0000us"})
spec("location-unicode", {"location": "\u0112ast \u00dcS"})
spec("location-printf", {"location": "%s%n%x%p"})
spec("location-too-long", {"location": "a" * 65})
spec("drain-timeout-string", {"removal": {"drainTimeoutSeconds": "30"}})
spec("drain-timeout-float", {"removal": {"drainTimeoutSeconds": 1.5}})
spec("drain-timeout-huge", {"removal": {"drainTimeoutSeconds": 99999999999}})
spec("drain-string", {"removal": {"drain": "yes"}})
spec("paused-number", {"paused": 1})
spec("limit-float", {"resources": {"limits": {"cpu": 0.5}}})
spec("limit-bool", {"resources": {"limits": {"cpu": True}}})
spec("limit-object", {"resources": {"limits": {"cpu": {"value": 1}}}})
spec("limit-huge-int", {"resources": {"limits": {"cpu": 99999999999999999999}}})
spec("claims-string", {"resources": {"claims": "gpu"}})
spec("tag-nul", {"image": {"tag": "1.6\u0000evil"}})
spec("repository-space", {"image": {"repository": "mcr.microsoft.com/virtual kubelet"}})
spec("taint-key-unicode", {"taint": {"key": "\u043a\u043b\u044e\u0447"}})
spec("taint-value-long", {"taint": {"value": "v" * 64}})
spec("secret-name-null", {"credentials": {"secretRef": {"name": None}}})
spec("master-uri-userinfo", {"masterUri": "https://user@example.com"})
spec("master-uri-printf", {"masterUri": "https://%41%n%s"})
spec("role-name-slash", {"rbac": {"clusterRoleName": "a/b"}})
spec("subscription-not-guid", {"subscriptionId": "%s%s%s%s"})
spec("dns-ip-bad", {"network": {"subnetName": "aci", "subnetCidr": "10.241.0.0/16", "kubeDnsIp": "999.0.0.1"}})
spec("unknown-field", {"bogus": 1})
spec("credentials-both", {"credentials": {"secretRef": {"name": "sp"}, "managedIdentityClientId": "00000000-0000-0000-0000-000000000000"}})
spec("network-windows", {"osType": "Windows", "network": {"subnetName": "aci", "subnetCidr": "10.241.0.0/16"}})
spec("subnet-cidr-host-bits", {"network": {"subnetName": "aci", "subnetCidr": "10.241.0.1/16"}})
obj("BadUpperName", {"apiVersion": API, "kind": "VirtualKubeletConnector",
                     "metadata": {"name": "BadUpperName"}, "spec": {"location": "eastus"}})
# -- admitted, semantically bad: the operator must report them
spec("n" * 63, {})                                        # release name too long
spec("both-" + "b" * 44, {"osType": "Both"})              # only the Windows release is too long
spec("long-location", {"location": "West Central US West Central US West Central US West Central"})
spec("dotted.name", {})
spec("x" * 200, {"osType": "Windows"})
spec("missing-secret", {"credentials": {"secretRef": {"name": "does-not-exist"}}})
spec("secret-no-clientsecret", {"credentials": {"secretRef": {"name": "half-secret"}}})
spec("secret-empty-clientid", {"credentials": {"secretRef": {"name": "empty-id"}}})
spec("secret-of-other-type", {"credentials": {"secretRef": {"name": "tls-secret"}}})
spec("requests-over-limits", {"resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}}})
spec("negative-limit", {"resources": {"limits": {"memory": "-1Gi"}}})
spec("unknown-resource", {"resources": {"limits": {"bogus": "1"}}})
spec("many-unknown-resources", {"resources": {"limits": {"r%03d" % i: "1" for i in range(100)}}})
spec("unicode-resource", {"resources": {"limits": {"\u043a\u043b\u044e\u0447": "1"}}})
spec("printf-resource", {"resources": {"requests": {"%s%n%s%n": "1"}}})
spec("hugepages-alone", {"resources": {"limits": {"hugepages-2Mi": "1Gi"}}})
spec("taint-key-long-prefix", {"taint": {"key": long_prefix}})
spec("bind-cluster-admin", {"rbac": {"clusterRoleName": "cluster-admin"}})
spec("bind-missing-role", {"rbac": {"clusterRoleName": "no-such-role"}})
spec("repository-upper-case", {"image": {"repository": "MCR.microsoft.com/OSS/Virtual-Kubelet"}})
for name, o in cases:
    print("%s\t%s" % (name, json.dumps(o)))
PY
CASES=$(wc -l <"$WORK/cases")

install_crd
install_connector_role
new_namespace
kubectl create secret generic half-secret -n "$NS" \
    --from-literal=clientId=00000000-0000-0000-0000-00000000000a >/dev/null
kubectl create secret generic empty-id -n "$NS" --from-literal=clientId= \
    --from-literal=clientSecret=s3cr3t >/dev/null
# a Secret of another type, without the keys credentials need
kubectl apply -n "$NS" -f - >/dev/null 2>&1 <<'EOS'
{"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
 "metadata": {"name": "tls-secret"}, "data": {"tls.crt": "eA==", "tls.key": "eQ=="}}
EOS
start_operator
kubectl apply -n "$NS" -f - >/dev/null <<EOC
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: $VALID
spec:
  osType: Both
  location: eastus
EOC

log "applying $CASES malformed connectors"
REJECTED=()
ADMITTED=()
while IFS=$'\t' read -r name json; do
	if out=$(printf '%s' "$json" | kubectl create -n "$NS" -f - 2>&1); then
		ADMITTED+=("$name")
	else
		case $out in
		*"is invalid"* | *BadRequest* | *"strict decoding error"* | *"unknown field"* | *"must be no more than"*) ;;
		*) problem "${name:0:40}: refused, but not by admission: $out" ;;
		esac
		absent vkc "$name" -n "$NS" || problem "${name:0:40}: stored although refused"
		REJECTED+=("$name")
		printf '%s\t%s\n' "${name:0:40}" "$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-150)" >>"$WORK/rejected"
	fi
done <"$WORK/cases"
log "${#REJECTED[@]} rejected at admission, ${#ADMITTED[@]} admitted"
[ "$CASES" -ge 50 ] || fail "only $CASES cases"

ready() {
	kubectl get vkc "$1" -n "$NS" \
	    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}/{.status.observedGeneration}/{.metadata.generation}'
}
# reported NAME: Ready=False with a failure reason, observed at the
# current generation
reported() {
	local r
	r=$(ready "$1") || return 1
	IFS=/ read -r st reason og gen <<<"$r"
	[ "$st" = False ] && [ -n "$reason" ] && [ "$og" = "$gen" ] &&
	    case $reason in Ready | DeploymentNotAvailable | NodeNotReady | Reconciling | "") false ;; *) true ;; esac
}
log "each admitted malformed connector is reported"
deadline=$((SECONDS + 90))
pending=("${ADMITTED[@]}")
while [ ${#pending[@]} -gt 0 ] && [ $SECONDS -lt $deadline ]; do
	still=()
	for name in "${pending[@]}"; do
		reported "$name" 2>/dev/null || still+=("$name")
	done
	pending=("${still[@]+"${still[@]}"}")
	[ ${#pending[@]} -eq 0 ] || sleep 1
done
for name in "${pending[@]+"${pending[@]}"}"; do
	problem "${name:0:40}: admitted and not reported: Ready status/reason/observedGeneration/generation = $(ready "$name"): $(jget vkc "$name" '{.status.conditions[?(@.type=="Ready")].message}' -n "$NS")"
done

events() {
	kubectl get events -n "$NS" --field-selector "involvedObject.kind=VirtualKubeletConnector,involvedObject.name=$1,type=Warning" \
	    -o 'jsonpath={range .items[*]}{.reason}{"\n"}{end}'
}
# let any pass that would wrongly create something do so before looking
sleep 3
log "a Warning Event with the reason, and no child, for each"
for name in "${ADMITTED[@]}"; do
	reason=$(jget vkc "$name" '{.status.conditions[?(@.type=="Ready")].reason}' -n "$NS" 2>&1) ||
		{ problem "${name:0:40}: cannot read its status: $reason"; continue; }
	printf '%s\t%s\t%s\n' "${name:0:40}" "$reason" "$(jget vkc "$name" '{.status.conditions[?(@.type=="Ready")].message}' -n "$NS" | cut -c1-150)" >>"$WORK/reported"
	if reported "$name"; then
		eventually 10 bash -c "kubectl get events -n '$NS' --field-selector 'involvedObject.kind=VirtualKubeletConnector,involvedObject.name=$name,type=Warning,reason=$reason' -o name | grep -q ." ||
			problem "${name:0:40}: no Warning Event with reason $reason (its Warning Events: $(events "$name" | sort -u | tr '\n' ' '))"
	fi
	kids=$( {
		kubectl get deployments,serviceaccounts,secrets -n "$NS" -l "$NAME_LABEL=$name" -o name 2>/dev/null
		kubectl get clusterrolebindings -l "$NAME_LABEL=$name,connectors.virtual-kubelet.io/namespace=$NS" -o name 2>/dev/null
	} | tr '\n' ' ' || true)
	# a name over 63 characters is no label value: look by name too
	kids+=$(kubectl get deployments,serviceaccounts,secrets -n "$NS" -o name | grep -F "/$name-" | tr '\n' ' ' || true)
	kids+=$(kubectl get clusterrolebindings -o name | grep -F "/vkc-$NS-$name-" | tr '\n' ' ' || true)
	kids=$(printf '%s\n' $kids | sort -u | tr '\n' ' ')
	[ -z "${kids// /}" ] || problem "${name:0:40}: half-made, children exist: $kids"
done
log "rejected at admission:"
cat "$WORK/rejected" >&2 || true
log "reported by the operator (name, reason, message):"
cat "$WORK/reported" >&2 || true

log "the valid connector beside them is reconciled"
valid_ok() {
	local r os kind
	r=$(ready "$VALID") || return 1
	IFS=/ read -r st reason og gen <<<"$r"
	[ "$reason" = DeploymentNotAvailable ] && [ "$og" = "$gen" ] || return 1
	for os in linux windows; do
		for kind in deployment serviceaccount; do
			kubectl get "$kind" "$VALID-$os-eastus" -n "$NS" >/dev/null || return 1
		done
		kubectl get secret "$VALID-$os-eastus-tls" -n "$NS" >/dev/null || return 1
		kubectl get clusterrolebinding "vkc-$NS-$VALID-$os-eastus" >/dev/null || return 1
	done
	[ "$(kubectl get deployments,serviceaccounts,secrets -n "$NS" -l "$NAME_LABEL=$VALID" -o name | wc -l)" -eq 6 ]
}
eventually 60 valid_ok || problem "the valid connector was not reconciled: $(ready "$VALID")"

kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator exited"
if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|Assertion .* failed|double free' \
    "$WORK/operator-0.log" >&2; then
	fail "the operator's log shows a crash or sanitizer report"
fi
log "total $((SECONDS - T0)) s"
[ ${#PROBLEMS[@]} -eq 0 ] ||
	fail "${#PROBLEMS[@]} problems:
$(printf '  - %s\n' "${PROBLEMS[@]}")"
