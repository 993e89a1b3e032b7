/*
 * kubectl-vkc.c: the kubectl plugin (DESIGN.md §7), so that `kubectl vkc
 * ...` gives az users their connector commands back against the cluster
 * of the current kubeconfig context: install-connector, upgrade-connector
 * and remove-connector with az's flag names, plus list and render.
 *
 * The plugin writes VirtualKubeletConnector objects (server-side apply,
 * field manager kubectl-vkc) and the Secret that holds a service
 * principal; vkc-operator does the rest. render needs no cluster: it
 * builds the children with desired.c, exactly as the operator does.
 *
 * Exit codes: 0 done, 1 an error, 2 a usage error. Messages go to stderr,
 * lower-case, the error first, then how to fix it. A secret's value is
 * never printed, except in the --dry-run output the user asked for.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "base64.h"
#include "buf.h"
#include "desired.h"
#include "jsonutil.h"
#include "kube.h"
#include "kubeconfig.h"
#include "names.h"
#include "tlscert.h"
#include "yamljson.h"

#ifndef VKC_VERSION
#define VKC_VERSION "0.0.0"
#endif

#define PLUGIN_MANAGER "kubectl-vkc"
#define MANAGED_BY_LABEL "app.kubernetes.io/managed-by"
#define DEFAULT_CONNECTOR_NAME "aci-connector"
#define DEFAULT_TIMEOUT_S 120
#define DEFAULT_DRAIN_TIMEOUT_S 300
#define POLL_NS (500L * 1000 * 1000)
#define FILE_MAX (4L << 20)
#define TLS_PLACEHOLDER "placeholder: vkc-operator makes the certificate\n"

enum {
	EXIT_OK = 0,
	EXIT_ERR = 1,
	EXIT_USAGE = 2,
};

enum verb {
	VERB_NONE,
	VERB_INSTALL,
	VERB_UPGRADE,
	VERB_REMOVE,
	VERB_LIST,
	VERB_RENDER,
	VERB_VERSION,
	VERB_HELP,
};

#define V(v) (1u << (v))
#define V_CLUSTER (V(VERB_INSTALL) | V(VERB_UPGRADE) | V(VERB_REMOVE) | \
	V(VERB_LIST))
#define V_SPEC (V(VERB_INSTALL) | V(VERB_UPGRADE) | V(VERB_RENDER))
#define V_ANY 0xffffu

static const struct {
	enum verb verb;
	const char *name;
} verbs[] = {
	{ VERB_INSTALL, "install-connector" },
	{ VERB_UPGRADE, "upgrade-connector" },
	{ VERB_REMOVE, "remove-connector" },
	{ VERB_LIST, "list" },
	{ VERB_RENDER, "render" },
	{ VERB_VERSION, "version" },
	{ VERB_HELP, "help" },
};

enum flag_id {
	F_KUBECONFIG,
	F_CONTEXT,
	F_NAMESPACE,
	F_ALL_NAMESPACES,
	F_CONNECTOR_NAME,
	F_OS_TYPE,
	F_ACI_RG,
	F_LOCATION,
	F_SP,
	F_CLIENT_SECRET,
	F_IMAGE_TAG,
	F_IMAGE_REPO,
	F_FILE,
	F_OUTPUT,
	F_DRY_RUN,
	F_WAIT,
	F_NO_WAIT,
	F_TIMEOUT,
	F_GRACEFUL,
	F_GENERATE_TLS,
	F_HELP,
	F_VERSION,
};

enum arg_kind {
	ARG_NONE,	/* --flag (also --flag=true|false) */
	ARG_REQUIRED,	/* --flag VALUE or --flag=VALUE */
	ARG_OPTIONAL,	/* --flag or --flag=VALUE */
};

static const struct flag {
	enum flag_id id;
	const char *name;
	char shortname;
	enum arg_kind arg;
	unsigned verbs;
} flags[] = {
	{ F_KUBECONFIG, "kubeconfig", 0, ARG_REQUIRED, V_ANY },
	{ F_CONTEXT, "context", 0, ARG_REQUIRED, V_ANY },
	{ F_NAMESPACE, "namespace", 'n', ARG_REQUIRED,
	    V_CLUSTER | V(VERB_RENDER) },
	{ F_ALL_NAMESPACES, "all-namespaces", 'A', ARG_NONE, V(VERB_LIST) },
	{ F_CONNECTOR_NAME, "connector-name", 0, ARG_REQUIRED,
	    V_SPEC | V(VERB_REMOVE) },
	{ F_OS_TYPE, "os-type", 0, ARG_REQUIRED, V_SPEC | V(VERB_REMOVE) },
	{ F_ACI_RG, "aci-resource-group", 0, ARG_REQUIRED, V_SPEC },
	{ F_LOCATION, "location", 'l', ARG_REQUIRED, V_SPEC },
	{ F_SP, "service-principal", 0, ARG_REQUIRED, V_SPEC },
	{ F_CLIENT_SECRET, "client-secret", 0, ARG_REQUIRED, V_SPEC },
	{ F_IMAGE_TAG, "image-tag", 0, ARG_REQUIRED, V_SPEC },
	{ F_IMAGE_REPO, "image-repository", 0, ARG_REQUIRED, V_SPEC },
	{ F_FILE, "filename", 'f', ARG_REQUIRED, V(VERB_RENDER) },
	{ F_OUTPUT, "output", 'o', ARG_REQUIRED,
	    V(VERB_INSTALL) | V(VERB_UPGRADE) | V(VERB_RENDER) },
	{ F_DRY_RUN, "dry-run", 0, ARG_OPTIONAL,
	    V(VERB_INSTALL) | V(VERB_UPGRADE) },
	{ F_WAIT, "wait", 0, ARG_NONE,
	    V(VERB_INSTALL) | V(VERB_UPGRADE) | V(VERB_REMOVE) },
	{ F_NO_WAIT, "no-wait", 0, ARG_NONE,
	    V(VERB_INSTALL) | V(VERB_UPGRADE) | V(VERB_REMOVE) },
	{ F_TIMEOUT, "timeout", 0, ARG_REQUIRED,
	    V(VERB_INSTALL) | V(VERB_UPGRADE) | V(VERB_REMOVE) },
	{ F_GRACEFUL, "graceful", 0, ARG_NONE, V(VERB_REMOVE) },
	{ F_GENERATE_TLS, "generate-certificate", 0, ARG_NONE,
	    V(VERB_RENDER) },
	{ F_HELP, "help", 'h', ARG_NONE, V_ANY },
	{ F_VERSION, "version", 0, ARG_NONE, V_ANY },
};

/* az flags that have no place here, and what replaced them. */
static const struct retired {
	const char *name;
	char shortname;
	bool takes_value;
	const char *verdict;
	const char *why;
} retired[] = {
	{ "chart-url", 0, true, "is retired", "the Helm chart is gone: the "
	    "operator renders the Deployment; use "
	    "--image-tag/--image-repository" },
	{ "name", 0, true, "(az's AKS cluster name) is not needed",
	    "kubectl vkc works on the cluster of the current "
	    "kubeconfig context, not on an AKS cluster name: get its "
	    "credentials with 'az aks get-credentials --resource-group RG "
	    "--name CLUSTER' (or pick a context with --context); the "
	    "connector's own name is --connector-name, and -n is the "
	    "namespace here, as in kubectl" },
	{ "resource-group", 'g', true, "(az's cluster resource group) is not "
	    "needed", "kubectl vkc works on the cluster of "
	    "the current kubeconfig context, so it needs no resource group: "
	    "get the cluster's credentials with 'az aks get-credentials "
	    "--resource-group RG --name CLUSTER' (or pick a context with "
	    "--context); the container groups' resource group is "
	    "--aci-resource-group, and -n is the namespace here, not the "
	    "cluster name" },
	{ "subscription", 0, true, "is not needed", "the subscription comes "
	    "from the credentials (the nodes' azure.json, or the Secret's "
	    "subscriptionId key): set spec.subscriptionId on the connector to "
	    "choose another" },
};

/* What the command line asked for. */
struct cli {
	enum verb verb;
	enum verb help_verb;
	unsigned long given;		/* 1ul << flag_id */
	const char *kubeconfig;
	const char *context;
	const char *ns_flag;
	const char *connector_name;
	const char *os_type;
	const char *aci_rg;
	const char *location;
	const char *sp;
	const char *client_secret;
	const char *image_tag;
	const char *image_repo;
	const char *file;
	const char *output;
	bool all_ns;
	bool dry_run;
	bool wait;
	bool graceful;
	bool generate_tls;
	long timeout_s;

	/* resolved from the above */
	char name[254];			/* the connector's, lower-cased */
	char os_title[8];		/* Linux, Windows, Both */
	unsigned mask;			/* VKC_OS_BIT()s of os_title */
	char loc[64];			/* normalised location, or "" */
	char ns[254];
	char secret_name[270];		/* <name>-credentials */
	struct kube_client *c;
};

#define GIVEN(cl, f) (((cl)->given & (1ul << (f))) != 0)

static void
errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *
verb_name(enum verb v)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verb == v)
			return verbs[i].name;
	return "";
}

/* ---- help ---- */

static const char global_help[] =
    "global flags:\n"
    "  --kubeconfig PATH        the kubeconfig file (default $KUBECONFIG, "
    "else ~/.kube/config)\n"
    "  --context NAME           the kubeconfig context (default the "
    "current one)\n"
    "  -n, --namespace NS       the connector's namespace (default the "
    "context's, else\n"
    "                           default)\n";

static const char spec_help[] =
    "  --connector-name NAME    the connector's name (default "
    DEFAULT_CONNECTOR_NAME "); lower-cased\n"
    "  --os-type OS             Linux, Windows or Both (default Linux): one "
    "virtual node\n"
    "                           per OS\n"
    "  -l, --location LOCATION  the Azure region of the container groups, "
    "e.g. \"East US\"\n"
    "                           (default: the region of the cluster's "
    "nodes)\n"
    "  --aci-resource-group RG  the resource group of the container groups "
    "(default: the\n"
    "                           one in the nodes' azure.json)\n"
    "  --service-principal ID   the client ID to authenticate to Azure as "
    "(default: the\n"
    "                           cluster identity in the nodes' azure.json); "
    "needs\n"
    "                           --client-secret\n"
    "  --client-secret SECRET   the service principal's secret; both go "
    "into the Secret\n"
    "                           <name>-credentials, never into the "
    "connector\n"
    "  --image-tag TAG          the virtual-kubelet image tag (default "
    VKC_DEFAULT_IMAGE_TAG ")\n"
    "  --image-repository REPO  the virtual-kubelet image (default\n"
    "                           " VKC_DEFAULT_IMAGE_REPOSITORY ")\n";

