/*
 * tui-keys.c - what the dashboard's keys do: a table from key to action,
 * each action returning what the loop must do next (LIVE_REDRAW,
 * LIVE_RESORT, LIVE_QUIT), as htop's Action.c; and the selection that
 * actions move and a refresh keeps on the same site.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

/* ------------------------------------------------------------------ */
/* Selection                                                           */
/* ------------------------------------------------------------------ */

static void remember_selection(struct tui_state *st)
{
	const struct live_model *m = &st->s.model;

	if (st->selected < m->nrows)
		snprintf(st->selected_name, sizeof(st->selected_name), "%s", m->rows[st->selected].name);
}

void tui_keep_in_view(struct tui_state *st)
{
	size_t n = st->s.model.nrows, rows = (size_t)tui_table_rows();

	if (st->selected >= n)
		st->selected = n ? n - 1 : 0;
	if (st->selected < st->top)
		st->top = st->selected;
	if (st->selected >= st->top + rows)
		st->top = st->selected - rows + 1;
	if (st->top + rows > n)
		st->top = n > rows ? n - rows : 0;
	remember_selection(st);
}

/* After the rows changed: the same site stays selected if it is there. */
static void find_selection(struct tui_state *st)
{
	const struct live_model *m = &st->s.model;

	for (size_t i = 0; st->selected_name[0] && i < m->nrows; i++)
		if (!strcmp(m->rows[i].name, st->selected_name)) {
			st->selected = i;
			break;
		}
	tui_keep_in_view(st);
}

int tui_rebuild(struct tui_state *st)
{
	if (live_model_rebuild(&st->s.model) < 0)
		snprintf(st->status, sizeof(st->status), "out of memory");
	find_selection(st);
	return LIVE_REDRAW;
}

/* ------------------------------------------------------------------ */
/* Actions                                                             */
/* ------------------------------------------------------------------ */

static int sort_by(struct tui_state *st, enum live_sort s)
{
	st->s.model.sort = s;
	st->selected = 0;
	st->top = 0;
	st->selected_name[0] = '\0';
	return LIVE_RESORT;
}

static int act_sort_bytes(struct tui_state *st) { return sort_by(st, LIVE_SORT_BYTES); }
static int act_sort_blocks(struct tui_state *st) { return sort_by(st, LIVE_SORT_BLOCKS); }
static int act_sort_rate(struct tui_state *st) { return sort_by(st, LIVE_SORT_RATE); }
static int act_sort_growth(struct tui_state *st) { return sort_by(st, LIVE_SORT_GROWTH); }
static int act_sort_allocated(struct tui_state *st) { return sort_by(st, LIVE_SORT_ALLOCATED); }

static int act_group(struct tui_state *st)
{
	/* a Python program's objects by type come after the tracebacks */
	int python = *live_model_meta(&st->s.model, "python") != '\0';

	if (st->s.model.by == GROUP_TYPE || (st->s.model.by == GROUP_TRACEBACK && !python))
		st->s.model.by = GROUP_LINENO;
	else
		st->s.model.by++;
	st->selected = 0;
	st->top = 0;
	st->selected_name[0] = '\0';
	return LIVE_RESORT;
}

static int act_up(struct tui_state *st)
{
	if (st->selected)
		st->selected--;
	tui_keep_in_view(st);
	return LIVE_REDRAW;
}

static int act_down(struct tui_state *st)
{
	st->selected++;
	tui_keep_in_view(st);
	return LIVE_REDRAW;
}

static int act_page_up(struct tui_state *st)
{
	size_t rows = (size_t)tui_table_rows();

	st->selected = st->selected > rows ? st->selected - rows : 0;
	tui_keep_in_view(st);
	return LIVE_REDRAW;
}

static int act_page_down(struct tui_state *st)
{
	st->selected += (size_t)tui_table_rows();
	tui_keep_in_view(st);
	return LIVE_REDRAW;
}

static int act_home(struct tui_state *st)
{
	st->selected = 0;
	tui_keep_in_view(st);
	return LIVE_REDRAW;
}

static int act_end(struct tui_state *st)
{
	st->selected = st->s.model.nrows;
	tui_keep_in_view(st);
	return LIVE_REDRAW;
}

