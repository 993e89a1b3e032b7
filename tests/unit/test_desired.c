/* test_desired.c: desired.c (DESIGN.md §3, §4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "check.h"
#include "desired.h"
#include "jsonutil.h"

#define UID "0c1d2e3f-0000-4000-8000-000000000001"
#define HASH "aa11bb22"

static struct json_object *
parse(const char *text)
{
	struct json_object *o = vkc_json_parse(text, strlen(text), NULL, 0);

	if (o == NULL) {
		printf("bad test JSON: %s\n", text);
		abort();
	}
	return o;
}

/* A connector named virtual-kubelet in default with the given spec. */
static struct json_object *
connector(const char *spec)
{
	char text[4096];

	snprintf(text, sizeof(text), "{\"apiVersion\":\"" VKC_API_VERSION
	    "\",\"kind\":\"" VKC_KIND "\",\"metadata\":{\"name\":"
	    "\"virtual-kubelet\",\"namespace\":\"default\",\"uid\":\"" UID
	    "\"},\"spec\":%s}", spec);
	return parse(text);
}

static struct json_object *
container_of(struct json_object *dep)
{
	struct json_object *cs;

	cs = vkc_json_get(dep, "spec.template.spec.containers");
	if (!json_object_is_type(cs, json_type_array) ||
	    json_object_array_length(cs) != 1)
		return NULL;
	return json_object_array_get_idx(cs, 0);
}

static struct json_object *
env_find(struct json_object *dep, const char *name)
{
	struct json_object *env, *e;
	size_t i;

	env = vkc_json_get(container_of(dep), "env");
	for (i = 0; i < json_object_array_length(env); i++) {
		e = json_object_array_get_idx(env, i);
		if (strcmp(vkc_json_get_string(e, "name", ""), name) == 0)
			return e;
	}
	return NULL;
}

/* The env names, space-separated, in order. */
static const char *
env_names(struct json_object *dep)
{
	static char out[2048];
	struct json_object *env;
	size_t i;

	out[0] = '\0';
	env = vkc_json_get(container_of(dep), "env");
	for (i = 0; i < json_object_array_length(env); i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, vkc_json_get_string(json_object_array_get_idx(env,
		    i), "name", "?"));
	}
	return out;
}

static const char *
env_value(struct json_object *dep, const char *name)
{
	return vkc_json_get_string(env_find(dep, name), "value", NULL);
}

static const char *
str_at(struct json_object *o, const char *path)
{
	return vkc_json_get_string(o, path, NULL);
}

static const char *
json(struct json_object *o)
{
	return o ? vkc_json_str(o) : "(null)";
}

static int
release(struct vkc_release *r, enum vkc_os os)
{
	return vkc_release_init(r, "virtual-kubelet", "default", os, "eastus");
}

TEST(release_init)
{
	struct vkc_release r;
	char name[80];

	CHECK_INT(release(&r, VKC_OS_LINUX), 0);
	CHECK_INT(r.os, VKC_OS_LINUX);
	CHECK_STR(r.name, "virtual-kubelet-linux-eastus");
	CHECK_STR(r.node, "virtual-kubelet-virtual-kubelet-linux-eastus");
	CHECK_STR(r.tls_secret, "virtual-kubelet-linux-eastus-tls");
	CHECK_STR(r.crb, "vkc-default-virtual-kubelet-linux-eastus");
	CHECK_INT(release(&r, VKC_OS_WINDOWS), 0);
	CHECK_STR(r.name, "virtual-kubelet-windows-eastus");
	CHECK_STR(r.node, "virtual-kubelet-virtual-kubelet-windows-eastus");

	/* "-windows-eastus" is 15: 48 + 15 = 63 fits, 49 + 15 does not */
	memset(name, 'n', 48);
	name[48] = '\0';
	CHECK_INT(vkc_release_init(&r, name, "ns", VKC_OS_WINDOWS, "eastus"),
	    0);
	CHECK_INT(strlen(r.name), 63);
	CHECK_INT(strlen(r.node), 79);
	name[48] = 'n';
	name[49] = '\0';
	CHECK_INT(vkc_release_init(&r, name, "ns", VKC_OS_WINDOWS, "eastus"),
	    -EINVAL);
	CHECK_STR(r.name, "");
	CHECK_INT(vkc_release_init(&r, "a", NULL, VKC_OS_LINUX, "eastus"),
	    -EINVAL);
	CHECK_INT(vkc_release_init(&r, "a", "ns", VKC_OS_LINUX, NULL), -EINVAL);
}

TEST(labels)
{
	struct json_object *c = connector("{}"), *l;
	struct vkc_desired_ctx ctx = { c, "eastus", NULL };
	struct vkc_release r;

	release(&r, VKC_OS_WINDOWS);
	l = vkc_desired_labels(&ctx, &r);
	CHECK_STR(json(l), "{\"app.kubernetes.io/name\":\"virtual-kubelet\","
	    "\"app.kubernetes.io/instance\":\"virtual-kubelet-windows-eastus\","
	    "\"app.kubernetes.io/managed-by\":\"vkc-operator\","
	    "\"connectors.virtual-kubelet.io/name\":\"virtual-kubelet\","
	    "\"connectors.virtual-kubelet.io/namespace\":\"default\","
	    "\"connectors.virtual-kubelet.io/os\":\"windows\"}");
	json_object_put(l);
	json_object_put(c);
}

