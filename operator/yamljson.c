/* yamljson.c: not written yet. */