/* Largest live bytes first. */
static int by_live_bytes(const void *a, const void *b, void *arg)
{
	const struct profile_site *x = tui_site_of(arg, *(const uint32_t *)a);
	const struct profile_site *y = tui_site_of(arg, *(const uint32_t *)b);
	uint64_t vx = x ? x->live_bytes : 0, vy = y ? y->live_bytes : 0;

	return vx > vy ? -1 : vx < vy;
}

static int act_stack(struct tui_state *st)
{
	const struct live_model *m = &st->s.model;
	const struct live_row *r;
	size_t n;

	if (st->selected >= m->nrows)
		return 0;
	r = &m->rows[st->selected];
	if (!r->g)
		return 0;	/* a type: its objects come from many stacks, and the census keeps none */
	n = group_row_stacks(&m->table, r->g, NULL, 0);
	free(st->stacks);
	st->stacks = calloc(n + 1, sizeof(*st->stacks));
	if (!st->stacks || !n)
		return 0;
	st->nstacks = group_row_stacks(&m->table, r->g, st->stacks, n);
	qsort_r(st->stacks, st->nstacks, sizeof(*st->stacks), by_live_bytes, (void *)&m->cur->p);
	st->stack_at = 0;
	st->stack_scroll = 0;
	snprintf(st->stack_of, sizeof(st->stack_of), "%s", r->name);
	st->panel = PANEL_STACK;
	return LIVE_REDRAW;
}

static int act_mark(struct tui_state *st)
{
	live_model_mark(&st->s.model);
	snprintf(st->status, sizeof(st->status), "mark set: growth counts from %.1f s",
		 st->s.model.cur ? (double)st->s.model.cur->t_ns / 1e9 : 0.0);
	return LIVE_RESORT;
}

static int ask_snapshot(struct tui_state *st, int scan)
{
	int ret = live_session_snapshot(&st->s, scan);

	if (ret == -ESRCH)
		snprintf(st->status, sizeof(st->status), "the program has ended: nothing to %s",
			 scan ? "scan" : "snapshot");
	else if (ret == -EBUSY)
		snprintf(st->status, sizeof(st->status), "a snapshot is already being taken");
	else if (ret < 0)
		snprintf(st->status, sizeof(st->status), "heapwise run is gone");
	else
		snprintf(st->status, sizeof(st->status), "%s", scan ? "scanning for leaks..." : "taking a snapshot...");
	if (ret == 0)
		st->asking_scan = scan;	/* how to show the answer */
	return LIVE_REDRAW;
}

static int act_snapshot(struct tui_state *st) { return ask_snapshot(st, 0); }
static int act_scan(struct tui_state *st) { return ask_snapshot(st, 1); }

static int act_filter(struct tui_state *st)
{
	st->editing = 1;
	snprintf(st->edit, sizeof(st->edit), "%s", st->s.model.filter);
	return LIVE_REDRAW;
}

static int act_pause(struct tui_state *st)
{
	st->paused = !st->paused;
	snprintf(st->status, sizeof(st->status), "%s", st->paused ? "display paused (the program runs on)" :
		 "display running");
	return LIVE_REDRAW;
}

static int act_help(struct tui_state *st)
{
	st->panel = PANEL_HELP;
	return LIVE_REDRAW;
}

static int act_redraw(struct tui_state *st)
{
	(void)st;
	clearok(curscr, TRUE);
	return LIVE_REDRAW;
}

static int act_quit(struct tui_state *st)
{
	(void)st;
	return LIVE_QUIT;
}

struct tui_key {
	int key;
	int (*action)(struct tui_state *st);
};

