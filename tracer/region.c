/*
 * region.c - map the collector's region into the program, in pieces.
 *
 * The region is large (a ring of records for each of hundreds of
 * threads, a frame pool for millions of frames), and a program may limit
 * its address space (RLIMIT_AS). So only what every traced process needs
 * is mapped when attaching: the header with the rings' heads and tails,
 * the shared ring 0, the stack table, the module log and the first part
 * of the frame pool. A thread's own ring is mapped when it claims it, the
 * frame pool a chunk at a time as it fills. A piece that cannot be mapped
 * costs speed (the thread uses ring 0) or a stack (counted dropped), never
 * an event.
 *
 * Pieces are mapped from the region's path (/proc/COLLECTOR/fd/N), opened
 * for the moment of each mmap: the program keeps every descriptor number
 * it had. The layout is the header's, copied and checked once, when
 * attaching (the program can overwrite the header after).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "tracer.h"

#define FRAME_CHUNK	(512u * 1024)	/* frames mapped at a time: 4 MiB */
#define EAGER_CHUNKS	1		/* mapped when attaching */

struct region_layout hw_layout;

static char region_path[64];			/* what the pieces are mapped from */
static uint64_t region_offsets[5];		/* records, stacks, frames, modules, codes */
static struct wire_record *ring_map[WIRE_MAX_RINGS];	/* ring i's records, once mapped */
static uint64_t *frame_chunks[WIRE_MAX_FRAMES / FRAME_CHUNK + 1];
static void *head_map, *stacks_map, *modules_map, *codes_map;
static size_t head_len, stacks_len, modules_len;

static int pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Does [offset, offset + n * size) lie inside the first `total` bytes? */
static int inside(uint64_t offset, uint64_t n, uint64_t size, uint64_t total)
{
	return offset <= total && (!size || n <= (total - offset) / size);
}

static int page_aligned(uint64_t v)
{
	return (v & 4095) == 0;
}

/* Does the header's layout hold together, in bounds we can keep? */
static int layout_ok(const struct wire_header *h)
{
	uint64_t total = h->total_size;

	return pow2(h->ring_records) && pow2(h->stack_slots) && h->ring_count &&
	       h->ring_count <= WIRE_MAX_RINGS && h->frame_capacity <= WIRE_MAX_FRAMES &&
	       h->max_depth && h->max_depth <= WIRE_MAX_DEPTH && h->ring_records <= (1u << 24) &&
	       page_aligned(h->records_offset) && page_aligned(h->stacks_offset) &&
	       page_aligned(h->frames_offset) && page_aligned(h->modules_offset) &&
	       page_aligned(h->ring_records * sizeof(struct wire_record)) &&
	       h->rings_offset + (uint64_t)h->ring_count * sizeof(struct wire_ring) <= h->records_offset &&
	       inside(h->records_offset, (uint64_t)h->ring_count * h->ring_records, sizeof(struct wire_record), total) &&
	       inside(h->stacks_offset, h->stack_slots, sizeof(struct wire_stack), total) &&
	       inside(h->frames_offset, h->frame_capacity, sizeof(uint64_t), total) &&
	       inside(h->modules_offset, h->module_capacity, sizeof(struct wire_module), total) &&
	       page_aligned(h->codes_offset) && h->code_capacity <= (WIRE_PY_CODE_MAX << 3) &&
	       inside(h->codes_offset, h->code_capacity, 1, total) && h->sample_rate <= WIRE_MAX_SAMPLE_RATE;
}

/*
 * Under an address-space limit (RLIMIT_AS), is there room for len more
 * bytes of ours? Only if they take at most half of what the program has
 * left: heapwise must not take the memory the program would have had.
 */
