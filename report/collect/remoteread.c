/*
 * remoteread.c - a stopped program's memory in many small pieces, 256 to
 * a process_vm_readv (pynames.c's keys and objects, rssparts.c's pool
 * headers). The call stops at the first piece it cannot read: those whole
 * before it are kept, it is left out, and the next batch starts after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/uio.h>

#include "remoteread.h"

#define BATCH	256

int remote_read(pid_t pid, struct remote_piece *p, size_t n)
{
	struct iovec local[BATCH], remote[BATCH];

	for (size_t i = 0; i < n;) {
		size_t k = 0, total = 0;
		ssize_t got;

		for (; i + k < n && k < BATCH; k++) {
			local[k] = (struct iovec){ p[i + k].buf, p[i + k].len };
			remote[k] = (struct iovec){ (void *)(uintptr_t)p[i + k].addr, p[i + k].len };
			total += p[i + k].len;
		}
		got = process_vm_readv(pid, local, k, remote, k, 0);
		if (got < 0 && errno == ESRCH)
			return -ESRCH;
		if (got == (ssize_t)total) {
			for (size_t j = 0; j < k; j++)
				p[i + j].ok = 1;
			i += k;
			continue;
		}
		/* the pieces whole before the one that failed, then go on after it */
		for (size_t j = 0; j < k; j++) {
			if (got < (ssize_t)p[i + j].len) {
				i += j + 1;
				break;
			}
			p[i + j].ok = 1;
			got -= (ssize_t)p[i + j].len;
		}
	}
	return 0;
}

int remote_read_word(pid_t pid, uint64_t addr, uint64_t *out)
{
	struct remote_piece p = { addr, sizeof(*out), (uint8_t *)out, 0 };

	remote_read(pid, &p, 1);
	return p.ok ? 0 : -1;
}
