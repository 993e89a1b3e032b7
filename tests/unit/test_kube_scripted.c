/*
 * test_kube_scripted.c: the API client (operator/kube.c) against a
 * scripted HTTP server: what a real apiserver cannot be made to do on
 * demand (events split across chunks, 429 with Retry-After, a connection
 * cut mid-body, malformed events, 401 with a rotated token).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scripted_server.h"

#include "buf.h"
#include "informer.h"
#include "jsonutil.h"
#include "kube.h"

static const char pod_body[] =
    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\","
    "\"namespace\":\"ns\",\"resourceVersion\":\"7\"}}";

/* A client for s with a static token; max_retries as given. */
static struct kube_client *
client_for(struct ss_server *s, int max_retries, const char *token_file)
{
	struct vkc_kubeconfig kc;
	struct kube_client_options o;
	struct kube_client *c = NULL;
	char url[64];

	memset(&kc, 0, sizeof(kc));
	memset(&o, 0, sizeof(o));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
	kc.server = strdup(url);
	kc.context = strdup("scripted");
	if (token_file != NULL)
		kc.token_file = strdup(token_file);
	else
		kc.token = strdup("t0k");
	o.max_retries = max_retries;
	o.timeout_ms = 5000;
	o.connect_timeout_ms = 2000;
	if (kube_client_new(&kc, &o, &c) != 0)
		return NULL;
	return c;
}

static const char *
line_of(const struct kube_status *st, int rc)
{
	static char line[1200];

	return kube_status_line(st, rc, line, sizeof(line));
}

/* A plain GET: the answer, the request the server saw, one connection
 * reused for the next request. */
TEST(get)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	struct json_object *o = NULL;
	char h[256];
	int rc;

	CHECK_INT(ss_start(&s), 0);
	ss_add(&s, 200, "", pod_body);
	ss_add(&s, 200, "", pod_body);
	c = client_for(&s, 0, NULL);
	CHECK(c != NULL);
	rc = kube_get(c, "/api/v1/namespaces/ns/pods/p", &o, &st);
	CHECK_INT(rc, 0);
	CHECK_INT(st.http, 200);
	CHECK_STR(vkc_json_get_string(o, "metadata.resourceVersion", ""), "7");
	json_object_put(o);
	CHECK_STR(ss_request_line(&s, 0, h, sizeof(h)),
	    "GET /api/v1/namespaces/ns/pods/p HTTP/1.1");
	CHECK_STR(ss_header(&s, 0, "Authorization", h, sizeof(h)),
	    "Bearer t0k");
	CHECK(strncmp(ss_header(&s, 0, "User-Agent", h, sizeof(h)),
	    "vkc-operator/", 13) == 0);
	CHECK_STR(ss_header(&s, 0, "Accept", h, sizeof(h)),
	    "application/json");
	rc = kube_get(c, "/api/v1/namespaces/ns/pods/p", NULL, &st);
	CHECK_INT(rc, 0);
	CHECK_INT(ss_served(&s), 2);
	CHECK_INT(s.accepted, 1);	/* the connection was reused */
	kube_client_free(c);
	ss_stop(&s);
}

/* Apply sends the apply content type, field manager and force; no
 * Expect: 100-continue wait for a large body. */
TEST(apply)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	struct json_object *obj;
	struct vkc_buf big;
	char h[512];
	double t0;
	int i, rc;

	CHECK_INT(ss_start(&s), 0);
	ss_add(&s, 200, "", pod_body);
	c = client_for(&s, 0, NULL);
	obj = vkc_json_parse(pod_body, strlen(pod_body), NULL, 0);
	vkc_buf_init(&big, 2 << 20);
	for (i = 0; i < 1100; i++)
		vkc_buf_puts(&big, "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789");
	vkc_json_set(obj, "data.big", json_object_new_string(big.data));
	t0 = ss_now();
	rc = kube_apply(c, "/api/v1/namespaces/ns/configmaps/p", obj, "vkc",
	    true, NULL, &st);
	CHECK_INT(rc, 0);
	printf("  apply of %zu bytes: %.3f s\n", big.len, ss_now() - t0);
	CHECK_STR(ss_request_line(&s, 0, h, sizeof(h)),
	    "PATCH /api/v1/namespaces/ns/configmaps/p?fieldManager=vkc&"
	    "force=true HTTP/1.1");
	CHECK_STR(ss_header(&s, 0, "Content-Type", h, sizeof(h)),
	    "application/apply-patch+yaml");
	/* else libcurl waits up to a second for "100 Continue" */
	CHECK_STR(ss_header(&s, 0, "Expect", h, sizeof(h)), "");
	json_object_put(obj);
	vkc_buf_release(&big);
	kube_client_free(c);
	ss_stop(&s);
}

