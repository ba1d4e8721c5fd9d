/* ctl `mode`: segment caches, control registers and identity page tables
 * for real, 32-bit protected, 32-bit paged and 64-bit long mode, the way
 * kvm-hello-world sets them up, plus where the page tables live: the top
 * of memory by default, so a guest loaded at GPA 0 keeps its space, and
 * the stack starts right below them. */
#include "x86/modes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const mode_names[] = {
	[KVMFS_MODE_REAL] = "real",
	[KVMFS_MODE_PROTECTED] = "protected",
	[KVMFS_MODE_PAGED32] = "paged32",
	[KVMFS_MODE_LONG] = "long",
};

const char *kvmfs_mode_name(enum kvmfs_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "?";
}


int kvmfs_mode_parse(const struct kvmfs_word *w, int n,
		     struct kvmfs_mode_args *a, char *err, size_t errlen)
{
	struct kvmfs_mode_args r = { 0 };
	bool entry_set = false;
	char q[KVMFS_QUOTE_BUF];
	int m;

	if (n < 1) {
		snprintf(err, errlen, "mode needs one of real, protected, paged32, long");
		return -EINVAL;
	}
	for (m = 0; m < 4; m++)
		if (kvmfs_word_is(&w[0], mode_names[m]))
			break;
	if (m == 4) {
		kvmfs_quote(w[0].s, w[0].len, q);
		snprintf(err, errlen, "unknown mode '%s' (real, protected, paged32, long)",
			 q);
		return -EINVAL;
	}
	r.mode = m;
	for (int i = 1; i < n; i++) {
		const char *s = w[i].s;
		size_t len = w[i].len;
		uint64_t v;

		if (len > 3 && !memcmp(s, "pt=", 3) && !r.pt_set) {
			if (kvmfs_parse_u64(s + 3, len - 3, &v) < 0)
				goto bad;
			if (r.mode == KVMFS_MODE_REAL || r.mode == KVMFS_MODE_PROTECTED) {
				snprintf(err, errlen, "pt= is only for paged32 and long");
				return -EINVAL;
			}
			r.pt = v;
			r.pt_set = true;
		} else if (len > 6 && !memcmp(s, "entry=", 6) && !entry_set) {
			if (kvmfs_parse_u64(s + 6, len - 6, &v) < 0)
				goto bad;
			r.entry = v;
			entry_set = true;
		} else {
			goto bad;
		}
		continue;
bad:
		kvmfs_quote(s, len, q);
		snprintf(err, errlen, "bad mode option '%s' (pt=ADDR, entry=ADDR)", q);
		return -EINVAL;
	}
	*a = r;
	return 0;
}

int kvmfs_mode_format(const struct kvmfs_mode_args *a, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "mode %s", kvmfs_mode_name(a->mode));

	if (a->pt_set && n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - n, " pt=0x%" PRIx64, a->pt);
	if (a->entry && n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - n, " entry=0x%" PRIx64, a->entry);
	return n;
}

#define GIB (1ull << 30)
#define MIB2 (2ull << 20)
#define MIB4 (4ull << 20)
#define PAGE 4096ull

uint64_t kvmfs_mode_pt_bytes(enum kvmfs_mode m, uint64_t memsize)
{
	switch (m) {
	case KVMFS_MODE_PAGED32:
		return PAGE;	/* one page directory of 4 MiB pages */
	case KVMFS_MODE_LONG:
		/* PML4, PDPT, one PD per GiB (2 MiB pages) */
		return (2 + (memsize + GIB - 1) / GIB) * PAGE;
	default:
		return 0;
	}
}

uint64_t kvmfs_mode_default_pt(enum kvmfs_mode m, uint64_t memsize)
{
	uint64_t need = kvmfs_mode_pt_bytes(m, memsize);

	return need <= memsize ? (memsize - need) & ~(PAGE - 1) : 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type,
		    bool flat32, bool longmode)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	if (flat32) {
		s->limit = 0xffffffff;
		s->g = 1;
		s->db = !longmode;
		s->l = longmode && type >= 8;
	} else {
		s->limit = 0xffff;
	}
}

static void set_segments(struct kvm_sregs *s, uint16_t code, uint16_t data,
			 bool flat32, bool longmode)
{
	set_seg(&s->cs, code, 11, flat32, longmode);
	set_seg(&s->ds, data, 3, flat32, longmode);
	s->es = s->fs = s->gs = s->ss = s->ds;
}

