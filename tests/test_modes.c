/* Unit tests of src/x86/modes.c: the register state each ctl `mode` computes,
 * the page tables it writes and where, and its refusals.  The identity
 * maps are not checked entry by entry but walked with the software page
 * walk (src/x86/pagewalk.c) using the control registers the mode produced, so
 * the test asks what a CPU would ask: does every chunk of memory map to
 * itself, and does nothing past it map at all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "x86/cpuid.h"
#include "x86/modes.h"
#include "x86/pagewalk.h"

#define KIB4	0x1000ull
#define MIB2	0x200000ull
#define MIB4	0x400000ull
#define GIB	0x40000000ull
#define POISON	0xa5

/* CR0 the paged modes set, as kvm-hello-world does. */
#define CR0_PAGED                                                          \
	(KVMFS_CR0_PE | KVMFS_CR0_MP | KVMFS_CR0_ET | KVMFS_CR0_NE |       \
	 KVMFS_CR0_WP | KVMFS_CR0_AM | KVMFS_CR0_PG)

#define CR4_OSFXSR	(1ull << 9)
#define EFER_SCE	(1ull << 0)
#define EFER_NXE	(1ull << 11)

struct fixture {
	uint8_t *mem;
	uint64_t size;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	char err[256];
};

static struct fixture *fixture_new(uint64_t size, uint8_t fill)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mem = malloc(size ? size : 1);
	assert_non_null(f->mem);
	memset(f->mem, fill, size);
	f->size = size;
	return f;
}

static void fixture_free(struct fixture *f)
{
	free(f->mem);
	free(f);
}

static struct kvmfs_mode_args args(enum kvmfs_mode m)
{
	struct kvmfs_mode_args a = { .mode = m };

	return a;
}

/* Set up the mode; the check alone (what ctl plans a write with) must
 * give the same verdict and reason. */
static int setup_mode(struct fixture *f, const struct kvmfs_mode_args *a)
{
	char check_err[sizeof(f->err)] = "";
	int checked = kvmfs_mode_check(a, f->size, check_err, sizeof(check_err));
	int r;

	memset(f->err, 0, sizeof(f->err));
	r = kvmfs_mode_setup(a, f->mem, f->size, &f->sregs, &f->regs,
			     f->err, sizeof(f->err));
	assert_int_equal(checked, r);
	if (r < 0)
		assert_string_equal(check_err, f->err);
	return r;
}

static struct kvmfs_walk_cpu walk_cpu(const struct kvm_sregs *s)
{
	struct kvmfs_walk_cpu cpu = {
		.cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer,
	};

	return cpu;
}

/* Every chunk of memory (rounded up to whole chunks) maps to itself with
 * pages of chunk bytes, writable and user; the next chunk is unmapped. */
static void assert_identity(const struct fixture *f, uint64_t chunk,
			    enum kvmfs_walk_mode mode)
{
	struct kvmfs_walk_cpu cpu = walk_cpu(&f->sregs);
	struct kvmfs_walk_result res;
	uint64_t chunks = (f->size + chunk - 1) / chunk;

	for (uint64_t i = 0; i < chunks; i++) {
		const uint64_t offs[] = { 0, 0x1234, chunk - 1 };

		for (size_t k = 0; k < 3; k++) {
			uint64_t lin = i * chunk + offs[k];

			assert_int_equal(kvmfs_walk(&cpu, f->mem, f->size, lin,
						    &res),
					 0);
			assert_int_equal(res.mode, mode);
			if (res.reason != KVMFS_WALK_OK)
				fail_msg("0x%llx: %s at level %d",
					 (unsigned long long)lin,
					 kvmfs_walk_reason_name(res.reason),
					 res.level);
			assert_true(res.phys == lin);
			assert_true(res.page_size == chunk);
			assert_true(res.writable);
			assert_true(res.user);
			assert_false(res.nx);
		}
	}
	assert_int_equal(kvmfs_walk(&cpu, f->mem, f->size, chunks * chunk,
				    &res),
			 0);
	assert_int_equal(res.reason, KVMFS_WALK_NOT_PRESENT);
}

