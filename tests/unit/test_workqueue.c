/* test_workqueue.c: the reconcile queue (operator/workqueue.c). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "workqueue.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Gets a key, checks it is want, marks it done. */
static int
take(struct vkc_wq *q, const char *want)
{
	char *k = vkc_wq_get(q);
	int ok;

	ok = k != NULL && strcmp(k, want) == 0;
	if (!ok)
		printf("got '%s', want '%s'\n", k ? k : "(null)", want);
	if (k != NULL) {
		vkc_wq_done(q, k);
		free(k);
	}
	return ok;
}

TEST(duplicates_collapse)
{
	struct vkc_wq *q = vkc_wq_new(0.005, 1000);
	unsigned long adds, retries;
	size_t depth;

	vkc_wq_add(q, "ns/a");
	vkc_wq_add(q, "ns/b");
	vkc_wq_add(q, "ns/a");
	vkc_wq_add(q, "ns/a");
	CHECK_INT(vkc_wq_len(q), 2);
	vkc_wq_stats(q, &adds, &retries, &depth);
	CHECK_INT(adds, 2);
	CHECK_INT(retries, 0);
	CHECK_INT(depth, 2);
	CHECK(take(q, "ns/a"));
	CHECK(take(q, "ns/b"));
	CHECK_INT(vkc_wq_len(q), 0);
	vkc_wq_free(q);
}

/* Added again while processing: not handed out, then queued on done. */
TEST(readd_while_processing)
{
	struct vkc_wq *q = vkc_wq_new(0.005, 1000);
	char *k;

	vkc_wq_add(q, "ns/a");
	k = vkc_wq_get(q);
	CHECK_STR(k, "ns/a");
	vkc_wq_add(q, "ns/a");
	vkc_wq_add(q, "ns/a");
	CHECK_INT(vkc_wq_len(q), 0);	/* held back while processing */
	vkc_wq_add(q, "ns/b");
	CHECK(take(q, "ns/b"));
	vkc_wq_done(q, k);
	free(k);
	CHECK_INT(vkc_wq_len(q), 1);	/* runs once more */
	CHECK(take(q, "ns/a"));
	CHECK_INT(vkc_wq_len(q), 0);
	vkc_wq_free(q);
}

/* Many workers, few keys, many adds: a key never runs on two at once,
 * and every add made before a get is followed by a run. */
#define NKEYS 4
#define NWORKERS 8

struct race {
	struct vkc_wq *q;
	atomic_int busy[NKEYS];
	atomic_int overlaps;
	atomic_int runs;
	atomic_int stop;
};

static void *
race_worker(void *arg)
{
	struct race *r = arg;
	char *k;
	int i;

	while ((k = vkc_wq_get(r->q)) != NULL) {
		i = k[0] - 'a';
		if (atomic_fetch_add(&r->busy[i], 1) != 0)
			atomic_fetch_add(&r->overlaps, 1);
		atomic_fetch_add(&r->runs, 1);
		sleep_ms(1);
		atomic_fetch_sub(&r->busy[i], 1);
		vkc_wq_done(r->q, k);
		free(k);
	}
	return NULL;
}

static void *
race_adder(void *arg)
{
	struct race *r = arg;
	char key[2] = { 0, 0 };
	int n;

	for (n = 0; n < 2000; n++) {
		key[0] = (char)('a' + n % NKEYS);
		vkc_wq_add(r->q, key);
		if (n % 50 == 0)
			sleep_ms(1);
	}
	return NULL;
}

