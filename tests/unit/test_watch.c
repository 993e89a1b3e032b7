/* test_watch.c: the watch-stream line splitter (operator/watch.c). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "buf.h"
#include "jsonutil.h"
#include "watch.h"

/* What the callback saw: "TYPE name rv;" per event. */
struct seen {
	struct vkc_buf log;
	unsigned long n;
	int stop_at;		/* return 1 on this event (1-based); 0: never */
};

static int
record(const char *type, struct json_object *obj, void *arg)
{
	struct seen *s = arg;

	s->n++;
	vkc_buf_printf(&s->log, "%s %s %s;", type,
	    vkc_json_get_string(obj, "metadata.name", "-"),
	    vkc_json_get_string(obj, "metadata.resourceVersion", "-"));
	return s->stop_at > 0 && (int)s->n == s->stop_at ? 1 : 0;
}

static void
seen_init(struct seen *s)
{
	vkc_buf_init(&s->log, 1u << 24);
	s->n = 0;
	s->stop_at = 0;
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
    "{\"name\":\"a\",\"resourceVersion\":\"10\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\","
    "\"resourceVersion\":\"11\",\"annotations\":{\"note\":\"line\\nbreak "
    "\\u00e9 \\\"q\\\" {}[]\"}}}}\r\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
    "{\"resourceVersion\":\"12\"}}}\n"
    "  {\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"\xc3\xa9t\xc3\xa9\","
    "\"resourceVersion\":\"13\"}}}  \n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}\n";

static const char want[] =
    "ADDED a 10;MODIFIED b 11;BOOKMARK - 12;DELETED \xc3\xa9t\xc3\xa9 13;"
    "ERROR - -;";

/* The whole stream at once. */
TEST(whole)
{
	struct vkc_watch_parser p;
	struct seen s;

	seen_init(&s);
	vkc_watch_init(&p, record, &s);
	CHECK_INT(vkc_watch_feed(&p, stream, strlen(stream)), 0);
	CHECK_STR(s.log.data, want);
	CHECK_INT(p.events, 5);
	CHECK(!vkc_watch_pending(&p));
	vkc_watch_release(&p);
	vkc_buf_release(&s.log);
}

/* Split in two at every byte position, and in three around each. */
TEST(split_every_position)
{
	size_t len = strlen(stream), i, j;
	int bad = 0;

	for (i = 0; i <= len; i++) {
		for (j = i; j <= len; j += (i % 7 == 0) ? 1 : len) {
			struct vkc_watch_parser p;
			struct seen s;
			int rc;

			seen_init(&s);
			vkc_watch_init(&p, record, &s);
			rc = vkc_watch_feed(&p, stream, i);
			if (rc == 0)
				rc = vkc_watch_feed(&p, stream + i, j - i);
			if (rc == 0)
				rc = vkc_watch_feed(&p, stream + j, len - j);
			if (rc != 0 || s.log.data == NULL ||
			    strcmp(s.log.data, want) != 0 ||
			    vkc_watch_pending(&p)) {
				if (bad++ < 3)
					printf("split at %zu,%zu: rc %d, got "
					    "'%s'\n", i, j, rc, s.log.data ?
					    s.log.data : "");
			}
			vkc_watch_release(&p);
			vkc_buf_release(&s.log);
		}
	}
	CHECK_INT(bad, 0);
}

/* One byte at a time, then everything after each event boundary. */
TEST(bytewise)
{
	struct vkc_watch_parser p;
	struct seen s;
	size_t i, len = strlen(stream);
	int rc = 0;

	seen_init(&s);
	vkc_watch_init(&p, record, &s);
	for (i = 0; i < len && rc == 0; i++)
		rc = vkc_watch_feed(&p, stream + i, 1);
	CHECK_INT(rc, 0);
	CHECK_STR(s.log.data, want);
	vkc_watch_release(&p);
	vkc_buf_release(&s.log);
}

/* An event arrives with its newline and not before. */
TEST(delivered_at_newline)
{
	static const char ev[] =
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}";
	struct vkc_watch_parser p;
	struct seen s;

	seen_init(&s);
	vkc_watch_init(&p, record, &s);
	CHECK_INT(vkc_watch_feed(&p, ev, strlen(ev)), 0);
	CHECK_INT(s.n, 0);
	CHECK(vkc_watch_pending(&p));
	CHECK_INT(vkc_watch_feed(&p, "\n", 1), 0);
	CHECK_INT(s.n, 1);
	CHECK(!vkc_watch_pending(&p));
	vkc_watch_release(&p);
	vkc_buf_release(&s.log);
}

