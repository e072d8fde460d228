/*
 * pynames.c - the heap graph's pointers in Python's words, read from the
 * stopped program right after its scan (collector-scan.c calls it).
 *
 * A dict object's ma_keys (32 bytes into it) points at its keys table, a
 * block of its own: a 32-byte head (dk_log2_index_bytes at 9, dk_kind at
 * 10, dk_nentries at 24), the indices, then the entries, {hash, key,
 * value} for a general table and {key, value} for a str-keyed one. A
 * pointer from an entry's value slot is named by the entry's key, read
 * from the program: a compact ASCII str (its characters 48 bytes in on
 * 3.11, 40 on 3.12 and later) or an int (one or two 30-bit digits, the
 * sign in ob_size on 3.11 and in lv_tag on 3.12 and later). A list's
 * ob_item (24 bytes in) points at its items, whose pointer k is item k
 * for k below its ob_size (16 in); the slots past it, spare room from
 * growing, hold stale pointers (one name says so for the block, with the
 * length read from the list). Everything read is checked
 * against the block it came from: the program's memory is not trusted.
 * Reads go in batches (remoteread.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/addrsort.h"
#include "../util/array.h"
#include "pydict.h"
#include "pynames.h"
#include "remoteread.h"

#define KEYS_MAX	(64u << 20)	/* a keys table read at most */
#define SPLIT_UNKNOWN	UINT32_MAX	/* a type whose shared keys are not found yet */

enum role { ROLE_NONE, ROLE_DICT_KEYS, ROLE_LIST_ITEMS };

struct namer {
	pid_t pid;
	uint32_t version;
	const struct live_block *blocks;
	size_t n;
	const struct pytypes *t;
	uint32_t dict, list;	/* 1 + index in t->names, 0: none */
	uint64_t str_type, int_type;	/* their addresses, as keys that are blocks show */
	uint8_t *role;
	uint32_t *values_of;	/* per values block: 1 + the instance whose attributes it holds */
	uint8_t *prefix;	/* ... and how far into it they start */
	uint32_t *type_of;	/* per instance: 1 + its type's block */
	uint32_t *inline_at;	/* 3.13: where in an instance's block its values are, 0: none */
	uint64_t *size_at;	/* per list items block: where its list's ob_size is */
	struct py_names *out;
	size_t cap;
};

static uint32_t type_named(const struct pytypes *t, const char *name)
{
	for (size_t k = 0; k < t->nnames; k++)
		if (t->names[k] && strcmp(t->names[k], name) == 0)
			return (uint32_t)k + 1;
	return 0;
}

/* Block i's object's offset in it, if it holds one of type (1 + index). */
static int object_of(const struct namer *m, size_t i, uint32_t type, uint64_t *off)
{
	if (!type || m->t->of_block[i] != type)
		return 0;
	*off = PYTYPES_OFFSET(m->t->layout[i]);
	return 1;
}

static int add_name(struct namer *m, const struct py_name *name)
{
	if (array_grow((void **)&m->out->items, &m->cap, m->out->n + 1, sizeof(*m->out->items)) < 0)
		return -ENOMEM;
	m->out->items[m->out->n++] = *name;
	return 0;
}

/* How far each managed dict's values' prefix goes (py_names.stale_to),
 * from every pointer to the values. */
static void find_stale_heads(struct namer *m, const struct scan_result *r)
{
	for (size_t k = 0; k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];
		uint64_t p = (e->target & 7) == 7 ? e->target + 1 : e->target;

		if (e->heuristic == PROFILE_HEUR_PYVALUES && e->to < m->n && p < 256 && p > m->out->stale_to[e->to])
			m->out->stale_to[e->to] = (uint8_t)p;
	}
}

/* The blocks dicts keep their keys in and lists their items: from the
 * edges out of dict and list objects at ma_keys and ob_item, and for a
 * keys table whose dict is no block, by its size (its head is checked
 * when it is read). */
