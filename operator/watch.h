/*
 * watch.h: splits a Kubernetes watch stream into events.
 *
 * The apiserver sends one JSON object per line, but HTTP chunks cut lines
 * anywhere. vkc_watch_feed() buffers bytes and, for every complete line,
 * parses it once and hands the event to the callback: linear in the
 * stream's size whatever the chunking. A line longer than the cap, a line
 * that is not JSON, or an event without a string "type" and an object
 * "object" is an error (the stream is then abandoned by the caller).
 */
#ifndef VKC_WATCH_H
#define VKC_WATCH_H

#include <json-c/json.h>
#include <stddef.h>

#include "buf.h"

#define VKC_WATCH_MAX_EVENT (16u << 20)	/* one event line, bytes */

/* Called per event; type is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR;
 * object belongs to the parser (take a reference to keep it). A non-zero
 * return stops feeding and is returned by vkc_watch_feed(). */
typedef int (*vkc_watch_cb)(const char *type, struct json_object *object,
    void *arg);

struct vkc_watch_parser {
	struct vkc_buf line;	/* bytes of the unfinished line */
	vkc_watch_cb cb;
	void *arg;
	unsigned long events;	/* events delivered */
	unsigned long long work;	/* bytes scanned, copied and parsed:
					 * stays linear in the bytes fed */
	char err[256];		/* set when VKC_WATCH_EPARSE is returned */
};

#define VKC_WATCH_EPARSE (-2001)	/* malformed line: see parser->err */
#define VKC_WATCH_ETOOBIG (-2002)	/* line over VKC_WATCH_MAX_EVENT */

void vkc_watch_init(struct vkc_watch_parser *p, vkc_watch_cb cb, void *arg);

/* Feeds n bytes. Returns 0, the callback's non-zero return, or a
 * VKC_WATCH_E* code. */
int vkc_watch_feed(struct vkc_watch_parser *p, const char *data, size_t n);

/* True when bytes of an unfinished event are buffered. */
int vkc_watch_pending(const struct vkc_watch_parser *p);

void vkc_watch_release(struct vkc_watch_parser *p);

#endif