TEST(never_twice_at_once)
{
	struct race r;
	pthread_t w[NWORKERS], a[2];
	double deadline;
	int i;

	memset(&r, 0, sizeof(r));
	r.q = vkc_wq_new(0.005, 1000);
	for (i = 0; i < NWORKERS; i++)
		pthread_create(&w[i], NULL, race_worker, &r);
	for (i = 0; i < 2; i++)
		pthread_create(&a[i], NULL, race_adder, &r);
	for (i = 0; i < 2; i++)
		pthread_join(a[i], NULL);
	/* let the queue drain, then stop the workers */
	deadline = now_s() + 10;
	while (now_s() < deadline) {
		int idle = vkc_wq_len(r.q) == 0, k;

		for (k = 0; k < NKEYS; k++)
			idle = idle && atomic_load(&r.busy[k]) == 0;
		if (idle)
			break;
		sleep_ms(5);
	}
	sleep_ms(20);
	CHECK_INT(vkc_wq_len(r.q), 0);
	vkc_wq_shutdown(r.q);
	for (i = 0; i < NWORKERS; i++)
		pthread_join(w[i], NULL);
	CHECK_INT(atomic_load(&r.overlaps), 0);
	/* collapsing: far fewer runs than adds, but at least one per key */
	CHECK(atomic_load(&r.runs) >= NKEYS);
	CHECK(atomic_load(&r.runs) <= 4000);
	printf("runs: %d for 4000 adds\n", atomic_load(&r.runs));
	vkc_wq_free(r.q);
}

TEST(backoff)
{
	struct vkc_wq *q = vkc_wq_new(0.005, 1.0);
	double d;
	int i;

	/* 5 ms * 2^n */
	for (i = 0; i < 8; i++) {
		d = vkc_wq_add_rate_limited(q, "ns/a");
		if (d < 0.005 * (1 << i) - 1e-9 || d > 0.005 * (1 << i) + 1e-9)
			printf("failure %d: delay %g\n", i, d);
		CHECK(d > 0.005 * (1 << i) - 1e-9 && d < 0.005 * (1 << i) +
		    1e-9);
	}
	/* capped */
	for (i = 0; i < 100; i++)
		d = vkc_wq_add_rate_limited(q, "ns/a");
	CHECK(d <= 1.0 && d > 0.999);
	/* per key */
	CHECK(vkc_wq_add_rate_limited(q, "ns/b") < 0.0051);
	/* forget resets */
	vkc_wq_forget(q, "ns/a");
	CHECK(vkc_wq_add_rate_limited(q, "ns/a") < 0.0051);
	vkc_wq_free(q);
}

/* A rate-limited key comes back after its delay, not before. */
TEST(backoff_delays)
{
	struct vkc_wq *q = vkc_wq_new(0.05, 10);
	double t0, t;
	char *k;

	t0 = now_s();
	vkc_wq_add_rate_limited(q, "ns/a");	/* 50 ms */
	CHECK_INT(vkc_wq_len(q), 0);
	k = vkc_wq_get(q);
	t = now_s() - t0;
	CHECK_STR(k, "ns/a");
	CHECK(t >= 0.045 && t < 1.0);
	vkc_wq_done(q, k);
	free(k);
	t0 = now_s();
	vkc_wq_add_rate_limited(q, "ns/a");	/* 100 ms */
	k = vkc_wq_get(q);
	t = now_s() - t0;
	CHECK(t >= 0.095 && t < 1.0);
	vkc_wq_done(q, k);
	free(k);
	/* a plain add is not held back by a pending delay */
	vkc_wq_add_rate_limited(q, "ns/a");	/* 200 ms */
	vkc_wq_add(q, "ns/a");
	t0 = now_s();
	k = vkc_wq_get(q);
	CHECK(now_s() - t0 < 0.05);
	vkc_wq_done(q, k);
	free(k);
	vkc_wq_forget(q, "ns/a");
	vkc_wq_free(q);
}

struct getter {
	struct vkc_wq *q;
	char *got;
	atomic_int returned;
};

static void *
getter_run(void *arg)
{
	struct getter *g = arg;

	g->got = vkc_wq_get(g->q);
	atomic_store(&g->returned, 1);
	return NULL;
}

