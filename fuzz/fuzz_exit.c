/* Fuzz target: run answers.  The input is rip (8 bytes), the answer
 * buffer's capacity (2 bytes, at most 511) and then the bytes of a forged
 * struct kvm_run mapping of RUN_SIZE bytes (zero-padded or cut).  Like
 * vcpu.c, it formats only a run that kvmfs_exit_check accepted; both
 * buffers are allocated to exactly their size, so ASan reports a read
 * past the mapping or a write past the answer. */
#include <errno.h>
#include <string.h>

#include "formats/exitfmt.h"
#include "fuzz.h"

/* What KVM_GET_VCPU_MMAP_SIZE returns on x86: kvm_run, the PIO data
 * page and the coalesced MMIO ring. */
#define RUN_SIZE 12288

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvm_run *run;
	uint64_t rip = 0;
	size_t cap;
	char err[128];
	char *buf;
	int ret, n;

	if (size < 10)
		return 0;
	for (int i = 7; i >= 0; i--)
		rip = rip << 8 | data[i];
	cap = (data[8] | (size_t)data[9] << 8) % 512;
	data += 10;
	size -= 10;

	run = calloc(1, RUN_SIZE);
	fuzz_require(run);
	memcpy(run, data, size < RUN_SIZE ? size : RUN_SIZE);

	memset(err, 'X', sizeof(err));
	ret = kvmfs_exit_check(run, RUN_SIZE, err, sizeof(err));
	fuzz_require(ret == 0 || ret == -EIO);
	if (ret) {
		fuzz_require_reason(err, sizeof(err), 1);
		goto out;
	}
	/* What the check promised, restated. */
	if (run->exit_reason == KVM_EXIT_IO) {
		fuzz_require(run->io.size == 1 || run->io.size == 2 ||
			     run->io.size == 4);
		fuzz_require(run->io.count >= 1);
		fuzz_require((unsigned __int128)run->io.data_offset +
				     (unsigned __int128)run->io.size *
					     run->io.count <=
			     RUN_SIZE);
	} else if (run->exit_reason == KVM_EXIT_MMIO) {
		fuzz_require(run->mmio.len >= 1 && run->mmio.len <= 8);
	}

	buf = malloc(cap ? cap : 1);
	fuzz_require(buf);
	n = kvmfs_exit_format(run, rip, buf, cap);
	if (cap == 0) {
		fuzz_require(n == 0);
	} else {
		fuzz_require(n >= 0 && (size_t)n < cap);
		fuzz_require(buf[n] == '\0' && strlen(buf) == (size_t)n);
		fuzz_require_reason(buf, cap, 0);
		/* A roomy buffer holds the whole answer, rip included. */
		if (cap >= 500)
			fuzz_require(strstr(buf, " rip=0x") != NULL);
	}
	free(buf);
out:
	free(run);
	return 0;
}
