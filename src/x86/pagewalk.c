/* The software x86 page-table walk behind the translate file.  KVM_TRANSLATE
 * gives the physical address of a linear one but hard-codes its permission
 * fields and says nothing about a miss, so this file repeats the walk over
 * a copy-free view of guest memory to report the page size, the R/W, U/S
 * and XD bits accumulated over the levels, and which entry ended a failed
 * walk and why.  It knows the four modes a vCPU can be in short of 5-level
 * paging: none, 32-bit, PAE and 4-level; each paging mode is described by
 * a table of levels so one loop walks them all.  It treats MAXPHYADDR as
 * 52 and checks every entry it reads against the size of guest memory. */
#include <errno.h>

#include "x86/pagewalk.h"

#define CR0_PG		(1ull << 31)
#define CR4_PSE		(1ull << 4)
#define CR4_PAE		(1ull << 5)
#define CR4_LA57	(1ull << 12)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)

#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_US		(1ull << 2)
#define PTE_PS		(1ull << 7)
#define PTE_XD		(1ull << 63)

/* Inclusive bit range hi:lo as a mask. */
#define BITS(hi, lo)	((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

#define ADDR_MASK_52	BITS(51, 12)
#define FOUR_GIB	(1ull << 32)

struct walk_level {
	int level;		/* as reported: 4 = PML4 ... 1 = PT */
	unsigned int shift;	/* lowest linear-address bit this level indexes */
	unsigned int index_bits;
	bool has_perm;		/* entry carries R/W and U/S */
	bool has_xd;		/* bit 63 is XD when EFER.NXE, else reserved */
	bool may_map;		/* PS=1 maps a page of 1 << shift bytes */
	bool map_needs_pse;	/* ... only when CR4.PSE (32-bit paging) */
	uint64_t rsvd;		/* reserved bits whatever PS says */
	uint64_t rsvd_map;	/* further reserved bits when the entry maps */
};

struct walk_format {
	enum kvmfs_walk_mode mode;
	unsigned int entry_size;
	uint64_t cr3_mask;	/* where CR3 keeps the root table's address */
	uint64_t addr_mask;	/* where an entry keeps the next table's */
	bool below_4g;		/* linear addresses are 32 bits wide */
	int nlevels;
	struct walk_level levels[4];
};

/* A 4 MiB page has bit 21 reserved; bits 20:13 are PSE-36's physical
 * bits 39:32, all usable since MAXPHYADDR (52) is at least 40. */
static const struct walk_format format_32 = {
	.mode = KVMFS_PAGING_32,
	.entry_size = 4,
	.cr3_mask = BITS(31, 12),
	.addr_mask = BITS(31, 12),
	.below_4g = true,
	.nlevels = 2,
	.levels = {
		{ .level = 2, .shift = 22, .index_bits = 10, .has_perm = true,
		  .may_map = true, .map_needs_pse = true,
		  .rsvd_map = BITS(21, 21) },
		{ .level = 1, .shift = 12, .index_bits = 10, .has_perm = true },
	},
};

/* A PDPTE only says "present": R/W, U/S and XD do not exist there, and
 * PAE (unlike 4-level) reserves bits 62:MAXPHYADDR in the lower levels. */
static const struct walk_format format_pae = {
	.mode = KVMFS_PAGING_PAE,
	.entry_size = 8,
	.cr3_mask = BITS(31, 5),
	.addr_mask = ADDR_MASK_52,
	.below_4g = true,
	.nlevels = 3,
	.levels = {
		{ .level = 3, .shift = 30, .index_bits = 2,
		  .rsvd = BITS(63, 52) | BITS(8, 5) | BITS(2, 1) },
		{ .level = 2, .shift = 21, .index_bits = 9, .has_perm = true,
		  .has_xd = true, .may_map = true, .rsvd = BITS(62, 52),
		  .rsvd_map = BITS(20, 13) },
		{ .level = 1, .shift = 12, .index_bits = 9, .has_perm = true,
		  .has_xd = true, .rsvd = BITS(62, 52) },
	},
};

