/*
 * debugcache.h - plain copies of compressed debug files, kept by build-id.
 *
 * Debian's debug packages (libc6-dbg, the -dbgsym ones) store their DWARF
 * in compressed sections, and libdw inflates every one of them each time
 * it opens the file: libc's 3.8 MB become 10 MB, about 45 ms of CPU in
 * every run, taken from the traced program on a small machine. The first
 * run that opens such a file writes a copy with the sections stored plain;
 * later runs open the copy, which libdw maps as it is.
 *
 * The cache lives in $HEAPWISE_CACHE_DIR/debug, else
 * $XDG_CACHE_HOME/heapwise/debug, else ~/.cache/heapwise/debug; an empty
 * HEAPWISE_CACHE_DIR turns it off. It keeps at most DEBUGCACHE_LIMIT
 * bytes, dropping the copies used longest ago. A copy is trusted only when
 * its build-id is the one asked for; anything wrong with the cache sends
 * us back to the original file.
 */
#ifndef HEAPWISE_DEBUGCACHE_H
#define HEAPWISE_DEBUGCACHE_H

#include <stddef.h>

#define DEBUGCACHE_LIMIT	(1ull << 30)	/* bytes kept in all */
#define DEBUGCACHE_MAX_FILE	(256ull << 20)	/* larger plain copies are not made */

/*
 * The cached copy for this build-id, opened: its descriptor, and its path
 * in *path (malloc'd). -1 when there is none (or the cache is off).
 */
int debugcache_find(const unsigned char *build_id, size_t len, char **path);

/*
 * Given the original debug file (fd, *path) of this build-id: when it has
 * compressed sections, write a plain copy to the cache and return the
 * copy in its place (fd closed, *path replaced). Otherwise, or on any
 * failure, return fd as it is.
 */
int debugcache_store(const unsigned char *build_id, size_t len, int fd, char **path);

#endif
