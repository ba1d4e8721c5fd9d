/* Unit tests of src/formats/exitfmt.c: the check of the guest-controlled fields of
 * struct kvm_run and the one-line run answers.  Each test forges a
 * kvm_run at the start of a zeroed buffer of RUN_SIZE bytes, the size KVM
 * maps for a vCPU, with IO data where KVM puts it (one page in); the
 * buffer is exactly that size, so a sanitizer build catches a read past
 * the mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/exitfmt.h"

#define RUN_SIZE	12288
#define IO_OFFSET	4096
#define RIP		0x1005ull
#define RIP_TEXT	" rip=0x0000000000001005"

static int setup(void **state)
{
	struct kvm_run *run = calloc(1, RUN_SIZE);

	if (!run)
		return -1;
	*state = run;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void set_io(struct kvm_run *run, uint8_t dir, uint16_t port,
		   uint8_t size, uint32_t count, uint64_t offset)
{
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = dir;
	run->io.port = port;
	run->io.size = size;
	run->io.count = count;
	run->io.data_offset = offset;
}

static int check(const struct kvm_run *run)
{
	char err[128];
	int ret;

	memset(err, 0, sizeof(err));
	ret = kvmfs_exit_check(run, RUN_SIZE, err, sizeof(err));
	/* A refusal always says why. */
	if (ret)
		assert_true(strlen(err) > 0);
	return ret;
}

/* Format into a roomy buffer and check the length matches the text. */
static const char *format(const struct kvm_run *run)
{
	static char buf[1024];
	int n;

	memset(buf, 'X', sizeof(buf));
	n = kvmfs_exit_format(run, RIP, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	return buf;
}

static void test_check_io_size(void **state)
{
	struct kvm_run *run = *state;
	static const uint8_t bad[] = { 0, 3, 5, 8, 255 };

	for (size_t i = 0; i < sizeof(bad); i++) {
		set_io(run, KVM_EXIT_IO_OUT, 0x10, bad[i], 1, IO_OFFSET);
		assert_int_equal(check(run), -EIO);
	}
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 1, 1, IO_OFFSET);
	assert_int_equal(check(run), 0);
	set_io(run, KVM_EXIT_IO_IN, 0x10, 2, 1, IO_OFFSET);
	assert_int_equal(check(run), 0);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 4, 1, IO_OFFSET);
	assert_int_equal(check(run), 0);
}

static void test_check_io_count_direction(void **state)
{
	struct kvm_run *run = *state;
	char err[128];

	set_io(run, KVM_EXIT_IO_OUT, 0x10, 1, 0, IO_OFFSET);
	assert_int_equal(kvmfs_exit_check(run, RUN_SIZE, err, sizeof(err)),
			 -EIO);
	assert_string_equal(err, "io.count is 0");
	set_io(run, 2, 0x10, 1, 1, IO_OFFSET);
	assert_int_equal(check(run), -EIO);
	set_io(run, 0xff, 0x10, 1, 1, IO_OFFSET);
	assert_int_equal(check(run), -EIO);
	/* A string instruction's many elements, all inside. */
	set_io(run, KVM_EXIT_IO_IN, 0x10, 4, 2048, IO_OFFSET);
	assert_int_equal(check(run), 0);
}