static const char *const linux_env =
    "KUBELET_PORT VKUBELET_POD_IP APISERVER_CERT_LOCATION "
    "APISERVER_KEY_LOCATION VKUBELET_TAINT_KEY VKUBELET_TAINT_VALUE "
    "VKUBELET_TAINT_EFFECT ACI_REGION ACI_RESOURCE_GROUP "
    "AKS_CREDENTIAL_LOCATION AZURE_CLIENT_ID AZURE_CLIENT_SECRET "
    "AZURE_TENANT_ID AZURE_SUBSCRIPTION_ID MASTER_URI ACI_VNET_NAME "
    "ACI_VNET_RESOURCE_GROUP ACI_SUBNET_NAME ACI_SUBNET_CIDR CLUSTER_CIDR "
    "KUBE_DNS_IP ACI_EXTRA_USER_AGENT";

static const char *const full_spec = "{\"osType\":\"Both\","
    "\"location\":\"East US\",\"aciResourceGroup\":\"aci-rg\","
    "\"credentials\":{\"secretRef\":{\"name\":\"sp-creds\"}},"
    "\"image\":{\"repository\":\"example.io/vk\",\"tag\":\"1.7.0\","
    "\"pullPolicy\":\"Always\"},"
    "\"taint\":{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoExecute\"},"
    "\"masterUri\":\"https://api.example.io:443\","
    "\"network\":{\"vnetName\":\"vnet\",\"vnetResourceGroup\":\"vnet-rg\","
    "\"subnetName\":\"aci\",\"subnetCidr\":\"10.241.0.0/16\","
    "\"clusterCidr\":\"10.244.0.0/16\",\"kubeDnsIp\":\"10.0.0.10\"},"
    "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":1024},"
    "\"limits\":{\"cpu\":0.5,\"memory\":\"512Mi\"}},"
    "\"rbac\":{\"clusterRoleName\":\"custom-role\"}}";

TEST(deployment_linux)
{
	struct json_object *c = connector(full_spec), *d, *e, *labels, *l;
	struct vkc_desired_ctx ctx = { c, "eastus", HASH };
	struct vkc_release r;

	release(&r, VKC_OS_LINUX);
	d = vkc_desired_deployment(&ctx, &r);
	CHECK(d != NULL);
	if (d == NULL)
		goto out;
	CHECK_STR(str_at(d, "apiVersion"), "apps/v1");
	CHECK_STR(str_at(d, "kind"), "Deployment");
	CHECK_STR(str_at(d, "metadata.name"), "virtual-kubelet-linux-eastus");
	CHECK_STR(str_at(d, "metadata.namespace"), "default");
	CHECK_STR(json(vkc_json_get(d, "metadata.ownerReferences")),
	    "[{\"apiVersion\":\"connectors.virtual-kubelet.io/v1alpha1\","
	    "\"kind\":\"VirtualKubeletConnector\",\"name\":\"virtual-kubelet\","
	    "\"uid\":\"" UID "\",\"controller\":true,"
	    "\"blockOwnerDeletion\":true}]");
	l = vkc_desired_labels(&ctx, &r);
	labels = vkc_json_get(d, "metadata.labels");
	CHECK(vkc_json_equal(labels, l));
	CHECK(vkc_json_equal(vkc_json_get(d, "spec.template.metadata.labels"),
	    l));
	json_object_put(l);
	CHECK_INT(vkc_json_get_int(d, "spec.replicas", 0), 1);
	CHECK_STR(json(vkc_json_get(d, "spec.strategy")),
	    "{\"type\":\"Recreate\"}");
	CHECK_STR(json(vkc_json_get(d, "spec.selector")),
	    "{\"matchLabels\":{\"app.kubernetes.io/instance\":"
	    "\"virtual-kubelet-linux-eastus\",\"app.kubernetes.io/name\":"
	    "\"virtual-kubelet\"}}");
	CHECK_STR(json(vkc_json_get(d, "spec.template.metadata.annotations")),
	    "{\"connectors.virtual-kubelet.io/credentials-hash\":\"" HASH
	    "\"}");
	CHECK_STR(str_at(d, "spec.template.spec.serviceAccountName"),
	    "virtual-kubelet-linux-eastus");
	CHECK_STR(json(vkc_json_get(d, "spec.template.spec.nodeSelector")),
	    "{\"kubernetes.io/os\":\"linux\"}");

	e = container_of(d);
	CHECK_STR(str_at(e, "name"), "virtual-kubelet");
	CHECK_STR(str_at(e, "image"), "example.io/vk:1.7.0");
	CHECK_STR(str_at(e, "imagePullPolicy"), "Always");
	CHECK_STR(json(vkc_json_get(e, "args")),
	    "[\"--provider\",\"azure\",\"--nodename\","
	    "\"virtual-kubelet-virtual-kubelet-linux-eastus\",\"--os\","
	    "\"Linux\",\"--authentication-token-webhook=true\","
	    "\"--client-verify-ca\",\"/etc/kubernetes/certs/ca.crt\"]");
	CHECK_STR(json(vkc_json_get(e, "ports")),
	    "[{\"name\":\"kubelet\",\"containerPort\":10250,"
	    "\"protocol\":\"TCP\"}]");
	CHECK_STR(json(vkc_json_get(e, "resources")),
	    "{\"limits\":{\"cpu\":\"500m\",\"memory\":\"512Mi\"},"
	    "\"requests\":{\"cpu\":\"100m\",\"memory\":\"1024\"}}");
	CHECK_STR(json(vkc_json_get(e, "volumeMounts")),
	    "[{\"name\":\"tls\",\"mountPath\":\"/etc/virtual-kubelet\","
	    "\"readOnly\":true},{\"name\":\"azure-json\",\"mountPath\":"
	    "\"/etc/aks/azure.json\",\"readOnly\":true},{\"name\":\"certs\","
	    "\"mountPath\":\"/etc/kubernetes/certs\",\"readOnly\":true}]");
	CHECK_STR(json(vkc_json_get(d, "spec.template.spec.volumes")),
	    "[{\"name\":\"tls\",\"secret\":{\"secretName\":"
	    "\"virtual-kubelet-linux-eastus-tls\"}},{\"name\":\"azure-json\","
	    "\"hostPath\":{\"path\":\"/etc/kubernetes/azure.json\",\"type\":"
	    "\"File\"}},{\"name\":\"certs\",\"hostPath\":{\"path\":"
	    "\"/etc/kubernetes/certs\",\"type\":\"Directory\"}}]");

	CHECK_STR(env_names(d), linux_env);
	CHECK_STR(env_value(d, "KUBELET_PORT"), "10250");
	CHECK_STR(json(env_find(d, "VKUBELET_POD_IP")),
	    "{\"name\":\"VKUBELET_POD_IP\",\"valueFrom\":{\"fieldRef\":"
	    "{\"apiVersion\":\"v1\",\"fieldPath\":\"status.podIP\"}}}");
	CHECK_STR(env_value(d, "APISERVER_CERT_LOCATION"),
	    "/etc/virtual-kubelet/tls.crt");
	CHECK_STR(env_value(d, "APISERVER_KEY_LOCATION"),
	    "/etc/virtual-kubelet/tls.key");
	CHECK_STR(env_value(d, "VKUBELET_TAINT_KEY"), "k");
	CHECK_STR(env_value(d, "VKUBELET_TAINT_VALUE"), "v");
	CHECK_STR(env_value(d, "VKUBELET_TAINT_EFFECT"), "NoExecute");
	CHECK_STR(env_value(d, "ACI_REGION"), "eastus");
	CHECK_STR(env_value(d, "ACI_RESOURCE_GROUP"), "aci-rg");
	CHECK_STR(env_value(d, "AKS_CREDENTIAL_LOCATION"),
	    "/etc/aks/azure.json");
	CHECK_STR(json(env_find(d, "AZURE_CLIENT_ID")),
	    "{\"name\":\"AZURE_CLIENT_ID\",\"valueFrom\":{\"secretKeyRef\":"
	    "{\"name\":\"sp-creds\",\"key\":\"clientId\"}}}");
	CHECK_STR(json(env_find(d, "AZURE_CLIENT_SECRET")),
	    "{\"name\":\"AZURE_CLIENT_SECRET\",\"valueFrom\":{\"secretKeyRef\":"
	    "{\"name\":\"sp-creds\",\"key\":\"clientSecret\"}}}");
	CHECK_STR(json(env_find(d, "AZURE_TENANT_ID")),
	    "{\"name\":\"AZURE_TENANT_ID\",\"valueFrom\":{\"secretKeyRef\":"
	    "{\"name\":\"sp-creds\",\"key\":\"tenantId\",\"optional\":true}}}");
	CHECK_STR(json(env_find(d, "AZURE_SUBSCRIPTION_ID")),
	    "{\"name\":\"AZURE_SUBSCRIPTION_ID\",\"valueFrom\":{\"secretKeyRef\":"
	    "{\"name\":\"sp-creds\",\"key\":\"subscriptionId\","
	    "\"optional\":true}}}");
	CHECK_STR(env_value(d, "MASTER_URI"), "https://api.example.io:443");
	CHECK_STR(env_value(d, "ACI_VNET_NAME"), "vnet");
	CHECK_STR(env_value(d, "ACI_VNET_RESOURCE_GROUP"), "vnet-rg");
	CHECK_STR(env_value(d, "ACI_SUBNET_NAME"), "aci");
	CHECK_STR(env_value(d, "ACI_SUBNET_CIDR"), "10.241.0.0/16");
	CHECK_STR(env_value(d, "CLUSTER_CIDR"), "10.244.0.0/16");
	CHECK_STR(env_value(d, "KUBE_DNS_IP"), "10.0.0.10");
	CHECK_STR(env_value(d, "ACI_EXTRA_USER_AGENT"),
	    "vkc-operator/" VKC_VERSION);
	/* a secret's value is never copied into the object */
	CHECK(strstr(json(d), "\"value\":\"sp-creds\"") == NULL);
out:
	json_object_put(d);
	json_object_put(c);
}

