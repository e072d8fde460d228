/*
 * symbols.c - symbolization with elfutils (libdwfl, libdw).
 *
 * Each object file is reported once to a Dwfl of its own at its link-time
 * addresses (dwfl_report_elf), from the file on disk; an address of an
 * image is taken back to its file's addresses through the load bias the
 * module log recorded. So a file mapped by several images (libc in every
 * step of an exec chain) has its DWARF read and decompressed once.
 *
 * An address resolves to its chain of functions and inlined calls
 * (scopes.h, a per-unit cache in place of dwarf_getscopes, which rewalks
 * the whole unit for every address); each DW_TAG_inlined_subroutine
 * becomes a frame whose line is the one inside it, and the call site
 * (DW_AT_call_file/line) is the line of the frame that contains it.
 * Without DWARF we fall back to the ELF symbol table (function only), read
 * once per file into an array sorted by address: dwfl_module_addrinfo
 * scans every symbol on every call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>

#include "../util/array.h"
#include "debugcache.h"
#include "scopes.h"
#include "symbols.h"

/* libstdc++'s demangler: the one C++ toolchains use. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* One ELF symbol, at its file address. */
struct sym_entry {
	uint64_t start;
	uint64_t size;		/* 0: a label, which runs to the next symbol */
	const char *name;	/* libelf's, valid until dwfl_end */
};

/*
 * One object file, opened once however many images mapped it (an exec
 * chain through a shell wrapper maps libc in every image): a Dwfl of its
 * own holding the file alone, at its link-time addresses.
 */
/* A compilation unit's address range, for files without .debug_aranges. */
struct cu_range {
	Dwarf_Addr lo, hi;	/* [lo, hi) in the file's DWARF addresses */
	Dwarf_Off offset;	/* of the unit's DIE */
};

struct sym_file {
	char *path;
	Dwfl *dwfl;
	Dwfl_Module *mod;	/* NULL: gone from disk, or not ELF */
	char *build_id;		/* hex, made on first use */
	struct sym_entry *syms;	/* sorted by start; read on first use */
	size_t nsyms;
	int syms_read;
	int wanted;		/* a stack passes through it (symbolizer_want) */
	struct cu_range *cus;	/* sorted by lo; built when libdwfl finds no unit */
	size_t ncus;
	int cus_built;
};

/* An object as one image mapped it. */
struct module_info {
	uint32_t image;
	int id;			/* the caller's name for it */
	uint64_t bias, start, end;
	struct sym_file *file;
};

struct symbolizer {
	struct sym_file **files;
	size_t nfiles;
	struct module_info *modules;
	size_t nmodules;
	size_t last_found;	/* the module module_at found last; nmodules: none */
	char **strings;		/* names we own (demangled) */
	size_t nstrings;
	struct scope_cache *scopes;
	char *debuginfo_path;
	Dwfl_Callbacks callbacks;
};

/* Functions and inlined calls one address may sit in. */
#define MAX_SCOPES	64

