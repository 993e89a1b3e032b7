/*
 * main.c: vkc-operator, the VirtualKubeletConnector controller process.
 *
 * Start-up: load the configuration (--kubeconfig, KUBECONFIG, in-cluster,
 * ~/.kube/config), start the caches, serve the probes and metrics, take
 * the Lease when --leader-elect is given, then run --concurrency workers.
 * SIGTERM or SIGINT: stop taking work, let reconciles in flight finish,
 * release the Lease, exit 0; a shutdown that overruns SHUTDOWN_GRACE_S, or
 * a second signal, exits 1 at once. A lost Lease stops the process the
 * same way (without releasing what is no longer ours) and exits 1, so that
 * the pod restarts and campaigns again, as client-go's callers do.
 * Bad flags exit 2 before anything starts.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "httpd.h"
#include "kube.h"
#include "kubeconfig.h"
#include "leader.h"
#include "log.h"
#include "names.h"
#include "reconcile.h"

/* SIGTERM to exit: the kubelet's default grace period is 30 s */
#define SHUTDOWN_GRACE_S 25
/* the Lease's own client: client-go gives each request half the renew
 * deadline, so that a hung request cannot hide a lost lease */
#define LEASE_TIMEOUT_MS 5000
#define LEASE_CONNECT_TIMEOUT_MS 2000
#define SA_NAMESPACE_FILE \
	"/var/run/secrets/kubernetes.io/serviceaccount/namespace"

struct options {
	const char *kubeconfig;
	const char *context;
	const char *ns;
	bool leader_elect;
	const char *le_ns;
	const char *le_id;
	const char *metrics_addr;
	const char *probe_addr;
	int concurrency;
	enum vkc_log_format log_format;
	int verbosity;
	double qps;
	int burst;
};

struct operator {
	struct options opt;
	struct kube_client *client;
	struct kube_client *lease_client;	/* with --leader-elect */
	struct vkc_controller *ctl;
	struct vkc_leader *leader;
	struct vkc_httpd *metrics, *probes;
	volatile int stop;
	volatile int lost;
	volatile int sig;
	volatile int done;		/* shutdown finished */
	char le_ns[256];
	pthread_t *workers;
	int nworkers;
	struct timespec started;
	double started_unix;
};

static struct operator op;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: vkc-operator [flags]\n"
"\n"
"Reconciles VirtualKubeletConnector objects (connectors.virtual-kubelet.io)\n"
"into per-OS virtual kubelet Deployments, ServiceAccounts, RBAC and TLS.\n"
"\n"
"  --kubeconfig PATH                  kubeconfig file (default: $KUBECONFIG,\n"
"                                     in-cluster, then ~/.kube/config)\n"
"  --context NAME                     kubeconfig context (default: current)\n"
"  --namespace NS                     watch only NS (default: all)\n"
"  --leader-elect                     take a Lease before reconciling\n"
"  --leader-election-namespace NS     the Lease's namespace (default: the\n"
"                                     pod's namespace in-cluster, else\n"
"                                     --namespace, else the kubeconfig\n"
"                                     context's, else default)\n"
"  --leader-election-id NAME          the Lease's name\n"
"                                     (default: vkc-operator-leader)\n"
"  --metrics-bind-address ADDR        Prometheus /metrics (default :8080;\n"
"                                     0 disables)\n"
"  --health-probe-bind-address ADDR   /healthz and /readyz (default :8081;\n"
"                                     0 disables)\n"
"  --concurrency N                    parallel reconciles (default 2)\n"
"  --kube-api-qps Q, --kube-api-burst N  client-side rate limit (default off)\n"
"  --log-format text|json             (default text)\n"
"  -v N                               log verbosity (default 0)\n"
"  --version                          print the version and exit\n");
}

static int
parse_int(const char *s, const char *flag, int min, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > max) {
		fprintf(stderr, "vkc-operator: %s wants a number from %d to %d, "
		    "got '%s'\n", flag, min, max, s);
		exit(2);
	}
	return (int)v;
}

