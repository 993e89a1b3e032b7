/* leader.c: Lease-based leader election (see leader.h). */
#include "leader.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "jsonutil.h"
#include "log.h"

struct vkc_leader {
	struct kube_client *c;
	char *ns, *name, *identity;
	double lease_s, renew_deadline_s, retry_s;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool leading;
	bool stopping;
	pthread_t thread;
	bool renewing;
	void (*on_lost)(void *);
	void *on_lost_arg;

	/* the record last seen, and when (our monotonic clock) it changed */
	char seen_holder[256];
	char seen_renew[64];
	char seen_rv[64];
	/* why the last lease_try failed: "cannot read lease ...: 403 ..." */
	char last_err[1400];
	double seen_at;
	double last_renew;	/* monotonic time of our last successful renew */
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
micro_time(char *out, size_t outlen)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long)tv.tv_usec);
}

struct vkc_leader *
vkc_leader_new(struct kube_client *c, const struct vkc_leader_config *cfg)
{
	struct vkc_leader *l;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->c = c;
	l->ns = strdup(cfg->ns);
	l->name = strdup(cfg->name);
	l->identity = strdup(cfg->identity);
	l->lease_s = cfg->lease_s > 0 ? cfg->lease_s : 15;
	l->renew_deadline_s = cfg->renew_deadline_s > 0 ?
	    cfg->renew_deadline_s : 10;
	l->retry_s = cfg->retry_s > 0 ? cfg->retry_s : 2;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	if (l->ns == NULL || l->name == NULL || l->identity == NULL) {
		vkc_leader_free(l);
		return NULL;
	}
	return l;
}

void
vkc_leader_free(struct vkc_leader *l)
{
	if (l == NULL)
		return;
	vkc_leader_release(l);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cond);
	free(l->ns);
	free(l->name);
	free(l->identity);
	free(l);
}

static struct json_object *
lease_object(struct vkc_leader *l, const char *holder, int duration,
    const char *acquire, const char *renew, int64_t transitions,
    const char *rv)
{
	struct json_object *o;

	o = json_object_new_object();
	vkc_json_set(o, "apiVersion",
	    json_object_new_string("coordination.k8s.io/v1"));
	vkc_json_set(o, "kind", json_object_new_string("Lease"));
	vkc_json_set(o, "metadata.name", json_object_new_string(l->name));
	vkc_json_set(o, "metadata.namespace", json_object_new_string(l->ns));
	if (rv != NULL)
		vkc_json_set(o, "metadata.resourceVersion",
		    json_object_new_string(rv));
	vkc_json_set(o, "spec.holderIdentity", json_object_new_string(holder));
	vkc_json_set(o, "spec.leaseDurationSeconds",
	    json_object_new_int(duration));
	vkc_json_set(o, "spec.acquireTime", json_object_new_string(acquire));
	vkc_json_set(o, "spec.renewTime", json_object_new_string(renew));
	vkc_json_set(o, "spec.leaseTransitions",
	    json_object_new_int64(transitions));
	return o;
}

/* lease_try's answers besides 0 and errors: another holder's lease is
 * still valid; another elector wrote first (read again next time) */
#define LEASE_HELD 1
#define LEASE_RACE 2

/* One attempt to take or renew the Lease. Returns 0 when we hold it,
 * LEASE_HELD when another holder's lease has not expired by our clock,
 * or a negative code when the apiserver could not be asked. */
