/* A VM's memory and console.  Memory is a memfd mapped once and handed
 * to KVM as slot 0 at GPA 0; resizing maps the same file again at the new
 * size, so contents up to the smaller size stay, and swaps KVM's slot
 * under the VM's write lock.  The console is a ring of what the guest
 * wrote to port 0xE9. */
#include "lib/log.h"
#include "vm/vm_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int kvmfs_vm_mem_acquire(struct kvmfs_vm *vm, uint8_t **mem, uint64_t *size)
{
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	*mem = vm->mem;
	*size = vm->memsize;
	return 0;
}

void kvmfs_vm_mem_release(struct kvmfs_vm *vm)
{
	kvmfs_vm_leave(vm);
}

uint64_t kvmfs_vm_mem_size(struct kvmfs_vm *vm)
{
	uint64_t size;

	pthread_rwlock_rdlock(&vm->rw);
	size = vm->memsize;
	pthread_rwlock_unlock(&vm->rw);
	return size;
}

int kvmfs_vm_mem_write(struct kvmfs_vm *vm, uint64_t off, const void *data,
		       size_t len)
{
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	if (off > vm->memsize || len > vm->memsize - off) {
		uint64_t size = vm->memsize;

		kvmfs_vm_leave(vm);
		if (!size)
			kvmfs_vm_set_error(vm, "memory: no memory yet (echo 'mem SIZE' > ctl first)");
		else
			kvmfs_vm_set_error(vm, "memory: write of %zu bytes at 0x%" PRIx64
					   " passes the end (0x%" PRIx64 " bytes; echo 'mem SIZE' > ctl grows it)",
					   len, off, size);
		return -ENOSPC;
	}
	memcpy(vm->mem + off, data, len);
	kvmfs_vm_leave(vm);
	return 0;
}

static int set_region(struct kvmfs_vm *vm, void *addr, uint64_t size)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = size,
		.userspace_addr = (uintptr_t)addr,
	};

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

/* Caller holds vm->rw for writing and has reserved the memory. */
static int remap(struct kvmfs_vm *vm, uint64_t size)
{
	uint8_t *map;
	int r;

	if (vm->memfd < 0) {
		char name[80];

		snprintf(name, sizeof(name), "kvmfs:%s", vm->name);
		vm->memfd = memfd_create(name, MFD_CLOEXEC);
		if (vm->memfd < 0)
			return -errno;
	}
	/* Grow the file first, shrink it last: the old mapping stays
	 * valid until KVM has the new one. */
	if (size > vm->memsize && ftruncate(vm->memfd, (off_t)size) < 0)
		return -errno;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		   vm->memfd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		goto undo;
	}
	/* A slot changes size only by deleting it and adding it again. */
	if (vm->mem)
		set_region(vm, NULL, 0);
	r = set_region(vm, map, size);
	if (r < 0) {
		munmap(map, size);
		if (vm->mem)
			set_region(vm, vm->mem, vm->memsize);
		goto undo;
	}
	if (vm->mem)
		munmap(vm->mem, vm->memsize);
	if (size < vm->memsize && ftruncate(vm->memfd, (off_t)size) < 0)
		kvmfs_log("vm %s: shrinking memfd: %s", vm->name, strerror(errno));
	vm->mem = map;
	vm->memsize = size;
	return 0;
undo:
	if (size > vm->memsize && ftruncate(vm->memfd, (off_t)vm->memsize) < 0)
		kvmfs_log("vm %s: undoing memfd growth: %s", vm->name, strerror(errno));
	return r;
}

int kvmfs_check_mem(uint64_t size, uint64_t old, uint64_t avail,
		    bool running, char *err, size_t errlen)
{
	if (size == old)
		return 0;
	if (running)
		return kvmfs_check_stopped("mem", running, err, errlen);
	if (size > avail) {
		snprintf(err, errlen, "mem: %" PRIu64 " bytes is over max_memory "
			 "(%" PRIu64 " bytes available to this VM)", size, avail);
		return -ENOMEM;
	}
	return 0;
}

