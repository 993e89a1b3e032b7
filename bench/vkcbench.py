#!/usr/bin/env python3
"""vkcbench.py: the vkc-operator benchmarks (driven by bench/run.sh).

Runs the operator (one process, --namespace of its own bench-* namespace)
against the local control plane and measures:

  * scale: N connectors (osType Both) created at once; the time until every
    connector has its 8 children and a status with observedGeneration ==
    generation; per-connector latency (client-side create time -> first time
    a watch shows that); operator CPU (utime+stime) and peak RSS (VmHWM);
    requests by verb from the operator's /metrics. N == 1 is measured as
    BENCH_SINGLE_REPEATS connectors created one after another, so that its
    p50 means something.
  * idle: RSS of an operator with 0 connectors.
  * rest: RSS with the 1000 connectors and requests sent in
    BENCH_REST_SECONDS with nothing changing.
  * startup: process start -> "caches synced" with the 1000 present, and the
    writes the new process sends (0 expected: everything is up to date).
  * teardown: every connector deleted, until the last finalizer is gone.

Only the Python standard library is used. Every loop is bounded in time.
"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

GROUP = "connectors.virtual-kubelet.io"
VERSION = "v1alpha1"
PLURAL = "virtualkubeletconnectors"
LABEL_NAME = GROUP + "/name"
LABEL_NS = GROUP + "/namespace"
CHILDREN_PER_CONNECTOR = 8          # osType Both: 2 x (SA, Secret, CRB, Deployment)
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


# ---- API client -----------------------------------------------------------

class Kube:
    def __init__(self, kubeconfig, workdir):
        out = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "config", "view",
                              "--raw", "--minify", "-o", "json"],
                             check=True, capture_output=True, text=True).stdout
        cfg = json.loads(out)
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        u = urllib.parse.urlsplit(cluster["server"])
        self.host, self.port = u.hostname, u.port or 443
        self.ctx = ssl.create_default_context()
        if "certificate-authority-data" in cluster:
            import base64
            self.ctx.load_verify_locations(
                cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        elif "certificate-authority" in cluster:
            self.ctx.load_verify_locations(cafile=cluster["certificate-authority"])
        self.token = user.get("token")
        if "client-certificate-data" in user:
            import base64
            old = os.umask(0o077)
            try:
                cert = os.path.join(workdir, "client.crt")
                key = os.path.join(workdir, "client.key")
                with open(cert, "wb") as f:
                    f.write(base64.b64decode(user["client-certificate-data"]))
                with open(key, "wb") as f:
                    f.write(base64.b64decode(user["client-key-data"]))
            finally:
                os.umask(old)
            self.ctx.load_cert_chain(cert, key)
        elif "client-certificate" in user:
            self.ctx.load_cert_chain(user["client-certificate"], user["client-key"])
        self.local = threading.local()

    def conn(self, timeout=60):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                           timeout=timeout)

    def headers(self, ctype=None):
        h = {"Accept": "application/json"}
        if ctype:
            h["Content-Type"] = ctype
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        return h

    def request(self, method, path, body=None, ctype="application/json", ok=(200, 201, 202)):
        """One request on this thread's kept-alive connection; returns (code, obj)."""
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        for attempt in range(3):
            c = getattr(self.local, "c", None)
            if c is None:
                c = self.local.c = self.conn()
            try:
                c.request(method, path, body=data, headers=self.headers(ctype if data else None))
                r = c.getresponse()
                raw = r.read()
                obj = json.loads(raw) if raw else None
                return r.status, obj
            except (OSError, http.client.HTTPException):
                try:
                    c.close()
                except OSError:
                    pass
                self.local.c = None
                if attempt == 2:
                    raise
                time.sleep(0.2)
        raise RuntimeError("unreachable")


def cpath(ns, name=None):
    p = "/apis/%s/%s/namespaces/%s/%s" % (GROUP, VERSION, ns, PLURAL)
    return p + ("/" + name if name else "")


# ---- watching -------------------------------------------------------------

