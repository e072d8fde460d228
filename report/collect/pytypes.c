/*
 * pytypes.c - the Python types of a snapshot's blocks (see pytypes.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "pytypes.h"

#define HEAD_BYTES	48	/* of a block: room for an object 32 bytes in */
#define BATCH		4096	/* blocks whose heads one span holds, at most */
#define SPAN_BYTES	(256u * 1024)	/* read at once: a pymalloc arena */
#define SPAN_GAP	4096		/* blocks further apart than this start a new span */
#define TYPE_BYTES	176	/* of a type object: up to tp_flags */
#define NAME_MAX_LEN	128
#define HAVE_GC		(1u << 14)
#define READY		(1u << 12)
#define TYPE_SUBCLASS	(1u << 31)
#define UNICODE_SUBCLASS (1u << 28)
#define COMPACT_STR_MIN	40	/* a compact str is smaller than str's basic size (PyUnicodeObject) */
#define REFCNT_MAX	(1ull << 40)

/* What the header says, in bounds we keep. */
struct py_shape {
	uint64_t type_type;
	uint32_t tp_name, tp_basicsize, tp_flags, preheader_flags;
};

/* One type pointer's verdict. */
struct type_entry {
	uint64_t addr;		/* 0: empty slot */
	int32_t name;		/* index into names, -1: not a type */
	uint32_t flags;
	uint64_t basicsize;
	int weakref;		/* one of CPython's weak reference types */
};

struct census {
	pid_t pid;
	struct py_shape shape;
	struct type_entry *slots;
	size_t cap, used;
	struct pytypes *out;
};

