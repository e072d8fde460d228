/*
 * pydict.c - CPython's keys tables and strs from outside (see pydict.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pydict.h"
#include "remoteread.h"

/* dk_log2_index_bytes for a table of 2^log2_size slots: 1-byte indices
 * up to 2^7 slots, 2-byte to 2^15, 4-byte to 2^31, else 8. */
static unsigned index_bits(unsigned log2_size)
{
	return log2_size < 8 ? log2_size : log2_size < 16 ? log2_size + 1 : log2_size < 32 ? log2_size + 2
											    : log2_size + 3;
}

/* The head, the indices and two thirds of the slots' entries (USABLE_FRACTION). */
uint64_t pydict_keys_size(unsigned log2_size, unsigned entry)
{
	return PYDICT_HEAD + (1ull << index_bits(log2_size)) + entry * ((2ull << log2_size) / 3);
}

int pydict_keys_sized(uint64_t size)
{
	for (unsigned l = 3; l < 31; l++)
		if (size == pydict_keys_size(l, 16) || size == pydict_keys_size(l, 24))
			return 1;
	return 0;
}

uint64_t pydict_table_size(const uint8_t *head)
{
	if (head[8] < 3 || head[8] > 30 || head[9] != index_bits(head[8]) || head[10] > 2)
		return 0;
	return pydict_keys_size(head[8], head[10] == 0 ? 24 : 16);
}

int pydict_keys_table(const uint8_t *buf, size_t len, uint64_t *start, uint64_t *entry, uint64_t *count)
{
	int64_t refs;

	if (len < PYDICT_HEAD)
		return 0;
	/* in use: one on CPython's free list of tables has dk_refcnt 0 and
	 * its old entries, pointers to what is gone */
	memcpy(&refs, buf, sizeof(refs));
	if (refs <= 0 || len != pydict_table_size(buf))
		return 0;
	*entry = buf[10] == 0 ? 24 : 16;
	*start = PYDICT_HEAD + (1ull << buf[9]);
	memcpy(count, buf + 24, sizeof(*count));
	return *count <= (len - *start) / *entry;
}

/* A str's length at 16 and its state at 32 (compact and ASCII: bits 5
 * and 6); its characters follow the head, at 48 before 3.12 (the wstr
 * pointer) and at 40 since. */
int pydict_ascii(const uint8_t *head, uint32_t version, char *text)
{
	uint64_t len;
	uint32_t state;
	size_t n;

	memcpy(&len, head + 16, sizeof(len));
	memcpy(&state, head + 32, sizeof(state));
	if (((state >> 5) & 3) != 3)
		return -1;
	n = len > PYDICT_TEXT_MAX ? PYDICT_TEXT_MAX : (size_t)len;
	memcpy(text, head + (version >= 0x030c0000 ? 40 : 48), n);
	if (len > PYDICT_TEXT_MAX) {
		memcpy(text + n, "...", 3);
		n += 3;
	}
	return (int)n;
}

int pydict_read_strs(pid_t pid, uint32_t version, const uint64_t *keys, size_t n, char **texts)
{
	struct remote_piece *p = calloc(n + 1, sizeof(*p));
	uint8_t *heads = malloc(n * PYSTR_HEAD + 1);

	if (!p || !heads) {
		free(p);
		free(heads);
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++)
		p[k] = (struct remote_piece){ keys[k], PYSTR_HEAD, heads + k * PYSTR_HEAD, 0 };
	remote_read(pid, p, n);
	for (size_t k = 0; k < n; k++) {
		char text[PYDICT_TEXT_MAX + 4];
		int len = p[k].ok ? pydict_ascii(p[k].buf, version, text) : -1;

		texts[k] = NULL;
		for (int i = 0; i < len; i++)
			if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
				len = -1;	/* ASCII, as the str said */
		if (len >= 0)
			texts[k] = strndup(text, (size_t)len);
	}
	free(p);
	free(heads);
	return 0;
}