int kvmfs_mode_check(const struct kvmfs_mode_args *a, uint64_t memsize,
		     char *err, size_t errlen)
{
	uint64_t need = kvmfs_mode_pt_bytes(a->mode, memsize);
	uint64_t pt = a->pt_set ? a->pt : kvmfs_mode_default_pt(a->mode, memsize);

	if (memsize < PAGE) {
		snprintf(err, errlen, "no memory yet (echo 'mem SIZE' > ctl first)");
		return -EINVAL;
	}
	if (a->entry >= memsize) {
		snprintf(err, errlen, "entry 0x%" PRIx64 " is outside memory (0x%" PRIx64 " bytes)",
			 a->entry, memsize);
		return -EINVAL;
	}
	if (need) {
		if (pt & (PAGE - 1)) {
			snprintf(err, errlen, "pt=0x%" PRIx64 " is not page aligned", pt);
			return -EINVAL;
		}
		if (need + PAGE > memsize || pt > memsize - need) {
			snprintf(err, errlen,
				 "memory too small for mode %s: its page tables need 0x%" PRIx64
				 " bytes at 0x%" PRIx64 " plus a page for the guest",
				 kvmfs_mode_name(a->mode), need, pt);
			return -EINVAL;
		}
		if (a->mode == KVMFS_MODE_PAGED32 && pt + need > 0x100000000ull) {
			snprintf(err, errlen, "pt=0x%" PRIx64 " must be below 4 GiB", pt);
			return -EINVAL;
		}
		if (a->mode == KVMFS_MODE_PAGED32 && memsize > 0x100000000ull) {
			snprintf(err, errlen, "paged32 maps at most 4 GiB of memory");
			return -EINVAL;
		}
		/* One PML4 entry and one PDPT page: 512 GiB. */
		if (a->mode == KVMFS_MODE_LONG && memsize > 512 * GIB) {
			snprintf(err, errlen, "long maps at most 512 GiB of memory");
			return -EINVAL;
		}
	}
	return 0;
}

int kvmfs_mode_setup(const struct kvmfs_mode_args *a, uint8_t *mem,
		     uint64_t memsize, struct kvm_sregs *sregs,
		     struct kvm_regs *regs, char *err, size_t errlen)
{
	uint64_t need = kvmfs_mode_pt_bytes(a->mode, memsize);
	uint64_t pt = a->pt_set ? a->pt : kvmfs_mode_default_pt(a->mode, memsize);
	uint64_t top;
	const uint64_t cr0_paged = KVMFS_CR0_PE | KVMFS_CR0_MP | KVMFS_CR0_ET |
				   KVMFS_CR0_NE | KVMFS_CR0_WP | KVMFS_CR0_AM |
				   KVMFS_CR0_PG;
	int r = kvmfs_mode_check(a, memsize, err, errlen);

	if (r < 0)
		return r;
	top = need ? pt : memsize;

	memset(regs, 0, sizeof(*regs));
	regs->rflags = 2;
	regs->rip = a->entry;
	sregs->cr0 &= ~(KVMFS_CR0_PE | KVMFS_CR0_PG);
	sregs->cr4 &= ~(KVMFS_CR4_PAE | KVMFS_CR4_PSE);
	sregs->efer &= ~(KVMFS_EFER_LME | KVMFS_EFER_LMA);
	sregs->cr3 = 0;

	switch (a->mode) {
	case KVMFS_MODE_REAL:
		set_segments(sregs, 0, 0, false, false);
		regs->rsp = top < 0x10000 ? top : 0x10000;
		break;
	case KVMFS_MODE_PROTECTED:
		set_segments(sregs, 8, 16, true, false);
		sregs->cr0 |= KVMFS_CR0_PE;
		regs->rsp = top < 0x100000000ull ? top : 0x100000000ull;
		break;
	case KVMFS_MODE_PAGED32: {
		uint64_t maps = (memsize + MIB4 - 1) / MIB4;

		memset(mem + pt, 0, PAGE);
		for (uint64_t i = 0; i < maps && i < 1024; i++)
			put32(mem + pt + i * 4,
			      (uint32_t)(i * MIB4) | 0x87); /* P RW US PS */
		set_segments(sregs, 8, 16, true, false);
		sregs->cr3 = pt;
		sregs->cr4 |= KVMFS_CR4_PSE;
#ifdef KVMFS_TEST_BREAK_PAGED32
		/* Only in the test build kvmfs-broken-paged32: without PSE the
		 * 4 MiB entries point at page tables that do not exist.  The
		 * full-KVM lane must fail with it (tests/fullkvm/canfail.sh). */
		sregs->cr4 &= ~KVMFS_CR4_PSE;
#endif
		sregs->cr0 = cr0_paged;
		regs->rsp = top;
		break;
	}
	case KVMFS_MODE_LONG: {
		uint64_t pml4 = pt, pdpt = pt + PAGE, pd = pt + 2 * PAGE;
		uint64_t npd = (memsize + GIB - 1) / GIB;

		memset(mem + pt, 0, need);
		put64(mem + pml4, pdpt | 0x7);	/* P RW US */
		for (uint64_t i = 0; i < npd; i++)
			put64(mem + pdpt + i * 8, (pd + i * PAGE) | 0x7);
		for (uint64_t i = 0; i < (memsize + MIB2 - 1) / MIB2; i++)
			put64(mem + pd + i * 8, (i * MIB2) | 0x87);
		set_segments(sregs, 8, 16, true, true);
		sregs->cr3 = pml4;
		sregs->cr4 |= KVMFS_CR4_PAE;
		sregs->cr0 = cr0_paged;
		sregs->efer |= KVMFS_EFER_LME | KVMFS_EFER_LMA;
		regs->rsp = top;
		break;
	}
	}
	return 0;
}