TEST(shutdown_wakes_getters)
{
	struct vkc_wq *q = vkc_wq_new(0.005, 1000);
	struct getter g[4];
	double t0;
	int i;

	vkc_wq_add_after(q, "ns/later", 60);	/* a timed wait too */
	for (i = 0; i < 4; i++) {
		g[i].q = q;
		g[i].got = NULL;
		atomic_init(&g[i].returned, 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_t t;

		pthread_create(&t, NULL, getter_run, &g[i]);
		pthread_detach(t);
	}
	sleep_ms(50);
	for (i = 0; i < 4; i++)
		CHECK_INT(atomic_load(&g[i].returned), 0);
	t0 = now_s();
	vkc_wq_shutdown(q);
	for (i = 0; i < 4; i++) {
		while (!atomic_load(&g[i].returned) && now_s() - t0 < 5)
			sleep_ms(1);
		CHECK_INT(atomic_load(&g[i].returned), 1);
		CHECK(g[i].got == NULL);
	}
	CHECK(vkc_wq_get(q) == NULL);
	vkc_wq_add(q, "ns/x");		/* ignored after shutdown */
	CHECK_INT(vkc_wq_len(q), 0);
	vkc_wq_free(q);
}

TEST(add_after_order)
{
	struct vkc_wq *q = vkc_wq_new(0.005, 1000);
	double t0;
	char *k;

	t0 = now_s();
	vkc_wq_add_after(q, "ns/c", 0.15);
	vkc_wq_add_after(q, "ns/a", 0.05);
	vkc_wq_add_after(q, "ns/b", 0.10);
	vkc_wq_add_after(q, "ns/d", 0.20);
	vkc_wq_add_after(q, "ns/d", 0.12);	/* the earlier time wins */
	vkc_wq_add_after(q, "ns/a", 5);		/* a later one does not */
	CHECK_INT(vkc_wq_len(q), 0);
	CHECK(take(q, "ns/a"));
	CHECK(now_s() - t0 >= 0.045);
	CHECK(take(q, "ns/b"));
	CHECK(take(q, "ns/d"));
	CHECK(take(q, "ns/c"));
	CHECK(now_s() - t0 >= 0.145 && now_s() - t0 < 2);
	/* a delayed key already waiting is not queued twice */
	vkc_wq_add(q, "ns/e");
	vkc_wq_add_after(q, "ns/e", 0.01);
	sleep_ms(30);
	CHECK(take(q, "ns/e"));
	CHECK_INT(vkc_wq_len(q), 0);
	/* added after a delay while processing: runs again after done */
	vkc_wq_add(q, "ns/f");
	k = vkc_wq_get(q);
	vkc_wq_add_after(q, "ns/f", 0.01);
	sleep_ms(30);
	vkc_wq_add(q, "ns/g");
	CHECK(take(q, "ns/g"));		/* f's timer fired but f is busy */
	CHECK_INT(vkc_wq_len(q), 0);
	vkc_wq_done(q, k);
	free(k);
	CHECK(take(q, "ns/f"));
	vkc_wq_free(q);
}

/* Many keys: the FIFO and the heap grow and keep their order. */
TEST(many_keys)
{
	struct vkc_wq *q = vkc_wq_new(0.005, 1000);
	char key[32];
	int i, ok = 1;

	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "ns/k%d", i);
		vkc_wq_add(q, key);
		if (i % 3 == 0)
			vkc_wq_add_after(q, key, 0.001);
	}
	CHECK_INT(vkc_wq_len(q), 5000);
	for (i = 0; i < 5000 && ok; i++) {
		snprintf(key, sizeof(key), "ns/k%d", i);
		ok = take(q, key);
	}
	CHECK(ok);
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "ns/d%d", i);
		vkc_wq_add_after(q, key, 0.001 * (200 - i));
	}
	for (i = 199; i >= 0 && ok; i--) {
		snprintf(key, sizeof(key), "ns/d%d", i);
		ok = take(q, key);
	}
	CHECK(ok);
	vkc_wq_free(q);
}

int
main(void)
{
	alarm(60);
	RUN(duplicates_collapse);
	RUN(readd_while_processing);
	RUN(never_twice_at_once);
	RUN(backoff);
	RUN(backoff_delays);
	RUN(shutdown_wakes_getters);
	RUN(add_after_order);
	RUN(many_keys);
	CHECK_DONE();
}
