#!/usr/bin/env bash
# local-cluster.sh: a real Kubernetes control plane for tests and local runs:
# etcd, kube-apiserver (TLS, Node+RBAC authorization) and
# kube-controller-manager, each its own process, all on 127.0.0.1, built from
# the Go modules in hack/tools/ by hack/build-control-plane.sh.
#
#   up          build what is missing, start what is not running, wait until
#               ready; safe to run again, and restarts a component that died
#   kubeconfig  print the path of the admin (client certificate) kubeconfig
#   env         print `export` lines for eval: kubeconfigs, ports, URLs
#   status      print each component's pid and health (exit 1 if one is down)
#   stop COMPONENT   stop etcd, kube-apiserver or kube-controller-manager
#   compact     compact etcd to its current revision (watches from before
#               then can get 410 Gone)
#   down        stop everything and remove the state directory
#
# Environment: VKC_CLUSTER_DIR (state, default hack/.local-cluster),
# VKC_APISERVER_PORT (16443), VKC_ETCD_PORT (16379), VKC_ETCD_PEER_PORT
# (16380), VKC_KCM_PORT (16257), VKC_READY_TIMEOUT (seconds, 180),
# VKC_CACHE_DIR (see build-control-plane.sh), and VKC_ETCD_ARGS,
# VKC_APISERVER_ARGS, VKC_KCM_ARGS: extra flags, split on blanks.
set -euo pipefail
# the state directory holds private keys and bearer tokens
umask 077

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HACK")
STATE=$(realpath -m "${VKC_CLUSTER_DIR:-$REPO/hack/.local-cluster}")
PKI=$STATE/pki

APISERVER_PORT=${VKC_APISERVER_PORT:-16443}
ETCD_PORT=${VKC_ETCD_PORT:-16379}
ETCD_PEER_PORT=${VKC_ETCD_PEER_PORT:-16380}
KCM_PORT=${VKC_KCM_PORT:-16257}
READY_TIMEOUT=${VKC_READY_TIMEOUT:-180}
STOP_TIMEOUT=${VKC_STOP_TIMEOUT:-10}

ETCD_URL=http://127.0.0.1:$ETCD_PORT
ETCD_PEER_URL=http://127.0.0.1:$ETCD_PEER_PORT
APISERVER_URL=https://127.0.0.1:$APISERVER_PORT
KCM_URL=https://127.0.0.1:$KCM_PORT

# start order; stop goes the other way
COMPONENTS=(etcd kube-apiserver kube-controller-manager)
# The four the tests need, plus the service-account ones so that the
# ServiceAccount admission plugin can stay on as in a real cluster: every
# namespace gets its "default" ServiceAccount and its kube-root-ca.crt
# ConfigMap, and pods naming a ServiceAccount are admitted once it exists.
# clusterrole-aggregation-controller keeps admin/edit/view aggregating rules
# from other ClusterRoles (such as a CRD's), as a real cluster does.
KCM_CONTROLLERS=garbage-collector-controller,deployment-controller,replicaset-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller
SERVICE_CIDR=10.0.0.0/24
# the first address of SERVICE_CIDR: the "kubernetes" Service's ClusterIP
SERVICE_IP=10.0.0.1
ADMIN_CERT_USER=vkc-admin
ADMIN_TOKEN_USER=vkc-token-admin
E2E_USER=vkc-e2e-user

log() { printf 'local-cluster: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || die "$c not found in PATH"
	done
}

# lock: serialises commands that change the cluster. The lock file lives
# outside the state directory because `down` removes that.
lock() {
	local id
	id=$(printf '%s' "$STATE" | sha256sum | cut -c1-12)
	exec 9>"${TMPDIR:-/tmp}/vkc-local-cluster-$id.lock"
	flock -w 600 9 || die "another local-cluster.sh holds the lock for $STATE"
}

# ---- PKI and kubeconfigs --------------------------------------------------

# ossl ARGS...: openssl, quiet unless it fails.
ossl() {
	local err
	err=$(openssl "$@" 2>&1 >/dev/null) || die "openssl $1 failed: $err"
}

