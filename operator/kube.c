/* kube.c: not written yet. */
