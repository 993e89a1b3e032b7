/*
 * httpd.h: the probe and metrics endpoints, served by libmicrohttpd.
 *
 * Addresses are spelled as controller-runtime spells them: ":8080" (every
 * interface), "127.0.0.1:8080", or "0" to serve nothing. A handler fills
 * the body and returns the HTTP status; it runs on libmicrohttpd's thread.
 */
#ifndef VKC_HTTPD_H
#define VKC_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef int (*vkc_httpd_handler)(const char *path, struct vkc_buf *body,
    const char **content_type, void *arg);

struct vkc_httpd;

/* True when addr is "0" (or empty) or parses as [host]:port; checked
 * when flags are read, before anything starts. */
bool vkc_httpd_addr_valid(const char *addr);

/* Starts serving addr. Returns 0 with *out NULL when addr is "0"; a
 * negative errno with a message in err when addr cannot be served (the
 * message names the address and the system's reason, such as "Address
 * already in use"). An empty host (":8080") serves every interface, IPv6
 * and IPv4 where the system has both. */
int vkc_httpd_start(const char *addr, vkc_httpd_handler handler, void *arg,
    struct vkc_httpd **out, char *err, size_t errlen);

/* The port actually bound (useful with port 0). */
int vkc_httpd_port(struct vkc_httpd *h);

void vkc_httpd_stop(struct vkc_httpd *h);

#endif
