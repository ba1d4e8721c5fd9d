/* A VM's memory and console.  Memory is a memfd mapped once and handed
 * to KVM as slot 0 at GPA 0 (mem) and, with highmem, as slot 1 at 4 GiB,
 * the file's offset being the GPA in both and the hole between them
 * sparse; resizing maps the same file again at the new size, so contents
 * up to the smaller size stay, and swaps KVM's slots under the VM's write
 * lock.  The console is a ring of what the guest
 * wrote to port 0xE9. */
#include "lib/log.h"
#include "vm/vm_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int kvmfs_vm_mem_acquire(struct kvmfs_vm *vm, struct kvmfs_mem_view *v)
{
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	v->mem = vm->mem;
	v->size = kvmfs_mem_extent(vm->memsize, vm->highsize);
	v->hole = vm->highsize ? vm->memsize : v->size;
	v->hole_end = vm->highsize ? KVMFS_HIGHMEM_BASE : v->size;
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
	size = kvmfs_mem_extent(vm->memsize, vm->highsize);
	pthread_rwlock_unlock(&vm->rw);
	return size;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && !memcmp(p, p + 1, len - 1));
}

int kvmfs_vm_mem_write(struct kvmfs_vm *vm, uint64_t off, const void *data,
		       size_t len)
{
	uint64_t size;
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	size = kvmfs_mem_extent(vm->memsize, vm->highsize);
	if (off > size || len > size - off) {
		kvmfs_vm_leave(vm);
		if (!size)
			kvmfs_vm_set_error(vm, "memory: no memory yet (echo 'mem SIZE' > ctl first)");
		else
			kvmfs_vm_set_error(vm, "memory: write of %zu bytes at 0x%" PRIx64
					   " passes the end (0x%" PRIx64 " bytes; echo '%s SIZE' > ctl grows it)",
					   len, off, size, vm->highsize ? "highmem" : "mem");
		return -ENOSPC;
	}
	/* The hole between mem and 4 GiB is no memory: it reads as zeros
	 * and takes zeros (so that a copy of memory restores), nothing
	 * else.  Zeros are not stored: the memfd stays sparse there. */
	if (vm->highsize && off < KVMFS_HIGHMEM_BASE && off + len > vm->memsize) {
		uint64_t a = off > vm->memsize ? off : vm->memsize;
		uint64_t b = off + len < KVMFS_HIGHMEM_BASE ? off + len : KVMFS_HIGHMEM_BASE;
		const uint8_t *d = data;

		if (!all_zero(d + (a - off), b - a)) {
			kvmfs_vm_leave(vm);
			kvmfs_vm_set_error(vm, "memory: write of %zu bytes at 0x%" PRIx64
					   " reaches the hole 0x%" PRIx64 "-0x%" PRIx64
					   " between mem and highmem, where there is no memory (only zeros may be written there)",
					   len, off, vm->memsize, KVMFS_HIGHMEM_BASE - 1);
			return -EFAULT;
		}
		memcpy(vm->mem + off, d, a - off);
		memcpy(vm->mem + b, d + (b - off), off + len - b);
	} else {
		memcpy(vm->mem + off, data, len);
	}
	kvmfs_vm_leave(vm);
	return 0;
}

static int set_region(struct kvmfs_vm *vm, unsigned slot, uint64_t gpa,
		      void *addr, uint64_t size)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)addr,
	};

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

/* KVM's slots for memory of LOW and HIGH bytes mapped at MAP: slot 0 at
 * GPA 0, slot 1 at 4 GiB (each absent when empty). */
static int set_slots(struct kvmfs_vm *vm, uint8_t *map, uint64_t low,
		     uint64_t high)
{
	int r = low ? set_region(vm, 0, 0, map, low) : 0;

	if (!r && high) {
		r = set_region(vm, 1, KVMFS_HIGHMEM_BASE,
			       map + KVMFS_HIGHMEM_BASE, high);
		if (r < 0 && low)
			set_region(vm, 0, 0, NULL, 0);
	}
	return r;
}

static void drop_slots(struct kvmfs_vm *vm)
{
	if (vm->memsize)
		set_region(vm, 0, 0, NULL, 0);
	if (vm->highsize)
		set_region(vm, 1, KVMFS_HIGHMEM_BASE, NULL, 0);
}

/* Caller holds vm->rw for writing and has reserved the memory. */
static int remap(struct kvmfs_vm *vm, uint64_t low, uint64_t high)
{
	uint64_t old = kvmfs_mem_extent(vm->memsize, vm->highsize);
	uint64_t size = kvmfs_mem_extent(low, high);
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
	if (size > old && ftruncate(vm->memfd, (off_t)size) < 0)
		return -errno;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		   vm->memfd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		goto undo;
	}
	/* A slot changes size only by deleting it and adding it again. */
	if (vm->mem)
		drop_slots(vm);
	r = set_slots(vm, map, low, high);
	if (r < 0) {
		munmap(map, size);
		if (vm->mem)
			set_slots(vm, vm->mem, vm->memsize, vm->highsize);
		goto undo;
	}
	if (vm->mem)
		munmap(vm->mem, old);
	if (size < old && ftruncate(vm->memfd, (off_t)size) < 0)
		kvmfs_log("vm %s: shrinking memfd: %s", vm->name, strerror(errno));
	/* Low memory that shrank below highmem becomes hole: its bytes go,
	 * as a shrinking file's do, so the hole reads zeros. */
	if (high && low < vm->memsize && vm->memsize <= KVMFS_HIGHMEM_BASE &&
	    fallocate(vm->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)low, (off_t)(vm->memsize - low)) < 0)
		kvmfs_log("vm %s: emptying the hole: %s", vm->name, strerror(errno));
	vm->mem = map;
	vm->memsize = low;
	vm->highsize = high;
	return 0;