/* 429 with Retry-After: 1, then 200: waits about a second, succeeds. */
TEST(retry_after_429)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	double t0, waited;
	int rc;

	CHECK_INT(ss_start(&s), 0);
	ss_add(&s, 429, "Retry-After: 1\r\n", "{\"kind\":\"Status\","
	    "\"code\":429,\"reason\":\"TooManyRequests\",\"message\":"
	    "\"slow down\"}");
	ss_add(&s, 200, "", pod_body);
	c = client_for(&s, 0, NULL);
	t0 = ss_now();
	rc = kube_get(c, "/api/v1/namespaces/ns/pods/p", NULL, &st);
	waited = ss_now() - t0;
	CHECK_INT(rc, 0);
	CHECK_INT(ss_served(&s), 2);
	CHECK(waited >= 0.95 && waited < 3);
	CHECK(s.at[1] - s.at[0] >= 0.95);
	kube_client_free(c);
	ss_stop(&s);
}

/* 503 then 200: retried after a short backoff. 503s past the retries:
 * KUBE_ESERVER carrying the server's message. */
TEST(retry_503)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	int rc;

	CHECK_INT(ss_start(&s), 0);
	ss_add(&s, 503, "", "{\"kind\":\"Status\",\"code\":503,\"reason\":"
	    "\"ServiceUnavailable\",\"message\":\"etcd is away\"}");
	ss_add(&s, 200, "", pod_body);
	ss_add(&s, 503, "", "{\"kind\":\"Status\",\"code\":503,\"reason\":"
	    "\"ServiceUnavailable\",\"message\":\"etcd is away\"}");
	ss_add(&s, 503, "", "{\"kind\":\"Status\",\"code\":503,\"reason\":"
	    "\"ServiceUnavailable\",\"message\":\"etcd is still away\"}");
	ss_add(&s, 503, "", "{\"kind\":\"Status\",\"code\":503,\"reason\":"
	    "\"ServiceUnavailable\",\"message\":\"etcd is gone\"}");
	c = client_for(&s, 2, NULL);
	rc = kube_get(c, "/api/v1/namespaces/ns/pods/p", NULL, &st);
	CHECK_INT(rc, 0);
	CHECK_INT(ss_served(&s), 2);
	rc = kube_get(c, "/api/v1/namespaces/ns/pods/p", NULL, &st);
	CHECK_INT(rc, KUBE_ESERVER);
	CHECK_INT(ss_served(&s), 5);	/* the first try and two retries */
	CHECK_STR(line_of(&st, rc), "503 ServiceUnavailable: etcd is gone");
	kube_client_free(c);
	ss_stop(&s);
}

/* A connection cut mid-body: an error, then the next request works. A
 * GET is retried; a POST is not sent twice. */
TEST(cut_mid_body)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	struct json_object *o = NULL, *obj;
	struct ss_reply *r;
	int rc, i;

	CHECK_INT(ss_start(&s), 0);
	for (i = 0; i < 3; i++) {
		r = ss_add_raw(&s);
		ss_part_printf(r, "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nContent-Length: 1000\r\n\r\n"
		    "{\"kind\":\"Pod\",\"meta");
		r->close = 1;
	}
	ss_add(&s, 200, "", pod_body);
	/* no retries: the cut is the answer */
	c = client_for(&s, -1, NULL);
	rc = kube_get(c, "/api/v1/namespaces/ns/pods/p", &o, &st);
	CHECK_INT(rc, KUBE_ETRANSPORT);
	CHECK(o == NULL);
	CHECK(strstr(line_of(&st, rc), "cannot reach") != NULL);
	CHECK_INT(ss_served(&s), 1);
	/* a POST cut mid-answer is not sent again, even with retries */
	kube_client_free(c);
	c = client_for(&s, 3, NULL);
	obj = json_object_new_object();
	rc = kube_create(c, "/api/v1/namespaces/ns/pods", obj, NULL, &st);
	json_object_put(obj);
	CHECK_INT(rc, KUBE_ETRANSPORT);
	CHECK_INT(ss_served(&s), 2);
	/* a GET is: the cut, then the good answer */
	rc = kube_get(c, "/api/v1/namespaces/ns/pods/p", &o, &st);
	CHECK_INT(rc, 0);
	CHECK_INT(ss_served(&s), 4);
	CHECK_STR(vkc_json_get_string(o, "metadata.name", ""), "p");
	json_object_put(o);
	kube_client_free(c);
	ss_stop(&s);
}

