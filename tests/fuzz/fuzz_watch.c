/*
 * fuzz_watch.c: the watch-stream splitter on arbitrary bytes. The first
 * two bytes choose where the rest is cut in two; the stream is fed whole,
 * in those two pieces and (when short) a byte at a time, and all three
 * must agree: same result, same events in the same order.
 */
#include "watch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fw_acc {
	unsigned long n;
	uint64_t hash;
};

static void
fw_mix(struct fw_acc *a, const char *s)
{
	for (; *s != '\0'; s++)
		a->hash = (a->hash ^ (unsigned char)*s) * 1099511628211ull;
	a->hash = (a->hash ^ 0xff) * 1099511628211ull;
}

static int
fw_event(const char *type, struct json_object *obj, void *arg)
{
	struct fw_acc *a = arg;

	if (type == NULL || obj == NULL ||
	    !json_object_is_type(obj, json_type_object))
		abort();
	a->n++;
	fw_mix(a, type);
	fw_mix(a, json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	return 0;
}

/* Feeds data cut at the given offsets; returns the parser's result. */
static int
fw_run(const char *data, size_t size, size_t step, size_t cut,
    struct fw_acc *a)
{
	struct vkc_watch_parser p;
	size_t off, n;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	a->hash = 14695981039346656037ull;
	vkc_watch_init(&p, fw_event, a);
	if (step > 0) {
		for (off = 0; off < size && rc == 0; off += n) {
			n = size - off < step ? size - off : step;
			rc = vkc_watch_feed(&p, data + off, n);
		}
	} else {
		rc = vkc_watch_feed(&p, data, cut);
		if (rc == 0)
			rc = vkc_watch_feed(&p, data + cut, size - cut);
	}
	if ((rc == VKC_WATCH_EPARSE || rc == VKC_WATCH_ETOOBIG) &&
	    (p.err[0] == '\0' || memchr(p.err, '\0', sizeof(p.err)) == NULL))
		abort();
	if (rc != 0 && rc != VKC_WATCH_EPARSE && rc != VKC_WATCH_ETOOBIG)
		abort();
	/* linear: each byte scanned, copied and parsed at most once */
	if (p.work > 3 * (unsigned long long)size)
		abort();
	if (rc == 0)
		a->hash ^= (uint64_t)vkc_watch_pending(&p);
	vkc_watch_release(&p);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_acc whole, two, bytes;
	const char *s;
	size_t cut;
	int rc1, rc2, rc3;

	if (size < 2 || size > ((size_t)1 << 20))
		return 0;
	cut = ((size_t)data[0] << 8 | data[1]) % (size - 1);
	s = (const char *)data + 2;
	size -= 2;
	rc1 = fw_run(s, size, size > 0 ? size : 1, 0, &whole);
	rc2 = fw_run(s, size, 0, cut, &two);
	if (rc1 != rc2 || whole.n != two.n || whole.hash != two.hash)
		abort();
	if (size <= 4096) {
		rc3 = fw_run(s, size, 1, 0, &bytes);
		if (rc1 != rc3 || whole.n != bytes.n ||
		    whole.hash != bytes.hash)
			abort();
	}
	return 0;
}
