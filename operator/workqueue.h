/*
 * workqueue.h: the reconcile queue, with client-go's guarantees.
 *
 * Keys are strings ("namespace/name"). Adding a key that is already
 * waiting does nothing (duplicates collapse); a key being processed is
 * never handed to a second worker: added again meanwhile, it runs once
 * more after vkc_wq_done(). Failed keys come back after a per-key
 * exponential backoff (base * 2^failures, capped) that vkc_wq_forget()
 * resets. Thread-safe.
 */
#ifndef VKC_WORKQUEUE_H
#define VKC_WORKQUEUE_H

#include <stddef.h>

struct vkc_wq;

/* A queue whose backoff runs from base_s to cap_s seconds. */
struct vkc_wq *vkc_wq_new(double base_s, double cap_s);
void vkc_wq_free(struct vkc_wq *q);

/* Queues key now. */
void vkc_wq_add(struct vkc_wq *q, const char *key);

/* Queues key after delay_s seconds (a later vkc_wq_add is not delayed). */
void vkc_wq_add_after(struct vkc_wq *q, const char *key, double delay_s);

/* Queues key after its backoff and counts a failure; returns the delay. */
double vkc_wq_add_rate_limited(struct vkc_wq *q, const char *key);

/* Resets key's failure count. */
void vkc_wq_forget(struct vkc_wq *q, const char *key);

/* Waits for a key; returns a malloc'd key the caller frees after
 * vkc_wq_done(), or NULL once the queue is shut down and drained of
 * nothing more to hand out. */
char *vkc_wq_get(struct vkc_wq *q);

/* Marks key as processed. */
void vkc_wq_done(struct vkc_wq *q, const char *key);

/* Stops handing out keys: vkc_wq_get() returns NULL from now on. */
void vkc_wq_shutdown(struct vkc_wq *q);

/* Keys waiting (not counting delayed ones or those in progress). */
size_t vkc_wq_len(struct vkc_wq *q);

/* Counters for metrics. */
void vkc_wq_stats(struct vkc_wq *q, unsigned long *adds,
    unsigned long *retries, size_t *depth);

#endif
