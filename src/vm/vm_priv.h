/* Internals shared by the backend files (kvm.c: host and VM set; vm.c:
 * one VM's files; ctl.c: ctl commands).  Not for the FUSE layer. */
#ifndef KVMFS_VM_PRIV_H
#define KVMFS_VM_PRIV_H

#include "devices/bus.h"
#include "lib/text.h"
#include "devices/debugcon.h"
#include "devices/rtc.h"
#include "devices/uart.h"
#include "x86/modes.h"
#include "lib/ring.h"
#include "vm/vm.h"

#include <linux/kvm.h>
#include <pthread.h>

#define KVMFS_ERR_LEN KVMFS_REASON_LEN
#define KVMFS_CONSOLE_DEFAULT (1u << 20)
#define KVMFS_TRANSLATE_MAX 4096
/* vCPUs per VM (ctl cpus N; their files are cpus/N), at most; KVM's
 * KVM_CAP_MAX_VCPUS may allow fewer. */
#define KVMFS_MAX_VCPUS 64

/* One vCPU of a VM, created on first use, and what its files keep. */
struct kvmfs_vm_cpu {
	struct kvmfs_vcpu *vcpu;	/* NULL until first used */
	uint64_t *translate;		/* the last addresses written to translate */
	size_t n_translate;
};

struct kvmfs_host {
	struct kvmfs_host_config cfg;
	int kvm_fd;
	int version;
	struct kvm_cpuid2 *cpuid;
	bool set_tss;
	bool paging32;			/* KVM keeps CR0.PG outside long mode */

	pthread_mutex_t lock;		/* the tables, counters, error */
	GHashTable *by_name;		/* name -> vm, holds a reference */
	GHashTable *by_serial;		/* serial -> vm, same VMs */
	uint64_t next_serial;
	uint64_t mem_used;
	unsigned removed_since_trim;	/* VMs removed since the last malloc_trim */
	char error[KVMFS_ERR_LEN];
};

struct kvmfs_vm {
	struct kvmfs_host *host;
	gint refs;
	uint64_t serial;
	char name[65];

	/* Held for reading by every call, for writing by resize and
	 * destroy: the mapping, the fds and the vCPU stay put meanwhile. */
	pthread_rwlock_t rw;
	bool dead;
	int fd;
	int memfd;
	uint8_t *mem;			/* maps the memfd's extent */
	uint64_t memsize;		/* slot 0: [0, memsize) */
	uint64_t highsize;		/* slot 1: [4 GiB, 4 GiB + highsize) */

	pthread_mutex_t lock;		/* below: config, vcpu creation */
	struct kvmfs_vm_cpu cpus[KVMFS_MAX_VCPUS];
	unsigned ncpus;			/* vCPUs 0..ncpus-1 (ctl cpus), >= 1 */
	unsigned cpu_limit;		/* KVM's, once asked (vm_smp.c) */
	unsigned timeout_ms;
	bool mode_set;
	struct kvmfs_mode_args mode;
	char error[KVMFS_ERR_LEN];

	pthread_mutex_t console_lock;
	struct kvmfs_ring console;

	/* vms/NAME/exits: every vCPU's run answers, one line each, and the
	 * readers waiting at its end (vm_smp.c). */
	pthread_mutex_t exits_lock;
	struct kvmfs_ring exits;
	struct kvmfs_exits_waiter *exits_waiters;
	bool exits_closed;

	/* The devices; registered when the VM is made. */
	struct kvmfs_bus bus;
	struct kvmfs_debugcon debugcon;	/* port 0xE9, into console */
	struct kvmfs_uart uart;		/* COM1, into console; input */
	struct kvmfs_rtc rtc;		/* the CMOS clock, with the irqchip */
	bool irqchip;			/* KVM's PIC, IOAPIC, LAPIC and PIT (atomic) */
};

/* Get vCPU CPU, creating it on first use (-ENOENT past the last one).
 * Caller holds vm->rw (read). */
int kvmfs_vm_vcpu(struct kvmfs_vm *vm, unsigned cpu, struct kvmfs_vcpu **out);
/* Whether any vCPU of the VM is in a run; vm->lock held. */
static inline bool kvmfs_vm_any_running(struct kvmfs_vm *vm)
{
	for (unsigned i = 0; i < KVMFS_MAX_VCPUS; i++)
		if (vm->cpus[i].vcpu && kvmfs_vcpu_running(vm->cpus[i].vcpu))
			return true;
	return false;
}

