/* kube.c: the Kubernetes API client over libcurl (see kube.h). */
#include "kube.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "jsonutil.h"
#include "log.h"

#define KUBE_USER_AGENT "vkc-operator/" VKC_VERSION
#define KUBE_MAX_COUNTS 64
#define KUBE_STATUS_BODY_MAX (1u << 20)

/* An idle libcurl handle; each keeps its own connection cache. */
struct kube_conn {
	CURL *h;
	struct kube_conn *next;
};

struct kube_count {
	char method[8];
	long code;
	unsigned long n;
};

struct kube_client {
	struct vkc_kubeconfig kc;
	struct kube_client_options opts;
	char *base;		/* URL prefix requests are sent to */
	char *connect_to;	/* "name:port:host:port", or NULL */
	pthread_mutex_t lock;	/* guards pool, kc credentials, counts, bucket */
	struct kube_conn *pool;
	struct kube_count counts[KUBE_MAX_COUNTS];
	int ncounts;
	double tokens;		/* rate limiter bucket */
	struct timespec last_fill;
};

static pthread_once_t kube_global_once = PTHREAD_ONCE_INIT;

static void
kube_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *
kube_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case KUBE_ETRANSPORT:
		return "cannot reach the apiserver";
	case KUBE_EBADREQUEST:
		return "bad request";
	case KUBE_EUNAUTHORIZED:
		return "unauthorized";
	case KUBE_EFORBIDDEN:
		return "forbidden";
	case KUBE_ENOTFOUND:
		return "not found";
	case KUBE_ECONFLICT:
		return "conflict";
	case KUBE_EEXISTS:
		return "already exists";
	case KUBE_EGONE:
		return "resource version too old";
	case KUBE_EINVALID:
		return "invalid";
	case KUBE_ETOOMANY:
		return "too many requests";
	case KUBE_ESERVER:
		return "server error";
	case KUBE_EPROTO:
		return "malformed answer";
	case KUBE_ENOMEM:
		return "out of memory";
	case KUBE_ECANCELED:
		return "canceled";
	case KUBE_EAUTH:
		return "cannot get credentials";
	case KUBE_EHTTP:
		return "unexpected HTTP status";
	default:
		return rc < 0 && rc > -1000 ? strerror(-rc) : "unknown error";
	}
}

const char *
kube_status_line(const struct kube_status *st, int rc, char *out,
    size_t outlen)
{
	if (st != NULL && st->http != 0)
		snprintf(out, outlen, "%ld %s: %s", st->http,
		    st->reason[0] ? st->reason : kube_strerror(rc),
		    st->message[0] ? st->message : kube_strerror(rc));
	else if (st != NULL && st->message[0] != '\0')
		snprintf(out, outlen, "%s: %s", kube_strerror(rc), st->message);
	else
		snprintf(out, outlen, "%s", kube_strerror(rc));
	return out;
}

static int
kube_code_to_rc(long http, const char *reason)
{
	if (http >= 200 && http < 300)
		return 0;
	switch (http) {
	case 400:
		return KUBE_EBADREQUEST;
	case 401:
		return KUBE_EUNAUTHORIZED;
	case 403:
		return KUBE_EFORBIDDEN;
	case 404:
		return KUBE_ENOTFOUND;
	case 409:
		return strcmp(reason, "AlreadyExists") == 0 ? KUBE_EEXISTS :
		    KUBE_ECONFLICT;
	case 410:
		return KUBE_EGONE;
	case 422:
		return KUBE_EINVALID;
	case 429:
		return KUBE_ETOOMANY;
	default:
		return http >= 500 ? KUBE_ESERVER : KUBE_EHTTP;
	}
}

static void
kube_status_clear(struct kube_status *st)
{
	st->http = 0;
	st->reason[0] = '\0';
	st->message[0] = '\0';
	st->retry_after = 0;
}

