/* Unit tests of src/formats/ctlparse.c: the ctl grammar (every verb, its
 * arguments and their limits, the mode options), the all-or-nothing rule
 * for a write of many lines, and the address lists that translate reads.
 * Messages are checked where a user depends on them: the line number of a
 * bad line and the usage of a verb. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/ctlparse.h"

static struct kvmfs_ctl_op ops[KVMFS_CTL_MAX_OPS];
static char err[256];

/* Parse len bytes; n is poisoned so a stale count shows. */
static int ctl_len(const char *text, size_t len, size_t *n)
{
	*n = 12345;
	memset(err, 0, sizeof(err));
	memset(ops, 0xa5, sizeof(ops));
	return kvmfs_ctl_parse(text, len, ops, KVMFS_CTL_MAX_OPS, n, err,
			       sizeof(err));
}

static int ctl(const char *text, size_t *n)
{
	return ctl_len(text, strlen(text), n);
}

/* One command that must parse; returns its op. */
static const struct kvmfs_ctl_op *one(const char *text)
{
	size_t n;

	if (ctl(text, &n) != 0)
		fail_msg("'%s' refused: %s", text, err);
	assert_int_equal(n, 1);
	return &ops[0];
}

/* A write that must be refused as a whole; err must say so. */
static void refused(const char *text)
{
	size_t n;

	if (ctl(text, &n) != -EINVAL)
		fail_msg("'%s' was accepted", text);
	assert_int_equal(n, 12345);
	assert_true(strlen(err) > 0);
	assert_null(strchr(err, '\n'));
}

static void test_verbs(void **state)
{
	const struct kvmfs_ctl_op *op;

	(void)state;
	op = one("mem 2M");
	assert_int_equal(op->verb, KVMFS_CTL_MEM);
	assert_true(op->num == 2u << 20);
	op = one("console 64K");
	assert_int_equal(op->verb, KVMFS_CTL_CONSOLE);
	assert_true(op->num == 64u << 10);
	op = one("timeout 1000");
	assert_int_equal(op->verb, KVMFS_CTL_TIMEOUT);
	assert_true(op->num == 1000);
	op = one("mode long");
	assert_int_equal(op->verb, KVMFS_CTL_MODE);
	assert_int_equal(op->mode.mode, KVMFS_MODE_LONG);
	assert_false(op->mode.pt_set);
	assert_true(op->mode.entry == 0);
	op = one("reset");
	assert_int_equal(op->verb, KVMFS_CTL_RESET);
	op = one("stop");
	assert_int_equal(op->verb, KVMFS_CTL_STOP);
	op = one("step");
	assert_int_equal(op->verb, KVMFS_CTL_STEP);
	op = one("run");
	assert_int_equal(op->verb, KVMFS_CTL_RUN);
	/* Words may be separated and surrounded by spaces and tabs. */
	op = one("\t mem \t 0x1000  \n");
	assert_int_equal(op->verb, KVMFS_CTL_MEM);
	assert_true(op->num == 0x1000);
}

