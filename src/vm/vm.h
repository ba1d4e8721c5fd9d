/* The KVM backend seen from the filesystem: the host (the /dev/kvm
 * handle, limits and the set of VMs) and each VM with its memory,
 * console, configuration and vCPU 0.  Every entry point returns 0 or
 * -errno and, when it refuses a write, records the one-line reason as the
 * VM's (or the host's) error.  No FUSE header here. */
#ifndef KVMFS_VM_H
#define KVMFS_VM_H

#include "vcpu/vcpu.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct kvmfs_host;
struct kvmfs_vm;

struct kvmfs_host_config {
	const char *kvm_path;
	unsigned max_vms;
	uint64_t max_memory;
	bool seccomp;		/* vCPU threads under sandbox.h's filter */
};

/* Open /dev/kvm and check the API version: what start-up needs before
 * mounting.  On failure, a one-line reason in err. */
int kvmfs_host_probe(const char *kvm_path, char *err, size_t errlen);
int kvmfs_host_new(const struct kvmfs_host_config *cfg,
		   struct kvmfs_host **out, char *err, size_t errlen);
/* Stops and destroys every VM. */
void kvmfs_host_free(struct kvmfs_host *h);

int kvmfs_host_version(struct kvmfs_host *h);
void kvmfs_host_caps(struct kvmfs_host *h, GString *out);
void kvmfs_host_status(struct kvmfs_host *h, GString *out);
void kvmfs_host_set_error(struct kvmfs_host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
unsigned kvmfs_host_count(struct kvmfs_host *h);
/* Names of the VMs, sorted; free with g_strfreev. */
char **kvmfs_host_list(struct kvmfs_host *h);

/* Create a VM.  name == NULL picks the lowest free decimal name; the name
 * used is copied to name_out (65 bytes).  A new reference is returned in
 * *out if out is not NULL. */
int kvmfs_host_vm_create(struct kvmfs_host *h, const char *name, char *name_out,
		    struct kvmfs_vm **out);
int kvmfs_host_vm_destroy(struct kvmfs_host *h, const char *name);

/* References: lookups return one; a VM removed by rmdir answers -ENOENT
 * to every call but stays valid memory until the last unref. */
struct kvmfs_vm *kvmfs_host_vm_lookup(struct kvmfs_host *h, const char *name);
struct kvmfs_vm *kvmfs_host_vm_by_serial(struct kvmfs_host *h, uint64_t serial);
struct kvmfs_vm *kvmfs_vm_ref(struct kvmfs_vm *vm);
void kvmfs_vm_unref(struct kvmfs_vm *vm);
uint64_t kvmfs_vm_serial(struct kvmfs_vm *vm);
const char *kvmfs_vm_name(struct kvmfs_vm *vm);
bool kvmfs_vm_alive(struct kvmfs_vm *vm);

void kvmfs_vm_set_error(struct kvmfs_vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The latest write was taken: the error line says "none" again. */
void kvmfs_vm_clear_error(struct kvmfs_vm *vm);

/* ctl and status. */
int kvmfs_vm_ctl_read(struct kvmfs_vm *vm, GString *out);
int kvmfs_vm_ctl_write(struct kvmfs_vm *vm, const char *text, size_t len);
int kvmfs_vm_status(struct kvmfs_vm *vm, GString *out);

/* Memory.  acquire holds the mapping stable (no resize or destroy) until
 * release; mem is NULL when size is 0.  [hole, hole_end) is the part
 * that is no memory (between mem and highmem; empty without highmem):
 * it reads as zeros, and the mapping there must not be touched (a read
 * of it would allocate the memfd's pages). */
struct kvmfs_mem_view {
	uint8_t *mem;
	uint64_t size;
	uint64_t hole, hole_end;
};
int kvmfs_vm_mem_acquire(struct kvmfs_vm *vm, struct kvmfs_mem_view *v);
void kvmfs_vm_mem_release(struct kvmfs_vm *vm);
uint64_t kvmfs_vm_mem_size(struct kvmfs_vm *vm);
/* -ENOSPC (nothing written) if [off, off+len) is not inside memory,
 * -EFAULT if it writes anything but zeros into the hole. */
int kvmfs_vm_mem_write(struct kvmfs_vm *vm, uint64_t off, const void *data,
		       size_t len);
int kvmfs_vm_set_mem(struct kvmfs_vm *vm, uint64_t size);
/* highmem SIZE: SIZE bytes at 4 GiB (0: none). */
int kvmfs_vm_set_highmem(struct kvmfs_vm *vm, uint64_t size);
/* truncate(2) of memory: grows it as mem does, never shrinks it (EPERM:
 * only ctl's mem shrinks memory). */
int kvmfs_vm_truncate_mem(struct kvmfs_vm *vm, uint64_t size);

/* Console: *pos is a stream position; bytes already dropped are skipped
 * (pos moves forward past them).  Returns the count copied. */
size_t kvmfs_vm_console_read(struct kvmfs_vm *vm, uint64_t *pos, void *buf,
			     size_t len);
uint64_t kvmfs_vm_console_total(struct kvmfs_vm *vm);
/* Bytes for the guest's serial port (vms/NAME/input): the count queued,
 * or -EAGAIN when the UART's queue is full (nothing queued). */
ssize_t kvmfs_vm_input(struct kvmfs_vm *vm, const void *data, size_t len);

/* The files of vCPU CPU (0 for the VM's own regs, sregs, ...); -ENOENT
 * for a vCPU the VM cannot have.  A read of regs, sregs or translate
 * makes the vCPU if it does not exist yet; kvmfs_vm_has_vcpu says
 * whether it does, for callers that must not make it (st_size). */
bool kvmfs_vm_has_vcpu(struct kvmfs_vm *vm, unsigned cpu);
/* vCPUs 0..N-1 exist (ctl cpus N; 1 by default): cpus/ lists them. */
unsigned kvmfs_vm_ncpus(struct kvmfs_vm *vm);
/* exits: every vCPU's run answers as lines "cpu N ANSWER", a stream
 * like the console (*pos as there).  read copies what is there; wait
 * registers FN(COOKIE) to be called once (from a vCPU thread) when there
 * is more than POS or the VM goes, and returns 0, or 1 when there is
 * already (nothing registered); cancel takes a registration back and
 * says whether it was still there (if not, FN runs or ran). */
#define KVMFS_EXITS_RING (64u << 10)
size_t kvmfs_vm_exits_read(struct kvmfs_vm *vm, uint64_t *pos, void *buf,
			   size_t len);
int kvmfs_vm_exits_wait(struct kvmfs_vm *vm, uint64_t pos,
			void (*fn)(void *cookie), void *cookie);
bool kvmfs_vm_exits_cancel(struct kvmfs_vm *vm, void *cookie);
/* cpus/N/status: vCPU CPU's state, mpstate, last exit and counters. */
int kvmfs_vm_cpu_status(struct kvmfs_vm *vm, unsigned cpu, GString *out);
int kvmfs_vm_regs_read(struct kvmfs_vm *vm, unsigned cpu, GString *out);
int kvmfs_vm_regs_write(struct kvmfs_vm *vm, unsigned cpu, const char *text,
			size_t len);
int kvmfs_vm_sregs_read(struct kvmfs_vm *vm, unsigned cpu, GString *out);
int kvmfs_vm_sregs_write(struct kvmfs_vm *vm, unsigned cpu, const char *text,
			 size_t len);
int kvmfs_vm_translate_write(struct kvmfs_vm *vm, unsigned cpu,
			     const char *text, size_t len);
int kvmfs_vm_translate_read(struct kvmfs_vm *vm, unsigned cpu, GString *out);
/* The state regs, sregs and memory do not hold (vm_state.c): per vCPU
 * (msrs as text, the rest KVM's structs) and per VM (irqchip: the PICs,
 * the IOAPIC and the PIT; clock and uart as text).  A read gives what a
 * write takes back; binary ones are written whole (exactly
 * kvmfs_vm_state_size bytes; 0: text). */
enum kvmfs_state {
	KVMFS_STATE_MSRS,
	KVMFS_STATE_XSAVE,
	KVMFS_STATE_XCRS,
	KVMFS_STATE_LAPIC,
	KVMFS_STATE_EVENTS,
	KVMFS_STATE_MPSTATE,
	KVMFS_STATE_DEBUGREGS,
	KVMFS_STATE_IRQCHIP,
	KVMFS_STATE_CLOCK,
	KVMFS_STATE_UART,
};
size_t kvmfs_vm_state_size(enum kvmfs_state s);
/* What a read of binary state S would give now, without reading it
 * (st_size): 0 before the vCPU exists, or for the local APIC and the
 * irqchip of a VM without the irqchip. */
uint64_t kvmfs_vm_state_length(struct kvmfs_vm *vm, unsigned cpu,
			       enum kvmfs_state s);
int kvmfs_vm_state_read(struct kvmfs_vm *vm, unsigned cpu, enum kvmfs_state s,
			GString *out);
int kvmfs_vm_state_write(struct kvmfs_vm *vm, unsigned cpu, enum kvmfs_state s,
			 const char *buf, size_t len);
int kvmfs_vm_run(struct kvmfs_vm *vm, unsigned cpu, kvmfs_run_done_fn done,
		 void *cookie);
void kvmfs_vm_run_interrupt(struct kvmfs_vm *vm, unsigned cpu, void *cookie);

#endif
