/*
 * varint.h - LEB128 varints: 7 bits a byte, low bits first, the top bit set
 * on every byte but the last. The profile's packed snapshot blocks and the
 * protobuf of the pprof export both write them.
 */
#ifndef HEAPWISE_VARINT_H
#define HEAPWISE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX	10	/* bytes of the longest, a 64-bit value */

/* Write v at out; returns the bytes written, 1 to VARINT_MAX. */
static inline size_t varint_encode(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

#endif
