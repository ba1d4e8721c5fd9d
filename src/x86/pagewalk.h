/* A software x86 page-table walk over guest memory: the page size, the
 * permission bits and the reason for a miss, which KVM_TRANSLATE does not
 * report.  Pure: a function of (control registers, memory, address). */
#ifndef KVMFS_PAGEWALK_H
#define KVMFS_PAGEWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvmfs_walk_cpu {
	uint64_t cr0, cr3, cr4, efer;
};

enum kvmfs_walk_reason {
	KVMFS_WALK_OK = 0,
	KVMFS_WALK_NOT_PRESENT,	 /* an entry at `level` has P=0 */
	KVMFS_WALK_RESERVED,	 /* reserved bit set at `level` */
	KVMFS_WALK_NON_CANONICAL,/* 4-level: bits 63:47 not a sign extension */
	KVMFS_WALK_OUTSIDE,	 /* a table entry lies outside guest memory */
	KVMFS_WALK_TOO_WIDE,	 /* address above 4 GiB in a 32-bit mode */
};

/* Paging mode the walk used, from cr0/cr4/efer. */
enum kvmfs_walk_mode {
	KVMFS_PAGING_NONE,	/* CR0.PG=0: linear = physical */
	KVMFS_PAGING_32,	/* 2-level, 4 KiB and (CR4.PSE) 4 MiB pages */
	KVMFS_PAGING_PAE,	/* 3-level, 4 KiB and 2 MiB pages */
	KVMFS_PAGING_4LEVEL,	/* 4-level, 4 KiB, 2 MiB, 1 GiB pages */
};

struct kvmfs_walk_result {
	enum kvmfs_walk_mode mode;
	enum kvmfs_walk_reason reason;
	int level;		/* level of the entry that ended the walk:
				   4 = PML4, 3 = PDPT, 2 = PD, 1 = PT; 0 when
				   paging is off or no entry was read
				   (NON_CANONICAL, TOO_WIDE) */
	/* The rest is valid when reason == OK, and zero on a miss. */
	uint64_t phys;
	uint64_t page_size;	/* 4096, 2M, 4M, 1G; 0 when paging is off
				   (reported as the whole address space) */
	bool writable;		/* AND of R/W over all levels that have it */
	bool user;		/* AND of U/S over all levels that have it */
	bool nx;		/* OR of XD over all levels (only with EFER.NXE) */
};

/* Walk `linear` through the tables rooted at cpu->cr3 in mem[0..memsize)
 * (mem is guest-physical memory from GPA 0; it may be NULL when memsize
 * is 0).  Never reads outside mem and never loops (a walk has at most 4
 * steps).  Returns 0 when the walk could be done (res->reason says whether
 * the address is mapped), or -EINVAL for a mode it does not walk: 5-level
 * paging (CR4.LA57) and long mode without CR4.PAE. */
int kvmfs_walk(const struct kvmfs_walk_cpu *cpu, const uint8_t *mem,
	       size_t memsize, uint64_t linear, struct kvmfs_walk_result *res);

/* "not-present", "reserved", "non-canonical", "outside-memory", ... */
const char *kvmfs_walk_reason_name(enum kvmfs_walk_reason r);

#endif
