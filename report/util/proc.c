/*
 * proc.c - facts about another process from /proc (see proc.h).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

long proc_status(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t len = strlen(field);
	long value = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			value = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return value;
}

pid_t proc_parent(pid_t pid)
{
	char path[64], buf[512], *p;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 1, " %*c %d", &ppid);
	fclose(f);
	return ppid;
}

int proc_ended(pid_t pid, int *wait_status)
{
	char path[64], buf[1024], *p;
	char state = 0;
	int status = -1;
	FILE *f;

	*wait_status = -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 1;	/* gone, and reaped by its parent */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && sscanf(p + 1, " %c", &state) == 1 &&
	    (state == 'Z' || state == 'X')) {
		/* field 52, exit_code: the wait status its parent will see */
		p += 2;
		for (int field = 3; field < 52 && p; field++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (p && sscanf(p, "%d", &status) == 1 && status >= 0)
			*wait_status = status;
	}
	fclose(f);
	return state == 'Z' || state == 'X';
}
