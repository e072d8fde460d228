/*
 * python.c - a Python program in Python's terms: the interpreter's own
 * allocator traced, and every event's Python frames.
 *
 * Once the interpreter is initialised, the first traced allocation made
 * by a thread holding its lock wraps the MEM and OBJ domains
 * (PyMem_SetAllocator over the allocator in place, as CPython documents),
 * so every object is seen at pymalloc's own speed; what pymalloc asks of
 * malloc inside a wrapped call is the guard's, not counted twice.
 *
 * Frames are read from the calling thread's own frame chain, in the hook:
 * only that thread changes its chain, so it holds still while we read it,
 * even in C code that released the lock. No Python API that makes objects
 * is called here (3.11 runs the cycle collector inside allocation). Each
 * code object is copied once into the code log (names, file, line table;
 * wire.h) and remembers its entry in co_extra, which dies with it, so a
 * new code object at a dead one's address never takes its name. Lines are
 * the collector's to decode, from the instruction each frame is at.
 *
 * Layouts are CPython's own, per version (checked against each version's
 * headers by t0650-python.sh, tests/py/layout.c); 3.13's are confirmed through
 * _Py_DebugOffsets. Any other version, or a free-threaded build, is traced
 * as native code, and the collector says why.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "tracer.h"

int hw_py_pending;
int hw_py_on;
int hw_py_native;

/* CPython's allocator interface (PyMemAllocatorEx, cpython/pymem.h). */
struct py_allocator {
	void *ctx;
	void *(*malloc)(void *ctx, size_t size);
	void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
	void *(*realloc)(void *ctx, void *ptr, size_t size);
	void (*free)(void *ctx, void *ptr);
};

enum { PY_DOMAIN_MEM = 1, PY_DOMAIN_OBJ = 2 };

/* Where things are in one version's structures (bytes from the start). */
struct py_layout {
	int cframe;		/* thread state -> its _PyCFrame; -1: the frame is in the thread state */
	int current_frame;	/* then -> the innermost _PyInterpreterFrame */
	int frame_code, frame_previous, frame_instr, frame_owner;
	int frame_is_entry;	/* 3.11's is_entry; -1 after */
	int owner_cstack;	/* 3.12+: a frame the C stack owns (an entry marker); -1 before */
	int owner_generator;
	int code_filename, code_qualname, code_linetable, code_first_line;
	int code_first_traceable, code_extra, code_bytecode;
	int str_ascii_data, str_compact_data;	/* a compact str's characters */
	int type_name, type_basicsize, type_flags;	/* of a PyTypeObject */
	int preheader_flags;	/* tp_flags that put a 16-byte pre-header before an object:
				 * managed dict (16), and from 3.12 managed weakref (8) */
	int interp_gc;		/* the interpreter state's cycle collector state, whose
				 * enabled, generations and generation_stats are at
				 * 12, 24 and 128 in every version read here */
	/* the interpreter state's free lists of WIRE_PY_FREELIST_SLOTS objects
	 * (lists, dicts, dicts' keys tables, async generators' values and
	 * asends): where each one's items and its count (an int) are */
	int list_freelist, list_numfree, dict_freelist, dict_numfree, keys_freelist, keys_numfree;
	int agen_value_freelist, agen_value_numfree, agen_asend_freelist, agen_asend_numfree;
	/* its free lists of tuples, one per size: their heads and counts (ints) */
	int tuple_freelist, tuple_numfree;
	/* the interpreter's threads (its list's head), each one's next, and
	 * its stack of frames: the chunk in use and the top of it */
	int interp_threads, tstate_next, tstate_datastack_chunk, tstate_datastack_top;
	/* a frame's locals (cells and free variables after them), and where a
	 * code object keeps how many there are and their names (a tuple) */
	int frame_localsplus, code_nlocalsplus, code_localsplusnames;
};

static const struct py_layout layout_311 = {
	.cframe = 56, .current_frame = 8,
	.frame_code = 32, .frame_previous = 48, .frame_instr = 56, .frame_owner = 69,
	.frame_is_entry = 68, .owner_cstack = -1, .owner_generator = 1,
	.code_filename = 112, .code_qualname = 128, .code_linetable = 136, .code_first_line = 72,
	.code_first_traceable = 168, .code_extra = 176, .code_bytecode = 184,
	.str_ascii_data = 48, .str_compact_data = 72,
	.type_name = 24, .type_basicsize = 32, .type_flags = 168, .preheader_flags = 16,
	.interp_gc = 648,
	.list_freelist = 3872, .list_numfree = 4512, .dict_freelist = 4520, .dict_numfree = 5160,
	.keys_freelist = 5168, .keys_numfree = 5808,
	.agen_value_freelist = 5816, .agen_value_numfree = 6456, .agen_asend_freelist = 6464, .agen_asend_numfree = 7104,
	.tuple_freelist = 3632, .tuple_numfree = 3792,
	.interp_threads = 16, .tstate_next = 8, .tstate_datastack_chunk = 296, .tstate_datastack_top = 304,
	.frame_localsplus = 72, .code_nlocalsplus = 76, .code_localsplusnames = 96,
};

