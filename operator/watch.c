/* watch.c: newline-delimited watch events, parsed once each (see watch.h). */
#include "watch.h"

#include <stdio.h>
#include <string.h>

#include "jsonutil.h"

void
vkc_watch_init(struct vkc_watch_parser *p, vkc_watch_cb cb, void *arg)
{
	vkc_buf_init(&p->line, VKC_WATCH_MAX_EVENT);
	p->cb = cb;
	p->arg = arg;
	p->events = 0;
	p->work = 0;
	p->err[0] = '\0';
}

static int
watch_line(struct vkc_watch_parser *p, const char *s, size_t n)
{
	struct json_object *ev, *type, *obj;
	char jerr[128];
	int rc;

	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	if (n == 0)
		return 0;
	p->work += n;
	ev = vkc_json_parse(s, n, jerr, sizeof(jerr));
	if (ev == NULL) {
		snprintf(p->err, sizeof(p->err), "malformed watch event: %s",
		    jerr);
		return VKC_WATCH_EPARSE;
	}
	if (!json_object_is_type(ev, json_type_object) ||
	    !json_object_object_get_ex(ev, "type", &type) ||
	    !json_object_is_type(type, json_type_string) ||
	    !json_object_object_get_ex(ev, "object", &obj) ||
	    !json_object_is_type(obj, json_type_object)) {
		snprintf(p->err, sizeof(p->err), "malformed watch event: "
		    "want {\"type\": string, \"object\": object}");
		json_object_put(ev);
		return VKC_WATCH_EPARSE;
	}
	p->events++;
	rc = p->cb(json_object_get_string(type), obj, p->arg);
	json_object_put(ev);
	return rc;
}

int
vkc_watch_feed(struct vkc_watch_parser *p, const char *data, size_t n)
{
	const char *nl;
	size_t used, len;
	int rc;

	/* Lines wholly inside this chunk are parsed in place; only the
	 * unfinished tail is copied. */
	while (n > 0) {
		nl = memchr(data, '\n', n);
		p->work += nl != NULL ? (size_t)(nl - data) + 1 : n;
		if (nl == NULL) {
			p->work += n;
			rc = vkc_buf_append(&p->line, data, n);
			if (rc != 0) {
				snprintf(p->err, sizeof(p->err),
				    "watch event larger than %u bytes",
				    VKC_WATCH_MAX_EVENT);
				return VKC_WATCH_ETOOBIG;
			}
			return 0;
		}
		used = (size_t)(nl - data) + 1;
		len = used - 1;
		if (p->line.len > 0) {
			p->work += len;
			rc = vkc_buf_append(&p->line, data, len);
			if (rc != 0) {
				snprintf(p->err, sizeof(p->err),
				    "watch event larger than %u bytes",
				    VKC_WATCH_MAX_EVENT);
				return VKC_WATCH_ETOOBIG;
			}
			rc = watch_line(p, p->line.data, p->line.len);
			vkc_buf_reset(&p->line);
		} else {
			if (len > VKC_WATCH_MAX_EVENT) {
				snprintf(p->err, sizeof(p->err),
				    "watch event larger than %u bytes",
				    VKC_WATCH_MAX_EVENT);
				return VKC_WATCH_ETOOBIG;
			}
			rc = watch_line(p, data, len);
		}
		if (rc != 0)
			return rc;
		data += used;
		n -= used;
	}
	return 0;
}

int
vkc_watch_pending(const struct vkc_watch_parser *p)
{
	return p->line.len > 0;
}

void
vkc_watch_release(struct vkc_watch_parser *p)
{
	vkc_buf_release(&p->line);
}