static void find_roles(struct namer *m, const struct scan_result *r)
{
	for (size_t k = 0; k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];
		uint64_t off;

		if (e->from & PROFILE_EDGE_ROOT || e->target || e->to >= m->n)
			continue;
		if (object_of(m, e->from, m->dict, &off) && e->offset == off + 32)
			m->role[e->to] = ROLE_DICT_KEYS;
		else if (object_of(m, e->from, m->list, &off) && e->offset == off + 24) {
			m->role[e->to] = ROLE_LIST_ITEMS;
			m->size_at[e->to] = m->blocks[e->from].addr + off + 16;
		}
	}
	for (size_t k = 0; k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];

		if (!(e->from & PROFILE_EDGE_ROOT) && e->from < m->n && !m->role[e->from] &&
		    !m->t->of_block[e->from] && pydict_keys_sized(m->blocks[e->from].size))
			m->role[e->from] = ROLE_DICT_KEYS;
	}
	/* an instance's attributes (3.11, 3.12): its values, past their prefix
	 * (the scan's PYVALUES pointers, tagged on 3.12), named by its type's
	 * shared keys table, which the type's block points at */
	for (size_t k = 0; k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];
		uint64_t off, prefix = (e->target & 7) == 7 ? e->target + 1 : e->target;

		if (e->from & PROFILE_EDGE_ROOT || e->from >= m->n || e->to >= m->n || !m->t->of_block[e->from])
			continue;
		off = PYTYPES_OFFSET(m->t->layout[e->from]);
		if (e->heuristic == PROFILE_HEUR_PYVALUES && prefix < 256) {
			m->values_of[e->to] = e->from + 1;
			m->prefix[e->to] = (uint8_t)prefix;
		} else if (e->offset == off + 8 && m->t->of_block[e->to] &&
			   e->target == PYTYPES_OFFSET(m->t->layout[e->to])) {
			m->type_of[e->from] = e->to + 1;	/* ob_type: a heap type, a block */
		}
	}
	for (size_t k = 0; k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];

		if (!(e->from & PROFILE_EDGE_ROOT) && e->from < m->n && e->to < m->n && !e->target &&
		    m->t->of_block[e->from] && !m->t->of_block[e->to] && pydict_keys_sized(m->blocks[e->to].size))
			m->role[e->to] = ROLE_DICT_KEYS;	/* perhaps a type's ht_cached_keys */
	}
}

/*
 * Lists whose object is no block (3.12 reuses them from a free list made
 * before the tracer): a pointer from outside the heap to the start of a
 * block, 24 bytes into something whose type word (8 bytes before it is
 * ob_size, 16 before the type) is list's, as a list block shows it.
 */
static int find_free_list_lists(struct namer *m, const struct scan_result *r)
{
	struct remote_piece *p;
	uint64_t *words, list_type = 0;
	size_t *to, n = 0, first = SIZE_MAX;

	for (size_t i = 0; i < m->n && first == SIZE_MAX; i++)
		if (m->list && m->t->of_block[i] == m->list)
			first = i;
	if (first == SIZE_MAX)
		return 0;	/* no list to learn list's type from */
	p = calloc(r->nedges + 2, sizeof(*p));
	words = calloc(r->nedges + 2, sizeof(*words));
	to = calloc(r->nedges + 2, sizeof(*to));
	if (!p || !words || !to) {
		free(p);
		free(words);
		free(to);
		return -ENOMEM;
	}
	p[n++] = (struct remote_piece){ m->blocks[first].addr + PYTYPES_OFFSET(m->t->layout[first]) + 8, 8, (uint8_t *)&words[0], 0 };
	for (size_t k = 0; k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];
		const struct scan_root *root;

		if (!(e->from & PROFILE_EDGE_ROOT) || e->target || e->to >= m->n || m->role[e->to] ||
		    m->t->of_block[e->to] || (e->from & ~PROFILE_EDGE_ROOT) >= r->nroots)
			continue;
		root = &r->roots[e->from & ~PROFILE_EDGE_ROOT];
		if (root->kind != PROFILE_ROOT_MAPPING || root->addr < 16)
			continue;
		to[n] = e->to;
		p[n] = (struct remote_piece){ root->addr - 16, 8, (uint8_t *)&words[n], 0 };
		n++;
	}
	remote_read(m->pid, p, n);
	if (p[0].ok)
		list_type = words[0];
	for (size_t k = 1; list_type && k < n; k++)
		if (p[k].ok && words[k] == list_type) {
			m->role[to[k]] = ROLE_LIST_ITEMS;
			m->size_at[to[k]] = p[k].addr + 8;
		}
	free(p);
	free(words);
	free(to);
	return 0;
}

