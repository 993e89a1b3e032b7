# shellcheck shell=bash
# fault_lib.sh: helpers the fault-injection tests share, sourced after
# lib.sh: retried writes, and the convergence check run after each fault.

# retry COMMAND...: the test's own writes, retried if the shared apiserver
# is briefly away (another test may restart it).
retry() {
	local deadline=$((SECONDS + 60))
	until "$@" >/dev/null 2>>"$WORK/client.err"; do
		[ $SECONDS -lt $deadline ] || fail "gave up retrying: $*"
		sleep 0.5
	done
}

# converged: every live connector has exactly its children, matching its
# spec, with its status observed; nothing is left of a connector that is
# gone or of a release no longer desired. Prints what is wrong.
converged() {
	python3 - "$NS" <<'EOF'
import json, subprocess, sys
ns = sys.argv[1]
NAME = "connectors.virtual-kubelet.io/name"
FIN = "connectors.virtual-kubelet.io/cleanup"
def get(*args):
    out = subprocess.check_output(["kubectl", "get", *args, "-o", "json"])
    return json.loads(out)["items"]
conns = get("vkc", "-n", ns)
kinds = {
    "Deployment": get("deployments", "-n", ns, "-l", NAME),
    "ServiceAccount": get("serviceaccounts", "-n", ns, "-l", NAME),
    "Secret": get("secrets", "-n", ns, "-l", NAME),
    "ClusterRoleBinding": get("clusterrolebindings", "-l",
                              "connectors.virtual-kubelet.io/namespace=" + ns),
    "Pod": get("pods", "-n", ns, "-l", NAME),
}
def child(kind, rel):
    return {"Deployment": rel, "ServiceAccount": rel, "Secret": rel + "-tls",
            "ClusterRoleBinding": "vkc-%s-%s" % (ns, rel)}[kind]
def releases(c):
    spec = c.get("spec") or {}
    loc = spec.get("location", "").replace(" ", "").lower()
    oses = {"Linux": ["linux"], "Windows": ["windows"],
            "Both": ["linux", "windows"]}[spec.get("osType", "Linux")]
    return ["%s-%s-%s" % (c["metadata"]["name"], o, loc) for o in oses]
problems, live = [], {}
for c in conns:
    if c["metadata"].get("deletionTimestamp"):
        problems.append("%s: deletion not finished" % c["metadata"]["name"])
    else:
        live[c["metadata"]["name"]] = c
owned = {}
for kind, items in kinds.items():
    for o in items:
        labels = o["metadata"].get("labels") or {}
        owner = labels.get(NAME)
        owned.setdefault((kind, owner), []).append(o)
        if owner not in live:
            problems.append("orphan %s %s (connector %s is gone)" %
                            (kind, o["metadata"]["name"], owner))
        elif kind == "Pod" and labels.get("app.kubernetes.io/instance") not in releases(live[owner]):
            problems.append("orphan Pod %s of release %s, no longer desired" %
                            (o["metadata"]["name"], labels.get("app.kubernetes.io/instance")))
children = 0
for name, c in sorted(live.items()):
    m, spec, st = c["metadata"], c.get("spec") or {}, c.get("status") or {}
    rels = releases(c)
    if FIN not in (m.get("finalizers") or []):
        problems.append("%s: no finalizer" % name)
    gen = m.get("generation")
    if st.get("observedGeneration") != gen:
        problems.append("%s: status.observedGeneration %s, generation %s" %
                        (name, st.get("observedGeneration"), gen))
    ready = [x for x in st.get("conditions") or [] if x.get("type") == "Ready"]
    if not ready or ready[0].get("observedGeneration") != gen:
        problems.append("%s: Ready not observed at generation %s" % (name, gen))
    elif ready[0].get("reason") not in ("Ready", "DeploymentNotAvailable", "NodeNotReady"):
        problems.append("%s: Ready reason %s: %s" % (name, ready[0].get("reason"),
                                                     ready[0].get("message")))
    img = spec.get("image") or {}
    image = "%s:%s" % (img.get("repository", "mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet"),
                       img.get("tag", "1.6.4"))
    for kind in ("Deployment", "ServiceAccount", "Secret", "ClusterRoleBinding"):
        objs = owned.get((kind, name), [])
        children += len(objs)
        got = sorted(o["metadata"]["name"] for o in objs)
        want = sorted(child(kind, r) for r in rels)
        if got != want:
            problems.append("%s: %s children %s, want %s" % (name, kind, got, want))
        for o in objs:
            if o["metadata"].get("deletionTimestamp"):
                problems.append("%s: %s %s is being deleted" % (name, kind, o["metadata"]["name"]))
            if kind == "Deployment":
                imgs = [x.get("image") for x in o["spec"]["template"]["spec"]["containers"]]
                if image not in imgs:
                    problems.append("%s: Deployment %s runs %s, want %s" %
                                    (name, o["metadata"]["name"], imgs, image))
for p in problems[:25]:
    print("  " + p)
if len(problems) > 25:
    print("  ... and %d more" % (len(problems) - 25))
print("%d live connectors, %d children, %d problems" % (len(live), children, len(problems)))
sys.exit(1 if problems else 0)
EOF
}