/* Fills st from a Status object in body (or the raw text when it is not). */
static void
kube_status_from_body(struct kube_status *st, struct json_object *body,
    const char *raw)
{
	const char *s;

	if (body != NULL && json_object_is_type(body, json_type_object)) {
		s = vkc_json_get_string(body, "reason", "");
		snprintf(st->reason, sizeof(st->reason), "%s", s);
		s = vkc_json_get_string(body, "message", "");
		snprintf(st->message, sizeof(st->message), "%s", s);
		return;
	}
	if (raw != NULL) {
		size_t i;

		snprintf(st->message, sizeof(st->message), "%s", raw);
		/* one line: fold control characters */
		for (i = 0; st->message[i] != '\0'; i++)
			if ((unsigned char)st->message[i] < 0x20)
				st->message[i] = ' ';
	}
}

int
kube_client_new(struct vkc_kubeconfig *kc,
    const struct kube_client_options *opts, struct kube_client **out)
{
	struct kube_client *c;
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = KUBE_ENOMEM;

	pthread_once(&kube_global_once, kube_global_init);
	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return KUBE_ENOMEM;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return KUBE_ENOMEM;
	}
	c->kc = *kc;
	memset(kc, 0, sizeof(*kc));
	if (opts != NULL)
		c->opts = *opts;
	if (c->opts.timeout_ms <= 0)
		c->opts.timeout_ms = 30000;
	if (c->opts.connect_timeout_ms <= 0)
		c->opts.connect_timeout_ms = 10000;
	if (c->opts.max_retries == 0)
		c->opts.max_retries = 4;
	else if (c->opts.max_retries < 0)
		c->opts.max_retries = 0;
	if (c->opts.max_body <= 0)
		c->opts.max_body = 64L << 20;
	if (c->opts.burst <= 0)
		c->opts.burst = 1;
	c->tokens = c->opts.burst;
	clock_gettime(CLOCK_MONOTONIC, &c->last_fill);

	if (c->kc.server == NULL) {
		rc = -EINVAL;
		goto out;
	}
	c->base = strdup(c->kc.server);
	if (c->base == NULL)
		goto out;
	/* tls-server-name: send to the configured host, but name the server
	 * (SNI and verification) as tls-server-name says. */
	if (c->kc.tls_server_name != NULL && c->kc.tls_server_name[0] != '\0') {
		u = curl_url();
		if (u == NULL)
			goto out;
		if (curl_url_set(u, CURLUPART_URL, c->kc.server, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_PORT, &port,
		    CURLU_DEFAULT_PORT) != CURLUE_OK) {
			rc = -EINVAL;
			goto out;
		}
		free(c->base);
		c->base = NULL;
		if (asprintf(&c->base, "%s://%s:%s", scheme,
		    c->kc.tls_server_name, port) < 0) {
			c->base = NULL;
			goto out;
		}
		if (asprintf(&c->connect_to, "%s:%s:%s:%s",
		    c->kc.tls_server_name, port, host, port) < 0) {
			c->connect_to = NULL;
			goto out;
		}
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	if (c != NULL)
		kube_client_free(c);
	return rc;
}

void
kube_client_free(struct kube_client *c)
{
	struct kube_conn *k, *next;

	if (c == NULL)
		return;
	for (k = c->pool; k != NULL; k = next) {
		next = k->next;
		curl_easy_cleanup(k->h);
		free(k);
	}
	vkc_kubeconfig_release(&c->kc);
	free(c->base);
	free(c->connect_to);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const struct vkc_kubeconfig *
kube_client_config(const struct kube_client *c)
{
	return &c->kc;
}

static struct kube_conn *
kube_conn_take(struct kube_client *c)
{
	struct kube_conn *k;

	pthread_mutex_lock(&c->lock);
	k = c->pool;
	if (k != NULL)
		c->pool = k->next;
	pthread_mutex_unlock(&c->lock);
	if (k != NULL)
		return k;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return NULL;
	k->h = curl_easy_init();
	if (k->h == NULL) {
		free(k);
		return NULL;
	}
	return k;
}

static void
kube_conn_give(struct kube_client *c, struct kube_conn *k)
{
	pthread_mutex_lock(&c->lock);
	k->next = c->pool;
	c->pool = k;
	pthread_mutex_unlock(&c->lock);
}

static void
kube_count(struct kube_client *c, const char *method, long code)
{
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->ncounts; i++)
		if (c->counts[i].code == code &&
		    strcmp(c->counts[i].method, method) == 0)
			break;
	if (i == c->ncounts && c->ncounts < KUBE_MAX_COUNTS) {
		snprintf(c->counts[i].method, sizeof(c->counts[i].method),
		    "%s", method);
		c->counts[i].code = code;
		c->counts[i].n = 0;
		c->ncounts++;
	}
	if (i < c->ncounts)
		c->counts[i].n++;
	pthread_mutex_unlock(&c->lock);
}