static const struct py_layout layout_312 = {
	.cframe = 56, .current_frame = 0,
	.frame_code = 0, .frame_previous = 8, .frame_instr = 56, .frame_owner = 70,
	.frame_is_entry = -1, .owner_cstack = 3, .owner_generator = 1,
	.code_filename = 112, .code_qualname = 128, .code_linetable = 136, .code_first_line = 68,
	.code_first_traceable = 176, .code_extra = 184, .code_bytecode = 192,
	.str_ascii_data = 40, .str_compact_data = 56,
	.type_name = 24, .type_basicsize = 32, .type_flags = 168, .preheader_flags = 24,
	.interp_gc = 112,
	.list_freelist = 270072, .list_numfree = 270712, .dict_freelist = 270736, .dict_numfree = 272016,
	.keys_freelist = 271376, .keys_numfree = 272020,
	.agen_value_freelist = 272088, .agen_value_numfree = 272728, .agen_asend_freelist = 272736,
	.agen_asend_numfree = 273376,
	.tuple_freelist = 269832, .tuple_numfree = 269992,
	.interp_threads = 72, .tstate_next = 8, .tstate_datastack_chunk = 232, .tstate_datastack_top = 240,
	.frame_localsplus = 72, .code_nlocalsplus = 72, .code_localsplusnames = 96,
};

static const struct py_layout layout_313 = {
	.cframe = -1, .current_frame = 72,
	.frame_code = 0, .frame_previous = 8, .frame_instr = 56, .frame_owner = 70,
	.frame_is_entry = -1, .owner_cstack = 3, .owner_generator = 1,
	.code_filename = 112, .code_qualname = 128, .code_linetable = 136, .code_first_line = 68,
	.code_first_traceable = 184, .code_extra = 192, .code_bytecode = 200,
	.str_ascii_data = 40, .str_compact_data = 56,
	.type_name = 24, .type_basicsize = 32, .type_flags = 168, .preheader_flags = 24,
	.interp_gc = 7400,
	.list_freelist = 11208, .list_numfree = 11848, .dict_freelist = 11856, .dict_numfree = 12496,
	.keys_freelist = 12504, .keys_numfree = 13144,
	.agen_value_freelist = 13176, .agen_value_numfree = 13816, .agen_asend_freelist = 13824,
	.agen_asend_numfree = 14464,
	.tuple_freelist = 10968, .tuple_numfree = 11128,
	.interp_threads = 7344, .tstate_next = 8, .tstate_datastack_chunk = 232, .tstate_datastack_top = 240,
	.frame_localsplus = 72, .code_nlocalsplus = 72, .code_localsplusnames = 96,
};

/* What we call of the interpreter, found with dlsym. */
static struct {
	int (*is_initialized)(void);
	int (*gil_check)(void);
	void *(*this_thread_state)(void);
	void *(*interpreter_of)(void *tstate);
	void *(*main_interpreter)(void);
	void (*get_allocator)(int domain, struct py_allocator *a);
	void (*set_allocator)(int domain, struct py_allocator *a);
	intptr_t (*request_extra)(void (*freefunc)(void *));
	int (*set_extra)(void *code, intptr_t index, void *extra);
	void (*err_fetch)(void **type, void **value, void **tb);
	void (*err_restore)(void *type, void *value, void *tb);
	void *code_type;
	/* for the exit snapshot's atexit callback (see at_exit) */
	int (*add_pending_call)(int (*fn)(void *), void *arg);
	void *(*import_module)(const char *name);
	void *(*call_method)(void *obj, const char *name, const char *format, ...);
	void *(*new_cfunction)(void *def, void *self, void *module);
	void (*incref)(void *obj);
	void (*decref)(void *obj);
	void *none;
	void *(*module_dict)(void);	/* sys.modules, for the collector to name globals */
} py;

static const struct py_layout *layout;
static intptr_t extra_index;
/* co_extra holds the region's generation beside the entry: an entry of an
 * old region (a forked child's parent's) is none */
static uint32_t region_generation = 1;
static uint32_t layout_version;		/* Py_Version of the interpreter traced */
static struct py_allocator orig_mem, orig_obj;	/* the allocators we stand in front of */

#define AT(type, base, off)	(*(type const *)((const char *)(base) + (off)))

