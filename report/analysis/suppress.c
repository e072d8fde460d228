/*
 * suppress.c - LeakSanitizer suppressions: their lines, and matching stacks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/array.h"
#include "suppress.h"

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int suppressions_add_line(struct suppressions *s, char *line, char err[PROFILE_ERRLEN])
{
	char *at = trim(line), *colon;

	if (!*at || *at == '#')
		return 0;
	colon = strchr(at, ':');
	if (!colon) {
		snprintf(err, PROFILE_ERRLEN, "a suppression is TYPE:PATTERN, like leak:my_function, not '%s'", at);
		return -EINVAL;
	}
	*colon = '\0';
	if (strcmp(trim(at), "leak") != 0)
		return 0;	/* another sanitizer's suppression */
	at = trim(colon + 1);
	if (!*at) {
		snprintf(err, PROFILE_ERRLEN, "leak: needs a pattern");
		return -EINVAL;
	}
	if (array_grow((void **)&s->patterns, &s->cap, s->n + 1, sizeof(*s->patterns)) < 0 ||
	    !(s->patterns[s->n] = strdup(at))) {
		snprintf(err, PROFILE_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	s->n++;
	return 0;
}

void suppressions_release(struct suppressions *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->patterns[i]);
	free(s->patterns);
	memset(s, 0, sizeof(*s));
}

/* Does p[0..plen) match s[0..) entirely, with '*' for any run of characters? */
static int star_match(const char *p, size_t plen, const char *s)
{
	size_t slen = strlen(s);

	while (plen && *p != '*') {
		if (!slen || *p != *s)
			return 0;
		p++, s++, plen--, slen--;
	}
	if (!plen)
		return slen == 0;
	while (plen && *p == '*')
		p++, plen--;
	if (!plen)
		return 1;
	for (; ; s++) {
		if (star_match(p, plen, s))
			return 1;
		if (!*s)
			return 0;
	}
}

int suppression_pattern_match(const char *pattern, const char *s)
{
	size_t len = strlen(pattern);
	int at_start = 0, at_end = 0;
	char *full;
	int ret;

	if (!s || !*s)
		return 0;
	if (*pattern == '^') {
		at_start = 1;
		pattern++;
		len--;
	}
	if (len && pattern[len - 1] == '$') {
		at_end = 1;
		len--;
	}
	/* unanchored ends match anything: "*pattern*" */
	full = malloc(len + 3);
	if (!full)
		return 0;
	snprintf(full, len + 3, "%s%.*s%s", at_start ? "" : "*", (int)len, pattern, at_end ? "" : "*");
	ret = star_match(full, strlen(full), s);
	free(full);
	return ret;
}

int suppressions_match(const struct suppressions *s, const struct profile *p, uint32_t stack)
{
	const struct profile_stack *st;

	if (!s->n || stack >= p->nstacks)
		return 0;
	st = &p->stacks[stack];
	for (uint32_t i = 0; i < st->depth; i++) {
		const struct profile_frame *f = &p->frames[p->stack_frames[st->first + i]];
		const char *module = f->module != PROFILE_NONE ? profile_str(p, p->modules[f->module].path) : NULL;

		for (size_t k = 0; k < s->n; k++)
			if (suppression_pattern_match(s->patterns[k], profile_str(p, f->function)) ||
			    suppression_pattern_match(s->patterns[k], profile_str(p, f->file)) ||
			    suppression_pattern_match(s->patterns[k], module))
				return 1;
	}
	return 0;
}
