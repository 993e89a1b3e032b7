#!/usr/bin/env bash
# build-control-plane.sh: builds etcd, kube-apiserver and
# kube-controller-manager from the Go modules in hack/tools/ and prints the
# directory that holds them.
#
# The binaries are cached in
#   ${VKC_CACHE_DIR:-$HOME/.cache/vkc-operator}/control-plane/<key>/bin
# where <key> hashes both modules' go.mod and go.sum, the Go version and the
# build recipe below, so changing any of them builds afresh and an unchanged
# tree costs only the hash. A build goes to a temporary directory that is
# renamed into place when complete: a killed build never leaves a half cache.
#
# stdout: the bin directory, nothing else. Progress goes to stderr.
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=$HACK/tools
CACHE_ROOT=${VKC_CACHE_DIR:-${HOME:?HOME is not set}/.cache/vkc-operator}/control-plane

K8S_VERSION=v1.37.2
K8S_MINOR=${K8S_VERSION#v1.}
K8S_MINOR=${K8S_MINOR%%.*}
# Stamping the version makes /version (and so `kubectl version`) report the
# release instead of v0.0.0-master.
K8S_LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$K8S_MINOR"
ETCD_LDFLAGS="-s -w"
BINARIES=(etcd kube-apiserver kube-controller-manager)

log() { printf 'build-control-plane: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# cache_key: a short hash of everything that decides what the binaries are.
cache_key() {
	{
		cat "$TOOLS/go.mod" "$TOOLS/go.sum" "$TOOLS/etcd/go.mod" "$TOOLS/etcd/go.sum"
		(cd "$TOOLS" && go version)
		printf '%s\n%s\n' "$K8S_LDFLAGS" "$ETCD_LDFLAGS"
	} | sha256sum | cut -c1-16
}

# complete DIR: true when DIR holds every binary, executable.
complete() {
	local b
	for b in "${BINARIES[@]}"; do
		[ -x "$1/$b" ] || return 1
	done
}

# go_build OUT: builds the three binaries into OUT. etcd has a module of its
# own because its requirements would otherwise change the Kubernetes build
# list.
go_build() {
	local out=$1
	log "building kube-apiserver and kube-controller-manager $K8S_VERSION (a cold build takes many minutes)"
	(cd "$TOOLS" && CGO_ENABLED=0 go build -trimpath -ldflags="$K8S_LDFLAGS" -o "$out/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager) 9>&-
	log "building etcd"
	(cd "$TOOLS/etcd" && CGO_ENABLED=0 go build -trimpath -ldflags="$ETCD_LDFLAGS" -o "$out/etcd" \
		go.etcd.io/etcd/server/v3) 9>&-
	complete "$out" || die "go build finished but $out lacks a binary"
}

# build_into DEST: builds in a temporary sibling of DEST, then renames it to
# DEST, so DEST either does not exist or is complete.
build_into() {
	local dest=$1 tmp
	tmp=$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")
	# shellcheck disable=SC2064 # expand tmp now: it is local
	trap "rm -rf '$tmp'" EXIT
	mkdir "$tmp/bin"
	go_build "$tmp/bin"
	rm -rf "$dest" # an incomplete leftover from an older layout, if any
	mv -T "$tmp" "$dest"
	trap - EXIT
}

main() {
	command -v go >/dev/null || die "go not found in PATH (Go 1.26 or newer builds the test control plane)"
	local key dir
	key=$(cache_key)
	dir=$CACHE_ROOT/$key
	if complete "$dir/bin"; then
		echo "$dir/bin"
		return
	fi
	mkdir -p "$CACHE_ROOT"
	# One build per key at a time; a second caller waits and then finds the
	# cache filled. go runs with fd 9 closed so nothing it leaves behind
	# keeps the lock.
	exec 9>"$CACHE_ROOT/.lock-$key"
	flock 9
	if ! complete "$dir/bin"; then
		log "cache miss for key $key: building into $dir"
		build_into "$dir"
		log "done"
	fi
	echo "$dir/bin"
}

main "$@"
