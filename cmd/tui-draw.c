/*
 * tui-draw.c - the dashboard's screen: the header, the heap-over-time
 * graph, the sites table, the status and key lines, and the stack, help
 * and leak-scan panels. Only draws: tui.c decides what and when.
 *
 *   line 0       command, pid, state, elapsed
 *   lines 1-2    heap now and peak, RSS, rates, blocks, threads, lost, output
 *   graph        heap over the whole run, one column per stretch of time
 *   table        header, then the sites
 *   LINES-2      status: grouping, sort, mark, filter, last message
 *   LINES-1      keys
 */
#include <stdio.h>
#include <string.h>

#include "../report/analysis/leaks.h"
#include "../report/analysis/site-names.h"
#include "../report/util/format.h"
#include "tui.h"

#define HEADER_LINES	3

int tui_attr(const struct tui *t, int pair)
{
	if (t->color)
		return COLOR_PAIR(pair) | (pair == TUI_TITLE || pair == TUI_HEADER ? A_BOLD : 0);
	switch (pair) {
	case TUI_TITLE:
		return A_BOLD;
	case TUI_HEADER:
	case TUI_SELECTED:
	case TUI_KEYS:
		return A_REVERSE;
	case TUI_GROWTH:
		return A_BOLD;
	default:
		return A_NORMAL;
	}
}

static int graph_height(void)
{
	if (LINES >= 40)
		return 8;
	if (LINES >= 30)
		return 6;
	if (LINES >= 18)
		return 4;
	return LINES >= 14 ? 2 : 0;
}

int tui_table_rows(void)
{
	int n = LINES - HEADER_LINES - graph_height() - 3;

	return n > 1 ? n : 1;
}

/* Write s at (y, x), cut at the right edge of the screen. */
static void put(int y, int x, const char *s)
{
	if (y < 0 || y >= LINES || x >= COLS)
		return;
	mvaddnstr(y, x, s, COLS - x);
}

/* A whole line in attr, padded to the width. */
static void put_line(int y, int attr, const char *s)
{
	attron(attr);
	move(y, 0);
	hline(' ', COLS);
	put(y, 0, s);
	attroff(attr);
}

static void draw_header(struct tui_state *st)
{
	const struct live_model *m = &st->s.model;
	const struct profile_totals *t = &m->cur->p.totals;
	const char *state = live_model_meta(m, "state"), *output = live_model_meta(m, "output");
	const char *est = live_model_estimated(m);
	char line[1024], heap[32], peak[32], rss[32], allocs[32], frees[32], right[256], gc[128];

	snprintf(line, sizeof(line), "heapwise live  %s", live_model_meta(m, "command"));
	attron(tui_attr(st->t, TUI_TITLE));
	move(0, 0);
	clrtoeol();
	put(0, 0, line);
	attroff(tui_attr(st->t, TUI_TITLE));
	snprintf(right, sizeof(right), "%s pid %llu  %s  %.1f s ", st->paused ? " [paused]" : "",
		 (unsigned long long)t->pid, strcmp(state, "exited") ? state : live_model_meta(m, "status"),
		 (double)t->duration_ns / 1e9);
	if ((int)strlen(right) < COLS)
		put(0, COLS - (int)strlen(right), right);

	format_bytes(t->live_bytes, heap, sizeof(heap));
	format_bytes(t->peak_bytes, peak, sizeof(peak));
	format_bytes(live_model_rss(m), rss, sizeof(rss));
	live_format_rate(m->alloc_rate, allocs, sizeof(allocs));
	live_format_rate(m->free_rate, frees, sizeof(frees));
	snprintf(line, sizeof(line), "heap %s%s  peak %s%s  RSS %s  allocs/s %s%s  frees/s %s%s%s", est, heap,
		 est, peak, rss, est, allocs, est, frees, *est ? "  (sampled: ~ marks estimates)" : "");
	move(1, 0);
	clrtoeol();
	put(1, 0, line);
	live_model_gc_text(m, gc, sizeof(gc));
	snprintf(line, sizeof(line), "blocks %s%llu  threads %s  lost %llu%s%s%s%s",
		 est, (unsigned long long)t->live_blocks, live_model_meta(m, "threads"),
		 (unsigned long long)t->lost_events, *gc ? "  " : "", gc, *output ? "  program output: " : "", output);
	move(2, 0);
	clrtoeol();
	put(2, 0, line);
}

