/*
 * events.h: Kubernetes Events about connectors, without the noise.
 *
 * An Event is recorded once per (object, reason, message); the same one
 * again within the aggregation window only bumps its count (one PATCH at
 * most per window), so a reconcile that runs every pass does not flood
 * the namespace. Thread-safe.
 */
#ifndef VKC_EVENTS_H
#define VKC_EVENTS_H

#include <json-c/json.h>

#include "kube.h"

struct vkc_recorder;

struct vkc_recorder *vkc_recorder_new(struct kube_client *c,
    const char *component);
void vkc_recorder_free(struct vkc_recorder *r);

/* Records an Event of type "Normal" or "Warning" about obj (any object
 * with apiVersion, kind and metadata). Failures are logged, not returned:
 * an Event is never worth failing a reconcile. */
void vkc_event(struct vkc_recorder *r, struct json_object *obj,
    const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
