/*
 * tui.h - the dashboard's state, shared by tui.c (the terminal and the
 * loop), tui-keys.c (keys and actions) and tui-draw.c (the screen). Nothing else includes it; the
 * rest of heapwise sees live-ui.h.
 */
#ifndef HEAPWISE_TUI_H
#define HEAPWISE_TUI_H

#include <stdint.h>
#include <stdio.h>
#include <curses.h>

#include "live-session.h"
#include "live-ui.h"

struct tui {
	FILE *tty;		/* /dev/tty, read and written */
	SCREEN *screen;
	int color;		/* colours in use (the terminal has them, NO_COLOR unset) */
	int utf8;		/* the locale's charset is UTF-8: block characters for the graph */
};

enum tui_panel {
	PANEL_TABLE,		/* the sites */
	PANEL_STACK,		/* the stacks of the selected site */
	PANEL_HELP,		/* the keys */
	PANEL_SCAN,		/* the leak scan's answer */
};

/* Colour pairs (attributes only with NO_COLOR). */
enum { TUI_TITLE = 1, TUI_GRAPH, TUI_HEADER, TUI_SELECTED, TUI_GROWTH, TUI_STATUS, TUI_KEYS };

struct tui_state {
	struct tui *t;
	struct live_session s;
	int paused;			/* the display stands still */
	enum tui_panel panel;
	size_t selected, top;		/* the selected row, the first row shown */
	char selected_name[512];	/* kept across refreshes */
	uint32_t *stacks;		/* PANEL_STACK: the stacks of the selected row */
	size_t nstacks, stack_at, stack_scroll;
	char stack_of[512];		/* the row they belong to */
	int editing;			/* typing a filter */
	char edit[128];
	char status[LIVE_TEXT_MAX + 1024];	/* the last message */
	struct live_msg scan;		/* PANEL_SCAN's answer */
	int asking_scan;		/* the last `s`/`l` was `l` */
};

/* What an action asks of the loop. */
#define LIVE_REDRAW	1	/* draw again */
#define LIVE_RESORT	2	/* group, filter and sort the rows again */
#define LIVE_QUIT	4	/* leave */

/* Do what key ch says in the panel shown; returns LIVE_* flags. */
int tui_handle_key(struct tui_state *st, int ch);

/* Group, filter and sort the rows again, keeping the selected site
 * selected; returns LIVE_REDRAW. */
int tui_rebuild(struct tui_state *st);

/* Keep the selection on the screen (after a resize, or rows changed). */
void tui_keep_in_view(struct tui_state *st);

/* The ? screen: one line per key, NULL-terminated (tui-keys.c, by its key table). */
extern const char *const tui_help_lines[];

/* Draw the current panel (erase, draw, refresh: curses sends the difference). */
void tui_draw(struct tui_state *st);

/* Rows of the sites table on this screen. */
int tui_table_rows(void);

/* The site of that stack in p, or NULL. */
const struct profile_site *tui_site_of(const struct profile *p, uint32_t stack);

/* The attribute of a colour pair, or its fallback without colours. */
int tui_attr(const struct tui *t, int pair);

#endif
