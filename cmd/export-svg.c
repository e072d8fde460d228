/*
 * export-svg.c - pictures heapwise draws itself, as self-contained SVG:
 *
 *  - a flame graph of the stacks' values (root at the bottom, a box per
 *    frame as wide as its value): hovering shows a frame and its value,
 *    clicking zooms into it, "Search" highlights the frames a regular
 *    expression matches and says how much of the total they hold;
 *  - the timeline: heap and RSS over the run, with the peak and every
 *    snapshot marked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/util/array.h"
#include "../report/util/format.h"
#include "export.h"

#define WIDTH		1200
#define PAD		10
#define ROW		16
/* A character of 12 px monospace, for fitting names in boxes: DejaVu Sans
 * Mono (Debian's monospace) advances 0.602 em, 7.22 px; 7 cut nothing */
#define CHAR_W		7.25
#define TITLE_CHARS	100	/* of the 16px title between the buttons (~9.6 px each, 1000 px) */

/* A node of the flame graph: a frame under its parent's path. */
struct node {
	char *name;
	uint64_t value;
	uint64_t x;		/* sum of the values left of it at its depth */
	unsigned depth;
	size_t first_child, nchildren;	/* children are contiguous once laid out */
};

struct tree {
	struct node *nodes;
	size_t n, cap;
	unsigned max_depth;
};

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, out);
		}
	}
}

/* s as a JavaScript string literal's contents, safe inside CDATA: quotes,
 * backslashes, control characters and <, >, ] escaped. */
static void js_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == '\\' || c == '\'' || c == '"' || c == '<' || c == '>' || c == ']')
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static long add_node(struct tree *t, const char *name, size_t len, unsigned depth, uint64_t x)
{
	struct node *n;

	if (array_grow((void **)&t->nodes, &t->cap, t->n + 1, sizeof(*n)) < 0)
		return -1;
	n = &t->nodes[t->n];
	*n = (struct node){ strndup(name, len), 0, x, depth, 0, 0 };
	if (!n->name)
		return -1;
	if (depth > t->max_depth)
		t->max_depth = depth;
	return (long)t->n++;
}

/*
 * Build the tree from folded lines sorted by stack: a line shares the
 * nodes of the previous one as long as their frames agree, so each node's
 * x is where its first line started.
 */
static int build_tree(struct tree *t, const struct folded_line *lines, size_t n, uint64_t *total)
{
	size_t path[4096];	/* node of each depth on the previous line */
	unsigned prev_depth = 0;
	uint64_t x = 0;

	if (add_node(t, "all", 3, 0, 0) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s = lines[i].stack;
		unsigned depth = 1;
		int same = 1;

		while (*s && depth < sizeof(path) / sizeof(path[0])) {
			size_t len = strcspn(s, ";");
			long at;

			if (same && depth <= prev_depth && strlen(t->nodes[path[depth]].name) == len &&
			    strncmp(t->nodes[path[depth]].name, s, len) == 0) {
				at = (long)path[depth];
			} else {
				same = 0;
				at = add_node(t, s, len, depth, x);
				if (at < 0)
					return -ENOMEM;
				path[depth] = (size_t)at;
			}
			t->nodes[at].value += lines[i].value;
			s += len;
			if (*s == ';')
				s++;
			depth++;
		}
		prev_depth = depth - 1;
		t->nodes[0].value += lines[i].value;
		x += lines[i].value;
	}
	*total = x;
	return 0;
}

