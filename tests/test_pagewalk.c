/* Unit tests of the software page walk: page tables are built by hand in a
 * zeroed buffer standing in for guest memory, and every mode, page size,
 * permission rule and kind of miss is checked against exact values.  The
 * out-of-memory tests use buffers of exactly the walked size, so a build
 * with -Db_sanitize=address catches any read past the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "x86/pagewalk.h"

#define MEM_SIZE	(8u << 20)

#define CR0_PE		0x1ull
#define CR0_PG		0x80000000ull
#define CR4_PSE		0x10ull
#define CR4_PAE		0x20ull
#define CR4_LA57	0x1000ull
#define EFER_LME	0x100ull
#define EFER_LMA	0x400ull
#define EFER_NXE	0x800ull

#define P		0x1ull
#define RW		0x2ull
#define US		0x4ull
#define PS		0x80ull
#define XD		(1ull << 63)
#define PRU		(P | RW | US)

#define KIB4		0x1000ull
#define MIB2		0x200000ull
#define MIB4		0x400000ull
#define GIB1		0x40000000ull

/* Where the tests put their tables.  PAE's PDPT sits off a page boundary
 * on purpose: CR3 only has to align it to 32 bytes. */
#define PML4		0x1000ull
#define PDPT		0x2000ull
#define PD		0x3000ull
#define PT		0x4000ull
#define PD32		0x1000ull
#define PT32		0x2000ull
#define PAE_PDPT	0x1020ull
#define PAE_PD		0x2000ull
#define PAE_PT		0x3000ull

static int setup(void **state)
{
	uint8_t *mem = calloc(1, MEM_SIZE);

	if (!mem)
		return -1;
	*state = mem;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void put32(uint8_t *mem, uint64_t addr, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		mem[addr + i] = v >> (8 * i);
}

static void put64(uint8_t *mem, uint64_t addr, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		mem[addr + i] = v >> (8 * i);
}

static uint64_t get64(const uint8_t *mem, uint64_t addr)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)mem[addr + i] << (8 * i);
	return v;
}

static struct kvmfs_walk_cpu cpu_nopaging(uint64_t efer)
{
	return (struct kvmfs_walk_cpu){ .cr0 = CR0_PE, .efer = efer };
}

static struct kvmfs_walk_cpu cpu_32(bool pse)
{
	return (struct kvmfs_walk_cpu){
		.cr0 = CR0_PE | CR0_PG,
		.cr3 = PD32,
		.cr4 = pse ? CR4_PSE : 0,
	};
}

static struct kvmfs_walk_cpu cpu_pae(bool nxe)
{
	/* PWT and PCD (bits 3, 4) set to show they are not address bits. */
	return (struct kvmfs_walk_cpu){
		.cr0 = CR0_PE | CR0_PG,
		.cr3 = PAE_PDPT | 0x18,
		.cr4 = CR4_PAE,
		.efer = nxe ? EFER_NXE : 0,
	};
}

static struct kvmfs_walk_cpu cpu_long(bool nxe)
{
	/* A PCID in bits 11:0 is not part of the PML4's address. */
	return (struct kvmfs_walk_cpu){
		.cr0 = CR0_PE | CR0_PG,
		.cr3 = PML4 | 0x5,
		.cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA | (nxe ? EFER_NXE : 0),
	};
}

static struct kvmfs_walk_result walk(const struct kvmfs_walk_cpu *cpu,
				     const uint8_t *mem, size_t memsize,
				     uint64_t linear)
{
	struct kvmfs_walk_result res;

	memset(&res, 0xa5, sizeof(res));
	assert_int_equal(kvmfs_walk(cpu, mem, memsize, linear, &res), 0);
	return res;
}

static void assert_ok(const struct kvmfs_walk_result *r,
		      enum kvmfs_walk_mode mode, int level, uint64_t phys,
		      uint64_t page_size)
{
	assert_int_equal(r->reason, KVMFS_WALK_OK);
	assert_int_equal(r->mode, mode);
	assert_int_equal(r->level, level);
	assert_int_equal(r->phys, phys);
	assert_int_equal(r->page_size, page_size);
}

/* A miss reports where it happened and clears what only a hit defines. */
static void assert_miss(const struct kvmfs_walk_result *r,
			enum kvmfs_walk_mode mode,
			enum kvmfs_walk_reason reason, int level)
{
	assert_string_equal(kvmfs_walk_reason_name(r->reason),
			    kvmfs_walk_reason_name(reason));
	assert_int_equal(r->reason, reason);
	assert_int_equal(r->mode, mode);
	assert_int_equal(r->level, level);
	assert_int_equal(r->phys, 0);
	assert_int_equal(r->page_size, 0);
	assert_false(r->writable);
	assert_false(r->user);
	assert_false(r->nx);
}

static void assert_perm(const struct kvmfs_walk_result *r, bool writable,
			bool user, bool nx)
{
	assert_int_equal(r->writable, writable);
	assert_int_equal(r->user, user);
	assert_int_equal(r->nx, nx);
}

/* ---- table builders ---- */

static unsigned int idx(uint64_t linear, unsigned int shift, unsigned int bits)
{
	return (linear >> shift) & ((1u << bits) - 1);
}

