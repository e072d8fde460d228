/*
 * pydict.h - CPython's dicts and strs (3.11 to 3.13) as read from outside
 * the program: the sizes of a dict's keys tables, what a table's head says
 * of its entries, and a compact ASCII str's text. Shared by pynames.c
 * (pointers named by their keys) and pyglobals.c (modules' globals).
 *
 * A dict object keeps its keys table at ma_keys, 32 bytes in. A table is
 * a 32-byte head (dk_refcnt at 0, dk_log2_size at 8, dk_log2_index_bytes
 * at 9, dk_kind at 10, dk_nentries at 24), its indices, then its entries:
 * {hash, key, value} for a general table, {key, value} for a str-keyed or
 * split one.
 */
#ifndef HEAPWISE_PYDICT_H
#define HEAPWISE_PYDICT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PYDICT_MA_KEYS	32	/* where a dict object keeps its keys table */
#define PYDICT_HEAD	32	/* a keys table's head */
#define PYDICT_TEXT_MAX	40	/* a str's characters kept; longer ones end in "..." */
#define PYSTR_HEAD	96	/* what to read of a str: its head and a short text */

/* The size CPython allocates a table of 2^log2_size slots with, for
 * entries of entry bytes (16 or 24). */
uint64_t pydict_keys_size(unsigned log2_size, unsigned entry);

/* Could a block of this size be a keys table? */
int pydict_keys_sized(uint64_t size);

/* The whole size of the table whose head (PYDICT_HEAD bytes) this is, or
 * 0 if it is no head CPython makes. */
uint64_t pydict_table_size(const uint8_t *head);

/* A table read whole (len bytes, its size), in use and as CPython makes
 * it: where its entries start, their size, how many there are (1), else 0.
 * Its kind (0 general, 1 str-keyed, 2 split) is buf[10]. */
int pydict_keys_table(const uint8_t *buf, size_t len, uint64_t *start, uint64_t *entry, uint64_t *count);

/* The text of the str whose first PYSTR_HEAD bytes are head, if it is a
 * compact ASCII one, into text (PYDICT_TEXT_MAX + 4 bytes), cut at
 * PYDICT_TEXT_MAX characters with "..."; its length, or -1. The version
 * is Py_Version (3.12 moved the characters). */
int pydict_ascii(const uint8_t *head, uint32_t version, char *text);

/* The text of each str at keys[k] of the stopped program pid, read in one
 * batch, into texts[k] (malloc'd; NULL where it is no compact ASCII str,
 * or holds other than printable ASCII). 0, or -ENOMEM. */
int pydict_read_strs(pid_t pid, uint32_t version, const uint64_t *keys, size_t n, char **texts);

#endif
