/*
 * kubeclient.c: a tiny command line over the operator's API client, for
 * the end-to-end tests of the client itself.
 *
 *   kubeclient [--kubeconfig PATH] [--context NAME] [-v N] COMMAND ...
 *   get PATH                    GET, print the JSON answer
 *   create PATH JSON            POST JSON, print the answer
 *   watch PATH --events N [--timeout S]
 *                               one watch; print "TYPE name rv" per event
 *                               and exit after N events other than bookmarks
 *   informer GROUP VERSION PLURAL NAMESPACE [--selector SEL] [--duration S]
 *                               run an informer; print "ADDED|MODIFIED|
 *                               DELETED name rv" as the cache changes and
 *                               "LISTS n" when it lists; on SIGTERM, SIGINT
 *                               or after S seconds print "STORE name rv"
 *                               per cached object and "LISTS n", exit 0
 *   bench-get PATH SECONDS      GET in a loop; print requests/s
 *   bench-apply NAMESPACE SECONDS
 *                               server-side apply a ConfigMap whose data
 *                               changes every time; print requests/s
 *
 * Errors print the client's one-line status and exit 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "informer.h"
#include "jsonutil.h"
#include "kube.h"
#include "kubeconfig.h"
#include "log.h"

static volatile sig_atomic_t kc_signalled;

static void
kc_on_signal(int sig)
{
	(void)sig;
	kc_signalled = 1;
}

static double
kc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: kubeclient [--kubeconfig PATH] [--context NAME] "
	    "[-v N] get PATH | create PATH JSON |\n"
	    "    watch PATH --events N [--timeout S] |\n"
	    "    informer GROUP VERSION PLURAL NAMESPACE [--selector SEL] "
	    "[--duration S] |\n"
	    "    bench-get PATH SECONDS | bench-apply NAMESPACE SECONDS\n");
	exit(2);
}

static int
fail(const char *what, const struct kube_status *st, int rc)
{
	char line[1200];

	fprintf(stderr, "kubeclient: %s: %s\n", what,
	    kube_status_line(st, rc, line, sizeof(line)));
	return 1;
}

static int
cmd_get(struct kube_client *c, int argc, char **argv)
{
	struct kube_status st;
	struct json_object *o = NULL;
	int rc;

	if (argc != 1)
		usage();
	rc = kube_get(c, argv[0], &o, &st);
	if (rc != 0)
		return fail(argv[0], &st, rc);
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

static int
cmd_create(struct kube_client *c, int argc, char **argv)
{
	struct kube_status st;
	struct json_object *in, *o = NULL;
	char err[256];
	int rc;

	if (argc != 2)
		usage();
	in = vkc_json_parse(argv[1], strlen(argv[1]), err, sizeof(err));
	if (in == NULL) {
		fprintf(stderr, "kubeclient: bad JSON: %s\n", err);
		return 1;
	}
	rc = kube_create(c, argv[0], in, &o, &st);
	json_object_put(in);
	if (rc != 0)
		return fail(argv[0], &st, rc);
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

struct watch_state {
	long want, seen;
};

static int
on_watch(const char *type, struct json_object *obj, void *arg)
{
	struct watch_state *w = arg;

	printf("%s %s %s\n", type,
	    vkc_json_get_string(obj, "metadata.name", "-"),
	    vkc_json_get_string(obj, "metadata.resourceVersion", "-"));
	fflush(stdout);
	if (strcmp(type, "BOOKMARK") != 0)
		w->seen++;
	return w->seen >= w->want ? 1 : 0;
}

static int
cmd_watch(struct kube_client *c, int argc, char **argv)
{
	struct watch_state w = { 1, 0 };
	struct kube_status st;
	long timeout = 70;
	int i, rc;

	if (argc < 1)
		usage();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
			w.want = atol(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout = atol(argv[++i]);
		else
			usage();
	}
	rc = kube_watch(c, argv[0], on_watch, &w, NULL, timeout, &st);
	if (rc == 1 || (rc == 0 && w.seen >= w.want))
		return 0;
	if (rc == 0) {
		fprintf(stderr, "kubeclient: watch ended after %ld events\n",
		    w.seen);
		return 1;
	}
	return fail(argv[0], &st, rc);
}

static void
on_inform(enum vkc_informer_event ev, struct json_object *obj, void *arg)
{
	static const char *names[] = { "ADDED", "MODIFIED", "DELETED" };

	(void)arg;
	printf("%s %s %s\n", names[ev],
	    vkc_json_get_string(obj, "metadata.name", "-"),
	    vkc_json_get_string(obj, "metadata.resourceVersion", "-"));
	fflush(stdout);
}

static int
cmd_informer(struct kube_client *c, int argc, char **argv)
{
	struct vkc_informer_config cfg;
	struct vkc_informer *inf;
	struct json_object *all, *o;
	double duration = 0, t0;
	unsigned long lists = 0, n;
	size_t i;
	int k;

	if (argc < 4)
		usage();
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = argv[2];
	cfg.group = argv[0];
	cfg.version = argv[1];
	cfg.plural = argv[2];
	cfg.ns = argv[3];
	cfg.handler = on_inform;
	for (k = 4; k < argc; k++) {
		if (strcmp(argv[k], "--selector") == 0 && k + 1 < argc)
			cfg.label_selector = argv[++k];
		else if (strcmp(argv[k], "--duration") == 0 && k + 1 < argc)
			duration = atof(argv[++k]);
		else
			usage();
	}
	inf = vkc_informer_new(c, &cfg);
	if (inf == NULL || vkc_informer_start(inf) != 0) {
		fprintf(stderr, "kubeclient: cannot start the informer\n");
		return 1;
	}
	t0 = kc_now();
	while (!kc_signalled && (duration <= 0 || kc_now() - t0 < duration)) {
		n = vkc_informer_lists(inf);
		if (n != lists) {
			lists = n;
			printf("LISTS %lu\n", lists);
			fflush(stdout);
		}
		usleep(20000);
	}
	vkc_informer_stop(inf);
	all = vkc_informer_list(inf, NULL, NULL);
	for (i = 0; all != NULL && i < json_object_array_length(all); i++) {
		o = json_object_array_get_idx(all, i);
		printf("STORE %s %s\n",
		    vkc_json_get_string(o, "metadata.name", "-"),
		    vkc_json_get_string(o, "metadata.resourceVersion", "-"));
	}
	printf("LISTS %lu\n", vkc_informer_lists(inf));
	json_object_put(all);
	vkc_informer_free(inf);
	return 0;
}

static int
cmd_bench_get(struct kube_client *c, int argc, char **argv)
{
	struct kube_status st;
	struct json_object *o;
	double secs, t0, el;
	unsigned long n = 0;
	int rc;

	if (argc != 2)
		usage();
	secs = atof(argv[1]);
	t0 = kc_now();
	while ((el = kc_now() - t0) < secs) {
		o = NULL;
		rc = kube_get(c, argv[0], &o, &st);
		json_object_put(o);
		if (rc != 0)
			return fail(argv[0], &st, rc);
		n++;
	}
	printf("GET %lu requests in %.2f s: %.0f requests/s\n", n, el,
	    (double)n / el);
	return 0;
}

static int
cmd_bench_apply(struct kube_client *c, int argc, char **argv)
{
	struct kube_status st;
	struct json_object *obj;
	char path[512], value[32];
	double secs, t0, el;
	unsigned long n = 0;
	int rc;

	if (argc != 2)
		usage();
	secs = atof(argv[1]);
	if (kube_path(path, sizeof(path), "", "v1", argv[0], "configmaps",
	    "kubeclient-bench", NULL) != 0)
		usage();
	obj = json_object_new_object();
	vkc_json_set(obj, "apiVersion", json_object_new_string("v1"));
	vkc_json_set(obj, "kind", json_object_new_string("ConfigMap"));
	vkc_json_set(obj, "metadata.name",
	    json_object_new_string("kubeclient-bench"));
	vkc_json_set(obj, "metadata.namespace", json_object_new_string(argv[0]));
	t0 = kc_now();
	while ((el = kc_now() - t0) < secs) {
		snprintf(value, sizeof(value), "%lu", n);
		vkc_json_set(obj, "data.counter", json_object_new_string(value));
		rc = kube_apply(c, path, obj, "kubeclient", true, NULL, &st);
		if (rc != 0) {
			json_object_put(obj);
			return fail(path, &st, rc);
		}
		n++;
	}
	json_object_put(obj);
	printf("APPLY %lu requests in %.2f s: %.0f requests/s\n", n, el,
	    (double)n / el);
	return 0;
}

int
main(int argc, char **argv)
{
	struct vkc_kubeconfig kc;
	struct kube_client *c;
	struct sigaction sa;
	const char *path = NULL, *context = NULL, *cmd;
	char err[512];
	int i, rc, verbosity = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--kubeconfig") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--context") == 0 && i + 1 < argc)
			context = argv[++i];
		else if (strcmp(argv[i], "-v") == 0 && i + 1 < argc)
			verbosity = atoi(argv[++i]);
		else
			break;
	}
	if (i >= argc)
		usage();
	cmd = argv[i++];
	vkc_log_init(VKC_LOG_TEXT, verbosity);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kc_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (vkc_kubeconfig_load(&kc, path, context, err, sizeof(err)) != 0) {
		fprintf(stderr, "kubeclient: %s\n", err);
		return 1;
	}
	rc = kube_client_new(&kc, NULL, &c);
	if (rc != 0) {
		fprintf(stderr, "kubeclient: %s\n", kube_strerror(rc));
		return 1;
	}
	if (strcmp(cmd, "get") == 0)
		rc = cmd_get(c, argc - i, argv + i);
	else if (strcmp(cmd, "create") == 0)
		rc = cmd_create(c, argc - i, argv + i);
	else if (strcmp(cmd, "watch") == 0)
		rc = cmd_watch(c, argc - i, argv + i);
	else if (strcmp(cmd, "informer") == 0)
		rc = cmd_informer(c, argc - i, argv + i);
	else if (strcmp(cmd, "bench-get") == 0)
		rc = cmd_bench_get(c, argc - i, argv + i);
	else if (strcmp(cmd, "bench-apply") == 0)
		rc = cmd_bench_apply(c, argc - i, argv + i);
	else
		usage();
	kube_client_free(c);
	return rc;
}
