/*
 * yamljson.c: YAML to json-c trees and back (see yamljson.h).
 *
 * Plain scalars are typed as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) types
 * them, so a manifest reads here as kubectl reads it:
 *   null:    "", ~, null, Null, NULL
 *   boolean: true/True/TRUE, false/False/FALSE, and the YAML 1.1 forms
 *            y/Y/yes/Yes/YES/on/On/ON, n/N/no/No/NO/off/Off/OFF
 *   integer: decimal, 0x hex, 0o or leading-0 octal, 0b binary, with an
 *            optional sign and "_" separators; a value past int64 that fits
 *            uint64 (no sign) is a uint64; a decimal past both is a float;
 *            any other overflow stays a string
 *   float:   [-+]?(.d+|d+(.d*)?)([eE][-+]?d+)?, .inf/+.inf/-.inf, .nan;
 *            a float that overflows stays a string
 *   string:  everything else, and every quoted or block scalar.
 * Keys are the scalar's text as written (a key "on" stays "on").
 * Explicit tags: !!str and "!" make a string, other tags are ignored.
 * The merge key "<<" (plain) is honoured. Duplicate keys are an error.
 *
 * Aliases are expanded by copying; every copy is charged its weight (32
 * per node plus its bytes of text) against a budget, which stops
 * exponential expansion ("billion laughs"). Nesting is limited too.
 *
 * The emitter writes block style; a string is written plain only when it is
 * printable ASCII that reads back as the same string, otherwise double-quoted
 * with escapes. Strings are taken to be UTF-8: a byte that is not part of a
 * valid UTF-8 sequence is written as the code point of the same value.
 */
#include "yamljson.h"

#include "buf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YJ_MAX_DEPTH	128		/* nested collections */
#define YJ_MAX_ANCHORS	4096		/* per document */
#define YJ_NODE_WEIGHT	32
#define YJ_ALIAS_BUDGET	((size_t)8 << 20)	/* weight copied by aliases */
#define YJ_WEIGHT_MAX	(SIZE_MAX / 4)
#define YJ_EMIT_MAX	((size_t)1 << 30)

#define YJ_TAG_STR	"tag:yaml.org,2002:str"
#define YJ_TAG_BINARY	"tag:yaml.org,2002:binary"

struct yj_anchor {
	char *name;
	struct json_object *val;	/* a reference, NULL for null */
	char *raw;			/* scalar text (for alias keys), or NULL */
	size_t weight;
};

struct yj {
	yaml_parser_t parser;
	struct yj_anchor *anchors;
	size_t nanchors;
	size_t budget;		/* weight aliases may still copy */
	char *err;
	size_t errlen;
};

enum yj_kind { YJ_STR, YJ_NULL, YJ_BOOL, YJ_INT, YJ_UINT, YJ_FLOAT };

struct yj_val {
	enum yj_kind kind;
	bool b;
	int64_t i;
	uint64_t u;
	double d;
};