static const struct tui_key site_keys[] = {
	{ 'b', act_sort_bytes }, { 'c', act_sort_blocks }, { 'r', act_sort_rate },
	{ 'd', act_sort_growth }, { 't', act_sort_allocated }, { 'g', act_group },
	{ '\r', act_stack }, { '\n', act_stack }, { KEY_ENTER, act_stack },
	{ 'm', act_mark }, { 's', act_snapshot }, { 'l', act_scan }, { '/', act_filter },
	{ ' ', act_pause }, { '?', act_help }, { 'h', act_help }, { KEY_F(1), act_help },
	{ 'q', act_quit }, { 'Q', act_quit }, { KEY_F(10), act_quit },
	{ KEY_UP, act_up }, { 'k', act_up }, { KEY_DOWN, act_down }, { 'j', act_down },
	{ KEY_PPAGE, act_page_up }, { KEY_NPAGE, act_page_down },
	{ KEY_HOME, act_home }, { KEY_END, act_end }, { 12 /* ^L */, act_redraw },
};

/* The ? screen: the same keys, in words (declared in tui.h). */
const char *const tui_help_lines[] = {
	"b          sort by live bytes",
	"c          sort by live blocks (count)",
	"r          sort by allocations per second (since the last refresh)",
	"d          sort by growth (delta) since the mark",
	"t          sort by total bytes allocated since the start",
	"g          group by line, function, file, module, whole traceback, and for a Python",
	"           program by type (the objects of its last scan: l, or py-exit) (cycles)",
	"Up/Down    select a site (also k/j, PgUp/PgDn, Home/End)",
	"Enter      the full stack of the selected site (Left/Right: its other stacks)",
	"m          set the mark: SINCE MARK counts from now",
	"s          take a snapshot into the profile (FILE@snapshot-N later)",
	"l          scan for leaks now (stops the program briefly); shows the kinds",
	"/          filter sites by name; Enter keeps it, Esc clears it",
	"Space      pause the display; the program and the tracing go on",
	"Ctrl-L     redraw the screen",
	"?          this help",
	"q          quit; the program runs on, traced, and its profile is written as usual",
	NULL,
};

/* Keys while typing a filter. */
static int filter_key(struct tui_state *st, int ch)
{
	size_t len = strlen(st->edit);

	if (ch == 27) {		/* Esc: no filter */
		st->editing = 0;
		st->s.model.filter[0] = '\0';
		return LIVE_RESORT;
	}
	if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
		st->editing = 0;
		snprintf(st->s.model.filter, sizeof(st->s.model.filter), "%s", st->edit);
		st->selected = 0;
		st->top = 0;
		return LIVE_RESORT;
	}
	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && len)
		st->edit[len - 1] = '\0';
	else if (ch >= 32 && ch < 127 && len + 1 < sizeof(st->edit))
		st->edit[len] = (char)ch, st->edit[len + 1] = '\0';
	/* the table follows as you type */
	snprintf(st->s.model.filter, sizeof(st->s.model.filter), "%s", st->edit);
	return LIVE_RESORT;
}

static int stack_key(struct tui_state *st, int ch)
{
	switch (ch) {
	case KEY_LEFT:
	case 'p':
		if (st->stack_at)
			st->stack_at--;
		st->stack_scroll = 0;
		break;
	case KEY_RIGHT:
	case 'n':
		if (st->stack_at + 1 < st->nstacks)
			st->stack_at++;
		st->stack_scroll = 0;
		break;
	case KEY_UP:
	case 'k':
		if (st->stack_scroll)
			st->stack_scroll--;
		break;
	case KEY_DOWN:
	case 'j':
		st->stack_scroll++;
		break;
	case 27:
	case 'q':
	case '\r':
	case '\n':
	case KEY_ENTER:
	case KEY_BACKSPACE:
		st->panel = PANEL_TABLE;
		break;
	default:
		return 0;
	}
	return LIVE_REDRAW;
}

int tui_handle_key(struct tui_state *st, int ch)
{
	if (ch == KEY_RESIZE)
		return LIVE_REDRAW;
	if (st->editing)
		return filter_key(st, ch);
	if (st->panel == PANEL_STACK)
		return stack_key(st, ch);
	if (st->panel == PANEL_HELP || st->panel == PANEL_SCAN) {
		st->panel = PANEL_TABLE;
		return LIVE_REDRAW;
	}
	for (size_t i = 0; i < sizeof(site_keys) / sizeof(site_keys[0]); i++)
		if (site_keys[i].key == ch)
			return site_keys[i].action(st);
	return 0;
}