class Watch(threading.Thread):
    """A watch stream from a list's resourceVersion, calling on_event(type,
    obj, t) with the wall time the event was read."""

    def __init__(self, kube, path, selector, on_event):
        super().__init__(daemon=True)
        self.kube, self.path, self.selector, self.on_event = kube, path, selector, on_event
        self.stopped = False
        self.conn = None
        self.relists = 0
        self.list()

    def list(self):
        """Lists what is there now (normally nothing) and takes the list's
        resourceVersion; also after a 410 Gone (etcd compacted)."""
        q = {"labelSelector": self.selector} if self.selector else {}
        code, obj = self.kube.request("GET", self.path + ("?" + urllib.parse.urlencode(q) if q else ""))
        if code != 200:
            raise RuntimeError("list %s: %s %s" % (self.path, code, obj))
        self.rv = obj["metadata"]["resourceVersion"]
        now = time.time()
        for item in obj.get("items", []):
            self.on_event("ADDED", item, now)

    def run(self):
        deadline = time.time() + 7200
        while not self.stopped and time.time() < deadline:
            q = {"watch": "1", "resourceVersion": self.rv, "allowWatchBookmarks": "true",
                 "timeoutSeconds": "1800"}
            if self.selector:
                q["labelSelector"] = self.selector
            try:
                self.conn = self.kube.conn(timeout=None)
                self.conn.request("GET", self.path + "?" + urllib.parse.urlencode(q),
                                  headers=self.kube.headers())
                r = self.conn.getresponse()
                if r.status == 410:
                    self.relists += 1
                    self.list()
                    continue
                if r.status != 200:
                    log("watch %s: HTTP %d" % (self.path, r.status))
                    time.sleep(1)
                    continue
                while not self.stopped:
                    line = r.readline()
                    if not line:
                        break
                    t = time.time()
                    ev = json.loads(line)
                    obj = ev.get("object", {})
                    if ev.get("type") == "ERROR":
                        if obj.get("code") == 410:
                            self.relists += 1
                            self.list()
                        else:
                            log("watch %s: %s" % (self.path, obj.get("message")))
                            time.sleep(0.5)
                        break
                    rv = obj.get("metadata", {}).get("resourceVersion")
                    if rv:
                        self.rv = rv
                    if ev.get("type") != "BOOKMARK":
                        self.on_event(ev["type"], obj, t)
            except (OSError, http.client.HTTPException, ValueError) as e:
                if not self.stopped:
                    log("watch %s: %s; reconnecting" % (self.path, e))
                    time.sleep(0.5)
            finally:
                try:
                    self.conn.close()
                except Exception:
                    pass

    def stop(self):
        self.stopped = True
        try:
            if self.conn is not None and self.conn.sock is not None:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Tracker:
    """Per connector: when it was created, when its 8th child was seen and
    when a status with observedGeneration == generation was seen."""

    def __init__(self):
        self.cv = threading.Condition()
        self.t_create = {}
        self.children = {}
        self.t_children = {}
        self.t_status = {}
        self.expected = set()

    def on_connector(self, typ, obj, t):
        if typ == "DELETED":
            return
        md = obj.get("metadata", {})
        name = md.get("name")
        st = obj.get("status") or {}
        if st.get("observedGeneration") is not None and \
                st.get("observedGeneration") == md.get("generation"):
            with self.cv:
                if name not in self.t_status:
                    self.t_status[name] = t
                    self.cv.notify_all()

    def child_handler(self, kind):
        def on_child(typ, obj, t):
            if typ == "DELETED":
                return
            md = obj.get("metadata", {})
            owner = (md.get("labels") or {}).get(LABEL_NAME)
            if owner is None:
                return
            with self.cv:
                s = self.children.setdefault(owner, set())
                s.add((kind, md.get("name")))
                if len(s) >= CHILDREN_PER_CONNECTOR and owner not in self.t_children:
                    self.t_children[owner] = t
                    self.cv.notify_all()
        return on_child

    def done(self, names):
        return all(n in self.t_status and n in self.t_children for n in names)

    def wait(self, names, timeout):
        deadline = time.time() + timeout
        with self.cv:
            while not self.done(names):
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cv.wait(min(left, 1.0))
        return True


