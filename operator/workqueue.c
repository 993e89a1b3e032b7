/* workqueue.c: deduplicating, rate-limited work queue (see workqueue.h). */
#include "workqueue.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WQ_BUCKETS 4096

struct wq_item {
	char *key;
	struct wq_item *hnext;	/* hash chain */
	bool dirty;		/* waiting in the FIFO, or to run again */
	bool processing;	/* handed to a worker */
	bool queued;		/* in the FIFO */
	int failures;
	double ready_at;	/* when in the heap: due time */
	size_t heap_pos;	/* index + 1 in the heap; 0 when not there */
};

struct vkc_wq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	double base, cap;
	bool shutdown;
	struct wq_item *buckets[WQ_BUCKETS];
	struct wq_item **fifo;	/* ring of queued items */
	size_t fhead, flen, fcap;
	struct wq_item **heap;	/* min-heap on ready_at */
	size_t hlen, hcap;
	unsigned long adds, retries;
};

static double
wq_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned
wq_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % WQ_BUCKETS;
}

static struct wq_item *
wq_find(struct vkc_wq *q, const char *key, bool create)
{
	struct wq_item *it;
	unsigned h = wq_hash(key);

	for (it = q->buckets[h]; it != NULL; it = it->hnext)
		if (strcmp(it->key, key) == 0)
			return it;
	if (!create)
		return NULL;
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return NULL;
	it->key = strdup(key);
	if (it->key == NULL) {
		free(it);
		return NULL;
	}
	it->hnext = q->buckets[h];
	q->buckets[h] = it;
	return it;
}

/* Frees it when nothing refers to it any more. */
static void
wq_maybe_drop(struct vkc_wq *q, struct wq_item *it)
{
	struct wq_item **pp;

	if (it->dirty || it->processing || it->queued || it->failures > 0 ||
	    it->heap_pos != 0)
		return;
	for (pp = &q->buckets[wq_hash(it->key)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == it) {
			*pp = it->hnext;
			break;
		}
	}
	free(it->key);
	free(it);
}