/*
 * 3.13 keeps an instance's attribute values inside it, after its type's
 * tp_basicsize (32 into the type) and the values' 8-byte head: where, for
 * every instance whose type is a block, each type read once.
 */
static void find_inline_values(struct namer *m)
{
	struct remote_piece *p;
	uint64_t *basic;
	size_t n = 0;
	uint32_t *slot = calloc(m->n + 1, sizeof(*slot));

	p = calloc(m->n + 1, sizeof(*p));
	basic = calloc(m->n + 1, sizeof(*basic));
	if (!slot || !p || !basic)
		goto out;
	for (size_t i = 0; i < m->n; i++) {
		uint32_t t = m->type_of[i];

		if (!t || slot[t - 1])
			continue;
		p[n] = (struct remote_piece){ m->blocks[t - 1].addr + PYTYPES_OFFSET(m->t->layout[t - 1]) + 32, 8,
				       (uint8_t *)&basic[n], 0 };
		slot[t - 1] = (uint32_t)++n;
	}
	remote_read(m->pid, p, n);
	for (size_t i = 0; i < m->n; i++) {
		uint32_t t = m->type_of[i];
		const struct remote_piece *q = t ? &p[slot[t - 1] - 1] : NULL;
		uint64_t at = q && q->ok ? PYTYPES_OFFSET(m->t->layout[i]) + basic[slot[t - 1] - 1] + 8 : 0;

		if (at && at < m->blocks[i].size && at <= UINT32_MAX)
			m->inline_at[i] = (uint32_t)at;
	}
out:
	free(slot);
	free(p);
	free(basic);
}

/* A list's items: one name for the whole block, with the list's length
 * (pointer k is item k below it), read from each list in one batch. A
 * length the block cannot hold is no list's: no name. A tuple's items
 * need none: its type says it (referrers.c). */
static int name_lists(struct namer *m)
{
	struct remote_piece *p = calloc(m->n + 1, sizeof(*p));
	int64_t *length = calloc(m->n + 1, sizeof(*length));
	uint32_t *of = calloc(m->n + 1, sizeof(*of));
	size_t n = 0;
	int ret = -ENOMEM;

	if (!p || !length || !of)
		goto out;
	for (size_t i = 0; i < m->n; i++)
		if (m->role[i] == ROLE_LIST_ITEMS && m->size_at[i]) {
			of[n] = (uint32_t)i;
			p[n] = (struct remote_piece){ m->size_at[i], 8, (uint8_t *)&length[n], 0 };
			n++;
		}
	remote_read(m->pid, p, n);
	for (size_t k = 0; k < n; k++) {
		if (!p[k].ok || length[k] < 0 || (uint64_t)length[k] > m->blocks[of[k]].size / 8)
			continue;	/* no list's length */
		if (8 * (uint64_t)length[k] < m->blocks[of[k]].size && 8 * (uint64_t)length[k] < UINT32_MAX - 1)
			m->out->stale_from[of[k]] = (uint32_t)(8 * length[k]) + 1;
		if (length[k] > 0 &&
		    add_name(m, &(struct py_name){ 0, of[k], PROFILE_NAME_LIST, NULL, length[k] }) < 0)
			goto out;
	}
	ret = 0;
out:
	free(p);
	free(length);
	free(of);
	return ret;
}

static const char *keep_text(struct namer *m, const char *s, size_t len);

/* The fields of CPython's own objects that Python names as attributes, the
 * same from 3.11 to 3.13 (tests/py/layout.c checks them): bytes from the
 * object's start. */