/* Address of the entry at `level` (4..1) that a 4-level walk of `linear`
 * reads when the tables are PML4, PDPT, PD, PT in that order. */
static uint64_t long_slot(uint64_t linear, int level)
{
	static const uint64_t table[] = { 0, PT, PD, PDPT, PML4 };

	return table[level] + 8 * idx(linear, 12 + 9 * (level - 1), 9);
}

static void long_map_4k(uint8_t *mem, uint64_t linear, uint64_t phys,
			uint64_t f4, uint64_t f3, uint64_t f2, uint64_t f1)
{
	put64(mem, long_slot(linear, 4), PDPT | f4);
	put64(mem, long_slot(linear, 3), PD | f3);
	put64(mem, long_slot(linear, 2), PT | f2);
	put64(mem, long_slot(linear, 1), phys | f1);
}

static void long_map_2m(uint8_t *mem, uint64_t linear, uint64_t phys,
			uint64_t f4, uint64_t f3, uint64_t f2)
{
	put64(mem, long_slot(linear, 4), PDPT | f4);
	put64(mem, long_slot(linear, 3), PD | f3);
	put64(mem, long_slot(linear, 2), phys | PS | f2);
}

static void long_map_1g(uint8_t *mem, uint64_t linear, uint64_t phys,
			uint64_t f4, uint64_t f3)
{
	put64(mem, long_slot(linear, 4), PDPT | f4);
	put64(mem, long_slot(linear, 3), phys | PS | f3);
}

static uint64_t pae_slot(uint64_t linear, int level)
{
	switch (level) {
	case 3:
		return PAE_PDPT + 8 * idx(linear, 30, 2);
	case 2:
		return PAE_PD + 8 * idx(linear, 21, 9);
	default:
		return PAE_PT + 8 * idx(linear, 12, 9);
	}
}

static void pae_map_4k(uint8_t *mem, uint64_t linear, uint64_t phys,
		       uint64_t f2, uint64_t f1)
{
	put64(mem, pae_slot(linear, 3), PAE_PD | P);
	put64(mem, pae_slot(linear, 2), PAE_PT | f2);
	put64(mem, pae_slot(linear, 1), phys | f1);
}

static void pae_map_2m(uint8_t *mem, uint64_t linear, uint64_t phys,
		       uint64_t f2)
{
	put64(mem, pae_slot(linear, 3), PAE_PD | P);
	put64(mem, pae_slot(linear, 2), phys | PS | f2);
}

static uint64_t slot32(uint64_t linear, int level)
{
	if (level == 2)
		return PD32 + 4 * idx(linear, 22, 10);
	return PT32 + 4 * idx(linear, 12, 10);
}

static void map32_4k(uint8_t *mem, uint32_t linear, uint32_t phys,
		     uint32_t f2, uint32_t f1)
{
	put32(mem, slot32(linear, 2), PT32 | f2);
	put32(mem, slot32(linear, 1), phys | f1);
}

/* ---- reason names, no paging, unsupported modes ---- */

static void test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(kvmfs_walk_reason_name(KVMFS_WALK_OK), "ok");
	assert_string_equal(kvmfs_walk_reason_name(KVMFS_WALK_NOT_PRESENT),
			    "not-present");
	assert_string_equal(kvmfs_walk_reason_name(KVMFS_WALK_RESERVED),
			    "reserved");
	assert_string_equal(kvmfs_walk_reason_name(KVMFS_WALK_NON_CANONICAL),
			    "non-canonical");
	assert_string_equal(kvmfs_walk_reason_name(KVMFS_WALK_OUTSIDE),
			    "outside-memory");
	assert_string_equal(kvmfs_walk_reason_name(KVMFS_WALK_TOO_WIDE),
			    "too-wide");
	assert_string_equal(kvmfs_walk_reason_name((enum kvmfs_walk_reason)99),
			    "unknown");
	assert_string_equal(kvmfs_walk_reason_name((enum kvmfs_walk_reason)-1),
			    "unknown");
}

static void test_no_paging(void **state)
{
	struct kvmfs_walk_cpu cpu = cpu_nopaging(0);
	struct kvmfs_walk_result r;

	(void)state;
	/* No table is read, so no memory is needed. */
	r = walk(&cpu, NULL, 0, 0x12345678);
	assert_ok(&r, KVMFS_PAGING_NONE, 0, 0x12345678, 0);
	assert_perm(&r, true, true, false);

	r = walk(&cpu, NULL, 0, 0xffffffff);
	assert_ok(&r, KVMFS_PAGING_NONE, 0, 0xffffffff, 0);

	r = walk(&cpu, NULL, 0, 0x100000000ull);
	assert_miss(&r, KVMFS_PAGING_NONE, KVMFS_WALK_TOO_WIDE, 0);

	/* LME alone (not yet active) still leaves a 32-bit CPU. */
	cpu = cpu_nopaging(EFER_LME);
	r = walk(&cpu, NULL, 0, 0x100000000ull);
	assert_miss(&r, KVMFS_PAGING_NONE, KVMFS_WALK_TOO_WIDE, 0);

	/* Real mode is the same identity map. */
	cpu.cr0 = 0;
	r = walk(&cpu, NULL, 0, 0xb8000);
	assert_ok(&r, KVMFS_PAGING_NONE, 0, 0xb8000, 0);

	cpu = cpu_nopaging(EFER_LMA);
	r = walk(&cpu, NULL, 0, 0x123456789abcull);
	assert_ok(&r, KVMFS_PAGING_NONE, 0, 0x123456789abcull, 0);
	assert_perm(&r, true, true, false);
}

