/*
 * privfile.h - files heapwise writes whole (profiles): private (0600),
 * written to a fresh temporary file in the target's own directory
 * (mkostemp: no name another user can predict or plant a link at) and
 * renamed over the target only when complete. A target that exists and
 * is not a regular file (a device, a FIFO, a symlink, a directory) is
 * refused, never replaced.
 */
#ifndef HEAPWISE_PRIVFILE_H
#define HEAPWISE_PRIVFILE_H

#include <stddef.h>

#define PRIVFILE_ERRLEN	256

struct privfile {
	char *path;	/* the target */
	char *tmp;	/* the temporary file, while open */
	int fd;
};

/*
 * Can path be written, as a whole new file? Before any work that would be
 * lost otherwise: the target is a regular file or absent, and a file can
 * be created in its directory (tried, and removed). 0, or -errno with err
 * naming path and why.
 */
int privfile_check(const char *path, char err[PRIVFILE_ERRLEN]);

/* Open a temporary file for path. 0 with f->fd to write to, or -errno. */
int privfile_open(struct privfile *f, const char *path, char err[PRIVFILE_ERRLEN]);

/* Close it and put it in place of the target (checked again). 0, or
 * -errno with the temporary file removed. */
int privfile_commit(struct privfile *f, char err[PRIVFILE_ERRLEN]);

/* Give up: close and remove the temporary file. */
void privfile_abandon(struct privfile *f);

#endif
