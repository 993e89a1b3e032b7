/* tlscert.c: not written yet. */
