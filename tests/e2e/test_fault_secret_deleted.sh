#!/usr/bin/env bash
# test_fault_secret_deleted.sh: issue 7's fourth fault. A connector's
# credentials Secret is deleted right as the connector is created (seven
# timings, from before the operator can have seen the connector to well
# after) or updated (four timings), and deleted and recreated in quick
# succession while the connector changes. Each time:
#
# - while the Secret is gone the operator reports it: Ready=False with
#   reason CredentialsNotFound and a Warning Event of that reason;
# - the children are then all there or none is (a pass the deletion
#   raced finishes the release it started; nothing half-made); on an
#   update the running connector is left as it is (children kept);
# - once the Secret is recreated the connector converges: exactly its
#   children, the spec's image, status observed, CredentialsNotFound gone;
# - the operator never crashes and its log holds no sanitizer report.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
T0=$SECONDS

# ClusterRoleBindings are cluster-scoped and outlive the namespace: they
# go once the operator has stopped (it would put them back)
# shellcheck disable=SC2154 # rc and p are assigned inside the trap
trap 'rc=$?; set +e
	for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
	(exit $rc); cleanup' EXIT

# converged: every live connector has exactly its children, matching its
# spec, with its status observed; nothing is left of a connector that is
# gone or of a release no longer desired. Prints what is wrong.
converged() {
	python3 - "$NS" <<'EOF'
import json, subprocess, sys
ns = sys.argv[1]
NAME = "connectors.virtual-kubelet.io/name"
FIN = "connectors.virtual-kubelet.io/cleanup"
def get(*args):
    out = subprocess.check_output(["kubectl", "get", *args, "-o", "json"])
    return json.loads(out)["items"]
conns = get("vkc", "-n", ns)
kinds = {
    "Deployment": get("deployments", "-n", ns, "-l", NAME),
    "ServiceAccount": get("serviceaccounts", "-n", ns, "-l", NAME),
    "Secret": get("secrets", "-n", ns, "-l", NAME),
    "ClusterRoleBinding": get("clusterrolebindings", "-l",
                              "connectors.virtual-kubelet.io/namespace=" + ns),
    "Pod": get("pods", "-n", ns, "-l", NAME),
}
def child(kind, rel):
    return {"Deployment": rel, "ServiceAccount": rel, "Secret": rel + "-tls",
            "ClusterRoleBinding": "vkc-%s-%s" % (ns, rel)}[kind]
def releases(c):
    spec = c.get("spec") or {}
    loc = spec.get("location", "").replace(" ", "").lower()
    oses = {"Linux": ["linux"], "Windows": ["windows"],
            "Both": ["linux", "windows"]}[spec.get("osType", "Linux")]
    return ["%s-%s-%s" % (c["metadata"]["name"], o, loc) for o in oses]
problems, live = [], {}
for c in conns:
    if c["metadata"].get("deletionTimestamp"):
        problems.append("%s: deletion not finished" % c["metadata"]["name"])
    else:
        live[c["metadata"]["name"]] = c
owned = {}
for kind, items in kinds.items():
    for o in items:
        labels = o["metadata"].get("labels") or {}
        owner = labels.get(NAME)
        owned.setdefault((kind, owner), []).append(o)
        if owner not in live:
            problems.append("orphan %s %s (connector %s is gone)" %
                            (kind, o["metadata"]["name"], owner))
        elif kind == "Pod" and labels.get("app.kubernetes.io/instance") not in releases(live[owner]):
            problems.append("orphan Pod %s of release %s, no longer desired" %
                            (o["metadata"]["name"], labels.get("app.kubernetes.io/instance")))
children = 0
for name, c in sorted(live.items()):
    m, spec, st = c["metadata"], c.get("spec") or {}, c.get("status") or {}
    rels = releases(c)
    if FIN not in (m.get("finalizers") or []):
        problems.append("%s: no finalizer" % name)
    gen = m.get("generation")
    if st.get("observedGeneration") != gen:
        problems.append("%s: status.observedGeneration %s, generation %s" %
                        (name, st.get("observedGeneration"), gen))
    ready = [x for x in st.get("conditions") or [] if x.get("type") == "Ready"]
    if not ready or ready[0].get("observedGeneration") != gen:
        problems.append("%s: Ready not observed at generation %s" % (name, gen))
    elif ready[0].get("reason") not in ("Ready", "DeploymentNotAvailable", "NodeNotReady"):
        problems.append("%s: Ready reason %s: %s" % (name, ready[0].get("reason"),
                                                     ready[0].get("message")))
    img = spec.get("image") or {}
    image = "%s:%s" % (img.get("repository", "mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet"),
                       img.get("tag", "1.6.4"))
    for kind in ("Deployment", "ServiceAccount", "Secret", "ClusterRoleBinding"):
        objs = owned.get((kind, name), [])
        children += len(objs)
        got = sorted(o["metadata"]["name"] for o in objs)
        want = sorted(child(kind, r) for r in rels)
        if got != want:
            problems.append("%s: %s children %s, want %s" % (name, kind, got, want))
        for o in objs:
            if o["metadata"].get("deletionTimestamp"):
                problems.append("%s: %s %s is being deleted" % (name, kind, o["metadata"]["name"]))
            if kind == "Deployment":
                imgs = [x.get("image") for x in o["spec"]["template"]["spec"]["containers"]]
                if image not in imgs:
                    problems.append("%s: Deployment %s runs %s, want %s" %
                                    (name, o["metadata"]["name"], imgs, image))
for p in problems[:25]:
    print("  " + p)
if len(problems) > 25:
    print("  ... and %d more" % (len(problems) - 25))
print("%d live connectors, %d children, %d problems" % (len(live), children, len(problems)))
sys.exit(1 if problems else 0)
EOF
}

