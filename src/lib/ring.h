/* A bounded byte ring for console output.  Positions are absolute stream
 * offsets (bytes ever written), so readers can follow it like a growing
 * file; the oldest bytes are dropped when it is full.  Pure, no locking:
 * the owner locks. */
#ifndef KVMFS_RING_H
#define KVMFS_RING_H

#include <stddef.h>
#include <stdint.h>

struct kvmfs_ring {
	uint8_t *buf;
	size_t cap;
	uint64_t total;		/* bytes ever appended */
	uint64_t start;		/* oldest position still held */
	uint64_t dropped;	/* bytes overwritten before anyone could read */
};

/* No allocation until the first append. */
int kvmfs_ring_init(struct kvmfs_ring *r, size_t cap);
void kvmfs_ring_free(struct kvmfs_ring *r);
/* Change the capacity, keeping the newest bytes that fit. */
int kvmfs_ring_resize(struct kvmfs_ring *r, size_t cap);
void kvmfs_ring_append(struct kvmfs_ring *r, const void *data, size_t len);
/* Oldest absolute position still held. */
uint64_t kvmfs_ring_start(const struct kvmfs_ring *r);
/* Copy up to len bytes from absolute position pos (which must be >= the
 * start; use kvmfs_ring_start to clamp).  Returns the count copied (0 at
 * the end). */
size_t kvmfs_ring_read(const struct kvmfs_ring *r, uint64_t pos, void *out,
		       size_t len);

#endif
