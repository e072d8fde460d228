/*
 * pylines.c - decoding CPython's location table (see pylines.h).
 *
 * The table is a run of entries, one per range of instructions. An entry
 * starts with a byte with its top bit set: bits 3-6 say its form, bits 0-2
 * its length in code units, less one. What follows depends on the form:
 *   15       no line
 *   14       long: line delta (signed varint), end line, column, end column (varints)
 *   13       no column: line delta (signed varint)
 *   10-12    one line: delta form - 10; column and end column, a byte each
 *   0-9      short: same line; one byte of columns
 * Varints are 6 bits a byte, least significant first, bit 6 saying more
 * follow; a signed one keeps its sign in bit 0.
 */
#include "pylines.h"

struct reader {
	const uint8_t *p, *end;
};

static unsigned next_byte(struct reader *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

static uint64_t varint(struct reader *r)
{
	unsigned b = next_byte(r), shift = 6;
	uint64_t v = b & 63;

	while ((b & 64) && r->p < r->end && shift < 64) {
		b = next_byte(r);
		v |= (uint64_t)(b & 63) << shift;
		shift += 6;
	}
	return v;
}

static int64_t signed_varint(struct reader *r)
{
	uint64_t v = varint(r);

	return (v & 1) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
}

uint32_t pylines_line(const uint8_t *table, size_t len, int32_t first_line, uint32_t instr)
{
	struct reader r = { table, table + len };
	int64_t line = first_line;
	uint64_t addr = 0;

	if (instr == PYLINES_BEFORE_START)
		return first_line > 0 ? (uint32_t)first_line : 0;
	while (r.p < r.end) {
		unsigned head = next_byte(&r), form = (head >> 3) & 15, length = (head & 7) + 1;
		int has_line = 1;

		if (!(head & 128))
			return 0;	/* not the start of an entry: the table is not one we know */
		switch (form) {
		case 15:
			has_line = 0;
			break;
		case 14:
			line += signed_varint(&r);
			varint(&r);
			varint(&r);
			varint(&r);
			break;
		case 13:
			line += signed_varint(&r);
			break;
		case 10: case 11: case 12:
			line += form - 10;
			next_byte(&r);
			next_byte(&r);
			break;
		default:
			next_byte(&r);
			break;
		}
		if (instr < addr + length)
			return has_line && line > 0 && line <= UINT32_MAX ? (uint32_t)line : 0;
		addr += length;
	}
	return 0;
}
