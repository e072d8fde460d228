/*
 * table.h - the cells of CSV and Markdown reports, quoted and escaped.
 */
#ifndef HEAPWISE_TABLE_H
#define HEAPWISE_TABLE_H

#include <stdio.h>

/* One CSV field (RFC 4180: quoted when it holds a comma, quote or newline). */
void csv_field(FILE *out, const char *s);

/* One Markdown table cell's text: newlines as spaces, and a backslash before
 * every character GFM reads as markup (\ ` * _ [ ] < > | & ~). */
void markdown_cell(FILE *out, const char *s);

#endif
