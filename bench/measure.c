/*
 * measure.c - run a command, print "WALL_SECONDS PEAK_RSS_KIB": wall time,
 * from fork to the moment wait returns (a blocking wait, so the time is
 * exact, not rounded to the sampling tick), and the peak of the summed
 * resident set of the command and all its descendants, sampled every 5 ms
 * by a thread of its own, so a profiler's helper processes count (and at
 * least the largest one's own peak, for a command too short to sample).
 * The command's standard output goes to /dev/null: ours is the result.
 *   measure COMMAND [ARGS...]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* Sum of RSS (KiB) of root and its descendants. */
static long tree_rss(pid_t root)
{
	enum { MAX = 4096 };
	static pid_t pid[MAX], ppid[MAX];
	static long rss[MAX];
	int n = 0;
	long total = 0, page = sysconf(_SC_PAGESIZE) / 1024;
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)) && n < MAX) {
		char path[64], buf[512], *p;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
			int pp;
			long r;

			/* state ppid ... field 24 is rss */
			if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %*u %*u %ld",
				   &pp, &r) == 2) {
				pid[n] = atoi(e->d_name);
				ppid[n] = pp;
				rss[n] = r * page;
				n++;
			}
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	/* walk down from root */
	pid_t set[MAX];
	int ns = 1;

	set[0] = root;
	for (int i = 0; i < ns; i++)
		for (int k = 0; k < n; k++)
			if (ppid[k] == set[i] && ns < MAX)
				set[ns++] = pid[k];
	for (int i = 0; i < ns; i++)
		for (int k = 0; k < n; k++)
			if (pid[k] == set[i])
				total += rss[k];
	return total;
}

struct sampler {
	pid_t pid;
	long peak;
	int done;
};

static void *sample(void *arg)
{
	struct sampler *s = arg;
	struct timespec tick = { 0, 5000000 };

	while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
		long r = tree_rss(s->pid);

		if (r > s->peak)
			s->peak = r;
		nanosleep(&tick, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	struct sampler s = { 0 };
	struct rusage usage;
	pthread_t thread;
	int status, sampling;

	if (argc < 2)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	s.pid = fork();
	if (s.pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 1);	/* the command's output is not ours to print */
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (s.pid < 0)
		return 2;
	sampling = pthread_create(&thread, NULL, sample, &s) == 0;
	while (wait4(s.pid, &status, 0, &usage) < 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &b);
	__atomic_store_n(&s.done, 1, __ATOMIC_RELEASE);
	if (sampling)
		pthread_join(thread, NULL);
	if (usage.ru_maxrss > s.peak)
		s.peak = usage.ru_maxrss;
	printf("%.4f %ld\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, s.peak);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
