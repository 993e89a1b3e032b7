/*
 * kube.h: a Kubernetes API client over libcurl.
 *
 * One struct kube_client per process, shared by every thread: requests
 * take an idle connection handle from a pool (so TCP/TLS connections are
 * reused, HTTP/2 where the server offers it) and give it back. TLS is
 * always verified unless the kubeconfig says insecure-skip-tls-verify;
 * certificates and keys go to libcurl from memory.
 *
 * Errors: every call returns 0 or a negative KUBE_E* code; when the
 * apiserver answered, *st (if given) holds its Status: HTTP code, reason
 * and message. A GET is retried after 429 and 5xx answers and transport
 * failures, with jittered backoff honouring Retry-After; a write, which
 * may already have been applied, only after 429, 503, a 5xx carrying
 * Retry-After, or when no connection could be made. A 401 refreshes the
 * credentials (token
 * file, exec plugin) once. A 409 Conflict is returned as KUBE_ECONFLICT
 * for the caller to retry with fresh data.
 */
#ifndef VKC_KUBE_H
#define VKC_KUBE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "kubeconfig.h"
#include "watch.h"

enum {
	KUBE_ETRANSPORT = -3001,	/* no answer: connect, TLS, timeout */
	KUBE_EBADREQUEST = -3002,	/* 400 */
	KUBE_EUNAUTHORIZED = -3003,	/* 401 */
	KUBE_EFORBIDDEN = -3004,	/* 403 */
	KUBE_ENOTFOUND = -3005,		/* 404 */
	KUBE_ECONFLICT = -3006,		/* 409 Conflict (stale resourceVersion) */
	KUBE_EEXISTS = -3007,		/* 409 AlreadyExists */
	KUBE_EGONE = -3008,		/* 410: resourceVersion too old, relist */
	KUBE_EINVALID = -3009,		/* 422: rejected by validation */
	KUBE_ETOOMANY = -3010,		/* 429 after the retries */
	KUBE_ESERVER = -3011,		/* 5xx after the retries */
	KUBE_EPROTO = -3012,		/* a malformed or unexpected answer */
	KUBE_ENOMEM = -3013,
	KUBE_ECANCELED = -3014,		/* stopped by the caller */
	KUBE_EAUTH = -3015,		/* credentials could not be obtained */
	KUBE_EHTTP = -3016,		/* another HTTP error code */
};

/* What the apiserver said about a failed request. */
struct kube_status {
	long http;		/* HTTP status code; 0 when there was none */
	char reason[64];	/* Status.reason, e.g. "NotFound" */
	char message[1024];	/* Status.message or a transport error */
	double retry_after;	/* seconds, from Retry-After; 0 when absent */
};

struct kube_client_options {
	double qps;		/* client-side rate limit; 0: none */
	int burst;		/* bucket size for qps */
	long timeout_ms;	/* per request; default 30000 */
	long connect_timeout_ms;	/* default 10000 */
	int max_retries;	/* for 429, 5xx, connection failures; 0: the
				 * default 4; negative: none */
	long max_body;		/* cap on a response body; default 64 MiB */
};

struct kube_client;

/* A short description of a KUBE_E* (or negative errno) code. */
const char *kube_strerror(int rc);

/* One line: "<code> <reason>: <message>" or the transport error. */
const char *kube_status_line(const struct kube_status *st, int rc, char *out,
    size_t outlen);

/* Makes a client for kc, which it takes over (freed with the client).
 * opts may be NULL for the defaults. Returns 0 or a negative code. */
int kube_client_new(struct vkc_kubeconfig *kc,
    const struct kube_client_options *opts, struct kube_client **out);
void kube_client_free(struct kube_client *c);

/* The kubeconfig the client was made from. */
const struct vkc_kubeconfig *kube_client_config(const struct kube_client *c);

/*
 * Sends one request. path starts with "/" and may carry a query string;
 * body may be NULL. On 2xx returns 0 and, when out is given, the parsed
 * JSON answer (caller puts it; NULL for an empty body).
 */
int kube_request(struct kube_client *c, const char *method, const char *path,
    const char *content_type, const char *body, struct json_object **out,
    struct kube_status *st);

/* GET path. */
int kube_get(struct kube_client *c, const char *path,
    struct json_object **out, struct kube_status *st);

/* Server-side apply of obj to path (the object's own URL) as field manager
 * manager, with force when asked. */
int kube_apply(struct kube_client *c, const char *path,
    struct json_object *obj, const char *manager, bool force,
    struct json_object **out, struct kube_status *st);

/* PATCH with a JSON merge patch or a JSON patch (RFC 6902, test ops make
 * it fail with KUBE_EINVALID when the object changed). */
int kube_merge_patch(struct kube_client *c, const char *path,
    const char *patch, struct json_object **out, struct kube_status *st);
int kube_json_patch(struct kube_client *c, const char *path,
    const char *patch, struct json_object **out, struct kube_status *st);

/* DELETE path with a propagationPolicy (NULL: server default) and, when
 * uid is given, a uid precondition. A missing object is KUBE_ENOTFOUND. */
int kube_delete(struct kube_client *c, const char *path,
    const char *propagation, const char *uid, struct kube_status *st);

/* POST obj to path (create). */
int kube_create(struct kube_client *c, const char *path,
    struct json_object *obj, struct json_object **out, struct kube_status *st);

/*
 * Streams a watch: GET path (which must carry watch=1 and its query) and
 * hands each event to cb as it arrives. Returns when the server ends the
 * stream (0), when *stop becomes non-zero (KUBE_ECANCELED), after
 * inactivity_s seconds without a byte (KUBE_ETRANSPORT), on a 410 either
 * as the HTTP code or as an ERROR event (KUBE_EGONE), on another ERROR
 * event or HTTP error (its code), on a malformed event (KUBE_EPROTO), or
 * with cb's non-zero return. Bookmarks and ERROR events other than 410
 * are passed to cb too. A 401 before the stream starts refreshes the
 * credentials and tries once more.
 */
int kube_watch(struct kube_client *c, const char *path, vkc_watch_cb cb,
    void *arg, volatile int *stop, long inactivity_s, struct kube_status *st);

/* Builds "/api/v1[/namespaces/NS]/PLURAL[/NAME[/SUB]]" when group is "" or
 * NULL, else "/apis/GROUP/VERSION/...". Returns 0 or -ENAMETOOLONG. */
int kube_path(char *out, size_t outlen, const char *group, const char *version,
    const char *ns, const char *plural, const char *name, const char *sub);

/* URL-encodes s onto the end of out (for label selectors). */
int kube_query_escape(char *out, size_t outlen, const char *s);

/* Calls fn for each (method, code, count) of requests sent so far. */
void kube_client_request_counts(struct kube_client *c,
    void (*fn)(const char *method, long code, unsigned long count, void *arg),
    void *arg);

#endif
