/* The host side of the backend: the /dev/kvm handle, the capabilities it
 * reports, the limits (max_vms, max_memory) and the set of VMs by name
 * and by serial number.  Creating a VM is KVM_CREATE_VM (plus
 * KVM_SET_TSS_ADDR where KVM has it); destroying one stops its vCPU,
 * closes its fds and unmaps its memory at once, while the struct lives on
 * until the last reference goes. */
#include "lib/log.h"
#include "lib/text.h"
#include "vm/vm_priv.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int kvmfs_host_probe(const char *kvm_path, char *err, size_t errlen)
{
	int fd, v;

	fd = open(kvm_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", kvm_path,
			 strerror(errno));
		return -errno;
	}
	v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v < 0) {
		snprintf(err, errlen, "%s: KVM_GET_API_VERSION: %s (is it a KVM device?)",
			 kvm_path, strerror(errno));
		close(fd);
		return -ENODEV;
	}
	if (v != KVM_API_VERSION) {
		snprintf(err, errlen, "%s: KVM API version %d, kvmfs needs %d",
			 kvm_path, v, KVM_API_VERSION);
		close(fd);
		return -ENODEV;
	}
	close(fd);
	return 0;
}

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c;

		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			/* Say that a hypervisor is there (CPUID.1:ECX bit
			 * 31), as every VMM does: KVM leaves it to us, and
			 * without it Linux ignores KVM's own leaves
			 * (0x40000000: kvm-clock, the TSC's rate) and
			 * calibrates against timers it does not have. */
			for (unsigned i = 0; i < c->nent; i++)
				if (c->entries[i].function == 1)
					c->entries[i].ecx |= 1u << 31;
			return c;
		}
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

/* Does KVM keep CR0.PG outside long mode?  This host's paravirtualised
 * KVM drops it silently and leaves the vCPU set to shut down on its next
 * run, so asking on a real VM would harm it: ask once, on a scratch VM. */
static bool probe_paging32(int kvm_fd)
{
	struct kvmfs_mode_args a = { .mode = KVMFS_MODE_PAGED32 };
	struct kvm_sregs sregs, back;
	struct kvm_regs regs;
	static uint8_t mem[2 * 4096];
	char err[KVMFS_REASON_LEN];
	bool ok = true;
	int vm, vcpu;

	vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm < 0)
		return true;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu >= 0 && ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0 &&
	    kvmfs_mode_setup(&a, mem, sizeof(mem), &sregs, &regs, err, sizeof(err)) == 0 &&
	    ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0 &&
	    ioctl(vcpu, KVM_GET_SREGS, &back) == 0)
		ok = (back.cr0 & KVMFS_CR0_PG) != 0;
	if (vcpu >= 0)
		close(vcpu);
	close(vm);
	return ok;
}

int kvmfs_host_new(const struct kvmfs_host_config *cfg,
		   struct kvmfs_host **out, char *err, size_t errlen)
{
	struct kvmfs_host *h;
	int r;

	r = kvmfs_host_probe(cfg->kvm_path, err, errlen);
	if (r < 0)
		return r;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cfg = *cfg;
	h->kvm_fd = open(cfg->kvm_path, O_RDWR | O_CLOEXEC);
	if (h->kvm_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s", cfg->kvm_path,
			 strerror(errno));
		free(h);
		return r;
	}
	h->version = ioctl(h->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ioctl(h->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) <= 0 ||
	    ioctl(h->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
		snprintf(err, errlen, "%s lacks sync_regs or immediate_exit",
			 cfg->kvm_path);
		close(h->kvm_fd);
		free(h);
		return -ENODEV;
	}
	h->cpuid = supported_cpuid(h->kvm_fd);
	h->set_tss = ioctl(h->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0;
	h->paging32 = probe_paging32(h->kvm_fd);
	pthread_mutex_init(&h->lock, NULL);
	h->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	h->by_serial = g_hash_table_new(g_int64_hash, g_int64_equal);
	h->next_serial = 1;
	snprintf(h->error, sizeof(h->error), "none");
	*out = h;
	return 0;
}

int kvmfs_host_version(struct kvmfs_host *h)
{
	return h->version;
}

static const struct cap_name {
	const char *name;
	long cap;
} caps[] = {
	{ "user_memory", KVM_CAP_USER_MEMORY },
	{ "nr_vcpus", KVM_CAP_NR_VCPUS },
	{ "max_vcpus", KVM_CAP_MAX_VCPUS },
	{ "max_vcpu_id", KVM_CAP_MAX_VCPU_ID },
	{ "nr_memslots", KVM_CAP_NR_MEMSLOTS },
	{ "immediate_exit", KVM_CAP_IMMEDIATE_EXIT },
	{ "sync_regs", KVM_CAP_SYNC_REGS },
	{ "set_guest_debug", KVM_CAP_SET_GUEST_DEBUG },
	{ "guest_debug_hw_bps", KVM_CAP_GUEST_DEBUG_HW_BPS },
	{ "irqchip", KVM_CAP_IRQCHIP },
	{ "set_tss_addr", KVM_CAP_SET_TSS_ADDR },
	{ "ext_cpuid", KVM_CAP_EXT_CPUID },
	{ "set_identity_map_addr", KVM_CAP_SET_IDENTITY_MAP_ADDR },
	{ "readonly_mem", KVM_CAP_READONLY_MEM },
	{ "coalesced_mmio", KVM_CAP_COALESCED_MMIO },
};

void kvmfs_host_caps(struct kvmfs_host *h, GString *out)
{
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int v = ioctl(h->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap);

		g_string_append_printf(out, "%s %d\n", caps[i].name, v < 0 ? 0 : v);
	}
}

