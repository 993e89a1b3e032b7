#!/usr/bin/env bash
# test_probes_metrics.sh: /healthz, /readyz and /metrics against the real
# control plane. The probes answer 200 once the caches have synced; the
# metrics carry controller-runtime's names in valid Prometheus text format
# (each sample `name{labels} value`, a TYPE per family, histogram buckets
# cumulative and ending at +Inf = _count), and the counters move when a
# connector is reconciled. `--metrics-bind-address 0` serves nothing; a
# port already taken is a clear fatal error with exit status 1.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

connector() {
	kubectl apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: $API
kind: VirtualKubeletConnector
metadata:
  name: $1
spec:
  osType: Linux
  location: eastus
EOF
}

# code URL [curl args]: prints the HTTP status.
code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# answers URL WANT [curl args]: true when URL answers with status WANT.
answers() {
	local url=$1 want=$2
	shift 2
	[ "$(code "$url" "$@")" = "$want" ]
}

# sample TEXT SERIES: the value of one series (exact name and labels).
sample() { awk -v n="$2" '$1 == n { print $2 }' <<<"$1"; }

# total TEXT NAME: the sum over a family's series.
total() { awk -v n="$2" 'index($1, n "{") == 1 || $1 == n { s += $2 } END { printf "%d\n", s }' <<<"$1"; }

# check_format: Prometheus text exposition checks on stdin; prints problems.
check_format() {
	python3 -c '
import re, sys
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label = r"[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\n]|\\[\\\"n])*\""
value = r"(?:[-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf)|NaN)"
line_re = re.compile(r"^(%s)(\{(?:%s(?:,%s)*)?\})? (%s)$" % (name, label, label, value))
bad, types, seen, buckets = [], {}, set(), {}
text = sys.stdin.read()
if not text.endswith("\n"):
    bad.append("does not end with a newline")
for ln in text.splitlines():
    if ln.startswith("# TYPE "):
        parts = ln.split()
        if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
            bad.append("bad TYPE line: " + ln)
        elif parts[2] in types:
            bad.append("TYPE twice: " + ln)
        else:
            types[parts[2]] = parts[3]
        continue
    if ln.startswith("#"):
        continue
    m = line_re.match(ln)
    if not m:
        bad.append("unparsable: " + repr(ln))
        continue
    series = m.group(1) + (m.group(2) or "")
    if series in seen:
        bad.append("series twice: " + series)
    seen.add(series)
    fam = re.sub(r"_(bucket|sum|count)$", "", m.group(1))
    if fam not in types and m.group(1) not in types:
        bad.append("no TYPE for " + m.group(1))
    if m.group(1).endswith("_bucket"):
        le = re.search(r"le=\"([^\"]*)\"", m.group(2) or "")
        if not le:
            bad.append("bucket without le: " + ln)
        else:
            key = re.sub(r",?le=\"[^\"]*\"", "", m.group(2))
            buckets.setdefault((fam, key), []).append((float(le.group(1)), float(m.group(3))))
    if m.group(1).endswith("_total") and types.get(m.group(1)) not in ("counter", None):
        bad.append("a _total that is not a counter: " + ln)
for (fam, key), bs in buckets.items():
    les = [b[0] for b in bs]
    if les != sorted(les) or les[-1] != float("inf"):
        bad.append("%s buckets not ascending to +Inf" % fam)
    if any(bs[i][1] > bs[i + 1][1] for i in range(len(bs) - 1)):
        bad.append("%s buckets not cumulative" % fam)
    cnt = [ln for ln in text.splitlines() if ln.startswith(fam + "_count" + key.replace("{}", ""))]
    if not cnt or float(cnt[0].split()[-1]) != bs[-1][1]:
        bad.append("%s +Inf bucket differs from _count" % fam)
print("\n".join(bad))
'
}

# ClusterRoleBindings cannot be owned by the namespaced connectors: remove
# this test's with it
trap 'rc=$?; set +e
[ -z "$NS" ] || kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
(exit $rc); cleanup' EXIT

install_crd
new_namespace

PROBE=$(free_port)
METRICS=$(free_port)
start_operator --health-probe-bind-address "127.0.0.1:$PROBE" --metrics-bind-address "127.0.0.1:$METRICS"
OP=$OPERATOR_PID

log "probes on 127.0.0.1:$PROBE"
eventually 20 answers "http://127.0.0.1:$PROBE/healthz" 200 || fail "/healthz: $(code "http://127.0.0.1:$PROBE/healthz")"
eventually 30 answers "http://127.0.0.1:$PROBE/readyz" 200 || fail "/readyz: $(code "http://127.0.0.1:$PROBE/readyz")"
expect_contains "$(cat "$WORK/operator-0.log")" "caches synced" "log when /readyz turned 200"
expect_eq "$(curl -s "http://127.0.0.1:$PROBE/healthz")" ok "/healthz body"
expect_eq "$(code "http://127.0.0.1:$PROBE/nope")" 404 "unknown probe path"
expect_eq "$(code "http://127.0.0.1:$PROBE/healthz" -X POST)" 405 "POST /healthz"
expect_eq "$(code "http://127.0.0.1:$PROBE/readyz" -I)" 200 "HEAD /readyz"

