/* Unit tests of src/formats/regfmt.c: the regs and sregs tables, the printed format,
 * round trips through the parser, the all-or-nothing rule for bad writes
 * and the read-back comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "formats/regfmt.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct kvmfs_field *field(const struct kvmfs_table *t,
				       const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->fields[i].name, name) == 0)
			return &t->fields[i];
	}
	fail_msg("no field %s", name);
	return NULL;
}

static size_t index_of(const struct kvmfs_table *t, const char *name)
{
	return (size_t)(field(t, name) - t->fields);
}

/* Give every field a distinct value that uses its full width, so a
 * swapped offset or a truncated width cannot survive a round trip. */
static void fill(const struct kvmfs_table *t, void *obj, uint64_t seed)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct kvmfs_field *f = &t->fields[i];
		uint64_t v = (seed + i) * 0x9e3779b97f4a7c15ULL;
		uint64_t mask = f->bits == 64 ? UINT64_MAX
					      : (1ULL << f->bits) - 1;

		v |= 1ULL << (f->bits - 1); /* top bit set */
		kvmfs_field_set(f, obj, v & mask);
	}
}

static void assert_one_printable_line(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	assert_true(n > 0);
	assert_true(n <= max);
	for (i = 0; i < n; i++) {
		unsigned char u = (unsigned char)s[i];

		if (u < 0x20 || u >= 0x7f)
			fail_msg("byte 0x%02x at %zu in '%s'", u, i, s);
	}
}

static void test_tables(void **state)
{
	const struct kvmfs_table *tabs[] = { &kvmfs_regs_table,
					     &kvmfs_sregs_table };
	const size_t sizes[] = { sizeof(struct kvm_regs),
				 sizeof(struct kvm_sregs) };
	size_t k, i, j;

	(void)state;
	assert_int_equal(kvmfs_regs_table.n, 18);
	assert_int_equal(kvmfs_sregs_table.n, 8 * 12 + 2 * 2 + 7 + 4);
	assert_string_equal(kvmfs_regs_table.fields[0].name, "rax");
	assert_string_equal(kvmfs_regs_table.fields[17].name, "rflags");
	assert_string_equal(kvmfs_sregs_table.fields[0].name, "cs.base");
	assert_string_equal(kvmfs_sregs_table.fields[12 * 7 + 11].name,
			    "ldt.unusable");
	assert_string_equal(
		kvmfs_sregs_table.fields[kvmfs_sregs_table.n - 1].name,
		"interrupt_bitmap.3");

	for (k = 0; k < ARRAY_LEN(tabs); k++) {
		const struct kvmfs_table *t = tabs[k];

		for (i = 0; i < t->n; i++) {
			const struct kvmfs_field *f = &t->fields[i];

			assert_true(f->size == 1 || f->size == 2 ||
				    f->size == 4 || f->size == 8);
			assert_true(f->bits >= 1 && f->bits <= f->size * 8);
			assert_true(f->offset + f->size <= sizes[k]);
			for (j = i + 1; j < t->n; j++) {
				if (!strcmp(f->name, t->fields[j].name))
					fail_msg("duplicate %s", f->name);
				assert_true(f->offset != t->fields[j].offset);
			}
		}
	}

	assert_int_equal(field(&kvmfs_sregs_table, "ss.dpl")->offset,
			 offsetof(struct kvm_sregs, ss.dpl));
	assert_int_equal(field(&kvmfs_sregs_table, "ss.dpl")->bits, 2);
	assert_int_equal(field(&kvmfs_sregs_table, "tr.type")->bits, 4);
	assert_int_equal(field(&kvmfs_sregs_table, "gdt.limit")->size, 2);
	assert_int_equal(field(&kvmfs_sregs_table, "idt.limit")->bits, 16);
	assert_int_equal(field(&kvmfs_sregs_table, "interrupt_bitmap.2")->offset,
			 offsetof(struct kvm_sregs, interrupt_bitmap[2]));
	assert_int_equal(field(&kvmfs_regs_table, "r13")->offset,
			 offsetof(struct kvm_regs, r13));
}