# make_ca DIR
make_ca() {
	ossl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
		-keyout "$1/ca.key" -out "$1/ca.crt" -subj "/CN=vkc-operator local CA" \
		-config <(printf '[req]\ndistinguished_name=dn\nx509_extensions=ext\n[dn]\n[ext]\n%s\n%s\n%s\n' \
			'basicConstraints=critical,CA:TRUE' 'keyUsage=critical,keyCertSign,cRLSign' \
			'subjectKeyIdentifier=hash')
}

# make_cert DIR NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]: a key
# and a certificate signed by DIR's CA.
make_cert() {
	local dir=$1 name=$2 subj=$3 eku=$4 san=${5:-}
	ossl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" \
		-out "$dir/$name.csr" -subj "$subj" -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n')
	ossl x509 -req -sha256 -days 3650 -in "$dir/$name.csr" \
		-CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
		-out "$dir/$name.crt" -extfile <(
			printf 'basicConstraints=critical,CA:FALSE\n'
			printf 'keyUsage=critical,digitalSignature,keyEncipherment\n'
			printf 'extendedKeyUsage=%s\n' "$eku"
			printf 'authorityKeyIdentifier=keyid\n'
			[ -z "$san" ] || printf 'subjectAltName=%s\n' "$san"
		)
	rm -f "$dir/$name.csr"
}

# write_tokens DIR: bearer tokens for an admin and for an ordinary user with
# no groups (RBAC tests), in kube-apiserver's --token-auth-file format.
write_tokens() {
	openssl rand -hex 32 >"$1/admin.token"
	openssl rand -hex 32 >"$1/user.token"
	{
		printf '%s,%s,%s,"system:masters"\n' "$(<"$1/admin.token")" "$ADMIN_TOKEN_USER" "$ADMIN_TOKEN_USER"
		printf '%s,%s,%s\n' "$(<"$1/user.token")" "$E2E_USER" "$E2E_USER"
	} >"$1/tokens.csv"
}

# ensure_pki: made once per state directory, in a temporary directory renamed
# into place, so an interrupted run leaves no half-made PKI.
ensure_pki() {
	[ -f "$PKI/.complete" ] && return
	log "generating PKI in $PKI"
	local tmp
	tmp=$(mktemp -d "$STATE/.pki.XXXXXX")
	make_ca "$tmp"
	make_cert "$tmp" apiserver "/CN=kube-apiserver" serverAuth \
		"DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$SERVICE_IP"
	make_cert "$tmp" kcm-serving "/CN=kube-controller-manager" serverAuth "DNS:localhost,IP:127.0.0.1"
	make_cert "$tmp" admin "/O=system:masters/CN=$ADMIN_CERT_USER" clientAuth
	# With --use-service-account-credentials=false every controller acts as
	# the controller manager itself, so it needs more than the bootstrap
	# system:kube-controller-manager role grants.
	make_cert "$tmp" kcm "/O=system:masters/CN=system:kube-controller-manager" clientAuth
	ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/sa.key"
	ossl pkey -in "$tmp/sa.key" -pubout -out "$tmp/sa.pub"
	write_tokens "$tmp"
	touch "$tmp/.complete"
	rm -rf "$PKI"
	mv -T "$tmp" "$PKI"
}

b64() { base64 -w0 <"$1"; }

# write_kubeconfig FILE USER AUTH_LINES: AUTH_LINES are the user's fields,
# already indented. Written to a temporary file and renamed, so a reader
# never sees half a file.
write_kubeconfig() {
	local file=$1 user=$2 auth=$3
	cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: vkc-local
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: $user
  user:
$auth
contexts:
- name: vkc-local
  context:
    cluster: vkc-local
    user: $user
current-context: vkc-local
EOF
	mv -f "$file.tmp" "$file"
}

cert_auth() {
	printf '    client-certificate-data: %s\n    client-key-data: %s' \
		"$(b64 "$PKI/$1.crt")" "$(b64 "$PKI/$1.key")"
}

token_auth() { printf '    token: %s' "$(<"$PKI/$1.token")"; }

