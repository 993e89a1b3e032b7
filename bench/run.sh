#!/usr/bin/env bash
# bench/run.sh: vkc-operator's benchmarks against the local control plane
# (hack/local-cluster.sh), printing a table. `make bench` runs it; it is not
# part of `make test`. See BENCHMARKS.md for what it measures and the numbers.
#
# It builds the operator in Release mode into $BENCH_BUILD_DIR, starts the
# local cluster if needed (never restarts it), installs the CRD, and runs
# bench/vkcbench.py: every run is one operator process with --namespace of
# its own bench-* namespace, which is deleted afterwards.
#
# Environment:
#   BENCH_SIZES          connector counts (default "1 100 1000")
#   BENCH_CONCURRENCY    --concurrency values, each size runs with each
#                        (default "2 4")
#   BENCH_LARGE_ALL=1    run sizes >= 1000 with every concurrency, not only
#                        the first (each such run takes minutes)
#   BENCH_REST_SECONDS   the at-rest window with the largest size (300)
#   BENCH_SINGLE_REPEATS connectors created one by one for size 1 (20)
#   BENCH_TIMEOUT        seconds one run may take to converge (600)
#   BENCH_BUILD_DIR      (build-bench)
#   BENCH_OUT            the raw results, JSON ($BENCH_BUILD_DIR/bench-results.json)
#   BENCH_CLUSTER        private (default: a control plane of its own, on
#                        ports 36xxx, removed afterwards unless
#                        BENCH_KEEP_CLUSTER=1) or shared (hack/local-cluster.sh's)
#   KUBECONFIG           another cluster instead (the apiserver process CPU
#                        column then reads 0)
# A quick run: BENCH_SIZES="1 100" BENCH_CONCURRENCY=2 BENCH_REST_SECONDS=30 make bench
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$SRC/build-bench}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac

log() { printf '[%s] bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

WORK="" DOWN=0
cleanup() {
	[ -z "$WORK" ] || rm -f "$WORK/client.key" "$WORK/client.crt"
	if [ "$DOWN" = 1 ]; then
		log "removing the private control plane"
		"$SRC/hack/local-cluster.sh" down >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

log "building the operator (Release) in $BUILD"
cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" --target vkc-operator >/dev/null
# the libraries' own cost, to tell it from the operator's
read -r -a libflags <<<"$(pkg-config --cflags --libs libcurl json-c)"
cc -O2 -o "$BUILD/bench-baseline" "$SRC/bench/baseline.c" "${libflags[@]}"

# A control plane of its own by default (hack/local-cluster.sh with another
# state directory and ports): the shared one is restarted and compacted by
# the fault tests, and other engineers' operators there act on every
# ClusterRoleBinding the operator labels, which would disturb both sides.
# BENCH_CLUSTER=shared uses the shared local cluster instead (never
# restarting it); a set KUBECONFIG uses that cluster.
if [ -n "${KUBECONFIG:-}" ]; then
	CLUSTER_DIR=/nonexistent
	log "using the cluster of KUBECONFIG=$KUBECONFIG"
else
	if [ "${BENCH_CLUSTER:-private}" = private ]; then
		export VKC_CLUSTER_DIR=${BENCH_CLUSTER_DIR:-$BUILD/bench-cluster}
		export VKC_APISERVER_PORT=${BENCH_APISERVER_PORT:-36443}
		export VKC_ETCD_PORT=${BENCH_ETCD_PORT:-36379}
		export VKC_ETCD_PEER_PORT=${BENCH_ETCD_PEER_PORT:-36380}
		export VKC_KCM_PORT=${BENCH_KCM_PORT:-36257}
		if [ "${BENCH_KEEP_CLUSTER:-0}" != 1 ]; then
			DOWN=1
		fi
		log "starting a private control plane in $VKC_CLUSTER_DIR (apiserver port $VKC_APISERVER_PORT)"
	fi
	"$SRC/hack/local-cluster.sh" up
	eval "$("$SRC/hack/local-cluster.sh" env)"
	CLUSTER_DIR=$VKC_CLUSTER_DIR
fi

kubectl apply --server-side --force-conflicts -f "$SRC/crds/" >/dev/null
kubectl wait --for=condition=Established --timeout=60s \
	crd/virtualkubeletconnectors.connectors.virtual-kubelet.io >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vkc-bench.XXXXXX")

# baseline: a process that only links libcurl+OpenSSL+json-c, then one that
# also does one verified TLS GET with a client certificate
BASELINE=$("$BUILD/bench-baseline")
if [ -n "${VKC_CLUSTER_DIR:-}" ]; then
	BASELINE+=$'\n'$("$BUILD/bench-baseline" "$VKC_APISERVER_URL/version" \
		"$VKC_CLUSTER_DIR/pki/ca.crt" "$VKC_CLUSTER_DIR/pki/admin.crt" "$VKC_CLUSTER_DIR/pki/admin.key")
fi

log "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
log "work directory (operator logs): $WORK"
printf '%s\n' "$BASELINE" | sed 's/^/bench: baseline: /' >&2

large_all=()
[ "${BENCH_LARGE_ALL:-0}" = 1 ] && large_all=(--large-all)
python3 "$SRC/bench/vkcbench.py" \
	--operator "$BUILD/vkc-operator" --kubeconfig "$KUBECONFIG" \
	--cluster-dir "$CLUSTER_DIR" --workdir "$WORK" \
	--sizes "${BENCH_SIZES:-1 100 1000}" --concurrency "${BENCH_CONCURRENCY:-2 4}" \
	--rest-seconds "${BENCH_REST_SECONDS:-300}" \
	--single-repeats "${BENCH_SINGLE_REPEATS:-20}" \
	--timeout "${BENCH_TIMEOUT:-600}" \
	"${large_all[@]}" \
	--baseline "$BASELINE" \
	--out "${BENCH_OUT:-$BUILD/bench-results.json}"
