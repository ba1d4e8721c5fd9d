/* One VM, backend side: its error line, entering and leaving it (vm->rw,
 * which rmdir takes for writing), its vCPUs made on first use, and
 * status.  Memory and the console ring are vm_mem.c's; the files of a
 * vCPU (regs, sregs, mode, translate, run) are vm_cpu.c's. */
#include "lib/text.h"
#include "lib/log.h"
#include "vm/vm_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- references: a removed VM stays valid memory until the last one --- */

struct kvmfs_vm *kvmfs_vm_ref(struct kvmfs_vm *vm)
{
	g_atomic_int_inc(&vm->refs);
	return vm;
}

void kvmfs_vm_unref(struct kvmfs_vm *vm)
{
	if (!vm || !g_atomic_int_dec_and_test(&vm->refs))
		return;
	for (unsigned i = 0; i < KVMFS_MAX_VCPUS; i++)
		g_free(vm->cpus[i].translate);
	kvmfs_ring_free(&vm->console);
	pthread_rwlock_destroy(&vm->rw);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->console_lock);
	kvmfs_ring_free(&vm->exits);
	pthread_mutex_destroy(&vm->exits_lock);
	kvmfs_uart_free(&vm->uart);
	kvmfs_bus_free(&vm->bus);
	free(vm);
}

uint64_t kvmfs_vm_serial(struct kvmfs_vm *vm)
{
	return vm->serial;
}

const char *kvmfs_vm_name(struct kvmfs_vm *vm)
{
	return vm->name;
}

void kvmfs_vm_clear_error(struct kvmfs_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	snprintf(vm->error, sizeof(vm->error), "none");
	pthread_mutex_unlock(&vm->lock);
}

void kvmfs_vm_set_error(struct kvmfs_vm *vm, const char *fmt, ...)
{
	char msg[KVMFS_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&vm->lock);
	memcpy(vm->error, msg, sizeof(msg));
	pthread_mutex_unlock(&vm->lock);
	kvmfs_log_limited("vm %s: %s", vm->name, msg);
}

int kvmfs_vm_enter(struct kvmfs_vm *vm)
{
	pthread_rwlock_rdlock(&vm->rw);
	if (vm->dead) {
		pthread_rwlock_unlock(&vm->rw);
		return -ENOENT;
	}
	return 0;
}

void kvmfs_vm_leave(struct kvmfs_vm *vm)
{
	pthread_rwlock_unlock(&vm->rw);
}

bool kvmfs_vm_alive(struct kvmfs_vm *vm)
{
	bool alive;

	pthread_rwlock_rdlock(&vm->rw);
	alive = !vm->dead;
	pthread_rwlock_unlock(&vm->rw);
	return alive;
}

bool kvmfs_vm_has_vcpu(struct kvmfs_vm *vm, unsigned cpu)
{
	bool has;

	pthread_mutex_lock(&vm->lock);
	has = kvmfs_vm_vcpu_if(vm, cpu) != NULL;
	pthread_mutex_unlock(&vm->lock);
	return has;
}

