/* Unit tests of src/devices/bus.c, the device bus: registering ranges and
 * their refusals (one may end on the last byte of the space), dispatch to
 * the device holding an access's first byte and, when it declines, to
 * the newest policy range holding it; the policy table, where the same
 * range again replaces its action, and its refusals; and the edit ctl's
 * plan makes on a copy of the table, which must foresee set_policy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "devices/bus.h"

/* A device that takes writes only, and counts what it was offered. */
static bool writes_only(void *ctx, const struct kvmfs_bus_access *a)
{
	unsigned *calls = ctx;

	(*calls)++;
	return a->write;
}

static void test_register(void **state)
{
	struct kvmfs_bus b;
	unsigned calls = 0;

	(void)state;
	kvmfs_bus_init(&b);
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_PIO, 0x10, 0, "a",
					    writes_only, &calls), -EINVAL);
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_PIO, 0x10, 1, NULL,
					    writes_only, &calls), -EINVAL);
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_MMIO, UINT64_MAX - 1,
					    3, "a", writes_only, &calls),
			 -EINVAL);
	/* The last byte of the space is a place like any other. */
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_MMIO, UINT64_MAX - 15,
					    16, "top", writes_only, &calls), 0);
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_MMIO, UINT64_MAX, 1,
					    "b", writes_only, &calls), -EEXIST);
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_PIO, 0x10, 4, "a",
					    writes_only, &calls), 0);
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_PIO, 0x13, 1, "b",
					    writes_only, &calls), -EEXIST);
	/* Other spaces do not overlap. */
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_MMIO, 0x13, 1, "b",
					    writes_only, &calls), 0);
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_PIO, 0x14, 1, "b",
					    writes_only, &calls), 0);
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_PIO, 0x15, 1, "c",
					    writes_only, &calls), -ENOSPC);
	kvmfs_bus_free(&b);
}

static void test_dispatch(void **state)
{
	struct kvmfs_bus b;
	unsigned calls = 0;
	uint8_t d[8];
	struct kvmfs_bus_access a = { KVMFS_BUS_MMIO, false, UINT64_MAX, 4, 2, d };

	(void)state;
	kvmfs_bus_init(&b);
	assert_int_equal(kvmfs_bus_register(&b, KVMFS_BUS_MMIO, UINT64_MAX - 15,
					    16, "top", writes_only, &calls), 0);
	/* Declined and no policy: not taken, DATA untouched. */
	memset(d, 0xa5, sizeof(d));
	assert_false(kvmfs_bus_dispatch(&b, &a));
	assert_int_equal(calls, 1);
	assert_int_equal(d[0], 0xa5);
	/* Ignored: all ones, for size * count bytes. */
	assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_MMIO, UINT64_MAX,
					      UINT64_MAX, KVMFS_BUS_IGNORE), 0);
	assert_true(kvmfs_bus_dispatch(&b, &a));
	for (unsigned i = 0; i < sizeof(d); i++)
		assert_int_equal(d[i], 0xff);
	a.write = true;
	assert_true(kvmfs_bus_dispatch(&b, &a));
	assert_int_equal(kvmfs_bus_hits(&b, "top"), 1);
	/* The newest overlapping range decides. */
	assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_PIO, 0, 0xffff,
					      KVMFS_BUS_IGNORE), 0);
	assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_PIO, 0x80, 0x8f,
					      KVMFS_BUS_STOP), 0);
	a = (struct kvmfs_bus_access){ KVMFS_BUS_PIO, false, 0x80, 1, 1, d };
	assert_false(kvmfs_bus_dispatch(&b, &a));
	a.addr = 0x90;
	assert_true(kvmfs_bus_dispatch(&b, &a));
	kvmfs_bus_free(&b);
}

