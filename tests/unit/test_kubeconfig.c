/* test_kubeconfig.c: loading, merging, in-cluster, tokens, exec plugins. */
#include "check.h"
#include "kubeconfig.h"
#include "jsonutil.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define V1 "client.authentication.k8s.io/v1"
#define V1BETA1 "client.authentication.k8s.io/v1beta1"

static char tmp[256];
static char data[1024];

static void
clean_env(void)
{
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("VKC_SERVICEACCOUNT_DIR");
	setenv("HOME", "/nonexistent-home", 1);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
tmp_new(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/vkc-kc-XXXXXX");
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static void
tmp_done(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes text to tmp/name, with mode. */
static void
put(const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static int
count_lines(const char *name)
{
	char path[512];
	FILE *f;
	int c, n = 0;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int
load_text(struct vkc_kubeconfig *kc, const char *text, const char *context,
    char *err, size_t errlen)
{
	return vkc_kubeconfig_load_text(kc, text, strlen(text), tmp, context,
	    err, errlen);
}

static void
check_text_fails(const char *text, const char *want)
{
	struct vkc_kubeconfig kc;
	char err[512] = "";
	int rc;

	rc = load_text(&kc, text, NULL, err, sizeof(err));
	CHECK(rc < 0);
	if (strstr(err, want) == NULL)
		printf("error '%s' lacks '%s'\n", err, want);
	CHECK(strstr(err, want) != NULL);
	vkc_kubeconfig_release(&kc);
}

TEST(merge_order)
{
	struct vkc_kubeconfig kc;
	char list[3000], err[512];
	const char *tok, *cert, *key;
	size_t cl, kl;

	clean_env();
	snprintf(list, sizeof(list), "%s/kubeconfig/merge-a.yaml:"
	    "%s/kubeconfig/b/merge-b.yaml", data, data);
	setenv("KUBECONFIG", list, 1);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "a-ctx");
	CHECK_STR(kc.server, "https://a.example:6443");
	CHECK_STR(kc.namespace, "from-a");
	CHECK_STR(kc.token, "token-from-a");
	CHECK(kc.ca_data != NULL && strstr(kc.ca_data, "TESTCA") != NULL);
	CHECK_INT(vkc_kubeconfig_credentials(&kc, false, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)), 0);
	CHECK_STR(tok, "token-from-a");
	CHECK(cert == NULL && key == NULL);
	vkc_kubeconfig_release(&kc);

	/* a context defined in both files comes from the first */
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, "shared-ctx", err,
	    sizeof(err)), 0);
	CHECK_STR(kc.namespace, "a");
	CHECK_STR(kc.server, "https://a.example:6443");
	vkc_kubeconfig_release(&kc);

	/* a name only the second file has is found there */
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, "b-ctx", err, sizeof(err)), 0);
	CHECK_STR(kc.server, "https://only-b.example:443");
	CHECK_STR(kc.tls_server_name, "kubernetes.default");
	vkc_kubeconfig_release(&kc);

	/* reversed order: the other file wins */
	snprintf(list, sizeof(list), "%s/kubeconfig/b/merge-b.yaml:"
	    "%s/kubeconfig/merge-a.yaml", data, data);
	setenv("KUBECONFIG", list, 1);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, "a-ctx", err, sizeof(err)), 0);
	CHECK_STR(kc.server, "https://b.example");
	CHECK_STR(kc.token, "token-from-b");
	CHECK(kc.ca_data == NULL);
	vkc_kubeconfig_release(&kc);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "b-ctx");
	vkc_kubeconfig_release(&kc);
	clean_env();
}