static const char wait_help[] =
    "  --wait=false             return once the change is stored, without "
    "waiting for the\n"
    "                           operator (--no-wait works too)\n"
    "  --timeout DURATION       how long to wait for the operator, e.g. "
    "90s, 5m (default\n"
    "                           120s)\n";

static void
usage_main(FILE *f)
{
	fprintf(f,
	    "kubectl vkc: Virtual Kubelet connectors for Azure Container "
	    "Instances, run by\n"
	    "vkc-operator, in the cluster of the current kubeconfig context: "
	    "the commands of\n"
	    "'az aks install-connector' and its siblings, on a "
	    "VirtualKubeletConnector object.\n"
	    "\n"
	    "usage: kubectl vkc COMMAND [flags]\n"
	    "\n"
	    "commands:\n"
	    "  install-connector  create a connector (az aks "
	    "install-connector)\n"
	    "  upgrade-connector  change an existing connector (az aks "
	    "upgrade-connector)\n"
	    "  remove-connector   remove a connector, or one OS of it (az aks "
	    "remove-connector)\n"
	    "  list               list the connectors of the namespace (-A: "
	    "of every namespace)\n"
	    "  render             print a connector and every object the "
	    "operator makes for it,\n"
	    "                     with no cluster\n"
	    "  version            print the plugin's version\n"
	    "\n"
	    "%s\n"
	    "Run 'kubectl vkc COMMAND --help' for a command's flags.\n",
	    global_help);
}

static void
usage_verb(FILE *f, enum verb v)
{
	switch (v) {
	case VERB_INSTALL:
		fprintf(f,
		    "usage: kubectl vkc install-connector [--connector-name "
		    "NAME] [--os-type OS]\n"
		    "           [--location LOCATION] [--aci-resource-group "
		    "RG]\n"
		    "           [--service-principal ID --client-secret "
		    "SECRET]\n"
		    "           [--image-tag TAG] [--image-repository REPO]\n"
		    "           [--wait=false] [--timeout DURATION] "
		    "[--dry-run=client -o yaml|json]\n"
		    "\n"
		    "Creates a VirtualKubeletConnector (server-side apply, "
		    "field manager " PLUGIN_MANAGER "),\n"
		    "waits until vkc-operator has acted on it and shows what "
		    "it made: per OS a\n"
		    "Deployment <name>-<os>-<location> and the virtual node "
		    "virtual-kubelet-<name>-<os>-<location>,\n"
		    "and the nodeSelector and tolerations a pod needs to run "
		    "there.\n"
		    "\n"
		    "flags:\n%s%s"
		    "  --dry-run[=client]       print the objects (Secret and "
		    "connector) instead of\n"
		    "                           creating them; no cluster is "
		    "contacted\n"
		    "  -o, --output yaml|json   the format of --dry-run's "
		    "output\n"
		    "\n%s"
		    "\n"
		    "example:\n"
		    "  kubectl vkc install-connector --connector-name "
		    "virtual-kubelet --os-type Both \\\n"
		    "      --location eastus\n",
		    spec_help, wait_help, global_help);
		break;
	case VERB_UPGRADE:
		fprintf(f,
		    "usage: kubectl vkc upgrade-connector [--connector-name "
		    "NAME] [flags]\n"
		    "\n"
		    "Changes an existing connector: the flags given replace "
		    "the connector's values;\n"
		    "those not given keep theirs (--os-type too: give it to "
		    "add or drop an OS).\n"
		    "Waits until vkc-operator has acted on the change.\n"
		    "\n"
		    "flags:\n%s%s"
		    "  --dry-run[=client]       print the objects the flags "
		    "describe instead of\n"
		    "                           applying them; no cluster is "
		    "contacted\n"
		    "  -o, --output yaml|json   the format of --dry-run's "
		    "output\n"
		    "\n%s"
		    "\n"
		    "example:\n"
		    "  kubectl vkc upgrade-connector --connector-name "
		    "virtual-kubelet --image-tag 1.6.5\n",
		    spec_help, wait_help, global_help);
		break;
	case VERB_REMOVE:
		fprintf(f,
		    "usage: kubectl vkc remove-connector [--connector-name "
		    "NAME] [--os-type OS]\n"
		    "           [--graceful] [--wait=false] [--timeout "
		    "DURATION]\n"
		    "\n"
		    "Removes the connector's virtual nodes of --os-type, as az "
		    "did: on a Both connector,\n"
		    "--os-type Linux leaves it running Windows (and the other "
		    "way round); removing\n"
		    "its last OS (or Both) deletes the connector, and the "
		    "Secret <name>-credentials\n"
		    "if install-connector made it. Waits until the operator "
		    "has removed the\n"
		    "Deployments and virtual nodes, and lists them.\n"
		    "\n"
		    "flags:\n"
		    "  --connector-name NAME    the connector's name (default "
		    DEFAULT_CONNECTOR_NAME ")\n"
		    "  --os-type OS             Linux, Windows or Both "
		    "(default Linux)\n"
		    "  --graceful               drain the virtual nodes first "
		    "(evicts their pods; sets\n"
		    "                           spec.removal.drain)\n"
		    "%s"
		    "                           (with --graceful, 120s more "
		    "than the drain timeout)\n"
		    "\n%s"
		    "\n"
		    "example:\n"
		    "  kubectl vkc remove-connector --connector-name "
		    "virtual-kubelet --os-type Both\n",
		    wait_help, global_help);
		break;
	case VERB_LIST:
		fprintf(f,
		    "usage: kubectl vkc list [-A]\n"
		    "\n"
		    "Lists the connectors of the namespace: NAME, OS, "
		    "LOCATION, READY, AGE.\n"
		    "\n"
		    "flags:\n"
		    "  -A, --all-namespaces     list the connectors of every "
		    "namespace\n"
		    "\n%s", global_help);
		break;
	case VERB_RENDER:
		fprintf(f,
		    "usage: kubectl vkc render --location LOCATION [connector "
		    "flags]\n"
		    "       kubectl vkc render -f FILE\n"
		    "\n"
		    "Prints, with no cluster and no kubeconfig, the connector "
		    "and every object\n"
		    "vkc-operator would create for it (per OS: ServiceAccount, "
		    "kubelet TLS Secret,\n"
		    "ClusterRoleBinding, Deployment), as a YAML stream, built "
		    "exactly as the\n"
		    "operator builds them. The TLS Secret holds a placeholder "
		    "that the operator\n"
		    "replaces (the apiserver warns that it is no "
		    "certificate), unless\n"
		    "--generate-certificate.\n"
		    "\n"
		    "flags:\n%s"
		    "  -f, --filename FILE      render the connectors of a "
		    "manifest (- for stdin)\n"
		    "                           instead of the flags above\n"
		    "  --generate-certificate   put a freshly made certificate "
		    "and key in the TLS Secret\n"
		    "  -o, --output yaml|json   the output format (default "
		    "yaml)\n"
		    "  -n, --namespace NS       the namespace (default the "
		    "file's, else default)\n"
		    "\n"
		    "example:\n"
		    "  kubectl vkc render --connector-name virtual-kubelet "
		    "--os-type Both \\\n"
		    "      --location \"East US\" | kubectl apply "
		    "--dry-run=server -f -\n",
		    spec_help);
		break;
	case VERB_VERSION:
		fprintf(f, "usage: kubectl vkc version\n\nPrints the "
		    "plugin's version.\n");
		break;
	default:
		usage_main(f);
		break;
	}
}

/* Says what went wrong with the command line and returns EXIT_USAGE. */
static int
usage_error(enum verb v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
usage_error(enum verb v, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (v == VERB_NONE || v == VERB_HELP)
		fprintf(stderr, "see 'kubectl vkc --help'\n");
	else
		fprintf(stderr, "see 'kubectl vkc %s --help'\n", verb_name(v));
	return EXIT_USAGE;
}

/* ---- the command line ---- */

/* Levenshtein distance, for "did you mean" (short strings only). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t row[64];

	if (la >= 64 || lb >= 64)
		return 64;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			tmp = row[j];
			row[j] = cur;
			prev = tmp;
		}
	}
	return row[lb];
}

static enum verb
find_verb(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, s) == 0)
			return verbs[i].verb;
	return VERB_NONE;
}

static const struct flag *
find_flag(const char *name, char shortname)
{
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (name != NULL && strcmp(flags[i].name, name) == 0)
			return &flags[i];
		if (name == NULL && shortname != 0 &&
		    flags[i].shortname == shortname)
			return &flags[i];
	}
	return NULL;
}

static const struct retired *
find_retired(const char *name, char shortname)
{
	size_t i;

	for (i = 0; i < sizeof(retired) / sizeof(retired[0]); i++) {
		if (name != NULL && strcmp(retired[i].name, name) == 0)
			return &retired[i];
		if (name == NULL && shortname != 0 &&
		    retired[i].shortname == shortname)
			return &retired[i];
	}
	return NULL;
}

/* The closest flag that v takes, when it is close enough to be a typo. */
static const char *
closest_flag(const char *name, enum verb v)
{
	const char *best = NULL;
	size_t i, d, bestd = 3;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (v != VERB_NONE && !(flags[i].verbs & V(v)))
			continue;
		d = distance(name, flags[i].name);
		if (d < bestd) {
			bestd = d;
			best = flags[i].name;
		}
	}
	return best;
}

static int
parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

/* A duration as kubectl takes it: "120s", "2m", "1m30s", "1h", or
 * plain seconds. */
static int
parse_duration(const char *s, long *out)
{
	long total = 0, n;
	char *end;

	if (*s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno != 0 || n > 1000000)
			return -EINVAL;
		s = end;
		if (*s == 'h') {
			n *= 3600;
			s++;
		} else if (*s == 'm') {
			n *= 60;
			s++;
		} else if (*s == 's') {
			s++;
		} else if (*s != '\0') {
			return -EINVAL;
		}
		total += n;
		if (total > 7L * 24 * 3600)
			return -EINVAL;
	}
	*out = total;
	return 0;
}

