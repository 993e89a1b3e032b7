/* test_yamljson.c: YAML → json-c typing, limits, and the emitter. */
#include "check.h"
#include "jsonutil.h"
#include "yamljson.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct json_object *
parse(const char *s)
{
	struct json_object *o = NULL;
	char err[256];

	if (vkc_yaml_parse(s, strlen(s), &o, err, sizeof(err)) != 0) {
		printf("unexpected parse error: %s\n", err);
		return NULL;
	}
	return o;
}

/* Parses s and checks that it fails with a message containing want. */
static void
check_fails(const char *s, const char *want)
{
	struct json_object *o = NULL;
	char err[256] = "";
	int rc;

	rc = vkc_yaml_parse(s, strlen(s), &o, err, sizeof(err));
	CHECK_INT(rc, -EINVAL);
	CHECK(o == NULL);
	if (strstr(err, want) == NULL)
		printf("error '%s' lacks '%s'\n", err, want);
	CHECK(strstr(err, want) != NULL);
}

/* The JSON text of the YAML value "v: <text>". */
static void
check_value(const char *text, const char *json)
{
	char doc[256];
	struct json_object *o;

	snprintf(doc, sizeof(doc), "v: %s\n", text);
	o = parse(doc);
	CHECK(o != NULL);
	if (o == NULL)
		return;
	if (strcmp(vkc_json_str(vkc_json_get(o, "v")), json) != 0)
		printf("'%s' read as %s, want %s\n", text,
		    vkc_json_str(vkc_json_get(o, "v")), json);
	CHECK_STR(vkc_json_str(vkc_json_get(o, "v")), json);
	json_object_put(o);
}

TEST(types_null_bool)
{
	check_value("", "null");
	check_value("~", "null");
	check_value("null", "null");
	check_value("NULL", "null");
	check_value("true", "true");
	check_value("True", "true");
	check_value("FALSE", "false");
	check_value("yes", "true");
	check_value("No", "false");
	check_value("on", "true");
	check_value("OFF", "false");
	check_value("y", "true");
	check_value("\"yes\"", "\"yes\"");
	check_value("'true'", "\"true\"");
	check_value("!!str true", "\"true\"");
	check_value("tRUE", "\"tRUE\"");
	check_value("nil", "\"nil\"");
}

TEST(types_numbers)
{
	check_value("42", "42");
	check_value("-17", "-17");
	check_value("+5", "5");
	check_value("0x1F", "31");
	check_value("0o17", "15");
	check_value("017", "15");
	check_value("0b101", "5");
	check_value("1_000", "1000");
	check_value("0", "0");
	check_value("9223372036854775807", "9223372036854775807");
	check_value("-9223372036854775808", "-9223372036854775808");
	check_value("18446744073709551615", "18446744073709551615");
	check_value("0xFFFFFFFFFFFFFFFFFF", "\"0xFFFFFFFFFFFFFFFFFF\"");
	check_value("1.5", "1.5");
	check_value("-.5", "-0.5");
	check_value("1e3", "1000.0");
	check_value("08", "8.0");
	check_value("1e999", "\"1e999\"");
	check_value("'42'", "\"42\"");
	check_value("\"0x1F\"", "\"0x1F\"");
	check_value("1.2.3", "\"1.2.3\"");
	check_value("12:30", "\"12:30\"");
	check_value("0x", "\"0x\"");
	check_value("+", "\"+\"");
	check_value("1Gi", "\"1Gi\"");
	check_value("2024-01-02", "\"2024-01-02\"");
}

TEST(types_special_floats)
{
	struct json_object *o;

	o = parse("a: .inf\nb: -.Inf\nc: .NaN\nd: +.INF\n");
	CHECK(o != NULL);
	CHECK(isinf(json_object_get_double(vkc_json_get(o, "a"))));
	CHECK(json_object_get_double(vkc_json_get(o, "a")) > 0);
	CHECK(json_object_get_double(vkc_json_get(o, "b")) < 0);
	CHECK(isnan(json_object_get_double(vkc_json_get(o, "c"))));
	CHECK(isinf(json_object_get_double(vkc_json_get(o, "d"))));
	json_object_put(o);
}

