/*
 * cmd-run.c - `heapwise run`: start a program with the tracer preloaded,
 * drain its events while it runs, then write the profile and a summary.
 *
 * heapwise stays the program's parent and keeps out of its way: the
 * program gets heapwise's stdin/stdout/stderr and the signal dispositions
 * heapwise was started with, signals sent to heapwise by another process
 * are passed on, and heapwise exits with the program's status.
 *
 * Dashboards (`heapwise live PID`) can watch the run at any time through
 * report/live.h. With --live (or `heapwise live -- PROG`) one is shown
 * here, on a thread of its own; the program's output that would go to the
 * terminal goes to a file instead.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libgen.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <pthread.h>

#include "../report/analysis/leaks.h"
#include "../report/collect/collector.h"
#include "../report/collect/live-server.h"
#include "../report/profile/profile.h"
#include "../report/util/clock.h"
#include "../report/util/proc.h"
#include "builtin.h"
#include "live-ui.h"
#include "report-args.h"
#include "run.h"
#include "summary.h"
#include "usage.h"

#ifndef HEAPWISE_VERSION
#define HEAPWISE_VERSION "0.1"
#endif
#ifndef HEAPWISE_LIBDIR
#define HEAPWISE_LIBDIR "/usr/local/lib/heapwise"
#endif

#define RUN_OPTIONS_HELP \
	"  -o, --output FILE          write the profile to FILE (default heapwise.PROGRAM.PID.hws)\n" \
	"  -s, --snapshot-every SECS  take a snapshot every SECS seconds (0.01-86400; also on\n" \
	"                             `heapwise snapshot PID`, and always at the peak and exit)\n" \
	"  -d, --max-depth N          keep at most N frames per stack (1-256, default 64)\n" \
	"  -i, --interval MS          sample heap and RSS every MS milliseconds (1-60000, default 10)\n" \
	"  -t, --temporary-threshold N\n" \
	"                             count a block as temporary when it is freed with at most\n" \
	"                             N other allocations in between (default 1)\n" \
	"  -n, --top N                list N sites in the summary (default 5, 0 for none)\n" \
	"      --no-scan              do not scan the heap for leaks when the program exits\n" \
	"      --error-exitcode N     exit with N (1-255) when the exit scan finds leaks\n" \
	"      --errors-for-leak-kinds KINDS\n" \
	"                             the leaks that count for --error-exitcode: definite,\n" \
	"                             indirect, possible, reachable or all (default definite,possible)\n" \
	"  -q, --quiet                print no summary, only errors\n"

static const char run_usage[] =
	"usage: heapwise run [-o FILE] [-s SECS] [-d N] [-i MS] [-t N] [-n N] [-q] [--no-scan] [--error-exitcode N] [--live [live options]] [--] PROGRAM [ARGS...]\n"
	"\n"
	RUN_OPTIONS_HELP
	"      --live                 show the live dashboard (heapwise-live(1)) while it runs; with:\n"
	LIVE_OPTIONS_HELP
	"  -h, --help                 show this help\n";

static const char live_usage[] =
	"usage: heapwise live [live options] [run options] [--] PROGRAM [ARGS...]\n"
	"   or: heapwise live [live options] PID\n"
	"\n"
	"Live options:\n"
	LIVE_OPTIONS_HELP
	"\n"
	"Run options, when starting PROGRAM (see heapwise-run(1)):\n"
	RUN_OPTIONS_HELP
	"  -h, --help                 show this help\n";

enum {
	OPT_NO_SCAN = 256, OPT_ERROR_EXITCODE, OPT_ERRORS_FOR, OPT_LIVE, OPT_DELAY, OPT_BATCH,
	OPT_COUNT, OPT_ROWS, OPT_BY, OPT_SORT, OPT_PROGRAM_OUTPUT,
};

static const struct option run_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "snapshot-every", required_argument, NULL, 's' },
	{ "max-depth", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "temporary-threshold", required_argument, NULL, 't' },
	{ "top", required_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "no-scan", no_argument, NULL, OPT_NO_SCAN },
	{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE },
	{ "errors-for-leak-kinds", required_argument, NULL, OPT_ERRORS_FOR },
	{ "live", no_argument, NULL, OPT_LIVE },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "batch", no_argument, NULL, OPT_BATCH },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "by", required_argument, NULL, OPT_BY },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "program-output", required_argument, NULL, OPT_PROGRAM_OUTPUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};


/* Signals heapwise passes on to the program when someone sends them to it. */
static const int forwarded[] = { SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

static struct sigaction saved_actions[NFORWARDED + 1];	/* +1: SIGPIPE */
static volatile sig_atomic_t child_pid;
static int forward_winch = 1;	/* clear while our dashboard owns the terminal's resizes */

/* ------------------------------------------------------------------ */
/* Finding the program and the tracer                                  */
/* ------------------------------------------------------------------ */

/* Resolve prog as execvp would; returns 0 with path filled, or -errno. */
static int find_program(const char *prog, char path[PATH_MAX])
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
static int check_program(const char *path)
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
static int find_tracer(char path[PATH_MAX])
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
	if (child_pid > 0 && info->si_code <= 0 && sig != SIGCONT)
		kill((pid_t)child_pid, sig);
	else if (child_pid > 0 && sig == SIGCONT)
		kill((pid_t)child_pid, SIGCONT);
}

