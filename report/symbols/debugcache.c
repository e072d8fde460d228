/*
 * debugcache.c - plain copies of compressed debug files (see debugcache.h).
 *
 * A copy is made the way eu-elfcompress -t none makes one: the original's
 * bytes are copied to a temporary file in the cache, libelf opens it for
 * writing, inflates each SHF_COMPRESSED section in place and lays the file
 * out again; the finished file is renamed to <build-id>.debug, so a reader
 * never sees half of one and two runs writing at once both succeed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gelf.h>
#include <elfutils/libdwelf.h>

#include "debugcache.h"

#define BUILD_ID_MAX	64	/* bytes; GNU build-ids are 20 */

/* The cache directory, made if missing when create is set; 0, or -1 when
 * the cache is off (or cannot be made). */
static int cache_dir(char *dir, size_t size, int create)
{
	const char *env = getenv("HEAPWISE_CACHE_DIR");
	const char *base;
	int n;

	if (env)
		n = *env ? snprintf(dir, size, "%s/debug", env) : -1;
	else if ((base = getenv("XDG_CACHE_HOME")) && *base == '/')
		n = snprintf(dir, size, "%s/heapwise/debug", base);
	else if ((base = getenv("HOME")) && *base == '/')
		n = snprintf(dir, size, "%s/.cache/heapwise/debug", base);
	else
		n = -1;
	if (n < 0 || (size_t)n >= size)
		return -1;
	if (!create)
		return 0;
	/* mkdir -p, private to the user */
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* The cache's file for build-id id; its directory made when create is set. */
static int entry_path(char *path, size_t size, const unsigned char *id, size_t len, int create)
{
	char dir[PATH_MAX];
	size_t n;

	if (len == 0 || len > BUILD_ID_MAX || cache_dir(dir, sizeof(dir), create) < 0)
		return -1;
	n = (size_t)snprintf(path, size, "%s/", dir);
	if (n + 2 * len + sizeof(".debug") > size)
		return -1;
	for (size_t i = 0; i < len; i++)
		n += (size_t)sprintf(path + n, "%02x", id[i]);
	strcpy(path + n, ".debug");
	return 0;
}

/* Is fd an ELF file whose build-id is id? */
static int has_build_id(int fd, const unsigned char *id, size_t len)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *got;
	ssize_t got_len;
	int same;

	if (!elf)
		return 0;
	got_len = dwelf_elf_gnu_build_id(elf, &got);
	same = got_len == (ssize_t)len && memcmp(got, id, len) == 0;
	elf_end(elf);
	return same;
}

int debugcache_find(const unsigned char *build_id, size_t len, char **path)
{
	char entry[PATH_MAX];
	int fd;

	if (entry_path(entry, sizeof(entry), build_id, len, 0) < 0)
		return -1;
	fd = open(entry, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (!has_build_id(fd, build_id, len) || !(*path = strdup(entry))) {
		close(fd);
		return -1;	/* a stranger or a wreck: the next store replaces it */
	}
	futimens(fd, NULL);	/* used now: the last to be dropped */
	return fd;
}

/* How many bytes the plain copy would take; 0 when nothing is compressed. */
static size_t plain_size(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL;
	size_t inflated = 0, compressed = 0;
	struct stat st;

	if (!elf)
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		GElf_Chdr chdr;

		if (!gelf_getshdr(scn, &shdr) || !(shdr.sh_flags & SHF_COMPRESSED))
			continue;
		if (!gelf_getchdr(scn, &chdr))
			continue;
		inflated += chdr.ch_size;
		compressed += shdr.sh_size;
	}
	elf_end(elf);
	if (!compressed || fstat(fd, &st) < 0)
		return 0;
	return (size_t)st.st_size - compressed + inflated;
}

/* Copy all of fd into out, from the start. */
static int copy_file(int fd, int out)
{
	off_t in_off = 0;
	char buf[65536];
	ssize_t n;

	while ((n = copy_file_range(fd, &in_off, out, NULL, 1 << 30, 0)) > 0)
		;
	if (n == 0)
		return 0;
	/* no copy_file_range across these file systems: read and write */
	if (ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0)
		return -1;
	in_off = 0;
	while ((n = pread(fd, buf, sizeof(buf), in_off)) > 0) {
		if (write(out, buf, (size_t)n) != n)
			return -1;
		in_off += n;
	}
	return n < 0 ? -1 : 0;
}

/* Inflate every compressed section of the ELF file open in fd, in place. */
static int inflate_sections(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_RDWR, NULL);
	Elf_Scn *scn = NULL;
	int ret = 0;

	if (!elf)
		return -1;
	while (ret == 0 && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;

		if (gelf_getshdr(scn, &shdr) && (shdr.sh_flags & SHF_COMPRESSED))
			ret = elf_compress(scn, 0, 0) < 0 ? -1 : 0;
	}
	if (ret == 0 && elf_update(elf, ELF_C_WRITE) < 0)
		ret = -1;
	elf_end(elf);
	return ret;
}

/* Drop the copies used longest ago until the cache holds at most limit
 * bytes; entry, just written, is never dropped. */
static void trim(const char *entry, unsigned long long limit)
{
	const char *keep = strrchr(entry, '/') + 1;
	char dir[PATH_MAX];
	struct old { char name[128]; time_t used; off_t size; } *list = NULL;
	size_t n = 0, cap = 0;
	unsigned long long total = 0;
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s", entry);
	*strrchr(dir, '/') = '\0';
	dp = opendir(dir);
	if (!dp)
		return;
	while ((d = readdir(dp))) {
		struct stat st;
		size_t len = strlen(d->d_name);

		if (len < 7 || len >= sizeof(list->name) || strcmp(d->d_name + len - 6, ".debug") ||
		    fstatat(dirfd(dp), d->d_name, &st, 0) < 0)
			continue;
		total += (unsigned long long)st.st_size;
		if (strcmp(d->d_name, keep) == 0)
			continue;
		if (n == cap) {
			struct old *grown = realloc(list, (cap = cap ? 2 * cap : 16) * sizeof(*list));

			if (!grown)
				break;
			list = grown;
		}
		memcpy(list[n].name, d->d_name, len + 1);
		list[n].used = st.st_mtime;
		list[n++].size = st.st_size;
	}
	while (total > limit && n) {
		size_t oldest = 0;

		for (size_t i = 1; i < n; i++)
			if (list[i].used < list[oldest].used)
				oldest = i;
		if (unlinkat(dirfd(dp), list[oldest].name, 0) == 0)
			total -= (unsigned long long)list[oldest].size;
		list[oldest] = list[--n];
	}
	closedir(dp);
	free(list);
}

int debugcache_store(const unsigned char *build_id, size_t len, int fd, char **path)
{
	char entry[PATH_MAX], tmp[PATH_MAX + 16];
	size_t size = plain_size(fd);
	char *entry_copy = NULL;
	int out;

	if (size == 0 || size > DEBUGCACHE_MAX_FILE ||
	    entry_path(entry, sizeof(entry), build_id, len, 1) < 0)
		return fd;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", entry);
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0)
		return fd;
	if (copy_file(fd, out) < 0 || inflate_sections(out) < 0 ||
	    !has_build_id(out, build_id, len) || !(entry_copy = strdup(entry)) ||
	    rename(tmp, entry) < 0) {
		free(entry_copy);
		close(out);
		unlink(tmp);
		return fd;
	}
	trim(entry, DEBUGCACHE_LIMIT);
	close(fd);
	free(*path);
	*path = entry_copy;
	return out;
}