int kvmfs_vm_vcpu(struct kvmfs_vm *vm, unsigned cpu, struct kvmfs_vcpu **out)
{
	struct kvmfs_vcpu_config cfg = {
		.vm_fd = vm->fd,
		.id = cpu,
		.kvm_fd = vm->host->kvm_fd,
		.cpuid = vm->host->cpuid,
		.bus = &vm->bus,
		.sandbox = vm->host->cfg.seccomp,
		.on_answer = kvmfs_vm_exit_note,
		.answer_ctx = vm,
	};
	char err[KVMFS_REASON_LEN];
	struct kvmfs_vcpu **slot;
	int r = 0;

	if (cpu >= KVMFS_MAX_VCPUS)
		return -ENOENT;
	slot = &vm->cpus[cpu].vcpu;
	pthread_mutex_lock(&vm->lock);
	if (cpu >= vm->ncpus) {
		pthread_mutex_unlock(&vm->lock);
		return -ENOENT;
	}
	if (!*slot) {
		r = kvmfs_vcpu_create(&cfg, slot, err, sizeof(err));
		if (r < 0) {
			*slot = NULL;
			snprintf(vm->error, sizeof(vm->error), "creating vCPU %u: %.200s", cpu, err);
		} else {
			kvmfs_vcpu_set_timeout(*slot, vm->timeout_ms);
		}
	}
	*out = *slot;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

/* --- status --- */

static const struct {
	const char *name;
	uint32_t reason;
} counted_exits[] = {
	{ "exits_io", KVM_EXIT_IO },
	{ "exits_mmio", KVM_EXIT_MMIO },
	{ "exits_hlt", KVM_EXIT_HLT },
	{ "exits_debug", KVM_EXIT_DEBUG },
	{ "exits_shutdown", KVM_EXIT_SHUTDOWN },
	{ "exits_fail_entry", KVM_EXIT_FAIL_ENTRY },
	{ "exits_internal_error", KVM_EXIT_INTERNAL_ERROR },
	{ "exits_system_event", KVM_EXIT_SYSTEM_EVENT },
};

/* The devices' lines: the irqchip, the UART's counters, the policy
 * ranges with the accesses each decided. */
static void devices_status(struct kvmfs_vm *vm, GString *out)
{
	struct kvmfs_bus_policy p[KVMFS_BUS_MAX_POLICIES];
	unsigned n = kvmfs_bus_policies(&vm->bus, p, KVMFS_BUS_MAX_POLICIES);
	struct kvmfs_uart_stats us;

	kvmfs_uart_stats(&vm->uart, &us);
	g_string_append_printf(out, "irqchip %d\n",
			       __atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE) ? 1 : 0);
	g_string_append_printf(out, "uart_exits %" PRIu64 "\n",
			       kvmfs_bus_hits(&vm->bus, KVMFS_UART_NAME));
	g_string_append_printf(out, "uart_tx %" PRIu64 "\n", us.tx);
	g_string_append_printf(out, "uart_rx %" PRIu64 "\n", us.rx);
	g_string_append_printf(out, "uart_queued %zu\n", us.queued);
	g_string_append_printf(out, "uart_refused %" PRIu64 "\n", us.refused);
	g_string_append_printf(out, "uart_overruns %" PRIu64 "\n", us.overruns);
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(out, "policy %s 0x%" PRIx64 "-0x%" PRIx64 " %s %" PRIu64 "\n",
				       p[i].space == KVMFS_BUS_MMIO ? "mmio" : "pio",
				       p[i].first, p[i].last,
				       p[i].action == KVMFS_BUS_IGNORE ? "ignore" : "stop",
				       p[i].hits);
}

int kvmfs_vm_status(struct kvmfs_vm *vm, GString *out)
{
	struct kvmfs_vcpu_stats st;
	unsigned nvcpus = 0;
	struct kvmfs_vcpu *vcpu;
	uint64_t total, dropped;
	char error[KVMFS_ERR_LEN];
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	memset(&st, 0, sizeof(st));
	snprintf(st.last, sizeof(st.last), "none");
	pthread_mutex_lock(&vm->lock);
	/* The VM's state is vCPU 0's. */
	vcpu = vm->cpus[0].vcpu;
	for (unsigned i = 0; i < KVMFS_MAX_VCPUS; i++)
		nvcpus += vm->cpus[i].vcpu != NULL;
	memcpy(error, vm->error, sizeof(error));
	pthread_mutex_unlock(&vm->lock);
	if (vcpu)
		kvmfs_vcpu_stats(vcpu, &st);
	pthread_mutex_lock(&vm->console_lock);
	total = vm->console.total;
	dropped = vm->console.dropped;
	pthread_mutex_unlock(&vm->console_lock);

	g_string_append_printf(out, "state %s\n",
			       !vm->memsize && (!vcpu || st.state == KVMFS_READY) ?
				       "empty" : kvmfs_vcpu_state_name(st.state));
	g_string_append_printf(out, "memory %" PRIu64 "\n", vm->memsize);
	g_string_append_printf(out, "highmem %" PRIu64 "\n", vm->highsize);
	g_string_append_printf(out, "vcpus %u\n", nvcpus);
	g_string_append_printf(out, "exit %s\n", st.last);
	g_string_append_printf(out, "runs %" PRIu64 "\n", st.runs);
	g_string_append_printf(out, "exits %" PRIu64 "\n", st.exits);
	for (size_t i = 0; i < sizeof(counted_exits) / sizeof(counted_exits[0]); i++)
		g_string_append_printf(out, "%s %" PRIu64 "\n", counted_exits[i].name,
				       st.by_reason[counted_exits[i].reason]);
	g_string_append_printf(out, "console_exits %" PRIu64 "\n",
			       kvmfs_bus_hits(&vm->bus, KVMFS_DEBUGCON_NAME));
	g_string_append_printf(out, "console_bytes %" PRIu64 "\n", total);
	g_string_append_printf(out, "console_dropped %" PRIu64 "\n", dropped);
	devices_status(vm, out);
	g_string_append_printf(out, "error %s\n", error);
	kvmfs_vm_leave(vm);
	return 0;
}