/* Bit 7 of a PML4E is reserved rather than a PS the CPU would ignore. */
static const struct walk_format format_4level = {
	.mode = KVMFS_PAGING_4LEVEL,
	.entry_size = 8,
	.cr3_mask = ADDR_MASK_52,
	.addr_mask = ADDR_MASK_52,
	.nlevels = 4,
	.levels = {
		{ .level = 4, .shift = 39, .index_bits = 9, .has_perm = true,
		  .has_xd = true, .rsvd = PTE_PS },
		{ .level = 3, .shift = 30, .index_bits = 9, .has_perm = true,
		  .has_xd = true, .may_map = true, .rsvd_map = BITS(29, 13) },
		{ .level = 2, .shift = 21, .index_bits = 9, .has_perm = true,
		  .has_xd = true, .may_map = true, .rsvd_map = BITS(20, 13) },
		{ .level = 1, .shift = 12, .index_bits = 9, .has_perm = true,
		  .has_xd = true },
	},
};

static const char *const reason_names[] = {
	[KVMFS_WALK_OK] = "ok",
	[KVMFS_WALK_NOT_PRESENT] = "not-present",
	[KVMFS_WALK_RESERVED] = "reserved",
	[KVMFS_WALK_NON_CANONICAL] = "non-canonical",
	[KVMFS_WALK_OUTSIDE] = "outside-memory",
	[KVMFS_WALK_TOO_WIDE] = "too-wide",
};

const char *kvmfs_walk_reason_name(enum kvmfs_walk_reason r)
{
	if ((unsigned int)r >= sizeof(reason_names) / sizeof(reason_names[0]))
		return "unknown";
	return reason_names[r];
}

/* `addr` comes from guest-written entries and may be anywhere below 2^52,
 * so compare without forming addr + size, which could pass memsize. */
static bool read_entry(const uint8_t *mem, size_t memsize, uint64_t addr,
		       unsigned int size, uint64_t *entry)
{
	uint64_t v = 0;
	unsigned int i;

	if (addr > memsize || memsize - addr < size)
		return false;
	/* Guest tables are little-endian whatever the host is. */
	for (i = 0; i < size; i++)
		v |= (uint64_t)mem[addr + i] << (8 * i);
	*entry = v;
	return true;
}

/* Where a PS=1 entry's page starts.  32-bit paging is the odd one out:
 * PSE-36 keeps physical bits 39:32 in entry bits 20:13. */
static uint64_t map_base(const struct walk_format *fmt, uint64_t entry,
			 uint64_t page_size)
{
	if (fmt->mode == KVMFS_PAGING_32)
		return (entry & BITS(31, 22)) |
		       (((entry >> 13) & 0xff) << 32);
	return entry & fmt->addr_mask & ~(page_size - 1);
}

static void miss(struct kvmfs_walk_result *res, enum kvmfs_walk_reason why,
		 int level)
{
	res->reason = why;
	res->level = level;
	res->phys = 0;
	res->page_size = 0;
	res->writable = false;
	res->user = false;
	res->nx = false;
}

static void walk_tables(const struct walk_format *fmt,
			const struct kvmfs_walk_cpu *cpu, const uint8_t *mem,
			size_t memsize, uint64_t linear,
			struct kvmfs_walk_result *res)
{
	bool nxe = cpu->efer & EFER_NXE;
	uint64_t table = cpu->cr3 & fmt->cr3_mask;
	bool writable = true, user = true, nx = false;
	int i;

	if (fmt->below_4g && linear >= FOUR_GIB) {
		miss(res, KVMFS_WALK_TOO_WIDE, 0);
		return;
	}
	if (fmt->mode == KVMFS_PAGING_4LEVEL) {
		uint64_t top = linear >> 47;

		if (top != 0 && top != (1ull << 17) - 1) {
			miss(res, KVMFS_WALK_NON_CANONICAL, 0);
			return;
		}
	}

