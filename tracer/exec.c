/*
 * exec.c - the exec entry points, so heapwise can tell an exec that left
 * tracing behind: just before the real exec, the traced process writes the
 * path it goes to and the image it leaves into the region; an exec that
 * returns (it failed) clears it. A new image that attaches is a newer
 * image, and the collector sees that; an image that cannot be traced
 * (static, set-user-ID, started without LD_PRELOAD, as `env -i` does)
 * never attaches, and the collector says which it was.
 *
 * glibc's exec functions reach the kernel through internal aliases, not
 * through each other's PLT entries, so each is hooked on its own.
 */
#define _GNU_SOURCE
#include <alloca.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "tracer.h"

#define EXPORT	__attribute__((visibility("default")))

typedef int execve_fn(const char *, char *const[], char *const[]);
typedef int execv_fn(const char *, char *const[]);
typedef int fexecve_fn(int, char *const[], char *const[]);
typedef int execveat_fn(int, const char *, char *const[], char *const[], int);

/* The real function, found once. */
#define REAL(name, type) \
	static type *real_##name; \
	if (!real_##name) \
		real_##name = (type *)dlsym(RTLD_NEXT, #name)

/* Is this the traced process (not a vfork child sharing our memory)? */
static int traced_process(void)
{
	return hw_hdr && hw_active && (pid_t)syscall(SYS_getpid) == hw_layout.traced_pid;
}

/* About to exec path (or, fd >= 0 and no path, the file open on fd). */
static void exec_begin(const char *path, int fd)
{
	struct wire_header *h = hw_hdr;
	char fdname[32];
	size_t n;

	if (!traced_process())
		return;
	if (!path || !*path) {
		snprintf(fdname, sizeof(fdname), "(file descriptor %d)", fd);
		path = fdname;
	}
	n = strnlen(path, WIRE_PATH_MAX - 1);
	memcpy(h->exec_path, path, n);
	h->exec_path[n] = '\0';
	__atomic_store_n(&h->exec_from_image, hw_image, __ATOMIC_RELEASE);
}

/* The exec returned: it failed, and this image goes on. */
static int exec_end(int ret)
{
	int saved = errno;

	if (traced_process())
		__atomic_store_n(&hw_hdr->exec_from_image, 0, __ATOMIC_RELEASE);
	errno = saved;
	return ret;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	REAL(execve, execve_fn);
	exec_begin(path, -1);
	return exec_end(real_execve(path, argv, envp));
}

EXPORT int execv(const char *path, char *const argv[])
{
	REAL(execv, execv_fn);
	exec_begin(path, -1);
	return exec_end(real_execv(path, argv));
}

EXPORT int execvp(const char *file, char *const argv[])
{
	REAL(execvp, execv_fn);
	exec_begin(file, -1);
	return exec_end(real_execvp(file, argv));
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	REAL(execvpe, execve_fn);
	exec_begin(file, -1);
	return exec_end(real_execvpe(file, argv, envp));
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	REAL(fexecve, fexecve_fn);
	exec_begin(NULL, fd);
	return exec_end(real_fexecve(fd, argv, envp));
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	REAL(execveat, execveat_fn);
	exec_begin(path, dirfd);
	return exec_end(real_execveat(dirfd, path, argv, envp, flags));
}

/*
 * execl, execlp, execle: the arguments into an array on the stack (as
 * glibc does), then the hook above. The count is bounded the way the
 * kernel bounds it: a program passing more gets E2BIG.
 */
#define MAX_LIST_ARGS	(1 << 16)

/* How many arguments: arg (never NULL: glibc declares it so) and those
 * after it up to the NULL. */
static int count_args(va_list ap)
{
	int n = 1;

	while (va_arg(ap, const char *) && n < MAX_LIST_ARGS)
		n++;
	return n;
}

#define LIST_TO_ARGV(arg, argv, envp_out) \
	do { \
		va_list ap; \
		int n, i; \
		va_start(ap, arg); \
		n = count_args(ap); \
		va_end(ap); \
		if (n >= MAX_LIST_ARGS) { \
			errno = E2BIG; \
			return -1; \
		} \
		argv = alloca((size_t)(n + 1) * sizeof(*argv)); \
		argv[0] = (char *)arg; \
		va_start(ap, arg); \
		for (i = 1; i <= n; i++) \
			argv[i] = va_arg(ap, char *); \
		envp_out; \
		va_end(ap); \
	} while (0)

EXPORT int execl(const char *path, const char *arg, ...)
{
	char **argv;

	LIST_TO_ARGV(arg, argv, (void)0);
	return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	char **argv;

	LIST_TO_ARGV(arg, argv, (void)0);
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	char **argv, **envp;

	LIST_TO_ARGV(arg, argv, envp = va_arg(ap, char **));
	return execve(path, argv, envp);
}