log "metrics on 127.0.0.1:$METRICS"
eventually 10 answers "http://127.0.0.1:$METRICS/metrics" 200 || fail "/metrics: $(code "http://127.0.0.1:$METRICS/metrics")"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$METRICS/metrics")
expect_contains "$ctype" "text/plain; version=0.0.4" "/metrics Content-Type"
M0=$(curl -sf "http://127.0.0.1:$METRICS/metrics")
for name in controller_runtime_reconcile_total controller_runtime_reconcile_errors_total \
    controller_runtime_reconcile_time_seconds_bucket controller_runtime_reconcile_time_seconds_sum \
    controller_runtime_reconcile_time_seconds_count workqueue_depth workqueue_adds_total \
    workqueue_retries_total rest_client_requests_total leader_election_master_status; do
	grep -q "^$name{" <<<"$M0" || fail "/metrics has no $name series"
done
for fam in "controller_runtime_reconcile_total counter" "controller_runtime_reconcile_errors_total counter" \
    "controller_runtime_reconcile_time_seconds histogram" "workqueue_depth gauge" \
    "workqueue_adds_total counter" "workqueue_retries_total counter" \
    "rest_client_requests_total counter" "leader_election_master_status gauge"; do
	grep -qx "# TYPE $fam" <<<"$M0" || fail "/metrics lacks '# TYPE $fam'"
done
problems=$(check_format <<<"$M0")
expect_eq "$problems" "" "metrics format"
expect_eq "$(sample "$M0" 'leader_election_master_status{name="vkc-operator-leader"}')" 1 \
    "leader_election_master_status without --leader-elect"
# client-go's host label is host:port, without the scheme
grep -Eq '^rest_client_requests_total\{code="200",method="GET",host="127\.0\.0\.1:[0-9]+"\} [1-9]' <<<"$M0" ||
	fail "no rest_client_requests_total for the initial GETs: $(grep rest_client <<<"$M0")"

log "counters move when a connector is reconciled"
r0=$(total "$M0" controller_runtime_reconcile_total)
a0=$(total "$M0" workqueue_adds_total)
c0=$(total "$M0" controller_runtime_reconcile_time_seconds_count)
q0=$(total "$M0" rest_client_requests_total)
connector moved
eventually 60 kubectl get deployment -n "$NS" moved-linux-eastus || fail "connector moved: no Deployment"
eventually 10 grep -q "reconciled '$NS/moved'" "$WORK/operator-0.log" || fail "no reconcile of '$NS/moved' logged"
eventually 10 sh -c "curl -sf http://127.0.0.1:$METRICS/metrics | awk '/^controller_runtime_reconcile_total\\{/ { s += \$2 } END { exit !(s > $r0) }'" ||
	fail "controller_runtime_reconcile_total did not increase from $r0"
M1=$(curl -sf "http://127.0.0.1:$METRICS/metrics")
r1=$(total "$M1" controller_runtime_reconcile_total)
a1=$(total "$M1" workqueue_adds_total)
c1=$(total "$M1" controller_runtime_reconcile_time_seconds_count)
q1=$(total "$M1" rest_client_requests_total)
log "reconcile_total $r0 -> $r1, workqueue_adds_total $a0 -> $a1, reconcile_time count $c0 -> $c1, requests $q0 -> $q1"
[ "$a1" -gt "$a0" ] || fail "workqueue_adds_total did not increase: $a0 -> $a1"
expect_eq "$c1" "$r1" "reconcile_time_seconds_count vs reconcile_total"
[ "$q1" -gt "$q0" ] || fail "rest_client_requests_total did not increase: $q0 -> $q1"
grep -Eq '^rest_client_requests_total\{code="201",method="(POST|PATCH)",' <<<"$M1" ||
	fail "no 201 writes counted: $(grep rest_client <<<"$M1")"
sum=$(sample "$M1" 'controller_runtime_reconcile_time_seconds_sum{controller="virtualkubeletconnector"}')
python3 -c "import sys; sys.exit(not float(sys.argv[1]) > 0)" "$sum" || fail "reconcile_time_seconds_sum is $sum"
# events on cluster-scoped children (of other namespaces' connectors, on
# the shared cluster) enqueue keys too: the depth need not be 0, only sane
depth=$(sample "$M1" 'workqueue_depth{name="virtualkubeletconnector"}')
[[ $depth =~ ^[0-9]+$ ]] || fail "workqueue_depth is '$depth'"
problems=$(check_format <<<"$M1")
expect_eq "$problems" "" "metrics format after reconciles"

log "--metrics-bind-address 0 serves no metrics"
PROBE2=$(free_port)
start_operator --health-probe-bind-address "127.0.0.1:$PROBE2" --metrics-bind-address 0
eventually 20 answers "http://127.0.0.1:$PROBE2/healthz" 200 || fail "second operator's /healthz"
if grep -q "serving /metrics" "$WORK/operator-1.log"; then
	fail "metrics served with --metrics-bind-address 0: $(grep 'serving /metrics' "$WORK/operator-1.log")"
fi
expect_eq "$(code "http://127.0.0.1:$PROBE2/metrics")" 404 "/metrics on the probe port"

log "a port in use is a fatal error with exit status 1"
for flag in --metrics-bind-address --health-probe-bind-address; do
	rc=0
	out=$(timeout 20 "$OPERATOR" --kubeconfig "$KUBECONFIG" --namespace "$NS" \
	    --metrics-bind-address 0 --health-probe-bind-address 0 \
	    "$flag" "127.0.0.1:$METRICS" 2>&1) || rc=$?
	expect_eq "$rc" 1 "$flag on a taken port: exit status"
	expect_contains "$out" "cannot serve '127.0.0.1:$METRICS': Address already in use" "$flag on a taken port"
done
kill -0 "$OP" || fail "the first operator died"
expect_eq "$(code "http://127.0.0.1:$METRICS/metrics")" 200 "/metrics of the first operator afterwards"
