/*
 * attach.c - find the real allocator, map the collector's region, keep the
 * module log, and step aside in forked children.
 *
 * Attaching happens once per image, at the first allocator call or in our
 * constructor, whichever comes first (other libraries' constructors, such as
 * libstdc++'s emergency exception pool, allocate before ours runs, and
 * valgrind counts them): read HEAPWISE_SHM, check the header, and only if
 * this process is the one heapwise started (same pid: an exec'd image of it
 * counts, a forked child does not) map the region and start recording.
 * With --follow-fork, other processes of the tree get regions of their own
 * through the first region's fork table (wire.h): a forked child in its
 * fork handler, an exec'd image at attach. Anything unexpected leaves
 * tracing off and the program untouched.
 *
 * At exit (our destructor, which the loader runs after the program's own
 * atexit handlers and destructors, or a direct call of _exit) the tracer
 * asks the collector for its reachability scan and waits for it, so the
 * scan sees the heap as the program leaves it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#include "tracer.h"

struct real_allocator hw_real;
struct wire_header *hw_hdr;
int hw_active;
uint32_t hw_image;
int hw_modules_dirty;
int hw_attach_tried;
void *hw_real_dlopen;		/* read by the dlopen trampoline in hooks.c */

static int debug_on;		/* HEAPWISE_DEBUG was set */
static int bootstrapping;	/* inside dlsym: allocations come from the pool */
static uintptr_t own_start, own_end;	/* libheapwise.so's mapped range */

/* Memory handed out while dlsym itself allocates, before hw_real exists. */
char hw_bootstrap_pool[HW_BOOTSTRAP_POOL] __attribute__((aligned(64)));
static size_t bootstrap_used;

/* ------------------------------------------------------------------ */
/* Bootstrap                                                           */
/* ------------------------------------------------------------------ */

void *hw_bootstrap_alloc(size_t size)
{
	size_t at = __atomic_fetch_add(&bootstrap_used, (size + 63) & ~(size_t)63, __ATOMIC_RELAXED);

	if (at + size > sizeof(hw_bootstrap_pool)) {
		static const char msg[] = "heapwise: bootstrap pool exhausted before the real allocator was found\n";
		ssize_t ignored = write(2, msg, sizeof(msg) - 1);
		(void)ignored;
		abort();
	}
	return hw_bootstrap_pool + at;
}

static void *must_find(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn) {
		static const char msg[] = "heapwise: cannot find the real allocator function ";
		ssize_t ignored = write(2, msg, sizeof(msg) - 1);
		ignored = write(2, name, strlen(name));
		ignored = write(2, "\n", 1);
		(void)ignored;
		abort();
	}
	return fn;
}

void hw_bootstrap(void)
{
	if (hw_real.free || bootstrapping)
		return;
	bootstrapping = 1;
	hw_real.calloc = must_find("calloc");
	hw_real.malloc = must_find("malloc");
	hw_real.realloc = must_find("realloc");
	hw_real.posix_memalign = must_find("posix_memalign");
	hw_real.aligned_alloc = must_find("aligned_alloc");
	hw_real.memalign = must_find("memalign");
	hw_real.valloc = must_find("valloc");
	hw_real.pvalloc = must_find("pvalloc");
	hw_real.dlclose = must_find("dlclose");
	hw_real_dlopen = must_find("dlopen");
	__atomic_store_n(&hw_real.free, (void (*)(void *))must_find("free"), __ATOMIC_RELEASE);
	bootstrapping = 0;
}

/* ------------------------------------------------------------------ */
/* Messages and paths, without stdio                                   */
/* ------------------------------------------------------------------ */

void hw_debug(const char *msg)
{
	static const char prefix[] = "heapwise tracer: ";
	ssize_t ignored;

	if (!debug_on)
		return;
	ignored = write(2, prefix, sizeof(prefix) - 1);
	ignored = write(2, msg, strlen(msg));
	ignored = write(2, "\n", 1);
	(void)ignored;
}

/* v in decimal at p, without a NUL; returns where it ends. */
static char *put_decimal(char *p, unsigned v)
{
	char digits[16];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < 15);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

void hw_proc_path(char buf[64], int pid, const char *leaf)
{
	char *p = buf;

	memcpy(p, "/proc/", 6);
	p = put_decimal(p + 6, (unsigned)pid);
	*p++ = '/';
	strncpy(p, leaf, 64 - (size_t)(p - buf) - 1);
	buf[63] = '\0';
}

