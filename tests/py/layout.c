/*
 * layout.c - print, from one CPython version's own headers, the offsets
 * tracer/python.c's table for that version must hold, one
 * ".field = value," per line as the table writes them (t0650-python.sh
 * compiles it against each interpreter's include directory).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_moduleobject.h"

#define SHOW(field, value) printf("." #field " = %d\n", (int)(value))

int main(void)
{
#if PY_VERSION_HEX < 0x030d0000
	SHOW(cframe, offsetof(PyThreadState, cframe));
	SHOW(current_frame, offsetof(_PyCFrame, current_frame));
	SHOW(frame_code, offsetof(_PyInterpreterFrame, f_code));
	SHOW(frame_instr, offsetof(_PyInterpreterFrame, prev_instr));
#else
	SHOW(cframe, -1);
	SHOW(current_frame, offsetof(PyThreadState, current_frame));
	SHOW(frame_code, offsetof(_PyInterpreterFrame, f_executable));
	SHOW(frame_instr, offsetof(_PyInterpreterFrame, instr_ptr));
#endif
	SHOW(frame_previous, offsetof(_PyInterpreterFrame, previous));
	SHOW(frame_owner, offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX < 0x030c0000
	SHOW(frame_is_entry, offsetof(_PyInterpreterFrame, is_entry));
	SHOW(owner_cstack, -1);
#else
	SHOW(frame_is_entry, -1);
	SHOW(owner_cstack, FRAME_OWNED_BY_CSTACK);
#endif
	SHOW(owner_generator, FRAME_OWNED_BY_GENERATOR);
	SHOW(code_filename, offsetof(PyCodeObject, co_filename));
	SHOW(code_qualname, offsetof(PyCodeObject, co_qualname));
	SHOW(code_linetable, offsetof(PyCodeObject, co_linetable));
	SHOW(code_first_line, offsetof(PyCodeObject, co_firstlineno));
	SHOW(code_first_traceable, offsetof(PyCodeObject, _co_firsttraceable));
	SHOW(code_extra, offsetof(PyCodeObject, co_extra));
	SHOW(code_bytecode, offsetof(PyCodeObject, co_code_adaptive));
	SHOW(str_ascii_data, sizeof(PyASCIIObject));
	SHOW(str_compact_data, sizeof(PyCompactUnicodeObject));
	SHOW(type_name, offsetof(PyTypeObject, tp_name));
	SHOW(type_basicsize, offsetof(PyTypeObject, tp_basicsize));
	SHOW(type_flags, offsetof(PyTypeObject, tp_flags));
#ifdef Py_TPFLAGS_PREHEADER
	SHOW(preheader_flags, Py_TPFLAGS_PREHEADER);
#else
	SHOW(preheader_flags, Py_TPFLAGS_MANAGED_DICT);
#endif
	SHOW(interp_gc, offsetof(PyInterpreterState, gc));
#if PY_VERSION_HEX < 0x030d0000
	SHOW(list_freelist, offsetof(PyInterpreterState, list.free_list));
	SHOW(list_numfree, offsetof(PyInterpreterState, list.numfree));
	SHOW(dict_freelist, offsetof(PyInterpreterState, dict_state.free_list));
	SHOW(dict_numfree, offsetof(PyInterpreterState, dict_state.numfree));
	SHOW(keys_freelist, offsetof(PyInterpreterState, dict_state.keys_free_list));
	SHOW(keys_numfree, offsetof(PyInterpreterState, dict_state.keys_numfree));
	SHOW(agen_value_freelist, offsetof(PyInterpreterState, async_gen.value_freelist));
	SHOW(agen_value_numfree, offsetof(PyInterpreterState, async_gen.value_numfree));
	SHOW(agen_asend_freelist, offsetof(PyInterpreterState, async_gen.asend_freelist));
	SHOW(agen_asend_numfree, offsetof(PyInterpreterState, async_gen.asend_numfree));
#else
#define FREELIST(name) offsetof(PyInterpreterState, object_state.freelists.name)
	SHOW(list_freelist, FREELIST(lists.items));
	SHOW(list_numfree, FREELIST(lists.numfree));
	SHOW(dict_freelist, FREELIST(dicts.items));
	SHOW(dict_numfree, FREELIST(dicts.numfree));
	SHOW(keys_freelist, FREELIST(dictkeys.items));
	SHOW(keys_numfree, FREELIST(dictkeys.numfree));
	SHOW(agen_value_freelist, FREELIST(async_gens.items));
	SHOW(agen_value_numfree, FREELIST(async_gens.numfree));
	SHOW(agen_asend_freelist, FREELIST(async_gen_asends.items));
	SHOW(agen_asend_numfree, FREELIST(async_gen_asends.numfree));
#endif
#if PY_VERSION_HEX < 0x030d0000
	SHOW(tuple_freelist, offsetof(PyInterpreterState, tuple.free_list));
	SHOW(tuple_numfree, offsetof(PyInterpreterState, tuple.numfree));
#else
	SHOW(tuple_freelist, FREELIST(tuples.items));
	SHOW(tuple_numfree, FREELIST(tuples.numfree));
#endif
	SHOW(interp_threads, offsetof(PyInterpreterState, threads.head));
	SHOW(tstate_next, offsetof(PyThreadState, next));
	SHOW(tstate_datastack_chunk, offsetof(PyThreadState, datastack_chunk));
	SHOW(tstate_datastack_top, offsetof(PyThreadState, datastack_top));
	SHOW(frame_localsplus, offsetof(_PyInterpreterFrame, localsplus));
	SHOW(code_nlocalsplus, offsetof(PyCodeObject, co_nlocalsplus));
	SHOW(code_localsplusnames, offsetof(PyCodeObject, co_localsplusnames));
	/* what wire.h says of the free lists (their slots) and of a stack
	 * chunk (its size, 8 bytes in) */
