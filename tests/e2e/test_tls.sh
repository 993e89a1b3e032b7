#!/usr/bin/env bash
# test_tls.sh: the kubelet TLS Secret of DESIGN.md §3 and §5.8. The
# `<release>-tls` Secret is of type kubernetes.io/tls and holds a
# self-signed ECDSA P-256 certificate whose CN and DNS SAN are the virtual
# node's name, valid 365 days, with its key. Re-reconciling leaves it as it
# is (no write); a certificate with under 30 days left is renewed, one
# with another CN is replaced, and a deleted Secret comes back.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
NAME=tls-$RANDOM
RELEASE=$NAME-linux-eastus
NODE=virtual-kubelet-$RELEASE
SECRET=$RELEASE-tls

# crt_of FILE: writes the Secret's tls.crt (PEM) to FILE; fails when
# the Secret or the key is missing.
crt_of() {
	local b64
	b64=$(kubectl get secret "$SECRET" -n "$NS" -o 'jsonpath={.data.tls\.crt}') || return 1
	[ -n "$b64" ] || return 1
	printf '%s' "$b64" | base64 -d >"$1"
}

key_of() {
	local b64
	b64=$(kubectl get secret "$SECRET" -n "$NS" -o 'jsonpath={.data.tls\.key}') || return 1
	[ -n "$b64" ] || return 1
	printf '%s' "$b64" | base64 -d >"$1"
}

fingerprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2
}

# days_left FILE: whole days until notAfter.
days_left() {
	local end
	end=$(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s)
	echo $(((end - $(date +%s)) / 86400))
}

# check_cert WHAT: the Secret as §5.8 wants it.
check_cert() {
	local what=$1 crt=$WORK/check.crt key=$WORK/check.key text subj start end days
	expect_eq "$(jget secret "$SECRET" '{.type}' -n "$NS")" kubernetes.io/tls "$what: Secret type"
	crt_of "$crt" || fail "$what: no tls.crt"
	key_of "$key" || fail "$what: no tls.key"
	text=$(openssl x509 -in "$crt" -noout -text) || fail "$what: tls.crt is not a PEM certificate"
	expect_contains "$text" "Public Key Algorithm: id-ecPublicKey" "$what: key algorithm"
	expect_contains "$text" "ASN1 OID: prime256v1" "$what: curve"
	expect_contains "$text" "Signature Algorithm: ecdsa-with-SHA256" "$what: signature"
	subj=$(openssl x509 -in "$crt" -noout -subject -nameopt RFC2253)
	expect_eq "$subj" "subject=CN=$NODE" "$what: subject"
	# self-signed
	expect_eq "$(openssl x509 -in "$crt" -noout -issuer -nameopt RFC2253)" \
	    "issuer=CN=$NODE" "$what: issuer"
	openssl verify -CAfile "$crt" "$crt" >/dev/null 2>&1 ||
		fail "$what: the certificate does not verify against itself"
	expect_contains "$(openssl x509 -in "$crt" -noout -ext subjectAltName)" \
	    "DNS:$NODE" "$what: DNS SAN"
	start=$(date -d "$(openssl x509 -in "$crt" -noout -startdate | cut -d= -f2)" +%s)
	end=$(date -d "$(openssl x509 -in "$crt" -noout -enddate | cut -d= -f2)" +%s)
	days=$(((end - start) / 86400))
	[ "$days" -ge 364 ] && [ "$days" -le 366 ] ||
		fail "$what: valid for $days days, want 365"
	[ "$start" -le $(($(date +%s) + 300)) ] || fail "$what: notBefore in the future"
	[ "$(days_left "$crt")" -ge 363 ] ||
		fail "$what: only $(days_left "$crt") days left, want ~365"
	# the key is the certificate's
	openssl pkey -in "$key" -noout 2>/dev/null || fail "$what: tls.key is not a private key"
	expect_eq "$(openssl pkey -in "$key" -pubout)" \
	    "$(openssl x509 -in "$crt" -noout -pubkey)" "$what: tls.key matches tls.crt"
}

# reconciles: how many passes over the connector the operator's log shows.
reconciles() {
	grep -c "reconciled '$NS/$NAME'" "$WORK/operator-0.log" || true
}

# reconciled_since N: more passes than N.
reconciled_since() {
	[ "$(reconciles)" -gt "$1" ]
}

# put_cert CN DAYS [EXT]: replaces the Secret's data with a new self-signed
# ECDSA P-256 certificate (and its key) for CN, valid DAYS days, with the
# extension EXT (default: the DNS SAN CN); prints its fingerprint.
put_cert() {
	local cn=$1 days=$2 crt=$WORK/put.crt key=$WORK/put.key
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -days "$days" -subj "/CN=$cn" -addext "${3-subjectAltName=DNS:$cn}" \
	    -nodes -keyout "$key" -out "$crt" 2>/dev/null
	kubectl patch secret "$SECRET" -n "$NS" --type=merge -p \
	    "{\"data\":{\"tls.crt\":\"$(base64 -w0 "$crt")\",\"tls.key\":\"$(base64 -w0 "$key")\"}}" >/dev/null
	fingerprint "$crt"
}

# cert_changed_from FP: the Secret's certificate is another than FP.
cert_changed_from() {
	crt_of "$WORK/now.crt" && [ "$(fingerprint "$WORK/now.crt")" != "$1" ]
}

