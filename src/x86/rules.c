/* x86 state rules (rules.h).  The rules are those of the Intel SDM
 * (vol. 3, 2.5 and 9.8) and AMD's APM (vol. 2, 14.6), in the order KVM's
 * kvm_is_valid_sregs and kvm_set_cr0/4 apply them. */
#include "x86/rules.h"

#include "x86/modes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR4_PCIDE (1ull << 17)
/* CR4 bits no CPU defines (15, 19, 25 and up). */
#define CR4_RESERVED (~((1ull << 25) - 1) | 1ull << 15 | 1ull << 19)
/* EFER: SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE, AUTOIBRS. */
#define EFER_KNOWN (1ull << 0 | 0xffull << 8 | 1ull << 21)

static int broken(char *err, size_t errlen, const char *rule)
{
	snprintf(err, errlen, "%s", rule);
	return -EINVAL;
}

int kvmfs_sregs_rules(const struct kvm_sregs *s, char *err, size_t errlen)
{
	bool lme = s->efer & KVMFS_EFER_LME, lma = s->efer & KVMFS_EFER_LMA;
	bool pg = s->cr0 & KVMFS_CR0_PG, pae = s->cr4 & KVMFS_CR4_PAE;

	if (s->cr0 >> 32)
		return broken(err, errlen, "cr0 bits 63-32 are reserved and must be 0");
	if (pg && !(s->cr0 & KVMFS_CR0_PE))
		return broken(err, errlen,
			      "paging (cr0 bit 31, PG) needs protected mode (cr0 bit 0, PE)");
	if ((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD))
		return broken(err, errlen,
			      "cr0 bit 29 (NW) needs bit 30 (CD): not-write-through without cache-disable is invalid");
	if (s->cr4 & CR4_RESERVED) {
		snprintf(err, errlen, "cr4 bits 0x%" PRIx64 " are reserved",
			 (uint64_t)(s->cr4 & CR4_RESERVED));
		return -EINVAL;
	}
	if (s->efer & ~EFER_KNOWN) {
		snprintf(err, errlen,
			 "efer bits 0x%" PRIx64 " are reserved (known: SCE 0, LME 8, LMA 10, NXE 11, SVME 12, FFXSR 14)",
			 (uint64_t)(s->efer & ~EFER_KNOWN));
		return -EINVAL;
	}
	if (lme && pg) {
		if (!pae)
			return broken(err, errlen,
				      "long mode (efer LME with cr0 PG) needs PAE paging: set cr4 bit 5 (PAE)");
		if (!lma)
			return broken(err, errlen,
				      "long mode (efer LME with cr0 PG) must show as active: set efer bit 10 (LMA), e.g. efer 0x500");
	} else {
		if (lma)
			return broken(err, errlen,
				      "efer bit 10 (LMA) says long mode is active, which needs efer bit 8 (LME), cr0 bit 31 (PG) and cr4 bit 5 (PAE); 'mode long' in ctl sets them all");
		if (s->cs.l)
			return broken(err, errlen,
				      "cs.l 1 (64-bit code) needs long mode: efer LME and LMA (0x500), cr0 PG, cr4 PAE; 'mode long' in ctl sets them all");
		if (s->cr4 & CR4_PCIDE)
			return broken(err, errlen, "cr4 bit 17 (PCIDE) needs long mode");
	}
	if (s->cs.l && s->cs.db)
		return broken(err, errlen, "cs.l 1 with cs.db 1 is reserved: 64-bit code has cs.db 0");
	return 0;
}

int kvmfs_run_start_check(const struct kvm_sregs *s, uint64_t rip,
			  uint64_t memsize, char *err, size_t errlen)
{
	uint64_t at;

	if (s->cr0 & KVMFS_CR0_PG)
		return 0;
	/* Real mode fetches at cs.base + ip (16 bits), protected mode
	 * without paging at cs.base + eip, both physical. */
	if (s->cr0 & KVMFS_CR0_PE)
		at = (s->cs.base + (rip & 0xffffffff)) & 0xffffffff;
	else
		at = s->cs.base + (rip & 0xffff);
	if (at < memsize)
		return 0;
	if (s->cs.base == 0xffff0000 && rip == 0xfff0) {
		snprintf(err, errlen,
			 "run: the vCPU is at the reset vector 0xfffffff0 (cs.base 0xffff0000 + rip 0xfff0), outside memory (0x%" PRIx64 " bytes): set a mode first (echo 'mode real' > ctl)",
			 memsize);
		return -EINVAL;
	}
	snprintf(err, errlen,
		 "run: the first instruction, at cs.base + rip = 0x%" PRIx64 ", is outside memory (0x%" PRIx64 " bytes)",
		 at, memsize);
	return -EINVAL;
}

static const struct {
	const char *name;
	size_t off;
} watched[] = {
	{ "cr0", offsetof(struct kvm_sregs, cr0) },
	{ "cr3", offsetof(struct kvm_sregs, cr3) },
	{ "cr4", offsetof(struct kvm_sregs, cr4) },
	{ "cr8", offsetof(struct kvm_sregs, cr8) },
	{ "efer", offsetof(struct kvm_sregs, efer) },
	{ "apic_base", offsetof(struct kvm_sregs, apic_base) },
};

void kvmfs_sregs_changes(const struct kvm_sregs *old,
			 const struct kvm_sregs *want, char *out, size_t cap)
{
	size_t n = 0;

	if (cap)
		out[0] = 0;
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
		const uint64_t *a = (const void *)((const char *)old + watched[i].off);
		const uint64_t *b = (const void *)((const char *)want + watched[i].off);
		int w;

		if (*a == *b || n >= cap)
			continue;
		w = snprintf(out + n, cap - n, "%s%s 0x%" PRIx64 " -> 0x%" PRIx64,
			     n ? ", " : "", watched[i].name, *a, *b);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}
