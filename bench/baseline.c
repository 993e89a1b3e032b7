/*
 * baseline.c: the fixed memory cost of the libraries vkc-operator is built
 * on, for BENCHMARKS.md. It loads libcurl (with OpenSSL) and json-c, does one
 * verified TLS GET of the apiserver's /version with a client certificate
 * (as the operator does), then prints its own VmRSS, VmHWM, RssAnon
 * (private heap and stacks) and RssFile (mapped library pages) in KiB.
 *
 *   baseline [URL CA_FILE CERT_FILE KEY_FILE]
 *
 * Without arguments it does no request: the cost of a process that merely
 * links the libraries.
 */
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	*(size_t *)arg += size * n;
	return size * n;
}

static long
status_kib(const char *key)
{
	char line[256];
	long v = -1;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			v = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

int
main(int argc, char **argv)
{
	struct json_object *o;
	size_t got = 0;
	long code = 0;
	CURLcode rc = CURLE_OK;
	CURL *h;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	o = json_tokener_parse("{\"kind\":\"Status\"}");
	if (argc == 5) {
		h = curl_easy_init();
		if (h == NULL)
			return 1;
		curl_easy_setopt(h, CURLOPT_URL, argv[1]);
		curl_easy_setopt(h, CURLOPT_CAINFO, argv[2]);
		curl_easy_setopt(h, CURLOPT_SSLCERT, argv[3]);
		curl_easy_setopt(h, CURLOPT_SSLKEY, argv[4]);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		/* kept open, as the operator keeps its connections */
		printf("{\"curl\":%d,\"http\":%ld,\"bytes\":%zu,", (int)rc, code,
		    got);
	} else {
		printf("{");
	}
	printf("\"rss_kib\":%ld,\"hwm_kib\":%ld,\"anon_kib\":%ld,"
	    "\"file_kib\":%ld,\"curl_version\":\"%s\"}\n",
	    status_kib("VmRSS"), status_kib("VmHWM"), status_kib("RssAnon"),
	    status_kib("RssFile"), curl_version());
	json_object_put(o);
	return rc == CURLE_OK ? 0 : 1;
}