TEST(relative_paths)
{
	struct vkc_kubeconfig kc;
	char path[2048], err[512];

	clean_env();
	snprintf(path, sizeof(path), "%s/kubeconfig/b/merge-b.yaml", data);
	CHECK_INT(vkc_kubeconfig_load(&kc, path, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "b-ctx");
	/* ../certs/ca.pem relative to b/, client.pem inside b/ */
	CHECK(kc.ca_data != NULL && strstr(kc.ca_data, "TESTCA") != NULL);
	CHECK(kc.cert_data != NULL && strstr(kc.cert_data, "TESTCLIENT"));
	CHECK(kc.key_data != NULL && strstr(kc.key_data, "TESTKEY"));
	CHECK_INT(kc.key_len, strlen(kc.key_data));
	vkc_kubeconfig_release(&kc);

	/* relative tokenFile and a missing certificate file */
	tmp_new();
	put("tok", "  file-token\n", 0600);
	CHECK_INT(load_text(&kc, "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {tokenFile: tok}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    NULL, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/tok", tmp);
	CHECK_STR(kc.token_file, path);
	vkc_kubeconfig_release(&kc);
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h', "
	    "certificate-authority: nope.pem}}]\n"
	    "contexts: [{name: c, context: {cluster: k}}]\n", "nope.pem");
	tmp_done();
}

TEST(data_fields)
{
	struct vkc_kubeconfig kc;
	char err[512];
	static const struct {
		const char *b64, *want;
	} ok[] = {
		{ "YQ==", "a" }, { "YWI=", "ab" }, { "YWJj", "abc" },
		{ "YWJjZA==", "abcd" }, { "YW\\nJj\\r\\nZGU=", "abcde" },
		{ "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==",
		  "-----BEGIN CERTIFICATE-----\n" },
	};
	static const char *bad[] = {
		"YQ=", "Y===", "YQ==YQ==", "YW J", "YWJ", "====", "Y*==", "=YWJ",
	};
	char text[1024];
	size_t i;

	tmp_new();
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "current-context: c\n"
		    "clusters: [{name: k, cluster: {server: 'https://h', "
		    "certificate-authority-data: \"%s\"}}]\n"
		    "users: [{name: u, user: {client-certificate-data: \"%s\", "
		    "client-key-data: \"%s\"}}]\n"
		    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
		    ok[i].b64, ok[i].b64, ok[i].b64);
		CHECK_INT(load_text(&kc, text, NULL, err, sizeof(err)), 0);
		CHECK_INT(kc.ca_len, strlen(ok[i].want));
		CHECK(kc.ca_data && memcmp(kc.ca_data, ok[i].want, kc.ca_len) == 0);
		CHECK_INT(kc.cert_len, strlen(ok[i].want));
		CHECK_INT(kc.key_len, strlen(ok[i].want));
		vkc_kubeconfig_release(&kc);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "current-context: c\n"
		    "clusters: [{name: k, cluster: {server: 'https://h', "
		    "certificate-authority-data: \"%s\"}}]\n"
		    "contexts: [{name: c, context: {cluster: k}}]\n", bad[i]);
		check_text_fails(text, "certificate-authority-data' is not "
		    "valid base64");
	}
	tmp_done();
}

