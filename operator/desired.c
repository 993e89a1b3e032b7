/*
 * desired.c: a connector's children as data (see desired.h).
 *
 * Every object holds only the fields the operator owns, spelled as the
 * apiserver stores them (protocol "TCP", hostPath types, readOnly true,
 * fieldRef apiVersion "v1"), with members in a fixed order, so that an
 * object read back from the API equals the desired one on those fields.
 */
#include "desired.h"

#include "base64.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "jsonutil.h"

#ifndef VKC_VERSION
#define VKC_VERSION "0.0.0"
#endif

#define DEFAULT_PULL_POLICY "IfNotPresent"
#define DEFAULT_TAINT_KEY "virtual-kubelet.io/provider"
#define DEFAULT_TAINT_VALUE "azure"
#define DEFAULT_TAINT_EFFECT "NoSchedule"
#define KUBELET_PORT 10250
#define TLS_DIR "/etc/virtual-kubelet"
#define AZURE_JSON_HOST "/etc/kubernetes/azure.json"
#define AZURE_JSON_POD "/etc/aks/azure.json"
#define CERTS_DIR "/etc/kubernetes/certs"
#define HASH_INPUT_MAX (1024 * 1024)

/*
 * A builder: every helper takes it and records an allocation failure, so
 * that an object is built in straight-line code and checked once.
 */
struct jb {
	int err;
};

static struct json_object *
jobj(struct jb *b)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		b->err = 1;
	return o;
}

static struct json_object *
jarr(struct jb *b)
{
	struct json_object *o = json_object_new_array();

	if (o == NULL)
		b->err = 1;
	return o;
}

static struct json_object *
jstr(struct jb *b, const char *s)
{
	struct json_object *o = json_object_new_string(s);

	if (o == NULL)
		b->err = 1;
	return o;
}

static struct json_object *
jint(struct jb *b, int64_t v)
{
	struct json_object *o = json_object_new_int64(v);

	if (o == NULL)
		b->err = 1;
	return o;
}

static struct json_object *
jbool(struct jb *b, int v)
{
	struct json_object *o = json_object_new_boolean(v);

	if (o == NULL)
		b->err = 1;
	return o;
}

/* o[k] = v; takes v's reference whatever happens. */
static void
jadd(struct jb *b, struct json_object *o, const char *k, struct json_object *v)
{
	if (o == NULL || v == NULL || json_object_object_add(o, k, v) != 0) {
		json_object_put(v);
		b->err = 1;
	}
}

static void
jadd_str(struct jb *b, struct json_object *o, const char *k, const char *s)
{
	jadd(b, o, k, jstr(b, s));
}

/* a += v; takes v's reference whatever happens. */
static void
jpush(struct jb *b, struct json_object *a, struct json_object *v)
{
	if (a == NULL || v == NULL || json_object_array_add(a, v) != 0) {
		json_object_put(v);
		b->err = 1;
	}
}

