/*
 * format.h - sizes and durations the way every report prints them.
 */
#ifndef HEAPWISE_FORMAT_H
#define HEAPWISE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "1.2 MiB", "420 B": binary units, one decimal above KiB. */
void format_bytes(uint64_t bytes, char *buf, size_t len);

/* "512KiB", "1 MiB", "2MB", "4096": a number of bytes (binary and decimal
 * units, B or none); 0, or -1 with why[] saying what is wrong. */
int format_parse_bytes(const char *s, int64_t *out, char *why, size_t len);

/* "1.234 s", "12 ms". */
void format_duration(uint64_t ns, char *buf, size_t len);

/* "1,234": memcheck's way of writing byte counts. */
void format_commas(uint64_t v, char *buf, size_t len);

/* Names come from programs and from files anyone may craft: turn every
 * control character of s[0..len) (C0, DEL, C1 as UTF-8) into '?', as ls -q
 * shows them, so no report sends a terminal escapes. NULs stay. */
void format_make_printable(char *s, size_t len);

#endif
