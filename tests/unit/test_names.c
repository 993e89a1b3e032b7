/* test_names.c: names.c (DESIGN.md §3). */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "jsonutil.h"
#include "names.h"

TEST(os_tokens)
{
	unsigned mask = 99;

	CHECK_STR(vkc_os_token(VKC_OS_LINUX), "linux");
	CHECK_STR(vkc_os_token(VKC_OS_WINDOWS), "windows");
	CHECK_STR(vkc_os_title(VKC_OS_LINUX), "Linux");
	CHECK_STR(vkc_os_title(VKC_OS_WINDOWS), "Windows");
	CHECK_INT(vkc_os_mask(NULL, &mask), 0);
	CHECK_INT(mask, VKC_OS_BIT(VKC_OS_LINUX));
	CHECK_INT(vkc_os_mask("Linux", &mask), 0);
	CHECK_INT(mask, 1);
	CHECK_INT(vkc_os_mask("Windows", &mask), 0);
	CHECK_INT(mask, 2);
	CHECK_INT(vkc_os_mask("Both", &mask), 0);
	CHECK_INT(mask, 3);
	CHECK_INT(vkc_os_mask("linux", &mask), -EINVAL);
	CHECK_INT(vkc_os_mask("", &mask), -EINVAL);
}

TEST(location_normalize)
{
	char out[64], small[4];

	CHECK_INT(vkc_location_normalize("East US", out, sizeof(out)), 0);
	CHECK_STR(out, "eastus");
	CHECK_INT(vkc_location_normalize("  West Europe ", out, sizeof(out)), 0);
	CHECK_STR(out, "westeurope");
	CHECK_INT(vkc_location_normalize("eastus2", out, sizeof(out)), 0);
	CHECK_STR(out, "eastus2");
	CHECK_INT(vkc_location_normalize("East US 2", out, sizeof(out)), 0);
	CHECK_STR(out, "eastus2");
	CHECK_INT(vkc_location_normalize("", out, sizeof(out)), -EINVAL);
	CHECK_INT(vkc_location_normalize("   ", out, sizeof(out)), -EINVAL);
	CHECK_INT(vkc_location_normalize("east-us", out, sizeof(out)), -EINVAL);
	CHECK_INT(vkc_location_normalize("east\tus", out, sizeof(out)),
	    -EINVAL);
	CHECK_INT(vkc_location_normalize("östus", out, sizeof(out)), -EINVAL);
	CHECK_INT(vkc_location_normalize(NULL, out, sizeof(out)), -EINVAL);
	CHECK_INT(vkc_location_normalize("abc", small, sizeof(small)), 0);
	CHECK_STR(small, "abc");
	CHECK_INT(vkc_location_normalize("abcd", small, sizeof(small)),
	    -ENAMETOOLONG);
}

TEST(dns1123)
{
	char s63[64], s64[65];

	memset(s63, 'a', 63);
	s63[63] = '\0';
	memset(s64, 'a', 64);
	s64[64] = '\0';
	CHECK(vkc_is_dns1123_label("a"));
	CHECK(vkc_is_dns1123_label("a-b-0"));
	CHECK(vkc_is_dns1123_label("0abc"));
	CHECK(vkc_is_dns1123_label(s63));
	CHECK(!vkc_is_dns1123_label(s64));
	CHECK(!vkc_is_dns1123_label(""));
	CHECK(!vkc_is_dns1123_label(NULL));
	CHECK(!vkc_is_dns1123_label("-a"));
	CHECK(!vkc_is_dns1123_label("a-"));
	CHECK(!vkc_is_dns1123_label("A"));
	CHECK(!vkc_is_dns1123_label("a.b"));
	CHECK(!vkc_is_dns1123_label("a_b"));

	CHECK(vkc_is_dns1123_subdomain("a.b-c.d"));
	CHECK(vkc_is_dns1123_subdomain("sp-creds"));
	CHECK(!vkc_is_dns1123_subdomain("a..b"));
	CHECK(!vkc_is_dns1123_subdomain(".a"));
	CHECK(!vkc_is_dns1123_subdomain("a."));
	CHECK(!vkc_is_dns1123_subdomain("a.-b"));
	CHECK(!vkc_is_dns1123_subdomain("Secret"));
	CHECK(!vkc_is_dns1123_subdomain(""));
	CHECK(!vkc_is_dns1123_subdomain(NULL));
	{
		char big[300];
		size_t i;

		/* 254 characters of "a.a.a..." */
		for (i = 0; i < 254; i++)
			big[i] = i % 2 ? '.' : 'a';
		big[253] = '\0';
		CHECK(vkc_is_dns1123_subdomain(big));
		big[253] = 'a';
		big[254] = '\0';
		CHECK(!vkc_is_dns1123_subdomain(big));
	}
}

