/* The device bus (bus.h): a short array of ranges searched in order.  A
 * VM has a handful of devices, so a search tree would cost more than it
 * saves; the array is only written before the first run. */
#include "devices/bus.h"

#include <errno.h>
#include <string.h>

void kvmfs_bus_init(struct kvmfs_bus *b)
{
	memset(b, 0, sizeof(*b));
	pthread_rwlock_init(&b->lock, NULL);
}

void kvmfs_bus_free(struct kvmfs_bus *b)
{
	b->n = 0;
	pthread_rwlock_destroy(&b->lock);
}

static bool overlaps(const struct kvmfs_bus_range *r,
		     enum kvmfs_bus_space space, uint64_t base, uint64_t len)
{
	return r->space == space && base < r->base + r->len &&
	       r->base < base + len;
}

int kvmfs_bus_register(struct kvmfs_bus *b, enum kvmfs_bus_space space,
		       uint64_t base, uint64_t len, const char *name,
		       kvmfs_bus_fn fn, void *ctx)
{
	int r = 0;

	if (len == 0 || base + len < base || !fn)
		return -EINVAL;
	pthread_rwlock_wrlock(&b->lock);
	for (unsigned i = 0; i < b->n && !r; i++)
		if (overlaps(&b->ranges[i], space, base, len))
			r = -EEXIST;
	if (!r && b->n == KVMFS_BUS_MAX_RANGES)
		r = -ENOSPC;
	if (!r)
		b->ranges[b->n++] = (struct kvmfs_bus_range){
		    space, base, len, name, fn, ctx, 0};
	pthread_rwlock_unlock(&b->lock);
	return r;
}

bool kvmfs_bus_dispatch(struct kvmfs_bus *b, const struct kvmfs_bus_access *a)
{
	bool taken = false;

	pthread_rwlock_rdlock(&b->lock);
	for (unsigned i = 0; i < b->n; i++) {
		struct kvmfs_bus_range *r = &b->ranges[i];

		if (r->space != a->space || a->addr < r->base ||
		    a->addr - r->base >= r->len)
			continue;
		taken = r->fn(r->ctx, a);
		if (taken)
			__atomic_add_fetch(&r->hits, 1, __ATOMIC_RELAXED);
		break;
	}
	pthread_rwlock_unlock(&b->lock);
	return taken;
}

uint64_t kvmfs_bus_hits(struct kvmfs_bus *b, const char *name)
{
	uint64_t hits = 0;

	pthread_rwlock_rdlock(&b->lock);
	for (unsigned i = 0; i < b->n; i++)
		if (!strcmp(b->ranges[i].name, name))
			hits += __atomic_load_n(&b->ranges[i].hits,
						__ATOMIC_RELAXED);
	pthread_rwlock_unlock(&b->lock);
	return hits;
}