static void test_field_get_set(void **state)
{
	struct kvm_sregs s;
	struct kvm_sregs before;
	const struct kvmfs_field *dpl = field(&kvmfs_sregs_table, "cs.dpl");
	const struct kvmfs_field *sel = field(&kvmfs_sregs_table, "cs.selector");

	(void)state;
	memset(&s, 0xff, sizeof(s));
	memcpy(&before, &s, sizeof(s));
	kvmfs_field_set(dpl, &s, 2);
	assert_int_equal(s.cs.dpl, 2);
	assert_int_equal(kvmfs_field_get(dpl, &s), 2);
	/* Only the one byte of cs.dpl changed. */
	before.cs.dpl = 2;
	assert_memory_equal(&s, &before, sizeof(s));

	kvmfs_field_set(sel, &s, 0x1234);
	assert_int_equal(s.cs.selector, 0x1234);
	assert_int_equal(s.cs.type, 0xff);
	assert_int_equal(kvmfs_field_get(sel, &s), 0x1234);
}

static void test_format_regs(void **state)
{
	struct kvm_regs r;
	char buf[4096];
	size_t expect, i;
	int n;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.rax = 1;
	r.r15 = 0xfedcba9876543210ULL;
	r.rip = 0x1000;
	r.rflags = 0x2;
	n = kvmfs_table_format(&kvmfs_regs_table, &r, buf, sizeof(buf));
	expect = 0;
	for (i = 0; i < kvmfs_regs_table.n; i++)
		expect += strlen(kvmfs_regs_table.fields[i].name) + 20;
	assert_int_equal(n, (int)expect);
	assert_int_equal(n, (int)strlen(buf));
	assert_non_null(strstr(buf, "rax 0x0000000000000001\n"));
	assert_true(strncmp(buf, "rax 0x0000000000000001\nrbx ", 27) == 0);
	assert_non_null(strstr(buf, "\nr8 0x0000000000000000\n"));
	assert_non_null(strstr(buf, "\nr15 0xfedcba9876543210\n"));
	assert_non_null(strstr(buf, "\nrip 0x0000000000001000\n"));
	assert_non_null(strstr(buf, "\nrflags 0x0000000000000002\n"));
	assert_int_equal(buf[n - 1], '\n');
}

static void test_format_sregs(void **state)
{
	struct kvm_sregs s;
	char buf[8192];
	int n;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.cs.base = 0xffff0000;
	s.cs.limit = 0xffff;
	s.cs.selector = 0xf000;
	s.cs.type = 11;
	s.cs.present = 1;
	s.cs.dpl = 3;
	s.gdt.limit = 0x17;
	s.cr0 = 0x60000010;
	s.interrupt_bitmap[3] = 1ULL << 63;
	n = kvmfs_table_format(&kvmfs_sregs_table, &s, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, (int)strlen(buf));
	assert_true(strncmp(buf, "cs.base 0x00000000ffff0000\n", 27) == 0);
	assert_non_null(strstr(buf, "\ncs.limit 0x0000ffff\n"));
	assert_non_null(strstr(buf, "\ncs.selector 0xf000\n"));
	assert_non_null(strstr(buf, "\ncs.type 11\n"));
	assert_non_null(strstr(buf, "\ncs.present 1\n"));
	assert_non_null(strstr(buf, "\ncs.dpl 3\n"));
	assert_non_null(strstr(buf, "\nds.present 0\n"));
	assert_non_null(strstr(buf, "\nldt.unusable 0\n"));
	assert_non_null(strstr(buf, "\ngdt.base 0x0000000000000000\n"));
	assert_non_null(strstr(buf, "\ngdt.limit 0x0017\n"));
	assert_non_null(strstr(buf, "\ncr0 0x0000000060000010\n"));
	assert_non_null(strstr(buf, "\napic_base 0x0000000000000000\n"));
	assert_non_null(
		strstr(buf, "\ninterrupt_bitmap.3 0x8000000000000000\n"));
	assert_int_equal(buf[n - 1], '\n');
}

static void test_format_nospace(void **state)
{
	struct kvm_regs r;
	char buf[64];

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(kvmfs_table_format(&kvmfs_regs_table, &r, buf,
					    sizeof(buf)),
			 -ENOSPC);
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(kvmfs_table_format(&kvmfs_regs_table, &r, buf, 0),
			 -ENOSPC);
}

static void test_regs_round_trip(void **state)
{
	struct kvm_regs a, b;
	unsigned char seen[18];
	char buf[4096];
	char err[256];
	int n;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	fill(&kvmfs_regs_table, &a, 1);
	a.rip = UINT64_MAX;
	n = kvmfs_table_format(&kvmfs_regs_table, &a, buf, sizeof(buf));
	assert_true(n > 0);
	memset(seen, 7, sizeof(seen));
	assert_int_equal(kvmfs_table_parse(&kvmfs_regs_table, buf, (size_t)n,
					   &b, seen, err, sizeof(err)),
			 0);
	assert_memory_equal(&a, &b, sizeof(a));
	for (size_t i = 0; i < sizeof(seen); i++)
		assert_int_equal(seen[i], 1);
}