TEST(design_examples)
{
	char release[64], node[80], crb[200], tls[68];

	CHECK_INT(vkc_release_name("virtual-kubelet", VKC_OS_LINUX, "eastus",
	    release, sizeof(release)), 0);
	CHECK_STR(release, "virtual-kubelet-linux-eastus");
	CHECK_INT(vkc_node_name(release, node, sizeof(node)), 0);
	CHECK_STR(node, "virtual-kubelet-virtual-kubelet-linux-eastus");
	CHECK_INT(vkc_crb_name("default", release, crb, sizeof(crb)), 0);
	CHECK_STR(crb, "vkc-default-virtual-kubelet-linux-eastus");
	CHECK_INT(vkc_tls_secret_name(release, tls, sizeof(tls)), 0);
	CHECK_STR(tls, "virtual-kubelet-linux-eastus-tls");
	CHECK_INT(vkc_release_name("aci-connector", VKC_OS_WINDOWS, "westus",
	    release, sizeof(release)), 0);
	CHECK_STR(release, "aci-connector-windows-westus");
}

TEST(release_boundary)
{
	char conn[80], release[64], big[128], node[80];
	size_t fixed = strlen("-linux-eastus");

	/* 63 characters: the longest valid release */
	memset(conn, 'c', 63 - fixed);
	conn[63 - fixed] = '\0';
	CHECK_INT(vkc_release_name(conn, VKC_OS_LINUX, "eastus", release,
	    sizeof(release)), 0);
	CHECK_INT(strlen(release), 63);
	CHECK_INT(vkc_node_name(release, node, sizeof(node)), 0);
	CHECK_INT(strlen(node), 79);
	/* 64: not a label, whatever the buffer */
	memset(conn, 'c', 64 - fixed);
	conn[64 - fixed] = '\0';
	CHECK_INT(vkc_release_name(conn, VKC_OS_LINUX, "eastus", release,
	    sizeof(release)), -EINVAL);
	CHECK_STR(release, "");
	CHECK_INT(vkc_release_name(conn, VKC_OS_LINUX, "eastus", big,
	    sizeof(big)), -EINVAL);
	/* fits as a label but not in out */
	CHECK_INT(vkc_release_name("a", VKC_OS_LINUX, "eastus", release, 8),
	    -ENAMETOOLONG);
	/* not a label for its characters */
	CHECK_INT(vkc_release_name("My.Conn", VKC_OS_LINUX, "eastus", release,
	    sizeof(release)), -EINVAL);
	CHECK_INT(vkc_release_name("a", VKC_OS_LINUX, "", release,
	    sizeof(release)), -EINVAL);
	CHECK_INT(vkc_release_name("", VKC_OS_LINUX, "eastus", release,
	    sizeof(release)), -EINVAL);
	CHECK_INT(vkc_release_name(NULL, VKC_OS_LINUX, "eastus", release,
	    sizeof(release)), -EINVAL);
	CHECK_INT(vkc_node_name("x", node, 10), -ENAMETOOLONG);
	CHECK_INT(vkc_crb_name("ns", "rel", big, 8), -ENAMETOOLONG);
	CHECK_INT(vkc_tls_secret_name("rel", big, 7), -ENAMETOOLONG);
	CHECK_INT(vkc_tls_secret_name("rel", big, 8), 0);
	CHECK_STR(big, "rel-tls");
}

