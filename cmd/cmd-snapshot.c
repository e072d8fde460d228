/*
 * cmd-snapshot.c - `heapwise snapshot PID [--label NAME] [--scan]`: ask a
 * running `heapwise run` to take a snapshot now, from another terminal,
 * and with --scan to stop the program and scan it for leaks too.
 *
 * PID is heapwise's or the traced program's. The request goes through the
 * shared region heapwise made for its tracer (no signal is sent to
 * anyone): heapwise holds it as a memfd, which we open through
 * /proc/PID/fd; for the program's PID, through its ancestors' fds.
 */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <sys/mman.h>
#include <sys/stat.h>

#include "../report/clock.h"
#include "../report/procmaps.h"
#include "../report/stats.h"
#include "../tracer/wire.h"
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

/* An fd of pid's that is heapwise's region, opened read-write; -1 if none. */
static int open_region_fd(pid_t pid)
{
	char dir[64], path[PATH_MAX], target[PATH_MAX];
	struct dirent *e;
	int fd = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "/memfd:heapwise", 15) == 0)
			fd = open(path, O_RDWR | O_CLOEXEC);
	}
	closedir(d);
	return fd;
}

/* Map the region of the run that pid is (or traces); NULL with a message. */
static struct wire_header *find_region(pid_t pid, size_t *size)
{
	struct wire_header *h;
	struct stat st;
	pid_t at = pid;
	int fd = -1;

	/* heapwise itself, or up the program's ancestors to it */
	for (int hops = 0; fd < 0 && at > 1 && hops < 64; hops++) {
		fd = open_region_fd(at);
		if (fd < 0)
			at = procmaps_parent(at);
	}
	if (fd < 0) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			error("no process %d", (int)pid);
		else
			error("process %d is not traced by heapwise run (or is not ours to look at)", (int)pid);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(*h)) {
		close(fd);
		error("process %d: heapwise's shared region is unreadable", (int)pid);
		return NULL;
	}
	*size = sizeof(*h);
	h = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED) {
		error("process %d: cannot map heapwise's shared region: %s", (int)pid, strerror(errno));
		return NULL;
	}
	if (h->magic != WIRE_MAGIC || h->version != WIRE_VERSION) {
		munmap(h, *size);
		error("process %d is traced by another version of heapwise", (int)pid);
		return NULL;
	}
	return h;
}

static void nap(void)
{
	struct timespec ts = { 0, 2000000 };

	nanosleep(&ts, NULL);
}

/* Is the heapwise that owns h still collecting? */
static int collector_alive(struct wire_header *h)
{
	pid_t pid = h->collector_pid;

	return !__atomic_load_n(&h->collector_done, __ATOMIC_ACQUIRE) &&
	       !(kill(pid, 0) < 0 && errno == ESRCH);
}

/* Take the request lock; a lock left by a requester that died is taken over. */
static int lock_requests(struct wire_header *h, uint64_t deadline)
{
	int32_t me = (int32_t)getpid();

	for (;;) {
		int32_t owner = 0;

		if (__atomic_compare_exchange_n(&h->request_lock, &owner, me, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 0;
		if (owner > 0 && kill(owner, 0) < 0 && errno == ESRCH &&
		    __atomic_compare_exchange_n(&h->request_lock, &owner, me, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 0;
		if (monotonic_ns() / 1000000 > deadline || !collector_alive(h))
			return -1;
		nap();
	}
}

static int valid_label(const char *s)
{
	char *end;

	if (!*s || strlen(s) >= WIRE_LABEL_MAX)
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

int cmd_snapshot(int argc, char **argv)
{
	const char *label = "";
	unsigned long long pid, timeout = 10;
	struct wire_header *h;
	uint64_t request, deadline;
	size_t size;
	char bytes[32], stopped[32];
	int opt, ret = 1, scan = 0;

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
						   optarg, WIRE_LABEL_MAX - 1);
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
	h = find_region((pid_t)pid, &size);
	if (!h)
		return 1;
	deadline = monotonic_ns() / 1000000 + timeout * 1000;
	if (lock_requests(h, deadline) < 0) {
		error(collector_alive(h) ? "another snapshot request did not finish in time" :
		      "the traced program has ended: its profile has the peak and exit snapshots");
		goto out;
	}
	memset(h->request_label, 0, sizeof(h->request_label));
	strncpy(h->request_label, label, sizeof(h->request_label) - 1);
	__atomic_store_n(&h->request_scan, (uint32_t)scan, __ATOMIC_RELEASE);
	request = __atomic_add_fetch(&h->snapshot_requests, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&h->snapshots_served, __ATOMIC_ACQUIRE) < request) {
		if (!collector_alive(h)) {
			error("the traced program ended before the snapshot was taken");
			goto unlock;
		}
		if (monotonic_ns() / 1000000 > deadline) {
			error("no snapshot after %llu s: is heapwise stopped? (the request stays queued)", timeout);
			goto unlock;
		}
		nap();
	}
	if (__atomic_load_n(&h->last_snapshot_ok, __ATOMIC_ACQUIRE) != 1) {
		h->last_scan_error[sizeof(h->last_scan_error) - 1] = '\0';
		if (scan && h->last_scan_error[0])
			error("no snapshot: %s", h->last_scan_error);
		else
			error("heapwise had no memory for the snapshot");
		goto unlock;
	}
	format_bytes(h->last_snapshot_bytes, bytes, sizeof(bytes));
	h->request_label[sizeof(h->request_label) - 1] = '\0';
	printf("snapshot %s taken: %llu blocks, %s", h->request_label,
	       (unsigned long long)h->last_snapshot_blocks, bytes);
	if (scan) {
		format_duration(h->last_scan_stop_ns, stopped, sizeof(stopped));
		printf("; scanned, the program was stopped for %s", stopped);
	}
	putchar('\n');
	ret = 0;
unlock:
	__atomic_store_n(&h->request_lock, 0, __ATOMIC_RELEASE);
out:
	munmap(h, size);
	return ret;
}
