/* The pieces both benchmark programs share: the clock, argument and
 * guest-image helpers, and a console ring that copies guest output the
 * way kvmfs's ring does (absolute position modulo capacity), so the
 * baseline pays for the console exactly as the server does. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_phases_init(struct bench_phases *p, const char *const *names)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < BENCH_PHASES && names[i]; i++)
		p->name[i] = names[i];
	p->last = bench_now();
}

void bench_lap(struct bench_phases *p, int i)
{
	double t = bench_now();

	p->sum[i] += t - p->last;
	p->last = t;
}

void bench_phases_print(const struct bench_phases *p, const char *what,
			unsigned long n)
{
	fprintf(stderr, "%s (us each):", what);
	for (int i = 0; i < BENCH_PHASES && p->name[i]; i++)
		fprintf(stderr, " %s %.1f", p->name[i],
			p->sum[i] / (double)n * 1e6);
	fputc('\n', stderr);
}

int bench_parse_count(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v == 0 || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

int bench_load_image(const char *dir, const char *name, size_t pad,
		     struct bench_image *img)
{
	char path[4096];
	ssize_t n;
	int fd, r = 0;

	if (pad > sizeof(img->data))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(img->data, 0, sizeof(img->data));
	n = read(fd, img->data, sizeof(img->data));
	if (n < 0)
		r = -errno;
	else if (n == 0 || (size_t)n > (pad ? pad : sizeof(img->data)))
		r = -EFBIG;
	else
		img->len = pad ? pad : (size_t)n;
	close(fd);
	return r;
}

int bench_ring_init(struct bench_ring *r, size_t cap)
{
	r->buf = malloc(cap);
	if (!r->buf)
		return -ENOMEM;
	r->cap = cap;
	r->total = 0;
	return 0;
}

void bench_ring_append(struct bench_ring *r, const void *data, size_t len)
{
	const uint8_t *d = data;
	size_t at, first;

	if (len > r->cap) {
		d += len - r->cap;
		r->total += len - r->cap;
		len = r->cap;
	}
	at = r->total % r->cap;
	first = r->cap - at < len ? r->cap - at : len;
	memcpy(r->buf + at, d, first);
	memcpy(r->buf, d + first, len - first);
	r->total += len;
}

void bench_ring_free(struct bench_ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

void bench_result(double value)
{
	printf("%.6g\n", value);
	fflush(stdout);
}

int bench_fail(const char *prog, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what,
		strerror(err < 0 ? -err : err));
	return 1;
}
