/* Fuzz target: ctl writes (kvmfs_ctl_parse).  A refusal gives a printable
 * reason and no count; an accepted write holds 1 to KVMFS_CTL_MAX_OPS
 * commands whose arguments are inside the limits ctl.c relies on, and
 * every mode command prints back to text that parses to the same
 * arguments (reading ctl prints the commands that recreate the VM). */
#include <errno.h>
#include <string.h>

#include "formats/ctlparse.h"
#include "fuzz.h"

static void check_mode(const struct kvmfs_mode_args *a)
{
	struct kvmfs_word w[8];
	struct kvmfs_mode_args b;
	char text[128], err[256];
	int n;

	fuzz_require(a->mode <= KVMFS_MODE_LONG);
	if (a->pt_set)
		fuzz_require(a->mode == KVMFS_MODE_PAGED32 ||
			     a->mode == KVMFS_MODE_LONG);
	else
		fuzz_require(a->pt == 0);

	n = kvmfs_mode_format(a, text, sizeof(text));
	fuzz_require(n > 0 && (size_t)n < sizeof(text));
	n = kvmfs_split_words(text, (size_t)n, w, 8);
	fuzz_require(n >= 2 && kvmfs_word_is(&w[0], "mode"));
	memset(&b, 0x5a, sizeof(b));
	fuzz_require(kvmfs_mode_parse(w + 1, n - 1, &b, err, sizeof(err)) == 0);
	fuzz_require(b.mode == a->mode && b.pt_set == a->pt_set &&
		     b.pt == a->pt && b.entry == a->entry);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly the array ctl.c passes, on the heap so ASan sees its end. */
	struct kvmfs_ctl_op *ops = calloc(KVMFS_CTL_MAX_OPS, sizeof(*ops));
	char err[256];
	size_t n = 0xdead;
	int ret;

	fuzz_require(ops);
	memset(err, 'X', sizeof(err));
	ret = kvmfs_ctl_parse((const char *)data, size, ops, KVMFS_CTL_MAX_OPS,
			      &n, err, sizeof(err));
	fuzz_require(ret == 0 || ret == -EINVAL);
	if (ret) {
		fuzz_require(n == 0xdead);
		fuzz_require_reason(err, sizeof(err), 1);
		goto out;
	}
	fuzz_require(n >= 1 && n <= KVMFS_CTL_MAX_OPS);
	for (size_t i = 0; i < n; i++) {
		const struct kvmfs_ctl_op *op = &ops[i];

		switch (op->verb) {
		case KVMFS_CTL_MEM:
			fuzz_require(op->num >= 4096 && op->num % 4096 == 0);
			break;
		case KVMFS_CTL_CONSOLE:
			fuzz_require(op->num >= KVMFS_CONSOLE_MIN &&
				     op->num <= KVMFS_CONSOLE_MAX);
			break;
		case KVMFS_CTL_TIMEOUT:
			fuzz_require(op->num <= KVMFS_TIMEOUT_MAX);
			break;
		case KVMFS_CTL_MODE:
			check_mode(&op->mode);
			break;
		case KVMFS_CTL_STEP:
			fuzz_require(op->num >= 1 && op->num <= KVMFS_STEP_MAX);
			break;
		case KVMFS_CTL_RESET:
		case KVMFS_CTL_STOP:
		case KVMFS_CTL_RUN:
			fuzz_require(op->num == 0);
			break;
		default:
			fuzz_require(!"unknown verb");
		}
	}
out:
	free(ops);
	return 0;
}
