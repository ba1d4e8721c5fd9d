/* The console ring: a fixed buffer indexed by absolute stream position
 * modulo its capacity.  Overwriting old bytes is counted, never blocked,
 * so a guest flooding the console cannot grow the server. */
#include "lib/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The buffer comes with the first byte: most VMs never print, and an
 * idle VM should cost the server next to nothing. */
int kvmfs_ring_init(struct kvmfs_ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	if (cap == 0)
		return -EINVAL;
	r->cap = cap;
	return 0;
}

void kvmfs_ring_free(struct kvmfs_ring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

uint64_t kvmfs_ring_start(const struct kvmfs_ring *r)
{
	return r->start;
}

void kvmfs_ring_append(struct kvmfs_ring *r, const void *data, size_t len)
{
	const uint8_t *d = data;
	size_t at, first;

	if (!len)
		return;
	if (!r->buf) {
		r->buf = malloc(r->cap);
		if (!r->buf) {
			/* No room to keep it: the bytes count as dropped. */
			r->dropped += len;
			r->total += len;
			r->start = r->total;
			return;
		}
	}
	if (len > r->cap) {
		/* Only the tail can survive: skip the rest at once. */
		size_t skip = len - r->cap;

		r->dropped += (r->total - r->start) + skip;
		r->total += skip;
		r->start = r->total;
		d += skip;
		len = r->cap;
	}
	if (r->total - r->start + len > r->cap) {
		uint64_t over = r->total - r->start + len - r->cap;

		r->dropped += over;
		r->start += over;
	}
	at = r->total % r->cap;
	first = r->cap - at < len ? r->cap - at : len;
	memcpy(r->buf + at, d, first);
	memcpy(r->buf, d + first, len - first);
	r->total += len;
}

size_t kvmfs_ring_read(const struct kvmfs_ring *r, uint64_t pos, void *out,
		       size_t len)
{
	size_t at, first;

	if (!r->buf || pos < r->start || pos >= r->total)
		return 0;
	if (len > r->total - pos)
		len = r->total - pos;
	at = pos % r->cap;
	first = r->cap - at < len ? r->cap - at : len;
	memcpy(out, r->buf + at, first);
	memcpy((uint8_t *)out + first, r->buf, len - first);
	return len;
}

int kvmfs_ring_resize(struct kvmfs_ring *r, size_t cap)
{
	struct kvmfs_ring n;
	uint64_t from;
	int err;

	err = kvmfs_ring_init(&n, cap);
	if (err)
		return err;
	from = r->total - r->start > cap ? r->total - cap : r->start;
	/* Same absolute positions, so readers' offsets stay meaningful. */
	n.total = n.start = from;
	n.dropped = r->dropped + (from - r->start);
	while (from < r->total) {
		uint8_t chunk[4096];
		size_t got = kvmfs_ring_read(r, from, chunk, sizeof(chunk));

		kvmfs_ring_append(&n, chunk, got);
		from += got;
	}
	kvmfs_ring_free(r);
	*r = n;
	return 0;
}
