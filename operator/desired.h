/*
 * desired.h: the children a VirtualKubeletConnector asks for, as data.
 *
 * Pure functions from the connector object (as read from the API) to the
 * objects the operator server-side-applies (DESIGN.md §3, §4). The builder
 * applies the CRD's defaults itself, so a connector with an empty spec (as
 * `kubectl vkc render` sees it, with no apiserver to default it) gives the
 * same children as the defaulted one. Every returned object is new and
 * belongs to the caller (json_object_put); NULL means the connector has no
 * metadata.name (or memory ran out). A wrong-typed spec field is read as
 * absent (vkc_desired_validate reports it). metadata.namespace defaults to
 * "default"; without metadata.uid the ownerReference is left out.
 */
#ifndef VKC_DESIRED_H
#define VKC_DESIRED_H

#include <json-c/json.h>

#include "names.h"

#define VKC_GROUP "connectors.virtual-kubelet.io"
#define VKC_API_VERSION VKC_GROUP "/v1alpha1"
#define VKC_KIND "VirtualKubeletConnector"
#define VKC_PLURAL "virtualkubeletconnectors"
#define VKC_FIELD_MANAGER "vkc-operator"
#define VKC_FINALIZER VKC_GROUP "/cleanup"
#define VKC_CREDENTIALS_HASH_ANNOTATION VKC_GROUP "/credentials-hash"
#define VKC_LABEL_NAME VKC_GROUP "/name"
#define VKC_LABEL_NAMESPACE VKC_GROUP "/namespace"
#define VKC_LABEL_OS VKC_GROUP "/os"
#define VKC_MANAGED_BY_SELECTOR "app.kubernetes.io/managed-by=vkc-operator"

#define VKC_DEFAULT_IMAGE_REPOSITORY \
	"mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet"
#define VKC_DEFAULT_IMAGE_TAG "1.6.4"
#define VKC_DEFAULT_CLUSTER_ROLE "virtual-kubelet-connector"

/* One per-OS release of a connector and the names of its children. */
struct vkc_release {
	enum vkc_os os;
	char name[64];		/* <connector>-<os>-<location> */
	char node[80];		/* virtual-kubelet-<release> */
	char tls_secret[68];	/* <release>-tls */
	char crb[330];		/* vkc-<namespace>-<release> */
};

/* Fills r. Returns 0, or -EINVAL when the release name is not a DNS-1123
 * label (the InvalidName case) or the ClusterRoleBinding name is too long. */
int vkc_release_init(struct vkc_release *r, const char *connector_name,
    const char *ns, enum vkc_os os, const char *location);

struct vkc_desired_ctx {
	struct json_object *connector;	/* metadata.name/namespace/uid, spec */
	const char *location;		/* resolved and normalised */
	const char *credentials_hash;	/* hex, or NULL when none is used */
};

/* ServiceAccount <release>, with labels and a controller ownerReference. */
struct json_object *vkc_desired_service_account(
    const struct vkc_desired_ctx *ctx, const struct vkc_release *r);

/* Deployment <release>, exactly as DESIGN.md §4. */
struct json_object *vkc_desired_deployment(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r);

/* Secret <release>-tls of type kubernetes.io/tls holding cert and key. */
struct json_object *vkc_desired_tls_secret(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r, const char *cert_pem, const char *key_pem);

/* ClusterRoleBinding vkc-<ns>-<release> to spec.rbac.clusterRoleName for
 * the ServiceAccount; labels only (a namespaced owner cannot own it). */
struct json_object *vkc_desired_cluster_role_binding(
    const struct vkc_desired_ctx *ctx, const struct vkc_release *r);

/* The status.scheduling[] entry for r: {osType, nodeName, nodeSelector,
 * tolerations} a workload needs to run on the virtual node. */
struct json_object *vkc_desired_scheduling(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r);

/* The common labels of r's children (a new object). */
struct json_object *vkc_desired_labels(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r);

/* Checks what the schema cannot: returns 0 when the spec is usable, or
 * -EINVAL with a CamelCase reason ("InvalidName", "InvalidLocation",
 * "InvalidNetwork", ...) and a one-line message that says what to fix. */
int vkc_desired_validate(struct json_object *connector, const char *location,
    char *reason, size_t reasonlen, char *msg, size_t msglen);

/* SHA-256 (hex, 64 chars + NUL) over the credential values the Deployment
 * uses: the Secret's data for the keys it references (NULL secret, or no
 * spec.credentials.secretRef: none; tenantId / subscriptionId only when
 * spec does not set them) and spec.credentials.managedIdentityClientId.
 * Stable under key order. Returns 0 (out filled) or a negative errno. */
int vkc_credentials_hash(struct json_object *connector,
    struct json_object *secret, char out[65]);

#endif