	/* At most fmt->nlevels reads, so a table that points back at
	 * itself ends the walk like any other. */
	for (i = 0; i < fmt->nlevels; i++) {
		const struct walk_level *lv = &fmt->levels[i];
		uint64_t index = (linear >> lv->shift) &
				 ((1ull << lv->index_bits) - 1);
		uint64_t entry, rsvd;
		bool maps;

		if (!read_entry(mem, memsize, table + index * fmt->entry_size,
				fmt->entry_size, &entry)) {
			miss(res, KVMFS_WALK_OUTSIDE, lv->level);
			return;
		}
		/* The CPU ignores every other bit of a non-present entry. */
		if (!(entry & PTE_P)) {
			miss(res, KVMFS_WALK_NOT_PRESENT, lv->level);
			return;
		}
		maps = lv->level == 1 ||
		       (lv->may_map && (entry & PTE_PS) &&
			(!lv->map_needs_pse || (cpu->cr4 & CR4_PSE)));
		rsvd = lv->rsvd;
		if (maps)
			rsvd |= lv->rsvd_map;
		if (lv->has_xd && !nxe)
			rsvd |= PTE_XD;
		if (entry & rsvd) {
			miss(res, KVMFS_WALK_RESERVED, lv->level);
			return;
		}
		if (lv->has_perm) {
			writable = writable && (entry & PTE_RW);
			user = user && (entry & PTE_US);
		}
		if (lv->has_xd && nxe && (entry & PTE_XD))
			nx = true;
		if (maps) {
			uint64_t size = 1ull << lv->shift;

			res->reason = KVMFS_WALK_OK;
			res->level = lv->level;
			res->page_size = size;
			res->phys = lv->level == 1 ?
				    (entry & fmt->addr_mask) :
				    map_base(fmt, entry, size);
			res->phys |= linear & (size - 1);
			res->writable = writable;
			res->user = user;
			res->nx = nx;
			return;
		}
		table = entry & fmt->addr_mask;
	}
}

/* Which paging mode the control registers select; NULL for paging off.
 * EFER.LME with CR0.PG counts as long mode even before the CPU has set
 * LMA, as KVM lets userspace write sregs in that state. */
static int pick_format(const struct kvmfs_walk_cpu *cpu,
		       const struct walk_format **fmt)
{
	bool long_mode = cpu->efer & (EFER_LMA | EFER_LME);

	*fmt = NULL;
	if (!(cpu->cr0 & CR0_PG))
		return 0;
	if (!(cpu->cr4 & CR4_PAE)) {
		/* Long mode without PAE cannot be entered. */
		if (long_mode)
			return -EINVAL;
		*fmt = &format_32;
		return 0;
	}
	if (!long_mode) {
		*fmt = &format_pae;
		return 0;
	}
	if (cpu->cr4 & CR4_LA57)
		return -EINVAL;
	*fmt = &format_4level;
	return 0;
}

int kvmfs_walk(const struct kvmfs_walk_cpu *cpu, const uint8_t *mem,
	       size_t memsize, uint64_t linear, struct kvmfs_walk_result *res)
{
	const struct walk_format *fmt;
	int ret;

	*res = (struct kvmfs_walk_result){ 0 };
	ret = pick_format(cpu, &fmt);
	if (ret)
		return ret;

	if (!fmt) {
		res->mode = KVMFS_PAGING_NONE;
		/* A 32-bit CPU cannot even name a higher address. */
		if (!(cpu->efer & EFER_LMA) && linear >= FOUR_GIB) {
			miss(res, KVMFS_WALK_TOO_WIDE, 0);
			return 0;
		}
		res->reason = KVMFS_WALK_OK;
		res->phys = linear;
		res->writable = true;
		res->user = true;
		return 0;
	}

	res->mode = fmt->mode;
	walk_tables(fmt, cpu, mem, memsize, linear, res);
	return 0;
}