int hw_read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int hw_own_frame(uint64_t ip)
{
	return ip >= own_start && ip < own_end;
}

/* ------------------------------------------------------------------ */
/* Module log                                                          */
/* ------------------------------------------------------------------ */

/*
 * The address ranges of the objects logged, sorted, for hw_check_modules:
 * two copies, the one readers use published by index, so a thread looking
 * while another logs sees one whole (or an older one: then at worst it
 * asks the loader once more).
 */
#define MAX_RANGES	4096

struct module_range {
	uint64_t lo, hi;
};

static struct module_range ranges[2][MAX_RANGES];
static unsigned nranges[2];
static int ranges_current;		/* which copy readers use (atomic) */
static unsigned building;		/* entries of the other copy, while logging */
static unsigned long long loader_adds;	/* dlpi_adds when we last logged */

static void add_range(uint64_t lo, uint64_t hi)
{
	int next = !__atomic_load_n(&ranges_current, __ATOMIC_ACQUIRE);

	if (building < MAX_RANGES)
		ranges[next][building++] = (struct module_range){ lo, hi };
}

/* Insertion sort: no allocation, and the ranges come nearly sorted. */
static void sort_ranges(struct module_range *r, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned k = i; k > 0 && r[k].lo < r[k - 1].lo; k--) {
			struct module_range t = r[k];

			r[k] = r[k - 1];
			r[k - 1] = t;
		}
}