static int
wq_push(struct vkc_wq *q, struct wq_item *it)
{
	struct wq_item **n;
	size_t i, ncap;

	if (q->flen == q->fcap) {
		ncap = q->fcap ? q->fcap * 2 : 64;
		n = malloc(ncap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		for (i = 0; i < q->flen; i++)
			n[i] = q->fifo[(q->fhead + i) % q->fcap];
		free(q->fifo);
		q->fifo = n;
		q->fcap = ncap;
		q->fhead = 0;
	}
	q->fifo[(q->fhead + q->flen) % q->fcap] = it;
	q->flen++;
	it->queued = true;
	pthread_cond_signal(&q->cond);
	return 0;
}

static void
wq_heap_swap(struct vkc_wq *q, size_t a, size_t b)
{
	struct wq_item *t = q->heap[a];

	q->heap[a] = q->heap[b];
	q->heap[b] = t;
	q->heap[a]->heap_pos = a + 1;
	q->heap[b]->heap_pos = b + 1;
}

static void
wq_heap_up(struct vkc_wq *q, size_t i)
{
	while (i > 0 && q->heap[(i - 1) / 2]->ready_at > q->heap[i]->ready_at) {
		wq_heap_swap(q, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
wq_heap_down(struct vkc_wq *q, size_t i)
{
	size_t l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < q->hlen && q->heap[l]->ready_at < q->heap[m]->ready_at)
			m = l;
		if (r < q->hlen && q->heap[r]->ready_at < q->heap[m]->ready_at)
			m = r;
		if (m == i)
			return;
		wq_heap_swap(q, i, m);
		i = m;
	}
}

static void
wq_heap_remove(struct vkc_wq *q, struct wq_item *it)
{
	size_t i = it->heap_pos - 1;

	q->hlen--;
	if (i != q->hlen) {
		q->heap[i] = q->heap[q->hlen];
		q->heap[i]->heap_pos = i + 1;
		wq_heap_down(q, i);
		wq_heap_up(q, i);
	}
	it->heap_pos = 0;
}

/* Adds it now; the caller holds the lock. */
static void
wq_add_locked(struct vkc_wq *q, struct wq_item *it)
{
	if (it->heap_pos != 0)
		wq_heap_remove(q, it);
	if (it->dirty)
		return;		/* duplicates collapse, and are not counted */
	q->adds++;
	it->dirty = true;
	if (it->processing)
		return;
	if (wq_push(q, it) != 0)
		it->dirty = false;
}

static void
wq_delay_locked(struct vkc_wq *q, struct wq_item *it, double delay)
{
	struct wq_item **n;
	double due = wq_now() + delay;

	if (it->dirty)
		return;
	if (it->heap_pos != 0) {
		/* keep the earlier of the two due times */
		if (due < it->ready_at) {
			it->ready_at = due;
			wq_heap_up(q, it->heap_pos - 1);
		}
		return;
	}
	if (q->hlen == q->hcap) {
		size_t ncap = q->hcap ? q->hcap * 2 : 64;

		n = realloc(q->heap, ncap * sizeof(*n));
		if (n == NULL)
			return;
		q->heap = n;
		q->hcap = ncap;
	}
	it->ready_at = due;
	q->heap[q->hlen] = it;
	it->heap_pos = ++q->hlen;
	wq_heap_up(q, q->hlen - 1);
	pthread_cond_signal(&q->cond);
}

struct vkc_wq *
vkc_wq_new(double base_s, double cap_s)
{
	struct vkc_wq *q;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->base = base_s;
	q->cap = cap_s;
	return q;
}

void
vkc_wq_free(struct vkc_wq *q)
{
	struct wq_item *it, *next;
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < WQ_BUCKETS; i++) {
		for (it = q->buckets[i]; it != NULL; it = next) {
			next = it->hnext;
			free(it->key);
			free(it);
		}
	}
	free(q->fifo);
	free(q->heap);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

void
vkc_wq_add(struct vkc_wq *q, const char *key)
{
	struct wq_item *it;

	pthread_mutex_lock(&q->lock);
	if (!q->shutdown) {
		it = wq_find(q, key, true);
		if (it != NULL)
			wq_add_locked(q, it);
	}
	pthread_mutex_unlock(&q->lock);
}

void
vkc_wq_add_after(struct vkc_wq *q, const char *key, double delay_s)
{
	struct wq_item *it;

	if (delay_s <= 0) {
		vkc_wq_add(q, key);
		return;
	}
	pthread_mutex_lock(&q->lock);
	if (!q->shutdown) {
		it = wq_find(q, key, true);
		if (it != NULL)
			wq_delay_locked(q, it, delay_s);
	}
	pthread_mutex_unlock(&q->lock);
}

double
vkc_wq_add_rate_limited(struct vkc_wq *q, const char *key)
{
	struct wq_item *it;
	double d = 0;

	pthread_mutex_lock(&q->lock);
	if (!q->shutdown) {
		it = wq_find(q, key, true);
		if (it != NULL) {
			d = q->base * pow(2, it->failures < 60 ? it->failures : 60);
			if (d > q->cap)
				d = q->cap;
			it->failures++;
			q->retries++;
			wq_delay_locked(q, it, d);
		}
	}
	pthread_mutex_unlock(&q->lock);
	return d;
}

void
vkc_wq_forget(struct vkc_wq *q, const char *key)
{
	struct wq_item *it;

	pthread_mutex_lock(&q->lock);
	it = wq_find(q, key, false);
	if (it != NULL) {
		it->failures = 0;
		wq_maybe_drop(q, it);
	}
	pthread_mutex_unlock(&q->lock);
}

char *
vkc_wq_get(struct vkc_wq *q)
{
	struct wq_item *it;
	struct timespec ts;
	double now, due;
	char *key = NULL;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (q->shutdown)
			break;
		now = wq_now();
		/* move due items from the heap to the FIFO */
		while (q->hlen > 0 && q->heap[0]->ready_at <= now) {
			it = q->heap[0];
			wq_heap_remove(q, it);
			wq_add_locked(q, it);
		}
		if (q->flen > 0) {
			it = q->fifo[q->fhead];
			q->fhead = (q->fhead + 1) % q->fcap;
			q->flen--;
			it->queued = false;
			it->processing = true;
			it->dirty = false;
			key = strdup(it->key);
			if (key == NULL) {
				it->processing = false;
				wq_maybe_drop(q, it);
				continue;
			}
			break;
		}
		if (q->hlen > 0) {
			due = q->heap[0]->ready_at - now;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)due;
			ts.tv_nsec += (long)((due - floor(due)) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&q->cond, &q->lock, &ts);
		} else {
			pthread_cond_wait(&q->cond, &q->lock);
		}
	}
	pthread_mutex_unlock(&q->lock);
	return key;
}

void
vkc_wq_done(struct vkc_wq *q, const char *key)
{
	struct wq_item *it;

	pthread_mutex_lock(&q->lock);
	it = wq_find(q, key, false);
	if (it != NULL) {
		it->processing = false;
		if (it->dirty && !q->shutdown && wq_push(q, it) != 0)
			it->dirty = false;
		wq_maybe_drop(q, it);
	}
	pthread_mutex_unlock(&q->lock);
}

void
vkc_wq_shutdown(struct vkc_wq *q)
{
	pthread_mutex_lock(&q->lock);
	q->shutdown = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

size_t
vkc_wq_len(struct vkc_wq *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->flen;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void
vkc_wq_stats(struct vkc_wq *q, unsigned long *adds, unsigned long *retries,
    size_t *depth)
{
	pthread_mutex_lock(&q->lock);
	*adds = q->adds;
	*retries = q->retries;
	*depth = q->flen;
	pthread_mutex_unlock(&q->lock);
}