#define SLOTS(field) (int)(sizeof(((PyInterpreterState *)0)->field) / sizeof(void *))
#if PY_VERSION_HEX < 0x030d0000
	printf("slots %d %d %d %d %d %d %d\n", SLOTS(list.free_list), SLOTS(dict_state.free_list),
	       SLOTS(dict_state.keys_free_list), SLOTS(async_gen.value_freelist), SLOTS(async_gen.asend_freelist),
	       SLOTS(tuple.free_list), PyTuple_MAXFREELIST);
#else
	printf("slots %d %d %d %d %d %d %d\n", SLOTS(object_state.freelists.lists.items),
	       SLOTS(object_state.freelists.dicts.items), SLOTS(object_state.freelists.dictkeys.items),
	       SLOTS(object_state.freelists.async_gens.items), SLOTS(object_state.freelists.async_gen_asends.items),
	       SLOTS(object_state.freelists.tuples.items), PyTuple_MAXFREELIST);
#endif
	printf("chunk %d\n", (int)offsetof(_PyStackChunk, size));
	/* the fields pynames.c names as attributes */
	printf("fields %d %d %d %d %d %d %d %d %d\n", (int)offsetof(PyFunctionObject, func_globals),
	       (int)offsetof(PyFunctionObject, func_name), (int)offsetof(PyFunctionObject, func_qualname),
	       (int)offsetof(PyFunctionObject, func_code), (int)offsetof(PyFunctionObject, func_defaults),
	       (int)offsetof(PyFunctionObject, func_kwdefaults), (int)offsetof(PyFunctionObject, func_closure),
	       (int)offsetof(PyCellObject, ob_ref), (int)offsetof(PyModuleObject, md_dict));
	/* what wire.h says of the state inside, for every version */
	printf("gc %d %d %d %d %d %d %d\n", (int)(offsetof(PyInterpreterState, gc.enabled) - offsetof(PyInterpreterState, gc)),
	       (int)(offsetof(PyInterpreterState, gc.generations) - offsetof(PyInterpreterState, gc)),
	       (int)sizeof(struct gc_generation), (int)offsetof(struct gc_generation, threshold),
	       (int)offsetof(struct gc_generation, count),
	       (int)(offsetof(PyInterpreterState, gc.generation_stats) - offsetof(PyInterpreterState, gc)),
	       (int)sizeof(struct gc_generation_stats));
	return 0;
}