TEST(deployment_windows)
{
	struct json_object *c = connector(full_spec), *d;
	struct vkc_desired_ctx ctx = { c, "eastus", NULL };
	struct vkc_release r;

	release(&r, VKC_OS_WINDOWS);
	d = vkc_desired_deployment(&ctx, &r);
	CHECK(d != NULL);
	if (d == NULL)
		goto out;
	CHECK_STR(str_at(d, "metadata.name"), "virtual-kubelet-windows-eastus");
	CHECK_STR(json(vkc_json_get(container_of(d), "args")),
	    "[\"--provider\",\"azure\",\"--nodename\","
	    "\"virtual-kubelet-virtual-kubelet-windows-eastus\",\"--os\","
	    "\"Windows\",\"--authentication-token-webhook=true\","
	    "\"--client-verify-ca\",\"/etc/kubernetes/certs/ca.crt\"]");
	/* no network for Windows; the pod itself still runs on Linux */
	CHECK_STR(env_names(d), "KUBELET_PORT VKUBELET_POD_IP "
	    "APISERVER_CERT_LOCATION APISERVER_KEY_LOCATION VKUBELET_TAINT_KEY "
	    "VKUBELET_TAINT_VALUE VKUBELET_TAINT_EFFECT ACI_REGION "
	    "ACI_RESOURCE_GROUP AKS_CREDENTIAL_LOCATION AZURE_CLIENT_ID "
	    "AZURE_CLIENT_SECRET AZURE_TENANT_ID AZURE_SUBSCRIPTION_ID "
	    "MASTER_URI ACI_EXTRA_USER_AGENT");
	CHECK_STR(json(vkc_json_get(d, "spec.template.spec.nodeSelector")),
	    "{\"kubernetes.io/os\":\"linux\"}");
	CHECK_STR(json(vkc_json_get(d, "spec.template.spec.volumes")),
	    "[{\"name\":\"tls\",\"secret\":{\"secretName\":"
	    "\"virtual-kubelet-windows-eastus-tls\"}},{\"name\":\"azure-json\","
	    "\"hostPath\":{\"path\":\"/etc/kubernetes/azure.json\",\"type\":"
	    "\"File\"}},{\"name\":\"certs\",\"hostPath\":{\"path\":"
	    "\"/etc/kubernetes/certs\",\"type\":\"Directory\"}}]");
	/* no hash: no annotations at all */
	CHECK(vkc_json_get(d, "spec.template.metadata.annotations") == NULL);
	{
		struct json_object *labels = vkc_json_get(d, "metadata.labels");
		struct json_object *v = NULL;

		CHECK(json_object_object_get_ex(labels,
		    "connectors.virtual-kubelet.io/os", &v));
		CHECK_STR(json_object_get_string(v), "windows");
	}
out:
	json_object_put(d);
	json_object_put(c);
}

