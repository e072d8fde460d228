/*
 * table.c - CSV fields and Markdown cells.
 */
#include <string.h>

#include "table.h"

void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Every character GFM would read as markup is escaped with a backslash:
 * `Box<std::vector<int>>` must not turn into HTML, `operator*` nor
 * `__init__` into emphasis, a `|` into a new cell. */
void markdown_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n' || *s == '\r')
			fputc(' ', out);
		else if (strchr("\\`*_[]<>|&~", *s))
			fprintf(out, "\\%c", *s);
		else
			fputc(*s, out);
	}
}