static const struct {
	const char *type;
	uint64_t field;
	const char *attribute;
} fields[] = {
	{ "module", 16, "__dict__" },		/* md_dict */
	{ "cell", 16, "cell_contents" },	/* ob_ref */
	{ "function", 16, "__globals__" },	/* func_globals */
	{ "function", 32, "__name__" },
	{ "function", 40, "__qualname__" },
	{ "function", 48, "__code__" },
	{ "function", 56, "__defaults__" },
	{ "function", 64, "__kwdefaults__" },
	{ "function", 72, "__closure__" },
};
#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

/* Every pointer from one of those fields, named by its attribute. */
static int name_fields(struct namer *m, const struct scan_result *r)
{
	uint32_t type[NFIELDS];
	const char *text[NFIELDS] = { NULL };
	int any = 0;

	for (size_t f = 0; f < NFIELDS; f++)
		any |= (type[f] = type_named(m->t, fields[f].type)) != 0;
	for (size_t k = 0; any && k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];
		uint32_t t;

		if (e->from & PROFILE_EDGE_ROOT || e->from >= m->n || !(t = m->t->of_block[e->from]))
			continue;
		for (size_t f = 0; f < NFIELDS; f++) {
			if (type[f] != t || e->offset != PYTYPES_OFFSET(m->t->layout[e->from]) + fields[f].field)
				continue;
			if (!text[f] && !(text[f] = keep_text(m, fields[f].attribute, strlen(fields[f].attribute))))
				return -ENOMEM;
			if (add_name(m, &(struct py_name){ e->offset, e->from, PROFILE_NAME_ATTRIBUTE, text[f], 0 }) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* A dict entry's value edge, waiting for its key to be read. */
struct pending_key {
	uint32_t from, offset;
	uint64_t key;
	int attribute;		/* an instance's attribute: named by a str key only */
};

static int by_key(const void *a, const void *b)
{
	const struct pending_key *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* A keys table read whole, if its head is one CPython makes: where its
 * entries start, their size, and how many there are. */
static int keys_table(const struct remote_piece *q, uint64_t *start, uint64_t *size, uint64_t *count)
{
	return q->ok && pydict_keys_table(q->buf, q->len, start, size, count);
}

/* Every block that may be a keys table, read whole: table[i] is 1 + its
 * piece in *p. */
static int read_tables(struct namer *m, struct remote_piece **p, size_t *npieces, size_t *table)
{
	size_t cap = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (m->role[i] != ROLE_DICT_KEYS || m->blocks[i].size < 32 || m->blocks[i].size > KEYS_MAX)
			continue;
		if (array_grow((void **)p, &cap, *npieces + 1, sizeof(**p)) < 0)
			return -ENOMEM;
		(*p)[*npieces] = (struct remote_piece){ m->blocks[i].addr, m->blocks[i].size, malloc(m->blocks[i].size), 0 };
		if (!(*p)[*npieces].buf)
			return -ENOMEM;
		table[i] = ++*npieces;
	}
	remote_read(m->pid, *p, *npieces);
	return 0;
}

/* Each instance's type's split keys table, the one its block points at. */
static void find_split_tables(const struct namer *m, const struct scan_result *r, const struct remote_piece *p,
			      const size_t *table, uint32_t *split_of)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->type_of[i])
			split_of[m->type_of[i] - 1] = SPLIT_UNKNOWN;
	for (size_t k = 0; k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];
		uint64_t start, size, count;

		if (!(e->from & PROFILE_EDGE_ROOT) && e->from < m->n && split_of[e->from] == SPLIT_UNKNOWN &&
		    e->to < m->n && table[e->to] && keys_table(&p[table[e->to] - 1], &start, &size, &count) &&
		    p[table[e->to] - 1].buf[10] == 2)
			split_of[e->from] = (uint32_t)table[e->to];
	}
}

