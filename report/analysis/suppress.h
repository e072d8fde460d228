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

#include "../profile/profile.h"

struct suppressions {
	char **patterns;
	size_t n, cap;
};

/* Take one line of a suppression file (line is changed): a leak: line is
 * added, a comment, a blank line or another sanitizer's line left out.
 * Returns 0, -EINVAL for a line that is no suppression, or -ENOMEM; err
 * says why. */
int suppressions_add_line(struct suppressions *s, char *line, char err[PROFILE_ERRLEN]);
void suppressions_release(struct suppressions *s);

/* Does a pattern match any frame of the stack? */
int suppressions_match(const struct suppressions *s, const struct profile *p, uint32_t stack);

/* LeakSanitizer's TemplateMatch, exposed for the tests. */
int suppression_pattern_match(const char *pattern, const char *s);

#endif
