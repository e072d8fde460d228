/*
 * pylines-check.c - decode the location tables tests/py/code-lines.py
 * prints (on stdin) with report/symbols/pylines.c and compare every
 * instruction's line with the one co_lines() gave. Prints the first
 * mismatches and "N code objects, M instructions, K wrong"; exits 1 when
 * any is wrong or nothing was read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../report/symbols/pylines.h"

static int hex_digit(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int main(void)
{
	size_t cap = 1 << 20, codes = 0, units_total = 0, wrong = 0;
	char *line = NULL;
	size_t line_cap = 0;
	uint8_t *table = malloc(cap);

	if (!table)
		return 2;
	while (getline(&line, &line_cap, stdin) > 0) {
		char *p = line, *hex;
		long first = strtol(p, &p, 10);
		size_t len = 0, units;

		hex = strtok(p, " ");
		if (!hex)
			break;
		if (strcmp(hex, "-") != 0)
			for (; hex[0] && hex[1] && len < cap; hex += 2)
				table[len++] = (uint8_t)(hex_digit(hex[0]) << 4 | hex_digit(hex[1]));
		units = strtoul(strtok(NULL, " "), NULL, 10);
		for (size_t u = 0; u < units; u++) {
			char *tok = strtok(NULL, " \n");
			unsigned long want = tok ? strtoul(tok, NULL, 10) : 0;
			uint32_t got = pylines_line(table, len, (int32_t)first, (uint32_t)u);

			if (got != want && wrong++ < 10)
				printf("code %zu (first line %ld), unit %zu: line %u, co_lines says %lu\n",
				       codes, first, u, got, want);
		}
		units_total += units;
		codes++;
	}
	printf("%zu code objects, %zu instructions, %zu wrong\n", codes, units_total, wrong);
	free(line);
	free(table);
	return wrong || !codes;
}