/* A write is sent again only when the server says it was not applied. */
TEST(write_retries)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	struct json_object *obj;
	int rc;

	CHECK_INT(ss_start(&s), 0);
	ss_add(&s, 500, "", "{\"kind\":\"Status\",\"code\":500,\"reason\":"
	    "\"InternalError\",\"message\":\"boom\"}");
	ss_add(&s, 503, "", "{\"kind\":\"Status\",\"code\":503}");
	ss_add(&s, 201, "", pod_body);
	ss_add(&s, 504, "Retry-After: 0.1\r\n", "{\"kind\":\"Status\","
	    "\"code\":504}");
	ss_add(&s, 201, "", pod_body);
	c = client_for(&s, 3, NULL);
	obj = json_object_new_object();
	rc = kube_create(c, "/api/v1/namespaces/ns/pods", obj, NULL, &st);
	CHECK_INT(rc, KUBE_ESERVER);
	CHECK_INT(ss_served(&s), 1);	/* a 500 may have been applied */
	CHECK_STR(line_of(&st, rc), "500 InternalError: boom");
	rc = kube_create(c, "/api/v1/namespaces/ns/pods", obj, NULL, &st);
	CHECK_INT(rc, 0);
	CHECK_INT(ss_served(&s), 3);	/* a 503 was not */
	rc = kube_create(c, "/api/v1/namespaces/ns/pods", obj, NULL, &st);
	CHECK_INT(rc, 0);
	CHECK_INT(ss_served(&s), 5);	/* nor one with Retry-After */
	json_object_put(obj);
	kube_client_free(c);
	ss_stop(&s);
}

/* Status answers: the code maps to its KUBE_E*, the Status message is in
 * the one-line description. */
TEST(status_codes)
{
	static const struct {
		int code;
		const char *reason;
		int rc;
	} cases[] = {
		{ 400, "BadRequest", KUBE_EBADREQUEST },
		{ 403, "Forbidden", KUBE_EFORBIDDEN },
		{ 404, "NotFound", KUBE_ENOTFOUND },
		{ 409, "Conflict", KUBE_ECONFLICT },
		{ 409, "AlreadyExists", KUBE_EEXISTS },
		{ 410, "Gone", KUBE_EGONE },
		{ 422, "Invalid", KUBE_EINVALID },
		{ 418, "Teapot", KUBE_EHTTP },
	};
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	char body[512], want[512];
	size_t i;
	int rc;

	CHECK_INT(ss_start(&s), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), "{\"kind\":\"Status\",\"apiVersion"
		    "\":\"v1\",\"status\":\"Failure\",\"message\":\"pods \\\"p"
		    "\\\" says %s\",\"reason\":\"%s\",\"code\":%d}",
		    cases[i].reason, cases[i].reason, cases[i].code);
		ss_add(&s, cases[i].code, "", body);
	}
	/* a proxy's text answer, on several lines */
	ss_add(&s, 502, "", "bad gateway\nupstream\tdown");
	c = client_for(&s, -1, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = kube_get(c, "/api/v1/namespaces/ns/pods/p", NULL, &st);
		CHECK_INT(rc, cases[i].rc);
		CHECK_INT(st.http, cases[i].code);
		snprintf(want, sizeof(want), "%d %s: pods \"p\" says %s",
		    cases[i].code, cases[i].reason, cases[i].reason);
		CHECK_STR(line_of(&st, rc), want);
	}
	rc = kube_get(c, "/api/v1/namespaces/ns/pods/p", NULL, &st);
	CHECK_INT(rc, KUBE_ESERVER);
	CHECK_STR(line_of(&st, rc), "502 server error: bad gateway upstream "
	    "down");
	kube_client_free(c);
	ss_stop(&s);
}

/* A 200 whose body is not JSON, and one over the size cap. */
TEST(bad_answers)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_client_options o;
	struct vkc_kubeconfig kc;
	struct kube_status st;
	struct json_object *out = NULL;
	char url[64];
	int rc;

	CHECK_INT(ss_start(&s), 0);
	ss_add(&s, 200, "", "<html>hello</html>");
	ss_add(&s, 200, "", pod_body);
	c = client_for(&s, -1, NULL);
	rc = kube_get(c, "/x", &out, &st);
	CHECK_INT(rc, KUBE_EPROTO);
	CHECK(out == NULL);
	CHECK(strstr(st.message, "not JSON") != NULL);
	kube_client_free(c);

	memset(&kc, 0, sizeof(kc));
	memset(&o, 0, sizeof(o));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
	kc.server = strdup(url);
	o.max_body = 16;
	o.max_retries = -1;
	CHECK_INT(kube_client_new(&kc, &o, &c), 0);
	rc = kube_get(c, "/x", &out, &st);
	CHECK_INT(rc, KUBE_EPROTO);
	CHECK(strstr(st.message, "larger than 16") != NULL);
	CHECK(out == NULL);
	kube_client_free(c);
	ss_stop(&s);
}