/* The heap over the whole run, scaled to the peak, width columns wide. */
static void draw_graph(struct tui_state *st, int y, int height)
{
	static const char *const blocks[] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char ascii[] = " ..::||##";
	const struct profile *p = &st->s.model.cur->p;
	uint64_t top = 1, last = 0, end = p->nsamples ? p->samples[p->nsamples - 1].t_ns : 0;
	char label[128], max[32];
	size_t i = 0;

	for (size_t k = 0; k < p->nsamples; k++)
		if (p->samples[k].heap_bytes > top)
			top = p->samples[k].heap_bytes;
	attron(tui_attr(st->t, TUI_GRAPH));
	for (int x = 0; x < COLS; x++) {
		uint64_t until = end * (uint64_t)(x + 1) / (uint64_t)COLS, v = 0;
		int seen = 0, level;

		while (i < p->nsamples && p->samples[i].t_ns <= until) {
			if (p->samples[i].heap_bytes >= v)
				v = p->samples[i].heap_bytes;
			seen = 1;
			i++;
		}
		if (!seen)
			v = last;	/* no sample in this stretch: the heap stayed */
		last = v;
		level = (int)((v * (uint64_t)height * 8 + top - 1) / top);
		for (int row = 0; row < height; row++) {
			int cell = level - (height - 1 - row) * 8;

			cell = cell < 0 ? 0 : cell > 8 ? 8 : cell;
			if (st->t->utf8)
				mvaddstr(y + row, x, blocks[cell]);
			else
				mvaddch(y + row, x, (chtype)ascii[cell]);
		}
	}
	attroff(tui_attr(st->t, TUI_GRAPH));
	format_bytes(top, max, sizeof(max));
	snprintf(label, sizeof(label), " heap over %.1f s, top %s ", (double)end / 1e9, max);
	if ((int)strlen(label) < COLS)
		put(y, COLS - (int)strlen(label), label);
}

/*
 * A row by line wider than the screen keeps its site's end, where the
 * file's name and the line are: "big_few tests/progs/watched.c:23" becomes
 * "big_few ...watched.c:23", with the function kept if it fits. (A
 * traceback's row is cut at the edge: its start is the site.)
 */
static void fit_row(char *line)
{
	size_t len = strlen(line), room, head, tail;
	char *name = line + LIVE_COLUMNS_WIDTH, *space;

	if (COLS <= LIVE_COLUMNS_WIDTH + 16 || len <= (size_t)COLS || len <= LIVE_COLUMNS_WIDTH)
		return;
	room = (size_t)COLS - LIVE_COLUMNS_WIDTH;
	space = strchr(name, ' ');
	head = space ? (size_t)(space - name) + 1 : 0;
	if (head > room / 2)
		head = 0;
	tail = room - head - 3;
	memmove(name + head + 3, name + strlen(name) - tail, tail + 1);
	memcpy(name + head, "...", 3);
}

static void draw_table(struct tui_state *st, int y, int rows)
{
	const struct live_model *m = &st->s.model;
	char line[1024];

	live_columns_header(line, sizeof(line));
	put_line(y, tui_attr(st->t, TUI_HEADER), line);
	for (int k = 0; k < rows; k++) {
		size_t i = st->top + (size_t)k;

		move(y + 1 + k, 0);
		clrtoeol();
		if (i >= m->nrows)
			continue;
		live_row_text(m, &m->rows[i], line, sizeof(line));
		if (m->by == GROUP_LINENO)
			fit_row(line);
		if (i == st->selected) {
			put_line(y + 1 + k, tui_attr(st->t, TUI_SELECTED), line);
		} else {
			put(y + 1 + k, 0, line);
			if (m->rows[i].growth > 0 && COLS > LIVE_COLUMNS_WIDTH) {
				/* growth since the mark stands out */
				mvchgat(y + 1 + k, LIVE_GROWTH_COLUMN, 11, tui_attr(st->t, TUI_GROWTH),
					st->t->color ? TUI_GROWTH : 0, NULL);
			}
		}
	}
	if (!m->nrows) {
		const char *why = m->filter[0] ? "no site matches the filter" :
				  m->by == GROUP_TYPE ? "no scan yet: l scans the program (its objects by type)" :
				  "no allocation yet";

		put(y + 2, 2, why);
	}
}

