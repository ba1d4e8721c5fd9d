/* Run answers: checking what the guest left in struct kvm_run and turning
 * an exit into the one line a `run` read returns.  Pure: works on any
 * struct kvm_run in memory, so unit tests can forge one. */
#ifndef KVMFS_EXITFMT_H
#define KVMFS_EXITFMT_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

/* Check every guest-controlled field the server will use: for IO, size is
 * 1, 2 or 4, count >= 1, and data_offset + size * count lies inside the
 * mapping of run_size bytes (no overflow); for MMIO, len is 1..8.
 * Returns 0 or -EIO with a reason in err. */
int kvmfs_exit_check(const struct kvm_run *run, size_t run_size, char *err,
		     size_t errlen);

/* Name of an exit reason ("hlt", "io", ...), or NULL if unknown. */
const char *kvmfs_exit_name(uint32_t reason);

/* Format the answer for an exit that stops the vCPU, e.g.
 * "io out port=0x0010 size=1 count=1 data=0x42 rip=0x...".  The run must
 * have passed kvmfs_exit_check.  Returns the length (without NUL). */
int kvmfs_exit_format(const struct kvm_run *run, uint64_t rip, char *buf,
		      size_t cap);

/* Read the little-endian value of n (<= 8) bytes. */
uint64_t kvmfs_le_value(const uint8_t *p, unsigned n);

#endif