secret() { # NAME [SECRET-VALUE]
	# (applied: a create that client-go retries after a timeout would
	# find its own first attempt)
	kubectl create secret generic "$1" -n "$NS" --dry-run=client -o json \
	    --from-literal=clientId=11111111-2222-3333-4444-555555555555 \
	    --from-literal=clientSecret="${2:-s3cr3t}" | kubectl apply -n "$NS" -f - >/dev/null
}

connector() { # NAME SECRET [TAG]
	kubectl apply -n "$NS" -f - >/dev/null <<EOC
apiVersion: $API
kind: VirtualKubeletConnector
metadata:
  name: $1
spec:
  osType: Both
  location: eastus
  image:
    tag: "${3:-1.6.4}"
  credentials:
    secretRef:
      name: $2
EOC
}

ready_reason() { jget vkc "$1" '{.status.conditions[?(@.type=="Ready")].reason}' -n "$NS"; }
reason_is() { [ "$(ready_reason "$1")" = "$2" ]; }
children_are() { [ "$(children "$1")" = "$2" ]; }

# children NAME: prints "none", "all" or "partial: <what exists>" for a
# Both connector in eastus.
children() {
	local name=$1 want have
	want="deployment/$name-linux-eastus deployment/$name-windows-eastus"
	want+=" secret/$name-linux-eastus-tls secret/$name-windows-eastus-tls"
	want+=" serviceaccount/$name-linux-eastus serviceaccount/$name-windows-eastus"
	want+=" clusterrolebinding/vkc-$NS-$name-linux-eastus clusterrolebinding/vkc-$NS-$name-windows-eastus"
	have=$( {
		kubectl get deployments,secrets,serviceaccounts -n "$NS" -l "connectors.virtual-kubelet.io/name=$name" -o name
		kubectl get clusterrolebindings -l "connectors.virtual-kubelet.io/name=$name,connectors.virtual-kubelet.io/namespace=$NS" -o name
	} | sed 's,\.[a-z0-9.]*/,/,' | sort | tr '\n' ' ')
	want=$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ')
	if [ -z "${have// /}" ]; then
		echo none
	elif [ "$have" = "$want" ]; then
		echo all
	else
		echo "partial: $have"
	fi
}

