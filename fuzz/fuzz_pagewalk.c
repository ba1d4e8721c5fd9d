/* Fuzz target: the software page walk (kvmfs_walk).  The input is
 * cr0, cr3, cr4, efer (8 bytes each, little-endian), a count byte, that
 * many 8-byte linear addresses (at most 16) and then the guest memory
 * image, copied into a buffer of exactly its size so that ASan reports
 * any read outside guest memory.  Each walk's answer must also make sense
 * on its own: a hit keeps the page offset, a miss carries no data, and
 * the paging mode follows from the control registers. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "x86/pagewalk.h"

#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)
#define CR4_LA57	(1ull << 12)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define FOUR_GIB	(1ull << 32)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static enum kvmfs_walk_mode expected_mode(const struct kvmfs_walk_cpu *cpu)
{
	if (!(cpu->cr0 & CR0_PG))
		return KVMFS_PAGING_NONE;
	if (!(cpu->cr4 & CR4_PAE))
		return KVMFS_PAGING_32;
	if (cpu->efer & (EFER_LME | EFER_LMA))
		return KVMFS_PAGING_4LEVEL;
	return KVMFS_PAGING_PAE;
}

static void check_walk(const struct kvmfs_walk_cpu *cpu, const uint8_t *mem,
		       size_t memsize, uint64_t linear)
{
	struct kvmfs_walk_result res, res2;
	enum kvmfs_walk_mode mode = expected_mode(cpu);
	bool long_mode = cpu->efer & (EFER_LME | EFER_LMA);
	int ret;

	ret = kvmfs_walk(cpu, mem, memsize, linear, &res);
	/* Refused only for long mode without PAE, or with LA57. */
	if ((cpu->cr0 & CR0_PG) && long_mode &&
	    (!(cpu->cr4 & CR4_PAE) || (cpu->cr4 & CR4_LA57))) {
		fuzz_require(ret == -EINVAL);
		return;
	}
	fuzz_require(ret == 0);
	fuzz_require(res.mode == mode);
	fuzz_require(strcmp(kvmfs_walk_reason_name(res.reason), "unknown"));

	/* A pure function: the same question gets the same answer. */
	fuzz_require(kvmfs_walk(cpu, mem, memsize, linear, &res2) == 0);
	fuzz_require(res2.mode == res.mode && res2.reason == res.reason &&
		     res2.level == res.level && res2.phys == res.phys &&
		     res2.page_size == res.page_size &&
		     res2.writable == res.writable && res2.user == res.user &&
		     res2.nx == res.nx);

	if (res.reason != KVMFS_WALK_OK) {
		fuzz_require(res.phys == 0 && res.page_size == 0);
		fuzz_require(!res.writable && !res.user && !res.nx);
		fuzz_require(res.level >= 0 && res.level <= 4);
		if (res.reason == KVMFS_WALK_TOO_WIDE)
			fuzz_require(linear >= FOUR_GIB && res.level == 0);
		else if (res.reason == KVMFS_WALK_NON_CANONICAL)
			fuzz_require(mode == KVMFS_PAGING_4LEVEL &&
				     res.level == 0);
		else
			fuzz_require(res.level >= 1);
		if (mode == KVMFS_PAGING_32)
			fuzz_require(res.level <= 2);
		if (mode == KVMFS_PAGING_PAE)
			fuzz_require(res.level <= 3);
		return;
	}

	if (mode == KVMFS_PAGING_NONE) {
		fuzz_require(res.phys == linear && res.page_size == 0);
		fuzz_require(res.level == 0);
		return;
	}
	/* 32-bit modes cannot name an address at or above 4 GiB. */
	if (mode != KVMFS_PAGING_4LEVEL)
		fuzz_require(linear < FOUR_GIB);
	switch (res.page_size) {
	case 1ull << 12:
		fuzz_require(res.level == 1);
		break;
	case 1ull << 21:
		fuzz_require(res.level == 2 && mode != KVMFS_PAGING_32);
		break;
	case 1ull << 22:
		fuzz_require(res.level == 2 && mode == KVMFS_PAGING_32);
		break;
	case 1ull << 30:
		fuzz_require(res.level == 3 && mode == KVMFS_PAGING_4LEVEL);
		break;
	default:
		fuzz_require(!"bad page size");
	}
	fuzz_require(((res.phys ^ linear) & (res.page_size - 1)) == 0);
	/* MAXPHYADDR 52, and PSE-36 tops out at 40 bits. */
	fuzz_require(res.phys < (1ull << 52));
	if (mode == KVMFS_PAGING_32)
		fuzz_require(res.phys < (1ull << 40));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmfs_walk_cpu cpu;
	uint64_t addrs[16];
	size_t naddr, memsize;
	uint8_t *mem = NULL;

	if (size < 33)
		return 0;
	cpu.cr0 = le64(data);
	cpu.cr3 = le64(data + 8);
	cpu.cr4 = le64(data + 16);
	cpu.efer = le64(data + 24);
	naddr = data[32] % 17;
	data += 33;
	size -= 33;
	if (naddr * 8 > size)
		naddr = size / 8;
	for (size_t i = 0; i < naddr; i++)
		addrs[i] = le64(data + 8 * i);
	data += naddr * 8;
	size -= naddr * 8;

	memsize = size;
	if (memsize) {
		mem = malloc(memsize);
		fuzz_require(mem);
		memcpy(mem, data, memsize);
	}
	/* Address 0 and the last byte are always worth a walk. */
	check_walk(&cpu, mem, memsize, 0);
	check_walk(&cpu, mem, memsize, UINT64_MAX);
	for (size_t i = 0; i < naddr; i++)
		check_walk(&cpu, mem, memsize, addrs[i]);
	/* The walk only reads. */
	fuzz_require(memsize == 0 || memcmp(mem, data, memsize) == 0);
	free(mem);
	return 0;
}