static void test_modes(void **state)
{
	static const struct {
		const char *text;
		enum kvmfs_mode mode;
	} names[] = {
		{ "mode real", KVMFS_MODE_REAL },
		{ "mode protected", KVMFS_MODE_PROTECTED },
		{ "mode paged32", KVMFS_MODE_PAGED32 },
		{ "mode long", KVMFS_MODE_LONG },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(one(names[i].text)->mode.mode, names[i].mode);
}

static void test_sizes(void **state)
{
	static const struct {
		const char *text;
		uint64_t num;
	} good[] = {
		{ "mem 4096", 4096 },
		{ "mem 4K", 4096 },
		{ "mem 4k", 4096 },
		{ "mem 0x200000", 0x200000 },
		{ "mem 16777216", 16777216 },
		{ "mem 2m", 2u << 20 },
		{ "mem 1G", 1ull << 30 },
		{ "mem 1T", 1ull << 40 },
		{ "mem 0x2M", 2u << 20 },
		{ "console 16", 16 },
		{ "console 0x10", 16 },
		{ "console 64M", 64u << 20 },
		{ "timeout 0", 0 },
		{ "timeout 86400000", 86400000 },
		{ "timeout 0x10", 16 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct kvmfs_ctl_op *op = one(good[i].text);

		if (op->num != good[i].num)
			fail_msg("'%s' gave %llu", good[i].text,
				 (unsigned long long)op->num);
	}
}

static void test_bad_sizes(void **state)
{
	static const char *const bad[] = {
		"mem 0", "mem 4095", "mem 4097", "mem 1", "mem 6K", "mem 1.5M",
		"mem -1", "mem +4096", "mem 2X", "mem 2MB", "mem M", "mem 0x",
		"mem 99999999999999999999", "mem 0x10000000000000000",
		"mem 16777216T", "mem 4096K4", "mem 4,096",
		"console 15", "console 0", "console 64M1", "console 67108865",
		"console 1G", "console big",
		"timeout 86400001", "timeout 1s", "timeout -1", "timeout 1K",
		"timeout 18446744073709551616",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i]);
	refused("mem 4095");
	assert_string_equal(err, "line 1: mem 4095: must be a multiple of "
				 "4096, at least 4096");
	refused("mem 2X");
	assert_non_null(strstr(err, "'2X'"));
}

static void test_arg_counts(void **state)
{
	static const char *const bad[] = {
		"mem", "mem 2M 4M", "console", "console 1K 2K", "timeout",
		"timeout 1 2", "reset now", "stop 1", "step 0", "step 4097", "step 1 2", "run fast",
		"mode", "mode long extra", "mode long pt=0x1000 entry=0 x",
		/* eight words split; a ninth is too many */
		"run a b c d e f g h i",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i]);
	refused("mem");
	assert_string_equal(err, "line 1: usage: mem SIZE");
	refused("reset now");
	assert_string_equal(err, "line 1: usage: reset");
	refused("run a b c d e f g h i");
	assert_string_equal(err, "line 1: too many words");
}

/* highmem SIZE: memory at 4 GiB; 0 removes it, pages only. */
static void test_highmem(void **state)
{
	(void)state;
	assert_int_equal(one("highmem 1G")->verb, KVMFS_CTL_HIGHMEM);
	assert_int_equal(one("highmem 1G")->num, 1ull << 30);
	assert_int_equal(one("highmem 0")->num, 0);
	refused("highmem 100");
	assert_non_null(strstr(err, "multiple of 4096"));
	refused("highmem");
	assert_string_equal(err, "line 1: usage: highmem SIZE");
	refused("highmem 0xfffffffffffff000");
	assert_non_null(strstr(err, "passes the end of the address space"));
}

