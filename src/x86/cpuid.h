/* The CPUID a vCPU sees: KVM's supported CPUID, which is one table for
 * the whole VM, with the fields that name the CPU itself set to its own
 * APIC ID (a vCPU's ID under KVM), as firmware would find them on a PC.
 * Pure: the unit tests call it. */
#ifndef KVMFS_X86_CPUID_H
#define KVMFS_X86_CPUID_H

#include <linux/kvm.h>

/* In place: leaf 1 EBX[31:24] (initial APIC ID), leaves 0xB and 0x1F EDX
 * (x2APIC ID, every subleaf), leaf 0x8000001E EAX (AMD's extended APIC
 * ID).  Entries the table does not have stay absent. */
void kvmfs_cpuid_set_apic_id(struct kvm_cpuid2 *c, unsigned id);

#endif
