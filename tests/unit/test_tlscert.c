/* test_tlscert.c: tlscert.c (DESIGN.md §5.8). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "tlscert.h"

#define NODE "virtual-kubelet-virtual-kubelet-linux-eastus"

static X509 *
parse(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	return x;
}

TEST(generate_and_read)
{
	char *cert = NULL, *key = NULL;
	long long secs = 0;

	CHECK_INT(vkc_tls_generate(NODE, VKC_TLS_DAYS, &cert, &key), 0);
	CHECK(cert != NULL && key != NULL);
	if (cert == NULL || key == NULL)
		goto out;
	CHECK(strstr(cert, "-----BEGIN CERTIFICATE-----") == cert);
	CHECK(strstr(key, "-----BEGIN PRIVATE KEY-----") == key);
	CHECK_INT(vkc_tls_seconds_left(cert, strlen(cert), &secs), 0);
	CHECK(secs <= 365LL * 86400 && secs > 365LL * 86400 - 120);
	CHECK(secs > VKC_TLS_RENEW_SECONDS);
	CHECK_INT(vkc_tls_matches(cert, strlen(cert), key, strlen(key), NODE),
	    1);
	CHECK_INT(vkc_tls_matches(cert, strlen(cert), key, strlen(key),
	    "virtual-kubelet-other"), 0);
	CHECK_INT(vkc_tls_matches(cert, strlen(cert), key, strlen(key),
	    "virtual-kubelet-virtual-kubelet-linux-eastu"), 0);
	CHECK_INT(vkc_tls_matches(cert, strlen(cert), key, strlen(key), NULL),
	    0);
out:
	free(cert);
	free(key);
}

TEST(certificate_content)
{
	char *cert = NULL, *key = NULL;
	X509 *x = NULL;
	EVP_PKEY *pub;
	const ASN1_INTEGER *serial;
	BIGNUM *bn = NULL;
	GENERAL_NAMES *sans = NULL;
	GENERAL_NAME *gen;
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	X509_EXTENSION *ext;
	const char *dns;
	char name[64];
	int crit, day, sec, i;

	CHECK_INT(vkc_tls_generate(NODE, 10, &cert, &key), 0);
	if (cert == NULL)
		goto out;
	x = parse(cert);
	CHECK(x != NULL);
	if (x == NULL)
		goto out;
	CHECK_INT(X509_get_version(x), X509_VERSION_3);
	pub = X509_get0_pubkey(x);
	CHECK(pub != NULL && EVP_PKEY_is_a(pub, "EC"));
	CHECK(EVP_PKEY_get_utf8_string_param(pub, "group", name, sizeof(name),
	    NULL) == 1 && strcmp(name, "prime256v1") == 0);
	CHECK_INT(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);

	serial = X509_get0_serialNumber(x);
	bn = ASN1_INTEGER_to_BN(serial, NULL);
	CHECK(bn != NULL && !BN_is_negative(bn) && BN_num_bits(bn) > 64 &&
	    BN_num_bits(bn) <= 128);

	/* notBefore about 5 minutes ago, notAfter in 10 days */
	CHECK_INT(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(x), NULL), 1);
	CHECK(day == 0 && sec >= 299 && sec < 360);
	CHECK_INT(ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notAfter(x)), 1);
	CHECK(day == 9 || (day == 10 && sec == 0));

	CHECK_INT(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, name, sizeof(name)), (int)strlen(NODE));
	CHECK_STR(name, NODE);
	CHECK_INT(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)), 0);

	sans = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	CHECK(sans != NULL && sk_GENERAL_NAME_num(sans) == 1);
	if (sans != NULL && sk_GENERAL_NAME_num(sans) == 1) {
		gen = sk_GENERAL_NAME_value(sans, 0);
		CHECK_INT(gen->type, GEN_DNS);
		dns = (const char *)ASN1_STRING_get0_data(gen->d.dNSName);
		CHECK_STR(dns, NODE);
	}
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	CHECK(ku != NULL && crit == 1);
	CHECK(ku != NULL && ASN1_BIT_STRING_get_bit(ku, 0) == 1);
	CHECK_INT(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	CHECK(eku != NULL && sk_ASN1_OBJECT_num(eku) == 1);
	if (eku != NULL && sk_ASN1_OBJECT_num(eku) == 1)
		CHECK_INT(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
		    NID_server_auth);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	CHECK(bc != NULL && bc->ca == 0);
	CHECK_INT(X509_check_ca(x), 0);
	i = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
	ext = X509_get_ext(x, i);
	CHECK(ext != NULL && X509_EXTENSION_get_critical(ext) == 1);
	/* the signature verifies with its own key */
	CHECK_INT(X509_verify(x, X509_get0_pubkey(x)), 1);
out:
	BN_free(bn);
	GENERAL_NAMES_free(sans);
	ASN1_BIT_STRING_free(ku);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	BASIC_CONSTRAINTS_free(bc);
	X509_free(x);
	free(cert);
	free(key);
}

