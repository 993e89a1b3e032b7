#!/usr/bin/env bash
# Credentials: a connector naming a missing Secret reports
# CredentialsNotFound (condition and Event) and creates nothing; once the
# Secret exists the Deployment references it by secretKeyRef (the value is
# never copied); rotating the Secret changes the pod template's
# credentials-hash (so the connector rolls); deleting the Secret reports
# CredentialsNotFound again but leaves the running connector as it is.
source "$(dirname "$0")/lib.sh"

install_crd
install_connector_role
new_namespace
start_operator

name=sp
dep="$name-linux-eastus"
kubectl apply -n "$NS" -f - >/dev/null <<EOF2
apiVersion: connectors.virtual-kubelet.io/v1alpha1
kind: VirtualKubeletConnector
metadata:
  name: $name
spec:
  location: eastus
  credentials:
    secretRef:
      name: sp-credentials
EOF2
reason() { jget vkc "$name" '{.status.conditions[?(@.type=="Ready")].reason}' -n "$NS"; }
eventually_eq 30 CredentialsNotFound reason ||
	fail "Ready reason is '$(reason)', want CredentialsNotFound"
expect_contains "$(jget vkc "$name" '{.status.conditions[?(@.type=="Ready")].message}' -n "$NS")" \
    "sp-credentials" "condition message"
has_event() {
	kubectl get events -n "$NS" --field-selector "reason=$1,type=Warning" -o name | grep -q .
}
eventually 30 has_event CredentialsNotFound || fail "no CredentialsNotFound Event"
absent deployment "$dep" -n "$NS" || fail "a Deployment was created without credentials"

log "the Secret appears"
kubectl create secret generic sp-credentials -n "$NS" \
    --from-literal=clientId=11111111-2222-3333-4444-555555555555 \
    --from-literal=clientSecret=first-secret-value >/dev/null
eventually 30 kubectl get -n "$NS" deployment "$dep" || fail "no Deployment once the Secret exists"
env=$(jget deployment "$dep" '{.spec.template.spec.containers[0].env}' -n "$NS")
expect_contains "$env" '"name":"AZURE_CLIENT_SECRET","valueFrom":{"secretKeyRef":{"key":"clientSecret","name":"sp-credentials"' \
    "AZURE_CLIENT_SECRET by secretKeyRef"
expect_contains "$env" '"name":"AZURE_CLIENT_ID","valueFrom":{"secretKeyRef":{"key":"clientId","name":"sp-credentials"' \
    "AZURE_CLIENT_ID by secretKeyRef"
case $(kubectl get -n "$NS" deployment "$dep" -o json) in
*first-secret-value*) fail "the secret value was copied into the Deployment" ;;
esac
hash1=$(jget deployment "$dep" '{.spec.template.metadata.annotations.connectors\.virtual-kubelet\.io/credentials-hash}' -n "$NS")
[ ${#hash1} -eq 64 ] || fail "credentials-hash '$hash1' is not a SHA-256"
eventually_ne 30 CredentialsNotFound reason || fail "CredentialsNotFound stayed"

log "rotating the client secret rolls the connector"
kubectl create secret generic sp-credentials -n "$NS" \
    --from-literal=clientId=11111111-2222-3333-4444-555555555555 \
    --from-literal=clientSecret=rotated-secret-value --dry-run=client -o yaml --save-config |
	kubectl apply -f - >/dev/null
hash() { jget deployment "$dep" '{.spec.template.metadata.annotations.connectors\.virtual-kubelet\.io/credentials-hash}' -n "$NS"; }
eventually_ne 30 "$hash1" hash || fail "the pod template did not change after rotation"
hash2=$(hash)

log "the Secret is deleted: reported, the running connector is kept"
kubectl delete secret sp-credentials -n "$NS" >/dev/null
eventually_eq 30 CredentialsNotFound reason ||
	fail "Ready reason is '$(reason)' after the Secret was deleted"
kubectl get -n "$NS" deployment "$dep" >/dev/null || fail "the running Deployment was removed"
expect_eq "$(hash)" "$hash2" "the running Deployment's template"

log "a Secret without clientSecret is reported too"
kubectl create secret generic sp-credentials -n "$NS" \
    --from-literal=clientId=11111111-2222-3333-4444-555555555555 >/dev/null
eventually 30 bash -c "kubectl get vkc $name -n $NS -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].message}' | grep -q clientSecret" ||
	fail "no message about the missing clientSecret key"
