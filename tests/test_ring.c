/* Unit tests of src/lib/ring.c, the console ring: appends that wrap, that fill
 * it exactly or overfill it, reads at and around the held window, and
 * resizes that must keep the newest bytes at their absolute positions.
 * A last test drives the ring and a plain "whole stream" model with the
 * same random operations and compares every byte the ring still holds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ring.h"

/* Append a NUL-terminated literal. */
static void put(struct kvmfs_ring *r, const char *s)
{
	kvmfs_ring_append(r, s, strlen(s));
}

/* Read everything from pos on into a NUL-terminated buffer. */
static size_t get(const struct kvmfs_ring *r, uint64_t pos, char *out,
		  size_t cap)
{
	size_t n = kvmfs_ring_read(r, pos, out, cap - 1);

	out[n] = '\0';
	return n;
}

/* No byte is dropped unless it stops being held, and none is both. */
static void assert_accounting(const struct kvmfs_ring *r)
{
	assert_true(r->start <= r->total);
	assert_true(r->total - r->start <= r->cap);
	assert_true(r->dropped == r->start);
	assert_true(kvmfs_ring_start(r) == r->start);
}

static void test_init(void **state)
{
	struct kvmfs_ring r;
	char out[8];

	(void)state;
	assert_int_equal(kvmfs_ring_init(&r, 0), -EINVAL);
	assert_null(r.buf);
	assert_int_equal(kvmfs_ring_init(&r, 8), 0);
	assert_int_equal(r.cap, 8);
	assert_true(r.total == 0 && r.start == 0 && r.dropped == 0);
	/* Nothing to read in an empty ring. */
	assert_int_equal(kvmfs_ring_read(&r, 0, out, sizeof(out)), 0);
	/* The buffer comes with the first byte, not with init or an empty
	 * append: an idle VM's console costs nothing. */
	assert_null(r.buf);
	kvmfs_ring_append(&r, "", 0);
	assert_true(r.total == 0);
	assert_null(r.buf);
	kvmfs_ring_append(&r, "a", 1);
	assert_non_null(r.buf);
	assert_int_equal(kvmfs_ring_read(&r, 0, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'a');
	kvmfs_ring_free(&r);
	assert_null(r.buf);
	assert_int_equal(r.cap, 0);
}

static void test_append_read(void **state)
{
	struct kvmfs_ring r;
	char out[32];

	(void)state;
	assert_int_equal(kvmfs_ring_init(&r, 16), 0);
	put(&r, "hello ");
	put(&r, "world");
	assert_int_equal(get(&r, 0, out, sizeof(out)), 11);
	assert_string_equal(out, "hello world");
	/* From the middle, and a short read. */
	assert_int_equal(get(&r, 6, out, sizeof(out)), 5);
	assert_string_equal(out, "world");
	assert_int_equal(kvmfs_ring_read(&r, 2, out, 3), 3);
	assert_memory_equal(out, "llo", 3);
	/* Zero-length read of a held position. */
	assert_int_equal(kvmfs_ring_read(&r, 3, out, 0), 0);
	/* At the end and past it: EOF. */
	assert_int_equal(kvmfs_ring_read(&r, 11, out, sizeof(out)), 0);
	assert_int_equal(kvmfs_ring_read(&r, 12, out, sizeof(out)), 0);
	assert_int_equal(kvmfs_ring_read(&r, UINT64_MAX, out, sizeof(out)), 0);
	assert_accounting(&r);
	assert_true(r.dropped == 0);
	kvmfs_ring_free(&r);
}

static void test_wrap(void **state)
{
	struct kvmfs_ring r;
	char out[32];

	(void)state;
	assert_int_equal(kvmfs_ring_init(&r, 8), 0);
	put(&r, "abcdef");
	put(&r, "ghij");	/* wraps: "ij" lands at the buffer start */
	assert_true(r.total == 10);
	assert_true(r.start == 2);
	assert_true(r.dropped == 2);
	assert_int_equal(get(&r, 2, out, sizeof(out)), 8);
	assert_string_equal(out, "cdefghij");
	/* A read that itself crosses the end of the buffer. */
	assert_int_equal(get(&r, 6, out, sizeof(out)), 4);
	assert_string_equal(out, "ghij");
	assert_int_equal(kvmfs_ring_read(&r, 7, out, 2), 2);
	assert_memory_equal(out, "hi", 2);
	/* Positions before the start are gone. */
	assert_int_equal(kvmfs_ring_read(&r, 0, out, sizeof(out)), 0);
	assert_int_equal(kvmfs_ring_read(&r, 1, out, sizeof(out)), 0);
	assert_accounting(&r);

	/* Many small appends going round several times. */
	for (int i = 0; i < 5; i++)
		put(&r, "123");
	assert_true(r.total == 25);
	assert_true(r.start == 17);
	assert_int_equal(get(&r, 17, out, sizeof(out)), 8);
	assert_string_equal(out, "23123123");
	assert_accounting(&r);
	kvmfs_ring_free(&r);
}

static void test_exact_capacity(void **state)
{
	struct kvmfs_ring r;
	char out[32];

	(void)state;
	assert_int_equal(kvmfs_ring_init(&r, 8), 0);
	put(&r, "01234567");
	assert_true(r.start == 0 && r.total == 8 && r.dropped == 0);
	assert_int_equal(get(&r, 0, out, sizeof(out)), 8);
	assert_string_equal(out, "01234567");

	/* Exactly one capacity more replaces everything. */
	put(&r, "abcdefgh");
	assert_true(r.start == 8 && r.total == 16 && r.dropped == 8);
	assert_int_equal(get(&r, 8, out, sizeof(out)), 8);
	assert_string_equal(out, "abcdefgh");

	/* A full capacity append into a part-filled, wrapped ring. */
	put(&r, "xyz");
	put(&r, "ABCDEFGH");
	assert_true(r.start == 19 && r.total == 27 && r.dropped == 19);
	assert_int_equal(get(&r, 19, out, sizeof(out)), 8);
	assert_string_equal(out, "ABCDEFGH");
	assert_accounting(&r);
	kvmfs_ring_free(&r);
}

static void test_over_capacity(void **state)
{
	struct kvmfs_ring r;
	char out[32];

	(void)state;
	assert_int_equal(kvmfs_ring_init(&r, 8), 0);
	put(&r, "old");
	/* 20 bytes into a ring of 8 holding 3: only the last 8 survive. */
	put(&r, "ABCDEFGHIJKLmnopqrst");
	assert_true(r.total == 23);
	assert_true(r.start == 15);
	assert_true(r.dropped == 15);
	assert_int_equal(get(&r, 15, out, sizeof(out)), 8);
	assert_string_equal(out, "mnopqrst");
	/* The skipped middle of that append is not readable either. */
	assert_int_equal(kvmfs_ring_read(&r, 3, out, sizeof(out)), 0);
	assert_int_equal(kvmfs_ring_read(&r, 14, out, sizeof(out)), 0);
	assert_accounting(&r);

	/* Over capacity again, now from a position that is not 0 mod cap. */
	put(&r, "u");
	put(&r, "0123456789");
	assert_true(r.total == 34);
	assert_true(r.start == 26);
	assert_int_equal(get(&r, 26, out, sizeof(out)), 8);
	assert_string_equal(out, "23456789");
	assert_accounting(&r);
	kvmfs_ring_free(&r);
}

static void test_resize_bigger(void **state)
{
	struct kvmfs_ring r;
	char out[64];

	(void)state;
	assert_int_equal(kvmfs_ring_init(&r, 8), 0);
	put(&r, "abcdefghijkl");	/* holds 4..11 "efghijkl", wrapped */
	assert_true(r.start == 4 && r.dropped == 4);
	assert_int_equal(kvmfs_ring_resize(&r, 32), 0);
	assert_int_equal(r.cap, 32);
	assert_true(r.start == 4 && r.total == 12 && r.dropped == 4);
	assert_int_equal(get(&r, 4, out, sizeof(out)), 8);
	assert_string_equal(out, "efghijkl");
	assert_int_equal(get(&r, 9, out, sizeof(out)), 3);
	assert_string_equal(out, "jkl");
	assert_int_equal(kvmfs_ring_read(&r, 3, out, sizeof(out)), 0);
	/* The new room is usable without drops. */
	put(&r, "0123456789ABCDEFGHIJKLMN");
	assert_true(r.total == 36 && r.start == 4 && r.dropped == 4);
	assert_int_equal(get(&r, 4, out, sizeof(out)), 32);
	assert_string_equal(out, "efghijkl0123456789ABCDEFGHIJKLMN");
	assert_accounting(&r);
	kvmfs_ring_free(&r);
}

static void test_resize_smaller(void **state)
{
	struct kvmfs_ring r;
	char out[64];

	(void)state;
	assert_int_equal(kvmfs_ring_init(&r, 16), 0);
	put(&r, "0123456789");
	put(&r, "abcdefghij");	/* holds 4..19, wrapped */
	assert_true(r.start == 4 && r.dropped == 4);
	assert_int_equal(kvmfs_ring_resize(&r, 5), 0);
	assert_int_equal(r.cap, 5);
	/* The newest 5 bytes stay at positions 15..19. */
	assert_true(r.total == 20);
	assert_true(r.start == 15);
	assert_true(r.dropped == 15);
	assert_int_equal(get(&r, 15, out, sizeof(out)), 5);
	assert_string_equal(out, "fghij");
	assert_int_equal(kvmfs_ring_read(&r, 14, out, sizeof(out)), 0);
	assert_accounting(&r);
	kvmfs_ring_free(&r);

	/* Shrinking to more than is held drops nothing. */
	assert_int_equal(kvmfs_ring_init(&r, 16), 0);
	put(&r, "abc");
	assert_int_equal(kvmfs_ring_resize(&r, 4), 0);
	assert_true(r.start == 0 && r.total == 3 && r.dropped == 0);
	assert_int_equal(get(&r, 0, out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	kvmfs_ring_free(&r);
}

static void test_resize_keeps_empty_and_large(void **state)
{
	struct kvmfs_ring r;
	uint8_t *in, *out;
	const size_t held = 9000;	/* more than one internal chunk */

	(void)state;
	/* An empty ring stays empty at its position, and unallocated. */
	assert_int_equal(kvmfs_ring_init(&r, 8), 0);
	assert_int_equal(kvmfs_ring_resize(&r, 3), 0);
	assert_true(r.total == 0 && r.start == 0 && r.dropped == 0);
	assert_int_equal(r.cap, 3);
	assert_null(r.buf);
	kvmfs_ring_free(&r);

	in = malloc(held + 100);
	out = malloc(held + 100);
	assert_non_null(in);
	assert_non_null(out);
	for (size_t i = 0; i < held + 100; i++)
		in[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(kvmfs_ring_init(&r, held), 0);
	kvmfs_ring_append(&r, in, held + 100);	/* holds 100..9099 */
	assert_int_equal(kvmfs_ring_resize(&r, 20000), 0);
	assert_true(r.start == 100 && r.total == held + 100);
	assert_int_equal(kvmfs_ring_read(&r, 100, out, held + 100), held);
	assert_memory_equal(out, in + 100, held);
	assert_int_equal(kvmfs_ring_resize(&r, 4097), 0);
	assert_true(r.start == held + 100 - 4097);
	assert_true(r.dropped == r.start);
	assert_int_equal(kvmfs_ring_read(&r, r.start, out, held), 4097);
	assert_memory_equal(out, in + r.start, 4097);
	kvmfs_ring_free(&r);
	free(in);
	free(out);
}

static void test_resize_zero_refused(void **state)
{
	struct kvmfs_ring r;
	char out[16];

	(void)state;
	assert_int_equal(kvmfs_ring_init(&r, 8), 0);
	put(&r, "abcdefghij");
	assert_int_equal(kvmfs_ring_resize(&r, 0), -EINVAL);
	/* The ring is as it was. */
	assert_int_equal(r.cap, 8);
	assert_true(r.start == 2 && r.total == 10 && r.dropped == 2);
	assert_int_equal(get(&r, 2, out, sizeof(out)), 8);
	assert_string_equal(out, "cdefghij");
	kvmfs_ring_free(&r);
}

/* xorshift: a fixed sequence, so a failure repeats. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_against_model(void **state)
{
	enum { STREAM = 1 << 20 };
	uint8_t *stream = malloc(STREAM);
	uint8_t chunk[300], out[600];
	struct kvmfs_ring r;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint64_t total = 0;

	(void)state;
	assert_non_null(stream);
	assert_int_equal(kvmfs_ring_init(&r, 64), 0);
	while (total + sizeof(chunk) < STREAM) {
		uint64_t op = next_rand(&seed);
		size_t len = next_rand(&seed) % sizeof(chunk);

		if (op % 17 == 0) {
			size_t cap = 1 + next_rand(&seed) % 400;

			assert_int_equal(kvmfs_ring_resize(&r, cap), 0);
		} else {
			for (size_t i = 0; i < len; i++)
				chunk[i] = (uint8_t)next_rand(&seed);
			kvmfs_ring_append(&r, chunk, len);
			memcpy(stream + total, chunk, len);
			total += len;
		}
		assert_true(r.total == total);
		assert_accounting(&r);
		/* Every held byte is the stream's byte at that position. */
		assert_int_equal(kvmfs_ring_read(&r, r.start, out, sizeof(out)),
				 r.total - r.start);
		assert_memory_equal(out, stream + r.start, r.total - r.start);
		/* A read from a random held position. */
		if (r.total > r.start) {
			uint64_t pos = r.start +
				       next_rand(&seed) % (r.total - r.start);
			size_t want = next_rand(&seed) % 50;
			size_t got = kvmfs_ring_read(&r, pos, out, want);

			assert_int_equal(got, want < r.total - pos ?
						      want : r.total - pos);
			assert_memory_equal(out, stream + pos, got);
		}
		if (r.start > 0)
			assert_int_equal(kvmfs_ring_read(&r, r.start - 1, out,
							 sizeof(out)),
					 0);
	}
	kvmfs_ring_free(&r);
	free(stream);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_append_read),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_exact_capacity),
		cmocka_unit_test(test_over_capacity),
		cmocka_unit_test(test_resize_bigger),
		cmocka_unit_test(test_resize_smaller),
		cmocka_unit_test(test_resize_keeps_empty_and_large),
		cmocka_unit_test(test_resize_zero_refused),
		cmocka_unit_test(test_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