/*
 * libdwfl's search for a module's separate debug file, through the cache
 * of plain copies (debugcache.h). libdwfl also asks for a dwz alternate
 * file this way, with its name and a CRC of 0 (a .gnu_debuglink always
 * has one): that file has a build-id of its own, so it goes uncached.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			  Dwarf_Addr base, const char *file_name, const char *debuglink,
			  GElf_Word crc, char **debuginfo_file_name)
{
	const unsigned char *id;
	GElf_Addr id_addr;
	int id_len = debuglink && crc == 0 ? 0 : dwfl_module_build_id(mod, &id, &id_addr);
	int fd = id_len > 0 ? debugcache_find(id, (size_t)id_len, debuginfo_file_name) : -1;

	if (fd >= 0)
		return fd;
	fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink,
					  crc, debuginfo_file_name);
	if (fd >= 0 && id_len > 0)
		fd = debugcache_store(id, (size_t)id_len, fd, debuginfo_file_name);
	return fd;
}

int symbolizer_new(struct symbolizer **out)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->scopes = scope_cache_new();
	if (!s->scopes) {
		free(s);
		return -ENOMEM;
	}
	s->callbacks.find_debuginfo = find_debuginfo;
	s->callbacks.section_address = dwfl_offline_section_address;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	*out = s;
	return 0;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++) {
		struct sym_file *f = s->files[i];

		if (f->dwfl)
			dwfl_end(f->dwfl);
		free(f->path);
		free(f->build_id);
		free(f->syms);
		free(f->cus);
		free(f);
	}
	for (size_t i = 0; i < s->nstrings; i++)
		free(s->strings[i]);
	free(s->strings);
	scope_cache_free(s->scopes);
	free(s->modules);
	free(s->files);
	free(s);
}

/* The file at path, opened on first use; NULL only when out of memory. */
static struct sym_file *file_for(struct symbolizer *s, const char *path)
{
	struct sym_file **n, *f;

	for (size_t i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i]->path, path) == 0)
			return s->files[i];
	n = realloc(s->files, (s->nfiles + 1) * sizeof(*n));
	if (!n)
		return NULL;
	s->files = n;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return NULL;
	}
	f->dwfl = dwfl_begin(&s->callbacks);
	if (f->dwfl) {
		dwfl_report_begin(f->dwfl);
		f->mod = dwfl_report_elf(f->dwfl, path, path, -1, 0, false);
		dwfl_report_end(f->dwfl, NULL, NULL);
	}
	s->files[s->nfiles++] = f;
	return f;
}