static struct json_object *
jdone(struct jb *b, struct json_object *o)
{
	if (b->err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The string at path (from the connector's root); def when it is absent,
 * not a string, or empty. */
static const char *
get_str(struct json_object *connector, const char *path, const char *def)
{
	const char *s = vkc_json_get_string(connector, path, NULL);

	return s == NULL || *s == '\0' ? def : s;
}

/* As get_str, but an empty string is a value (the taint's value). */
static const char *
get_str_raw(struct json_object *connector, const char *path, const char *def)
{
	return vkc_json_get_string(connector, path, def);
}

static const char *
connector_ns(struct json_object *connector)
{
	/* A connector read from the API always has one; `render` may not. */
	return get_str(connector, "metadata.namespace", "default");
}

struct json_object *
vkc_desired_labels(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r)
{
	struct jb b = { 0 };
	struct json_object *l;
	const char *name;

	name = get_str(ctx->connector, "metadata.name", NULL);
	if (name == NULL)
		return NULL;
	l = jobj(&b);
	jadd_str(&b, l, "app.kubernetes.io/name", "virtual-kubelet");
	jadd_str(&b, l, "app.kubernetes.io/instance", r->name);
	jadd_str(&b, l, "app.kubernetes.io/managed-by", "vkc-operator");
	jadd_str(&b, l, VKC_LABEL_NAME, name);
	jadd_str(&b, l, VKC_LABEL_NAMESPACE, connector_ns(ctx->connector));
	jadd_str(&b, l, VKC_LABEL_OS, vkc_os_token(r->os));
	return jdone(&b, l);
}

/*
 * metadata {name, namespace, labels, ownerReferences} of a child. The
 * ownerReference needs the connector's uid; without one (a connector that
 * was never stored, as `render` sees it) it is left out.
 */
static struct json_object *
child_meta(struct jb *b, const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r, const char *name, int namespaced)
{
	struct json_object *m, *refs, *ref, *labels;
	const char *uid;

	m = jobj(b);
	jadd_str(b, m, "name", name);
	if (namespaced)
		jadd_str(b, m, "namespace", connector_ns(ctx->connector));
	labels = vkc_desired_labels(ctx, r);
	if (labels == NULL)
		b->err = 1;
	jadd(b, m, "labels", labels);
	uid = get_str(ctx->connector, "metadata.uid", NULL);
	if (namespaced && uid != NULL) {
		refs = jarr(b);
		ref = jobj(b);
		jadd_str(b, ref, "apiVersion", VKC_API_VERSION);
		jadd_str(b, ref, "kind", VKC_KIND);
		jadd_str(b, ref, "name",
		    get_str(ctx->connector, "metadata.name", ""));
		jadd_str(b, ref, "uid", uid);
		jadd(b, ref, "controller", jbool(b, 1));
		jadd(b, ref, "blockOwnerDeletion", jbool(b, 1));
		jpush(b, refs, ref);
		jadd(b, m, "ownerReferences", refs);
	}
	return m;
}

/* {apiVersion, kind, metadata}: the start of every child. */
static struct json_object *
child_new(struct jb *b, const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r, const char *api_version, const char *kind,
    const char *name, int namespaced)
{
	struct json_object *o;

	o = jobj(b);
	jadd_str(b, o, "apiVersion", api_version);
	jadd_str(b, o, "kind", kind);
	jadd(b, o, "metadata", child_meta(b, ctx, r, name, namespaced));
	return o;
}

static int
ctx_ok(const struct vkc_desired_ctx *ctx, const struct vkc_release *r)
{
	return ctx != NULL && r != NULL && r->name[0] != '\0' &&
	    get_str(ctx->connector, "metadata.name", NULL) != NULL;
}

struct json_object *
vkc_desired_service_account(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r)
{
	struct jb b = { 0 };
	struct json_object *o;

	if (!ctx_ok(ctx, r))
		return NULL;
	o = child_new(&b, ctx, r, "v1", "ServiceAccount", r->name, 1);
	return jdone(&b, o);
}

static void
env_value(struct jb *b, struct json_object *env, const char *name,
    const char *value)
{
	struct json_object *e;

	e = jobj(b);
	jadd_str(b, e, "name", name);
	/* The apiserver drops an empty value; so do we. */
	if (*value != '\0')
		jadd_str(b, e, "value", value);
	jpush(b, env, e);
}

/* name=value when value is set (non-NULL, non-empty). */
static void
env_opt(struct jb *b, struct json_object *env, const char *name,
    const char *value)
{
	if (value != NULL && *value != '\0')
		env_value(b, env, name, value);
}

static void
env_secret(struct jb *b, struct json_object *env, const char *name,
    const char *secret, const char *key, int optional)
{
	struct json_object *e, *from, *ref;

	e = jobj(b);
	jadd_str(b, e, "name", name);
	from = jobj(b);
	ref = jobj(b);
	jadd_str(b, ref, "name", secret);
	jadd_str(b, ref, "key", key);
	if (optional)
		jadd(b, ref, "optional", jbool(b, 1));
	jadd(b, from, "secretKeyRef", ref);
	jadd(b, e, "valueFrom", from);
	jpush(b, env, e);
}

static void
env_field(struct jb *b, struct json_object *env, const char *name,
    const char *path)
{
	struct json_object *e, *from, *ref;

	e = jobj(b);
	jadd_str(b, e, "name", name);
	from = jobj(b);
	ref = jobj(b);
	jadd_str(b, ref, "apiVersion", "v1");
	jadd_str(b, ref, "fieldPath", path);
	jadd(b, from, "fieldRef", ref);
	jadd(b, e, "valueFrom", from);
	jpush(b, env, e);
}

static const struct {
	const char *field;
	const char *env;
} network_env[] = {
	{ "spec.network.vnetName", "ACI_VNET_NAME" },
	{ "spec.network.vnetResourceGroup", "ACI_VNET_RESOURCE_GROUP" },
	{ "spec.network.subnetName", "ACI_SUBNET_NAME" },
	{ "spec.network.subnetCidr", "ACI_SUBNET_CIDR" },
	{ "spec.network.clusterCidr", "CLUSTER_CIDR" },
	{ "spec.network.kubeDnsIp", "KUBE_DNS_IP" },
};

/*
 * The container's environment, in a fixed order.
 *
 * Credentials: with a secretRef, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET
 * come from the Secret's clientId and clientSecret, and AZURE_TENANT_ID
 * and AZURE_SUBSCRIPTION_ID from its optional tenantId and subscriptionId
 * keys. spec.tenantId and spec.subscriptionId, when set, win over the
 * Secret's keys and are passed as plain values (they are not secret, and
 * the object is where the user declares them); they are passed also
 * without a secretRef, for a managed identity in another subscription.
 * Without either the connector reads them from the node's azure.json.
 */
static struct json_object *
container_env(struct jb *b, const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r)
{
	struct json_object *c = ctx->connector, *env;
	const char *secret, *tenant, *sub;
	char agent[64];
	size_t i;

	env = jarr(b);
	env_value(b, env, "KUBELET_PORT", "10250");
	env_field(b, env, "VKUBELET_POD_IP", "status.podIP");
	env_value(b, env, "APISERVER_CERT_LOCATION", TLS_DIR "/tls.crt");
	env_value(b, env, "APISERVER_KEY_LOCATION", TLS_DIR "/tls.key");
	env_value(b, env, "VKUBELET_TAINT_KEY",
	    get_str(c, "spec.taint.key", DEFAULT_TAINT_KEY));
	env_value(b, env, "VKUBELET_TAINT_VALUE",
	    get_str_raw(c, "spec.taint.value", DEFAULT_TAINT_VALUE));
	env_value(b, env, "VKUBELET_TAINT_EFFECT",
	    get_str(c, "spec.taint.effect", DEFAULT_TAINT_EFFECT));
	env_value(b, env, "ACI_REGION", ctx->location ? ctx->location : "");
	env_opt(b, env, "ACI_RESOURCE_GROUP",
	    get_str(c, "spec.aciResourceGroup", NULL));
	env_value(b, env, "AKS_CREDENTIAL_LOCATION", AZURE_JSON_POD);

	secret = get_str(c, "spec.credentials.secretRef.name", NULL);
	tenant = get_str(c, "spec.tenantId", NULL);
	sub = get_str(c, "spec.subscriptionId", NULL);
	if (secret != NULL) {
		env_secret(b, env, "AZURE_CLIENT_ID", secret, "clientId", 0);
		env_secret(b, env, "AZURE_CLIENT_SECRET", secret,
		    "clientSecret", 0);
	}
	if (tenant != NULL)
		env_value(b, env, "AZURE_TENANT_ID", tenant);
	else if (secret != NULL)
		env_secret(b, env, "AZURE_TENANT_ID", secret, "tenantId", 1);
	if (sub != NULL)
		env_value(b, env, "AZURE_SUBSCRIPTION_ID", sub);
	else if (secret != NULL)
		env_secret(b, env, "AZURE_SUBSCRIPTION_ID", secret,
		    "subscriptionId", 1);
	env_opt(b, env, "VIRTUALNODE_USER_IDENTITY_CLIENTID",
	    get_str(c, "spec.credentials.managedIdentityClientId", NULL));
	env_opt(b, env, "MASTER_URI", get_str(c, "spec.masterUri", NULL));
	/* ACI has no VNet for Windows: the network is the Linux release's. */
	if (r->os == VKC_OS_LINUX)
		for (i = 0; i < sizeof(network_env) / sizeof(network_env[0]);
		    i++)
			env_opt(b, env, network_env[i].env,
			    get_str(c, network_env[i].field, NULL));
	snprintf(agent, sizeof(agent), "vkc-operator/%s", VKC_VERSION);
	env_value(b, env, "ACI_EXTRA_USER_AGENT", agent);
	return env;
}

/*
 * A resource quantity as a string. The API takes numbers too and stores
 * them as strings: 2 → "2", 0.5 → "500m". Strings are passed as written.
 */
static struct json_object *
quantity(struct jb *b, struct json_object *v)
{
	char s[64];
	double d, m;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return jstr(b, json_object_get_string(v));
	case json_type_int:
		snprintf(s, sizeof(s), "%" PRId64, json_object_get_int64(v));
		return jstr(b, s);
	case json_type_double:
		d = json_object_get_double(v);
		if (!isfinite(d) || fabs(d) > 1e15)
			return NULL;
		m = d * 1000;
		if (d == floor(d))
			snprintf(s, sizeof(s), "%.0f", d);
		else if (m == floor(m))
			snprintf(s, sizeof(s), "%.0fm", m);
		else
			snprintf(s, sizeof(s), "%.17g", d);
		return jstr(b, s);
	default:
		return NULL;
	}
}

/* spec.resources' limits and requests; other members and values of the
 * wrong type are left out (vkc_desired_validate reports them). */
static struct json_object *
container_resources(struct jb *b, struct json_object *res)
{
	static const char *const parts[] = { "limits", "requests" };
	struct json_object *out, *part, *to, *q;
	size_t i;

	out = jobj(b);
	for (i = 0; i < 2; i++) {
		part = vkc_json_get(res, parts[i]);
		if (!json_object_is_type(part, json_type_object))
			continue;
		to = jobj(b);
		json_object_object_foreach(part, k, v) {
			q = quantity(b, v);
			if (q != NULL)
				jadd(b, to, k, q);
		}
		jadd(b, out, parts[i], to);
	}
	return out;
}

static void
mount(struct jb *b, struct json_object *mounts, const char *name,
    const char *path)
{
	struct json_object *m;

	m = jobj(b);
	jadd_str(b, m, "name", name);
	jadd_str(b, m, "mountPath", path);
	jadd(b, m, "readOnly", jbool(b, 1));
	jpush(b, mounts, m);
}

static void
host_volume(struct jb *b, struct json_object *vols, const char *name,
    const char *path, const char *type)
{
	struct json_object *v, *hp;

	v = jobj(b);
	jadd_str(b, v, "name", name);
	hp = jobj(b);
	jadd_str(b, hp, "path", path);
	jadd_str(b, hp, "type", type);
	jadd(b, v, "hostPath", hp);
	jpush(b, vols, v);
}

static struct json_object *
container(struct jb *b, const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r)
{
	struct json_object *c = ctx->connector, *o, *args, *ports, *port;
	struct json_object *mounts, *res;
	const char *repo, *tag, *ns;
	char *image = NULL;
	int n;

	o = jobj(b);
	jadd_str(b, o, "name", "virtual-kubelet");
	repo = get_str(c, "spec.image.repository",
	    VKC_DEFAULT_IMAGE_REPOSITORY);
	tag = get_str(c, "spec.image.tag", VKC_DEFAULT_IMAGE_TAG);
	/* A tag that holds a colon is a digest ("sha256:..."). */
	n = asprintf(&image, "%s%c%s", repo, strchr(tag, ':') ? '@' : ':',
	    tag);
	if (n < 0) {
		image = NULL;
		b->err = 1;
	} else
		jadd_str(b, o, "image", image);
	free(image);
	jadd_str(b, o, "imagePullPolicy",
	    get_str(c, "spec.image.pullPolicy", DEFAULT_PULL_POLICY));

	args = jarr(b);
	jpush(b, args, jstr(b, "--provider"));
	jpush(b, args, jstr(b, "azure"));
	jpush(b, args, jstr(b, "--nodename"));
	jpush(b, args, jstr(b, r->node));
	jpush(b, args, jstr(b, "--os"));
	jpush(b, args, jstr(b, vkc_os_title(r->os)));
	jpush(b, args, jstr(b, "--authentication-token-webhook=true"));
	jpush(b, args, jstr(b, "--client-verify-ca"));
	jpush(b, args, jstr(b, CERTS_DIR "/ca.crt"));
	ns = get_str(c, "spec.monitoredNamespace", NULL);
	if (ns != NULL) {
		jpush(b, args, jstr(b, "--namespace"));
		jpush(b, args, jstr(b, ns));
	}
	jadd(b, o, "args", args);
	jadd(b, o, "env", container_env(b, ctx, r));

	ports = jarr(b);
	port = jobj(b);
	jadd_str(b, port, "name", "kubelet");
	jadd(b, port, "containerPort", jint(b, KUBELET_PORT));
	jadd_str(b, port, "protocol", "TCP");
	jpush(b, ports, port);
	jadd(b, o, "ports", ports);

	res = vkc_json_get(c, "spec.resources");
	if (json_object_is_type(res, json_type_object))
		jadd(b, o, "resources", container_resources(b, res));

	mounts = jarr(b);
	mount(b, mounts, "tls", TLS_DIR);
	mount(b, mounts, "azure-json", AZURE_JSON_POD);
	mount(b, mounts, "certs", CERTS_DIR);
	jadd(b, o, "volumeMounts", mounts);
	return o;
}

static struct json_object *
pod_spec(struct jb *b, const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r)
{
	struct json_object *o, *sel, *cs, *vols, *v, *sec;

	o = jobj(b);
	jadd_str(b, o, "serviceAccountName", r->name);
	sel = jobj(b);
	/* The connector pod runs on a Linux node, also for Windows. */
	jadd_str(b, sel, "kubernetes.io/os", "linux");
	jadd(b, o, "nodeSelector", sel);
	cs = jarr(b);
	jpush(b, cs, container(b, ctx, r));
	jadd(b, o, "containers", cs);

	vols = jarr(b);
	v = jobj(b);
	jadd_str(b, v, "name", "tls");
	sec = jobj(b);
	jadd_str(b, sec, "secretName", r->tls_secret);
	jadd(b, v, "secret", sec);
	jpush(b, vols, v);
	host_volume(b, vols, "azure-json", AZURE_JSON_HOST, "File");
	host_volume(b, vols, "certs", CERTS_DIR, "Directory");
	jadd(b, o, "volumes", vols);
	return o;
}

struct json_object *
vkc_desired_deployment(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r)
{
	struct jb b = { 0 };
	struct json_object *o, *spec, *sel, *ml, *strat, *tmpl, *tm, *ann;

	if (!ctx_ok(ctx, r))
		return NULL;
	o = child_new(&b, ctx, r, "apps/v1", "Deployment", r->name, 1);
	spec = jobj(&b);
	jadd(&b, spec, "replicas", jint(&b, 1));
	/* The selector is immutable: two labels that never change. */
	sel = jobj(&b);
	ml = jobj(&b);
	jadd_str(&b, ml, "app.kubernetes.io/instance", r->name);
	jadd_str(&b, ml, "app.kubernetes.io/name", "virtual-kubelet");
	jadd(&b, sel, "matchLabels", ml);
	jadd(&b, spec, "selector", sel);
	/* Two virtual kubelets with one node name fight over the Node. */
	strat = jobj(&b);
	jadd_str(&b, strat, "type", "Recreate");
	jadd(&b, spec, "strategy", strat);

	tmpl = jobj(&b);
	tm = jobj(&b);
	jadd(&b, tm, "labels", vkc_desired_labels(ctx, r));
	if (ctx->credentials_hash != NULL) {
		ann = jobj(&b);
		jadd_str(&b, ann, VKC_CREDENTIALS_HASH_ANNOTATION,
		    ctx->credentials_hash);
		jadd(&b, tm, "annotations", ann);
	}
	jadd(&b, tmpl, "metadata", tm);
	jadd(&b, tmpl, "spec", pod_spec(&b, ctx, r));
	jadd(&b, spec, "template", tmpl);
	jadd(&b, o, "spec", spec);
	return jdone(&b, o);
}

/* Standard base64 of s, as a string node; NULL (and b->err) on failure. */
static struct json_object *
base64(struct jb *b, const char *s)
{
	struct json_object *o;
	char *out;

	out = vkc_base64_encode(s, strlen(s));
	if (out == NULL) {
		b->err = 1;
		return NULL;
	}
	o = jstr(b, out);
	free(out);
	return o;
}

struct json_object *
vkc_desired_tls_secret(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r, const char *cert_pem, const char *key_pem)
{
	struct jb b = { 0 };
	struct json_object *o, *data;

	if (!ctx_ok(ctx, r) || cert_pem == NULL || key_pem == NULL)
		return NULL;
	o = child_new(&b, ctx, r, "v1", "Secret", r->tls_secret, 1);
	jadd_str(&b, o, "type", "kubernetes.io/tls");
	data = jobj(&b);
	jadd(&b, data, "tls.crt", base64(&b, cert_pem));
	jadd(&b, data, "tls.key", base64(&b, key_pem));
	jadd(&b, o, "data", data);
	return jdone(&b, o);
}

struct json_object *
vkc_desired_cluster_role_binding(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r)
{
	struct jb b = { 0 };
	struct json_object *o, *ref, *subjects, *s;

	if (!ctx_ok(ctx, r))
		return NULL;
	o = child_new(&b, ctx, r, "rbac.authorization.k8s.io/v1",
	    "ClusterRoleBinding", r->crb, 0);
	ref = jobj(&b);
	jadd_str(&b, ref, "apiGroup", "rbac.authorization.k8s.io");
	jadd_str(&b, ref, "kind", "ClusterRole");
	jadd_str(&b, ref, "name", get_str(ctx->connector,
	    "spec.rbac.clusterRoleName", VKC_DEFAULT_CLUSTER_ROLE));
	jadd(&b, o, "roleRef", ref);
	subjects = jarr(&b);
	s = jobj(&b);
	jadd_str(&b, s, "kind", "ServiceAccount");
	jadd_str(&b, s, "name", r->name);
	jadd_str(&b, s, "namespace", connector_ns(ctx->connector));
	jpush(&b, subjects, s);
	jadd(&b, o, "subjects", subjects);
	return jdone(&b, o);
}

struct json_object *
vkc_desired_scheduling(const struct vkc_desired_ctx *ctx,
    const struct vkc_release *r)
{
	struct jb b = { 0 };
	struct json_object *c, *o, *sel, *tols, *t;

	if (ctx == NULL || r == NULL)
		return NULL;
	c = ctx->connector;
	o = jobj(&b);
	jadd_str(&b, o, "osType", vkc_os_title(r->os));
	jadd_str(&b, o, "nodeName", r->node);
	sel = jobj(&b);
	jadd_str(&b, sel, "kubernetes.io/os", vkc_os_token(r->os));
	jadd_str(&b, sel, "kubernetes.io/role", "agent");
	jadd_str(&b, sel, "type", "virtual-kubelet");
	jadd(&b, o, "nodeSelector", sel);
	tols = jarr(&b);
	t = jobj(&b);
	jadd_str(&b, t, "key", get_str(c, "spec.taint.key", DEFAULT_TAINT_KEY));
	jadd_str(&b, t, "operator", "Equal");
	jadd_str(&b, t, "value",
	    get_str_raw(c, "spec.taint.value", DEFAULT_TAINT_VALUE));
	jadd_str(&b, t, "effect",
	    get_str(c, "spec.taint.effect", DEFAULT_TAINT_EFFECT));
	jpush(&b, tols, t);
	jadd(&b, o, "tolerations", tols);
	return jdone(&b, o);
}

int
vkc_release_init(struct vkc_release *r, const char *connector_name,
    const char *ns, enum vkc_os os, const char *location)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->os = os;
	if (ns == NULL || *ns == '\0')
		return -EINVAL;
	rc = vkc_release_name(connector_name, os, location, r->name,
	    sizeof(r->name));
	if (rc == 0)
		rc = vkc_node_name(r->name, r->node, sizeof(r->node));
	if (rc == 0)
		rc = vkc_tls_secret_name(r->name, r->tls_secret,
		    sizeof(r->tls_secret));
	if (rc == 0)
		rc = vkc_crb_name(ns, r->name, r->crb, sizeof(r->crb));
	if (rc != 0) {
		memset(r, 0, sizeof(*r));
		r->os = os;
		return -EINVAL;
	}
	return 0;
}

/* Validation. */

static const struct {
	const char *path;
	enum json_type type;
} spec_types[] = {
	{ "spec", json_type_object },
	{ "spec.osType", json_type_string },
	{ "spec.location", json_type_string },
	{ "spec.aciResourceGroup", json_type_string },
	{ "spec.credentials", json_type_object },
	{ "spec.credentials.secretRef", json_type_object },
	{ "spec.credentials.secretRef.name", json_type_string },
	{ "spec.credentials.managedIdentityClientId", json_type_string },
	{ "spec.tenantId", json_type_string },
	{ "spec.subscriptionId", json_type_string },
	{ "spec.image", json_type_object },
	{ "spec.image.repository", json_type_string },
	{ "spec.image.tag", json_type_string },
	{ "spec.image.pullPolicy", json_type_string },
	{ "spec.taint", json_type_object },
	{ "spec.taint.key", json_type_string },
	{ "spec.taint.value", json_type_string },
	{ "spec.taint.effect", json_type_string },
	{ "spec.masterUri", json_type_string },
	{ "spec.monitoredNamespace", json_type_string },
	{ "spec.network", json_type_object },
	{ "spec.network.vnetName", json_type_string },
	{ "spec.network.vnetResourceGroup", json_type_string },
	{ "spec.network.subnetName", json_type_string },
	{ "spec.network.subnetCidr", json_type_string },
	{ "spec.network.clusterCidr", json_type_string },
	{ "spec.network.kubeDnsIp", json_type_string },
	{ "spec.resources", json_type_object },
	{ "spec.resources.limits", json_type_object },
	{ "spec.resources.requests", json_type_object },
	{ "spec.rbac", json_type_object },
	{ "spec.rbac.clusterRoleName", json_type_string },
	{ "spec.removal", json_type_object },
	{ "spec.removal.drain", json_type_boolean },
	{ "spec.removal.drainTimeoutSeconds", json_type_int },
	{ "spec.paused", json_type_boolean },
};

static const char *
type_name(enum json_type t)
{
	switch (t) {
	case json_type_object:
		return "an object";
	case json_type_string:
		return "a string";
	case json_type_boolean:
		return "a boolean";
	case json_type_int:
		return "an integer";
	default:
		return "a value";
	}
}

struct verr {
	char *reason;
	size_t reasonlen;
	char *msg;
	size_t msglen;
};

static int
fail(struct verr *e, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct verr *e, const char *reason, const char *fmt, ...)
{
	va_list ap;

	if (e->reason != NULL && e->reasonlen > 0)
		snprintf(e->reason, e->reasonlen, "%s", reason);
	if (e->msg != NULL && e->msglen > 0) {
		va_start(ap, fmt);
		vsnprintf(e->msg, e->msglen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
one_of(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* An Azure resource-group name: 1..90 of letters, digits, -_.() (and
 * non-ASCII letters), not ending with a period. */
static int
is_resource_group(const char *s)
{
	size_t n = strlen(s), i;
	unsigned char c;

	if (n == 0 || n > 90 || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x80 || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.()", c) != NULL)
			continue;
		return 0;
	}
	return 1;
}

static int
is_guid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return 1;
}

static int
is_ip(const char *s)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1;
}

static int
is_cidr(const char *s)
{
	char ip[64], *end;
	const char *slash;
	unsigned char addr[16];
	long bits, max;

	slash = strchr(s, '/');
	if (slash == NULL || (size_t)(slash - s) >= sizeof(ip))
		return 0;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(AF_INET, ip, addr) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, ip, addr) == 1)
		max = 128;
	else
		return 0;
	if (slash[1] < '0' || slash[1] > '9')
		return 0;
	bits = strtol(slash + 1, &end, 10);
	return *end == '\0' && bits >= 0 && bits <= max;
}

static int
validate_types(struct json_object *c, struct verr *e)
{
	struct json_object *v, *part;
	enum json_type t;
	size_t i, j;
	static const char *const parts[] = { "spec.resources.limits",
	    "spec.resources.requests" };

	for (i = 0; i < sizeof(spec_types) / sizeof(spec_types[0]); i++) {
		v = vkc_json_get(c, spec_types[i].path);
		if (v == NULL)
			continue;
		t = json_object_get_type(v);
		if (t == spec_types[i].type)
			continue;
		return fail(e, "InvalidSpec", "%s must be %s, not %s",
		    spec_types[i].path, type_name(spec_types[i].type),
		    json_type_to_name(t));
	}
	for (j = 0; j < 2; j++) {
		part = vkc_json_get(c, parts[j]);
		if (part == NULL)
			continue;
		json_object_object_foreach(part, k, q) {
			t = json_object_get_type(q);
			if (t == json_type_string || t == json_type_int ||
			    t == json_type_double)
				continue;
			return fail(e, "InvalidSpec",
			    "%s.%s must be a quantity such as \"500m\" or "
			    "\"1Gi\"", parts[j], k);
		}
	}
	return 0;
}

static int
validate_values(struct json_object *c, unsigned mask, struct verr *e)
{
	static const char *const policies[] = { "Always", "IfNotPresent",
	    "Never", NULL };
	static const char *const effects[] = { "NoSchedule",
	    "PreferNoSchedule", "NoExecute", NULL };
	const char *s;
	size_t i;

	s = get_str(c, "spec.image.pullPolicy", NULL);
	if (s != NULL && !one_of(s, policies))
		return fail(e, "InvalidSpec", "spec.image.pullPolicy '%s' is "
		    "not one of Always, IfNotPresent, Never", s);
	s = get_str(c, "spec.taint.effect", NULL);
	if (s != NULL && !one_of(s, effects))
		return fail(e, "InvalidSpec", "spec.taint.effect '%s' is not "
		    "one of NoSchedule, PreferNoSchedule, NoExecute", s);
	s = get_str(c, "spec.aciResourceGroup", NULL);
	if (s != NULL && !is_resource_group(s))
		return fail(e, "InvalidSpec", "spec.aciResourceGroup '%s' is "
		    "not an Azure resource group name (1-90 letters, digits, "
		    "'-', '_', '.', '(' or ')', not ending with '.')", s);
	s = get_str(c, "spec.tenantId", NULL);
	if (s != NULL && !is_guid(s))
		return fail(e, "InvalidSpec", "spec.tenantId '%s' is not a "
		    "GUID", s);
	s = get_str(c, "spec.subscriptionId", NULL);
	if (s != NULL && !is_guid(s))
		return fail(e, "InvalidSpec", "spec.subscriptionId '%s' is not "
		    "a GUID", s);
	s = get_str(c, "spec.masterUri", NULL);
	if (s != NULL && (strncmp(s, "https://", 8) != 0 || s[8] == '\0'))
		return fail(e, "InvalidSpec", "spec.masterUri '%s' is not an "
		    "https:// URL", s);
	s = get_str(c, "spec.monitoredNamespace", NULL);
	if (s != NULL && !vkc_is_dns1123_label(s))
		return fail(e, "InvalidSpec", "spec.monitoredNamespace '%s' is "
		    "not a namespace name", s);
	if (vkc_json_get_int(c, "spec.removal.drainTimeoutSeconds", 0) < 0)
		return fail(e, "InvalidSpec",
		    "spec.removal.drainTimeoutSeconds must not be negative");

	for (i = 0; i < sizeof(network_env) / sizeof(network_env[0]); i++)
		if (get_str(c, network_env[i].field, NULL) != NULL)
			break;
	if (i < sizeof(network_env) / sizeof(network_env[0]) &&
	    !(mask & VKC_OS_BIT(VKC_OS_LINUX)))
		return fail(e, "InvalidNetwork", "spec.network applies to "
		    "Linux connectors only (ACI has no VNet for Windows): "
		    "remove it or set spec.osType to Linux or Both");
	s = get_str(c, "spec.network.subnetCidr", NULL);
	if (s != NULL && !is_cidr(s))
		return fail(e, "InvalidNetwork", "spec.network.subnetCidr '%s' "
		    "is not a CIDR such as 10.241.0.0/16", s);
	s = get_str(c, "spec.network.clusterCidr", NULL);
	if (s != NULL && !is_cidr(s))
		return fail(e, "InvalidNetwork", "spec.network.clusterCidr "
		    "'%s' is not a CIDR such as 10.244.0.0/16", s);
	s = get_str(c, "spec.network.kubeDnsIp", NULL);
	if (s != NULL && !is_ip(s))
		return fail(e, "InvalidNetwork", "spec.network.kubeDnsIp '%s' "
		    "is not an IP address", s);
	/* a subnet without vnetName is in the cluster's virtual network,
	 * which the connector reads from the node's azure.json */
	return 0;
}

static int
validate_credentials(struct json_object *c, struct verr *e)
{
	const char *name, *mi;

	mi = get_str(c, "spec.credentials.managedIdentityClientId", NULL);
	if (vkc_json_get(c, "spec.credentials.secretRef") == NULL)
		return 0;
	name = get_str(c, "spec.credentials.secretRef.name", NULL);
	if (name == NULL)
		return fail(e, "InvalidCredentials", "spec.credentials."
		    "secretRef needs a name: the Secret holding clientId and "
		    "clientSecret");
	if (!vkc_is_dns1123_subdomain(name))
		return fail(e, "InvalidCredentials", "spec.credentials."
		    "secretRef.name '%s' is not a Secret name (a DNS-1123 "
		    "subdomain: lower-case letters, digits, '-' and '.')",
		    name);
	if (mi != NULL)
		return fail(e, "InvalidCredentials", "spec.credentials."
		    "secretRef and spec.credentials.managedIdentityClientId "
		    "exclude each other: set one");
	return 0;
}

int
vkc_desired_validate(struct json_object *connector, const char *location,
    char *reason, size_t reasonlen, char *msg, size_t msglen)
{
	struct verr e = { reason, reasonlen, msg, msglen };
	struct vkc_release r;
	const char *name, *ns, *os_type, *token;
	char loc[64], full[512];
	unsigned mask;
	int rc, os;

	if (reason != NULL && reasonlen > 0)
		reason[0] = '\0';
	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if (!json_object_is_type(connector, json_type_object))
		return fail(&e, "InvalidSpec", "the connector is not an object");
	name = get_str(connector, "metadata.name", NULL);
	if (name == NULL)
		return fail(&e, "InvalidSpec", "metadata.name is missing");
	ns = get_str(connector, "metadata.namespace", "default");
	rc = validate_types(connector, &e);
	if (rc != 0)
		return rc;
	os_type = get_str(connector, "spec.osType", NULL);
	if (vkc_os_mask(os_type, &mask) != 0)
		return fail(&e, "InvalidSpec", "spec.osType '%s' is not one of "
		    "Linux, Windows, Both", os_type);

	if (location == NULL)
		location = get_str(connector, "spec.location", NULL);
	if (location == NULL)
		return fail(&e, "InvalidLocation", "no location: set "
		    "spec.location (no cluster node has a "
		    "topology.kubernetes.io/region label)");
	rc = vkc_location_normalize(location, loc, sizeof(loc));
	if (rc != 0)
		return fail(&e, "InvalidLocation", "location '%s' is not an "
		    "Azure region name (letters, digits and spaces, such as "
		    "'East US' or eastus): fix spec.location", location);

	for (os = 0; os < VKC_OS_COUNT; os++) {
		if (!(mask & VKC_OS_BIT(os)))
			continue;
		if (vkc_release_init(&r, name, ns, (enum vkc_os)os, loc) == 0)
			continue;
		token = vkc_os_token((enum vkc_os)os);
		snprintf(full, sizeof(full), "%s-%s-%s", name, token, loc);
		return fail(&e, "InvalidName", "release name '%s' (%zu "
		    "characters) is not a DNS-1123 label of at most 63 "
		    "lower-case letters, digits and '-': shorten metadata.name "
		    "or spec.location", full,
		    strlen(name) + strlen(token) + strlen(loc) + 2);
	}

	rc = validate_credentials(connector, &e);
	if (rc != 0)
		return rc;
	return validate_values(connector, mask, &e);
}

/* Appends key=value\n for a string value. */
static int
hash_line(struct vkc_buf *in, const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	return vkc_buf_printf(in, "%s=%s\n", key, value);
}

int
vkc_credentials_hash(struct json_object *connector, struct json_object *secret,
    char out[65])
{
	static const char hex[] = "0123456789abcdef";
	struct vkc_buf in;
	struct json_object *data = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int rc;

	out[0] = '\0';
	vkc_buf_init(&in, HASH_INPUT_MAX);
	/* The Secret counts only when the Deployment references it. */
	if (get_str(connector, "spec.credentials.secretRef.name", NULL) !=
	    NULL && json_object_is_type(secret, json_type_object))
		data = vkc_json_get(secret, "data");
	if (!json_object_is_type(data, json_type_object))
		data = NULL;
	/* Keys in a fixed order; those spec overrides are not referenced. */
	rc = hash_line(&in, "clientId",
	    vkc_json_get_string(data, "clientId", NULL));
	if (rc == 0)
		rc = hash_line(&in, "clientSecret",
		    vkc_json_get_string(data, "clientSecret", NULL));
	if (rc == 0 && get_str(connector, "spec.tenantId", NULL) == NULL)
		rc = hash_line(&in, "tenantId",
		    vkc_json_get_string(data, "tenantId", NULL));
	if (rc == 0 && get_str(connector, "spec.subscriptionId", NULL) == NULL)
		rc = hash_line(&in, "subscriptionId",
		    vkc_json_get_string(data, "subscriptionId", NULL));
	if (rc == 0)
		rc = hash_line(&in, "managedIdentityClientId",
		    get_str(connector,
		    "spec.credentials.managedIdentityClientId", NULL));
	if (rc != 0)
		goto out;
	if (EVP_Digest(in.len ? in.data : "", in.len, md, &mdlen,
	    EVP_sha256(), NULL) != 1 || mdlen != 32) {
		rc = -EIO;
		goto out;
	}
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
	rc = 0;
out:
	if (in.data != NULL)
		OPENSSL_cleanse(in.data, in.len);
	vkc_buf_release(&in);
	return rc;
}