static void assert_flat32(const struct kvm_segment *s, uint16_t sel,
			  uint8_t type)
{
	assert_int_equal(s->selector, sel);
	assert_int_equal(s->type, type);
	assert_true(s->base == 0);
	assert_true(s->limit == 0xffffffff);
	assert_int_equal(s->present, 1);
	assert_int_equal(s->s, 1);
	assert_int_equal(s->g, 1);
	assert_int_equal(s->dpl, 0);
}

static void assert_data_segments(const struct kvm_sregs *s, uint16_t sel)
{
	const struct kvm_segment *segs[] = { &s->ds, &s->es, &s->fs, &s->gs,
					     &s->ss };

	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(segs[i]->selector, sel);
		assert_int_equal(segs[i]->type, 3);
		assert_int_equal(segs[i]->present, 1);
		assert_int_equal(segs[i]->l, 0);
	}
}

/* No byte of memory differs from fill. */
static void assert_untouched(const struct fixture *f, uint8_t fill)
{
	for (uint64_t i = 0; i < f->size; i++)
		if (f->mem[i] != fill)
			fail_msg("memory changed at 0x%llx",
				 (unsigned long long)i);
}

static void test_real(void **state)
{
	struct fixture *f = fixture_new(MIB2, POISON);
	struct kvmfs_mode_args a = args(KVMFS_MODE_REAL);

	(void)state;
	a.entry = 0x7c00;
	f->sregs.cr0 = KVMFS_CR0_PE | KVMFS_CR0_PG | KVMFS_CR0_ET;
	f->sregs.cr4 = KVMFS_CR4_PAE | CR4_OSFXSR;
	f->sregs.efer = KVMFS_EFER_LME | KVMFS_EFER_LMA | EFER_SCE;
	f->sregs.cr3 = 0x5000;
	f->regs.rax = 77;
	assert_int_equal(setup_mode(f, &a), 0);
	/* Protection and paging off; unrelated bits stay. */
	assert_true(f->sregs.cr0 == KVMFS_CR0_ET);
	assert_true(f->sregs.cr4 == CR4_OSFXSR);
	assert_true(f->sregs.efer == EFER_SCE);
	assert_true(f->sregs.cr3 == 0);
	assert_int_equal(f->sregs.cs.selector, 0);
	assert_true(f->sregs.cs.base == 0);
	assert_true(f->sregs.cs.limit == 0xffff);
	assert_int_equal(f->sregs.cs.db, 0);
	assert_int_equal(f->sregs.cs.l, 0);
	assert_data_segments(&f->sregs, 0);
	assert_true(f->regs.rip == 0x7c00);
	assert_true(f->regs.rsp == 0x10000);
	assert_true(f->regs.rflags == 2);
	assert_true(f->regs.rax == 0);
	/* No page tables, so memory is left alone. */
	assert_untouched(f, POISON);
	fixture_free(f);

	/* Below 64 KiB of memory the stack starts at its top. */
	f = fixture_new(0x8000, 0);
	a = args(KVMFS_MODE_REAL);
	assert_int_equal(setup_mode(f, &a), 0);
	assert_true(f->regs.rsp == 0x8000);
	fixture_free(f);
}

static void test_protected(void **state)
{
	struct fixture *f = fixture_new(MIB4, POISON);
	struct kvmfs_mode_args a = args(KVMFS_MODE_PROTECTED);

	(void)state;
	a.entry = 0x1000;
	f->sregs.efer = EFER_NXE;
	assert_int_equal(setup_mode(f, &a), 0);
	assert_true(f->sregs.cr0 & KVMFS_CR0_PE);
	assert_false(f->sregs.cr0 & KVMFS_CR0_PG);
	assert_false(f->sregs.cr4 & (KVMFS_CR4_PAE | KVMFS_CR4_PSE));
	assert_true(f->sregs.efer == EFER_NXE);
	assert_flat32(&f->sregs.cs, 8, 11);
	assert_int_equal(f->sregs.cs.db, 1);
	assert_int_equal(f->sregs.cs.l, 0);
	assert_data_segments(&f->sregs, 16);
	assert_int_equal(f->sregs.ss.db, 1);
	assert_flat32(&f->sregs.ss, 16, 3);
	assert_true(f->regs.rip == 0x1000);
	assert_true(f->regs.rsp == MIB4);
	assert_untouched(f, POISON);
	fixture_free(f);
}