/* Namespaces are DNS-1123 labels, Lease names subdomains; refusing a bad
 * one here beats a 422 from the apiserver later. */
static void
check_name(const char *v, const char *flag, bool subdomain)
{
	if (v == NULL || (!subdomain && v[0] == '\0'))
		return;
	if (subdomain ? vkc_is_dns1123_subdomain(v) : vkc_is_dns1123_label(v))
		return;
	fprintf(stderr, "vkc-operator: %s wants a DNS-1123 %s (lower-case "
	    "letters, digits, '-'%s), got '%s'\n", flag,
	    subdomain ? "subdomain" : "label", subdomain ? ", '.'" : "", v);
	exit(2);
}

static void
check_addr(const char *v, const char *flag)
{
	if (vkc_httpd_addr_valid(v))
		return;
	fprintf(stderr, "vkc-operator: %s wants [host]:port (':8080', "
	    "'127.0.0.1:8080', '[::1]:8080') or 0 to disable, got '%s'\n",
	    flag, v);
	exit(2);
}

static void
parse_flags(int argc, char **argv, struct options *o)
{
	enum {
		F_KUBECONFIG = 256, F_CONTEXT, F_NAMESPACE, F_LEADER_ELECT,
		F_LE_NS, F_LE_ID, F_METRICS, F_PROBES, F_CONCURRENCY,
		F_LOG_FORMAT, F_VERSION, F_HELP, F_QPS, F_BURST,
	};
	static const struct option longopts[] = {
		{ "kubeconfig", required_argument, NULL, F_KUBECONFIG },
		{ "context", required_argument, NULL, F_CONTEXT },
		{ "namespace", required_argument, NULL, F_NAMESPACE },
		{ "leader-elect", optional_argument, NULL, F_LEADER_ELECT },
		{ "leader-election-namespace", required_argument, NULL, F_LE_NS },
		{ "leader-election-id", required_argument, NULL, F_LE_ID },
		{ "metrics-bind-address", required_argument, NULL, F_METRICS },
		{ "health-probe-bind-address", required_argument, NULL,
		    F_PROBES },
		{ "concurrency", required_argument, NULL, F_CONCURRENCY },
		{ "log-format", required_argument, NULL, F_LOG_FORMAT },
		{ "kube-api-qps", required_argument, NULL, F_QPS },
		{ "kube-api-burst", required_argument, NULL, F_BURST },
		{ "version", no_argument, NULL, F_VERSION },
		{ "help", no_argument, NULL, F_HELP },
		{ "v", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->le_id = "vkc-operator-leader";
	o->metrics_addr = ":8080";
	o->probe_addr = ":8081";
	o->concurrency = 2;
	o->log_format = VKC_LOG_TEXT;
	/* Go's flag package accepts -flag and --flag alike */
	while ((c = getopt_long_only(argc, argv, "v:h", longopts, NULL)) != -1) {
		switch (c) {
		case F_KUBECONFIG:
			o->kubeconfig = optarg;
			break;
		case F_CONTEXT:
			o->context = optarg;
			break;
		case F_NAMESPACE:
			o->ns = optarg;
			break;
		case F_LEADER_ELECT:
			o->leader_elect = optarg == NULL ||
			    strcmp(optarg, "true") == 0;
			if (optarg != NULL && strcmp(optarg, "true") != 0 &&
			    strcmp(optarg, "false") != 0) {
				fprintf(stderr, "vkc-operator: --leader-elect "
				    "wants true or false, got '%s'\n", optarg);
				exit(2);
			}
			break;
		case F_LE_NS:
			o->le_ns = optarg;
			break;
		case F_LE_ID:
			o->le_id = optarg;
			break;
		case F_METRICS:
			o->metrics_addr = optarg;
			break;
		case F_PROBES:
			o->probe_addr = optarg;
			break;
		case F_CONCURRENCY:
			o->concurrency = parse_int(optarg, "--concurrency", 1,
			    64);
			break;
		case F_LOG_FORMAT:
			if (strcmp(optarg, "text") == 0) {
				o->log_format = VKC_LOG_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				o->log_format = VKC_LOG_JSON;
			} else {
				fprintf(stderr, "vkc-operator: --log-format "
				    "wants text or json, got '%s'\n", optarg);
				exit(2);
			}
			break;
		case F_QPS:
			o->qps = parse_int(optarg, "--kube-api-qps", 0, 100000);
			break;
		case F_BURST:
			o->burst = parse_int(optarg, "--kube-api-burst", 0,
			    100000);
			break;
		case 'v':
			o->verbosity = parse_int(optarg, "-v", 0, 10);
			break;
		case F_VERSION:
			printf("vkc-operator %s\n", VKC_VERSION);
			exit(0);
		case 'h':
		case F_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vkc-operator: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		exit(2);
	}
	check_name(o->ns, "--namespace", false);
	check_name(o->le_ns, "--leader-election-namespace", false);
	check_name(o->le_id, "--leader-election-id", true);
	check_addr(o->metrics_addr, "--metrics-bind-address");
	check_addr(o->probe_addr, "--health-probe-bind-address");
}

/* ---- probes and metrics ---- */

static int
serve_probes(const char *path, struct vkc_buf *body, const char **ctype,
    void *arg)
{
	(void)arg;
	(void)ctype;
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0) {
		vkc_buf_puts(body, "ok\n");
		return 200;
	}
	if (strcmp(path, "/readyz") == 0) {
		if (op.ctl != NULL && vkc_controller_synced(op.ctl) &&
		    !op.stop) {
			vkc_buf_puts(body, "ok\n");
			return 200;
		}
		vkc_buf_puts(body, "caches not synced\n");
		return 503;
	}
	vkc_buf_puts(body, "not found\n");
	return 404;
}

/* Prometheus label value: backslash, quote and newline escaped. */
static void
metric_label(struct vkc_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			vkc_buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			vkc_buf_puts(b, "\\n");
		else
			vkc_buf_printf(b, "%c", *v);
	}
}

/* Request counts summed over the operator's clients, so that each
 * (code, method) series appears once. */
#define REQUEST_SERIES_MAX 64
struct request_counts {
	struct {
		char method[16];
		long code;
		unsigned long n;
	} s[REQUEST_SERIES_MAX];
	int len;
};

static void
count_requests(const char *method, long code, unsigned long n, void *arg)
{
	struct request_counts *rc = arg;
	int i;

	for (i = 0; i < rc->len; i++)
		if (rc->s[i].code == code &&
		    strcmp(rc->s[i].method, method) == 0) {
			rc->s[i].n += n;
			return;
		}
	if (rc->len == REQUEST_SERIES_MAX)
		return;
	snprintf(rc->s[i].method, sizeof(rc->s[i].method), "%s", method);
	rc->s[i].code = code;
	rc->s[i].n = n;
	rc->len++;
}

/* client-go's host label: the URL's host[:port], no scheme or path. */
static void
metric_host(char *out, size_t outlen)
{
	const char *server = kube_client_config(op.client)->server, *p;
	size_t n;

	p = strstr(server, "://");
	p = p != NULL ? p + 3 : server;
	n = strcspn(p, "/");
	snprintf(out, outlen, "%.*s", (int)n, p);
}

static int
serve_metrics(const char *path, struct vkc_buf *b, const char **ctype,
    void *arg)
{
	static const char *const ctl = "controller=\"virtualkubeletconnector\"";
	static const char *const caches[VKC_CACHE_COUNT] = {
		"connectors", "deployments", "serviceaccounts", "secrets",
		"clusterrolebindings", "nodes", "credentials",
	};
	struct vkc_controller_stats s;
	unsigned long adds, retries;
	size_t depth;
	int i;

	(void)arg;
	if (strcmp(path, "/metrics") != 0) {
		vkc_buf_puts(b, "not found\n");
		return 404;
	}
	*ctype = "text/plain; version=0.0.4; charset=utf-8";
	vkc_controller_stats(op.ctl, &s);
	vkc_buf_printf(b, "# HELP controller_runtime_reconcile_total Total "
	    "number of reconciliations per controller.\n"
	    "# TYPE controller_runtime_reconcile_total counter\n");
	vkc_buf_printf(b, "controller_runtime_reconcile_total{%s,result="
	    "\"success\"} %lu\n", ctl, s.success);
	vkc_buf_printf(b, "controller_runtime_reconcile_total{%s,result="
	    "\"error\"} %lu\n", ctl, s.error);
	vkc_buf_printf(b, "controller_runtime_reconcile_total{%s,result="
	    "\"requeue\"} %lu\n", ctl, s.requeue);
	vkc_buf_printf(b, "controller_runtime_reconcile_total{%s,result="
	    "\"requeue_after\"} %lu\n", ctl, s.requeue_after);
	vkc_buf_printf(b, "# HELP controller_runtime_reconcile_errors_total "
	    "Total number of reconciliation errors per controller.\n"
	    "# TYPE controller_runtime_reconcile_errors_total counter\n"
	    "controller_runtime_reconcile_errors_total{%s} %lu\n", ctl,
	    s.error);
	vkc_buf_printf(b, "# HELP controller_runtime_reconcile_time_seconds "
	    "Length of time per reconciliation per controller.\n"
	    "# TYPE controller_runtime_reconcile_time_seconds histogram\n");
	/* the buckets are cumulative already */
	for (i = 0; i < 16; i++)
		vkc_buf_printf(b, "controller_runtime_reconcile_time_seconds_"
		    "bucket{%s,le=\"%g\"} %lu\n", ctl, vkc_reconcile_buckets[i],
		    s.buckets[i]);
	vkc_buf_printf(b, "controller_runtime_reconcile_time_seconds_bucket"
	    "{%s,le=\"+Inf\"} %lu\n", ctl, s.reconciles);
	vkc_buf_printf(b, "controller_runtime_reconcile_time_seconds_sum{%s} "
	    "%.6f\n", ctl, s.seconds_sum);
	vkc_buf_printf(b, "controller_runtime_reconcile_time_seconds_count{%s} "
	    "%lu\n", ctl, s.reconciles);
	vkc_buf_printf(b, "# HELP controller_runtime_max_concurrent_reconciles "
	    "Maximum number of concurrent reconciles per controller.\n"
	    "# TYPE controller_runtime_max_concurrent_reconciles gauge\n"
	    "controller_runtime_max_concurrent_reconciles{%s} %d\n", ctl,
	    op.opt.concurrency);

	vkc_wq_stats(vkc_controller_queue(op.ctl), &adds, &retries, &depth);
	vkc_buf_printf(b, "# HELP workqueue_depth Current depth of workqueue.\n"
	    "# TYPE workqueue_depth gauge\n"
	    "workqueue_depth{name=\"virtualkubeletconnector\"} %zu\n", depth);
	vkc_buf_printf(b, "# HELP workqueue_adds_total Total number of adds "
	    "handled by workqueue.\n# TYPE workqueue_adds_total counter\n"
	    "workqueue_adds_total{name=\"virtualkubeletconnector\"} %lu\n",
	    adds);
	vkc_buf_printf(b, "# HELP workqueue_retries_total Total number of "
	    "retries handled by workqueue.\n"
	    "# TYPE workqueue_retries_total counter\n"
	    "workqueue_retries_total{name=\"virtualkubeletconnector\"} %lu\n",
	    retries);

	vkc_buf_printf(b, "# HELP rest_client_requests_total Number of HTTP "
	    "requests, partitioned by status code, method, and host.\n"
	    "# TYPE rest_client_requests_total counter\n");
	{
		struct request_counts rc;
		char host[256];

		memset(&rc, 0, sizeof(rc));
		kube_client_request_counts(op.client, count_requests, &rc);
		if (op.lease_client != NULL)
			kube_client_request_counts(op.lease_client,
			    count_requests, &rc);
		metric_host(host, sizeof(host));
		for (i = 0; i < rc.len; i++) {
			vkc_buf_printf(b, "rest_client_requests_total{code="
			    "\"%ld\",method=\"%s\",host=\"", rc.s[i].code,
			    rc.s[i].method);
			metric_label(b, host);
			vkc_buf_printf(b, "\"} %lu\n", rc.s[i].n);
		}
	}

	vkc_buf_printf(b, "# HELP leader_election_master_status Gauge of if "
	    "the reporting system is master of the relevant lease, 0 "
	    "indicates backup, 1 indicates master. 'name' is the string used "
	    "to identify the lease.\n"
	    "# TYPE leader_election_master_status gauge\n"
	    "leader_election_master_status{name=\"%s\"} %d\n", op.opt.le_id,
	    op.leader == NULL ? 1 : vkc_leader_is_leader(op.leader) ? 1 : 0);
	vkc_buf_printf(b, "# HELP process_start_time_seconds Start time of "
	    "the process since unix epoch in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %.3f\n", op.started_unix);

	vkc_buf_printf(b, "# HELP vkc_cache_objects Objects held per cache.\n"
	    "# TYPE vkc_cache_objects gauge\n");
	for (i = 0; i < VKC_CACHE_COUNT; i++)
		vkc_buf_printf(b, "vkc_cache_objects{cache=\"%s\"} %zu\n",
		    caches[i], vkc_informer_len(vkc_controller_cache(op.ctl,
		    (enum vkc_cache)i)));
	vkc_buf_printf(b, "# HELP vkc_cache_lists_total Full lists per "
	    "cache (1 + relists).\n# TYPE vkc_cache_lists_total counter\n");
	for (i = 0; i < VKC_CACHE_COUNT; i++)
		vkc_buf_printf(b, "vkc_cache_lists_total{cache=\"%s\"} %lu\n",
		    caches[i], vkc_informer_lists(vkc_controller_cache(op.ctl,
		    (enum vkc_cache)i)));
	return 200;
}

/* ---- run ---- */

static void *
worker_main(void *arg)
{
	(void)arg;
	vkc_controller_work(op.ctl);
	return NULL;
}

static void
on_lease_lost(void *arg)
{
	(void)arg;
	/* another process may be reconciling now: stop at once */
	op.lost = 1;
	op.stop = 1;
}

/* Forces an exit when the shutdown overruns its grace period, so that
 * the process is never left half-stopped. */
static void *
grace_main(void *arg)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int i;

	(void)arg;
	for (i = 0; i < SHUTDOWN_GRACE_S * 10 && !op.done; i++)
		nanosleep(&ts, NULL);
	if (!op.done) {
		log_error("shutdown did not finish within %ds; exiting",
		    SHUTDOWN_GRACE_S);
		_exit(1);
	}
	return NULL;
}