static void test_check_io_bounds(void **state)
{
	struct kvm_run *run = *state;

	/* The last byte of the mapping is fine, one more is not. */
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 1, 1, RUN_SIZE - 1);
	assert_int_equal(check(run), 0);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 1, 1, RUN_SIZE);
	assert_int_equal(check(run), -EIO);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 4, 1, RUN_SIZE - 4);
	assert_int_equal(check(run), 0);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 4, 1, RUN_SIZE - 3);
	assert_int_equal(check(run), -EIO);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 4, 2, RUN_SIZE - 4);
	assert_int_equal(check(run), -EIO);
	/* The whole second and third page exactly. */
	set_io(run, KVM_EXIT_IO_IN, 0x10, 4, 2048, IO_OFFSET);
	assert_int_equal(check(run), 0);
	set_io(run, KVM_EXIT_IO_IN, 0x10, 4, 2049, IO_OFFSET);
	assert_int_equal(check(run), -EIO);
	/* Offsets past the mapping. */
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 1, 1, RUN_SIZE + 1);
	assert_int_equal(check(run), -EIO);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 1, 1, 1ull << 32);
	assert_int_equal(check(run), -EIO);
	/* Sums that would wrap if formed naively. */
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 4, 1, UINT64_MAX);
	assert_int_equal(check(run), -EIO);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 4, 1, UINT64_MAX - 2);
	assert_int_equal(check(run), -EIO);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 4, 0xffffffff, IO_OFFSET);
	assert_int_equal(check(run), -EIO);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 4, 0xffffffff, UINT64_MAX - 8);
	assert_int_equal(check(run), -EIO);
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 1, 0xffffffff, 0);
	assert_int_equal(check(run), -EIO);
	/* A mapping smaller than the IO data's page. */
	set_io(run, KVM_EXIT_IO_OUT, 0x10, 1, 1, IO_OFFSET);
	assert_int_equal(kvmfs_exit_check(run, IO_OFFSET, NULL, 0), -EIO);
	assert_int_equal(kvmfs_exit_check(run, IO_OFFSET + 1, NULL, 0), 0);
}

static void test_check_mmio(void **state)
{
	struct kvm_run *run = *state;
	static const uint32_t bad[] = { 0, 9, 16, 0xffffffff };

	run->exit_reason = KVM_EXIT_MMIO;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run->mmio.len = bad[i];
		assert_int_equal(check(run), -EIO);
	}
	for (uint32_t len = 1; len <= 8; len++) {
		run->mmio.len = len;
		assert_int_equal(check(run), 0);
	}
}

static void test_check_other_reasons(void **state)
{
	struct kvm_run *run = *state;
	static const uint32_t reasons[] = {
		KVM_EXIT_HLT, KVM_EXIT_SHUTDOWN, KVM_EXIT_FAIL_ENTRY,
		KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_DEBUG, 999,
	};

	/* Nothing else is read from a union that holds junk. */
	memset(run, 0xff, RUN_SIZE);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		run->exit_reason = reasons[i];
		assert_int_equal(check(run), 0);
	}
}

static void test_format_io_out(void **state)
{
	struct kvm_run *run = *state;
	uint8_t *data = (uint8_t *)run + IO_OFFSET;

	set_io(run, KVM_EXIT_IO_OUT, 0x10, 1, 1, IO_OFFSET);
	data[0] = 0x42;
	data[1] = 0x99;	/* beyond size: not shown */
	assert_int_equal(check(run), 0);
	assert_string_equal(format(run), "io out port=0x0010 size=1 count=1 "
					 "data=0x42" RIP_TEXT);

	/* Little-endian, two hex digits per byte of the access. */
	set_io(run, KVM_EXIT_IO_OUT, 0x3f8, 2, 1, IO_OFFSET);
	data[0] = 0x34;
	data[1] = 0x12;
	data[2] = 0x77;
	assert_string_equal(format(run), "io out port=0x03f8 size=2 count=1 "
					 "data=0x1234" RIP_TEXT);
	set_io(run, KVM_EXIT_IO_OUT, 0xcf8, 4, 1, IO_OFFSET);
	data[0] = 0x78;
	data[1] = 0x56;
	data[2] = 0x34;
	data[3] = 0x12;
	assert_string_equal(format(run), "io out port=0x0cf8 size=4 count=1 "
					 "data=0x12345678" RIP_TEXT);
	/* Leading zero bytes keep their digits. */
	set_io(run, KVM_EXIT_IO_OUT, 0xffff, 4, 1, IO_OFFSET);
	data[0] = 0x01;
	data[1] = data[2] = data[3] = 0;
	assert_string_equal(format(run), "io out port=0xffff size=4 count=1 "
					 "data=0x00000001" RIP_TEXT);
	/* Data at the very end of the mapping. */
	set_io(run, KVM_EXIT_IO_OUT, 0x80, 4, 1, RUN_SIZE - 4);
	memcpy((uint8_t *)run + RUN_SIZE - 4, "\xef\xbe\xad\xde", 4);
	assert_int_equal(check(run), 0);
	assert_string_equal(format(run), "io out port=0x0080 size=4 count=1 "
					 "data=0xdeadbeef" RIP_TEXT);
}