static void test_sregs_round_trip(void **state)
{
	struct kvm_sregs a, b;
	unsigned char seen[111];
	char buf[8192];
	char buf2[8192];
	char err[256];
	int n;

	(void)state;
	assert_int_equal(kvmfs_sregs_table.n, sizeof(seen));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	fill(&kvmfs_sregs_table, &a, 42);
	n = kvmfs_table_format(&kvmfs_sregs_table, &a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(kvmfs_table_parse(&kvmfs_sregs_table, buf, (size_t)n,
					   &b, seen, err, sizeof(err)),
			 0);
	assert_memory_equal(&a, &b, sizeof(a));
	for (size_t i = 0; i < sizeof(seen); i++)
		assert_int_equal(seen[i], 1);
	/* And the text is a fixed point. */
	assert_int_equal(kvmfs_table_format(&kvmfs_sregs_table, &b, buf2,
					    sizeof(buf2)),
			 n);
	assert_string_equal(buf, buf2);
}

static void test_subset_write(void **state)
{
	struct kvm_regs a, b;
	unsigned char seen[18];
	const char *in = "\n  rip\t4096  \n\n";
	char err[256];

	(void)state;
	fill(&kvmfs_regs_table, &a, 3);
	memcpy(&b, &a, sizeof(a));
	assert_int_equal(kvmfs_table_parse(&kvmfs_regs_table, in, strlen(in),
					   &b, seen, err, sizeof(err)),
			 0);
	assert_true(b.rip == 4096);
	a.rip = 4096;
	assert_memory_equal(&a, &b, sizeof(a));
	for (size_t i = 0; i < sizeof(seen); i++)
		assert_int_equal(seen[i], i == index_of(&kvmfs_regs_table, "rip"));

	/* The same without a final newline and with NULL seen. */
	in = "rax 0x5\nrflags 0x202";
	assert_int_equal(kvmfs_table_parse(&kvmfs_regs_table, in, strlen(in),
					   &b, NULL, NULL, 0),
			 0);
	assert_true(b.rax == 5);
	assert_true(b.rflags == 0x202);

	/* Names ignore case. */
	in = "RAX 7\nRFlags 0x2";
	assert_int_equal(kvmfs_table_parse(&kvmfs_regs_table, in, strlen(in),
					   &b, NULL, NULL, 0),
			 0);
	assert_true(b.rax == 7);
	assert_true(b.rflags == 2);
}

static void test_sregs_subset(void **state)
{
	struct kvm_sregs a, b;
	const char *in = "cs.dpl 3\ncr0 0x80000011\ngdt.limit 0xffff\n";
	char err[256];

	(void)state;
	fill(&kvmfs_sregs_table, &a, 9);
	memcpy(&b, &a, sizeof(a));
	assert_int_equal(kvmfs_table_parse(&kvmfs_sregs_table, in, strlen(in),
					   &b, NULL, err, sizeof(err)),
			 0);
	a.cs.dpl = 3;
	a.cr0 = 0x80000011;
	a.gdt.limit = 0xffff;
	assert_memory_equal(&a, &b, sizeof(a));
}

struct bad_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *msg; /* expected err, or a prefix ending in '*' */
};

static void check_reject(const struct kvmfs_table *t, const void *orig,
			 size_t objsize, const struct bad_case *c)
{
	unsigned char obj[sizeof(struct kvm_sregs)];
	unsigned char seen[128];
	char err[256];
	size_t len = c->len ? c->len : strlen(c->text);
	size_t mlen = strlen(c->msg);
	int ret;

	memcpy(obj, orig, objsize);
	memset(seen, 0x5a, sizeof(seen));
	memset(err, 'X', sizeof(err));
	ret = kvmfs_table_parse(t, c->text, len, obj, seen, err, sizeof(err));
	if (ret != -EINVAL)
		fail_msg("'%s': returned %d", c->text, ret);
	if (memcmp(obj, orig, objsize) != 0)
		fail_msg("'%s': obj changed", c->text);
	for (size_t i = 0; i < sizeof(seen); i++)
		assert_int_equal(seen[i], 0x5a);
	assert_one_printable_line(err, 200);
	if (mlen && c->msg[mlen - 1] == '*') {
		if (strncmp(err, c->msg, mlen - 1) != 0)
			fail_msg("'%s': got \"%s\" want \"%s\"", c->text, err,
				 c->msg);
	} else if (strcmp(err, c->msg) != 0) {
		fail_msg("'%s': got \"%s\" want \"%s\"", c->text, err, c->msg);
	}
}