static void test_unsupported_modes(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;

	long_map_4k(mem, 0x1000, 0x5000, PRU, PRU, PRU, PRU);

	cpu.cr4 |= CR4_LA57;
	assert_int_equal(kvmfs_walk(&cpu, mem, MEM_SIZE, 0x1000, &r), -EINVAL);

	/* Long mode cannot be active with CR4.PAE clear. */
	cpu = cpu_long(false);
	cpu.cr4 = 0;
	assert_int_equal(kvmfs_walk(&cpu, mem, MEM_SIZE, 0x1000, &r), -EINVAL);
	cpu.efer = EFER_LME;
	assert_int_equal(kvmfs_walk(&cpu, mem, MEM_SIZE, 0x1000, &r), -EINVAL);

	/* LA57 means nothing outside long mode: PAE walks on. */
	cpu = cpu_pae(false);
	cpu.cr4 |= CR4_LA57;
	r = walk(&cpu, mem, MEM_SIZE, 0);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_NOT_PRESENT, 3);
}

/* ---- 32-bit paging ---- */

static void test_32_4k(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_32(false);
	struct kvmfs_walk_result r;

	map32_4k(mem, 0x00403abc, 0x00789000, PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00403abc);
	assert_ok(&r, KVMFS_PAGING_32, 1, 0x00789abc, KIB4);
	assert_perm(&r, true, true, false);

	/* The last slot of both tables; G, PAT and AVL bits are not address. */
	map32_4k(mem, 0xfffff123, 0xfedcb000, PRU, PRU | 0xf80);
	r = walk(&cpu, mem, MEM_SIZE, 0xfffff123);
	assert_ok(&r, KVMFS_PAGING_32, 1, 0xfedcb123, KIB4);

	/* The neighbouring page in the same PT is not mapped. */
	r = walk(&cpu, mem, MEM_SIZE, 0x00404abc);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_NOT_PRESENT, 1);

	/* 32-bit entries have no XD bit, whatever EFER.NXE says. */
	cpu.efer = EFER_NXE;
	r = walk(&cpu, mem, MEM_SIZE, 0x00403abc);
	assert_ok(&r, KVMFS_PAGING_32, 1, 0x00789abc, KIB4);
	assert_perm(&r, true, true, false);
}

static void test_32_4m(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_32(true);
	struct kvmfs_walk_result r;

	put32(mem, slot32(0x00812345, 2), 0x00c00000 | PS | PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00812345);
	assert_ok(&r, KVMFS_PAGING_32, 2, 0x00c12345, MIB4);
	assert_perm(&r, true, true, false);

	/* PSE-36: PDE bits 20:13 are physical bits 39:32. */
	put32(mem, slot32(0x00812345, 2),
	      0x00c00000 | (0x12 << 13) | PS | PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00812345);
	assert_ok(&r, KVMFS_PAGING_32, 2, 0x1200c12345ull, MIB4);
	put32(mem, slot32(0x00812345, 2),
	      0xffc00000 | (0xff << 13) | PS | PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00bfffff);
	assert_ok(&r, KVMFS_PAGING_32, 2, 0xffffffffffull, MIB4);

	/* Bit 21 of a 4 MiB PDE is reserved. */
	put32(mem, slot32(0x00812345, 2), 0x00e00000 | PS | PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00812345);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_RESERVED, 2);

	/* Read-only supervisor page. */
	put32(mem, slot32(0x00812345, 2), 0x00c00000 | PS | P);
	r = walk(&cpu, mem, MEM_SIZE, 0x00812345);
	assert_ok(&r, KVMFS_PAGING_32, 2, 0x00c12345, MIB4);
	assert_perm(&r, false, false, false);
}

static void test_32_ps_without_pse(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_32(false);
	struct kvmfs_walk_result r;

	/* Without CR4.PSE the PS bit is ignored and the PDE points at a PT;
	 * bit 21 is then an address bit, not a reserved one. */
	put32(mem, slot32(0x00812345, 2), PT32 | PS | PRU);
	put32(mem, slot32(0x00812345, 1), 0x00333000 | PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00812345);
	assert_ok(&r, KVMFS_PAGING_32, 1, 0x00333345, KIB4);

	put32(mem, slot32(0x00812345, 2), 0x00200000 | PS | PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00812345);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_NOT_PRESENT, 1);
}

