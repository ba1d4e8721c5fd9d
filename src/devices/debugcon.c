/* The 0xE9 debug console (debugcon.h).  Only writes are its: a read of
 * port 0xE9 is left to the VM's policy, as before there was a bus. */
#include "devices/debugcon.h"

static bool debugcon_access(void *ctx, const struct kvmfs_bus_access *a)
{
	struct kvmfs_debugcon *d = ctx;

	if (!a->write)
		return false;
	if (d->sink)
		d->sink(d->ctx, a->data, (size_t)a->size * a->count);
	return true;
}

int kvmfs_debugcon_attach(struct kvmfs_debugcon *d, struct kvmfs_bus *bus)
{
	return kvmfs_bus_register(bus, KVMFS_BUS_PIO, KVMFS_DEBUGCON_PORT, 1,
				  KVMFS_DEBUGCON_NAME, debugcon_access, d);
}