static int find_entries(struct namer *m, const struct scan_result *r, struct pending_key **pending, size_t *np)
{
	struct remote_piece *p = NULL;
	size_t npieces = 0, cap = 0, *table = calloc(m->n + 1, sizeof(size_t));
	/* per type block: SPLIT_UNKNOWN, or 1 + the piece of its split keys table
	 * (ht_cached_keys: what names its instances' attributes) */
	uint32_t *split_of = calloc(m->n + 1, sizeof(uint32_t));
	int ret = -ENOMEM;

	if (!table || !split_of || read_tables(m, &p, &npieces, table) < 0)
		goto out;
	find_split_tables(m, r, p, table, split_of);
	for (size_t k = 0; k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];
		const struct remote_piece *q;
		uint64_t start, size, count, at, key;

		if (e->from & PROFILE_EDGE_ROOT || e->from >= m->n)
			continue;
		if (m->values_of[e->from] || (m->inline_at[e->from] && e->offset >= m->inline_at[e->from])) {
			/* an attribute: its number in the values, its name the type's key */
			int inline_values = m->values_of[e->from] == 0;
			uint64_t i, prefix = inline_values ? m->inline_at[e->from] : m->prefix[e->from];
			uint32_t type = m->type_of[inline_values ? e->from : m->values_of[e->from] - 1];
			uint32_t split = type ? split_of[type - 1] : 0;
			const struct remote_piece *keys = split && split != SPLIT_UNKNOWN ? &p[split - 1] : NULL;

			if (!keys || e->offset < prefix || (e->offset - prefix) % 8 ||
			    !keys_table(keys, &start, &size, &count) || (i = (e->offset - prefix) / 8) >= count)
				continue;
			memcpy(&key, keys->buf + start + i * size, sizeof(key));
			if (array_grow((void **)pending, &cap, *np + 1, sizeof(**pending)) < 0)
				goto out;
			(*pending)[(*np)++] = (struct pending_key){ e->from, e->offset, key, 1 };
			continue;
		}
		if (!table[e->from] || !keys_table(q = &p[table[e->from] - 1], &start, &size, &count))
			continue;
		if (e->offset < start || e->offset >= start + count * size)
			continue;
		at = (e->offset - start) % size;
		if (at == size - 16) {
			if (add_name(m, &(struct py_name){ e->offset, e->from, PROFILE_NAME_KEY, NULL, 0 }) < 0)
				goto out;
			continue;
		}
		if (at != size - 8)
			continue;
		memcpy(&key, q->buf + e->offset - 8, sizeof(key));
		if (array_grow((void **)pending, &cap, *np + 1, sizeof(**pending)) < 0)
			goto out;
		(*pending)[(*np)++] = (struct pending_key){ e->from, e->offset, key, 0 };
	}
	ret = 0;
out:
	for (size_t k = 0; k < npieces; k++)
		free(p[k].buf);
	free(p);
	free(table);
	free(split_of);
	return ret;
}

/* A text kept until pynames_release. */
static const char *keep_text(struct namer *m, const char *s, size_t len)
{
	char **texts = realloc(m->out->texts, (m->out->ntexts + 1) * sizeof(*texts));
	char *copy = malloc(len + 1);

	if (!texts || !copy) {
		if (texts)
			m->out->texts = texts;
		free(copy);
		return NULL;
	}
	m->out->texts = texts;
	memcpy(copy, s, len);
	copy[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)copy[i] < 0x20 || (unsigned char)copy[i] >= 0x7f)
			copy[i] = '?';	/* ASCII, as the str said: no escapes, no broken UTF-8 */
	texts[m->out->ntexts++] = copy;
	return copy;
}

/* The type of the object at addr, as t names its block's; NULL if it is
 * no typed block. */
static const char *block_type(const struct namer *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->blocks[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !m->t->of_block[lo - 1] ||
	    m->blocks[lo - 1].addr + PYTYPES_OFFSET(m->t->layout[lo - 1]) != addr)
		return NULL;
	return m->t->names[m->t->of_block[lo - 1] - 1];
}

