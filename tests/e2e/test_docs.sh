#!/usr/bin/env bash
# test_docs.sh: keeps docs/ true to the code.
#
# Static checks (no cluster, Python 3 standard library only):
#  - docs/api.md documents every field of the CRD's openAPIV3Schema and no
#    other, each table row with the field's type, schema default and enum
#    values; every `spec.*` / `status.*` path named anywhere in docs/ exists
#  - every condition and Event reason in operator/reconcile.c and
#    operator/desired.c is documented in docs/troubleshooting.md, and every
#    reason heading there is one the code uses
#  - docs/operator.md names every flag and metric of operator/main.c, and
#    no flag or metric main.c lacks
#  - docs/kubectl-vkc.md names every verb, flag and retired az flag of
#    operator/kubectl-vkc.c, and no flag the plugin lacks
#  - relative links between the pages (and from README.md) resolve, anchors
#    included; every ```yaml block parses (when PyYAML is installed)
# Then, when the local control plane answers, every ```yaml block that is
# a VirtualKubeletConnector or a core/apps/rbac object goes through
# `kubectl apply --dry-run=server` against the installed CRD.
set -euo pipefail

SRC=${VKC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vkc-docs.XXXXXX")
NS=""
cleanup() {
	local rc=$?
	if [ -n "$NS" ]; then
		kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
	fi
	rm -rf "$WORK"
	if [ $rc -eq 0 ]; then
		echo "PASS: test_docs"
	else
		echo "FAIL: test_docs" >&2
	fi
	exit $rc
}
trap cleanup EXIT

python3 - "$SRC" "$WORK" <<'PY'
import json, os, re, sys

src, work = sys.argv[1], sys.argv[2]
errors = []

def err(msg):
    errors.append(msg)

def read(rel):
    with open(os.path.join(src, rel), encoding="utf-8") as f:
        return f.read()

# ---- a YAML reader for the block-style subset the CRD is written in ----

def indent_of(line):
    return len(line) - len(line.lstrip(" "))

def scalar(s):
    s = s.strip()
    if s.startswith("'") and s.endswith("'") and len(s) >= 2:
        return s[1:-1].replace("''", "'")
    if s.startswith('"') and s.endswith('"') and len(s) >= 2:
        return json.loads(s)
    if s == "{}":
        return {}
    if s == "[]":
        return []
    if s.startswith("[") and s.endswith("]"):
        return [scalar(x) for x in s[1:-1].split(",")]
    if s in ("true", "false"):
        return s == "true"
    if s in ("null", "~"):
        return None
    if re.fullmatch(r"-?[0-9]+", s):
        return int(s)
    return s

def split_key(s):
    m = re.match(r"^([A-Za-z0-9_.$/-]+|\"[^\"]*\"|'[^']*'):(?:\s+(.*))?$", s)
    if m is None:
        return None
    return scalar(m.group(1)), (m.group(2) or "").strip()

def parse_node(lines, i):
    if lines[i].strip().startswith("- ") or lines[i].strip() == "-":
        return parse_seq(lines, i, indent_of(lines[i]))
    return parse_map(lines, i, indent_of(lines[i]))

def parse_value(lines, i, ind, rest):
    """The value after 'key:' on line i-1, a key at indent ind."""
    if re.fullmatch(r"[>|][-+]?", rest):
        parts = []
        while i < len(lines) and indent_of(lines[i]) > ind:
            parts.append(lines[i].strip())
            i += 1
        return " ".join(parts), i
    if rest != "":
        return scalar(rest), i
    if i < len(lines) and (indent_of(lines[i]) > ind or (
            indent_of(lines[i]) == ind and lines[i].strip().startswith("- "))):
        return parse_node(lines, i)
    return None, i

def parse_map(lines, i, ind):
    out = {}
    while i < len(lines) and indent_of(lines[i]) == ind and \
            not lines[i].strip().startswith("- "):
        kv = split_key(lines[i].strip())
        if kv is None:
            raise ValueError("line %d: cannot read %r" % (i + 1, lines[i]))
        key, rest = kv
        out[key], i = parse_value(lines, i + 1, ind, rest)
    return out, i

def parse_seq(lines, i, ind):
    out = []
    while i < len(lines) and indent_of(lines[i]) == ind and \
            (lines[i].strip().startswith("- ") or lines[i].strip() == "-"):
        content = lines[i].strip()[2:]
        if content == "":
            v, i = parse_node(lines, i + 1)
        elif split_key(content) is not None and not content.startswith(("'", '"')):
            lines[i] = " " * (ind + 2) + content
            v, i = parse_map(lines, i, ind + 2)
        else:
            v, i = scalar(content), i + 1
        out.append(v)
    return out, i

def load_subset(text):
    lines = [l.rstrip() for l in text.split("\n")
             if l.strip() != "" and not l.lstrip().startswith("#")]
    v, i = parse_node(lines, 0)
    if i != len(lines):
        raise ValueError("line %d: unexpected %r" % (i + 1, lines[i]))
    return v

crd_text = read("crds/connectors.virtual-kubelet.io_virtualkubeletconnectors.yaml")
crd = load_subset(crd_text)
try:
    import yaml  # only to check the reader above, and docs' YAML syntax
except ImportError:
    yaml = None
if yaml is not None and yaml.safe_load(crd_text) != crd:
    err("the test's YAML reader misreads the CRD (fix the reader in test_docs.sh)")

schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

fields = {}
def walk(node, path):
    if not path.endswith("[]"):
        fields[path] = node
    for k, v in (node.get("properties") or {}).items():
        walk(v, path + "." + k)
    if "items" in node:
        walk(node["items"], path + "[]")
walk(schema["properties"]["spec"], "spec")
walk(schema["properties"]["status"], "status")

docs_dir = os.path.join(src, "docs")
pages = sorted(f for f in os.listdir(docs_dir) if f.endswith(".md"))
text = {p: read("docs/" + p) for p in pages}

# ---- api.md: every field, with its type, default and enum ----

def render_default(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{}" if not v else json.dumps(v)
    return str(v)

rows = {}
for line in text.get("api.md", "").split("\n"):
    m = re.match(r"^\|\s*`((?:spec|status)[A-Za-z0-9_.\[\]]*)`\s*\|(.*)\|\s*$", line)
    if m:
        if m.group(1) in rows:
            err("docs/api.md: field %s has two rows" % m.group(1))
        rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
if "api.md" not in text:
    err("docs/api.md is missing")
for path, node in fields.items():
    if path not in rows:
        err("docs/api.md: field %s of the CRD is not documented" % path)
        continue
    cells = rows[path]
    if len(cells) < 3:
        err("docs/api.md: row %s wants type | default | description" % path)
        continue
    typ, default, rest = cells[0], cells[1], " | ".join(cells)
    want = node.get("type", "")
    if want and want not in typ:
        err("docs/api.md: %s is of type %s, the row says %r" % (path, want, typ))
    if "default" in node:
        d = "`%s`" % render_default(node["default"])
        if d not in default:
            err("docs/api.md: %s defaults to %s, the row says %r" % (path, d, default))
    elif default.startswith("`"):
        err("docs/api.md: %s has no schema default, the row says %r "
            "(write a computed default in words)" % (path, default))
    for e in node.get("enum") or []:
        if "`%s`" % e not in rest:
            err("docs/api.md: %s: enum value %s not listed" % (path, e))
for path in rows:
    if path not in fields:
        err("docs/api.md: documents %s, which the CRD lacks" % path)

# every spec.*/status.* path named in docs/ exists
path_re = re.compile(r"`((?:spec|status)(?:\.[A-Za-z][A-Za-z0-9]*(?:\[\])?)*)(?=[`:=\s\[])")
for p, t in text.items():
    for m in path_re.finditer(t):
        if m.group(1) not in fields:
            err("docs/%s: names %s, which the CRD lacks" % (p, m.group(1)))

# ---- condition and Event reasons ----

def statements(c_text):
    c_text = re.sub(r"/\*.*?\*/", "", c_text, flags=re.S)
    return c_text.split(";")

def words(st):
    """CamelCase string literals of a statement that stand alone (not a
    piece of a longer, concatenated string)."""
    lits = list(re.finditer(r'"((?:[^"\\]|\\.)*)"', st))
    out = []
    for k, m in enumerate(lits):
        if k > 0 and st[lits[k - 1].end():m.start()].strip() == "":
            continue
        if k + 1 < len(lits) and st[m.end():lits[k + 1].start()].strip() == "":
            continue
        if re.fullmatch(r"[A-Z][A-Za-z]+", m.group(1)):
            out.append(m.group(1))
    return out

code_reasons, event_reasons = set(), set()
for f in ("operator/reconcile.c", "operator/desired.c"):
    for st in statements(read(f)):
        lits = words(st)
        if "vkc_event(" in st:
            m = re.search(r'"(?:Normal|Warning)",\s*(?:"([A-Za-z]+)"|([^,]+))', st)
            if m and m.group(1):
                event_reasons.add(m.group(1))
            for l in lits:
                if l not in ("Normal", "Warning"):
                    event_reasons.add(l)
            continue
        if re.search(r"reason|\bfail\(|\bcondition\(", st):
            for l in lits:
                code_reasons.add(l)
# the condition types are not reasons
code_reasons -= {"Progressing", "Degraded", "Stalled"}
if len(code_reasons) < 10:
    err("found only %d reasons in the code (%s): fix the extraction in "
        "test_docs.sh" % (len(code_reasons), sorted(code_reasons)))
ts = text.get("troubleshooting.md", "")
documented = set(re.findall(r"`([A-Z][A-Za-z]+)`", ts))
for r in sorted(code_reasons | event_reasons):
    if r not in documented:
        err("docs/troubleshooting.md: reason %s (used by the operator) is "
            "not documented" % r)
sec = ts.split("## Condition reasons", 1)
if len(sec) < 2:
    err("docs/troubleshooting.md: no '## Condition reasons' section")
else:
    body = sec[1].split("\n## ", 1)[0]
    for h in re.findall(r"^###\s+(.*)$", body, flags=re.M):
        for r in re.findall(r"`([A-Za-z]+)`", h):
            if r not in code_reasons:
                err("docs/troubleshooting.md: heading reason %s is not "
                    "used by the operator" % r)

# ---- operator flags and metrics ----

main_c = read("operator/main.c")
op_flags = set(re.findall(r'\{\s*"([a-z][a-z-]*)",\s*(?:required|optional|no)_argument', main_c))
op_md = text.get("operator.md", "")
for f in sorted(op_flags):
    spelled = "-v" if f == "v" else "--" + f
    if not re.search(r"`%s[ `=|]" % re.escape(spelled), op_md):
        err("docs/operator.md: operator flag %s is not documented" % spelled)
for f in re.findall(r"`--([a-z][a-z-]*)", op_md):
    if f not in op_flags:
        err("docs/operator.md: documents --%s, which operator/main.c lacks" % f)
for f in re.findall(r"^\|\s*`[^`|]*`,\s*`--([a-z-]+)", op_md, flags=re.M):
    if f not in op_flags:
        err("docs/operator.md: documents --%s, which operator/main.c lacks" % f)
metrics = set(re.findall(r"# TYPE ([a-z_]+) ", main_c))
if len(metrics) < 8:
    err("found only %d metrics in operator/main.c: fix test_docs.sh" % len(metrics))
for mname in sorted(metrics):
    if "`%s`" % mname not in op_md:
        err("docs/operator.md: metric %s is not documented" % mname)
for mname in re.findall(r"^\|\s*`([a-z_]+)`\s*\|\s*(?:counter|gauge|histogram)", op_md, flags=re.M):
    if mname not in metrics:
        err("docs/operator.md: documents metric %s, which main.c lacks" % mname)

# ---- the kubectl plugin ----

plugin_c = read("operator/kubectl-vkc.c")
verbs = set(re.findall(r'\{\s*VERB_[A-Z]+,\s*"([a-z-]+)"\s*\}', plugin_c))
pflags = set(re.findall(r'\{\s*F_[A-Z_]+,\s*"([a-z-]+)"', plugin_c))
retired = set(re.findall(r'\{\s*"([a-z-]+)",\s*(?:0|\'.\'),\s*(?:true|false),', plugin_c))
if len(verbs) < 5 or len(pflags) < 10 or not retired:
    err("cannot read the plugin's verbs and flags: fix test_docs.sh")
kv_md = text.get("kubectl-vkc.md", "")
for v in sorted(verbs - {"help", "version"}):
    if not re.search(r"^## %s$" % re.escape(v), kv_md, flags=re.M):
        err("docs/kubectl-vkc.md: verb %s has no section" % v)
for f in sorted(pflags | retired):
    if "`--%s" % f not in kv_md:
        err("docs/kubectl-vkc.md: flag --%s is not documented" % f)
for f in set(re.findall(r"`--([a-z][a-z-]*)", kv_md)):
    if f not in pflags | retired:
        err("docs/kubectl-vkc.md: names --%s, which the plugin lacks" % f)

# ---- links ----

def slug(h):
    h = re.sub(r"[^\w\- ]", "", h.strip().lower())
    return h.replace(" ", "-")

anchors = {}
for p, t in text.items():
    anchors[p] = {slug(h) for h in re.findall(r"^#+\s+(.*)$", t, flags=re.M)}
link_re = re.compile(r"\]\(([^)\s]+)\)")
for p, t in list(text.items()) + [("../README.md", read("README.md"))]:
    for target in link_re.findall(t):
        if re.match(r"^[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        base = os.path.dirname(os.path.join("docs", p))
        rel = os.path.normpath(os.path.join(base, file)) if file else os.path.join("docs", p)
        if not os.path.exists(os.path.join(src, rel)):
            err("%s: link %s: no such file" % (os.path.normpath(os.path.join("docs", p)), target))
            continue
        name = os.path.relpath(rel, "docs")
        if anchor and name in anchors and anchor not in anchors[name]:
            err("docs/%s: link %s: no such heading" % (p, target))
readme = read("README.md")
for p in pages:
    if "docs/" + p not in readme and p != "README.md":
        err("README.md does not link docs/%s" % p)

# ---- YAML blocks ----

n = 0
kinds_checked = ("connectors.virtual-kubelet.io/", "v1", "apps/v1",
                 "rbac.authorization.k8s.io/v1")
for p, t in text.items():
    for m in re.finditer(r"^( *)```yaml\n(.*?)^\1```\s*$", t, flags=re.M | re.S):
        ind = len(m.group(1))
        block = "\n".join(l[ind:] for l in m.group(2).split("\n"))
        if yaml is not None:
            try:
                list(yaml.safe_load_all(block))
            except yaml.YAMLError as e:
                err("docs/%s: a yaml block does not parse: %s" % (p, e))
                continue
        for doc in re.split(r"^---\s*$", block, flags=re.M):
            av = re.search(r"^apiVersion:\s*(\S+)", doc, flags=re.M)
            kind = re.search(r"^kind:\s*(\S+)", doc, flags=re.M)
            if not av or not kind:
                continue
            if not (av.group(1) in kinds_checked or
                    av.group(1).startswith(kinds_checked[0])):
                continue
            # the test applies it into its own namespace
            doc = re.sub(r"^(metadata:\n(?:  .*\n)*?)  namespace: .*\n", r"\1",
                         doc.strip("\n") + "\n", flags=re.M)
            n += 1
            with open(os.path.join(work, "%03d-%s-%s.yaml" % (n, p[:-3], kind.group(1))), "w") as f:
                f.write(doc)
if n < 5:
    err("found only %d Kubernetes objects in the docs' yaml blocks" % n)

for e in errors:
    print("docs: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# ---- server-side dry run, when the local control plane answers ----
KUBECONFIG=$("$SRC/hack/local-cluster.sh" kubeconfig 2>/dev/null || true)
export KUBECONFIG
if [ -z "$KUBECONFIG" ] || [ ! -f "$KUBECONFIG" ] ||
    ! kubectl get --raw /readyz >/dev/null 2>&1; then
	echo "test_docs: no cluster reachable; skipping the server-side dry run" >&2
	exit 0
fi
kubectl apply --server-side --force-conflicts -f "$SRC/crds/" >/dev/null
kubectl wait --for=condition=Established --timeout=60s \
    crd/virtualkubeletconnectors.connectors.virtual-kubelet.io >/dev/null
NS="e2e-test-docs-$RANDOM"
kubectl create namespace "$NS" >/dev/null
failed=0
for f in "$WORK"/*.yaml; do
	if ! out=$(kubectl apply --dry-run=server -n "$NS" -f "$f" 2>&1); then
		echo "docs: $(basename "$f"): kubectl apply --dry-run=server refuses it:" >&2
		echo "$out" | sed 's/^/    /' >&2
		sed 's/^/    | /' "$f" >&2
		failed=1
	fi
done
[ $failed -eq 0 ]
