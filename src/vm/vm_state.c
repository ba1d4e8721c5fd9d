/* The state of a VM that regs, sregs and memory do not hold, as files a
 * snapshot copies (docs/reference.md, "Snapshots and clones"): per vCPU
 * the MSRs (text), and the FPU/SSE/AVX state, XCRs, local APIC, pending
 * events, run state and debug registers (binary, KVM's own structs); per
 * VM the interrupt controllers and the PIT (binary), kvm-clock (text) and
 * the UART (text).  Each reads what KVM_GET_* gives and takes back what
 * it printed; the order of the files in a listing is the order a restore
 * needs (QEMU and Firecracker restore in the same order). */
#include "lib/text.h"
#include "vm/vm_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* The binary vCPU states: one struct each. */
static const struct blob {
	unsigned long get, set;
	size_t size;
} blobs[] = {
	[KVMFS_STATE_XSAVE] = { KVM_GET_XSAVE, KVM_SET_XSAVE, sizeof(struct kvm_xsave) },
	[KVMFS_STATE_XCRS] = { KVM_GET_XCRS, KVM_SET_XCRS, sizeof(struct kvm_xcrs) },
	[KVMFS_STATE_LAPIC] = { KVM_GET_LAPIC, KVM_SET_LAPIC, sizeof(struct kvm_lapic_state) },
	[KVMFS_STATE_EVENTS] = { KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
				 sizeof(struct kvm_vcpu_events) },
	[KVMFS_STATE_MPSTATE] = { KVM_GET_MP_STATE, KVM_SET_MP_STATE, sizeof(struct kvm_mp_state) },
	[KVMFS_STATE_DEBUGREGS] = { KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS,
				    sizeof(struct kvm_debugregs) },
};

static const char *const state_names[] = {
	[KVMFS_STATE_MSRS] = "msrs", [KVMFS_STATE_XSAVE] = "xsave",
	[KVMFS_STATE_XCRS] = "xcrs", [KVMFS_STATE_LAPIC] = "lapic",
	[KVMFS_STATE_EVENTS] = "events", [KVMFS_STATE_MPSTATE] = "mpstate",
	[KVMFS_STATE_DEBUGREGS] = "debugregs", [KVMFS_STATE_IRQCHIP] = "irqchip",
	[KVMFS_STATE_CLOCK] = "clock", [KVMFS_STATE_UART] = "uart",
};

/* The MSRs a running Linux guest depends on that sregs does not hold
 * (EFER, FS/GS base and the APIC base are in sregs): the TSC, the
 * syscall entry points, PAT, and kvm-clock's and the paravirtual ones. */
static const uint32_t msr_list[] = {
	0x10,		/* TSC */
	0x174, 0x175, 0x176, /* SYSENTER_CS, _ESP, _EIP */
	0x1a0,		/* MISC_ENABLE */
	0x277,		/* PAT */
	0x6e0,		/* TSC_DEADLINE */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR, LSTAR, CSTAR, SFMASK */
	0xc0000102,	/* KERNEL_GS_BASE */
	0xc0000103,	/* TSC_AUX */
	0x4b564d00, 0x4b564d01, /* KVM wall clock, system time (new) */
	0x4b564d02, 0x4b564d03, 0x4b564d04, 0x4b564d05, /* async PF, steal time, PV EOI, poll */
	0x11, 0x12,	/* KVM wall clock, system time (old) */
};
#define N_MSRS (sizeof(msr_list) / sizeof(msr_list[0]))

struct msrs_buf {
	struct kvm_msrs h;
	struct kvm_msr_entry e[N_MSRS];
};

/* One KVM_GET_MSRS for the whole list: KVM reads entries in order and
 * stops at the first it does not have, so each call gives a run of them
 * and the next one starts after the missing MSR. */