/* Stores one flag's value. Returns 0 or EXIT_USAGE. */
static int
set_flag(struct cli *cl, const struct flag *f, const char *shown,
    const char *value)
{
	bool b;

	if (cl->verb != VERB_NONE && cl->verb != VERB_HELP &&
	    !(f->verbs & V(cl->verb)))
		return usage_error(cl->verb, "%s does not take %s", verb_name(
		    cl->verb), shown);
	if (GIVEN(cl, f->id) && f->arg == ARG_REQUIRED)
		return usage_error(cl->verb, "%s given twice", shown);
	cl->given |= 1ul << f->id;
	switch (f->id) {
	case F_KUBECONFIG:
		cl->kubeconfig = value;
		break;
	case F_CONTEXT:
		cl->context = value;
		break;
	case F_NAMESPACE:
		cl->ns_flag = value;
		break;
	case F_ALL_NAMESPACES:
	case F_WAIT:
	case F_GRACEFUL:
	case F_GENERATE_TLS:
	case F_NO_WAIT:
	case F_HELP:
	case F_VERSION:
		b = true;
		if (value != NULL && parse_bool(value, &b) != 0)
			return usage_error(cl->verb, "%s takes true or false, "
			    "not '%s'", shown, value);
		if (f->id == F_ALL_NAMESPACES)
			cl->all_ns = b;
		else if (f->id == F_WAIT)
			cl->wait = b;
		else if (f->id == F_NO_WAIT)
			cl->wait = !b;
		else if (f->id == F_GRACEFUL)
			cl->graceful = b;
		else if (f->id == F_GENERATE_TLS)
			cl->generate_tls = b;
		else if (b && f->id == F_HELP)
			cl->help_verb = cl->verb == VERB_NONE ? VERB_HELP :
			    cl->verb;
		else if (b)
			cl->verb = VERB_VERSION;
		break;
	case F_CONNECTOR_NAME:
		cl->connector_name = value;
		break;
	case F_OS_TYPE:
		cl->os_type = value;
		break;
	case F_ACI_RG:
		cl->aci_rg = value;
		break;
	case F_LOCATION:
		cl->location = value;
		break;
	case F_SP:
		cl->sp = value;
		break;
	case F_CLIENT_SECRET:
		cl->client_secret = value;
		break;
	case F_IMAGE_TAG:
		cl->image_tag = value;
		break;
	case F_IMAGE_REPO:
		cl->image_repo = value;
		break;
	case F_FILE:
		cl->file = value;
		break;
	case F_OUTPUT:
		if (strcmp(value, "yaml") != 0 && strcmp(value, "json") != 0)
			return usage_error(cl->verb, "-o %s is not supported: "
			    "use -o yaml or -o json", value);
		cl->output = value;
		break;
	case F_DRY_RUN:
		if (value == NULL || strcmp(value, "client") == 0 ||
		    strcmp(value, "true") == 0)
			cl->dry_run = true;
		else if (strcmp(value, "none") == 0 ||
		    strcmp(value, "false") == 0)
			cl->dry_run = false;
		else
			return usage_error(cl->verb, "--dry-run=%s is not "
			    "supported: use --dry-run=client (prints the "
			    "objects, no cluster contact), or 'kubectl vkc "
			    "render ... | kubectl apply --dry-run=server -f -' "
			    "for the apiserver's check", value);
		break;
	case F_TIMEOUT:
		if (parse_duration(value, &cl->timeout_s) != 0)
			return usage_error(cl->verb, "--timeout '%s' is not a "
			    "duration: use e.g. 90s, 5m or 1m30s", value);
		break;
	}
	return 0;
}

/* The verb: the first argument that is neither a flag nor a flag's
 * value. */
static enum verb
scan_verb(int argc, char **argv, int *at)
{
	const struct flag *f;
	const struct retired *r;
	const char *a;
	int i;

	*at = -1;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0') {
			*at = i;
			return find_verb(a);
		}
		if (a[1] == '-') {
			if (strchr(a, '=') != NULL)
				continue;
			f = find_flag(a + 2, 0);
			r = find_retired(a + 2, 0);
		} else {
			if (a[2] != '\0')
				continue;
			f = find_flag(NULL, a[1]);
			r = find_retired(NULL, a[1]);
		}
		if ((f != NULL && f->arg == ARG_REQUIRED) ||
		    (f == NULL && r != NULL && r->takes_value))
			i++;
	}
	return VERB_NONE;
}

/* Parses argv into cl. Returns 0 or an exit code. */
static int
parse_args(struct cli *cl, int argc, char **argv)
{
	const struct flag *f;
	const struct retired *r;
	const char *a, *value, *hint;
	char name[64], shown[80];
	const char *eq;
	int i, at, rc;

	cl->wait = true;
	cl->timeout_s = -1;
	cl->verb = scan_verb(argc, argv, &at);
	if (at > 0 && cl->verb == VERB_NONE) {
		for (i = 0; i < (int)(sizeof(verbs) / sizeof(verbs[0])); i++)
			if (distance(argv[at], verbs[i].name) <= 3 ||
			    strstr(verbs[i].name, argv[at]) != NULL)
				break;
		if (i < (int)(sizeof(verbs) / sizeof(verbs[0])))
			return usage_error(VERB_NONE, "unknown command '%s': "
			    "did you mean '%s'?", argv[at], verbs[i].name);
		return usage_error(VERB_NONE, "unknown command '%s'",
		    argv[at]);
	}
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (i == at)
			continue;
		if (strcmp(a, "--") == 0 || a[0] != '-' || a[1] == '\0') {
			if (cl->verb == VERB_HELP && cl->help_verb ==
			    VERB_NONE && find_verb(a) != VERB_NONE) {
				cl->help_verb = find_verb(a);
				continue;
			}
			return usage_error(cl->verb, "unexpected argument "
			    "'%s'%s", a, cl->verb == VERB_INSTALL ||
			    cl->verb == VERB_UPGRADE || cl->verb ==
			    VERB_REMOVE ? ": name the connector with "
			    "--connector-name" : "");
		}
		value = NULL;
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			if (eq != NULL) {
				snprintf(name, sizeof(name), "%.*s",
				    (int)(eq - a - 2), a + 2);
				value = eq + 1;
			} else
				snprintf(name, sizeof(name), "%s", a + 2);
			snprintf(shown, sizeof(shown), "--%s", name);
			f = find_flag(name, 0);
			r = find_retired(name, 0);
		} else {
			snprintf(name, sizeof(name), "%c", a[1]);
			snprintf(shown, sizeof(shown), "-%c", a[1]);
			if (a[2] != '\0')
				value = a[2] == '=' ? a + 3 : a + 2;
			f = find_flag(NULL, a[1]);
			r = find_retired(NULL, a[1]);
		}
		if (f == NULL && r != NULL) {
			return usage_error(cl->verb, "%s %s: %s", shown,
			    r->verdict, r->why);
		}
		if (f == NULL) {
			hint = strlen(name) > 1 ? closest_flag(name,
			    cl->verb == VERB_HELP ? VERB_NONE : cl->verb) :
			    NULL;
			if (hint != NULL)
				return usage_error(cl->verb, "unknown flag %s: "
				    "did you mean --%s?", shown, hint);
			return usage_error(cl->verb, "unknown flag %s", shown);
		}
		if (f->arg == ARG_REQUIRED && value == NULL) {
			if (i + 1 >= argc)
				return usage_error(cl->verb, "%s needs a value",
				    shown);
			value = argv[++i];
		}
		rc = set_flag(cl, f, shown, value);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Resolves and checks the connector flags, as az did. Returns 0 or
 * EXIT_USAGE. */
static int
check_spec_flags(struct cli *cl)
{
	const char *n;
	size_t i, len;
	int rc;

	n = cl->connector_name != NULL ? cl->connector_name :
	    DEFAULT_CONNECTOR_NAME;
	len = strlen(n);
	if (len >= sizeof(cl->name))
		return usage_error(cl->verb, "--connector-name is too long");
	for (i = 0; i <= len; i++)
		cl->name[i] = (char)tolower((unsigned char)n[i]);
	/* az: ^[a-z0-9]([a-z0-9\-]*[a-z0-9])?$ */
	len = strlen(cl->name);
	for (i = 0; i < len; i++)
		if (!islower((unsigned char)cl->name[i]) &&
		    !isdigit((unsigned char)cl->name[i]) &&
		    !(cl->name[i] == '-' && i > 0 && i < len - 1))
			break;
	if (len == 0 || i < len)
		return usage_error(cl->verb, "--connector-name must consist of "
		    "lower case alphanumeric characters or dashes (-), and "
		    "must start and end with alphanumeric characters.");
	snprintf(cl->secret_name, sizeof(cl->secret_name), "%s-credentials",
	    cl->name);

	snprintf(cl->os_title, sizeof(cl->os_title), "Linux");
	if (cl->os_type != NULL) {
		if (strcasecmp(cl->os_type, "linux") == 0)
			snprintf(cl->os_title, sizeof(cl->os_title), "Linux");
		else if (strcasecmp(cl->os_type, "windows") == 0)
			snprintf(cl->os_title, sizeof(cl->os_title), "Windows");
		else if (strcasecmp(cl->os_type, "both") == 0)
			snprintf(cl->os_title, sizeof(cl->os_title), "Both");
		else
			return usage_error(cl->verb, "--os-type '%s' is not "
			    "one of Linux, Windows, Both", cl->os_type);
	}
	vkc_os_mask(cl->os_title, &cl->mask);
	if (cl->verb == VERB_REMOVE)
		return 0;

	if (cl->location != NULL) {
		rc = vkc_location_normalize(cl->location, cl->loc,
		    sizeof(cl->loc));
		if (rc != 0)
			return usage_error(cl->verb, "--location '%s' is not "
			    "an Azure region name: use letters, digits and "
			    "spaces, such as \"East US\" or eastus",
			    cl->location);
	}
	if (cl->sp != NULL && cl->client_secret == NULL)
		return usage_error(cl->verb, "--client-secret must be "
		    "specified when --service-principal is specified");
	if (cl->client_secret != NULL && cl->sp == NULL)
		return usage_error(cl->verb, "--service-principal must be "
		    "specified when --client-secret is specified");
	if ((cl->sp != NULL && cl->sp[0] == '\0') ||
	    (cl->client_secret != NULL && cl->client_secret[0] == '\0'))
		return usage_error(cl->verb, "--service-principal and "
		    "--client-secret must not be empty");
	if (cl->image_tag != NULL && cl->image_tag[0] == '\0')
		return usage_error(cl->verb, "--image-tag must not be empty");
	if (cl->image_repo != NULL && cl->image_repo[0] == '\0')
		return usage_error(cl->verb, "--image-repository must not be "
		    "empty");
	if (cl->aci_rg != NULL && cl->aci_rg[0] == '\0')
		return usage_error(cl->verb, "--aci-resource-group must not be "
		    "empty");
	if (cl->output != NULL && !cl->dry_run && cl->verb != VERB_RENDER)
		return usage_error(cl->verb, "-o needs --dry-run=client (to "
		    "print the objects instead of applying them)");
	return 0;
}

