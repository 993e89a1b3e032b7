/*
 * buf.h: a growable byte buffer with a caller-given cap.
 *
 * The data is always NUL-terminated (data[len] == 0) once anything has been
 * appended, so text can be used as a C string. A buffer never grows past
 * its cap: an append that would is refused with -E2BIG and leaves the
 * buffer as it was. The buffer owns data; vkc_buf_release() frees it.
 */
#ifndef VKC_BUF_H
#define VKC_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct vkc_buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;	/* cap on len, in bytes */
};

/* Starts an empty buffer that will hold at most max bytes. */
void vkc_buf_init(struct vkc_buf *b, size_t max);

/* Appends n bytes. Returns 0, -E2BIG past the cap, -ENOMEM. */
int vkc_buf_append(struct vkc_buf *b, const void *p, size_t n);

/* Appends a C string. */
int vkc_buf_puts(struct vkc_buf *b, const char *s);

/* Appends printf-formatted text. */
int vkc_buf_printf(struct vkc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int vkc_buf_vprintf(struct vkc_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Drops the first n bytes (n <= len), keeping the rest. */
void vkc_buf_consume(struct vkc_buf *b, size_t n);

/* Empties the buffer, keeping its memory. */
void vkc_buf_reset(struct vkc_buf *b);

/* Hands the data to the caller (who frees it) and empties the buffer.
 * Never returns NULL: an empty buffer gives an empty string, or NULL on
 * allocation failure. */
char *vkc_buf_detach(struct vkc_buf *b, size_t *len);

/* Frees the data; the buffer may be used again after vkc_buf_init(). */
void vkc_buf_release(struct vkc_buf *b);

#endif
