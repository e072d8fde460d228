/*
 * site-names.c - sites of stacks and their names (see site-names.h).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site-names.h"

/* Functions that only pass an allocation on: a block is charged to their caller. */
static const char *const alloc_wrappers[] = {
	"malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc",
	"operator new*", "operator delete*", "_Znw*", "_Zna*",
	"strdup", "strndup", "__strdup", "__strndup", "wcsdup",
	"__libc_malloc", "__libc_calloc", "__libc_realloc",
	"__gnu_cxx::new_allocator*", "std::allocator*", "std::__new_allocator*",
	"__gnu_cxx::__new_allocator*", "std::allocator_traits*",
};

int site_is_alloc_wrapper(const char *function, const char *const *extra, size_t nextra)
{
	for (size_t i = 0; i < sizeof(alloc_wrappers) / sizeof(alloc_wrappers[0]); i++)
		if (fnmatch(alloc_wrappers[i], function, 0) == 0)
			return 1;
	for (size_t i = 0; i < nextra; i++)
		if (fnmatch(extra[i], function, 0) == 0)
			return 1;
	return 0;
}

uint32_t site_index(const struct profile *p, uint32_t stack, const char *const *extra, size_t nextra)
{
	const struct profile_stack *st = &p->stacks[stack];

	if (st->depth == 0)
		return 0;
	for (uint32_t i = 0; i < st->depth; i++) {
		uint32_t f = p->stack_frames[st->first + i];
		const char *fn = profile_str(p, p->frames[f].function);

		if (!*fn || !site_is_alloc_wrapper(fn, extra, nextra))
			return i;
	}
	return st->depth - 1;
}

uint32_t site_frame(const struct profile *p, uint32_t stack, const char *const *extra, size_t nextra)
{
	const struct profile_stack *st = &p->stacks[stack];

	if (st->depth == 0)
		return PROFILE_NONE;
	return p->stack_frames[st->first + site_index(p, stack, extra, nextra)];
}

const char *site_module_name(const struct profile *p, uint32_t module)
{
	const char *path, *slash;

	if (module == PROFILE_NONE || module >= p->nmodules)
		return "?";
	path = profile_str(p, p->modules[module].path);
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

uint64_t site_module_offset(const struct profile *p, const struct profile_frame *f)
{
	return f->module == PROFILE_NONE ? f->ip : f->ip - p->modules[f->module].bias;
}

void site_name(const struct profile *p, uint32_t frame, char *buf, size_t len)
{
	const struct profile_frame *f;
	const char *fn, *file;

	if (frame == PROFILE_NONE) {
		snprintf(buf, len, "<unknown stack>");
		return;
	}
	f = &p->frames[frame];
	fn = profile_str(p, f->function);
	file = profile_str(p, f->file);
	if (*file)
		snprintf(buf, len, "%s %s:%u", *fn ? fn : "??", file, f->line);
	else if (*fn)
		snprintf(buf, len, "%s", fn);
	else if (f->module != PROFILE_NONE)
		snprintf(buf, len, "%s+0x%llx", site_module_name(p, f->module),
			 (unsigned long long)site_module_offset(p, f));
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)f->ip);
}

/* Is want (len bytes) the whole of file, or its tail after a '/'? */
static int file_matches(const char *file, const char *want, size_t len)
{
	size_t flen = strlen(file);

	return len && flen >= len && strncmp(file + flen - len, want, len) == 0 &&
	       (flen == len || file[flen - len - 1] == '/');
}

int site_name_matches(const struct profile *p, uint32_t frame, const char *text)
{
	const struct profile_frame *f;
	const char *colon = strrchr(text, ':'), *fn;
	char name[4096], *end;
	unsigned long line;

	if (frame == PROFILE_NONE)
		return 0;
	f = &p->frames[frame];
	fn = profile_str(p, f->function);
	site_name(p, frame, name, sizeof(name));
	if (strcmp(name, text) == 0 || (*fn && strcmp(fn, text) == 0))
		return 1;
	if (colon && colon[1] && !strchr(colon, ' ')) {
		line = strtoul(colon + 1, &end, 10);
		if (!*end && f->line == line && file_matches(profile_str(p, f->file), text, (size_t)(colon - text)))
			return 1;
	}
	return 0;
}
