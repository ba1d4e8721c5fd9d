/* Several vCPUs per VM: ctl's `cpus N` (KVM_CREATE_VCPU for each, each on
 * its own thread, vcpu.c), the VM-wide run, stop and reset of ctl, and
 * each vCPU's own status (cpus/N/status).  vCPU N's other files are the
 * ones of vCPU 0 with another index (vm_cpu.c, vm_state.c); vCPU IDs are
 * the indexes, and KVM makes them the APIC IDs. */
#include "vm/vm_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

/* Asked of KVM once per VM: every multi-line ctl write plans with it. */
unsigned kvmfs_vm_cpu_limit(struct kvmfs_vm *vm)
{
	unsigned cached = __atomic_load_n(&vm->cpu_limit, __ATOMIC_RELAXED);
	int n;

	if (cached)
		return cached;
	n = ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	/* KVM_CAP_MAX_VCPUS 0: KVM_CAP_NR_VCPUS holds (api.rst). */
	if (n <= 0)
		n = ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (n <= 0)
		n = 1;
	cached = (unsigned)n < KVMFS_MAX_VCPUS ? (unsigned)n : KVMFS_MAX_VCPUS;
	__atomic_store_n(&vm->cpu_limit, cached, __ATOMIC_RELAXED);
	return cached;
}

unsigned kvmfs_vm_ncpus(struct kvmfs_vm *vm)
{
	unsigned n;

	pthread_mutex_lock(&vm->lock);
	n = vm->ncpus;
	pthread_mutex_unlock(&vm->lock);
	return n;
}

int kvmfs_check_cpus(unsigned n, unsigned have, unsigned limit, char *err,
		     size_t errlen)
{
	if (n < have) {
		snprintf(err, errlen, "cpus %u: the VM has %u vCPUs already (KVM never removes a vCPU)",
			 n, have);
		return -EBUSY;
	}
	if (n > limit) {
		snprintf(err, errlen, "cpus %u: at most %u vCPUs per VM here (KVM_CAP_MAX_VCPUS)",
			 n, limit);
		return -EINVAL;
	}
	return 0;
}

int kvmfs_vm_set_cpus(struct kvmfs_vm *vm, unsigned n)
{
	char err[KVMFS_ERR_LEN];
	struct kvmfs_vcpu *vcpu;
	unsigned old;
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	pthread_mutex_lock(&vm->lock);
	old = vm->ncpus;
	r = kvmfs_check_cpus(n, old, kvmfs_vm_cpu_limit(vm), err, sizeof(err));
	if (!r)
		vm->ncpus = n;
	pthread_mutex_unlock(&vm->lock);
	if (r < 0) {
		kvmfs_vm_set_error(vm, "%s", err);
		goto out;
	}
	/* Made now, not on first use: an AP must exist before the BSP's
	 * INIT-SIPI-SIPI, and the irqchip (before any vCPU) is settled. */
	for (unsigned i = 0; i < n && !r; i++) {
		r = kvmfs_vm_vcpu(vm, i, &vcpu);
		if (r < 0) {
			/* KVM cannot take back the ones made: keep them. */
			pthread_mutex_lock(&vm->lock);
			vm->ncpus = i > old ? i : old;
			pthread_mutex_unlock(&vm->lock);
		}
	}
out:
	kvmfs_vm_leave(vm);
	return r;
}

int kvmfs_vm_run_all(struct kvmfs_vm *vm)
{
	unsigned n = kvmfs_vm_ncpus(vm), started = 0;
	int r = 0;

	if (n == 1)
		return kvmfs_vm_run(vm, 0, NULL, NULL);
	for (unsigned i = 0; i < n && !r; i++) {
		struct kvmfs_vcpu *vcpu;

		pthread_mutex_lock(&vm->lock);
		vcpu = kvmfs_vm_vcpu_if(vm, i);
		pthread_mutex_unlock(&vm->lock);
		if (vcpu && kvmfs_vcpu_running(vcpu))
			continue;
		r = kvmfs_vm_run(vm, i, NULL, NULL);
		if (r == -EBUSY)
			r = 0;	/* it started meanwhile */
		else if (!r)
			started++;
	}
	if (!r && !started) {
		kvmfs_vm_set_error(vm, "run: every vCPU is running (echo stop > ctl first)");
		r = -EBUSY;
	}
	return r;
}

