/* tlscert.c: the kubelet serving certificate, with OpenSSL (see tlscert.h). */
#include "tlscert.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define SKEW_SECONDS 300
#define MAX_DAYS 36500

/* The memory BIO's contents as a malloc'd C string. */
static int
bio_to_string(BIO *bio, char **out)
{
	char *data, *s;
	long n;

	n = BIO_get_mem_data(bio, &data);
	if (n <= 0)
		return -EIO;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return -ENOMEM;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*out = s;
	return 0;
}

/* A random positive 128-bit serial number. */
static int
set_serial(X509 *x)
{
	unsigned char bytes[16];
	BIGNUM *bn = NULL;
	int rc = -EIO;

	if (RAND_bytes(bytes, sizeof(bytes)) != 1)
		goto out;
	bytes[0] &= 0x7f;	/* positive in DER */
	bytes[0] |= 0x40;	/* full length, never zero */
	bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
	if (bn == NULL)
		goto out;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	rc = 0;
out:
	BN_free(bn);
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return rc;
}

/* subjectAltName DNS:<cn>, built as a structure so that nothing in cn is
 * read as configuration syntax. */
static int
add_san(X509 *x, const char *cn)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	int rc = -EIO;

	gens = GENERAL_NAMES_new();
	gen = GENERAL_NAME_new();
	ia5 = ASN1_IA5STRING_new();
	if (gens == NULL || gen == NULL || ia5 == NULL)
		goto out;
	if (ASN1_STRING_set(ia5, cn, (int)strlen(cn)) != 1)
		goto out;
	GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
	ia5 = NULL;
	if (sk_GENERAL_NAME_push(gens, gen) == 0)
		goto out;
	gen = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_REPLACE) != 1)
		goto out;
	rc = 0;
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* keyUsage digitalSignature (critical), extKeyUsage serverAuth,
 * basicConstraints CA:FALSE (critical). */
static int
add_usage(X509 *x)
{
	ASN1_BIT_STRING *ku = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_OBJECT *obj;
	int rc = -EIO;

	ku = ASN1_BIT_STRING_new();
	eku = sk_ASN1_OBJECT_new_null();
	bc = BASIC_CONSTRAINTS_new();
	if (ku == NULL || eku == NULL || bc == NULL)
		goto out;
	if (ASN1_BIT_STRING_set_bit(ku, 0, 1) != 1)	/* digitalSignature */
		goto out;
	if (X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_REPLACE) != 1)
		goto out;
	obj = OBJ_nid2obj(NID_server_auth);
	if (obj == NULL || sk_ASN1_OBJECT_push(eku, obj) == 0)
		goto out;
	if (X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0,
	    X509V3_ADD_REPLACE) != 1)
		goto out;
	bc->ca = 0;
	if (X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1,
	    X509V3_ADD_REPLACE) != 1)
		goto out;
	rc = 0;
out:
	ASN1_BIT_STRING_free(ku);
	/* the object from OBJ_nid2obj is static; freeing it is a no-op */
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