static int module_covers(uint64_t ip)
{
	int cur = __atomic_load_n(&ranges_current, __ATOMIC_ACQUIRE);
	const struct module_range *r = ranges[cur];
	unsigned lo = 0, hi = nranges[cur];

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (r[mid].hi <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nranges[cur] && r[lo].lo <= ip;
}

static int count_adds(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(unsigned long long *)arg = info->dlpi_adds;
	return 1;	/* the first object says it: stop */
}

void hw_check_modules(const uint64_t *frames, unsigned depth)
{
	unsigned long long adds = 0;

	for (unsigned i = 0; i < depth && !(frames[i] & WIRE_PY_FRAME); i++)
		if (!module_covers(frames[i])) {
			/* JIT code and trampolines lie outside every object: ask the
			 * loader only whether it loaded anything since */
			dl_iterate_phdr(count_adds, &adds);
			if (adds != __atomic_load_n(&loader_adds, __ATOMIC_RELAXED))
				hw_log_modules();
			return;
		}
}

static int module_logged(uint64_t bias, uint64_t start)
{
	struct wire_module *m = hw_layout.modules;
	uint32_t used = __atomic_load_n(&hw_hdr->modules_used, __ATOMIC_ACQUIRE);

	if (used > hw_layout.module_capacity)
		used = hw_layout.module_capacity;
	for (uint32_t i = 0; i < used; i++)
		if (m[i].image == hw_image && m[i].bias == bias && m[i].start == start &&
		    __atomic_load_n(&m[i].ready, __ATOMIC_ACQUIRE))
			return 1;
	return 0;
}

static int log_one_module(struct dl_phdr_info *info, size_t size, void *first)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	char path[PATH_MAX];
	const char *name = info->dlpi_name;
	struct wire_module *m;
	uint32_t at;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_vaddr < lo)
			lo = ph->p_vaddr;
		if (ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
	}
	if (hi == 0)
		return 0;
	lo += info->dlpi_addr;
	hi += info->dlpi_addr;
	add_range(lo, hi);
	__atomic_store_n(&loader_adds, info->dlpi_adds, __ATOMIC_RELAXED);

	if (own_end == 0 && (uintptr_t)hw_own_frame >= lo && (uintptr_t)hw_own_frame < hi) {
		own_start = lo;
		own_end = hi;
	}
	if (*(int *)first) {
		/* the main program comes first, with an empty name */
		*(int *)first = 0;
		if (!name || !*name) {
			ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

			if (n <= 0)
				return 0;
			path[n] = '\0';
			name = path;
		}
	}
	if (!name || !*name || strncmp(name, "linux-vdso", 10) == 0 || strncmp(name, "linux-gate", 10) == 0)
		return 0;
	if (name[0] != '/' && name != path && realpath(name, path))
		name = path;
	if (module_logged(info->dlpi_addr, lo))
		return 0;

	at = __atomic_fetch_add(&hw_hdr->modules_used, 1, __ATOMIC_ACQ_REL);
	if (at >= hw_layout.module_capacity)
		return 1;
	m = &hw_layout.modules[at];
	m->bias = info->dlpi_addr;
	m->start = lo;
	m->end = hi;
	m->image = hw_image;
	strncpy(m->path, name, sizeof(m->path) - 1);
	m->path[sizeof(m->path) - 1] = '\0';
	__atomic_store_n(&m->ready, 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Append every loaded object not yet in the log. Called with the guard set:
 * dl_iterate_phdr takes the loader's lock and realpath may allocate. One
 * thread at a time does it; the others carry on, their stacks resolve as
 * soon as the log has the object.
 */
void hw_log_modules(void)
{
	static int busy;
	int first = 1;

	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&hw_modules_dirty, 0, __ATOMIC_RELAXED);
	building = 0;
	dl_iterate_phdr(log_one_module, &first);
	{
		int next = !__atomic_load_n(&ranges_current, __ATOMIC_ACQUIRE);

		sort_ranges(ranges[next], building);
		nranges[next] = building;
		__atomic_store_n(&ranges_current, next, __ATOMIC_RELEASE);
	}
	hw_py_find();	/* an interpreter among them? */
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ */
/* Attach                                                              */
/* ------------------------------------------------------------------ */

/*
 * How far below the thread pointer the static TLS in use reaches, for the
 * collector's scan of each thread's TLS: the lowest TLS block of the
 * loaded objects, seen from this thread (every thread has the same layout).
 */
static int lowest_tls(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t tp = (uintptr_t)__builtin_thread_pointer(), data = (uintptr_t)info->dlpi_tls_data;
	uint64_t *below = arg;

	(void)size;
	if (data && data < tp && tp - data > *below)
		*below = tp - data;
	return 0;
}

static void publish_tls_size(void)
{
	uint64_t below = 0;

	dl_iterate_phdr(lowest_tls, &below);
	hw_hdr->static_tls_size = (below + 63) & ~63ull;
}

/* ------------------------------------------------------------------ */
/* Regions                                                             */
/* ------------------------------------------------------------------ */

static struct wire_header *fork_table;	/* the first region's header (--follow-fork) */
static int atfork_set;			/* our fork handler is registered */

static void in_forked_child(void);

/*
 * Map the region at path if it is meant for this process, and start
 * recording into it. Returns 0 when attached.
 */
static int attach_region(const char *path)
{
	struct wire_header probe;
	int fd = open(path, O_RDWR | O_CLOEXEC), ret;

	if (fd < 0) {
		hw_debug("cannot open the collector's region (is heapwise still running?)");
		return -1;
	}
	if (pread(fd, &probe, sizeof(probe), 0) != (ssize_t)sizeof(probe) ||
	    probe.magic != WIRE_MAGIC || probe.version != WIRE_VERSION) {
		hw_debug("the collector's region has another version: not traced");
		close(fd);
		return -1;
	}
	if (probe.traced_pid != (pid_t)syscall(SYS_getpid) || probe.collector_done ||
	    probe.tracer_state == WIRE_TRACER_DISABLED) {
		close(fd);	/* a child of the traced program, or too late: not ours to trace */
		return -1;
	}
	ret = hw_region_map(fd, path, &probe);
	if (ret < 0) {
		/* say why in the region itself: heapwise tells the user */
		int32_t why = -ret;

		if (pwrite(fd, &why, sizeof(why), offsetof(struct wire_header, attach_errno)) < 0)
			hw_debug("cannot tell heapwise why");
		close(fd);
		hw_debug(ret == -ENOMEM ? "no address space for the collector's region (RLIMIT_AS?): not traced"
					: "the collector's region is not usable: not traced");
		return -1;
	}
	close(fd);
	hw_image = __atomic_add_fetch(&hw_hdr->image, 1, __ATOMIC_ACQ_REL);
	publish_tls_size();
	hw_py_new_region();	/* a forked child's: the code log is empty again */
	hw_log_modules();
	hw_emit_init();
	if (!atfork_set && pthread_atfork(NULL, NULL, in_forked_child) == 0)
		atfork_set = 1;
	__atomic_store_n(&hw_hdr->tracer_state, WIRE_TRACER_ATTACHED, __ATOMIC_RELEASE);
	hw_active = 1;
	hw_emit_exec(hw_image);
	hw_debug("attached");
	return 0;
}

/* The path of the collector's descriptor fd (of the first region's collector). */
static void collector_fd_path(int32_t fd, char path[64])
{
	char leaf[32];

	memcpy(leaf, "fd/", 3);
	*put_decimal(leaf + 3, (unsigned)fd) = '\0';
	hw_proc_path(path, fork_table->collector_pid, leaf);
}

static int collector_alive(void)
{
	return kill(fork_table->collector_pid, 0) == 0 || errno == EPERM;
}

#define CHILD_WAIT_NS	(10ull * 1000000000ull)	/* longest a child waits for its region */

/*
 * --follow-fork: find this process's region in the fork table, asking the
 * collector for one (and waiting, boundedly) if it has none yet. Returns 0
 * with its path in path, or -1: then this process runs untraced.
 */
static int region_of_child(uint64_t fork_stamp, char path[64])
{
	struct wire_header *t = fork_table;
	int32_t me = (int32_t)syscall(SYS_getpid);
	struct wire_child *slot = NULL;
	struct timespec start, now;
	uint32_t st;
	int32_t fd;

	if (!t || !__atomic_load_n(&t->follow_fork, __ATOMIC_ACQUIRE))
		return -1;
	for (unsigned i = 0; i < WIRE_MAX_CHILDREN && !slot; i++)
		if (__atomic_load_n(&t->children[i].pid, __ATOMIC_ACQUIRE) == me)
			slot = &t->children[i];	/* an exec'd image: its region is there */
	for (unsigned i = 0; i < WIRE_MAX_CHILDREN && !slot; i++) {
		int32_t expect = 0;

		if (__atomic_compare_exchange_n(&t->children[i].pid, &expect, me, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			slot = &t->children[i];
			slot->fork_stamp = fork_stamp;
			__atomic_store_n(&slot->state, WIRE_CHILD_REQUESTED, __ATOMIC_RELEASE);
		}
	}
	if (!slot) {
		__atomic_fetch_add(&t->children_refused, 1, __ATOMIC_RELAXED);
		hw_debug("--follow-fork: too many processes traced at once: this one is not");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while ((st = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE)) == WIRE_CHILD_REQUESTED) {
		struct timespec nap = { 0, 20 * 1000000 };
		uint32_t expect = WIRE_CHILD_REQUESTED;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!collector_alive() ||
		    (uint64_t)(now.tv_sec - start.tv_sec) * 1000000000ull + (uint64_t)now.tv_nsec -
		    (uint64_t)start.tv_nsec > CHILD_WAIT_NS) {
			if (__atomic_compare_exchange_n(&slot->state, &expect, WIRE_CHILD_ABANDONED, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				hw_debug("--follow-fork: the collector did not answer: not traced");
				return -1;
			}
			continue;	/* it answered meanwhile */
		}
		syscall(SYS_futex, &slot->state, FUTEX_WAIT, WIRE_CHILD_REQUESTED, &nap, NULL, 0);
	}
	if (st != WIRE_CHILD_READY) {
		if (st == WIRE_CHILD_REFUSED) {
			/* ours to free: the collector is done with it */
			__atomic_store_n(&slot->state, WIRE_CHILD_FREE, __ATOMIC_RELEASE);
			__atomic_store_n(&slot->pid, 0, __ATOMIC_RELEASE);
		}
		return -1;
	}
	fd = __atomic_load_n(&slot->fd, __ATOMIC_ACQUIRE);
	if (fd < 0)
		return -1;
	collector_fd_path(fd, path);
	return 0;
}

/*
 * After fork, in the child: the parent's rings are not ours. Without
 * --follow-fork this process runs untraced; with it, it gets a region of
 * its own (and the blocks it inherited are its parent's: the collector
 * knows them from the stamp the parent's region had at the fork).
 */
static void in_forked_child(void)
{
	struct wire_header *parent = hw_hdr;
	uint8_t guard = hw_thread.guard;
	char path[64];

	hw_active = 0;
	if (!parent)
		return;
	hw_thread.guard = 1;
	hw_emit_forget_ring();
	/* attaching maps the child's region in place of the parent's */
	if (region_of_child(__atomic_load_n(&parent->stamp, __ATOMIC_ACQUIRE), path) == 0)
		attach_region(path);
	hw_thread.guard = guard;
}

/*
 * Map the region named by HEAPWISE_SHM if it is meant for this process;
 * with --follow-fork, a process it is not meant for looks up (or asks for)
 * a region of its own in the region's fork table.
 */
static void attach(void)
{
	const char *path = getenv(WIRE_ENV_SHM);
	size_t table_len = (sizeof(struct wire_header) + 4095) & ~(size_t)4095;
	char own_path[64];
	void *table;
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(own_path))
		return;
	if (getauxval(AT_SECURE)) {
		hw_debug("secure-execution program: not traced");
		return;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		hw_debug("cannot open the collector's region (is heapwise still running?)");
		return;
	}
	table = mmap(NULL, table_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (table != MAP_FAILED) {
		const struct wire_header *h = table;

		if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == WIRE_MAGIC && h->version == WIRE_VERSION)
			fork_table = table;
		else
			munmap(table, table_len);
	}
	if (!fork_table || fork_table->traced_pid == (pid_t)syscall(SYS_getpid)) {
		attach_region(path);
		return;
	}
	if (region_of_child(0, own_path) == 0)
		attach_region(own_path);
}

void hw_attach_once(void)
{
	int saved = errno;

	if (__atomic_exchange_n(&hw_attach_tried, 1, __ATOMIC_ACQ_REL))
		return;
	debug_on = getenv(WIRE_ENV_DEBUG) != NULL;
	hw_bootstrap();
	hw_thread.guard = 1;
	attach();
	hw_thread.guard = 0;
	errno = saved;
}

__attribute__((constructor)) static void heapwise_init(void)
{
	if (!hw_thread.guard)
		hw_attach_once();
}

/* ------------------------------------------------------------------ */
/* Exit                                                                */
/* ------------------------------------------------------------------ */

/*
 * Ask for the exit scan and wait until the collector has done it. Only the
 * traced process itself asks (not a vfork child calling _exit, which shares
 * our memory and our hw_active), and only once. The wait (hw_ask_scan,
 * which the Python exit snapshot shares) ends when the collector answers,
 * is gone, has not beaten for a while (hw_collector_frozen; while it scans,
 * we are stopped too) or after EXIT_SCAN_MAX_NS: never a hang.
 */
#define EXIT_SCAN_MAX_NS	(60ull * 1000000000ull)	/* and the longest wait of all */

static uint64_t elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (uint64_t)(b->tv_sec - a->tv_sec) * 1000000000ull + (uint64_t)b->tv_nsec - (uint64_t)a->tv_nsec;
}