static void test_32_not_present(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_32(true);
	struct kvmfs_walk_result r;

	r = walk(&cpu, mem, MEM_SIZE, 0x00403abc);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_NOT_PRESENT, 2);

	/* Every bit but P set: still not present, not reserved. */
	put32(mem, slot32(0x00403abc, 2), 0xfffffffe);
	r = walk(&cpu, mem, MEM_SIZE, 0x00403abc);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_NOT_PRESENT, 2);

	map32_4k(mem, 0x00403abc, 0x00789000, PRU, RW | US);
	r = walk(&cpu, mem, MEM_SIZE, 0x00403abc);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_NOT_PRESENT, 1);
}

static void test_32_permissions(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_32(false);
	static const struct {
		uint32_t pde, pte;
		bool writable, user;
	} cases[] = {
		{ PRU, PRU, true, true },
		{ P | US, PRU, false, true },
		{ PRU, P | US, false, true },
		{ P | RW, PRU, true, false },
		{ PRU, P | RW, true, false },
		{ P | RW, P | US, false, false },
		{ P, P, false, false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kvmfs_walk_result r;

		map32_4k(mem, 0x00403abc, 0x00789000, cases[i].pde,
			 cases[i].pte);
		r = walk(&cpu, mem, MEM_SIZE, 0x00403abc);
		assert_ok(&r, KVMFS_PAGING_32, 1, 0x00789abc, KIB4);
		assert_perm(&r, cases[i].writable, cases[i].user, false);
	}
}

static void test_32_too_wide(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_32(true);
	struct kvmfs_walk_result r;

	map32_4k(mem, 0x00403abc, 0x00789000, PRU, PRU);
	/* Would alias 0x00403abc if the walk truncated it. */
	r = walk(&cpu, mem, MEM_SIZE, 0x100403abcull);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_TOO_WIDE, 0);
}

/* ---- PAE ---- */

static void test_pae_4k(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_pae(false);
	struct kvmfs_walk_result r;

	/* PDPT slot 3, PD slot 1, PT slot 1. */
	pae_map_4k(mem, 0xc0201123, 0x00777000, PRU, PRU);
	assert_int_equal(pae_slot(0xc0201123, 3), 0x1038);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_ok(&r, KVMFS_PAGING_PAE, 1, 0x00777123, KIB4);
	/* The PDPTE has no R/W or U/S to take away either. */
	assert_perm(&r, true, true, false);

	/* PAE reaches physical memory above 4 GiB. */
	pae_map_4k(mem, 0xc0201123, 0x000fffff12345000ull, PRU, PRU | 0xf80);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_ok(&r, KVMFS_PAGING_PAE, 1, 0x000fffff12345123ull, KIB4);

	/* PDPTE slot 0 was never written. */
	r = walk(&cpu, mem, MEM_SIZE, 0x00201123);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_NOT_PRESENT, 3);
}

static void test_pae_2m(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_pae(false);
	struct kvmfs_walk_result r;

	pae_map_2m(mem, 0xc03abcde, 0x40000000, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xc03abcde);
	assert_ok(&r, KVMFS_PAGING_PAE, 2, 0x401abcde, MIB2);
	assert_perm(&r, true, true, false);

	pae_map_2m(mem, 0xc03abcde, 0x40000000 | (1ull << 13), PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xc03abcde);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_RESERVED, 2);

	pae_map_2m(mem, 0xc03abcde, 0x40000000 | (1ull << 20), PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xc03abcde);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_RESERVED, 2);

	/* Bit 21 is an address bit of a 2 MiB page. */
	pae_map_2m(mem, 0xc03abcde, 0x40200000, P | US);
	r = walk(&cpu, mem, MEM_SIZE, 0xc03abcde);
	assert_ok(&r, KVMFS_PAGING_PAE, 2, 0x403abcde, MIB2);
	assert_perm(&r, false, true, false);
}

static void test_pae_pdpte(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_pae(true);
	static const uint64_t reserved[] = {
		RW, US, 1ull << 5, 1ull << 6, PS, 1ull << 8, XD, 1ull << 52,
	};
	struct kvmfs_walk_result r;
	size_t i;

	pae_map_4k(mem, 0xc0201123, 0x00777000, PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_ok(&r, KVMFS_PAGING_PAE, 1, 0x00777123, KIB4);

	/* A PDPTE has no R/W, U/S, PS or XD: those bits are reserved, XD
	 * even with EFER.NXE. */
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		put64(mem, pae_slot(0xc0201123, 3), PAE_PD | P | reserved[i]);
		r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
		assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_RESERVED, 3);
	}

	/* PWT, PCD and the ignored bits 11:9 are fine. */
	put64(mem, pae_slot(0xc0201123, 3), PAE_PD | P | 0x18 | 0xe00);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_ok(&r, KVMFS_PAGING_PAE, 1, 0x00777123, KIB4);

	put64(mem, pae_slot(0xc0201123, 3), PAE_PD);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_NOT_PRESENT, 3);
}

static void test_pae_not_present(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_pae(false);
	struct kvmfs_walk_result r;
	int level;

	for (level = 3; level >= 1; level--) {
		uint64_t slot = pae_slot(0xc0201123, level);

		pae_map_4k(mem, 0xc0201123, 0x00777000, PRU, PRU);
		put64(mem, slot, get64(mem, slot) & ~P);
		r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
		assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_NOT_PRESENT,
			    level);
	}
}