TEST(context_override)
{
	struct vkc_kubeconfig kc;
	char err[512];
	const char *text = "current-context: one\n"
	    "clusters:\n"
	    "- {name: c1, cluster: {server: 'https://one:6443'}}\n"
	    "- {name: c2, cluster: {server: 'two.example:443/'}}\n"
	    "contexts:\n"
	    "- {name: one, context: {cluster: c1, namespace: ns1}}\n"
	    "- {name: two, context: {cluster: c2, namespace: ns2}}\n";

	tmp_new();
	CHECK_INT(load_text(&kc, text, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "one");
	CHECK_STR(kc.server, "https://one:6443");
	CHECK_STR(kc.namespace, "ns1");
	vkc_kubeconfig_release(&kc);
	CHECK_INT(load_text(&kc, text, "two", err, sizeof(err)), 0);
	CHECK_STR(kc.context, "two");
	CHECK_STR(kc.server, "https://two.example:443");
	CHECK_STR(kc.namespace, "ns2");
	vkc_kubeconfig_release(&kc);

	CHECK_INT(load_text(&kc, text, "three", err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "context 'three' does not exist") != NULL);
	CHECK(kc.server == NULL);
	vkc_kubeconfig_release(&kc);
	tmp_done();
}

TEST(malformed)
{
	tmp_new();
	check_text_fails("- a\n- b\n", "is not a mapping");
	check_text_fails("clusters: 5\n", "'clusters' must be a list");
	check_text_fails("current-context: [x]\n", "current-context");
	check_text_fails("clusters: [{cluster: {server: x}}]\n", "'name'");
	check_text_fails("clusters: [{name: k, cluster: [1]}]\n",
	    "'cluster' must be a mapping");
	check_text_fails("current-context: c\n"
	    "contexts: [{name: c, context: {cluster: k}}]\n",
	    "cluster 'k' of context 'c' does not exist");
	check_text_fails("clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "contexts: [{name: c, context: {cluster: k}}]\n",
	    "no current-context");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    "user 'u' of context 'c' does not exist");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {insecure-skip-tls-verify: true}}]\n"
	    "contexts: [{name: c, context: {cluster: k}}]\n",
	    "cluster 'k' has no server");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h', "
	    "insecure-skip-tls-verify: \"yes\"}}]\n"
	    "contexts: [{name: c, context: {cluster: k}}]\n",
	    "must be true or false");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'ftp://h'}}]\n"
	    "contexts: [{name: c, context: {cluster: k}}]\n", "https://");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {token: 12345}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    "'token' must be a string");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {auth-provider: {name: oidc, config: "
	    "{id-token: secret-id-token}}}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    "not supported; use an exec plugin such as kubelogin");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {exec: {command: x}}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    "apiVersion");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {exec: {command: x, apiVersion: "
	    "'" V1 "', args: [1, {}]}}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    "'args' must be a list of strings");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {exec: {command: x, apiVersion: "
	    "'" V1 "', env: [{name: A}]}}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    "env[0]");
	check_text_fails("current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {client-certificate-data: YQ==}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    "client-key");
	check_text_fails("a: [\n", "line");
	tmp_done();
}

TEST(kubeconfig_env_and_default)
{
	struct vkc_kubeconfig kc;
	char list[3000], err[512];

	clean_env();
	/* missing files in KUBECONFIG are skipped */
	snprintf(list, sizeof(list), "/nonexistent/one::%s/kubeconfig/"
	    "b/merge-b.yaml:/nonexistent/two", data);
	setenv("KUBECONFIG", list, 1);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "b-ctx");
	vkc_kubeconfig_release(&kc);

	/* an explicit path wins over KUBECONFIG */
	snprintf(list, sizeof(list), "%s/kubeconfig/merge-a.yaml", data);
	CHECK_INT(vkc_kubeconfig_load(&kc, list, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "a-ctx");
	vkc_kubeconfig_release(&kc);

	/* but must exist */
	CHECK(vkc_kubeconfig_load(&kc, "/nonexistent/kc", NULL, err,
	    sizeof(err)) < 0);
	CHECK(strstr(err, "/nonexistent/kc") != NULL);

	setenv("KUBECONFIG", "/nonexistent/one:/nonexistent/two", 1);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)),
	    -ENOENT);
	CHECK(strstr(err, "KUBECONFIG") != NULL);
	CHECK(strstr(err, "--kubeconfig") != NULL);

	/* ~/.kube/config */
	unsetenv("KUBECONFIG");
	tmp_new();
	mkdir(strcat(strcpy(list, tmp), "/.kube"), 0700);
	put(".kube/config", "current-context: home\n"
	    "clusters: [{name: k, cluster: {server: 'https://home'}}]\n"
	    "contexts: [{name: home, context: {cluster: k}}]\n", 0600);
	setenv("HOME", tmp, 1);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.server, "https://home");
	vkc_kubeconfig_release(&kc);
	tmp_done();

	/* nothing at all */
	clean_env();
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)),
	    -ENOENT);
	CHECK(strstr(err, "set --kubeconfig or KUBECONFIG") != NULL);
}