def start_watches(kube, ns, tracker):
    sel = "%s=%s" % (LABEL_NS, ns)
    ws = [Watch(kube, cpath(ns), None, tracker.on_connector),
          Watch(kube, "/apis/apps/v1/namespaces/%s/deployments" % ns, sel,
                tracker.child_handler("Deployment")),
          Watch(kube, "/api/v1/namespaces/%s/serviceaccounts" % ns, sel,
                tracker.child_handler("ServiceAccount")),
          Watch(kube, "/api/v1/namespaces/%s/secrets" % ns, sel,
                tracker.child_handler("Secret")),
          Watch(kube, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", sel,
                tracker.child_handler("ClusterRoleBinding"))]
    for w in ws:
        w.start()
    return ws


# ---- the operator process -------------------------------------------------

def proc_cpu(pid):
    """utime + stime of pid (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def proc_mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])
    return out


METRIC_RE = re.compile(r'^([a-z_]+)(?:\{([^}]*)\})? ([0-9.eE+-]+)$')


def parse_metrics(text):
    reqs, m = {}, {}
    for line in text.splitlines():
        mm = METRIC_RE.match(line)
        if not mm:
            continue
        name, labels, val = mm.group(1), mm.group(2) or "", float(mm.group(3))
        lab = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if name == "rest_client_requests_total":
            key = (lab.get("method"), lab.get("code"))
            reqs[key] = reqs.get(key, 0) + val
        elif name == "controller_runtime_reconcile_total":
            m["reconciles"] = m.get("reconciles", 0) + val
        elif name == "controller_runtime_reconcile_time_seconds_sum":
            m["reconcile_seconds"] = val
        elif name == "workqueue_depth":
            m["depth"] = val
        elif name == "vkc_cache_objects":
            m.setdefault("cache", {})[lab.get("cache")] = int(val)
    m["requests"] = reqs
    return m


def req_delta(a, b):
    """Requests by method (and the writes) between two metrics samples."""
    by_method, by_code = {}, {}
    for key, v in b["requests"].items():
        d = v - a["requests"].get(key, 0)
        if d <= 0:
            continue
        by_method[key[0]] = by_method.get(key[0], 0) + int(d)
        code = "%s %s" % key
        by_code[code] = by_code.get(code, 0) + int(d)
    writes = sum(v for k, v in by_method.items() if k in WRITE_VERBS)
    return {"by_method": by_method, "by_code": by_code, "writes": writes,
            "total": sum(by_method.values())}


class Operator:
    def __init__(self, binary, kubeconfig, ns, concurrency, logpath):
        self.binary, self.kubeconfig, self.ns = binary, kubeconfig, ns
        self.concurrency, self.logpath = concurrency, logpath
        self.p = None

    def start(self):
        self.logf = open(self.logpath, "ab")
        self.t_start = time.time()
        self.p = subprocess.Popen(
            [self.binary, "--kubeconfig", self.kubeconfig, "--namespace", self.ns,
             "--concurrency", str(self.concurrency), "--log-format", "json",
             "--metrics-bind-address", "127.0.0.1:0",
             "--health-probe-bind-address", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        self.pid = self.p.pid
        self.log_offset = self.logf.tell()
        self.metrics_port = self.probe_port = None
        deadline = time.time() + 30
        while time.time() < deadline and (self.metrics_port is None or self.probe_port is None):
            for obj in self.log_lines():
                msg = obj.get("msg", "")
                mm = re.search(r"\(port (\d+)\)", msg)
                if mm and msg.startswith("serving /metrics"):
                    self.metrics_port = int(mm.group(1))
                elif mm and msg.startswith("serving /healthz"):
                    self.probe_port = int(mm.group(1))
            if self.p.poll() is not None:
                raise RuntimeError("operator exited with %s; see %s" % (self.p.returncode, self.logpath))
            time.sleep(0.01)
        if self.metrics_port is None:
            raise RuntimeError("operator did not say its metrics port; see " + self.logpath)

    def log_lines(self):
        """Every JSON log line this process wrote."""
        out = []
        with open(self.logpath, "rb") as f:
            f.seek(self.log_offset)
            for raw in f:
                try:
                    out.append(json.loads(raw))
                except ValueError:
                    pass
        return out

    def wait_synced(self, timeout=120):
        """Seconds from process start to the "caches synced" log line."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for obj in self.log_lines():
                if obj.get("msg") == "caches synced":
                    ts = obj["ts"]
                    # 2025-01-02T03:04:05.123456Z
                    base = time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")
                    import calendar
                    t = calendar.timegm(base) + float("0." + ts[20:-1])
                    return t - self.t_start
            if self.p.poll() is not None:
                raise RuntimeError("operator exited; see " + self.logpath)
            time.sleep(0.005)
        raise RuntimeError("caches not synced within %ds" % timeout)

    def get(self, port, path):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def metrics(self):
        code, body = self.get(self.metrics_port, "/metrics")
        if code != 200:
            raise RuntimeError("/metrics: %d" % code)
        return parse_metrics(body)

    def cpu(self):
        return proc_cpu(self.pid)

    def mem(self):
        return proc_mem(self.pid)

    def settle(self, quiet=3.0, timeout=180):
        """Waits until the queue is empty and no reconcile or request has
        happened for `quiet` seconds; returns the seconds waited."""
        t0 = time.time()
        last = None
        since = time.time()
        while time.time() - t0 < timeout:
            m = self.metrics()
            sig = (m.get("reconciles"), sum(m["requests"].values()), m.get("depth"))
            if sig != last or m.get("depth", 0) > 0:
                last, since = sig, time.time()
            elif time.time() - since >= quiet:
                return time.time() - t0
            time.sleep(0.25)
        log("warning: the operator did not settle within %ds" % timeout)
        return time.time() - t0

    def stop(self, timeout=40):
        if self.p is None or self.p.poll() is not None:
            return
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(10)
        self.logf.close()