/* ---- objects ---- */

static int
jset_str(struct json_object *o, const char *path, const char *s)
{
	struct json_object *v;

	v = json_object_new_string(s);
	if (v == NULL)
		return -ENOMEM;
	return vkc_json_set(o, path, v);
}


/* The Secret <name>-credentials with the service principal, as data
 * (base64, what the API stores) or as stringData (for --dry-run). */
static struct json_object *
credentials_secret(const struct cli *cl, bool string_data)
{
	struct json_object *o;
	char *id = NULL, *sec = NULL;
	int rc;

	o = json_object_new_object();
	if (o == NULL)
		return NULL;
	rc = jset_str(o, "apiVersion", "v1");
	if (rc == 0)
		rc = jset_str(o, "kind", "Secret");
	if (rc == 0)
		rc = jset_str(o, "metadata.name", cl->secret_name);
	if (rc == 0)
		rc = jset_str(o, "metadata.namespace", cl->ns);
	if (rc == 0)
		rc = jset_str(o, "metadata.labels.app\\.kubernetes\\.io/name",
		    "virtual-kubelet");
	if (rc == 0)
		rc = jset_str(o, "metadata.labels.app\\.kubernetes\\.io/"
		    "managed-by", PLUGIN_MANAGER);
	if (rc == 0)
		rc = jset_str(o, "metadata.labels.connectors\\.virtual-kubelet"
		    "\\.io/name", cl->name);
	if (rc == 0)
		rc = jset_str(o, "type", "Opaque");
	if (rc != 0)
		goto out;
	if (string_data) {
		rc = jset_str(o, "stringData.clientId", cl->sp);
		if (rc == 0)
			rc = jset_str(o, "stringData.clientSecret",
			    cl->client_secret);
		goto out;
	}
	id = vkc_base64_encode(cl->sp, strlen(cl->sp));
	sec = vkc_base64_encode(cl->client_secret,
	    strlen(cl->client_secret));
	if (id == NULL || sec == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = jset_str(o, "data.clientId", id);
	if (rc == 0)
		rc = jset_str(o, "data.clientSecret", sec);
out:
	if (sec != NULL)
		OPENSSL_cleanse(sec, strlen(sec));
	free(id);
	free(sec);
	if (rc != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * The connector the flags describe. For an upgrade, old is the live
 * connector: a field whose flag was not given keeps its value there.
 */
static struct json_object *
connector_from_flags(const struct cli *cl, struct json_object *old)
{
	struct json_object *o;
	const char *os = cl->os_title, *loc = cl->loc[0] ? cl->loc : NULL;
	const char *rg = cl->aci_rg, *tag = cl->image_tag;
	const char *repo = cl->image_repo, *secret = NULL, *mi = NULL;
	int rc;

	if (cl->sp != NULL)
		secret = cl->secret_name;
	if (old != NULL) {
		if (cl->os_type == NULL)
			os = vkc_json_get_string(old, "spec.osType", os);
		if (loc == NULL)
			loc = vkc_json_get_string(old, "spec.location", NULL);
		if (rg == NULL)
			rg = vkc_json_get_string(old, "spec.aciResourceGroup",
			    NULL);
		if (tag == NULL)
			tag = vkc_json_get_string(old, "spec.image.tag", NULL);
		if (repo == NULL)
			repo = vkc_json_get_string(old,
			    "spec.image.repository", NULL);
		if (secret == NULL) {
			secret = vkc_json_get_string(old,
			    "spec.credentials.secretRef.name", NULL);
			mi = vkc_json_get_string(old,
			    "spec.credentials.managedIdentityClientId", NULL);
		}
	}
	o = json_object_new_object();
	if (o == NULL)
		return NULL;
	rc = jset_str(o, "apiVersion", VKC_API_VERSION);
	if (rc == 0)
		rc = jset_str(o, "kind", VKC_KIND);
	if (rc == 0)
		rc = jset_str(o, "metadata.name", cl->name);
	if (rc == 0)
		rc = jset_str(o, "metadata.namespace", cl->ns);
	if (rc == 0)
		rc = jset_str(o, "spec.osType", os);
	if (rc == 0 && loc != NULL)
		rc = jset_str(o, "spec.location", loc);
	if (rc == 0 && rg != NULL)
		rc = jset_str(o, "spec.aciResourceGroup", rg);
	if (rc == 0 && secret != NULL)
		rc = jset_str(o, "spec.credentials.secretRef.name", secret);
	if (rc == 0 && mi != NULL)
		rc = jset_str(o, "spec.credentials.managedIdentityClientId",
		    mi);
	if (rc == 0 && repo != NULL)
		rc = jset_str(o, "spec.image.repository", repo);
	if (rc == 0 && tag != NULL)
		rc = jset_str(o, "spec.image.tag", tag);
	if (rc != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Checks a connector as the operator will; location may be NULL (then a
 * short stand-in checks everything but the name length). Returns 0 or
 * EXIT_USAGE. */
static int
check_connector(const struct cli *cl, struct json_object *conn,
    const char *location)
{
	char reason[64], msg[512];

	if (location == NULL)
		location = vkc_json_get_string(conn, "spec.location", "a");
	if (vkc_desired_validate(conn, location, reason, sizeof(reason), msg,
	    sizeof(msg)) == 0)
		return 0;
	return usage_error(cl->verb, "%s (%s)", msg, reason);
}

/* Prints objs (an array) as a YAML stream or as a JSON List. */
static int
print_objects(struct json_object *objs, const char *format)
{
	struct json_object *list = NULL, *o;
	char *y;
	size_t i, n = json_object_array_length(objs);
	int rc = 0;

	if (format != NULL && strcmp(format, "json") == 0) {
		list = json_object_new_object();
		if (list == NULL)
			return -ENOMEM;
		json_object_object_add(list, "apiVersion",
		    json_object_new_string("v1"));
		json_object_object_add(list, "kind",
		    json_object_new_string("List"));
		json_object_object_add(list, "items", json_object_get(objs));
		printf("%s\n", json_object_to_json_string_ext(list,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(list);
		return 0;
	}
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(objs, i);
		y = vkc_yaml_emit(o);
		if (y == NULL) {
			rc = -ENOMEM;
			break;
		}
		printf("---\n%s", y);
		if (y[0] != '\0' && y[strlen(y) - 1] != '\n')
			putchar('\n');
		free(y);
	}
	return rc;
}

/* ---- the namespace and the cluster ---- */

/*
 * The namespace: -n, else the kubeconfig context's when a kubeconfig
 * loads (nothing is sent to the cluster), else "default". With
 * need_cluster, a kubeconfig that does not load is an error and the
 * client is made.
 */
static int
open_cluster(struct cli *cl, bool need_cluster)
{
	struct vkc_kubeconfig kc;
	struct kube_client_options opts;
	char err[512];
	int rc;

	memset(&kc, 0, sizeof(kc));
	rc = vkc_kubeconfig_load(&kc, cl->kubeconfig, cl->context, err,
	    sizeof(err));
	if (rc != 0) {
		vkc_kubeconfig_release(&kc);
		if (need_cluster) {
			errorf("cannot load the kubeconfig: %s", err);
			fprintf(stderr, "kubectl vkc works on the cluster of "
			    "the current kubeconfig context: set KUBECONFIG "
			    "or --kubeconfig (for AKS: az aks get-credentials "
			    "--resource-group RG --name CLUSTER)\n");
			return EXIT_ERR;
		}
		snprintf(cl->ns, sizeof(cl->ns), "%s", cl->ns_flag != NULL ?
		    cl->ns_flag : "default");
		return 0;
	}
	snprintf(cl->ns, sizeof(cl->ns), "%s", cl->ns_flag != NULL ?
	    cl->ns_flag : kc.namespace != NULL && kc.namespace[0] != '\0' ?
	    kc.namespace : "default");
	if (!need_cluster) {
		vkc_kubeconfig_release(&kc);
		return 0;
	}
	memset(&opts, 0, sizeof(opts));
	opts.max_retries = 2;
	rc = kube_client_new(&kc, &opts, &cl->c);
	if (rc != 0) {
		vkc_kubeconfig_release(&kc);
		errorf("cannot make the API client: %s", kube_strerror(rc));
		return EXIT_ERR;
	}
	return 0;
}

/* True when the VirtualKubeletConnector API is served. */
static bool
api_served(struct cli *cl)
{
	struct json_object *o = NULL;
	struct kube_status st;
	int rc;

	rc = kube_get(cl->c, "/apis/" VKC_API_VERSION, &o, &st);
	json_object_put(o);
	return rc != KUBE_ENOTFOUND;
}

/* Reports a failed request on what, with a hint on how to fix it. */
static void
report(struct cli *cl, const char *what, int rc,
    const struct kube_status *st)
{
	const struct vkc_kubeconfig *kc = kube_client_config(cl->c);
	char line[1200];

	kube_status_line(st, rc, line, sizeof(line));
	errorf("cannot %s: %s", what, line);
	switch (rc) {
	case KUBE_ETRANSPORT:
		fprintf(stderr, "the apiserver %s (context '%s') did not "
		    "answer: check the context with 'kubectl config "
		    "current-context' and that the cluster is up\n",
		    kc->server, kc->context ? kc->context : "");
		break;
	case KUBE_EUNAUTHORIZED:
	case KUBE_EAUTH:
		fprintf(stderr, "the cluster did not accept the credentials "
		    "of context '%s': refresh them (for AKS: az aks "
		    "get-credentials --resource-group RG --name CLUSTER)\n",
		    kc->context ? kc->context : "");
		break;
	case KUBE_EFORBIDDEN:
		fprintf(stderr, "ask the cluster's administrator for access "
		    "to virtualkubeletconnectors (and secrets) in namespace "
		    "'%s'\n", cl->ns);
		break;
	case KUBE_ENOTFOUND:
		if (strstr(st->message, "namespaces \"") != NULL) {
			fprintf(stderr, "create the namespace, or choose "
			    "another with -n; note that -n is the namespace "
			    "here (as in kubectl), not az's cluster name: the "
			    "cluster is the current kubeconfig context\n");
		} else if (!api_served(cl)) {
			fprintf(stderr, "the VirtualKubeletConnector API is "
			    "not installed in this cluster: install "
			    "vkc-operator first (kubectl apply --server-side "
			    "-f manifests/install.yaml)\n");
		}
		break;
	default:
		break;
	}
}

static int
connector_path(const char *ns, const char *name, char *out, size_t outlen)
{
	return kube_path(out, outlen, VKC_GROUP, "v1alpha1", ns, VKC_PLURAL,
	    name, NULL);
}

/* GETs the connector; *out is NULL when it does not exist. Returns 0 or
 * EXIT_ERR (reported). */
static int
get_connector(struct cli *cl, struct json_object **out)
{
	struct kube_status st;
	char path[1024], what[700];
	int rc;

	*out = NULL;
	if (connector_path(cl->ns, cl->name, path, sizeof(path)) != 0) {
		errorf("connector name too long");
		return EXIT_ERR;
	}
	rc = kube_get(cl->c, path, out, &st);
	if (rc == KUBE_ENOTFOUND && api_served(cl)) {
		*out = NULL;
		return 0;
	}
	if (rc != 0) {
		*out = NULL;
		snprintf(what, sizeof(what), "read connector '%s/%s'", cl->ns,
		    cl->name);
		report(cl, what, rc, &st);
		return EXIT_ERR;
	}
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
nap(void)
{
	struct timespec ts = { 0, POLL_NS };

	nanosleep(&ts, NULL);
}

/* The condition of type in obj's status, or NULL. */
static struct json_object *
condition(struct json_object *obj, const char *type)
{
	struct json_object *conds, *c;
	size_t i, n;

	conds = vkc_json_get(obj, "status.conditions");
	if (!json_object_is_type(conds, json_type_array))
		return NULL;
	n = json_object_array_length(conds);
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(conds, i);
		if (strcmp(vkc_json_get_string(c, "type", ""), type) == 0)
			return c;
	}
	return NULL;
}

/* ---- summary of a connector's status ---- */

static void
print_scheduling(struct json_object *s)
{
	struct json_object *sel, *tols, *t;
	size_t i, n;

	printf("\nto run a pod on the %s virtual node '%s', add to its pod "
	    "spec:\n", vkc_json_get_string(s, "osType", "?"),
	    vkc_json_get_string(s, "nodeName", "?"));
	sel = vkc_json_get(s, "nodeSelector");
	if (json_object_is_type(sel, json_type_object)) {
		printf("  nodeSelector:\n");
		json_object_object_foreach(sel, k, v)
			printf("    %s: %s\n", k, json_object_get_string(v));
	}
	tols = vkc_json_get(s, "tolerations");
	if (!json_object_is_type(tols, json_type_array))
		return;
	printf("  tolerations:\n");
	n = json_object_array_length(tols);
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(tols, i);
		printf("  - key: %s\n", vkc_json_get_string(t, "key", ""));
		printf("    operator: %s\n",
		    vkc_json_get_string(t, "operator", "Equal"));
		printf("    value: %s\n", vkc_json_get_string(t, "value", ""));
		printf("    effect: %s\n", vkc_json_get_string(t, "effect",
		    ""));
	}
}

/* Prints what the operator reports about conn. */
static void
print_summary(struct json_object *conn)
{
	struct json_object *ready, *cs, *c, *sched;
	size_t i, n;

	ready = condition(conn, "Ready");
	printf("connector '%s/%s': Ready %s",
	    vkc_json_get_string(conn, "metadata.namespace", ""),
	    vkc_json_get_string(conn, "metadata.name", ""),
	    vkc_json_get_string(ready, "status", "Unknown"));
	if (ready != NULL && strcmp(vkc_json_get_string(ready, "status", ""),
	    "True") != 0)
		printf(" (%s: %s)", vkc_json_get_string(ready, "reason", ""),
		    vkc_json_get_string(ready, "message", ""));
	printf("\nlocation: %s\n", vkc_json_get_string(conn, "status.location",
	    vkc_json_get_string(conn, "spec.location", "(not resolved yet)")));
	cs = vkc_json_get(conn, "status.connectors");
	if (json_object_is_type(cs, json_type_array) &&
	    json_object_array_length(cs) > 0) {
		printf("\n%-8s %-40s %-6s %-50s %s\n", "OS", "DEPLOYMENT",
		    "READY", "VIRTUAL NODE", "NODE READY");
		n = json_object_array_length(cs);
		for (i = 0; i < n; i++) {
			c = json_object_array_get_idx(cs, i);
			printf("%-8s %-40s %" PRId64 "/1    %-50s %s\n",
			    vkc_json_get_string(c, "osType", ""),
			    vkc_json_get_string(c, "deployment", ""),
			    vkc_json_get_int(c, "readyReplicas", 0),
			    vkc_json_get_string(c, "nodeName", ""),
			    vkc_json_get_string(c, "nodeReady", "Unknown"));
		}
	}
	sched = vkc_json_get(conn, "status.scheduling");
	if (json_object_is_type(sched, json_type_array)) {
		n = json_object_array_length(sched);
		for (i = 0; i < n; i++)
			print_scheduling(json_object_array_get_idx(sched, i));
	}
}

/*
 * Waits until the operator has acted on generation gen of the connector
 * (status.observedGeneration), then prints the summary. Returns 0, or
 * EXIT_ERR when the operator rejected the spec or the wait timed out.
 */
static int
wait_observed(struct cli *cl, int64_t gen)
{
	struct json_object *conn = NULL, *deg;
	double deadline;
	long timeout = cl->timeout_s >= 0 ? cl->timeout_s : DEFAULT_TIMEOUT_S;
	int rc;

	deadline = now_s() + (double)timeout;
	for (;;) {
		rc = get_connector(cl, &conn);
		if (rc != 0)
			return rc;
		if (conn == NULL) {
			errorf("connector '%s/%s' was deleted while waiting "
			    "for it", cl->ns, cl->name);
			return EXIT_ERR;
		}
		if (vkc_json_get_int(conn, "status.observedGeneration", 0) >=
		    gen)
			break;
		if (now_s() >= deadline) {
			json_object_put(conn);
			errorf("timed out after %lds waiting for vkc-operator "
			    "to act on connector '%s/%s' (generation %" PRId64
			    "): the connector is stored, but no operator has "
			    "reported on it", timeout, cl->ns, cl->name, gen);
			fprintf(stderr, "check that vkc-operator runs and "
			    "watches namespace '%s' (kubectl get pods -A -l "
			    "app.kubernetes.io/name=vkc-operator), or wait "
			    "longer with --timeout\n", cl->ns);
			return EXIT_ERR;
		}
		json_object_put(conn);
		conn = NULL;
		nap();
	}
	print_summary(conn);
	deg = condition(conn, "Degraded");
	rc = 0;
	if (strcmp(vkc_json_get_string(deg, "status", ""), "True") != 0 &&
	    strcmp(vkc_json_get_string(condition(conn, "Ready"), "status", ""),
	    "True") != 0)
		printf("\nthe connector is not ready yet; vkc-operator keeps "
		    "working on it: follow it with 'kubectl get vkc %s -n %s "
		    "-w'\n", cl->name, cl->ns);
	if (deg != NULL && strcmp(vkc_json_get_string(deg, "status", ""),
	    "True") == 0) {
		errorf("vkc-operator cannot run connector '%s/%s': %s: %s",
		    cl->ns, cl->name, vkc_json_get_string(deg, "reason", ""),
		    vkc_json_get_string(deg, "message", ""));
		rc = EXIT_ERR;
	}
	json_object_put(conn);
	return rc;
}

/* ---- install-connector, upgrade-connector ---- */

/* Refuses to overwrite a Secret <name>-credentials that kubectl vkc did
 * not make. Returns 0 or EXIT_ERR. */
static int
check_secret_ours(struct cli *cl)
{
	struct json_object *s = NULL;
	struct kube_status st;
	char path[1024], what[700];
	const char *by;
	int rc;

	if (kube_path(path, sizeof(path), NULL, "v1", cl->ns, "secrets",
	    cl->secret_name, NULL) != 0)
		return EXIT_ERR;
	rc = kube_get(cl->c, path, &s, &st);
	if (rc == KUBE_ENOTFOUND)
		return 0;
	if (rc != 0) {
		snprintf(what, sizeof(what), "read Secret '%s/%s'", cl->ns,
		    cl->secret_name);
		report(cl, what, rc, &st);
		return EXIT_ERR;
	}
	by = vkc_json_get_string(s, "metadata.labels.app\\.kubernetes\\.io/"
	    "managed-by", "");
	rc = strcmp(by, PLUGIN_MANAGER) == 0 ? 0 : EXIT_ERR;
	if (rc != 0)
		errorf("Secret '%s/%s' exists and was not made by kubectl vkc: "
		    "delete or rename it, or reference your own Secret in "
		    "spec.credentials.secretRef instead of giving "
		    "--service-principal", cl->ns, cl->secret_name);
	json_object_put(s);
	return rc;
}

static int
dry_run(struct cli *cl, struct json_object *conn)
{
	struct json_object *objs, *sec;
	int rc = 0;

	objs = json_object_new_array();
	if (objs == NULL)
		return EXIT_ERR;
	if (cl->sp != NULL) {
		sec = credentials_secret(cl, true);
		if (sec == NULL) {
			rc = EXIT_ERR;
			goto out;
		}
		json_object_array_add(objs, sec);
	}
	json_object_array_add(objs, json_object_get(conn));
	if (cl->output != NULL) {
		if (print_objects(objs, cl->output) != 0)
			rc = EXIT_ERR;
		goto out;
	}
	if (cl->sp != NULL)
		printf("secret/%s %s (dry run)\n", cl->secret_name,
		    cl->verb == VERB_INSTALL ? "created" : "configured");
	printf("virtualkubeletconnector.%s/%s %s (dry run)\n", VKC_GROUP,
	    cl->name, cl->verb == VERB_INSTALL ? "created" : "configured");
out:
	json_object_put(objs);
	return rc;
}

static int
cmd_apply(struct cli *cl)
{
	struct json_object *old = NULL, *conn = NULL, *sec = NULL, *res = NULL;
	struct kube_status st;
	char path[1024], what[700];
	bool install = cl->verb == VERB_INSTALL;
	int64_t gen;
	int rc;

	rc = check_spec_flags(cl);
	if (rc != 0)
		return rc;
	rc = open_cluster(cl, !cl->dry_run);
	if (rc != 0)
		return rc;
	if (cl->dry_run) {
		conn = connector_from_flags(cl, NULL);
		rc = conn == NULL ? EXIT_ERR : check_connector(cl, conn,
		    cl->loc[0] ? cl->loc : NULL);
		if (rc == 0)
			rc = dry_run(cl, conn);
		goto out;
	}

	rc = get_connector(cl, &old);
	if (rc != 0)
		goto out;
	if (install && old != NULL) {
		errorf("connector '%s/%s' already exists: change it with "
		    "'kubectl vkc upgrade-connector --connector-name %s ...', "
		    "or remove it first with 'kubectl vkc remove-connector "
		    "--connector-name %s --os-type Both'", cl->ns, cl->name,
		    cl->name, cl->name);
		rc = EXIT_ERR;
		goto out;
	}
	if (!install && old == NULL) {
		errorf("connector '%s/%s' not found: create it with 'kubectl "
		    "vkc install-connector --connector-name %s ...', or list "
		    "the connectors with 'kubectl vkc list -A'", cl->ns,
		    cl->name, cl->name);
		rc = EXIT_ERR;
		goto out;
	}
	conn = connector_from_flags(cl, old);
	if (conn == NULL) {
		rc = EXIT_ERR;
		goto out;
	}
	rc = check_connector(cl, conn, cl->loc[0] ? cl->loc : NULL);
	if (rc != 0)
		goto out;

	/* the Secret first: the connector refers to it */
	if (cl->sp != NULL) {
		rc = check_secret_ours(cl);
		if (rc != 0)
			goto out;
		sec = credentials_secret(cl, false);
		if (sec == NULL) {
			rc = EXIT_ERR;
			goto out;
		}
		kube_path(path, sizeof(path), NULL, "v1", cl->ns, "secrets",
		    cl->secret_name, NULL);
		rc = kube_apply(cl->c, path, sec, PLUGIN_MANAGER, true, NULL,
		    &st);
		if (rc != 0) {
			snprintf(what, sizeof(what), "apply Secret '%s/%s'",
			    cl->ns, cl->secret_name);
			report(cl, what, rc, &st);
			rc = EXIT_ERR;
			goto out;
		}
		printf("secret/%s %s\n", cl->secret_name, install ? "created" :
		    "configured");
	}

	connector_path(cl->ns, cl->name, path, sizeof(path));
	/* an upgrade says what the user wants now: it wins conflicts */
	rc = kube_apply(cl->c, path, conn, PLUGIN_MANAGER, !install, &res,
	    &st);
	if (rc != 0) {
		snprintf(what, sizeof(what), "%s connector '%s/%s'", install ?
		    "create" : "update", cl->ns, cl->name);
		report(cl, what, rc, &st);
		if (rc == KUBE_ECONFLICT || st.http == 409)
			fprintf(stderr, "another field manager owns these "
			    "fields: change them where they are managed, or "
			    "use upgrade-connector, which takes them over\n");
		rc = EXIT_ERR;
		goto out;
	}
	printf("virtualkubeletconnector.%s/%s %s\n", VKC_GROUP, cl->name,
	    install ? "created" : "configured");
	gen = vkc_json_get_int(res, "metadata.generation", 1);
	if (!cl->wait) {
		printf("not waiting for vkc-operator: follow it with 'kubectl "
		    "get vkc %s -n %s -w'\n", cl->name, cl->ns);
		rc = 0;
		goto out;
	}
	rc = wait_observed(cl, gen);
out:
	json_object_put(res);
	json_object_put(sec);
	json_object_put(conn);
	json_object_put(old);
	return rc;
}

/* ---- remove-connector ---- */

/* The names of the Deployments of conn's releases for the OSes in mask,
 * as "<release>" strings in *out (a new array). */
static int
list_releases(struct cli *cl, unsigned mask, struct json_object **out)
{
	struct json_object *list = NULL, *items, *d, *arr;
	struct kube_status st;
	char path[2048], sel[1024], what[700];
	const char *os;
	size_t i, n;
	int rc;

	*out = NULL;
	arr = json_object_new_array();
	if (arr == NULL)
		return EXIT_ERR;
	snprintf(sel, sizeof(sel), "%s=%s,%s=%s", VKC_LABEL_NAME, cl->name,
	    VKC_LABEL_NAMESPACE, cl->ns);
	kube_path(path, sizeof(path), "apps", "v1", cl->ns, "deployments",
	    NULL, NULL);
	strncat(path, "?labelSelector=", sizeof(path) - strlen(path) - 1);
	rc = kube_query_escape(path, sizeof(path), sel);
	if (rc == 0)
		rc = kube_get(cl->c, path, &list, &st);
	if (rc != 0) {
		snprintf(what, sizeof(what), "list the Deployments of '%s/%s'",
		    cl->ns, cl->name);
		report(cl, what, rc, &st);
		json_object_put(arr);
		return EXIT_ERR;
	}
	items = vkc_json_get(list, "items");
	n = json_object_is_type(items, json_type_array) ?
	    json_object_array_length(items) : 0;
	for (i = 0; i < n; i++) {
		d = json_object_array_get_idx(items, i);
		os = vkc_json_get_string(d, "metadata.labels.connectors\\."
		    "virtual-kubelet\\.io/os", "");
		if ((strcmp(os, "linux") == 0 &&
		    (mask & VKC_OS_BIT(VKC_OS_LINUX))) ||
		    (strcmp(os, "windows") == 0 &&
		    (mask & VKC_OS_BIT(VKC_OS_WINDOWS))))
			json_object_array_add(arr, json_object_new_string(
			    vkc_json_get_string(d, "metadata.name", "")));
	}
	json_object_put(list);
	*out = arr;
	return 0;
}

/* True when the virtual node of release is gone (or cannot be seen). */
static bool
node_gone(struct cli *cl, const char *release)
{
	struct json_object *o = NULL;
	struct kube_status st;
	char node[128], path[512];
	int rc;

	if (vkc_node_name(release, node, sizeof(node)) != 0)
		return true;
	kube_path(path, sizeof(path), NULL, "v1", NULL, "nodes", node, NULL);
	rc = kube_get(cl->c, path, &o, &st);
	json_object_put(o);
	return rc != 0;
}

/* Patches the connector; *gen (if given) is its new generation. */
static int
merge_patch_connector(struct cli *cl, const char *patch, const char *what,
    int64_t *gen)
{
	struct json_object *res = NULL;
	struct kube_status st;
	char path[1024], w[700];
	int rc;

	connector_path(cl->ns, cl->name, path, sizeof(path));
	strncat(path, "?fieldManager=" PLUGIN_MANAGER,
	    sizeof(path) - strlen(path) - 1);
	rc = kube_merge_patch(cl->c, path, patch, &res, &st);
	if (gen != NULL)
		*gen = vkc_json_get_int(res, "metadata.generation", 0);
	json_object_put(res);
	if (rc != 0) {
		snprintf(w, sizeof(w), "%s of connector '%s/%s'", what, cl->ns,
		    cl->name);
		report(cl, w, rc, &st);
		return EXIT_ERR;
	}
	return 0;
}

/* Deletes the Secret <name>-credentials when kubectl vkc made it. Sets
 * *deleted. Returns 0 or EXIT_ERR. */
static int
delete_our_secret(struct cli *cl, bool *deleted)
{
	struct json_object *s = NULL;
	struct kube_status st;
	char path[1024], what[700];
	int rc;

	*deleted = false;
	kube_path(path, sizeof(path), NULL, "v1", cl->ns, "secrets",
	    cl->secret_name, NULL);
	rc = kube_get(cl->c, path, &s, &st);
	if (rc == KUBE_ENOTFOUND)
		return 0;
	if (rc == 0 && strcmp(vkc_json_get_string(s, "metadata.labels."
	    "app\\.kubernetes\\.io/managed-by", ""), PLUGIN_MANAGER) != 0) {
		json_object_put(s);
		return 0;
	}
	if (rc == 0)
		rc = kube_delete(cl->c, path, NULL, vkc_json_get_string(s,
		    "metadata.uid", NULL), &st);
	json_object_put(s);
	if (rc == KUBE_ENOTFOUND)
		return 0;
	if (rc != 0) {
		snprintf(what, sizeof(what), "delete Secret '%s/%s'", cl->ns,
		    cl->secret_name);
		report(cl, what, rc, &st);
		return EXIT_ERR;
	}
	*deleted = true;
	return 0;
}

/* Adds the strings of more that all does not hold yet. */
static void
add_new(struct json_object *all, struct json_object *more)
{
	const char *s;
	size_t i, j, n = json_object_array_length(more);

	for (i = 0; i < n; i++) {
		s = json_object_get_string(json_object_array_get_idx(more, i));
		for (j = 0; j < json_object_array_length(all); j++)
			if (strcmp(s, json_object_get_string(
			    json_object_array_get_idx(all, j))) == 0)
				break;
		if (j == json_object_array_length(all))
			json_object_array_add(all, json_object_new_string(s));
	}
}

/* Polls until the removal is done: the connector gone (delete), or the
 * operator has seen generation gen and the removed OSes' Deployments are
 * gone; and the virtual nodes gone. Returns 0 or EXIT_ERR. */
static int
wait_removed(struct cli *cl, bool delete, int64_t gen, unsigned gone_mask,
    struct json_object *releases, long timeout)
{
	struct json_object *conn = NULL, *left = NULL;
	double deadline = now_s() + (double)timeout;
	size_t i, n;
	int rc;
	bool done;

	for (;;) {
		if (delete) {
			rc = get_connector(cl, &conn);
			if (rc != 0)
				return rc;
			done = conn == NULL;
			json_object_put(conn);
			conn = NULL;
			rc = done ? 0 : list_releases(cl, gone_mask, &left);
			if (rc != 0)
				return rc;
			if (left != NULL)
				add_new(releases, left);
			json_object_put(left);
			left = NULL;
		} else {
			rc = get_connector(cl, &conn);
			if (rc != 0)
				return rc;
			done = conn == NULL || vkc_json_get_int(conn,
			    "status.observedGeneration", 0) >= gen;
			json_object_put(conn);
			conn = NULL;
			rc = done ? list_releases(cl, gone_mask, &left) : 0;
			if (rc != 0)
				return rc;
			if (left != NULL) {
				done = json_object_array_length(left) == 0;
				add_new(releases, left);
			}
			json_object_put(left);
			left = NULL;
		}
		n = json_object_array_length(releases);
		for (i = 0; done && i < n; i++)
			done = node_gone(cl, json_object_get_string(
			    json_object_array_get_idx(releases, i)));
		if (done)
			return 0;
		if (now_s() >= deadline)
			break;
		nap();
	}
	errorf("timed out after %lds waiting for vkc-operator to remove %s "
	    "of connector '%s/%s'", timeout, delete ? "every part" :
	    "the removed OS", cl->ns, cl->name);
	fprintf(stderr, "the removal goes on in the background: follow it "
	    "with 'kubectl describe vkc %s -n %s', check that vkc-operator "
	    "runs, or wait longer with --timeout\n", cl->name, cl->ns);
	return EXIT_ERR;
}

static int
cmd_remove(struct cli *cl)
{
	struct json_object *conn = NULL, *releases = NULL;
	struct kube_status st;
	char patch[256], node[128], path[1024], what[700];
	const char *rel;
	const char *have_os;
	unsigned have = 0, gone, keep;
	long timeout;
	int64_t gen = 0;
	size_t i, n;
	bool delete, secret_deleted = false;
	int rc;

	rc = check_spec_flags(cl);
	if (rc != 0)
		return rc;
	rc = open_cluster(cl, true);
	if (rc != 0)
		return rc;
	rc = get_connector(cl, &conn);
	if (rc != 0)
		goto out;
	if (conn == NULL) {
		errorf("connector '%s/%s' not found: list the connectors with "
		    "'kubectl vkc list -A', and name one with --connector-name "
		    "and -n", cl->ns, cl->name);
		rc = EXIT_ERR;
		goto out;
	}
	have_os = vkc_json_get_string(conn, "spec.osType", "Linux");
	if (vkc_os_mask(have_os, &have) != 0)
		have = VKC_OS_BIT(VKC_OS_LINUX) | VKC_OS_BIT(VKC_OS_WINDOWS);
	gone = have & cl->mask;
	keep = have & ~cl->mask;
	if (gone == 0) {
		errorf("connector '%s/%s' runs %s only: it has no %s part to "
		    "remove; use --os-type %s (or Both)", cl->ns, cl->name,
		    have_os, cl->os_title, have_os);
		rc = EXIT_ERR;
		goto out;
	}
	delete = keep == 0;
	rc = list_releases(cl, gone, &releases);
	if (rc != 0)
		goto out;

	timeout = cl->timeout_s;
	if (timeout < 0) {
		timeout = DEFAULT_TIMEOUT_S;
		if (cl->graceful)
			timeout += (long)vkc_json_get_int(conn,
			    "spec.removal.drainTimeoutSeconds",
			    DEFAULT_DRAIN_TIMEOUT_S);
	}
	if (cl->graceful) {
		rc = merge_patch_connector(cl,
		    "{\"spec\":{\"removal\":{\"drain\":true}}}",
		    "set spec.removal.drain", NULL);
		if (rc != 0)
			goto out;
	}
	if (delete) {
		connector_path(cl->ns, cl->name, path, sizeof(path));
		rc = kube_delete(cl->c, path, NULL, NULL, &st);
		if (rc != 0 && rc != KUBE_ENOTFOUND) {
			snprintf(what, sizeof(what), "delete connector "
			    "'%s/%s'", cl->ns, cl->name);
			report(cl, what, rc, &st);
			rc = EXIT_ERR;
			goto out;
		}
		printf("virtualkubeletconnector.%s/%s deleted\n", VKC_GROUP,
		    cl->name);
	} else {
		snprintf(patch, sizeof(patch), "{\"spec\":{\"osType\":\"%s\"}}",
		    keep & VKC_OS_BIT(VKC_OS_LINUX) ? "Linux" : "Windows");
		rc = merge_patch_connector(cl, patch, "set spec.osType", &gen);
		if (rc != 0)
			goto out;
		printf("virtualkubeletconnector.%s/%s now runs %s only\n",
		    VKC_GROUP, cl->name, keep & VKC_OS_BIT(VKC_OS_LINUX) ?
		    "Linux" : "Windows");
	}

	if (cl->wait) {
		rc = wait_removed(cl, delete, gen, gone, releases, timeout);
		if (rc != 0)
			goto out;
	}
	if (delete) {
		rc = delete_our_secret(cl, &secret_deleted);
		if (rc != 0)
			goto out;
	}
	if (!cl->wait) {
		printf("not waiting for vkc-operator to remove the %s "
		    "Deployments and virtual nodes: follow it with 'kubectl "
		    "get vkc -n %s -w'\n", delete ? "connector's" :
		    "removed OS's", cl->ns);
		if (secret_deleted)
			printf("removed Secret '%s/%s'\n", cl->ns,
			    cl->secret_name);
		rc = 0;
		goto out;
	}
	if (delete)
		printf("removed connector '%s/%s' and with it:\n", cl->ns,
		    cl->name);
	else
		printf("removed the %s part of connector '%s/%s' (it runs %s "
		    "now):\n", gone & VKC_OS_BIT(VKC_OS_LINUX) ? "Linux" :
		    "Windows", cl->ns, cl->name,
		    keep & VKC_OS_BIT(VKC_OS_LINUX) ? "Linux" : "Windows");
	n = json_object_array_length(releases);
	for (i = 0; i < n; i++) {
		rel = json_object_get_string(json_object_array_get_idx(
		    releases, i));
		printf("  Deployment    %s\n", rel);
		if (vkc_node_name(rel, node, sizeof(node)) == 0)
			printf("  virtual node  %s\n", node);
	}
	if (n == 0)
		printf("  (no Deployment was running)\n");
	if (secret_deleted)
		printf("  Secret        %s\n", cl->secret_name);
	rc = 0;
out:
	json_object_put(releases);
	json_object_put(conn);
	return rc;
}

/* ---- list ---- */

/* kubectl's short age: 45s, 3m12s, 5h, 2d3h, 400d, 3y. */
static void
human_age(long long s, char *out, size_t outlen)
{
	long long m = s / 60, h = s / 3600, d = h / 24;

	if (s < 0)
		snprintf(out, outlen, "0s");
	else if (s < 120)
		snprintf(out, outlen, "%llds", s);
	else if (m < 10 && s % 60 != 0)
		snprintf(out, outlen, "%lldm%llds", m, s % 60);
	else if (m < 180)
		snprintf(out, outlen, "%lldm", m);
	else if (h < 8 && m % 60 != 0)
		snprintf(out, outlen, "%lldh%lldm", h, m % 60);
	else if (h < 48)
		snprintf(out, outlen, "%lldh", h);
	else if (h < 24 * 8 && h % 24 != 0)
		snprintf(out, outlen, "%lldd%lldh", d, h % 24);
	else if (h < 24 * 365 * 2)
		snprintf(out, outlen, "%lldd", d);
	else if (h < 24 * 365 * 8 && d % 365 != 0)
		snprintf(out, outlen, "%lldy%lldd", d / 365, d % 365);
	else
		snprintf(out, outlen, "%lldy", d / 365);
}

static void
age_of(const char *ts, char *out, size_t outlen)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = ts != NULL ? strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (end == NULL || *end != '\0') {
		snprintf(out, outlen, "<unknown>");
		return;
	}
	t = timegm(&tm);
	human_age((long long)(time(NULL) - t), out, outlen);
}

#define LIST_COLS 6

/* One row of the list table: NAMESPACE, NAME, OS, LOCATION, READY, AGE. */
static void
list_row(struct json_object *o, char cells[LIST_COLS][254])
{
	struct json_object *ready;
	const char *loc;

	ready = condition(o, "Ready");
	loc = vkc_json_get_string(o, "status.location", NULL);
	if (loc == NULL || loc[0] == '\0')
		loc = vkc_json_get_string(o, "spec.location", "<none>");
	snprintf(cells[0], 254, "%s", vkc_json_get_string(o,
	    "metadata.namespace", ""));
	snprintf(cells[1], 254, "%s", vkc_json_get_string(o, "metadata.name",
	    ""));
	snprintf(cells[2], 254, "%s", vkc_json_get_string(o, "spec.osType",
	    "Linux"));
	snprintf(cells[3], 254, "%s", loc);
	snprintf(cells[4], 254, "%s", vkc_json_get_string(ready, "status",
	    "Unknown"));
	age_of(vkc_json_get_string(o, "metadata.creationTimestamp", NULL),
	    cells[5], 254);
}

/* Prints a row with kubectl's spacing; the first column only with -A. */
static void
list_print(const struct cli *cl, char cells[LIST_COLS][254],
    const size_t width[LIST_COLS])
{
	int i;

	for (i = cl->all_ns ? 0 : 1; i < LIST_COLS - 1; i++)
		printf("%-*s   ", (int)width[i], cells[i]);
	printf("%s\n", cells[LIST_COLS - 1]);
}

static int
cmd_list(struct cli *cl)
{
	static const char *const head[LIST_COLS] = { "NAMESPACE", "NAME", "OS",
	    "LOCATION", "READY", "AGE" };
	struct json_object *list = NULL, *items;
	struct kube_status st;
	char path[1024], what[700], cells[LIST_COLS][254];
	size_t i, n, width[LIST_COLS], len;
	int rc, j;

	rc = open_cluster(cl, true);
	if (rc != 0)
		return rc;
	connector_path(cl->all_ns ? NULL : cl->ns, NULL, path,
	    sizeof(path));
	rc = kube_get(cl->c, path, &list, &st);
	if (rc != 0) {
		if (cl->all_ns)
			snprintf(what, sizeof(what), "list connectors");
		else
			snprintf(what, sizeof(what), "list connectors in "
			    "namespace '%s'", cl->ns);
		report(cl, what, rc, &st);
		return EXIT_ERR;
	}
	items = vkc_json_get(list, "items");
	n = json_object_is_type(items, json_type_array) ?
	    json_object_array_length(items) : 0;
	if (n == 0) {
		if (cl->all_ns)
			fprintf(stderr, "No resources found\n");
		else
			fprintf(stderr, "No resources found in %s "
			    "namespace.\n", cl->ns);
		json_object_put(list);
		return 0;
	}
	for (j = 0; j < LIST_COLS; j++)
		width[j] = strlen(head[j]);
	for (i = 0; i < n; i++) {
		list_row(json_object_array_get_idx(items, i), cells);
		for (j = 0; j < LIST_COLS; j++) {
			len = strlen(cells[j]);
			if (len > width[j])
				width[j] = len;
		}
	}
	for (j = 0; j < LIST_COLS; j++)
		snprintf(cells[j], sizeof(cells[j]), "%s", head[j]);
	list_print(cl, cells, width);
	for (i = 0; i < n; i++) {
		list_row(json_object_array_get_idx(items, i), cells);
		list_print(cl, cells, width);
	}
	json_object_put(list);
	return 0;
}

/* ---- render ---- */

/* Reads path ("-": stdin) whole, at most FILE_MAX bytes. */
static int
read_file(const char *path, struct vkc_buf *b)
{
	FILE *f;
	char chunk[8192];
	size_t n;
	int rc = 0;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		errorf("cannot read '%s': %s", path, strerror(errno));
		return EXIT_ERR;
	}
	for (;;) {
		n = fread(chunk, 1, sizeof(chunk), f);
		if (n > 0 && vkc_buf_append(b, chunk, n) != 0) {
			errorf("cannot read '%s': larger than %ld bytes", path,
			    FILE_MAX);
			rc = EXIT_ERR;
			break;
		}
		if (n < sizeof(chunk)) {
			if (ferror(f)) {
				errorf("cannot read '%s': %s", path,
				    strerror(errno));
				rc = EXIT_ERR;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	return rc;
}

/* The connectors of the file (a new array). Returns 0 or an exit code. */
static int
connectors_from_file(struct cli *cl, struct json_object **out)
{
	struct json_object *docs = NULL, *d, *arr = NULL, *items, *it;
	struct vkc_buf b;
	char err[256];
	size_t i, j, n, m;
	int rc;

	*out = NULL;
	vkc_buf_init(&b, FILE_MAX);
	rc = read_file(cl->file, &b);
	if (rc != 0)
		goto out;
	rc = vkc_yaml_parse_all(b.data != NULL ? b.data : "", b.len, &docs,
	    err, sizeof(err));
	if (rc != 0) {
		errorf("cannot parse '%s': %s", cl->file, err);
		rc = EXIT_ERR;
		goto out;
	}
	arr = json_object_new_array();
	if (arr == NULL) {
		rc = EXIT_ERR;
		goto out;
	}
	n = json_object_array_length(docs);
	for (i = 0; i < n; i++) {
		d = json_object_array_get_idx(docs, i);
		items = NULL;
		if (strcmp(vkc_json_get_string(d, "kind", ""), "List") == 0)
			items = vkc_json_get(d, "items");
		m = json_object_is_type(items, json_type_array) ?
		    json_object_array_length(items) : 1;
		for (j = 0; j < m; j++) {
			it = items != NULL ? json_object_array_get_idx(items,
			    j) : d;
			if (strcmp(vkc_json_get_string(it, "kind", ""),
			    VKC_KIND) != 0)
				continue;
			json_object_array_add(arr, json_object_get(it));
		}
	}
	if (json_object_array_length(arr) == 0) {
		errorf("'%s' holds no %s: render reads connector manifests "
		    "(apiVersion %s)", cl->file, VKC_KIND, VKC_API_VERSION);
		rc = EXIT_ERR;
		goto out;
	}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	json_object_put(arr);
	json_object_put(docs);
	vkc_buf_release(&b);
	return rc;
}

/* Appends o to objs; takes o's reference. Returns 0 or -ENOMEM. */
static int
push(struct json_object *objs, struct json_object *o)
{
	if (o == NULL)
		return -ENOMEM;
	if (json_object_array_add(objs, o) != 0) {
		json_object_put(o);
		return -ENOMEM;
	}
	return 0;
}

/* Appends conn and the children the operator makes for it to objs.
 * secret is the credentials Secret (data) when known, else NULL. */
static int
render_one(struct cli *cl, struct json_object *conn,
    struct json_object *secret, struct json_object *objs)
{
	struct vkc_desired_ctx dctx;
	struct vkc_release r;
	char loc[64], hash[65], reason[64], msg[512];
	char *cert = NULL, *key = NULL;
	const char *name, *ns, *location;
	unsigned mask;
	int os, rc;

	name = vkc_json_get_string(conn, "metadata.name", "");
	location = vkc_json_get_string(conn, "spec.location", NULL);
	if (location == NULL || location[0] == '\0') {
		if (cl->file != NULL)
			return usage_error(cl->verb, "connector '%s' has no "
			    "spec.location: render has no cluster to take the "
			    "region from; add spec.location (e.g. eastus) to "
			    "'%s'", name, cl->file);
		return usage_error(cl->verb, "render needs --location: there "
		    "is no cluster to take the region from; add e.g. "
		    "--location eastus");
	}
	rc = vkc_desired_validate(conn, location, reason, sizeof(reason),
	    msg, sizeof(msg));
	if (rc != 0 && cl->file == NULL)
		return usage_error(cl->verb, "%s (%s)", msg, reason);
	if (rc != 0) {
		errorf("connector '%s' in '%s' would be rejected: %s (%s)",
		    name, cl->file, msg, reason);
		return EXIT_ERR;
	}
	vkc_location_normalize(location, loc, sizeof(loc));
	ns = vkc_json_get_string(conn, "metadata.namespace", "default");
	vkc_os_mask(vkc_json_get_string(conn, "spec.osType", NULL), &mask);
	if (vkc_credentials_hash(conn, secret, hash) != 0) {
		errorf("cannot hash the credentials");
		return EXIT_ERR;
	}
	memset(&dctx, 0, sizeof(dctx));
	dctx.connector = conn;
	dctx.location = loc;
	dctx.credentials_hash = hash;
	rc = push(objs, json_object_get(conn));
	for (os = 0; rc == 0 && os < VKC_OS_COUNT; os++) {
		if (!(mask & VKC_OS_BIT(os)))
			continue;
		rc = vkc_release_init(&r, name, ns, (enum vkc_os)os, loc);
		if (rc != 0)
			break;
		rc = push(objs, vkc_desired_service_account(&dctx, &r));
		if (rc != 0)
			break;
		if (cl->generate_tls) {
			rc = vkc_tls_generate(r.node, VKC_TLS_DAYS, &cert,
			    &key);
			if (rc != 0) {
				cert = key = NULL;
				break;
			}
			rc = push(objs, vkc_desired_tls_secret(&dctx, &r, cert,
			    key));
			OPENSSL_cleanse(key, strlen(key));
			free(cert);
			free(key);
			cert = key = NULL;
		} else
			rc = push(objs, vkc_desired_tls_secret(&dctx, &r,
			    TLS_PLACEHOLDER, TLS_PLACEHOLDER));
		if (rc == 0)
			rc = push(objs, vkc_desired_cluster_role_binding(&dctx,
			    &r));
		if (rc == 0)
			rc = push(objs, vkc_desired_deployment(&dctx, &r));
	}
	if (rc != 0) {
		errorf("cannot render connector '%s': %s", name,
		    strerror(rc < 0 ? -rc : rc));
		return EXIT_ERR;
	}
	return 0;
}

static int
cmd_render(struct cli *cl)
{
	struct json_object *conns = NULL, *objs = NULL, *secret = NULL, *c;
	size_t i, n;
	int rc;

	if (cl->file != NULL && (cl->given & ((1ul << F_CONNECTOR_NAME) |
	    (1ul << F_OS_TYPE) | (1ul << F_ACI_RG) | (1ul << F_LOCATION) |
	    (1ul << F_SP) | (1ul << F_CLIENT_SECRET) | (1ul << F_IMAGE_TAG) |
	    (1ul << F_IMAGE_REPO))) != 0)
		return usage_error(cl->verb, "-f and the connector flags "
		    "exclude each other: render a manifest, or a connector "
		    "described by flags");
	if (cl->file == NULL) {
		rc = check_spec_flags(cl);
		if (rc != 0)
			return rc;
	}
	/* no cluster: at most the kubeconfig's namespace */
	rc = open_cluster(cl, false);
	if (rc != 0)
		return rc;
	if (cl->file != NULL) {
		rc = connectors_from_file(cl, &conns);
		if (rc != 0)
			goto out;
		n = json_object_array_length(conns);
		for (i = 0; i < n; i++) {
			c = json_object_array_get_idx(conns, i);
			if (cl->ns_flag != NULL ||
			    vkc_json_get_string(c, "metadata.namespace",
			    NULL) == NULL)
				jset_str(c, "metadata.namespace", cl->ns);
		}
	} else {
		conns = json_object_new_array();
		c = connector_from_flags(cl, NULL);
		if (conns == NULL || push(conns, c) != 0) {
			rc = EXIT_ERR;
			goto out;
		}
		if (cl->sp != NULL) {
			secret = credentials_secret(cl, false);
			if (secret == NULL) {
				rc = EXIT_ERR;
				goto out;
			}
		}
	}
	objs = json_object_new_array();
	if (objs == NULL) {
		rc = EXIT_ERR;
		goto out;
	}
	n = json_object_array_length(conns);
	for (i = 0; i < n; i++) {
		rc = render_one(cl, json_object_array_get_idx(conns, i), secret,
		    objs);
		if (rc != 0)
			goto out;
	}
	if (print_objects(objs, cl->output) != 0) {
		rc = EXIT_ERR;
		goto out;
	}
	if (cl->sp != NULL)
		fprintf(stderr, "note: the Secret '%s' with the service "
		    "principal is not shown: 'kubectl vkc install-connector "
		    "--dry-run=client -o yaml' prints it\n", cl->secret_name);
	rc = 0;
out:
	json_object_put(secret);
	json_object_put(objs);
	json_object_put(conns);
	return rc;
}

/* ---- main ---- */

int
main(int argc, char **argv)
{
	struct cli cl;
	int rc;

	memset(&cl, 0, sizeof(cl));
	rc = parse_args(&cl, argc, argv);
	if (rc != 0)
		return rc;
	if (cl.help_verb != VERB_NONE) {
		usage_verb(stdout, cl.help_verb);
		return EXIT_OK;
	}
	switch (cl.verb) {
	case VERB_NONE:
		usage_main(stderr);
		return EXIT_USAGE;
	case VERB_HELP:
		usage_main(stdout);
		return EXIT_OK;
	case VERB_VERSION:
		printf("kubectl-vkc %s\n", VKC_VERSION);
		return EXIT_OK;
	case VERB_INSTALL:
	case VERB_UPGRADE:
		rc = cmd_apply(&cl);
		break;
	case VERB_REMOVE:
		rc = cmd_remove(&cl);
		break;
	case VERB_LIST:
		rc = cmd_list(&cl);
		break;
	case VERB_RENDER:
		rc = cmd_render(&cl);
		break;
	}
	if (cl.c != NULL)
		kube_client_free(cl.c);
	return rc;
}
