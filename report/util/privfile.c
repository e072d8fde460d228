/*
 * privfile.c - private files written whole (see privfile.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "privfile.h"

static int fail(char err[PRIVFILE_ERRLEN], int ret, const char *path, const char *why)
{
	snprintf(err, PRIVFILE_ERRLEN, "cannot write '%s': %s", path, why ? why : strerror(-ret));
	return ret;
}

/* The target exists and is not a regular file? Then say what it is. */
static int not_regular(const char *path, char err[PRIVFILE_ERRLEN])
{
	struct stat st;
	const char *what;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : fail(err, -errno, path, NULL);
	if (S_ISREG(st.st_mode))
		return 0;
	what = S_ISDIR(st.st_mode) ? "it is a directory" :
	       S_ISLNK(st.st_mode) ? "it is a symbolic link, which heapwise does not replace" :
	       S_ISFIFO(st.st_mode) ? "it is a FIFO, which heapwise does not replace" :
	       S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "it is a device, which heapwise does not replace" :
	       "it is not a regular file, which heapwise does not replace";
	return fail(err, S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST, path, what);
}

/* "DIR/.NAME.XXXXXX" for path "DIR/NAME". */
static char *temp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *tmp = NULL;
	int dirlen = slash ? (int)(slash - path + 1) : 0;

	if (asprintf(&tmp, "%.*s.%s.XXXXXX", dirlen, path, slash ? slash + 1 : path) < 0)
		return NULL;
	return tmp;
}

int privfile_open(struct privfile *f, const char *path, char err[PRIVFILE_ERRLEN])
{
	int ret;

	f->path = NULL;
	f->tmp = NULL;
	f->fd = -1;
	if (!path || !*path)
		return fail(err, -ENOENT, path ? path : "", "no file name was given");
	if (path[strlen(path) - 1] == '/')
		return fail(err, -EISDIR, path, "it names a directory");
	if ((ret = not_regular(path, err)) < 0)
		return ret;
	f->path = strdup(path);
	f->tmp = temp_template(path);
	if (!f->path || !f->tmp) {
		privfile_abandon(f);
		return fail(err, -ENOMEM, path, "out of memory");
	}
	/* mkostemp makes it 0600, with a name nobody could have planted */
	f->fd = mkostemp(f->tmp, O_CLOEXEC);
	if (f->fd < 0) {
		ret = -errno;
		free(f->tmp);
		f->tmp = NULL;
		privfile_abandon(f);
		return fail(err, ret, path, NULL);
	}
	return 0;
}

int privfile_check(const char *path, char err[PRIVFILE_ERRLEN])
{
	struct privfile f;
	int ret = privfile_open(&f, path, err);

	if (ret == 0)
		privfile_abandon(&f);
	return ret;
}

int privfile_commit(struct privfile *f, char err[PRIVFILE_ERRLEN])
{
	int ret = 0;

	if (close(f->fd) < 0)
		ret = fail(err, -errno, f->path, NULL);
	f->fd = -1;
	if (ret == 0)
		ret = not_regular(f->path, err);	/* it may have changed since */
	if (ret == 0 && rename(f->tmp, f->path) < 0)
		ret = fail(err, -errno, f->path, NULL);
	if (ret == 0) {
		free(f->tmp);
		f->tmp = NULL;
	}
	privfile_abandon(f);
	return ret;
}

void privfile_abandon(struct privfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
}