void kvmfs_host_status(struct kvmfs_host *h, GString *out)
{
	pthread_mutex_lock(&h->lock);
	g_string_append_printf(out,
			       "vms %u\nmax_vms %u\nmemory %" PRIu64
			       "\nmax_memory %" PRIu64 "\npaging32 %d\nseccomp %d\nerror %s\n",
			       g_hash_table_size(h->by_name), h->cfg.max_vms,
			       h->mem_used, h->cfg.max_memory, h->paging32,
			       h->cfg.seccomp, h->error);
	pthread_mutex_unlock(&h->lock);
}

void kvmfs_host_set_error(struct kvmfs_host *h, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&h->lock);
	va_start(ap, fmt);
	vsnprintf(h->error, sizeof(h->error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&h->lock);
	kvmfs_log_limited("%s", h->error);
}

unsigned kvmfs_host_count(struct kvmfs_host *h)
{
	unsigned n;

	pthread_mutex_lock(&h->lock);
	n = g_hash_table_size(h->by_name);
	pthread_mutex_unlock(&h->lock);
	return n;
}

static gint cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **kvmfs_host_list(struct kvmfs_host *h)
{
	GPtrArray *a = g_ptr_array_new();
	GHashTableIter it;
	gpointer key;

	pthread_mutex_lock(&h->lock);
	g_hash_table_iter_init(&it, h->by_name);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(a, g_strdup(key));
	pthread_mutex_unlock(&h->lock);
	g_ptr_array_sort(a, cmp_names);
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

struct kvmfs_vm *kvmfs_host_vm_lookup(struct kvmfs_host *h, const char *name)
{
	struct kvmfs_vm *vm;

	pthread_mutex_lock(&h->lock);
	vm = g_hash_table_lookup(h->by_name, name);
	if (vm)
		kvmfs_vm_ref(vm);
	pthread_mutex_unlock(&h->lock);
	return vm;
}

struct kvmfs_vm *kvmfs_host_vm_by_serial(struct kvmfs_host *h, uint64_t serial)
{
	struct kvmfs_vm *vm;
	gint64 key = (gint64)serial;

	pthread_mutex_lock(&h->lock);
	vm = g_hash_table_lookup(h->by_serial, &key);
	if (vm)
		kvmfs_vm_ref(vm);
	pthread_mutex_unlock(&h->lock);
	return vm;
}

static struct kvmfs_vm *vm_alloc(struct kvmfs_host *h)
{
	struct kvmfs_vm *vm = calloc(1, sizeof(*vm));
	pthread_rwlockattr_t ra;

	if (!vm)
		return NULL;
	if (kvmfs_ring_init(&vm->console, KVMFS_CONSOLE_DEFAULT) < 0) {
		free(vm);
		return NULL;
	}
	vm->host = h;
	vm->refs = 1;
	vm->fd = -1;
	vm->memfd = -1;
	vm->ncpus = 1;
	pthread_rwlockattr_init(&ra);
	/* rmdir must not starve behind a stream of readers. */
	pthread_rwlockattr_setkind_np(&ra,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&vm->rw, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->console_lock, NULL);
	pthread_mutex_init(&vm->exits_lock, NULL);
	kvmfs_vm_devices_init(vm);
	snprintf(vm->error, sizeof(vm->error), "none");
	return vm;
}

/* The lowest decimal name not in use.  Host lock held. */
static void lowest_free_name(struct kvmfs_host *h, char *name)
{
	for (unsigned i = 0;; i++) {
		snprintf(name, 65, "%u", i);
		if (!g_hash_table_contains(h->by_name, name))
			return;
	}
}

int kvmfs_host_vm_create(struct kvmfs_host *h, const char *name, char *name_out,
		    struct kvmfs_vm **out)
{
	struct kvmfs_vm *vm;
	int fd, r;

	if (name && !kvmfs_vm_name_valid(name)) {
		kvmfs_host_set_error(h, "mkdir: bad VM name (1-64 of A-Z a-z 0-9 . _ -)");
		return -EINVAL;
	}
	vm = vm_alloc(h);
	if (!vm)
		return -ENOMEM;
	fd = ioctl(h->kvm_fd, KVM_CREATE_VM, 0);
	if (fd < 0) {
		r = -errno;
		kvmfs_host_set_error(h, "KVM_CREATE_VM: %s", strerror(-r));
		kvmfs_vm_unref(vm);
		return r;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* Intel's KVM needs a TSS page for real mode; harmless elsewhere. */
	if (h->set_tss && ioctl(fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0)
		kvmfs_log_limited("KVM_SET_TSS_ADDR: %s", strerror(errno));
	vm->fd = fd;

	pthread_mutex_lock(&h->lock);
	if (g_hash_table_size(h->by_name) >= h->cfg.max_vms) {
		pthread_mutex_unlock(&h->lock);
		kvmfs_host_set_error(h, "mkdir: max_vms (%u) reached", h->cfg.max_vms);
		close(fd);
		vm->fd = -1;
		kvmfs_vm_unref(vm);
		return -EDQUOT;
	}
	if (name) {
		if (g_hash_table_contains(h->by_name, name)) {
			pthread_mutex_unlock(&h->lock);
			close(fd);
			vm->fd = -1;
			kvmfs_vm_unref(vm);
			return -EEXIST;
		}
		snprintf(vm->name, sizeof(vm->name), "%s", name);
	} else {
		lowest_free_name(h, vm->name);
	}
	vm->serial = h->next_serial++;
	g_hash_table_insert(h->by_name, vm->name, vm);
	g_hash_table_insert(h->by_serial, &vm->serial, vm);
	if (out)
		*out = kvmfs_vm_ref(vm);
	if (name_out)
		snprintf(name_out, 65, "%s", vm->name);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* Tear down what the kernel holds: vCPU thread, fds, memory. */
static void vm_teardown(struct kvmfs_vm *vm)
{
	struct kvmfs_vcpu *vcpus[KVMFS_MAX_VCPUS];
	uint64_t size;

	/* Calls in flight hold vm->rw for reading and finish quickly (runs
	 * are asynchronous), so the write lock comes soon; destroying the
	 * vCPU then answers any run waiter with -ENOENT. */
	pthread_rwlock_wrlock(&vm->rw);
	vm->dead = true;
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < KVMFS_MAX_VCPUS; i++) {
		vcpus[i] = vm->cpus[i].vcpu;
		vm->cpus[i].vcpu = NULL;
	}
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < KVMFS_MAX_VCPUS; i++)
		kvmfs_vcpu_destroy(vcpus[i]);
	kvmfs_vm_exits_close(vm);
	size = vm->memsize + vm->highsize;
	if (vm->mem)
		munmap(vm->mem, kvmfs_mem_extent(vm->memsize, vm->highsize));
	vm->mem = NULL;
	vm->memsize = 0;
	vm->highsize = 0;
	if (vm->memfd >= 0)
		close(vm->memfd);
	vm->memfd = -1;
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
	pthread_rwlock_unlock(&vm->rw);
	pthread_mutex_lock(&vm->host->lock);
	vm->host->mem_used -= size;
	pthread_mutex_unlock(&vm->host->lock);
}

/* When the last VM is gone after many were removed, hand the freed heap
 * back to the kernel: the VMs were made by several FUSE workers, each
 * with its own malloc arena, and the freed structs between live chunks
 * keep RSS up (lifecycle.sh measures it).  Not after every removal: a
 * trim walks the heap. */
static void give_back_memory(struct kvmfs_host *h)
{
	bool trim;

	pthread_mutex_lock(&h->lock);
	h->removed_since_trim++;
	trim = g_hash_table_size(h->by_name) == 0 && h->removed_since_trim >= 64;
	if (trim)
		h->removed_since_trim = 0;
	pthread_mutex_unlock(&h->lock);
	if (trim)
		malloc_trim(0);
}

int kvmfs_host_vm_destroy(struct kvmfs_host *h, const char *name)
{
	struct kvmfs_vm *vm;

	pthread_mutex_lock(&h->lock);
	vm = g_hash_table_lookup(h->by_name, name);
	if (vm) {
		g_hash_table_remove(h->by_name, vm->name);
		g_hash_table_remove(h->by_serial, &vm->serial);
	}
	pthread_mutex_unlock(&h->lock);
	if (!vm)
		return -ENOENT;
	vm_teardown(vm);
	kvmfs_vm_unref(vm);
	give_back_memory(h);
	return 0;
}

void kvmfs_host_free(struct kvmfs_host *h)
{
	char **names;

	if (!h)
		return;
	names = kvmfs_host_list(h);
	for (char **n = names; *n; n++)
		kvmfs_host_vm_destroy(h, *n);
	g_strfreev(names);
	g_hash_table_destroy(h->by_name);
	g_hash_table_destroy(h->by_serial);
	pthread_mutex_destroy(&h->lock);
	free(h->cpuid);
	close(h->kvm_fd);
	free(h);
}
