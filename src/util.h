/*
 * util.h: allocation that cannot fail silently, a growable byte buffer,
 * string lists, secret wiping, and writing a whole buffer to a file.
 */
#ifndef CARRIER_UTIL_H
#define CARRIER_UTIL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer; `data` is always NUL-terminated for convenience
 * but may hold NULs. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Wipe then free: for buffers that held a secret. */
void buf_free_secret(struct buf *b);

/* Wipe and free a NUL-terminated secret; NULL is fine. */
void free_secret(char *s);

/* A growable list of strings. */
struct strlist {
	char **v;
	size_t n;
	size_t cap;
};
void strlist_add(struct strlist *l, const char *s);	/* copies s */
void strlist_addn(struct strlist *l, char *s);		/* takes s */
bool strlist_has_ci(const struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

/* Milliseconds on CLOCK_MONOTONIC: deadlines are measured on it. */
int64_t monotonic_ms(void);

/* The last component of a path ("carrier" for "/usr/bin/carrier"). */
const char *path_base(const char *path);

/*
 * Length of the well-formed UTF-8 sequence at s, at most n bytes (RFC 3629
 * section 4: no overlong forms, no surrogates, nothing above U+10FFFF),
 * with its code point in *cp; 0 when it is not one.
 */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* The value of a hex digit, or -1. */
int hex_value(char c);

/* Write all n bytes to fd, retrying short writes and EINTR; 0 or -1 with
   errno set. */
int write_all(int fd, const char *p, size_t n);

/* ASCII case-insensitive compare of the first n bytes / whole strings. */
bool ascii_ieq(const char *a, const char *b);
bool ascii_iprefix(const char *s, const char *prefix);

#endif
