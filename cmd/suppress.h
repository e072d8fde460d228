/*
 * suppress.h - LeakSanitizer suppression files: `leak:PATTERN` lines.
 *
 * A file as LeakSanitizer reads it works as it is: one suppression per
 * line, `#` starts a comment, lines of other sanitizers' types (race:,
 * interceptor_via_fun:, ...) are left alone. PATTERN is matched against
 * the function, the source file and the module of every frame of a block's
 * stack; `*` matches anything, `^` anchors it at the start and `$` at the
 * end, otherwise it may match anywhere (LeakSanitizer's TemplateMatch).
 */
#ifndef HEAPWISE_SUPPRESS_H
#define HEAPWISE_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "../report/profile/profile.h"

struct suppressions {
	char **patterns;
	size_t n, cap;
};

/* Add the leak: lines of a file. Returns 0, or 1 after an error message. */
int suppressions_load(struct suppressions *s, const char *path);
void suppressions_release(struct suppressions *s);

/* Does a pattern match any frame of the stack? */
int suppressions_match(const struct suppressions *s, const struct profile *p, uint32_t stack);

/* LeakSanitizer's TemplateMatch, exposed for the tests. */
int suppression_pattern_match(const char *pattern, const char *s);

#endif