static void test_paged32(void **state)
{
	static const uint64_t sizes[] = { MIB2, MIB4, 2 * MIB4 + KIB4,
					  3 * MIB4 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct fixture *f = fixture_new(sizes[i], POISON);
		struct kvmfs_mode_args a = args(KVMFS_MODE_PAGED32);
		uint64_t pt;

		a.entry = 0x2000;
		f->sregs.efer = KVMFS_EFER_LME | KVMFS_EFER_LMA;
		f->sregs.cr4 = KVMFS_CR4_PAE;
		assert_int_equal(setup_mode(f, &a), 0);
		pt = f->sregs.cr3;
		/* One page directory, at the top page of memory. */
		assert_true(kvmfs_mode_pt_bytes(KVMFS_MODE_PAGED32, f->size) ==
			    KIB4);
		assert_true(pt == f->size - KIB4);
		assert_true(pt == kvmfs_mode_default_pt(KVMFS_MODE_PAGED32,
							f->size));
		assert_true(f->sregs.cr0 == CR0_PAGED);
		assert_true(f->sregs.cr4 & KVMFS_CR4_PSE);
		assert_false(f->sregs.cr4 & KVMFS_CR4_PAE);
		assert_false(f->sregs.efer &
			     (KVMFS_EFER_LME | KVMFS_EFER_LMA));
		assert_flat32(&f->sregs.cs, 8, 11);
		assert_int_equal(f->sregs.cs.db, 1);
		assert_int_equal(f->sregs.cs.l, 0);
		assert_data_segments(&f->sregs, 16);
		assert_true(f->regs.rip == 0x2000);
		/* The stack grows down from the tables, not into them. */
		assert_true(f->regs.rsp == pt);
		assert_identity(f, MIB4, KVMFS_PAGING_32);
		/* Only the page directory was written. */
		for (uint64_t k = 0; k < pt; k++)
			if (f->mem[k] != POISON)
				fail_msg("guest memory changed at 0x%llx",
					 (unsigned long long)k);
		fixture_free(f);
	}
}

static void test_long(void **state)
{
	static const uint64_t sizes[] = { 4 * KIB4, MIB2, MIB4,
					  4 * MIB2 + KIB4 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct fixture *f = fixture_new(sizes[i], POISON);
		struct kvmfs_mode_args a = args(KVMFS_MODE_LONG);
		uint64_t pt;

		a.entry = 0x1000;
		f->sregs.cr4 = KVMFS_CR4_PSE | CR4_OSFXSR;
		f->sregs.efer = EFER_SCE;
		assert_int_equal(setup_mode(f, &a), 0);
		pt = f->sregs.cr3;
		/* PML4, PDPT and one PD for up to 1 GiB, at the top. */
		assert_true(kvmfs_mode_pt_bytes(KVMFS_MODE_LONG, f->size) ==
			    3 * KIB4);
		assert_true(pt == f->size - 3 * KIB4);
		assert_true(pt == kvmfs_mode_default_pt(KVMFS_MODE_LONG,
							f->size));
		assert_true(f->sregs.cr0 == CR0_PAGED);
		assert_true(f->sregs.cr4 == (KVMFS_CR4_PAE | CR4_OSFXSR));
		assert_true(f->sregs.efer ==
			    (KVMFS_EFER_LME | KVMFS_EFER_LMA | EFER_SCE));
		/* 64-bit code: L set, D clear; data segments have no L. */
		assert_flat32(&f->sregs.cs, 8, 11);
		assert_int_equal(f->sregs.cs.l, 1);
		assert_int_equal(f->sregs.cs.db, 0);
		assert_data_segments(&f->sregs, 16);
		assert_int_equal(f->sregs.ds.db, 0);
		assert_true(f->regs.rip == 0x1000);
		assert_true(f->regs.rsp == pt);
		assert_true(f->regs.rflags == 2);
		assert_identity(f, MIB2, KVMFS_PAGING_4LEVEL);
		for (uint64_t k = 0; k < pt; k++)
			if (f->mem[k] != POISON)
				fail_msg("guest memory changed at 0x%llx",
					 (unsigned long long)k);
		fixture_free(f);
	}
}