static int read_msrs(struct kvmfs_vcpu *v, GString *out)
{
	struct msrs_buf b;
	size_t done = 0;

	while (done < N_MSRS) {
		int r;

		b.h.nmsrs = (uint32_t)(N_MSRS - done);
		b.h.pad = 0;
		for (size_t i = 0; i < b.h.nmsrs; i++)
			b.e[i] = (struct kvm_msr_entry){ .index = msr_list[done + i] };
		r = kvmfs_vcpu_state_ioctl(v, KVM_GET_MSRS, &b, false);
		if (r < 0)
			return r;
		for (int i = 0; i < r; i++)
			g_string_append_printf(out, "0x%08" PRIx32 " 0x%016" PRIx64 "\n",
					       b.e[i].index, (uint64_t)b.e[i].data);
		done += (size_t)r + 1;	/* past the one this KVM lacks */
	}
	return 0;
}

static int parse_msrs(const char *text, size_t len, struct msrs_buf *b,
		      char *err, size_t errlen)
{
	struct kvmfs_cursor c;
	const char *line;
	size_t llen;
	unsigned lineno = 0;

	b->h.nmsrs = 0;
	kvmfs_cursor_init(&c, text, len);
	while (kvmfs_next_line(&c, &line, &llen)) {
		struct kvmfs_word w[2];
		uint64_t idx, val;
		int n = kvmfs_split_words(line, llen, w, 2);

		lineno++;
		if (n == 0)
			continue;
		if (n != 2 || kvmfs_parse_u64(w[0].s, w[0].len, &idx) < 0 ||
		    kvmfs_parse_u64(w[1].s, w[1].len, &val) < 0 || idx > UINT32_MAX) {
			snprintf(err, errlen, "line %u: expected 'INDEX VALUE', two numbers", lineno);
			return -EINVAL;
		}
		if (b->h.nmsrs == N_MSRS) {
			snprintf(err, errlen, "line %u: more than %zu MSRs", lineno, N_MSRS);
			return -EINVAL;
		}
		b->e[b->h.nmsrs].index = (uint32_t)idx;
		b->e[b->h.nmsrs].data = val;
		b->h.nmsrs++;
	}
	return 0;
}

/* All or nothing: KVM_SET_MSRS stops at the first MSR it refuses, so the
 * ones before it are put back. */
static int write_msrs(struct kvmfs_vm *vm, struct kvmfs_vcpu *v,
		      const char *text, size_t len)
{
	struct msrs_buf want, old;
	char err[KVMFS_ERR_LEN];
	int r = parse_msrs(text, len, &want, err, sizeof(err));

	if (r < 0) {
		kvmfs_vm_set_error(vm, "msrs: %s", err);
		return r;
	}
	if (!want.h.nmsrs)
		return 0;
	old = want;
	r = kvmfs_vcpu_state_ioctl(v, KVM_GET_MSRS, &old, false);
	if (r >= 0 && (unsigned)r < want.h.nmsrs) {
		kvmfs_vm_set_error(vm, "msrs: this KVM has no MSR 0x%" PRIx32, want.e[r].index);
		return -EINVAL;
	}
	if (r >= 0)
		r = kvmfs_vcpu_state_ioctl(v, KVM_SET_MSRS, &want, true);
	if (r >= 0 && (unsigned)r < want.h.nmsrs) {
		old.h.nmsrs = (unsigned)r;
		kvmfs_vcpu_state_ioctl(v, KVM_SET_MSRS, &old, true);
		kvmfs_vm_set_error(vm, "msrs: KVM refused MSR 0x%" PRIx32 " = 0x%" PRIx64 " (none applied)",
				   want.e[r].index, (uint64_t)want.e[r].data);
		return -EINVAL;
	}
	if (r < 0)
		kvmfs_vm_set_error(vm, "msrs: %s%s", strerror(-r),
				   r == -EBUSY ? " (echo stop > ctl first)" : "");
	return r < 0 ? r : 0;
}

/* --- the VM's own: interrupt controllers and PIT, clock, UART --- */

struct irqchip_blob {
	struct kvm_irqchip chip[3];	/* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
};

static int vm_ioctl(struct kvmfs_vm *vm, unsigned long req, void *arg)
{
	return ioctl(vm->fd, req, arg) < 0 ? -errno : 0;
}

static int read_irqchip(struct kvmfs_vm *vm, GString *out)
{
	struct irqchip_blob b;
	int r = 0;

	if (!__atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE))
		return 0;	/* nothing to hold: an empty file */
	memset(&b, 0, sizeof(b));
	for (unsigned i = 0; i < 3 && !r; i++) {
		b.chip[i].chip_id = i;
		r = vm_ioctl(vm, KVM_GET_IRQCHIP, &b.chip[i]);
	}
	if (!r)
		r = vm_ioctl(vm, KVM_GET_PIT2, &b.pit);
	if (!r)
		g_string_append_len(out, (const char *)&b, sizeof(b));
	return r;
}

