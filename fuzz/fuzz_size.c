/* Fuzz target: the lexical rules under every file (kvmfs_parse_u64,
 * kvmfs_parse_size, kvmfs_vm_name_valid), each checked against a second,
 * deliberately naive implementation of text.h's contract: 128-bit
 * arithmetic instead of overflow checks, and the name rule spelled out
 * character by character.  Any disagreement aborts. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "lib/text.h"

typedef unsigned __int128 u128;

/* 0 and *out, -EINVAL (junk wins over size), or -ERANGE. */
static int ref_u64(const uint8_t *s, size_t len, u128 *out)
{
	unsigned base = 10;
	u128 v = 0;
	int big = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -EINVAL;
		if (!big)
			v = v * base + d;
		if (v > UINT64_MAX)
			big = 1;
	}
	if (big)
		return -ERANGE;
	*out = v;
	return 0;
}

static int ref_size(const uint8_t *s, size_t len, u128 *out)
{
	static const char suffixes[] = "kKmMgGtT";
	unsigned shift = 0;
	const char *p;
	int ret;

	if (len > 0 && s[len - 1] && (p = strchr(suffixes, s[len - 1]))) {
		shift = 10 * (1 + (unsigned)(p - suffixes) / 2);
		len--;
	}
	ret = ref_u64(s, len, out);
	if (ret)
		return ret;
	*out <<= shift;
	return *out > UINT64_MAX ? -ERANGE : 0;
}

static int ref_name(const char *name)
{
	size_t len = strlen(name);

	if (len < 1 || len > 64)
		return 0;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    name[i]))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	uint64_t v = 0x1234, v2 = 0x1234;
	u128 r;
	int ret, want;
	char *name;

	ret = kvmfs_parse_u64(s, size, &v);
	want = ref_u64(data, size, &r);
	fuzz_require(ret == want);
	fuzz_require(ret ? v == 0x1234 : v == (uint64_t)r);

	ret = kvmfs_parse_size(s, size, &v2);
	want = ref_size(data, size, &r);
	fuzz_require(ret == want);
	fuzz_require(ret ? v2 == 0x1234 : v2 == (uint64_t)r);

	/* A name arrives as a C string: the input up to its first NUL. */
	name = malloc(size + 1);
	fuzz_require(name);
	memcpy(name, data, size);
	name[size] = '\0';
	fuzz_require(kvmfs_vm_name_valid(name) == (ref_name(name) != 0));
	free(name);
	return 0;
}
