/* Helpers shared by the two benchmark programs (direct.c and
 * kvmfs-client.c): a monotonic clock, counts from the command line,
 * guest images, the console ring both sides append to, and the one
 * number each measurement prints.  Every function returns 0 or -errno;
 * only main() turns an error into a message and an exit status. */
#ifndef KVMFS_BENCH_H
#define KVMFS_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* The largest guest image the programs load (the 4 KiB lifecycle guest). */
#define BENCH_IMAGE_MAX 4096
/* Same size as kvmfs's default console ring, so both sides do the same
 * copying for every byte the guest writes. */
#define BENCH_CONSOLE_SIZE (1u << 20)

struct bench_image {
	uint8_t data[BENCH_IMAGE_MAX];
	size_t len;
};

struct bench_ring {
	uint8_t *buf;
	size_t cap;
	uint64_t total;
};

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* Where the time of a repeated sequence of steps goes: lap() adds the
 * time since the previous lap to phase i; print() shows the mean of each
 * phase in microseconds on stderr. */
#define BENCH_PHASES 8
struct bench_phases {
	const char *name[BENCH_PHASES];
	double sum[BENCH_PHASES];
	double last;
};
void bench_phases_init(struct bench_phases *p, const char *const *names);
void bench_lap(struct bench_phases *p, int i);
void bench_phases_print(const struct bench_phases *p, const char *what,
			unsigned long n);

/* A positive count, decimal or 0x-hex. */
int bench_parse_count(const char *s, unsigned long *out);

/* DIR/NAME.bin into img; pad > 0 pads it with zeros to pad bytes. */
int bench_load_image(const char *dir, const char *name, size_t pad,
		     struct bench_image *img);

int bench_ring_init(struct bench_ring *r, size_t cap);
void bench_ring_append(struct bench_ring *r, const void *data, size_t len);
void bench_ring_free(struct bench_ring *r);

/* The result of a measurement: one number on stdout, nothing else. */
void bench_result(double value);

/* Print "PROG: WHAT: strerror(-err)" on stderr; returns 1 for exit(). */
int bench_fail(const char *prog, const char *what, int err);

#endif
