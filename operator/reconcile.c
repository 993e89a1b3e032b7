/* reconcile.c: the VirtualKubeletConnector controller (see reconcile.h). */
#include "reconcile.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "buf.h"
#include "desired.h"
#include "jsonutil.h"
#include "log.h"
#include "names.h"
#include "tlscert.h"

#define REGION_CACHE_S 60
#define TEARDOWN_POLL_S 1.0
#define RESYNC_MAX_S (10 * 3600.0)

const double vkc_reconcile_buckets[16] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6,
	0.7, 0.8, 0.9, 1.0,
};

struct vkc_controller {
	struct kube_client *c;
	char *ns;
	struct vkc_informer *caches[VKC_CACHE_COUNT];
	struct vkc_wq *q;
	struct vkc_recorder *rec;
	pthread_mutex_t lock;	/* guards stats, region, drains */
	struct vkc_controller_stats stats;
	char region[64];
	time_t region_at;
	struct json_object *drains;	/* "<ns>/<release>" -> start time */
	/* TLS Secrets found good: "<ns>/<name>" -> {rv, expires}, so that an
	 * unchanged Secret is not parsed again on every pass */
	struct json_object *tls_ok;
};

/* What one reconcile pass did and found, for status and the log line. */
struct pass {
	struct vkc_controller *ctl;
	struct json_object *conn;	/* the connector, from the cache */
	const char *ns, *name;
	int applied, deleted;
	/* what this pass created, updated and deleted, told in one Event
	 * each at its end rather than one per child */
	struct vkc_buf created, updated, removed;
	double requeue;			/* seconds; 0: none */
	bool waiting;			/* teardown in progress */
	char reason[64];		/* a failure reason for Ready/Degraded */
	char message[512];
};

static void
pass_requeue(struct pass *p, double s)
{
	if (s > 0 && (p->requeue == 0 || s < p->requeue))
		p->requeue = s;
}

/* True when ns is one this controller looks after. Its caches ask only
 * for its namespace's objects; this guards the keys besides, so that an
 * operator started for one namespace can never touch another's. */
static bool
ctl_owns_namespace(struct vkc_controller *ctl, const char *ns)
{
	return ctl->ns[0] == '\0' || strcmp(ctl->ns, ns) == 0;
}

/* Adds "Kind name" to one of the pass's lists. */
static void
pass_note(struct vkc_buf *b, const char *kind, const char *name)
{
	vkc_buf_printf(b, "%s%s %s", b->len > 0 ? ", " : "", kind, name);
}

/* One Event per kind of change the pass made. */
static void
pass_events(struct pass *p)
{
	if (p->created.len > 0)
		vkc_event(p->ctl->rec, p->conn, "Normal", "Created",
		    "created %s", p->created.data);
	if (p->updated.len > 0)
		vkc_event(p->ctl->rec, p->conn, "Normal", "Updated",
		    "updated %s", p->updated.data);
	if (p->removed.len > 0)
		vkc_event(p->ctl->rec, p->conn, "Normal", "Deleted",
		    "deleted %s", p->removed.data);
}

static void
ctl_enqueue(struct vkc_controller *ctl, const char *ns, const char *name)
{
	char key[512];

	if (ns == NULL || name == NULL || name[0] == '\0' ||
	    !ctl_owns_namespace(ctl, ns))
		return;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	vkc_wq_add(ctl->q, key);
}

static void
on_connector(enum vkc_informer_event ev, struct json_object *obj, void *arg)
{
	(void)ev;
	ctl_enqueue(arg, vkc_json_get_string(obj, "metadata.namespace", ""),
	    vkc_json_get_string(obj, "metadata.name", NULL));
}

