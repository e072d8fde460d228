/*
 * unwind.c - the caller's stack, without redoing what the last walk did.
 *
 * unw_backtrace looks every frame's shape up (where its CFA is, where the
 * caller's RBP was saved) in a per-thread hash keyed by the return address,
 * and on deep stacks most of its time goes to those lookups missing the
 * cache. Yet consecutive allocations on one thread share all but their top
 * frames. So this walker keeps, per thread, the last stack it walked and
 * the stack words it read to get there: each frame's return-address slot
 * and, where the frame saved it, the caller's RBP. The next walk steps up
 * from its own frame only until it stands where a remembered frame stood
 * (same return address, same stack pointer, same RBP). From there on, the
 * remembered frames are the answer for as long as every word they were
 * read from still holds the value read then: a frame walk depends on the
 * starting registers and on those words only, so the answer is the one a
 * full walk would give.
 *
 * Frame shapes are learnt from libunwind itself, once per return address:
 * one unw_step from the frame's real registers, and one more with RSP and
 * RBP moved by different amounts to see which of them the CFA follows.
 * Frames that fit no simple shape (signal frames, frames without unwind
 * information, CFA expressions) send the whole walk back to unw_backtrace.
 * So do walks deeper than the memo holds, a full shape table, and a
 * program that dlcloses more often than we keep tables for: code unmapped
 * by dlclose may be replaced by other code at the same addresses, so
 * every dlclose starts a new table.
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <string.h>
#include <ucontext.h>
#include <sys/mman.h>
#include <libunwind.h>

#include "tracer.h"

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define SHAPE_BITS	16		/* shape table slots, as a power of two */
#define SHAPE_PROBES	16		/* linear probes before a walk gives up */
#define SHAPE_TABLES	8		/* dlcloses survived before we give up */
#define LOWEST_IP	0x4000		/* a return address below this ends the walk */

enum shape_kind {
	SHAPE_SP = 1,		/* CFA = RSP + cfa_offset */
	SHAPE_BP = 2,		/* CFA = RBP + cfa_offset */
	SHAPE_LAST = 3,		/* the outermost frame: nothing to step to */
	SHAPE_OTHER = 4,	/* none of these: leave it to unw_backtrace */
};

/* How to step from a frame to its caller; keyed by the frame's return address. */
struct frame_shape {
	uint64_t ip;		/* 0 = empty; claimed by CAS */
	int32_t cfa_offset;
	int16_t bp_offset;	/* the caller's RBP is at CFA + this; 0: RBP unchanged */
	uint8_t kind;		/* enum shape_kind */
	uint8_t ready;		/* 1 once the fields above are written (release) */
};

/*
 * A walk, frame by frame: the registers it stood on, and where the step
 * to frame i + 1 read that frame's RBP. The step also read frame i + 1's
 * ip at its sp - 8.
 */
struct walk {
	unsigned n;
	struct hw_frame f[HW_UNWIND_FRAMES];
};

/* The last walk of this thread. */
struct unwind_memo {
	const struct frame_shape *table;	/* the shapes it was walked with */
	int complete;			/* its last frame is the outermost */
	struct walk w;			/* w.n = 0: nothing remembered */
};

static struct frame_shape *shapes;	/* current table; NULL: walk with libunwind */
static unsigned tables_made;
static __thread struct unwind_memo memo __attribute__((tls_model("initial-exec")));