static int write_irqchip(struct kvmfs_vm *vm, const char *buf, size_t len)
{
	struct irqchip_blob b;
	int r = 0;

	(void)len;	/* checked: the size of the blob */
	if (!__atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE)) {
		kvmfs_vm_set_error(vm, "irqchip: this VM has none (echo irqchip > ctl first, on a new VM)");
		return -EINVAL;
	}
	memcpy(&b, buf, sizeof(b));
	for (unsigned i = 0; i < 3; i++)
		if (b.chip[i].chip_id != i) {
			kvmfs_vm_set_error(vm, "irqchip: not a state this file printed (chip %u)", i);
			return -EINVAL;
		}
	for (unsigned i = 0; i < 3 && !r; i++)
		r = vm_ioctl(vm, KVM_SET_IRQCHIP, &b.chip[i]);
	if (!r)
		r = vm_ioctl(vm, KVM_SET_PIT2, &b.pit);
	if (r < 0)
		kvmfs_vm_set_error(vm, "irqchip: KVM refused the state: %s", strerror(-r));
	return r;
}

static int read_clock(struct kvmfs_vm *vm, GString *out)
{
	struct kvm_clock_data d;
	int r;

	memset(&d, 0, sizeof(d));
	r = vm_ioctl(vm, KVM_GET_CLOCK, &d);
	if (!r)
		g_string_append_printf(out, "clock %" PRIu64 "\n", (uint64_t)d.clock);
	return r;
}

static int write_clock(struct kvmfs_vm *vm, const char *text, size_t len)
{
	struct kvmfs_word w[3];
	struct kvm_clock_data d;
	uint64_t ns;
	int n = kvmfs_split_words(text, len && text[len - 1] == '\n' ? len - 1 : len, w, 3);
	int r;

	if (n != 2 || !kvmfs_word_is(&w[0], "clock") ||
	    kvmfs_parse_u64(w[1].s, w[1].len, &ns) < 0) {
		kvmfs_vm_set_error(vm, "clock: expected one line 'clock NANOSECONDS'");
		return -EINVAL;
	}
	memset(&d, 0, sizeof(d));
	d.clock = ns;
	r = vm_ioctl(vm, KVM_SET_CLOCK, &d);
	if (r < 0)
		kvmfs_vm_set_error(vm, "clock: KVM_SET_CLOCK: %s", strerror(-r));
	return r;
}

static int read_uart(struct kvmfs_vm *vm, GString *out)
{
	char *buf = g_malloc(KVMFS_UART_TEXT_MAX);
	int n = kvmfs_uart_format(&vm->uart, buf, KVMFS_UART_TEXT_MAX);

	if (n > 0)
		g_string_append_len(out, buf, n);
	g_free(buf);
	return n < 0 ? n : 0;
}

static int write_uart(struct kvmfs_vm *vm, const char *text, size_t len)
{
	char err[KVMFS_ERR_LEN];
	int r = kvmfs_uart_parse(&vm->uart, text, len, err, sizeof(err));

	if (r < 0)
		kvmfs_vm_set_error(vm, "uart: %s", err);
	return r;
}

/* --- the entry points (vm.h) --- */

size_t kvmfs_vm_state_size(enum kvmfs_state s)
{
	if (s < sizeof(blobs) / sizeof(blobs[0]) && blobs[s].size)
		return blobs[s].size;
	if (s == KVMFS_STATE_IRQCHIP)
		return sizeof(struct irqchip_blob);
	return 0;
}

