#!/usr/bin/env bash
# test_client.sh: the operator's API client against the real control plane,
# through tests/tools/kubeclient.c: users authenticated by client
# certificate, by token and by an exec credential plugin; an informer that
# survives kube-apiserver being stopped and started; a 410 provoked by
# etcd compaction, after which the informer relists and misses nothing;
# and how many GET and server-side apply requests per second one client
# sustains (printed, not judged).
#
# Stopping the apiserver disturbs other tests using the shared cluster:
# each outage is short (stop, 3 s, up), and the test runs alone.
# vkc-test: serial
source "$(dirname "$0")/lib.sh"

KUBECLIENT=${VKC_TOOLS_DIR:-$BUILD/tests}/kubeclient
BENCH_SECONDS=${VKC_BENCH_SECONDS:-10}
[ -x "$KUBECLIENT" ] || fail "no kubeclient at $KUBECLIENT (build the tests)"
eval "$("$SRC/hack/local-cluster.sh" env)"
INFORMER_PID=""

kc() { "$KUBECLIENT" "$@"; }

# whoami KUBECONFIG: the username the apiserver sees.
whoami_as() {
	kc --kubeconfig "$1" create /apis/authentication.k8s.io/v1/selfsubjectreviews \
	    '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' |
	    grep -o '"username":"[^"]*"' | cut -d'"' -f4
}

stop_informer() {
	if [ -n "$INFORMER_PID" ]; then
		kill -TERM "$INFORMER_PID" 2>/dev/null || true
		wait "$INFORMER_PID" 2>/dev/null || true
		INFORMER_PID=""
	fi
}

# A stopped apiserver must be back however the test ends.
OUTAGE=0
restore_apiserver() {
	stop_informer
	if [ $OUTAGE -eq 1 ]; then
		"$SRC/hack/local-cluster.sh" up >/dev/null 2>&1 || true
	fi
}
# shellcheck disable=SC2154 # rc_ is set inside the trap itself
trap 'rc_=$?; set +e; restore_apiserver; (exit $rc_); cleanup' EXIT

# restart_apiserver [compact]: a short outage, compacting etcd meanwhile
# when asked.
restart_apiserver() {
	log "stopping kube-apiserver${1:+ and compacting etcd}"
	OUTAGE=1
	"$SRC/hack/local-cluster.sh" stop kube-apiserver >/dev/null
	sleep 3
	if [ "${1:-}" = compact ]; then
		"$SRC/hack/local-cluster.sh" compact >&2
	fi
	"$SRC/hack/local-cluster.sh" up >/dev/null
	OUTAGE=0
	log "kube-apiserver is back"
}

# --- authentication -------------------------------------------------------
log "GET as the client-certificate admin, the token admin, an exec plugin"
kc --kubeconfig "$VKC_ADMIN_KUBECONFIG" get /api/v1/namespaces/default >/dev/null ||
	fail "GET with the client-certificate kubeconfig"
expect_eq "$(whoami_as "$VKC_ADMIN_KUBECONFIG")" vkc-admin "certificate user"
kc --kubeconfig "$VKC_TOKEN_KUBECONFIG" get /api/v1/namespaces/default >/dev/null ||
	fail "GET with the token kubeconfig"
token_user=$(whoami_as "$VKC_TOKEN_KUBECONFIG")
[ -n "$token_user" ] || fail "no username for the token kubeconfig"

# an exec plugin handing out the token admin's token; it counts its runs
TOKEN=$(sed -n 's/^ *token: *//p' "$VKC_TOKEN_KUBECONFIG" | head -n1)
[ -n "$TOKEN" ] || fail "no token in $VKC_TOKEN_KUBECONFIG"
cat >"$WORK/exec-credential.sh" <<EOF
#!/bin/sh
echo run >>"$WORK/exec-runs"
[ "\$VKC_EXEC_MARK" = on ] || { echo "env not passed" >&2; exit 1; }
cat <<JSON
{"apiVersion":"\$1","kind":"ExecCredential",
 "status":{"token":"$TOKEN","expirationTimestamp":"2999-01-01T00:00:00Z"}}
JSON
EOF
chmod +x "$WORK/exec-credential.sh"
for api in client.authentication.k8s.io/v1 client.authentication.k8s.io/v1beta1; do
	cat >"$WORK/exec.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $VKC_APISERVER_URL
    certificate-authority: $VKC_CA_FILE
users:
- name: plugin
  user:
    exec:
      apiVersion: $api
      command: ./exec-credential.sh
      args: ["$api"]
      env:
      - name: VKC_EXEC_MARK
        value: "on"
      interactiveMode: Never
      installHint: "the test writes exec-credential.sh"
contexts:
- name: local
  context: {cluster: local, user: plugin}
current-context: local
EOF
	rm -f "$WORK/exec-runs"
	kc --kubeconfig "$WORK/exec.kubeconfig" get /api/v1/namespaces/default >/dev/null ||
		fail "GET with an exec plugin ($api)"
	expect_eq "$(wc -l <"$WORK/exec-runs" | tr -d ' ')" 1 "exec plugin runs for one request"
	expect_eq "$(whoami_as "$WORK/exec.kubeconfig")" "$token_user" "exec plugin user ($api)"
done

# a user without the right: the apiserver's Status in one line
out=$(kc --kubeconfig "$VKC_USER_KUBECONFIG" get /api/v1/namespaces/default 2>&1) &&
	fail "a forbidden GET succeeded"