TEST(monitored_namespace_and_identity)
{
	struct json_object *c, *d;
	struct vkc_desired_ctx ctx = { NULL, "westus", NULL };
	struct vkc_release r;

	c = connector("{\"monitoredNamespace\":\"team-a\",\"tenantId\":"
	    "\"11111111-2222-3333-4444-555555555555\",\"credentials\":{"
	    "\"managedIdentityClientId\":\"mi-client\"}}");
	ctx.connector = c;
	vkc_release_init(&r, "virtual-kubelet", "default", VKC_OS_LINUX,
	    "westus");
	d = vkc_desired_deployment(&ctx, &r);
	CHECK(d != NULL);
	CHECK_STR(json(vkc_json_get(container_of(d), "args")),
	    "[\"--provider\",\"azure\",\"--nodename\","
	    "\"virtual-kubelet-virtual-kubelet-linux-westus\",\"--os\","
	    "\"Linux\",\"--authentication-token-webhook=true\","
	    "\"--client-verify-ca\",\"/etc/kubernetes/certs/ca.crt\","
	    "\"--namespace\",\"team-a\"]");
	CHECK_STR(env_names(d), "KUBELET_PORT VKUBELET_POD_IP "
	    "APISERVER_CERT_LOCATION APISERVER_KEY_LOCATION VKUBELET_TAINT_KEY "
	    "VKUBELET_TAINT_VALUE VKUBELET_TAINT_EFFECT ACI_REGION "
	    "AKS_CREDENTIAL_LOCATION AZURE_TENANT_ID "
	    "VIRTUALNODE_USER_IDENTITY_CLIENTID ACI_EXTRA_USER_AGENT");
	CHECK_STR(env_value(d, "AZURE_TENANT_ID"),
	    "11111111-2222-3333-4444-555555555555");
	CHECK_STR(env_value(d, "VIRTUALNODE_USER_IDENTITY_CLIENTID"),
	    "mi-client");
	CHECK_STR(env_value(d, "ACI_REGION"), "westus");
	json_object_put(d);
	json_object_put(c);

	/* spec.tenantId wins over the Secret's optional key */
	c = connector("{\"tenantId\":\"11111111-2222-3333-4444-555555555555\","
	    "\"credentials\":{\"secretRef\":{\"name\":\"sp\"}}}");
	ctx.connector = c;
	d = vkc_desired_deployment(&ctx, &r);
	CHECK_STR(env_value(d, "AZURE_TENANT_ID"),
	    "11111111-2222-3333-4444-555555555555");
	CHECK_STR(str_at(env_find(d, "AZURE_SUBSCRIPTION_ID"),
	    "valueFrom.secretKeyRef.key"), "subscriptionId");
	json_object_put(d);
	json_object_put(c);
}

static const char *const default_spec = "{\"osType\":\"Linux\","
    "\"image\":{\"repository\":"
    "\"mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet\","
    "\"tag\":\"1.6.4\",\"pullPolicy\":\"IfNotPresent\"},"
    "\"taint\":{\"key\":\"virtual-kubelet.io/provider\",\"value\":\"azure\","
    "\"effect\":\"NoSchedule\"},"
    "\"rbac\":{\"clusterRoleName\":\"virtual-kubelet-connector\"},"
    "\"removal\":{\"drain\":false,\"drainTimeoutSeconds\":300},"
    "\"paused\":false}";