void
kube_client_request_counts(struct kube_client *c,
    void (*fn)(const char *method, long code, unsigned long count, void *arg),
    void *arg)
{
	struct kube_count copy[KUBE_MAX_COUNTS];
	int i, n;

	pthread_mutex_lock(&c->lock);
	n = c->ncounts;
	memcpy(copy, c->counts, sizeof(copy[0]) * (size_t)n);
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < n; i++)
		fn(copy[i].method, copy[i].code, copy[i].n, arg);
}

static void
kube_sleep(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Client-side rate limit: a token bucket of opts.burst refilled at qps. */
static void
kube_throttle(struct kube_client *c)
{
	double now, wait;

	if (c->opts.qps <= 0)
		return;
	for (;;) {
		struct timespec ts;

		pthread_mutex_lock(&c->lock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		c->tokens += (now - ((double)c->last_fill.tv_sec +
		    (double)c->last_fill.tv_nsec / 1e9)) * c->opts.qps;
		if (c->tokens > c->opts.burst)
			c->tokens = c->opts.burst;
		c->last_fill = ts;
		if (c->tokens >= 1) {
			c->tokens -= 1;
			pthread_mutex_unlock(&c->lock);
			return;
		}
		wait = (1 - c->tokens) / c->opts.qps;
		pthread_mutex_unlock(&c->lock);
		kube_sleep(wait);
	}
}

/* Jittered exponential backoff: base * 2^attempt, ±25 %, capped. */
static double
kube_backoff(int attempt, double base, double cap)
{
	double d;

	d = base * pow(2, attempt);
	if (d > cap)
		d = cap;
	return d * (0.75 + 0.5 * ((double)random() / (double)RAND_MAX));
}

struct kube_xfer {
	struct vkc_buf body;
	struct kube_status *st;
	/* watch streaming */
	CURL *h;
	struct vkc_watch_parser *parser;
	int parse_rc;
	volatile int *stop;
};

static size_t
kube_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct kube_xfer *x = arg;
	size_t n = size * nmemb;
	long code = 0;

	if (x->parser != NULL) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
		if (code == 200) {
			x->parse_rc = vkc_watch_feed(x->parser, ptr, n);
			return x->parse_rc == 0 ? n : 0;
		}
	}
	if (vkc_buf_append(&x->body, ptr, n) != 0)
		return 0;	/* over the cap: abort the transfer */
	return n;
}

static size_t
kube_header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct kube_xfer *x = arg;
	size_t n = size * nmemb;
	char line[128];
	double secs;

	if (n >= 12 && n < sizeof(line) && strncasecmp(ptr, "Retry-After:",
	    12) == 0) {
		memcpy(line, ptr + 12, n - 12);
		line[n - 12] = '\0';
		secs = strtod(line, NULL);
		if (secs > 0 && secs < 3600)
			x->st->retry_after = secs;
	}
	return n;
}

static int
kube_xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct kube_xfer *x = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return x->stop != NULL && *x->stop ? 1 : 0;
}

/* The lists one request hands to libcurl, freed after it. */
struct kube_req {
	struct curl_slist *headers;
	struct curl_slist *connect_to;
};

static void
kube_req_release(struct kube_req *r)
{
	curl_slist_free_all(r->headers);
	curl_slist_free_all(r->connect_to);
	r->headers = NULL;
	r->connect_to = NULL;
}