static void test_explicit_pt(void **state)
{
	struct fixture *f = fixture_new(MIB4, 0);
	struct kvmfs_mode_args a = args(KVMFS_MODE_LONG);

	(void)state;
	a.pt_set = true;
	a.pt = 0x10000;
	assert_int_equal(setup_mode(f, &a), 0);
	assert_true(f->sregs.cr3 == 0x10000);
	assert_true(f->regs.rsp == 0x10000);
	assert_identity(f, MIB2, KVMFS_PAGING_4LEVEL);

	/* At GPA 0 and at the last place the tables fit. */
	a.pt = 0;
	memset(f->mem, 0, f->size);
	assert_int_equal(setup_mode(f, &a), 0);
	assert_true(f->sregs.cr3 == 0);
	assert_identity(f, MIB2, KVMFS_PAGING_4LEVEL);
	a.pt = f->size - 3 * KIB4;
	memset(f->mem, 0, f->size);
	assert_int_equal(setup_mode(f, &a), 0);
	assert_identity(f, MIB2, KVMFS_PAGING_4LEVEL);

	a = args(KVMFS_MODE_PAGED32);
	a.pt_set = true;
	a.pt = 0x3000;
	memset(f->mem, 0, f->size);
	assert_int_equal(setup_mode(f, &a), 0);
	assert_true(f->sregs.cr3 == 0x3000);
	assert_identity(f, MIB4, KVMFS_PAGING_32);
	fixture_free(f);
}

/* A refused setup leaves memory, sregs and regs exactly as they were. */
static void refused(struct fixture *f, const struct kvmfs_mode_args *a)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	memset(&f->sregs, 0x5a, sizeof(f->sregs));
	memset(&f->regs, 0x3c, sizeof(f->regs));
	memcpy(&sregs, &f->sregs, sizeof(sregs));
	memcpy(&regs, &f->regs, sizeof(regs));
	memset(f->mem, POISON, f->size);
	assert_int_equal(setup_mode(f, a), -EINVAL);
	assert_true(strlen(f->err) > 0);
	assert_memory_equal(&f->sregs, &sregs, sizeof(sregs));
	assert_memory_equal(&f->regs, &regs, sizeof(regs));
	assert_untouched(f, POISON);
}

static void test_too_small(void **state)
{
	struct fixture *f;
	struct kvmfs_mode_args a;

	(void)state;
	/* No memory at all: every mode refuses. */
	for (int m = KVMFS_MODE_REAL; m <= KVMFS_MODE_LONG; m++) {
		f = fixture_new(0, 0);
		a = args((enum kvmfs_mode)m);
		refused(f, &a);
		fixture_free(f);
	}
	/* Long mode needs three pages of tables and a page for the guest. */
	f = fixture_new(3 * KIB4, 0);
	a = args(KVMFS_MODE_LONG);
	refused(f, &a);
	assert_non_null(strstr(f->err, "memory too small for mode long"));
	fixture_free(f);
	f = fixture_new(4 * KIB4 - 1, 0);
	refused(f, &a);
	fixture_free(f);
	/* paged32 needs one page of tables and one for the guest. */
	f = fixture_new(KIB4, 0);
	a = args(KVMFS_MODE_PAGED32);
	refused(f, &a);
	fixture_free(f);
	f = fixture_new(2 * KIB4, 0);
	assert_int_equal(setup_mode(f, &a), 0);
	assert_identity(f, MIB4, KVMFS_PAGING_32);
	fixture_free(f);
}

static void test_bad_pt_and_entry(void **state)
{
	struct fixture *f = fixture_new(MIB2, 0);
	struct kvmfs_mode_args a = args(KVMFS_MODE_LONG);

	(void)state;
	a.pt_set = true;
	a.pt = 0x1001;
	refused(f, &a);
	assert_non_null(strstr(f->err, "not page aligned"));
	a.pt = 0x800;
	refused(f, &a);
	/* The tables would run past the end of memory. */
	a.pt = MIB2 - 2 * KIB4;
	refused(f, &a);
	a.pt = MIB2;
	refused(f, &a);
	a.pt = UINT64_MAX & ~(KIB4 - 1);
	refused(f, &a);
	a = args(KVMFS_MODE_PAGED32);
	a.pt_set = true;
	a.pt = MIB2;
	refused(f, &a);
	a.pt = 0x123;
	refused(f, &a);

	/* The entry point must be inside memory, in every mode. */
	for (int m = KVMFS_MODE_REAL; m <= KVMFS_MODE_LONG; m++) {
		a = args((enum kvmfs_mode)m);
		a.entry = MIB2;
		refused(f, &a);
		a.entry = UINT64_MAX;
		refused(f, &a);
		a.entry = MIB2 - 1;
		memset(f->mem, 0, f->size);
		assert_int_equal(setup_mode(f, &a), 0);
		assert_true(f->regs.rip == MIB2 - 1);
	}
	fixture_free(f);
}