TEST(serials_differ)
{
	char *c1 = NULL, *k1 = NULL, *c2 = NULL, *k2 = NULL;
	X509 *x1 = NULL, *x2 = NULL;

	CHECK_INT(vkc_tls_generate(NODE, 1, &c1, &k1), 0);
	CHECK_INT(vkc_tls_generate(NODE, 1, &c2, &k2), 0);
	if (c1 == NULL || c2 == NULL)
		goto out;
	x1 = parse(c1);
	x2 = parse(c2);
	CHECK(x1 != NULL && x2 != NULL);
	if (x1 != NULL && x2 != NULL)
		CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(x1),
		    X509_get0_serialNumber(x2)) != 0);
	/* each key with the other's certificate: no match */
	CHECK_INT(vkc_tls_matches(c1, strlen(c1), k2, strlen(k2), NODE), 0);
	CHECK_INT(vkc_tls_matches(c2, strlen(c2), k1, strlen(k1), NODE), 0);
	CHECK_INT(vkc_tls_matches(c2, strlen(c2), k2, strlen(k2), NODE), 1);
out:
	X509_free(x1);
	X509_free(x2);
	free(c1);
	free(k1);
	free(c2);
	free(k2);
}

TEST(long_node_name)
{
	/* a 63-character release gives a 79-character node name */
	char cn[80], *cert = NULL, *key = NULL;

	memset(cn, 'a', 79);
	memcpy(cn, "virtual-kubelet-", 16);
	cn[79] = '\0';
	CHECK_INT(vkc_tls_generate(cn, VKC_TLS_DAYS, &cert, &key), 0);
	if (cert != NULL && key != NULL)
		CHECK_INT(vkc_tls_matches(cert, strlen(cert), key, strlen(key),
		    cn), 1);
	free(cert);
	free(key);
}

TEST(bad_input)
{
	static const char garbage[] = "-----BEGIN CERTIFICATE-----\n"
	    "bm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
	char *cert = NULL, *key = NULL;
	long long secs = 42;

	CHECK_INT(vkc_tls_seconds_left(garbage, strlen(garbage), &secs),
	    -EINVAL);
	CHECK_INT(vkc_tls_seconds_left("hello", 5, &secs), -EINVAL);
	CHECK_INT(vkc_tls_seconds_left("", 0, &secs), -EINVAL);
	CHECK_INT(vkc_tls_seconds_left(NULL, 0, &secs), -EINVAL);
	CHECK_INT(secs, 42);
	CHECK_INT(vkc_tls_matches(garbage, strlen(garbage), garbage,
	    strlen(garbage), NODE), 0);
	CHECK_INT(vkc_tls_generate("", 1, &cert, &key), -EINVAL);
	CHECK(cert == NULL && key == NULL);
	CHECK_INT(vkc_tls_generate(NODE, 0, &cert, &key), -EINVAL);
	CHECK_INT(vkc_tls_generate(NULL, 1, &cert, &key), -EINVAL);

	CHECK_INT(vkc_tls_generate(NODE, 1, &cert, &key), 0);
	if (cert != NULL && key != NULL) {
		/* a truncated certificate or key does not parse */
		CHECK_INT(vkc_tls_seconds_left(cert, strlen(cert) / 2, &secs),
		    -EINVAL);
		CHECK_INT(vkc_tls_matches(cert, strlen(cert), key,
		    strlen(key) / 2, NODE), 0);
		/* a key where the certificate goes */
		CHECK_INT(vkc_tls_seconds_left(key, strlen(key), &secs),
		    -EINVAL);
	}
	free(cert);
	free(key);
}

int
main(void)
{
	RUN(generate_and_read);
	RUN(certificate_content);
	RUN(serials_differ);
	RUN(long_node_name);
	RUN(bad_input);
	CHECK_DONE();
}
