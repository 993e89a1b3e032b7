#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages vkc-operator builds and
# tests with, when any is missing. Safe to run again: it checks first.
# Go (for the test control plane under hack/tools) and kubectl must be on
# PATH already; the script says so when they are not.
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config
	libcurl4-openssl-dev libjson-c-dev libyaml-dev libmicrohttpd-dev
	libssl-dev openssl clang libclang-rt-14-dev curl python3 ca-certificates)

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
	sudo=sudo
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}" >&2
	if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
		echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

command -v go >/dev/null || {
	echo "install-deps: go not found: the test control plane is built from Go modules; install Go 1.26 or newer" >&2
	exit 1
}
if ! command -v kubectl >/dev/null; then
	# the machine image's apt sources carry it as "kubectl"
	echo "installing: kubectl" >&2
	{ $sudo apt-get update -qq && $sudo apt-get install -y -qq kubectl; } >/dev/null 2>&1 || true
fi
command -v kubectl >/dev/null || {
	echo "install-deps: kubectl not found and not installable with apt: install kubectl (the tests drive the cluster with it)" >&2
	exit 1
}
