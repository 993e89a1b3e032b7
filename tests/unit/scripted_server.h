/*
 * scripted_server.h: a tiny HTTP/1.1 server on 127.0.0.1 that answers the
 * n-th request it reads with the n-th reply of a script, for tests of the
 * client against what a real apiserver cannot be made to do (a cut
 * connection, a 429, an event split across chunks).
 *
 * One thread polls the listening socket (port 0: the kernel picks) and
 * every open connection; connections are kept alive unless a reply says
 * close. A reply is written in parts with a pause between them, so each
 * part reaches the client in its own read. Every request's head is kept
 * for the test to look at. Requests past the end of the script get a 500
 * and a closed connection. Header-only: each test program is its own
 * binary.
 */
#ifndef VKC_SCRIPTED_SERVER_H
#define VKC_SCRIPTED_SERVER_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SS_MAX_CONNS 16
#define SS_MAX_REQS 64
#define SS_HEAD_MAX 8192

/* One piece of a reply. */
struct ss_part {
	char *data;
	size_t len;
};

/* What to answer one request with: parts written in order, gap_ms apart;
 * then the connection is closed when close is set. */
struct ss_reply {
	struct ss_part *parts;
	int nparts;
	int gap_ms;
	int close;
};

struct ss_server {
	int lfd;
	int port;
	pthread_t thread;
	atomic_int quit;
	pthread_mutex_t lock;	/* guards all below */
	struct ss_reply script[SS_MAX_REQS];
	int nscript;
	int served;		/* requests read so far */
	int accepted;		/* connections accepted so far */
	char *heads[SS_MAX_REQS];	/* request heads, in order */
	double at[SS_MAX_REQS];		/* when each arrived (monotonic s) */
};

static inline double
ss_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void
ss_sleep_ms(int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Appends a part (copied) to reply r. */
static inline void
ss_part_add(struct ss_reply *r, const char *data, size_t len)
{
	r->parts = realloc(r->parts, sizeof(*r->parts) * (size_t)(r->nparts + 1));
	if (r->parts == NULL)
		abort();
	r->parts[r->nparts].data = malloc(len + 1);
	if (r->parts[r->nparts].data == NULL)
		abort();
	memcpy(r->parts[r->nparts].data, data, len);
	r->parts[r->nparts].data[len] = '\0';
	r->parts[r->nparts].len = len;
	r->nparts++;
}

/* Appends a printf-formatted part. */
static inline void
ss_part_printf(struct ss_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void
ss_part_printf(struct ss_reply *r, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	ss_part_add(r, s, (size_t)n);
	free(s);
}

/* Appends data as one HTTP chunk (its own part). */
static inline void
ss_part_chunk(struct ss_reply *r, const char *data, size_t len)
{
	char *s;
	int n;

	s = malloc(len + 32);
	if (s == NULL)
		abort();
	n = snprintf(s, 32, "%zx\r\n", len);
	memcpy(s + n, data, len);
	memcpy(s + n + len, "\r\n", 2);
	ss_part_add(r, s, (size_t)n + len + 2);
	free(s);
}

static inline void
ss_reply_release(struct ss_reply *r)
{
	int i;

	for (i = 0; i < r->nparts; i++)
		free(r->parts[i].data);
	free(r->parts);
	memset(r, 0, sizeof(*r));
}

/* Queues the next reply: a whole response in one part. body may be NULL.
 * extra_headers is "" or lines each ending in "\r\n". */
static inline struct ss_reply *
ss_add(struct ss_server *s, int code, const char *extra_headers,
    const char *body)
{
	struct ss_reply *r;

	pthread_mutex_lock(&s->lock);
	if (s->nscript == SS_MAX_REQS)
		abort();
	r = &s->script[s->nscript++];
	pthread_mutex_unlock(&s->lock);
	if (code > 0)
		ss_part_printf(r, "HTTP/1.1 %d X\r\nContent-Type: "
		    "application/json\r\n%sContent-Length: %zu\r\n\r\n%s", code,
		    extra_headers, body ? strlen(body) : 0, body ? body : "");
	return r;
}

/* Queues an empty reply to be filled with ss_part_* by the caller. */
static inline struct ss_reply *
ss_add_raw(struct ss_server *s)
{
	return ss_add(s, 0, "", NULL);
}

/* Writes all of p; false when the peer went away. */
static inline int
ss_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		p += w;
		n -= (size_t)w;
	}
	return 1;
}

/* Reads one request from fd and answers it. Returns 0 to keep the
 * connection, -1 to close it. */
