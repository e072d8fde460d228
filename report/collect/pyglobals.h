/*
 * pyglobals.h - a Python program's module globals, read from the stopped
 * program (after its scan, with pynames.h), so that a pointer held by one
 * is named as Python names it: module __main__ .__dict__['_cache'].
 *
 * From sys.modules (the tracer publishes where it is) to each module's
 * dict (md_dict, 16 bytes into a module object) and its keys table: for
 * every global, where the table holds it (its entry's value slot) and the
 * object it holds. A root of the scan is named by either: a pointer in a
 * table that is no block (made before the tracer) is the global itself; a
 * pointer where a container that is no block keeps what it holds (a
 * list's ob_item, a dict's ma_keys) is that object's, the global's value.
 */
#ifndef HEAPWISE_PYGLOBALS_H
#define HEAPWISE_PYGLOBALS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct py_global {
	uint64_t addr;		/* a value slot, or an object */
	uint32_t is_slot;	/* 1: the entry's value slot; 0: the object it holds */
	uint32_t text;		/* index in texts: "module M .__dict__['K']" */
};

struct py_globals {
	struct py_global *items;	/* sorted by addr */
	size_t n;
	char **texts;
	size_t ntexts;
};

/* Read the globals of every module in the dict at modules (sys.modules)
 * of the stopped program pid, CPython version (Py_Version). 0, or -ENOMEM;
 * what cannot be read (or is not what it should be) is left out. */
int pyglobals_read(pid_t pid, uint32_t version, uint64_t modules, struct py_globals *out);

/* The name of the global held at value slot addr, NULL if none. */
const char *pyglobals_slot(const struct py_globals *g, uint64_t addr);

/* The name of a root pointer stored at addr, outside every block: the
 * global whose slot it is, or whose value's head holds it; NULL if none. */
const char *pyglobals_root(const struct py_globals *g, uint64_t addr);

void pyglobals_release(struct py_globals *g);

#endif