/* Going back from long mode to real mode undoes paging completely. */
static void test_mode_switch(void **state)
{
	struct fixture *f = fixture_new(MIB2, 0);
	struct kvmfs_mode_args a = args(KVMFS_MODE_LONG);
	struct kvmfs_walk_cpu cpu;
	struct kvmfs_walk_result res;

	(void)state;
	assert_int_equal(setup_mode(f, &a), 0);
	a = args(KVMFS_MODE_REAL);
	assert_int_equal(setup_mode(f, &a), 0);
	assert_false(f->sregs.cr0 & (KVMFS_CR0_PE | KVMFS_CR0_PG));
	assert_false(f->sregs.cr4 & (KVMFS_CR4_PAE | KVMFS_CR4_PSE));
	assert_false(f->sregs.efer & (KVMFS_EFER_LME | KVMFS_EFER_LMA));
	assert_true(f->sregs.cr3 == 0);
	assert_int_equal(f->sregs.cs.l, 0);
	assert_true(f->sregs.cs.limit == 0xffff);
	cpu = walk_cpu(&f->sregs);
	assert_int_equal(kvmfs_walk(&cpu, f->mem, f->size, 0x1234, &res), 0);
	assert_int_equal(res.mode, KVMFS_PAGING_NONE);

	a = args(KVMFS_MODE_PAGED32);
	assert_int_equal(setup_mode(f, &a), 0);
	a = args(KVMFS_MODE_LONG);
	assert_int_equal(setup_mode(f, &a), 0);
	assert_false(f->sregs.cr4 & KVMFS_CR4_PSE);
	assert_identity(f, MIB2, KVMFS_PAGING_4LEVEL);
	fixture_free(f);
}

/* Long mode's tables have one PML4 entry, so they map 512 GiB and no
 * more: a bigger memory must be refused, not left half unmapped with the
 * stack and the tables themselves above the map.  The memory is a sparse
 * mapping; only the pages of the tables are ever touched. */
static void test_long_limit(void **state)
{
	const uint64_t size = 512 * GIB + MIB2;
	struct fixture f = { .size = 512 * GIB };
	struct kvmfs_mode_args a = args(KVMFS_MODE_LONG);
	struct kvmfs_walk_cpu cpu;
	struct kvmfs_walk_result res;
	void *mem;

	(void)state;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		printf("skipped: no 512 GiB sparse mapping on this host\n");
		return;
	}
	f.mem = mem;
	assert_int_equal(setup_mode(&f, &a), 0);
	assert_true(kvmfs_mode_pt_bytes(KVMFS_MODE_LONG, f.size) ==
		    514 * KIB4);
	cpu = walk_cpu(&f.sregs);
	/* The last chunk, the stack and the tables are mapped. */
	assert_int_equal(kvmfs_walk(&cpu, f.mem, f.size, f.size - 1, &res),
			 0);
	assert_int_equal(res.reason, KVMFS_WALK_OK);
	assert_true(res.phys == f.size - 1);
	assert_int_equal(kvmfs_walk(&cpu, f.mem, f.size, f.regs.rsp - 8,
				    &res),
			 0);
	assert_int_equal(res.reason, KVMFS_WALK_OK);
	assert_true(res.phys == f.regs.rsp - 8);

	f.size = size;
	memset(&f.sregs, 0, sizeof(f.sregs));
	assert_int_equal(setup_mode(&f, &a), -EINVAL);
	assert_string_equal(f.err, "long maps at most 512 GiB of memory");
	assert_true(f.sregs.cr3 == 0);
	munmap(mem, size);
}

