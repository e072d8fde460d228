/*
 * site-names.h - the one way every command names a place in the program:
 * which frame of a stack a block is charged to, and what that frame and a
 * group of blocks are called in text, so that `run`, `stats`, `top`,
 * `diff`, `leaks`, `refs`, `live` and the exports say the same thing.
 *
 * The site of a stack is its first frame outside the allocator's own
 * wrappers (operator new, strdup, xmalloc, g_malloc, ... : see
 * site-names.c) and those the user names (--alloc-fn, kept in the profile
 * as "alloc-fn" meta entries, so every command applies the same rule), so
 * a block made by `new Foo` is charged to the line that said `new`, not to
 * libstdc++. A stack with Python frames is charged to its innermost Python
 * line, whatever native code (CPython's, an extension's) made the block.
 *
 * A frame is named "function file:line" with the source file as the
 * profile records it (the path the compiler was given), "function" without
 * a line, "module+0xOFFSET" without a symbol ("0xADDRESS" outside any
 * module), "<unknown stack>" for none.
 */
#ifndef HEAPWISE_SITE_NAMES_H
#define HEAPWISE_SITE_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "../profile/profile.h"

#define SITE_ALLOC_FN_META	"alloc-fn"	/* meta key of a user's wrapper pattern */

/* Make pattern (fnmatch) one of p's allocator wrappers, for every site
 * found in p from now on (and in the file, if p is written). 0 or -ENOMEM. */
int site_add_alloc_fn(struct profile *p, const char *pattern);

/* Is function one of the built-in allocator wrappers? */
int site_is_alloc_wrapper(const char *function);

/* The position in the stack of its site (the last frame when all are
 * wrappers: built-in, or p's own); 0 for an empty stack. */
uint32_t site_index(const struct profile *p, uint32_t stack);

/* The site's frame; PROFILE_NONE for an empty stack. */
uint32_t site_frame(const struct profile *p, uint32_t stack);

/* Python's view: every stack with Python frames keeps only those (the
 * native frames are shown with --native). */
void site_python_view(struct profile *p);

/* A module's file name without its directory; "?" for PROFILE_NONE. */
const char *site_module_name(const struct profile *p, uint32_t module);

/* A frame's offset in its module (its address outside any). */
uint64_t site_module_offset(const struct profile *p, const struct profile_frame *f);

/* The frame's name, as the header says. */
void site_name(const struct profile *p, uint32_t frame, char *buf, size_t len);

/* Does text name the frame? Any name the reports print does: the whole
 * name, FUNCTION, FILE:LINE (the file as recorded, or a tail of it after a
 * '/'), MODULE+0xOFFSET, 0xADDRESS. */
int site_name_matches(const struct profile *p, uint32_t frame, const char *text);

#endif
