/* The consistency rules of x86 control registers and segments that KVM
 * enforces with a bare EINVAL (KVM_SET_SREGS), checked first so that a
 * refusal can name the rule broken, and where a run would start.  Pure:
 * the vm layer calls it before it hands a state to KVM. */
#ifndef KVMFS_X86_RULES_H
#define KVMFS_X86_RULES_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

/* 0, or -EINVAL with the first rule S breaks and how to mend it. */
int kvmfs_sregs_rules(const struct kvm_sregs *s, char *err, size_t errlen);

/* Where the first instruction of a run is fetched from, when paging is
 * off (the linear address is the physical one): 0 if it is inside
 * MEMSIZE bytes of memory or paging is on, else -EINVAL saying so (and,
 * at the reset vector, that no mode was set). */
int kvmfs_run_start_check(const struct kvm_sregs *s, uint64_t rip,
			  uint64_t memsize, char *err, size_t errlen);

/* After KVM refused a state that passed the rules: the fields whose
 * values changed from OLD to WANT among cr0, cr3, cr4, cr8, efer and
 * apic_base, as "cr4 0x0 -> 0x1000000", comma-separated; empty if none. */
void kvmfs_sregs_changes(const struct kvm_sregs *old,
			 const struct kvm_sregs *want, char *out, size_t cap);

#endif