/* stop and reset act on every vCPU, step on vCPU 0 (cpus/N has no ctl). */
int kvmfs_vm_cpus_action(struct kvmfs_vm *vm, const char *what, unsigned n)
{
	unsigned ncpus;
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	ncpus = !strcmp(what, "step") ? 1 : kvmfs_vm_ncpus(vm);
	for (unsigned i = 0; i < ncpus && !r; i++) {
		struct kvmfs_vcpu *vcpu;

		r = kvmfs_vm_vcpu(vm, i, &vcpu);
		if (r < 0)
			break;
		if (!strcmp(what, "stop")) {
			kvmfs_vcpu_stop(vcpu);
		} else if (!strcmp(what, "step")) {
			kvmfs_vcpu_arm_step(vcpu, n);
		} else if (!strcmp(what, "reset")) {
			r = kvmfs_vcpu_reset(vcpu);
			/* With the irqchip, an AP waits for INIT-SIPI again,
			 * as after power-on; the BSP runs. */
			if (!r && __atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE)) {
				struct kvm_mp_state mp = {
					i ? KVM_MP_STATE_UNINITIALIZED : KVM_MP_STATE_RUNNABLE
				};

				r = kvmfs_vcpu_state_ioctl(vcpu, KVM_SET_MP_STATE, &mp, true);
			}
			if (r < 0)
				kvmfs_vm_set_error(vm, "reset: %s", strerror(-r));
		}
	}
	if (!r && !strcmp(what, "reset")) {
		pthread_mutex_lock(&vm->lock);
		vm->mode_set = false;
		pthread_mutex_unlock(&vm->lock);
	}
	kvmfs_vm_leave(vm);
	return r;
}

static const char *mp_state_name(uint32_t s)
{
	static const char *const names[] = {
		[KVM_MP_STATE_RUNNABLE] = "runnable",
		[KVM_MP_STATE_UNINITIALIZED] = "uninitialized",
		[KVM_MP_STATE_INIT_RECEIVED] = "init_received",
		[KVM_MP_STATE_HALTED] = "halted",
		[KVM_MP_STATE_SIPI_RECEIVED] = "sipi_received",
	};

	return s < sizeof(names) / sizeof(names[0]) && names[s] ? names[s] : "other";
}

int kvmfs_vm_cpu_status(struct kvmfs_vm *vm, unsigned cpu, GString *out)
{
	struct kvmfs_vcpu_stats st;
	struct kvm_mp_state mp = { 0 };
	struct kvmfs_vcpu *vcpu;
	int r = kvmfs_vm_enter_vcpu(vm, cpu, &vcpu);

	if (r < 0)
		return r;
	kvmfs_vcpu_stats(vcpu, &st);
	/* Served by the vCPU's thread between two KVM_RUNs: a live sample. */
	r = kvmfs_vcpu_state_ioctl(vcpu, KVM_GET_MP_STATE, &mp, false);
	kvmfs_vm_leave(vm);
	g_string_append_printf(out, "cpu %u\n", cpu);
	g_string_append_printf(out, "state %s\n", kvmfs_vcpu_state_name(st.state));
	g_string_append_printf(out, "mpstate %s\n", r < 0 ? "unknown" : mp_state_name(mp.mp_state));
	g_string_append_printf(out, "exit %s\n", st.last);
	g_string_append_printf(out, "runs %" PRIu64 "\n", st.runs);
	g_string_append_printf(out, "exits %" PRIu64 "\n", st.exits);
	return 0;
}