/* 401 then 200: the token file is read again, once. */
TEST(unauthorized_refresh)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	char path[] = "/tmp/vkc-test-token.XXXXXX", h[256];
	const char *unauth = "{\"kind\":\"Status\",\"code\":401,\"reason\":"
	    "\"Unauthorized\",\"message\":\"Unauthorized\"}";
	FILE *f;
	int fd, rc;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("first\n", f);
	fclose(f);
	CHECK_INT(ss_start(&s), 0);
	ss_add(&s, 200, "", pod_body);
	ss_add(&s, 401, "", unauth);
	ss_add(&s, 200, "", pod_body);
	ss_add(&s, 401, "", unauth);
	ss_add(&s, 401, "", unauth);
	c = client_for(&s, 0, path);
	CHECK_INT(kube_get(c, "/x", NULL, &st), 0);
	f = fopen(path, "w");
	fputs("second\n", f);
	fclose(f);
	/* the cached token is sent, refused, then the new one works */
	CHECK_INT(kube_get(c, "/x", NULL, &st), 0);
	CHECK_INT(ss_served(&s), 3);
	CHECK_STR(ss_header(&s, 0, "Authorization", h, sizeof(h)),
	    "Bearer first");
	CHECK_STR(ss_header(&s, 1, "Authorization", h, sizeof(h)),
	    "Bearer first");
	CHECK_STR(ss_header(&s, 2, "Authorization", h, sizeof(h)),
	    "Bearer second");
	/* refused twice: one refresh only, then the error */
	rc = kube_get(c, "/x", NULL, &st);
	CHECK_INT(rc, KUBE_EUNAUTHORIZED);
	CHECK_INT(ss_served(&s), 5);
	CHECK_STR(line_of(&st, rc), "401 Unauthorized: Unauthorized");
	kube_client_free(c);
	ss_stop(&s);
	unlink(path);
}

/* What a watch callback saw. */
struct events {
	struct vkc_buf log;
	int n;
};

static int
on_event(const char *type, struct json_object *obj, void *arg)
{
	struct events *e = arg;

	e->n++;
	vkc_buf_printf(&e->log, "%s %s %s;", type,
	    vkc_json_get_string(obj, "metadata.name", "-"),
	    vkc_json_get_string(obj, "metadata.resourceVersion", "-"));
	return 0;
}

static const char watch_stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
    "{\"name\":\"a\",\"resourceVersion\":\"10\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
    "{\"name\":\"a\",\"resourceVersion\":\"11\",\"labels\":{\"x\":\"{\\n}\""
    "}}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
    "{\"resourceVersion\":\"12\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
    "{\"name\":\"a\",\"resourceVersion\":\"13\"}}}\n";

static const char watch_want[] =
    "ADDED a 10;MODIFIED a 11;BOOKMARK - 12;DELETED a 13;";

static struct ss_reply *
add_watch_head(struct ss_server *s)
{
	struct ss_reply *r = ss_add_raw(s);

	ss_part_printf(r, "HTTP/1.1 200 OK\r\nContent-Type: application/json"
	    "\r\nTransfer-Encoding: chunked\r\n\r\n");
	return r;
}

/* Events split across HTTP chunks at awkward places: each chunk size, and
 * cuts right before and after each newline, all give the same events. */
TEST(watch_chunked)
{
	static const size_t sizes[] = { 1, 2, 3, 5, 7, 13, 64, 1000 };
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	struct ss_reply *r;
	struct events e;
	size_t len = strlen(watch_stream), i, off, n, nl[8];
	int nnl = 0, k, rc, nreq = 0;

	CHECK_INT(ss_start(&s), 0);
	for (k = 0; k < (int)(sizeof(sizes) / sizeof(sizes[0])); k++) {
		r = add_watch_head(&s);
		r->gap_ms = sizes[k] < 3 ? 1 : 3;
		for (off = 0; off < len; off += n) {
			n = len - off < sizes[k] ? len - off : sizes[k];
			ss_part_chunk(r, watch_stream + off, n);
		}
		ss_part_printf(r, "0\r\n\r\n");
	}
	/* cuts around each newline */
	for (i = 0; i < len && nnl < 8; i++)
		if (watch_stream[i] == '\n')
			nl[nnl++] = i;
	for (k = 0; k < nnl; k++) {
		r = add_watch_head(&s);
		r->gap_ms = 3;
		ss_part_chunk(r, watch_stream, nl[k]);
		ss_part_chunk(r, watch_stream + nl[k], 1);
		if (nl[k] + 1 < len)
			ss_part_chunk(r, watch_stream + nl[k] + 1,
			    len - nl[k] - 1);
		ss_part_printf(r, "0\r\n\r\n");
	}
	c = client_for(&s, 0, NULL);
	nreq = (int)(sizeof(sizes) / sizeof(sizes[0])) + nnl;
	for (k = 0; k < nreq; k++) {
		vkc_buf_init(&e.log, 1 << 16);
		e.n = 0;
		rc = kube_watch(c, "/api/v1/pods?watch=1", on_event, &e, NULL,
		    5, &st);
		CHECK_INT(rc, 0);
		CHECK_STR(e.log.data, watch_want);
		vkc_buf_release(&e.log);
	}
	CHECK_INT(ss_served(&s), nreq);
	kube_client_free(c);
	ss_stop(&s);
}

