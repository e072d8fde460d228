/*
 * hostile.c - a traced program that writes into heapwise's shared region,
 * as any program can: it finds it through HEAPWISE_SHM, maps it, and
 * attacks it one way (argv[1]), between two rounds of 1000 allocations of
 * 100 bytes (500 freed each round), and waits 100 ms for the collector to
 * see it. It prints "survived" and exits 7.
 *
 *   header    overwrite the layout in the header: ring count and size,
 *             every offset and capacity, with values that point anywhere
 *   ringcount make the ring count and rings used 2^32 - 1
 *   head      move its own ring's head a million records past the tail
 *   tail      move the tail of every ring in use anywhere
 *   ahead     publish a record in ring 0 stamped 2^62
 *   twice     publish a record in ring 0 with a stamp already used
 *   python    claim a Python interpreter whose structures lie: sys.modules a
 *             dict of a 2^30-slot table, threads and frames in loops, a code
 *             object of a million locals, free lists full of what is no
 *             object and of tuples that link to themselves; then scan itself (argv[2] is
 *             heapwise: heapwise snapshot --scan PID)
 *   none      touch nothing (the numbers to compare with)
 *
 * The layout is read from tracer/wire.h, as the tracer reads it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "../../tracer/wire.h"

static void *blocks[1000];

static void round_of_allocations(void)
{
	for (int i = 0; i < 1000; i++)
		blocks[i] = malloc(100);
	for (int i = 0; i < 1000; i += 2)
		free(blocks[i]);
}

/* Publish one record in the shared ring 0, as a tracer thread would. */
static void publish(struct wire_header *h, uint64_t stamp)
{
	struct wire_ring *r = (struct wire_ring *)((char *)h + h->rings_offset);
	struct wire_record *recs = (struct wire_record *)((char *)h + h->records_offset);
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	recs[head & (h->ring_records - 1)] = (struct wire_record){ stamp, 0x1234560, 0, 0, WIRE_REC_FREE,
								   WIRE_FN_FREE };
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
}

/* What the python attack points the header at: all of it ours, all of it lies. */
static uint64_t fake_dict[8], fake_keys[8], fake_thread[64], fake_head, fake_frame[16], fake_code[32];
static uint64_t fake_tuple[4], fake_names[8], fake_items[80], fake_heads[WIRE_PY_TUPLE_SIZES];
static int32_t fake_count = WIRE_PY_FREELIST_SLOTS, fake_counts[WIRE_PY_TUPLE_SIZES];

static void lie_about_python(struct wire_header *h)
{
	fake_dict[1] = (uint64_t)fake_dict;	/* its type: anything, learnt from it */
	fake_dict[4] = (uint64_t)fake_keys;	/* ma_keys */
	fake_keys[0] = 1;			/* in use, 2^30 slots */
	((uint8_t *)fake_keys)[8] = 30;
	((uint8_t *)fake_keys)[9] = 32;
	fake_head = (uint64_t)fake_thread;
	fake_thread[1] = (uint64_t)fake_thread;	/* next: itself */
	fake_thread[2] = (uint64_t)fake_frame;	/* its frame (no _PyCFrame) */
	fake_thread[3] = (uint64_t)fake_code;	/* its stack chunk, of a size of 2^62 */
	fake_code[1] = 1ull << 62;
	fake_frame[0] = (uint64_t)fake_code;	/* code, previous: itself */
	fake_frame[1] = (uint64_t)fake_frame;
	fake_code[1] = (uint64_t)fake_code;	/* of type code (the header says so) */
	fake_code[2] = 1000000;			/* locals */
	fake_code[3] = (uint64_t)fake_names;	/* their names */
	fake_names[3] = (uint64_t)fake_names;
	for (int i = 0; i < 80; i++)
		fake_items[i] = 0x1000 + (uint64_t)i;
	fake_tuple[3] = (uint64_t)fake_tuple;	/* a tuple whose next is itself */
	for (int i = 0; i < WIRE_PY_TUPLE_SIZES; i++) {
		fake_heads[i] = (uint64_t)fake_tuple;
		fake_counts[i] = WIRE_PY_TUPLE_MAX;
	}
	h->python_version = 0x030b07f0;
	h->python_type_type = (uint64_t)fake_dict;
	h->python_modules = (uint64_t)fake_dict;
	for (int i = 0; i < WIRE_PY_FREELISTS; i++)
		h->python_freelists[i].items = (uint64_t)fake_items, h->python_freelists[i].count = (uint64_t)&fake_count;
	h->python_tuples.heads = (uint64_t)fake_heads;
	h->python_tuples.counts = (uint64_t)fake_counts;
	h->python_threads = (uint64_t)&fake_head;
	h->python_tstate_next = 8;
	h->python_tstate_chunk = 24;
	h->python_tstate_top = 16;
	h->python_frames = (struct wire_py_frames){
		.code_type = (uint64_t)fake_code, .tstate_cframe = -1, .current_frame = 16, .previous = 8,
		.code = 0, .owner = 70, .owner_cstack = 3, .localsplus = 72, .nlocalsplus = 16,
		.localsplusnames = 24, .qualname = 40,
	};
	__atomic_store_n(&h->python_state, WIRE_PYTHON_ON, __ATOMIC_RELEASE);
}

