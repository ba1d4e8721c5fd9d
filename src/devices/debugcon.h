/* The debug console: bytes the guest writes to port 0xE9 (Bochs' and
 * QEMU's debugcon) go to a sink, the VM's console ring.  The first device
 * on the bus. */
#ifndef KVMFS_DEVICES_DEBUGCON_H
#define KVMFS_DEVICES_DEBUGCON_H

#include "devices/bus.h"

#include <stddef.h>

#define KVMFS_DEBUGCON_PORT 0xe9
#define KVMFS_DEBUGCON_NAME "debugcon"

struct kvmfs_debugcon {
	void (*sink)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* Put the device at port 0xE9 of BUS; D must live as long as the bus. */
int kvmfs_debugcon_attach(struct kvmfs_debugcon *d, struct kvmfs_bus *bus);

#endif