static void test_pt_bytes(void **state)
{
	(void)state;
	assert_true(kvmfs_mode_pt_bytes(KVMFS_MODE_REAL, MIB2) == 0);
	assert_true(kvmfs_mode_pt_bytes(KVMFS_MODE_PROTECTED, MIB2) == 0);
	assert_true(kvmfs_mode_pt_bytes(KVMFS_MODE_PAGED32, 4 * GIB) == KIB4);
	assert_true(kvmfs_mode_pt_bytes(KVMFS_MODE_LONG, GIB) == 3 * KIB4);
	assert_true(kvmfs_mode_pt_bytes(KVMFS_MODE_LONG, GIB + 1) ==
		    4 * KIB4);
	assert_true(kvmfs_mode_pt_bytes(KVMFS_MODE_LONG, 4 * GIB) ==
		    6 * KIB4);
	assert_true(kvmfs_mode_default_pt(KVMFS_MODE_LONG, 4 * GIB) ==
		    4 * GIB - 6 * KIB4);
	assert_true(kvmfs_mode_default_pt(KVMFS_MODE_LONG, KIB4) == 0);
	assert_true(kvmfs_mode_default_pt(KVMFS_MODE_REAL, MIB2) == MIB2);
}

/* The text form round-trips through the parser ctl uses. */
static void test_format_parse(void **state)
{
	static const char *const lines[] = {
		"mode real",
		"mode protected entry=0x1000",
		"mode paged32 pt=0x3000",
		"mode long pt=0x0 entry=0xffffffffffffffff",
		"mode long",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct kvmfs_word w[8];
		struct kvmfs_mode_args a, b;
		char buf[128], err[128];
		int n;

		n = kvmfs_split_words(lines[i], strlen(lines[i]), w, 8);
		assert_true(n >= 2);
		memset(&a, 0x11, sizeof(a));
		assert_int_equal(kvmfs_mode_parse(w + 1, n - 1, &a, err,
						  sizeof(err)),
				 0);
		n = kvmfs_mode_format(&a, buf, sizeof(buf));
		assert_int_equal(n, (int)strlen(buf));
		assert_string_equal(buf, lines[i]);
		n = kvmfs_split_words(buf, strlen(buf), w, 8);
		memset(&b, 0x22, sizeof(b));
		assert_int_equal(kvmfs_mode_parse(w + 1, n - 1, &b, err,
						  sizeof(err)),
				 0);
		assert_int_equal(a.mode, b.mode);
		assert_int_equal(a.pt_set, b.pt_set);
		assert_true(a.pt == b.pt && a.entry == b.entry);
	}
	assert_string_equal(kvmfs_mode_name(KVMFS_MODE_PAGED32), "paged32");
	assert_string_equal(kvmfs_mode_name((enum kvmfs_mode)7), "?");
}

/* Each vCPU's CPUID names it: the initial APIC ID in leaf 1, the
 * x2APIC ID in every subleaf of 0xB and 0x1F, AMD's in 0x8000001E; the
 * other fields and leaves stay as KVM gave them. */
static void test_cpuid_apic_id(void **state)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[6];
	} t = { .c.nent = 6 };

	(void)state;
	t.e[0] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0xaa080800, .ecx = 0x80000000 };
	t.e[1] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0, .edx = 0 };
	t.e[2] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1, .edx = 0 };
	t.e[3] = (struct kvm_cpuid_entry2){ .function = 0x1f, .edx = 0 };
	t.e[4] = (struct kvm_cpuid_entry2){ .function = 0x8000001e, .eax = 0, .ebx = 7 };
	t.e[5] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x1234 };
	kvmfs_cpuid_set_apic_id(&t.c, 3);
	assert_int_equal(t.e[0].ebx, 0x03080800);
	assert_int_equal(t.e[0].ecx, 0x80000000);
	assert_int_equal(t.e[1].edx, 3);
	assert_int_equal(t.e[2].edx, 3);
	assert_int_equal(t.e[3].edx, 3);
	assert_int_equal(t.e[4].eax, 3);
	assert_int_equal(t.e[4].ebx, 7);
	assert_int_equal(t.e[5].eax, 0x1234);
	kvmfs_cpuid_set_apic_id(&t.c, 0);
	assert_int_equal(t.e[0].ebx, 0x00080800);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_protected),
		cmocka_unit_test(test_paged32),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_explicit_pt),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_bad_pt_and_entry),
		cmocka_unit_test(test_mode_switch),
		cmocka_unit_test(test_long_limit),
		cmocka_unit_test(test_pt_bytes),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_cpuid_apic_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