static void test_rejections_regs(void **state)
{
	static const struct bad_case cases[] = {
		{ "", 0, "no 'name value' lines*" },
		{ "\n\n", 0, "no 'name value' lines*" },
		{ " \t \n  \n", 0, "no 'name value' lines*" },
		{ "rax 1\nrzz 2\n", 0, "line 2: unknown register 'rzz'" },
		{ "rip=0x10\n", 0, "line 1: 'rip=0x10': write 'NAME VALUE', with a space*" },
		{ "rax 1\ncr0 1\n", 0, "line 2: cr0 is in sregs (echo 'cr0 VALUE' > sregs)" },
		{ "rax 1\n\nrip 5\nrip 6\n", 0, "line 4: duplicate 'rip'" },
		{ "rax\n", 0, "line 1: missing value for rax" },
		{ "rax 1 2\n", 0, "line 1: expected 'name value'*" },
		{ "rax 1\nrbx 12z\n", 0, "line 2: bad number '12z' for rbx" },
		{ "rax 0x\n", 0, "line 1: bad number '0x' for rax" },
		{ "rax -1\n", 0, "line 1: bad number '-1' for rax" },
		{ "rax +1\n", 0, "line 1: bad number '+1' for rax" },
		{ "rax 1.0\n", 0, "line 1: bad number*" },
		{ "rax 0x10000000000000000\n", 0,
		  "line 1: value '0x10000000000000000' out of range for rax (64 bits)" },
		{ "rax 18446744073709551616\n", 0, "line 1: value '18446744073709551616' out of range for rax (64 bits)" },
		{ "rax 1\r\n", 0, "line 1: control byte 0x0d" },
		{ "rax 1\nrbx\0 2\n", 13, "line 2: control byte 0x00" },
		{ "rax\0001\n", 6, "line 1: control byte 0x00" },
		{ "\x1b[2J\n", 0, "line 1: control byte 0x1b" },
		{ "rax 1\nrbx 2\nrcx 3\nrdx 4\nrsi 5\nxx\xff 1\n", 0,
		  "line 6: unknown register 'xx\\xff'" },
		{ "rax 1\nrbx 2\nrbx 3\n", 0, "line 3: duplicate 'rbx'" },
		{ "rip 0x1000 # comment\n", 0, "line 1: expected*" },
	};
	struct kvm_regs orig;

	(void)state;
	fill(&kvmfs_regs_table, &orig, 5);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		check_reject(&kvmfs_regs_table, &orig, sizeof(orig), &cases[i]);
}

static void test_rejections_sregs(void **state)
{
	static const struct bad_case cases[] = {
		{ "cs.dpl 0x1ff\n", 0,
		  "line 1: value 0x1ff too wide for cs.dpl (2 bits)" },
		{ "cr0 1\nRIP 1\n", 0, "line 2: rip is in regs (echo 'rip VALUE' > regs)" },
		{ "cs.dpl 4\n", 0,
		  "line 1: value 0x4 too wide for cs.dpl (2 bits)" },
		{ "cr0 1\nss.present 2\n", 0,
		  "line 2: value 0x2 too wide for ss.present (1 bit)" },
		{ "cs.type 16\n", 0,
		  "line 1: value 0x10 too wide for cs.type (4 bits)" },
		{ "cs.limit 0x100000000\n", 0,
		  "line 1: value 0x100000000 too wide for cs.limit (32 bits)" },
		{ "cs.selector 0x10000\n", 0,
		  "line 1: value 0x10000 too wide for cs.selector (16 bits)" },
		{ "gdt.limit 65536\n", 0,
		  "line 1: value 0x10000 too wide for gdt.limit (16 bits)" },
		{ "cs.padding 0\n", 0, "line 1: unknown register 'cs.padding'" },
		{ "cs 0\n", 0, "line 1: unknown register 'cs'" },
		{ "interrupt_bitmap.4 0\n", 0, "line 1: unknown register*" },
		{ "cr0 0x11\ncr0 0x11\n", 0, "line 2: duplicate 'cr0'" },
		{ "cr0 0x11\ncs.dpl 5\n", 0, "line 2: value 0x5 too wide*" },
	};
	struct kvm_sregs orig;

	(void)state;
	fill(&kvmfs_sregs_table, &orig, 6);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		check_reject(&kvmfs_sregs_table, &orig, sizeof(orig),
			     &cases[i]);
}