static void draw_status(struct tui_state *st)
{
	const struct live_model *m = &st->s.model;
	static const char *const group_names[] = { "lineno", "function", "file", "module", "traceback", "type" };
	char line[4096], of[128] = "", scan[64];
	double age;
	int n = 0;

	if (st->editing) {
		snprintf(line, sizeof(line), "filter: %s", st->edit);
		put_line(LINES - 2, tui_attr(st->t, TUI_STATUS), line);
		curs_set(1);
		move(LINES - 2, (int)strlen(line) < COLS ? (int)strlen(line) : COLS - 1);
		return;
	}
	/* the last message first: it is what changed */
	if (st->status[0])
		n = snprintf(line, sizeof(line), "%.3000s | ", st->status);
	if (m->by == GROUP_TYPE && live_model_census(m, &age, scan, sizeof(scan)))
		snprintf(of, sizeof(of), " (objects of scan '%s', %.1f s ago)", scan, age);
	snprintf(line + n, sizeof(line) - (size_t)n, "%zu %s by %s%s, sorted by %s, mark %.1f s ago%s%.128s%s",
		 m->nrows, m->by == GROUP_TYPE ? "types" : "sites", group_names[m->by], of, live_sort_title(m->sort),
		 live_model_mark_age(m), m->filter[0] ? ", filter \"" : "", m->filter, m->filter[0] ? "\"" : "");
	put_line(LINES - 2, tui_attr(st->t, TUI_STATUS), line);
}

static void draw_keys(struct tui_state *st, const char *keys)
{
	put_line(LINES - 1, tui_attr(st->t, TUI_KEYS), keys);
}

/* ------------------------------------------------------------------ */
/* Panels                                                              */
/* ------------------------------------------------------------------ */

static void draw_sites(struct tui_state *st)
{
	int gh = graph_height(), rows = tui_table_rows();

	draw_header(st);
	if (gh)
		draw_graph(st, HEADER_LINES, gh);
	draw_table(st, HEADER_LINES + gh, rows);
	draw_status(st);
	draw_keys(st, "?:help q:quit b/c/r/d/t:sort g:group Enter:stack m:mark s:snapshot l:leaks "
		      "/:filter Space:pause");
}

const struct profile_site *tui_site_of(const struct profile *p, uint32_t stack)
{
	for (size_t i = 0; i < p->nsites; i++)
		if (p->sites[i].stack == stack)
			return &p->sites[i];
	return NULL;
}