static const struct {
	const char *text;
	enum yj_kind kind;
	int val;	/* bool value, or the sign of an infinity, 0 for NaN */
} yj_words[] = {
	{ "", YJ_NULL, 0 }, { "~", YJ_NULL, 0 }, { "null", YJ_NULL, 0 },
	{ "Null", YJ_NULL, 0 }, { "NULL", YJ_NULL, 0 },
	{ "y", YJ_BOOL, 1 }, { "Y", YJ_BOOL, 1 }, { "yes", YJ_BOOL, 1 },
	{ "Yes", YJ_BOOL, 1 }, { "YES", YJ_BOOL, 1 }, { "true", YJ_BOOL, 1 },
	{ "True", YJ_BOOL, 1 }, { "TRUE", YJ_BOOL, 1 }, { "on", YJ_BOOL, 1 },
	{ "On", YJ_BOOL, 1 }, { "ON", YJ_BOOL, 1 },
	{ "n", YJ_BOOL, 0 }, { "N", YJ_BOOL, 0 }, { "no", YJ_BOOL, 0 },
	{ "No", YJ_BOOL, 0 }, { "NO", YJ_BOOL, 0 }, { "false", YJ_BOOL, 0 },
	{ "False", YJ_BOOL, 0 }, { "FALSE", YJ_BOOL, 0 }, { "off", YJ_BOOL, 0 },
	{ "Off", YJ_BOOL, 0 }, { "OFF", YJ_BOOL, 0 },
	{ ".nan", YJ_FLOAT, 0 }, { ".NaN", YJ_FLOAT, 0 }, { ".NAN", YJ_FLOAT, 0 },
	{ ".inf", YJ_FLOAT, 1 }, { ".Inf", YJ_FLOAT, 1 }, { ".INF", YJ_FLOAT, 1 },
	{ "+.inf", YJ_FLOAT, 1 }, { "+.Inf", YJ_FLOAT, 1 },
	{ "+.INF", YJ_FLOAT, 1 },
	{ "-.inf", YJ_FLOAT, -1 }, { "-.Inf", YJ_FLOAT, -1 },
	{ "-.INF", YJ_FLOAT, -1 },
};

static bool
yj_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t
yj_add(size_t a, size_t b)
{
	return a > YJ_WEIGHT_MAX - b ? YJ_WEIGHT_MAX : a + b;
}

/* Go's strconv.ParseInt(s, 0, 64) syntax. Returns false when s is not an
 * integer; *ovf is set when it is one but does not fit 64 bits. */
static bool
yj_int_syntax(const char *s, bool *neg, bool *sign, uint64_t *mag, bool *ovf)
{
	const char *p = s;
	unsigned base = 10, d;
	uint64_t v = 0;

	*neg = *sign = *ovf = false;
	if (*p == '+' || *p == '-') {
		*neg = *p == '-';
		*sign = true;
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && p[1] != '\0') {
		base = 8;
		p++;
	}
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (yj_digit(*p))
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a') + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A') + 10;
		else
			return false;
		if (d >= base)
			return false;
		if (v > (UINT64_MAX - d) / base)
			*ovf = true;
		else
			v = v * base + d;
	}
	*mag = v;
	return true;
}

static bool
yj_float_syntax(const char *p)
{
	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		p++;
		if (!yj_digit(*p))
			return false;
		while (yj_digit(*p))
			p++;
	} else {
		if (!yj_digit(*p))
			return false;
		while (yj_digit(*p))
			p++;
		if (*p == '.') {
			p++;
			while (yj_digit(*p))
				p++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!yj_digit(*p))
			return false;
		while (yj_digit(*p))
			p++;
	}
	return *p == '\0';
}

/* Types a plain scalar of len bytes. Returns 0 or -ENOMEM. */
static int
yj_resolve(const char *s, size_t len, struct yj_val *v)
{
	char *t;
	size_t i, n;
	bool neg, sign, ovf;
	uint64_t mag;

	memset(v, 0, sizeof(*v));
	v->kind = YJ_STR;
	for (i = 0; i < sizeof(yj_words) / sizeof(yj_words[0]); i++) {
		if (strlen(yj_words[i].text) != len ||
		    memcmp(yj_words[i].text, s, len) != 0)
			continue;
		v->kind = yj_words[i].kind;
		if (v->kind == YJ_BOOL)
			v->b = yj_words[i].val != 0;
		else if (v->kind == YJ_FLOAT)
			v->d = yj_words[i].val == 0 ? NAN :
			    yj_words[i].val > 0 ? INFINITY : -INFINITY;
		return 0;
	}
	if (len == 0 || !(yj_digit(s[0]) || s[0] == '+' || s[0] == '-' ||
	    s[0] == '.') || memchr(s, '\0', len) != NULL)
		return 0;

	t = malloc(len + 1);
	if (t == NULL)
		return -ENOMEM;
	for (i = n = 0; i < len; i++)
		if (s[i] != '_')
			t[n++] = s[i];
	t[n] = '\0';

	if (yj_int_syntax(t, &neg, &sign, &mag, &ovf) && !ovf) {
		if (neg && mag <= (uint64_t)INT64_MAX + 1) {
			v->kind = YJ_INT;
			v->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
			    -(int64_t)mag;
			goto out;
		}
		if (!neg && mag <= (uint64_t)INT64_MAX) {
			v->kind = YJ_INT;
			v->i = (int64_t)mag;
			goto out;
		}
		if (!sign) {
			v->kind = YJ_UINT;
			v->u = mag;
			goto out;
		}
	}
	if (yj_float_syntax(t)) {
		double d = strtod(t, NULL);

		if (!isinf(d)) {
			v->kind = YJ_FLOAT;
			v->d = d;
		}
	}
out:
	free(t);
	return 0;
}