/* ------------------------------------------------------------------ */
/* Finding the interpreter                                             */
/* ------------------------------------------------------------------ */

static void say(uint32_t state, uint32_t version, const void *where)
{
	Dl_info info;
	const char *name = "", *slash;

	if (where && dladdr(where, &info) && info.dli_fname)
		name = info.dli_fname;
	slash = strrchr(name, '/');
	name = slash ? slash + 1 : name;
	strncpy(hw_hdr->python_object, name, sizeof(hw_hdr->python_object) - 1);
	hw_hdr->python_version = version;
	hw_hdr->python_image = hw_image;
	__atomic_store_n(&hw_hdr->python_state, state, __ATOMIC_RELEASE);
}

/*
 * A symbol of the loaded objects, looked up in their GNU hash tables (as
 * the loader does): dlsym would leave the thread an error buffer for each
 * name it does not find, an allocation the program would have made itself.
 */
struct lookup {
	const char *name;
	uint32_t hash;
	void *found;
};

static uintptr_t dyn_ptr(uintptr_t bias, ElfW(Addr) p)
{
	return p < bias ? bias + p : p;	/* absolute once relocated, unless read-only */
}

static int lookup_in(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lookup *l = arg;
	const ElfW(Dyn) *dyn = NULL;
	const uint32_t *ht = NULL, *buckets, *chain;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	const ElfW(Addr) *bloom;
	uint32_t h = l->hash, idx;
	ElfW(Addr) word, mask;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_GNU_HASH)
			ht = (const uint32_t *)dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_SYMTAB)
			symtab = (const ElfW(Sym) *)dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_STRTAB)
			strtab = (const char *)dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr);
	}
	if (!ht || !symtab || !strtab || !ht[0] || !ht[2])
		return 0;
	bloom = (const ElfW(Addr) *)(ht + 4);
	buckets = (const uint32_t *)(bloom + ht[2]);
	chain = buckets + ht[0];
	word = bloom[(h / (8 * sizeof(word))) % ht[2]];
	mask = (ElfW(Addr))1 << (h % (8 * sizeof(word))) |
	       (ElfW(Addr))1 << ((h >> ht[3]) % (8 * sizeof(word)));
	if ((word & mask) != mask || (idx = buckets[h % ht[0]]) < ht[1])
		return 0;
	for (;; idx++) {
		uint32_t c = chain[idx - ht[1]];

		if ((c | 1) == (h | 1) && symtab[idx].st_shndx != SHN_UNDEF &&
		    strcmp(strtab + symtab[idx].st_name, l->name) == 0) {
			l->found = (void *)(info->dlpi_addr + symtab[idx].st_value);
			return 1;
		}
		if (c & 1)
			return 0;
	}
}

static void *find(const char *name)
{
	struct lookup l = { name, 5381, NULL };

	for (const char *p = name; *p; p++)
		l.hash = l.hash * 33 + (uint8_t)*p;
	dl_iterate_phdr(lookup_in, &l);
	return l.found;
}

/* Py_Version, or the version Py_GetVersion() starts with ("3.10.13 ..."). */
static uint32_t version_of(void)
{
	const unsigned long *v = find("Py_Version");
	const char *(*get)(void) = (const char *(*)(void))find("Py_GetVersion");
	const char *s;
	unsigned part[3] = { 0, 0, 0 }, k = 0;

	if (v)
		return (uint32_t)*v;
	if (!get || !(s = get()))
		return 0;
	for (; *s && *s != ' ' && k < 3; s++) {
		if (*s == '.')
			k++;
		else if (*s >= '0' && *s <= '9')
			part[k] = part[k] * 10 + (unsigned)(*s - '0');
		else
			break;
	}
	return part[0] << 24 | part[1] << 16 | part[2] << 8;
}

/*
 * 3.13 starts _PyRuntime with _Py_DebugOffsets, the offsets the
 * interpreter publishes for tools that read it from outside: its cookie
 * and version, whether it is free-threaded, and (at these places of the
 * 3.13 struct, each a uint64_t) the ones layout_313 holds. A build that
 * says otherwise is not read.
 */
