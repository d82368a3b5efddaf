/*
 * ref_crlf.h: the reference CRLF normalisation the fuzz targets compare
 * carrier's streaming code with: one pass, byte by byte, over the whole
 * input.  CR LF, a bare LF and a bare CR each become CR LF, and a final
 * CR LF is added when the text does not end with one (an empty input
 * becomes CR LF).  Appends to out.
 */
#ifndef CARRIER_FUZZ_REF_CRLF_H
#define CARRIER_FUZZ_REF_CRLF_H

#include <stddef.h>
#include <string.h>

#include "util.h"

static inline void
ref_normalize(const char *in, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\r') {
			if (i + 1 < n && in[i + 1] == '\n')
				i++;
			buf_add(out, "\r\n", 2);
		} else if (in[i] == '\n')
			buf_add(out, "\r\n", 2);
		else
			buf_addc(out, in[i]);
	}
	if (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
		buf_add(out, "\r\n", 2);
}

#endif
