/*
 * remoteread.h - many small pieces of a stopped program's memory read at
 * once: process_vm_readv takes a batch of them, and a piece that cannot be
 * read costs only itself, not the batch.
 */
#ifndef HEAPWISE_REMOTEREAD_H
#define HEAPWISE_REMOTEREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct remote_piece {
	uint64_t addr;		/* in the program */
	size_t len;
	uint8_t *buf;		/* ours, len bytes */
	int ok;			/* set when the whole piece was read */
};

/* Read every piece of pid's memory that can be read, the others left !ok.
 * 0, or -ESRCH when the program is gone. */
int remote_read(pid_t pid, struct remote_piece *p, size_t n);

/* One word of pid's memory at addr into *out: 0, or -1 if it cannot be read. */
int remote_read_word(pid_t pid, uint64_t addr, uint64_t *out);

#endif
