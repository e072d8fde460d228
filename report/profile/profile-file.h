/*
 * profile-file.h - the .hws file's layout (man/heapwise-format.5), shared
 * by the writer (profile-write.c) and the reader (profile-read.c).
 */
#ifndef HEAPWISE_PROFILE_FILE_H
#define HEAPWISE_PROFILE_FILE_H

#include <stdint.h>

#include "profile.h"
#include "varint.h"

#define FILE_MAGIC	"HWSPROF\n"

enum section_type {
	SEC_META = 1,
	SEC_TOTALS = 2,
	SEC_STRINGS = 3,
	SEC_MODULES = 4,
	SEC_FRAMES = 5,
	SEC_STACKS = 6,
	SEC_SITES = 7,
	SEC_TIMELINE = 8,
	SEC_SNAPSHOT = 9,
	SEC_SIZES = 10,
	SEC_SCAN = 11,		/* the reachability scan of the snapshot just before */
	SEC_TYPES = 12,		/* the Python types of a snapshot's blocks */
	SEC_SNAPSHOT_DELTA = 13,	/* a snapshot as the changes from an earlier one */
	SEC_SOURCES = 14,	/* each frame's compilation directory and function's first line */
	SEC_ALLOCATED = 15,	/* what each stack allocated up to a snapshot */
	SEC_RSS_PARTS = 16,	/* a scanned snapshot's resident set in parts */
	SEC_EDGE_NAMES = 17,	/* a scan's pointers in Python's words */
	SEC_ESTIMATE = 18,	/* a sampled snapshot's estimated block count */
	SEC_PINS = 19,		/* a Python scan's pymalloc arenas and what pins them */
};

/* A section's flags (version 3): stored as one zstd frame, then a u64 of its
 * size unpacked. The writer packs a section of at least COMPRESS_FROM bytes. */
#define SECTION_ZSTD	1u
#define COMPRESS_FROM	4096
#define COMPRESS_LEVEL	1	/* zstd's fastest: the run is waiting for its profile */
#define COMPRESS_THREADS	2	/* zstd's workers for a big section */
/* A reader takes a frame that claims at most this many times its bytes (and
 * a MiB): a crafted one cannot make it allocate what no real profile needs. */
#define UNPACK_RATIO	1024

struct file_header {
	char magic[8];
	uint32_t version;
	uint32_t nsections;
	uint64_t file_size;
	uint32_t crc;		/* CRC-32 of the whole file with this field zero */
	uint32_t reserved;	/* 0 */
};

struct section_entry {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t size;
	uint32_t crc;
	uint32_t pad;
};

struct snapshot_head {
	uint32_t name;
	uint32_t flags;
	uint64_t t_ns;
	uint64_t stamp;
	uint64_t nblocks;
	uint64_t bytes;		/* version 3: the snapshot's bytes as reports show them
				 * (the estimate, when sampled): known before its blocks are read */
};
#define SNAPSHOT_HEAD_V2	32	/* versions 1 and 2: without bytes */

/* A delta may have at most this many deltas before it, back to a full
 * snapshot: what reading one snapshot of a long run costs is bounded. */
#define DELTA_CHAIN_MAX		31

/* What follows the head in a delta section: which snapshot it changes, by
 * how much every block kept from it grew older (its generation), how many
 * of its blocks are gone and how many are new. */
struct delta_head {
	uint64_t base;
	uint32_t generation_step;
	uint32_t pad;
	uint64_t ngone;
	uint64_t nborn;
};

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .hws format is little-endian");
_Static_assert(sizeof(struct profile_frame) == 32, "frame record is 32 bytes");
_Static_assert(sizeof(struct profile_frame_source) == 8, "frame source record is 8 bytes");
_Static_assert(sizeof(struct profile_alloc_count) == 24, "allocation count record is 24 bytes");
_Static_assert(sizeof(struct profile_rss_parts) == 40, "resident set parts are 40 bytes");
_Static_assert(sizeof(struct profile_edge_name) == 24, "edge name record is 24 bytes");
_Static_assert(sizeof(struct profile_pin) == 24, "pin record is 24 bytes");
_Static_assert(sizeof(struct profile_site) == 72, "site record is 72 bytes");
_Static_assert(sizeof(struct profile_block) == 32, "block record is 32 bytes");
_Static_assert(sizeof(struct profile_module) == 40, "module record is 40 bytes");

/*
 * Snapshot blocks, packed (version 2): per block, five LEB128 varints: the
 * address's distance from the previous block's (blocks are sorted by
 * address), the size, the stamp's and the stack's zigzag difference from
 * the previous block's, and the generation. Neighbours in memory were most
 * often allocated one after the other from one place, so a block takes 6-10
 * bytes where a fixed record took 32: less to write, read and keep.
 */
#define PACKED_BLOCK_MAX	(5 * VARINT_MAX)
#define PACKED_BLOCK_MIN	5

/* An error message into err; returns ret. */
int profile_fail(char err[PROFILE_ERRLEN], int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
