/* The CMOS clock (devices/rtc.h): the time from the host's clock in the
 * forms register B asks for, the status registers a driver polls, the RAM,
 * and the bus handler's byte-by-byte access. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/rtc.h"

/* 2026-12-02 13:05:09 UTC, a Wednesday. */
static time_t fixed(void)
{
	return 1796216709;
}

static uint8_t get(struct kvmfs_rtc *r, uint8_t reg)
{
	kvmfs_rtc_write(r, 0x70, reg);
	return kvmfs_rtc_read(r, 0x71);
}

static void set(struct kvmfs_rtc *r, uint8_t reg, uint8_t v)
{
	kvmfs_rtc_write(r, 0x70, reg);
	kvmfs_rtc_write(r, 0x71, v);
}

static struct kvmfs_rtc rtc(void)
{
	struct kvmfs_rtc r = { .now = fixed };

	kvmfs_rtc_init(&r);
	return r;
}

static void test_time_bcd(void **state)
{
	struct kvmfs_rtc r = rtc();

	(void)state;
	assert_int_equal(get(&r, 0), 0x09);
	assert_int_equal(get(&r, 2), 0x05);
	assert_int_equal(get(&r, 4), 0x13);
	assert_int_equal(get(&r, 6), 4);	/* Sunday is 1 */
	assert_int_equal(get(&r, 7), 0x02);
	assert_int_equal(get(&r, 8), 0x12);
	assert_int_equal(get(&r, 9), 0x26);
	assert_int_equal(get(&r, 0x32), 0x20);
}

static void test_time_forms(void **state)
{
	struct kvmfs_rtc r = rtc();

	(void)state;
	set(&r, 0x0b, 0x06);			/* binary, 24 hours */
	assert_int_equal(get(&r, 4), 13);
	assert_int_equal(get(&r, 9), 26);
	set(&r, 0x0b, 0x00);			/* BCD, 12 hours: 1 pm */
	assert_int_equal(get(&r, 4), 0x81);
	set(&r, 0x0b, 0x04);			/* binary, 12 hours */
	assert_int_equal(get(&r, 4), 0x81);
}

/* What a driver polls: never an update in progress, a valid battery, no
 * interrupt pending; the time is the host's, whatever is written. */
static void test_status(void **state)
{
	struct kvmfs_rtc r = rtc();

	(void)state;
	assert_int_equal(get(&r, 0x0a), 0x26);
	set(&r, 0x0a, 0xa6);
	assert_int_equal(get(&r, 0x0a), 0x26);
	assert_int_equal(get(&r, 0x0b), 0x02);
	assert_int_equal(get(&r, 0x0c), 0);
	set(&r, 0x0c, 0xff);
	assert_int_equal(get(&r, 0x0c), 0);
	assert_int_equal(get(&r, 0x0d), 0x80);
	set(&r, 0, 0x59);
	assert_int_equal(get(&r, 0), 0x09);
	set(&r, 1, 0x30);			/* an alarm is stored */
	assert_int_equal(get(&r, 1), 0x30);
	/* The index port reads all ones; bit 7 of an index is the NMI mask. */
	assert_int_equal(kvmfs_rtc_read(&r, 0x70), 0xff);
	kvmfs_rtc_write(&r, 0x70, 0x80 | 0x20);
	kvmfs_rtc_write(&r, 0x71, 0x5a);
	assert_int_equal(get(&r, 0x20), 0x5a);
	set(&r, 0x7f, 0xa5);
	assert_int_equal(get(&r, 0x7f), 0xa5);
	kvmfs_rtc_init(&r);
	assert_int_equal(get(&r, 0x7f), 0);
	assert_int_equal(get(&r, 0), 0x09);	/* init keeps the clock */
}

static void test_bus(void **state)
{
	struct kvmfs_rtc r = rtc();
	struct kvmfs_bus b;
	uint8_t d[2] = { 0x04, 0 };
	struct kvmfs_bus_access a = { KVMFS_BUS_PIO, true, 0x70, 1, 1, d };

	(void)state;
	kvmfs_bus_init(&b);
	assert_int_equal(kvmfs_rtc_attach(&r, &b), 0);
	assert_true(kvmfs_bus_dispatch(&b, &a));
	a.write = false;
	a.addr = 0x71;
	assert_true(kvmfs_bus_dispatch(&b, &a));
	assert_int_equal(d[0], 0x13);
	/* A word at 0x70: the index, then the data port's byte. */
	d[0] = 0x09;
	d[1] = 0;
	a.write = true;
	a.addr = 0x70;
	a.size = 2;
	assert_true(kvmfs_bus_dispatch(&b, &a));
	assert_int_equal(get(&r, 0x09), 0x26);
	assert_int_equal(kvmfs_bus_hits(&b, KVMFS_RTC_NAME), 3);
	kvmfs_bus_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_bcd),
		cmocka_unit_test(test_time_forms),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_bus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
