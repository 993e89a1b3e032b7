/*
 * names.h: the names vkc-operator gives things (DESIGN.md §3), compatible
 * with what `az aks install-connector` created. Pure functions, no I/O.
 */
#ifndef VKC_NAMES_H
#define VKC_NAMES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

enum vkc_os { VKC_OS_LINUX = 0, VKC_OS_WINDOWS = 1 };
#define VKC_OS_COUNT 2
#define VKC_OS_BIT(os) (1u << (os))

/* "linux" / "windows": the os token in names and labels. */
const char *vkc_os_token(enum vkc_os os);
/* "Linux" / "Windows": the --os argument and spec spelling. */
const char *vkc_os_title(enum vkc_os os);

/* spec.osType ("Linux", "Windows", "Both"; NULL means the default Linux)
 * to a mask of VKC_OS_BIT()s. Returns 0 or -EINVAL. */
int vkc_os_mask(const char *os_type, unsigned *mask);

/* Normalises a location as az did: spaces removed, lower-cased
 * ("East US" → "eastus"). Returns 0, -EINVAL when the result is empty or
 * holds anything but [a-z0-9], -ENAMETOOLONG when it does not fit. */
int vkc_location_normalize(const char *in, char *out, size_t outlen);

/* True when s is a DNS-1123 label: 1..63 of [a-z0-9-], alphanumeric at
 * both ends. */
bool vkc_is_dns1123_label(const char *s);

/* True when s is a DNS-1123 subdomain (≤253, dot-separated labels). */
bool vkc_is_dns1123_subdomain(const char *s);

/* <connector>-<os>-<location>. Returns 0, or -EINVAL when the result is
 * not a DNS-1123 label (the InvalidName case), -ENAMETOOLONG when it does
 * not fit out. */
int vkc_release_name(const char *connector, enum vkc_os os,
    const char *location, char *out, size_t outlen);

/* virtual-kubelet-<release>. */
int vkc_node_name(const char *release, char *out, size_t outlen);

/* vkc-<namespace>-<release> (the ClusterRoleBinding). */
int vkc_crb_name(const char *ns, const char *release, char *out, size_t outlen);

/* <release>-tls. */
int vkc_tls_secret_name(const char *release, char *out, size_t outlen);

/* The cluster's region: the most common topology.kubernetes.io/region
 * label among the nodes in items (a JSON array of Node objects) that are
 * not virtual (label type=virtual-kubelet); ties go to the name that sorts
 * first. Normalised into out. Returns 0, or -ENOENT when no node has one. */
int vkc_cluster_region(struct json_object *items, char *out, size_t outlen);

#endif
