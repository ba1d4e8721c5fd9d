/* What every fuzz target shares: the libFuzzer entry point, and the check
 * that turns a broken invariant into abort() so that libFuzzer (or the
 * plain replay driver) reports it as a crash with the input saved. */
#ifndef KVMFS_FUZZ_H
#define KVMFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_require(cond)                                                 \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",   \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

/* A reason handed back to a client: NUL-terminated inside its buffer, one
 * line, printable ASCII, and non-empty when required. */
static inline void fuzz_require_reason(const char *err, size_t cap,
				       int nonempty)
{
	size_t i;

	for (i = 0; i < cap && err[i]; i++)
		fuzz_require(err[i] >= 0x20 && err[i] < 0x7f);
	fuzz_require(i < cap);
	if (nonempty)
		fuzz_require(i > 0);
}

#endif