static void test_pae_permissions_and_nx(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_pae(true);
	struct kvmfs_walk_result r;

	pae_map_4k(mem, 0xc0201123, 0x00777000, P | US, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_ok(&r, KVMFS_PAGING_PAE, 1, 0x00777123, KIB4);
	assert_perm(&r, false, true, false);

	pae_map_4k(mem, 0xc0201123, 0x00777000, PRU, P | RW);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_perm(&r, true, false, false);

	pae_map_4k(mem, 0xc0201123, 0x00777000, PRU | XD, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_ok(&r, KVMFS_PAGING_PAE, 1, 0x00777123, KIB4);
	assert_perm(&r, true, true, true);

	pae_map_4k(mem, 0xc0201123, 0x00777000, PRU, PRU | XD);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_ok(&r, KVMFS_PAGING_PAE, 1, 0x00777123, KIB4);
	assert_perm(&r, true, true, true);

	pae_map_2m(mem, 0xc03abcde, 0x40000000, PRU | XD);
	r = walk(&cpu, mem, MEM_SIZE, 0xc03abcde);
	assert_ok(&r, KVMFS_PAGING_PAE, 2, 0x401abcde, MIB2);
	assert_perm(&r, true, true, true);

	/* Without EFER.NXE, bit 63 is reserved. */
	cpu = cpu_pae(false);
	r = walk(&cpu, mem, MEM_SIZE, 0xc03abcde);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_RESERVED, 2);
	pae_map_4k(mem, 0xc0201123, 0x00777000, PRU, PRU | XD);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_RESERVED, 1);

	/* Unlike 4-level paging, PAE reserves bits 62:52. */
	cpu = cpu_pae(true);
	pae_map_4k(mem, 0xc0201123, 0x00777000, PRU, PRU | (1ull << 52));
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_RESERVED, 1);
	pae_map_4k(mem, 0xc0201123, 0x00777000, PRU | (1ull << 62), PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xc0201123);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_RESERVED, 2);
}

static void test_pae_too_wide(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_pae(false);
	struct kvmfs_walk_result r;

	pae_map_4k(mem, 0xc0201123, 0x00777000, PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x1c0201123ull);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_TOO_WIDE, 0);
}

/* ---- 4-level long mode ---- */

static void test_long_4k(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;

	long_map_4k(mem, 0x00007f1234567abcull, 0x00555000, PRU, PRU, PRU,
		    PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00007f1234567abcull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00555abc, KIB4);
	assert_perm(&r, true, true, false);

	/* All of bits 51:12 are address; G, PAT, AVL and the ignored bits
	 * 62:52 (protection keys among them) are not. */
	long_map_4k(mem, 0x00007f1234567abcull, 0x000ffffffffff000ull, PRU,
		    PRU, PRU, PRU | 0xf80 | (0x7ffull << 52));
	r = walk(&cpu, mem, MEM_SIZE, 0x00007f1234567abcull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x000ffffffffffabcull, KIB4);

	/* Upper half: PML4 slot 256. */
	long_map_4k(mem, 0xffff800000001234ull, 0x00666000, PRU, PRU, PRU,
		    PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xffff800000001234ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00666234, KIB4);

	/* LME with paging on counts as long mode before LMA is set. */
	cpu.efer = EFER_LME;
	r = walk(&cpu, mem, MEM_SIZE, 0xffff800000001234ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00666234, KIB4);
	cpu.efer = EFER_LMA;
	r = walk(&cpu, mem, MEM_SIZE, 0xffff800000001234ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00666234, KIB4);
}

static void test_long_remap(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;

	/* Two neighbouring linear pages, mapped backwards and away from
	 * themselves; a third one identity-mapped. */
	long_map_4k(mem, 0x400000, 0x601000, PRU, PRU, PRU, PRU);
	long_map_4k(mem, 0x401000, 0x600000, PRU, PRU, PRU, PRU);
	long_map_4k(mem, 0x402000, 0x402000, PRU, PRU, PRU, PRU);

	r = walk(&cpu, mem, MEM_SIZE, 0x400010);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x601010, KIB4);
	r = walk(&cpu, mem, MEM_SIZE, 0x401ff8);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x600ff8, KIB4);
	r = walk(&cpu, mem, MEM_SIZE, 0x402fff);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x402fff, KIB4);
	r = walk(&cpu, mem, MEM_SIZE, 0x403000);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_NOT_PRESENT, 1);
}

static void test_long_2m(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;

	long_map_2m(mem, 0xffff800000345678ull, 0x40000000, PRU, PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xffff800000345678ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 2, 0x40145678, MIB2);
	assert_perm(&r, true, true, false);

	/* Bits 20:13 of a 2 MiB PDE are reserved; bit 12 is PAT. */
	long_map_2m(mem, 0xffff800000345678ull, 0x40000000 | (1ull << 13),
		    PRU, PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xffff800000345678ull);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_RESERVED, 2);
	long_map_2m(mem, 0xffff800000345678ull, 0x40000000 | (1ull << 20),
		    PRU, PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xffff800000345678ull);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_RESERVED, 2);
	long_map_2m(mem, 0xffff800000345678ull, 0x40200000 | (1ull << 12),
		    PRU, PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xffff800000345678ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 2, 0x40345678, MIB2);
}