warning_event() {
	kubectl get events -n "$NS" -o name --field-selector \
	    "involvedObject.name=$1,involvedObject.kind=VirtualKubeletConnector,type=Warning,reason=CredentialsNotFound" |
	    grep -q .
}

PROBLEMS=()
problem() {
	log "PROBLEM: $*"
	PROBLEMS+=("$*")
}

# reported NAME WHEN: the Secret is gone; the operator must say so, and
# the children must be all there or none.
reported() {
	local name=$1 when=$2 state
	eventually 30 reason_is "$name" CredentialsNotFound ||
		{ problem "$name ($when): Ready reason '$(ready_reason "$name")', want CredentialsNotFound"; return; }
	eventually 15 warning_event "$name" || problem "$name ($when): no CredentialsNotFound Warning Event"
	# let any pass that raced the deletion finish what it started
	sleep 1
	state=$(children "$name")
	case $state in
	none | all) log "$name ($when): reported CredentialsNotFound with $state of its children" ;;
	*) problem "$name ($when): half-made while the Secret is gone: $state" ;;
	esac
	LAST_STATE=$state
}

# recovered NAME WHEN: the Secret is back; the connector converges.
recovered() {
	local name=$1 when=$2
	eventually 60 children_are "$name" all ||
		{ problem "$name ($when): children after the Secret came back: $(children "$name")"; return; }
	eventually 30 reason_is "$name" DeploymentNotAvailable ||
		problem "$name ($when): Ready reason '$(ready_reason "$name")' after the Secret came back"
}

install_crd
install_connector_role
new_namespace
start_operator

log "the Secret deleted as the connector is created"
i=0
for delay in -0.2 0 0.05 0.1 0.25 0.5 1.0; do
	name=create$i
	secret "$name-sp"
	case $delay in
	-*) # just before: the connector never sees its Secret
		kubectl delete secret "$name-sp" -n "$NS" >/dev/null
		connector "$name" "$name-sp" ;;
	*)
		connector "$name" "$name-sp" &
		sleep "$delay"
		kubectl delete secret "$name-sp" -n "$NS" >/dev/null
		wait $! || fail "creating $name failed" ;;
	esac
	reported "$name" "deleted ${delay}s after the create"
	secret "$name-sp"
	recovered "$name" "deleted ${delay}s after the create"
	i=$((i + 1))
done

log "the Secret deleted as the connector is updated"
i=0
for delay in 0 0.1 0.3 0.6; do
	name=update$i
	secret "$name-sp"
	connector "$name" "$name-sp"
	eventually 60 children_are "$name" all || fail "$name: never got its children"
	connector "$name" "$name-sp" 1.6.5 &
	sleep "$delay"
	kubectl delete secret "$name-sp" -n "$NS" >/dev/null
	wait $! || fail "updating $name failed"
	reported "$name" "deleted ${delay}s after the update"
	[ "$LAST_STATE" = all ] || problem "$name: the running connector was not left as it was: $LAST_STATE"
	secret "$name-sp"
	recovered "$name" "deleted ${delay}s after the update"
	i=$((i + 1))
done

log "the Secret flapping (deleted and recreated five times) while the connector changes"
secret flap-sp first
connector flap flap-sp
for n in 1 2 3 4 5; do
	kubectl delete secret flap-sp -n "$NS" >/dev/null
	connector flap flap-sp "1.6.$n" &
	sleep "0.$((RANDOM % 4))"
	secret flap-sp "value-$n"
	wait $! || fail "updating flap failed"
done
recovered flap "after flapping"

log "everything converges, with every Secret back"
eventually 90 converged || { converged || true; problem "the namespace did not converge"; }
kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator exited"
if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|Assertion .* failed|double free' \
    "$WORK/operator-0.log" >&2; then
	fail "the operator's log shows a crash or sanitizer report"
fi
log "total $((SECONDS - T0)) s"
[ ${#PROBLEMS[@]} -eq 0 ] ||
	fail "${#PROBLEMS[@]} problems:
$(printf '  - %s\n' "${PROBLEMS[@]}")"
