/* The run answers (docs/reference.md, `run`): one table of exit reasons with a
 * formatter each, and the validation of the guest-controlled parts of
 * struct kvm_run that must pass before any of it is used. */
#include "formats/exitfmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define X64 "0x%016" PRIx64

uint64_t kvmfs_le_value(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

int kvmfs_exit_check(const struct kvm_run *run, size_t run_size, char *err,
		     size_t errlen)
{
	if (run->exit_reason == KVM_EXIT_IO) {
		uint64_t size = run->io.size, count = run->io.count;
		uint64_t off = run->io.data_offset;

		if (size != 1 && size != 2 && size != 4) {
			snprintf(err, errlen, "bad io.size %" PRIu64, size);
			return -EIO;
		}
		if (count == 0) {
			snprintf(err, errlen, "io.count is 0");
			return -EIO;
		}
		if (run->io.direction != KVM_EXIT_IO_IN &&
		    run->io.direction != KVM_EXIT_IO_OUT) {
			snprintf(err, errlen, "bad io.direction %u",
				 run->io.direction);
			return -EIO;
		}
		/* size <= 4 and count < 2^32, so size * count cannot
		 * overflow 64 bits; the sum is checked against run_size
		 * in two steps for the same reason. */
		if (off > run_size || size * count > run_size - off) {
			snprintf(err, errlen,
				 "io data (offset %" PRIu64 ", %" PRIu64
				 " x %" PRIu64 " bytes) outside kvm_run",
				 off, count, size);
			return -EIO;
		}
	} else if (run->exit_reason == KVM_EXIT_MMIO) {
		if (run->mmio.len < 1 || run->mmio.len > 8) {
			snprintf(err, errlen, "bad mmio.len %u", run->mmio.len);
			return -EIO;
		}
	}
	return 0;
}

typedef int (*exit_fmt_fn)(const struct kvm_run *run, char *buf, size_t cap);

static int fmt_none(const struct kvm_run *run, char *buf, size_t cap)
{
	(void)run;
	if (cap)
		buf[0] = 0;
	return 0;
}

static int fmt_io(const struct kvm_run *run, char *buf, size_t cap)
{
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
	int out = run->io.direction == KVM_EXIT_IO_OUT;
	int n;

	n = snprintf(buf, cap, " %s port=0x%04x size=%u count=%u",
		     out ? "out" : "in", run->io.port, run->io.size,
		     run->io.count);
	if (out && n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - n, " data=0x%0*" PRIx64,
			      run->io.size * 2,
			      kvmfs_le_value(data, run->io.size));
	return n;
}

static int fmt_mmio(const struct kvm_run *run, char *buf, size_t cap)
{
	int n;

	n = snprintf(buf, cap, " %s addr=" X64 " len=%u",
		     run->mmio.is_write ? "write" : "read",
		     (uint64_t)run->mmio.phys_addr, run->mmio.len);
	if (run->mmio.is_write && n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - n, " data=0x%0*" PRIx64,
			      run->mmio.len * 2,
			      kvmfs_le_value(run->mmio.data, run->mmio.len));
	return n;
}

static int fmt_fail_entry(const struct kvm_run *run, char *buf, size_t cap)
{
	return snprintf(buf, cap, " reason=0x%llx cpu=%u",
			run->fail_entry.hardware_entry_failure_reason,
			run->fail_entry.cpu);
}

static int fmt_internal(const struct kvm_run *run, char *buf, size_t cap)
{
	uint32_t nd = run->internal.ndata;
	int n;

	n = snprintf(buf, cap, " suberror=%u ndata=%u", run->internal.suberror,
		     nd);
	if (nd > 16)
		nd = 16;
	for (uint32_t i = 0; i < nd && n >= 0 && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - n, " data%u=0x%llx", i,
			      run->internal.data[i]);
	return n;
}

static int fmt_debug(const struct kvm_run *run, char *buf, size_t cap)
{
	return snprintf(buf, cap, " exception=%u dr6=0x%llx dr7=0x%llx",
			run->debug.arch.exception, run->debug.arch.dr6,
			run->debug.arch.dr7);
}

static int fmt_system_event(const struct kvm_run *run, char *buf, size_t cap)
{
	return snprintf(buf, cap, " type=%u", run->system_event.type);
}

static int fmt_exception(const struct kvm_run *run, char *buf, size_t cap)
{
	return snprintf(buf, cap, " exception=%u error_code=%u",
			run->ex.exception, run->ex.error_code);
}

static const struct exit_kind {
	uint32_t reason;
	const char *name;
	exit_fmt_fn fmt;
} exit_kinds[] = {
	{ KVM_EXIT_UNKNOWN, "unknown", fmt_none },
	{ KVM_EXIT_EXCEPTION, "exception", fmt_exception },
	{ KVM_EXIT_IO, "io", fmt_io },
	{ KVM_EXIT_HYPERCALL, "hypercall", fmt_none },
	{ KVM_EXIT_DEBUG, "debug", fmt_debug },
	{ KVM_EXIT_HLT, "hlt", fmt_none },
	{ KVM_EXIT_MMIO, "mmio", fmt_mmio },
	{ KVM_EXIT_IRQ_WINDOW_OPEN, "irq_window_open", fmt_none },
	{ KVM_EXIT_SHUTDOWN, "shutdown", fmt_none },
	{ KVM_EXIT_FAIL_ENTRY, "fail_entry", fmt_fail_entry },
	{ KVM_EXIT_INTR, "intr", fmt_none },
	{ KVM_EXIT_SET_TPR, "set_tpr", fmt_none },
	{ KVM_EXIT_TPR_ACCESS, "tpr_access", fmt_none },
	{ KVM_EXIT_NMI, "nmi", fmt_none },
	{ KVM_EXIT_INTERNAL_ERROR, "internal_error", fmt_internal },
	{ KVM_EXIT_SYSTEM_EVENT, "system_event", fmt_system_event },
	{ KVM_EXIT_IOAPIC_EOI, "ioapic_eoi", fmt_none },
	{ KVM_EXIT_HYPERV, "hyperv", fmt_none },
	{ KVM_EXIT_X86_RDMSR, "rdmsr", fmt_none },
	{ KVM_EXIT_X86_WRMSR, "wrmsr", fmt_none },
	{ KVM_EXIT_DIRTY_RING_FULL, "dirty_ring_full", fmt_none },
	{ KVM_EXIT_X86_BUS_LOCK, "bus_lock", fmt_none },
	{ KVM_EXIT_NOTIFY, "notify", fmt_none },
};

static const struct exit_kind *exit_kind(uint32_t reason)
{
	for (size_t i = 0; i < sizeof(exit_kinds) / sizeof(exit_kinds[0]); i++)
		if (exit_kinds[i].reason == reason)
			return &exit_kinds[i];
	return NULL;
}

const char *kvmfs_exit_name(uint32_t reason)
{
	const struct exit_kind *k = exit_kind(reason);

	return k ? k->name : NULL;
}

int kvmfs_exit_format(const struct kvm_run *run, uint64_t rip, char *buf,
		      size_t cap)
{
	const struct exit_kind *k = exit_kind(run->exit_reason);
	int n;

	if (!cap)
		return 0;
	if (k)
		n = snprintf(buf, cap, "%s", k->name);
	else
		n = snprintf(buf, cap, "exit reason=%u", run->exit_reason);
	if (k && n >= 0 && (size_t)n < cap)
		n += k->fmt(run, buf + n, cap - n);
	if (n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - n, " rip=" X64, rip);
	if (n < 0)
		n = 0;
	if ((size_t)n >= cap)
		n = cap - 1;
	return n;
}
