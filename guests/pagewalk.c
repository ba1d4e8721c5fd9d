/* pagewalk: 64-bit long mode.  Build 4-level page tables of our own at
 * GPA 0x10000..0x1ffff, switch CR3 to them and halt, so that the host can
 * check its translations against the table in README.md: 4 KiB, 2 MiB and
 * 1 GiB pages, remapped and identity pages, read-only, user and no-execute
 * pages, permissions inherited from upper levels, and misses at each of the
 * four levels.
 *
 * start64.S is built with GUEST_STACK=0x10000, so the stack (below 0x10000)
 * and the code (below 0x400) stay inside the identity-mapped first 2 MiB
 * whatever the memory size; the host's own tables at the top of memory are
 * not used after the switch.
 *
 * EFER.NXE is set only if CPUID says NX exists, and the 1 GiB page is
 * built only if CPUID says 1 GiB pages exist; what was done is left at GPA
 * 0x404 (bit 0: NX, bit 1: 1 GiB page), so a host without them can tell. */
#include "guest.h"

#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_US		(1ull << 2)
#define PTE_PS		(1ull << 7)
#define PTE_XD		(1ull << 63)

/* The tables, one 4 KiB page each. */
#define TABLES		0x10000u
#define TABLES_END	0x20000u
#define PML4		0x10000u	/* the root, loaded into CR3 */
#define PDPT_LO		0x11000u	/* linear 0 .. 512 GiB (PML4[0]) */
#define PDPT_HI		0x12000u	/* the top 512 GiB (PML4[511]) */
#define PD_0		0x13000u	/* linear 0 .. 1 GiB (PDPT_LO[0]) */
#define PD_1		0x14000u	/* linear 1 GiB .. 2 GiB (PDPT_LO[1]) */
#define PT_0		0x15000u	/* linear 0 .. 2 MiB (PD_0[0]) */
#define PT_1		0x16000u	/* linear 1 GiB .. 1 GiB + 2 MiB (PD_1[0]) */

/* Physical pages that linear 0x40000000.. maps to. */
#define REMAP_BASE	0x20000u

#define MSR_EFER	0xc0000080u
#define EFER_NXE	(1u << 11)

#define CPUID_EXT_MAX		0x80000000u
#define CPUID_EXT_FEATURES	0x80000001u
#define CPUID_EDX_NX		(1u << 20)
#define CPUID_EDX_PAGE1GB	(1u << 26)

#define DID_NX		(1u << 0)
#define DID_1G		(1u << 1)

static void cpuid(uint32_t leaf, uint32_t *eax, uint32_t *edx)
{
	uint32_t ebx, ecx;

	__asm__ volatile("cpuid"
			 : "=a"(*eax), "=b"(ebx), "=c"(ecx), "=d"(*edx)
			 : "a"(leaf), "c"(0));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr"
			 : : "c"(msr), "a"((uint32_t)value),
			   "d"((uint32_t)(value >> 32)));
}

static void set(uint32_t table, unsigned int index, uint64_t entry)
{
	*ptr64(table + 8u * index) = entry;
}

void guest_main(void)
{
	uint32_t eax, edx = 0;
	uint32_t did = 0;
	uint64_t xd = 0;

	cpuid(CPUID_EXT_MAX, &eax, &edx);
	if (eax >= CPUID_EXT_FEATURES)
		cpuid(CPUID_EXT_FEATURES, &eax, &edx);
	else
		edx = 0;
	if (edx & CPUID_EDX_NX) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
		xd = PTE_XD;
		did |= DID_NX;
	}

	for (uint32_t a = TABLES; a < TABLES_END; a += 8)
		*ptr64(a) = 0;

	/* PML4: [0] user and writable, [1] not present, [511] supervisor,
	 * no-execute: everything in the top 512 GiB inherits both. */
	set(PML4, 0, PDPT_LO | PTE_P | PTE_RW | PTE_US);
	set(PML4, 511, PDPT_HI | PTE_P | PTE_RW | xd);

	/* Low 4 GiB: [0] and [1] point to page directories, [2] is a 1 GiB
	 * page onto physical 0, [3] is not present. */
	set(PDPT_LO, 0, PD_0 | PTE_P | PTE_RW | PTE_US);
	set(PDPT_LO, 1, PD_1 | PTE_P | PTE_RW | PTE_US);
	if (edx & CPUID_EDX_PAGE1GB) {
		set(PDPT_LO, 2, 0x00000000 | PTE_P | PTE_RW | PTE_PS);
		did |= DID_1G;
	}

	/* Top 1 GiB (0xffffffffc0000000): the low 1 GiB again, through the
	 * same page directory, but read-only from this level down. */
	set(PDPT_HI, 511, PD_0 | PTE_P | PTE_US);

	/* 0 .. 2 MiB: identity 4 KiB pages, supervisor, writable (code, data,
	 * stack and these tables); 2 MiB .. 4 MiB: one identity 2 MiB page,
	 * user, writable; above 4 MiB: not present. */
	set(PD_0, 0, PT_0 | PTE_P | PTE_RW | PTE_US);
	for (unsigned int i = 0; i < 512; i++)
		set(PT_0, i, ((uint64_t)i << 12) | PTE_P | PTE_RW);
	set(PD_0, 1, 0x00200000 | PTE_P | PTE_RW | PTE_US | PTE_PS);

	/* 1 GiB .. : 4 KiB pages remapped to REMAP_BASE, one per kind, then a
	 * read-only no-execute 2 MiB page onto physical 2 MiB, then nothing. */
	set(PD_1, 0, PT_1 | PTE_P | PTE_RW | PTE_US);
	set(PT_1, 0, (REMAP_BASE + 0x0000) | PTE_P | PTE_RW);
	set(PT_1, 1, (REMAP_BASE + 0x1000) | PTE_P);
	set(PT_1, 2, (REMAP_BASE + 0x2000) | PTE_P | PTE_RW | PTE_US);
	set(PT_1, 3, (REMAP_BASE + 0x3000) | PTE_P | PTE_RW | xd);
	/* [4]: not present, though every other bit says "user, writable". */
	set(PT_1, 4, (REMAP_BASE + 0x4000) | PTE_RW | PTE_US);
	set(PT_1, 5, (REMAP_BASE + 0x5000) | PTE_P | PTE_US | xd);
	set(PD_1, 1, 0x00200000 | PTE_P | PTE_PS | xd);

	__asm__ volatile("mov %0, %%cr3" : : "r"((uint64_t)PML4) : "memory");

	/* Still running: write through the new mappings, so the host sees
	 * in memory that the CPU used them. */
	*ptr32(0x40000000) = 0x40000000;	/* lands at GPA 0x20000 */
	*ptr32(0x40002000) = 0x40002000;	/* lands at GPA 0x22000 */
	if (did & DID_1G)
		*ptr32(0x80000408) = 0x80000408; /* lands at GPA 0x408 */
	*ptr32(RESULT_ADDR + 4) = did;
	*ptr32(RESULT_ADDR) = 42;
	halt(42);
}
