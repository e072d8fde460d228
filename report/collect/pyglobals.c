/*
 * pyglobals.c - a Python program's module globals (see pyglobals.h).
 *
 * Read in rounds, each one batch of pieces (remoteread.h): sys.modules and
 * its keys table; each module's name and object; its dict; its dict's
 * keys table head, then the table whole; the globals' names. Everything
 * read is checked for the shape CPython gives it: the program's memory is
 * not trusted, and what does not hold together is left out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/addrsort.h"
#include "../util/array.h"
#include "pydict.h"
#include "pyglobals.h"
#include "remoteread.h"

#define MODULES_MAX	100000		/* modules read at most */
#define GLOBALS_MAX	(1u << 20)	/* globals named at most, in all the modules */
#define TABLE_MAX	(16u << 20)	/* a keys table read at most */
#define TABLES_MAX	(256u << 20)	/* ... and all of them: the program's memory says
					 * how big they are, ours holds them */
#define DICT_OBJECT	48		/* a dict object: refcnt, type, used, version, keys, values */
#define MODULE_HEAD	24		/* a module object: refcnt, type, md_dict */
/* Where a container that is no block keeps what it holds: a list its
 * items (ob_item, 24), a dict its keys table (ma_keys, 32), its values (40). */
static const uint64_t head_fields[] = { 24, 32, 40 };

/* One dict being read: its object, then its keys table. */
struct dict_read {
	uint64_t addr;
	uint8_t object[DICT_OBJECT];
	uint8_t head[PYDICT_HEAD];
	uint8_t *table;
	size_t size;
	int ok;
};

/* Read the dicts' objects, heads and tables, each that is a dict of type
 * dict_type (0: learn it from the first) with a combined table. */
static int read_dicts(pid_t pid, struct dict_read *d, size_t n, uint64_t *dict_type)
{
	struct remote_piece *p = calloc(n + 1, sizeof(*p));
	uint64_t budget = TABLES_MAX;
	size_t k;

	if (!p)
		return -ENOMEM;
	for (k = 0; k < n; k++)
		p[k] = (struct remote_piece){ d[k].addr, DICT_OBJECT, d[k].object, 0 };
	remote_read(pid, p, n);
	for (k = 0; k < n; k++) {
		uint64_t type, keys, values;

		memcpy(&type, d[k].object + 8, 8);
		memcpy(&keys, d[k].object + PYDICT_MA_KEYS, 8);
		memcpy(&values, d[k].object + 40, 8);
		if (!*dict_type && p[k].ok)
			*dict_type = type;
		d[k].ok = p[k].ok && type == *dict_type && keys && !values;
		p[k] = (struct remote_piece){ d[k].ok ? keys : 0, PYDICT_HEAD, d[k].head, 0 };
	}
	remote_read(pid, p, n);
	for (k = 0; k < n; k++) {
		uint64_t keys;

		d[k].size = p[k].ok && d[k].ok ? pydict_table_size(d[k].head) : 0;
		if (d[k].size > TABLE_MAX || d[k].size > budget)
			d[k].size = 0;
		budget -= d[k].size;
		if (!d[k].size || !(d[k].table = malloc(d[k].size))) {
			d[k].ok = 0;
			p[k] = (struct remote_piece){ 0 };
			continue;
		}
		memcpy(&keys, d[k].object + PYDICT_MA_KEYS, 8);
		p[k] = (struct remote_piece){ keys, d[k].size, d[k].table, 0 };
	}
	remote_read(pid, p, n);
	for (k = 0; k < n; k++)
		d[k].ok = d[k].ok && p[k].ok;
	free(p);
	return 0;
}

/* A dict's entry: its key and value, where the value is kept, and which
 * module's dict it is of. */
struct entry {
	uint64_t key, value, slot;
	uint32_t module;
};

/* Append the entries of a dict read whole, module's, to *out (at of them
 * so far, cap its room); returns the new count. */
static size_t entries_of(const struct dict_read *d, uint32_t module, struct entry **out, size_t *cap, size_t at)
{
	uint64_t start, size, count, keys;
	size_t n = at;

	if (!d->ok || !pydict_keys_table(d->table, d->size, &start, &size, &count))
		return at;
	memcpy(&keys, d->object + PYDICT_MA_KEYS, 8);
	for (uint64_t i = 0; i < count && n < GLOBALS_MAX; i++) {
		const uint8_t *e = d->table + start + i * size;
		struct entry x;

		memcpy(&x.key, e + size - 16, 8);
		memcpy(&x.value, e + size - 8, 8);
		x.slot = keys + start + i * size + size - 8;
		x.module = module;
		if (!x.key || !x.value)
			continue;	/* deleted */
		if (array_grow((void **)out, cap, n + 1, sizeof(**out)) < 0)
			break;
		(*out)[n++] = x;
	}
	return n;
}

