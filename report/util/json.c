/*
 * json.c - minimal JSON output: objects, arrays, escaped strings, numbers.
 */
#include <inttypes.h>

#include "json.h"

static void before_value(struct json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	if (j->depth > 0) {
		fputc('\n', j->out);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	j->need_comma[j->depth] = 1;
}

void json_open(struct json *j, char bracket)
{
	before_value(j);
	fputc(bracket, j->out);
	if (j->depth < 31)
		j->depth++;
	j->need_comma[j->depth] = 0;
}

void json_close(struct json *j, char bracket)
{
	int had = j->need_comma[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had) {
		fputc('\n', j->out);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	fputc(bracket, j->out);
	if (j->depth == 0)
		fputc('\n', j->out);
}

static void raw_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\r': fputs("\\r", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void json_key(struct json *j, const char *key)
{
	before_value(j);
	raw_string(j->out, key);
	fputs(": ", j->out);
	j->after_key = 1;
}

void json_string(struct json *j, const char *s)
{
	before_value(j);
	raw_string(j->out, s ? s : "");
}

void json_u64(struct json *j, uint64_t v)
{
	before_value(j);
	fprintf(j->out, "%" PRIu64, v);
}

void json_key_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_null(struct json *j)
{
	before_value(j);
	fputs("null", j->out);
}

void json_i64(struct json *j, int64_t v)
{
	before_value(j);
	fprintf(j->out, "%" PRId64, v);
}

void json_bool(struct json *j, int v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->out);
}