static void attack(struct wire_header *h, const char *how, const char *heapwise)
{
	struct wire_ring *rings = (struct wire_ring *)((char *)h + h->rings_offset);
	uint32_t used = h->rings_used < h->ring_count ? h->rings_used : h->ring_count;

	if (strcmp(how, "header") == 0) {
		h->ring_count = 0xffffffffu;
		h->ring_records = 1u << 31;
		h->rings_offset = 1ull << 60;
		h->records_offset = (uint64_t)-4096;
		h->stacks_offset = 1ull << 50;
		h->stack_slots = 0xffffffffu;
		h->frames_offset = 12345;
		h->frame_capacity = UINT64_MAX;
		h->modules_offset = 77;
		h->module_capacity = 0xffffffffu;
		h->total_size = 1;
	} else if (strcmp(how, "ringcount") == 0) {
		h->ring_count = 0xffffffffu;
		h->rings_used = 0xffffffffu;
	} else if (strcmp(how, "head") == 0) {
		for (uint32_t i = 1; i < used; i++)
			if (rings[i].tid == gettid())
				rings[i].head += 1000000;
	} else if (strcmp(how, "tail") == 0) {
		for (uint32_t i = 0; i < used; i++)
			rings[i].tail = 0x7777777777ull;
	} else if (strcmp(how, "ahead") == 0) {
		publish(h, 1ull << 62);
	} else if (strcmp(how, "twice") == 0) {
		uint64_t stamp = __atomic_fetch_add(&h->stamp, 1, __ATOMIC_SEQ_CST);

		publish(h, stamp);
		publish(h, stamp);
	} else if (strcmp(how, "python") == 0 && heapwise) {
		char cmd[4096];

		lie_about_python(h);
		snprintf(cmd, sizeof(cmd), "%s snapshot --scan --label lies %d > /dev/null", heapwise, (int)getpid());
		if (system(cmd) != 0)
			printf("the scan failed\n");
	}
}

int main(int argc, char **argv)
{
	const char *path = getenv(WIRE_ENV_SHM);
	struct wire_header *h;
	int fd;

	round_of_allocations();
	fd = path ? open(path, O_RDWR) : -1;
	if (fd < 0 || argc < 2) {
		fprintf(stderr, "hostile: no region (%s)\n", path ? path : "HEAPWISE_SHM unset");
		return 1;
	}
	h = mmap(NULL, 1u << 30, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED)
		return 1;
	usleep(100 * 1000);	/* the first round delivered before the attack */
	attack(h, argv[1], argc > 2 ? argv[2] : NULL);
	usleep(100 * 1000);	/* let the collector see it before our own tracer writes again */
	round_of_allocations();
	printf("survived\n");
	return 7;
}