TEST(defaults)
{
	struct json_object *empty = connector("{}"), *full;
	struct json_object *none, *a, *b;
	struct vkc_desired_ctx ce = { empty, "eastus", NULL };
	struct vkc_desired_ctx cf = { NULL, "eastus", NULL };
	struct vkc_desired_ctx cn = { NULL, "eastus", NULL };
	struct vkc_release r;

	full = connector(default_spec);
	none = parse("{\"metadata\":{\"name\":\"virtual-kubelet\","
	    "\"namespace\":\"default\",\"uid\":\"" UID "\"}}");
	cf.connector = full;
	cn.connector = none;
	CHECK_INT(vkc_desired_validate(empty, "eastus", NULL, 0, NULL, 0), 0);
	CHECK_INT(vkc_desired_validate(full, "eastus", NULL, 0, NULL, 0), 0);
	CHECK_INT(vkc_desired_validate(none, "eastus", NULL, 0, NULL, 0), 0);
	release(&r, VKC_OS_LINUX);

	a = vkc_desired_deployment(&ce, &r);
	b = vkc_desired_deployment(&cf, &r);
	CHECK(a != NULL && b != NULL);
	CHECK_STR(json(a), json(b));
	CHECK_STR(str_at(container_of(a), "image"),
	    "mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet:1.6.4");
	CHECK_STR(str_at(container_of(a), "imagePullPolicy"), "IfNotPresent");
	CHECK_STR(env_value(a, "VKUBELET_TAINT_KEY"),
	    "virtual-kubelet.io/provider");
	CHECK_STR(env_value(a, "VKUBELET_TAINT_VALUE"), "azure");
	CHECK_STR(env_value(a, "VKUBELET_TAINT_EFFECT"), "NoSchedule");
	CHECK(vkc_json_get(container_of(a), "resources") == NULL);
	CHECK(env_find(a, "AZURE_CLIENT_ID") == NULL);
	CHECK(env_find(a, "ACI_RESOURCE_GROUP") == NULL);
	json_object_put(b);
	b = vkc_desired_deployment(&cn, &r);
	CHECK_STR(json(a), json(b));
	json_object_put(a);
	json_object_put(b);

	a = vkc_desired_cluster_role_binding(&ce, &r);
	b = vkc_desired_cluster_role_binding(&cf, &r);
	CHECK_STR(json(a), json(b));
	CHECK_STR(str_at(a, "roleRef.name"), "virtual-kubelet-connector");
	json_object_put(a);
	json_object_put(b);

	a = vkc_desired_scheduling(&ce, &r);
	b = vkc_desired_scheduling(&cf, &r);
	CHECK_STR(json(a), json(b));
	json_object_put(a);
	json_object_put(b);

	json_object_put(empty);
	json_object_put(full);
	json_object_put(none);
}

/* Every builder on c must return an object or NULL, never crash. */
static void
build_all(struct json_object *c, struct json_object **dep)
{
	struct vkc_desired_ctx ctx = { c, "eastus", HASH };
	struct vkc_release r;
	struct json_object *o;
	char hash[65];

	release(&r, VKC_OS_LINUX);
	*dep = vkc_desired_deployment(&ctx, &r);
	o = vkc_desired_service_account(&ctx, &r);
	json_object_put(o);
	o = vkc_desired_cluster_role_binding(&ctx, &r);
	json_object_put(o);
	o = vkc_desired_tls_secret(&ctx, &r, "c", "k");
	json_object_put(o);
	o = vkc_desired_scheduling(&ctx, &r);
	json_object_put(o);
	o = vkc_desired_labels(&ctx, &r);
	json_object_put(o);
	vkc_credentials_hash(c, c, hash);
}

TEST(wrong_types)
{
	static const char *const specs[] = {
		"\"x\"", "5", "[]", "null", "{\"image\":5}",
		"{\"image\":{\"tag\":5,\"repository\":[]}}",
		"{\"taint\":\"k=v\"}", "{\"taint\":{\"value\":7}}",
		"{\"credentials\":\"x\"}",
		"{\"credentials\":{\"secretRef\":\"sp\"}}",
		"{\"credentials\":{\"secretRef\":{\"name\":5}}}",
		"{\"resources\":\"x\"}",
		"{\"resources\":{\"limits\":{\"cpu\":{}}}}",
		"{\"resources\":{\"limits\":[1]}}",
		"{\"network\":[\"x\"]}", "{\"network\":{\"vnetName\":true}}",
		"{\"monitoredNamespace\":{}}", "{\"osType\":1}",
		"{\"rbac\":{\"clusterRoleName\":false}}",
		"{\"removal\":{\"drainTimeoutSeconds\":\"300\"}}",
		"{\"paused\":\"yes\"}", "{\"tenantId\":1}",
	};
	struct json_object *c, *d, *def, *cdef;
	char reason[64], msg[256];
	size_t i;
	int rc;

	cdef = connector("{}");
	build_all(cdef, &def);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		c = connector(specs[i]);
		build_all(c, &d);
		if (d == NULL)
			printf("spec %s: no deployment\n", specs[i]);
		CHECK(d != NULL);
		rc = vkc_desired_validate(c, "eastus", reason, sizeof(reason),
		    msg, sizeof(msg));
		if (strcmp(specs[i], "null") == 0) {
			/* null is an absent spec */
			CHECK_INT(rc, 0);
			CHECK_STR(json(d), json(def));
		} else {
			if (rc != -EINVAL || strcmp(reason, "InvalidSpec") != 0)
				printf("spec %s: %d %s\n", specs[i], rc,
				    reason);
			CHECK_INT(rc, -EINVAL);
			CHECK_STR(reason, "InvalidSpec");
			CHECK(strstr(msg, "spec") == msg);
		}
		json_object_put(d);
		json_object_put(c);
	}
	/* a wrong-typed field is treated as absent by the builder */
	c = connector("{\"image\":5,\"taint\":\"x\"}");
	build_all(c, &d);
	CHECK_STR(json(d), json(def));
	json_object_put(d);
	json_object_put(c);
	json_object_put(def);
	json_object_put(cdef);

	/* no usable metadata: nothing is built, nothing crashes */
	c = parse("{\"metadata\":{\"name\":5},\"spec\":{}}");
	build_all(c, &d);
	CHECK(d == NULL);
	CHECK_INT(vkc_desired_validate(c, "eastus", reason, sizeof(reason),
	    msg, sizeof(msg)), -EINVAL);
	CHECK_STR(reason, "InvalidSpec");
	json_object_put(c);
	c = parse("[1,2]");
	build_all(c, &d);
	CHECK(d == NULL);
	CHECK_INT(vkc_desired_validate(c, "eastus", reason, sizeof(reason),
	    msg, sizeof(msg)), -EINVAL);
	json_object_put(c);
	build_all(NULL, &d);
	CHECK(d == NULL);
	CHECK_INT(vkc_desired_validate(NULL, "eastus", reason, sizeof(reason),
	    msg, sizeof(msg)), -EINVAL);
}