static void test_long_1g(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;

	long_map_1g(mem, 0x0000004012345678ull, 0x1c0000000ull, PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x0000004012345678ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 3, 0x1d2345678ull, GIB1);
	assert_perm(&r, true, true, false);

	long_map_1g(mem, 0x0000004012345678ull, 0x000fffffc0000000ull, PRU,
		    PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x000000403fffffffull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 3, 0x000fffffffffffffull, GIB1);

	/* Bits 29:13 of a 1 GiB PDPTE are reserved. */
	long_map_1g(mem, 0x0000004012345678ull,
		    0x1c0000000ull | (1ull << 13), PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x0000004012345678ull);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_RESERVED, 3);
	long_map_1g(mem, 0x0000004012345678ull,
		    0x1c0000000ull | (1ull << 29), PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x0000004012345678ull);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_RESERVED, 3);
}

static void test_long_not_present(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(true);
	struct kvmfs_walk_result r;
	int level;

	for (level = 4; level >= 1; level--) {
		uint64_t slot = long_slot(0x00007f1234567abcull, level);

		long_map_4k(mem, 0x00007f1234567abcull, 0x00555000, PRU, PRU,
			    PRU, PRU);
		/* The other bits of a non-present entry do not matter. */
		put64(mem, slot, (get64(mem, slot) | PS | XD) & ~P);
		r = walk(&cpu, mem, MEM_SIZE, 0x00007f1234567abcull);
		assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_NOT_PRESENT,
			    level);
	}
}

static void test_long_permissions(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;
	int level;

	/* Clearing R/W or U/S at any one level clears it for the page. */
	for (level = 4; level >= 1; level--) {
		uint64_t slot = long_slot(0x00007f1234567abcull, level);

		long_map_4k(mem, 0x00007f1234567abcull, 0x00555000, PRU, PRU,
			    PRU, PRU);
		put64(mem, slot, get64(mem, slot) & ~RW);
		r = walk(&cpu, mem, MEM_SIZE, 0x00007f1234567abcull);
		assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00555abc, KIB4);
		assert_perm(&r, false, true, false);

		put64(mem, slot, (get64(mem, slot) | RW) & ~US);
		r = walk(&cpu, mem, MEM_SIZE, 0x00007f1234567abcull);
		assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00555abc, KIB4);
		assert_perm(&r, true, false, false);
	}

	long_map_2m(mem, 0xffff800000345678ull, 0x40000000, P | US, PRU,
		    P | RW);
	r = walk(&cpu, mem, MEM_SIZE, 0xffff800000345678ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 2, 0x40145678, MIB2);
	assert_perm(&r, false, false, false);

	long_map_1g(mem, 0x0000004012345678ull, 0x1c0000000ull, PRU, P | US);
	r = walk(&cpu, mem, MEM_SIZE, 0x0000004012345678ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 3, 0x1d2345678ull, GIB1);
	assert_perm(&r, false, true, false);
}

static void test_long_nx(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu nxe = cpu_long(true);
	struct kvmfs_walk_cpu no_nxe = cpu_long(false);
	struct kvmfs_walk_result r;
	int level;

	long_map_4k(mem, 0x00007f1234567abcull, 0x00555000, PRU, PRU, PRU,
		    PRU);
	r = walk(&nxe, mem, MEM_SIZE, 0x00007f1234567abcull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00555abc, KIB4);
	assert_perm(&r, true, true, false);

	/* XD at any level makes the page non-executable with NXE, and is a
	 * reserved bit at that level without it. */
	for (level = 4; level >= 1; level--) {
		uint64_t slot = long_slot(0x00007f1234567abcull, level);

		long_map_4k(mem, 0x00007f1234567abcull, 0x00555000, PRU, PRU,
			    PRU, PRU);
		put64(mem, slot, get64(mem, slot) | XD);
		r = walk(&nxe, mem, MEM_SIZE, 0x00007f1234567abcull);
		assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00555abc, KIB4);
		assert_perm(&r, true, true, true);

		r = walk(&no_nxe, mem, MEM_SIZE, 0x00007f1234567abcull);
		assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_RESERVED,
			    level);
	}

	long_map_2m(mem, 0xffff800000345678ull, 0x40000000, PRU, PRU,
		    PRU | XD);
	r = walk(&nxe, mem, MEM_SIZE, 0xffff800000345678ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 2, 0x40145678, MIB2);
	assert_perm(&r, true, true, true);

	long_map_1g(mem, 0x0000004012345678ull, 0x1c0000000ull, PRU,
		    PRU | XD);
	r = walk(&nxe, mem, MEM_SIZE, 0x0000004012345678ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 3, 0x1d2345678ull, GIB1);
	assert_perm(&r, true, true, true);
	r = walk(&no_nxe, mem, MEM_SIZE, 0x0000004012345678ull);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_RESERVED, 3);
}

static void test_long_pml4_ps_reserved(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;

	long_map_4k(mem, 0x00007f1234567abcull, 0x00555000, PRU | PS, PRU,
		    PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00007f1234567abcull);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_RESERVED, 4);
}

