#!/usr/bin/env bash
# test_fault_compaction.sh: issue 7's second fault. With the operator
# running, connectors are changed (new image tags, osType changes, new
# connectors, deletions) while etcd is compacted to its head revision
# again and again, between bursts of writes to unrelated objects in the
# namespace (ConfigMaps, and Secrets the operator's credentials cache
# watches) that move the revision on; twice the operator is frozen
# (SIGSTOP) across a round of changes, bulk writes and compactions, so its
# watches fall behind while what they last saw is compacted away, then
# thawed. Afterwards the operator must have missed nothing: every change
# reconciled (exactly the children each connector's spec asks for, the
# spec's image, statuses observed, deleted connectors fully cleaned up).
#
# Whether a watch actually got 410 Gone and relisted depends on the
# apiserver's watch cache, which keeps serving recent resourceVersions
# after a compaction; the test logs the operator's relists
# (vkc_cache_lists_total beyond 1 per cache) either way. The correctness
# check holds in both cases.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
CLUSTER=$SRC/hack/local-cluster.sh
ROUNDS=${VKC_FAULT_ROUNDS:-6}
T0=$SECONDS
OP=""

# never leave the operator frozen; ClusterRoleBindings outlive the
# namespace: they go once the operator has stopped (it would put them back)
# shellcheck disable=SC2154 # rc and p are assigned inside the trap
trap 'rc=$?; set +e; [ -z "$OP" ] || kill -CONT "$OP" 2>/dev/null
	for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
	(exit $rc); cleanup' EXIT

retry() {
	local deadline=$((SECONDS + 60))
	until "$@" >/dev/null 2>>"$WORK/client.err"; do
		[ $SECONDS -lt $deadline ] || fail "gave up retrying: $*"
		sleep 0.5
	done
}


connector() { # NAME OS [TAG]
	# a file, not stdin: retry runs it again
	printf 'apiVersion: %s\nkind: VirtualKubeletConnector\nmetadata:\n  name: %s\nspec:\n  osType: %s\n  location: eastus\n  image:\n    tag: "%s"\n' \
	    "$API" "$1" "$2" "${3:-1.6.4}" >"$WORK/conn.yaml"
	retry kubectl apply -n "$NS" -f "$WORK/conn.yaml"
}

# bulk ROUND: 150 ConfigMaps and 150 Secrets (unrelated to any connector)
# server-side applied over one kept-alive connection (kubectl would take
# a minute), moving etcd's revision on by 300
bulk() {
	python3 - "$NS" "$1" "$WORK" <<'PY' || fail "bulk writes failed"
import base64, http.client, json, ssl, subprocess, sys, urllib.parse
ns, rnd, work = sys.argv[1:4]
cfg = json.loads(subprocess.check_output(["kubectl", "config", "view", "--raw", "--minify", "-o", "json"]))
cluster, user = cfg["clusters"][0]["cluster"], cfg["users"][0]["user"]
files = {}
for key, name in (("certificate-authority-data", "ca"), ("client-certificate-data", "crt"), ("client-key-data", "key")):
    src = cluster if name == "ca" else user
    files[name] = "%s/bulk-%s.pem" % (work, name)
    with open(files[name], "wb") as f:
        f.write(base64.b64decode(src[key]))
ctx = ssl.create_default_context(cafile=files["ca"])
ctx.load_cert_chain(files["crt"], files["key"])
url = urllib.parse.urlparse(cluster["server"])
conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx)
pad = "x" * 1000
for i in range(150):
    for kind, plural, field in (("ConfigMap", "configmaps", "data"), ("Secret", "secrets", "stringData")):
        body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "noise-%d" % i},
                field: {"round": rnd, "pad": pad}}
        conn.request("PATCH", "/api/v1/namespaces/%s/%s/noise-%d?fieldManager=fault-test&force=true" % (ns, plural, i),
                     json.dumps(body), {"Content-Type": "application/apply-patch+yaml"})
        r = conn.getresponse()
        out = r.read()
        if r.status >= 300:
            sys.exit("%s noise-%d: %d %s" % (kind, i, r.status, out[:300]))
PY
}

compact() { "$CLUSTER" compact 2>>"$WORK/compact.log" || fail "compaction failed: $(tail -n 3 "$WORK/compact.log")"; }

relists() {
	curl -fsS "http://127.0.0.1:$METRICS/metrics" |
	    awk '/^vkc_cache_lists_total/ { n += $NF - 1; if ($NF > 1) c = c " " $1 "=" $NF } END { printf "%d%s\n", n, c }'
}

install_crd
install_connector_role
new_namespace
METRICS=$(free_port)
start_operator --metrics-bind-address "127.0.0.1:$METRICS"
OP=$OPERATOR_PID
eventually 30 curl -fsS "http://127.0.0.1:$METRICS/metrics" || fail "operator never served /metrics"

log "ten connectors"
for i in 0 1 2 3 4 5 6 7 8 9; do
	connector "m0$i" "$([ $((i % 3)) -eq 0 ] && echo Both || echo Linux)"
done
eventually 120 converged || { converged || true; fail "no convergence before the compactions"; }

changes=0
for ((round = 1; round <= ROUNDS; round++)); do
	frozen=false
	if [ $((round % 3)) -eq 2 ]; then
		kill -STOP "$OP"
		frozen=true
	fi
	# a tag for three, an osType flip for one, a new connector, a deletion
	for k in $((round % 10)) $(((round + 3) % 10)) $(((round + 6) % 10)); do
		kubectl get vkc "m0$k" -n "$NS" >/dev/null 2>&1 || continue
		retry kubectl patch vkc "m0$k" -n "$NS" --type=merge -p "{\"spec\":{\"image\":{\"tag\":\"1.7.$round\"}}}"
		changes=$((changes + 1))
	done
	compact
	bulk "$round"
	k=$(((round + 1) % 10))
	if kubectl get vkc "m0$k" -n "$NS" >/dev/null 2>&1; then
		os=$(jget vkc "m0$k" '{.spec.osType}' -n "$NS")
		retry kubectl patch vkc "m0$k" -n "$NS" --type=merge -p "{\"spec\":{\"osType\":\"$([ "$os" = Both ] && echo Linux || echo Both)\"}}"
		changes=$((changes + 1))
	fi
	connector "n$round" Both "1.8.$round"
	compact
	bulk "$round-b"
	retry kubectl delete vkc "m0$(((round + 8) % 10))" -n "$NS" --wait=false --ignore-not-found
	[ "$round" -lt 2 ] || retry kubectl delete vkc "n$((round - 1))" -n "$NS" --wait=false --ignore-not-found
	changes=$((changes + 3))
	compact
	if $frozen; then
		sleep 2
		compact
		kill -CONT "$OP"
	fi
	log "round $round: $changes changes so far, operator frozen: $frozen, relists so far: $(relists)"
	sleep 0.$((RANDOM % 10))
done

log "everything must converge"
eventually 180 converged || { converged || true; fail "changes were missed: no convergence"; }
log "converged (+$((SECONDS - T0))s): $(converged)"
kill -0 "$OP" 2>/dev/null || fail "the operator exited"
if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|Assertion .* failed|double free' \
    "$WORK/operator-0.log" >&2; then
	fail "the operator's log shows a crash or sanitizer report"
fi
log "relists (410 Gone answered by a full list): $(relists)"
grep -h 'expired\|relist' "$WORK/operator-0.log" | tail -n 5 >&2 || true
log "total $((SECONDS - T0)) s"