static int
validate(const char *spec, const char *location, const char *want_reason,
    const char *want_in_msg)
{
	struct json_object *c = connector(spec);
	char reason[64], msg[512];
	int rc, ok = 1;

	rc = vkc_desired_validate(c, location, reason, sizeof(reason), msg,
	    sizeof(msg));
	if (want_reason == NULL) {
		if (rc != 0) {
			printf("spec %s: %s: %s\n", spec, reason, msg);
			ok = 0;
		}
	} else if (rc != -EINVAL || strcmp(reason, want_reason) != 0 ||
	    (want_in_msg != NULL && strstr(msg, want_in_msg) == NULL)) {
		printf("spec %s: rc %d, %s: %s\n", spec, rc, reason, msg);
		ok = 0;
	}
	json_object_put(c);
	return ok;
}

TEST(validate)
{
	char spec[256], name[80];
	struct json_object *c;
	char reason[64], msg[512];

	CHECK(validate("{}", "eastus", NULL, NULL));
	CHECK(validate(full_spec, "eastus", NULL, NULL));
	CHECK(validate("{\"location\":\"East US\"}", NULL, NULL, NULL));
	CHECK(validate("{}", "East US 2", NULL, NULL));
	CHECK(validate("{}", NULL, "InvalidLocation", "spec.location"));
	CHECK(validate("{\"location\":\"east-us\"}", NULL, "InvalidLocation",
	    "east-us"));
	CHECK(validate("{}", "   ", "InvalidLocation", NULL));
	CHECK(validate("{\"osType\":\"Mac\"}", "eastus", "InvalidSpec",
	    "Mac"));
	CHECK(validate("{\"osType\":\"linux\"}", "eastus", "InvalidSpec",
	    NULL));

	/* InvalidName: names the release, its length, what to fix */
	memset(name, 'n', 49);
	name[49] = '\0';
	c = parse("{\"metadata\":{\"name\":\"x\"}}");
	json_object_object_add(json_object_object_get(c, "metadata"), "name",
	    json_object_new_string(name));
	CHECK_INT(vkc_desired_validate(c, "eastus", reason, sizeof(reason),
	    msg, sizeof(msg)), 0);
	vkc_json_set(c, "spec.osType", json_object_new_string("Both"));
	CHECK_INT(vkc_desired_validate(c, "eastus", reason, sizeof(reason),
	    msg, sizeof(msg)), -EINVAL);
	CHECK_STR(reason, "InvalidName");
	snprintf(spec, sizeof(spec), "'%s-windows-eastus'", name);
	CHECK(strstr(msg, spec) != NULL);
	CHECK(strstr(msg, "(64 characters)") != NULL);
	CHECK(strstr(msg, "metadata.name") != NULL);
	CHECK(strstr(msg, "location") != NULL);
	json_object_put(c);
	c = parse("{\"metadata\":{\"name\":\"My.Connector\"}}");
	CHECK_INT(vkc_desired_validate(c, "eastus", reason, sizeof(reason),
	    msg, sizeof(msg)), -EINVAL);
	CHECK_STR(reason, "InvalidName");
	json_object_put(c);

	CHECK(validate("{\"credentials\":{\"secretRef\":{\"name\":\"Bad_Name\""
	    "}}}", "eastus", "InvalidCredentials", "Bad_Name"));
	CHECK(validate("{\"credentials\":{\"secretRef\":{}}}", "eastus",
	    "InvalidCredentials", "name"));
	CHECK(validate("{\"credentials\":{\"secretRef\":{\"name\":\"sp\"},"
	    "\"managedIdentityClientId\":\"x\"}}", "eastus",
	    "InvalidCredentials", "managedIdentityClientId"));
	CHECK(validate("{\"credentials\":{\"secretRef\":{\"name\":\"a.b-c\"}}}",
	    "eastus", NULL, NULL));

	CHECK(validate("{\"osType\":\"Windows\",\"network\":{\"vnetName\":"
	    "\"v\"}}", "eastus", "InvalidNetwork", "Linux"));
	CHECK(validate("{\"osType\":\"Both\",\"network\":{\"vnetName\":"
	    "\"v\"}}", "eastus", NULL, NULL));
	CHECK(validate("{\"network\":{\"vnetName\":\"v\",\"subnetCidr\":"
	    "\"10.0.0.0/33\"}}", "eastus", "InvalidNetwork", "subnetCidr"));
	CHECK(validate("{\"network\":{\"kubeDnsIp\":\"10.0.0\"}}", "eastus",
	    "InvalidNetwork", "kubeDnsIp"));
	/* no vnetName: the cluster's virtual network, from azure.json */
	CHECK(validate("{\"network\":{\"subnetName\":\"s\","
	    "\"subnetCidr\":\"10.241.0.0/16\"}}", "eastus", NULL, NULL));

	CHECK(validate("{\"image\":{\"pullPolicy\":\"Sometimes\"}}", "eastus",
	    "InvalidSpec", "pullPolicy"));
	CHECK(validate("{\"taint\":{\"effect\":\"NoRun\"}}", "eastus",
	    "InvalidSpec", "effect"));
	CHECK(validate("{\"masterUri\":\"http://x\"}", "eastus", "InvalidSpec",
	    "masterUri"));
	CHECK(validate("{\"monitoredNamespace\":\"Team\"}", "eastus",
	    "InvalidSpec", "monitoredNamespace"));
	CHECK(validate("{\"tenantId\":\"nope\"}", "eastus", "InvalidSpec",
	    "tenantId"));
	CHECK(validate("{\"aciResourceGroup\":\"rg.\"}", "eastus",
	    "InvalidSpec", "aciResourceGroup"));
	CHECK(validate("{\"aciResourceGroup\":\"my_rg(1)\"}", "eastus", NULL,
	    NULL));
	CHECK(validate("{\"removal\":{\"drainTimeoutSeconds\":-1}}", "eastus",
	    "InvalidSpec", "drainTimeoutSeconds"));
	CHECK(validate("{\"resources\":{\"limits\":{\"cpu\":true}}}", "eastus",
	    "InvalidSpec", "spec.resources.limits.cpu"));
}

