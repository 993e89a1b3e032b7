#!/usr/bin/env bash
# test_fault_operator_kill.sh: issue 7's third fault. The operator is
# SIGKILLed at ten random points while connectors are being created,
# updated (a new image tag, osType Linux <-> Both, a new location) and
# deleted, and started again each time. After every restart everything
# converges: each live connector has exactly the children its spec asks
# for (one Deployment, ServiceAccount, TLS Secret and ClusterRoleBinding
# per release, counted by the label connectors.virtual-kubelet.io/name,
# no duplicates, Deployments running the spec's image), each deleted
# connector is fully cleaned up (no child, pods included, and the
# connector itself gone), statuses observed. No operator log shows a
# sanitizer report. VKC_FAULT_SEED replays a run (it is logged).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
ROUNDS=${VKC_FAULT_ROUNDS:-10}
POOL=16
SEED=${VKC_FAULT_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$SEED
T0=$SECONDS

# ClusterRoleBindings are cluster-scoped and outlive the namespace: they
# go once the operator has stopped (it would put them back)
# shellcheck disable=SC2154 # rc and p are assigned inside the trap
trap 'rc=$?; set +e
	for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
	(exit $rc); cleanup' EXIT

# retry COMMAND...: the test's own writes, retried if the shared apiserver
# is briefly away (another test may restart it).
retry() {
	local deadline=$((SECONDS + 60))
	until "$@" >/dev/null 2>>"$WORK/client.err"; do
		[ $SECONDS -lt $deadline ] || fail "gave up retrying: $*"
		sleep 0.5
	done
}

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

exists() { kubectl get vkc "$1" -n "$NS" >/dev/null 2>&1; }

# burst N: N random operations on connectors k00..k15, as fast as the
# client goes; the ops of one burst are written to $WORK/ops.
burst() {
	local i k name os tag
	for ((i = 0; i < $1; i++)); do
		k=$((RANDOM % POOL))
		name=$(printf k%02d "$k")
		if ! exists "$name"; then
			os=$([ $((RANDOM % 2)) -eq 0 ] && echo Linux || echo Both)
			echo "create $name $os" >>"$WORK/ops"
			# a file, not stdin: retry runs it again
			printf 'apiVersion: %s\nkind: VirtualKubeletConnector\nmetadata:\n  name: %s\nspec:\n  osType: %s\n  location: eastus\n' \
			    "$API" "$name" "$os" >"$WORK/conn-$BASHPID.yaml"
			retry kubectl apply -n "$NS" -f "$WORK/conn-$BASHPID.yaml"
			continue
		fi
		case $((RANDOM % 5)) in
		0) tag=1.6.$((RANDOM % 9))
			echo "tag $name $tag" >>"$WORK/ops"
			retry kubectl patch vkc "$name" -n "$NS" --type=merge -p "{\"spec\":{\"image\":{\"tag\":\"$tag\"}}}" ;;
		1) os=$([ $((RANDOM % 2)) -eq 0 ] && echo Linux || echo Both)
			echo "osType $name $os" >>"$WORK/ops"
			retry kubectl patch vkc "$name" -n "$NS" --type=merge -p "{\"spec\":{\"osType\":\"$os\"}}" ;;
		2) loc=$([ $((RANDOM % 2)) -eq 0 ] && echo eastus || echo "West Europe")
			echo "location $name $loc" >>"$WORK/ops"
			retry kubectl patch vkc "$name" -n "$NS" --type=merge -p "{\"spec\":{\"location\":\"$loc\"}}" ;;
		*) echo "delete $name" >>"$WORK/ops"
			retry kubectl delete vkc "$name" -n "$NS" --wait=false --ignore-not-found ;;
		esac
	done
}

install_crd
install_connector_role
new_namespace
log "seed $SEED (VKC_FAULT_SEED replays it)"
start_operator
log "a first population"
burst 8
eventually 120 converged || { converged || true; fail "no convergence before the first kill"; }

for ((round = 1; round <= ROUNDS; round++)); do
	: >"$WORK/ops"
	# ops run in the background while the operator is killed at a random
	# point of its work on them: after 1 to 40 more lines of its log (or
	# 4 s, should it have less to do)
	oplog=$WORK/operator-$((${#OPERATOR_PIDS[@]} - 1)).log
	base=$(wc -l <"$oplog")
	burst $((4 + RANDOM % 6)) &
	ops=$!
	target=$((base + 1 + RANDOM % 40))
	t=$SECONDS
	while [ "$(wc -l <"$oplog")" -lt "$target" ] && [ $((SECONDS - t)) -lt 4 ]; do
		sleep 0.05
	done
	lines=$(($(wc -l <"$oplog") - base))
	last=$(tail -n 1 "$oplog" | cut -c1-160)
	kill -KILL "$OPERATOR_PID"
	wait "$OPERATOR_PID" 2>/dev/null || true
	log "round $round: killed the operator after $lines lines of its log about the ops; its last line: $last"
	wait "$ops" || fail "round $round: the test's own ops failed"
	log "round $round ops: $(tr '\n' ';' <"$WORK/ops")"
	# sometimes more changes while no operator runs
	if [ $((RANDOM % 3)) -eq 0 ]; then
		: >"$WORK/ops"
		burst 3
		log "round $round, operator down: $(tr '\n' ';' <"$WORK/ops")"
	fi
	start_operator
	t=$SECONDS
	eventually 120 converged || { converged || true; fail "round $round: no convergence after the restart"; }
	log "round $round: converged $((SECONDS - t))s after the restart: $(converged)"
done

kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator exited"
if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|Assertion .* failed|double free' \
    "$WORK"/operator-*.log >&2; then
	fail "an operator log shows a crash or sanitizer report"
fi
log "total $((SECONDS - T0)) s"