static int read_at(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

static uint64_t word(const unsigned char *b, size_t at)
{
	uint64_t v;

	memcpy(&v, b + at, sizeof(v));
	return v;
}

static uint32_t word32(const unsigned char *b, size_t at)
{
	uint32_t v;

	memcpy(&v, b + at, sizeof(v));
	return v;
}

/* Its name, when it is a printable C string; else NULL. */
static char *read_name(pid_t pid, uint64_t addr)
{
	char buf[NAME_MAX_LEN + 1];
	size_t len;

	/* a name may end near a page's end: read less when the whole fails */
	for (len = NAME_MAX_LEN; len >= 8; len /= 2)
		if (read_at(pid, addr, buf, len) == 0)
			break;
	if (len < 8)
		return NULL;
	buf[len] = '\0';
	if (!memchr(buf, '\0', len) || !buf[0])
		return NULL;
	for (const char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return NULL;
	return strdup(buf);
}

/* Is t a type? Its own type is PyType_Type, or a metatype (a type whose
 * type is PyType_Type, a subclass of type). */
static int is_type(struct census *c, const unsigned char *t)
{
	unsigned char m[TYPE_BYTES];
	uint64_t meta = word(t, 8);

	if (!(word32(t, c->shape.tp_flags) & READY))
		return 0;
	if (meta == c->shape.type_type)
		return 1;
	return read_at(c->pid, meta, m, sizeof(m)) == 0 && word(m, 8) == c->shape.type_type &&
	       (word32(m, c->shape.tp_flags) & TYPE_SUBCLASS);
}

static int grow(struct census *c)
{
	struct type_entry *old = c->slots;
	size_t oldcap = c->cap;

	c->cap = oldcap ? oldcap * 2 : 256;
	c->slots = calloc(c->cap, sizeof(*c->slots));
	if (!c->slots)
		return -ENOMEM;
	for (size_t i = 0; i < oldcap; i++) {
		size_t k;

		if (!old[i].addr)
			continue;
		for (k = (old[i].addr >> 4) & (c->cap - 1); c->slots[k].addr; k = (k + 1) & (c->cap - 1))
			;
		c->slots[k] = old[i];
	}
	free(old);
	return 0;
}

/* weakref.ref and its proxies (3.11 names them "weakref.ReferenceType"
 * and so on; older "weakref"), and weakref.KeyedRef, a subclass. */
static int is_weakref_name(const char *name)
{
	static const char *const names[] = {
		"weakref.ReferenceType", "weakref.ProxyType", "weakref.CallableProxyType",
		"weakref", "weakproxy", "weakcallableproxy", "KeyedRef",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* The verdict on type pointer addr, looked up once; NULL without memory. */
static const struct type_entry *type_of(struct census *c, uint64_t addr)
{
	unsigned char t[TYPE_BYTES];
	struct type_entry *e;
	char *name, **names;
	size_t k;

	if ((c->used + 1) * 2 > c->cap && grow(c) < 0)
		return NULL;
	for (k = (addr >> 4) & (c->cap - 1); c->slots[k].addr && c->slots[k].addr != addr; k = (k + 1) & (c->cap - 1))
		;
	e = &c->slots[k];
	if (e->addr)
		return e;
	*e = (struct type_entry){ .addr = addr, .name = -1 };
	c->used++;
	if (read_at(c->pid, addr, t, sizeof(t)) < 0 || !is_type(c, t) ||
	    !(name = read_name(c->pid, word(t, c->shape.tp_name))))
		return e;
	names = realloc(c->out->names, (c->out->nnames + 1) * sizeof(*names));
	if (!names) {
		free(name);
		return NULL;
	}
	c->out->names = names;
	names[c->out->nnames] = name;
	e->name = (int32_t)c->out->nnames++;
	e->flags = word32(t, c->shape.tp_flags);
	e->basicsize = word(t, c->shape.tp_basicsize);
	e->weakref = is_weakref_name(name);
	return e;
}

/* The type a block holds (1 + its name's index), 0 for none; -1 without
 * memory. *layout gets how it holds it (pytypes.layout). */
static long block_type(struct census *c, const unsigned char *head, uint64_t size, uint8_t *layout)
{
	for (unsigned off = 0; off <= 32 && off + 16 <= size; off += 16) {
		uint64_t refcnt = word(head, off), type = word(head, off + 8);
		const struct type_entry *e;
		unsigned pre;

		if (refcnt == 0 || refcnt >= REFCNT_MAX || type < 4096 || (type & 7))
			continue;
		if (!(e = type_of(c, type)))
			return -1;
		if (e->name < 0)
			continue;
		pre = (e->flags & HAVE_GC ? 16 : 0) + (e->flags & c->shape.preheader_flags ? 16 : 0);
		if (pre == off &&
		    size >= off + (e->flags & UNICODE_SUBCLASS ? COMPACT_STR_MIN : e->basicsize)) {
			*layout = (uint8_t)(off / 16 | (e->flags & HAVE_GC ? PYTYPES_GC : 0) |
					    (e->weakref ? PYTYPES_WEAKREF : 0));
			return e->name + 1;
		}
	}
	return 0;
}

/* The bytes of a block's head that are read: HEAD_BYTES, or the whole of a smaller block. */
static size_t head_len(const struct live_block *b)
{
	return b->size < HEAD_BYTES ? (size_t)b->size : HEAD_BYTES;
}

/*
 * The heads of blocks [first, last) into heads, HEAD_BYTES each (zeroed
 * past a block's end): pymalloc packs objects into pages, so the span they
 * lie in is read at once (into span), each page pinned once, not once per
 * block; when the span has a hole, block by block. ok[i - first] is 0 for
 * a head that could not be read.
 */
static void read_heads(pid_t pid, const struct live_block *blocks, size_t first, size_t last,
		       unsigned char *span, unsigned char *heads, uint8_t *ok)
{
	uint64_t lo = blocks[first].addr, hi = lo;
	int whole;

	for (size_t i = first; i < last; i++)
		if (blocks[i].addr + head_len(&blocks[i]) > hi)
			hi = blocks[i].addr + head_len(&blocks[i]);
	whole = read_at(pid, lo, span, (size_t)(hi - lo)) == 0;
	for (size_t i = first; i < last; i++) {
		unsigned char *head = heads + (i - first) * HEAD_BYTES;

		memset(head, 0, HEAD_BYTES);
		if (whole)
			memcpy(head, span + (blocks[i].addr - lo), head_len(&blocks[i]));
		ok[i - first] = whole || read_at(pid, blocks[i].addr, head, head_len(&blocks[i])) == 0;
	}
}

int pytypes_read(pid_t pid, const struct wire_header *h, const struct live_block *blocks, size_t n,
		 struct pytypes *out)
{
	struct census c = {
		.pid = pid, .out = out,
		.shape = { h->python_type_type, h->python_tp_name, h->python_tp_basicsize, h->python_tp_flags,
			   h->python_preheader_flags },
	};
	unsigned char *span = malloc(SPAN_BYTES + HEAD_BYTES), *heads = malloc((size_t)BATCH * HEAD_BYTES);
	uint8_t ok[BATCH];

	memset(out, 0, sizeof(*out));
	out->of_block = calloc(n + 1, sizeof(*out->of_block));
	out->layout = calloc(n + 1, sizeof(*out->layout));
	if (!span || !heads || !out->of_block || !out->layout)
		goto nomem;
	/* type fields past the bytes read of a type, or no PyType_Type: nothing is typed */
	if (!c.shape.type_type || c.shape.tp_name + 8 > TYPE_BYTES || c.shape.tp_basicsize + 8 > TYPE_BYTES ||
	    c.shape.tp_flags + 4 > TYPE_BYTES)
		goto done;
	for (size_t first = 0, last; first < n; first = last) {
		/* a run of blocks close together, within one span */
		for (last = first + 1; last < n && last - first < BATCH &&
		     blocks[last].addr - blocks[first].addr + HEAD_BYTES <= SPAN_BYTES &&
		     blocks[last].addr - blocks[last - 1].addr <= SPAN_GAP; last++)
			;
		read_heads(pid, blocks, first, last, span, heads, ok);
		for (size_t i = first; i < last; i++) {
			long t;

			if (!ok[i - first])
				continue;
			t = block_type(&c, heads + (i - first) * HEAD_BYTES, blocks[i].size, &out->layout[i]);
			if (t < 0)
				goto nomem;
			out->of_block[i] = (uint32_t)t;
		}
	}
done:
	free(span);
	free(heads);
	free(c.slots);
	return 0;
nomem:
	free(span);
	free(heads);
	free(c.slots);
	pytypes_release(out);
	return -ENOMEM;
}

void pytypes_release(struct pytypes *t)
{
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	free(t->of_block);
	free(t->layout);
	memset(t, 0, sizeof(*t));
}
