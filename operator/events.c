/* events.c: deduplicated Kubernetes Events (see events.h). */
#include "events.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonutil.h"
#include "log.h"

#define EV_WINDOW_S 600		/* repeats inside this bump the count */
#define EV_MAX_REMEMBERED 4096

struct ev_seen {
	char key[65];		/* sha256 of object uid, reason, message */
	char name[128];		/* the Event's name */
	char ns[64];
	time_t last;
	unsigned count;
};

struct vkc_recorder {
	struct kube_client *c;
	char *component;
	char host[64];
	pthread_mutex_t lock;
	struct ev_seen *seen;
	size_t nseen, cap;
};

struct vkc_recorder *
vkc_recorder_new(struct kube_client *c, const char *component)
{
	struct vkc_recorder *r;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->c = c;
	r->component = strdup(component);
	if (r->component == NULL) {
		free(r);
		return NULL;
	}
	if (gethostname(r->host, sizeof(r->host)) != 0)
		snprintf(r->host, sizeof(r->host), "unknown");
	r->host[sizeof(r->host) - 1] = '\0';
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void
vkc_recorder_free(struct vkc_recorder *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->seen);
	free(r->component);
	free(r);
}

static void
ev_digest(const char *a, const char *b, const char *c, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0, i;
	EVP_MD_CTX *ctx;

	out[0] = '\0';
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, strlen(a) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, b, strlen(b) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, c, strlen(c) + 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &n) == 1) {
		for (i = 0; i < n && i < 32; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	}
	EVP_MD_CTX_free(ctx);
}

static void
ev_time(char *out, size_t outlen, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
vkc_event(struct vkc_recorder *r, struct json_object *obj, const char *type,
    const char *reason, const char *fmt, ...)
{
	struct json_object *ev = NULL, *io;
	struct kube_status st;
	struct ev_seen *s = NULL, *grown;
	char msg[1024], digest[65], path[512], now_s[32], line[1200];
	const char *ns, *name, *uid;
	time_t now = time(NULL);
	unsigned count = 1;
	size_t i;
	va_list ap;
	int rc;

	if (r == NULL || obj == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ns = vkc_json_get_string(obj, "metadata.namespace", "default");
	name = vkc_json_get_string(obj, "metadata.name", "");
	uid = vkc_json_get_string(obj, "metadata.uid", "");
	ev_digest(uid, reason, msg, digest);
	ev_time(now_s, sizeof(now_s), now);

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nseen; i++)
		if (strcmp(r->seen[i].key, digest) == 0)
			break;
	if (i < r->nseen && now - r->seen[i].last < EV_WINDOW_S) {
		/* a repeat: at most one count bump per minute */
		s = &r->seen[i];
		if (now - s->last < 60) {
			pthread_mutex_unlock(&r->lock);
			return;
		}
		s->count++;
		s->last = now;
		count = s->count;
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events/%s",
		    s->ns, s->name);
		pthread_mutex_unlock(&r->lock);
		snprintf(line, sizeof(line), "{\"count\":%u,"
		    "\"lastTimestamp\":\"%s\"}", count, now_s);
		rc = kube_merge_patch(r->c, path, line, NULL, &st);
		if (rc == 0 || rc != KUBE_ENOTFOUND)
			return;
		/* the Event expired meanwhile: record a new one */
		pthread_mutex_lock(&r->lock);
		count = 1;
		i = r->nseen;
	}
	if (i == r->nseen) {
		if (r->nseen == EV_MAX_REMEMBERED) {
			/* forget the oldest half */
			memmove(r->seen, r->seen + r->nseen / 2,
			    (r->nseen - r->nseen / 2) * sizeof(*r->seen));
			r->nseen -= r->nseen / 2;
		}
		if (r->nseen == r->cap) {
			size_t ncap = r->cap ? r->cap * 2 : 32;

			grown = realloc(r->seen, ncap * sizeof(*grown));
			if (grown == NULL) {
				pthread_mutex_unlock(&r->lock);
				return;
			}
			r->seen = grown;
			r->cap = ncap;
		}
		i = r->nseen++;
	}
	s = &r->seen[i];
	snprintf(s->key, sizeof(s->key), "%s", digest);
	snprintf(s->ns, sizeof(s->ns), "%s", ns);
	snprintf(s->name, sizeof(s->name), "%.80s.%08lx%04x", name,
	    (unsigned long)now, (unsigned)(random() & 0xffff));
	s->last = now;
	s->count = count;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", s->ns);
	ev = json_object_new_object();
	vkc_json_set(ev, "apiVersion", json_object_new_string("v1"));
	vkc_json_set(ev, "kind", json_object_new_string("Event"));
	vkc_json_set(ev, "metadata.name", json_object_new_string(s->name));
	vkc_json_set(ev, "metadata.namespace", json_object_new_string(s->ns));
	pthread_mutex_unlock(&r->lock);

	io = json_object_new_object();
	vkc_json_set(io, "apiVersion", json_object_new_string(
	    vkc_json_get_string(obj, "apiVersion", "")));
	vkc_json_set(io, "kind", json_object_new_string(
	    vkc_json_get_string(obj, "kind", "")));
	vkc_json_set(io, "name", json_object_new_string(name));
	vkc_json_set(io, "namespace", json_object_new_string(ns));
	vkc_json_set(io, "uid", json_object_new_string(uid));
	vkc_json_set(io, "resourceVersion", json_object_new_string(
	    vkc_json_get_string(obj, "metadata.resourceVersion", "")));
	json_object_object_add(ev, "involvedObject", io);
	vkc_json_set(ev, "reason", json_object_new_string(reason));
	vkc_json_set(ev, "message", json_object_new_string(msg));
	vkc_json_set(ev, "type", json_object_new_string(type));
	vkc_json_set(ev, "count", json_object_new_int((int)count));
	vkc_json_set(ev, "firstTimestamp", json_object_new_string(now_s));
	vkc_json_set(ev, "lastTimestamp", json_object_new_string(now_s));
	vkc_json_set(ev, "source.component",
	    json_object_new_string(r->component));
	vkc_json_set(ev, "source.host", json_object_new_string(r->host));
	vkc_json_set(ev, "reportingComponent",
	    json_object_new_string(r->component));
	vkc_json_set(ev, "reportingInstance", json_object_new_string(r->host));
	rc = kube_create(r->c, path, ev, NULL, &st);
	if (rc != 0) {
		log_warn("cannot record event %s on '%s/%s': %s", reason, ns,
		    name, kube_status_line(&st, rc, line, sizeof(line)));
		/* not recorded: forget it, so the next pass tries again */
		pthread_mutex_lock(&r->lock);
		for (i = 0; i < r->nseen; i++)
			if (strcmp(r->seen[i].key, digest) == 0)
				r->seen[i].key[0] = '\0';
		pthread_mutex_unlock(&r->lock);
	}
	json_object_put(ev);
}
