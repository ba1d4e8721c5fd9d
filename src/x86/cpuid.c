/* A vCPU's own fields of CPUID (cpuid.h).  Without them every vCPU would
 * say it is CPU 0: KVM_GET_SUPPORTED_CPUID answers for the host, and KVM
 * does not rewrite these per vCPU. */
#include "x86/cpuid.h"

void kvmfs_cpuid_set_apic_id(struct kvm_cpuid2 *c, unsigned id)
{
	for (__u32 i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x00ffffff) | (id & 0xff) << 24;
			break;
		case 0xb:
		case 0x1f:
			e->edx = id;
			break;
		case 0x8000001e:
			e->eax = id;
			break;
		}
	}
}