/* The only thread that takes SIGTERM and SIGINT. The first asks for a
 * graceful stop; a second one, while that runs, exits at once. */
static void *
signal_main(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (op.sig != 0) {
			log_error("%s again: exiting without finishing the "
			    "shutdown", sig == SIGINT ? "interrupt" :
			    "terminated");
			_exit(1);
		}
		op.sig = sig;
		op.stop = 1;
	}
	return NULL;
}

/* Sleeps in short steps until cond() holds or a stop is asked for;
 * returns true when stopping. */
static bool
wait_until(bool (*cond)(void))
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	while (!op.stop) {
		if (cond != NULL && cond())
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

static bool
caches_synced(void)
{
	return vkc_controller_synced(op.ctl);
}

/* True once this process no longer holds the Lease it took: either the
 * renewing thread said so, or the renew deadline passed while a renewal
 * was still on its way. */
static bool
lease_lost(void)
{
	return op.leader != NULL && !vkc_leader_is_leader(op.leader);
}

/* The Lease's namespace, as controller-runtime picks it, with the watched
 * namespace before the kubeconfig's so that an operator confined to one
 * namespace needs no rights elsewhere. */
static const char *
lease_namespace(const struct options *o, const struct vkc_kubeconfig *kc)
{
	FILE *f;
	size_t n;

	if (o->le_ns != NULL && o->le_ns[0] != '\0')
		return o->le_ns;
	if (kc->namespace != NULL && kc->context != NULL &&
	    strcmp(kc->context, "in-cluster") == 0)
		return kc->namespace;
	/* in a pod, though configured by a kubeconfig: the pod's namespace */
	f = fopen(SA_NAMESPACE_FILE, "r");
	if (f != NULL) {
		n = fread(op.le_ns, 1, sizeof(op.le_ns) - 1, f);
		fclose(f);
		op.le_ns[n] = '\0';
		op.le_ns[strcspn(op.le_ns, " \t\r\n")] = '\0';
		if (vkc_is_dns1123_label(op.le_ns))
			return op.le_ns;
	}
	if (o->ns != NULL && o->ns[0] != '\0')
		return o->ns;
	if (kc->namespace != NULL && vkc_is_dns1123_label(kc->namespace))
		return kc->namespace;
	return "default";
}

static double
since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Makes an API client from a fresh load of the configuration. */
static struct kube_client *
make_client(const struct kube_client_options *copts, bool main_client)
{
	struct vkc_kubeconfig kc;
	struct kube_client *c;
	char err[512];
	int rc;

	memset(&kc, 0, sizeof(kc));
	rc = vkc_kubeconfig_load(&kc, op.opt.kubeconfig, op.opt.context, err,
	    sizeof(err));
	if (rc != 0)
		fatal("cannot load configuration: %s", err);
	if (main_client) {
		log_info("vkc-operator %s: apiserver %s (context '%s'), "
		    "namespace %s", VKC_VERSION, kc.server,
		    kc.context ? kc.context : "",
		    op.opt.ns && op.opt.ns[0] ? op.opt.ns : "(all)");
		if (op.opt.leader_elect)
			snprintf(op.le_ns, sizeof(op.le_ns), "%s",
			    lease_namespace(&op.opt, &kc));
	}
	rc = kube_client_new(&kc, copts, &c);
	if (rc != 0)
		fatal("cannot make the API client: %s", kube_strerror(rc));
	return c;
}

int
main(int argc, char **argv)
{
	struct kube_client_options copts;
	struct vkc_leader_config lcfg;
	struct timespec stopping;
	char err[512], identity[256], host[128];
	static sigset_t set;
	pthread_t sigthread, grace;
	struct timespec now;
	int rc, i;

	/* glibc gives each thread that allocates an arena of its own (up to
	 * 8 per core); a handful of mostly idle threads do not need them */
	mallopt(M_ARENA_MAX, 2);
	parse_flags(argc, argv, &op.opt);
	vkc_log_init(op.opt.log_format, op.opt.verbosity);
	clock_gettime(CLOCK_MONOTONIC, &op.started);
	clock_gettime(CLOCK_REALTIME, &now);
	op.started_unix = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	srandom((unsigned)now.tv_nsec ^ (unsigned)getpid());

	/* every thread blocks SIGTERM and SIGINT; signal_main takes them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&copts, 0, sizeof(copts));
	copts.qps = op.opt.qps;
	copts.burst = op.opt.burst;
	op.client = make_client(&copts, true);
	op.ctl = vkc_controller_new(op.client, op.opt.ns);
	if (op.ctl == NULL)
		fatal("cannot make the controller: out of memory");

	if (op.opt.leader_elect) {
		memset(&copts, 0, sizeof(copts));
		copts.timeout_ms = LEASE_TIMEOUT_MS;
		copts.connect_timeout_ms = LEASE_CONNECT_TIMEOUT_MS;
		copts.max_retries = 1;
		op.lease_client = make_client(&copts, false);
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "unknown");
		host[sizeof(host) - 1] = '\0';
		snprintf(identity, sizeof(identity), "%s_%d_%08lx", host,
		    (int)getpid(), (unsigned long)random());
		memset(&lcfg, 0, sizeof(lcfg));
		lcfg.ns = op.le_ns;
		lcfg.name = op.opt.le_id;
		lcfg.identity = identity;
		op.leader = vkc_leader_new(op.lease_client, &lcfg);
		if (op.leader == NULL)
			fatal("cannot set up leader election: out of memory");
	}

	rc = vkc_httpd_start(op.opt.probe_addr, serve_probes, NULL, &op.probes,
	    err, sizeof(err));
	if (rc != 0)
		fatal("health probes: %s", err);
	rc = vkc_httpd_start(op.opt.metrics_addr, serve_metrics, NULL,
	    &op.metrics, err, sizeof(err));
	if (rc != 0)
		fatal("metrics: %s", err);
	if (op.probes != NULL)
		log_info("serving /healthz and /readyz on %s (port %d)",
		    op.opt.probe_addr, vkc_httpd_port(op.probes));
	if (op.metrics != NULL)
		log_info("serving /metrics on %s (port %d)",
		    op.opt.metrics_addr, vkc_httpd_port(op.metrics));

	rc = pthread_create(&sigthread, NULL, signal_main, &set);
	if (rc != 0)
		fatal("cannot start the signal thread: %s", strerror(rc));
	pthread_detach(sigthread);

	rc = vkc_controller_start_caches(op.ctl);
	if (rc != 0)
		fatal("cannot start caches: %s", strerror(-rc));
	if (wait_until(caches_synced))
		goto shutdown;
	log_info("caches synced");

	if (op.leader != NULL) {
		if (vkc_leader_acquire(op.leader, &op.stop) != 0)
			goto shutdown;
		rc = vkc_leader_start_renewing(op.leader, on_lease_lost, NULL);
		if (rc != 0)
			fatal("cannot renew the lease: %s", strerror(-rc));
	}

	vkc_controller_enqueue_all(op.ctl);
	op.nworkers = op.opt.concurrency;
	op.workers = calloc((size_t)op.nworkers, sizeof(*op.workers));
	if (op.workers == NULL)
		fatal("out of memory");
	for (i = 0; i < op.nworkers; i++) {
		rc = pthread_create(&op.workers[i], NULL, worker_main, NULL);
		if (rc != 0)
			fatal("cannot start worker: %s", strerror(rc));
	}
	log_info("started %d workers", op.nworkers);
	if (!wait_until(lease_lost)) {
		log_error("lost lease '%s/%s': not renewed within the renew "
		    "deadline", op.le_ns, op.opt.le_id);
		op.lost = 1;
	}

shutdown:
	clock_gettime(CLOCK_MONOTONIC, &stopping);
	log_info("%s: shutting down", op.lost ? "lease lost" :
	    op.sig == SIGINT ? "interrupt" : "terminated");
	op.stop = 1;
	rc = pthread_create(&grace, NULL, grace_main, NULL);
	if (rc == 0)
		pthread_detach(grace);
	/* stop taking work; reconciles in flight finish */
	vkc_controller_shutdown_queue(op.ctl);
	for (i = 0; i < op.nworkers; i++)
		pthread_join(op.workers[i], NULL);
	free(op.workers);
	log_debug(1, "workers finished after %.2fs", since(&stopping));
	/* only now may a successor start: release the Lease for it */
	if (op.leader != NULL)
		vkc_leader_release(op.leader);
	vkc_controller_stop_caches(op.ctl);
	vkc_httpd_stop(op.metrics);
	vkc_httpd_stop(op.probes);
	vkc_leader_free(op.leader);
	vkc_controller_free(op.ctl);
	kube_client_free(op.client);
	kube_client_free(op.lease_client);
	log_info("stopped after %.2fs", since(&stopping));
	op.done = 1;
	return op.lost ? 1 : 0;
}