/* curl_slist_append() that frees the list when it fails. */
static struct curl_slist *
kube_slist_append(struct curl_slist *l, const char *s)
{
	struct curl_slist *n;

	n = curl_slist_append(l, s);
	if (n == NULL)
		curl_slist_free_all(l);
	return n;
}

/* Sets up h for one request. */
static int
kube_setup(struct kube_client *c, CURL *h, const char *method,
    const char *path, const char *content_type, const char *body,
    bool refresh, struct kube_req *req, struct kube_status *st)
{
	const char *token = NULL, *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	struct curl_blob blob;
	struct curl_slist *l;
	char err[256], *url = NULL, *auth = NULL;
	int rc;

	curl_easy_reset(h);
	pthread_mutex_lock(&c->lock);
	rc = vkc_kubeconfig_credentials(&c->kc, refresh, &token, &cert,
	    &cert_len, &key, &key_len, err, sizeof(err));
	if (rc != 0) {
		pthread_mutex_unlock(&c->lock);
		snprintf(st->message, sizeof(st->message), "%s", err);
		return KUBE_EAUTH;
	}
	if (token != NULL && asprintf(&auth, "Authorization: Bearer %s",
	    token) < 0)
		auth = NULL;
	if (cert != NULL && key != NULL) {
		blob.data = (void *)(uintptr_t)cert;
		blob.len = cert_len;
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		blob.data = (void *)(uintptr_t)key;
		blob.len = key_len;
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (c->kc.username != NULL && c->kc.password != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->kc.username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->kc.password);
	}
	pthread_mutex_unlock(&c->lock);
	if (token != NULL && auth == NULL)
		return KUBE_ENOMEM;

	if (asprintf(&url, "%s%s", c->base, path) < 0) {
		rc = KUBE_ENOMEM;
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, KUBE_USER_AGENT);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    c->opts.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (c->kc.insecure_skip_tls_verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (c->kc.ca_data != NULL) {
		blob.data = c->kc.ca_data;
		blob.len = c->kc.ca_len;
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->connect_to != NULL) {
		req->connect_to = curl_slist_append(NULL, c->connect_to);
		if (req->connect_to == NULL) {
			rc = KUBE_ENOMEM;
			goto out;
		}
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, req->connect_to);
	}
	if (c->kc.proxy_url != NULL)
		curl_easy_setopt(h, CURLOPT_PROXY, c->kc.proxy_url);

	l = curl_slist_append(NULL, "Accept: application/json");
	/* no "Expect: 100-continue" round trip before large bodies */
	if (l != NULL)
		l = kube_slist_append(l, "Expect:");
	if (l != NULL && auth != NULL)
		l = kube_slist_append(l, auth);
	if (l != NULL && content_type != NULL) {
		char ct[128];

		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		l = kube_slist_append(l, ct);
	}
	if (l == NULL) {
		rc = KUBE_ENOMEM;
		goto out;
	}
	req->headers = l;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	}
	rc = 0;
out:
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	return rc;
}

/*
 * True for answers worth sending again. A GET: 429, 5xx but 501, and
 * transport failures. A write may already have been applied, so it is
 * sent again only when the server says it was not: 429, 503, another
 * 5xx with Retry-After, or no connection made at all.
 */
static bool
kube_retryable(const char *method, int rc, CURLcode cc,
    const struct kube_status *st)
{
	bool get = strcmp(method, "GET") == 0;

	if (rc == KUBE_ETRANSPORT)
		return get || cc == CURLE_COULDNT_CONNECT ||
		    cc == CURLE_COULDNT_RESOLVE_HOST ||
		    cc == CURLE_COULDNT_RESOLVE_PROXY;
	if (st->http == 429 || st->http == 503)
		return true;
	if (st->http < 500 || st->http == 501)
		return false;
	return get || st->retry_after > 0;
}