static struct json_object *
nodes(const char *text)
{
	return vkc_json_parse(text, strlen(text), NULL, 0);
}

TEST(cluster_region)
{
	struct json_object *items;
	char out[64];

	/* the virtual nodes' region would win if they were counted */
	items = nodes("["
	    "{\"metadata\":{\"name\":\"a\",\"labels\":{"
	    "\"topology.kubernetes.io/region\":\"westeurope\"}}},"
	    "{\"metadata\":{\"name\":\"v1\",\"labels\":{\"type\":"
	    "\"virtual-kubelet\",\"topology.kubernetes.io/region\":"
	    "\"eastus\"}}},"
	    "{\"metadata\":{\"name\":\"v2\",\"labels\":{\"type\":"
	    "\"virtual-kubelet\",\"topology.kubernetes.io/region\":"
	    "\"eastus\"}}},"
	    "{\"metadata\":{\"name\":\"b\",\"labels\":{"
	    "\"topology.kubernetes.io/region\":\"West Europe\"}}}]");
	CHECK(items != NULL);
	CHECK_INT(vkc_cluster_region(items, out, sizeof(out)), 0);
	CHECK_STR(out, "westeurope");
	json_object_put(items);

	/* the most common wins */
	items = nodes("["
	    "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/region\":"
	    "\"westus\"}}},"
	    "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/region\":"
	    "\"northeurope\"}}},"
	    "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/region\":"
	    "\"northeurope\"}}}]");
	CHECK_INT(vkc_cluster_region(items, out, sizeof(out)), 0);
	CHECK_STR(out, "northeurope");
	json_object_put(items);

	/* a tie goes to the name that sorts first, whatever the order */
	items = nodes("["
	    "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/region\":"
	    "\"westus\"}}},"
	    "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/region\":"
	    "\"eastus\"}}},"
	    "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/region\":"
	    "\"westus\"}}},"
	    "{\"metadata\":{\"labels\":{\"topology.kubernetes.io/region\":"
	    "\"eastus\"}}}]");
	CHECK_INT(vkc_cluster_region(items, out, sizeof(out)), 0);
	CHECK_STR(out, "eastus");
	json_object_put(items);

	/* junk is skipped; only virtual nodes or none labelled: ENOENT */
	items = nodes("[5,\"x\",null,{\"metadata\":5},{\"metadata\":{"
	    "\"labels\":{\"topology.kubernetes.io/region\":7}}},"
	    "{\"metadata\":{\"labels\":{\"type\":\"virtual-kubelet\","
	    "\"topology.kubernetes.io/region\":\"eastus\"}}}]");
	CHECK_INT(vkc_cluster_region(items, out, sizeof(out)), -ENOENT);
	json_object_put(items);
	items = nodes("[]");
	CHECK_INT(vkc_cluster_region(items, out, sizeof(out)), -ENOENT);
	json_object_put(items);
	CHECK_INT(vkc_cluster_region(NULL, out, sizeof(out)), -ENOENT);

	/* the pre-1.17 label counts when the current one is absent */
	items = nodes("[{\"metadata\":{\"labels\":{"
	    "\"failure-domain.beta.kubernetes.io/region\":\"uksouth\"}}}]");
	CHECK_INT(vkc_cluster_region(items, out, sizeof(out)), 0);
	CHECK_STR(out, "uksouth");
	CHECK_INT(vkc_cluster_region(items, out, 4), -ENAMETOOLONG);
	json_object_put(items);
}

int
main(void)
{
	RUN(os_tokens);
	RUN(location_normalize);
	RUN(dns1123);
	RUN(design_examples);
	RUN(release_boundary);
	RUN(cluster_region);
	CHECK_DONE();
}
