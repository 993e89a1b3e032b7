#!/usr/bin/env bash
# vkc-test: serial
# test_fault_apiserver_churn.sh: issue 7's first fault. A burst of 200
# connectors (osType Both: 1600 children and 400 pods) is created, some
# are updated (a new image tag, a shrink to Linux, a new location) and some
# deleted (some right after their creation), while kube-apiserver is
# stopped for about 2 s and started again three times: once during the
# creates, once during the updates, once during the deletes, each time
# with the operator's queue full (and etcd compacted during the second
# outage). The test's own writes are retried until
# they go through. Afterwards, with no operator restart, everything
# converges:
#
# - every live connector has exactly its children: for each release one
#   Deployment, ServiceAccount, TLS Secret and ClusterRoleBinding, counted
#   by the label connectors.virtual-kubelet.io/name, and nothing more
#   (no duplicate, nothing left of a release shrunk or renamed away);
#   Deployments run the image the spec names;
# - no child (pods included) whose connector is gone, and no connector
#   left half-deleted;
# - every status observed: observedGeneration == generation;
# - the operator is alive and its log holds no sanitizer report.
#
# It stops the shared apiserver: ctest runs it alone (the line above).
# VKC_FAULT_CONNECTORS and VKC_FAULT_OS_TYPE size it (default 200, Both).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
CLUSTER=$SRC/hack/local-cluster.sh
N=${VKC_FAULT_CONNECTORS:-200}
OS_TYPE=${VKC_FAULT_OS_TYPE:-Both}
DOWN_S=${VKC_APISERVER_DOWN_S:-2}
BATCH=10
T0=$SECONDS

# if the test dies with the apiserver down, bring it back for everyone;
# ClusterRoleBindings are cluster-scoped and outlive the namespace: they
# go once the operator has stopped (it would put them back)
# (errexit is off in here: "(exit $rc)" only hands rc on to cleanup)
RESTARTER=""
# shellcheck disable=SC2154 # rc and p are assigned inside the trap
trap 'rc=$?; set +e; [ -z "$RESTARTER" ] || kill "$RESTARTER" 2>/dev/null
	"$CLUSTER" status >/dev/null 2>&1 || "$CLUSTER" up >/dev/null 2>&1
	for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
	(exit $rc); cleanup' EXIT

# retry COMMAND...: the test's own writes, retried while the apiserver is
# away (for two minutes at most).
retry() {
	local deadline=$((SECONDS + 120))
	until "$@" >/dev/null 2>>"$WORK/client.err"; do
		[ $SECONDS -lt $deadline ] || fail "gave up retrying: $*"
		sleep 0.5
	done
}