int
kube_request(struct kube_client *c, const char *method, const char *path,
    const char *content_type, const char *body, struct json_object **out,
    struct kube_status *st)
{
	struct kube_status local;
	struct kube_conn *k;
	struct kube_xfer x;
	struct kube_req req;
	struct json_object *answer;
	CURLcode cc;
	long http;
	bool refreshed = false;
	double wait;
	int attempt, rc;

	if (st == NULL)
		st = &local;
	if (out != NULL)
		*out = NULL;
	k = kube_conn_take(c);
	if (k == NULL)
		return KUBE_ENOMEM;
	for (attempt = 0;; attempt++) {
		kube_status_clear(st);
		memset(&req, 0, sizeof(req));
		memset(&x, 0, sizeof(x));
		vkc_buf_init(&x.body, (size_t)c->opts.max_body);
		x.st = st;
		kube_throttle(c);
		rc = kube_setup(c, k->h, method, path, content_type, body,
		    refreshed, &req, st);
		if (rc != 0) {
			kube_req_release(&req);
			vkc_buf_release(&x.body);
			break;
		}
		curl_easy_setopt(k->h, CURLOPT_TIMEOUT_MS, c->opts.timeout_ms);
		curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, kube_write_cb);
		curl_easy_setopt(k->h, CURLOPT_WRITEDATA, &x);
		curl_easy_setopt(k->h, CURLOPT_HEADERFUNCTION, kube_header_cb);
		curl_easy_setopt(k->h, CURLOPT_HEADERDATA, &x);
		cc = curl_easy_perform(k->h);
		http = 0;
		curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &http);
		kube_req_release(&req);
		if (cc != CURLE_OK) {
			rc = cc == CURLE_WRITE_ERROR ? KUBE_EPROTO :
			    KUBE_ETRANSPORT;
			if (cc == CURLE_WRITE_ERROR)
				snprintf(st->message, sizeof(st->message),
				    "answer larger than %ld bytes",
				    c->opts.max_body);
			else
				snprintf(st->message, sizeof(st->message),
				    "%s %s: %s", method, c->base,
				    curl_easy_strerror(cc));
			kube_count(c, method, 0);
		} else {
			kube_count(c, method, http);
			st->http = http;
			answer = NULL;
			if (x.body.len > 0)
				answer = vkc_json_parse(x.body.data, x.body.len,
				    NULL, 0);
			if (http >= 200 && http < 300) {
				if (x.body.len > 0 && answer == NULL) {
					rc = KUBE_EPROTO;
					snprintf(st->message, sizeof(st->message),
					    "%s %s: answer is not JSON", method,
					    path);
				} else {
					rc = 0;
					if (out != NULL)
						*out = answer;
					else
						json_object_put(answer);
					answer = NULL;
				}
			} else {
				kube_status_from_body(st, answer,
				    x.body.len > 0 ? x.body.data : NULL);
				rc = kube_code_to_rc(http, st->reason);
				json_object_put(answer);
			}
		}
		vkc_buf_release(&x.body);
		if (rc == KUBE_EUNAUTHORIZED && !refreshed) {
			/* a rotated token or expired exec credential */
			refreshed = true;
			continue;
		}
		if (rc == 0 || !kube_retryable(method, rc, cc, st) ||
		    attempt >= c->opts.max_retries)
			break;
		wait = st->retry_after > 0 ? st->retry_after :
		    kube_backoff(attempt, 0.2, 5.0);
		if (wait > 30)
			wait = 30;
		log_debug(4, "retrying %s '%s' in %.2fs: %ld %s", method, path,
		    wait, st->http, st->message);
		kube_sleep(wait);
	}
	kube_conn_give(c, k);
	return rc;
}

int
kube_get(struct kube_client *c, const char *path, struct json_object **out,
    struct kube_status *st)
{
	return kube_request(c, "GET", path, NULL, NULL, out, st);
}

int
kube_apply(struct kube_client *c, const char *path, struct json_object *obj,
    const char *manager, bool force, struct json_object **out,
    struct kube_status *st)
{
	char full[2048];