static int
feed_one(const char *text, char *err, size_t errlen, unsigned long *events)
{
	struct vkc_watch_parser p;
	struct seen s;
	int rc;

	seen_init(&s);
	vkc_watch_init(&p, record, &s);
	rc = vkc_watch_feed(&p, text, strlen(text));
	snprintf(err, errlen, "%s", p.err);
	*events = s.n;
	vkc_watch_release(&p);
	vkc_buf_release(&s.log);
	return rc;
}

/* Malformed lines: an error with a message, never a crash. */
TEST(malformed)
{
	static const char *bad[] = {
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}\n",	/* cut */
		"not json\n",
		"[1,2,3]\n",
		"\"ADDED\"\n",
		"{\"type\":7,\"object\":{}}\n",
		"{\"type\":\"ADDED\"}\n",
		"{\"type\":\"ADDED\",\"object\":\"pod\"}\n",
		"{\"type\":\"ADDED\",\"object\":null}\n",
		"{\"type\":\"ADDED\",\"object\":{}} trailing\n",
		"{\"type\":\"ADDED\",\"object\":{}}{\"type\":\"ADDED\"}\n",
		"{\"type\":\"ADDED\",\"object\":{\"a\":\"\xff\xfe\"}\n",
		"null\n",
		"{\"type\":\"ADDED\",\"object\":{\"a\":tru}}\n",
	};
	char err[256];
	unsigned long events;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = feed_one(bad[i], err, sizeof(err), &events);
		if (rc != VKC_WATCH_EPARSE)
			printf("case %zu: rc %d\n", i, rc);
		CHECK_INT(rc, VKC_WATCH_EPARSE);
		CHECK_INT(events, 0);
		CHECK(strncmp(err, "malformed watch event", 21) == 0);
	}
	/* a NUL byte inside a line */
	{
		static const char nul[] =
		    "{\"type\":\"ADDED\",\"object\":{\"a\":\"\0\"}}\n";
		struct vkc_watch_parser p;
		struct seen s;

		seen_init(&s);
		vkc_watch_init(&p, record, &s);
		CHECK_INT(vkc_watch_feed(&p, nul, sizeof(nul) - 1),
		    VKC_WATCH_EPARSE);
		CHECK_INT(s.n, 0);
		vkc_watch_release(&p);
		vkc_buf_release(&s.log);
	}
	/* the good event before a bad one is delivered */
	rc = feed_one("{\"type\":\"ADDED\",\"object\":{}}\n{oops\n", err,
	    sizeof(err), &events);
	CHECK_INT(rc, VKC_WATCH_EPARSE);
	CHECK_INT(events, 1);
}

/* Deeply nested input is refused, not a stack overflow. */
TEST(deep_nesting)
{
	struct vkc_buf b;
	char err[256];
	unsigned long events;
	int i, rc;

	vkc_buf_init(&b, 1u << 20);
	vkc_buf_puts(&b, "{\"type\":\"ADDED\",\"object\":{\"a\":");
	for (i = 0; i < 100000; i++)
		vkc_buf_puts(&b, "[");
	vkc_buf_puts(&b, "\n");
	rc = feed_one(b.data, err, sizeof(err), &events);
	CHECK_INT(rc, VKC_WATCH_EPARSE);
	vkc_buf_release(&b);
}