static void test_long_non_canonical(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	static const uint64_t bad[] = {
		0x0000800000000000ull, 0xffff7fffffffffffull,
		0x8000000000000000ull, 0x7fffffffffffffffull,
		0x0001000000000000ull, 0xfffe800000000000ull,
	};
	struct kvmfs_walk_result r;
	size_t i;

	/* Map what the low 48 bits would select, so a walk that ignored
	 * bits 63:48 would find a page. */
	long_map_4k(mem, 0x0000000000000000ull, 0x00555000, PRU, PRU, PRU,
		    PRU);
	long_map_4k(mem, 0xfffffffffffff000ull, 0x00555000, PRU, PRU, PRU,
		    PRU);
	long_map_4k(mem, 0x0000800000000000ull, 0x00555000, PRU, PRU, PRU,
		    PRU);
	long_map_4k(mem, 0x00007ffffffff000ull, 0x00555000, PRU, PRU, PRU,
		    PRU);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = walk(&cpu, mem, MEM_SIZE, bad[i]);
		assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_NON_CANONICAL,
			    0);
	}

	/* The edges of both canonical halves walk. */
	r = walk(&cpu, mem, MEM_SIZE, 0x00007fffffffffffull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00555fff, KIB4);
	r = walk(&cpu, mem, MEM_SIZE, 0xffffffffffffffffull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00555fff, KIB4);
	r = walk(&cpu, mem, MEM_SIZE, 0xffff800000000000ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00555000, KIB4);
	r = walk(&cpu, mem, MEM_SIZE, 0);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x00555000, KIB4);
}

/* ---- the walk stays inside guest memory ---- */

static void test_long_outside(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;
	static const uint64_t far[] = {
		MEM_SIZE, 0x000ffffffffff000ull, 0x0000000100000000ull,
	};
	size_t i;
	int level;

	/* CR3 itself past the end, at the end, or where CR3 + offset would
	 * wrap if added carelessly. */
	cpu.cr3 = MEM_SIZE;
	r = walk(&cpu, mem, MEM_SIZE, 0);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_OUTSIDE, 4);
	cpu.cr3 = 0x000ffffffffff000ull;
	r = walk(&cpu, mem, MEM_SIZE, 0xfffffffffffff000ull);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_OUTSIDE, 4);
	cpu = cpu_long(false);
	r = walk(&cpu, mem, PML4, 0);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_OUTSIDE, 4);

	/* Each level's entry pointing off the end makes the next level
	 * the one outside memory. */
	for (level = 4; level >= 2; level--) {
		for (i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
			uint64_t slot = long_slot(0x00007f1234567abcull,
						  level);

			long_map_4k(mem, 0x00007f1234567abcull, 0x00555000,
				    PRU, PRU, PRU, PRU);
			put64(mem, slot, far[i] | PRU);
			r = walk(&cpu, mem, MEM_SIZE, 0x00007f1234567abcull);
			assert_miss(&r, KVMFS_PAGING_4LEVEL,
				    KVMFS_WALK_OUTSIDE, level - 1);
		}
	}

	/* A mapped page outside memory is fine: only tables are read. */
	long_map_4k(mem, 0x00007f1234567abcull, 0x7fff0000000ull, PRU, PRU,
		    PRU, PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x00007f1234567abcull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, 0x7fff0000abcull, KIB4);
}

/* Guest memory of exactly `size` bytes, so ASan sees any overread. */
static uint8_t *exact_mem(size_t size)
{
	uint8_t *mem = calloc(1, size);

	assert_non_null(mem);
	return mem;
}

static void test_entry_straddles_end(void **state)
{
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;
	uint8_t *mem;
	size_t size;

	(void)state;
	/* PML4[0] -> PDPT at 0x2000, whose slot 0 is 0x2000..0x2007. */
	for (size = PDPT + 1; size < PDPT + 8; size++) {
		mem = exact_mem(size);
		put64(mem, PML4, PDPT | PRU);
		r = walk(&cpu, mem, size, 0x1234);
		assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_OUTSIDE, 3);
		free(mem);
	}
	/* One more byte and the entry is read (it is zero). */
	mem = exact_mem(PDPT + 8);
	put64(mem, PML4, PDPT | PRU);
	r = walk(&cpu, mem, PDPT + 8, 0x1234);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_NOT_PRESENT, 3);
	free(mem);

	/* 32-bit paging reads 4-byte entries: PD slot 1 is 0x1004..0x1007. */
	cpu = cpu_32(false);
	for (size = PD32 + 4; size < PD32 + 8; size++) {
		mem = exact_mem(size);
		r = walk(&cpu, mem, size, 0x00400000);
		assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_OUTSIDE, 2);
		free(mem);
	}
	mem = exact_mem(PD32 + 8);
	put32(mem, PD32 + 4, PD32 | PRU);
	r = walk(&cpu, mem, PD32 + 8, 0x00400000);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_NOT_PRESENT, 1);
	put32(mem, PD32, 0x00abc000 | PRU);
	r = walk(&cpu, mem, PD32 + 8, 0x00400123);
	assert_ok(&r, KVMFS_PAGING_32, 1, 0x00abc123, KIB4);
	free(mem);

	/* PAE: PDPT slot 3 at 0x1038..0x103f; its PD off the end. */
	cpu = cpu_pae(false);
	mem = exact_mem(0x103c);
	r = walk(&cpu, mem, 0x103c, 0xc0000000);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_OUTSIDE, 3);
	free(mem);
	mem = exact_mem(0x1040);
	put64(mem, 0x1038, 0x1000 | P);
	r = walk(&cpu, mem, 0x1040, 0xc0000000);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_NOT_PRESENT, 2);
	/* PD slot 8 would be 0x1040..0x1047. */
	r = walk(&cpu, mem, 0x1040, 0xc1000000);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_OUTSIDE, 2);
	free(mem);
}

