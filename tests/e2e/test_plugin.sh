#!/usr/bin/env bash
# test_plugin.sh: the kubectl plugin, through kubectl's plugin mechanism
# (`kubectl vkc ...` with kubectl-vkc first on PATH), against the real
# apiserver and a running operator: render with no cluster at all, the
# az-style install of a Both connector with a service principal, the
# shrink to Windows by remove-connector --os-type Linux, the removal of
# the rest, and the messages for retired and incomplete flags.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

PLUGIN=${VKC_PLUGIN:-$BUILD/kubectl-vkc}
[ -x "$PLUGIN" ] || fail "no plugin binary at '$PLUGIN': build the kubectl-vkc target or set VKC_PLUGIN"
# kubectl finds plugins on PATH by their file name: put exactly this
# binary first
mkdir -p "$WORK/bin"
ln -s "$(cd "$(dirname "$PLUGIN")" && pwd)/$(basename "$PLUGIN")" \
    "$WORK/bin/kubectl-vkc"
PATH="$WORK/bin:$PATH"
export PATH
found=$(kubectl plugin list 2>/dev/null | grep -m1 'kubectl-vkc$' || true)
expect_eq "$found" "$WORK/bin/kubectl-vkc" "kubectl plugin list"

SP_ID=0b6c4a2e-5f0d-4a57-9b1e-7e3c5d9f1a20
SP_SECRET="pl-secret-$RANDOM$RANDOM-do-not-print"
NAME=virtual-kubelet
LINUX=virtual-kubelet-linux-eastus
WINDOWS=virtual-kubelet-windows-eastus

install_crd
new_namespace

log "version and help"
expect_contains "$(kubectl vkc version)" "kubectl-vkc " "version"
out=$(kubectl vkc install-connector --help) || fail "install-connector --help: exit $?"
expect_contains "$out" "--service-principal" "install-connector --help"
expect_contains "$out" "--client-secret" "install-connector --help"

log "render works with no cluster and no kubeconfig"
rc=0
KUBECONFIG=/nonexistent kubectl vkc render --connector-name "$NAME" \
    --os-type Both --location "East US" -n "$NS" >"$WORK/render.yaml" \
    2>"$WORK/render.err" || rc=$?
expect_eq "$rc" 0 "render exit code ($(cat "$WORK/render.err"))"
for want in "kind: VirtualKubeletConnector" "kind: ServiceAccount" \
    "kind: ClusterRoleBinding" "name: $LINUX" "name: $WINDOWS" \
    "name: $LINUX-tls" "name: vkc-$NS-$WINDOWS" \
    "virtual-kubelet-virtual-kubelet-windows-eastus" "value: eastus"; do
	expect_contains "$(cat "$WORK/render.yaml")" "$want" "render output"
done
expect_eq "$(grep -c '^kind: Deployment$' "$WORK/render.yaml")" 2 \
    "Deployments rendered"
expect_eq "$(grep -c '^type: kubernetes.io/tls$' "$WORK/render.yaml")" 2 \
    "TLS Secrets rendered"
out=$(kubectl apply --dry-run=server -n "$NS" -f "$WORK/render.yaml" 2>&1) ||
	fail "render output rejected by the apiserver: $out"
expect_contains "$out" "deployment.apps/$WINDOWS created (server dry run)" \
    "server dry run of the render output"
expect_contains "$out" "virtualkubeletconnector.connectors.virtual-kubelet.io/$NAME created (server dry run)" \
    "server dry run of the render output"
absent vkc "$NAME" -n "$NS" || fail "render or the dry run created the connector"

log "render without --location says why it needs one"
rc=0
out=$(KUBECONFIG=/nonexistent kubectl vkc render --connector-name "$NAME" 2>&1) || rc=$?
expect_eq "$rc" 2 "render without --location: exit code"
expect_contains "$out" "--location" "render without --location"