static int room_for(size_t len)
{
	struct rlimit rl;
	char buf[64];
	unsigned long pages = 0;
	uint64_t used;

	if (getrlimit(RLIMIT_AS, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1;
	if (hw_read_small("/proc/self/statm", buf, sizeof(buf)) < 0)
		return 0;
	for (char *p = buf; *p >= '0' && *p <= '9'; p++)
		pages = pages * 10 + (unsigned long)(*p - '0');
	used = (uint64_t)pages * 4096;
	return used < rl.rlim_cur && len <= (rl.rlim_cur - used) / 2;
}

/* Map len bytes at offset of the region; NULL (errno set) if it cannot be. */
static void *map_piece(int fd, uint64_t offset, size_t len)
{
	int own = fd < 0;
	void *p;

	if (own && (fd = open(region_path, O_RDWR | O_CLOEXEC)) < 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	if (own) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return p == MAP_FAILED ? NULL : p;
}

static size_t ring_bytes(void)
{
	return (size_t)(hw_layout.ring_records * sizeof(struct wire_record));
}

/* Bytes of frame chunk k as mapped (the last one may be short). */
static size_t chunk_bytes(uint64_t k)
{
	uint64_t left = hw_layout.frame_capacity - k * FRAME_CHUNK;

	return ((size_t)(left < FRAME_CHUNK ? left : FRAME_CHUNK) * sizeof(uint64_t) + 4095) & ~(size_t)4095;
}

/*
 * The piece at offset, len bytes, whose address slot keeps once mapped
 * (mapping it now, if room allows: the first pieces every process needs
 * are taken without asking). Two threads may map it at once: one mapping
 * is kept. NULL if it cannot be mapped.
 */
static void *piece(void **slot, uint64_t offset, size_t len, int ask_room)
{
	void *m = __atomic_load_n(slot, __ATOMIC_ACQUIRE), *mine = NULL;

	if (m)
		return m;
	if (ask_room && !room_for(len))
		return NULL;
	m = map_piece(-1, offset, len);
	if (!m)
		return NULL;
	if (!__atomic_compare_exchange_n(slot, &mine, m, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(m, len);
		return mine;
	}
	return m;
}

struct wire_record *hw_ring_records(uint32_t i)
{
	if (i >= hw_layout.ring_count)
		return NULL;
	/* past ring 0, a thread without room shares ring 0 */
	return piece((void **)&ring_map[i], region_offsets[0] + (uint64_t)i * ring_bytes(), ring_bytes(), i > 0);
}

uint64_t *hw_frames_at(uint64_t first, unsigned depth)
{
	uint64_t chunk = first / FRAME_CHUNK;
	uint64_t *c;

	if (!depth || first / FRAME_CHUNK != (first + depth - 1) / FRAME_CHUNK ||
	    first + depth > hw_layout.frame_capacity)
		return NULL;
	/* past the first chunk, a stack without room is dropped, counted */
	c = piece((void **)&frame_chunks[chunk], region_offsets[2] + chunk * FRAME_CHUNK * sizeof(uint64_t),
		  chunk_bytes(chunk), chunk > 0);
	return c ? c + (first - chunk * FRAME_CHUNK) : NULL;
}

void *hw_code_log(void)
{
	if (!hw_layout.code_capacity)
		return NULL;
	return piece(&codes_map, region_offsets[4], (size_t)hw_layout.code_capacity, 1);
}

void hw_region_unmap(void)
{
	for (uint32_t i = 0; i < WIRE_MAX_RINGS; i++)
		if (ring_map[i]) {
			munmap(ring_map[i], ring_bytes());
			ring_map[i] = NULL;
		}
	for (size_t k = 0; k < sizeof(frame_chunks) / sizeof(frame_chunks[0]); k++)
		if (frame_chunks[k]) {
			munmap(frame_chunks[k], chunk_bytes(k));
			frame_chunks[k] = NULL;
		}
	if (stacks_map)
		munmap(stacks_map, stacks_len);
	if (modules_map)
		munmap(modules_map, modules_len);
	if (codes_map)
		munmap(codes_map, (size_t)hw_layout.code_capacity);
	codes_map = NULL;
	if (head_map)
		munmap(head_map, head_len);
	head_map = stacks_map = modules_map = NULL;
	hw_hdr = NULL;
}

int hw_region_map(int fd, const char *path, const struct wire_header *h)
{
	int err;

	if (!layout_ok(h))
		return -EINVAL;
	hw_region_unmap();
	snprintf(region_path, sizeof(region_path), "%s", path);
	head_len = h->records_offset;
	stacks_len = ((size_t)h->stack_slots * sizeof(struct wire_stack) + 4095) & ~(size_t)4095;
	modules_len = ((size_t)h->module_capacity * sizeof(struct wire_module) + 4095) & ~(size_t)4095;
	if (!room_for(head_len + stacks_len + modules_len +
		      (size_t)(h->ring_records * sizeof(struct wire_record)) + FRAME_CHUNK * sizeof(uint64_t)))
		return -ENOMEM;	/* its address-space limit leaves too little */
	head_map = map_piece(fd, 0, head_len);
	stacks_map = head_map ? map_piece(fd, h->stacks_offset, stacks_len) : NULL;
	modules_map = stacks_map ? map_piece(fd, h->modules_offset, modules_len) : NULL;
	if (!modules_map) {
		err = -errno;
		hw_region_unmap();
		return err;
	}
	hw_hdr = head_map;
	region_offsets[0] = h->records_offset;
	region_offsets[1] = h->stacks_offset;
	region_offsets[2] = h->frames_offset;
	region_offsets[3] = h->modules_offset;
	region_offsets[4] = h->codes_offset;
	hw_layout = (struct region_layout){
		.rings = (struct wire_ring *)((char *)head_map + h->rings_offset),
		.stacks = stacks_map, .modules = modules_map,
		.ring_count = h->ring_count, .stack_slots = h->stack_slots,
		.ring_records = h->ring_records, .frame_capacity = h->frame_capacity,
		.module_capacity = h->module_capacity, .max_depth = h->max_depth,
		.code_capacity = h->code_capacity & ~4095ull,
		.sample_rate = h->sample_rate,
		.collector_pid = h->collector_pid, .traced_pid = h->traced_pid,
	};
	/* ring 0 and the first frames, which every process needs */
	if (!hw_ring_records(0)) {
		err = -errno;
		hw_region_unmap();
		return err;
	}
	for (unsigned k = 0; k < EAGER_CHUNKS && (uint64_t)k * FRAME_CHUNK < h->frame_capacity; k++)
		hw_frames_at((uint64_t)k * FRAME_CHUNK, 1);
	return 0;
}
