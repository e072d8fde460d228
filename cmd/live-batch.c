/*
 * live-batch.c - `heapwise live --batch`: the dashboard's table as plain
 * text, one table every --delay, for logs and for terminals that are not
 * terminals. Each table starts with a line about the whole program:
 *
 *   heapwise live: ./server (pid 41) running 2.0 s: heap 1.1 MiB, peak ...
 *   LIVE BYTES      %  BLOCKS  ALLOC/S  SINCE MARK  ALLOCATED  LOCATION
 *    976.6 KiB  87.2%      10        0  +976.6 KiB  976.6 KiB  big_few watched.c:30
 *
 * and ends with an empty line. Growth counts from the first table.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../report/util/clock.h"
#include "../report/util/format.h"
#include "live-session.h"
#include "live-ui.h"
#include "usage.h"

static void print_table(FILE *out, const struct live_model *m, unsigned rows)
{
	const struct profile_totals *t = &m->cur->p.totals;
	char heap[32], peak[32], rss[32], allocs[32], frees[32], line[1024], gc[128];
	const char *state = live_model_meta(m, "state"), *est = live_model_estimated(m);

	format_bytes(t->live_bytes, heap, sizeof(heap));
	format_bytes(t->peak_bytes, peak, sizeof(peak));
	format_bytes(live_model_rss(m), rss, sizeof(rss));
	live_format_rate(m->alloc_rate, allocs, sizeof(allocs));
	live_format_rate(m->free_rate, frees, sizeof(frees));
	fprintf(out, "heapwise live: %s (pid %llu) %s %.1f s: heap %s%s, peak %s%s, RSS %s, %s%s allocs/s, "
		"%s%s frees/s, %s%llu blocks, %s threads, %llu lost%s\n",
		live_model_meta(m, "command"), (unsigned long long)t->pid,
		strcmp(state, "exited") ? state : live_model_meta(m, "status"),
		(double)t->duration_ns / 1e9, est, heap, est, peak, rss, est, allocs, est, frees,
		est, (unsigned long long)t->live_blocks, live_model_meta(m, "threads"),
		(unsigned long long)t->lost_events, *est ? " (sampled: ~ marks estimates)" : "");
	live_model_gc_text(m, gc, sizeof(gc));
	if (*gc)
		fprintf(out, "python: %s\n", gc);
	if (m->by == GROUP_TYPE) {
		char name[64];
		double age;

		if (live_model_census(m, &age, name, sizeof(name)))
			fprintf(out, "objects by type, as the scan '%s' found them %.1f s ago\n", name, age);
		else
			fprintf(out, "objects by type: no scan yet (heapwise snapshot --scan PID takes one)\n");
	}
	live_columns_header(line, sizeof(line));
	fprintf(out, "%s\n", line);
	for (size_t i = 0; i < m->nrows && i < rows; i++) {
		live_row_text(m, &m->rows[i], line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
	if (m->nrows > rows)
		fprintf(out, "(%zu more %s)\n", m->nrows - rows, m->by == GROUP_TYPE ? "types" : "sites");
	fputc('\n', out);
	fflush(out);
}

int live_batch(int fd, const struct live_options *o, FILE *out)
{
	struct live_session s;
	uint64_t next = monotonic_ns();
	unsigned printed = 0;
	int ret = 0, enough = 0;

	live_session_init(&s, fd, o);
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		uint64_t now = monotonic_ns();
		int timeout = -1;

		enough = o->count && printed >= o->count;
		if (enough || s.closed || s.written)
			break;
		if (!s.ended && !s.asked && now >= next)
			live_session_ask(&s);
		if (!s.ended && !s.asked)
			timeout = (int)((next - now) / 1000000) + 1;
		if (poll(&pfd, 1, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (live_session_receive(&s) == 1) {
			print_table(out, &s.model, o->rows);
			printed++;
			next += o->delay_ns;
			if (next < monotonic_ns())
				next = monotonic_ns() + o->delay_ns;
		}
	}
	if (s.written && s.ended_ok)
		fprintf(out, "heapwise live: profile written to %s\n", s.message);
	else if (s.written)
		fprintf(out, "heapwise live: the profile could not be written: %s\n", s.message);
	else if (s.closed && !enough) {
		fflush(out);
		error("%s", s.message);
		ret = 1;
	}
	fflush(out);
	live_session_release(&s);
	return ret;
}