int symbolizer_add_module(struct symbolizer *s, uint32_t image, int id, const char *path,
			  uint64_t bias, uint64_t start, uint64_t end)
{
	struct sym_file *f;
	struct module_info *m;

	for (size_t i = 0; i < s->nmodules; i++) {
		m = &s->modules[i];
		if (m->image == image && m->bias == bias && m->start == start &&
		    strcmp(m->file->path, path) == 0) {
			m->id = id;	/* known already (the symbols were warmed) */
			return m->file->mod ? 0 : -ENOENT;
		}
	}
	f = file_for(s, path);
	if (!f)
		return -ENOMEM;
	m = realloc(s->modules, (s->nmodules + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	s->modules = m;
	m[s->nmodules++] = (struct module_info){ image, id, bias, start, end, f };
	s->last_found = s->nmodules;	/* it may cover the last one's range */
	return f->mod ? 0 : -ENOENT;	/* gone from disk, or not ELF: its frames stay raw */
}

static int module_holds(const struct module_info *m, uint32_t image, uint64_t addr)
{
	return m->image == image && addr >= m->start && addr < m->end;
}

/*
 * The module of that image mapped at addr, the latest one when a range
 * was reused after a dlclose; NULL when none (or its file is unreadable).
 * Addresses come in runs in one object: the last answer is tried first
 * (adding a module forgets it).
 */
static struct module_info *module_at(struct symbolizer *s, uint32_t image, uint64_t addr)
{
	if (s->last_found < s->nmodules && module_holds(&s->modules[s->last_found], image, addr))
		return &s->modules[s->last_found];
	for (size_t i = s->nmodules; i-- > 0;) {
		struct module_info *m = &s->modules[i];

		if (module_holds(m, image, addr)) {
			if (!m->file->mod)
				return NULL;
			s->last_found = i;
			return m;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The symbol table                                                    */
/* ------------------------------------------------------------------ */

/* GLOBAL before WEAK before LOCAL at one address, as libdwfl prefers. */
static int binding_rank(unsigned char info)
{
	switch (GELF_ST_BIND(info)) {
	case STB_GLOBAL:
		return 0;
	case STB_WEAK:
		return 1;
	default:
		return 2;
	}
}

struct sym_read {
	struct sym_entry e;
	int rank;
};

static int by_start(const void *a, const void *b)
{
	const struct sym_read *x = a, *y = b;

	if (x->e.start != y->e.start)
		return x->e.start < y->e.start ? -1 : 1;
	if ((x->e.size != 0) != (y->e.size != 0))
		return x->e.size ? -1 : 1;	/* sized first */
	return x->rank - y->rank;
}

/*
 * Read the file's symbols (.symtab, else .dynsym, and the minidebuginfo
 * table, as libdwfl finds them): functions and data objects with an
 * address, one per address (the preferred name), sorted.
 */
static void read_symbols(struct sym_file *f)
{
	int n = dwfl_module_getsymtab(f->mod);
	struct sym_read *all;
	size_t count = 0;

	f->syms_read = 1;
	if (n <= 0 || !(all = malloc((size_t)n * sizeof(*all))))
		return;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(f->mod, i, &sym, &addr, &shndx, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);

		if (!name || !*name || shndx == SHN_UNDEF || !addr)
			continue;
		/* not STT_TLS: its value is an offset in a thread's block */
		if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC && type != STT_NOTYPE)
			continue;
		all[count++] = (struct sym_read){ { addr, sym.st_size, name }, binding_rank(sym.st_info) };
	}
	qsort(all, count, sizeof(*all), by_start);
	f->syms = malloc((count ? count : 1) * sizeof(*f->syms));
	if (f->syms) {
		for (size_t i = 0; i < count; i++)
			if (!f->nsyms || f->syms[f->nsyms - 1].start != all[i].e.start)
				f->syms[f->nsyms++] = all[i].e;
	}
	free(all);
}

#define NESTED_LOOKBACK	8	/* earlier symbols checked for one that encloses */

/*
 * The symbol holding addr (a file address): the nearest sized symbol that
 * covers it (a few earlier ones are tried, for symbols nested in a larger
 * one), else the nearest label before it. NULL when there is none.
 */
static const struct sym_entry *symbol_at(struct sym_file *f, uint64_t addr)
{
	size_t lo = 0, hi, i;

	if (!f->syms_read)
		read_symbols(f);
	hi = f->nsyms;
	while (lo < hi) {	/* the first symbol starting after addr */
		size_t mid = lo + (hi - lo) / 2;

		if (f->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	for (i = lo; i-- > 0 && lo - i <= NESTED_LOOKBACK;) {
		const struct sym_entry *e = &f->syms[i];

		if (e->size && addr < e->start + e->size)
			return e;
	}
	return f->syms[lo - 1].size ? NULL : &f->syms[lo - 1];
}

/* Where a return address's call is: the byte before it. */
static uint64_t call_site(uint64_t ip)
{
	return ip ? ip - 1 : 0;
}

int symbolizer_want(struct symbolizer *s, uint32_t image, uint64_t ip)
{
	struct module_info *m = module_at(s, image, call_site(ip));

	if (!m || m->file->wanted)
		return 0;
	m->file->wanted = 1;
	return 1;
}

void symbolizer_load(struct symbolizer *s)
{
	Dwarf_Addr bias;

	for (size_t i = 0; i < s->nfiles; i++) {
		struct sym_file *f = s->files[i];

		if (!f->mod || !f->wanted || f->syms_read)
			continue;
		dwfl_module_getdwarf(f->mod, &bias);	/* finds, reads and decompresses */
		read_symbols(f);
	}
}

static const char *keep(struct symbolizer *s, char *owned)
{
	char **n = realloc(s->strings, (s->nstrings + 1) * sizeof(*n));

	if (!n) {
		free(owned);
		return NULL;
	}
	s->strings = n;
	n[s->nstrings++] = owned;
	return owned;
}

static const char *demangle(struct symbolizer *s, const char *name)
{
	char *d;
	int status;

	if (!name || name[0] != '_' || name[1] != 'Z')
		return name;
	d = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0 || !d) {
		free(d);
		return name;
	}
	return keep(s, d);
}

/* A subprogram's or inlined call's name, through abstract origins. */
static const char *scope_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (!name)
		name = dwarf_diename(die);
	if (!name) {
		Dwarf_Die origin;

		if (dwarf_attr_integrate(die, DW_AT_abstract_origin, &attr) &&
		    dwarf_formref_die(&attr, &origin))
			name = dwarf_diename(&origin);
	}
	return name;
}

/* Where an inlined call was made: its file (NULL if unknown), *line (0). */
static const char *call_site_of(Dwarf_Die *cudie, Dwarf_Die *die, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word val;
	const char *file = NULL;

	*line = 0;
	if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &val) == 0)
		*line = (int)val;
	if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &val) == 0) {
		Dwarf_Files *files;
		size_t nfiles;

		if (dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && val < nfiles)
			file = dwarf_filesrc(files, val, NULL, NULL);
	}
	return file;
}

