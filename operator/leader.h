/*
 * leader.h: leader election on a coordination.k8s.io/v1 Lease, as
 * client-go does it: lease 15 s, renew deadline 10 s, retry every 2 s.
 * Another holder's lease counts as expired only after leaseDuration has
 * passed on our own clock since we last saw its record change, so clock
 * skew between machines does not matter. Releasing on shutdown empties
 * the holder, so a successor takes over at once.
 */
#ifndef VKC_LEADER_H
#define VKC_LEADER_H

#include <stdbool.h>

#include "kube.h"

struct vkc_leader_config {
	const char *ns;			/* the Lease's namespace */
	const char *name;		/* the Lease's name */
	const char *identity;		/* unique per process */
	double lease_s, renew_deadline_s, retry_s;	/* 0: defaults */
};

struct vkc_leader;

/* Makes an elector; nothing is sent until vkc_leader_acquire(). c is
 * borrowed and must outlive the elector: give it a client of its own
 * with short timeouts, so that a slow request cannot outlast the renew
 * deadline and no rate limit shared with reconciles delays a renewal.
 * vkc_leader_free() releases the Lease first if still held. */
struct vkc_leader *vkc_leader_new(struct kube_client *c,
    const struct vkc_leader_config *cfg);
void vkc_leader_free(struct vkc_leader *l);

/* Blocks until this process holds the Lease (0) or *stop is set
 * (KUBE_ECANCELED), trying every retry period (jittered). Another
 * holder's Lease is taken once it has gone leaseDurationSeconds without
 * a change by our clock, or at once when it was released (no holder). */
int vkc_leader_acquire(struct vkc_leader *l, volatile int *stop);

/* Renews every retry period in a thread. When renewal fails for
 * renew_deadline, or the Lease turns out to be held by another, calls
 * on_lost once (from that thread) and stops renewing: the caller must
 * stop reconciling, since another process may be leading now. Returns 0
 * or a negative errno. */
int vkc_leader_start_renewing(struct vkc_leader *l, void (*on_lost)(void *),
    void *arg);

/* Stops renewing and, if still leading, gives the Lease up. */
void vkc_leader_release(struct vkc_leader *l);

/* True while this process holds the Lease: acquired and renewed within
 * the renew deadline (false as soon as that passes, even while a renewal
 * request is still waiting for an answer). */
bool vkc_leader_is_leader(struct vkc_leader *l);


#endif