static const char *
label(struct json_object *obj, const char *key)
{
	struct json_object *labels, *v;

	labels = vkc_json_get(obj, "metadata.labels");
	if (labels == NULL || !json_object_object_get_ex(labels, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void
on_managed_child(enum vkc_informer_event ev, struct json_object *obj,
    void *arg)
{
	(void)ev;
	ctl_enqueue(arg, label(obj, VKC_LABEL_NAMESPACE),
	    label(obj, VKC_LABEL_NAME));
}

struct match {
	struct vkc_controller *ctl;
	const char *ns;		/* for a Secret: its namespace */
	const char *name;	/* the Node's or the Secret's name */
};

static int
match_node(struct json_object *conn, void *arg)
{
	struct match *m = arg;
	struct json_object *entries;
	size_t j;

	entries = vkc_json_get(conn, "status.connectors");
	if (entries == NULL || !json_object_is_type(entries, json_type_array))
		return 0;
	for (j = 0; j < json_object_array_length(entries); j++) {
		if (strcmp(vkc_json_get_string(json_object_array_get_idx(
		    entries, j), "nodeName", ""), m->name) == 0) {
			on_connector(VKC_EV_MODIFIED, conn, m->ctl);
			break;
		}
	}
	return 0;
}

/* A virtual Node carries none of our labels: find the connectors whose
 * status names it. */
static void
on_node(enum vkc_informer_event ev, struct json_object *obj, void *arg)
{
	struct match m;

	(void)ev;
	m.ctl = arg;
	m.ns = NULL;
	m.name = vkc_json_get_string(obj, "metadata.name", "");
	vkc_informer_foreach(m.ctl->caches[VKC_CACHE_CONNECTORS], match_node,
	    &m);
}

static int
match_secret(struct json_object *conn, void *arg)
{
	struct match *m = arg;

	if (strcmp(vkc_json_get_string(conn, "metadata.namespace", ""),
	    m->ns) == 0 && strcmp(vkc_json_get_string(conn,
	    "spec.credentials.secretRef.name", ""), m->name) == 0)
		on_connector(VKC_EV_MODIFIED, conn, m->ctl);
	return 0;
}

/* A credentials Secret: the connectors of its namespace that use it. */
static void
on_credentials(enum vkc_informer_event ev, struct json_object *obj,
    void *arg)
{
	struct match m;

	(void)ev;
	m.ctl = arg;
	m.ns = vkc_json_get_string(obj, "metadata.namespace", "");
	m.name = vkc_json_get_string(obj, "metadata.name", "");
	vkc_informer_foreach(m.ctl->caches[VKC_CACHE_CONNECTORS], match_secret,
	    &m);
}

/* Keeps of a Deployment what the reconciler compares and reads: its
 * metadata without annotations, its spec, and three status counters. */
static void
strip_deployment(struct json_object *obj)
{
	static const char *const keep[] = {
		"readyReplicas", "availableReplicas", "observedGeneration",
	};
	struct json_object *md, *st, *kept, *v;
	size_t i;

	vkc_informer_strip(obj);
	md = vkc_json_get(obj, "metadata");
	if (md != NULL && json_object_is_type(md, json_type_object))
		json_object_object_del(md, "annotations");
	st = vkc_json_get(obj, "status");
	if (st == NULL || !json_object_is_type(st, json_type_object))
		return;
	kept = json_object_new_object();
	if (kept == NULL)
		return;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_object_get_ex(st, keep[i], &v))
			json_object_object_add(kept, keep[i],
			    json_object_get(v));
	json_object_object_add(obj, "status", kept);
}

/* Keeps of a virtual Node its name, whether it is cordoned and its Ready
 * condition: not its capacity, addresses, images or other conditions. */
static void
strip_node(struct json_object *obj)
{
	struct json_object *conds, *ready = NULL, *c, *unsched, *status;
	size_t i;

	vkc_informer_strip(obj);
	conds = vkc_json_get(obj, "status.conditions");
	for (i = 0; conds != NULL && json_object_is_type(conds,
	    json_type_array) && i < json_object_array_length(conds); i++) {
		c = json_object_array_get_idx(conds, i);
		if (strcmp(vkc_json_get_string(c, "type", ""), "Ready") == 0)
			ready = c;
	}
	status = json_object_new_object();
	if (status == NULL)
		return;
	if (ready != NULL) {
		struct json_object *arr = json_object_new_array();

		/* the heartbeat changes every minute and says nothing new */
		json_object_object_del(ready, "lastHeartbeatTime");
		json_object_array_add(arr, json_object_get(ready));
		json_object_object_add(status, "conditions", arr);
	}
	json_object_object_add(obj, "status", status);
	unsched = json_object_get(vkc_json_get(obj, "spec.unschedulable"));
	json_object_object_del(obj, "spec");
	if (unsched != NULL)
		vkc_json_set(obj, "spec.unschedulable", unsched);
}

/* Keeps of a user's Secret only what the credentials hash reads. */
static void
strip_credentials(struct json_object *obj)
{
	static const char *const keep[] = {
		"clientId", "clientSecret", "tenantId", "subscriptionId",
	};
	struct json_object *data, *kept, *v;
	size_t i;

	vkc_informer_strip(obj);
	json_object_object_del(obj, "stringData");
	data = vkc_json_get(obj, "data");
	kept = json_object_new_object();
	if (kept == NULL)
		return;
	for (i = 0; data != NULL && i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_object_get_ex(data, keep[i], &v))
			json_object_object_add(kept, keep[i],
			    json_object_get(v));
	json_object_object_add(obj, "data", kept);
	v = vkc_json_get(obj, "metadata");
	if (v != NULL) {
		json_object_object_del(v, "annotations");
		json_object_object_del(v, "labels");
	}
}

struct vkc_controller *
vkc_controller_new(struct kube_client *c, const char *ns)
{
	struct vkc_controller *ctl;
	struct vkc_informer_config cfg;
	char crb_selector[512];
	const char *scope;
	int i;

	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return NULL;
	ctl->c = c;
	ctl->ns = strdup(ns != NULL ? ns : "");
	ctl->q = vkc_wq_new(0.005, 1000.0);
	ctl->rec = vkc_recorder_new(c, "vkc-operator");
	ctl->drains = json_object_new_object();
	ctl->tls_ok = json_object_new_object();
	pthread_mutex_init(&ctl->lock, NULL);
	if (ctl->ns == NULL || ctl->q == NULL || ctl->rec == NULL ||
	    ctl->drains == NULL || ctl->tls_ok == NULL)
		goto fail;
	scope = ctl->ns;

	memset(&cfg, 0, sizeof(cfg));
	cfg.arg = ctl;
	cfg.ns = scope;

	cfg.name = "connectors";
	cfg.group = VKC_GROUP;
	cfg.version = "v1alpha1";
	cfg.plural = VKC_PLURAL;
	cfg.handler = on_connector;
	ctl->caches[VKC_CACHE_CONNECTORS] = vkc_informer_new(c, &cfg);

	cfg.label_selector = VKC_MANAGED_BY_SELECTOR;
	cfg.handler = on_managed_child;
	cfg.index_by[0] = VKC_LABEL_NAMESPACE;
	cfg.index_by[1] = VKC_LABEL_NAME;
	cfg.name = "deployments";
	cfg.group = "apps";
	cfg.version = "v1";
	cfg.plural = "deployments";
	cfg.transform = strip_deployment;
	ctl->caches[VKC_CACHE_DEPLOYMENTS] = vkc_informer_new(c, &cfg);
	cfg.transform = NULL;

	cfg.group = "";
	cfg.name = "serviceaccounts";
	cfg.plural = "serviceaccounts";
	ctl->caches[VKC_CACHE_SERVICEACCOUNTS] = vkc_informer_new(c, &cfg);

	cfg.name = "secrets";
	cfg.plural = "secrets";
	ctl->caches[VKC_CACHE_SECRETS] = vkc_informer_new(c, &cfg);

	/* cluster-scoped: an operator for one namespace asks only for that
	 * namespace's bindings (selector strings are copied by the informer) */
	cfg.ns = NULL;
	cfg.name = "clusterrolebindings";
	cfg.group = "rbac.authorization.k8s.io";
	cfg.plural = "clusterrolebindings";
	if (scope[0] != '\0') {
		snprintf(crb_selector, sizeof(crb_selector), "%s,%s=%s",
		    VKC_MANAGED_BY_SELECTOR, VKC_LABEL_NAMESPACE, scope);
		cfg.label_selector = crb_selector;
	}
	ctl->caches[VKC_CACHE_CRBS] = vkc_informer_new(c, &cfg);

	cfg.name = "nodes";
	cfg.group = "";
	cfg.plural = "nodes";
	cfg.index_by[0] = NULL;
	cfg.index_by[1] = NULL;
	cfg.label_selector = "type=virtual-kubelet";
	cfg.handler = on_node;
	cfg.transform = strip_node;
	ctl->caches[VKC_CACHE_NODES] = vkc_informer_new(c, &cfg);

	cfg.ns = scope;
	cfg.name = "credentials";
	cfg.plural = "secrets";
	/* not the operator's own TLS Secrets: those have their cache */
	cfg.label_selector = "app.kubernetes.io/managed-by!=vkc-operator";
	cfg.transform = strip_credentials;
	cfg.handler = on_credentials;
	ctl->caches[VKC_CACHE_CREDENTIALS] = vkc_informer_new(c, &cfg);

	for (i = 0; i < VKC_CACHE_COUNT; i++)
		if (ctl->caches[i] == NULL)
			goto fail;
	return ctl;
fail:
	vkc_controller_free(ctl);
	return NULL;
}

void
vkc_controller_free(struct vkc_controller *ctl)
{
	int i;

	if (ctl == NULL)
		return;
	for (i = 0; i < VKC_CACHE_COUNT; i++)
		vkc_informer_free(ctl->caches[i]);
	vkc_wq_free(ctl->q);
	vkc_recorder_free(ctl->rec);
	json_object_put(ctl->drains);
	json_object_put(ctl->tls_ok);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl->ns);
	free(ctl);
}

int
vkc_controller_start_caches(struct vkc_controller *ctl)
{
	int i, rc;

	for (i = 0; i < VKC_CACHE_COUNT; i++) {
		rc = vkc_informer_start(ctl->caches[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

bool
vkc_controller_synced(struct vkc_controller *ctl)
{
	int i;

	for (i = 0; i < VKC_CACHE_COUNT; i++)
		if (!vkc_informer_synced(ctl->caches[i]))
			return false;
	return true;
}

void
vkc_controller_enqueue_all(struct vkc_controller *ctl)
{
	struct json_object *list;
	size_t i;

	list = vkc_informer_list(ctl->caches[VKC_CACHE_CONNECTORS], NULL, NULL);
	if (list == NULL)
		return;
	for (i = 0; i < json_object_array_length(list); i++)
		on_connector(VKC_EV_ADDED, json_object_array_get_idx(list, i),
		    ctl);
	json_object_put(list);
}

void
vkc_controller_shutdown_queue(struct vkc_controller *ctl)
{
	vkc_wq_shutdown(ctl->q);
}

void
vkc_controller_stop_caches(struct vkc_controller *ctl)
{
	int i;

	/* all at once: each takes up to a second to notice */
	for (i = 0; i < VKC_CACHE_COUNT; i++)
		vkc_informer_signal_stop(ctl->caches[i]);
	for (i = 0; i < VKC_CACHE_COUNT; i++)
		vkc_informer_stop(ctl->caches[i]);
}

struct vkc_wq *
vkc_controller_queue(struct vkc_controller *ctl)
{
	return ctl->q;
}

struct vkc_informer *
vkc_controller_cache(struct vkc_controller *ctl, enum vkc_cache which)
{
	return ctl->caches[which];
}

void
vkc_controller_stats(struct vkc_controller *ctl,
    struct vkc_controller_stats *out)
{
	pthread_mutex_lock(&ctl->lock);
	*out = ctl->stats;
	pthread_mutex_unlock(&ctl->lock);
}

/* ---- helpers for writes ---- */

static const char *
status_line(const struct kube_status *st, int rc)
{
	static __thread char line[1200];

	return kube_status_line(st, rc, line, sizeof(line));
}

/* True when the cache holds obj with every field obj sets (the apiserver
 * adds defaults of its own); *exists, when given, says whether the cache
 * holds the object at all. */
static bool
cache_holds(struct pass *p, enum vkc_cache cache, struct json_object *obj,
    bool *exists)
{
	struct json_object *live;
	bool holds;

	live = vkc_informer_get(p->ctl->caches[cache],
	    vkc_json_get_string(obj, "metadata.namespace", ""),
	    vkc_json_get_string(obj, "metadata.name", ""));
	if (exists != NULL)
		*exists = live != NULL;
	holds = live != NULL && vkc_json_subset(obj, live);
	json_object_put(live);
	return holds;
}

/* Server-side applies desired unless the cached live object already holds
 * every field of it. */
static int
apply_child(struct pass *p, enum vkc_cache cache, struct json_object *desired,
    const char *group, const char *version, const char *plural)
{
	struct kube_status st;
	const char *ns, *name, *kind;
	char path[512];
	bool exists;
	int rc;

	ns = vkc_json_get_string(desired, "metadata.namespace", "");
	name = vkc_json_get_string(desired, "metadata.name", "");
	kind = vkc_json_get_string(desired, "kind", "");
	if (cache_holds(p, cache, desired, &exists))
		return 0;
	rc = kube_path(path, sizeof(path), group, version, ns, plural, name,
	    NULL);
	if (rc == 0)
		rc = kube_apply(p->ctl->c, path, desired, VKC_FIELD_MANAGER,
		    true, NULL, &st);
	if (rc != 0) {
		log_error("cannot apply %s '%s%s%s': %s", kind, ns,
		    ns[0] ? "/" : "", name, status_line(&st, rc));
		snprintf(p->reason, sizeof(p->reason), "%s",
		    rc == KUBE_EFORBIDDEN ? "Forbidden" : "ApplyFailed");
		snprintf(p->message, sizeof(p->message), "cannot apply %s "
		    "'%s': %s", kind, name, status_line(&st, rc));
		vkc_event(p->ctl->rec, p->conn, "Warning", p->reason, "%s",
		    p->message);
		return rc;
	}
	p->applied++;
	log_info("%s %s '%s%s%s'", exists ? "updated" : "created", kind, ns,
	    ns[0] ? "/" : "", name);
	pass_note(exists ? &p->updated : &p->created, kind, name);
	return 0;
}

/* Deletes an object if the cache (or, for pods, the API) still has it.
 * Returns 1 when a delete was sent or is pending, 0 when it is gone. */
static int
delete_child(struct pass *p, enum vkc_cache cache, const char *group,
    const char *version, const char *plural, const char *kind,
    const char *ns, const char *name)
{
	struct json_object *live;
	struct kube_status st;
	char path[512];
	int rc;

	live = vkc_informer_get(p->ctl->caches[cache], ns, name);
	if (live == NULL)
		return 0;
	if (vkc_json_get(live, "metadata.deletionTimestamp") != NULL) {
		json_object_put(live);
		return 1;
	}
	rc = kube_path(path, sizeof(path), group, version, ns, plural, name,
	    NULL);
	if (rc == 0)
		rc = kube_delete(p->ctl->c, path, "Background",
		    vkc_json_get_string(live, "metadata.uid", NULL), &st);
	json_object_put(live);
	if (rc == KUBE_ENOTFOUND || rc == KUBE_ECONFLICT)
		return 1;	/* the cache will catch up */
	if (rc != 0) {
		log_error("cannot delete %s '%s%s%s': %s", kind, ns,
		    ns[0] ? "/" : "", name, status_line(&st, rc));
		return rc;
	}
	p->deleted++;
	log_info("deleted %s '%s%s%s'", kind, ns, ns[0] ? "/" : "", name);
	pass_note(&p->removed, kind, name);
	return 1;
}

/* Lists pods by a selector; returns the items array (caller puts). */
static int
list_pods(struct pass *p, const char *ns, const char *label_selector,
    const char *field_selector, struct json_object **items)
{
	struct json_object *list = NULL;
	struct kube_status st;
	char path[1024];
	int rc;

	*items = NULL;
	if (ns != NULL)
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods?", ns);
	else
		snprintf(path, sizeof(path), "/api/v1/pods?");
	if (label_selector != NULL) {
		strncat(path, "labelSelector=", sizeof(path) - strlen(path) - 1);
		rc = kube_query_escape(path, sizeof(path), label_selector);
		if (rc != 0)
			return rc;
	}
	if (field_selector != NULL) {
		strncat(path, "&fieldSelector=", sizeof(path) - strlen(path) - 1);
		rc = kube_query_escape(path, sizeof(path), field_selector);
		if (rc != 0)
			return rc;
	}
	rc = kube_get(p->ctl->c, path, &list, &st);
	if (rc != 0) {
		log_error("cannot list pods: %s", status_line(&st, rc));
		return rc;
	}
	*items = json_object_get(vkc_json_get(list, "items"));
	json_object_put(list);
	if (*items == NULL || !json_object_is_type(*items, json_type_array)) {
		json_object_put(*items);
		*items = json_object_new_array();
	}
	return 0;
}

/* Cordons node and evicts its pods; returns 1 while pods remain and the
 * drain timeout has not passed, 0 when done, <0 on failure. */
static int
drain_node(struct pass *p, const struct vkc_release *r)
{
	struct json_object *node, *pods = NULL, *pod, *ev, *start;
	struct kube_status st;
	char key[256], path[512], field[128];
	int64_t timeout;
	time_t now = time(NULL), began;
	size_t i, n;
	int rc;

	node = vkc_informer_get(p->ctl->caches[VKC_CACHE_NODES], "", r->node);
	if (node == NULL)
		return 0;
	timeout = vkc_json_get_int(p->conn, "spec.removal.drainTimeoutSeconds",
	    300);
	snprintf(key, sizeof(key), "%s/%s", p->ns, r->name);
	pthread_mutex_lock(&p->ctl->lock);
	if (!json_object_object_get_ex(p->ctl->drains, key, &start)) {
		start = json_object_new_int64((int64_t)now);
		json_object_object_add(p->ctl->drains, key, start);
	}
	began = (time_t)json_object_get_int64(start);
	pthread_mutex_unlock(&p->ctl->lock);

	if (!vkc_json_get_bool(node, "spec.unschedulable", false)) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s", r->node);
		rc = kube_merge_patch(p->ctl->c, path,
		    "{\"spec\":{\"unschedulable\":true}}", NULL, &st);
		if (rc != 0 && rc != KUBE_ENOTFOUND) {
			log_error("cannot cordon node '%s': %s", r->node,
			    status_line(&st, rc));
			json_object_put(node);
			return rc;
		}
		log_info("cordoned node '%s'", r->node);
		vkc_event(p->ctl->rec, p->conn, "Normal", "Cordoned",
		    "cordoned node %s before removal", r->node);
	}
	json_object_put(node);

	snprintf(field, sizeof(field), "spec.nodeName=%s", r->node);
	rc = list_pods(p, NULL, NULL, field, &pods);
	if (rc != 0)
		return rc;
	n = json_object_array_length(pods);
	if (n == 0) {
		json_object_put(pods);
		return 0;
	}
	if (timeout >= 0 && now - began >= timeout) {
		vkc_event(p->ctl->rec, p->conn, "Warning", "DrainTimeout",
		    "%zu pods still on node %s after %lld s; removing it anyway",
		    n, r->node, (long long)timeout);
		json_object_put(pods);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const char *pns, *pname;

		pod = json_object_array_get_idx(pods, i);
		if (vkc_json_get(pod, "metadata.deletionTimestamp") != NULL)
			continue;
		pns = vkc_json_get_string(pod, "metadata.namespace", "");
		pname = vkc_json_get_string(pod, "metadata.name", "");
		ev = json_object_new_object();
		vkc_json_set(ev, "apiVersion",
		    json_object_new_string("policy/v1"));
		vkc_json_set(ev, "kind", json_object_new_string("Eviction"));
		vkc_json_set(ev, "metadata.name", json_object_new_string(pname));
		vkc_json_set(ev, "metadata.namespace",
		    json_object_new_string(pns));
		snprintf(path, sizeof(path),
		    "/api/v1/namespaces/%s/pods/%s/eviction", pns, pname);
		rc = kube_create(p->ctl->c, path, ev, NULL, &st);
		json_object_put(ev);
		if (rc == 0) {
			log_info("evicted pod '%s/%s' from node '%s'", pns,
			    pname, r->node);
			vkc_event(p->ctl->rec, p->conn, "Normal", "Evicted",
			    "evicted pod %s/%s from node %s", pns, pname,
			    r->node);
		} else if (rc != KUBE_ENOTFOUND) {
			/* 429: a PodDisruptionBudget says not now */
			log_warn("cannot evict pod '%s/%s': %s", pns, pname,
			    status_line(&st, rc));
		}
	}
	json_object_put(pods);
	return 1;
}

/*
 * Tears one release down in DESIGN.md §5.7's order. Returns 1 while in
 * progress (call again), 0 when nothing is left, <0 on failure.
 */
static int
teardown_release(struct pass *p, const struct vkc_release *r, bool drain)
{
	struct json_object *pods = NULL;
	char sel[256], key[256];
	int rc, busy;

	if (drain) {
		rc = drain_node(p, r);
		if (rc != 0)
			return rc;
	}
	rc = delete_child(p, VKC_CACHE_DEPLOYMENTS, "apps", "v1",
	    "deployments", "Deployment", p->ns, r->name);
	if (rc != 0)
		return rc;
	/* the node goes only once no connector pod can re-register it */
	snprintf(sel, sizeof(sel), "app.kubernetes.io/instance=%s,"
	    "app.kubernetes.io/managed-by=vkc-operator", r->name);
	rc = list_pods(p, p->ns, sel, NULL, &pods);
	if (rc != 0)
		return rc;
	if (json_object_array_length(pods) > 0) {
		json_object_put(pods);
		return 1;
	}
	json_object_put(pods);
	rc = delete_child(p, VKC_CACHE_NODES, "", "v1", "nodes", "Node", "",
	    r->node);
	if (rc != 0)
		return rc;
	/* the rest in one pass; done when none is left */
	busy = 0;
	rc = delete_child(p, VKC_CACHE_CRBS, "rbac.authorization.k8s.io", "v1",
	    "clusterrolebindings", "ClusterRoleBinding", "", r->crb);
	if (rc < 0)
		return rc;
	busy += rc;
	rc = delete_child(p, VKC_CACHE_SECRETS, "", "v1", "secrets", "Secret",
	    p->ns, r->tls_secret);
	if (rc < 0)
		return rc;
	busy += rc;
	rc = delete_child(p, VKC_CACHE_SERVICEACCOUNTS, "", "v1",
	    "serviceaccounts", "ServiceAccount", p->ns, r->name);
	if (rc < 0)
		return rc;
	if (busy + rc > 0)
		return 1;
	snprintf(key, sizeof(key), "%s/%s", p->ns, r->name);
	pthread_mutex_lock(&p->ctl->lock);
	json_object_object_del(p->ctl->drains, key);
	pthread_mutex_unlock(&p->ctl->lock);
	return 0;
}

/* Adds a child's release (instance -> os token) to the object arg. */
static int
note_release(struct json_object *o, void *arg)
{
	const char *inst, *os;

	inst = label(o, "app.kubernetes.io/instance");
	os = label(o, VKC_LABEL_OS);
	if (inst != NULL && os != NULL)
		json_object_object_add(arg, inst, json_object_new_string(os));
	return 0;
}

/* The releases that exist for this connector, found by the labels of its
 * children, as a JSON object instance -> os token. */
static struct json_object *
existing_releases(struct pass *p)
{
	static const enum vkc_cache caches[] = {
		VKC_CACHE_DEPLOYMENTS, VKC_CACHE_SERVICEACCOUNTS,
		VKC_CACHE_SECRETS, VKC_CACHE_CRBS,
	};
	struct json_object *out;
	size_t i;

	out = json_object_new_object();
	if (out == NULL)
		return NULL;
	/* only two labels are read: no copies */
	for (i = 0; i < sizeof(caches) / sizeof(caches[0]); i++)
		vkc_informer_foreach_index(p->ctl->caches[caches[i]], p->ns,
		    p->name, note_release, out);
	return out;
}

/* Rebuilds the names of an existing release from its instance label. */
static int
release_from_instance(struct pass *p, const char *inst, const char *os_token,
    struct vkc_release *r)
{
	memset(r, 0, sizeof(*r));
	r->os = strcmp(os_token, "windows") == 0 ? VKC_OS_WINDOWS :
	    VKC_OS_LINUX;
	if (snprintf(r->name, sizeof(r->name), "%s", inst) >=
	    (int)sizeof(r->name))
		return -ENAMETOOLONG;
	if (vkc_node_name(r->name, r->node, sizeof(r->node)) != 0 ||
	    vkc_tls_secret_name(r->name, r->tls_secret,
	    sizeof(r->tls_secret)) != 0 ||
	    vkc_crb_name(p->ns, r->name, r->crb, sizeof(r->crb)) != 0)
		return -ENAMETOOLONG;
	return 0;
}

/* Tears down every existing release not in keep (NULL: all). Returns 1
 * while some teardown is in progress, 0 when done, <0 on failure. */
static int
teardown_others(struct pass *p, struct json_object *keep)
{
	struct json_object *existing;
	struct vkc_release r;
	bool drain;
	int rc, busy = 0;

	existing = existing_releases(p);
	if (existing == NULL)
		return -ENOMEM;
	drain = vkc_json_get_bool(p->conn, "spec.removal.drain", false);
	json_object_object_foreach(existing, inst, os) {
		if (keep != NULL && json_object_object_get_ex(keep, inst, NULL))
			continue;
		if (release_from_instance(p, inst, json_object_get_string(os),
		    &r) != 0)
			continue;
		rc = teardown_release(p, &r, drain);
		if (rc < 0) {
			json_object_put(existing);
			return rc;
		}
		if (rc > 0)
			busy = 1;
		else
			log_info("removed release '%s/%s'", p->ns, inst);
	}
	json_object_put(existing);
	return busy;
}

/* ---- finalizer ---- */

static int
finalizer_index(struct json_object *conn)
{
	struct json_object *fins;
	size_t i;

	fins = vkc_json_get(conn, "metadata.finalizers");
	if (fins == NULL || !json_object_is_type(fins, json_type_array))
		return -1;
	for (i = 0; i < json_object_array_length(fins); i++)
		if (strcmp(json_object_get_string(
		    json_object_array_get_idx(fins, i)), VKC_FINALIZER) == 0)
			return (int)i;
	return -1;
}

static int
connector_path(struct pass *p, char *out, size_t outlen, const char *sub)
{
	return kube_path(out, outlen, VKC_GROUP, "v1alpha1", p->ns, VKC_PLURAL,
	    p->name, sub);
}

static int
add_finalizer(struct pass *p)
{
	struct kube_status st;
	char path[512], patch[512];
	const char *rv;
	int rc;

	if (finalizer_index(p->conn) >= 0)
		return 0;
	rv = vkc_json_get_string(p->conn, "metadata.resourceVersion", "");
	if (vkc_json_get(p->conn, "metadata.finalizers") == NULL)
		snprintf(patch, sizeof(patch), "[{\"op\":\"test\",\"path\":"
		    "\"/metadata/resourceVersion\",\"value\":\"%s\"},"
		    "{\"op\":\"add\",\"path\":\"/metadata/finalizers\","
		    "\"value\":[\"%s\"]}]", rv, VKC_FINALIZER);
	else
		snprintf(patch, sizeof(patch), "[{\"op\":\"test\",\"path\":"
		    "\"/metadata/resourceVersion\",\"value\":\"%s\"},"
		    "{\"op\":\"add\",\"path\":\"/metadata/finalizers/-\","
		    "\"value\":\"%s\"}]", rv, VKC_FINALIZER);
	rc = connector_path(p, path, sizeof(path), NULL);
	if (rc == 0)
		rc = kube_json_patch(p->ctl->c, path, patch, NULL, &st);
	if (rc != 0)
		log_warn("cannot add finalizer to '%s/%s': %s", p->ns, p->name,
		    status_line(&st, rc));
	return rc;
}

static int
remove_finalizer(struct pass *p)
{
	struct kube_status st;
	char path[512], patch[512];
	int i, rc;

	i = finalizer_index(p->conn);
	if (i < 0)
		return 0;
	/* the test op makes this fail, not remove another finalizer, when
	 * the list changed meanwhile */
	snprintf(patch, sizeof(patch), "[{\"op\":\"test\",\"path\":"
	    "\"/metadata/finalizers/%d\",\"value\":\"%s\"},{\"op\":\"remove\","
	    "\"path\":\"/metadata/finalizers/%d\"}]", i, VKC_FINALIZER, i);
	rc = connector_path(p, path, sizeof(path), NULL);
	if (rc == 0)
		rc = kube_json_patch(p->ctl->c, path, patch, NULL, &st);
	if (rc == KUBE_ENOTFOUND)
		return 0;
	if (rc != 0)
		log_warn("cannot remove finalizer from '%s/%s': %s", p->ns,
		    p->name, status_line(&st, rc));
	return rc;
}

/* ---- location ---- */

static int
resolve_location(struct pass *p, char *out, size_t outlen)
{
	struct json_object *list = NULL;
	struct kube_status st;
	const char *loc;
	time_t now = time(NULL);
	int rc;

	loc = vkc_json_get_string(p->conn, "spec.location", "");
	if (loc[0] != '\0') {
		rc = vkc_location_normalize(loc, out, outlen);
		if (rc != 0) {
			snprintf(p->reason, sizeof(p->reason), "InvalidLocation");
			snprintf(p->message, sizeof(p->message), "spec.location "
			    "'%.64s' is not an Azure region name: use letters "
			    "and digits, e.g. 'East US' or 'eastus'", loc);
		}
		return rc;
	}
	pthread_mutex_lock(&p->ctl->lock);
	if (p->ctl->region[0] != '\0' && now - p->ctl->region_at <
	    REGION_CACHE_S) {
		snprintf(out, outlen, "%s", p->ctl->region);
		pthread_mutex_unlock(&p->ctl->lock);
		return 0;
	}
	pthread_mutex_unlock(&p->ctl->lock);
	rc = kube_get(p->ctl->c, "/api/v1/nodes?resourceVersion=0", &list, &st);
	if (rc != 0) {
		snprintf(p->reason, sizeof(p->reason), "LocationUnknown");
		snprintf(p->message, sizeof(p->message), "cannot list nodes to "
		    "find the cluster's region: %s; set spec.location",
		    status_line(&st, rc));
		return rc;
	}
	rc = vkc_cluster_region(vkc_json_get(list, "items"), out, outlen);
	json_object_put(list);
	if (rc != 0) {
		snprintf(p->reason, sizeof(p->reason), "LocationUnknown");
		snprintf(p->message, sizeof(p->message), "no node carries a "
		    "topology.kubernetes.io/region label: set spec.location");
		return rc;
	}
	pthread_mutex_lock(&p->ctl->lock);
	snprintf(p->ctl->region, sizeof(p->ctl->region), "%s", out);
	p->ctl->region_at = now;
	pthread_mutex_unlock(&p->ctl->lock);
	return 0;
}

/* ---- credentials ---- */

/* Checks the credentials Secret; fills hash. Returns 0, or -ENOENT with
 * p->reason set. */
static int
check_credentials(struct pass *p, char hash[65])
{
	static const char *const required[] = { "clientId", "clientSecret" };
	struct json_object *secret = NULL, *v;
	const char *name;
	size_t i;
	int rc;

	name = vkc_json_get_string(p->conn, "spec.credentials.secretRef.name",
	    NULL);
	if (name != NULL) {
		secret = vkc_informer_get(p->ctl->caches[VKC_CACHE_CREDENTIALS],
		    p->ns, name);
		if (secret == NULL) {
			snprintf(p->reason, sizeof(p->reason),
			    "CredentialsNotFound");
			snprintf(p->message, sizeof(p->message), "Secret '%s' "
			    "(spec.credentials.secretRef) not found in "
			    "namespace '%s': create it with keys clientId and "
			    "clientSecret", name, p->ns);
			return -ENOENT;
		}
		for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
			if (!json_object_object_get_ex(vkc_json_get(secret,
			    "data"), required[i], &v) ||
			    json_object_get_string_len(v) == 0) {
				snprintf(p->reason, sizeof(p->reason),
				    "CredentialsNotFound");
				snprintf(p->message, sizeof(p->message),
				    "Secret '%s' has no key '%s': it needs "
				    "clientId and clientSecret", name,
				    required[i]);
				json_object_put(secret);
				return -ENOENT;
			}
		}
	}
	rc = vkc_credentials_hash(p->conn, secret, hash);
	json_object_put(secret);
	return rc;
}

/* ---- TLS ---- */


/* Decodes a base64 field of a Secret. */
static int
tls_field(struct json_object *secret, const char *path, char **out,
    size_t *outlen)
{
	const char *v = vkc_json_get_string(secret, path, "");

	return vkc_base64_decode(v, strlen(v), out, outlen);
}

/* Seconds left on the Secret's certificate when this resourceVersion of it
 * was found good before; -1 when it was not. */
static long long
tls_known_good(struct pass *p, const char *key, const char *rv)
{
	struct json_object *e;
	long long left = -1;

	pthread_mutex_lock(&p->ctl->lock);
	if (json_object_object_get_ex(p->ctl->tls_ok, key, &e) &&
	    strcmp(vkc_json_get_string(e, "rv", ""), rv) == 0)
		left = (long long)vkc_json_get_int(e, "expires", 0) -
		    (long long)time(NULL);
	pthread_mutex_unlock(&p->ctl->lock);
	return left;
}

static void
tls_remember(struct pass *p, const char *key, const char *rv,
    long long left)
{
	struct json_object *e;

	e = json_object_new_object();
	if (e == NULL)
		return;
	json_object_object_add(e, "rv", json_object_new_string(rv));
	json_object_object_add(e, "expires",
	    json_object_new_int64((int64_t)time(NULL) + left));
	pthread_mutex_lock(&p->ctl->lock);
	json_object_object_add(p->ctl->tls_ok, key, e);
	pthread_mutex_unlock(&p->ctl->lock);
}

/* The cert and key to put in the TLS Secret: the current ones while they
 * match the node and have more than 30 days left, else new ones. */
static int
tls_material(struct pass *p, const struct vkc_release *r, char **cert,
    char **key, long long *left)
{
	struct json_object *live;
	size_t clen = 0, klen = 0;
	char ckey[512];
	const char *rv;
	int rc;

	*cert = NULL;
	*key = NULL;
	*left = 0;
	snprintf(ckey, sizeof(ckey), "%s/%s", p->ns, r->tls_secret);
	live = vkc_informer_get(p->ctl->caches[VKC_CACHE_SECRETS], p->ns,
	    r->tls_secret);
	rv = vkc_json_get_string(live, "metadata.resourceVersion", "");
	if (live != NULL &&
	    tls_field(live, "data.tls\\.crt", cert, &clen) == 0 &&
	    tls_field(live, "data.tls\\.key", key, &klen) == 0) {
		/* parsing PEM is most of a quiet pass's cost: once per
		 * version of the Secret is enough */
		*left = tls_known_good(p, ckey, rv);
		if (*left > VKC_TLS_RENEW_SECONDS) {
			json_object_put(live);
			return 0;
		}
		if (vkc_tls_matches(*cert, clen, *key, klen, r->node) == 1 &&
		    vkc_tls_seconds_left(*cert, clen, left) == 0 &&
		    *left > VKC_TLS_RENEW_SECONDS) {
			tls_remember(p, ckey, rv, *left);
			json_object_put(live);
			return 0;
		}
	}
	if (live != NULL)
		log_info("renewing kubelet certificate of '%s/%s'", p->ns,
		    r->name);
	json_object_put(live);
	free(*cert);
	free(*key);
	*cert = NULL;
	*key = NULL;
	rc = vkc_tls_generate(r->node, VKC_TLS_DAYS, cert, key);
	if (rc != 0) {
		*cert = NULL;
		*key = NULL;
		return rc;
	}
	*left = (long long)VKC_TLS_DAYS * 24 * 3600;
	return 0;
}

/* ---- status ---- */

static void
now_rfc3339(char *out, size_t outlen)
{
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A metav1.Condition, keeping lastTransitionTime from old when the
 * status did not flip. */
static struct json_object *
condition(struct json_object *old_conds, const char *type, bool status,
    const char *reason, const char *message, int64_t generation)
{
	struct json_object *c, *o;
	const char *st = status ? "True" : "False", *ltt = NULL;
	char now[32];
	size_t i;

	if (old_conds != NULL && json_object_is_type(old_conds,
	    json_type_array)) {
		for (i = 0; i < json_object_array_length(old_conds); i++) {
			o = json_object_array_get_idx(old_conds, i);
			if (strcmp(vkc_json_get_string(o, "type", ""), type) == 0 &&
			    strcmp(vkc_json_get_string(o, "status", ""), st) == 0)
				ltt = vkc_json_get_string(o,
				    "lastTransitionTime", NULL);
		}
	}
	if (ltt == NULL) {
		now_rfc3339(now, sizeof(now));
		ltt = now;
	}
	c = json_object_new_object();
	vkc_json_set(c, "type", json_object_new_string(type));
	vkc_json_set(c, "status", json_object_new_string(st));
	vkc_json_set(c, "reason", json_object_new_string(reason));
	vkc_json_set(c, "message", json_object_new_string(message));
	vkc_json_set(c, "lastTransitionTime", json_object_new_string(ltt));
	vkc_json_set(c, "observedGeneration", json_object_new_int64(generation));
	return c;
}

static const char *
node_ready(struct pass *p, const char *node_name)
{
	struct json_object *node, *conds, *c;
	static const char *const values[] = { "True", "False", "Unknown" };
	const char *st = "Unknown";
	size_t i, k;

	node = vkc_informer_get(p->ctl->caches[VKC_CACHE_NODES], "", node_name);
	if (node == NULL)
		return "Unknown";
	conds = vkc_json_get(node, "status.conditions");
	for (i = 0; conds != NULL && json_object_is_type(conds,
	    json_type_array) && i < json_object_array_length(conds); i++) {
		c = json_object_array_get_idx(conds, i);
		if (strcmp(vkc_json_get_string(c, "type", ""), "Ready") != 0)
			continue;
		for (k = 0; k < 3; k++)
			if (strcmp(vkc_json_get_string(c, "status", ""),
			    values[k]) == 0)
				st = values[k];
	}
	json_object_put(node);
	return st;	/* a static string */
}

/*
 * Writes status when it differs from what the cache holds. releases and
 * n describe the desired releases (n 0 when the spec was rejected);
 * location may be NULL.
 */
static int
update_status(struct pass *p, const struct vkc_desired_ctx *dctx,
    const struct vkc_release *rels, int n, const char *location)
{
	struct json_object *status, *old, *old_conds, *entries, *sched, *conds;
	struct json_object *e, *dep, *patch;
	struct kube_status st;
	char path[512], msg[512];
	const char *ready_reason = "Ready", *nr;
	bool ready = n > 0, failed = p->reason[0] != '\0';
	int64_t gen, ready_replicas;
	int i, rc = 0;

	gen = vkc_json_get_int(p->conn, "metadata.generation", 0);
	old = vkc_json_get(p->conn, "status");
	old_conds = vkc_json_get(old, "conditions");
	status = json_object_new_object();
	vkc_json_set(status, "observedGeneration", json_object_new_int64(gen));
	if (location != NULL)
		vkc_json_set(status, "location",
		    json_object_new_string(location));
	entries = json_object_new_array();
	sched = json_object_new_array();
	snprintf(msg, sizeof(msg), "every connector is available and its "
	    "virtual node is Ready");
	for (i = 0; i < n; i++) {
		dep = vkc_informer_get(p->ctl->caches[VKC_CACHE_DEPLOYMENTS],
		    p->ns, rels[i].name);
		ready_replicas = vkc_json_get_int(dep, "status.readyReplicas", 0);
		nr = node_ready(p, rels[i].node);
		e = json_object_new_object();
		vkc_json_set(e, "osType",
		    json_object_new_string(vkc_os_title(rels[i].os)));
		vkc_json_set(e, "nodeName", json_object_new_string(rels[i].node));
		vkc_json_set(e, "deployment",
		    json_object_new_string(rels[i].name));
		vkc_json_set(e, "readyReplicas",
		    json_object_new_int64(ready_replicas));
		vkc_json_set(e, "nodeReady", json_object_new_string(nr));
		json_object_array_add(entries, e);
		json_object_array_add(sched, vkc_desired_scheduling(dctx,
		    &rels[i]));
		if (ready && (dep == NULL || vkc_json_get_int(dep,
		    "status.availableReplicas", 0) < 1 ||
		    vkc_json_get_int(dep, "status.observedGeneration", 0) <
		    vkc_json_get_int(dep, "metadata.generation", 1))) {
			ready = false;
			ready_reason = "DeploymentNotAvailable";
			snprintf(msg, sizeof(msg), "Deployment '%s' has no "
			    "available replica yet", rels[i].name);
		} else if (ready && strcmp(nr, "True") != 0) {
			ready = false;
			ready_reason = "NodeNotReady";
			snprintf(msg, sizeof(msg), "virtual node '%s' is %s",
			    rels[i].node, strcmp(nr, "Unknown") == 0 ?
			    "not registered or not reporting" : "not Ready");
		}
		json_object_put(dep);
	}
	if (n > 0) {
		json_object_object_add(status, "connectors", entries);
		json_object_object_add(status, "scheduling", sched);
	} else {
		json_object_put(entries);
		json_object_put(sched);
	}
	if (failed) {
		ready = false;
		ready_reason = p->reason;
		snprintf(msg, sizeof(msg), "%s", p->message);
	}
	conds = json_object_new_array();
	json_object_array_add(conds, condition(old_conds, "Ready", ready,
	    ready_reason, msg, gen));
	json_object_array_add(conds, condition(old_conds, "Progressing",
	    !ready && !failed, ready ? "Reconciled" : failed ? p->reason :
	    "Reconciling", ready ? "the connector is up to date" : failed ?
	    "waiting for the spec or its inputs to be fixed" : msg, gen));
	json_object_array_add(conds, condition(old_conds, "Degraded", failed,
	    failed ? p->reason : "AsExpected", failed ? p->message :
	    "no error", gen));
	/* kstatus (Flux, Argo CD, kubectl's status readers) reads these two:
	 * Reconciling while on its way, Stalled when it needs a fix */
	json_object_array_add(conds, condition(old_conds, "Reconciling",
	    !ready && !failed, ready ? "Reconciled" : failed ? p->reason :
	    ready_reason, ready ? "the connector is up to date" : failed ?
	    "waiting for the spec or its inputs to be fixed" : msg, gen));
	json_object_array_add(conds, condition(old_conds, "Stalled", failed,
	    failed ? p->reason : "AsExpected", failed ? p->message :
	    "no error", gen));
	json_object_object_add(status, "conditions", conds);

	if (old != NULL && vkc_json_equal(old, status)) {
		json_object_put(status);
		return 0;
	}
	/* a merge patch keeps what it does not mention: clear, with null,
	 * what this pass could not fill */
	if (location == NULL)
		json_object_object_add(status, "location", NULL);
	if (n == 0) {
		json_object_object_add(status, "connectors", NULL);
		json_object_object_add(status, "scheduling", NULL);
	}
	patch = json_object_new_object();
	json_object_object_add(patch, "status", status);
	rc = connector_path(p, path, sizeof(path), "status");
	if (rc == 0)
		rc = kube_merge_patch(p->ctl->c, path, vkc_json_str(patch), NULL,
		    &st);
	if (rc == KUBE_ENOTFOUND)
		rc = 0;
	else if (rc != 0)
		log_error("cannot update status of '%s/%s': %s", p->ns, p->name,
		    status_line(&st, rc));
	json_object_put(patch);
	return rc;
}

/* ---- the reconcile ---- */

static int
reconcile_deleted(struct pass *p)
{
	int rc;

	if (finalizer_index(p->conn) < 0)
		return 0;
	rc = teardown_others(p, NULL);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		pass_requeue(p, TEARDOWN_POLL_S);
		p->waiting = true;
		return 0;
	}
	rc = remove_finalizer(p);
	if (rc == 0)
		log_info("removed every child of '%s/%s'", p->ns, p->name);
	return rc;
}

/* Asks the apiserver, with a dry run, whether it would take obj (a
 * Deployment or a ClusterRoleBinding), so that a spec it refuses is
 * reported before any child is made: resources it rejects, a ClusterRole
 * the operator may not bind, one that does not exist. Returns 0, 1 when
 * refused (reason set), or a negative code. */
static int
dry_run_child(struct pass *p, struct json_object *obj, const char *group,
    const char *version, const char *plural)
{
	struct kube_status st;
	const char *name, *ns, *kind;
	char path[512];
	int rc;

	ns = vkc_json_get_string(obj, "metadata.namespace", "");
	name = vkc_json_get_string(obj, "metadata.name", "");
	kind = vkc_json_get_string(obj, "kind", "");
	rc = kube_path(path, sizeof(path), group, version, ns, plural, name,
	    NULL);
	if (rc != 0)
		return rc;
	strncat(path, "?dryRun=All", sizeof(path) - strlen(path) - 1);
	rc = kube_apply(p->ctl->c, path, obj, VKC_FIELD_MANAGER, true, NULL,
	    &st);
	switch (rc) {
	case 0:
		return 0;
	case KUBE_EINVALID:
	case KUBE_EBADREQUEST:
		snprintf(p->reason, sizeof(p->reason), "InvalidSpec");
		snprintf(p->message, sizeof(p->message), "the apiserver refuses "
		    "the connector's %s: %.400s", kind, st.message);
		return 1;
	case KUBE_EFORBIDDEN:
		snprintf(p->reason, sizeof(p->reason), "Forbidden");
		snprintf(p->message, sizeof(p->message), "the operator may not "
		    "create %s '%s': %.300s; bind only ClusterRoles the operator "
		    "is granted 'bind' on (spec.rbac.clusterRoleName)", kind,
		    name, st.message);
		pass_requeue(p, 60);	/* RBAC may be granted meanwhile */
		return 1;
	case KUBE_ENOTFOUND:
		snprintf(p->reason, sizeof(p->reason), "ClusterRoleNotFound");
		snprintf(p->message, sizeof(p->message), "ClusterRole '%s' "
		    "(spec.rbac.clusterRoleName) does not exist: create it "
		    "(manifests/rbac/connector_role.yaml) or name another",
		    vkc_json_get_string(obj, "roleRef.name", ""));
		pass_requeue(p, 60);	/* ClusterRoles are not watched */
		return 1;
	default:
		log_error("cannot check %s '%s': %s", kind, name,
		    status_line(&st, rc));
		return rc;
	}
}

/* Applies the children of every desired release, after checking that the
 * apiserver takes every Deployment and ClusterRoleBinding not already in
 * place. Returns 0, 1 when the spec was refused (nothing applied), or a
 * negative code. */
static int
apply_releases(struct pass *p, const struct vkc_desired_ctx *dctx,
    const struct vkc_release *rels, int n)
{
	struct json_object *o, *deps[VKC_OS_COUNT] = { NULL };
	struct json_object *crbs[VKC_OS_COUNT] = { NULL };
	bool dep_held[VKC_OS_COUNT], crb_held[VKC_OS_COUNT];
	char *cert = NULL, *key = NULL;
	long long left;
	int i, rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		deps[i] = vkc_desired_deployment(dctx, &rels[i]);
		crbs[i] = vkc_desired_cluster_role_binding(dctx, &rels[i]);
		if (deps[i] == NULL || crbs[i] == NULL) {
			rc = -ENOMEM;
			break;
		}
		dep_held[i] = cache_holds(p, VKC_CACHE_DEPLOYMENTS, deps[i],
		    NULL);
		crb_held[i] = cache_holds(p, VKC_CACHE_CRBS, crbs[i], NULL);
		if (!dep_held[i])
			rc = dry_run_child(p, deps[i], "apps", "v1",
			    "deployments");
		if (rc == 0 && !crb_held[i])
			rc = dry_run_child(p, crbs[i],
			    "rbac.authorization.k8s.io", "v1",
			    "clusterrolebindings");
	}
	for (i = 0; i < n && rc == 0; i++) {
		o = vkc_desired_service_account(dctx, &rels[i]);
		rc = o ? apply_child(p, VKC_CACHE_SERVICEACCOUNTS, o, "", "v1",
		    "serviceaccounts") : -ENOMEM;
		json_object_put(o);
		if (rc != 0)
			break;
		rc = tls_material(p, &rels[i], &cert, &key, &left);
		if (rc != 0) {
			log_error("cannot make the kubelet certificate of "
			    "'%s/%s': %s", p->ns, rels[i].name, strerror(-rc));
			break;
		}
		pass_requeue(p, (double)(left - VKC_TLS_RENEW_SECONDS) + 1);
		o = vkc_desired_tls_secret(dctx, &rels[i], cert, key);
		explicit_bzero(key, strlen(key));
		free(cert);
		free(key);
		cert = key = NULL;
		rc = o ? apply_child(p, VKC_CACHE_SECRETS, o, "", "v1",
		    "secrets") : -ENOMEM;
		json_object_put(o);
		if (rc == 0 && !crb_held[i])
			rc = apply_child(p, VKC_CACHE_CRBS, crbs[i],
			    "rbac.authorization.k8s.io", "v1",
			    "clusterrolebindings");
		if (rc == 0 && !dep_held[i])
			rc = apply_child(p, VKC_CACHE_DEPLOYMENTS, deps[i],
			    "apps", "v1", "deployments");
	}
	for (i = 0; i < n; i++) {
		json_object_put(deps[i]);
		json_object_put(crbs[i]);
	}
	return rc;
}

/* Bad input (p->reason says which): a log line, a Warning Event and the
 * status say so; nothing more is written and the pass is not retried
 * (a change to the spec or its inputs brings it back). */
static int
reject(struct pass *p, const struct vkc_desired_ctx *dctx,
    const struct vkc_release *rels, int n, const char *location)
{
	log_warn("rejected '%s/%s': %s: %s", p->ns, p->name, p->reason,
	    p->message);
	vkc_event(p->ctl->rec, p->conn, "Warning", p->reason, "%s",
	    p->message);
	update_status(p, dctx, rels, n, location);
	return 0;
}

static int
reconcile_live(struct pass *p)
{
	struct vkc_desired_ctx dctx;
	struct vkc_release rels[VKC_OS_COUNT];
	struct json_object *keep = NULL;
	char location[64], hash[65], reason[64], msg[512];
	const char *os_type;
	unsigned mask = 0;
	int n = 0, rc, os;
	bool have_location = false;

	memset(&dctx, 0, sizeof(dctx));
	dctx.connector = p->conn;
	os_type = vkc_json_get_string(p->conn, "spec.osType", "Linux");
	rc = resolve_location(p, location, sizeof(location));
	if (rc == 0) {
		have_location = true;
		dctx.location = location;
		rc = vkc_desired_validate(p->conn, location, reason,
		    sizeof(reason), msg, sizeof(msg));
		if (rc != 0) {
			snprintf(p->reason, sizeof(p->reason), "%s", reason);
			snprintf(p->message, sizeof(p->message), "%s", msg);
		}
	}
	if (rc == 0 && vkc_os_mask(os_type, &mask) != 0) {
		snprintf(p->reason, sizeof(p->reason), "InvalidSpec");
		snprintf(p->message, sizeof(p->message), "spec.osType '%.32s' "
		    "is not Linux, Windows or Both", os_type);
		rc = -EINVAL;
	}
	for (os = 0; rc == 0 && os < VKC_OS_COUNT; os++) {
		if (!(mask & VKC_OS_BIT(os)))
			continue;
		rc = vkc_release_init(&rels[n], p->name, p->ns,
		    (enum vkc_os)os, location);
		if (rc != 0) {
			snprintf(p->reason, sizeof(p->reason), "InvalidName");
			snprintf(p->message, sizeof(p->message), "release name "
			    "'%s-%s-%s' is not a DNS-1123 label of at most 63 "
			    "characters: shorten metadata.name or spec.location",
			    p->name, vkc_os_token((enum vkc_os)os), location);
			break;
		}
		n++;
	}
	if (rc != 0) {
		/* bad input: say so, create nothing, keep what runs */
		/* the region comes from Nodes the operator does not watch:
		 * look again once the region cache has expired */
		if (strcmp(p->reason, "LocationUnknown") == 0)
			pass_requeue(p, REGION_CACHE_S + 1);
		return reject(p, &dctx, rels, 0, have_location ? location :
		    NULL);
	}
	rc = check_credentials(p, hash);
	if (rc == -ENOENT) {
		/* a running connector is left as it is */
		return reject(p, &dctx, rels, n, location);
	}
	if (rc != 0)
		return rc;
	dctx.credentials_hash = hash;
	rc = add_finalizer(p);
	if (rc != 0)
		return rc;
	rc = apply_releases(p, &dctx, rels, n);
	if (rc == 1) {
		/* bad input the apiserver found: report, do not retry */
		return reject(p, &dctx, rels, n, location);
	}
	if (rc == 0) {
		/* releases no longer desired: a shrink or a rename */
		keep = json_object_new_object();
		for (os = 0; os < n; os++)
			json_object_object_add(keep, rels[os].name, NULL);
		rc = teardown_others(p, keep);
		json_object_put(keep);
		if (rc > 0) {
			pass_requeue(p, TEARDOWN_POLL_S);
			p->waiting = true;
			rc = 0;
		}
	}
	update_status(p, &dctx, rels, n, location);
	return rc;
}

int
vkc_reconcile(struct vkc_controller *ctl, const char *key,
    double *requeue_after)
{
	struct pass p;
	char ns[256], *slash;
	int rc;

	*requeue_after = 0;
	memset(&p, 0, sizeof(p));
	p.ctl = ctl;
	snprintf(ns, sizeof(ns), "%s", key);
	slash = strchr(ns, '/');
	if (slash == NULL)
		return 0;
	*slash = '\0';
	if (!ctl_owns_namespace(ctl, ns))
		return 0;
	p.ns = ns;
	p.name = slash + 1;
	vkc_buf_init(&p.created, 2048);
	vkc_buf_init(&p.updated, 2048);
	vkc_buf_init(&p.removed, 2048);
	p.conn = vkc_informer_get(ctl->caches[VKC_CACHE_CONNECTORS], ns,
	    p.name);
	if (p.conn == NULL) {
		/* Gone. Normally its finalizer already removed everything;
		 * when it was stripped instead, the garbage collector takes
		 * the namespaced children, and this takes what a namespaced
		 * owner cannot own: ClusterRoleBindings and virtual Nodes. */
		rc = teardown_others(&p, NULL);
		if (rc > 0)
			*requeue_after = TEARDOWN_POLL_S;
		rc = rc < 0 ? rc : 0;
		goto out;
	}
	if (vkc_json_get(p.conn, "metadata.deletionTimestamp") != NULL)
		rc = reconcile_deleted(&p);
	else if (vkc_json_get_bool(p.conn, "spec.paused", false))
		rc = 0;		/* paused: no write at all */
	else
		rc = reconcile_live(&p);
	pass_events(&p);
	*requeue_after = p.requeue > RESYNC_MAX_S ? RESYNC_MAX_S : p.requeue;
	if (rc == 0)
		log_debug(1, "reconciled '%s': %d applied, %d deleted%s%s%s",
		    key, p.applied, p.deleted, p.reason[0] ? ", " : "",
		    p.reason, p.waiting ? ", waiting" : "");
out:
	json_object_put(p.conn);
	vkc_buf_release(&p.created);
	vkc_buf_release(&p.updated);
	vkc_buf_release(&p.removed);
	return rc;
}

static double
elapsed(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

void
vkc_controller_work(struct vkc_controller *ctl)
{
	struct timespec t0;
	double after, took, delay;
	char *key;
	int rc, i;

	for (;;) {
		key = vkc_wq_get(ctl->q);
		if (key == NULL)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = vkc_reconcile(ctl, key, &after);
		took = elapsed(&t0);
		pthread_mutex_lock(&ctl->lock);
		ctl->stats.reconciles++;
		ctl->stats.seconds_sum += took;
		for (i = 0; i < 16; i++)
			if (took <= vkc_reconcile_buckets[i])
				ctl->stats.buckets[i]++;
		if (rc != 0)
			ctl->stats.error++;
		else if (after > 0)
			ctl->stats.requeue_after++;
		else
			ctl->stats.success++;
		pthread_mutex_unlock(&ctl->lock);
		if (rc != 0) {
			delay = vkc_wq_add_rate_limited(ctl->q, key);
			log_warn("reconcile of '%s' failed (%s); retrying in "
			    "%.3fs", key, kube_strerror(rc), delay);
		} else {
			vkc_wq_forget(ctl->q, key);
			if (after > 0)
				vkc_wq_add_after(ctl->q, key, after);
		}
		vkc_wq_done(ctl->q, key);
		free(key);
	}
}
