/*
 * selector.c - read FILE@SNAP (see selector.h).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "selector.h"
#include "usage.h"

int selector_open(const char *arg, struct profile *p, const struct profile_snapshot **snap, int scanned)
{
	char err[PROFILE_ERRLEN], *file;
	const char *name = NULL, *at = strrchr(arg, '@');
	int ret;

	if (access(arg, F_OK) == 0 || !at) {
		file = strdup(arg);
	} else {
		file = strndup(arg, (size_t)(at - arg));
		name = at + 1;
	}
	if (!file)
		return error("out of memory");
	if (name && !*name) {
		free(file);
		return error("'%s' names no snapshot after '@' (try @exit, @peak or a number)", arg);
	}
	/* the other snapshots stay in the file, and the scans too when unwanted */
	ret = scanned ? profile_read_lazy(p, file, err) : profile_read_lazy_unscanned(p, file, err);
	if (ret < 0) {
		free(file);
		return error("%s", err);
	}
	/* a bare FILE: the heap the program ended with, a Python program's
	 * before the interpreter freed its objects, unless a scan is wanted:
	 * py-exit has none (the exit scan finds what C left) */
	if (!name)
		name = !scanned && profile_find_snapshot(p, "py-exit") ? "py-exit" : "exit";
	*snap = profile_find_snapshot(p, name);
	if (!*snap) {
		char list[512];
		size_t len = 0;

		list[0] = '\0';
		for (size_t i = 0; i < p->nsnapshots && len < sizeof(list) - 64; i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%zu %s", i ? ", " : "",
						i + 1, profile_str(p, p->snapshots[i].name));
		error("'%s' has no snapshot '%s' (it has: %s)", file, name, p->nsnapshots ? list : "none");
		profile_release(p);
		free(file);
		return 1;
	}
	if (profile_load_snapshot(p, (struct profile_snapshot *)*snap, err) < 0) {
		error("%s", err);
		profile_release(p);
		free(file);
		return 1;
	}
	free(file);
	return 0;
}