/* Runs one watch against a one-reply script; returns its code. */
static int
watch_once(struct ss_server *s, struct events *e, struct kube_status *st,
    long inactivity)
{
	struct kube_client *c;
	int rc;

	c = client_for(s, 0, NULL);
	vkc_buf_init(&e->log, 1 << 16);
	e->n = 0;
	rc = kube_watch(c, "/api/v1/pods?watch=1", on_event, e, NULL,
	    inactivity, st);
	kube_client_free(c);
	return rc;
}

/* A malformed event ends the watch with KUBE_EPROTO and a clear message,
 * after the good events before it. */
TEST(watch_malformed)
{
	struct ss_server s;
	struct kube_status st;
	struct ss_reply *r;
	struct events e;
	int rc;

	CHECK_INT(ss_start(&s), 0);
	r = add_watch_head(&s);
	ss_part_chunk(r, watch_stream, 80);
	ss_part_chunk(r, watch_stream + 80, strlen(watch_stream) - 80);
	ss_part_chunk(r, "{\"type\":\"ADDED\",\"object\":[]}\n", 29);
	ss_part_printf(r, "0\r\n\r\n");
	r = add_watch_head(&s);
	ss_part_chunk(r, "{\"type\":\"ADDED\",\"obj", 20);
	ss_part_chunk(r, "ect\":{}, oops}\n", 15);
	ss_part_printf(r, "0\r\n\r\n");

	rc = watch_once(&s, &e, &st, 5);
	CHECK_INT(rc, KUBE_EPROTO);
	CHECK_INT(e.n, 4);
	CHECK_STR(line_of(&st, rc), "malformed answer: malformed watch event: "
	    "want {\"type\": string, \"object\": object}");
	vkc_buf_release(&e.log);
	rc = watch_once(&s, &e, &st, 5);
	CHECK_INT(rc, KUBE_EPROTO);
	CHECK_INT(e.n, 0);
	CHECK(strstr(line_of(&st, rc), "malformed watch event: ") != NULL);
	printf("  %s\n", line_of(&st, rc));
	vkc_buf_release(&e.log);
	ss_stop(&s);
}

/* An ERROR event with code 410 ends the watch with KUBE_EGONE; another
 * ERROR event with its code; an HTTP 410 too. */
TEST(watch_gone)
{
	static const char gone[] = "{\"type\":\"ERROR\",\"object\":{\"kind\":"
	    "\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
	    "\"message\":\"too old resource version: 5 (99)\",\"reason\":"
	    "\"Expired\",\"code\":410}}\n";
	static const char other[] = "{\"type\":\"ERROR\",\"object\":{\"kind\":"
	    "\"Status\",\"message\":\"internal error\",\"reason\":"
	    "\"InternalError\",\"code\":500}}\n";
	struct ss_server s;
	struct kube_status st;
	struct ss_reply *r;
	struct events e;
	int rc;

	CHECK_INT(ss_start(&s), 0);
	r = add_watch_head(&s);
	r->gap_ms = 2;
	ss_part_chunk(r, watch_stream, strlen(watch_stream));
	ss_part_chunk(r, gone, 40);
	ss_part_chunk(r, gone + 40, strlen(gone) - 40);
	ss_part_chunk(r, watch_stream, strlen(watch_stream));	/* ignored */
	ss_part_printf(r, "0\r\n\r\n");
	r = add_watch_head(&s);
	ss_part_chunk(r, other, strlen(other));
	ss_part_printf(r, "0\r\n\r\n");
	ss_add(&s, 410, "", "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
	    "\"status\":\"Failure\",\"message\":\"too old resource version: "
	    "1 (50)\",\"reason\":\"Expired\",\"code\":410}");

	rc = watch_once(&s, &e, &st, 5);
	CHECK_INT(rc, KUBE_EGONE);
	CHECK_INT(e.n, 4);
	CHECK_STR(line_of(&st, rc), "410 Expired: too old resource version: "
	    "5 (99)");
	vkc_buf_release(&e.log);
	rc = watch_once(&s, &e, &st, 5);
	CHECK_INT(rc, KUBE_ESERVER);
	CHECK_INT(e.n, 0);
	CHECK_STR(line_of(&st, rc), "500 InternalError: internal error");
	vkc_buf_release(&e.log);
	rc = watch_once(&s, &e, &st, 5);
	CHECK_INT(rc, KUBE_EGONE);
	CHECK_INT(e.n, 0);
	CHECK_STR(line_of(&st, rc), "410 Expired: too old resource version: "
	    "1 (50)");
	vkc_buf_release(&e.log);
	ss_stop(&s);
}

