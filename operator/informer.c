/* informer.c: list+watch cache of one resource (see informer.h). */
#include "informer.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonutil.h"
#include "log.h"

#define INF_PAGE 500
#define INF_INACTIVITY_S 70
#define INF_BACKOFF_MIN 0.8
#define INF_BACKOFF_MAX 30.0
#define INF_HEALTHY_RESET_S 120

struct vkc_informer {
	struct kube_client *c;
	char *name, *group, *version, *plural, *ns, *selector;
	vkc_informer_transform transform;
	vkc_informer_handler handler;
	void *arg;

	pthread_t thread;
	bool started;
	volatile int stop;
	pthread_mutex_t lock;		/* guards store, synced */
	pthread_cond_t cond;		/* signalled on stop */
	struct json_object *store;	/* "ns/name" -> object */
	char *index_by[2];		/* labels indexed, or NULL */
	struct json_object *index;	/* "v1/v2" -> { store key: null } */
	bool synced;
	unsigned long lists;
	char rv[64];			/* last resourceVersion seen */
};

static char *
inf_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

struct vkc_informer *
vkc_informer_new(struct kube_client *c, const struct vkc_informer_config *cfg)
{
	struct vkc_informer *inf;

	inf = calloc(1, sizeof(*inf));
	if (inf == NULL)
		return NULL;
	inf->c = c;
	inf->name = inf_strdup(cfg->name);
	inf->group = inf_strdup(cfg->group);
	inf->version = inf_strdup(cfg->version);
	inf->plural = inf_strdup(cfg->plural);
	inf->ns = inf_strdup(cfg->ns);
	inf->selector = inf_strdup(cfg->label_selector);
	inf->transform = cfg->transform ? cfg->transform : vkc_informer_strip;
	inf->handler = cfg->handler;
	inf->arg = cfg->arg;
	inf->store = json_object_new_object();
	inf->index = json_object_new_object();
	if (cfg->index_by[0] != NULL && cfg->index_by[1] != NULL) {
		inf->index_by[0] = strdup(cfg->index_by[0]);
		inf->index_by[1] = strdup(cfg->index_by[1]);
	}
	pthread_mutex_init(&inf->lock, NULL);
	pthread_cond_init(&inf->cond, NULL);
	if (inf->name == NULL || inf->group == NULL || inf->version == NULL ||
	    inf->plural == NULL || inf->ns == NULL || inf->selector == NULL ||
	    inf->store == NULL || inf->index == NULL ||
	    (cfg->index_by[0] != NULL && (inf->index_by[0] == NULL ||
	    inf->index_by[1] == NULL))) {
		vkc_informer_free(inf);
		return NULL;
	}
	return inf;
}

void
vkc_informer_free(struct vkc_informer *inf)
{
	if (inf == NULL)
		return;
	if (inf->started)
		vkc_informer_stop(inf);
	json_object_put(inf->store);
	json_object_put(inf->index);
	free(inf->index_by[0]);
	free(inf->index_by[1]);
	free(inf->name);
	free(inf->group);
	free(inf->version);
	free(inf->plural);
	free(inf->ns);
	free(inf->selector);
	pthread_mutex_destroy(&inf->lock);
	pthread_cond_destroy(&inf->cond);
	free(inf);
}

void
vkc_informer_strip(struct json_object *obj)
{
	struct json_object *md, *ann;

	md = vkc_json_get(obj, "metadata");
	if (md == NULL || !json_object_is_type(md, json_type_object))
		return;
	json_object_object_del(md, "managedFields");
	ann = vkc_json_get(md, "annotations");
	if (ann != NULL && json_object_is_type(ann, json_type_object))
		json_object_object_del(ann,
		    "kubectl.kubernetes.io/last-applied-configuration");
}

static int
inf_key(struct json_object *obj, char *out, size_t outlen)
{
	const char *ns, *name;

	ns = vkc_json_get_string(obj, "metadata.namespace", "");
	name = vkc_json_get_string(obj, "metadata.name", NULL);
	if (name == NULL)
		return -EINVAL;
	if ((size_t)snprintf(out, outlen, "%s/%s", ns, name) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

/* Sleeps up to seconds, waking early on stop. */
static void
inf_wait(struct vkc_informer *inf, double seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)seconds;
	ts.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&inf->lock);
	while (!inf->stop) {
		if (pthread_cond_timedwait(&inf->cond, &inf->lock, &ts) != 0)
			break;
	}
	pthread_mutex_unlock(&inf->lock);
}