TEST(in_cluster)
{
	struct vkc_kubeconfig kc;
	char err[512], path[2048];
	const char *tok, *cert, *key;
	size_t cl, kl;

	clean_env();
	tmp_new();
	put("token", "sa-token-1\n", 0600);
	put("ca.crt", "-----BEGIN CERTIFICATE-----\nSACA\n", 0644);
	put("namespace", "team-a\n", 0644);
	setenv("VKC_SERVICEACCOUNT_DIR", tmp, 1);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "in-cluster");
	CHECK_STR(kc.server, "https://127.0.0.1:6443");
	CHECK_STR(kc.namespace, "team-a");
	CHECK(kc.ca_data != NULL && strstr(kc.ca_data, "SACA") != NULL);
	snprintf(path, sizeof(path), "%s/token", tmp);
	CHECK_STR(kc.token_file, path);
	CHECK(kc.token == NULL);
	CHECK_INT(vkc_kubeconfig_credentials(&kc, false, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)), 0);
	CHECK_STR(tok, "sa-token-1");
	vkc_kubeconfig_release(&kc);

	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.server, "https://[fd00:10:96::1]:443");
	vkc_kubeconfig_release(&kc);

	/* KUBECONFIG comes first */
	snprintf(path, sizeof(path), "%s/kubeconfig/merge-a.yaml", data);
	setenv("KUBECONFIG", path, 1);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)), 0);
	CHECK_STR(kc.context, "a-ctx");
	vkc_kubeconfig_release(&kc);
	unsetenv("KUBECONFIG");

	/* no token: not in a cluster */
	snprintf(path, sizeof(path), "%s/token", tmp);
	unlink(path);
	CHECK_INT(vkc_kubeconfig_load(&kc, NULL, NULL, err, sizeof(err)),
	    -ENOENT);
	tmp_done();
	clean_env();
}