/* A warm color from the name, the same for the same frame everywhere. */
static void color_of(const char *name, char *buf, size_t len)
{
	uint32_t h = 2166136261u;

	for (const char *c = name; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	snprintf(buf, len, "rgb(%u,%u,%u)", 205 + (h & 0xff) % 50, (h >> 8 & 0xff) % 230, (h >> 16 & 0xff) % 55);
}

static const char flame_script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"var W = %d, X0 = %d, CW = %.2f, total = %llu, unit = '%s';\n"
	"function frames() { return document.querySelectorAll('#frames g'); }\n"
	"function fit(s, w) { var c = Math.floor((w - 6) / CW); if (c < 3) return '';\n"
	"  return s.length <= c ? s : s.slice(0, c - 2) + '..'; }\n"
	"function show(g) { document.getElementById('details').textContent = g ? g.querySelector('title').textContent : ' '; }\n"
	"function zoom(g) {\n"
	"  var x0 = 0, w0 = total, d0 = 0;\n"
	"  if (g) { x0 = +g.dataset.x; w0 = +g.dataset.w; d0 = +g.dataset.d; }\n"
	"  frames().forEach(function (n) {\n"
	"    var x = +n.dataset.x, w = +n.dataset.w, d = +n.dataset.d;\n"
	"    if (x + w <= x0 || x >= x0 + w0 || w0 <= 0) { n.style.display = 'none'; return; }\n"
	"    var nx = Math.max(x, x0), nw = Math.min(x + w, x0 + w0) - nx;\n"
	"    var px = X0 + (nx - x0) / w0 * W, pw = nw / w0 * W;\n"
	"    n.style.display = ''; n.style.opacity = d < d0 ? 0.6 : 1;\n"
	"    var r = n.querySelector('rect'), t = n.querySelector('text');\n"
	"    r.setAttribute('x', px); r.setAttribute('width', pw);\n"
	"    t.setAttribute('x', px + 3); t.textContent = fit(n.dataset.n, pw);\n"
	"  });\n"
	"  document.getElementById('reset').style.display = g ? '' : 'none';\n"
	"}\n"
	"function search() {\n"
	"  var term = prompt('Search for frames (a regular expression):', '');\n"
	"  if (term === null) return;\n"
	"  var re = new RegExp(term);\n"
	"  frames().forEach(function (n) {\n"
	"    var r = n.querySelector('rect'), hit = term !== '' && re.test(n.dataset.n);\n"
	"    r.setAttribute('fill', hit ? 'rgb(230,0,230)' : r.dataset.fill);\n"
	"  });\n"
	"  document.getElementById('matched').textContent = term === '' ? ' ' :\n"
	"    'Matched: ' + (100 * share(re)).toFixed(2) + '%%';\n"
	"}\n"
	"]]></script>\n";

/*
 * The share a search reports, from every frame of the data (nodes, with
 * those too narrow to draw): the union of the matching frames' spans, a
 * frame inside a matching one counted once, over the total.
 */
static const char share_script[] =
	"function share(re) {\n"
	"  var spans = [], matched = 0, end = 0;\n"
	"  nodes.forEach(function (n) { if (re.test(n[0])) spans.push(n); });\n"
	"  spans.sort(function (a, b) { return a[1] - b[1] || b[2] - a[2]; });\n"
	"  spans.forEach(function (s) { var e = s[1] + s[2];\n"
	"    if (e > end) { matched += e - Math.max(s[1], end); end = e; } });\n"
	"  return total ? matched / total : 0;\n"
	"}\n";

/* A box's value as a reader wants it: "34.3 MiB (35,991,480 bytes)" for
 * bytes, "1,234 blocks" for counts. */
static void value_text(enum stack_value v, uint64_t value, char *buf, size_t len)
{
	char human[32], exact[32];

	format_commas(value, exact, sizeof(exact));
	if (strcmp(stack_value_unit(v), "bytes") != 0) {
		snprintf(buf, len, "%s %s", exact, stack_value_unit(v));
		return;
	}
	format_bytes(value, human, sizeof(human));
	snprintf(buf, len, "%s (%s bytes)", human, exact);
}

/* The title, cut to fit between Reset zoom and Search (16px monospace). */
static void put_title(FILE *out, const char *title)
{
	char cut[TITLE_CHARS + 1];

	if (strlen(title) <= TITLE_CHARS) {
		xml_text(out, title);
		return;
	}
	snprintf(cut, sizeof(cut), "%.*s...", TITLE_CHARS - 3, title);
	xml_text(out, cut);
}

int export_flamegraph(const struct export_ctx *x, const char *title)
{
	struct tree t = { 0 };
	struct folded_line *lines;
	uint64_t total = 0;
	size_t n;
	unsigned height;
	int ret = export_folded_values(x, &lines, &n);

	if (ret == 0)
		ret = build_tree(&t, lines, n, &total);
	export_folded_free(lines, n);
	if (ret < 0)
		goto out;

	height = (t.max_depth + 1) * ROW + 90;
	fprintf(x->out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\" "
		"xmlns=\"http://www.w3.org/2000/svg\" onload=\"zoom(null)\">\n"
		"<style>text { font-family: monospace; font-size: 12px; } #frames g:hover rect "
		"{ stroke: black; stroke-width: 0.5; } .button { cursor: pointer; fill: #2255aa; }</style>\n",
		WIDTH + 2 * PAD, height, WIDTH + 2 * PAD, height);
	fprintf(x->out, flame_script, WIDTH, PAD, CHAR_W, (unsigned long long)total, stack_value_unit(x->value));
	fprintf(x->out, "<script type=\"text/ecmascript\"><![CDATA[\n%svar nodes = [\n", share_script);
	for (size_t i = 0; i < t.n; i++) {
		fputs("['", x->out);
		js_text(x->out, t.nodes[i].name);
		fprintf(x->out, "',%llu,%llu],\n", (unsigned long long)t.nodes[i].x, (unsigned long long)t.nodes[i].value);
	}
	fputs("];\n]]></script>\n", x->out);
	fprintf(x->out, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#fbfbf7\"/>\n"
		"<text x=\"%d\" y=\"24\" text-anchor=\"middle\" style=\"font-size: 16px\">", WIDTH / 2 + PAD);
	put_title(x->out, title);
	fprintf(x->out, "</text>\n<text id=\"reset\" class=\"button\" x=\"%d\" y=\"24\" onclick=\"zoom(null)\">"
		"Reset zoom</text>\n<text id=\"search\" class=\"button\" x=\"%d\" y=\"24\" text-anchor=\"end\" "
		"onclick=\"search()\">Search</text>\n<text id=\"matched\" x=\"%d\" y=\"%u\" text-anchor=\"end\"> </text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%u\"> </text>\n<g id=\"frames\">\n",
		PAD, WIDTH + PAD, WIDTH + PAD, height - 12, PAD, height - 12);
	for (size_t i = 0; i < t.n; i++) {
		const struct node *nd = &t.nodes[i];
		double px = total ? PAD + (double)nd->x / (double)total * WIDTH : PAD;
		double pw = total ? (double)nd->value / (double)total * WIDTH : WIDTH;
		unsigned y = height - 40 - (nd->depth + 1) * ROW;
		char color[32], label[64], amount[96];
		size_t fits = pw > 6 ? (size_t)((pw - 6) / CHAR_W) : 0;

		if (pw < 0.1)
			continue;	/* too narrow to see; its value is in its parent */
		color_of(nd->name, color, sizeof(color));
		if (i == 0)
			snprintf(color, sizeof(color), "rgb(230,180,150)");
		fprintf(x->out, "<g data-x=\"%llu\" data-w=\"%llu\" data-d=\"%u\" data-n=\"",
			(unsigned long long)nd->x, (unsigned long long)nd->value, nd->depth);
		xml_text(x->out, nd->name);
		fprintf(x->out, "\" onclick=\"zoom(this)\" onmouseover=\"show(this)\" onmouseout=\"show(null)\"><title>");
		xml_text(x->out, nd->name);
		value_text(x->value, nd->value, amount, sizeof(amount));
		fprintf(x->out, ": %s, %.2f%%</title><rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%d\" "
			"fill=\"%s\" data-fill=\"%s\" rx=\"2\"/><text x=\"%.1f\" y=\"%u\">",
			amount, total ? 100.0 * (double)nd->value / (double)total : 100.0, px, y, pw, ROW - 1, color,
			color, px + 3, y + ROW - 4);
		if (fits >= 3 && strlen(nd->name) <= fits) {
			xml_text(x->out, nd->name);
		} else if (fits >= 3) {
			snprintf(label, sizeof(label), "%.*s..", (int)(fits - 2 < sizeof(label) - 3 ? fits - 2 : sizeof(label) - 3),
				 nd->name);
			xml_text(x->out, label);
		}
		fprintf(x->out, "</text></g>\n");
	}
	fprintf(x->out, "</g>\n</svg>\n");
out:
	for (size_t i = 0; i < t.n; i++)
		free(t.nodes[i].name);
	free(t.nodes);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The timeline                                                        */
/* ------------------------------------------------------------------ */

static void polyline(FILE *out, const struct profile *p, int rss, double tscale, double yscale, unsigned base,
		     const char *color)
{
	fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", color);
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct profile_sample *s = &p->samples[i];

		fprintf(out, "%.1f,%.1f ", 60 + (double)s->t_ns * tscale,
			base - (double)(rss ? s->rss_bytes : s->heap_bytes) * yscale);
	}
	fprintf(out, "\"/>\n");
}

/*
 * A dashed line at x with its label written down along it, inside the
 * plot (below the legend), unless the label before is too close (labelled
 * ends at the x a new label may start from): the line and its hover text
 * stay, the label would be drawn over the other.
 */
static void marker(FILE *out, double x, unsigned top, unsigned base, const char *color, const char *label,
		   const char *detail, double *labelled)
{
	fprintf(out, "<g><title>");
	xml_text(out, detail);
	fprintf(out, "</title><line x1=\"%.1f\" y1=\"%u\" x2=\"%.1f\" y2=\"%u\" stroke=\"%s\" stroke-dasharray=\"4,3\"/>",
		x, top, x, base, color);
	if (x >= *labelled) {
		/* rotated a quarter turn clockwise about its start: it reads downwards */
		fprintf(out, "<text x=\"%.1f\" y=\"%u\" fill=\"%s\" transform=\"rotate(90 %.1f %u)\">", x + 4, top + 4,
			color, x + 4, top + 4);
		xml_text(out, label);
		fprintf(out, "</text>");
		*labelled = x + ROW;
	}
	fprintf(out, "</g>\n");
}

/* "; resident 57.6 MiB: live heap ..., ..." for a scanned snapshot's marker. */
static void rss_parts_text(const struct profile_rss_parts *r, char *buf, size_t len)
{
	char rss[32], live[32], heap[32], pool[32], other[32];

	format_bytes(r->rss, rss, sizeof(rss));
	format_bytes(r->live_heap, live, sizeof(live));
	format_bytes(r->allocator_free, heap, sizeof(heap));
	format_bytes(r->pymalloc_free, pool, sizeof(pool));
	format_bytes(r->other, other, sizeof(other));
	snprintf(buf, len, "; resident %s: live heap %s, free in malloc's heaps %s, free in pymalloc's arenas %s, other %s",
		 rss, live, heap, pool, other);
}

int export_timeline(const struct export_ctx *x, const char *title)
{
	const struct profile *p = x->p;
	const unsigned height = 420, top = 60, base = 380;
	uint64_t tmax = p->totals.duration_ns, ymax = 1;
	double tscale, yscale, labelled = 0;
	int peak_drawn = 0;
	char a[32], b[32], detail[512];

	for (size_t i = 0; i < p->nsamples; i++) {
		if (p->samples[i].heap_bytes > ymax)
			ymax = p->samples[i].heap_bytes;
		if (p->samples[i].rss_bytes > ymax)
			ymax = p->samples[i].rss_bytes;
		if (p->samples[i].t_ns > tmax)
			tmax = p->samples[i].t_ns;
	}
	if (!tmax)
		tmax = 1;
	tscale = (double)(WIDTH - 80) / (double)tmax;
	yscale = (double)(base - top) / (double)ymax;
	fprintf(x->out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\" xmlns=\"http://www.w3.org/2000/svg\">\n"
		"<style>text { font-family: monospace; font-size: 12px; }</style>\n"
		"<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#fbfbf7\"/>\n"
		"<text x=\"%d\" y=\"24\" text-anchor=\"middle\" style=\"font-size: 16px\">",
		WIDTH + 2 * PAD, height, WIDTH + 2 * PAD, height, WIDTH / 2 + PAD);
	put_title(x->out, title);
	/* the scale's top inside the plot, right of the axis: "332.6 MiB"
	 * would not fit left of it */
	format_bytes(ymax, a, sizeof(a));
	format_duration(tmax, b, sizeof(b));
	fprintf(x->out, "</text>\n<line x1=\"60\" y1=\"%u\" x2=\"60\" y2=\"%u\" stroke=\"black\"/>"
		"<line x1=\"60\" y1=\"%u\" x2=\"%d\" y2=\"%u\" stroke=\"black\"/>\n"
		"<text x=\"64\" y=\"%u\">%s</text><text x=\"55\" y=\"%u\" text-anchor=\"end\">0</text>\n"
		"<text x=\"%d\" y=\"%u\" text-anchor=\"end\">%s</text>\n"
		"<text x=\"70\" y=\"48\" fill=\"#c0392b\">heap</text><text x=\"120\" y=\"48\" fill=\"#2471a3\">RSS</text>\n",
		top, base, base, WIDTH - 20, base, top + 12, a, base, WIDTH - 20, base + 18, b);
	polyline(x->out, p, 1, tscale, yscale, base, "#2471a3");
	polyline(x->out, p, 0, tscale, yscale, base, "#c0392b");
	/* the markers from left to right (the peak where its snapshot is, in
	 * time order), so that a label gives way to the one before it */
	for (size_t i = 0; i <= p->nsnapshots; i++) {
		const struct profile_snapshot *s = i < p->nsnapshots ? &p->snapshots[i] : NULL;
		const char *name = s ? profile_str(p, s->name) : "peak";

		if (strcmp(name, "peak") == 0) {
			if (peak_drawn++)
				continue;
			format_bytes(p->totals.peak_bytes, a, sizeof(a));
			format_duration(p->totals.peak_t_ns, b, sizeof(b));
			snprintf(detail, sizeof(detail), "peak heap %s at %s", a, b);
			marker(x->out, 60 + (double)p->totals.peak_t_ns * tscale, top, base, "#c0392b", "peak", detail,
			       &labelled);
			continue;
		}
		format_bytes(s->bytes, a, sizeof(a));
		format_duration(s->t_ns, b, sizeof(b));
		snprintf(detail, sizeof(detail), "snapshot %s at %s: %s in %llu blocks", name, b, a,
			 (unsigned long long)s->nblocks);
		if (s->has_rss_parts)
			rss_parts_text(&s->rss_parts, detail + strlen(detail), sizeof(detail) - strlen(detail));
		marker(x->out, 60 + (double)s->t_ns * tscale, top, base, "#117a65", name, detail, &labelled);
	}
	fprintf(x->out, "</svg>\n");
	return 0;
}
