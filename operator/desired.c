/* desired.c: not written yet. */