/* Name the value edge of one key object from what was read of it. */
static struct py_name key_name(struct namer *m, const struct pending_key *k, const uint8_t *head, int ok)
{
	struct py_name name = { k->offset, k->from, PROFILE_NAME_OTHER_KEY, NULL, 0 };
	const char *type = block_type(m, k->key);
	int modern = m->version >= 0x030c0000;	/* 3.12: no wstr, lv_tag */
	uint64_t word, ob_type;
	uint32_t digits[2];

	if (!ok)
		return name;
	memcpy(&ob_type, head + 8, sizeof(ob_type));
	if (!type && ob_type && ob_type == m->str_type)
		type = "str";	/* a key that is no block (made before the tracer, or static) */
	else if (!type && ob_type && ob_type == m->int_type)
		type = "int";	/* a small int, one of CPython's own */
	if (!type)
		return name;
	if (strcmp(type, "str") == 0) {
		char text[PYDICT_TEXT_MAX + 4];
		int n = pydict_ascii(head, m->version, text);

		if (n >= 0) {
			name.kind = PROFILE_NAME_STR_KEY;
			name.text = keep_text(m, text, (size_t)n);
			return name;
		}
	} else if (strcmp(type, "int") == 0) {
		int64_t size;
		int negative;

		memcpy(&word, head + 16, sizeof(word));
		memcpy(digits, head + 24, sizeof(digits));
		size = modern ? (int64_t)(word >> 3) : (int64_t)word;
		negative = modern ? (word & 3) == 2 : size < 0;
		if (size < 0)
			size = -size;
		if (size <= 2 && digits[0] < (1u << 30) && (size < 2 || digits[1] < (1u << 30))) {
			int64_t v = size == 0 ? 0 : size == 1 ? digits[0] : (int64_t)digits[0] | (int64_t)digits[1] << 30;

			name.kind = PROFILE_NAME_INT_KEY;
			name.number = negative ? -v : v;
			return name;
		}
	}
	name.text = keep_text(m, type, strlen(type));
	return name;
}

/* The address of the type named name, from a block that holds one of
 * its objects, unless *at knows it already. */
static void learn_type(struct namer *m, const char *name, uint64_t *at)
{
	uint32_t type = type_named(m->t, name);
	uint64_t word = 0;

	for (size_t i = 0; !*at && type && i < m->n; i++) {
		struct remote_piece p = { m->blocks[i].addr + PYTYPES_OFFSET(m->t->layout[i]) + 8, 8, (uint8_t *)&word, 0 };

		if (m->t->of_block[i] != type)
			continue;
		remote_read(m->pid, &p, 1);
		if (p.ok)
			*at = word;
		return;
	}
}

/* Read each distinct key once and name the edges waiting for it. */
static int name_keys(struct namer *m, struct pending_key *pending, size_t np)
{
	struct remote_piece *p = calloc(np + 1, sizeof(*p));
	uint8_t *heads = malloc(np * PYSTR_HEAD + 1);
	struct py_name base = { 0 };
	size_t nkeys = 0;
	int ret = -ENOMEM;

	if (!p || !heads)
		goto out;
	qsort(pending, np, sizeof(*pending), by_key);
	for (size_t k = 0; k < np; k++)
		if (!k || pending[k].key != pending[k - 1].key) {
			p[nkeys] = (struct remote_piece){ pending[k].key, PYSTR_HEAD, heads + nkeys * PYSTR_HEAD, 0 };
			nkeys++;
		}
	remote_read(m->pid, p, nkeys);
	/* str's and int's type objects, from keys that are blocks of theirs,
	 * else from any block of theirs (every key a small int, say) */
	for (size_t k = 0; k < nkeys; k++) {
		const char *type = p[k].ok ? block_type(m, p[k].addr) : NULL;
		uint64_t *at = !type ? NULL : strcmp(type, "str") == 0 ? &m->str_type
					   : strcmp(type, "int") == 0 ? &m->int_type : NULL;

		if (at && !*at)
			memcpy(at, p[k].buf + 8, sizeof(*at));
	}
	learn_type(m, "str", &m->str_type);
	learn_type(m, "int", &m->int_type);
	for (size_t k = 0, key = 0; k < np; k++) {
		struct py_name name;

		if (k && pending[k].key != pending[k - 1].key)
			key++;
		if (!k || pending[k].key != pending[k - 1].key)
			base = key_name(m, &pending[k], p[key].buf, p[key].ok);
		/* the same key object (an interned name in many dicts): its name again */
		name = base;
		name.from = pending[k].from;
		name.offset = pending[k].offset;
		if (pending[k].attribute) {
			if (name.kind != PROFILE_NAME_STR_KEY)
				continue;	/* an attribute is named by a str */
			name.kind = PROFILE_NAME_ATTRIBUTE;
		}
		if (add_name(m, &name) < 0)
			goto out;
	}
	ret = 0;
out:
	free(p);
	free(heads);
	return ret;
}

