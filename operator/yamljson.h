/*
 * yamljson.h: YAML (1.1, as libyaml reads it) to json-c trees.
 *
 * Kubernetes YAML is JSON-shaped, so each document becomes a json-c value:
 * mappings → objects (keys must be scalars), sequences → arrays, plain
 * scalars typed as Kubernetes does (null/~/empty, true/false, integers,
 * floats, everything else a string), quoted and block scalars → strings.
 * Anchors and aliases are resolved, with a limit on expansion; nesting is
 * limited to 128 levels; duplicate keys are an error. Tags other than the
 * core ones are ignored. Input size is limited by the caller. The exact
 * typing rules (YAML 1.1 as kubectl reads it) are listed in yamljson.c.
 */
#ifndef VKC_YAMLJSON_H
#define VKC_YAMLJSON_H

#include <json-c/json.h>
#include <stddef.h>

/* Parses the first (or only) document; later documents are not read. An
 * empty input gives a JSON null (*out == NULL).
 * Returns 0 and *out (caller puts it), or -EINVAL (-ENOMEM when out of
 * memory) with a one-line reason ("line 3 column 5: mapping values are not
 * allowed here") in err. */
int vkc_yaml_parse(const char *text, size_t len, struct json_object **out,
    char *err, size_t errlen);

/* Parses every document of a stream ("---" separated) into a JSON array;
 * empty documents are skipped. Same return convention. */
int vkc_yaml_parse_all(const char *text, size_t len, struct json_object **out,
    char *err, size_t errlen);

/* Writes a json-c value as block-style YAML (strings quoted when they
 * would otherwise read back as another type). Returns a malloc'd string
 * or NULL on allocation failure. */
char *vkc_yaml_emit(struct json_object *o);

#endif