static void test_memsize_zero(void **state)
{
	struct kvmfs_walk_cpu cpu;
	struct kvmfs_walk_result r;

	(void)state;
	cpu = cpu_long(false);
	r = walk(&cpu, NULL, 0, 0x1000);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_OUTSIDE, 4);
	cpu.cr3 = 0;
	r = walk(&cpu, NULL, 0, 0);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_OUTSIDE, 4);

	cpu = cpu_pae(false);
	r = walk(&cpu, NULL, 0, 0x1000);
	assert_miss(&r, KVMFS_PAGING_PAE, KVMFS_WALK_OUTSIDE, 3);

	cpu = cpu_32(true);
	r = walk(&cpu, NULL, 0, 0x1000);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_OUTSIDE, 2);

	/* Range checks still come before memory checks. */
	cpu = cpu_long(false);
	r = walk(&cpu, NULL, 0, 0x0000800000000000ull);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_NON_CANONICAL, 0);
	cpu = cpu_32(true);
	r = walk(&cpu, NULL, 0, 0x100000000ull);
	assert_miss(&r, KVMFS_PAGING_32, KVMFS_WALK_TOO_WIDE, 0);
}

/* ---- tables that point back at themselves ---- */

static void test_self_referencing_pml4(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_long(false);
	struct kvmfs_walk_result r;

	/* PML4[0] -> PML4: every level reads slot 0 of the same page and
	 * ends, after four reads, on a 4 KiB page that is the PML4 itself. */
	put64(mem, PML4, PML4 | PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x123);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, PML4 | 0x123, KIB4);
	assert_perm(&r, true, true, false);

	/* Another slot of the loop is empty: the miss is at the PD. */
	r = walk(&cpu, mem, MEM_SIZE, 0x00201000);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_NOT_PRESENT, 2);

	/* The classic recursive slot 511 maps the tables into the top of
	 * the address space: 0xfffffffffffff000 is the PML4 itself. */
	put64(mem, PML4 + 8 * 511, PML4 | P | RW);
	r = walk(&cpu, mem, MEM_SIZE, 0xfffffffffffff008ull);
	assert_ok(&r, KVMFS_PAGING_4LEVEL, 1, PML4 | 0x008, KIB4);
	assert_perm(&r, true, false, false);

	/* The same loop with PS set stops at once: reserved in a PML4E. */
	put64(mem, PML4, PML4 | PRU | PS);
	r = walk(&cpu, mem, MEM_SIZE, 0x123);
	assert_miss(&r, KVMFS_PAGING_4LEVEL, KVMFS_WALK_RESERVED, 4);
}

static void test_self_referencing_32(void **state)
{
	uint8_t *mem = *state;
	struct kvmfs_walk_cpu cpu = cpu_32(false);
	struct kvmfs_walk_result r;

	put32(mem, PD32, PD32 | PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0xabc);
	assert_ok(&r, KVMFS_PAGING_32, 1, PD32 | 0xabc, KIB4);

	/* PAE: the PD and the PT are both the page that holds the PDPT. */
	cpu = cpu_pae(false);
	put64(mem, PAE_PDPT, 0x1000 | P);
	put64(mem, 0x1000, 0x1000 | PRU);
	r = walk(&cpu, mem, MEM_SIZE, 0x123);
	assert_ok(&r, KVMFS_PAGING_PAE, 1, 0x1123, KIB4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_reason_names),
		T(test_no_paging),
		T(test_unsupported_modes),
		T(test_32_4k),
		T(test_32_4m),
		T(test_32_ps_without_pse),
		T(test_32_not_present),
		T(test_32_permissions),
		T(test_32_too_wide),
		T(test_pae_4k),
		T(test_pae_2m),
		T(test_pae_pdpte),
		T(test_pae_not_present),
		T(test_pae_permissions_and_nx),
		T(test_pae_too_wide),
		T(test_long_4k),
		T(test_long_remap),
		T(test_long_2m),
		T(test_long_1g),
		T(test_long_not_present),
		T(test_long_permissions),
		T(test_long_nx),
		T(test_long_pml4_ps_reserved),
		T(test_long_non_canonical),
		T(test_long_outside),
		T(test_entry_straddles_end),
		T(test_memsize_zero),
		T(test_self_referencing_pml4),
		T(test_self_referencing_32),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
