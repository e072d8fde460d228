/*
 * symbols.h - turn return addresses into functions, files and lines.
 *
 * Built on elfutils' libdwfl, fed the module log (path, load bias and range
 * of every object in every image), so addresses resolve offline after the
 * program is gone, as long as the binaries are still on disk. Inlined
 * calls come out as frames of their own, innermost first.
 */
#ifndef HEAPWISE_SYMBOLS_H
#define HEAPWISE_SYMBOLS_H

#include <stdint.h>

struct symbolizer;

/* One frame of a resolved address. Strings live until symbolizer_free(). */
struct sym_frame {
	const char *function;	/* demangled; NULL when unknown */
	const char *file;	/* NULL when unknown */
	const char *dir;	/* the unit's compilation directory when file is
				 * relative to it, else NULL */
	uint32_t line;		/* 0 when unknown */
	uint32_t start_line;	/* the function's first line, 0 when unknown */
	int inlined;		/* an inlined call inside the next frame */
	int module;		/* the module's id from symbolizer_add_module, -1 if none */
};

int symbolizer_new(struct symbolizer **out);
void symbolizer_free(struct symbolizer *s);

/*
 * Make an object known for addresses [start, end) of the given image,
 * loaded at bias; id is the caller's name for it, returned in
 * sym_frame.module. Adding a module known already only renames it. 0, or
 * -ENOENT when the file cannot be read (its frames stay raw), -ENOMEM.
 */
int symbolizer_add_module(struct symbolizer *s, uint32_t image, int id, const char *path,
			  uint64_t bias, uint64_t start, uint64_t end);

/* Note that a stack holds ip (a return address of that image): its
 * object will be needed. Returns 1 when that object was not needed yet. */
int symbolizer_want(struct symbolizer *s, uint32_t image, uint64_t ip);

/* Read now what resolving will need of every object wanted so far: the
 * DWARF (found, read, decompressed) and the symbol table. */
void symbolizer_load(struct symbolizer *s);

/*
 * Resolve a return address (looked up at ip - 1) into at most max frames,
 * innermost first. Returns how many were written: at least 1 (a frame with
 * only .module, or nothing, set when the address is unknown).
 */
int symbolizer_resolve(struct symbolizer *s, uint32_t image, uint64_t ip,
		       struct sym_frame *out, int max);

/* The symbol (a function or a data object) holding addr, and addr's
 * offset in it; NULL when no symbol covers addr. */
const char *symbolizer_symbol(struct symbolizer *s, uint32_t image, uint64_t addr, uint64_t *offset);

/* The module's GNU build-id in hex, "" when it has none. */
const char *symbolizer_build_id(struct symbolizer *s, uint32_t image, int id);

#endif