static int
yj_fail(struct yj *y, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
yj_fail(struct yj *y, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (y->err != NULL && y->errlen > 0) {
		if (m != NULL)
			snprintf(y->err, y->errlen, "line %zu column %zu: %s",
			    m->line + 1, m->column + 1, msg);
		else
			snprintf(y->err, y->errlen, "%s", msg);
	}
	return -EINVAL;
}

/* The next event, or a libyaml error turned into a message. */
static int
yj_next(struct yj *y, yaml_event_t *ev)
{
	yaml_parser_t *p = &y->parser;
	const char *problem;

	if (yaml_parser_parse(p, ev))
		return 0;
	memset(ev, 0, sizeof(*ev));
	problem = p->problem != NULL ? p->problem : "invalid YAML";
	if (p->error == YAML_MEMORY_ERROR) {
		yj_fail(y, NULL, "out of memory");
		return -ENOMEM;
	}
	if (p->error == YAML_READER_ERROR)
		return yj_fail(y, NULL, "byte %zu: %s", p->problem_offset,
		    problem);
	if (p->context != NULL)
		return yj_fail(y, &p->problem_mark, "%s (%s at line %zu)",
		    problem, p->context, p->context_mark.line + 1);
	return yj_fail(y, &p->problem_mark, "%s", problem);
}

static void
yj_anchors_clear(struct yj *y)
{
	size_t i;

	for (i = 0; i < y->nanchors; i++) {
		free(y->anchors[i].name);
		free(y->anchors[i].raw);
		json_object_put(y->anchors[i].val);
	}
	y->nanchors = 0;
}

static struct yj_anchor *
yj_anchor_find(struct yj *y, const char *name)
{
	size_t i;

	for (i = y->nanchors; i > 0; i--)
		if (strcmp(y->anchors[i - 1].name, name) == 0)
			return &y->anchors[i - 1];
	return NULL;
}

static int
yj_anchor_add(struct yj *y, const yaml_mark_t *m, const char *name,
    struct json_object *val, const char *raw, size_t rawlen, size_t weight)
{
	struct yj_anchor *a;

	if (y->nanchors >= YJ_MAX_ANCHORS)
		return yj_fail(y, m, "too many anchors (limit %d)",
		    YJ_MAX_ANCHORS);
	if (y->nanchors % 64 == 0) {
		a = realloc(y->anchors, (y->nanchors + 64) * sizeof(*a));
		if (a == NULL)
			return -ENOMEM;
		y->anchors = a;
	}
	a = &y->anchors[y->nanchors];
	a->name = strdup(name);
	a->raw = raw != NULL ? strndup(raw, rawlen) : NULL;
	if (a->name == NULL || (raw != NULL && a->raw == NULL)) {
		free(a->name);
		free(a->raw);
		return -ENOMEM;
	}
	a->val = json_object_get(val);
	a->weight = weight;
	y->nanchors++;
	return 0;
}

static bool
yj_tag_is(const yaml_char_t *tag, const char *want)
{
	return tag != NULL && strcmp((const char *)tag, want) == 0;
}

static int
yj_scalar(struct yj *y, const yaml_event_t *ev, struct json_object **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const yaml_char_t *tag = ev->data.scalar.tag;
	struct yj_val v;
	bool as_str;
	int rc;

	*out = NULL;
	if (yj_tag_is(tag, YJ_TAG_STR) || yj_tag_is(tag, YJ_TAG_BINARY) ||
	    yj_tag_is(tag, "!"))
		as_str = true;
	else if (tag != NULL && strncmp((const char *)tag, "tag:yaml.org,2002:",
	    18) == 0)
		as_str = false;
	else
		as_str = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	if (as_str) {
		v.kind = YJ_STR;
	} else {
		rc = yj_resolve(s, len, &v);
		if (rc != 0)
			return rc;
	}
	switch (v.kind) {
	case YJ_NULL:
		return 0;
	case YJ_BOOL:
		*out = json_object_new_boolean(v.b);
		break;
	case YJ_INT:
		*out = json_object_new_int64(v.i);
		break;
	case YJ_UINT:
		*out = json_object_new_uint64(v.u);
		break;
	case YJ_FLOAT:
		*out = json_object_new_double(v.d);
		break;
	case YJ_STR:
		if (len > INT32_MAX)
			return yj_fail(y, &ev->start_mark, "scalar too long");
		*out = json_object_new_string_len(s, (int)len);
		break;
	}
	return *out == NULL ? -ENOMEM : 0;
}

static int yj_node(struct yj *, const yaml_event_t *, int,
    struct json_object **, size_t *);

static int
yj_sequence(struct yj *y, int depth, struct json_object **out, size_t *weight)
{
	yaml_event_t ev;
	struct json_object *arr, *v;
	size_t w = YJ_NODE_WEIGHT, cw;
	int rc;

	arr = json_object_new_array();
	if (arr == NULL)
		return -ENOMEM;
	for (;;) {
		rc = yj_next(y, &ev);
		if (rc != 0)
			goto out;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		rc = yj_node(y, &ev, depth + 1, &v, &cw);
		yaml_event_delete(&ev);
		if (rc != 0)
			goto out;
		if (json_object_array_add(arr, v) != 0) {
			json_object_put(v);
			rc = -ENOMEM;
			goto out;
		}
		w = yj_add(w, cw);
	}
	*out = arr;
	*weight = w;
	arr = NULL;
out:
	json_object_put(arr);
	return rc;
}

/* Adds the members of src that obj lacks (merge keys never override). */
static int
yj_merge_into(struct json_object *obj, struct json_object *src)
{
	struct json_object_iterator it, end;
	const char *k;
	struct json_object *v;

	it = json_object_iter_begin(src);
	end = json_object_iter_end(src);
	while (!json_object_iter_equal(&it, &end)) {
		k = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		if (!json_object_object_get_ex(obj, k, NULL) &&
		    json_object_object_add(obj, k, json_object_get(v)) != 0) {
			json_object_put(v);
			return -ENOMEM;
		}
		json_object_iter_next(&it);
	}
	return 0;
}

/* The key of a mapping entry: a scalar's text, or an alias to a scalar. */
static int
yj_key(struct yj *y, const yaml_event_t *ev, char **key, bool *merge)
{
	struct yj_anchor *a;
	const char *s;
	size_t len;

	*key = NULL;
	*merge = false;
	if (ev->type == YAML_ALIAS_EVENT) {
		a = yj_anchor_find(y, (const char *)ev->data.alias.anchor);
		if (a == NULL)
			return yj_fail(y, &ev->start_mark, "unknown anchor '%.64s'",
			    (const char *)ev->data.alias.anchor);
		if (a->raw == NULL)
			return yj_fail(y, &ev->start_mark,
			    "mapping keys must be scalars");
		*key = strdup(a->raw);
		return *key == NULL ? -ENOMEM : 0;
	}
	if (ev->type != YAML_SCALAR_EVENT)
		return yj_fail(y, &ev->start_mark,
		    "mapping keys must be scalars");
	s = (const char *)ev->data.scalar.value;
	len = ev->data.scalar.length;
	if (memchr(s, '\0', len) != NULL)
		return yj_fail(y, &ev->start_mark, "key holds a NUL byte");
	*merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    ev->data.scalar.tag == NULL && len == 2 && memcmp(s, "<<", 2) == 0;
	*key = strndup(s, len);
	if (*key == NULL)
		return -ENOMEM;
	if (ev->data.scalar.anchor != NULL) {
		struct json_object *v;
		int rc;

		rc = yj_scalar(y, ev, &v);
		if (rc != 0)
			return rc;
		rc = yj_anchor_add(y, &ev->start_mark,
		    (const char *)ev->data.scalar.anchor, v, s, len,
		    yj_add(YJ_NODE_WEIGHT, len));
		json_object_put(v);
		return rc;
	}
	return 0;
}

static int
yj_mapping(struct yj *y, int depth, struct json_object **out, size_t *weight)
{
	yaml_event_t ev;
	yaml_mark_t mark;
	struct json_object *obj, *merges, *v;
	size_t w = YJ_NODE_WEIGHT, cw, i, j;
	char *key = NULL;
	bool merge;
	int rc;

	obj = json_object_new_object();
	merges = json_object_new_array();
	if (obj == NULL || merges == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		rc = yj_next(y, &ev);
		if (rc != 0)
			goto out;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		mark = ev.start_mark;
		rc = yj_key(y, &ev, &key, &merge);
		yaml_event_delete(&ev);
		if (rc != 0)
			goto out;
		if (json_object_object_get_ex(obj, key, NULL) ||
		    (merge && json_object_array_length(merges) > 0)) {
			rc = yj_fail(y, &mark, "duplicate key '%.64s'", key);
			goto out;
		}
		w = yj_add(w, strlen(key));

		rc = yj_next(y, &ev);
		if (rc != 0)
			goto out;
		rc = yj_node(y, &ev, depth + 1, &v, &cw);
		yaml_event_delete(&ev);
		if (rc != 0)
			goto out;
		w = yj_add(w, cw);
		if (merge) {
			bool ok = json_object_is_type(v, json_type_object);

			if (json_object_is_type(v, json_type_array)) {
				ok = json_object_array_length(v) > 0;
				for (j = 0; j < json_object_array_length(v); j++)
					if (!json_object_is_type(
					    json_object_array_get_idx(v, j),
					    json_type_object))
						ok = false;
			}
			if (!ok) {
				json_object_put(v);
				rc = yj_fail(y, &mark, "merge key '<<' needs "
				    "a mapping or a list of mappings");
				goto out;
			}
			if (json_object_array_add(merges, v) != 0) {
				json_object_put(v);
				rc = -ENOMEM;
				goto out;
			}
			/* keeps "<<" known so a second one is a duplicate */
		} else if (json_object_object_add(obj, key, v) != 0) {
			json_object_put(v);
			rc = -ENOMEM;
			goto out;
		}
		free(key);
		key = NULL;
	}
	for (i = 0; i < json_object_array_length(merges); i++) {
		struct json_object *m = json_object_array_get_idx(merges, i);

		if (json_object_is_type(m, json_type_object)) {
			rc = yj_merge_into(obj, m);
			if (rc != 0)
				goto out;
			continue;
		}
		for (j = 0; j < json_object_array_length(m); j++) {
			rc = yj_merge_into(obj, json_object_array_get_idx(m, j));
			if (rc != 0)
				goto out;
		}
	}
	*out = obj;
	*weight = w;
	obj = NULL;
out:
	free(key);
	json_object_put(merges);
	json_object_put(obj);
	return rc;
}

/* Builds the node that ev starts, reading the events up to its end. */
static int
yj_node(struct yj *y, const yaml_event_t *ev, int depth,
    struct json_object **out, size_t *weight)
{
	struct yj_anchor *a;
	const yaml_char_t *anchor = NULL;
	const char *raw = NULL;
	size_t rawlen = 0;
	int rc;

	*out = NULL;
	*weight = 0;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		rc = yj_scalar(y, ev, out);
		if (rc != 0)
			return rc;
		anchor = ev->data.scalar.anchor;
		raw = (const char *)ev->data.scalar.value;
		rawlen = ev->data.scalar.length;
		*weight = yj_add(YJ_NODE_WEIGHT, rawlen);
		if (memchr(raw, '\0', rawlen) != NULL)
			raw = NULL;	/* cannot be a key */
		break;
	case YAML_ALIAS_EVENT:
		a = yj_anchor_find(y, (const char *)ev->data.alias.anchor);
		if (a == NULL)
			return yj_fail(y, &ev->start_mark, "unknown anchor '%.64s'",
			    (const char *)ev->data.alias.anchor);
		if (a->weight > y->budget)
			return yj_fail(y, &ev->start_mark, "aliases expand too "
			    "much (limit %zu bytes)", YJ_ALIAS_BUDGET);
		y->budget -= a->weight;
		*weight = a->weight;
		if (a->val != NULL && json_object_deep_copy(a->val, out,
		    NULL) != 0) {
			*out = NULL;
			return -ENOMEM;
		}
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (depth >= YJ_MAX_DEPTH)
			return yj_fail(y, &ev->start_mark,
			    "nested deeper than %d levels", YJ_MAX_DEPTH);
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = ev->data.sequence_start.anchor;
			rc = yj_sequence(y, depth, out, weight);
		} else {
			anchor = ev->data.mapping_start.anchor;
			rc = yj_mapping(y, depth, out, weight);
		}
		if (rc != 0)
			return rc;
		break;
	default:
		return yj_fail(y, &ev->start_mark, "unexpected YAML event");
	}
	if (anchor != NULL) {
		rc = yj_anchor_add(y, &ev->start_mark, (const char *)anchor,
		    *out, raw, rawlen, *weight);
		if (rc != 0) {
			json_object_put(*out);
			*out = NULL;
			return rc;
		}
	}
	return 0;
}