void hw_exit_scan(void)
{
	struct wire_header *h = hw_hdr;

	if (!h || !hw_active || (pid_t)syscall(SYS_getpid) != hw_layout.traced_pid ||
	    !__atomic_load_n(&h->scan_at_exit, __ATOMIC_ACQUIRE))
		return;
	hw_ask_scan(&h->exit_scan, &h->exit_scan_tid);
}

void hw_ask_scan(uint32_t *state, int32_t *tid)
{
	struct wire_header *h = hw_hdr;
	uint32_t expected = WIRE_SCAN_NONE;
	struct timespec start, still_since;
	uint64_t beat;

	if (hw_collector_stalled()) {
		/* it let us wait once already: go on now, and say why there is no scan */
		__atomic_compare_exchange_n(state, &expected, WIRE_SCAN_ABANDONED, 0, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
		return;
	}
	*tid = (int32_t)syscall(SYS_gettid);
	if (!__atomic_compare_exchange_n(state, &expected, WIRE_SCAN_REQUESTED, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	clock_gettime(CLOCK_MONOTONIC, &start);
	still_since = start;
	beat = __atomic_load_n(&h->heartbeat_ns, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(state, __ATOMIC_ACQUIRE) == WIRE_SCAN_REQUESTED) {
		struct timespec nap = { 0, 50 * 1000000 }, now;
		uint64_t b = __atomic_load_n(&h->heartbeat_ns, __ATOMIC_ACQUIRE);

		if (hw_collector_gone())
			break;
		/* a collector that does not beat (stopped), or never gets to it,
		 * must not keep the program waiting */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (b != beat) {
			beat = b;
			still_since = now;
		}
		if (hw_collector_frozen(elapsed_ns(&still_since, &now)) || elapsed_ns(&start, &now) > EXIT_SCAN_MAX_NS) {
			expected = WIRE_SCAN_REQUESTED;
			if (__atomic_compare_exchange_n(state, &expected, WIRE_SCAN_ABANDONED, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				hw_debug("the collector did not scan in time: going on unscanned");
				break;
			}
			continue;	/* it answered meanwhile */
		}
		/* a shared futex: the collector wakes it through its own mapping */
		syscall(SYS_futex, state, FUTEX_WAIT, WIRE_SCAN_REQUESTED, &nap, NULL, 0);
	}
}

__attribute__((destructor)) static void heapwise_fini(void)
{
	int saved = errno;

	hw_exit_scan();
	errno = saved;
}
