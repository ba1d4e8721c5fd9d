/* Fuzz target: the sregs file (struct kvm_sregs through
 * kvmfs_sregs_table), parse, print and parse again; see fuzz_table.h for
 * the invariants. */
#include "fuzz_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	table_round_trip(&kvmfs_sregs_table, sizeof(struct kvm_sregs), data,
			 size);
	return 0;
}