uint64_t kvmfs_vm_state_length(struct kvmfs_vm *vm, unsigned cpu,
			       enum kvmfs_state s)
{
	bool irqchip = __atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE);

	if ((s == KVMFS_STATE_LAPIC || s == KVMFS_STATE_IRQCHIP) && !irqchip)
		return 0;
	if (s != KVMFS_STATE_IRQCHIP && !kvmfs_vm_has_vcpu(vm, cpu))
		return 0;
	return kvmfs_vm_state_size(s);
}

int kvmfs_vm_state_read(struct kvmfs_vm *vm, unsigned cpu, enum kvmfs_state s,
			GString *out)
{
	struct kvmfs_vcpu *v;
	void *buf;
	int r;

	if (s == KVMFS_STATE_IRQCHIP || s == KVMFS_STATE_CLOCK || s == KVMFS_STATE_UART) {
		r = kvmfs_vm_enter(vm);
		if (r < 0)
			return r;
		r = s == KVMFS_STATE_IRQCHIP ? read_irqchip(vm, out) :
		    s == KVMFS_STATE_CLOCK ? read_clock(vm, out) : read_uart(vm, out);
		kvmfs_vm_leave(vm);
		return r;
	}
	/* Without the irqchip the local APIC is not KVM's: nothing to hold. */
	if (s == KVMFS_STATE_LAPIC && !__atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE))
		return 0;
	r = kvmfs_vm_enter_vcpu(vm, cpu, &v);
	if (r < 0)
		return r;
	if (s == KVMFS_STATE_MSRS) {
		r = read_msrs(v, out);
	} else {
		buf = g_malloc0(blobs[s].size);
		r = kvmfs_vcpu_state_ioctl(v, blobs[s].get, buf, false);
		if (r >= 0)
			g_string_append_len(out, buf, (gssize)blobs[s].size);
		g_free(buf);
	}
	kvmfs_vm_leave(vm);
	return r < 0 ? r : 0;
}

int kvmfs_vm_state_write(struct kvmfs_vm *vm, unsigned cpu, enum kvmfs_state s,
			 const char *buf, size_t len)
{
	size_t want = kvmfs_vm_state_size(s);
	struct kvmfs_vcpu *v;
	void *copy;
	int r;

	if (s == KVMFS_STATE_LAPIC && !__atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE)) {
		kvmfs_vm_set_error(vm, "lapic: this VM has no irqchip (echo irqchip > ctl first, on a new VM)");
		return -EINVAL;
	}
	if (want && len != want) {
		kvmfs_vm_set_error(vm, "%s: %zu bytes written, the state is %zu bytes (copy the whole file)",
				   state_names[s], len, want);
		return -EINVAL;
	}
	if (s == KVMFS_STATE_IRQCHIP || s == KVMFS_STATE_CLOCK || s == KVMFS_STATE_UART) {
		r = kvmfs_vm_enter(vm);
		if (r < 0)
			return r;
		r = s == KVMFS_STATE_IRQCHIP ? write_irqchip(vm, buf, len) :
		    s == KVMFS_STATE_CLOCK ? write_clock(vm, buf, len) : write_uart(vm, buf, len);
		kvmfs_vm_leave(vm);
		return r;
	}
	r = kvmfs_vm_enter_vcpu(vm, cpu, &v);
	if (r < 0)
		return r;
	if (s == KVMFS_STATE_MSRS) {
		r = write_msrs(vm, v, buf, len);
	} else {
		copy = g_memdup2(buf, len);
		r = kvmfs_vcpu_state_ioctl(v, blobs[s].set, copy, true);
		if (r < 0 && r != -EBUSY) {
			/* Writing back the state the vCPU has already is no
			 * error, even where KVM refuses the call (KVM_SET_XCRS
			 * on a CPU whose XSAVE features KVM does not offer). */
			void *now = g_malloc0(len);

			if (kvmfs_vcpu_state_ioctl(v, blobs[s].get, now, false) >= 0 &&
			    !memcmp(now, buf, len))
				r = 0;
			g_free(now);
		}
		g_free(copy);
		if (r < 0)
			kvmfs_vm_set_error(vm, "%s: KVM refused the state: %s%s", state_names[s],
					   strerror(-r), r == -EBUSY ? " (echo stop > ctl first)" : "");
	}
	kvmfs_vm_leave(vm);
	return r < 0 ? r : 0;
}