TEST(block_scalars_are_strings)
{
	struct json_object *o;

	o = parse("a: |\n  123\nb: >-\n  true\n  x\nc: |-\n  null\n");
	CHECK(o != NULL);
	CHECK_STR(vkc_json_get_string(o, "a", NULL), "123\n");
	CHECK_STR(vkc_json_get_string(o, "b", NULL), "true x");
	CHECK_STR(vkc_json_get_string(o, "c", NULL), "null");
	json_object_put(o);
}

TEST(keys_are_strings)
{
	struct json_object *o;

	o = parse("1: a\ntrue: b\n~: c\n\"q\": d\n");
	CHECK(o != NULL);
	CHECK_STR(vkc_json_get_string(o, "1", NULL), "a");
	CHECK_STR(vkc_json_get_string(o, "true", NULL), "b");
	CHECK_STR(vkc_json_get_string(o, "~", NULL), "c");
	CHECK_STR(vkc_json_get_string(o, "q", NULL), "d");
	json_object_put(o);
	check_fails("? [a, b]\n: c\n", "keys must be scalars");
	check_fails("{a: 1}: c\n", "keys must be scalars");
}

TEST(duplicate_keys)
{
	check_fails("a: 1\nb: 2\na: 3\n", "duplicate key 'a'");
	check_fails("x:\n  y: 1\n  y: 1\n", "line 3");
	check_fails("{a: 1, a: 2}", "duplicate key");
}

TEST(anchors_aliases_merge)
{
	struct json_object *o;

	o = parse("base: &b {image: nginx, port: 80}\n"
	    "copy: *b\n"
	    "list: [&s str, *s]\n"
	    "merged:\n  <<: *b\n  port: 8080\n"
	    "*s : aliased-key\n");
	CHECK(o != NULL);
	CHECK_STR(vkc_json_get_string(o, "copy.image", NULL), "nginx");
	CHECK_INT(vkc_json_get_int(o, "copy.port", 0), 80);
	CHECK_STR(json_object_get_string(json_object_array_get_idx(
	    vkc_json_get(o, "list"), 1)), "str");
	CHECK_STR(vkc_json_get_string(o, "merged.image", NULL), "nginx");
	CHECK_INT(vkc_json_get_int(o, "merged.port", 0), 8080);
	CHECK_STR(vkc_json_get_string(o, "str", NULL), "aliased-key");
	/* copies are independent of the original */
	json_object_object_del(vkc_json_get(o, "copy"), "image");
	CHECK_STR(vkc_json_get_string(o, "base.image", NULL), "nginx");
	json_object_put(o);

	check_fails("a: *nope\n", "unknown anchor 'nope'");
	check_fails("a: &x [*x]\n", "unknown anchor");
	check_fails("a: {<<: 5}\n", "merge key");
}

TEST(alias_bomb)
{
	const char *bomb =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";

	check_fails(bomb, "aliases expand too much");
}

TEST(depth_limit)
{
	char *s;
	struct json_object *o = NULL;
	char err[256];
	int i, rc;

	s = malloc(1000);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	for (i = 0; i < 300; i++)
		s[i] = '[';
	for (i = 300; i < 600; i++)
		s[i] = ']';
	s[600] = '\0';
	rc = vkc_yaml_parse(s, 600, &o, err, sizeof(err));
	CHECK_INT(rc, -EINVAL);
	CHECK(strstr(err, "nested deeper") != NULL);
	/* 100 levels are fine */
	memset(s, 0, 1000);
	for (i = 0; i < 100; i++)
		s[i] = '[';
	for (i = 100; i < 200; i++)
		s[i] = ']';
	rc = vkc_yaml_parse(s, 200, &o, err, sizeof(err));
	CHECK_INT(rc, 0);
	json_object_put(o);
	free(s);
}

