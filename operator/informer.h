/*
 * informer.h: a cache of one kind of object kept current by list+watch.
 *
 * The informer LISTs (resourceVersion=0 first, pages of 500), then WATCHes
 * from the list's resourceVersion with bookmarks and a random
 * timeoutSeconds in 300..600, taking the resourceVersion of every event.
 * A 410 (as HTTP code or ERROR event) relists, from etcd rather than the
 * watch cache, emitting deletes for objects gone meanwhile; a watch the
 * server ends at once is not retried in a hot loop; other failures
 * reconnect after a jittered
 * backoff from 0.8 s to 30 s, reset after two healthy minutes; about 70 s
 * of silence counts as a dead stream. Objects are stored after a
 * transform that drops what nobody reads (managedFields at least).
 *
 * Handlers run on the informer's own thread, one event at a time; they
 * must be quick (enqueue a key). Reads from other threads get copies.
 */
#ifndef VKC_INFORMER_H
#define VKC_INFORMER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "kube.h"

enum vkc_informer_event { VKC_EV_ADDED, VKC_EV_MODIFIED, VKC_EV_DELETED };

typedef void (*vkc_informer_handler)(enum vkc_informer_event ev,
    struct json_object *obj, void *arg);

/* Strips obj in place of what the cache need not keep. */
typedef void (*vkc_informer_transform)(struct json_object *obj);

struct vkc_informer_config {
	const char *name;		/* for logs: "connectors" */
	const char *group;		/* "" for the core group */
	const char *version;
	const char *plural;
	const char *ns;			/* NULL or "": all namespaces */
	const char *label_selector;	/* or NULL */
	vkc_informer_transform transform;	/* or NULL */
	vkc_informer_handler handler;	/* or NULL */
	void *arg;
	/* two labels to index objects by, for
	 * vkc_informer_foreach_index(), or NULLs */
	const char *index_by[2];
};

struct vkc_informer;

/* Makes an informer; strings in cfg are copied. NULL on failure. */
struct vkc_informer *vkc_informer_new(struct kube_client *c,
    const struct vkc_informer_config *cfg);

/* Starts its thread. Returns 0 or a negative errno. */
int vkc_informer_start(struct vkc_informer *inf);

/* Asks the thread to stop (a watch in progress ends within about a
 * second) without waiting for it. */
void vkc_informer_signal_stop(struct vkc_informer *inf);

/* Stops the thread and waits for it. */
void vkc_informer_stop(struct vkc_informer *inf);

void vkc_informer_free(struct vkc_informer *inf);

/* True once the first list has been stored. */
bool vkc_informer_synced(struct vkc_informer *inf);

/* A copy of the object ns/name (ns "" for cluster-scoped), or NULL. */
struct json_object *vkc_informer_get(struct vkc_informer *inf, const char *ns,
    const char *name);

/* Copies of every stored object matching label=value (both NULL: all),
 * as a new JSON array. */
struct json_object *vkc_informer_list(struct vkc_informer *inf,
    const char *label, const char *value);

/* Calls fn on each object whose index_by labels are v1 and v2 (a lookup,
 * not a scan), under the same rules as vkc_informer_foreach(). */
void vkc_informer_foreach_index(struct vkc_informer *inf, const char *v1,
    const char *v2, int (*fn)(struct json_object *obj, void *arg),
    void *arg);

/* Calls fn on each stored object, without copying, until it returns
 * non-zero. fn runs under the cache's lock: it must be quick, must not
 * keep obj, and must not call into this informer. */
void vkc_informer_foreach(struct vkc_informer *inf,
    int (*fn)(struct json_object *obj, void *arg), void *arg);

/* Objects stored. */
size_t vkc_informer_len(struct vkc_informer *inf);

/* Times the informer has listed (1 after the first sync). */
unsigned long vkc_informer_lists(struct vkc_informer *inf);

/* The default transform: drops metadata.managedFields and the
 * kubectl last-applied-configuration annotation. */
void vkc_informer_strip(struct json_object *obj);

#endif