	if (snprintf(full, sizeof(full), "%s%cfieldManager=%s%s", path,
	    strchr(path, '?') ? '&' : '?', manager,
	    force ? "&force=true" : "") >= (int)sizeof(full))
		return -ENAMETOOLONG;
	/* JSON is YAML: the apply content type takes it as it is */
	return kube_request(c, "PATCH", full, "application/apply-patch+yaml",
	    vkc_json_str(obj), out, st);
}

int
kube_merge_patch(struct kube_client *c, const char *path, const char *patch,
    struct json_object **out, struct kube_status *st)
{
	return kube_request(c, "PATCH", path, "application/merge-patch+json",
	    patch, out, st);
}

int
kube_json_patch(struct kube_client *c, const char *path, const char *patch,
    struct json_object **out, struct kube_status *st)
{
	return kube_request(c, "PATCH", path, "application/json-patch+json",
	    patch, out, st);
}

int
kube_create(struct kube_client *c, const char *path, struct json_object *obj,
    struct json_object **out, struct kube_status *st)
{
	return kube_request(c, "POST", path, "application/json",
	    vkc_json_str(obj), out, st);
}

int
kube_delete(struct kube_client *c, const char *path, const char *propagation,
    const char *uid, struct kube_status *st)
{
	struct json_object *opts;
	int rc;

	opts = json_object_new_object();
	if (opts == NULL)
		return KUBE_ENOMEM;
	json_object_object_add(opts, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(opts, "kind",
	    json_object_new_string("DeleteOptions"));
	if (propagation != NULL)
		json_object_object_add(opts, "propagationPolicy",
		    json_object_new_string(propagation));
	if (uid != NULL)
		vkc_json_set(opts, "preconditions.uid",
		    json_object_new_string(uid));
	rc = kube_request(c, "DELETE", path, "application/json",
	    vkc_json_str(opts), NULL, st);
	json_object_put(opts);
	return rc;
}

struct kube_watch_ctx {
	vkc_watch_cb cb;
	void *arg;
	struct kube_status *st;
	int rc;		/* set when an ERROR event ends the stream */
};

/* Intercepts ERROR events: a 410 means relist, others end the stream. */
static int
kube_watch_event(const char *type, struct json_object *obj, void *arg)
{
	struct kube_watch_ctx *w = arg;
	int64_t code;

	if (strcmp(type, "ERROR") == 0) {
		code = vkc_json_get_int(obj, "code", 0);
		w->st->http = (long)code;
		kube_status_from_body(w->st, obj, NULL);
		w->rc = code == 410 ? KUBE_EGONE :
		    kube_code_to_rc((long)code, w->st->reason);
		if (w->rc == 0)
			w->rc = KUBE_EPROTO;
		return w->rc;
	}
	return w->cb(type, obj, w->arg);
}

/* One watch request; see kube_watch(). */
static int
kube_watch_once(struct kube_client *c, const char *path, struct
    kube_watch_ctx *w, volatile int *stop, long inactivity_s, bool refresh,
    struct kube_status *st)
{
	struct vkc_watch_parser parser;
	struct kube_xfer x;
	struct kube_req req;
	struct json_object *answer;
	CURL *h;
	CURLcode cc;
	long http = 0;
	int rc;

	kube_status_clear(st);
	w->rc = 0;
	h = curl_easy_init();
	if (h == NULL)
		return KUBE_ENOMEM;
	memset(&req, 0, sizeof(req));
	memset(&x, 0, sizeof(x));
	vkc_watch_init(&parser, kube_watch_event, w);
	vkc_buf_init(&x.body, KUBE_STATUS_BODY_MAX);
	x.st = st;
	x.h = h;
	x.parser = &parser;
	x.stop = stop;
	kube_throttle(c);
	rc = kube_setup(c, h, "GET", path, NULL, NULL, refresh, &req, st);
	if (rc != 0)
		goto out;
	/* no overall timeout: the stream ends by the server's timeoutSeconds;
	 * silence longer than inactivity_s means a dead connection */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
	    inactivity_s > 0 ? inactivity_s : 70L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, kube_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, kube_header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, kube_xferinfo_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	kube_count(c, "WATCH", cc == CURLE_OK || http != 0 ? http : 0);
	if (stop != NULL && *stop) {
		rc = KUBE_ECANCELED;
	} else if (w->rc != 0) {
		rc = w->rc;
	} else if (x.parse_rc != 0) {
		/* a malformed event, or the callback asked to stop */
		if (x.parse_rc == VKC_WATCH_EPARSE ||
		    x.parse_rc == VKC_WATCH_ETOOBIG) {
			rc = KUBE_EPROTO;
			snprintf(st->message, sizeof(st->message), "%s",
			    parser.err);
		} else {
			rc = x.parse_rc;
		}
	} else if (http != 0 && http != 200) {
		st->http = http;
		answer = x.body.len > 0 ?
		    vkc_json_parse(x.body.data, x.body.len, NULL, 0) : NULL;
		kube_status_from_body(st, answer,
		    x.body.len > 0 ? x.body.data : NULL);
		json_object_put(answer);
		rc = kube_code_to_rc(http, st->reason);
	} else if (cc != CURLE_OK) {
		rc = KUBE_ETRANSPORT;
		snprintf(st->message, sizeof(st->message), "watch: %s",
		    cc == CURLE_OPERATION_TIMEDOUT ?
		    "no data within the inactivity timeout" :
		    curl_easy_strerror(cc));
	} else if (vkc_watch_pending(&parser)) {
		rc = KUBE_EPROTO;
		snprintf(st->message, sizeof(st->message),
		    "watch stream ended inside an event");
	} else {
		rc = 0;
	}
out:
	kube_req_release(&req);
	vkc_buf_release(&x.body);
	vkc_watch_release(&parser);
	curl_easy_cleanup(h);
	return rc;
}

int
kube_watch(struct kube_client *c, const char *path, vkc_watch_cb cb,
    void *arg, volatile int *stop, long inactivity_s, struct kube_status *st)
{
	struct kube_status local;
	struct kube_watch_ctx w;
	int rc;

	if (st == NULL)
		st = &local;
	w.cb = cb;
	w.arg = arg;
	w.st = st;
	w.rc = 0;
	rc = kube_watch_once(c, path, &w, stop, inactivity_s, false, st);
	if (rc == KUBE_EUNAUTHORIZED && w.rc == 0) {
		/* a rotated token or an expired exec credential: nothing was
		 * streamed yet, so ask once more with fresh credentials */
		rc = kube_watch_once(c, path, &w, stop, inactivity_s, true, st);
	}
	return rc;
}

int
kube_path(char *out, size_t outlen, const char *group, const char *version,
    const char *ns, const char *plural, const char *name, const char *sub)
{
	struct vkc_buf b;
	int rc;

	vkc_buf_init(&b, outlen - 1);
	if (group == NULL || group[0] == '\0')
		rc = vkc_buf_printf(&b, "/api/%s", version);
	else
		rc = vkc_buf_printf(&b, "/apis/%s/%s", group, version);
	if (rc == 0 && ns != NULL && ns[0] != '\0')
		rc = vkc_buf_printf(&b, "/namespaces/%s", ns);
	if (rc == 0)
		rc = vkc_buf_printf(&b, "/%s", plural);
	if (rc == 0 && name != NULL)
		rc = vkc_buf_printf(&b, "/%s", name);
	if (rc == 0 && sub != NULL)
		rc = vkc_buf_printf(&b, "/%s", sub);
	if (rc == 0)
		snprintf(out, outlen, "%s", b.data);
	vkc_buf_release(&b);
	return rc == 0 ? 0 : -ENAMETOOLONG;
}

int
kube_query_escape(char *out, size_t outlen, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);
	unsigned char ch;

	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			if (n + 1 >= outlen)
				return -ENAMETOOLONG;
			out[n++] = (char)ch;
		} else {
			if (n + 3 >= outlen)
				return -ENAMETOOLONG;
			out[n++] = '%';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		}
	}
	out[n] = '\0';
	return 0;
}
