/* base64.c: standard base64 (see base64.h). */
#include "base64.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

char *
vkc_base64_encode(const void *data, size_t len)
{
	char *out;

	if (len > (1u << 30))
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

int
vkc_base64_decode(const char *in, size_t len, char **out, size_t *outlen)
{
	unsigned char *o;
	uint32_t acc = 0;
	size_t i, n = 0, q = 0, pad = 0;
	int v, rc = 0;

	*out = NULL;
	*outlen = 0;
	o = malloc(len / 4 * 3 + 4);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			/* padding only in the last two places of a quad */
			if (q < 2) {
				rc = -EINVAL;
				goto out;
			}
			pad++;
			q++;
			acc <<= 6;
			if (q == 4) {
				o[n++] = (unsigned char)(acc >> 16);
				if (pad == 1)
					o[n++] = (unsigned char)(acc >> 8);
				q = 0;
				acc = 0;
			}
			continue;
		}
		if (pad > 0) {
			rc = -EINVAL;	/* data after padding */
			goto out;
		}
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else {
			rc = -EINVAL;
			goto out;
		}
		acc = (acc << 6) | (uint32_t)v;
		if (++q == 4) {
			o[n++] = (unsigned char)(acc >> 16);
			o[n++] = (unsigned char)(acc >> 8);
			o[n++] = (unsigned char)acc;
			q = 0;
			acc = 0;
		}
	}
	if (q != 0) {
		rc = -EINVAL;
		goto out;
	}
	o[n] = '\0';
	*out = (char *)o;
	*outlen = n;
	o = NULL;
out:
	if (o != NULL) {
		explicit_bzero(o, len / 4 * 3 + 4);
		free(o);
	}
	return rc;
}