static struct frame_shape *new_table(void)
{
	void *p = mmap(NULL, sizeof(struct frame_shape) << SHAPE_BITS, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void hw_unwind_init(void)
{
	tables_made = 1;
	__atomic_store_n(&shapes, new_table(), __ATOMIC_RELEASE);
}

/*
 * Code may have been unmapped: start a new table. The old one stays
 * mapped, since another thread may be reading it right now.
 */
void hw_unwind_forget(void)
{
	struct frame_shape *fresh = NULL;

	if (!__atomic_load_n(&shapes, __ATOMIC_ACQUIRE))
		return;		/* not attached, or given up already */
	if (__atomic_add_fetch(&tables_made, 1, __ATOMIC_RELAXED) <= SHAPE_TABLES)
		fresh = new_table();
	__atomic_store_n(&shapes, fresh, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ */
/* Learning a shape                                                    */
/* ------------------------------------------------------------------ */

struct step_result {
	uint64_t ip, sp, bp;
	uint64_t bp_slot;	/* where the caller's RBP was read; 0: its register */
};

/*
 * Does libunwind know the frame's code from unwind tables? For code
 * without them it makes up a one-byte procedure (format 0, "dynamic"),
 * and its unw_step guesses the caller from RBP, checking each read. A
 * guess right once may be wrong the next time, so we take no shape from
 * such a frame.
 */
static int described(unw_cursor_t *cursor)
{
	unw_proc_info_t pi;

	return unw_get_proc_info(cursor, &pi) == 0 && pi.format != UNW_INFO_FORMAT_DYNAMIC &&
	       pi.end_ip - pi.start_ip > 1;
}

/*
 * One unw_step from the registers (ip, sp, bp). 1 with *out filled, 0 at
 * the outermost frame, -1 for a frame we do not model.
 */
static int step_once(uint64_t ip, uint64_t sp, uint64_t bp, struct step_result *out)
{
	unw_context_t uc;
	unw_cursor_t cursor;
	unw_save_loc_t loc;
	unw_word_t v;
	int ret;

	memset(&uc, 0, sizeof(uc));
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)ip;
	uc.uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
	uc.uc_mcontext.gregs[REG_RBP] = (greg_t)bp;
	if (unw_init_local(&cursor, &uc) < 0 || unw_is_signal_frame(&cursor) > 0 ||
	    !described(&cursor))
		return -1;
	ret = unw_step(&cursor);
	if (ret <= 0)
		return ret == 0 ? 0 : -1;
	if (unw_get_reg(&cursor, UNW_REG_IP, &v) < 0)
		return -1;
	out->ip = v;
	if (unw_get_reg(&cursor, UNW_REG_SP, &v) < 0)
		return -1;
	out->sp = v;
	if (unw_get_reg(&cursor, UNW_X86_64_RBP, &v) < 0)
		return -1;
	out->bp = v;
	out->bp_slot = 0;
	if (unw_get_save_loc(&cursor, UNW_X86_64_RBP, &loc) < 0)
		return -1;
	/* a location inside uc is the register itself, left alone */
	if (loc.type == UNW_SLT_MEMORY &&
	    (loc.u.addr < (uintptr_t)&uc || loc.u.addr >= (uintptr_t)(&uc + 1)))
		out->bp_slot = loc.u.addr;
	return 1;
}

/*
 * What unw_step does from the registers (ip, sp, bp), as a shape. A
 * second step, with RSP moved by 8 bytes and RBP by 16, tells which of
 * the two the CFA follows. That step reads the stack a little off the
 * real slots; should the return address it reads there be 0 (the end of
 * the stack to libunwind), it is tried again further on.
 */
static void learn_shape(struct frame_shape *f, uint64_t ip, uint64_t sp, uint64_t bp)
{
	struct step_result real, moved;
	int ret = step_once(ip, sp, bp, &real);
	uint64_t a = 1, base;

	f->kind = SHAPE_OTHER;
	if (ret == 0)
		f->kind = SHAPE_LAST;
	if (ret <= 0)
		return;
	while ((ret = step_once(ip, sp + 8 * a, bp + 16 * a, &moved)) == 0 && a < 3)
		a++;
	if (ret != 1)
		return;
	if (moved.sp == real.sp + 8 * a)
		f->kind = SHAPE_SP;
	else if (moved.sp == real.sp + 16 * a)
		f->kind = SHAPE_BP;
	else
		return;
	base = f->kind == SHAPE_SP ? sp : bp;
	f->cfa_offset = (int32_t)(real.sp - base);
	if (real.sp != base + (uint64_t)(int64_t)f->cfa_offset)
		f->kind = SHAPE_OTHER;	/* an offset past 32 bits */
	/* the return address is read at CFA - 8, the caller's RBP kept or saved */
	if (*(const uint64_t *)(real.sp - 8) != real.ip)
		f->kind = SHAPE_OTHER;
	if (real.bp_slot) {
		int64_t off = (int64_t)(real.bp_slot - real.sp);

		if (off == 0 || off != (int16_t)off || *(const uint64_t *)real.bp_slot != real.bp)
			f->kind = SHAPE_OTHER;
		f->bp_offset = (int16_t)off;
	} else {
		if (real.bp != bp)
			f->kind = SHAPE_OTHER;
		f->bp_offset = 0;
	}
}

/*
 * The shape for return address ip, learnt from the registers the walk
 * stands on when it is new. NULL when the table is full around ip.
 */
static const struct frame_shape *shape_of(struct frame_shape *table, uint64_t ip,
					  uint64_t sp, uint64_t bp, struct frame_shape *scratch)
{
	uint32_t mask = (1u << SHAPE_BITS) - 1;
	uint32_t i = (uint32_t)((ip * 0x9e3779b97f4a7c15ull) >> (64 - SHAPE_BITS));

	for (unsigned probe = 0; probe < SHAPE_PROBES; probe++, i = (i + 1) & mask) {
		struct frame_shape *f = &table[i];
		uint64_t k = __atomic_load_n(&f->ip, __ATOMIC_ACQUIRE);
		uint64_t expect = 0;

		if (likely(k == ip)) {
			if (likely(__atomic_load_n(&f->ready, __ATOMIC_ACQUIRE)))
				return f;
			break;		/* another thread is learning it */
		}
		if (k)
			continue;
		if (!__atomic_compare_exchange_n(&f->ip, &expect, ip, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			if (expect != ip)
				continue;
			break;
		}
		learn_shape(f, ip, sp, bp);
		__atomic_store_n(&f->ready, 1, __ATOMIC_RELEASE);
		return f;
	}
	if (__atomic_load_n(&table[i].ip, __ATOMIC_RELAXED) != ip)
		return NULL;
	learn_shape(scratch, ip, sp, bp);
	return scratch;
}

/* ------------------------------------------------------------------ */
/* Walking                                                             */
/* ------------------------------------------------------------------ */

/*
 * How far the memo still stands from frame `from` on: the highest index v
 * such that the steps from..v-1 read today what they read then. (A frame
 * that left RBP in its register passes it on unchanged, so only saved RBPs
 * need a look.)
 */
static unsigned memo_holds_until(const struct walk *m, unsigned from)
{
	const struct hw_frame *f = m->f;
	unsigned i;

	for (i = from; i + 1 < m->n; i++) {
		if (*(const uint64_t *)(f[i + 1].sp - 8) != f[i + 1].ip)
			break;
		if (f[i].bp_slot && (*(const uint64_t *)f[i].bp_slot ^ HW_HIDDEN) != f[i + 1].bp)
			break;
	}
	return i;
}

static void walk_push(struct walk *w, uint64_t ip, uint64_t sp, uint64_t bp, uint64_t bp_slot)
{
	struct hw_frame *f = &w->f[w->n++];

	f->ip = ip;
	f->sp = sp;
	f->bp = bp ^ HW_HIDDEN;
	f->bp_slot = bp_slot;
}

/*
 * The memo becomes the walk's top frames, then its own frames from `from`
 * on, `total` in all. The frames kept keep their hashes (a hash covers a
 * frame's way out, which is theirs); the new ones get theirs.
 */
static void memo_splice(struct walk *m, const struct walk *w, unsigned from, unsigned total)
{
	unsigned kept = total - w->n;
	uint64_t h;

	if (w->n != from)
		memmove(&m->f[w->n], &m->f[from], kept * sizeof(m->f[0]));
	memcpy(m->f, w->f, w->n * sizeof(m->f[0]));
	m->n = total;
	h = kept ? m->f[w->n].hash : hw_hash_seed();
	for (unsigned i = w->n; i-- > 0;)
		m->f[i].hash = h = hw_hash_frame(h, m->f[i].ip);
}

int hw_unwind(uint64_t ip, uint64_t sp, uint64_t bp, unsigned max,
	      const struct hw_frame **frames, int *same)
{
	struct walk *m = &memo.w;
	struct frame_shape *table = __atomic_load_n(&shapes, __ATOMIC_ACQUIRE);
	struct frame_shape scratch;
	struct walk w;
	unsigned k = 0;
	int complete = 0;

	*same = 0;
	w.n = 0;
	if (unlikely(!table || max > HW_UNWIND_FRAMES || !max)) {
		m->n = 0;
		return -1;
	}
	if (memo.table != table)
		m->n = 0;

	for (;;) {
		const struct frame_shape *f;
		uint64_t cfa, slot = 0;

		while (k < m->n && m->f[k].sp < sp)
			k++;
		if (k < m->n && m->f[k].sp == sp && m->f[k].ip == ip && m->f[k].bp == (bp ^ HW_HIDDEN)) {
			unsigned v = memo_holds_until(m, k);
			unsigned total = w.n + (m->n - k);

			if (v + 1 == m->n && (memo.complete || total >= max) && total <= max) {
				/* the rest of the stack is the memo's */
				*same = w.n == k && total == m->n;
				for (unsigned i = 0; *same && i < w.n; i++)
					*same = w.f[i].ip == m->f[i].ip;
				if (!*same)
					memo_splice(m, &w, k, total);
				*frames = m->f;
				return (int)total;
			}
			/* frames k..v stand; walk on from v */
			for (; k < v && w.n + 1 < max; k++)
				w.f[w.n++] = m->f[k];
			ip = m->f[k].ip;
			sp = m->f[k].sp;
			bp = m->f[k].bp ^ HW_HIDDEN;
			k++;
		}
		if (w.n + 1 == max) {
			walk_push(&w, ip, sp, bp, 0);
			break;
		}
		f = shape_of(table, ip, sp, bp, &scratch);
		if (unlikely(!f || f->kind == SHAPE_OTHER)) {
			m->n = 0;
			return -1;
		}
		if (f->kind == SHAPE_LAST) {
			walk_push(&w, ip, sp, bp, 0);
			complete = 1;
			break;
		}
		cfa = (f->kind == SHAPE_SP ? sp : bp) + (uint64_t)(int64_t)f->cfa_offset;
		if (f->bp_offset)
			slot = cfa + (uint64_t)(int64_t)f->bp_offset;
		walk_push(&w, ip, sp, bp, slot);
		ip = *(const uint64_t *)(cfa - 8);
		if (slot)
			bp = *(const uint64_t *)slot;
		sp = cfa;
		if (ip < LOWEST_IP)
			break;
	}
	memo_splice(m, &w, 0, w.n);
	memo.complete = complete;
	memo.table = table;
	*frames = m->f;
	return (int)w.n;
}
