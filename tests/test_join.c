/* Unit tests of src/lib/join.c: the writers of docs/reference.md ("One
 * write(2) is one transaction"), one by one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/join.h"

/* Feed S; return the transaction it gives as a static string, or NULL. */
static const char *feed(struct kvmfs_join *j, const char *s)
{
	static char out[256];
	GString *t;

	assert_int_equal(kvmfs_join_write(j, s, strlen(s), &t), 0);
	if (!t)
		return NULL;
	assert_true(t->len < sizeof(out));
	memcpy(out, t->str, t->len + 1);
	g_string_free(t, TRUE);
	return out;
}

static void line_per_write(void **state)
{
	struct kvmfs_join j = { NULL };

	(void)state;
	assert_string_equal(feed(&j, "rip 0x10\n"), "rip 0x10\n");
	assert_string_equal(feed(&j, "rax 1\n"), "rax 1\n");
	assert_null(kvmfs_join_flush(&j));
}

static void no_newline_alone(void **state)
{
	struct kvmfs_join j = { NULL };

	(void)state;
	assert_string_equal(feed(&j, "rbx 7"), "rbx 7");
	assert_null(feed(&j, ""));
	assert_null(kvmfs_join_flush(&j));
}

static void split_line_joined_whole(void **state)
{
	struct kvmfs_join j = { NULL };
	GString *t;

	(void)state;
	/* The first write is held whole: its first line waits too. */
	assert_null(feed(&j, "r9 9\nr10 0x"));
	assert_string_equal(feed(&j, "a\nr11 11\n"), "r9 9\nr10 0xa\nr11 11\n");
	assert_null(feed(&j, "r12 12\nr13 0x"));
	assert_null(feed(&j, "d"));
	t = kvmfs_join_flush(&j);
	assert_non_null(t);
	assert_string_equal(t->str, "r12 12\nr13 0xd");
	g_string_free(t, TRUE);
	assert_null(kvmfs_join_flush(&j));
}

static void too_long(void **state)
{
	struct kvmfs_join j = { NULL };
	static char big[KVMFS_JOIN_MAX];
	GString *t;

	(void)state;
	memset(big, 'a', sizeof(big));
	big[0] = '\n';
	assert_null(feed(&j, "x\ny"));
	assert_int_equal(kvmfs_join_write(&j, big, sizeof(big), &t), -EFBIG);
	assert_null(t);
	assert_null(j.held);
	assert_string_equal(feed(&j, "rax 1\n"), "rax 1\n");
	kvmfs_join_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_per_write),
		cmocka_unit_test(no_newline_alone),
		cmocka_unit_test(split_line_joined_whole),
		cmocka_unit_test(too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