install_crd
new_namespace
start_operator

kubectl apply -n "$NS" -f - >/dev/null <<EOF
apiVersion: $API
kind: VirtualKubeletConnector
metadata:
  name: $NAME
spec:
  location: eastus
EOF

log "the TLS Secret is made: ECDSA P-256, CN and SAN $NODE, 365 days"
eventually 60 crt_of "$WORK/first.crt" || fail "Secret $SECRET never made"
# the Deployment is the last child applied: the first pass is complete
eventually 60 kubectl get deployment "$RELEASE" -n "$NS" ||
	fail "Deployment $RELEASE never made"
check_cert "new Secret"
expect_eq "$(jget secret "$SECRET" '{.metadata.labels.app\.kubernetes\.io/instance}' -n "$NS")" \
    "$RELEASE" "Secret instance label"
expect_eq "$(jget secret "$SECRET" '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}' -n "$NS")" \
    "VirtualKubeletConnector/$NAME/true" "Secret ownerReference"
# the Deployment mounts it
expect_eq "$(jget deployment "$RELEASE" '{.spec.template.spec.volumes[?(@.secret)].secret.secretName}' -n "$NS")" \
    "$SECRET" "Deployment's TLS volume"
crt_of "$WORK/first.crt"
first=$(fingerprint "$WORK/first.crt")
rv=$(jget secret "$SECRET" '{.metadata.resourceVersion}' -n "$NS")

log "re-reconciling leaves the certificate as it is"
before=$(reconciles)
kubectl annotate vkc "$NAME" -n "$NS" e2e.vkc/touched="$(date +%s)" >/dev/null
eventually 30 reconciled_since "$before" ||
	fail "the operator never reconciled the touched connector (log lines: $(reconciles))"
before=$(reconciles)
kubectl annotate vkc "$NAME" -n "$NS" --overwrite e2e.vkc/touched=again >/dev/null
eventually 30 reconciled_since "$before" ||
	fail "the operator never reconciled the connector touched again"
sleep 1
crt_of "$WORK/same.crt"
expect_eq "$(fingerprint "$WORK/same.crt")" "$first" "certificate after re-reconciling"
expect_eq "$(jget secret "$SECRET" '{.metadata.resourceVersion}' -n "$NS")" "$rv" \
    "Secret resourceVersion after re-reconciling (no write in steady state)"

log "a certificate with 10 days left is renewed"
short=$(put_cert "$NODE" 10)
[ "$short" != "$first" ] || fail "put_cert did not change the certificate"
eventually 30 cert_changed_from "$short" ||
	fail "the 10-day certificate was never renewed"
crt_of "$WORK/renewed.crt"
renewed=$(fingerprint "$WORK/renewed.crt")
[ "$renewed" != "$first" ] || fail "renewal put the old certificate back, want a new one"
check_cert "renewed Secret"

log "a certificate with 40 days left is kept (renewal is at 30 days)"
before=$(reconciles)
kept=$(put_cert "$NODE" 40)
eventually 30 reconciled_since "$before" ||
	fail "the operator never reconciled after the Secret changed"
sleep 2
crt_of "$WORK/kept.crt"
expect_eq "$(fingerprint "$WORK/kept.crt")" "$kept" "a 40-day certificate"

log "a certificate with another CN is replaced"
wrong=$(put_cert "virtual-kubelet-someone-else" 365)
eventually 30 cert_changed_from "$wrong" ||
	fail "the certificate for another CN was never replaced"
check_cert "Secret after a wrong CN"

log "a key that is not the certificate's is replaced"
crt_of "$WORK/good.crt"
good=$(fingerprint "$WORK/good.crt")
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 \
    -out "$WORK/other.key" 2>/dev/null
kubectl patch secret "$SECRET" -n "$NS" --type=merge -p \
    "{\"data\":{\"tls.key\":\"$(base64 -w0 "$WORK/other.key")\"}}" >/dev/null
eventually 30 cert_changed_from "$good" ||
	fail "a certificate with a key not its own was never replaced"
check_cert "Secret after a foreign key"

log "a deleted Secret comes back"
crt_of "$WORK/before-delete.crt"
uid=$(jget secret "$SECRET" '{.metadata.uid}' -n "$NS")
kubectl delete secret "$SECRET" -n "$NS" >/dev/null
eventually 30 sh -c "[ -n \"\$(kubectl get secret '$SECRET' -n '$NS' -o jsonpath='{.metadata.uid}' 2>/dev/null)\" ] &&
    [ \"\$(kubectl get secret '$SECRET' -n '$NS' -o jsonpath='{.metadata.uid}')\" != '$uid' ]" ||
	fail "the deleted Secret never came back"
eventually 10 crt_of "$WORK/back.crt" || fail "the recreated Secret has no tls.crt"
check_cert "recreated Secret"

log "a certificate with the right CN but no DNS SAN is replaced (§5.8: CN and SAN)"
nosan=$(put_cert "$NODE" 365 "keyUsage=critical,digitalSignature")
eventually 30 cert_changed_from "$nosan" ||
	fail "a certificate for $NODE without the DNS SAN $NODE was kept"
check_cert "Secret after a certificate without SAN"

kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator exited"
