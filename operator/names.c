/* names.c: the names vkc-operator gives things (see names.h). */
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGION_LABEL "topology.kubernetes.io/region"
/* The label before Kubernetes 1.17; read when the current one is absent. */
#define REGION_LABEL_BETA "failure-domain.beta.kubernetes.io/region"

const char *
vkc_os_token(enum vkc_os os)
{
	return os == VKC_OS_WINDOWS ? "windows" : "linux";
}

const char *
vkc_os_title(enum vkc_os os)
{
	return os == VKC_OS_WINDOWS ? "Windows" : "Linux";
}

int
vkc_os_mask(const char *os_type, unsigned *mask)
{
	if (os_type == NULL || strcmp(os_type, "Linux") == 0)
		*mask = VKC_OS_BIT(VKC_OS_LINUX);
	else if (strcmp(os_type, "Windows") == 0)
		*mask = VKC_OS_BIT(VKC_OS_WINDOWS);
	else if (strcmp(os_type, "Both") == 0)
		*mask = VKC_OS_BIT(VKC_OS_LINUX) | VKC_OS_BIT(VKC_OS_WINDOWS);
	else
		return -EINVAL;
	return 0;
}

int
vkc_location_normalize(const char *in, char *out, size_t outlen)
{
	size_t n = 0;
	char c;

	if (in == NULL || outlen == 0)
		return -EINVAL;
	for (; *in != '\0'; in++) {
		c = *in;
		if (c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return -EINVAL;
		if (n + 1 >= outlen)
			return -ENAMETOOLONG;
		out[n++] = c;
	}
	if (n == 0)
		return -EINVAL;
	out[n] = '\0';
	return 0;
}

static bool
is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A DNS-1123 label of n bytes starting at s. */
static bool
is_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63)
		return false;
	if (!is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
		return false;
	for (i = 1; i + 1 < n; i++)
		if (!is_alnum_lower(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool
vkc_is_dns1123_label(const char *s)
{
	if (s == NULL)
		return false;
	return is_label(s, strlen(s));
}

bool
vkc_is_dns1123_subdomain(const char *s)
{
	const char *p, *dot;
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	p = s;
	for (;;) {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (!is_label(p, n))
			return false;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	return true;
}

/* snprintf into out: -ENAMETOOLONG when the result does not fit. */
static int
name_print(char *out, size_t outlen, const char *a, const char *b,
    const char *c)
{
	int n;

	if (outlen == 0)
		return -ENAMETOOLONG;
	n = snprintf(out, outlen, "%s%s%s", a, b, c);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= outlen) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int
vkc_release_name(const char *connector, enum vkc_os os, const char *location,
    char *out, size_t outlen)
{
	size_t n;

	if (connector == NULL || location == NULL)
		return -EINVAL;
	/* The length is checked before the fit, so that a name that is too
	 * long to be a label is always reported as such (InvalidName). */
	n = strlen(connector) + 1 + strlen(vkc_os_token(os)) + 1 +
	    strlen(location);
	if (n > 63 || *connector == '\0' || *location == '\0') {
		if (outlen > 0)
			out[0] = '\0';
		return -EINVAL;
	}
	if (n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	snprintf(out, outlen, "%s-%s-%s", connector, vkc_os_token(os),
	    location);
	if (!vkc_is_dns1123_label(out)) {
		out[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

int
vkc_node_name(const char *release, char *out, size_t outlen)
{
	if (release == NULL)
		return -EINVAL;
	return name_print(out, outlen, "virtual-kubelet-", release, "");
}

int
vkc_crb_name(const char *ns, const char *release, char *out, size_t outlen)
{
	int rc;

	if (ns == NULL || release == NULL)
		return -EINVAL;
	rc = name_print(out, outlen, "vkc-", ns, "-");
	if (rc != 0)
		return rc;
	return name_print(out + strlen(out), outlen - strlen(out), release, "",
	    "");
}

int
vkc_tls_secret_name(const char *release, char *out, size_t outlen)
{
	if (release == NULL)
		return -EINVAL;
	return name_print(out, outlen, release, "-tls", "");
}

struct region_count {
	char name[64];
	size_t count;
};

/* The region label of a node that is not virtual, or NULL. */
static const char *
node_region(struct json_object *node)
{
	struct json_object *meta, *labels, *v;

	if (!json_object_is_type(node, json_type_object) ||
	    !json_object_object_get_ex(node, "metadata", &meta) ||
	    !json_object_is_type(meta, json_type_object) ||
	    !json_object_object_get_ex(meta, "labels", &labels) ||
	    !json_object_is_type(labels, json_type_object))
		return NULL;
	if (json_object_object_get_ex(labels, "type", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "virtual-kubelet") == 0)
		return NULL;
	if ((json_object_object_get_ex(labels, REGION_LABEL, &v) &&
	    json_object_is_type(v, json_type_string)) ||
	    (json_object_object_get_ex(labels, REGION_LABEL_BETA, &v) &&
	    json_object_is_type(v, json_type_string)))
		return json_object_get_string(v);
	return NULL;
}

int
vkc_cluster_region(struct json_object *items, char *out, size_t outlen)
{
	struct region_count *counts = NULL, *best;
	char name[64];
	const char *label;
	size_t i, j, n, nregions = 0;
	int rc;

	if (!json_object_is_type(items, json_type_array))
		return -ENOENT;
	n = json_object_array_length(items);
	if (n == 0)
		return -ENOENT;
	counts = calloc(n, sizeof(*counts));
	if (counts == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		label = node_region(json_object_array_get_idx(items, i));
		if (label == NULL ||
		    vkc_location_normalize(label, name, sizeof(name)) != 0)
			continue;
		for (j = 0; j < nregions; j++)
			if (strcmp(counts[j].name, name) == 0)
				break;
		if (j == nregions) {
			memcpy(counts[j].name, name, sizeof(name));
			nregions++;
		}
		counts[j].count++;
	}
	if (nregions == 0) {
		rc = -ENOENT;
		goto out;
	}
	best = &counts[0];
	for (j = 1; j < nregions; j++)
		if (counts[j].count > best->count ||
		    (counts[j].count == best->count &&
		    strcmp(counts[j].name, best->name) < 0))
			best = &counts[j];
	if (strlen(best->name) >= outlen) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	memcpy(out, best->name, strlen(best->name) + 1);
	rc = 0;
out:
	free(counts);
	return rc;
}
