/*
 * tui.c - the ncurses dashboard of `heapwise live`: the terminal, and one
 * loop that waits on it and on the channel, asks the run for a profile
 * every --delay, and hands keys to tui-keys.c (a table of actions, as
 * htop's Action.c). Drawing is in tui-draw.c. The run keeps draining while
 * we draw, pause or wait: all we ever hold up is our own screen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "../report/util/clock.h"
#include "../report/util/format.h"
#include "tui.h"
#include "usage.h"

#define TICK_MS		200	/* the longest we sleep: resizes are seen this fast */

/* ------------------------------------------------------------------ */
/* The terminal                                                        */
/* ------------------------------------------------------------------ */

int tui_open(struct tui **out)
{
	struct tui *t = calloc(1, sizeof(*t));
	const char *term = getenv("TERM");

	*out = NULL;
	if (!t)
		return error("out of memory");
	t->tty = fopen("/dev/tty", "r+e");
	if (!t->tty) {
		free(t);
		return error("the dashboard needs a terminal (/dev/tty: %s); --batch prints text instead",
			     strerror(errno));
	}
	setlocale(LC_CTYPE, "");
	t->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	t->screen = newterm(term && *term ? term : "xterm", t->tty, t->tty);
	if (!t->screen) {
		fclose(t->tty);
		free(t);
		return error("cannot use the terminal '%s' for the dashboard; --batch prints text instead",
			     term ? term : "");
	}
	def_prog_mode();
	endwin();	/* the screen is taken in tui_run, not before */
	*out = t;
	return 0;
}

void tui_close(struct tui *t)
{
	if (!t)
		return;
	if (!isendwin())
		endwin();
	delscreen(t->screen);
	fclose(t->tty);
	free(t);
}

static void setup_screen(struct tui *t)
{
	const char *no_color = getenv("NO_COLOR");

	set_term(t->screen);
	reset_prog_mode();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	t->color = 0;
	if (has_colors() && !(no_color && *no_color)) {
		start_color();
		use_default_colors();
		init_pair(TUI_TITLE, COLOR_CYAN, -1);
		init_pair(TUI_GRAPH, COLOR_GREEN, -1);
		init_pair(TUI_HEADER, COLOR_BLACK, COLOR_GREEN);
		init_pair(TUI_SELECTED, COLOR_BLACK, COLOR_CYAN);
		init_pair(TUI_GROWTH, COLOR_RED, -1);
		init_pair(TUI_STATUS, COLOR_YELLOW, -1);
		init_pair(TUI_KEYS, COLOR_BLACK, COLOR_CYAN);
		t->color = 1;
	}
	clear();
}

/* Follow the terminal's size (SIGWINCH may have gone to another thread). */
static int check_resize(struct tui *t)
{
	struct winsize ws;

	if (ioctl(fileno(t->tty), TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return 0;
	if (ws.ws_row == LINES && ws.ws_col == COLS)
		return 0;
	resizeterm(ws.ws_row, ws.ws_col);
	clear();
	return 1;
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */
/* ------------------------------------------------------------------ */

/* An answer to `s` or `l` came. */
static int take_result(struct tui_state *st)
{
	const struct live_msg *m = &st->s.result;
	const char *est;
	char bytes[32];

	st->s.has_result = 0;
	if (st->asking_scan) {
		st->scan = *m;
		st->panel = PANEL_SCAN;
		if (m->status < 0)
			snprintf(st->status, sizeof(st->status), "leak scan failed");
		else
			snprintf(st->status, sizeof(st->status), "leak scan %s done", m->snap.name);
		return LIVE_REDRAW;
	}
	if (m->status < 0) {
		snprintf(st->status, sizeof(st->status), "snapshot failed: %s", m->text);
		return LIVE_REDRAW;
	}
	est = m->snap.sample_rate ? "~" : "";	/* run --sample-rate: estimates */
	format_bytes(m->snap.bytes, bytes, sizeof(bytes));
	snprintf(st->status, sizeof(st->status), "snapshot %s taken at %.1f s: %s%llu blocks, %s%s",
		 m->snap.name, (double)m->snap.t_ns / 1e9, est, (unsigned long long)m->snap.blocks, est, bytes);
	return LIVE_REDRAW;
}

/* What the status line says once the run is over. */
static void say_end(struct tui_state *st)
{
	if (st->s.written && st->s.ended_ok)
		snprintf(st->status, sizeof(st->status), "program %s; profile written to %s; q quits",
			 live_model_meta(&st->s.model, "status"), st->s.message);
	else if (st->s.written)
		snprintf(st->status, sizeof(st->status), "program %s; the profile could not be written: %s",
			 live_model_meta(&st->s.model, "status"), st->s.message);
	else if (st->s.ended)
		snprintf(st->status, sizeof(st->status), "program %s; writing the profile...",
			 live_model_meta(&st->s.model, "status"));
	else if (st->s.closed)
		snprintf(st->status, sizeof(st->status), "%s; q quits", st->s.message);
}

int tui_run(struct tui *t, int fd, const struct live_options *o)
{
	struct tui_state st = { .t = t };
	uint64_t next_ask = monotonic_ns();
	int flags = LIVE_REDRAW, was_over = 0, ret = 0;

	live_session_init(&st.s, fd, o);
	setup_screen(t);
	while (!(flags & LIVE_QUIT)) {
		struct pollfd pfd[2] = { { fileno(t->tty), POLLIN, 0 }, { fd, POLLIN, 0 } };
		uint64_t now = monotonic_ns();
		int timeout = TICK_MS, over = st.s.ended || st.s.closed;

		if (flags & LIVE_RESORT)
			flags |= tui_rebuild(&st);
		if (over != was_over || st.s.written) {
			say_end(&st);
			was_over = over;
			flags |= LIVE_REDRAW;
		}
		if (flags & LIVE_REDRAW)
			tui_draw(&st);
		flags = 0;
		if (!st.paused && !over && !st.s.asked && now >= next_ask) {
			live_session_ask(&st.s);
			next_ask = now + o->delay_ns;
		}
		if (!st.paused && !over && !st.s.asked && next_ask > now && (next_ask - now) / 1000000 < TICK_MS)
			timeout = (int)((next_ask - now) / 1000000) + 1;
		if (poll(pfd, st.s.closed ? 1 : 2, timeout) < 0 && errno != EINTR) {
			ret = 1;
			break;
		}
		if (!st.s.closed && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			/* one asked before a pause may still come: shown, then still */
			if (live_session_receive(&st.s) == 1)
				flags |= LIVE_RESORT;
			if (st.s.has_result)
				flags |= take_result(&st);
			if (st.s.closed)
				flags |= LIVE_REDRAW;
		}
		if (pfd[0].revents & POLLIN) {
			int ch;

			while ((ch = getch()) != ERR) {
				/* a key acts on the rows the keys before it made */
				if (flags & LIVE_RESORT) {
					flags &= ~LIVE_RESORT;
					flags |= tui_rebuild(&st);
				}
				flags |= tui_handle_key(&st, ch);
			}
		}
		if (check_resize(t)) {
			tui_keep_in_view(&st);
			flags |= LIVE_REDRAW;
		}
	}
	endwin();
	fflush(t->tty);
	live_session_release(&st.s);
	free(st.stacks);
	return ret;
}
