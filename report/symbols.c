/*
 * symbols.c - symbolization with elfutils (libdwfl, libdw).
 *
 * For each image we report every logged object to a Dwfl at its load bias
 * (dwfl_report_elf), the way eu-addr2line -p does for a live process, but
 * from files only. An address resolves to its chain of functions and
 * inlined calls (scopes.h, a per-unit cache in place of dwarf_getscopes,
 * which rewalks the whole unit for every address); each DW_TAG_inlined_subroutine becomes a frame whose
 * line is the one inside it, and the call site (DW_AT_call_file/line) is
 * the line of the frame that contains it. Without DWARF we fall back to
 * the ELF symbol table (function only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>

#include "scopes.h"
#include "symbols.h"

/* libstdc++'s demangler: the one C++ toolchains use. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

struct image_dwfl {
	uint32_t image;
	Dwfl *dwfl;
};

struct module_info {
	uint32_t image;
	int id;
	Dwfl_Module *mod;
	char *build_id;
};

struct symbolizer {
	struct image_dwfl *images;
	size_t nimages;
	struct module_info *modules;
	size_t nmodules;
	char **strings;		/* names we own (demangled) */
	size_t nstrings;
	struct scope_cache *scopes;
	char *debuginfo_path;
	Dwfl_Callbacks callbacks;
};

/* Functions and inlined calls one address may sit in. */
#define MAX_SCOPES	64

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
	s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
	s->callbacks.section_address = dwfl_offline_section_address;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	*out = s;
	return 0;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nimages; i++)
		dwfl_end(s->images[i].dwfl);
	for (size_t i = 0; i < s->nmodules; i++)
		free(s->modules[i].build_id);
	for (size_t i = 0; i < s->nstrings; i++)
		free(s->strings[i]);
	free(s->strings);
	scope_cache_free(s->scopes);
	free(s->modules);
	free(s->images);
	free(s);
}

static Dwfl *dwfl_for(struct symbolizer *s, uint32_t image, int create)
{
	struct image_dwfl *n;

	for (size_t i = 0; i < s->nimages; i++)
		if (s->images[i].image == image)
			return s->images[i].dwfl;
	if (!create)
		return NULL;
	n = realloc(s->images, (s->nimages + 1) * sizeof(*n));
	if (!n)
		return NULL;
	s->images = n;
	n[s->nimages].image = image;
	n[s->nimages].dwfl = dwfl_begin(&s->callbacks);
	if (!n[s->nimages].dwfl)
		return NULL;
	dwfl_report_begin(n[s->nimages].dwfl);
	return n[s->nimages++].dwfl;
}

int symbolizer_add_module(struct symbolizer *s, uint32_t image, int id, const char *path,
			  uint64_t bias)
{
	Dwfl *dwfl = dwfl_for(s, image, 1);
	struct module_info *m;
	Dwfl_Module *mod;
	void **userdata;

	if (!dwfl)
		return -ENOMEM;
	dwfl_report_begin_add(dwfl);
	mod = dwfl_report_elf(dwfl, path, path, -1, bias, false);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!mod)
		return -ENOENT;	/* gone from disk, or not ELF: its frames stay raw */
	m = realloc(s->modules, (s->nmodules + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	s->modules = m;
	m[s->nmodules] = (struct module_info){ image, id, mod, NULL };
	s->nmodules++;
	dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	*userdata = (void *)(intptr_t)(id + 1);
	return 0;
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

static int module_id(Dwfl_Module *mod)
{
	void **userdata;

	dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	return (int)(intptr_t)*userdata - 1;
}

int symbolizer_resolve(struct symbolizer *s, uint32_t image, uint64_t ip,
		       struct sym_frame *out, int max)
{
	Dwfl *dwfl = dwfl_for(s, image, 0);
	Dwarf_Addr addr = ip ? ip - 1 : 0, bias = 0;
	Dwfl_Module *mod;
	Dwfl_Line *line;
	Dwarf_Die *cudie, scopes[MAX_SCOPES];
	const char *file = NULL;
	int lineno = 0, n = 0, nscopes;

	memset(out, 0, sizeof(*out));
	out->module = -1;
	if (!dwfl || !(mod = dwfl_addrmodule(dwfl, addr)))
		return 1;
	out->module = module_id(mod);

	line = dwfl_module_getsrc(mod, addr);
	if (line)
		file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);

	cudie = dwfl_module_addrdie(mod, addr, &bias);
	nscopes = cudie ? scope_cache_lookup(s->scopes, cudie, addr - bias, scopes, MAX_SCOPES) : 0;
	for (int i = 0; i < nscopes && n < max; i++) {
		Dwarf_Die *die = &scopes[i];
		int tag = dwarf_tag(die);
		Dwarf_Attribute attr;
		Dwarf_Word val;

		out[n] = (struct sym_frame){
			.function = demangle(s, scope_name(die)),
			.file = file,
			.line = (uint32_t)(lineno > 0 ? lineno : 0),
			.inlined = tag == DW_TAG_inlined_subroutine,
			.module = out->module,
		};
		n++;
		if (tag != DW_TAG_inlined_subroutine)
			break;
		/* the next frame's position is this inlined call's call site */
		file = NULL;
		lineno = 0;
		if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &val) == 0)
			lineno = (int)val;
		if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &val) == 0) {
			Dwarf_Files *files;
			size_t nfiles;

			if (dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && val < nfiles)
				file = dwarf_filesrc(files, val, NULL, NULL);
		}
	}
	if (n == 0) {
		/* no DWARF scope: the symbol table still names the function */
		GElf_Sym sym;
		GElf_Off off;
		const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);

		out[0].function = demangle(s, name);
		out[0].file = file;
		out[0].line = (uint32_t)(lineno > 0 ? lineno : 0);
		n = 1;
	}
	return n;
}

const char *symbolizer_symbol(struct symbolizer *s, uint32_t image, uint64_t addr, uint64_t *offset)
{
	Dwfl *dwfl = dwfl_for(s, image, 0);
	Dwfl_Module *mod;
	GElf_Sym sym;
	GElf_Off off = 0;
	const char *name;

	if (!dwfl || !(mod = dwfl_addrmodule(dwfl, addr)))
		return NULL;
	name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
	if (!name || !*name)
		return NULL;
	*offset = off;
	return demangle(s, name);
}

const char *symbolizer_build_id(struct symbolizer *s, uint32_t image, int id)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < s->nmodules; i++) {
		struct module_info *m = &s->modules[i];
		const unsigned char *bits;
		GElf_Addr vaddr;
		int len;

		if (m->image != image || m->id != id)
			continue;
		if (m->build_id)
			return m->build_id;
		len = dwfl_module_build_id(m->mod, &bits, &vaddr);
		m->build_id = calloc(1, len > 0 ? (size_t)len * 2 + 1 : 1);
		if (!m->build_id)
			return "";
		for (int k = 0; k < len; k++) {
			m->build_id[2 * k] = hex[bits[k] >> 4];
			m->build_id[2 * k + 1] = hex[bits[k] & 15];
		}
		return m->build_id;
	}
	return "";
}