# ---- cluster helpers ------------------------------------------------------

def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


LOADS = []          # (time, 1-minute load average), sampled every 5 s


def sample_load():
    while True:
        try:
            LOADS.append((time.time(), float(loadavg())))
        except (OSError, ValueError):
            pass
        time.sleep(5)


def load_range(t0, t1=None):
    """min and max of the 1-minute load average sampled between t0 and t1."""
    t1 = t1 or time.time()
    v = [la for t, la in list(LOADS) if t0 <= t <= t1]
    return {"min": min(v), "max": max(v)} if v else None


def cluster_pids(cluster_dir):
    out = {}
    for name in ("kube-apiserver", "etcd", "kube-controller-manager"):
        try:
            with open(os.path.join(cluster_dir, name + ".pid")) as f:
                out[name] = int(f.read().strip())
        except (OSError, ValueError):
            pass
    return out


def cluster_cpu(pids):
    out = {}
    for name, pid in pids.items():
        try:
            out[name] = proc_cpu(pid)
        except OSError:
            pass
    return out


def create_namespace(kube, ns):
    code, obj = kube.request("POST", "/api/v1/namespaces",
                             {"apiVersion": "v1", "kind": "Namespace",
                              "metadata": {"name": ns, "labels": {"vkc-bench": "true"}}})
    if code not in (200, 201):
        raise RuntimeError("create namespace %s: %s %s" % (ns, code, obj))


def connector(name):
    return {"apiVersion": GROUP + "/" + VERSION, "kind": "VirtualKubeletConnector",
            "metadata": {"name": name},
            "spec": {"osType": "Both", "location": "eastus"}}


