/*
 * jsonutil.h: small helpers over json-c for reading Kubernetes objects.
 *
 * Paths are dot-separated member names ("spec.image.tag"); a dot inside
 * a name is escaped with a backslash ("data.tls\\.crt").
 * Getters never allocate: returned strings and objects belong to the tree.
 */
#ifndef VKC_JSONUTIL_H
#define VKC_JSONUTIL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* The member at path, or NULL when a step is missing or not an object. */
struct json_object *vkc_json_get(struct json_object *o, const char *path);

/* The string at path, or def when missing or not a string. */
const char *vkc_json_get_string(struct json_object *o, const char *path,
    const char *def);

/* The integer at path, or def when missing or not an integer. */
int64_t vkc_json_get_int(struct json_object *o, const char *path, int64_t def);

/* The boolean at path, or def when missing or not a boolean. */
bool vkc_json_get_bool(struct json_object *o, const char *path, bool def);

/* Sets o[path] = v, creating intermediate objects; takes v's reference.
 * Returns 0, or -EINVAL when a step exists and is not an object. */
int vkc_json_set(struct json_object *o, const char *path, struct json_object *v);

/* Parses len bytes of JSON text. Returns the tree (caller puts it) or NULL;
 * on NULL, err (if given) holds a one-line reason. */
struct json_object *vkc_json_parse(const char *text, size_t len, char *err,
    size_t errlen);

/* Compact serialisation; the string belongs to o. */
const char *vkc_json_str(struct json_object *o);

/* True when a and b are equal trees (member order ignored). */
bool vkc_json_equal(struct json_object *a, struct json_object *b);

/* True when every member of want is in have with an equal value,
 * recursively: objects may have extra members, arrays must have the same
 * length with each element a subset. This is how a desired object is
 * compared with the live one, whose extra fields the apiserver defaulted. */
bool vkc_json_subset(struct json_object *want, struct json_object *have);

#endif
