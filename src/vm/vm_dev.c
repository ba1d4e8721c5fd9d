/* A VM's devices: the 0xE9 console and the 16550A UART on its bus, the
 * in-kernel irqchip and PIT (ctl irqchip), the port and MMIO policy (ctl
 * pio and mmio), and the UART's input (vms/NAME/input).  See
 * docs/reference.md, "Devices". */
#include "lib/log.h"
#include "vm/vm_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

/* The UART's line: KVM_IRQ_LINE once the VM has its irqchip, else the
 * level goes nowhere (a guest without one polls).  Called with the
 * UART's lock held. */
static void uart_set_irq(void *ctx, unsigned irq, bool level)
{
	struct kvmfs_vm *vm = ctx;
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (__atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE))
		ioctl(vm->fd, KVM_IRQ_LINE, &l);
}

int kvmfs_vm_devices_init(struct kvmfs_vm *vm)
{
	int r;

	kvmfs_bus_init(&vm->bus);
	vm->debugcon.sink = kvmfs_vm_console_append;
	vm->debugcon.ctx = vm;
	r = kvmfs_debugcon_attach(&vm->debugcon, &vm->bus);
	if (!r)
		r = kvmfs_uart_init(&vm->uart, kvmfs_vm_console_append, vm,
				    uart_set_irq, vm);
	if (!r)
		r = kvmfs_uart_attach(&vm->uart, &vm->bus, KVMFS_UART_COM1,
				      KVMFS_UART_COM1_IRQ);
	return r;
}

int kvmfs_check_irqchip(bool has_vcpu, char *err, size_t errlen)
{
	if (!has_vcpu)
		return 0;
	snprintf(err, errlen,
		 "irqchip: the vCPU exists already (the first use of regs, sregs, translate, mode, step or run made it); write irqchip to the ctl of a new VM first");
	return -EBUSY;
}

int kvmfs_vm_set_irqchip(struct kvmfs_vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	char err[KVMFS_ERR_LEN] = "";
	int r = kvmfs_vm_enter(vm);
	bool has_vcpu = false;

	if (r < 0)
		return r;
	/* vm->lock keeps a vCPU from being made meanwhile. */
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < KVMFS_MAX_VCPUS; i++)
		has_vcpu |= vm->cpus[i].vcpu != NULL;
	if (vm->irqchip)
		goto out;	/* already there: nothing to do */
	r = kvmfs_check_irqchip(has_vcpu, err, sizeof(err));
	if (r < 0)
		goto out;
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP) < 0) {
		r = -errno;
		snprintf(err, sizeof(err), "irqchip: KVM_CREATE_IRQCHIP: %s", strerror(-r));
		goto out;
	}
	/* The irqchip cannot be taken back: if the PIT fails, the VM has
	 * the irqchip without a timer, and says so. */
	__atomic_store_n(&vm->irqchip, true, __ATOMIC_RELEASE);
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0) {
		r = -errno;
		snprintf(err, sizeof(err), "irqchip: KVM_CREATE_PIT2: %s (the irqchip is there, no PIT)",
			 strerror(-r));
	}
	/* A PC's other chip of the same age, in the server: the CMOS
	 * clock at 0x70 (devices/rtc.h), which KVM does not have. */
	kvmfs_rtc_init(&vm->rtc);
	if (!r && kvmfs_rtc_attach(&vm->rtc, &vm->bus) < 0)
		kvmfs_log("vm %s: no room on the bus for the RTC", vm->name);
out:
	pthread_mutex_unlock(&vm->lock);
	kvmfs_vm_leave(vm);
	if (r < 0)
		kvmfs_vm_set_error(vm, "%s", err);
	return r;
}

int kvmfs_vm_set_policy(struct kvmfs_vm *vm, bool mmio, uint64_t first,
			uint64_t last, bool ignore)
{
	int r = kvmfs_bus_set_policy(&vm->bus, mmio ? KVMFS_BUS_MMIO : KVMFS_BUS_PIO,
				     first, last,
				     ignore ? KVMFS_BUS_IGNORE : KVMFS_BUS_STOP);

	if (r == -ENOSPC)
		kvmfs_vm_set_error(vm, "%s: more than %u ranges", mmio ? "mmio" : "pio",
				   KVMFS_BUS_MAX_POLICIES);
	return r;
}

static void policy_line(GString *out, const char *prefix,
			const struct kvmfs_bus_policy *p, bool count)
{
	g_string_append_printf(out, "%s%s 0x%" PRIx64 "-0x%" PRIx64 " %s",
			       prefix, p->space == KVMFS_BUS_MMIO ? "mmio" : "pio",
			       p->first, p->last,
			       p->action == KVMFS_BUS_IGNORE ? "ignore" : "stop");
	if (count)
		g_string_append_printf(out, " %" PRIu64, p->hits);
	g_string_append_c(out, '\n');
}

void kvmfs_vm_devices_ctl(struct kvmfs_vm *vm, GString *out)
{
	struct kvmfs_bus_policy p[KVMFS_BUS_MAX_POLICIES];
	unsigned n = kvmfs_bus_policies(&vm->bus, p, KVMFS_BUS_MAX_POLICIES);

	if (__atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE))
		g_string_append(out, "irqchip\n");
	for (unsigned i = 0; i < n; i++)
		policy_line(out, "", &p[i], false);
}

ssize_t kvmfs_vm_input(struct kvmfs_vm *vm, const void *data, size_t len)
{
	ssize_t n = kvmfs_uart_input(&vm->uart, data, len);

	if (n == -EAGAIN)
		kvmfs_vm_set_error(vm, "input: the UART's queue is full (%u bytes); the guest is not reading: try again later",
				   KVMFS_UART_RX_MAX);
	return n;
}