static void test_set_policy(void **state)
{
	struct kvmfs_bus b;
	struct kvmfs_bus_policy t[KVMFS_BUS_MAX_POLICIES];
	uint8_t d[1];
	struct kvmfs_bus_access a = { KVMFS_BUS_PIO, false, 0x0, 1, 1, d };
	unsigned n;

	(void)state;
	kvmfs_bus_init(&b);
	assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_PIO, 2, 1,
					      KVMFS_BUS_IGNORE), -EINVAL);
	for (unsigned i = 0; i < KVMFS_BUS_MAX_POLICIES; i++)
		assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_PIO, i, i,
						      KVMFS_BUS_IGNORE), 0);
	assert_true(kvmfs_bus_dispatch(&b, &a));
	/* Full: a new range is refused, the table as it was ... */
	assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_MMIO, 0, 0,
					      KVMFS_BUS_IGNORE), -ENOSPC);
	assert_int_equal(kvmfs_bus_policies(&b, t, KVMFS_BUS_MAX_POLICIES),
			 KVMFS_BUS_MAX_POLICIES);
	assert_int_equal(t[0].first, 0);
	assert_int_equal(t[0].hits, 1);
	/* ... but the same range again replaces its action: it becomes the
	 * newest, counted afresh. */
	assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_PIO, 0, 0,
					      KVMFS_BUS_STOP), 0);
	n = kvmfs_bus_policies(&b, t, KVMFS_BUS_MAX_POLICIES);
	assert_int_equal(n, KVMFS_BUS_MAX_POLICIES);
	assert_int_equal(t[0].first, 1);
	assert_int_equal(t[n - 1].first, 0);
	assert_int_equal(t[n - 1].action, KVMFS_BUS_STOP);
	assert_int_equal(t[n - 1].hits, 0);
	assert_false(kvmfs_bus_dispatch(&b, &a));
	/* A short copy. */
	assert_int_equal(kvmfs_bus_policies(&b, t, 3), 3);
	kvmfs_bus_clear_policies(&b);
	assert_int_equal(kvmfs_bus_policies(&b, t, KVMFS_BUS_MAX_POLICIES), 0);
	kvmfs_bus_free(&b);
}

/* ctl plans a multi-line write with kvmfs_bus_policy_put on a copy of the
 * table: on a nearly full one, lines that set ranges again fit, and the
 * plan refuses exactly the line that set_policy refuses. */
static void test_plan(void **state)
{
	struct kvmfs_bus b;
	struct kvmfs_bus_policy t[KVMFS_BUS_MAX_POLICIES];
	struct kvmfs_bus_policy after[KVMFS_BUS_MAX_POLICIES];
	unsigned n;

	(void)state;
	kvmfs_bus_init(&b);
	for (unsigned i = 0; i < KVMFS_BUS_MAX_POLICIES - 1; i++)
		assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_PIO,
						      0x10 * i, 0x10 * i + 0xf,
						      KVMFS_BUS_STOP), 0);
	n = kvmfs_bus_policies(&b, t, KVMFS_BUS_MAX_POLICIES);
	/* Every range again, and one new: the table fills up exactly. */
	for (unsigned i = 0; i < KVMFS_BUS_MAX_POLICIES - 1; i++)
		assert_int_equal(kvmfs_bus_policy_put(t, &n, KVMFS_BUS_PIO,
						      0x10 * i, 0x10 * i + 0xf,
						      KVMFS_BUS_IGNORE), 0);
	assert_int_equal(n, KVMFS_BUS_MAX_POLICIES - 1);
	assert_int_equal(kvmfs_bus_policy_put(t, &n, KVMFS_BUS_MMIO, 0, 0xfff,
					      KVMFS_BUS_IGNORE), 0);
	assert_int_equal(kvmfs_bus_policy_put(t, &n, KVMFS_BUS_MMIO, 0, 0xfff,
					      KVMFS_BUS_STOP), 0);
	assert_int_equal(kvmfs_bus_policy_put(t, &n, KVMFS_BUS_MMIO, 0, 0xffe,
					      KVMFS_BUS_STOP), -ENOSPC);
	assert_int_equal(kvmfs_bus_policy_put(t, &n, KVMFS_BUS_MMIO, 1, 0,
					      KVMFS_BUS_STOP), -EINVAL);
	assert_int_equal(n, KVMFS_BUS_MAX_POLICIES);

	/* Applied, the same lines give the same table. */
	for (unsigned i = 0; i < KVMFS_BUS_MAX_POLICIES - 1; i++)
		assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_PIO,
						      0x10 * i, 0x10 * i + 0xf,
						      KVMFS_BUS_IGNORE), 0);
	assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_MMIO, 0, 0xfff,
					      KVMFS_BUS_IGNORE), 0);
	assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_MMIO, 0, 0xfff,
					      KVMFS_BUS_STOP), 0);
	assert_int_equal(kvmfs_bus_set_policy(&b, KVMFS_BUS_MMIO, 0, 0xffe,
					      KVMFS_BUS_STOP), -ENOSPC);
	assert_int_equal(kvmfs_bus_policies(&b, after, KVMFS_BUS_MAX_POLICIES),
			 n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(after[i].space, t[i].space);
		assert_int_equal(after[i].first, t[i].first);
		assert_int_equal(after[i].last, t[i].last);
		assert_int_equal(after[i].action, t[i].action);
	}
	kvmfs_bus_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_set_policy),
		cmocka_unit_test(test_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