static void install_forwarding(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NFORWARDED; i++)
		if (forwarded[i] != SIGWINCH || forward_winch)
			sigaction(forwarded[i], &sa, &saved_actions[i]);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, &saved_actions[NFORWARDED]);	/* a closed stderr must not kill us */
}

static void restore_signals(void)
{
	for (size_t i = 0; i < NFORWARDED; i++)
		if (forwarded[i] != SIGWINCH || forward_winch)
			sigaction(forwarded[i], &saved_actions[i], NULL);
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
static void program_output_path(const struct run_options *o, const char *path, pid_t pid,
				char out[PATH_MAX])
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
	program_output_path(o, path, getpid(), out);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	if (((all || isatty(1)) && dup2(fd, 1) < 0) || ((all || isatty(2)) && dup2(fd, 2) < 0))
		return errno;
	close(fd);
	return 0;
}

/* In the child: become the traced program. Never returns. */
static void exec_program(struct collector *c, const struct run_options *o, const char *tracer,
			 const char *path, char **argv, int report_fd)
{
	int err;

	restore_signals();
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
static void command_line(char **argv, int argc, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && len < size - 1; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", argv[i]);
}

static void set_meta(struct profile *p, char **argv, int argc, const char *path)
{
	char buf[PATH_MAX], when[64];
	time_t now = time(NULL);
	struct tm tm;

	command_line(argv, argc, buf, sizeof(buf));
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

/* ------------------------------------------------------------------ */
/* Our own dashboard (--live)                                          */
/* ------------------------------------------------------------------ */

/* The dashboard runs on a thread of its own, talking to our live server
 * through a socketpair like any other: replay never waits on drawing. */
struct dashboard {
	struct tui *tui;		/* the terminal, NULL with --batch */
	const struct live_options *lv;
	int sock[2];			/* ours (the server's), the dashboard's */
	pthread_t thread;
	int running;			/* the thread was started and not joined */
	int done;			/* atomic: the user left it */
	int announced;			/* we said so */
	int failed;			/* it ended on an error */
	pid_t pid;			/* the program */
};

static void *dashboard_thread(void *arg)
{
	struct dashboard *d = arg;
	int ret;

	if (d->lv->batch)
		ret = live_batch(d->sock[1], d->lv, stdout);
	else
		ret = tui_run(d->tui, d->sock[1], d->lv);
	d->sock[1] = -1;	/* closed by them */
	d->failed = ret != 0;
	__atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int dashboard_start(struct dashboard *d, struct live_server *server, const struct run_options *o,
			   pid_t pid)
{
	d->lv = &o->lv;
	d->pid = pid;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, d->sock) < 0)
		return -1;
	if (live_server_add(server, d->sock[0]) < 0) {
		close(d->sock[1]);
		d->sock[0] = d->sock[1] = -1;
		return -1;
	}
	d->sock[0] = -1;	/* the server's now */
	if (pthread_create(&d->thread, NULL, dashboard_thread, d) != 0) {
		close(d->sock[1]);
		d->sock[1] = -1;
		return -1;
	}
	d->running = 1;
	return 0;
}

/* From the replay loop: say once that the user left the dashboard early. */
static void dashboard_check(struct dashboard *d)
{
	if (!d->running || d->announced || !__atomic_load_n(&d->done, __ATOMIC_ACQUIRE))
		return;
	d->announced = 1;
	if (!d->lv->batch)
		note("dashboard closed; the program (pid %d) runs on and heapwise waits "
		     "for it (`heapwise live %d` to watch it again)", (int)d->pid, (int)getpid());
}

/* Wait for the user to leave the dashboard (it shows the end meanwhile). */
static void dashboard_finish(struct dashboard *d)
{
	if (!d->running)
		return;
	pthread_join(d->thread, NULL);
	d->running = 0;
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

int run_parse_options(int argc, char **argv, struct run_options *o, int live_cmd)
{
	const char *usage = live_cmd ? live_usage : run_usage;
	unsigned long long v;
	int opt;

	memset(o, 0, sizeof(*o));
	o->collect = (struct collector_options)COLLECTOR_OPTIONS_INIT;
	o->collect.count_kinds = leaks_count;
	o->top = 5;
	o->error_kinds = (1u << LEAK_DEFINITE) | (1u << LEAK_POSSIBLE);
	o->live = live_cmd;
	o->lv = (struct live_options)LIVE_OPTIONS_INIT;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:s:d:i:t:n:qh", run_options, NULL)) != -1) {
		if (opt != 'h' && opt != '?' && opt < OPT_LIVE)
			o->launch_only = 1;
		switch (opt) {
		case 'o':
			o->output = optarg;
			break;
		case 's': {
			char *end;
			double secs = strtod(optarg, &end);

			if (end == optarg || *end || !(secs >= 0.01 && secs <= 86400))
				return usage_error(usage, "--snapshot-every takes seconds from 0.01 to 86400, not '%s'",
						   optarg);
			o->collect.snapshot_every_ns = (uint64_t)(secs * 1e9);
			break;
		}
		case 'd':
			if (parse_number(optarg, 1, COLLECTOR_MAX_DEPTH, &v) < 0)
				return usage_error(usage, "--max-depth takes a number from 1 to %d, not '%s'",
						   COLLECTOR_MAX_DEPTH, optarg);
			o->collect.max_depth = (unsigned)v;
			break;
		case 'i':
			if (parse_number(optarg, 1, 60000, &v) < 0)
				return usage_error(usage, "--interval takes milliseconds from 1 to 60000, not '%s'", optarg);
			o->collect.sample_interval_ns = v * 1000000ull;
			break;
		case 't':
			if (parse_number(optarg, 0, 1000000, &v) < 0)
				return usage_error(usage, "--temporary-threshold takes a number from 0 to 1000000, not '%s'", optarg);
			o->collect.temporary_threshold = (unsigned)v;
			break;
		case 'n':
			if (parse_number(optarg, 0, 1000000, &v) < 0)
				return usage_error(usage, "--top takes a number, not '%s'", optarg);
			o->top = (unsigned)v;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_NO_SCAN:
			o->collect.scan_at_exit = 0;
			break;
		case OPT_ERROR_EXITCODE:
			if (parse_number(optarg, 1, 255, &v) < 0)
				return usage_error(usage, "--error-exitcode takes a number from 1 to 255, not '%s'",
						   optarg);
			o->error_exitcode = (int)v;
			break;
		case OPT_ERRORS_FOR: {
			const char *bad;
			size_t badlen;

			if (leak_kinds_parse(optarg, &o->error_kinds, &bad, &badlen) < 0)
				return usage_error(usage, "--errors-for-leak-kinds takes definite, indirect, "
						   "possible, reachable or all, comma-separated, not '%s'", optarg);
			break;
		}
		case OPT_LIVE:
			o->live = 1;
			break;
		case OPT_DELAY: {
			char *end;
			double secs = strtod(optarg, &end);

			if (end == optarg || *end || !(secs >= 0.05 && secs <= 3600))
				return usage_error(usage, "--delay takes seconds from 0.05 to 3600, not '%s'", optarg);
			o->lv.delay_ns = (uint64_t)(secs * 1e9);
			break;
		}
		case OPT_BATCH:
			o->lv.batch = 1;
			break;
		case OPT_COUNT:
			if (parse_number(optarg, 1, 1000000000, &v) < 0)
				return usage_error(usage, "--count takes a number from 1, not '%s'", optarg);
			o->lv.count = (unsigned)v;
			break;
		case OPT_ROWS:
			if (parse_number(optarg, 1, 1000000, &v) < 0)
				return usage_error(usage, "--rows takes a number from 1, not '%s'", optarg);
			o->lv.rows = (unsigned)v;
			break;
		case OPT_BY: {
			int found = 0;

			for (int k = GROUP_LINENO; k <= GROUP_TRACEBACK; k++)
				if (!strcmp(optarg, report_group_name(k))) {
					o->lv.by = k;
					found = 1;
				}
			if (!found)
				return usage_error(usage, "--by takes lineno, function, file, module or traceback, not '%s'",
						   optarg);
			break;
		}
		case OPT_SORT: {
			int k = live_sort_parse(optarg);

			if (k < 0)
				return usage_error(usage, "--sort takes bytes, blocks, rate, growth or allocated, not '%s'",
						   optarg);
			o->lv.sort = k;
			break;
		}
		case OPT_PROGRAM_OUTPUT:
			o->lv.program_output = optarg;
			o->launch_only = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc && !live_cmd)
		return usage_error(usage, "no program to run");
	if (o->error_exitcode && !o->collect.scan_at_exit)
		return usage_error(usage, "--error-exitcode needs the exit scan: drop --no-scan");
	if (!o->live && (o->lv.batch || o->lv.count || o->lv.program_output))
		return usage_error(usage, "--batch, --count and --program-output go with --live");
	if (o->lv.count && !o->lv.batch)
		return usage_error(usage, "--count goes with --batch");
	return 0;
}

/*
 * Replay until the program exits; returns its wait status. The collector's
 * drain thread empties the rings meanwhile, so nothing here can make the
 * program wait.
 */
static int collect_until_exit(struct collector *c, pid_t pid, struct rusage *ru,
			      struct live_server *server, struct dashboard *d)
{
	int status;

	for (;;) {
		size_t n = collector_drain(c, 0);
		pid_t r;

		collector_tick(c, monotonic_ns());
		live_server_poll(server, c);
		dashboard_check(d);
		if (collector_reaped(c, &status))
			return status;	/* a scan saw it end, and collected it */
		r = wait4(pid, &status, WNOHANG, ru);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return 0;
		if (!n) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
}

/*
 * --error-exitcode: the exit status when the exit scan found leaks of the
 * kinds that count (or could not tell), else the program's.
 */
static int leak_status(const struct profile *p, const struct run_options *o, int status)
{
	const struct profile_snapshot *s = profile_find_snapshot((struct profile *)p, "exit");
	struct leak_analysis a;
	char found[256] = "";
	int leaked = 0, len = 0;

	if (!s || !s->scan) {
		const char *why = profile_get_meta(p, "scan-error");

		error("cannot tell whether the program leaked (--error-exitcode): %s",
		      why ? why : "there was no exit scan (the program replaced itself with exec, or left through a raw exit_group)");
		return o->error_exitcode;
	}
	if (leaks_analyze(s, &a) < 0) {
		error("out of memory");
		return o->error_exitcode;
	}
	for (int k = 0; k <= LEAK_REACHABLE; k++)
		if ((o->error_kinds & (1u << k)) && a.totals[k].blocks) {
			len += snprintf(found + len, sizeof(found) - len, "%s %s %llu blocks", leaked ? "," : "",
					leak_kind_name(k), (unsigned long long)a.totals[k].blocks);
			leaked = 1;
		}
	if (leaked)
		note("leaks found, exiting with %d (--error-exitcode):%s", o->error_exitcode, found);
	leaks_release(&a);
	return leaked ? o->error_exitcode : status;
}

int run_program(struct run_options *o, int argc, char **argv)
{
	struct collector *c = NULL;
	struct live_server *server = NULL;
	struct dashboard d = { .sock = { -1, -1 } };
	struct collector_build_times bt;
	struct profile p;
	struct rusage ru;
	uint64_t t_fork = 0, t_reaped, t0, t1;
	char path[PATH_MAX], tracer[PATH_MAX], output[PATH_MAX], err[PROFILE_ERRLEN];
	int report[2] = { -1, -1 }, status = 0, exec_err = 0, ret, written = 0;
	pid_t pid;
	ssize_t n;

	o->lv.launched = 1;	/* a dashboard of ours saw the program start */
	ret = find_program(argv[0], path);
	if (ret < 0) {
		error("cannot run '%s': %s", argv[0], strerror(-ret));
		return ret == -ENOENT ? 127 : 126;
	}
	if (check_program(path) || find_tracer(tracer))
		return 1;
	if (o->live && !o->lv.batch && tui_open(&d.tui))
		return 1;
	forward_winch = !(o->live && !o->lv.batch);
	if (o->output)
		snprintf(output, sizeof(output), "%s", o->output);
	if (collector_new(&c, &o->collect, err) < 0) {
		ret = error("%s", err);
		goto out;
	}
	if (pipe2(report, O_CLOEXEC) < 0) {
		ret = error("cannot create a pipe: %s", strerror(errno));
		goto out;
	}

	fflush(NULL);
	install_forwarding();
	t_fork = monotonic_ns();
	pid = fork();
	if (pid < 0) {
		restore_signals();
		ret = error("cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		exec_program(c, o, tracer, path, argv, report[1]);
	child_pid = pid;
	collector_start(c, pid, monotonic_ns());
	if ((ret = collector_start_draining(c)) < 0) {
		/* replaying on this thread works too, only less smoothly */
		warning("cannot start the drain thread: %s", strerror(-ret));
	}
	close(report[1]);
	report[1] = -1;
	while ((n = read(report[0], &exec_err, sizeof(exec_err))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(exec_err)) {
		char out[PATH_MAX];

		if (d.tui) {
			tui_close(d.tui);
			d.tui = NULL;
		}
		waitpid(pid, NULL, 0);
		restore_signals();
		if (exec_err < 0) {
			program_output_path(o, path, pid, out);
			ret = error("cannot send the program's output to '%s': %s", out, strerror(-exec_err));
		} else {
			error("cannot run '%s': %s", path, strerror(exec_err));
			ret = exec_err == ENOENT ? 127 : 126;
		}
		goto out;
	}
	if (!o->output)
		snprintf(output, sizeof(output), "heapwise.%s.%d.hws", basename(path), (int)pid);

	/* dashboards: ours, and any `heapwise live PID` */
	if (live_server_new(&server, err) < 0)
		warning("%s: `heapwise live %d` will not work", err, (int)pid);
	if (server) {
		char cmdline[PATH_MAX], out[PATH_MAX];

		command_line(argv, argc, cmdline, sizeof(cmdline));
		live_server_set(server, "command", cmdline);
		live_server_set(server, "profile", output);
		if (o->live && (o->lv.program_output || !o->lv.batch)) {
			program_output_path(o, path, pid, out);
			live_server_set(server, "output", out);
		}
		if (o->live && dashboard_start(&d, server, o, pid) < 0)
			warning("cannot start the dashboard: %s", strerror(errno));
	}

	memset(&ru, 0, sizeof(ru));
	status = collect_until_exit(c, pid, &ru, server, &d);
	t_reaped = monotonic_ns();
	child_pid = 0;
	restore_signals();
	collector_finish(c, status, (uint64_t)ru.ru_maxrss * 1024, t_reaped);
	live_server_program_ended(server, c);

	ret = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (!collector_attached(c))
		warning("the program was never traced: the tracer did not attach (see HEAPWISE_DEBUG=1 "
			"in heapwise-run(1))");
	if (profile_init(&p) < 0) {
		error("out of memory");
		goto out;
	}
	set_meta(&p, argv, argc, path);
	t0 = monotonic_ns();
	debug("the program ran %.3f s (CPU %.3f s user, %.3f s system); replay ended %.3f s after it",
			(double)(t_reaped - t_fork) / 1e9,
			ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
			ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
			(double)(t0 - t_reaped) / 1e9);
	if (collector_build_profile(c, &p, err) < 0) {
		error("%s", err);
		live_server_profile_written(server, 0, err);
		profile_release(&p);
		goto out;
	}
	t1 = monotonic_ns();
	collector_build_times(c, &bt);
	debug("%zu frames symbolized in %.3f s, snapshots cut in %.3f s%s", bt.frames,
	      (double)bt.symbolize_ns / 1e9, (double)bt.snapshots_ns / 1e9, bt.side_by_side ? " (side by side)" : "");
	if (profile_write(&p, output, err) < 0) {
		error("%s", err);
		live_server_profile_written(server, 0, err);
		profile_release(&p);
		goto out;
	}
	live_server_profile_written(server, 1, output);
	written = 1;
	debug("profile built in %.3f s, written in %.3f s; heapwise's peak RSS %ld KiB",
			(double)(t1 - t0) / 1e9, (double)(monotonic_ns() - t1) / 1e9,
			proc_status(getpid(), "VmHWM"));
	/* the dashboard shows the end until the user quits it; then the summary */
	dashboard_finish(&d);
	if (!o->quiet) {
		summary_print(stderr, &p, "heapwise: ", o->top);
		note("profile written to %s", output);
	}
	if (o->error_exitcode && !WIFSIGNALED(status))
		ret = leak_status(&p, o, ret);
	profile_release(&p);
out:
	if (!written)
		dashboard_finish(&d);
	live_server_free(server);
	if (report[0] >= 0)
		close(report[0]);
	if (report[1] >= 0)
		close(report[1]);
	if (c)
		collector_done(c);
	collector_free(c);
	if (d.tui)
		tui_close(d.tui);
	if (d.failed)
		ret = ret ? ret : 1;
	return ret;
}

int cmd_run(int argc, char **argv)
{
	struct run_options o;
	int ret = run_parse_options(argc, argv, &o, 0);

	if (ret)
		return ret < 0 ? 0 : ret;
	return run_program(&o, argc - optind, argv + optind);
}