static double
inf_jitter(double d)
{
	return d * (0.8 + 0.4 * ((double)random() / (double)RAND_MAX));
}

static int
inf_base_path(struct vkc_informer *inf, char *out, size_t outlen)
{
	return kube_path(out, outlen, inf->group, inf->version, inf->ns,
	    inf->plural, NULL, NULL);
}

/* The index key of obj ("<label 1>/<label 2>"), or -ENOENT when the
 * informer keeps no index or obj lacks one of the labels. */
static int
idx_key(struct vkc_informer *inf, struct json_object *obj, char *out,
    size_t outlen)
{
	struct json_object *labels, *a, *b;

	if (inf->index_by[0] == NULL || obj == NULL)
		return -ENOENT;
	labels = vkc_json_get(obj, "metadata.labels");
	if (labels == NULL ||
	    !json_object_object_get_ex(labels, inf->index_by[0], &a) ||
	    !json_object_object_get_ex(labels, inf->index_by[1], &b) ||
	    !json_object_is_type(a, json_type_string) ||
	    !json_object_is_type(b, json_type_string))
		return -ENOENT;
	if ((size_t)snprintf(out, outlen, "%s/%s", json_object_get_string(a),
	    json_object_get_string(b)) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

/* Adds (add true) or removes store key key of obj in the index; the
 * caller holds the lock. */
static void
idx_update(struct vkc_informer *inf, struct json_object *obj, const char *key,
    bool add)
{
	struct json_object *set;
	char ik[512];

	if (idx_key(inf, obj, ik, sizeof(ik)) != 0)
		return;
	if (!json_object_object_get_ex(inf->index, ik, &set)) {
		if (!add)
			return;
		set = json_object_new_object();
		if (set == NULL)
			return;
		json_object_object_add(inf->index, ik, set);
	}
	if (add) {
		json_object_object_add(set, key, NULL);
	} else {
		json_object_object_del(set, key);
		if (json_object_object_length(set) == 0)
			json_object_object_del(inf->index, ik);
	}
}

/* True when a and b (both transformed) differ in their resourceVersion
 * at most. */
static bool
same_but_version(struct json_object *a, struct json_object *b)
{
	struct json_object *ma, *mb, *rva = NULL, *rvb = NULL;
	bool same;

	ma = vkc_json_get(a, "metadata");
	mb = vkc_json_get(b, "metadata");
	if (ma == NULL || mb == NULL ||
	    !json_object_is_type(ma, json_type_object) ||
	    !json_object_is_type(mb, json_type_object))
		return false;
	if (!json_object_object_get_ex(ma, "resourceVersion", &rva) ||
	    !json_object_object_get_ex(mb, "resourceVersion", &rvb) ||
	    rva == NULL || rvb == NULL)
		return false;
	json_object_get(rvb);
	/* compare with b wearing a's version, then give b its own back */
	json_object_object_add(mb, "resourceVersion", json_object_get(rva));
	same = json_object_equal(a, b) != 0;
	json_object_object_add(mb, "resourceVersion", rvb);
	return same;
}

/* Stores obj (taking it) under its key and runs the handler. */
static void
inf_upsert(struct vkc_informer *inf, struct json_object *obj)
{
	struct json_object *old;
	char key[512];
	bool existed, same;

	if (inf_key(obj, key, sizeof(key)) != 0) {
		json_object_put(obj);
		return;
	}
	inf->transform(obj);
	pthread_mutex_lock(&inf->lock);
	existed = json_object_object_get_ex(inf->store, key, &old);
	same = existed && same_but_version(old, obj);
	if (existed)
		idx_update(inf, old, key, false);
	json_object_get(obj);	/* one for the store, one for the handler */
	json_object_object_add(inf->store, key, obj);
	idx_update(inf, obj, key, true);
	pthread_mutex_unlock(&inf->lock);
	/* a change the transform stripped away (a Deployment's conditions,
	 * a Node's heartbeat) is no news for the handler */
	if (inf->handler != NULL && !same)
		inf->handler(existed ? VKC_EV_MODIFIED : VKC_EV_ADDED, obj,
		    inf->arg);
	json_object_put(obj);
}

static void
inf_remove(struct vkc_informer *inf, const char *key)
{
	struct json_object *old = NULL;

	pthread_mutex_lock(&inf->lock);
	if (json_object_object_get_ex(inf->store, key, &old)) {
		json_object_get(old);
		idx_update(inf, old, key, false);
		json_object_object_del(inf->store, key);
	} else {
		old = NULL;
	}
	pthread_mutex_unlock(&inf->lock);
	if (old != NULL && inf->handler != NULL)
		inf->handler(VKC_EV_DELETED, old, inf->arg);
	json_object_put(old);
}

/* Lists every page; on success replaces the store, emitting adds,
 * updates and deletes, and sets inf->rv. The first page comes from the
 * apiserver's watch cache (resourceVersion=0) unless consistent is set:
 * after a 410 the cache may be older than what was already seen, so the
 * relist reads from etcd, as client-go does. */
static int
inf_list(struct vkc_informer *inf, bool consistent)
{
	struct json_object *page = NULL, *items, *seen, *item;
	struct kube_status st;
	char base[512], path[4096], cont[1024], sel[512], line[1200];
	const char *rv = NULL, *next, *kind;
	size_t i, n, klen;
	int rc;

	seen = json_object_new_array();
	if (seen == NULL)
		return -ENOMEM;
	rc = inf_base_path(inf, base, sizeof(base));
	if (rc != 0)
		goto out;
	sel[0] = '\0';
	if (inf->selector[0] != '\0') {
		rc = kube_query_escape(sel, sizeof(sel), inf->selector);
		if (rc != 0)
			goto out;
	}
	cont[0] = '\0';
	for (;;) {
		/* the first page comes from the watch cache
		 * (resourceVersion=0); continuations carry their own */
		snprintf(path, sizeof(path), "%s?limit=%d%s%s%s%s", base,
		    INF_PAGE, cont[0] ? "&continue=" : consistent ? "" :
		    "&resourceVersion=0", cont,
		    sel[0] ? "&labelSelector=" : "", sel);
		rc = kube_get(inf->c, path, &page, &st);
		if (rc != 0) {
			log_warn("cannot list %s: %s", inf->name,
			    kube_status_line(&st, rc, line, sizeof(line)));
			goto out;
		}
		items = vkc_json_get(page, "items");
		if (items == NULL || !json_object_is_type(items,
		    json_type_array)) {
			log_warn("cannot list %s: answer has no items",
			    inf->name);
			rc = KUBE_EPROTO;
			goto out;
		}
		/* list items come without apiVersion and kind (watch events
		 * carry them): restore both, so that a cached object compares
		 * equal to a desired one however it arrived */
		kind = vkc_json_get_string(page, "kind", "");
		klen = strlen(kind);
		if (klen > 4 && strcmp(kind + klen - 4, "List") == 0)
			klen -= 4;
		n = json_object_array_length(items);
		for (i = 0; i < n; i++) {
			item = json_object_array_get_idx(items, i);
			if (!json_object_is_type(item, json_type_object))
				continue;
			if (vkc_json_get(item, "kind") == NULL && klen > 0)
				json_object_object_add(item, "kind",
				    json_object_new_string_len(kind, (int)klen));
			if (vkc_json_get(item, "apiVersion") == NULL)
				json_object_object_add(item, "apiVersion",
				    json_object_new_string(vkc_json_get_string(
				    page, "apiVersion", "")));
			json_object_array_add(seen, json_object_get(item));
		}
		rv = vkc_json_get_string(page, "metadata.resourceVersion", "");
		snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
		next = vkc_json_get_string(page, "metadata.continue", "");
		cont[0] = '\0';
		if (next[0] != '\0') {
			rc = kube_query_escape(cont, sizeof(cont), next);
			if (rc != 0)
				goto out;
		}
		json_object_put(page);
		page = NULL;
		if (cont[0] == '\0')
			break;
	}

	/* deletes for what is gone, then adds and updates */
	{
		struct json_object *keep = json_object_new_object();
		struct json_object *gone = json_object_new_array();
		char key[512];

		n = json_object_array_length(seen);
		for (i = 0; i < n; i++) {
			item = json_object_array_get_idx(seen, i);
			if (inf_key(item, key, sizeof(key)) == 0)
				json_object_object_add(keep, key, NULL);
		}
		pthread_mutex_lock(&inf->lock);
		json_object_object_foreach(inf->store, k, v) {
			(void)v;
			if (!json_object_object_get_ex(keep, k, NULL))
				json_object_array_add(gone,
				    json_object_new_string(k));
		}
		pthread_mutex_unlock(&inf->lock);
		for (i = 0; i < json_object_array_length(gone); i++)
			inf_remove(inf, json_object_get_string(
			    json_object_array_get_idx(gone, i)));
		json_object_put(keep);
		json_object_put(gone);
	}
	for (i = 0; i < n; i++)
		inf_upsert(inf, json_object_get(json_object_array_get_idx(seen,
		    i)));
	pthread_mutex_lock(&inf->lock);
	inf->synced = true;
	inf->lists++;
	pthread_mutex_unlock(&inf->lock);
	log_debug(2, "listed %zu %s at resourceVersion %s", n, inf->name,
	    inf->rv);
	rc = 0;
out:
	json_object_put(page);
	json_object_put(seen);
	/* a list is the largest allocation burst: give the pages back */
	malloc_trim(0);
	return rc;
}

static int
inf_event(const char *type, struct json_object *obj, void *arg)
{
	struct vkc_informer *inf = arg;
	const char *rv;
	char key[512];

	rv = vkc_json_get_string(obj, "metadata.resourceVersion", NULL);
	if (rv != NULL)
		snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
	if (strcmp(type, "BOOKMARK") == 0)
		return 0;
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		inf_upsert(inf, json_object_get(obj));
	} else if (strcmp(type, "DELETED") == 0) {
		if (inf_key(obj, key, sizeof(key)) == 0)
			inf_remove(inf, key);
	} else {
		log_warn("ignoring watch event of type '%s' for %s", type,
		    inf->name);
	}
	return 0;
}

static void *
inf_run(void *arg)
{
	struct vkc_informer *inf = arg;
	struct kube_status st;
	char base[512], path[2048], sel[512], line[1200];
	double backoff = INF_BACKOFF_MIN;
	time_t started;
	bool need_list = true, expired = false;
	int rc;

	if (inf_base_path(inf, base, sizeof(base)) != 0)
		return NULL;
	sel[0] = '\0';
	if (inf->selector[0] != '\0' &&
	    kube_query_escape(sel, sizeof(sel), inf->selector) != 0)
		return NULL;
	while (!inf->stop) {
		if (need_list) {
			rc = inf_list(inf, expired);
			if (rc != 0) {
				inf_wait(inf, inf_jitter(backoff));
				backoff = backoff * 2 > INF_BACKOFF_MAX ?
				    INF_BACKOFF_MAX : backoff * 2;
				continue;
			}
			need_list = false;
			expired = false;
		}
		snprintf(path, sizeof(path), "%s?watch=1&allowWatchBookmarks="
		    "true&resourceVersion=%s&timeoutSeconds=%ld%s%s", base,
		    inf->rv, 300 + random() % 301,
		    sel[0] ? "&labelSelector=" : "", sel);
		started = time(NULL);
		rc = kube_watch(inf->c, path, inf_event, inf, &inf->stop,
		    INF_INACTIVITY_S, &st);
		if (time(NULL) - started >= INF_HEALTHY_RESET_S)
			backoff = INF_BACKOFF_MIN;
		if (rc == 0 && time(NULL) - started >= 1)
			continue;	/* the server's timeout: watch again */
		if (rc == 0) {
			/* ended at once: do not hammer the server */
			inf_wait(inf, inf_jitter(backoff));
			backoff = backoff * 2 > INF_BACKOFF_MAX ?
			    INF_BACKOFF_MAX : backoff * 2;
			continue;
		}
		if (rc == KUBE_ECANCELED)
			break;
		if (rc == KUBE_EGONE) {
			log_info("watch of %s expired (resourceVersion %s): "
			    "relisting", inf->name, inf->rv);
			need_list = true;
			expired = true;
			continue;
		}
		log_warn("watch of %s failed: %s; retrying", inf->name,
		    kube_status_line(&st, rc, line, sizeof(line)));
		inf_wait(inf, inf_jitter(backoff));
		backoff = backoff * 2 > INF_BACKOFF_MAX ? INF_BACKOFF_MAX :
		    backoff * 2;
	}
	return NULL;
}

int
vkc_informer_start(struct vkc_informer *inf)
{
	int rc;

	rc = pthread_create(&inf->thread, NULL, inf_run, inf);
	if (rc != 0)
		return -rc;
	inf->started = true;
	return 0;
}

void
vkc_informer_signal_stop(struct vkc_informer *inf)
{
	pthread_mutex_lock(&inf->lock);
	inf->stop = 1;
	pthread_cond_broadcast(&inf->cond);
	pthread_mutex_unlock(&inf->lock);
}

void
vkc_informer_stop(struct vkc_informer *inf)
{
	if (!inf->started)
		return;
	vkc_informer_signal_stop(inf);
	pthread_join(inf->thread, NULL);
	inf->started = false;
}

bool
vkc_informer_synced(struct vkc_informer *inf)
{
	bool s;

	pthread_mutex_lock(&inf->lock);
	s = inf->synced;
	pthread_mutex_unlock(&inf->lock);
	return s;
}

unsigned long
vkc_informer_lists(struct vkc_informer *inf)
{
	unsigned long n;

	pthread_mutex_lock(&inf->lock);
	n = inf->lists;
	pthread_mutex_unlock(&inf->lock);
	return n;
}

struct json_object *
vkc_informer_get(struct vkc_informer *inf, const char *ns, const char *name)
{
	struct json_object *o, *copy = NULL;
	char key[512];

	if ((size_t)snprintf(key, sizeof(key), "%s/%s", ns ? ns : "", name) >=
	    sizeof(key))
		return NULL;
	pthread_mutex_lock(&inf->lock);
	if (json_object_object_get_ex(inf->store, key, &o) &&
	    json_object_deep_copy(o, &copy, NULL) != 0)
		copy = NULL;
	pthread_mutex_unlock(&inf->lock);
	return copy;
}

struct json_object *
vkc_informer_list(struct vkc_informer *inf, const char *label,
    const char *value)
{
	struct json_object *out, *copy;
	char path[300];

	out = json_object_new_array();
	if (out == NULL)
		return NULL;
	if (label != NULL)
		snprintf(path, sizeof(path), "metadata.labels");
	pthread_mutex_lock(&inf->lock);
	json_object_object_foreach(inf->store, k, v) {
		(void)k;
		if (label != NULL) {
			struct json_object *labels, *lv;

			labels = vkc_json_get(v, path);
			if (labels == NULL || !json_object_object_get_ex(labels,
			    label, &lv) || !json_object_is_type(lv,
			    json_type_string) || (value != NULL &&
			    strcmp(json_object_get_string(lv), value) != 0))
				continue;
		}
		copy = NULL;
		if (json_object_deep_copy(v, &copy, NULL) == 0)
			json_object_array_add(out, copy);
	}
	pthread_mutex_unlock(&inf->lock);
	return out;
}

size_t
vkc_informer_len(struct vkc_informer *inf)
{
	size_t n;

	pthread_mutex_lock(&inf->lock);
	n = (size_t)json_object_object_length(inf->store);
	pthread_mutex_unlock(&inf->lock);
	return n;
}

void
vkc_informer_foreach_index(struct vkc_informer *inf, const char *v1,
    const char *v2, int (*fn)(struct json_object *obj, void *arg), void *arg)
{
	struct json_object *set, *o;
	char ik[512];

	if ((size_t)snprintf(ik, sizeof(ik), "%s/%s", v1, v2) >= sizeof(ik))
		return;
	pthread_mutex_lock(&inf->lock);
	if (json_object_object_get_ex(inf->index, ik, &set)) {
		json_object_object_foreach(set, k, unused) {
			(void)unused;
			if (json_object_object_get_ex(inf->store, k, &o) &&
			    fn(o, arg) != 0)
				break;
		}
	}
	pthread_mutex_unlock(&inf->lock);
}

void
vkc_informer_foreach(struct vkc_informer *inf,
    int (*fn)(struct json_object *obj, void *arg), void *arg)
{
	pthread_mutex_lock(&inf->lock);
	json_object_object_foreach(inf->store, k, v) {
		(void)k;
		if (fn(v, arg) != 0)
			break;
	}
	pthread_mutex_unlock(&inf->lock);
}