log "retired --chart-url explains what replaced it"
rc=0
out=$(kubectl vkc install-connector --connector-name "$NAME" \
    --chart-url https://example.com/virtual-kubelet-for-aks-latest.tgz 2>&1) || rc=$?
expect_eq "$rc" 2 "--chart-url: exit code"
expect_contains "$out" "the Helm chart is gone: the operator renders the Deployment; use --image-tag/--image-repository" \
    "--chart-url message"

log "az's cluster flags explain the kubeconfig context"
rc=0
out=$(kubectl vkc install-connector -g myResourceGroup --name myAKSCluster 2>&1) || rc=$?
expect_eq "$rc" 2 "-g/--name: exit code"
expect_contains "$out" "az aks get-credentials" "-g message"

log "--service-principal without --client-secret gives az's message"
rc=0
out=$(kubectl vkc install-connector -n "$NS" --connector-name "$NAME" \
    --service-principal "$SP_ID" 2>&1) || rc=$?
expect_eq "$rc" 2 "missing --client-secret: exit code"
expect_contains "$out" "--client-secret must be specified when --service-principal is specified" \
    "missing --client-secret message"
absent vkc "$NAME" -n "$NS" || fail "a connector was created without --client-secret"

log "an invalid --connector-name gives az's message"
rc=0
out=$(kubectl vkc install-connector -n "$NS" --connector-name "-bad-" 2>&1) || rc=$?
expect_eq "$rc" 2 "bad --connector-name: exit code"
expect_contains "$out" "--connector-name must consist of lower case alphanumeric characters or dashes (-), and must start and end with alphanumeric characters." \
    "bad --connector-name message"

log "an unknown flag gives usage and a hint"
rc=0
out=$(kubectl vkc install-connector --imagetag 1.6.4 2>&1) || rc=$?
expect_eq "$rc" 2 "unknown flag: exit code"
expect_contains "$out" "did you mean --image-tag?" "unknown flag hint"

log "the dry run prints the Secret and the connector without a cluster"
out=$(KUBECONFIG=/nonexistent kubectl vkc install-connector --dry-run=client \
    -o yaml -n "$NS" --connector-name "$NAME" --os-type Both \
    --location eastus --service-principal "$SP_ID" \
    --client-secret "$SP_SECRET") || fail "install-connector --dry-run: exit $?"
expect_contains "$out" "kind: Secret" "dry run"
expect_contains "$out" "clientSecret: $SP_SECRET" "dry run Secret"
expect_contains "$out" "name: $NAME-credentials" "dry run secretRef"
absent vkc "$NAME" -n "$NS" || fail "the dry run created the connector"

start_operator

log "install-connector Both with a service principal"
rc=0
kubectl vkc install-connector -n "$NS" --connector-name Virtual-Kubelet \
    --os-type Both --location "East US" --service-principal "$SP_ID" \
    --client-secret "$SP_SECRET" --timeout 60s >"$WORK/install.out" \
    2>"$WORK/install.err" || rc=$?
expect_eq "$rc" 0 "install-connector exit code ($(cat "$WORK/install.err"))"
install_out=$(cat "$WORK/install.out" "$WORK/install.err")
case $install_out in
*"$SP_SECRET"*) fail "install-connector printed the client secret" ;;
esac
expect_contains "$install_out" "location: eastus" "install summary"
expect_contains "$install_out" "kubernetes.io/os: windows" "install summary scheduling"
expect_contains "$install_out" "key: virtual-kubelet.io/provider" "install summary tolerations"
eventually 30 kubectl get deployment "$LINUX" -n "$NS" ||
	fail "Deployment $LINUX not created"
eventually 30 kubectl get deployment "$WINDOWS" -n "$NS" ||
	fail "Deployment $WINDOWS not created"
expect_eq "$(jget secret "$NAME-credentials" '{.data.clientSecret}' -n "$NS" | base64 -d)" \
    "$SP_SECRET" "Secret clientSecret"
expect_eq "$(jget secret "$NAME-credentials" '{.data.clientId}' -n "$NS" | base64 -d)" \
    "$SP_ID" "Secret clientId"
expect_eq "$(jget secret "$NAME-credentials" '{.metadata.labels.app\.kubernetes\.io/managed-by}' -n "$NS")" \
    kubectl-vkc "Secret managed-by label"
expect_eq "$(jget vkc "$NAME" '{.spec.credentials.secretRef.name}' -n "$NS")" \
    "$NAME-credentials" "connector secretRef"
conn=$(kubectl get vkc "$NAME" -n "$NS" -o json)
case $conn in
*"$SP_SECRET"*) fail "the connector object holds the client secret" ;;
esac
expect_eq "$(jget vkc "$NAME" '{.spec.osType}' -n "$NS")" Both "osType"
expect_contains "$(kubectl get vkc "$NAME" -n "$NS" -o 'jsonpath={.metadata.managedFields[*].manager}')" \
    kubectl-vkc "field manager"
env_secret=$(jget deployment "$LINUX" \
    '{.spec.template.spec.containers[0].env[?(@.name=="AZURE_CLIENT_SECRET")].valueFrom.secretKeyRef.name}' -n "$NS")
expect_eq "$env_secret" "$NAME-credentials" "AZURE_CLIENT_SECRET secretKeyRef"

log "render gives the Deployments the operator made"
KUBECONFIG=/nonexistent kubectl vkc render -o json -n "$NS" \
    --connector-name "$NAME" --os-type Both --location "East US" \
    --service-principal "$SP_ID" --client-secret "$SP_SECRET" \
    >"$WORK/render.json" 2>/dev/null || fail "render -o json: exit $?"