/* A watch cut mid-event, or gone silent, or ended inside an event. */
TEST(watch_cut)
{
	struct ss_server s;
	struct kube_status st;
	struct ss_reply *r;
	struct events e;
	double t0;
	int rc;

	CHECK_INT(ss_start(&s), 0);
	r = add_watch_head(&s);
	r->gap_ms = 2;
	ss_part_chunk(r, watch_stream, 100);
	ss_part_add(r, "40\r\n{\"type\":\"ADD", 17);	/* then nothing */
	r->close = 1;
	r = add_watch_head(&s);		/* silent */
	r = add_watch_head(&s);
	ss_part_chunk(r, watch_stream, 100);
	ss_part_printf(r, "0\r\n\r\n");

	rc = watch_once(&s, &e, &st, 5);
	CHECK_INT(rc, KUBE_ETRANSPORT);
	CHECK_INT(e.n, 1);
	printf("  %s\n", line_of(&st, rc));
	vkc_buf_release(&e.log);
	t0 = ss_now();
	rc = watch_once(&s, &e, &st, 1);
	CHECK_INT(rc, KUBE_ETRANSPORT);
	CHECK(ss_now() - t0 >= 0.9 && ss_now() - t0 < 4);
	CHECK(strstr(st.message, "inactivity") != NULL);
	vkc_buf_release(&e.log);
	rc = watch_once(&s, &e, &st, 5);
	CHECK_INT(rc, KUBE_EPROTO);
	CHECK_INT(e.n, 1);
	CHECK(strstr(st.message, "inside an event") != NULL);
	vkc_buf_release(&e.log);
	ss_stop(&s);
}

struct stopper {
	volatile int *stop;
	int ms;
};

static void *
stop_later(void *arg)
{
	struct stopper *sp = arg;

	ss_sleep_ms(sp->ms);
	*sp->stop = 1;
	return NULL;
}

/* The stop flag ends a silent watch promptly. */
TEST(watch_stop)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	struct events e;
	struct stopper sp;
	volatile int stop = 0;
	pthread_t t;
	double t0;
	int rc;

	CHECK_INT(ss_start(&s), 0);
	add_watch_head(&s);
	c = client_for(&s, 0, NULL);
	vkc_buf_init(&e.log, 1 << 16);
	e.n = 0;
	sp.stop = &stop;
	sp.ms = 200;
	t0 = ss_now();
	pthread_create(&t, NULL, stop_later, &sp);
	rc = kube_watch(c, "/api/v1/pods?watch=1", on_event, &e, &stop, 30,
	    &st);
	pthread_join(t, NULL);
	CHECK_INT(rc, KUBE_ECANCELED);
	CHECK(ss_now() - t0 < 3);
	vkc_buf_release(&e.log);
	kube_client_free(c);
	ss_stop(&s);
}

/* A watch refused with 401 refreshes the credentials and asks again. */
TEST(watch_unauthorized)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	struct ss_reply *r;
	struct events e;
	char path[] = "/tmp/vkc-test-token.XXXXXX", h[256];
	FILE *f;
	int fd, rc;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("old\n", f);
	fclose(f);
	CHECK_INT(ss_start(&s), 0);
	ss_add(&s, 200, "", pod_body);
	ss_add(&s, 401, "", "{\"kind\":\"Status\",\"code\":401,\"reason\":"
	    "\"Unauthorized\",\"message\":\"Unauthorized\"}");
	r = add_watch_head(&s);
	ss_part_chunk(r, watch_stream, strlen(watch_stream));
	ss_part_printf(r, "0\r\n\r\n");
	c = client_for(&s, 0, path);
	CHECK_INT(kube_get(c, "/x", NULL, &st), 0);
	f = fopen(path, "w");
	fputs("new\n", f);
	fclose(f);
	vkc_buf_init(&e.log, 1 << 16);
	e.n = 0;
	rc = kube_watch(c, "/api/v1/pods?watch=1", on_event, &e, NULL, 5, &st);
	CHECK_INT(rc, 0);
	CHECK_INT(e.n, 4);
	CHECK_INT(ss_served(&s), 3);
	CHECK_STR(ss_header(&s, 2, "Authorization", h, sizeof(h)),
	    "Bearer new");
	vkc_buf_release(&e.log);
	kube_client_free(c);
	ss_stop(&s);
	unlink(path);
}