TEST(multi_document)
{
	const char *s = "---\na: 1\n---\n---\n# only a comment\n---\n- x\n...\n"
	    "---\nb: 2\n";
	struct json_object *o = NULL;
	char err[256];

	CHECK_INT(vkc_yaml_parse_all(s, strlen(s), &o, err, sizeof(err)), 0);
	CHECK(json_object_is_type(o, json_type_array));
	CHECK_INT(json_object_array_length(o), 3);
	CHECK_INT(vkc_json_get_int(json_object_array_get_idx(o, 0), "a", 0), 1);
	CHECK(json_object_is_type(json_object_array_get_idx(o, 1),
	    json_type_array));
	CHECK_INT(vkc_json_get_int(json_object_array_get_idx(o, 2), "b", 0), 2);
	json_object_put(o);

	/* parse takes the first document */
	o = parse(s);
	CHECK_INT(vkc_json_get_int(o, "a", 0), 1);
	json_object_put(o);

	/* an error in a later document fails parse_all */
	s = "a: 1\n---\nb: [\n";
	o = NULL;
	CHECK_INT(vkc_yaml_parse_all(s, strlen(s), &o, err, sizeof(err)),
	    -EINVAL);
	CHECK(o == NULL);
}

TEST(empty_and_errors)
{
	struct json_object *o = (struct json_object *)1;
	char err[256];

	CHECK_INT(vkc_yaml_parse("", 0, &o, err, sizeof(err)), 0);
	CHECK(o == NULL);
	CHECK_INT(vkc_yaml_parse("# nothing\n", 10, &o, err, sizeof(err)), 0);
	CHECK(o == NULL);
	CHECK_INT(vkc_yaml_parse_all("", 0, &o, err, sizeof(err)), 0);
	CHECK_INT(json_object_array_length(o), 0);
	json_object_put(o);

	check_fails("a: b: c\n", "line 1 column");
	check_fails("a:\n\t- b\n", "line 2");
	check_fails("a: \"unterminated\n", "line");
	check_fails("a: [1, 2\n", "line");
	/* invalid UTF-8 */
	check_fails("a: \xff\xfe\xfd\n", "");
	/* a NUL byte in a key */
	check_fails("\"a\\0b\": 1\n", "NUL");
}

TEST(tags)
{
	struct json_object *o;

	o = parse("a: !!int \"12\"\nb: !custom 12\nc: !custom \"12\"\n"
	    "d: !!binary aGVsbG8=\ne: ! 12\nf: !!map {x: 1}\n");
	CHECK(o != NULL);
	CHECK_INT(vkc_json_get_int(o, "a", 0), 12);
	CHECK_INT(vkc_json_get_int(o, "b", 0), 12);
	CHECK_STR(vkc_json_get_string(o, "c", NULL), "12");
	CHECK_STR(vkc_json_get_string(o, "d", NULL), "aGVsbG8=");
	CHECK_STR(vkc_json_get_string(o, "e", NULL), "12");
	CHECK_INT(vkc_json_get_int(o, "f.x", 0), 1);
	json_object_put(o);
}

TEST(kubernetes_manifest)
{
	const char *s =
	    "apiVersion: apps/v1\n"
	    "kind: Deployment\n"
	    "metadata:\n"
	    "  name: web\n"
	    "  labels: {app: web, tier: \"1\"}\n"
	    "spec:\n"
	    "  replicas: 3\n"
	    "  template:\n"
	    "    spec:\n"
	    "      containers:\n"
	    "      - name: nginx\n"
	    "        image: nginx:1.25\n"
	    "        args: [\"--port\", \"8080\"]\n"
	    "        env:\n"
	    "        - name: DEBUG\n"
	    "          value: \"true\"\n"
	    "        ports:\n"
	    "        - containerPort: 80\n";
	struct json_object *o, *c;

	o = parse(s);
	CHECK(o != NULL);
	CHECK_INT(vkc_json_get_int(o, "spec.replicas", 0), 3);
	CHECK_STR(vkc_json_get_string(o, "metadata.labels.tier", NULL), "1");
	c = json_object_array_get_idx(vkc_json_get(o,
	    "spec.template.spec.containers"), 0);
	CHECK_STR(vkc_json_get_string(c, "image", NULL), "nginx:1.25");
	CHECK_STR(vkc_json_get_string(json_object_array_get_idx(
	    vkc_json_get(c, "env"), 0), "value", NULL), "true");
	json_object_put(o);
}