/* Reads the next document: *done is set at the end of the stream. */
static int
yj_document(struct yj *y, struct json_object **out, bool *done)
{
	yaml_event_t ev;
	size_t w;
	int rc;

	*out = NULL;
	*done = false;
	rc = yj_next(y, &ev);
	if (rc != 0)
		return rc;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		*done = true;
		return 0;
	}
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		rc = yj_fail(y, &ev.start_mark, "expected a document");
		yaml_event_delete(&ev);
		return rc;
	}
	yaml_event_delete(&ev);

	rc = yj_next(y, &ev);
	if (rc != 0)
		return rc;
	rc = yj_node(y, &ev, 0, out, &w);
	yaml_event_delete(&ev);
	yj_anchors_clear(y);
	if (rc != 0)
		return rc;

	rc = yj_next(y, &ev);
	if (rc == 0 && ev.type != YAML_DOCUMENT_END_EVENT)
		rc = yj_fail(y, &ev.start_mark, "expected the end of a document");
	yaml_event_delete(&ev);
	if (rc != 0) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

static int
yj_parse(const char *text, size_t len, bool all, struct json_object **out,
    char *err, size_t errlen)
{
	struct yj y;
	yaml_event_t ev;
	struct json_object *docs = NULL, *doc = NULL;
	bool done;
	int rc;

	*out = NULL;
	memset(&y, 0, sizeof(y));
	y.err = err;
	y.errlen = errlen;
	y.budget = YJ_ALIAS_BUDGET;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!yaml_parser_initialize(&y.parser)) {
		yj_fail(&y, NULL, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text,
	    len);
	if (all) {
		docs = json_object_new_array();
		if (docs == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = yj_next(&y, &ev);
	if (rc != 0)
		goto out;
	if (ev.type != YAML_STREAM_START_EVENT) {
		yaml_event_delete(&ev);
		rc = yj_fail(&y, NULL, "expected a YAML stream");
		goto out;
	}
	yaml_event_delete(&ev);
	for (;;) {
		rc = yj_document(&y, &doc, &done);
		if (rc != 0 || done)
			break;
		if (!all) {
			*out = doc;
			doc = NULL;
			break;
		}
		if (doc == NULL)
			continue;
		if (json_object_array_add(docs, doc) != 0) {
			rc = -ENOMEM;
			break;
		}
		doc = NULL;
	}
	if (rc == 0 && all) {
		*out = docs;
		docs = NULL;
	}
out:
	if (rc == -ENOMEM && err != NULL && errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	json_object_put(doc);
	json_object_put(docs);
	yj_anchors_clear(&y);
	free(y.anchors);
	yaml_parser_delete(&y.parser);
	return rc == 0 ? 0 : rc == -ENOMEM ? -ENOMEM : -EINVAL;
}

int
vkc_yaml_parse(const char *text, size_t len, struct json_object **out,
    char *err, size_t errlen)
{
	return yj_parse(text, len, false, out, err, errlen);
}

int
vkc_yaml_parse_all(const char *text, size_t len, struct json_object **out,
    char *err, size_t errlen)
{
	return yj_parse(text, len, true, out, err, errlen);
}

/* ---- emitter ---- */

/* True when s can be written as a plain scalar and read back unchanged. */
static bool
ye_plain_ok(const char *s, size_t len)
{
	struct yj_val v;
	size_t i;

	if (len == 0 || strchr("-?:,[]{}#&*!|>'\"%@`. ", s[0]) != NULL ||
	    s[len - 1] == ' ' || s[len - 1] == ':')
		return false;
	if (len == 2 && memcmp(s, "<<", 2) == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e)
			return false;
		if (c == ':' && i + 1 < len && s[i + 1] == ' ')
			return false;
		if (c == '#' && i > 0 && s[i - 1] == ' ')
			return false;
	}
	if (yj_resolve(s, len, &v) != 0)
		return false;
	return v.kind == YJ_STR;
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length, or
 * 0 when it is not valid. */
static size_t
ye_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return len;
}

/* Code points YAML lets a double-quoted scalar hold as they are. */
static bool
ye_printable(uint32_t c)
{
	return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff &&
	    c != 0x2028 && c != 0x2029) || (c >= 0xe000 && c <= 0xfffd &&
	    c != 0xfeff) || (c >= 0x10000 && c <= 0x10ffff);
}

static int
ye_quoted(struct vkc_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t c;
	int rc;

	rc = vkc_buf_puts(b, "\"");
	while (rc == 0 && i < len) {
		n = ye_utf8(p + i, len - i, &c);
		if (n == 0) {
			c = p[i];
			n = 1;
		}
		if (c == '"')
			rc = vkc_buf_puts(b, "\\\"");
		else if (c == '\\')
			rc = vkc_buf_puts(b, "\\\\");
		else if (c == '\n')
			rc = vkc_buf_puts(b, "\\n");
		else if (c == '\t')
			rc = vkc_buf_puts(b, "\\t");
		else if (c == '\r')
			rc = vkc_buf_puts(b, "\\r");
		else if (c == 0)
			rc = vkc_buf_puts(b, "\\0");
		else if (ye_printable(c))
			rc = vkc_buf_append(b, p + i, n);
		else if (c <= 0xff)
			rc = vkc_buf_printf(b, "\\x%02X", (unsigned)c);
		else if (c <= 0xffff)
			rc = vkc_buf_printf(b, "\\u%04X", (unsigned)c);
		else
			rc = vkc_buf_printf(b, "\\U%08X", (unsigned)c);
		i += n;
	}
	if (rc == 0)
		rc = vkc_buf_puts(b, "\"");
	return rc;
}

static int
ye_string(struct vkc_buf *b, const char *s, size_t len)
{
	if (ye_plain_ok(s, len))
		return vkc_buf_append(b, s, len);
	return ye_quoted(b, s, len);
}

static int
ye_double(struct vkc_buf *b, double d)
{
	char tmp[64];
	int prec;

	if (isnan(d))
		return vkc_buf_puts(b, ".nan");
	if (isinf(d))
		return vkc_buf_puts(b, d > 0 ? ".inf" : "-.inf");
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (strpbrk(tmp, ".e") == NULL)
		strcat(tmp, ".0");
	return vkc_buf_puts(b, tmp);
}

/* A scalar, or an empty collection in flow style. */
static int
ye_scalar(struct vkc_buf *b, struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return vkc_buf_puts(b, "null");
	case json_type_boolean:
		return vkc_buf_puts(b, json_object_get_boolean(o) ?
		    "true" : "false");
	case json_type_int:
		return vkc_buf_puts(b, json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN));
	case json_type_double:
		return ye_double(b, json_object_get_double(o));
	case json_type_string:
		return ye_string(b, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	case json_type_object:
		return vkc_buf_puts(b, "{}");
	case json_type_array:
		return vkc_buf_puts(b, "[]");
	}
	return -EINVAL;
}