static int debug_offsets_agree(uint32_t version, int *free_threaded)
{
	static const struct { unsigned at; int want; } said[] = {
		{ 184, 72 },	/* thread_state.current_frame */
		{ 232, 8 },	/* interpreter_frame.previous */
		{ 240, 0 },	/* interpreter_frame.executable */
		{ 248, 56 },	/* interpreter_frame.instr_ptr */
		{ 264, 70 },	/* interpreter_frame.owner */
		{ 280, 112 },	/* code_object.filename */
		{ 296, 128 },	/* code_object.qualname */
		{ 304, 136 },	/* code_object.linetable */
		{ 312, 68 },	/* code_object.firstlineno */
		{ 344, 200 },	/* code_object.co_code_adaptive */
		{ 560, 40 },	/* unicode_object.asciiobject_size */
	};
	const char *rt = find("_PyRuntime");

	if (!rt || memcmp(rt, "xdebugpy", 8) != 0 || AT(uint64_t, rt, 8) != version)
		return 0;
	*free_threaded = AT(uint64_t, rt, 16) != 0;
	for (size_t i = 0; i < sizeof(said) / sizeof(said[0]); i++)
		if (AT(uint64_t, rt, said[i].at) != (uint64_t)said[i].want)
			return 0;
	return 1;
}

static void *sym(const char *name, const char *other)
{
	void *p = find(name);

	return p || !other ? p : find(other);
}

