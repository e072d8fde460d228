/*
 * json.h - write JSON by hand, with strings escaped. Keys and structure are
 * the caller's; this only gets the punctuation and escaping right.
 */
#ifndef HEAPWISE_JSON_H
#define HEAPWISE_JSON_H

#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *out;
	int depth;
	int need_comma[32];	/* per nesting level: a value was written */
	int after_key;		/* the next value follows a key: no comma */
};

#define JSON_INIT(f) { (f), 0, { 0 }, 0 }

void json_open(struct json *j, char bracket);	/* '{' or '[' */
void json_close(struct json *j, char bracket);	/* '}' or ']' */
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_key_u64(struct json *j, const char *key, uint64_t v);	/* "key": v */
void json_i64(struct json *j, int64_t v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);

#endif