/* The client-side rate limit spaces requests at qps after the burst. */
TEST(qps)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_client_options o;
	struct vkc_kubeconfig kc;
	struct kube_status st;
	char url[64];
	double t0;
	int i;

	CHECK_INT(ss_start(&s), 0);
	for (i = 0; i < 6; i++)
		ss_add(&s, 200, "", pod_body);
	memset(&kc, 0, sizeof(kc));
	memset(&o, 0, sizeof(o));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
	kc.server = strdup(url);
	o.qps = 20;
	o.burst = 2;
	CHECK_INT(kube_client_new(&kc, &o, &c), 0);
	t0 = ss_now();
	for (i = 0; i < 6; i++)
		CHECK_INT(kube_get(c, "/x", NULL, &st), 0);
	/* two at once, four more at 50 ms each */
	CHECK(ss_now() - t0 >= 0.19 && ss_now() - t0 < 2);
	kube_client_free(c);
	ss_stop(&s);
}

/* Nothing listening: a transport error naming the cause. */
TEST(refused)
{
	struct ss_server s;
	struct kube_client *c;
	struct kube_status st;
	int rc;

	CHECK_INT(ss_start(&s), 0);
	c = client_for(&s, -1, NULL);
	ss_stop(&s);		/* the port is closed now */
	rc = kube_get(c, "/x", NULL, &st);
	CHECK_INT(rc, KUBE_ETRANSPORT);
	CHECK(strstr(line_of(&st, rc), "cannot reach the apiserver: GET") !=
	    NULL);
	kube_client_free(c);
}

/* What an informer's handler saw. */
struct inf_log {
	pthread_mutex_t lock;
	struct vkc_buf log;
};

static void
on_inf(enum vkc_informer_event ev, struct json_object *obj, void *arg)
{
	static const char *names[] = { "ADDED", "MODIFIED", "DELETED" };
	struct inf_log *l = arg;

	pthread_mutex_lock(&l->lock);
	vkc_buf_printf(&l->log, "%s %s %s%s;", names[ev],
	    vkc_json_get_string(obj, "metadata.name", "-"),
	    vkc_json_get_string(obj, "metadata.resourceVersion", "-"),
	    vkc_json_get(obj, "metadata.managedFields") ? " managed" : "");
	pthread_mutex_unlock(&l->lock);
}

#define POD(name, rv) "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name \
	"\",\"namespace\":\"ns\",\"resourceVersion\":\"" rv "\"," \
	"\"managedFields\":[{\"manager\":\"m\"}]}}"

/* The informer: a paged list, a watch from its resourceVersion, a 410
 * mid-stream, a relist from etcd that finds one object gone and one new,
 * then a watch from the new resourceVersion. The relist finds a as it
 * was: no news, no event; c came from a watch event, whose object (as
 * scripted here) lacks the apiVersion a list item is given, so it
 * changed. */
