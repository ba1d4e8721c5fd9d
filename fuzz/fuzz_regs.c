/* Fuzz target: the regs file (struct kvm_regs through kvmfs_regs_table),
 * parse, print and parse again; see fuzz_table.h for the invariants. */
#include "fuzz_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	table_round_trip(&kvmfs_regs_table, sizeof(struct kvm_regs), data,
			 size);
	return 0;
}
