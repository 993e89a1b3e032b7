/*
 * fuzz_kubeconfig.c: kubeconfig loading on arbitrary text. Relative paths
 * point into a folder that does not exist; exec plugins are never run.
 */
#include "kubeconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vkc_kubeconfig kc;
	const char *tok, *cert, *key;
	size_t cl, kl;
	char err[512];

	if (size > ((size_t)1 << 20))
		return 0;
	if (vkc_kubeconfig_load_text(&kc, (const char *)data, size,
	    "/nonexistent-vkc-fuzz", NULL, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		vkc_kubeconfig_release(&kc);
		return 0;
	}
	if (kc.server == NULL || kc.context == NULL ||
	    strncmp(kc.server, "http", 4) != 0)
		abort();
	if (kc.exec == NULL && kc.token_file == NULL)
		vkc_kubeconfig_credentials(&kc, false, &tok, &cert, &cl, &key,
		    &kl, err, sizeof(err));
	vkc_kubeconfig_release(&kc);
	return 0;
}