# write_kubeconfigs: rewritten on every `up` because they embed the port.
write_kubeconfigs() {
	write_kubeconfig "$STATE/admin.kubeconfig" "$ADMIN_CERT_USER" "$(cert_auth admin)"
	write_kubeconfig "$STATE/token.kubeconfig" "$ADMIN_TOKEN_USER" "$(token_auth admin)"
	write_kubeconfig "$STATE/user.kubeconfig" "$E2E_USER" "$(token_auth user)"
	write_kubeconfig "$STATE/kcm.kubeconfig" system:kube-controller-manager "$(cert_auth kcm)"
}

# ---- components -----------------------------------------------------------

# command_for NAME: sets CMD to NAME's command line. Every listener is bound
# to 127.0.0.1 explicitly, since the defaults of some are all addresses.
command_for() {
	local extra=()
	case $1 in
	etcd)
		read -ra extra <<<"${VKC_ETCD_ARGS:-}"
		CMD=("$BIN/etcd" --name=vkc --data-dir="$STATE/etcd"
			--listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL"
			--listen-peer-urls="$ETCD_PEER_URL" --initial-advertise-peer-urls="$ETCD_PEER_URL"
			--initial-cluster="vkc=$ETCD_PEER_URL"
			# a throwaway test store: durability is not worth the fsyncs
			--unsafe-no-fsync --log-level=warn)
		;;
	kube-apiserver)
		read -ra extra <<<"${VKC_APISERVER_ARGS:-}"
		# shellcheck disable=SC2054 # the commas are inside flag values
		CMD=("$BIN/kube-apiserver" --etcd-servers="$ETCD_URL"
			--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT"
			# the endpoint reconciler refuses a loopback address; nothing here
			# reaches the apiserver through the "kubernetes" Service anyway
			--endpoint-reconciler-type=none
			# end open watches on SIGTERM instead of letting them hold the
			# shutdown for a minute, so `stop` is quick and graceful
			--shutdown-watch-termination-grace-period=2s
			# the default, /var/run/kubernetes, is shared and needs root
			--cert-dir="$STATE/apiserver-certs"
			--tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key"
			--client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv"
			--authorization-mode=Node,RBAC --allow-privileged=true
			--service-cluster-ip-range="$SERVICE_CIDR"
			--service-account-issuer=https://kubernetes.default.svc.cluster.local
			--service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key")
		;;
	kube-controller-manager)
		read -ra extra <<<"${VKC_KCM_ARGS:-}"
		CMD=("$BIN/kube-controller-manager" --kubeconfig="$STATE/kcm.kubeconfig"
			# its own port trusts our CA directly, so /metrics answers the
			# admin; looking the CA up in the cluster would also want a
			# front-proxy CA, which this cluster does not have
			--authentication-kubeconfig="$STATE/kcm.kubeconfig" --authentication-skip-lookup=true
			--client-ca-file="$PKI/ca.crt" --authorization-kubeconfig="$STATE/kcm.kubeconfig"
			--controllers="$KCM_CONTROLLERS" --leader-elect=false --use-service-account-credentials=false
			--service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt"
			--bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$STATE/kcm-certs"
			--tls-cert-file="$PKI/kcm-serving.crt" --tls-private-key-file="$PKI/kcm-serving.key")
		;;
	*) die "unknown component '$1' (one of: ${COMPONENTS[*]})" ;;
	esac
	CMD+=("${extra[@]}")
}

ports_of() {
	case $1 in
	etcd) echo "$ETCD_PORT $ETCD_PEER_PORT" ;;
	kube-apiserver) echo "$APISERVER_PORT" ;;
	kube-controller-manager) echo "$KCM_PORT" ;;
	esac
}