static int
hash(const char *spec, const char *secret, char out[65])
{
	struct json_object *c = connector(spec), *s = NULL;
	int rc;

	if (secret != NULL)
		s = parse(secret);
	rc = vkc_credentials_hash(c, s, out);
	json_object_put(c);
	json_object_put(s);
	return rc;
}

TEST(credentials_hash)
{
	static const char *const sp =
	    "{\"credentials\":{\"secretRef\":{\"name\":\"sp\"}}}";
	char h1[65], h2[65], h3[65], h4[65], want[65];
	unsigned char md[32];
	unsigned int mdlen, i;
	const char *in;

	CHECK_INT(hash(sp, "{\"data\":{\"clientId\":\"aWQ=\","
	    "\"clientSecret\":\"czE=\",\"tenantId\":\"dA==\"}}", h1), 0);
	CHECK_INT(strlen(h1), 64);
	/* the same data in another member order */
	CHECK_INT(hash(sp, "{\"data\":{\"tenantId\":\"dA==\","
	    "\"clientSecret\":\"czE=\",\"clientId\":\"aWQ=\"},\"kind\":"
	    "\"Secret\"}", h2), 0);
	CHECK_STR(h1, h2);
	/* a rotated secret changes the hash */
	CHECK_INT(hash(sp, "{\"data\":{\"clientId\":\"aWQ=\","
	    "\"clientSecret\":\"czI=\",\"tenantId\":\"dA==\"}}", h3), 0);
	CHECK(strcmp(h1, h3) != 0);
	/* the input is key=value lines in a fixed order */
	in = "clientId=aWQ=\nclientSecret=czE=\ntenantId=dA==\n";
	EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	CHECK_STR(h1, want);
	/* keys it does not reference do not count */
	CHECK_INT(hash(sp, "{\"data\":{\"clientId\":\"aWQ=\","
	    "\"clientSecret\":\"czE=\",\"tenantId\":\"dA==\",\"other\":\"eA==\""
	    "}}", h2), 0);
	CHECK_STR(h1, h2);
	/* spec.tenantId overrides the Secret's key, which then does not count */
	CHECK_INT(hash("{\"tenantId\":\"11111111-2222-3333-4444-555555555555\","
	    "\"credentials\":{\"secretRef\":{\"name\":\"sp\"}}}",
	    "{\"data\":{\"clientId\":\"aWQ=\",\"clientSecret\":\"czE=\","
	    "\"tenantId\":\"dA==\"}}", h2), 0);
	CHECK_INT(hash("{\"tenantId\":\"11111111-2222-3333-4444-555555555555\","
	    "\"credentials\":{\"secretRef\":{\"name\":\"sp\"}}}",
	    "{\"data\":{\"clientId\":\"aWQ=\",\"clientSecret\":\"czE=\","
	    "\"tenantId\":\"ZA==\"}}", h3), 0);
	CHECK_STR(h2, h3);
	CHECK(strcmp(h1, h2) != 0);
	/* without a secretRef the Secret is not used */
	CHECK_INT(hash("{}", "{\"data\":{\"clientId\":\"aWQ=\"}}", h2), 0);
	CHECK_INT(hash("{}", NULL, h3), 0);
	CHECK_STR(h2, h3);
	/* a managed identity counts */
	CHECK_INT(hash("{\"credentials\":{\"managedIdentityClientId\":\"m1\"}}",
	    NULL, h2), 0);
	CHECK_INT(hash("{\"credentials\":{\"managedIdentityClientId\":\"m2\"}}",
	    NULL, h4), 0);
	CHECK(strcmp(h2, h4) != 0);
	CHECK(strcmp(h2, h3) != 0);
	/* wrong-typed data is skipped, not a crash */
	CHECK_INT(hash(sp, "{\"data\":{\"clientId\":5,\"clientSecret\":[]}}",
	    h2), 0);
	CHECK_INT(hash(sp, "{\"data\":\"x\"}", h4), 0);
	CHECK_STR(h2, h4);
	CHECK_INT(hash(sp, "[]", h4), 0);
	CHECK_STR(h2, h4);
}

TEST(tls_secret)
{
	struct json_object *c = connector("{}"), *s;
	struct vkc_desired_ctx ctx = { c, "eastus", NULL };
	struct vkc_release r;
	const char *crt, *key;

	release(&r, VKC_OS_LINUX);
	s = vkc_desired_tls_secret(&ctx, &r, "-----BEGIN CERT-----\nab\n",
	    "k");
	CHECK(s != NULL);
	CHECK_STR(str_at(s, "apiVersion"), "v1");
	CHECK_STR(str_at(s, "kind"), "Secret");
	CHECK_STR(str_at(s, "type"), "kubernetes.io/tls");
	CHECK_STR(str_at(s, "metadata.name"),
	    "virtual-kubelet-linux-eastus-tls");
	CHECK_STR(str_at(s, "metadata.namespace"), "default");
	CHECK(vkc_json_get(s, "metadata.ownerReferences") != NULL);
	{
		struct json_object *data = vkc_json_get(s, "data"), *v;

		CHECK(json_object_object_get_ex(data, "tls.crt", &v));
		crt = json_object_get_string(v);
		CHECK_STR(crt, "LS0tLS1CRUdJTiBDRVJULS0tLS0KYWIK");
		CHECK(strchr(crt, '\n') == NULL);
		CHECK(json_object_object_get_ex(data, "tls.key", &v));
		key = json_object_get_string(v);
		CHECK_STR(key, "aw==");
	}
	json_object_put(s);
	CHECK(vkc_desired_tls_secret(&ctx, &r, NULL, "k") == NULL);
	json_object_put(c);
}