static inline int
ss_serve(struct ss_server *s, int fd)
{
	char head[SS_HEAD_MAX + 1], *end, *cl, body[4096];
	size_t len = 0, hlen;
	ssize_t n;
	long want = 0;
	struct ss_reply *r = NULL;
	int idx, i, keep = 0;

	for (;;) {
		n = recv(fd, head + len, SS_HEAD_MAX - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		head[len] = '\0';
		end = strstr(head, "\r\n\r\n");
		if (end != NULL)
			break;
		if (len == SS_HEAD_MAX)
			return -1;
	}
	hlen = (size_t)(end - head) + 4;
	for (cl = head; cl < end; cl++)
		if (strncasecmp(cl, "\r\nContent-Length:", 17) == 0) {
			want = strtol(cl + 17, NULL, 10);
			break;
		}
	want -= (long)(len - hlen);
	while (want > 0) {
		n = recv(fd, body, sizeof(body), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		want -= n;
	}
	head[hlen] = '\0';

	pthread_mutex_lock(&s->lock);
	idx = s->served++;
	if (idx < SS_MAX_REQS) {
		s->heads[idx] = strdup(head);
		s->at[idx] = ss_now();
	}
	if (idx < s->nscript)
		r = &s->script[idx];
	pthread_mutex_unlock(&s->lock);
	if (r == NULL) {
		static const char over[] = "HTTP/1.1 500 Script Exhausted\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n";

		ss_write_all(fd, over, sizeof(over) - 1);
		return -1;
	}
	for (i = 0; i < r->nparts; i++) {
		if (i > 0 && r->gap_ms > 0)
			ss_sleep_ms(r->gap_ms);
		if (!ss_write_all(fd, r->parts[i].data, r->parts[i].len))
			return -1;
	}
	keep = !r->close;
	return keep ? 0 : -1;
}

static inline void *
ss_run(void *arg)
{
	struct ss_server *s = arg;
	struct pollfd pf[SS_MAX_CONNS + 1];
	int conns[SS_MAX_CONNS], nconn = 0, i, fd, one = 1;
	struct timeval tv = { 5, 0 };

	while (!atomic_load(&s->quit)) {
		pf[0].fd = s->lfd;
		pf[0].events = POLLIN;
		pf[0].revents = 0;
		for (i = 0; i < nconn; i++) {
			pf[i + 1].fd = conns[i];
			pf[i + 1].events = POLLIN;
			pf[i + 1].revents = 0;
		}
		if (poll(pf, (nfds_t)nconn + 1, 50) <= 0)
			continue;
		for (i = nconn - 1; i >= 0; i--) {
			if (pf[i + 1].revents == 0)
				continue;
			if (ss_serve(s, conns[i]) != 0) {
				close(conns[i]);
				conns[i] = conns[--nconn];
			}
		}
		if (pf[0].revents & POLLIN) {
			fd = accept(s->lfd, NULL, NULL);
			if (fd < 0)
				continue;
			if (nconn == SS_MAX_CONNS) {
				close(fd);
				continue;
			}
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			pthread_mutex_lock(&s->lock);
			s->accepted++;
			pthread_mutex_unlock(&s->lock);
			conns[nconn++] = fd;
		}
	}
	for (i = 0; i < nconn; i++)
		close(conns[i]);
	return NULL;
}

/* Starts a server; returns 0 or -1. */
static inline int
ss_start(struct ss_server *s)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->lfd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(s->lfd, 16) != 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &alen) != 0) {
		close(s->lfd);
		return -1;
	}
	s->port = ntohs(a.sin_port);
	if (pthread_create(&s->thread, NULL, ss_run, s) != 0) {
		close(s->lfd);
		return -1;
	}
	return 0;
}

/* Stops the thread and frees the script and the recorded heads. */
static inline void
ss_stop(struct ss_server *s)
{
	int i;

	atomic_store(&s->quit, 1);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	for (i = 0; i < s->nscript; i++)
		ss_reply_release(&s->script[i]);
	for (i = 0; i < SS_MAX_REQS; i++)
		free(s->heads[i]);
	pthread_mutex_destroy(&s->lock);
}

/* Requests read so far. */
static inline int
ss_served(struct ss_server *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->served;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The value of header name in request idx, copied to out ("" if none). */
static inline const char *
ss_header(struct ss_server *s, int idx, const char *name, char *out,
    size_t outlen)
{
	const char *p, *e;
	size_t nl = strlen(name);

	out[0] = '\0';
	pthread_mutex_lock(&s->lock);
	p = idx < s->served && idx < SS_MAX_REQS ? s->heads[idx] : NULL;
	for (; p != NULL && (p = strstr(p, "\r\n")) != NULL; p += 2) {
		if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
			p += 3 + nl;
			while (*p == ' ')
				p++;
			e = strstr(p, "\r\n");
			snprintf(out, outlen, "%.*s", (int)(e ? e - p :
			    (long)strlen(p)), p);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return out;
}

/* The request line of request idx ("GET /path HTTP/1.1"). */
static inline const char *
ss_request_line(struct ss_server *s, int idx, char *out, size_t outlen)
{
	const char *p, *e;

	out[0] = '\0';
	pthread_mutex_lock(&s->lock);
	p = idx < s->served && idx < SS_MAX_REQS ? s->heads[idx] : NULL;
	if (p != NULL) {
		e = strstr(p, "\r\n");
		snprintf(out, outlen, "%.*s", (int)(e ? e - p :
		    (long)strlen(p)), p);
	}
	pthread_mutex_unlock(&s->lock);
	return out;
}

#endif