static void test_format_io_in(void **state)
{
	struct kvm_run *run = *state;

	set_io(run, KVM_EXIT_IO_IN, 0x60, 1, 1, IO_OFFSET);
	((uint8_t *)run)[IO_OFFSET] = 0x55;
	assert_int_equal(check(run), 0);
	assert_string_equal(format(run),
			    "io in port=0x0060 size=1 count=1" RIP_TEXT);
	set_io(run, KVM_EXIT_IO_IN, 0x1f0, 2, 256, IO_OFFSET);
	assert_string_equal(format(run),
			    "io in port=0x01f0 size=2 count=256" RIP_TEXT);
}

static void test_format_mmio(void **state)
{
	struct kvm_run *run = *state;

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = 0xfee00000;
	run->mmio.len = 4;
	run->mmio.is_write = 0;
	memcpy(run->mmio.data, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_string_equal(format(run), "mmio read addr=0x00000000fee00000 "
					 "len=4" RIP_TEXT);
	run->mmio.is_write = 1;
	assert_string_equal(format(run), "mmio write addr=0x00000000fee00000 "
					 "len=4 data=0x44332211" RIP_TEXT);
	run->mmio.len = 1;
	run->mmio.phys_addr = 0xffffffffffffffffull;
	assert_string_equal(format(run), "mmio write addr=0xffffffffffffffff "
					 "len=1 data=0x11" RIP_TEXT);
	run->mmio.len = 8;
	assert_string_equal(format(run), "mmio write addr=0xffffffffffffffff "
					 "len=8 data=0x8877665544332211" RIP_TEXT);
}

static void test_format_simple(void **state)
{
	struct kvm_run *run = *state;

	run->exit_reason = KVM_EXIT_HLT;
	assert_string_equal(format(run), "hlt" RIP_TEXT);
	run->exit_reason = KVM_EXIT_SHUTDOWN;
	assert_string_equal(format(run), "shutdown" RIP_TEXT);

	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = 0x80000021;
	run->fail_entry.cpu = 3;
	assert_string_equal(format(run), "fail_entry reason=0x80000021 cpu=3"
					 RIP_TEXT);

	run->exit_reason = KVM_EXIT_DEBUG;
	run->debug.arch.exception = 1;
	run->debug.arch.dr6 = 0xffff4ff0;
	run->debug.arch.dr7 = 0x400;
	assert_string_equal(format(run), "debug exception=1 dr6=0xffff4ff0 "
					 "dr7=0x400" RIP_TEXT);

	run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	run->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
	assert_string_equal(format(run), "system_event type=1" RIP_TEXT);
}

static void test_format_internal_error(void **state)
{
	struct kvm_run *run = *state;
	const char *s;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->internal.ndata = 2;
	run->internal.data[0] = 0xabc;
	run->internal.data[1] = 0;
	run->internal.data[2] = 0x777;
	assert_string_equal(format(run), "internal_error suberror=1 ndata=2 "
					 "data0=0xabc data1=0x0" RIP_TEXT);

	/* The guest-visible count says 100; only 16 words exist. */
	run->internal.ndata = 100;
	for (int i = 0; i < 16; i++)
		run->internal.data[i] = (uint64_t)i + 0x10;
	s = format(run);
	assert_true(strncmp(s, "internal_error suberror=1 ndata=100 data0=0x10 ",
			    47) == 0);
	assert_non_null(strstr(s, " data15=0x1f" RIP_TEXT));
	assert_null(strstr(s, "data16"));

	run->internal.ndata = 0xffffffff;
	s = format(run);
	assert_non_null(strstr(s, " data15=0x1f" RIP_TEXT));
	assert_null(strstr(s, "data16"));
}

static void test_format_unknown(void **state)
{
	struct kvm_run *run = *state;

	run->exit_reason = 999;
	assert_null(kvmfs_exit_name(999));
	assert_string_equal(format(run), "exit reason=999" RIP_TEXT);
	run->exit_reason = 0xffffffff;
	assert_string_equal(format(run), "exit reason=4294967295" RIP_TEXT);
	assert_string_equal(kvmfs_exit_name(KVM_EXIT_HLT), "hlt");
	assert_string_equal(kvmfs_exit_name(KVM_EXIT_IO), "io");
	assert_string_equal(kvmfs_exit_name(KVM_EXIT_INTERNAL_ERROR),
			    "internal_error");
}

/* Every kind of answer into small buffers: bounded, terminated, and a
 * prefix of the full answer. */
static void test_format_tiny_buffer(void **state)
{
	struct kvm_run *run = *state;
	static const uint32_t reasons[] = {
		KVM_EXIT_IO, KVM_EXIT_MMIO, KVM_EXIT_HLT,
		KVM_EXIT_FAIL_ENTRY, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_DEBUG,
		KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_EXCEPTION, 999,
	};
	char full[1024];
	char buf[64];

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		memset(run, 0, RUN_SIZE);
		run->exit_reason = reasons[i];
		if (reasons[i] == KVM_EXIT_IO)
			set_io(run, KVM_EXIT_IO_OUT, 0x10, 4, 1, IO_OFFSET);
		run->mmio.len = 8;	/* shares the union with io */
		run->mmio.is_write = 1;
		if (reasons[i] == KVM_EXIT_INTERNAL_ERROR)
			run->internal.ndata = 16;
		assert_int_equal(check(run), 0);
		assert_true(kvmfs_exit_format(run, RIP, full, sizeof(full)) >
			    8);

		for (size_t cap = 1; cap <= 40; cap++) {
			int n;

			memset(buf, '#', sizeof(buf));
			n = kvmfs_exit_format(run, RIP, buf, cap);
			assert_true(n >= 0 && (size_t)n < cap);
			assert_int_equal(buf[n], '\0');
			assert_int_equal((size_t)n, strlen(buf));
			assert_true(strncmp(buf, full, (size_t)n) == 0);
			/* Not one byte past cap was written. */
			for (size_t k = cap; k < sizeof(buf); k++)
				assert_int_equal(buf[k], '#');
		}
		memset(buf, '#', sizeof(buf));
		assert_int_equal(kvmfs_exit_format(run, RIP, buf, 8), 7);
		assert_int_equal(buf[7], '\0');
		assert_int_equal(buf[8], '#');
	}
	/* cap 0 writes nothing at all. */
	memset(buf, '#', sizeof(buf));
	assert_int_equal(kvmfs_exit_format(run, RIP, buf, 0), 0);
	assert_int_equal(buf[0], '#');
}

static void test_le_value(void **state)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	assert_true(kvmfs_le_value(b, 0) == 0);
	assert_true(kvmfs_le_value(b, 1) == 0x01);
	assert_true(kvmfs_le_value(b, 2) == 0x0201);
	assert_true(kvmfs_le_value(b, 4) == 0x04030201);
	assert_true(kvmfs_le_value(b, 8) == 0x0807060504030201ull);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_check_io_size),
		T(test_check_io_count_direction),
		T(test_check_io_bounds),
		T(test_check_mmio),
		T(test_check_other_reasons),
		T(test_format_io_out),
		T(test_format_io_in),
		T(test_format_mmio),
		T(test_format_simple),
		T(test_format_internal_error),
		T(test_format_unknown),
		T(test_format_tiny_buffer),
		cmocka_unit_test(test_le_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
