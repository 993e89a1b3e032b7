#!/usr/bin/env bash
# test_operator_flags.sh: the operator's command line. --version and --help
# exit 0; each bad flag value exits 2 with a message naming the flag,
# before anything starts; a configuration that cannot be loaded exits 1;
# --log-format json writes one JSON object per line (ts, level, msg) for a
# whole run, reconciles included.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1

# run_op ARGS...: runs the operator in the foreground (20 s at most); sets
# OUT (stdout and stderr) and RC.
run_op() {
	RC=0
	OUT=$(timeout 20 "$OPERATOR" "$@" 2>&1) || RC=$?
}

# ClusterRoleBindings cannot be owned by the namespaced connectors: remove
# this test's with it
trap 'rc=$?; set +e
[ -z "$NS" ] || kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
(exit $rc); cleanup' EXIT

log "--version, --help"
run_op --version
expect_eq "$RC" 0 "--version exit status"
[[ $OUT =~ ^vkc-operator\ [0-9]+\.[0-9]+\.[0-9]+ ]] || fail "--version printed '$OUT'"
run_op -version
expect_eq "$RC" 0 "-version (Go flag spelling) exit status"
run_op --help
expect_eq "$RC" 0 "--help exit status"
for f in --kubeconfig --namespace --leader-elect --leader-election-namespace --leader-election-id \
    --metrics-bind-address --health-probe-bind-address --concurrency --log-format --version; do
	expect_contains "$OUT" "$f" "--help"
done

log "bad flag values exit 2 with a message"
# FLAG-AND-VALUE | WANT IN THE MESSAGE
while IFS='|' read -r args want; do
	# shellcheck disable=SC2086
	run_op $args
	expect_eq "$RC" 2 "'$args' exit status"
	expect_contains "$OUT" "$want" "'$args' message"
done <<'EOF'
--concurrency 0|--concurrency wants a number from 1 to 64
--concurrency two|--concurrency wants a number
--log-format xml|--log-format wants text or json
-v high|-v wants a number
--leader-elect=maybe|--leader-elect wants true or false
--metrics-bind-address localhost|--metrics-bind-address wants [host]:port
--health-probe-bind-address 127.0.0.1:99999|--health-probe-bind-address wants [host]:port
--namespace Not_A_Namespace|--namespace wants a DNS-1123 label
--leader-election-namespace -bad|--leader-election-namespace wants a DNS-1123 label
--leader-election-id UPPER|--leader-election-id wants a DNS-1123 subdomain
--no-such-flag|no-such-flag
--concurrency 2 stray|unexpected argument 'stray'
--kube-api-qps -1|--kube-api-qps wants a number
EOF

log "a configuration that cannot be loaded exits 1"
run_op --kubeconfig /nonexistent/kubeconfig --metrics-bind-address 0 --health-probe-bind-address 0
expect_eq "$RC" 1 "missing kubeconfig exit status"
expect_contains "$OUT" "cannot load configuration" "missing kubeconfig message"

log "--log-format json: every line is a JSON object"
install_crd
new_namespace
start_operator --log-format json
kubectl apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: $API
kind: VirtualKubeletConnector
metadata:
  name: json
spec:
  osType: Linux
  location: eastus
EOF
eventually 60 kubectl get deployment -n "$NS" json-linux-eastus || fail "connector json: no Deployment"
eventually 10 grep -q "reconciled '$NS/json'" "$WORK/operator-0.log" || fail "no reconcile logged"
kill -TERM "$OPERATOR_PID"
rc=0
wait "$OPERATOR_PID" || rc=$?
expect_eq "$rc" 0 "exit status after SIGTERM"
bad=$(python3 -c '
import json, sys
bad, n = [], 0
for ln in open(sys.argv[1], encoding="utf-8"):
    n += 1
    try:
        o = json.loads(ln)
    except ValueError as e:
        bad.append("not JSON (%s): %r" % (e, ln))
        continue
    if not isinstance(o, dict) or not {"ts", "level", "msg"} <= set(o):
        bad.append("lacks ts/level/msg: %r" % ln)
if n < 5:
    bad.append("only %d lines" % n)
print("\n".join(bad))' "$WORK/operator-0.log")
expect_eq "$bad" "" "JSON log lines"
grep -q '"msg":"stopped' "$WORK/operator-0.log" || fail "no JSON 'stopped' line"
