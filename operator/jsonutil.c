/* jsonutil.c: helpers over json-c (see jsonutil.h). */
#include "jsonutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Copies the next step of path (up to an unescaped dot; "\\." is a dot
 * inside a name) into step; returns the rest of the path, or NULL when
 * the step does not fit. */
static const char *
json_step(const char *p, char *step, size_t steplen)
{
	size_t n = 0;

	while (*p != '\0' && *p != '.') {
		if (*p == '\\' && p[1] == '.')
			p++;
		if (n + 1 >= steplen)
			return NULL;
		step[n++] = *p++;
	}
	step[n] = '\0';
	return *p == '.' ? p + 1 : p;
}

/* Walks a dot-separated path of object members. */
static struct json_object *
json_walk(struct json_object *o, const char *path)
{
	char step[256];
	const char *p;

	p = path;
	while (o != NULL && *p != '\0') {
		if (!json_object_is_type(o, json_type_object))
			return NULL;
		p = json_step(p, step, sizeof(step));
		if (p == NULL || !json_object_object_get_ex(o, step, &o))
			return NULL;
	}
	return o;
}

struct json_object *
vkc_json_get(struct json_object *o, const char *path)
{
	return json_walk(o, path);
}

const char *
vkc_json_get_string(struct json_object *o, const char *path, const char *def)
{
	struct json_object *v = json_walk(o, path);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}

int64_t
vkc_json_get_int(struct json_object *o, const char *path, int64_t def)
{
	struct json_object *v = json_walk(o, path);

	if (v == NULL || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

bool
vkc_json_get_bool(struct json_object *o, const char *path, bool def)
{
	struct json_object *v = json_walk(o, path);

	if (v == NULL || !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v);
}

int
vkc_json_set(struct json_object *o, const char *path, struct json_object *v)
{
	char step[256];
	const char *p;
	struct json_object *next;

	p = path;
	for (;;) {
		if (!json_object_is_type(o, json_type_object))
			break;
		p = json_step(p, step, sizeof(step));
		if (p == NULL)
			break;
		if (*p == '\0') {
			json_object_object_add(o, step, v);
			return 0;
		}
		if (!json_object_object_get_ex(o, step, &next)) {
			next = json_object_new_object();
			json_object_object_add(o, step, next);
		}
		o = next;
	}
	json_object_put(v);
	return -EINVAL;
}

struct json_object *
vkc_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;

	if (len > INT32_MAX) {
		if (err != NULL)
			snprintf(err, errlen, "document too large");
		return NULL;
	}
	tok = json_tokener_new_ex(64);
	if (tok == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (o != NULL && jerr == json_tokener_success &&
	    json_tokener_get_parse_end(tok) < len) {
		/* trailing bytes: only whitespace is allowed */
		size_t i;

		for (i = json_tokener_get_parse_end(tok); i < len; i++)
			if (text[i] != ' ' && text[i] != '\n' &&
			    text[i] != '\r' && text[i] != '\t')
				break;
		if (i < len) {
			json_object_put(o);
			o = NULL;
			if (err != NULL)
				snprintf(err, errlen, "trailing data after JSON value");
		}
	} else if (o == NULL || jerr != json_tokener_success) {
		json_object_put(o);
		o = NULL;
		if (err != NULL)
			snprintf(err, errlen, "invalid JSON: %s",
			    jerr == json_tokener_continue ? "unexpected end" :
			    json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	return o;
}

const char *
vkc_json_str(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

bool
vkc_json_equal(struct json_object *a, struct json_object *b)
{
	return json_object_equal(a, b) != 0;
}

bool
vkc_json_subset(struct json_object *want, struct json_object *have)
{
	struct json_object *hv;
	size_t i, n;

	if (want == NULL)
		return have == NULL;
	if (have == NULL)
		return false;
	switch (json_object_get_type(want)) {
	case json_type_object:
		if (!json_object_is_type(have, json_type_object))
			return false;
		json_object_object_foreach(want, k, wv) {
			if (!json_object_object_get_ex(have, k, &hv)) {
				/* an empty value reads back absent */
				if (wv == NULL || (json_object_is_type(wv,
				    json_type_object) &&
				    json_object_object_length(wv) == 0) ||
				    (json_object_is_type(wv, json_type_array) &&
				    json_object_array_length(wv) == 0))
					continue;
				return false;
			}
			if (!vkc_json_subset(wv, hv))
				return false;
		}
		return true;
	case json_type_array:
		if (!json_object_is_type(have, json_type_array))
			return false;
		n = json_object_array_length(want);
		if (n != json_object_array_length(have))
			return false;
		for (i = 0; i < n; i++)
			if (!vkc_json_subset(json_object_array_get_idx(want, i),
			    json_object_array_get_idx(have, i)))
				return false;
		return true;
	default:
		return json_object_equal(want, have) != 0;
	}
}
