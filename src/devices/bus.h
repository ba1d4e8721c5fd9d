/* The bus of a VM's devices: port and MMIO ranges, each with a handler
 * and its context, as kvmtool's kvm__register_pio and 9front vmx's
 * handler table.  The vCPU's run loop offers every port and MMIO exit to
 * the bus; a device that claims the access lets the guest go on, and
 * only an access no device claims ends the run (the VM's port policy).
 * Devices register when the VM is made, before any vCPU runs; lookups
 * run on vCPU threads and take a read lock only. */
#ifndef KVMFS_DEVICES_BUS_H
#define KVMFS_DEVICES_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum kvmfs_bus_space {
	KVMFS_BUS_PIO,
	KVMFS_BUS_MMIO,
};

/* One access as KVM reported it: SIZE bytes per element, COUNT elements
 * (string I/O), at DATA (to fill for a read). */
struct kvmfs_bus_access {
	enum kvmfs_bus_space space;
	bool write;
	uint64_t addr;
	unsigned size;
	unsigned count;
	uint8_t *data;
};

/* A device's handler: true if it took the access (for a read, DATA is
 * filled), false to leave it to the VM's policy. */
typedef bool (*kvmfs_bus_fn)(void *ctx, const struct kvmfs_bus_access *a);

/* Ranges per VM: the 0xE9 console and room for one more for now.  Kept
 * inside the VM's own allocation: a small allocation of its own per VM
 * (a fastbin chunk between the VMs' structs) keeps glibc from giving the
 * memory of removed VMs back (lifecycle.sh's RSS check). */
#define KVMFS_BUS_MAX_RANGES 4
/* Policy ranges per VM (ctl's pio and mmio lines). */
#define KVMFS_BUS_MAX_POLICIES 16

struct kvmfs_bus_range {
	enum kvmfs_bus_space space;
	uint64_t base, len;
	const char *name;
	kvmfs_bus_fn fn;
	void *ctx;
	uint64_t hits; /* accesses taken */
};

/* What an access no device takes does (the VM's port and MMIO policy):
 * stop ends the run and hands the access to the reader (the default);
 * ignore lets the guest go on, reads giving all ones, writes dropped. */
enum kvmfs_bus_action {
	KVMFS_BUS_STOP,
	KVMFS_BUS_IGNORE,
};

struct kvmfs_bus_policy {
	enum kvmfs_bus_space space;
	uint64_t first, last;	/* inclusive */
	enum kvmfs_bus_action action;
	uint64_t hits;		/* accesses it decided */
};

struct kvmfs_bus {
	pthread_rwlock_t lock;
	unsigned n;
	struct kvmfs_bus_range ranges[KVMFS_BUS_MAX_RANGES];
	unsigned n_policies;
	struct kvmfs_bus_policy policies[KVMFS_BUS_MAX_POLICIES];
};

void kvmfs_bus_init(struct kvmfs_bus *b);
void kvmfs_bus_free(struct kvmfs_bus *b);
/* [base, base+len) in SPACE goes to fn(ctx, ...).  -EINVAL for an empty
 * range, one that wraps (it may end at 2^64, holding the last byte), no
 * fn or no name; -EEXIST if it overlaps one already there, -ENOSPC when
 * the bus is full. */
int kvmfs_bus_register(struct kvmfs_bus *b, enum kvmfs_bus_space space,
		       uint64_t base, uint64_t len, const char *name,
		       kvmfs_bus_fn fn, void *ctx);
/* Offer an access to the device whose range holds its first byte; if no
 * device takes it, the newest policy range holding it decides (an ignored
 * read fills DATA with 0xff).  True when the guest may go on. */
bool kvmfs_bus_dispatch(struct kvmfs_bus *b, const struct kvmfs_bus_access *a);
/* Set the action of [first, last] in SPACE: a range equal to one already
 * there replaces it, any other is added (newest first when they
 * overlap).  -EINVAL for first > last, -ENOSPC for a new range when the
 * table is full. */
int kvmfs_bus_set_policy(struct kvmfs_bus *b, enum kvmfs_bus_space space,
			 uint64_t first, uint64_t last,
			 enum kvmfs_bus_action action);
/* The edit kvmfs_bus_set_policy makes, on a table T of *N policies that
 * the caller owns: a range equal to one there (same space, first and
 * last) goes to the end, the newest, with ACTION and no hits; any other
 * is appended.  -EINVAL for first > last, -ENOSPC for a new range when
 * *N is KVMFS_BUS_MAX_POLICIES, and T is left as it was.  ctl's plan of
 * a multi-line write runs it on a copy of the table, so that the plan
 * refuses exactly the lines set_policy would. */
int kvmfs_bus_policy_put(struct kvmfs_bus_policy *t, unsigned *n,
			 enum kvmfs_bus_space space, uint64_t first,
			 uint64_t last, enum kvmfs_bus_action action);
/* A copy of the policy table; returns the count (at most max). */
unsigned kvmfs_bus_policies(struct kvmfs_bus *b, struct kvmfs_bus_policy *out,
			    unsigned max);
/* Forget every policy range (a VM's reset keeps them: it is config). */
void kvmfs_bus_clear_policies(struct kvmfs_bus *b);
/* Accesses taken so far by the range called NAME (0 if none). */
uint64_t kvmfs_bus_hits(struct kvmfs_bus *b, const char *name);

#endif
