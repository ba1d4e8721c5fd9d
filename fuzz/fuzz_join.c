/* Fuzz target and property test: writes joined into transactions
 * (src/lib/join.h).  The input is a sequence of writes, each a length
 * byte (the top bit makes it a large write of 64 KiB more, to reach the
 * limit) and that many bytes; an offset is not part of the input
 * because a write's offset does not matter.  The properties, after every
 * write and at the close:
 *   - a transaction is exactly the writes since the previous one ended,
 *     whole: no write is ever split between two transactions, none is
 *     applied in part, nothing is lost or applied twice;
 *   - a transaction ends a line, or is one write without any newline, or
 *     is what the close finds held;
 *   - what is held never passes KVMFS_JOIN_MAX, and a refusal drops it. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "lib/join.h"

static void check_transaction(const GString *t, const GString *since,
			      unsigned writes, bool at_close)
{
	fuzz_require(t->len == since->len);
	fuzz_require(memcmp(t->str, since->str, t->len) == 0);
	if (at_close)
		return;
	fuzz_require(t->str[t->len - 1] == '\n' ||
		     (writes == 1 && !memchr(t->str, '\n', t->len)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmfs_join j = { NULL };
	GString *since = g_string_new(NULL); /* writes since the last transaction */
	unsigned writes = 0;
	static char big[64 * 1024 + 128];
	size_t i = 0;

	while (i < size) {
		size_t len = data[i] & 0x7f, n;
		bool large = data[i] & 0x80;
		const char *buf;
		GString *t;
		int r;

		i++;
		n = len < size - i ? len : size - i;
		if (large) {
			/* 64 KiB of 'a', then the chunk: a long line. */
			memset(big, 'a', sizeof(big));
			memcpy(big + 64 * 1024, data + i, n);
			buf = big;
			len = 64 * 1024 + n;
		} else {
			buf = (const char *)data + i;
			len = n;
		}
		i += n;

		r = kvmfs_join_write(&j, buf, len, &t);
		fuzz_require(r == 0 || r == -EFBIG);
		if (r == -EFBIG) {
			fuzz_require(!t && !j.held);
			g_string_truncate(since, 0);
			writes = 0;
			continue;
		}
		if (!len) {
			fuzz_require(!t);
			continue;
		}
		g_string_append_len(since, buf, (gssize)len);
		writes++;
		if (t) {
			fuzz_require(!j.held);
			check_transaction(t, since, writes, false);
			g_string_free(t, TRUE);
			g_string_truncate(since, 0);
			writes = 0;
		} else {
			/* Held: all of it, and it is unfinished. */
			fuzz_require(j.held && j.held->len == since->len);
			fuzz_require(j.held->len <= KVMFS_JOIN_MAX);
			fuzz_require(j.held->str[j.held->len - 1] != '\n');
		}
	}
	{
		GString *t = kvmfs_join_flush(&j);

		fuzz_require(!j.held);
		if (t) {
			check_transaction(t, since, writes, true);
			g_string_free(t, TRUE);
		} else {
			fuzz_require(since->len == 0);
		}
	}
	kvmfs_join_free(&j);
	g_string_free(since, TRUE);
	return 0;
}
