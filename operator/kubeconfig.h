/*
 * kubeconfig.h: where to reach the apiserver and how to authenticate.
 *
 * vkc_kubeconfig_load() resolves, as kubectl does: an explicit path (which
 * may itself be a colon-separated list), else $KUBECONFIG (a colon-separated
 * list merged with the first file to set a value winning, as kubectl merges),
 * else the in-cluster configuration (KUBERNETES_SERVICE_HOST/_PORT and
 * /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}),
 * else ~/.kube/config. Relative file paths in a kubeconfig resolve against
 * the folder of the file that holds them. File contents (CA, client
 * certificate, key) are read into memory at load time; nothing is written
 * to disk.
 *
 * Credentials that change at run time (a token file, an exec plugin) are
 * fetched through vkc_kubeconfig_credentials(), which caches and refreshes.
 * A struct vkc_kubeconfig is not locked: callers serialise credentials().
 */
#ifndef VKC_KUBECONFIG_H
#define VKC_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* An exec credential plugin (client.authentication.k8s.io v1 or v1beta1). */
struct vkc_exec_config {
	char *command;
	char **args;		/* NULL-terminated */
	char **env;		/* NULL-terminated "NAME=value" */
	char *api_version;	/* client.authentication.k8s.io/v1 or v1beta1 */
	char *install_hint;	/* shown when command cannot be run, or NULL */
	bool provide_cluster_info;
};

struct vkc_kubeconfig {
	char *context;		/* the context used, or "in-cluster" */
	char *namespace;	/* the context's namespace, or NULL */
	char *server;		/* https://host:port, no trailing slash */
	char *tls_server_name;	/* or NULL */
	char *proxy_url;	/* or NULL */
	bool insecure_skip_tls_verify;
	char *ca_data;		/* PEM bytes, or NULL (system CAs) */
	size_t ca_len;
	char *cert_data;	/* client certificate PEM, or NULL */
	size_t cert_len;
	char *key_data;		/* client key PEM, or NULL */
	size_t key_len;
	char *token;		/* static bearer token, or NULL */
	char *token_file;	/* re-read at most every 60 s, or NULL */
	char *username, *password;	/* basic auth, or NULL */
	struct vkc_exec_config *exec;	/* or NULL */

	/* credential cache, managed by vkc_kubeconfig_credentials() */
	char *cached_token;		/* from token_file or the exec plugin */
	time_t cached_token_read;	/* when token_file was last read
					 * (CLOCK_MONOTONIC seconds) */
	char *exec_cert, *exec_key;	/* from an exec plugin, or NULL */
	size_t exec_cert_len, exec_key_len;
	time_t exec_expiry;		/* 0: no expiry given */
	bool exec_valid;
};

/* Loads the configuration. path may be NULL (see above); context may be
 * NULL for current-context (it is ignored for the in-cluster
 * configuration). Returns 0, or a negative errno with a one-line message in
 * err that says what to fix; on error kc holds nothing (releasing it is
 * harmless). */
int vkc_kubeconfig_load(struct vkc_kubeconfig *kc, const char *path,
    const char *context, char *err, size_t errlen);

/* Loads from kubeconfig text already in memory (what a file would hold);
 * dir is the folder relative paths resolve against. Used by tests and fuzzing. */
int vkc_kubeconfig_load_text(struct vkc_kubeconfig *kc, const char *text,
    size_t len, const char *dir, const char *context, char *err, size_t errlen);

/* The credentials to send now. *token is a bearer token or NULL; *cert and
 * *key are a client certificate pair or NULL (these may come from the
 * kubeconfig or from an exec plugin). All belong to kc and stay valid until
 * the next call. force_refresh runs the exec plugin / re-reads the token
 * file even when the cache is fresh (used after a 401). Returns 0 or a
 * negative errno with a message in err. */
int vkc_kubeconfig_credentials(struct vkc_kubeconfig *kc, bool force_refresh,
    const char **token, const char **cert, size_t *cert_len,
    const char **key, size_t *key_len, char *err, size_t errlen);

/* Frees everything kc holds. */
void vkc_kubeconfig_release(struct vkc_kubeconfig *kc);

#endif
