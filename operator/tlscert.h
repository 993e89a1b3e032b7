/*
 * tlscert.h: the connector's kubelet serving certificate (DESIGN.md §5.8):
 * ECDSA P-256, self-signed, CN and DNS SAN = the virtual node's name,
 * made with OpenSSL in memory.
 */
#ifndef VKC_TLSCERT_H
#define VKC_TLSCERT_H

#include <stddef.h>

#define VKC_TLS_DAYS 365
#define VKC_TLS_RENEW_SECONDS (30LL * 24 * 3600)

/* Makes a key and a certificate valid from now (less 5 minutes of clock
 * skew) for days days. *cert_pem and *key_pem are malloc'd PEM strings
 * the caller frees. Returns 0, -EINVAL (empty cn, days outside 1..36500),
 * or -ENOMEM / -EIO (OpenSSL failure). A CN longer than RFC 5280's 64 is
 * kept whole (node names reach 79). */
int vkc_tls_generate(const char *cn, int days, char **cert_pem,
    char **key_pem);

/* Seconds until the PEM certificate's notAfter (negative when expired).
 * Returns 0, or -EINVAL when cert_pem is not a certificate. */
int vkc_tls_seconds_left(const char *cert_pem, size_t len, long long *secs);

/* True (1) when cert_pem and key_pem parse, the key matches the
 * certificate, and both the CN and a DNS subjectAltName are cn; 0
 * otherwise. */
int vkc_tls_matches(const char *cert_pem, size_t cert_len,
    const char *key_pem, size_t key_len, const char *cn);

#endif