static int by_key(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* "module M .__dict__['K']", the key as Python writes it ('\' escaped). */
static char *global_text(const char *module, const char *key)
{
	char quoted[2 * (PYDICT_TEXT_MAX + 4) + 1], *out;
	size_t at = 0;

	for (; *key; key++) {
		if (*key == '\'' || *key == '\\')
			quoted[at++] = '\\';
		quoted[at++] = *key;
	}
	quoted[at] = '\0';
	return asprintf(&out, "module %s .__dict__['%s']", module, quoted) < 0 ? NULL : out;
}

/* Each module's globals: entries of module m's dict d, named by their keys. */
static int name_globals(pid_t pid, uint32_t version, struct dict_read *d, char **module, size_t nmod,
			struct py_globals *out)
{
	struct entry *e = NULL;
	size_t ne = 0, cap = 0, nkeys = 0;
	uint64_t *keys = NULL;
	char **key_text = NULL;
	int ret = -ENOMEM;

	/* every entry, sorted by key to read each key once */
	for (size_t m = 0; m < nmod; m++)
		ne = entries_of(&d[m], (uint32_t)m, &e, &cap, ne);
	if (!ne)
		return 0;
	qsort(e, ne, sizeof(*e), by_key);
	keys = malloc(ne * sizeof(*keys));
	key_text = calloc(ne, sizeof(*key_text));
	if (!keys || !key_text)
		goto out;
	for (size_t k = 0; k < ne; k++)
		if (!k || e[k].key != e[k - 1].key)
			keys[nkeys++] = e[k].key;
	if (pydict_read_strs(pid, version, keys, nkeys, key_text) < 0)
		goto out;
	out->items = malloc(2 * ne * sizeof(*out->items));
	out->texts = malloc(ne * sizeof(*out->texts));
	if (!out->items || !out->texts)
		goto out;
	for (size_t k = 0, key = 0; k < ne; k++) {
		char *text;

		if (k && e[k].key != e[k - 1].key)
			key++;
		if (!key_text[key] || !(text = global_text(module[e[k].module], key_text[key])))
			continue;
		out->items[out->n++] = (struct py_global){ e[k].slot, 1, (uint32_t)out->ntexts };
		out->items[out->n++] = (struct py_global){ e[k].value, 0, (uint32_t)out->ntexts };
		out->texts[out->ntexts++] = text;
	}
	ret = sort_by_addr(out->items, out->n, sizeof(*out->items));
out:
	for (size_t k = 0; key_text && k < nkeys; k++)
		free(key_text[k]);
	free(key_text);
	free(keys);
	free(e);
	return ret;
}

int pyglobals_read(pid_t pid, uint32_t version, uint64_t modules, struct py_globals *out)
{
	struct dict_read sys = { .addr = modules }, *d = NULL;
	struct entry *e = NULL;
	struct remote_piece *p = NULL;
	uint8_t (*heads)[MODULE_HEAD] = NULL;
	uint64_t dict_type = 0, *names = NULL;
	char **module = NULL;
	size_t ne = 0, cap = 0, nmod = 0;
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!modules)
		return 0;
	if (read_dicts(pid, &sys, 1, &dict_type) < 0)
		return -ENOMEM;
	ne = entries_of(&sys, 0, &e, &cap, 0);
	if (ne > MODULES_MAX)
		ne = MODULES_MAX;
	p = calloc(ne + 1, sizeof(*p));
	heads = calloc(ne + 1, sizeof(*heads));
	names = calloc(ne + 1, sizeof(*names));
	module = calloc(ne + 1, sizeof(*module));
	d = calloc(ne + 1, sizeof(*d));
	if (!p || !heads || !names || !module || !d)
		goto out;
	/* each module: its name (the key), its object, then its dict */
	for (size_t k = 0; k < ne; k++) {
		names[k] = e[k].key;
		p[k] = (struct remote_piece){ e[k].value, MODULE_HEAD, heads[k], 0 };
	}
	remote_read(pid, p, ne);
	if (pydict_read_strs(pid, version, names, ne, module) < 0)
		goto out;
	for (size_t k = 0; k < ne; k++) {
		uint64_t md_dict;

		memcpy(&md_dict, heads[k] + 16, 8);
		if (!p[k].ok || !module[k] || !md_dict) {
			free(module[k]);
			continue;
		}
		module[nmod] = module[k];
		d[nmod++].addr = md_dict;
	}
	if (read_dicts(pid, d, nmod, &dict_type) < 0)
		goto out;
	ret = name_globals(pid, version, d, module, nmod, out);
out:
	for (size_t k = 0; d && k < nmod; k++)
		free(d[k].table);
	for (size_t k = 0; module && k < nmod; k++)
		free(module[k]);
	free(sys.table);
	free(module);
	free(d);
	free(names);
	free(heads);
	free(p);
	free(e);
	if (ret < 0)
		pyglobals_release(out);
	return ret;
}

/* The first item at addr or after it. */
static size_t first_at(const struct py_globals *g, uint64_t addr)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (g->items[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *pyglobals_slot(const struct py_globals *g, uint64_t addr)
{
	for (size_t i = first_at(g, addr); i < g->n && g->items[i].addr == addr; i++)
		if (g->items[i].is_slot)
			return g->texts[g->items[i].text];
	return NULL;
}

const char *pyglobals_root(const struct py_globals *g, uint64_t addr)
{
	const char *slot = pyglobals_slot(g, addr);
	size_t i;

	if (slot)
		return slot;
	/* a field of an object's head that holds its contents */
	for (size_t f = 0; f < sizeof(head_fields) / sizeof(head_fields[0]); f++)
		for (i = first_at(g, addr - head_fields[f]); i < g->n && g->items[i].addr == addr - head_fields[f]; i++)
			if (!g->items[i].is_slot)
				return g->texts[g->items[i].text];
	return NULL;
}

void pyglobals_release(struct py_globals *g)
{
	for (size_t i = 0; i < g->ntexts; i++)
		free(g->texts[i]);
	free(g->texts);
	free(g->items);
	memset(g, 0, sizeof(*g));
}