int kvmfs_vm_set_mem(struct kvmfs_vm *vm, uint64_t size)
{
	struct kvmfs_host *h = vm->host;
	char err[KVMFS_ERR_LEN];
	uint64_t old;
	bool running;
	int r;

	if (size < 4096 || size % 4096) {
		kvmfs_vm_set_error(vm, "mem: size %" PRIu64
				   " must be a multiple of 4096, at least 4096", size);
		return -EINVAL;
	}
	pthread_rwlock_wrlock(&vm->rw);
	if (vm->dead) {
		pthread_rwlock_unlock(&vm->rw);
		return -ENOENT;
	}
	old = vm->memsize;
	if (size == old) {
		pthread_rwlock_unlock(&vm->rw);
		return 0;
	}
	running = kvmfs_vm_any_running(vm);
	pthread_mutex_lock(&h->lock);
	/* This VM's own memory counts as available to it. */
	r = kvmfs_check_mem(size, old, h->cfg.max_memory - h->mem_used + old,
			    running, err, sizeof(err));
	if (!r && size > old)
		h->mem_used += size - old;
	pthread_mutex_unlock(&h->lock);
	if (r < 0) {
		pthread_rwlock_unlock(&vm->rw);
		kvmfs_vm_set_error(vm, "%s", err);
		return r;
	}

	r = remap(vm, size);

	pthread_mutex_lock(&h->lock);
	if (r < 0 && size > old)
		h->mem_used -= size - old;
	if (r == 0 && size < old)
		h->mem_used -= old - size;
	pthread_mutex_unlock(&h->lock);
	pthread_rwlock_unlock(&vm->rw);
	if (r < 0)
		kvmfs_vm_set_error(vm, "mem: %s", strerror(-r));
	return r;
}


int kvmfs_vm_truncate_mem(struct kvmfs_vm *vm, uint64_t size)
{
	uint64_t old = kvmfs_vm_mem_size(vm);

	/* dd without conv=notrunc truncates its output at the seek offset:
	 * a habit of shell tools must never lose guest memory. */
	if (size < old) {
		kvmfs_vm_set_error(vm, "memory: truncating to %" PRIu64 " bytes would drop guest memory "
				   "(%" PRIu64 " bytes); only 'mem SIZE' in ctl shrinks it "
				   "(with dd, add conv=notrunc)", size, old);
		return -EPERM;
	}
	return kvmfs_vm_set_mem(vm, size);
}

void kvmfs_vm_console_append(void *ctx, const void *data, size_t len)
{
	struct kvmfs_vm *vm = ctx;

	pthread_mutex_lock(&vm->console_lock);
	kvmfs_ring_append(&vm->console, data, len);
	pthread_mutex_unlock(&vm->console_lock);
}

int kvmfs_vm_set_console_size(struct kvmfs_vm *vm, uint64_t size)
{
	int r;

	pthread_mutex_lock(&vm->console_lock);
	r = kvmfs_ring_resize(&vm->console, (size_t)size);
	pthread_mutex_unlock(&vm->console_lock);
	if (r < 0)
		kvmfs_vm_set_error(vm, "console: %s", strerror(-r));
	return r;
}

size_t kvmfs_vm_console_read(struct kvmfs_vm *vm, uint64_t *pos, void *buf,
			     size_t len)
{
	size_t got;

	pthread_mutex_lock(&vm->console_lock);
	if (*pos < kvmfs_ring_start(&vm->console))
		*pos = kvmfs_ring_start(&vm->console);
	got = kvmfs_ring_read(&vm->console, *pos, buf, len);
	pthread_mutex_unlock(&vm->console_lock);
	return got;
}

uint64_t kvmfs_vm_console_total(struct kvmfs_vm *vm)
{
	uint64_t t;

	pthread_mutex_lock(&vm->console_lock);
	t = vm->console.total;
	pthread_mutex_unlock(&vm->console_lock);
	return t;
}
