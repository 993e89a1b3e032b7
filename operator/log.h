/*
 * log.h: the operator's logging, one line per message on stderr.
 *
 * Text ("E1126 19:20:01.123456 message") or JSON ({"ts":..,"level":..,
 * "msg":..}) as chosen by vkc_log_init(). Messages are lower-case, the
 * error first, the subject in quotes: "cannot apply 'ns/name': forbidden".
 * Never log a secret's value. Thread-safe: each line is written whole.
 */
#ifndef VKC_LOG_H
#define VKC_LOG_H

enum vkc_log_format { VKC_LOG_TEXT, VKC_LOG_JSON };

/* Sets the format and the verbosity for log_debug (-v N). */
void vkc_log_init(enum vkc_log_format format, int verbosity);

/* Returns the verbosity set by vkc_log_init(). */
int vkc_log_verbosity(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed when the verbosity is at least v. */
void log_debug(int v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs and exits with status 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
