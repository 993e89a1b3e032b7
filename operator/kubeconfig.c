/*
 * kubeconfig.c: kubeconfig loading and merging, in-cluster configuration,
 * token files and exec credential plugins (see kubeconfig.h).
 *
 * Merging follows client-go: for clusters, users and contexts the first
 * file that names an entry wins (within one file the last entry of a name
 * wins, as client-go reads a file into a map); current-context comes from
 * the first file that sets it. Missing files in $KUBECONFIG are skipped;
 * files named by the path argument must exist.
 *
 * Everything read is checked for type and size; a malformed kubeconfig is
 * an error that names the entry and the field. Secrets (tokens, keys,
 * passwords, plugin output) never appear in messages.
 */
#include "kubeconfig.h"

#include "base64.h"
#include "buf.h"
#include "jsonutil.h"
#include "log.h"
#include "yamljson.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KC_FILE_MAX	((size_t)4 << 20)	/* a kubeconfig */
#define KC_DATA_MAX	((size_t)1 << 20)	/* CA, certificate, key, token */
#define KC_EXEC_OUT_MAX	((size_t)1 << 20)	/* a plugin's stdout */
#define KC_EXEC_TIMEOUT	60			/* seconds a plugin may run */
#define KC_EXEC_EARLY	10	/* refresh this many seconds before expiry */
#define KC_TOKEN_TTL	60	/* seconds between token file reads */
#define KC_MAX_FILES	64
#define KC_SA_DIR	"/var/run/secrets/kubernetes.io/serviceaccount"
#define KC_EXEC_V1	"client.authentication.k8s.io/v1"
#define KC_EXEC_V1BETA1	"client.authentication.k8s.io/v1beta1"

struct kc_file {
	char *path;			/* for messages */
	char *dir;			/* relative paths resolve here */
	struct json_object *root;	/* an object, or NULL when empty */
};

struct kc_files {
	struct kc_file f[KC_MAX_FILES];
	int n;
};

static void kc_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
kc_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
kc_free_secret(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

static void
kc_free_secret_str(char *p)
{
	if (p != NULL)
		kc_free_secret(p, strlen(p));
}

static time_t
kc_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Reads a regular file of at most max bytes into a NUL-terminated copy. */
static int
kc_read_file(const char *path, size_t max, char **data, size_t *len,
    char *err, size_t errlen)
{
	struct vkc_buf b;
	struct stat st;
	char chunk[8192];
	ssize_t n;
	int fd, rc = 0;

	*data = NULL;
	*len = 0;
	vkc_buf_init(&b, max);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		kc_err(err, errlen, "cannot open '%s': %s", path, strerror(-rc));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		kc_err(err, errlen, "cannot stat '%s': %s", path, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		kc_err(err, errlen, "'%s' is not a regular file", path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			kc_err(err, errlen, "cannot read '%s': %s", path,
			    strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;
		rc = vkc_buf_append(&b, chunk, (size_t)n);
		if (rc == -E2BIG) {
			kc_err(err, errlen, "'%s' is larger than %zu bytes",
			    path, max);
			goto out;
		}
		if (rc != 0)
			goto out;
	}
	*data = vkc_buf_detach(&b, len);
	if (*data == NULL)
		rc = -ENOMEM;
out:
	explicit_bzero(chunk, sizeof(chunk));
	if (fd >= 0)
		close(fd);
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	vkc_buf_release(&b);
	if (rc == -ENOMEM)
		kc_err(err, errlen, "out of memory reading '%s'", path);
	return rc;
}

/* dir/rel, or rel itself when it is absolute or there is no dir. */
static char *
kc_join(const char *dir, const char *rel)
{
	char *p;

	if (rel[0] == '/' || dir == NULL || dir[0] == '\0')
		return strdup(rel);
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		return NULL;
	return p;
}

static char *
kc_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Rejects bytes that cannot go into an HTTP header. */
static bool
kc_token_ok(const char *t)
{
	const unsigned char *p;

	if (*t == '\0')
		return false;
	for (p = (const unsigned char *)t; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* ---- reading fields ---- */

/* o[key] as a string: *s is NULL when absent, null or empty. */
static int
kc_str(struct json_object *o, const char *key, const char **s,
    const char *what, const char *name, char *err, size_t errlen)
{
	struct json_object *v;

	*s = NULL;
	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		kc_err(err, errlen, "%s '%.100s': '%s' must be a string",
		    what, name, key);
		return -EINVAL;
	}
	if (json_object_get_string_len(v) > 0)
		*s = json_object_get_string(v);
	return 0;
}

static int
kc_bool(struct json_object *o, const char *key, bool *b, const char *what,
    const char *name, char *err, size_t errlen)
{
	struct json_object *v;

	*b = false;
	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_boolean)) {
		kc_err(err, errlen, "%s '%.100s': '%s' must be true or false",
		    what, name, key);
		return -EINVAL;
	}
	*b = json_object_get_boolean(v);
	return 0;
}

static int
kc_strdup(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	return *dst == NULL ? -ENOMEM : 0;
}

/* Loads a PEM blob from field_data (base64) or field (a file). */
static int
kc_blob(struct json_object *o, const char *field, const char *field_data,
    const char *dir, char **data, size_t *len, const char *what,
    const char *name, char *err, size_t errlen)
{
	const char *b64, *file;
	char *path = NULL, ferr[256];
	int rc;

	*data = NULL;
	*len = 0;
	rc = kc_str(o, field_data, &b64, what, name, err, errlen);
	if (rc == 0)
		rc = kc_str(o, field, &file, what, name, err, errlen);
	if (rc != 0)
		return rc;
	if (b64 != NULL) {
		rc = vkc_base64_decode(b64, strlen(b64), data, len);
		if (rc == -EINVAL)
			kc_err(err, errlen, "%s '%.100s': '%s' is not valid "
			    "base64", what, name, field_data);
		return rc;
	}
	if (file == NULL)
		return 0;
	path = kc_join(dir, file);
	if (path == NULL)
		return -ENOMEM;
	rc = kc_read_file(path, KC_DATA_MAX, data, len, ferr, sizeof(ferr));
	if (rc != 0)
		kc_err(err, errlen, "%s '%.100s': %s: %s", what, name, field,
		    ferr);
	free(path);
	return rc;
}

/* ---- structure checks ---- */

static int
kc_check_list(const struct kc_file *f, const char *list, const char *field,
    char *err, size_t errlen)
{
	struct json_object *arr, *e, *v;
	size_t i, n;

	if (!json_object_object_get_ex(f->root, list, &arr) || arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array)) {
		kc_err(err, errlen, "kubeconfig '%s': '%s' must be a list",
		    f->path, list);
		return -EINVAL;
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "name", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0) {
			kc_err(err, errlen, "kubeconfig '%s': %s[%zu] must be "
			    "a mapping with a 'name'", f->path, list, i);
			return -EINVAL;
		}
		if (json_object_object_get_ex(e, field, &v) && v != NULL &&
		    !json_object_is_type(v, json_type_object)) {
			kc_err(err, errlen, "kubeconfig '%s': %s '%.100s': "
			    "'%s' must be a mapping", f->path, list,
			    vkc_json_get_string(e, "name", ""), field);
			return -EINVAL;
		}
	}
	return 0;
}