TEST(token_file_refresh)
{
	struct vkc_kubeconfig kc;
	char err[512];
	const char *tok, *cert, *key;
	size_t cl, kl;

	clean_env();
	tmp_new();
	put("tok", "first\n", 0600);
	CHECK_INT(load_text(&kc, "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {tokenFile: tok, token: static}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    NULL, err, sizeof(err)), 0);
	CHECK_INT(vkc_kubeconfig_credentials(&kc, false, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)), 0);
	CHECK_STR(tok, "first");
	put("tok", "second\n", 0600);
	CHECK_INT(vkc_kubeconfig_credentials(&kc, false, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)), 0);
	CHECK_STR(tok, "first");	/* cached for 60 s */
	CHECK_INT(vkc_kubeconfig_credentials(&kc, true, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)), 0);
	CHECK_STR(tok, "second");
	/* an old read is refreshed without force */
	put("tok", "third\n", 0600);
	kc.cached_token_read -= 61;
	CHECK_INT(vkc_kubeconfig_credentials(&kc, false, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)), 0);
	CHECK_STR(tok, "third");
	/* a vanished file keeps the last token */
	put("tok", "", 0600);
	CHECK_INT(vkc_kubeconfig_credentials(&kc, true, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)), 0);
	CHECK_STR(tok, "third");
	vkc_kubeconfig_release(&kc);

	/* unreadable at first: the static token */
	CHECK_INT(load_text(&kc, "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {tokenFile: missing, token: static}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    NULL, err, sizeof(err)), 0);
	CHECK_INT(vkc_kubeconfig_credentials(&kc, false, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)), 0);
	CHECK_STR(tok, "static");
	vkc_kubeconfig_release(&kc);

	CHECK_INT(load_text(&kc, "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {tokenFile: missing}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    NULL, err, sizeof(err)), 0);
	CHECK(vkc_kubeconfig_credentials(&kc, false, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)) < 0);
	CHECK(strstr(err, "missing") != NULL);
	vkc_kubeconfig_release(&kc);
	tmp_done();
}

/* A plugin that counts its runs in tmp/count and prints a credential:
 * status is the JSON of the status member, where $n is the run number. */
static void
write_plugin(const char *name, const char *api, const char *status)
{
	char script[2048];

	snprintf(script, sizeof(script),
	    "#!/bin/sh\n"
	    "echo run >> \"$DIR/count\"\n"
	    "n=$(wc -l < \"$DIR/count\" | tr -d ' ')\n"
	    "printf '%%s' \"$KUBERNETES_EXEC_INFO\" > \"$DIR/info\"\n"
	    "cat <<EOF\n"
	    "{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
	    "\"status\":%s}\n"
	    "EOF\n", api, status);
	put(name, script, 0755);
}

static int
load_exec(struct vkc_kubeconfig *kc, const char *command, const char *api,
    const char *extra, char *err, size_t errlen)
{
	char text[2048];

	snprintf(text, sizeof(text), "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://h:6443', "
	    "certificate-authority-data: 'Q0EtREFUQQ=='}}]\n"
	    "users:\n"
	    "- name: u\n"
	    "  user:\n"
	    "    exec:\n"
	    "      command: %s\n"
	    "      apiVersion: %s\n"
	    "      installHint: 'install it with: brew install thing'\n"
	    "      interactiveMode: Never\n"
	    "      env: [{name: DIR, value: '%s'}]\n"
	    "%s"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
	    command, api, tmp, extra);
	return load_text(kc, text, NULL, err, errlen);
}

static int
creds(struct vkc_kubeconfig *kc, bool force, const char **tok, char *err,
    size_t errlen)
{
	const char *cert, *key;
	size_t cl, kl;

	return vkc_kubeconfig_credentials(kc, force, tok, &cert, &cl, &key,
	    &kl, err, errlen);
}

TEST(exec_cached_until_expiry)
{
	struct vkc_kubeconfig kc;
	char err[512], status[256], exp[64];
	const char *tok;
	time_t t = time(NULL) + 3600;

	clean_env();
	tmp_new();
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	snprintf(status, sizeof(status), "{\"token\":\"tok-$n\","
	    "\"expirationTimestamp\":\"%s\"}", exp);
	write_plugin("plugin.sh", V1, status);
	CHECK_INT(load_exec(&kc, "./plugin.sh", V1, "", err, sizeof(err)), 0);
	CHECK_INT(creds(&kc, false, &tok, err, sizeof(err)), 0);
	CHECK_STR(tok, "tok-1");
	CHECK_INT(creds(&kc, false, &tok, err, sizeof(err)), 0);
	CHECK_STR(tok, "tok-1");
	CHECK_INT(count_lines("count"), 1);
	CHECK_INT(kc.exec_expiry, t);
	/* after a 401 */
	CHECK_INT(creds(&kc, true, &tok, err, sizeof(err)), 0);
	CHECK_STR(tok, "tok-2");
	CHECK_INT(count_lines("count"), 2);
	vkc_kubeconfig_release(&kc);
	tmp_done();
}

TEST(exec_expired_reruns)
{
	struct vkc_kubeconfig kc;
	char err[512];
	const char *tok;

	clean_env();
	tmp_new();
	/* an offset timestamp, already past */
	write_plugin("plugin.sh", V1BETA1, "{\"token\":\"tok-$n\","
	    "\"expirationTimestamp\":\"2001-02-03T04:05:06.123+01:00\"}");
	CHECK_INT(load_exec(&kc, "./plugin.sh", V1BETA1, "", err,
	    sizeof(err)), 0);
	CHECK_INT(creds(&kc, false, &tok, err, sizeof(err)), 0);
	CHECK_STR(tok, "tok-1");
	CHECK_INT(kc.exec_expiry, 981169506);
	CHECK_INT(creds(&kc, false, &tok, err, sizeof(err)), 0);
	CHECK_STR(tok, "tok-2");
	CHECK_INT(count_lines("count"), 2);
	vkc_kubeconfig_release(&kc);

	/* no expiry: cached until forced */
	put("count", "", 0600);
	write_plugin("plugin.sh", V1, "{\"token\":\"tok-$n\"}");
	CHECK_INT(load_exec(&kc, "./plugin.sh", V1, "", err, sizeof(err)), 0);
	CHECK_INT(creds(&kc, false, &tok, err, sizeof(err)), 0);
	CHECK_INT(creds(&kc, false, &tok, err, sizeof(err)), 0);
	CHECK_STR(tok, "tok-1");
	CHECK_INT(creds(&kc, true, &tok, err, sizeof(err)), 0);
	CHECK_STR(tok, "tok-2");
	vkc_kubeconfig_release(&kc);
	tmp_done();
}

TEST(exec_info_and_args)
{
	struct vkc_kubeconfig kc;
	struct json_object *info;
	char err[512], path[512], script[512];
	const char *tok, *cert, *key;
	size_t cl, kl;
	FILE *f;
	char buf[4096];
	size_t n;

	clean_env();
	tmp_new();
	write_plugin("plugin.sh", V1, "{\"clientCertificateData\":"
	    "\"CERT-PEM\",\"clientKeyData\":\"KEY-PEM\"}");
	CHECK_INT(load_exec(&kc, "./plugin.sh", V1,
	    "      provideClusterInfo: true\n", err, sizeof(err)), 0);
	CHECK_INT(vkc_kubeconfig_credentials(&kc, false, &tok, &cert, &cl,
	    &key, &kl, err, sizeof(err)), 0);
	CHECK(tok == NULL);
	CHECK_STR(cert, "CERT-PEM");
	CHECK_INT(cl, 8);
	CHECK_STR(key, "KEY-PEM");
	vkc_kubeconfig_release(&kc);

	snprintf(path, sizeof(path), "%s/info", tmp);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	info = vkc_json_parse(buf, n, NULL, 0);
	CHECK(info != NULL);
	CHECK_STR(vkc_json_get_string(info, "apiVersion", NULL), V1);
	CHECK_STR(vkc_json_get_string(info, "kind", NULL), "ExecCredential");
	CHECK(vkc_json_get(info, "spec.interactive") != NULL);
	CHECK(!vkc_json_get_bool(info, "spec.interactive", true));
	CHECK_STR(vkc_json_get_string(info, "spec.cluster.server", NULL),
	    "https://h:6443");
	CHECK_STR(vkc_json_get_string(info,
	    "spec.cluster.certificate-authority-data", NULL), "Q0EtREFUQQ==");
	json_object_put(info);

	/* args, and a command found through PATH */
	snprintf(script, sizeof(script), "#!/bin/sh\necho '{\"apiVersion\":"
	    "\"%s\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"'"
	    "\"$1-$2-$DIR_SET\"'\"}}'\n", V1);
	put("vkc-test-plugin", script, 0755);
	snprintf(path, sizeof(path), "%s:%s", tmp, getenv("PATH") ?
	    getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	setenv("DIR_SET", "outer", 1);
	CHECK_INT(load_exec(&kc, "vkc-test-plugin", V1,
	    "      args: [get-token, --x]\n", err, sizeof(err)), 0);
	CHECK_INT(creds(&kc, false, &tok, err, sizeof(err)), 0);
	CHECK_STR(tok, "get-token---x-outer");
	vkc_kubeconfig_release(&kc);
	unsetenv("DIR_SET");
	tmp_done();
}

TEST(exec_failures)
{
	struct vkc_kubeconfig kc;
	char err[512];
	const char *tok;

	clean_env();
	tmp_new();

	/* missing command: the install hint */
	CHECK_INT(load_exec(&kc, "./no-such-plugin", V1, "", err,
	    sizeof(err)), 0);
	CHECK(creds(&kc, false, &tok, err, sizeof(err)) < 0);
	CHECK(strstr(err, "no-such-plugin") != NULL);
	CHECK(strstr(err, "brew install thing") != NULL);
	vkc_kubeconfig_release(&kc);

	/* non-zero exit */
	put("fail.sh", "#!/bin/sh\necho 'plugin: login required' >&2\n"
	    "echo '{\"token\":\"leak\"}'\nexit 3\n", 0755);
	CHECK_INT(load_exec(&kc, "./fail.sh", V1, "", err, sizeof(err)), 0);
	CHECK(creds(&kc, false, &tok, err, sizeof(err)) < 0);
	CHECK(strstr(err, "status 3") != NULL);
	CHECK(strstr(err, "leak") == NULL);
	vkc_kubeconfig_release(&kc);

	/* garbage */
	put("garbage.sh", "#!/bin/sh\necho 'secret-garbage {'\n", 0755);
	CHECK_INT(load_exec(&kc, "./garbage.sh", V1, "", err, sizeof(err)), 0);
	CHECK(creds(&kc, false, &tok, err, sizeof(err)) < 0);
	CHECK(strstr(err, "did not print an ExecCredential") != NULL);
	CHECK(strstr(err, "secret") == NULL);
	vkc_kubeconfig_release(&kc);

	/* wrong apiVersion, without showing the token */
	write_plugin("plugin.sh", V1, "{\"token\":\"s3cr3t\"}");
	CHECK_INT(load_exec(&kc, "./plugin.sh", V1BETA1, "", err,
	    sizeof(err)), 0);
	CHECK(creds(&kc, false, &tok, err, sizeof(err)) < 0);
	CHECK(strstr(err, "apiVersion") != NULL);
	CHECK(strstr(err, "s3cr3t") == NULL);
	vkc_kubeconfig_release(&kc);

	/* no status, an empty one, half a certificate, a bad timestamp */
	write_plugin("plugin.sh", V1, "null");
	CHECK_INT(load_exec(&kc, "./plugin.sh", V1, "", err, sizeof(err)), 0);
	CHECK(creds(&kc, false, &tok, err, sizeof(err)) < 0);
	CHECK(strstr(err, "no status") != NULL);
	vkc_kubeconfig_release(&kc);
	write_plugin("plugin.sh", V1, "{}");
	CHECK_INT(load_exec(&kc, "./plugin.sh", V1, "", err, sizeof(err)), 0);
	CHECK(creds(&kc, false, &tok, err, sizeof(err)) < 0);
	CHECK(strstr(err, "neither a token") != NULL);
	vkc_kubeconfig_release(&kc);
	write_plugin("plugin.sh", V1, "{\"clientKeyData\":\"k\"}");
	CHECK_INT(load_exec(&kc, "./plugin.sh", V1, "", err, sizeof(err)), 0);
	CHECK(creds(&kc, false, &tok, err, sizeof(err)) < 0);
	CHECK(strstr(err, "only one of") != NULL);
	vkc_kubeconfig_release(&kc);
	write_plugin("plugin.sh", V1, "{\"token\":\"t\","
	    "\"expirationTimestamp\":\"2024-13-01T00:00:00Z\"}");
	CHECK_INT(load_exec(&kc, "./plugin.sh", V1, "", err, sizeof(err)), 0);
	CHECK(creds(&kc, false, &tok, err, sizeof(err)) < 0);
	CHECK(strstr(err, "expirationTimestamp") != NULL);
	vkc_kubeconfig_release(&kc);
	tmp_done();
}

int
main(void)
{
	const char *d = getenv("VKC_TESTDATA");

	snprintf(data, sizeof(data), "%s", d != NULL ? d : "tests/data");
	RUN(merge_order);
	RUN(relative_paths);
	RUN(data_fields);
	RUN(context_override);
	RUN(malformed);
	RUN(kubeconfig_env_and_default);
	RUN(in_cluster);
	RUN(token_file_refresh);
	RUN(exec_cached_until_expiry);
	RUN(exec_expired_reruns);
	RUN(exec_info_and_args);
	RUN(exec_failures);
	CHECK_DONE();
}