/* What a namer holds of its own, per block. */
static void release_namer(struct namer *m)
{
	free(m->role);
	free(m->values_of);
	free(m->prefix);
	free(m->type_of);
	free(m->inline_at);
	free(m->size_at);
}

int pynames_read(pid_t pid, uint32_t version, const struct live_block *blocks, size_t n,
		 const struct pytypes *t, const struct scan_result *r, struct py_names *out)
{
	struct namer m = { .pid = pid, .version = version, .blocks = blocks, .n = n, .t = t, .out = out };
	struct pending_key *pending = NULL;
	size_t np = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!t->of_block || !t->layout)
		return 0;
	m.dict = type_named(t, "dict");
	m.list = type_named(t, "list");

	m.role = calloc(n + 1, 1);
	m.values_of = calloc(n + 1, sizeof(*m.values_of));
	m.prefix = calloc(n + 1, 1);
	m.type_of = calloc(n + 1, sizeof(*m.type_of));
	m.inline_at = calloc(n + 1, sizeof(*m.inline_at));
	m.size_at = calloc(n + 1, sizeof(*m.size_at));
	if (!m.role || !m.values_of || !m.prefix || !m.type_of || !m.inline_at || !m.size_at) {
		release_namer(&m);
		return -ENOMEM;
	}
	out->stale_from = calloc(n + 1, sizeof(*out->stale_from));
	out->stale_to = calloc(n + 1, sizeof(*out->stale_to));
	if (!out->stale_from || !out->stale_to) {
		pynames_release(out);
		release_namer(&m);
		return -ENOMEM;
	}
	find_stale_heads(&m, r);
	find_roles(&m, r);
	if (version >= 0x030d0000)
		find_inline_values(&m);
	ret = find_free_list_lists(&m, r);
	if (ret == 0)
		ret = name_lists(&m);
	if (ret == 0)
		ret = name_fields(&m, r);
	if (ret == 0)
		ret = find_entries(&m, r, &pending, &np);
	if (ret == 0)
		ret = name_keys(&m, pending, np);
	free(pending);
	release_namer(&m);
	if (ret < 0) {
		pynames_release(out);
		return ret;
	}
	if (sort_by_addr(out->items, out->n, sizeof(*out->items)) < 0) {
		pynames_release(out);
		return -ENOMEM;
	}
	return 0;
}

void pynames_drop_stale(const struct py_names *names, struct scan_result *r)
{
	size_t kept = 0;

	if (!names->stale_from || !names->stale_to)
		return;
	for (size_t k = 0; k < r->nedges; k++) {
		const struct profile_edge *e = &r->edges[k];

		if (!(e->from & PROFILE_EDGE_ROOT) &&
		    ((names->stale_from[e->from] && e->offset + 1 >= names->stale_from[e->from]) ||
		     e->offset < names->stale_to[e->from]))
			continue;	/* a stale word, no reference */
		r->edges[kept++] = *e;
	}
	r->nedges = kept;
}

void pynames_release(struct py_names *names)
{
	free(names->stale_from);
	free(names->stale_to);
	for (size_t i = 0; i < names->ntexts; i++)
		free(names->texts[i]);
	free(names->texts);
	free(names->items);
	memset(names, 0, sizeof(*names));
}