static int
kc_check_file(const struct kc_file *f, char *err, size_t errlen)
{
	struct json_object *v;
	int rc;

	if (f->root == NULL)
		return 0;
	if (!json_object_is_type(f->root, json_type_object)) {
		kc_err(err, errlen, "kubeconfig '%s' is not a mapping", f->path);
		return -EINVAL;
	}
	if (json_object_object_get_ex(f->root, "current-context", &v) &&
	    v != NULL && !json_object_is_type(v, json_type_string)) {
		kc_err(err, errlen, "kubeconfig '%s': 'current-context' must "
		    "be a string", f->path);
		return -EINVAL;
	}
	rc = kc_check_list(f, "clusters", "cluster", err, errlen);
	if (rc == 0)
		rc = kc_check_list(f, "users", "user", err, errlen);
	if (rc == 0)
		rc = kc_check_list(f, "contexts", "context", err, errlen);
	return rc;
}

/* Finds the named entry of list; *body is its inner mapping (or NULL when
 * it has none). Returns 0, or -ENOENT. Lists were checked already. */
static int
kc_find(const struct kc_files *fs, const char *list, const char *field,
    const char *name, struct json_object **body, const struct kc_file **file)
{
	struct json_object *arr, *e;
	size_t i, n;
	int k;
	bool found;

	for (k = 0; k < fs->n; k++) {
		if (fs->f[k].root == NULL ||
		    !json_object_object_get_ex(fs->f[k].root, list, &arr) ||
		    arr == NULL)
			continue;
		found = false;
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			e = json_object_array_get_idx(arr, i);
			if (strcmp(vkc_json_get_string(e, "name", ""),
			    name) != 0)
				continue;
			found = true;
			*body = NULL;
			json_object_object_get_ex(e, field, body);
		}
		if (found) {
			*file = &fs->f[k];
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- building the configuration ---- */

static int
kc_cluster(struct vkc_kubeconfig *kc, struct json_object *c, const char *dir,
    const char *name, char *err, size_t errlen)
{
	const char *server, *s, *host;
	size_t n;
	int rc;

	rc = kc_str(c, "server", &server, "cluster", name, err, errlen);
	if (rc != 0)
		return rc;
	if (server == NULL) {
		kc_err(err, errlen, "cluster '%.100s' has no server", name);
		return -EINVAL;
	}
	if (strstr(server, "://") == NULL) {
		if (asprintf(&kc->server, "https://%s", server) < 0) {
			kc->server = NULL;
			return -ENOMEM;
		}
	} else if (strncmp(server, "https://", 8) != 0 &&
	    strncmp(server, "http://", 7) != 0) {
		kc_err(err, errlen, "cluster '%.100s': server '%.200s' must be "
		    "an https:// URL", name, server);
		return -EINVAL;
	} else {
		kc->server = strdup(server);
		if (kc->server == NULL)
			return -ENOMEM;
	}
	n = strlen(kc->server);
	while (n > 0 && kc->server[n - 1] == '/')
		kc->server[--n] = '\0';
	host = strstr(kc->server, "://") + 3;
	if (*host == '\0' || strpbrk(kc->server, " \t\r\n") != NULL) {
		kc_err(err, errlen, "cluster '%.100s': server '%.200s' is not "
		    "a valid URL", name, server);
		return -EINVAL;
	}

	rc = kc_str(c, "tls-server-name", &s, "cluster", name, err, errlen);
	if (rc == 0)
		rc = kc_strdup(&kc->tls_server_name, s);
	if (rc == 0)
		rc = kc_str(c, "proxy-url", &s, "cluster", name, err, errlen);
	if (rc == 0)
		rc = kc_strdup(&kc->proxy_url, s);
	if (rc == 0)
		rc = kc_bool(c, "insecure-skip-tls-verify",
		    &kc->insecure_skip_tls_verify, "cluster", name, err,
		    errlen);
	if (rc == 0)
		rc = kc_blob(c, "certificate-authority",
		    "certificate-authority-data", dir, &kc->ca_data,
		    &kc->ca_len, "cluster", name, err, errlen);
	if (rc != 0)
		return rc;
	if (kc->insecure_skip_tls_verify && kc->ca_data != NULL) {
		kc_err(err, errlen, "cluster '%.100s': a certificate authority "
		    "and insecure-skip-tls-verify cannot both be set", name);
		return -EINVAL;
	}
	return 0;
}

static int
kc_strv(struct json_object *arr, char ***out)
{
	size_t i, n = json_object_array_length(arr);
	char **v;

	v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	*out = v;
	for (i = 0; i < n; i++) {
		v[i] = strdup(json_object_get_string(
		    json_object_array_get_idx(arr, i)));
		if (v[i] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
kc_exec(struct vkc_kubeconfig *kc, struct json_object *e, const char *dir,
    const char *name, char *err, size_t errlen)
{
	struct vkc_exec_config *x;
	struct json_object *args = NULL, *env = NULL, *it, *nv, *vv;
	const char *cmd, *api, *hint;
	size_t i, n;
	int rc;

	if (!json_object_is_type(e, json_type_object)) {
		kc_err(err, errlen, "user '%.100s': 'exec' must be a mapping",
		    name);
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	kc->exec = x;

	rc = kc_str(e, "command", &cmd, "user", name, err, errlen);
	if (rc == 0)
		rc = kc_str(e, "apiVersion", &api, "user", name, err, errlen);
	if (rc == 0)
		rc = kc_str(e, "installHint", &hint, "user", name, err, errlen);
	if (rc == 0)
		rc = kc_bool(e, "provideClusterInfo", &x->provide_cluster_info,
		    "user", name, err, errlen);
	if (rc != 0)
		return rc;
	if (cmd == NULL) {
		kc_err(err, errlen, "user '%.100s': exec has no command", name);
		return -EINVAL;
	}
	if (api == NULL || (strcmp(api, KC_EXEC_V1) != 0 &&
	    strcmp(api, KC_EXEC_V1BETA1) != 0)) {
		kc_err(err, errlen, "user '%.100s': exec apiVersion '%.100s' is "
		    "not supported (use %s)", name, api ? api : "", KC_EXEC_V1);
		return -EINVAL;
	}
	x->command = strchr(cmd, '/') != NULL ? kc_join(dir, cmd) : strdup(cmd);
	x->api_version = strdup(api);
	if (x->command == NULL || x->api_version == NULL ||
	    kc_strdup(&x->install_hint, hint) != 0)
		return -ENOMEM;

	json_object_object_get_ex(e, "args", &args);
	if (args != NULL) {
		n = json_object_is_type(args, json_type_array) ?
		    json_object_array_length(args) : 0;
		for (i = 0; i < n; i++)
			if (!json_object_is_type(json_object_array_get_idx(args,
			    i), json_type_string))
				break;
		if (!json_object_is_type(args, json_type_array) || i < n) {
			kc_err(err, errlen, "user '%.100s': exec 'args' must be "
			    "a list of strings", name);
			return -EINVAL;
		}
		rc = kc_strv(args, &x->args);
		if (rc != 0)
			return rc;
	}

	json_object_object_get_ex(e, "env", &env);
	n = 0;
	if (env != NULL) {
		if (!json_object_is_type(env, json_type_array)) {
			kc_err(err, errlen, "user '%.100s': exec 'env' must be "
			    "a list", name);
			return -EINVAL;
		}
		n = json_object_array_length(env);
	}
	x->env = calloc(n + 1, sizeof(*x->env));
	if (x->env == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(env, i);
		if (!json_object_is_type(it, json_type_object) ||
		    !json_object_object_get_ex(it, "name", &nv) ||
		    !json_object_is_type(nv, json_type_string) ||
		    json_object_get_string_len(nv) == 0 ||
		    strchr(json_object_get_string(nv), '=') != NULL ||
		    !json_object_object_get_ex(it, "value", &vv) ||
		    !json_object_is_type(vv, json_type_string)) {
			kc_err(err, errlen, "user '%.100s': exec env[%zu] must "
			    "have a 'name' and a string 'value'", name, i);
			return -EINVAL;
		}
		if (asprintf(&x->env[i], "%s=%s", json_object_get_string(nv),
		    json_object_get_string(vv)) < 0) {
			x->env[i] = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

static int
kc_user(struct vkc_kubeconfig *kc, struct json_object *u, const char *dir,
    const char *name, char *err, size_t errlen)
{
	struct json_object *v;
	const char *s;
	int rc;

	if (u == NULL)
		return 0;
	if (json_object_object_get_ex(u, "auth-provider", &v) && v != NULL) {
		kc_err(err, errlen, "user '%.100s': auth-provider '%.64s' is not "
		    "supported; use an exec plugin such as kubelogin instead",
		    name, vkc_json_get_string(v, "name", "?"));
		return -ENOTSUP;
	}
	rc = kc_str(u, "token", &s, "user", name, err, errlen);
	if (rc != 0)
		return rc;
	if (s != NULL && !kc_token_ok(s)) {
		kc_err(err, errlen, "user '%.100s': 'token' holds control "
		    "characters", name);
		return -EINVAL;
	}
	rc = kc_strdup(&kc->token, s);
	if (rc == 0)
		rc = kc_str(u, "tokenFile", &s, "user", name, err, errlen);
	if (rc == 0 && s != NULL) {
		kc->token_file = kc_join(dir, s);
		if (kc->token_file == NULL)
			rc = -ENOMEM;
	}
	if (rc == 0)
		rc = kc_str(u, "username", &s, "user", name, err, errlen);
	if (rc == 0)
		rc = kc_strdup(&kc->username, s);
	if (rc == 0)
		rc = kc_str(u, "password", &s, "user", name, err, errlen);
	if (rc == 0)
		rc = kc_strdup(&kc->password, s);
	if (rc == 0)
		rc = kc_blob(u, "client-certificate", "client-certificate-data",
		    dir, &kc->cert_data, &kc->cert_len, "user", name, err,
		    errlen);
	if (rc == 0)
		rc = kc_blob(u, "client-key", "client-key-data", dir,
		    &kc->key_data, &kc->key_len, "user", name, err, errlen);
	if (rc != 0)
		return rc;
	if ((kc->cert_data == NULL) != (kc->key_data == NULL)) {
		kc_err(err, errlen, "user '%.100s': a client certificate needs "
		    "both client-certificate and client-key", name);
		return -EINVAL;
	}
	if (json_object_object_get_ex(u, "exec", &v) && v != NULL)
		return kc_exec(kc, v, dir, name, err, errlen);
	return 0;
}

static int
kc_resolve(struct vkc_kubeconfig *kc, const struct kc_files *fs,
    const char *context, char *err, size_t errlen)
{
	struct json_object *ctx = NULL, *cl = NULL, *us = NULL;
	const struct kc_file *cf, *clf, *uf;
	const char *name = context, *cluster, *user, *ns;
	int k, rc;

	for (k = 0; (name == NULL || *name == '\0') && k < fs->n; k++)
		name = vkc_json_get_string(fs->f[k].root, "current-context",
		    NULL);
	if (name == NULL || *name == '\0') {
		kc_err(err, errlen, "kubeconfig '%s' sets no current-context; "
		    "pass --context or run 'kubectl config use-context NAME'",
		    fs->f[0].path);
		return -EINVAL;
	}
	if (kc_find(fs, "contexts", "context", name, &ctx, &cf) != 0) {
		kc_err(err, errlen, "context '%.100s' does not exist in the "
		    "kubeconfig", name);
		return -ENOENT;
	}
	rc = kc_str(ctx, "cluster", &cluster, "context", name, err, errlen);
	if (rc == 0)
		rc = kc_str(ctx, "user", &user, "context", name, err, errlen);
	if (rc == 0)
		rc = kc_str(ctx, "namespace", &ns, "context", name, err, errlen);
	if (rc != 0)
		return rc;
	if (cluster == NULL) {
		kc_err(err, errlen, "context '%.100s' names no cluster", name);
		return -EINVAL;
	}
	if (kc_find(fs, "clusters", "cluster", cluster, &cl, &clf) != 0) {
		kc_err(err, errlen, "cluster '%.100s' of context '%.100s' does "
		    "not exist in the kubeconfig", cluster, name);
		return -ENOENT;
	}
	if (user != NULL && kc_find(fs, "users", "user", user, &us, &uf) != 0) {
		kc_err(err, errlen, "user '%.100s' of context '%.100s' does not "
		    "exist in the kubeconfig", user, name);
		return -ENOENT;
	}
	kc->context = strdup(name);
	if (kc->context == NULL || kc_strdup(&kc->namespace, ns) != 0)
		return -ENOMEM;
	rc = kc_cluster(kc, cl, clf->dir, cluster, err, errlen);
	if (rc == 0 && user != NULL)
		rc = kc_user(kc, us, uf->dir, user, err, errlen);
	return rc;
}

/* Parses text as one kubeconfig file into f (which takes path and dir). */
static int
kc_parse_file(struct kc_file *f, const char *text, size_t len, char *err,
    size_t errlen)
{
	char yerr[200];
	int rc;

	rc = vkc_yaml_parse(text, len, &f->root, yerr, sizeof(yerr));
	if (rc != 0) {
		kc_err(err, errlen, "kubeconfig '%s': %s", f->path, yerr);
		return rc;
	}
	return kc_check_file(f, err, errlen);
}

static void
kc_files_release(struct kc_files *fs)
{
	int k;

	for (k = 0; k < fs->n; k++) {
		free(fs->f[k].path);
		free(fs->f[k].dir);
		json_object_put(fs->f[k].root);
	}
	fs->n = 0;
}

/* Loads a colon-separated list of files. Missing files are skipped unless
 * strict. what names the list's source for messages. */
static int
kc_load_list(struct vkc_kubeconfig *kc, const char *list, bool strict,
    const char *what, const char *context, char *err, size_t errlen)
{
	struct kc_files fs;
	struct kc_file *f;
	char *copy, *p, *item, *text = NULL, ferr[300];
	size_t len;
	int k, rc = 0;
	bool dup;

	memset(&fs, 0, sizeof(fs));
	copy = strdup(list);
	if (copy == NULL)
		return -ENOMEM;
	p = copy;
	while (p != NULL) {
		item = p;
		p = strchr(p, ':');
		if (p != NULL)
			*p++ = '\0';
		if (*item == '\0')
			continue;
		dup = false;
		for (k = 0; k < fs.n; k++)
			if (strcmp(fs.f[k].path, item) == 0)
				dup = true;
		if (dup)
			continue;
		if (fs.n >= KC_MAX_FILES) {
			kc_err(err, errlen, "%s names more than %d files",
			    what, KC_MAX_FILES);
			rc = -E2BIG;
			goto out;
		}
		rc = kc_read_file(item, KC_FILE_MAX, &text, &len, ferr,
		    sizeof(ferr));
		if (rc == -ENOENT && !strict) {
			rc = 0;
			continue;
		}
		if (rc != 0) {
			kc_err(err, errlen, "cannot load kubeconfig: %s", ferr);
			goto out;
		}
		f = &fs.f[fs.n++];
		f->path = strdup(item);
		f->dir = kc_dirname(item);
		if (f->path == NULL || f->dir == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		rc = kc_parse_file(f, text, len, err, errlen);
		kc_free_secret(text, len);
		text = NULL;
		if (rc != 0)
			goto out;
	}
	if (fs.n == 0) {
		kc_err(err, errlen, "none of the files in %s ('%.200s') exist; "
		    "set --kubeconfig or KUBECONFIG to a kubeconfig file",
		    what, list);
		rc = -ENOENT;
		goto out;
	}
	rc = kc_resolve(kc, &fs, context, err, errlen);
out:
	if (text != NULL)
		kc_free_secret(text, len);
	kc_files_release(&fs);
	free(copy);
	return rc;
}

/* Reads one line-ish value from the service-account folder, trimmed. */
static int
kc_read_trimmed(const char *path, char **out, char *err, size_t errlen)
{
	char *data, *s, *e;
	size_t len;
	int rc;

	*out = NULL;
	rc = kc_read_file(path, KC_DATA_MAX, &data, &len, err, errlen);
	if (rc != 0)
		return rc;
	if (memchr(data, '\0', len) != NULL) {
		kc_free_secret(data, len);
		kc_err(err, errlen, "'%s' holds a NUL byte", path);
		return -EINVAL;
	}
	s = data;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	*out = strndup(s, (size_t)(e - s));
	kc_free_secret(data, len);
	return *out == NULL ? -ENOMEM : 0;
}

static int
kc_in_cluster(struct vkc_kubeconfig *kc, bool *found, char *err,
    size_t errlen)
{
	const char *host, *port, *dir;
	char *path = NULL, *ns = NULL, cerr[300];
	size_t i;
	int rc = 0;

	*found = false;
	host = getenv("KUBERNETES_SERVICE_HOST");
	port = getenv("KUBERNETES_SERVICE_PORT");
	dir = getenv("VKC_SERVICEACCOUNT_DIR");
	if (dir == NULL || *dir == '\0')
		dir = KC_SA_DIR;
	if (host == NULL || *host == '\0' || port == NULL || *port == '\0')
		return 0;
	kc->token_file = kc_join(dir, "token");
	if (kc->token_file == NULL)
		return -ENOMEM;
	if (access(kc->token_file, R_OK) != 0) {
		free(kc->token_file);
		kc->token_file = NULL;
		return 0;
	}
	for (i = 0; port[i] != '\0'; i++)
		if (port[i] < '0' || port[i] > '9' || i >= 5)
			break;
	if (port[i] != '\0' || strpbrk(host, "/[]@ \t\r\n") != NULL) {
		kc_err(err, errlen, "KUBERNETES_SERVICE_HOST/PORT ('%.100s', "
		    "'%.20s') do not form an address", host, port);
		return -EINVAL;
	}
	if (asprintf(&kc->server, strchr(host, ':') != NULL ?
	    "https://[%s]:%s" : "https://%s:%s", host, port) < 0) {
		kc->server = NULL;
		return -ENOMEM;
	}
	kc->context = strdup("in-cluster");
	if (kc->context == NULL)
		return -ENOMEM;

	path = kc_join(dir, "ca.crt");
	if (path == NULL)
		return -ENOMEM;
	rc = kc_read_file(path, KC_DATA_MAX, &kc->ca_data, &kc->ca_len, cerr,
	    sizeof(cerr));
	if (rc != 0) {
		log_warn("in-cluster configuration without a CA: %s", cerr);
		rc = 0;
	}
	free(path);

	path = kc_join(dir, "namespace");
	if (path == NULL)
		return -ENOMEM;
	if (access(path, F_OK) == 0 &&
	    kc_read_trimmed(path, &ns, cerr, sizeof(cerr)) == 0 && *ns != '\0') {
		kc->namespace = ns;
		ns = NULL;
	}
	free(ns);
	free(path);
	*found = true;
	return rc;
}

int
vkc_kubeconfig_load(struct vkc_kubeconfig *kc, const char *path,
    const char *context, char *err, size_t errlen)
{
	const char *env, *home;
	char *def = NULL;
	bool found;
	int rc;

	memset(kc, 0, sizeof(*kc));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path != NULL && *path != '\0') {
		rc = kc_load_list(kc, path, true, "--kubeconfig", context, err,
		    errlen);
		goto out;
	}
	env = getenv("KUBECONFIG");
	if (env != NULL && *env != '\0') {
		rc = kc_load_list(kc, env, false, "KUBECONFIG", context, err,
		    errlen);
		goto out;
	}
	rc = kc_in_cluster(kc, &found, err, errlen);
	if (rc != 0 || found)
		goto out;
	vkc_kubeconfig_release(kc);
	home = getenv("HOME");
	if (home != NULL && *home != '\0') {
		if (asprintf(&def, "%s/.kube/config", home) < 0) {
			def = NULL;
			rc = -ENOMEM;
			goto out;
		}
		if (access(def, F_OK) == 0) {
			rc = kc_load_list(kc, def, true, "~/.kube/config",
			    context, err, errlen);
			goto out;
		}
	}
	kc_err(err, errlen, "no kubeconfig found: set --kubeconfig or "
	    "KUBECONFIG, or run in a pod with a service account (there is no "
	    "~/.kube/config)");
	rc = -ENOENT;
out:
	free(def);
	if (rc == -ENOMEM)
		kc_err(err, errlen, "out of memory loading the kubeconfig");
	if (rc != 0)
		vkc_kubeconfig_release(kc);
	return rc;
}

int
vkc_kubeconfig_load_text(struct vkc_kubeconfig *kc, const char *text,
    size_t len, const char *dir, const char *context, char *err,
    size_t errlen)
{
	struct kc_files fs;
	int rc;

	memset(kc, 0, sizeof(*kc));
	memset(&fs, 0, sizeof(fs));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > KC_FILE_MAX) {
		kc_err(err, errlen, "kubeconfig is larger than %zu bytes",
		    KC_FILE_MAX);
		return -E2BIG;
	}
	fs.n = 1;
	fs.f[0].path = strdup("(text)");
	fs.f[0].dir = dir != NULL ? strdup(dir) : NULL;
	if (fs.f[0].path == NULL || (dir != NULL && fs.f[0].dir == NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	rc = kc_parse_file(&fs.f[0], text, len, err, errlen);
	if (rc == 0)
		rc = kc_resolve(kc, &fs, context, err, errlen);
out:
	kc_files_release(&fs);
	if (rc == -ENOMEM)
		kc_err(err, errlen, "out of memory loading the kubeconfig");
	if (rc != 0)
		vkc_kubeconfig_release(kc);
	return rc;
}

/* ---- credentials ---- */

static int
kc_digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -EINVAL;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

static int
kc_expect(const char **p, const char *set)
{
	if (**p == '\0' || strchr(set, **p) == NULL)
		return -EINVAL;
	(*p)++;
	return 0;
}

/* RFC 3339 ("2006-01-02T15:04:05.999Z", or with a "+hh:mm" offset). */
static int
kc_rfc3339(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	struct tm tm;
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	time_t t;

	if (kc_digits(&p, 4, &y) != 0 || kc_expect(&p, "-") != 0 ||
	    kc_digits(&p, 2, &mo) != 0 || kc_expect(&p, "-") != 0 ||
	    kc_digits(&p, 2, &d) != 0 || kc_expect(&p, "Tt") != 0 ||
	    kc_digits(&p, 2, &h) != 0 || kc_expect(&p, ":") != 0 ||
	    kc_digits(&p, 2, &mi) != 0 || kc_expect(&p, ":") != 0 ||
	    kc_digits(&p, 2, &sec) != 0)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (kc_digits(&p, 2, &oh) != 0 || kc_expect(&p, ":") != 0 ||
		    kc_digits(&p, 2, &om) != 0 || oh > 23 || om > 59)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

/* The KUBERNETES_EXEC_INFO value (an ExecCredential with the spec). */
static char *
kc_exec_info(const struct vkc_kubeconfig *kc)
{
	struct json_object *o, *spec, *cl;
	char *b64 = NULL;
	char *s = NULL;
	int bad = 0;

	o = json_object_new_object();
	spec = json_object_new_object();
	if (o == NULL || spec == NULL) {
		json_object_put(spec);
		goto out;
	}
	bad |= json_object_object_add(o, "apiVersion",
	    json_object_new_string(kc->exec->api_version));
	bad |= json_object_object_add(o, "kind",
	    json_object_new_string("ExecCredential"));
	bad |= json_object_object_add(o, "spec", spec);
	bad |= json_object_object_add(spec, "interactive",
	    json_object_new_boolean(0));
	if (kc->exec->provide_cluster_info) {
		cl = json_object_new_object();
		bad |= json_object_object_add(spec, "cluster", cl);
		if (cl == NULL)
			goto out;
		bad |= json_object_object_add(cl, "server",
		    json_object_new_string(kc->server));
		if (kc->tls_server_name != NULL)
			bad |= json_object_object_add(cl, "tls-server-name",
			    json_object_new_string(kc->tls_server_name));
		if (kc->proxy_url != NULL)
			bad |= json_object_object_add(cl, "proxy-url",
			    json_object_new_string(kc->proxy_url));
		if (kc->insecure_skip_tls_verify)
			bad |= json_object_object_add(cl,
			    "insecure-skip-tls-verify",
			    json_object_new_boolean(1));
		if (kc->ca_data != NULL) {
			b64 = vkc_base64_encode(kc->ca_data, kc->ca_len);
			if (b64 == NULL)
				goto out;
			bad |= json_object_object_add(cl,
			    "certificate-authority-data",
			    json_object_new_string(b64));
		}
	}
	if (bad == 0)
		s = strdup(vkc_json_str(o));
out:
	free(b64);
	json_object_put(o);
	return s;
}

/* environ without the names the plugin config sets, then those, then
 * KUBERNETES_EXEC_INFO (info, which the caller owns). */
static char **
kc_exec_env(const struct vkc_exec_config *x, char *info)
{
	char **envp, **e, **xe;
	size_t n = 0, m = 0, k = 0, len;
	bool skip;

	for (e = environ; e != NULL && *e != NULL; e++)
		n++;
	for (xe = x->env; xe != NULL && *xe != NULL; xe++)
		m++;
	envp = calloc(n + m + 2, sizeof(*envp));
	if (envp == NULL)
		return NULL;
	for (e = environ; e != NULL && *e != NULL; e++) {
		len = strcspn(*e, "=");
		skip = len == strlen("KUBERNETES_EXEC_INFO") &&
		    strncmp(*e, "KUBERNETES_EXEC_INFO", len) == 0;
		for (xe = x->env; !skip && xe != NULL && *xe != NULL; xe++)
			skip = strncmp(*e, *xe, len + 1) == 0;
		if (!skip)
			envp[k++] = *e;
	}
	for (xe = x->env; xe != NULL && *xe != NULL; xe++)
		envp[k++] = *xe;
	envp[k++] = info;
	envp[k] = NULL;
	return envp;
}

static int64_t
kc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the plugin with stdout captured into out; *status is its wait
 * status. */
static int
kc_exec_spawn(const struct vkc_kubeconfig *kc, struct vkc_buf *out,
    int *status, char *err, size_t errlen)
{
	const struct vkc_exec_config *x = kc->exec;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	struct pollfd pfd;
	char **argv = NULL, **envp = NULL, *info = NULL, *infoenv = NULL;
	char chunk[8192];
	size_t nargs = 0, i;
	int64_t deadline;
	pid_t pid = -1, w;
	ssize_t n;
	int pipefd[2] = { -1, -1 }, rc, r;
	bool fa_ok = false, attr_ok = false;

	info = kc_exec_info(kc);
	if (info == NULL || asprintf(&infoenv, "KUBERNETES_EXEC_INFO=%s",
	    info) < 0) {
		infoenv = NULL;
		rc = -ENOMEM;
		goto out;
	}
	envp = kc_exec_env(x, infoenv);
	while (x->args != NULL && x->args[nargs] != NULL)
		nargs++;
	argv = calloc(nargs + 2, sizeof(*argv));
	if (envp == NULL || argv == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	argv[0] = x->command;
	for (i = 0; i < nargs; i++)
		argv[i + 1] = x->args[i];

	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		rc = -errno;
		kc_err(err, errlen, "cannot run exec plugin '%s': %s",
		    x->command, strerror(-rc));
		goto out;
	}
	rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0) {
		rc = -rc;
		goto out;
	}
	fa_ok = true;
	rc = posix_spawnattr_init(&attr);
	if (rc != 0) {
		rc = -rc;
		goto out;
	}
	attr_ok = true;
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGQUIT);
	sigaddset(&def, SIGCHLD);
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
	/* the operator's sockets and files are none of the plugin's business */
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &def);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
		    POSIX_SPAWN_SETSIGDEF);
	if (rc != 0) {
		rc = -rc;
		goto out;
	}
	rc = posix_spawnp(&pid, x->command, &fa, &attr, argv, envp);
	if (rc != 0) {
		pid = -1;
		kc_err(err, errlen, "cannot run exec plugin '%s': %s%s%s",
		    x->command, strerror(rc),
		    x->install_hint != NULL ? "; " : "",
		    x->install_hint != NULL ? x->install_hint : "");
		rc = -rc;
		goto out;
	}
	close(pipefd[1]);
	pipefd[1] = -1;

	deadline = kc_now_ms() + KC_EXEC_TIMEOUT * 1000;
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	for (;;) {
		int64_t left = deadline - kc_now_ms();

		if (left <= 0) {
			kc_err(err, errlen, "exec plugin '%s' did not finish "
			    "within %d s", x->command, KC_EXEC_TIMEOUT);
			rc = -ETIMEDOUT;
			goto out;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			kc_err(err, errlen, "exec plugin '%s': poll: %s",
			    x->command, strerror(-rc));
			goto out;
		}
		if (r == 0)
			continue;
		n = read(pipefd[0], chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			rc = -errno;
			kc_err(err, errlen, "exec plugin '%s': read: %s",
			    x->command, strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;
		rc = vkc_buf_append(out, chunk, (size_t)n);
		if (rc == -E2BIG) {
			kc_err(err, errlen, "exec plugin '%s' wrote more than "
			    "%zu bytes", x->command, out->max);
			goto out;
		}
		if (rc != 0)
			goto out;
	}
	for (;;) {
		w = waitpid(pid, status, WNOHANG);
		if (w == pid) {
			pid = -1;
			break;
		}
		if (w < 0 && errno != EINTR) {
			rc = -errno;
			pid = -1;
			kc_err(err, errlen, "exec plugin '%s': wait: %s",
			    x->command, strerror(-rc));
			goto out;
		}
		if (kc_now_ms() >= deadline) {
			kc_err(err, errlen, "exec plugin '%s' did not exit "
			    "within %d s", x->command, KC_EXEC_TIMEOUT);
			rc = -ETIMEDOUT;
			goto out;
		}
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	rc = 0;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	if (rc == -ENOMEM)
		kc_err(err, errlen, "out of memory running exec plugin");
	free(argv);
	free(envp);
	free(infoenv);
	free(info);
	return rc;
}

/* Runs the exec plugin and caches what it returned. */
static int
kc_exec_run(struct vkc_kubeconfig *kc, char *err, size_t errlen)
{
	const struct vkc_exec_config *x = kc->exec;
	struct json_object *o = NULL, *st;
	struct vkc_buf out;
	const char *api, *tok, *cert, *key, *exp;
	char jerr[128], *ntok = NULL, *ncert = NULL, *nkey = NULL;
	time_t expiry = 0;
	int status = 0, rc;

	vkc_buf_init(&out, KC_EXEC_OUT_MAX);
	rc = kc_exec_spawn(kc, &out, &status, err, errlen);
	if (rc != 0)
		goto out;
	if (WIFSIGNALED(status)) {
		kc_err(err, errlen, "exec plugin '%s' was killed by signal %d",
		    x->command, WTERMSIG(status));
		rc = -EIO;
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		kc_err(err, errlen, "exec plugin '%s' exited with status %d",
		    x->command, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		rc = -EIO;
		goto out;
	}
	o = vkc_json_parse(out.data != NULL ? out.data : "", out.len, jerr,
	    sizeof(jerr));
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		kc_err(err, errlen, "exec plugin '%s' did not print an "
		    "ExecCredential: %s", x->command,
		    o == NULL ? jerr : "not a JSON object");
		rc = -EPROTO;
		goto out;
	}
	api = vkc_json_get_string(o, "apiVersion", "");
	if (strcmp(api, x->api_version) != 0) {
		kc_err(err, errlen, "exec plugin '%s' returned apiVersion "
		    "'%.80s', want '%s'", x->command, api, x->api_version);
		rc = -EPROTO;
		goto out;
	}
	if (strcmp(vkc_json_get_string(o, "kind", ""), "ExecCredential") != 0) {
		kc_err(err, errlen, "exec plugin '%s' did not return an "
		    "ExecCredential", x->command);
		rc = -EPROTO;
		goto out;
	}
	st = vkc_json_get(o, "status");
	if (!json_object_is_type(st, json_type_object)) {
		kc_err(err, errlen, "exec plugin '%s' returned no status",
		    x->command);
		rc = -EPROTO;
		goto out;
	}
	tok = vkc_json_get_string(st, "token", NULL);
	cert = vkc_json_get_string(st, "clientCertificateData", NULL);
	key = vkc_json_get_string(st, "clientKeyData", NULL);
	exp = vkc_json_get_string(st, "expirationTimestamp", NULL);
	if (tok != NULL && *tok == '\0')
		tok = NULL;
	if ((cert != NULL && *cert != '\0') != (key != NULL && *key != '\0')) {
		kc_err(err, errlen, "exec plugin '%s' returned only one of "
		    "clientCertificateData and clientKeyData", x->command);
		rc = -EPROTO;
		goto out;
	}
	if (cert != NULL && *cert == '\0')
		cert = key = NULL;
	if (tok == NULL && cert == NULL) {
		kc_err(err, errlen, "exec plugin '%s' returned neither a token "
		    "nor a client certificate", x->command);
		rc = -EPROTO;
		goto out;
	}
	if (tok != NULL && !kc_token_ok(tok)) {
		kc_err(err, errlen, "exec plugin '%s' returned a token with "
		    "control characters", x->command);
		rc = -EPROTO;
		goto out;
	}
	if (exp != NULL && kc_rfc3339(exp, &expiry) != 0) {
		kc_err(err, errlen, "exec plugin '%s' returned an invalid "
		    "expirationTimestamp '%.40s'", x->command, exp);
		rc = -EPROTO;
		goto out;
	}
	if (kc_strdup(&ntok, tok) != 0 || kc_strdup(&ncert, cert) != 0 ||
	    kc_strdup(&nkey, key) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	kc_free_secret_str(kc->cached_token);
	kc_free_secret(kc->exec_cert, kc->exec_cert_len);
	kc_free_secret(kc->exec_key, kc->exec_key_len);
	kc->cached_token = ntok;
	kc->exec_cert = ncert;
	kc->exec_cert_len = ncert != NULL ? strlen(ncert) : 0;
	kc->exec_key = nkey;
	kc->exec_key_len = nkey != NULL ? strlen(nkey) : 0;
	ntok = ncert = nkey = NULL;
	/* an expiry at 0 or before would read as "none" */
	kc->exec_expiry = exp != NULL && expiry <= 0 ? 1 : expiry;
	kc->exec_valid = true;
out:
	if (o != NULL) {
		/* the tree holds secrets; json-c frees without clearing */
		json_object_put(o);
	}
	kc_free_secret_str(ntok);
	kc_free_secret_str(ncert);
	kc_free_secret_str(nkey);
	if (out.data != NULL)
		explicit_bzero(out.data, out.len);
	vkc_buf_release(&out);
	if (rc == -ENOMEM)
		kc_err(err, errlen, "out of memory reading exec plugin output");
	return rc;
}

int
vkc_kubeconfig_credentials(struct vkc_kubeconfig *kc, bool force_refresh,
    const char **token, const char **cert, size_t *cert_len,
    const char **key, size_t *key_len, char *err, size_t errlen)
{
	char *t = NULL, ferr[300];
	time_t now;
	int rc;

	*token = NULL;
	*cert = kc->cert_data;
	*cert_len = kc->cert_len;
	*key = kc->key_data;
	*key_len = kc->key_len;
	if (kc->exec != NULL) {
		now = time(NULL);
		if (force_refresh || !kc->exec_valid || (kc->exec_expiry != 0 &&
		    now + KC_EXEC_EARLY >= kc->exec_expiry)) {
			kc->exec_valid = false;
			rc = kc_exec_run(kc, err, errlen);
			if (rc != 0)
				return rc;
		}
		*token = kc->cached_token;
		if (kc->exec_cert != NULL) {
			*cert = kc->exec_cert;
			*cert_len = kc->exec_cert_len;
			*key = kc->exec_key;
			*key_len = kc->exec_key_len;
		}
		return 0;
	}
	if (kc->token_file != NULL) {
		now = kc_monotonic();
		if (force_refresh || kc->cached_token == NULL ||
		    now - kc->cached_token_read >= KC_TOKEN_TTL) {
			rc = kc_read_trimmed(kc->token_file, &t, ferr,
			    sizeof(ferr));
			if (rc == 0 && !kc_token_ok(t)) {
				snprintf(ferr, sizeof(ferr), "token file '%s' "
				    "is empty or holds control characters",
				    kc->token_file);
				kc_free_secret_str(t);
				t = NULL;
				rc = -EINVAL;
			}
			if (rc == 0) {
				kc_free_secret_str(kc->cached_token);
				kc->cached_token = t;
				kc->cached_token_read = now;
			} else if (kc->cached_token != NULL) {
				log_warn("cannot re-read the token: %s; using "
				    "the previous one", ferr);
				kc->cached_token_read = now;
			} else if (kc->token != NULL) {
				*token = kc->token;
				return 0;
			} else {
				kc_err(err, errlen, "cannot read the token: %s",
				    ferr);
				return rc;
			}
		}
		*token = kc->cached_token;
		return 0;
	}
	*token = kc->token;
	return 0;
}

void
vkc_kubeconfig_release(struct vkc_kubeconfig *kc)
{
	struct vkc_exec_config *x = kc->exec;
	char **p;

	free(kc->context);
	free(kc->namespace);
	free(kc->server);
	free(kc->tls_server_name);
	free(kc->proxy_url);
	free(kc->ca_data);
	free(kc->cert_data);
	kc_free_secret(kc->key_data, kc->key_len);
	kc_free_secret_str(kc->token);
	free(kc->token_file);
	free(kc->username);
	kc_free_secret_str(kc->password);
	kc_free_secret_str(kc->cached_token);
	free(kc->exec_cert);
	kc_free_secret(kc->exec_key, kc->exec_key_len);
	if (x != NULL) {
		free(x->command);
		for (p = x->args; p != NULL && *p != NULL; p++)
			free(*p);
		free(x->args);
		for (p = x->env; p != NULL && *p != NULL; p++)
			kc_free_secret_str(*p);
		free(x->env);
		free(x->api_version);
		free(x->install_hint);
		free(x);
	}
	memset(kc, 0, sizeof(*kc));
}