/* ------------------------------------------------------------------ */
/* Units without .debug_aranges                                        */
/* ------------------------------------------------------------------ */

/*
 * clang emits no .debug_aranges, and libdwfl (0.188) then finds no unit
 * for an address, so no line and no scope. The units' own ranges
 * (DW_AT_low_pc/high_pc or DW_AT_ranges) say the same: read once per file,
 * sorted, and searched when libdwfl finds nothing.
 */
static int by_cu_lo(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void build_cu_ranges(struct sym_file *f)
{
	Dwarf_Addr bias, base, lo, hi;
	Dwarf *dw = dwfl_module_getdwarf(f->mod, &bias);
	Dwarf_Off off = 0, next;
	size_t hsize, cap = 0;

	f->cus_built = 1;
	if (!dw)
		return;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cudie;
		ptrdiff_t at = 0;

		if (dwarf_offdie(dw, off + hsize, &cudie)) {
			while ((at = dwarf_ranges(&cudie, at, &base, &lo, &hi)) > 0) {
				if (array_grow((void **)&f->cus, &cap, f->ncus + 1, sizeof(*f->cus)) < 0)
					return;
				f->cus[f->ncus++] = (struct cu_range){ lo, hi, off + hsize };
			}
		}
		off = next;
	}
	qsort(f->cus, f->ncus, sizeof(*f->cus), by_cu_lo);
}

/* The unit holding addr (an address of f's module, as dwfl_module_addrdie
 * takes it) into *die, with *bias as dwfl_module_addrdie sets it; NULL if
 * none. */
static Dwarf_Die *cu_by_ranges(struct sym_file *f, Dwarf_Addr addr, Dwarf_Die *die, Dwarf_Addr *bias)
{
	Dwarf *dw = dwfl_module_getdwarf(f->mod, bias);
	size_t lo = 0, hi;

	if (!dw)
		return NULL;
	if (!f->cus_built)
		build_cu_ranges(f);
	addr -= *bias;
	hi = f->ncus;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->cus[mid].hi <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ranges may overlap (nested units are rare): the first one holding it */
	for (; lo < f->ncus && f->cus[lo].lo <= addr; lo++)
		if (addr < f->cus[lo].hi && dwarf_offdie(dw, f->cus[lo].offset, die))
			return die;
	return NULL;
}

int symbolizer_resolve(struct symbolizer *s, uint32_t image, uint64_t ip,
		       struct sym_frame *out, int max)
{
	struct module_info *m = module_at(s, image, call_site(ip));
	Dwarf_Addr addr, bias = 0;
	Dwfl_Module *mod;
	Dwfl_Line *line;
	Dwarf_Die *cudie, unit, scopes[MAX_SCOPES];
	Dwarf_Attribute attr;
	const char *file = NULL, *dir;
	int lineno = 0, n = 0, nscopes;

	memset(out, 0, sizeof(*out));
	out->module = -1;
	if (!m)
		return 1;
	out->module = m->id;
	mod = m->file->mod;
	addr = call_site(ip) - m->bias;	/* the file's address */