/* Emits j (JSON text), parses the YAML back and compares. */
static void
check_round_trip(const char *json)
{
	struct json_object *a, *b = NULL;
	char err[256], *y;

	a = vkc_json_parse(json, strlen(json), err, sizeof(err));
	CHECK(a != NULL || strcmp(json, "null") == 0);
	y = vkc_yaml_emit(a);
	CHECK(y != NULL);
	if (y == NULL)
		goto out;
	if (vkc_yaml_parse(y, strlen(y), &b, err, sizeof(err)) != 0) {
		printf("cannot re-read:\n%s\nerror: %s\n", y, err);
		CHECK(0);
	} else if (!vkc_json_equal(a, b)) {
		printf("round trip of %s gave\n%s\nwhich reads as %s\n", json,
		    y, vkc_json_str(b));
		CHECK(0);
	}
out:
	free(y);
	json_object_put(a);
	json_object_put(b);
}

TEST(emit_round_trip)
{
	check_round_trip("null");
	check_round_trip("\"plain\"");
	check_round_trip("{}");
	check_round_trip("[]");
	check_round_trip("{\"a\":1,\"b\":\"two\",\"c\":true,\"d\":null,"
	    "\"e\":1.5,\"f\":-0.25,\"g\":1e300}");
	check_round_trip("{\"s\":[\"true\",\"false\",\"yes\",\"no\",\"on\","
	    "\"off\",\"y\",\"n\",\"null\",\"~\",\"\",\"123\",\"0x1F\","
	    "\"017\",\"1.5\",\"1e3\",\".inf\",\".nan\",\"-\",\"- x\","
	    "\"a: b\",\"a #b\",\"#x\",\"@x\",\"`x\",\"*x\",\"&x\",\"!x\","
	    "\"%x\",\"|x\",\">x\",\"?x\",\"[x\",\"]x\",\"{x\",\"}x\","
	    "\",x\",\"'x\",\"\\\"x\",\" lead\",\"trail \",\"end:\","
	    "\"---\",\"...\",\"<<\",\"x:y\",\"a#b\"]}");
	check_round_trip("{\"m\":\"line1\\nline2\\n\",\"t\":\"tab\\there\","
	    "\"u\":\"h\\u00e9llo \\u2603 \\ud83d\\ude00\","
	    "\"c\":\"\\u0001\\u007f\\u0085\\u2028\\ufeff\","
	    "\"q\":\"back\\\\slash \\\"quoted\\\"\"}");
	check_round_trip("{\"true\":1,\"123\":2,\"\":3,\"a: b\":4,\"<<\":5,"
	    "\"- x\":6}");
	check_round_trip("{\"a\":{\"b\":{\"c\":[1,[2,3],{\"d\":[]},{},"
	    "[{\"e\":{\"f\":null}}]]}},\"g\":[[[\"deep\"]]]}");
	check_round_trip("[{\"name\":\"x\",\"ports\":[{\"containerPort\":80}]},"
	    "[],{},null,\"s\"]");
	check_round_trip("{\"big\":9223372036854775807,"
	    "\"neg\":-9223372036854775808,\"u\":18446744073709551615,"
	    "\"f\":100000000000000000000.0,\"z\":0.1,\"w\":3.0}");
}

TEST(emit_format)
{
	struct json_object *o;
	char *y;
	const char *j = "{\"a\":{\"b\":\"true\"},\"l\":[{\"x\":1,\"y\":2},3],"
	    "\"e\":[]}";

	o = vkc_json_parse(j, strlen(j), NULL, 0);
	CHECK(o != NULL);
	y = vkc_yaml_emit(o);
	CHECK_STR(y, "a:\n  b: \"true\"\nl:\n- x: 1\n  \"y\": 2\n- 3\ne: []\n");
	free(y);
	json_object_put(o);

	o = json_object_new_double(NAN);
	y = vkc_yaml_emit(o);
	CHECK_STR(y, ".nan\n");
	free(y);
	json_object_put(o);
}

int
main(void)
{
	RUN(types_null_bool);
	RUN(types_numbers);
	RUN(types_special_floats);
	RUN(block_scalars_are_strings);
	RUN(keys_are_strings);
	RUN(duplicate_keys);
	RUN(anchors_aliases_merge);
	RUN(alias_bomb);
	RUN(depth_limit);
	RUN(multi_document);
	RUN(empty_and_errors);
	RUN(tags);
	RUN(kubernetes_manifest);
	RUN(emit_round_trip);
	RUN(emit_format);
	CHECK_DONE();
}