/* vCPU CPU if it exists, else NULL; vm->lock held. */
static inline struct kvmfs_vcpu *kvmfs_vm_vcpu_if(struct kvmfs_vm *vm, unsigned cpu)
{
	return cpu < KVMFS_MAX_VCPUS ? vm->cpus[cpu].vcpu : NULL;
}
/* kvmfs_vm_enter, then vCPU CPU (made on first use); on failure the VM
 * is left again (vm_cpu.c). */
int kvmfs_vm_enter_vcpu(struct kvmfs_vm *vm, unsigned cpu,
			struct kvmfs_vcpu **vcpu);
/* Take vm->rw for reading; -ENOENT if the VM was removed. */
int kvmfs_vm_enter(struct kvmfs_vm *vm);
void kvmfs_vm_leave(struct kvmfs_vm *vm);
int kvmfs_vm_set_console_size(struct kvmfs_vm *vm, uint64_t size);
/* The devices (vm_dev.c): made with the VM (vm.c frees them and prints
 * their status lines); ctl's irqchip, pio and mmio, and its lines. */
int kvmfs_vm_devices_init(struct kvmfs_vm *vm);
int kvmfs_check_irqchip(bool has_vcpu, char *err, size_t errlen);
int kvmfs_vm_set_irqchip(struct kvmfs_vm *vm);
int kvmfs_vm_set_policy(struct kvmfs_vm *vm, bool mmio, uint64_t first,
			uint64_t last, bool ignore);
void kvmfs_vm_devices_ctl(struct kvmfs_vm *vm, GString *out);
/* What a device prints goes here (vm_mem.c); ctx is the VM. */
void kvmfs_vm_console_append(void *ctx, const void *data, size_t len);

/* The refusals a command makes before it changes anything, as functions
 * of the state it would apply to: the commands run them on the VM as it
 * is, ctl's plan of a multi-line write (ctl.c) on the state the earlier
 * lines leave.  0, or -errno with the reason in err. */
/* Memory of LOW bytes at 0 and HIGH at 4 GiB (mem and highmem), for
 * the command VERB, the VM having OLD bytes in all and AVAIL allowed by
 * max_memory. */
int kvmfs_check_mem(const char *verb, uint64_t low, uint64_t high,
		    uint64_t old, uint64_t avail, bool running, char *err,
		    size_t errlen);
/* Where the memfd's mapping ends: memory's size. */
static inline uint64_t kvmfs_mem_extent(uint64_t low, uint64_t high)
{
	return high ? KVMFS_HIGHMEM_BASE + high : low;
}
/* cpus N on a VM with HAVE vCPUs, LIMIT allowed (vm_smp.c). */
int kvmfs_check_cpus(unsigned n, unsigned have, unsigned limit, char *err,
		     size_t errlen);
unsigned kvmfs_vm_cpu_limit(struct kvmfs_vm *vm);
/* ctl's run, stop, reset and step for the whole VM (vm_smp.c). */
int kvmfs_vm_run_all(struct kvmfs_vm *vm);
int kvmfs_vm_cpus_action(struct kvmfs_vm *vm, const char *what, unsigned n);
int kvmfs_vm_set_cpus(struct kvmfs_vm *vm, unsigned n);
/* A vCPU's run answer, for exits (the vCPU's on_answer). */
void kvmfs_vm_exit_note(void *ctx, unsigned cpu, const char *answer);
/* The VM goes: wake every exits reader (they find it gone). */
void kvmfs_vm_exits_close(struct kvmfs_vm *vm);
/* Anything WHAT that needs the vCPU stopped. */
int kvmfs_check_stopped(const char *what, bool running, char *err,
			size_t errlen);
/* Registers with these CR0 and EFER on this host (32-bit paging). */
int kvmfs_check_paging(const struct kvmfs_host *h, uint64_t cr0,
		       uint64_t efer, const char *what, char *err,
		       size_t errlen);
/* run with MEMSIZE bytes of memory, RUNNING or not. */
int kvmfs_check_run(uint64_t memsize, bool running, char *err,
		    size_t errlen);
int kvmfs_vm_set_mode(struct kvmfs_vm *vm, unsigned cpu,
		      const struct kvmfs_mode_args *a);

#endif