	line = dwfl_module_getsrc(mod, addr);
	if (line)
		file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);

	cudie = dwfl_module_addrdie(mod, addr, &bias);
	if (!cudie && (cudie = cu_by_ranges(m->file, addr, &unit, &bias)) && !line) {
		/* the unit libdwfl could not find has the line too */
		Dwarf_Line *l = dwarf_getsrc_die(cudie, addr - bias);

		if (l && (file = dwarf_linesrc(l, NULL, NULL)))
			dwarf_lineno(l, &lineno);
	}
	dir = cudie ? dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr)) : NULL;
	nscopes = cudie ? scope_cache_lookup(s->scopes, cudie, addr - bias, scopes, MAX_SCOPES) : 0;
	for (int i = 0; i < nscopes && n < max; i++) {
		Dwarf_Die *die = &scopes[i];
		int tag = dwarf_tag(die);

		const char *name = demangle(s, scope_name(die));
		int start = 0;

		if (n && name && out[n - 1].function && strcmp(name, out[n - 1].function) == 0) {
			/* a function inlined into its own out-of-line copy (GCC
			 * emits PyUnicode_New inside PyUnicode_New, and so
			 * addr2line -i prints it twice): one frame, at the inner
			 * one's line. An inlined level of real recursion folds too,
			 * which costs a repeated name, not a caller. */
			out[n - 1].inlined = tag == DW_TAG_inlined_subroutine;
		} else {
			dwarf_decl_line(die, &start);	/* through the abstract origin */
			out[n] = (struct sym_frame){
				.function = name,
				.file = file,
				.dir = file && file[0] != '/' && dir && dir[0] == '/' ? dir : NULL,
				.line = (uint32_t)(lineno > 0 ? lineno : 0),
				.start_line = (uint32_t)(start > 0 ? start : 0),
				.inlined = tag == DW_TAG_inlined_subroutine,
				.module = out->module,
			};
			n++;
		}
		if (tag != DW_TAG_inlined_subroutine)
			break;
		/* the next frame's position is this inlined call's call site */
		file = call_site_of(cudie, die, &lineno);
	}
	if (n == 0) {
		/* no DWARF scope: the symbol table still names the function */
		const struct sym_entry *e = symbol_at(m->file, addr);

		out[0].function = e ? demangle(s, e->name) : NULL;
		out[0].file = file;
		out[0].dir = file && file[0] != '/' && dir && dir[0] == '/' ? dir : NULL;
		out[0].line = (uint32_t)(lineno > 0 ? lineno : 0);
		n = 1;
	}
	return n;
}

const char *symbolizer_symbol(struct symbolizer *s, uint32_t image, uint64_t addr, uint64_t *offset)
{
	struct module_info *m = module_at(s, image, addr);
	const struct sym_entry *e;

	if (!m || !(e = symbol_at(m->file, addr - m->bias)))
		return NULL;
	*offset = addr - m->bias - e->start;
	return demangle(s, e->name);
}

const char *symbolizer_build_id(struct symbolizer *s, uint32_t image, int id)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < s->nmodules; i++) {
		struct module_info *m = &s->modules[i];
		struct sym_file *f = m->file;
		const unsigned char *bits;
		GElf_Addr vaddr;
		int len;

		if (m->image != image || m->id != id || !f->mod)
			continue;
		if (f->build_id)
			return f->build_id;
		len = dwfl_module_build_id(f->mod, &bits, &vaddr);
		f->build_id = calloc(1, len > 0 ? (size_t)len * 2 + 1 : 1);
		if (!f->build_id)
			return "";
		for (int k = 0; k < len; k++) {
			f->build_id[2 * k] = hex[bits[k] >> 4];
			f->build_id[2 * k + 1] = hex[bits[k] & 15];
		}
		return f->build_id;
	}
	return "";
}
