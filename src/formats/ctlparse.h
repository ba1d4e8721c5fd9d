/* Parsers of the command files: ctl commands and translate's address
 * lists.  Pure: text in, a list of checked operations out; applying them
 * is ctl.c's job. */
#ifndef KVMFS_CTLPARSE_H
#define KVMFS_CTLPARSE_H

#include "x86/modes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kvmfs_ctl_verb {
	KVMFS_CTL_MEM,
	KVMFS_CTL_CONSOLE,
	KVMFS_CTL_TIMEOUT,
	KVMFS_CTL_MODE,
	KVMFS_CTL_RESET,
	KVMFS_CTL_STOP,
	KVMFS_CTL_STEP,
	KVMFS_CTL_RUN,
	KVMFS_CTL_IRQCHIP,
	KVMFS_CTL_PIO,
	KVMFS_CTL_MMIO,
	KVMFS_CTL_HIGHMEM,
	KVMFS_CTL_CPUS,
};

struct kvmfs_ctl_op {
	enum kvmfs_ctl_verb verb;
	uint64_t num;			/* mem, highmem, console: bytes; timeout: ms;
					   step: instructions; cpus: vCPUs */
	struct kvmfs_mode_args mode;
	uint64_t first, last;		/* pio, mmio: the range, inclusive */
	bool ignore;			/* pio, mmio: ignore (else stop) */
	unsigned line;			/* where it was in the text, from 1 */
};

#define KVMFS_CTL_MAX_OPS 256
#define KVMFS_CTL_CPUS_MAX 64
#define KVMFS_CONSOLE_MIN 16
#define KVMFS_CONSOLE_MAX (64u << 20)
#define KVMFS_TIMEOUT_MAX 86400000u
#define KVMFS_STEP_MAX 4096u

/* Parse one command per line (blank lines skipped) into ops[0..max).
 * Every line is checked before the caller applies any.  Returns 0 and
 * *n >= 1, or -EINVAL with "line N: reason" in err. */
int kvmfs_ctl_parse(const char *text, size_t len, struct kvmfs_ctl_op *ops,
		    size_t max, size_t *n, char *err, size_t errlen);

/* Addresses, one or more per line, decimal or 0x-hex: at least one, at
 * most max.  0 or -EINVAL with a reason. */
int kvmfs_addr_list_parse(const char *text, size_t len, uint64_t *out,
			  size_t max, size_t *n, char *err, size_t errlen);

#endif