def create_connectors(kube, ns, names, tracker, threads=8):
    """POSTs every connector from `threads` threads; records the client time
    just before each POST. Returns (first start, last answer)."""
    todo = list(names)
    lock = threading.Lock()
    errors = []
    t_first = time.time()
    t_last = [t_first]

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                name = todo.pop(0)
            t = time.time()
            with tracker.cv:
                tracker.t_create[name] = t
            code, obj = kube.request("POST", cpath(ns), connector(name))
            with lock:
                t_last[0] = max(t_last[0], time.time())
                if code not in (200, 201):
                    errors.append("%s: %s %s" % (name, code, (obj or {}).get("message")))

    ts = [threading.Thread(target=worker, daemon=True) for _ in range(min(threads, len(todo)))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(600)
    if errors:
        raise RuntimeError("creating connectors failed: %s" % errors[:3])
    return t_first, t_last[0]


def count_connectors(kube, ns):
    code, obj = kube.request("GET", cpath(ns))
    return len(obj.get("items", [])) if code == 200 else -1


def cleanup_namespace(kube, ns, op=None, timeout=300):
    """Deletes every connector (the operator, if running, tears their
    children down); then strips what is left, removes the namespace and the
    ClusterRoleBindings. Returns teardown numbers when op was running."""
    res = {}
    if op is not None and op.p.poll() is None:
        cpu0, m0, t0 = op.cpu(), op.metrics(), time.time()
        kube.request("DELETE", cpath(ns))
        deadline = t0 + timeout
        n = count_connectors(kube, ns)
        while n != 0 and time.time() < deadline:
            time.sleep(0.5)
            n = count_connectors(kube, ns)
        res = {"seconds": time.time() - t0, "left": n, "cpu": op.cpu() - cpu0,
               "requests": req_delta(m0, op.metrics())}
    code, obj = kube.request("GET", cpath(ns))
    for item in (obj or {}).get("items", []):
        kube.request("PATCH", cpath(ns, item["metadata"]["name"]),
                     '{"metadata":{"finalizers":null}}', ctype="application/merge-patch+json")
    kube.request("DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?" +
                 urllib.parse.urlencode({"labelSelector": "%s=%s" % (LABEL_NS, ns)}))
    kube.request("DELETE", "/api/v1/namespaces/" + ns)
    return res


# ---- scenarios ------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        os.makedirs(args.workdir, exist_ok=True)
        self.kube = Kube(args.kubeconfig, args.workdir)
        self.cpids = cluster_pids(args.cluster_dir)
        self.results = {"runs": []}
        self.tag = "%04x" % random.randrange(0x10000)

    def new_ns(self, what):
        ns = "bench-%s-%s" % (what, self.tag)
        create_namespace(self.kube, ns)
        return ns

    def operator(self, ns, conc, what):
        return Operator(self.args.operator, self.args.kubeconfig, ns, conc,
                        os.path.join(self.args.workdir, "operator-%s.log" % what))

    def idle(self):
        ns = self.new_ns("idle")
        op = self.operator(ns, 2, "idle")
        try:
            op.start()
            synced = op.wait_synced()
            time.sleep(2)
            m0 = op.metrics()
            time.sleep(self.args.idle_seconds)
            mem = op.mem()
            self.results["idle"] = {"synced_s": synced, "mem": mem,
                                    "requests": req_delta(m0, op.metrics()),
                                    "window_s": self.args.idle_seconds}
            log("idle: RSS %d KiB (anon %d, file %d), synced in %.3fs" %
                (mem["VmRSS"], mem["RssAnon"], mem["RssFile"], synced))
        finally:
            op.stop()
            cleanup_namespace(self.kube, ns)

    def scale(self, n, conc, extended):
        what = "n%d-c%d" % (n, conc)
        ns = self.new_ns(what)
        op = self.operator(ns, conc, what)
        run = {"n": n, "concurrency": conc, "ns": ns, "loadavg_before": loadavg()}
        t_run0 = time.time()
        tracker = Tracker()
        watches = []
        try:
            op.start()
            op.wait_synced()
            op.settle(quiet=1.0, timeout=30)
            watches = start_watches(self.kube, ns, tracker)
            cpu0, m0, cc0 = op.cpu(), op.metrics(), cluster_cpu(self.cpids)
            if n == 1:
                names = ["bench-%03d" % i for i in range(self.args.single_repeats)]
                t_first = time.time()
                for name in names:
                    create_connectors(self.kube, ns, [name], tracker, threads=1)
                    if not tracker.wait([name], self.args.timeout):
                        raise RuntimeError("connector %s did not converge" % name)
                    # let the follow-up reconciles (Deployment status) pass, so
                    # that each connector starts on a quiet operator
                    op.settle(quiet=0.5, timeout=30)
                t_created = t_first
                ok = True
                run["repeats"] = len(names)
            else:
                names = ["bench-%04d" % i for i in range(n)]
                t_first, t_created = create_connectors(self.kube, ns, names, tracker,
                                                       threads=self.args.create_threads)
                ok = tracker.wait(names, self.args.timeout)
            t_conv = time.time()
            cpu1, m1, mem1, cc1 = op.cpu(), op.metrics(), op.mem(), cluster_cpu(self.cpids)
            settle_s = op.settle(quiet=3.0, timeout=self.args.timeout)
            cpu2, m2, mem2, cc2 = op.cpu(), op.metrics(), op.mem(), cluster_cpu(self.cpids)
            with tracker.cv:
                lat_status = [tracker.t_status[x] - tracker.t_create[x]
                              for x in names if x in tracker.t_status]
                lat_child = [tracker.t_children[x] - tracker.t_create[x]
                             for x in names if x in tracker.t_children]
                last = max([tracker.t_status.get(x, t_conv) for x in names] +
                           [tracker.t_children.get(x, t_conv) for x in names])
            recs = m2.get("reconciles", 0) - m0.get("reconciles", 0)
            run.update({
                "converged": ok,
                "create_span_s": t_created - t_first if n > 1 else None,
                "converge_s": last - t_first,
                "status_ms": {"p50": 1e3 * pct(lat_status, 50), "p99": 1e3 * pct(lat_status, 99),
                              "max": 1e3 * max(lat_status)} if lat_status else None,
                "children_ms": {"p50": 1e3 * pct(lat_child, 50), "p99": 1e3 * pct(lat_child, 99),
                                "max": 1e3 * max(lat_child)} if lat_child else None,
                "cpu_converge_s": cpu1 - cpu0,
                "cpu_settled_s": cpu2 - cpu0,
                "settle_s": settle_s,
                "reconciles": int(recs),
                "reconcile_seconds": m2.get("reconcile_seconds", 0) - m0.get("reconcile_seconds", 0),
                "peak": mem2,
                "requests": req_delta(m0, m2),
                "requests_converge": req_delta(m0, m1),
                "cluster_cpu_s": {k: cc2[k] - cc0.get(k, cc2[k]) for k in cc2},
                "cache": m2.get("cache"),
                "loadavg_after": loadavg(),
                "loadavg_range": load_range(t_run0),
            })
            log("%s: converged=%s in %.2fs, status p50 %.1f ms p99 %.1f ms, cpu %.3fs, "
                "reconciles %d, HWM %d KiB" % (what, ok, run["converge_s"],
                                               run["status_ms"]["p50"], run["status_ms"]["p99"],
                                               run["cpu_settled_s"], recs, mem2["VmHWM"]))
            if extended:
                self.rest_and_restart(op, ns, run)
                op = self.current_op
            for w in watches:
                w.stop()
            watches = []
            run["teardown"] = cleanup_namespace(self.kube, ns, op, self.args.teardown_timeout)
            log("%s: teardown %s" % (what, {k: v for k, v in run["teardown"].items()
                                             if k != "requests"}))
        finally:
            for w in watches:
                w.stop()
            try:
                op.stop()
            finally:
                self.results["runs"].append(run)
                if "teardown" not in run:
                    cleanup_namespace(self.kube, ns)

    def rest_and_restart(self, op, ns, run):
        # at rest
        rest_s = self.args.rest_seconds
        t_rest0 = time.time()
        log("at rest for %ds with %d connectors" % (rest_s, run["n"]))
        m0, cpu0 = op.metrics(), op.cpu()
        time.sleep(rest_s)
        m1, mem = op.metrics(), op.mem()
        run["rest"] = {"seconds": rest_s, "mem": mem, "cpu_s": op.cpu() - cpu0,
                       "requests": req_delta(m0, m1), "loadavg_range": load_range(t_rest0)}
        log("rest: RSS %d KiB, requests %s" % (mem["VmRSS"], run["rest"]["requests"]["by_method"]))
        # restart with everything present
        op.stop()
        t_restart0 = time.time()
        op2 = self.operator(ns, run["concurrency"], "n%d-c%d-restart" % (run["n"], run["concurrency"]))
        op2.start()
        synced = op2.wait_synced()
        settle = op2.settle(quiet=3.0, timeout=self.args.timeout)
        m2 = op2.metrics()
        run["startup"] = {"synced_s": synced, "settle_s": settle, "cpu_s": op2.cpu(),
                          "mem": op2.mem(), "reconciles": int(m2.get("reconciles", 0)),
                          "requests": req_delta({"requests": {}}, m2),
                          "cache": m2.get("cache"), "loadavg_range": load_range(t_restart0)}
        log("startup: caches synced in %.3fs; then %d reconciles, writes %d" %
            (synced, run["startup"]["reconciles"], run["startup"]["requests"]["writes"]))
        self.current_op = op2


def fmt_ms(x):
    return "-" if x is None else ("%.0f" % x if x >= 100 else "%.1f" % x)


def table(res, targets):
    """The summary table, in Markdown."""
    L = []
    L.append("| run | connectors | create span s | converge s | status p50 / p99 ms | "
             "children p50 / p99 ms | reconciles | operator CPU s | CPU ms / connector | "
             "CPU ms / reconcile | peak RSS MiB | apiserver+etcd+kcm CPU s | load avg | requests by verb |")
    L.append("|" + "---|" * 14)
    for r in res["runs"]:
        if "status_ms" not in r:
            continue
        n = r.get("repeats", r["n"])
        cl = r["cluster_cpu_s"]
        L.append("| %s x%d | %d | %s | %.2f | %s / %s | %s / %s | %d | %.3f | %.2f | %.2f | %.1f | %s | %s-%s | %s |" % (
            "single" if r["n"] == 1 else "at once", r["concurrency"], n,
            "-" if r["create_span_s"] is None else "%.2f" % r["create_span_s"],
            r["converge_s"],
            fmt_ms(r["status_ms"]["p50"]), fmt_ms(r["status_ms"]["p99"]),
            fmt_ms(r["children_ms"]["p50"]), fmt_ms(r["children_ms"]["p99"]),
            r["reconciles"], r["cpu_settled_s"], 1e3 * r["cpu_settled_s"] / n,
            1e3 * r["cpu_settled_s"] / max(1, r["reconciles"]),
            r["peak"]["VmHWM"] / 1024.0,
            "%.1f+%.1f+%.1f" % (cl.get("kube-apiserver", 0), cl.get("etcd", 0),
                                cl.get("kube-controller-manager", 0)),
            *((("%.1f" % r["loadavg_range"]["min"]), ("%.1f" % r["loadavg_range"]["max"]))
              if r.get("loadavg_range") else (r.get("loadavg_before"), r.get("loadavg_after"))),
            " ".join("%s %d" % kv for kv in sorted(r["requests"]["by_method"].items()))))
    L.append("")
    L.append("| target | measured | met |")
    L.append("|---|---|---|")
    for name, measured, met in targets:
        L.append("| %s | %s | %s |" % (name, measured, "met" if met else "**missed**"))
    return "\n".join(L)


def targets(res):
    out = []
    idle = res.get("idle")
    if idle:
        rss = idle["mem"]["VmRSS"]
        out.append(("idle RSS <= 8 MiB (0 connectors)", "%.1f MiB (anon %.1f, file %.1f)" % (
            rss / 1024, idle["mem"]["RssAnon"] / 1024, idle["mem"]["RssFile"] / 1024),
            rss <= 8 * 1024))
    big = [r for r in res["runs"] if r["n"] >= 1000 and "peak" in r]
    for r in big:
        hwm = r["peak"]["VmHWM"]
        out.append(("peak RSS <= 40 MiB, %d Both (x%d)" % (r["n"], r["concurrency"]),
                    "%.1f MiB" % (hwm / 1024), hwm <= 40 * 1024))
    for r in res["runs"]:
        if "cpu_settled_s" not in r:
            continue
        n = r.get("repeats", r["n"])
        ms = 1e3 * r["cpu_settled_s"] / n
        out.append(("CPU <= 1 ms per connector, %d (x%d)" % (n, r["concurrency"]),
                    "%.2f ms/connector (%.2f ms/reconcile pass)" % (
                        ms, 1e3 * r["cpu_settled_s"] / max(1, r["reconciles"])), ms <= 1.0))
    for r in res["runs"]:
        if "rest" in r:
            w = r["rest"]["requests"]["writes"]
            out.append(("0 writes at rest, %d connectors, %d s" % (r["n"], r["rest"]["seconds"]),
                        "%d writes, %d requests (%s)" % (
                            w, r["rest"]["requests"]["total"],
                            " ".join("%s %d" % kv for kv in sorted(r["rest"]["requests"]["by_method"].items())) or "none"),
                        w == 0))
            out.append(("RSS at rest, %d connectors (no target)" % r["n"],
                        "%.1f MiB" % (r["rest"]["mem"]["VmRSS"] / 1024), True))
        if "startup" in r:
            s = r["startup"]
            out.append(("startup to caches synced, %d connectors (no target)" % r["n"],
                        "%.3f s; then %d reconciles, %d writes, %.2f s CPU" % (
                            s["synced_s"], s["reconciles"], s["requests"]["writes"], s["cpu_s"]),
                        s["requests"]["writes"] == 0))
    for r in res["runs"]:
        if r["n"] == 1 and r.get("children_ms"):
            p50 = r["children_ms"]["p50"]
            out.append(("single connector's children applied, p50 <= 50 ms (x%d)" % r["concurrency"],
                        "%.1f ms (status observed %.1f ms)" % (p50, r["status_ms"]["p50"]),
                        p50 <= 50))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--operator", required=True)
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--cluster-dir", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--sizes", default="1 100 1000")
    ap.add_argument("--concurrency", default="2 4")
    ap.add_argument("--large-all", action="store_true",
                    help="run sizes >= 1000 with every concurrency, not only the first")
    ap.add_argument("--rest-seconds", type=int, default=300)
    ap.add_argument("--idle-seconds", type=int, default=10)
    ap.add_argument("--single-repeats", type=int, default=20)
    ap.add_argument("--create-threads", type=int, default=8)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--teardown-timeout", type=int, default=600)
    ap.add_argument("--out", required=True)
    ap.add_argument("--baseline", default="")
    args = ap.parse_args()

    b = Bench(args)
    res = b.results
    res["machine"] = {"nproc": os.cpu_count(), "kernel": os.uname().release}
    if args.baseline:
        res["baseline"] = [json.loads(x) for x in args.baseline.split("\n") if x.strip()]
    sizes = [int(x) for x in args.sizes.split()]
    concs = [int(x) for x in args.concurrency.split()]
    t0 = time.time()
    threading.Thread(target=sample_load, daemon=True).start()
    try:
        b.idle()
        extended_done = False
        for n in sizes:
            for c in (concs if n < 1000 or args.large_all else concs[:1]):
                ext = n == max(sizes) and not extended_done
                log("scale: %d connectors, concurrency %d%s" % (n, c, ", then rest and restart" if ext else ""))
                b.scale(n, c, ext)
                extended_done = extended_done or ext
    finally:
        for f in ("client.key", "client.crt"):
            try:
                os.unlink(os.path.join(args.workdir, f))
            except OSError:
                pass
        res["wall_s"] = time.time() - t0
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
    print(table(res, targets(res)))
    print("\nraw results: %s" % args.out)


if __name__ == "__main__":
    main()
