/*
 * pylines.h - the line a Python instruction is on, from its code object's
 * location table (co_linetable, CPython 3.11 and later; the format is
 * Objects/locations.md in CPython's sources), as PyCode_Addr2Line and
 * co_lines() give it.
 */
#ifndef HEAPWISE_PYLINES_H
#define HEAPWISE_PYLINES_H

#include <stddef.h>
#include <stdint.h>

#define PYLINES_BEFORE_START	UINT32_MAX	/* a frame that has run no instruction yet */

/*
 * The line of the instruction `instr` code units into the bytecode, in a
 * code object whose first line is first_line: 0 when the instruction has
 * no line or lies past the table, first_line for PYLINES_BEFORE_START.
 */
uint32_t pylines_line(const uint8_t *table, size_t len, int32_t first_line, uint32_t instr);

#endif