void hw_py_find(void)
{
	static int found;
	uint32_t version;
	int free_threaded = 0;

	if (found || !hw_hdr)
		return;
	py.is_initialized = (int (*)(void))sym("Py_IsInitialized", NULL);
	if (!py.is_initialized)
		return;
	found = 1;
	version = version_of();
	if (__atomic_load_n(&hw_hdr->python_off, __ATOMIC_RELAXED)) {
		say(WIRE_PYTHON_OFF, version, (void *)py.is_initialized);
		return;
	}
	switch (version >> 16) {
	case 0x030b:
		layout = &layout_311;
		break;
	case 0x030c:
		layout = &layout_312;
		break;
	case 0x030d:
		layout = debug_offsets_agree(version, &free_threaded) ? &layout_313 : NULL;
		break;
	default:
		layout = NULL;
	}
	if (free_threaded) {
		say(WIRE_PYTHON_FREE_THREADED, version, (void *)py.is_initialized);
		return;
	}
	py.gil_check = (int (*)(void))sym("PyGILState_Check", NULL);
	py.this_thread_state = (void *(*)(void))sym("PyGILState_GetThisThreadState", NULL);
	py.interpreter_of = (void *(*)(void *))sym("PyThreadState_GetInterpreter", NULL);
	py.main_interpreter = (void *(*)(void))sym("PyInterpreterState_Main", NULL);
	py.get_allocator = (void (*)(int, struct py_allocator *))sym("PyMem_GetAllocator", NULL);
	py.set_allocator = (void (*)(int, struct py_allocator *))sym("PyMem_SetAllocator", NULL);
	py.request_extra = (intptr_t (*)(void (*)(void *)))sym("PyUnstable_Eval_RequestCodeExtraIndex",
							       "_PyEval_RequestCodeExtraIndex");
	py.set_extra = (int (*)(void *, intptr_t, void *))sym("PyUnstable_Code_SetExtra",
							     "_PyCode_SetExtra");
	py.err_fetch = (void (*)(void **, void **, void **))sym("PyErr_Fetch", NULL);
	py.err_restore = (void (*)(void *, void *, void *))sym("PyErr_Restore", NULL);
	py.code_type = sym("PyCode_Type", NULL);
	py.add_pending_call = (int (*)(int (*)(void *), void *))sym("Py_AddPendingCall", NULL);
	py.import_module = (void *(*)(const char *))sym("PyImport_ImportModule", NULL);
	py.call_method = (void *(*)(void *, const char *, const char *, ...))sym("PyObject_CallMethod", NULL);
	py.new_cfunction = (void *(*)(void *, void *, void *))sym("PyCFunction_NewEx", NULL);
	py.incref = (void (*)(void *))sym("Py_IncRef", NULL);
	py.decref = (void (*)(void *))sym("Py_DecRef", NULL);
	py.none = sym("_Py_NoneStruct", NULL);
	py.module_dict = (void *(*)(void))sym("PyImport_GetModuleDict", NULL);
	if (!layout || !py.gil_check || !py.this_thread_state || !py.interpreter_of ||
	    !py.main_interpreter || !py.get_allocator || !py.set_allocator || !py.request_extra ||
	    !py.set_extra || !py.err_fetch || !py.err_restore || !py.code_type) {
		say(WIRE_PYTHON_UNSUPPORTED, version, (void *)py.is_initialized);
		return;
	}
	say(WIRE_PYTHON_NONE, version, (void *)py.is_initialized);
	__atomic_store_n(&hw_py_pending, 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ */
/* The allocator                                                       */
/* ------------------------------------------------------------------ */

/* An allocation made through the Python allocator (see code_ref). */
static void python_event(void *p, size_t size, int fn)
{
	hw_thread.py_api = 1;
	hw_emit_alloc(p, size, fn);
	hw_thread.py_api = 0;
}

static void *py_malloc(void *ctx, size_t size)
{
	const struct py_allocator *a = ctx;
	void *p;

	if (hw_tracing() != HW_TRACED)
		return a->malloc(a->ctx, size);
	hw_thread.guard = 1;	/* what pymalloc asks of malloc is this block */
	p = a->malloc(a->ctx, size);
	hw_thread.guard = 0;
	if (p)
		python_event(p, size, WIRE_FN_PY_MALLOC);
	return p;
}

static void *py_calloc(void *ctx, size_t nelem, size_t elsize)
{
	const struct py_allocator *a = ctx;
	size_t bytes;
	void *p;

	if (hw_tracing() != HW_TRACED || __builtin_mul_overflow(nelem, elsize, &bytes))
		return a->calloc(a->ctx, nelem, elsize);
	hw_thread.guard = 1;
	p = a->calloc(a->ctx, nelem, elsize);
	hw_thread.guard = 0;
	if (p)
		python_event(p, bytes, WIRE_FN_PY_CALLOC);
	return p;
}

static void *call_realloc(void *ctx, void *p, size_t size)
{
	const struct py_allocator *a = ctx;

	return a->realloc(a->ctx, p, size);
}

static void *py_realloc(void *ctx, void *p, size_t size)
{
	const struct py_allocator *a = ctx;
	void *q;

	if (hw_tracing() != HW_TRACED)
		return a->realloc(a->ctx, p, size);
	if (p) {
		hw_thread.py_api = 1;
		q = hw_traced_realloc_by(call_realloc, ctx, p, size, WIRE_FN_PY_REALLOC);
		hw_thread.py_api = 0;
		return q;
	}
	hw_thread.guard = 1;
	q = a->realloc(a->ctx, NULL, size);
	hw_thread.guard = 0;
	if (q)
		python_event(q, size, WIRE_FN_PY_REALLOC);
	return q;
}

static void py_free(void *ctx, void *p)
{
	const struct py_allocator *a = ctx;

	if (!p || hw_tracing() != HW_TRACED) {
		a->free(a->ctx, p);
		return;
	}
	hw_emit_free(p, WIRE_FN_PY_FREE);
	hw_thread.guard = 1;
	a->free(a->ctx, p);
	hw_thread.guard = 0;
}

static void wrap(int domain, struct py_allocator *orig)
{
	struct py_allocator ours = { orig, py_malloc, py_calloc, py_realloc, py_free };

	py.get_allocator(domain, orig);
	py.set_allocator(domain, &ours);
}

/*
 * The exit snapshot. Py_FinalizeEx joins the program's threads, runs the
 * atexit callbacks, then frees the objects: a callback of ours, registered
 * first and so run last, asks for a scanned snapshot named "py-exit" while
 * the heap is still the program's. It is registered from a pending call,
 * which the interpreter runs between two instructions of the program,
 * holding its lock: making objects there is safe, as it is not in the
 * allocation hook. Its few objects are the tracer's, made under the guard.
 */
static void *at_exit(void *self, void *unused)
{
	struct wire_header *h = hw_hdr;

	(void)self;
	(void)unused;
	if (h && hw_active && (pid_t)syscall(SYS_getpid) == hw_layout.traced_pid)
		hw_ask_scan(&h->py_exit_scan, &h->py_exit_tid);
	py.incref(py.none);
	return py.none;
}

/* PyMethodDef, with METH_NOARGS */
static struct {
	const char *name;
	void *(*fn)(void *, void *);
	int flags;
	const char *doc;
} at_exit_def = { "heapwise_py_exit", at_exit, 0x0004, NULL };

/* Whatever happens, the program's exception state is as it was: ours, if
 * registering failed, is dropped (no snapshot then, the exit scan as before). */
static int register_at_exit(void *arg)
{
	void *atexit, *fn, *ret = NULL, *type, *value, *tb, *our_type, *our_value, *our_tb;
	uint8_t guard = hw_thread.guard;

	(void)arg;
	hw_thread.guard = 1;
	py.err_fetch(&type, &value, &tb);
	atexit = py.import_module("atexit");
	fn = atexit ? py.new_cfunction(&at_exit_def, NULL, NULL) : NULL;
	if (fn)
		ret = py.call_method(atexit, "register", "O", fn);
	if (ret)
		py.decref(ret);
	if (fn)
		py.decref(fn);
	if (atexit)
		py.decref(atexit);
	py.err_fetch(&our_type, &our_value, &our_tb);
	py.decref(our_type);	/* Py_DecRef takes NULL */
	py.decref(our_value);
	py.decref(our_tb);
	py.err_restore(type, value, tb);
	hw_thread.guard = guard;
	return 0;
}

static void *sys_modules;	/* the interpreter's, asked for once with its lock held */

static void code_gone(void *extra)
{
	(void)extra;	/* the entry stays in the log; nothing points at it any more */
}

/* Where the collector finds the cycle collector's state, and what it
 * needs to tell objects and their types (wire.h). */
static void publish_gc(void)
{
	uint64_t interp = (uint64_t)(uintptr_t)py.main_interpreter(), gc = interp + (uint64_t)layout->interp_gc;
	const int lists[WIRE_PY_FREELISTS][2] = {
		{ layout->list_freelist, layout->list_numfree }, { layout->dict_freelist, layout->dict_numfree },
		{ layout->keys_freelist, layout->keys_numfree },
		{ layout->agen_value_freelist, layout->agen_value_numfree },
		{ layout->agen_asend_freelist, layout->agen_asend_numfree },
	};

	hw_hdr->python_gc_enabled = gc + 12;
	hw_hdr->python_gc_generations = gc + 24;
	hw_hdr->python_gc_stats = gc + 128;
	hw_hdr->python_tp_name = (uint32_t)layout->type_name;
	hw_hdr->python_tp_basicsize = (uint32_t)layout->type_basicsize;
	hw_hdr->python_tp_flags = (uint32_t)layout->type_flags;
	hw_hdr->python_preheader_flags = (uint32_t)layout->preheader_flags;
	hw_hdr->python_type_type = (uint64_t)(uintptr_t)find("PyType_Type");
	hw_hdr->python_modules = (uint64_t)(uintptr_t)sys_modules;
	for (int i = 0; i < WIRE_PY_FREELISTS; i++) {
		hw_hdr->python_freelists[i].items = interp + (uint64_t)lists[i][0];
		hw_hdr->python_freelists[i].count = interp + (uint64_t)lists[i][1];
	}
	hw_hdr->python_tuples.heads = interp + (uint64_t)layout->tuple_freelist;
	hw_hdr->python_tuples.counts = interp + (uint64_t)layout->tuple_numfree;
	hw_hdr->python_threads = interp + (uint64_t)layout->interp_threads;
	hw_hdr->python_tstate_next = (uint32_t)layout->tstate_next;
	hw_hdr->python_tstate_chunk = (uint32_t)layout->tstate_datastack_chunk;
	hw_hdr->python_tstate_top = (uint32_t)layout->tstate_datastack_top;
	hw_hdr->python_frames = (struct wire_py_frames){
		.code_type = (uint64_t)(uintptr_t)py.code_type,
		.tstate_cframe = layout->cframe, .current_frame = (uint32_t)layout->current_frame,
		.previous = (uint32_t)layout->frame_previous, .code = (uint32_t)layout->frame_code,
		.owner = (uint32_t)layout->frame_owner, .owner_cstack = layout->owner_cstack,
		.localsplus = (uint32_t)layout->frame_localsplus, .nlocalsplus = (uint32_t)layout->code_nlocalsplus,
		.localsplusnames = (uint32_t)layout->code_localsplusnames, .qualname = (uint32_t)layout->code_qualname,
	};
}

void hw_py_install(void)
{
	int expect = 1;

	if (!__atomic_compare_exchange_n(&hw_py_pending, &expect, 0, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;
	hw_thread.guard = 1;
	if (!py.is_initialized() || !py.gil_check()) {
		__atomic_store_n(&hw_py_pending, 1, __ATOMIC_RELEASE);	/* later, from a thread that holds it */
		hw_thread.guard = 0;
		return;
	}
	extra_index = py.request_extra(code_gone);
	if (extra_index < 0 || !hw_code_log()) {
		say(WIRE_PYTHON_FAILED, hw_hdr->python_version, (void *)py.is_initialized);
		hw_thread.guard = 0;
		return;
	}
	hw_py_native = __atomic_load_n(&hw_hdr->python_native, __ATOMIC_RELAXED) != 0;
	wrap(PY_DOMAIN_MEM, &orig_mem);
	wrap(PY_DOMAIN_OBJ, &orig_obj);
	__atomic_store_n(&hw_py_on, 1, __ATOMIC_RELEASE);
	layout_version = hw_hdr->python_version;
	say(WIRE_PYTHON_ON, layout_version, (void *)py.is_initialized);
	sys_modules = py.module_dict ? py.module_dict() : NULL;	/* a borrowed reference */
	publish_gc();
	if (__atomic_load_n(&hw_hdr->scan_at_exit, __ATOMIC_ACQUIRE) && py.add_pending_call &&
	    py.import_module && py.call_method && py.new_cfunction && py.incref && py.decref && py.none)
		py.add_pending_call(register_at_exit, NULL);
	hw_thread.guard = 0;
}

/* ------------------------------------------------------------------ */
/* The code log                                                        */
/* ------------------------------------------------------------------ */

/* The UTF-8 of a compact str, cut at WIRE_CODE_TEXT_MAX bytes: into out
 * when out is not NULL; its length either way. */
static uint32_t str_utf8(const char *s, char *out)
{
	uint32_t state, kind, n = 0;
	int64_t len;
	const char *data;

	if (!s)
		return 0;
	state = AT(uint32_t, s, 32);
	kind = (state >> 2) & 7;
	if (!(state & (1u << 5)))
		return 0;	/* not compact: a legacy string, never a code object's */
	len = AT(int64_t, s, 16);
	data = s + ((state & (1u << 6)) ? layout->str_ascii_data : layout->str_compact_data);
	for (int64_t i = 0; i < len; i++) {
		uint32_t c = kind == 1 ? ((const uint8_t *)data)[i] :
			     kind == 2 ? ((const uint16_t *)data)[i] : ((const uint32_t *)data)[i];
		uint8_t b[4];
		unsigned k;

		if (c < 0x80) {
			b[0] = (uint8_t)c;
			k = 1;
		} else if (c < 0x800) {
			b[0] = (uint8_t)(0xc0 | c >> 6);
			b[1] = (uint8_t)(0x80 | (c & 0x3f));
			k = 2;
		} else if (c < 0x10000) {
			b[0] = (uint8_t)(0xe0 | c >> 12);
			b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
			b[2] = (uint8_t)(0x80 | (c & 0x3f));
			k = 3;
		} else {
			b[0] = (uint8_t)(0xf0 | (c >> 18 & 7));
			b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
			b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
			b[3] = (uint8_t)(0x80 | (c & 0x3f));
			k = 4;
		}
		if (n + k > WIRE_CODE_TEXT_MAX)
			break;
		if (out)
			memcpy(out + n, b, k);
		n += k;
	}
	return n;
}

/*
 * Remember the code object in co_extra, for the main interpreter only
 * (another one has its own extra indices). The program's pending
 * exception, if any, is kept whatever happens.
 */
static void remember(const char *code, uint32_t ref)
{
	void *type, *value, *tb;

	if (py.interpreter_of(py.this_thread_state()) != py.main_interpreter())
		return;
	py.err_fetch(&type, &value, &tb);
	py.set_extra((void *)code, extra_index, (void *)((uintptr_t)region_generation << 32 | ref));
	py.err_restore(type, value, tb);
}

/* Copy a live code object into the log: its ref, 0 when the log is full. */
static uint32_t log_code(const char *code, int may_remember)
{
	char *log = hw_code_log(), *d;
	const char *qualname = AT(const char *, code, layout->code_qualname);
	const char *filename = AT(const char *, code, layout->code_filename);
	const char *table = AT(const char *, code, layout->code_linetable);
	uint32_t qlen = str_utf8(qualname, NULL), flen = str_utf8(filename, NULL);
	uint64_t tlen = table ? (uint64_t)AT(int64_t, table, 16) : 0, size, off;
	struct wire_code *e;

	if (tlen > WIRE_CODE_TABLE_MAX)
		tlen = 0;
	size = (sizeof(*e) + qlen + flen + tlen + 7) & ~7ull;
	off = __atomic_fetch_add(&hw_hdr->codes_used, size, __ATOMIC_RELAXED);
	if (!log || off + size > hw_layout.code_capacity || (off >> 3) + 1 >= WIRE_PY_CODE_MAX)
		return 0;
	e = (struct wire_code *)(log + off);
	e->first_line = AT(int32_t, code, layout->code_first_line);
	e->qualname_len = qlen;
	e->filename_len = flen;
	e->linetable_len = (uint32_t)tlen;
	d = (char *)(e + 1);
	str_utf8(qualname, d);
	str_utf8(filename, d + qlen);
	if (tlen)
		memcpy(d + qlen + flen, table + 32, tlen);	/* PyBytesObject's ob_sval */
	__atomic_store_n(&e->size, (uint32_t)size, __ATOMIC_RELEASE);
	if (may_remember)
		remember(code, (uint32_t)((off >> 3) + 1));
	return (uint32_t)((off >> 3) + 1);
}

/*
 * Entries logged without co_extra, by what they hold: an entry is only its
 * content, so any code object with the same names, first line and line
 * table may share it, whatever its address.
 */
#define BY_CONTENT_SLOTS	4096

static struct {
	uint64_t hash;		/* 0 = empty */
	uint32_t ref;
} by_content[BY_CONTENT_SLOTS];

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ull;
	return h;
}

static uint64_t content_hash(const char *code)
{
	char text[2 * WIRE_CODE_TEXT_MAX];
	const char *table = AT(const char *, code, layout->code_linetable);
	int32_t first = AT(int32_t, code, layout->code_first_line);
	uint32_t q = str_utf8(AT(const char *, code, layout->code_qualname), text);
	uint32_t f = str_utf8(AT(const char *, code, layout->code_filename), text + q);
	uint64_t h = mix(0xcbf29ce484222325ull, &first, sizeof(first));

	h = mix(mix(h, &q, sizeof(q)), text, q + f);
	if (table)
		h = mix(h, table + 32, (size_t)AT(int64_t, table, 16));
	return h ? h : 1;
}

static uint32_t log_by_content(const char *code)
{
	uint64_t h = content_hash(code);
	uint32_t i = (uint32_t)h & (BY_CONTENT_SLOTS - 1), ref;

	for (unsigned probe = 0; probe < 64; probe++, i = (i + 1) & (BY_CONTENT_SLOTS - 1)) {
		uint64_t k = __atomic_load_n(&by_content[i].hash, __ATOMIC_ACQUIRE), expect = 0;

		if (k == h && (ref = __atomic_load_n(&by_content[i].ref, __ATOMIC_ACQUIRE)))
			return ref;
		if (k != 0)
			continue;
		ref = log_code(code, 0);
		if (ref && __atomic_compare_exchange_n(&by_content[i].hash, &expect, h, 0, __ATOMIC_ACQ_REL,
						       __ATOMIC_ACQUIRE))
			__atomic_store_n(&by_content[i].ref, ref, __ATOMIC_RELEASE);
		return ref;
	}
	return log_code(code, 0);
}

/*
 * The code object's entry in the log: from its co_extra; else logged now,
 * and remembered in co_extra when the event came through the Python
 * allocator (its caller holds the interpreter's lock and no lock of the
 * allocator's: a raw malloc may come from inside tracemalloc, holding its
 * tables, where setting co_extra, which allocates, would deadlock); a raw
 * malloc's is found by its content.
 */
static uint32_t code_ref(const char *code)
{
	const char *extra = AT(const char *, code, layout->code_extra);

	if (extra && AT(intptr_t, extra, 0) > extra_index) {
		uintptr_t v = AT(uintptr_t, extra, 8 + 8 * extra_index);

		if (v >> 32 == region_generation)
			return (uint32_t)v;
	}
	return hw_thread.py_api ? log_code(code, 1) : log_by_content(code);
}

void hw_py_new_region(void)
{
	if (!hw_py_on)
		return;
	region_generation++;
	memset(by_content, 0, sizeof(by_content));
	say(WIRE_PYTHON_ON, layout_version, (void *)py.is_initialized);
	publish_gc();
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

#define MAX_STEPS	100000	/* frames looked at, at most: a chain is never a loop, but */

unsigned hw_py_frames(uint64_t *out, unsigned max, uint64_t *hash, int *cut)
{
	const struct py_layout *l = layout;
	const char *ts = py.this_thread_state(), *frame;
	unsigned n = 0;
	uint64_t h;

	*hash = 0;
	if (!ts)
		return 0;	/* a thread Python never ran on */
	frame = l->cframe >= 0 ? AT(const char *, ts, l->cframe) : ts;
	frame = frame ? AT(const char *, frame, l->current_frame) : NULL;
	for (unsigned steps = 0; frame && steps < MAX_STEPS;
	     steps++, frame = AT(const char *, frame, l->frame_previous)) {
		int owner = AT(uint8_t, frame, l->frame_owner);
		const char *code, *instr, *bytecode;
		uint64_t word;

		if (owner == l->owner_cstack) {
			/* where one run of the interpreter loop ends */
			if (n)
				out[n - 1] |= WIRE_PY_ENTRY;
			continue;
		}
		code = AT(const char *, frame, l->frame_code);
		if (!code || AT(void *, code, 8) != py.code_type)
			continue;
		instr = AT(const char *, frame, l->frame_instr);
		bytecode = code + l->code_bytecode;
		/* a frame still in its prologue is not in tracebacks yet */
		if (owner != l->owner_generator &&
		    instr < bytecode + 2 * AT(int32_t, code, l->code_first_traceable))
			continue;
		if (n == max) {
			*cut = 1;
			break;
		}
		word = WIRE_PY_FRAME | (uint64_t)code_ref(code) << 32 | (uint32_t)((instr - bytecode) / 2);
		if (l->frame_is_entry >= 0 && AT(uint8_t, frame, l->frame_is_entry))
			word |= WIRE_PY_ENTRY;
		out[n++] = word;
	}
	if (!n)
		return 0;
	h = hw_hash_seed() ^ WIRE_PY_FRAME;
	for (unsigned i = n; i--;)
		h = hw_hash_frame(h, out[i]);
	*hash = h;
	return n;
}