undo:
	if (size > old && ftruncate(vm->memfd, (off_t)old) < 0)
		kvmfs_log("vm %s: undoing memfd growth: %s", vm->name, strerror(errno));
	return r;
}

int kvmfs_check_mem(const char *verb, uint64_t low, uint64_t high,
		    uint64_t old, uint64_t avail, bool running, char *err,
		    size_t errlen)
{
	if (low + high == old)
		return 0;
	if (running)
		return kvmfs_check_stopped(verb, running, err, errlen);
	if (high && low > KVMFS_HIGHMEM_BASE) {
		snprintf(err, errlen, "%s: mem 0x%" PRIx64 " passes 4 GiB, where highmem starts "
			 "(mem at most 0x%" PRIx64 " with highmem; or 'highmem 0' first)",
			 verb, low, KVMFS_HIGHMEM_BASE);
		return -EINVAL;
	}
	if (high && !low) {
		snprintf(err, errlen, "%s: no memory below 4 GiB yet (echo 'mem SIZE' > ctl first)",
			 verb);
		return -EINVAL;
	}
	if (low + high > avail) {
		snprintf(err, errlen, "%s: %" PRIu64 " bytes of memory in all is over max_memory "
			 "(%" PRIu64 " bytes available to this VM)", verb, low + high, avail);
		return -ENOMEM;
	}
	return 0;
}

/* SIZE bytes of memory at 0 (mem) or, HIGH, at 4 GiB (highmem); the
 * other part stays. */
static int set_memory(struct kvmfs_vm *vm, bool high_part, uint64_t size)
{
	const char *verb = high_part ? "highmem" : "mem";
	uint64_t low, high;
	struct kvmfs_host *h = vm->host;
	char err[KVMFS_ERR_LEN];
	uint64_t old;
	bool running;
	int r;

	pthread_rwlock_wrlock(&vm->rw);
	if (vm->dead) {
		pthread_rwlock_unlock(&vm->rw);
		return -ENOENT;
	}
	low = high_part ? vm->memsize : size;
	high = high_part ? size : vm->highsize;
	if (low == vm->memsize && high == vm->highsize) {
		pthread_rwlock_unlock(&vm->rw);
		return 0;
	}
	old = vm->memsize + vm->highsize;
	running = kvmfs_vm_any_running(vm);
	pthread_mutex_lock(&h->lock);
	/* This VM's own memory counts as available to it. */
	r = kvmfs_check_mem(verb, low, high, old,
			    h->cfg.max_memory - h->mem_used + old, running,
			    err, sizeof(err));
	if (!r && low + high > old)
		h->mem_used += low + high - old;
	pthread_mutex_unlock(&h->lock);
	if (r < 0) {
		pthread_rwlock_unlock(&vm->rw);
		kvmfs_vm_set_error(vm, "%s", err);
		return r;
	}

	r = remap(vm, low, high);

	pthread_mutex_lock(&h->lock);
	if (r < 0 && low + high > old)
		h->mem_used -= low + high - old;
	if (r == 0 && low + high < old)
		h->mem_used -= old - low - high;
	pthread_mutex_unlock(&h->lock);
	pthread_rwlock_unlock(&vm->rw);
	if (r < 0)
		kvmfs_vm_set_error(vm, "%s: %s", verb, strerror(-r));
	return r;
}

int kvmfs_vm_set_mem(struct kvmfs_vm *vm, uint64_t size)
{
	if (size < 4096 || size % 4096) {
		kvmfs_vm_set_error(vm, "mem: size %" PRIu64
				   " must be a multiple of 4096, at least 4096", size);
		return -EINVAL;
	}
	return set_memory(vm, false, size);
}

int kvmfs_vm_set_highmem(struct kvmfs_vm *vm, uint64_t size)
{
	if (size % 4096 || size > UINT64_MAX - KVMFS_HIGHMEM_BASE) {
		kvmfs_vm_set_error(vm, "highmem: size %" PRIu64
				   " must be a multiple of 4096 (0: none)", size);
		return -EINVAL;
	}
	return set_memory(vm, true, size);
}

int kvmfs_vm_truncate_mem(struct kvmfs_vm *vm, uint64_t size)
{
	uint64_t old, high;

	pthread_rwlock_rdlock(&vm->rw);
	old = kvmfs_mem_extent(vm->memsize, vm->highsize);
	high = vm->highsize;
	pthread_rwlock_unlock(&vm->rw);
	/* dd without conv=notrunc truncates its output at the seek offset:
	 * a habit of shell tools must never lose guest memory. */
	if (size < old) {
		kvmfs_vm_set_error(vm, "memory: truncating to %" PRIu64 " bytes would drop guest memory "
				   "(%" PRIu64 " bytes); only 'mem SIZE' in ctl shrinks it "
				   "(with dd, add conv=notrunc)", size, old);
		return -EPERM;
	}
	/* With highmem, memory's end is highmem's: growing it grows that. */
	if (high)
		return kvmfs_vm_set_highmem(vm, size - KVMFS_HIGHMEM_BASE);
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