static bool
ye_is_block(struct json_object *o)
{
	if (json_object_is_type(o, json_type_object))
		return json_object_object_length(o) > 0;
	if (json_object_is_type(o, json_type_array))
		return json_object_array_length(o) > 0;
	return false;
}

static int
ye_indent(struct vkc_buf *b, int n)
{
	static const char sp[] = "                                ";
	int rc = 0, k;

	while (rc == 0 && n > 0) {
		k = n < (int)sizeof(sp) - 1 ? n : (int)sizeof(sp) - 1;
		rc = vkc_buf_append(b, sp, (size_t)k);
		n -= k;
	}
	return rc;
}

/* A non-empty collection at indent; when inline_first, the first line's
 * indentation has been written already (after "- "). */
static int
ye_block(struct vkc_buf *b, struct json_object *o, int indent,
    bool inline_first)
{
	struct json_object_iterator it, end;
	struct json_object *v;
	const char *k;
	size_t i, n;
	bool first = true;
	int rc = 0;

	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; rc == 0 && i < n; i++) {
			v = json_object_array_get_idx(o, i);
			if (!first || !inline_first)
				rc = ye_indent(b, indent);
			first = false;
			if (rc == 0)
				rc = vkc_buf_puts(b, "- ");
			if (rc != 0)
				break;
			if (ye_is_block(v)) {
				rc = ye_block(b, v, indent + 2, true);
			} else {
				rc = ye_scalar(b, v);
				if (rc == 0)
					rc = vkc_buf_puts(b, "\n");
			}
		}
		return rc;
	}
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	while (rc == 0 && !json_object_iter_equal(&it, &end)) {
		k = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		if (!first || !inline_first)
			rc = ye_indent(b, indent);
		first = false;
		if (rc == 0)
			rc = ye_string(b, k, strlen(k));
		if (rc == 0)
			rc = vkc_buf_puts(b, ye_is_block(v) ? ":\n" : ": ");
		if (rc != 0)
			break;
		if (json_object_is_type(v, json_type_object) && ye_is_block(v)) {
			rc = ye_block(b, v, indent + 2, false);
		} else if (ye_is_block(v)) {
			rc = ye_block(b, v, indent, false);
		} else {
			rc = ye_scalar(b, v);
			if (rc == 0)
				rc = vkc_buf_puts(b, "\n");
		}
		json_object_iter_next(&it);
	}
	return rc;
}

char *
vkc_yaml_emit(struct json_object *o)
{
	struct vkc_buf b;
	int rc;

	vkc_buf_init(&b, YJ_EMIT_MAX);
	if (ye_is_block(o)) {
		rc = ye_block(&b, o, 0, false);
	} else {
		rc = ye_scalar(&b, o);
		if (rc == 0)
			rc = vkc_buf_puts(&b, "\n");
	}
	if (rc != 0) {
		vkc_buf_release(&b);
		return NULL;
	}
	return vkc_buf_detach(&b, NULL);
}