static void test_unknown(void **state)
{
	(void)state;
	refused("frobnicate");
	assert_non_null(strstr(err, "unknown command 'frobnicate'"));
	/* Names ignore case, as size suffixes do. */
	assert_int_equal(one("MEM 2m")->num, 2 * 1024 * 1024);
	refused("memory 2M");
	refused("me 2M");
	refused("resetx");
	refused("#reset");
	/* A hostile name is quoted printable and bounded. */
	refused("\xff\xfe"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	assert_true(strlen(err) < 200);
}

static void test_blank_lines(void **state)
{
	size_t n;

	(void)state;
	assert_int_equal(ctl("\n\n  \t \nreset\n\n\t\nstop", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ops[0].verb, KVMFS_CTL_RESET);
	assert_int_equal(ops[1].verb, KVMFS_CTL_STOP);
	/* Nothing but blanks is no command at all. */
	refused("");
	refused("\n");
	refused("  \n\t\n\n");
	assert_string_equal(err, "no command");
}

static void test_control_bytes(void **state)
{
	size_t n;

	(void)state;
	refused("reset\r\n");
	assert_string_equal(err, "line 1: control characters in the command");
	refused("reset\r");
	refused("mem 2M\r\nreset\r\n");
	/* A NUL inside the write, which a C string would hide. */
	assert_int_equal(ctl_len("reset\nmem\0 2M\n", 14, &n), -EINVAL);
	assert_int_equal(n, 12345);
	assert_string_equal(err, "line 2: control characters in the command");
	refused("re\x1bset");
	refused("reset\x7f");
}

static void test_all_or_nothing(void **state)
{
	size_t n;
	char text[256];

	(void)state;
	assert_int_equal(ctl("mem 2M\nmode long entry=0x1000\nrun\n", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ops[0].verb, KVMFS_CTL_MEM);
	assert_int_equal(ops[1].verb, KVMFS_CTL_MODE);
	assert_true(ops[1].mode.entry == 0x1000);
	assert_int_equal(ops[2].verb, KVMFS_CTL_RUN);

	/* The bad line is named by number, blank lines included. */
	refused("mem 2M\n\nbogus\nrun\n");
	assert_true(strncmp(err, "line 3: ", 8) == 0);
	snprintf(text, sizeof(text), "reset\nreset\nmem 2M\nmem 3\n");
	refused(text);
	assert_true(strncmp(err, "line 4: ", 8) == 0);
}

static void test_max_commands(void **state)
{
	size_t cap = (KVMFS_CTL_MAX_OPS + 2) * 8 + 1;
	char *text = malloc(cap);
	size_t len = 0, n;

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < KVMFS_CTL_MAX_OPS; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s\n",
					i % 2 ? "reset" : "run");
	assert_int_equal(ctl(text, &n), 0);
	assert_int_equal(n, KVMFS_CTL_MAX_OPS);
	assert_int_equal(ops[0].verb, KVMFS_CTL_RUN);
	assert_int_equal(ops[KVMFS_CTL_MAX_OPS - 1].verb, KVMFS_CTL_RESET);

	/* Blank lines do not count towards the limit. */
	len += (size_t)snprintf(text + len, cap - len, "\n");
	assert_int_equal(ctl(text, &n), 0);
	assert_int_equal(n, KVMFS_CTL_MAX_OPS);

	len += (size_t)snprintf(text + len, cap - len, "stop\n");
	refused(text);
	assert_string_equal(err, "more than 256 commands");

	/* A smaller array is never overrun either. */
	memset(ops, 0xa5, sizeof(ops));
	assert_int_equal(kvmfs_ctl_parse("run\nrun\nrun\n", 12, ops, 2, &n, err,
					 sizeof(err)),
			 -EINVAL);
	assert_int_equal(ops[2].verb, (enum kvmfs_ctl_verb)0xa5a5a5a5);
	free(text);
}

static void test_mode_options(void **state)
{
	const struct kvmfs_ctl_op *op;

	(void)state;
	op = one("mode long pt=0x100000 entry=0x1000");
	assert_int_equal(op->mode.mode, KVMFS_MODE_LONG);
	assert_true(op->mode.pt_set);
	assert_true(op->mode.pt == 0x100000);
	assert_true(op->mode.entry == 0x1000);
	op = one("mode paged32 entry=4096 pt=8192");
	assert_int_equal(op->mode.mode, KVMFS_MODE_PAGED32);
	assert_true(op->mode.pt_set);
	assert_true(op->mode.pt == 8192);
	assert_true(op->mode.entry == 4096);
	/* pt=0 is a place, not "unset". */
	op = one("mode long pt=0");
	assert_true(op->mode.pt_set);
	assert_true(op->mode.pt == 0);
	op = one("mode real entry=0x7c00");
	assert_int_equal(op->mode.mode, KVMFS_MODE_REAL);
	assert_false(op->mode.pt_set);
	assert_true(op->mode.entry == 0x7c00);
	op = one("mode protected entry=0xffffffffffffffff");
	assert_true(op->mode.entry == UINT64_MAX);

	/* Page tables exist only in the paged modes. */
	refused("mode real pt=0x1000");
	assert_non_null(strstr(err, "pt= is only for paged32 and long"));
	refused("mode protected pt=0x1000");
	/* Duplicates, empty and malformed values, unknown options. */
	refused("mode long pt=0x1000 pt=0x2000");
	refused("mode long pt=0x1000 pt=0x1000");
	refused("mode long entry=1 entry=2");
	refused("mode long pt=");
	refused("mode long entry=");
	refused("mode long pt=xyz");
	refused("mode long pt=-1");
	refused("mode long pt=0x10000000000000000");
	refused("mode long entry=1M");
	refused("mode long PT=0x1000");
	refused("mode long pt 0x1000");
	refused("mode long foo=1");
	refused("mode long =1");
	refused("mode warp");
	assert_non_null(strstr(err, "unknown mode 'warp'"));
	assert_int_equal(one("mode LONG")->mode.mode, KVMFS_MODE_LONG);
	refused("mode pt=0x1000 long");
}

/* Every reason is one printable ASCII line whatever the client wrote:
 * it lands in logs and in status, read on terminals ("\xc2\x9b" is CSI in
 * UTF-8). */
static void test_messages_printable(void **state)
{
	static const char *const bad[] = {
		"\xc2\x9b" "31m", "mem \xc2\x9b" "2M", "timeout \xff",
		"mode \xc2\x9b" "31mlong", "mode long \xc2\x9b" "31m=1",
		"mode long pt=\xff", "mode long entry=\x80\x80",
		"mode \xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(bad[i]);
		for (const char *p = err; *p; p++)
			if (*p < 0x20 || *p >= 0x7f)
				fail_msg("'%s': byte 0x%02x in the reason",
					 bad[i], (unsigned char)*p);
	}
}

/* Addresses of translate. */
static int addrs(const char *text, uint64_t *out, size_t max, size_t *n)
{
	*n = 12345;
	memset(err, 0, sizeof(err));
	return kvmfs_addr_list_parse(text, strlen(text), out, max, n, err,
				     sizeof(err));
}

static void test_addr_list(void **state)
{
	uint64_t a[80];
	size_t n;

	(void)state;
	assert_int_equal(addrs("0x1000", a, 80, &n), 0);
	assert_int_equal(n, 1);
	assert_true(a[0] == 0x1000);
	assert_int_equal(addrs("0x1000 4096\t0\n\n  0xffffffffffffffff\n", a,
			       80, &n),
			 0);
	assert_int_equal(n, 4);
	assert_true(a[0] == 0x1000 && a[1] == 4096 && a[2] == 0);
	assert_true(a[3] == UINT64_MAX);
}

static void test_addr_list_bad(void **state)
{
	uint64_t a[80];
	char text[1024];
	size_t n, len = 0;

	(void)state;
	assert_int_equal(addrs("", a, 80, &n), -EINVAL);
	assert_int_equal(n, 12345);
	assert_string_equal(err, "no address given");
	assert_int_equal(addrs("\n \t\n", a, 80, &n), -EINVAL);
	assert_int_equal(addrs("0x1000 zz", a, 80, &n), -EINVAL);
	assert_int_equal(n, 12345);
	assert_string_equal(err, "line 1: 'zz' is not an address");
	assert_int_equal(addrs("1\n2\n-3\n", a, 80, &n), -EINVAL);
	assert_string_equal(err, "line 3: '-3' is not an address");
	assert_int_equal(addrs("0x", a, 80, &n), -EINVAL);
	assert_int_equal(addrs("2M", a, 80, &n), -EINVAL);
	assert_int_equal(addrs("0x10000000000000000", a, 80, &n), -EINVAL);
	assert_int_equal(addrs("0x1000\r\n", a, 80, &n), -EINVAL);
	assert_int_equal(kvmfs_addr_list_parse("0x1000\0", 7, a, 80, &n, err,
					       sizeof(err)),
			 -EINVAL);

	/* Too many in all: out is never written past max. */
	a[3] = 0xdead;
	assert_int_equal(addrs("1 2 3\n4\n", a, 3, &n), -EINVAL);
	assert_string_equal(err, "more than 3 addresses");
	assert_true(a[3] == 0xdead);
	assert_int_equal(addrs("1 2 3\n", a, 3, &n), 0);
	assert_int_equal(n, 3);

	/* 64 on one line is the most a line holds. */
	for (int i = 0; i < 64; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%d ",
					i);
	assert_int_equal(addrs(text, a, 80, &n), 0);
	assert_int_equal(n, 64);
	assert_true(a[63] == 63);
	snprintf(text + len, sizeof(text) - len, "64");
	assert_int_equal(addrs(text, a, 80, &n), -EINVAL);
	assert_string_equal(err, "line 1: more than 64 addresses on a line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_arg_counts),
		cmocka_unit_test(test_highmem),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_max_commands),
		cmocka_unit_test(test_mode_options),
		cmocka_unit_test(test_messages_printable),
		cmocka_unit_test(test_addr_list),
		cmocka_unit_test(test_addr_list_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