TEST(informer_relist)
{
	static const char want[] = "ADDED a 3;ADDED b 4;ADDED c 6;DELETED b 4;"
	    "MODIFIED c 6;MODIFIED a 10;";
	struct ss_server s;
	struct kube_client *c;
	struct vkc_informer *inf;
	struct vkc_informer_config cfg;
	struct inf_log l;
	struct ss_reply *r;
	struct json_object *o, *all;
	char line[512], ev[512];
	double t0;
	int done = 0;

	CHECK_INT(ss_start(&s), 0);
	ss_add(&s, 200, "", "{\"kind\":\"PodList\",\"metadata\":{"
	    "\"resourceVersion\":\"5\",\"continue\":\"tok/1=\"},\"items\":["
	    POD("a", "3") "]}");
	ss_add(&s, 200, "", "{\"kind\":\"PodList\",\"metadata\":{"
	    "\"resourceVersion\":\"5\"},\"items\":[" POD("b", "4") "]}");
	r = add_watch_head(&s);
	r->gap_ms = 2;
	snprintf(ev, sizeof(ev), "{\"type\":\"ADDED\",\"object\":%s}\n",
	    POD("c", "6"));
	ss_part_chunk(r, ev, strlen(ev));
	snprintf(ev, sizeof(ev), "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":"
	    "\"Pod\",\"metadata\":{\"resourceVersion\":\"7\"}}}\n");
	ss_part_chunk(r, ev, strlen(ev));
	snprintf(ev, sizeof(ev), "{\"type\":\"ERROR\",\"object\":{\"kind\":"
	    "\"Status\",\"code\":410,\"reason\":\"Expired\",\"message\":"
	    "\"too old resource version: 7 (8)\"}}\n");
	ss_part_chunk(r, ev, strlen(ev));
	ss_part_printf(r, "0\r\n\r\n");
	ss_add(&s, 200, "", "{\"kind\":\"PodList\",\"metadata\":{"
	    "\"resourceVersion\":\"9\"},\"items\":[" POD("a", "3") ","
	    POD("c", "6") "]}");
	r = add_watch_head(&s);
	snprintf(ev, sizeof(ev), "{\"type\":\"MODIFIED\",\"object\":%s}\n",
	    POD("a", "10"));
	ss_part_chunk(r, ev, strlen(ev));	/* and the stream stays open */

	c = client_for(&s, 0, NULL);
	pthread_mutex_init(&l.lock, NULL);
	vkc_buf_init(&l.log, 1 << 16);
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = "pods";
	cfg.group = "";
	cfg.version = "v1";
	cfg.plural = "pods";
	cfg.ns = "ns";
	cfg.handler = on_inf;
	cfg.arg = &l;
	inf = vkc_informer_new(c, &cfg);
	CHECK(inf != NULL);
	CHECK_INT(vkc_informer_start(inf), 0);
	t0 = ss_now();
	while (!done && ss_now() - t0 < 10) {
		pthread_mutex_lock(&l.lock);
		done = l.log.data != NULL && strstr(l.log.data,
		    "MODIFIED a 10;") != NULL;
		pthread_mutex_unlock(&l.lock);
		ss_sleep_ms(10);
	}
	CHECK(vkc_informer_synced(inf));
	CHECK_INT(vkc_informer_lists(inf), 2);
	CHECK_INT(vkc_informer_len(inf), 2);
	o = vkc_informer_get(inf, "ns", "a");
	CHECK_STR(vkc_json_get_string(o, "metadata.resourceVersion", ""), "10");
	json_object_put(o);
	CHECK(vkc_informer_get(inf, "ns", "b") == NULL);
	all = vkc_informer_list(inf, NULL, NULL);
	CHECK_INT(json_object_array_length(all), 2);
	json_object_put(all);
	t0 = ss_now();
	vkc_informer_stop(inf);
	CHECK(ss_now() - t0 < 3);
	pthread_mutex_lock(&l.lock);
	CHECK_STR(l.log.data, want);
	pthread_mutex_unlock(&l.lock);
	CHECK_STR(ss_request_line(&s, 0, line, sizeof(line)),
	    "GET /api/v1/namespaces/ns/pods?limit=500&resourceVersion=0 "
	    "HTTP/1.1");
	CHECK_STR(ss_request_line(&s, 1, line, sizeof(line)),
	    "GET /api/v1/namespaces/ns/pods?limit=500&continue=tok%2F1%3D "
	    "HTTP/1.1");
	CHECK(strstr(ss_request_line(&s, 2, line, sizeof(line)),
	    "?watch=1&allowWatchBookmarks=true&resourceVersion=5&"
	    "timeoutSeconds=") != NULL);
	/* after the 410: a consistent read, not the watch cache */
	CHECK_STR(ss_request_line(&s, 3, line, sizeof(line)),
	    "GET /api/v1/namespaces/ns/pods?limit=500 HTTP/1.1");
	CHECK(strstr(ss_request_line(&s, 4, line, sizeof(line)),
	    "&resourceVersion=9&") != NULL);
	CHECK_INT(ss_served(&s), 5);
	vkc_informer_free(inf);
	kube_client_free(c);
	ss_stop(&s);
	vkc_buf_release(&l.log);
	pthread_mutex_destroy(&l.lock);
}

int
main(void)
{
	alarm(55);
	RUN(get);
	RUN(apply);
	RUN(retry_after_429);
	RUN(retry_503);
	RUN(cut_mid_body);
	RUN(write_retries);
	RUN(status_codes);
	RUN(bad_answers);
	RUN(unauthorized_refresh);
	RUN(watch_chunked);
	RUN(watch_malformed);
	RUN(watch_gone);
	RUN(watch_cut);
	RUN(watch_stop);
	RUN(watch_unauthorized);
	RUN(qps);
	RUN(refused);
	RUN(informer_relist);
	CHECK_DONE();
}