TEST(service_account_and_crb)
{
	struct json_object *c = connector(full_spec), *o;
	struct vkc_desired_ctx ctx = { c, "eastus", NULL };
	struct vkc_release r;

	release(&r, VKC_OS_LINUX);
	o = vkc_desired_service_account(&ctx, &r);
	CHECK_STR(str_at(o, "apiVersion"), "v1");
	CHECK_STR(str_at(o, "kind"), "ServiceAccount");
	CHECK_STR(str_at(o, "metadata.name"), "virtual-kubelet-linux-eastus");
	CHECK_STR(str_at(o, "metadata.namespace"), "default");
	CHECK_INT(json_object_array_length(vkc_json_get(o,
	    "metadata.ownerReferences")), 1);
	json_object_put(o);

	o = vkc_desired_cluster_role_binding(&ctx, &r);
	CHECK_STR(str_at(o, "apiVersion"), "rbac.authorization.k8s.io/v1");
	CHECK_STR(str_at(o, "kind"), "ClusterRoleBinding");
	CHECK_STR(str_at(o, "metadata.name"),
	    "vkc-default-virtual-kubelet-linux-eastus");
	CHECK(vkc_json_get(o, "metadata.namespace") == NULL);
	CHECK(vkc_json_get(o, "metadata.ownerReferences") == NULL);
	CHECK(vkc_json_get(o, "metadata.labels") != NULL);
	CHECK_STR(json(vkc_json_get(o, "roleRef")),
	    "{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":"
	    "\"ClusterRole\",\"name\":\"custom-role\"}");
	CHECK_STR(json(vkc_json_get(o, "subjects")),
	    "[{\"kind\":\"ServiceAccount\",\"name\":"
	    "\"virtual-kubelet-linux-eastus\",\"namespace\":\"default\"}]");
	json_object_put(o);
	json_object_put(c);

	/* never stored (no uid): no ownerReference */
	c = parse("{\"metadata\":{\"name\":\"virtual-kubelet\","
	    "\"namespace\":\"default\"},\"spec\":{}}");
	ctx.connector = c;
	o = vkc_desired_service_account(&ctx, &r);
	CHECK(o != NULL);
	CHECK(vkc_json_get(o, "metadata.ownerReferences") == NULL);
	json_object_put(o);
	json_object_put(c);
}

TEST(scheduling)
{
	struct json_object *c = connector("{\"taint\":{\"key\":\"k\","
	    "\"value\":\"\",\"effect\":\"NoExecute\"}}"), *o, *d;
	struct vkc_desired_ctx ctx = { c, "eastus", NULL };
	struct vkc_release r;

	release(&r, VKC_OS_WINDOWS);
	o = vkc_desired_scheduling(&ctx, &r);
	CHECK_STR(json(o), "{\"osType\":\"Windows\",\"nodeName\":"
	    "\"virtual-kubelet-virtual-kubelet-windows-eastus\","
	    "\"nodeSelector\":{\"kubernetes.io/os\":\"windows\","
	    "\"kubernetes.io/role\":\"agent\",\"type\":\"virtual-kubelet\"},"
	    "\"tolerations\":[{\"key\":\"k\",\"operator\":\"Equal\","
	    "\"value\":\"\",\"effect\":\"NoExecute\"}]}");
	json_object_put(o);
	/* an empty taint value is passed as an env var without a value, as
	 * the apiserver stores it */
	d = vkc_desired_deployment(&ctx, &r);
	CHECK_STR(json(env_find(d, "VKUBELET_TAINT_VALUE")),
	    "{\"name\":\"VKUBELET_TAINT_VALUE\"}");
	json_object_put(d);
	json_object_put(c);

	c = connector("{}");
	ctx.connector = c;
	release(&r, VKC_OS_LINUX);
	o = vkc_desired_scheduling(&ctx, &r);
	CHECK_STR(json(o), "{\"osType\":\"Linux\",\"nodeName\":"
	    "\"virtual-kubelet-virtual-kubelet-linux-eastus\","
	    "\"nodeSelector\":{\"kubernetes.io/os\":\"linux\","
	    "\"kubernetes.io/role\":\"agent\",\"type\":\"virtual-kubelet\"},"
	    "\"tolerations\":[{\"key\":\"virtual-kubelet.io/provider\","
	    "\"operator\":\"Equal\",\"value\":\"azure\",\"effect\":"
	    "\"NoSchedule\"}]}");
	json_object_put(o);
	json_object_put(c);
}

TEST(image_digest)
{
	struct json_object *c = connector("{\"image\":{\"tag\":"
	    "\"sha256:0123abcd\"}}"), *d;
	struct vkc_desired_ctx ctx = { c, "eastus", NULL };
	struct vkc_release r;

	release(&r, VKC_OS_LINUX);
	d = vkc_desired_deployment(&ctx, &r);
	CHECK_STR(str_at(container_of(d), "image"),
	    "mcr.microsoft.com/oss/virtual-kubelet/virtual-kubelet"
	    "@sha256:0123abcd");
	json_object_put(d);
	json_object_put(c);
}

int
main(void)
{
	RUN(release_init);
	RUN(labels);
	RUN(deployment_linux);
	RUN(deployment_windows);
	RUN(monitored_namespace_and_identity);
	RUN(defaults);
	RUN(wrong_types);
	RUN(validate);
	RUN(credentials_hash);
	RUN(tls_secret);
	RUN(service_account_and_crb);
	RUN(scheduling);
	RUN(image_digest);
	CHECK_DONE();
}
