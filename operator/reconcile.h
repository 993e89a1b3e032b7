/*
 * reconcile.h: the VirtualKubeletConnector controller.
 *
 * vkc_controller_new() makes the caches (connectors; the children the
 * operator manages, selected by app.kubernetes.io/managed-by; the virtual
 * Nodes; the Secrets that hold credentials, stripped to the credential
 * keys) and the work queue. Every cache event enqueues the connector it
 * belongs to; workers call vkc_reconcile() for each key, which compares
 * what the connector asks for with the caches and writes only what
 * differs (DESIGN.md §5).
 */
#ifndef VKC_RECONCILE_H
#define VKC_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>

#include "events.h"
#include "informer.h"
#include "kube.h"
#include "workqueue.h"

enum vkc_cache {
	VKC_CACHE_CONNECTORS,
	VKC_CACHE_DEPLOYMENTS,
	VKC_CACHE_SERVICEACCOUNTS,
	VKC_CACHE_SECRETS,		/* the operator's TLS Secrets */
	VKC_CACHE_CRBS,
	VKC_CACHE_NODES,		/* virtual Nodes */
	VKC_CACHE_CREDENTIALS,		/* users' Secrets, credential keys only */
	VKC_CACHE_COUNT
};

struct vkc_controller_stats {
	unsigned long reconciles;	/* by result: */
	unsigned long success, error, requeue, requeue_after;
	double seconds_sum;
	unsigned long buckets[16];	/* reconcile time histogram */
};

struct vkc_controller;

/* Makes the controller for ns (NULL or "": all namespaces). */
struct vkc_controller *vkc_controller_new(struct kube_client *c,
    const char *ns);
void vkc_controller_free(struct vkc_controller *ctl);

/* Starts the caches. */
int vkc_controller_start_caches(struct vkc_controller *ctl);

/* True once every cache has listed. */
bool vkc_controller_synced(struct vkc_controller *ctl);

/* Enqueues every cached connector (after the caches sync, when leading). */
void vkc_controller_enqueue_all(struct vkc_controller *ctl);

/* Runs one worker until the queue shuts down. */
void vkc_controller_work(struct vkc_controller *ctl);

/* Shuts the queue down (workers finish their reconcile and return) and
 * stops the caches. */
void vkc_controller_shutdown_queue(struct vkc_controller *ctl);
void vkc_controller_stop_caches(struct vkc_controller *ctl);

/* Reconciles one key "namespace/name". Returns 0 when done, with
 * *requeue_after > 0 when it should run again then; a negative code on
 * failure (retried with backoff). */
int vkc_reconcile(struct vkc_controller *ctl, const char *key,
    double *requeue_after);

struct vkc_wq *vkc_controller_queue(struct vkc_controller *ctl);
struct vkc_informer *vkc_controller_cache(struct vkc_controller *ctl,
    enum vkc_cache which);
void vkc_controller_stats(struct vkc_controller *ctl,
    struct vkc_controller_stats *out);

/* Upper bounds, in seconds, of the reconcile time histogram's buckets. */
extern const double vkc_reconcile_buckets[16];

#endif
