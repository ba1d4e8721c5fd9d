/* Internals shared by the backend files (kvm.c: host and VM set; vm.c:
 * one VM's files; ctl.c: ctl commands).  Not for the FUSE layer. */
#ifndef KVMFS_VM_PRIV_H
#define KVMFS_VM_PRIV_H

#include "modes.h"
#include "ring.h"
#include "vm.h"

#include <linux/kvm.h>
#include <pthread.h>

#define KVMFS_ERR_LEN 256
#define KVMFS_CONSOLE_DEFAULT (1u << 20)
#define KVMFS_TRANSLATE_MAX 4096

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
	uint8_t *mem;
	uint64_t memsize;

	pthread_mutex_t lock;		/* below: config, vcpu creation */
	struct kvmfs_vcpu *vcpu;
	unsigned timeout_ms;
	bool mode_set;
	struct kvmfs_mode_args mode;
	uint64_t *translate;		/* last request */
	size_t n_translate;
	char error[KVMFS_ERR_LEN];

	pthread_mutex_t console_lock;
	struct kvmfs_ring console;
};

/* Get vCPU 0, creating it on first use.  Caller holds vm->rw (read). */
int kvmfs_vm_vcpu(struct kvmfs_vm *vm, struct kvmfs_vcpu **out);
/* Take vm->rw for reading; -ENOENT if the VM was removed. */
int kvmfs_vm_enter(struct kvmfs_vm *vm);
void kvmfs_vm_leave(struct kvmfs_vm *vm);
int kvmfs_vm_set_console_size(struct kvmfs_vm *vm, uint64_t size);
int kvmfs_vm_set_mode(struct kvmfs_vm *vm, const struct kvmfs_mode_args *a);

#endif