expect_contains "$out" "403 Forbidden: namespaces \"default\" is forbidden: User \"$VKC_E2E_USER\"" \
	"forbidden status line"
out=$(kc --kubeconfig "$VKC_ADMIN_KUBECONFIG" get /api/v1/namespaces/no-such-ns-$RANDOM 2>&1) &&
	fail "GET of a missing namespace succeeded"
expect_contains "$out" "404 NotFound: namespaces \"no-such-ns-" "not-found status line"

# --- watch and informer across an apiserver restart ----------------------
new_namespace
log "namespace $NS"
KC_ARGS=(--kubeconfig "$VKC_ADMIN_KUBECONFIG")

# a raw watch delivers events as they happen
labelled_configmap() {
	kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: $1, labels: {t: w}}
EOF
}
"$KUBECLIENT" "${KC_ARGS[@]}" watch "/api/v1/namespaces/$NS/configmaps?watch=1&labelSelector=t%3Dw" \
	--events 3 --timeout 30 >"$WORK/watch.out" 2>&1 &
watch_pid=$!
sleep 1
labelled_configmap w1
labelled_configmap w2
kubectl -n "$NS" delete configmap w2 >/dev/null
wait $watch_pid || { cat "$WORK/watch.out" >&2; fail "raw watch"; }
expect_eq "$(cut -d' ' -f1,2 "$WORK/watch.out" | tr '\n' ,)" "ADDED w1,ADDED w2,DELETED w2," \
	"raw watch events"

start_informer() {
	"$KUBECLIENT" "${KC_ARGS[@]}" -v 2 informer "" v1 configmaps "$NS" \
	    >"$WORK/informer.out" 2>"$WORK/informer.err" &
	INFORMER_PID=$!
	eventually 30 grep -q '^LISTS 1$' "$WORK/informer.out" ||
		fail "the informer did not sync"
}
seen() { grep -q "^$1 $2 " "$WORK/informer.out"; }

# compare_store: the informer's cache equals the server's list, name and
# resourceVersion, once the informer is stopped.
compare_store() {
	local want got
	want=$(kubectl -n "$NS" get configmaps -o \
	    jsonpath='{range .items[*]}{.metadata.name} {.metadata.resourceVersion}{"\n"}{end}' |
	    sort)
	stop_informer
	got=$(sed -n 's/^STORE //p' "$WORK/informer.out" | sort)
	[ "$got" = "$want" ] || {
		echo "informer:"; cat "$WORK/informer.out"; echo "server:"; echo "$want"
		tail -n 20 "$WORK/informer.err"
	} >&2
	[ "$got" = "$want" ] || fail "$1: the informer's cache differs from the server"
}

start_informer
kubectl -n "$NS" create configmap before >/dev/null
eventually 20 seen ADDED before || fail "no event before the restart"
restart_apiserver
kubectl -n "$NS" create configmap after >/dev/null
kubectl -n "$NS" label configmap before changed=yes >/dev/null
kubectl -n "$NS" delete configmap w1 >/dev/null
eventually 60 seen ADDED after || fail "no event after the restart"
eventually 20 seen DELETED w1 || fail "no delete after the restart"
kill -0 "$INFORMER_PID" || fail "the informer exited"
compare_store "restart"
log "restart: $(grep -c '' "$WORK/informer.out") lines, $(grep '^LISTS' "$WORK/informer.out" | tail -n1)"

# --- 410 after compaction --------------------------------------------------
start_informer
for i in 1 2 3; do kubectl -n "$NS" create configmap c$i >/dev/null; done
eventually 20 seen ADDED c3 || fail "no events before compaction"
old_rv=$(kubectl -n "$NS" get configmap c1 -o jsonpath='{.metadata.resourceVersion}')
# writes the informer does not watch move etcd past what it has seen
for i in 1 2 3 4 5; do kubectl -n "$NS" create secret generic s$i >/dev/null; done
restart_apiserver compact
# changes right after: some may land before the informer is back
kubectl -n "$NS" delete configmap c2 >/dev/null
kubectl -n "$NS" create configmap d1 >/dev/null
kubectl -n "$NS" label configmap c1 phase=after >/dev/null
eventually 60 grep -q '^LISTS 2$' "$WORK/informer.out" ||
	fail "the informer did not relist after compaction"
grep -q 'relisting' "$WORK/informer.err" || fail "no 410 seen by the informer"
eventually 30 seen ADDED d1 || fail "d1 not seen"
kubectl -n "$NS" create configmap d2 >/dev/null
eventually 30 seen ADDED d2 || fail "d2 not seen after the relist"
compare_store "compaction"
# a read at a compacted resourceVersion is a 410 Expired
out=$(kc "${KC_ARGS[@]}" get "/api/v1/namespaces/$NS/configmaps?resourceVersion=$old_rv&resourceVersionMatch=Exact" 2>&1) &&
	fail "a list at a compacted resourceVersion succeeded"
expect_contains "$out" "410 Expired" "list at a compacted resourceVersion"

# --- throughput --------------------------------------------------------------
get_rate=$(kc "${KC_ARGS[@]}" bench-get "/api/v1/namespaces/$NS/configmaps/c1" "$BENCH_SECONDS") ||
	fail "bench-get"
apply_rate=$(kc "${KC_ARGS[@]}" bench-apply "$NS" "$BENCH_SECONDS") || fail "bench-apply"
log "$get_rate"
log "$apply_rate"
expect_eq "$(kubectl -n "$NS" get configmap kubeclient-bench -o jsonpath='{.metadata.managedFields[0].manager}')" \
	kubeclient "apply field manager"
