/* The device bus (bus.h): a short array of ranges searched in order, then
 * the policy ranges, newest first.  A VM has a handful of devices and
 * ranges, so a search tree would cost more than it saves. */
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

/* In terms of last bytes, not ends: a range may hold the last byte of
 * its space, whose end, 2^64, has no uint64_t. */
static bool overlaps(const struct kvmfs_bus_range *r,
		     enum kvmfs_bus_space space, uint64_t base, uint64_t len)
{
	return r->space == space && base <= r->base + (r->len - 1) &&
	       r->base <= base + (len - 1);
}

int kvmfs_bus_register(struct kvmfs_bus *b, enum kvmfs_bus_space space,
		       uint64_t base, uint64_t len, const char *name,
		       kvmfs_bus_fn fn, void *ctx)
{
	int r = 0;

	/* A name, because kvmfs_bus_hits compares them. */
	if (len == 0 || base + (len - 1) < base || !fn || !name)
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

static bool apply_policy(struct kvmfs_bus *b, const struct kvmfs_bus_access *a)
{
	for (unsigned i = b->n_policies; i-- > 0;) {
		struct kvmfs_bus_policy *p = &b->policies[i];

		if (p->space != a->space || a->addr < p->first || a->addr > p->last)
			continue;
		__atomic_add_fetch(&p->hits, 1, __ATOMIC_RELAXED);
		if (p->action != KVMFS_BUS_IGNORE)
			return false;
		if (!a->write)
			memset(a->data, 0xff, (size_t)a->size * a->count);
		return true;
	}
	return false;
}

bool kvmfs_bus_dispatch(struct kvmfs_bus *b, const struct kvmfs_bus_access *a)
{
	bool taken = false, claimed = false;

	pthread_rwlock_rdlock(&b->lock);
	for (unsigned i = 0; i < b->n; i++) {
		struct kvmfs_bus_range *r = &b->ranges[i];

		if (r->space != a->space || a->addr < r->base ||
		    a->addr - r->base >= r->len)
			continue;
		taken = claimed = r->fn(r->ctx, a);
		if (taken)
			__atomic_add_fetch(&r->hits, 1, __ATOMIC_RELAXED);
		break;
	}
	if (!claimed)
		taken = apply_policy(b, a);
	pthread_rwlock_unlock(&b->lock);
	return taken;
}

int kvmfs_bus_policy_put(struct kvmfs_bus_policy *t, unsigned *n,
			 enum kvmfs_bus_space space, uint64_t first,
			 uint64_t last, enum kvmfs_bus_action action)
{
	unsigned i;

	if (first > last)
		return -EINVAL;
	for (i = 0; i < *n; i++)
		if (t[i].space == space && t[i].first == first &&
		    t[i].last == last)
			break;
	if (i == *n && *n >= KVMFS_BUS_MAX_POLICIES)
		return -ENOSPC;
	if (i < *n) {
		/* Same range: the newest action, counted afresh. */
		memmove(&t[i], &t[i + 1], (*n - i - 1) * sizeof(t[0]));
		(*n)--;
	}
	t[(*n)++] = (struct kvmfs_bus_policy){ space, first, last, action, 0 };
	return 0;
}

int kvmfs_bus_set_policy(struct kvmfs_bus *b, enum kvmfs_bus_space space,
			 uint64_t first, uint64_t last,
			 enum kvmfs_bus_action action)
{
	int r;

	pthread_rwlock_wrlock(&b->lock);
	r = kvmfs_bus_policy_put(b->policies, &b->n_policies, space, first,
				 last, action);
	pthread_rwlock_unlock(&b->lock);
	return r;
}

unsigned kvmfs_bus_policies(struct kvmfs_bus *b, struct kvmfs_bus_policy *out,
			    unsigned max)
{
	unsigned n;

	pthread_rwlock_rdlock(&b->lock);
	n = b->n_policies < max ? b->n_policies : max;
	for (unsigned i = 0; i < n; i++) {
		out[i] = b->policies[i];
		out[i].hits = __atomic_load_n(&b->policies[i].hits, __ATOMIC_RELAXED);
	}
	pthread_rwlock_unlock(&b->lock);
	return n;
}

void kvmfs_bus_clear_policies(struct kvmfs_bus *b)
{
	pthread_rwlock_wrlock(&b->lock);
	b->n_policies = 0;
	pthread_rwlock_unlock(&b->lock);
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
