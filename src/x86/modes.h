/* CPU modes for ctl `mode`: the register state and identity page tables
 * of kvm-hello-world's setup helpers, computed into structs and a memory
 * buffer.  Pure: the caller applies the result to the vCPU and checks
 * what KVM kept. */
#ifndef KVMFS_MODES_H
#define KVMFS_MODES_H

#include "lib/text.h"

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kvmfs_mode {
	KVMFS_MODE_REAL,
	KVMFS_MODE_PROTECTED,
	KVMFS_MODE_PAGED32,
	KVMFS_MODE_LONG,
};

struct kvmfs_mode_args {
	enum kvmfs_mode mode;
	bool pt_set;		/* pt= given; else the default place */
	uint64_t pt;
	uint64_t entry;
};

/* Parse the words after "mode": NAME [pt=ADDR] [entry=ADDR]. */
int kvmfs_mode_parse(const struct kvmfs_word *w, int n,
		     struct kvmfs_mode_args *a, char *err, size_t errlen);
/* "mode long pt=0x... entry=0x..." (pt only if it was given). */
int kvmfs_mode_format(const struct kvmfs_mode_args *a, char *buf,
		      size_t cap);
const char *kvmfs_mode_name(enum kvmfs_mode m);

/* Where highmem's memory starts: the guest-physical 4 GiB, above the
 * PC's hole for devices (docs/reference.md, "Memory above 4 GiB"). */
#define KVMFS_HIGHMEM_BASE ((uint64_t)1 << 32)

/* Bytes of page tables the mode needs for memsize bytes of memory, and
 * where they go by default (page aligned, at the top of memory). */
uint64_t kvmfs_mode_pt_bytes(enum kvmfs_mode m, uint64_t memsize);
uint64_t kvmfs_mode_default_pt(enum kvmfs_mode m, uint64_t memsize);

/* Whether the mode fits memsize bytes of memory: -EINVAL with a reason
 * when memory is too small, or pt= or entry= are misplaced. */
int kvmfs_mode_check(const struct kvmfs_mode_args *a, uint64_t memsize,
		     char *err, size_t errlen);
/* Fill sregs and regs (which hold the current state) for the mode and
 * write its page tables into mem.  Checks first (kvmfs_mode_check);
 * nothing is written when that fails. */
int kvmfs_mode_setup(const struct kvmfs_mode_args *a, uint8_t *mem,
		     uint64_t memsize, struct kvm_sregs *sregs,
		     struct kvm_regs *regs, char *err, size_t errlen);

#define KVMFS_CR0_PE (1ull << 0)
#define KVMFS_CR0_MP (1ull << 1)
#define KVMFS_CR0_ET (1ull << 4)
#define KVMFS_CR0_NE (1ull << 5)
#define KVMFS_CR0_WP (1ull << 16)
#define KVMFS_CR0_AM (1ull << 18)
#define KVMFS_CR0_PG (1ull << 31)
#define KVMFS_CR4_PSE (1ull << 4)
#define KVMFS_CR4_PAE (1ull << 5)
#define KVMFS_EFER_LME (1ull << 8)
#define KVMFS_EFER_LMA (1ull << 10)

#endif
