/*
 * launch.c - starting the traced program (see launch.h): finding it and the
 * tracer, refusing what LD_PRELOAD cannot trace, passing signals on, and
 * the child's side of fork (its output, its environment, exec).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../report/collect/collector.h"
#include "../report/profile/profile.h"
#include "launch.h"
#include "usage.h"

#ifndef HEAPWISE_VERSION
#define HEAPWISE_VERSION "0.1"
#endif
#ifndef HEAPWISE_LIBDIR
#define HEAPWISE_LIBDIR "/usr/local/lib/heapwise"
#endif

/* Signals heapwise passes on to the program when someone sends them to it. */
static const int forwarded[] = { SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

static struct sigaction saved_actions[NFORWARDED + 1];	/* +1: SIGPIPE */
volatile sig_atomic_t launch_child_pid;
static int forward_winch = 1;	/* clear while our dashboard owns the terminal's resizes */

/* ------------------------------------------------------------------ */
/* Finding the program and the tracer                                  */
/* ------------------------------------------------------------------ */

/* Resolve prog as execvp would; returns 0 with path filled, or -errno. */
int launch_find_program(const char *prog, char path[PATH_MAX])
{
	const char *dirs = getenv("PATH");
	int last = -ENOENT;

	if (strchr(prog, '/')) {
		if (snprintf(path, PATH_MAX, "%s", prog) >= PATH_MAX)
			return -ENAMETOOLONG;
		return access(path, X_OK) == 0 ? 0 : -errno;
	}
	if (!dirs)
		dirs = "/usr/local/bin:/usr/bin:/bin";
	while (*dirs) {
		size_t len = strcspn(dirs, ":");

		if (snprintf(path, PATH_MAX, "%.*s/%s", (int)(len ? len : 1), len ? dirs : ".", prog) < PATH_MAX) {
			struct stat st;

			if (access(path, X_OK) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
				return 0;
			if (errno == EACCES)
				last = -EACCES;
		}
		dirs += len;
		if (*dirs == ':')
			dirs++;
	}
	return last;
}

/*
 * Refuse what LD_PRELOAD cannot trace, with the reason: static programs (no
 * dynamic loader), 32-bit programs (the tracer is 64-bit), set-user-ID and
 * set-group-ID programs (the loader ignores LD_PRELOAD for them). Scripts
 * are fine: their interpreter is what runs.
 */
int launch_check_program(const char *path)
{
	unsigned char ident[EI_NIDENT];
	Elf64_Ehdr eh;
	struct stat st;
	int fd, ret = 0;

	if (stat(path, &st) < 0)
		return error("cannot run '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error("cannot run '%s': not a regular file", path);
	if (st.st_mode & (S_ISUID | S_ISGID))
		return error("cannot trace '%s': it is set-user-ID or set-group-ID, and the dynamic "
			     "loader ignores LD_PRELOAD for such programs", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* execute-only: let exec decide */
	if (pread(fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident) || memcmp(ident, ELFMAG, SELFMAG) != 0)
		goto out;	/* a script or something exec understands */
	if (ident[EI_CLASS] != ELFCLASS64) {
		ret = error("cannot trace '%s': it is a 32-bit program and heapwise traces 64-bit ones", path);
		goto out;
	}
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
		goto out;
	{
		int dynamic = 0;

		for (unsigned i = 0; i < eh.e_phnum && !dynamic; i++) {
			Elf64_Phdr ph;
			off_t at = (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize);

			if (pread(fd, &ph, sizeof(ph), at) != (ssize_t)sizeof(ph))
				break;
			dynamic = ph.p_type == PT_INTERP;
		}
		if (!dynamic)
			ret = error("cannot trace '%s': it is statically linked, so LD_PRELOAD cannot "
				    "reach its allocator", path);
	}
out:
	close(fd);
	return ret;
}

/* The tracer next to us (build tree), or in the installed layout. */
int launch_find_tracer(char path[PATH_MAX])
{
	const char *env = getenv("HEAPWISE_LIB");
	char self[PATH_MAX], *dir;
	ssize_t n;

	if (env && *env) {
		if (access(env, R_OK) < 0)
			return error("cannot use HEAPWISE_LIB '%s': %s", env, strerror(errno));
		snprintf(path, PATH_MAX, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		dir = dirname(self);
		snprintf(path, PATH_MAX, "%s/libheapwise.so", dir);
		if (access(path, R_OK) == 0)
			return 0;
		snprintf(path, PATH_MAX, "%s/../lib/heapwise/libheapwise.so", dir);
		if (access(path, R_OK) == 0)
			return 0;
	}
	snprintf(path, PATH_MAX, "%s/libheapwise.so", HEAPWISE_LIBDIR);
	if (access(path, R_OK) == 0)
		return 0;
	return error("cannot find libheapwise.so next to heapwise or in %s (set HEAPWISE_LIB)",
		     HEAPWISE_LIBDIR);
}

/* ------------------------------------------------------------------ */
/* Signals                                                             */
/* ------------------------------------------------------------------ */

static void forward_signal(int sig, siginfo_t *info, void *ctx)
{
	(void)ctx;
	/* from the terminal, the program got it too (same process group) */
	if (launch_child_pid > 0 && info->si_code <= 0 && sig != SIGCONT)
		kill((pid_t)launch_child_pid, sig);
	else if (launch_child_pid > 0 && sig == SIGCONT)
		kill((pid_t)launch_child_pid, SIGCONT);
}

void launch_forward_signals(int winch)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	forward_winch = winch;
	for (size_t i = 0; i < NFORWARDED; i++)
		if (forwarded[i] != SIGWINCH || forward_winch)
			sigaction(forwarded[i], &sa, &saved_actions[i]);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, &saved_actions[NFORWARDED]);	/* a closed stderr must not kill us */
}

/* SIGPIPE stays ignored in heapwise to the end: a summary written to a
 * pipe that closed early must not turn the program's status into ours.
 * Only the program gets its disposition back. */
void launch_restore_signals(void)
{
	for (size_t i = 0; i < NFORWARDED; i++)
		if (forwarded[i] != SIGWINCH || forward_winch)
			sigaction(forwarded[i], &saved_actions[i], NULL);
}

static void restore_sigpipe(void)
{
	sigaction(SIGPIPE, &saved_actions[NFORWARDED], NULL);
}

/* ------------------------------------------------------------------ */
/* Starting the program                                                */
/* ------------------------------------------------------------------ */

static int prepend_preload(const char *tracer)
{
	const char *old = getenv("LD_PRELOAD");
	char *value;
	int ret;

	if (old && *old)
		ret = asprintf(&value, "%s:%s", tracer, old);
	else
		ret = asprintf(&value, "%s", tracer);
	if (ret < 0)
		return -1;
	ret = setenv("LD_PRELOAD", value, 1);
	free(value);
	return ret;
}

/* Where the program's output goes when it must not reach our dashboard's
 * terminal: --program-output, or heapwise.PROGRAM.PID.out. */
void launch_output_path(const struct run_options *o, const char *path, pid_t pid, char out[PATH_MAX])
{
	char copy[PATH_MAX];

	if (o->lv.program_output) {
		snprintf(out, PATH_MAX, "%s", o->lv.program_output);
		return;
	}
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(out, PATH_MAX, "heapwise.%s.%d.out", basename(copy), (int)pid);
}

/*
 * In the child, with a dashboard: keep the program off the terminal. Its
 * stdin becomes /dev/null if it was the terminal; its stdout and stderr go
 * to the output file if they were the terminal, or always with
 * --program-output. (--batch without --program-output changes nothing.)
 * Returns 0 or an errno.
 */
static int redirect_program(const struct run_options *o, const char *path)
{
	char out[PATH_MAX];
	int fd = -1, all = o->lv.program_output != NULL;

	if (o->lv.batch && !all)
		return 0;
	if (!all && isatty(0)) {
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			return errno;
		close(fd);
	}
	if (!all && !isatty(1) && !isatty(2))
		return 0;
	launch_output_path(o, path, getpid(), out);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);	/* the program's, private */
	if (fd < 0)
		return errno;
	if (((all || isatty(1)) && dup2(fd, 1) < 0) || ((all || isatty(2)) && dup2(fd, 2) < 0))
		return errno;
	close(fd);
	return 0;
}

/* In the child: become the traced program. Never returns. */
void launch_exec(struct collector *c, const struct run_options *o, const char *tracer, const char *path,
		 char **argv, int report_fd)
{
	int err;

	launch_restore_signals();
	restore_sigpipe();
	if (o->live && (err = redirect_program(o, path)) != 0) {
		err = -err;	/* negative: the output file, not the exec */
		if (write(report_fd, &err, sizeof(err)) < 0)
			_exit(127);
		_exit(126);
	}
	if (collector_prepare_child(c) < 0 || prepend_preload(tracer) < 0) {
		err = ENOMEM;
	} else {
		execv(path, argv);
		err = errno;
	}
	if (write(report_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(err == ENOENT ? 127 : 126);
}

/* The words of argv joined by spaces, cut to fit. */
void launch_command_line(char **argv, int argc, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && len < size - 1; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", argv[i]);
}

void launch_set_meta(struct profile *p, char **argv, int argc, const char *path)
{
	char buf[PATH_MAX], when[64];
	time_t now = time(NULL);
	struct tm tm;

	launch_command_line(argv, argc, buf, sizeof(buf));
	profile_set_meta(p, "command", buf);
	profile_set_meta(p, "program", path);
	if (getcwd(buf, sizeof(buf)))
		profile_set_meta(p, "cwd", buf);
	if (gethostname(buf, sizeof(buf)) == 0)
		profile_set_meta(p, "host", buf);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	profile_set_meta(p, "finished", when);
	profile_set_meta(p, "heapwise", HEAPWISE_VERSION);
}

