/* Unit tests of src/x86/rules.c: every state the modes set passes the
 * rules; each broken rule is refused with a reason that names it; the
 * reset vector outside memory is recognised; changed fields are listed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "x86/modes.h"
#include "x86/rules.h"

/* The state KVM gives a new vCPU: real mode at the reset vector. */
static struct kvm_sregs reset_state(void)
{
	struct kvm_sregs s;

	memset(&s, 0, sizeof(s));
	s.cr0 = 0x60000010;
	s.cs.base = 0xffff0000;
	s.cs.selector = 0xf000;
	return s;
}

static void each_mode_passes(void **state)
{
	static const enum kvmfs_mode modes[] = { KVMFS_MODE_REAL, KVMFS_MODE_PROTECTED,
						 KVMFS_MODE_PAGED32, KVMFS_MODE_LONG };
	uint64_t size = 0x200000;
	uint8_t *mem = calloc(1, size);
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct kvmfs_mode_args a = { .mode = modes[i] };
		struct kvm_sregs s = reset_state();
		struct kvm_regs r;

		memset(&r, 0, sizeof(r));
		assert_int_equal(kvmfs_mode_setup(&a, mem, size, &s, &r, err, sizeof(err)), 0);
		assert_int_equal(kvmfs_sregs_rules(&s, err, sizeof(err)), 0);
		assert_int_equal(kvmfs_run_start_check(&s, r.rip, size, err, sizeof(err)), 0);
	}
	free(mem);
}

static void expect_broken(struct kvm_sregs s, const char *needle)
{
	char err[256];

	err[0] = 0;
	assert_int_equal(kvmfs_sregs_rules(&s, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("reason '%s' does not contain '%s'", err, needle);
}

static void broken_rules_are_named(void **state)
{
	struct kvm_sregs s = reset_state();

	(void)state;
	assert_int_equal(kvmfs_sregs_rules(&s, NULL, 0), 0);
	s.efer = 0x500;	/* LME|LMA without paging */
	expect_broken(s, "LMA");
	s = reset_state();
	s.cs.l = 1;
	expect_broken(s, "cs.l 1 (64-bit code) needs long mode");
	s = reset_state();
	s.cr4 = 0x4000000;	/* bit 26: no CPU has it */
	expect_broken(s, "cr4 bits 0x4000000 are reserved");
	s = reset_state();
	s.cr0 |= 1ull << 31;	/* PG without PE */
	expect_broken(s, "needs protected mode");
	s = reset_state();
	s.cr0 = 1 | 1ull << 31 | 1ull << 29;	/* NW without CD */
	expect_broken(s, "NW");
	s = reset_state();
	s.cr0 = 1ull << 32;
	expect_broken(s, "cr0 bits 63-32");
	s = reset_state();
	s.efer = 1ull << 2;
	expect_broken(s, "efer bits 0x4 are reserved");
	s = reset_state();
	s.cr0 = 0x80000011;
	s.efer = 0x500;	/* long mode without PAE */
	expect_broken(s, "needs PAE");
	s.cr4 = 0x20;
	s.efer = 0x100;	/* LME and PG, LMA clear */
	expect_broken(s, "set efer bit 10");
	s.efer = 0x500;
	assert_int_equal(kvmfs_sregs_rules(&s, NULL, 0), 0);
	s.cs.l = 1;
	s.cs.db = 1;
	expect_broken(s, "cs.db 1 is reserved");
	s = reset_state();
	s.cr4 = 1ull << 17;
	expect_broken(s, "PCIDE");
}

static void reset_vector_outside_memory(void **state)
{
	struct kvm_sregs s = reset_state();
	char err[256];

	(void)state;
	assert_int_equal(kvmfs_run_start_check(&s, 0xfff0, 0x10000, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "reset vector"));
	assert_non_null(strstr(err, "echo 'mode real' > ctl"));
	/* Memory that reaches the reset vector: allowed. */
	assert_int_equal(kvmfs_run_start_check(&s, 0xfff0, 0x100000000ull, err, sizeof(err)), 0);
	/* Real mode uses 16 bits of rip. */
	s.cs.base = 0;
	assert_int_equal(kvmfs_run_start_check(&s, 0x10000, 0x10000, err, sizeof(err)), 0);
	assert_int_equal(kvmfs_run_start_check(&s, 0xfff0, 0x1000, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0xfff0, is outside memory"));
	/* Protected mode: cs.base + eip. */
	s.cr0 = 1;
	assert_int_equal(kvmfs_run_start_check(&s, 0x10000, 0x10000, err, sizeof(err)), -EINVAL);
	/* With paging the walk decides: no check. */
	s.cr0 = 0x80000001;
	assert_int_equal(kvmfs_run_start_check(&s, 0xffffffff, 0x1000, err, sizeof(err)), 0);
}

static void changes_listed(void **state)
{
	struct kvm_sregs a = reset_state(), b = a;
	char out[256];

	(void)state;
	kvmfs_sregs_changes(&a, &b, out, sizeof(out));
	assert_string_equal(out, "");
	b.cr4 = 0x1000000;
	b.efer = 1;
	kvmfs_sregs_changes(&a, &b, out, sizeof(out));
	assert_string_equal(out, "cr4 0x0 -> 0x1000000, efer 0x0 -> 0x1");
	kvmfs_sregs_changes(&a, &b, out, 10);
	assert_true(strlen(out) < 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_mode_passes),
		cmocka_unit_test(broken_rules_are_named),
		cmocka_unit_test(reset_vector_outside_memory),
		cmocka_unit_test(changes_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