static void test_hostile_name(void **state)
{
	struct kvm_regs orig, r;
	char in[600];
	char err[256];
	size_t i;

	(void)state;
	fill(&kvmfs_regs_table, &orig, 8);
	memcpy(&r, &orig, sizeof(r));
	for (i = 0; i < 500; i++)
		in[i] = (char)(0x80 + (i % 0x80));
	memcpy(in + 500, " 1\n", 3);
	assert_int_equal(kvmfs_table_parse(&kvmfs_regs_table, in, 503, &r,
					   NULL, err, sizeof(err)),
			 -EINVAL);
	assert_memory_equal(&r, &orig, sizeof(r));
	assert_one_printable_line(err, 200);
	assert_non_null(strstr(err, "unknown register '\\x80\\x81"));
	assert_non_null(strstr(err, "...'"));

	/* A long bad number is bounded the same way. */
	memcpy(in, "rax ", 4);
	memset(in + 4, '7', 400);
	in[404] = 'q';
	assert_int_equal(kvmfs_table_parse(&kvmfs_regs_table, in, 405, &r,
					   NULL, err, sizeof(err)),
			 -EINVAL);
	assert_memory_equal(&r, &orig, sizeof(r));
	assert_one_printable_line(err, 200);

	/* A tiny err buffer is truncated, never overrun. */
	memset(err, 'Z', sizeof(err));
	assert_int_equal(kvmfs_table_parse(&kvmfs_regs_table, "rzz 1", 5, &r,
					   NULL, err, 8),
			 -EINVAL);
	assert_string_equal(err, "line 1:");
	assert_int_equal(err[8], 'Z');
	/* And a NULL one is allowed. */
	assert_int_equal(kvmfs_table_parse(&kvmfs_regs_table, "rzz 1", 5, &r,
					   NULL, NULL, 0),
			 -EINVAL);
}

static void test_compare(void **state)
{
	struct kvm_sregs want, got;
	unsigned char seen[111];
	char err[256];
	const char *in = "cr0 0x80000011\ncs.present 1\n";

	(void)state;
	memset(&want, 0, sizeof(want));
	assert_int_equal(kvmfs_table_parse(&kvmfs_sregs_table, in, strlen(in),
					   &want, seen, err, sizeof(err)),
			 0);
	memcpy(&got, &want, sizeof(got));
	assert_int_equal(kvmfs_table_compare(&kvmfs_sregs_table, &want, &got,
					     seen, err, sizeof(err)),
			 0);

	/* KVM drops CR0.PG. */
	got.cr0 = 0x11;
	assert_int_equal(kvmfs_table_compare(&kvmfs_sregs_table, &want, &got,
					     seen, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_string_equal(err, "KVM dropped cr0: wrote 0x0000000080000011, "
				 "reads back 0x0000000000000011");

	/* A field that was not written may differ freely. */
	got.cr0 = want.cr0;
	got.cr4 = 0x20;
	got.cs.present = 0;
	assert_int_equal(kvmfs_table_compare(&kvmfs_sregs_table, &want, &got,
					     seen, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_string_equal(err,
			    "KVM dropped cs.present: wrote 1, reads back 0");
	got.cs.present = 1;
	assert_int_equal(kvmfs_table_compare(&kvmfs_sregs_table, &want, &got,
					     seen, err, sizeof(err)),
			 0);
	/* Without seen, every field counts. */
	assert_int_equal(kvmfs_table_compare(&kvmfs_sregs_table, &want, &got,
					     NULL, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err, "cr4"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_field_get_set),
		cmocka_unit_test(test_format_regs),
		cmocka_unit_test(test_format_sregs),
		cmocka_unit_test(test_format_nospace),
		cmocka_unit_test(test_regs_round_trip),
		cmocka_unit_test(test_sregs_round_trip),
		cmocka_unit_test(test_subset_write),
		cmocka_unit_test(test_sregs_subset),
		cmocka_unit_test(test_rejections_regs),
		cmocka_unit_test(test_rejections_sregs),
		cmocka_unit_test(test_hostile_name),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