static void draw_stack(struct tui_state *st)
{
	const struct profile *p = &st->s.model.cur->p;
	uint32_t stack = st->stacks[st->stack_at];
	const struct profile_stack *s = &p->stacks[stack];
	const struct profile_site *site = tui_site_of(p, stack);
	char line[1024], bytes[32];
	int y = HEADER_LINES + 2;

	draw_header(st);
	format_bytes(site ? site->live_bytes : 0, bytes, sizeof(bytes));
	snprintf(line, sizeof(line), "stack %zu of %zu of %s: %s live in %llu blocks, %llu allocations",
		 st->stack_at + 1, st->nstacks, st->stack_of, bytes,
		 (unsigned long long)(site ? site->live_blocks : 0),
		 (unsigned long long)(site ? site->allocations : 0));
	put_line(HEADER_LINES, tui_attr(st->t, TUI_HEADER), line);
	move(HEADER_LINES + 1, 0);
	clrtoeol();
	for (uint32_t k = (uint32_t)st->stack_scroll; k < s->depth && y < LINES - 2; k++, y++) {
		const struct profile_frame *f = &p->frames[p->stack_frames[s->first + k]];
		char where[512];
		const char *module = f->module != PROFILE_NONE ? profile_str(p, p->modules[f->module].path) : "";
		const char *base = strrchr(module, '/');

		site_name(p, p->stack_frames[s->first + k], where, sizeof(where));
		snprintf(line, sizeof(line), "  #%-3u %s%s%s%s", k, where, *module ? "  (" : "",
			 base ? base + 1 : module, *module ? ")" : "");
		if (f->flags & PROFILE_FRAME_INLINED)
			strncat(line, "  [inlined]", sizeof(line) - strlen(line) - 1);
		move(y, 0);
		clrtoeol();
		put(y, 0, line);
	}
	for (; y < LINES - 2; y++) {
		move(y, 0);
		clrtoeol();
	}
	if (!s->depth)
		put(HEADER_LINES + 2, 2, "(no stack was recorded for these blocks)");
	draw_status(st);
	draw_keys(st, "Left/Right:other stacks Up/Down:scroll Esc/Enter/q:back");
}

static void draw_help(struct tui_state *st)
{
	int y = HEADER_LINES + 1;

	draw_header(st);
	put_line(HEADER_LINES, tui_attr(st->t, TUI_HEADER), "keys");
	for (int k = 0; tui_help_lines[k] && y < LINES - 2; k++, y++) {
		move(y, 0);
		clrtoeol();
		put(y, 2, tui_help_lines[k]);
	}
	for (; y < LINES - 2; y++) {
		move(y, 0);
		clrtoeol();
	}
	draw_status(st);
	draw_keys(st, "any key: back");
}

static void draw_scan(struct tui_state *st)
{
	const struct live_snapshot_info *si = &st->scan.snap;
	const char *est = live_model_estimated(&st->s.model);
	char line[1024], bytes[40], stop[32], size[32];
	int y = HEADER_LINES + 1;

	draw_header(st);
	for (int k = HEADER_LINES; k < LINES - 2; k++) {
		move(k, 0);
		clrtoeol();
	}
	if (st->scan.status < 0) {
		put_line(HEADER_LINES, tui_attr(st->t, TUI_HEADER), "leak scan failed");
		put(y, 2, st->scan.text);
	} else {
		format_duration(si->stop_ns, stop, sizeof(stop));
		snprintf(line, sizeof(line), "leak scan %s at %.1f s: %llu blocks scanned, program stopped %s",
			 si->name, (double)si->t_ns / 1e9, (unsigned long long)si->blocks, stop);
		put_line(HEADER_LINES, tui_attr(st->t, TUI_HEADER), line);
		y++;
		for (int k = LEAK_DEFINITE; k <= LEAK_REACHABLE; k++, y++) {
			format_bytes(si->kinds[k].bytes, size, sizeof(size));
			snprintf(bytes, sizeof(bytes), "%s%s", est, size);
			snprintf(line, sizeof(line), "%-16s %12s in %s%llu blocks", leak_kind_name(k), bytes,
				 est, (unsigned long long)si->kinds[k].blocks);
			put(y, 2, line);
		}
		y++;
		snprintf(line, sizeof(line), "kept in the profile: heapwise leaks %s@%s (once the run ends)",
			 live_model_meta(&st->s.model, "profile"), si->name);
		put(y, 2, line);
	}
	draw_status(st);
	draw_keys(st, "any key: back");
}

void tui_draw(struct tui_state *st)
{
	curs_set(0);
	if (!st->s.model.cur) {
		erase();
		put(0, 0, "heapwise live: waiting for the first profile...");
		if (st->status[0])
			put(2, 0, st->status);
		draw_keys(st, "q:quit");
		refresh();
		return;
	}
	switch (st->panel) {
	case PANEL_STACK:
		draw_stack(st);
		break;
	case PANEL_HELP:
		draw_help(st);
		break;
	case PANEL_SCAN:
		draw_scan(st);
		break;
	default:
		draw_sites(st);
		break;
	}
	refresh();
}