int
vkc_tls_generate(const char *cn, int days, char **cert_pem, char **key_pem)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	BIO *cbio = NULL, *kbio = NULL;
	char *cert = NULL, *key = NULL;
	int rc;

	*cert_pem = NULL;
	*key_pem = NULL;
	if (cn == NULL || *cn == '\0' || strlen(cn) > 253 || days <= 0 ||
	    days > MAX_DAYS)
		return -EINVAL;
	rc = -EIO;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (pkey == NULL)
		goto out;
	x = X509_new();
	if (x == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1)
		goto out;
	rc = set_serial(x);
	if (rc != 0)
		goto out;
	rc = -EIO;
	if (X509_gmtime_adj(X509_getm_notBefore(x), -SKEW_SECONDS) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL)
		goto out;
	/*
	 * A node name may be up to 79 characters, over the 64 that RFC 5280
	 * suggests for a CN; the entry is set as a plain UTF8String so that
	 * OpenSSL does not refuse it. Clients match on the SAN anyway.
	 */
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", V_ASN1_UTF8STRING,
	    (const unsigned char *)cn, -1, -1, 0) != 1)
		goto out;
	if (X509_set_issuer_name(x, name) != 1)
		goto out;
	if (X509_set_pubkey(x, pkey) != 1)
		goto out;
	rc = add_san(x, cn);
	if (rc != 0)
		goto out;
	rc = add_usage(x);
	if (rc != 0)
		goto out;
	rc = -EIO;
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;
	cbio = BIO_new(BIO_s_mem());
	kbio = BIO_new(BIO_s_mem());
	if (cbio == NULL || kbio == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"). */
	if (PEM_write_bio_X509(cbio, x) != 1 ||
	    PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1)
		goto out;
	rc = bio_to_string(cbio, &cert);
	if (rc != 0)
		goto out;
	rc = bio_to_string(kbio, &key);
	if (rc != 0)
		goto out;
	*cert_pem = cert;
	*key_pem = key;
	cert = NULL;
	key = NULL;
	rc = 0;
out:
	free(cert);
	if (key != NULL) {
		OPENSSL_cleanse(key, strlen(key));
		free(key);
	}
	BIO_free(cbio);
	BIO_free(kbio);	/* a mem BIO's buffer is cleared on free */
	X509_free(x);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

static X509 *
parse_cert(const char *pem, size_t len)
{
	BIO *bio;
	X509 *x;

	if (pem == NULL || len == 0 || len > INT_MAX)
		return NULL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	return x;
}

static EVP_PKEY *
parse_key(const char *pem, size_t len)
{
	static char nopass[] = "";
	BIO *bio;
	EVP_PKEY *pkey;

	if (pem == NULL || len == 0 || len > INT_MAX)
		return NULL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return NULL;
	/* An empty passphrase: an encrypted key fails, it never prompts. */
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, nopass);
	BIO_free(bio);
	ERR_clear_error();
	return pkey;
}

int
vkc_tls_seconds_left(const char *cert_pem, size_t len, long long *secs)
{
	X509 *x;
	int days, sec, rc;

	x = parse_cert(cert_pem, len);
	if (x == NULL)
		return -EINVAL;
	if (ASN1_TIME_diff(&days, &sec, NULL, X509_get0_notAfter(x)) != 1) {
		rc = -EINVAL;
		goto out;
	}
	*secs = (long long)days * 86400 + sec;
	rc = 0;
out:
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* True when the certificate's (first) CN is exactly cn. */
static bool
cn_is(X509 *x, const char *cn)
{
	X509_NAME *name;
	X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	int i, n;
	bool ok = false;

	name = X509_get_subject_name(x);
	i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0)
		goto out;
	e = X509_NAME_get_entry(name, i);
	if (e == NULL)
		goto out;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	if (n < 0)
		goto out;
	ok = (size_t)n == strlen(cn) && memcmp(utf8, cn, (size_t)n) == 0;
out:
	OPENSSL_free(utf8);
	return ok;
}

int
vkc_tls_matches(const char *cert_pem, size_t cert_len, const char *key_pem,
    size_t key_len, const char *cn)
{
	X509 *x = NULL;
	EVP_PKEY *pkey = NULL;
	int ok = 0;

	if (cn == NULL)
		goto out;
	x = parse_cert(cert_pem, cert_len);
	pkey = parse_key(key_pem, key_len);
	if (x == NULL || pkey == NULL)
		goto out;
	if (X509_check_private_key(x, pkey) != 1)
		goto out;
	/* CN and a DNS SAN both name the node: the SAN is what clients
	 * check, so a certificate without it is not the one wanted */
	ok = cn_is(x, cn) && X509_check_host(x, cn, strlen(cn),
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1 ? 1 : 0;
out:
	EVP_PKEY_free(pkey);
	X509_free(x);
	ERR_clear_error();
	return ok;
}
