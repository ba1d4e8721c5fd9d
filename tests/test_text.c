/* Unit tests of src/lib/text.c: the number, size and name rules every kvmfs
 * file relies on, and the line and word split that the parsers sit on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/text.h"

/* Parse a NUL-terminated literal; out is poisoned so a stale value shows. */
static int u64(const char *s, uint64_t *out)
{
	*out = 0xdeadbeefULL;
	return kvmfs_parse_u64(s, strlen(s), out);
}

static int size(const char *s, uint64_t *out)
{
	*out = 0xdeadbeefULL;
	return kvmfs_parse_size(s, strlen(s), out);
}

static void test_u64_decimal(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(u64("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(u64("010", &v), 0);
	assert_int_equal(v, 10); /* decimal, never octal */
}

static void test_u64_hex(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(u64("0x1000", &v), 0);
	assert_int_equal(v, 0x1000);
	assert_int_equal(u64("0XaBcD", &v), 0);
	assert_int_equal(v, 0xabcd);
	assert_int_equal(u64("0x0000000000000000000000001", &v), 0);
	assert_int_equal(v, 1);
}

static void test_u64_max(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(u64("0xffffffffffffffff", &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_u64_overflow(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(u64("0x10000000000000000", &v), -ERANGE);
	assert_int_equal(u64("99999999999999999999999", &v), -ERANGE);
	assert_true(v == 0xdeadbeefULL);
	/* Junk beats overflow: the text is malformed, not just big. */
	assert_int_equal(u64("99999999999999999999999z", &v), -EINVAL);
}

static void test_u64_bad(void **state)
{
	static const char *const bad[] = {
		"", "0x", "0X", "x10", "12a", "0x12g", "-1", "+1", " 1", "1 ",
		"1\n", "0x 1", "1_000", "0b101", "1.5",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (u64(bad[i], &v) != -EINVAL)
			fail_msg("'%s' was not -EINVAL", bad[i]);
		assert_true(v == 0xdeadbeefULL);
	}
}

static void test_u64_span(void **state)
{
	uint64_t v;

	(void)state;
	/* Only s[0..len) counts: the digits after it are not read. */
	assert_int_equal(kvmfs_parse_u64("12345", 2, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(kvmfs_parse_u64("1\0002", 3, &v), -EINVAL);
}

static void test_size_ok(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(size("2M", &v), 0);
	assert_int_equal(v, 2097152);
	assert_int_equal(size("2m", &v), 0);
	assert_int_equal(v, 2097152);
	assert_int_equal(size("1G", &v), 0);
	assert_int_equal(v, 1073741824);
	assert_int_equal(size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(size("1T", &v), 0);
	assert_true(v == 1ULL << 40);
	assert_int_equal(size("0x200000", &v), 0);
	assert_int_equal(v, 0x200000);
	assert_int_equal(size("0x2M", &v), 0);
	assert_int_equal(v, 0x200000);
	assert_int_equal(size("0", &v), 0);
	assert_int_equal(v, 0);
}

static void test_size_overflow(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(size("16777215T", &v), 0);
	assert_true(v == 16777215ULL << 40);
	assert_int_equal(size("16777216T", &v), -ERANGE);
	assert_int_equal(size("0x400000000000000K", &v), -ERANGE);
	assert_int_equal(size("18446744073709551616", &v), -ERANGE);
	assert_true(v == 0xdeadbeefULL);
}

static void test_size_bad(void **state)
{
	static const char *const bad[] = {
		"", "M", "2X", "2MB", "2MiB", "2 M", "M2", "-2M", "2KM", "0xM",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (size(bad[i], &v) != -EINVAL)
			fail_msg("'%s' was not -EINVAL", bad[i]);
		assert_true(v == 0xdeadbeefULL);
	}
}

static void test_names(void **state)
{
	char name[80];

	(void)state;
	assert_true(kvmfs_vm_name_valid("vm0"));
	assert_true(kvmfs_vm_name_valid("My_VM-1.test"));
	assert_true(kvmfs_vm_name_valid("..."));
	assert_true(kvmfs_vm_name_valid(".hidden"));

	memset(name, 'a', 64);
	name[64] = '\0';
	assert_true(kvmfs_vm_name_valid(name));
	name[64] = 'a';
	name[65] = '\0';
	assert_false(kvmfs_vm_name_valid(name));

	assert_false(kvmfs_vm_name_valid(""));
	assert_false(kvmfs_vm_name_valid(NULL));
	assert_false(kvmfs_vm_name_valid("."));
	assert_false(kvmfs_vm_name_valid(".."));
	assert_false(kvmfs_vm_name_valid("a/b"));
	assert_false(kvmfs_vm_name_valid("../x"));
	assert_false(kvmfs_vm_name_valid("a b"));
	assert_false(kvmfs_vm_name_valid("a\tb"));
	assert_false(kvmfs_vm_name_valid("a\nb"));
	assert_false(kvmfs_vm_name_valid("caf\xc3\xa9"));
}

/* Collect every line of text into out (joined with '|') for comparison. */
static int lines_of(const char *text, size_t len, char *out, size_t cap)
{
	struct kvmfs_cursor c;
	const char *line;
	size_t n;
	size_t pos = 0;
	int count = 0;

	out[0] = '\0';
	kvmfs_cursor_init(&c, text, len);
	while (kvmfs_next_line(&c, &line, &n)) {
		assert_true(pos + n + 2 <= cap);
		if (count)
			out[pos++] = '|';
		memcpy(out + pos, line, n);
		pos += n;
		out[pos] = '\0';
		count++;
	}
	/* An exhausted cursor stays exhausted. */
	assert_false(kvmfs_next_line(&c, &line, &n));
	return count;
}

static void test_cursor(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(lines_of("a\nbb\n", 5, out, sizeof(out)), 2);
	assert_string_equal(out, "a|bb");
	assert_int_equal(lines_of("a\nbb", 4, out, sizeof(out)), 2);
	assert_string_equal(out, "a|bb");
	assert_int_equal(lines_of("a\n\n\nb\n", 6, out, sizeof(out)), 4);
	assert_string_equal(out, "a|||b");
	assert_int_equal(lines_of("\n", 1, out, sizeof(out)), 1);
	assert_string_equal(out, "");
	assert_int_equal(lines_of("", 0, out, sizeof(out)), 0);
	/* A NUL is an ordinary byte to the cursor. */
	assert_int_equal(lines_of("a\0b\nc", 5, out, sizeof(out)), 2);
	assert_memory_equal(out, "a\0b|c", 5);
}

static void test_words(void **state)
{
	struct kvmfs_word w[3];
	const char *l;

	(void)state;
	l = "  rip\t\t0x1000 \t";
	assert_int_equal(kvmfs_split_words(l, strlen(l), w, 3), 2);
	assert_int_equal(w[0].len, 3);
	assert_memory_equal(w[0].s, "rip", 3);
	assert_true(kvmfs_word_is(&w[0], "rip"));
	assert_false(kvmfs_word_is(&w[0], "ri"));
	assert_false(kvmfs_word_is(&w[0], "rips"));
	assert_true(kvmfs_word_is(&w[1], "0x1000"));

	l = "   \t ";
	assert_int_equal(kvmfs_split_words(l, strlen(l), w, 3), 0);
	assert_int_equal(kvmfs_split_words("", 0, w, 3), 0);

	l = "a b c d";
	assert_int_equal(kvmfs_split_words(l, strlen(l), w, 3), -E2BIG);
	l = "a b c";
	assert_int_equal(kvmfs_split_words(l, strlen(l), w, 3), 3);
	assert_true(kvmfs_word_is(&w[2], "c"));
}

static void test_words_control(void **state)
{
	struct kvmfs_word w[3];

	(void)state;
	assert_int_equal(kvmfs_split_words("a\0b", 3, w, 3), -EINVAL);
	assert_int_equal(kvmfs_split_words("a b\r", 4, w, 3), -EINVAL);
	assert_int_equal(kvmfs_split_words("a\x1b[0m", 5, w, 3), -EINVAL);
	assert_int_equal(kvmfs_split_words("a\x7f", 2, w, 3), -EINVAL);
	assert_int_equal(kvmfs_split_words("a\n", 2, w, 3), -EINVAL);
	/* A control byte wins over too many words. */
	assert_int_equal(kvmfs_split_words("a b c d\x01", 8, w, 3), -EINVAL);
	/* High bytes are not control bytes; callers judge them as names. */
	assert_int_equal(kvmfs_split_words("\xff\xfe x", 4, w, 3), 2);
	assert_int_equal(w[0].len, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_decimal),
		cmocka_unit_test(test_u64_hex),
		cmocka_unit_test(test_u64_max),
		cmocka_unit_test(test_u64_overflow),
		cmocka_unit_test(test_u64_bad),
		cmocka_unit_test(test_u64_span),
		cmocka_unit_test(test_size_ok),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_size_bad),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_words_control),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
