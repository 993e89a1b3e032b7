#!/usr/bin/env bash
# test_fault_secret_deleted.sh: issue 7's fourth fault. A connector's
# credentials Secret is deleted right as the connector is created (seven
# timings, from before the operator can have seen the connector to well
# after) or updated (four timings), and deleted and recreated in quick
# succession while the connector changes. Each time:
#
# - while the Secret is gone the operator reports it: Ready=False with
#   reason CredentialsNotFound and a Warning Event of that reason;
# - the children are then all there or none is (a pass the deletion
#   raced finishes the release it started; nothing half-made); on an
#   update the running connector is left as it is (children kept);
# - once the Secret is recreated the connector converges: exactly its
#   children, the spec's image, status observed, CredentialsNotFound gone;
# - the operator never crashes and its log holds no sanitizer report.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"

API=connectors.virtual-kubelet.io/v1alpha1
T0=$SECONDS

# ClusterRoleBindings are cluster-scoped and outlive the namespace: they
# go once the operator has stopped (it would put them back)
# shellcheck disable=SC2154 # rc and p are assigned inside the trap
trap 'rc=$?; set +e
	for p in "${OPERATOR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kubectl delete clusterrolebindings -l "connectors.virtual-kubelet.io/namespace=$NS" --wait=false >/dev/null 2>&1
	(exit $rc); cleanup' EXIT


secret() { # NAME [SECRET-VALUE]
	# (applied: a create that client-go retries after a timeout would
	# find its own first attempt)
	kubectl create secret generic "$1" -n "$NS" --dry-run=client -o json \
	    --from-literal=clientId=11111111-2222-3333-4444-555555555555 \
	    --from-literal=clientSecret="${2:-s3cr3t}" | kubectl apply -n "$NS" -f - >/dev/null
}

connector() { # NAME SECRET [TAG]
	kubectl apply -n "$NS" -f - >/dev/null <<EOC
apiVersion: $API
kind: VirtualKubeletConnector
metadata:
  name: $1
spec:
  osType: Both
  location: eastus
  image:
    tag: "${3:-1.6.4}"
  credentials:
    secretRef:
      name: $2
EOC
}

ready_reason() { jget vkc "$1" '{.status.conditions[?(@.type=="Ready")].reason}' -n "$NS"; }
reason_is() { [ "$(ready_reason "$1")" = "$2" ]; }
children_are() { [ "$(children "$1")" = "$2" ]; }

# children NAME: prints "none", "all" or "partial: <what exists>" for a
# Both connector in eastus.
children() {
	local name=$1 want have
	want="deployment/$name-linux-eastus deployment/$name-windows-eastus"
	want+=" secret/$name-linux-eastus-tls secret/$name-windows-eastus-tls"
	want+=" serviceaccount/$name-linux-eastus serviceaccount/$name-windows-eastus"
	want+=" clusterrolebinding/vkc-$NS-$name-linux-eastus clusterrolebinding/vkc-$NS-$name-windows-eastus"
	have=$( {
		kubectl get deployments,secrets,serviceaccounts -n "$NS" -l "connectors.virtual-kubelet.io/name=$name" -o name
		kubectl get clusterrolebindings -l "connectors.virtual-kubelet.io/name=$name,connectors.virtual-kubelet.io/namespace=$NS" -o name
	} | sed 's,\.[a-z0-9.]*/,/,' | sort | tr '\n' ' ')
	want=$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ')
	if [ -z "${have// /}" ]; then
		echo none
	elif [ "$have" = "$want" ]; then
		echo all
	else
		echo "partial: $have"
	fi
}

warning_event() {
	kubectl get events -n "$NS" -o name --field-selector \
	    "involvedObject.name=$1,involvedObject.kind=VirtualKubeletConnector,type=Warning,reason=CredentialsNotFound" |
	    grep -q .
}

PROBLEMS=()
problem() {
	log "PROBLEM: $*"
	PROBLEMS+=("$*")
}

# reported NAME WHEN: the Secret is gone; the operator must say so, and
# the children must be all there or none.
reported() {
	local name=$1 when=$2 state
	eventually 30 reason_is "$name" CredentialsNotFound ||
		{ problem "$name ($when): Ready reason '$(ready_reason "$name")', want CredentialsNotFound"; return; }
	eventually 15 warning_event "$name" || problem "$name ($when): no CredentialsNotFound Warning Event"
	# let any pass that raced the deletion finish what it started
	sleep 1
	state=$(children "$name")
	case $state in
	none | all) log "$name ($when): reported CredentialsNotFound with $state of its children" ;;
	*) problem "$name ($when): half-made while the Secret is gone: $state" ;;
	esac
	LAST_STATE=$state
}

# recovered NAME WHEN: the Secret is back; the connector converges.
recovered() {
	local name=$1 when=$2
	eventually 60 children_are "$name" all ||
		{ problem "$name ($when): children after the Secret came back: $(children "$name")"; return; }
	eventually 30 reason_is "$name" DeploymentNotAvailable ||
		problem "$name ($when): Ready reason '$(ready_reason "$name")' after the Secret came back"
}

install_crd
install_connector_role
new_namespace
start_operator

log "the Secret deleted as the connector is created"
i=0
for delay in -0.2 0 0.05 0.1 0.25 0.5 1.0; do
	name=create$i
	secret "$name-sp"
	case $delay in
	-*) # just before: the connector never sees its Secret
		kubectl delete secret "$name-sp" -n "$NS" >/dev/null
		connector "$name" "$name-sp" ;;
	*)
		connector "$name" "$name-sp" &
		sleep "$delay"
		kubectl delete secret "$name-sp" -n "$NS" >/dev/null
		wait $! || fail "creating $name failed" ;;
	esac
	reported "$name" "deleted ${delay}s after the create"
	secret "$name-sp"
	recovered "$name" "deleted ${delay}s after the create"
	i=$((i + 1))
done

log "the Secret deleted as the connector is updated"
i=0
for delay in 0 0.1 0.3 0.6; do
	name=update$i
	secret "$name-sp"
	connector "$name" "$name-sp"
	eventually 60 children_are "$name" all || fail "$name: never got its children"
	connector "$name" "$name-sp" 1.6.5 &
	sleep "$delay"
	kubectl delete secret "$name-sp" -n "$NS" >/dev/null
	wait $! || fail "updating $name failed"
	reported "$name" "deleted ${delay}s after the update"
	[ "$LAST_STATE" = all ] || problem "$name: the running connector was not left as it was: $LAST_STATE"
	secret "$name-sp"
	recovered "$name" "deleted ${delay}s after the update"
	i=$((i + 1))
done

log "the Secret flapping (deleted and recreated five times) while the connector changes"
secret flap-sp first
connector flap flap-sp
for n in 1 2 3 4 5; do
	kubectl delete secret flap-sp -n "$NS" >/dev/null
	connector flap flap-sp "1.6.$n" &
	sleep "0.$((RANDOM % 4))"
	secret flap-sp "value-$n"
	wait $! || fail "updating flap failed"
done
recovered flap "after flapping"

log "everything converges, with every Secret back"
eventually 90 converged || { converged || true; problem "the namespace did not converge"; }
kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator exited"
if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|SIGSEGV|SIGABRT|Assertion .* failed|double free' \
    "$WORK/operator-0.log" >&2; then
	fail "the operator's log shows a crash or sanitizer report"
fi
log "total $((SECONDS - T0)) s"
[ ${#PROBLEMS[@]} -eq 0 ] ||
	fail "${#PROBLEMS[@]} problems:
$(printf '  - %s\n' "${PROBLEMS[@]}")"