static int
lease_try(struct vkc_leader *l)
{
	struct json_object *lease = NULL, *o = NULL;
	struct kube_status st;
	char path[512], now[96], line[1200];
	const char *holder, *renew, *rv, *acquire;
	int64_t transitions, duration;
	double t = mono();
	int rc;

	micro_time(now, sizeof(now));
	kube_path(path, sizeof(path), "coordination.k8s.io", "v1", l->ns,
	    "leases", l->name, NULL);
	rc = kube_get(l->c, path, &lease, &st);
	if (rc == KUBE_ENOTFOUND) {
		o = lease_object(l, l->identity, (int)l->lease_s, now, now, 0,
		    NULL);
		kube_path(path, sizeof(path), "coordination.k8s.io", "v1",
		    l->ns, "leases", NULL, NULL);
		rc = kube_create(l->c, path, o, NULL, &st);
		json_object_put(o);
		if (rc != 0)
			snprintf(l->last_err, sizeof(l->last_err),
			    "cannot create lease '%s/%s': %s", l->ns, l->name,
			    kube_status_line(&st, rc, line, sizeof(line)));
		return rc == KUBE_EEXISTS || rc == KUBE_ECONFLICT ? LEASE_RACE :
		    rc;
	}
	if (rc != 0) {
		snprintf(l->last_err, sizeof(l->last_err),
		    "cannot read lease '%s/%s': %s", l->ns, l->name,
		    kube_status_line(&st, rc, line, sizeof(line)));
		return rc;
	}
	holder = vkc_json_get_string(lease, "spec.holderIdentity", "");
	renew = vkc_json_get_string(lease, "spec.renewTime", "");
	rv = vkc_json_get_string(lease, "metadata.resourceVersion", "");
	acquire = vkc_json_get_string(lease, "spec.acquireTime", now);
	transitions = vkc_json_get_int(lease, "spec.leaseTransitions", 0);
	duration = vkc_json_get_int(lease, "spec.leaseDurationSeconds",
	    (int64_t)l->lease_s);
	if (strcmp(holder, l->seen_holder) != 0 ||
	    strcmp(renew, l->seen_renew) != 0 || strcmp(rv, l->seen_rv) != 0) {
		snprintf(l->seen_holder, sizeof(l->seen_holder), "%s", holder);
		snprintf(l->seen_renew, sizeof(l->seen_renew), "%s", renew);
		snprintf(l->seen_rv, sizeof(l->seen_rv), "%s", rv);
		l->seen_at = t;
	}
	if (holder[0] != '\0' && strcmp(holder, l->identity) != 0 &&
	    t < l->seen_at + (double)duration) {
		json_object_put(lease);
		return LEASE_HELD;
	}
	if (strcmp(holder, l->identity) != 0) {
		acquire = now;
		transitions++;
	}
	o = lease_object(l, l->identity, (int)l->lease_s, acquire, now,
	    transitions, rv);
	rc = kube_request(l->c, "PUT", path, "application/json",
	    vkc_json_str(o), NULL, &st);
	json_object_put(o);
	json_object_put(lease);
	if (rc != 0)
		snprintf(l->last_err, sizeof(l->last_err),
		    "cannot update lease '%s/%s': %s", l->ns, l->name,
		    kube_status_line(&st, rc, line, sizeof(line)));
	return rc == KUBE_ECONFLICT ? LEASE_RACE : rc;
}

/* Waits up to seconds, or until vkc_leader_release() or *stop (looked at
 * every 100 ms, as nobody signals it); returns true when stopping. */
static bool
leader_wait(struct vkc_leader *l, double seconds, volatile int *stop)
{
	struct timespec ts;
	double end = mono() + seconds, step;
	bool stopping;

	pthread_mutex_lock(&l->lock);
	while (!l->stopping && !(stop != NULL && *stop)) {
		step = end - mono();
		if (step <= 0)
			break;
		if (stop != NULL && step > 0.1)
			step = 0.1;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)step;
		ts.tv_nsec += (long)((step - (double)(time_t)step) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&l->cond, &l->lock, &ts);
	}
	stopping = l->stopping || (stop != NULL && *stop);
	pthread_mutex_unlock(&l->lock);
	return stopping;
}