manifests() { # FIRST LAST
	local i
	for ((i = $1; i <= $2; i++)); do
		printf -- '---\napiVersion: %s\nkind: VirtualKubeletConnector\nmetadata:\n  name: c%03d\nspec:\n  osType: %s\n  location: eastus\n' \
		    "$API" "$i" "$OS_TYPE"
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

apiserver_pid() { "$CLUSTER" status 2>/dev/null | sed -n 's/^kube-apiserver .*(pid \([0-9]*\)).*/\1/p'; }

# restarter: three restarts, each when the churn reaches a phase (the
# main flow touches $WORK/phaseN); records each outage.
restarter() {
	local i t
	for i in 1 2 3; do
		while [ ! -e "$WORK/phase$i" ]; do
			[ -d "$WORK" ] || return 1
			sleep 0.1
		done
		t=$SECONDS
		echo "restart $i: stop at +$((SECONDS - T0))s, pid $(apiserver_pid)" >>"$WORK/restarts"
		"$CLUSTER" stop kube-apiserver 2>>"$WORK/restarter.log"
		# the second time, etcd is also compacted while the apiserver is
		# away: the operator's resourceVersions are then surely gone
		[ "$i" -ne 2 ] || "$CLUSTER" compact 2>>"$WORK/restarter.log"
		sleep "$DOWN_S"
		"$CLUSTER" up 2>>"$WORK/restarter.log" || { echo "up failed" >>"$WORK/restarts"; return 1; }
		echo "restart $i: up again after $((SECONDS - t))s, pid $(apiserver_pid)" >>"$WORK/restarts"
	done
}

install_crd
install_connector_role
new_namespace
METRICS=$(free_port)
start_operator --metrics-bind-address "127.0.0.1:$METRICS"
OP=$OPERATOR_PID
eventually 30 curl -fsS "http://127.0.0.1:$METRICS/metrics" || fail "operator never served /metrics"

log "churn: $N connectors (osType $OS_TYPE) while kube-apiserver restarts three times"
restarter &
RESTARTER=$!
deleted=()
for ((first = 0; first < N; first += BATCH)); do
	last=$((first + BATCH - 1 < N - 1 ? first + BATCH - 1 : N - 1))
	manifests "$first" "$last" >"$WORK/batch.yaml"
	retry kubectl apply -n "$NS" -f "$WORK/batch.yaml"
	# some go again right after their creation, before or during their
	# first reconcile
	for ((i = first; i <= last; i++)); do
		if [ $((i % 20)) -eq 9 ]; then
			retry kubectl delete vkc "$(printf c%03d "$i")" -n "$NS" --wait=false --ignore-not-found
			deleted+=("$i")
		fi
	done
	[ "$first" -lt $((N / 2)) ] || touch "$WORK/phase1"
done
touch "$WORK/phase1"
log "created $N (+$((SECONDS - T0))s); updating"
updates=0
for ((i = 0; i < N; i++)); do
	name=$(printf c%03d "$i")
	case $((i % 20)) in
	1 | 11 | 16) # a new image tag: the Deployments roll
		retry kubectl patch vkc "$name" -n "$NS" --type=merge -p '{"spec":{"image":{"tag":"1.6.5"}}}' ;;
	2 | 12) # a shrink (Both to Linux) or a grow (Linux to Both)
		[ "$OS_TYPE" = Both ] && os=Linux || os=Both
		retry kubectl patch vkc "$name" -n "$NS" --type=merge -p "{\"spec\":{\"osType\":\"$os\"}}" ;;
	3) # a rename: every release is replaced
		retry kubectl patch vkc "$name" -n "$NS" --type=merge -p '{"spec":{"location":"West Europe"}}' ;;
	*) continue ;;
	esac
	updates=$((updates + 1))
	[ $updates -lt 20 ] || touch "$WORK/phase2"
done
touch "$WORK/phase2"
log "updated $updates (+$((SECONDS - T0))s); deleting"
for ((i = 0; i < N; i++)); do
	case $((i % 20)) in
	7 | 17 | 11) ;; # 11 was just updated: deleted mid-roll
	*) continue ;;
	esac
	retry kubectl delete vkc "$(printf c%03d "$i")" -n "$NS" --wait=false --ignore-not-found
	deleted+=("$i")
	[ ${#deleted[@]} -lt $((N / 20 + 10)) ] || touch "$WORK/phase3"
done
touch "$WORK/phase3"
log "deleted ${#deleted[@]} (+$((SECONDS - T0))s); waiting for the restarts to end"
wait "$RESTARTER" || fail "restarting kube-apiserver failed: $(cat "$WORK/restarts" "$WORK/restarter.log")"
cat "$WORK/restarts" >&2
[ "$(grep -c 'up again' "$WORK/restarts")" -eq 3 ] || fail "kube-apiserver was not restarted three times"
log "churn over (+$((SECONDS - T0))s); the client's own errors while the apiserver was away: $(grep -c . "$WORK/client.err" || true)"

kill -0 "$OP" 2>/dev/null || fail "the operator exited during the churn"
log "waiting for convergence"
eventually 240 converged || { converged || true; fail "no convergence within 240 s after the churn"; }
converged >&2
log "converged (+$((SECONDS - T0))s)"
expect_eq "$(kubectl get vkc -n "$NS" -o name | wc -l)" $((N - ${#deleted[@]})) "live connectors"

kill -0 "$OP" 2>/dev/null || fail "the operator exited"
if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|Assertion .* failed|double free' \
    "$WORK/operator-0.log" >&2; then
	fail "the operator's log shows a crash or sanitizer report"
fi
metrics=$(curl -fsS "http://127.0.0.1:$METRICS/metrics")
log "relists per cache: $(awk '/^vkc_cache_lists_total/ { printf "%s ", $0 }' <<<"$metrics")"
log "requests: $(awk '/^rest_client_requests_total/ { n += $NF } END { print n }' <<<"$metrics"), reconcile errors: $(awk '/^controller_runtime_reconcile_errors_total/ { n += $NF } END { print n }' <<<"$metrics")"
log "total $((SECONDS - T0)) s"