/* A line over the cap: ETOOBIG whether it comes whole or in pieces. */
TEST(too_big)
{
	struct vkc_watch_parser p;
	struct seen s;
	size_t big = VKC_WATCH_MAX_EVENT + 10, i, step = 65536;
	char *line;
	int rc = 0;

	line = malloc(big + 1);
	CHECK(line != NULL);
	if (line == NULL)
		return;
	memset(line, ' ', big);
	line[big] = '\n';

	/* in one piece, newline included */
	seen_init(&s);
	vkc_watch_init(&p, record, &s);
	CHECK_INT(vkc_watch_feed(&p, line, big + 1), VKC_WATCH_ETOOBIG);
	CHECK(strstr(p.err, "larger than") != NULL);
	vkc_watch_release(&p);

	/* in pieces without a newline: refused once past the cap */
	vkc_watch_init(&p, record, &s);
	for (i = 0; i < big && rc == 0; i += step)
		rc = vkc_watch_feed(&p, line + i, big - i < step ? big - i :
		    step);
	CHECK_INT(rc, VKC_WATCH_ETOOBIG);
	CHECK(i <= VKC_WATCH_MAX_EVENT + step);
	vkc_watch_release(&p);

	/* a start buffered, then the rest with the newline */
	vkc_watch_init(&p, record, &s);
	CHECK_INT(vkc_watch_feed(&p, "{", 1), 0);
	CHECK_INT(vkc_watch_feed(&p, line, big + 1), VKC_WATCH_ETOOBIG);
	vkc_watch_release(&p);

	/* exactly at the cap is still accepted (as whitespace: no event) */
	vkc_watch_init(&p, record, &s);
	line[VKC_WATCH_MAX_EVENT] = '\n';
	CHECK_INT(vkc_watch_feed(&p, line, VKC_WATCH_MAX_EVENT + 1), 0);
	vkc_watch_release(&p);
	vkc_watch_init(&p, record, &s);
	CHECK_INT(vkc_watch_feed(&p, "   ", 3), 0);
	CHECK_INT(vkc_watch_feed(&p, line + 3, VKC_WATCH_MAX_EVENT - 2), 0);
	CHECK_INT(s.n, 0);
	vkc_watch_release(&p);
	vkc_buf_release(&s.log);
	free(line);
}

/* Work for N events fed a byte at a time grows linearly with N. */
static unsigned long long
work_for(int events, unsigned long *delivered)
{
	struct vkc_watch_parser p;
	struct seen s;
	struct vkc_buf b;
	size_t i;
	int k;
	unsigned long long w;

	vkc_buf_init(&b, 1u << 26);
	for (k = 0; k < events; k++)
		vkc_buf_printf(&b, "{\"type\":\"MODIFIED\",\"object\":{"
		    "\"metadata\":{\"name\":\"pod-%d\",\"resourceVersion\":"
		    "\"%d\"},\"spec\":{\"x\":\"%0200d\"}}}\n", k, k, k);
	seen_init(&s);
	vkc_watch_init(&p, record, &s);
	for (i = 0; i < b.len; i++)
		if (vkc_watch_feed(&p, b.data + i, 1) != 0)
			break;
	*delivered = s.n;
	w = p.work;
	/* per byte fed: at most one scan, one copy, one parse */
	if (w > 3ull * b.len)
		w = ~0ull;
	vkc_watch_release(&p);
	vkc_buf_release(&s.log);
	vkc_buf_release(&b);
	return w;
}

TEST(linear)
{
	unsigned long n1, n2;
	unsigned long long w1, w2;

	w1 = work_for(100, &n1);
	w2 = work_for(1000, &n2);
	CHECK_INT(n1, 100);
	CHECK_INT(n2, 1000);
	CHECK(w1 != ~0ull && w2 != ~0ull);
	/* ten times the events: about ten times the work, not a hundred */
	printf("work: %llu for 100 events, %llu for 1000\n", w1, w2);
	CHECK(w2 < 12 * w1);
	CHECK(w2 > 8 * w1);
}

/* A non-zero callback return stops feeding and comes back. */
TEST(callback_stops)
{
	struct vkc_watch_parser p;
	struct seen s;

	seen_init(&s);
	s.stop_at = 2;
	vkc_watch_init(&p, record, &s);
	CHECK_INT(vkc_watch_feed(&p, stream, strlen(stream)), 1);
	CHECK_INT(s.n, 2);
	vkc_watch_release(&p);
	vkc_buf_release(&s.log);
}

int
main(void)
{
	RUN(whole);
	RUN(split_every_position);
	RUN(bytewise);
	RUN(delivered_at_newline);
	RUN(malformed);
	RUN(deep_nesting);
	RUN(too_big);
	RUN(linear);
	RUN(callback_stops);
	CHECK_DONE();
}