int
vkc_leader_acquire(struct vkc_leader *l, volatile int *stop)
{
	char announced[sizeof(l->seen_holder)] = "";
	int rc, last_rc = 0;

	log_info("attempting to acquire lease '%s/%s' as '%s'", l->ns, l->name,
	    l->identity);
	for (;;) {
		if (stop != NULL && *stop)
			return KUBE_ECANCELED;
		rc = lease_try(l);
		if (rc == 0) {
			pthread_mutex_lock(&l->lock);
			l->leading = true;
			l->last_renew = mono();
			pthread_mutex_unlock(&l->lock);
			log_info("became leader: lease '%s/%s' held by '%s'",
			    l->ns, l->name, l->identity);
			return 0;
		}
		if (rc == LEASE_HELD) {
			/* once per holder */
			if (strcmp(announced, l->seen_holder) != 0)
				log_info("waiting for lease '%s/%s' (held by "
				    "'%s')", l->ns, l->name, l->seen_holder);
			snprintf(announced, sizeof(announced), "%s",
			    l->seen_holder);
		} else if (rc == LEASE_RACE) {
			log_debug(2, "%s", l->last_err);
		} else if (rc < 0) {
			/* a 403 or an unreachable apiserver: say so once per
			 * kind of failure, not every retry period */
			if (rc != last_rc)
				log_warn("%s; retrying every %.0fs", l->last_err,
				    l->retry_s);
			else
				log_debug(2, "%s", l->last_err);
		}
		last_rc = rc;
		/* jittered, as client-go does */
		if (leader_wait(l, l->retry_s * (1.0 + 0.2 *
		    ((double)random() / (double)RAND_MAX)), stop))
			return KUBE_ECANCELED;
	}
}

static void *
leader_renew(void *arg)
{
	struct vkc_leader *l = arg;
	const char *why = NULL;
	int rc;

	for (;;) {
		if (leader_wait(l, l->retry_s, NULL))
			break;
		rc = lease_try(l);
		if (rc == 0) {
			pthread_mutex_lock(&l->lock);
			l->last_renew = mono();
			pthread_mutex_unlock(&l->lock);
			continue;
		}
		pthread_mutex_lock(&l->lock);
		if (rc == LEASE_HELD)
			why = "taken by another holder";
		else if (mono() - l->last_renew > l->renew_deadline_s)
			why = "not renewed within the renew deadline";
		if (why != NULL)
			l->leading = false;
		pthread_mutex_unlock(&l->lock);
		if (why != NULL) {
			log_error("lost lease '%s/%s': %s%s%s", l->ns, l->name,
			    why, rc == LEASE_HELD ? " " : "",
			    rc == LEASE_HELD ? l->seen_holder : "");
			if (l->on_lost != NULL)
				l->on_lost(l->on_lost_arg);
			break;
		}
		log_warn("%s; retrying", l->last_err);
	}
	return NULL;
}

int
vkc_leader_start_renewing(struct vkc_leader *l, void (*on_lost)(void *),
    void *arg)
{
	int rc;

	l->on_lost = on_lost;
	l->on_lost_arg = arg;
	rc = pthread_create(&l->thread, NULL, leader_renew, l);
	if (rc != 0)
		return -rc;
	l->renewing = true;
	return 0;
}

void
vkc_leader_release(struct vkc_leader *l)
{
	struct json_object *lease = NULL, *o;
	struct kube_status st;
	char path[512], now[96];
	bool leading;
	int rc;

	pthread_mutex_lock(&l->lock);
	l->stopping = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	if (l->renewing) {
		pthread_join(l->thread, NULL);
		l->renewing = false;
	}
	pthread_mutex_lock(&l->lock);
	leading = l->leading;
	l->leading = false;
	pthread_mutex_unlock(&l->lock);
	if (!leading)
		return;
	kube_path(path, sizeof(path), "coordination.k8s.io", "v1", l->ns,
	    "leases", l->name, NULL);
	if (kube_get(l->c, path, &lease, &st) != 0)
		return;
	if (strcmp(vkc_json_get_string(lease, "spec.holderIdentity", ""),
	    l->identity) == 0) {
		micro_time(now, sizeof(now));
		o = lease_object(l, "", 1, now, now,
		    vkc_json_get_int(lease, "spec.leaseTransitions", 0),
		    vkc_json_get_string(lease, "metadata.resourceVersion", ""));
		rc = kube_request(l->c, "PUT", path, "application/json",
		    vkc_json_str(o), NULL, &st);
		json_object_put(o);
		if (rc == 0)
			log_info("released lease '%s/%s'", l->ns, l->name);
	}
	json_object_put(lease);
}

bool
vkc_leader_is_leader(struct vkc_leader *l)
{
	bool b;

	pthread_mutex_lock(&l->lock);
	/* a renewal stuck past the deadline no longer counts as leading,
	 * whatever the renewing thread is waiting for */
	b = l->leading && mono() - l->last_renew <= l->renew_deadline_s;
	pthread_mutex_unlock(&l->lock);
	return b;
}
