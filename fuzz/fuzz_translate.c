/* Fuzz target: translate's address lists (kvmfs_addr_list_parse).  The
 * first byte is the capacity of the output array, which is allocated to
 * exactly that size so ASan catches a write past it; the rest is the
 * write.  An accepted list prints back as hex and parses to itself. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "formats/ctlparse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t *out, *again;
	char *text;
	char err[256];
	size_t max, n = 0xdead, n2 = 0, len = 0;
	int ret;

	if (size < 1)
		return 0;
	max = data[0];
	out = malloc(max * sizeof(*out) + 1);
	again = malloc(max * sizeof(*again) + 1);
	/* "0x" + 16 digits + a separator per address. */
	text = malloc(max * 19 + 1);
	fuzz_require(out && again && text);
	memset(err, 'X', sizeof(err));

	ret = kvmfs_addr_list_parse((const char *)data + 1, size - 1, out, max,
				    &n, err, sizeof(err));
	fuzz_require(ret == 0 || ret == -EINVAL);
	if (ret) {
		fuzz_require(n == 0xdead);
		fuzz_require_reason(err, sizeof(err), 1);
		goto out;
	}
	fuzz_require(n >= 1 && n <= max);
	/* Up to 64 a line, as the parser allows. */
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, max * 19 + 1 - len,
					"0x%" PRIx64 "%c", out[i],
					i % 64 == 63 ? '\n' : ' ');
	ret = kvmfs_addr_list_parse(text, len, again, max, &n2, err,
				    sizeof(err));
	fuzz_require(ret == 0 && n2 == n);
	fuzz_require(memcmp(out, again, n * sizeof(*out)) == 0);
out:
	free(out);
	free(again);
	free(text);
	return 0;
}
