/* httpd.c: probe and metrics endpoints on libmicrohttpd (see httpd.h). */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define HTTPD_MAX_BODY (4u << 20)

struct vkc_httpd {
	struct MHD_Daemon *d;
	vkc_httpd_handler handler;
	void *arg;
	int port;
};

static enum MHD_Result
httpd_answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct vkc_httpd *h = cls;
	struct MHD_Response *resp;
	struct vkc_buf body;
	const char *ctype = "text/plain; charset=utf-8";
	enum MHD_Result ret;
	char *data;
	size_t len;
	int status;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	vkc_buf_init(&body, HTTPD_MAX_BODY);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		vkc_buf_puts(&body, "method not allowed\n");
	} else {
		status = h->handler(url, &body, &ctype, h->arg);
	}
	data = vkc_buf_detach(&body, &len);
	if (data == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, data,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ":8080", "127.0.0.1:8080", "[::1]:8080" → a socket address. */
static int
httpd_parse(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon;
	long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(addr, ':');
	if (colon == NULL)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || port < 0 || port > 65535)
		return -EINVAL;
	if ((size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (host[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		size_t n = strlen(host);

		if (n < 2 || host[n - 1] != ']')
			return -EINVAL;
		host[n - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof(*s6);
		return 0;
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (host[0] == '\0')
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (strcmp(host, "localhost") == 0)
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof(*s4);
	}
	return 0;
}

bool
vkc_httpd_addr_valid(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (strcmp(addr, "0") == 0 || addr[0] == '\0')
		return true;
	return httpd_parse(addr, &ss, &len) == 0;
}

/* libmicrohttpd's own complaints, through the operator's log. */
static void httpd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
httpd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("http server: %s", msg);
}

/* Binds and listens on ss; returns the socket or a negative errno. */
static int
httpd_listen(struct sockaddr_storage *ss, socklen_t len)
{
	int fd, one = 1, zero = 0, e;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a restarted operator must not wait out TIME_WAIT */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	if (bind(fd, (struct sockaddr *)ss, len) != 0 || listen(fd, 64) != 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int
vkc_httpd_start(const char *addr, vkc_httpd_handler handler, void *arg,
    struct vkc_httpd **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6;
	struct vkc_httpd *h;
	const union MHD_DaemonInfo *info;
	socklen_t len;
	unsigned flags;
	int fd = -1;

	*out = NULL;
	if (strcmp(addr, "0") == 0 || addr[0] == '\0')
		return 0;
	if (httpd_parse(addr, &ss, &len) != 0) {
		snprintf(err, errlen, "invalid bind address '%s': want "
		    "[host]:port, e.g. ':8080' or '127.0.0.1:8080', or '0'",
		    addr);
		return -EINVAL;
	}
	if (addr[0] == ':') {
		/* every interface: IPv6 and IPv4 on one socket, else IPv4 */
		struct sockaddr_storage any6;

		memset(&any6, 0, sizeof(any6));
		s6 = (struct sockaddr_in6 *)&any6;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = ((struct sockaddr_in *)&ss)->sin_port;
		s6->sin6_addr = in6addr_any;
		fd = httpd_listen(&any6, sizeof(*s6));
		if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
			fd = httpd_listen(&ss, len);
	} else {
		fd = httpd_listen(&ss, len);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot serve '%s': %s", addr,
		    strerror(-fd));
		return fd;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		close(fd);
		return -ENOMEM;
	}
	h->handler = handler;
	h->arg = arg;
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	/* the logger first, so that it sees every complaint */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, httpd_answer, h,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_log, (void *)NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "cannot serve '%s': the http server did "
		    "not start", addr);
		close(fd);
		free(h);
		return -EIO;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? (int)info->port : 0;
	*out = h;
	return 0;
}

int
vkc_httpd_port(struct vkc_httpd *h)
{
	return h != NULL ? h->port : 0;
}

void
vkc_httpd_stop(struct vkc_httpd *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
