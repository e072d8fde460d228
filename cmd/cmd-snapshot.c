/*
 * cmd-snapshot.c - `heapwise snapshot PID [--label NAME] [--scan]`: ask a
 * running `heapwise run` to take a snapshot now, from another terminal,
 * and with --scan to stop the program and scan it for leaks too.
 *
 * PID is heapwise's or the traced program's. The request goes over the
 * same socket the dashboards use (profile/live-channel.h): no signal is
 * sent to anyone, and the program's shared memory is not touched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../report/profile/live-channel.h"
#include "../report/util/clock.h"
#include "../report/util/format.h"
#include "builtin.h"
#include "usage.h"

static const char snapshot_usage[] =
	"usage: heapwise snapshot [--label NAME] [--scan] [--timeout SECS] PID\n"
	"\n"
	"  -l, --label NAME     name the snapshot (default snapshot-N); select it later as FILE@NAME\n"
	"  -s, --scan           stop the program and scan its memory, for `heapwise leaks` and\n"
	"                       `heapwise refs` on this snapshot\n"
	"  -t, --timeout SECS   wait at most SECS seconds for it (default 10)\n"
	"  -h, --help           show this help\n";

static const struct option snapshot_options[] = {
	{ "label", required_argument, NULL, 'l' },
	{ "scan", no_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int valid_label(const char *s)
{
	char *end;

	if (!*s || strlen(s) >= LIVE_LABEL_MAX)
		return 0;
	if (!strcmp(s, "exit") || !strcmp(s, "peak"))
		return 0;
	strtoul(s, &end, 10);
	if (!*end)
		return 0;	/* a number would select by position */
	for (; *s; s++)
		if (*s == '@' || *s == '/' || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/*
 * Wait for the run's answer to our request, at most until deadline (ms of
 * the monotonic clock). Returns 1 with *m filled, 0 when the run closed
 * the channel first, -ETIMEDOUT, or -errno with err filled.
 */
static int await_result(int fd, uint64_t deadline, struct live_msg *m, char err[PROFILE_ERRLEN])
{
	for (;;) {
		uint64_t now = monotonic_ns() / 1000000;
		struct pollfd pfd = { fd, POLLIN, 0 };
		struct profile unused;
		int has_profile, ret;

		if (now >= deadline)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, (int)(deadline - now));
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			snprintf(err, PROFILE_ERRLEN, "cannot wait for heapwise run: %s", strerror(errno));
			return -errno;
		}
		if (ret == 0)
			continue;
		ret = live_receive(fd, m, &unused, &has_profile, err);
		if (ret <= 0)
			return ret;
		if (has_profile)
			profile_release(&unused);
		if (m->type == LIVE_RESULT)
			return 1;
		if (m->type == LIVE_ENDED)
			return 0;
	}
}

/* What the run said, on stdout; the exit status. */
static int print_result(const struct live_msg *m, int scan)
{
	const char *est = m->snap.sample_rate ? "~" : "";	/* run --sample-rate: estimates */
	char bytes[32], stopped[32];

	if (m->status == -ESRCH)
		return error("the traced program has ended: its profile has the peak and exit snapshots");
	if (m->status < 0)
		return error("no snapshot: %s", m->text);
	format_bytes(m->snap.bytes, bytes, sizeof(bytes));
	printf("snapshot %s taken: %s%llu blocks, %s%s", m->snap.name, est, (unsigned long long)m->snap.blocks,
	       est, bytes);
	if (scan) {
		format_duration(m->snap.stop_ns, stopped, sizeof(stopped));
		printf("; scanned, the program was stopped for %s", stopped);
	}
	putchar('\n');
	return 0;
}

int cmd_snapshot(int argc, char **argv)
{
	const char *label = "";
	unsigned long long pid, timeout = 10;
	char err[PROFILE_ERRLEN];
	struct live_msg m;
	pid_t run_pid;
	int opt, fd, ret, scan = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:st:h", snapshot_options, NULL)) != -1) {
		switch (opt) {
		case 's':
			scan = 1;
			break;
		case 'l':
			if (!valid_label(optarg))
				return usage_error(snapshot_usage, "bad label '%s': give 1-%d characters, not only "
						   "digits, without '@' or '/', and not exit or peak",
						   optarg, LIVE_LABEL_MAX - 1);
			label = optarg;
			break;
		case 't':
			if (parse_number(optarg, 1, 3600, &timeout) < 0)
				return usage_error(snapshot_usage, "--timeout takes seconds from 1 to 3600, not '%s'", optarg);
			break;
		case 'h':
			fputs(snapshot_usage, stdout);
			return 0;
		default:
			fputs(snapshot_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return usage_error(snapshot_usage, optind >= argc ? "no PID given" : "too many arguments");
	if (parse_number(argv[optind], 1, INT_MAX, &pid) < 0)
		return usage_error(snapshot_usage, "'%s' is not a process id", argv[optind]);
	fd = live_connect((pid_t)pid, &run_pid, err);
	if (fd < 0)
		return error("%s", err);
	if ((ret = live_ask(fd, scan ? LIVE_ASK_SCAN : LIVE_ASK_SNAPSHOT, label)) < 0) {
		close(fd);
		return error("cannot ask heapwise run %d: %s", (int)run_pid, strerror(-ret));
	}
	ret = await_result(fd, monotonic_ns() / 1000000 + timeout * 1000, &m, err);
	close(fd);
	if (ret == -ETIMEDOUT)
		return error("no snapshot after %llu s: is heapwise stopped? (the request stays queued)", timeout);
	if (ret < 0)
		return error("%s", err);
	if (ret == 0)
		return error("the traced program ended before the snapshot was taken");
	return print_result(&m, scan);
}
