/*
 * scopes.h - which functions and inlined calls contain an address.
 *
 * dwarf_getscopes walks a compile unit's whole DIE tree on every call; a
 * large unit (an interpreter's eval loop) makes that the cost of
 * symbolizing. Here each unit is walked once, on first use, into a list of
 * address ranges of its subprograms and inlined calls; later addresses in
 * the same unit are answered from the list.
 */
#ifndef HEAPWISE_SCOPES_H
#define HEAPWISE_SCOPES_H

#include <elfutils/libdw.h>

struct scope_cache;

struct scope_cache *scope_cache_new(void);
void scope_cache_free(struct scope_cache *c);

/*
 * The DW_TAG_subprogram, DW_TAG_inlined_subroutine and DW_TAG_entry_point
 * DIEs of cudie's unit whose ranges hold pc (a DWARF address, bias
 * removed), innermost first, at most max. Returns how many, or -1 when
 * out of memory.
 */
int scope_cache_lookup(struct scope_cache *c, Dwarf_Die *cudie, Dwarf_Addr pc,
		       Dwarf_Die *out, int max);

#endif