# port_owner PORT: prints what listens on TCP PORT (any address); fails when
# nothing does.
port_owner() {
	local out
	if command -v ss >/dev/null; then
		out=$(ss -Hltnp "sport = :$1" 2>/dev/null)
		[ -n "$out" ] || return 1
		echo "$out"
	else
		(: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null || return 1
		echo "a process"
	fi
}

check_ports() {
	local port owner
	for port in $(ports_of "$1"); do
		if owner=$(port_owner "$port"); then
			die "cannot start $1: port $port is already in use by: $owner (choose other ports with VKC_*_PORT)"
		fi
	done
}

curl_ca() { curl -fsS --max-time 3 --cacert "$PKI/ca.crt" "$@"; }

# healthy NAME: one health probe.
healthy() {
	local out
	case $1 in
	etcd)
		out=$(curl -fsS --max-time 3 "$ETCD_URL/health" 2>/dev/null) || return 1
		[[ $out == *'"health":"true"'* ]]
		;;
	kube-apiserver)
		curl_ca --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$APISERVER_URL/readyz" >/dev/null 2>&1
		;;
	kube-controller-manager)
		curl_ca "$KCM_URL/healthz" >/dev/null 2>&1
		;;
	esac
}

# ours PID: true when PID is a live component of this cluster. A recorded
# pid may since have been reused by an unrelated process; ours carry the
# state directory in their arguments (a zombie has no arguments).
ours() {
	local args
	args=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	[[ $args == *"$STATE/"* ]]
}

# running_pid NAME: prints NAME's pid when it runs.
running_pid() {
	local f=$STATE/$1.pid pid
	[ -f "$f" ] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	ours "$pid" || return 1
	echo "$pid"
}

# wait_healthy NAME PID SECONDS: fails when PID exits or time runs out.
wait_healthy() {
	local name=$1 pid=$2 deadline=$((SECONDS + $3))
	until healthy "$name"; do
		ours "$pid" || return 1
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.3
	done
}

# fail_with_log NAME: stops what did not become ready, so that the next `up`
# starts it afresh, and shows why.
fail_with_log() {
	stop_component "$1"
	log "error: $1 did not become ready; last lines of $STATE/$1.log:"
	tail -n 40 "$STATE/$1.log" >&2
	exit 1
}

start_component() {
	local name=$1
	check_ports "$name"
	command_for "$name"
	log "starting $name"
	printf '==== %s: %s\n' "$(date -Is)" "${CMD[*]}" >>"$STATE/$name.log"
	# setsid: the component outlives this script and the terminal's signals;
	# fd 9 (the lock) is not passed on.
	setsid "${CMD[@]}" </dev/null >>"$STATE/$name.log" 2>&1 9>&- &
	echo $! >"$STATE/$name.pid"
	wait_healthy "$name" $! "$READY_TIMEOUT" || fail_with_log "$name"
	log "$name is ready (pid $(<"$STATE/$name.pid"))"
}

# ensure NAME: leaves NAME running and healthy. A live but unhealthy
# instance is given time to finish starting, then replaced.
ensure() {
	local name=$1 pid
	if pid=$(running_pid "$name"); then
		healthy "$name" && return
		log "$name (pid $pid) runs but is not ready yet; waiting"
		wait_healthy "$name" "$pid" "$READY_TIMEOUT" && return
		log "$name (pid $pid) did not become ready; restarting it"
		stop_component "$name"
	fi
	start_component "$name"
}

# wait_gone PID SECONDS
wait_gone() {
	local deadline=$((SECONDS + $2))
	while ours "$1"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

# stop_component NAME: TERM, then KILL if it has not exited in time. Only
# the recorded pid is ever signalled.
stop_component() {
	local name=$1 pid
	if pid=$(running_pid "$name"); then
		log "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
			log "$name did not exit within ${STOP_TIMEOUT}s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			wait_gone "$pid" 5 || die "$name (pid $pid) survived SIGKILL"
		fi
	fi
	rm -f "$STATE/$name.pid"
}

# ---- commands ---------------------------------------------------------------

cmd_up() {
	need openssl curl flock setsid base64 sha256sum
	BIN=$("$HACK/build-control-plane.sh")
	mkdir -p "$STATE"
	lock
	ensure_pki
	write_kubeconfigs
	local c
	for c in "${COMPONENTS[@]}"; do
		ensure "$c"
	done
	log "up: KUBECONFIG=$STATE/admin.kubeconfig"
}

cmd_down() {
	lock
	if [ ! -d "$STATE" ]; then
		log "nothing to do: $STATE does not exist"
		return
	fi
	local i
	for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
		stop_component "${COMPONENTS[i]}"
	done
	rm -rf "$STATE"
	log "down: removed $STATE"
}

cmd_stop() {
	[ $# -eq 1 ] || die "usage: $0 stop etcd|kube-apiserver|kube-controller-manager"
	case $1 in
	etcd | kube-apiserver | kube-controller-manager) ;;
	*) die "unknown component '$1' (one of: ${COMPONENTS[*]})" ;;
	esac
	lock
	stop_component "$1"
}

