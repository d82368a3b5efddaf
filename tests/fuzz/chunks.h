/*
 * chunks.h: for the fuzz targets that read a byte stream twice, once in
 * one piece and once in pseudo-random chunks whose sizes the fuzzer
 * steers through the first 4 bytes of its input.
 */
#ifndef CARRIER_FUZZ_CHUNKS_H
#define CARRIER_FUZZ_CHUNKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Take the seed (never 0) off the front of the input; false when the
   input is too short to hold one. */
static inline bool
chunk_seed(const uint8_t **data, size_t *size, uint32_t *seed)
{
	if (*size < 4)
		return false;
	memcpy(seed, *data, 4);
	*data += 4;
	*size -= 4;
	if (*seed == 0)
		*seed = 1;
	return true;
}

/* The next pseudo-random number (xorshift32). */
static inline uint32_t
chunk_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

#endif
