/*
 * fuzz_yaml.c: the YAML reader on arbitrary bytes, and the emitter's round
 * trip: whatever parses must emit, re-read, and compare equal.
 */
#include "jsonutil.h"
#include "yamljson.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *all = NULL, *first = NULL, *back = NULL;
	char err[256], *y;

	if (size > ((size_t)1 << 20))
		return 0;
	if (vkc_yaml_parse((const char *)data, size, &first, err,
	    sizeof(err)) == 0)
		json_object_put(first);
	if (vkc_yaml_parse_all((const char *)data, size, &all, err,
	    sizeof(err)) != 0)
		return 0;
	y = vkc_yaml_emit(all);
	if (y == NULL)
		abort();
	if (vkc_yaml_parse(y, strlen(y), &back, err, sizeof(err)) != 0) {
		fprintf(stderr, "emitted YAML does not parse: %s\n%s\n", err, y);
		abort();
	}
	/* NaN never equals itself */
	if (strstr(y, ".nan") == NULL && !vkc_json_equal(all, back)) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n%s\n",
		    vkc_json_str(all), y, vkc_json_str(back));
		abort();
	}
	free(y);
	json_object_put(back);
	json_object_put(all);
	return 0;
}
