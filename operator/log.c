/* log.c: text or JSON log lines on stderr (see log.h). */
#include "log.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum vkc_log_format log_format = VKC_LOG_TEXT;
static int log_verbosity;

void
vkc_log_init(enum vkc_log_format format, int verbosity)
{
	log_format = format;
	log_verbosity = verbosity;
}

int
vkc_log_verbosity(void)
{
	return log_verbosity;
}

static void log_emit(char level, const char *levelname, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
log_emit(char level, const char *levelname, const char *fmt, va_list ap)
{
	char msg[4096], line[8192];
	struct timeval tv;
	struct tm tm;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	if (log_format == VKC_LOG_JSON) {
		struct json_object *o = json_object_new_object();
		char ts[64];

		snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
		json_object_object_add(o, "ts", json_object_new_string(ts));
		json_object_object_add(o, "level", json_object_new_string(levelname));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		n = snprintf(line, sizeof(line), "%s\n",
		    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		n = snprintf(line, sizeof(line),
		    "%c%02d%02d %02d:%02d:%02d.%06ld %s\n", level, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (long)tv.tv_usec, msg);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write(2) per line keeps concurrent lines whole. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit('E', "error", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit('W', "warning", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit('I', "info", fmt, ap);
	va_end(ap);
}

void
log_debug(int v, const char *fmt, ...)
{
	va_list ap;

	if (v > log_verbosity)
		return;
	va_start(ap, fmt);
	log_emit('I', "debug", fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit('F', "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