for dep in "$LINUX" "$WINDOWS"; do
	kubectl get deployment "$dep" -n "$NS" -o json >"$WORK/live.json"
	diff=$(python3 - "$WORK/render.json" "$WORK/live.json" "$dep" <<'EOF'
import json, sys
rendered = json.load(open(sys.argv[1]))
live = json.load(open(sys.argv[2]))
want = [o for o in rendered["items"]
        if o["kind"] == "Deployment" and o["metadata"]["name"] == sys.argv[3]]
if len(want) != 1:
    print("not rendered")
    sys.exit()
bad = []
def subset(w, h, path):
    if isinstance(w, dict):
        if not isinstance(h, dict):
            bad.append(path)
            return
        for k, v in w.items():
            subset(v, h.get(k), path + "." + k)
    elif isinstance(w, list):
        if not isinstance(h, list) or len(w) != len(h):
            bad.append(path)
            return
        for i, (a, b) in enumerate(zip(w, h)):
            subset(a, b, "%s[%d]" % (path, i))
    elif w != h:
        bad.append(path)
subset(want[0]["spec"], live["spec"], "spec")
subset(want[0]["metadata"]["labels"], live["metadata"]["labels"], "labels")
print(" ".join(bad))
EOF
)
	expect_eq "$diff" "" "rendered Deployment $dep differs from the live one at"
done

log "install-connector again refuses and points at upgrade-connector"
rc=0
out=$(kubectl vkc install-connector -n "$NS" --connector-name "$NAME" 2>&1) || rc=$?
expect_eq "$rc" 1 "second install: exit code"
expect_contains "$out" "upgrade-connector" "second install hint"

log "list shows the connector"
out=$(kubectl vkc list -n "$NS") || fail "list: exit $?"
expect_contains "$out" "NAME" "list header"
line=$(printf '%s\n' "$out" | grep "^$NAME " || true)
expect_contains "$line" "Both" "list OS"
expect_contains "$line" "eastus" "list LOCATION"

log "upgrade-connector changes the image tag and keeps the rest"
kubectl vkc upgrade-connector -n "$NS" --connector-name "$NAME" \
    --image-tag 1.6.5 --timeout 60s >/dev/null || fail "upgrade-connector: exit $?"
expect_eq "$(jget vkc "$NAME" '{.spec.osType}' -n "$NS")" Both "osType after upgrade"
expect_eq "$(jget vkc "$NAME" '{.spec.credentials.secretRef.name}' -n "$NS")" \
    "$NAME-credentials" "secretRef after upgrade"
image_is() {
	[ "$(jget deployment "$1" '{.spec.template.spec.containers[0].image}' -n "$NS")" = \
	    "mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet:$2" ]
}
eventually 30 image_is "$WINDOWS" 1.6.5 || fail "Windows Deployment not upgraded"

log "remove-connector --os-type Linux shrinks the connector to Windows"
kubectl vkc remove-connector -n "$NS" --connector-name "$NAME" \
    --os-type Linux --timeout 60s >"$WORK/remove1.out" ||
	fail "remove-connector --os-type Linux: exit $?"
expect_contains "$(cat "$WORK/remove1.out")" "$LINUX" "remove Linux report"
expect_contains "$(cat "$WORK/remove1.out")" "virtual-kubelet-$LINUX" \
    "remove Linux report (node)"
absent deployment "$LINUX" -n "$NS" || fail "Deployment $LINUX still exists"
kubectl get deployment "$WINDOWS" -n "$NS" >/dev/null 2>&1 ||
	fail "Deployment $WINDOWS was removed with Linux"
expect_eq "$(jget vkc "$NAME" '{.spec.osType}' -n "$NS")" Windows "osType after shrink"
kubectl get secret "$NAME-credentials" -n "$NS" >/dev/null 2>&1 ||
	fail "the credentials Secret went with the Linux part"

log "remove-connector with the default --os-type Linux has nothing left to remove"
rc=0
out=$(kubectl vkc remove-connector -n "$NS" --connector-name "$NAME" 2>&1) || rc=$?
expect_eq "$rc" 1 "remove Linux again: exit code"
expect_contains "$out" "--os-type Windows" "remove Linux again hint"

log "remove-connector --os-type Windows removes the rest"
kubectl vkc remove-connector -n "$NS" --connector-name "$NAME" \
    --os-type Windows --timeout 60s >"$WORK/remove2.out" ||
	fail "remove-connector --os-type Windows: exit $?"
expect_contains "$(cat "$WORK/remove2.out")" "$WINDOWS" "remove Windows report"
absent vkc "$NAME" -n "$NS" || fail "connector still exists"
absent deployment "$WINDOWS" -n "$NS" || fail "Deployment $WINDOWS still exists"
absent secret "$NAME-credentials" -n "$NS" || fail "credentials Secret still exists"

log "upgrade-connector of a missing connector says how to create it"
rc=0
out=$(kubectl vkc upgrade-connector -n "$NS" --connector-name "$NAME" 2>&1) || rc=$?
expect_eq "$rc" 1 "upgrade of a missing connector: exit code"
expect_contains "$out" "install-connector" "upgrade of a missing connector hint"