require_state() {
	[ -f "$STATE/admin.kubeconfig" ] || die "no local cluster in $STATE: run '$0 up' first"
}

cmd_kubeconfig() {
	require_state
	echo "$STATE/admin.kubeconfig"
}

cmd_env() {
	require_state
	local kv
	for kv in \
		"KUBECONFIG=$STATE/admin.kubeconfig" \
		"VKC_CLUSTER_DIR=$STATE" \
		"VKC_ADMIN_KUBECONFIG=$STATE/admin.kubeconfig" \
		"VKC_TOKEN_KUBECONFIG=$STATE/token.kubeconfig" \
		"VKC_USER_KUBECONFIG=$STATE/user.kubeconfig" \
		"VKC_E2E_USER=$E2E_USER" \
		"VKC_CA_FILE=$PKI/ca.crt" \
		"VKC_APISERVER_URL=$APISERVER_URL" \
		"VKC_APISERVER_PORT=$APISERVER_PORT" \
		"VKC_ETCD_URL=$ETCD_URL" \
		"VKC_ETCD_PORT=$ETCD_PORT" \
		"VKC_ETCD_PEER_PORT=$ETCD_PEER_PORT" \
		"VKC_KCM_PORT=$KCM_PORT"; do
		printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
	done
}

cmd_status() {
	local c pid rc=0
	for c in "${COMPONENTS[@]}"; do
		if ! pid=$(running_pid "$c"); then
			printf '%-24s stopped\n' "$c"
			rc=1
		elif healthy "$c"; then
			printf '%-24s running (pid %s), healthy\n' "$c" "$pid"
		else
			printf '%-24s running (pid %s), NOT healthy\n' "$c" "$pid"
			rc=1
		fi
	done
	return $rc
}

# etcd_post PATH JSON: a call to etcd's HTTP/JSON gateway; prints the
# answer, an error object included.
etcd_post() {
	curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' -d "$2" "$ETCD_URL$1"
}

cmd_compact() {
	need curl
	local out rev
	# any range answers with the store's current revision in its header
	out=$(etcd_post /v3/kv/range '{"key":"AA==","limit":1}') ||
		die "etcd does not answer at $ETCD_URL"
	rev=$(grep -o '"revision":"[0-9]*"' <<<"$out" | head -n1 | tr -dc 0-9)
	[ -n "$rev" ] || die "no revision in etcd's answer: $out"
	out=$(etcd_post /v3/kv/compaction "{\"revision\":\"$rev\",\"physical\":true}") ||
		die "etcd does not answer at $ETCD_URL"
	case $out in
	*'required revision has been compacted'*) log "etcd is already compacted to revision $rev" ;;
	*'"error"'* | *'"code"'*) die "compaction to revision $rev failed: $out" ;;
	*) log "compacted etcd to revision $rev" ;;
	esac
}

main() {
	[ $# -ge 1 ] || usage
	local cmd=$1
	shift
	case $cmd in
	up) cmd_up ;;
	down) cmd_down ;;
	kubeconfig) cmd_kubeconfig ;;
	env) cmd_env ;;
	status) cmd_status ;;
	stop) cmd_stop "$@" ;;
	compact) cmd_compact ;;
	-h | --help | help) usage ;;
	*)
		log "unknown command '$cmd'"
		usage
		;;
	esac
}

main "$@"
