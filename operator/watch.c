/* watch.c: not written yet. */
