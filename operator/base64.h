/*
 * base64.h: standard base64 (RFC 4648, padded), as Kubernetes keeps Secret
 * data and kubeconfig *-data fields.
 */
#ifndef VKC_BASE64_H
#define VKC_BASE64_H

#include <stddef.h>

/* Encodes len bytes, without line breaks. Returns a malloc'd string the
 * caller frees, or NULL when out of memory or len is over 1 GiB. */
char *vkc_base64_encode(const void *data, size_t len);

/* Decodes len characters as Go's encoding/json reads []byte: CR and LF are
 * ignored, anything else out of the alphabet, misplaced padding or a
 * partial quad is -EINVAL. On 0, *out is malloc'd (NUL-terminated, so text
 * can be used as a C string) with *outlen bytes; the caller frees it. */
int vkc_base64_decode(const char *in, size_t len, char **out, size_t *outlen);

#endif
