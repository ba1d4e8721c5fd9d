/* The files of one vCPU, backend side: regs, sregs (set and read back),
 * ctl's mode, translate (KVM_TRANSLATE beside kvmfs's own page walk) and
 * run.  Each takes the vCPU it acts on (0 for the VM's own files) and
 * vm->rw for reading, so rmdir never pulls memory from under a call. */
#include "formats/ctlparse.h"
#include "formats/exitfmt.h"
#include "formats/regfmt.h"
#include "lib/log.h"
#include "lib/text.h"
#include "vm/vm_priv.h"
#include "x86/pagewalk.h"
#include "x86/rules.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- regs and sregs --- */

int kvmfs_vm_enter_vcpu(struct kvmfs_vm *vm, unsigned cpu,
			struct kvmfs_vcpu **vcpu)
{
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	r = kvmfs_vm_vcpu(vm, cpu, vcpu);
	if (r < 0)
		kvmfs_vm_leave(vm);
	return r;
}

static int format_table(const struct kvmfs_table *t, const void *obj,
			GString *out)
{
	char buf[8192];
	int n = kvmfs_table_format(t, obj, buf, sizeof(buf));

	if (n < 0)
		return n;
	g_string_append_len(out, buf, n);
	return 0;
}

int kvmfs_vm_regs_read(struct kvmfs_vm *vm, unsigned cpu, GString *out)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_regs regs;
	int r = kvmfs_vm_enter_vcpu(vm, cpu, &vcpu);

	if (r < 0)
		return r;
	r = kvmfs_vcpu_get_regs(vcpu, &regs);
	kvmfs_vm_leave(vm);
	if (r < 0)
		return r;
	return format_table(&kvmfs_regs_table, &regs, out);
}

int kvmfs_vm_sregs_read(struct kvmfs_vm *vm, unsigned cpu, GString *out)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_sregs sregs;
	int r = kvmfs_vm_enter_vcpu(vm, cpu, &vcpu);

	if (r < 0)
		return r;
	r = kvmfs_vcpu_get_sregs(vcpu, &sregs);
	kvmfs_vm_leave(vm);
	if (r < 0)
		return r;
	return format_table(&kvmfs_sregs_table, &sregs, out);
}

int kvmfs_check_stopped(const char *what, bool running, char *err,
			size_t errlen)
{
	if (!running)
		return 0;
	snprintf(err, errlen, "%s: the vCPU is running (echo stop > ctl first)", what);
	return -EBUSY;
}

int kvmfs_check_paging(const struct kvmfs_host *h, uint64_t cr0,
		       uint64_t efer, const char *what, char *err,
		       size_t errlen)
{
	if (h->paging32 || !(cr0 & KVMFS_CR0_PG) || (efer & KVMFS_EFER_LME))
		return 0;
	snprintf(err, errlen, "%s: this KVM refuses 32-bit paging (CR0.PG without EFER.LME; host status paging32 0)",
		 what);
	return -EOPNOTSUPP;
}

int kvmfs_check_run(uint64_t memsize, bool running, char *err,
		    size_t errlen)
{
	if (!memsize) {
		snprintf(err, errlen, "run: no memory (echo 'mem SIZE' > ctl first)");
		return -EINVAL;
	}
	if (running) {
		snprintf(err, errlen, "run: already running");
		return -EBUSY;
	}
	return 0;
}

static int busy(struct kvmfs_vm *vm, struct kvmfs_vcpu *vcpu, const char *file)
{
	char err[KVMFS_ERR_LEN];
	int r = kvmfs_check_stopped(file, kvmfs_vcpu_running(vcpu), err,
				    sizeof(err));

	if (r < 0)
		kvmfs_vm_set_error(vm, "%s", err);
	return r;
}

int kvmfs_vm_regs_write(struct kvmfs_vm *vm, unsigned cpu, const char *text,
			size_t len)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_regs regs;
	char err[KVMFS_REASON_LEN];
	int r = kvmfs_vm_enter_vcpu(vm, cpu, &vcpu);

	if (r < 0)
		return r;
	r = busy(vm, vcpu, "regs");
	if (!r)
		r = kvmfs_vcpu_get_regs(vcpu, &regs);
	if (!r) {
		r = kvmfs_table_parse(&kvmfs_regs_table, text, len, &regs, NULL,
				      err, sizeof(err));
		if (r < 0)
			kvmfs_vm_set_error(vm, "regs: %s", err);
	}
	if (!r) {
		r = kvmfs_vcpu_set_regs(vcpu, &regs);
		if (r == -EBUSY)
			kvmfs_vm_set_error(vm, "regs: the vCPU is running (echo stop > ctl first)");
		else if (r < 0)
			kvmfs_vm_set_error(vm, "regs: KVM_SET_REGS: %s", strerror(-r));
	}
	kvmfs_vm_leave(vm);
	return r;
}

/* Set sregs and check what KVM kept: it may drop bits silently (this
 * host drops CR0.PG outside long mode).  On a refusal the old state is
 * put back, so a bad write changes nothing. */
static int apply_sregs(struct kvmfs_vm *vm, struct kvmfs_vcpu *vcpu,
		       const struct kvm_sregs *old, const struct kvm_sregs *want,
		       const unsigned char *seen, const struct kvm_regs *regs,
		       const char *what)
{
	struct kvm_sregs got;
	char err[KVMFS_REASON_LEN];
	int r;

	/* KVM's bare EINVAL names no rule: check them first. */
	r = kvmfs_sregs_rules(want, err, sizeof(err));
	if (r < 0) {
		kvmfs_vm_set_error(vm, "%s: %s", what, err);
		return r;
	}
	/* Refuse before KVM sees it: where KVM drops CR0.PG outside long
	 * mode it also leaves the vCPU to shut down on its next run. */
	r = kvmfs_check_paging(vm->host, want->cr0, want->efer, what, err,
			       sizeof(err));
	if (r < 0) {
		kvmfs_vm_set_error(vm, "%s", err);
		return r;
	}
	r = kvmfs_vcpu_set_state(vcpu, want, regs, &got);
	if (r < 0) {
		kvmfs_vcpu_set_sregs(vcpu, old);
		if (r == -EBUSY)
			kvmfs_vm_set_error(vm, "%s: the vCPU is running (echo stop > ctl first)", what);
		else {
			kvmfs_sregs_changes(old, want, err, sizeof(err));
			kvmfs_vm_set_error(vm, "%s: KVM refused the state (%s)%s%s",
					   what, strerror(-r),
					   err[0] ? ": it does not support " : "",
					   err);
		}
		return r == -EBUSY ? r : -EINVAL;
	}
	r = kvmfs_table_compare(&kvmfs_sregs_table, want, &got, seen, err,
				sizeof(err));
	if (r < 0) {
		kvmfs_vcpu_set_sregs(vcpu, old);
		kvmfs_vm_set_error(vm, "%s: %s (this KVM does not support it)",
				   what, err);
		return -EOPNOTSUPP;
	}
	return 0;
}

int kvmfs_vm_sregs_write(struct kvmfs_vm *vm, unsigned cpu, const char *text,
			 size_t len)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_sregs old, want;
	unsigned char seen[256];
	char err[KVMFS_REASON_LEN];
	int r = kvmfs_vm_enter_vcpu(vm, cpu, &vcpu);

	if (r < 0)
		return r;
	r = busy(vm, vcpu, "sregs");
	if (!r)
		r = kvmfs_vcpu_get_sregs(vcpu, &old);
	if (!r) {
		want = old;
		memset(seen, 0, sizeof(seen));
		r = kvmfs_table_parse(&kvmfs_sregs_table, text, len, &want, seen,
				      err, sizeof(err));
		if (r < 0)
			kvmfs_vm_set_error(vm, "sregs: %s", err);
	}
	if (!r)
		r = apply_sregs(vm, vcpu, &old, &want, seen, NULL, "sregs");
	kvmfs_vm_leave(vm);
	return r;
}

static const char *const mode_fields[] = {
	"cr0", "cr3", "cr4", "efer", "cs.l", "cs.db", "cs.base", "cs.selector", NULL,
};

/* Which sregs fields a mode must keep: worked out once. */
static unsigned char mode_marks[256];
static pthread_once_t mode_marks_once = PTHREAD_ONCE_INIT;

static void fill_mode_marks(void)
{
	const struct kvmfs_table *t = &kvmfs_sregs_table;

	for (size_t i = 0; i < t->n && i < sizeof(mode_marks); i++)
		for (const char *const *n = mode_fields; *n; n++)
			if (!strcmp(t->fields[i].name, *n))
				mode_marks[i] = 1;
}

int kvmfs_vm_set_mode(struct kvmfs_vm *vm, unsigned cpu,
		      const struct kvmfs_mode_args *a)
{
	struct kvm_regs oldregs;
	struct kvmfs_vcpu *vcpu;
	struct kvm_sregs old, want;
	struct kvm_regs regs;
	unsigned char seen[256];
	uint8_t *saved = NULL;
	uint64_t need, pt;
	char err[KVMFS_REASON_LEN], what[32];
	int r = kvmfs_vm_enter_vcpu(vm, cpu, &vcpu);

	if (r < 0)
		return r;
	r = busy(vm, vcpu, "mode");
	if (!r)
		r = kvmfs_vcpu_get_sregs(vcpu, &old);
	if (!r)
		r = kvmfs_vcpu_get_regs(vcpu, &oldregs);
	if (r)
		goto out;
	want = old;
	regs = (struct kvm_regs){ 0 };
	need = kvmfs_mode_pt_bytes(a->mode, vm->memsize);
	pt = a->pt_set ? a->pt : kvmfs_mode_default_pt(a->mode, vm->memsize);
	/* Keep what the page tables overwrite, to put it back on refusal. */
	if (need && pt <= vm->memsize && need <= vm->memsize - pt) {
		saved = g_memdup2(vm->mem + pt, need);
	}
	r = kvmfs_mode_setup(a, vm->mem, vm->memsize, &want, &regs, err, sizeof(err));
	if (r < 0) {
		kvmfs_vm_set_error(vm, "mode: %s", err);
		goto out;
	}
	/* The fields that make the mode must stick. */
	pthread_once(&mode_marks_once, fill_mode_marks);
	memcpy(seen, mode_marks, sizeof(seen));
	snprintf(what, sizeof(what), "mode %s", kvmfs_mode_name(a->mode));
	r = apply_sregs(vm, vcpu, &old, &want, seen, &regs, what);
	if (r < 0) {
		if (saved)
			memcpy(vm->mem + pt, saved, need);
		kvmfs_vcpu_set_regs(vcpu, &oldregs);
		goto out;
	}
	pthread_mutex_lock(&vm->lock);
	vm->mode = *a;
	vm->mode_set = true;
	pthread_mutex_unlock(&vm->lock);
out:
	g_free(saved);
	kvmfs_vm_leave(vm);
	return r;
}

/* --- translate --- */

int kvmfs_vm_translate_write(struct kvmfs_vm *vm, unsigned cpu, const char *text,
			     size_t len)
{
	uint64_t *addrs = g_new(uint64_t, KVMFS_TRANSLATE_MAX);
	char err[KVMFS_REASON_LEN];
	size_t n = 0;
	int r;

	if (cpu >= KVMFS_MAX_VCPUS) {
		g_free(addrs);
		return -ENOENT;
	}
	r = kvmfs_addr_list_parse(text, len, addrs, KVMFS_TRANSLATE_MAX, &n, err,
				  sizeof(err));
	if (r < 0) {
		kvmfs_vm_set_error(vm, "translate: %s", err);
	} else {
		r = kvmfs_vm_enter(vm);
	}
	if (!r) {
		pthread_mutex_lock(&vm->lock);
		g_free(vm->cpus[cpu].translate);
		vm->cpus[cpu].translate = g_memdup2(addrs, n * sizeof(uint64_t));
		vm->cpus[cpu].n_translate = n;
		pthread_mutex_unlock(&vm->lock);
		kvmfs_vm_leave(vm);
	}
	g_free(addrs);
	return r;
}

static const char *size_name(uint64_t size)
{
	switch (size) {
	case 4096: return "4K";
	case 2ull << 20: return "2M";
	case 4ull << 20: return "4M";
	case 1ull << 30: return "1G";
	default: return "none";
	}
}

static void translate_line(GString *out, uint64_t la,
			   const struct kvm_translation *t, int kr,
			   const struct kvmfs_walk_result *w, int wr)
{
	bool kvalid = kr == 0 && t->valid;

	g_string_append_printf(out, "0x%016" PRIx64 " -> ", la);
	if (wr < 0) {
		/* A mode the walk does not know: KVM's answer alone. */
		if (kvalid)
			g_string_append_printf(out, "0x%016llx valid=1 size=unknown",
					       t->physical_address);
		else
			g_string_append(out, "invalid valid=0 reason=unsupported-mode");
	} else if (w->reason == KVMFS_WALK_OK) {
		g_string_append_printf(out, "0x%016" PRIx64 " valid=1 size=%s writable=%d user=%d nx=%d",
				       w->phys, size_name(w->page_size), w->writable,
				       w->user, w->nx);
	} else {
		g_string_append_printf(out, "invalid valid=0 reason=%s level=%d",
				       kvmfs_walk_reason_name(w->reason), w->level);
	}
	/* The walk and KVM must agree; say so when they do not. */
	if (wr == 0) {
		bool wvalid = w->reason == KVMFS_WALK_OK;

		if (kr < 0)
			g_string_append_printf(out, " kvm-error=%d", -kr);
		else if (wvalid != kvalid || (kvalid && t->physical_address != w->phys)) {
			if (kvalid)
				g_string_append_printf(out, " mismatch kvm=0x%016llx",
						       t->physical_address);
			else
				g_string_append(out, " mismatch kvm=invalid");
		}
	}
	g_string_append_c(out, '\n');
}

int kvmfs_vm_translate_read(struct kvmfs_vm *vm, unsigned cpu, GString *out)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_sregs sregs;
	struct kvmfs_walk_cpu wc;
	struct kvm_translation *t;
	int *kerr;
	size_t n;
	int r = kvmfs_vm_enter_vcpu(vm, cpu, &vcpu);

	if (r < 0)
		return r;
	pthread_mutex_lock(&vm->lock);
	n = vm->cpus[cpu].n_translate;
	t = g_new0(struct kvm_translation, n ? n : 1);
	for (size_t i = 0; i < n; i++)
		t[i].linear_address = vm->cpus[cpu].translate[i];
	pthread_mutex_unlock(&vm->lock);
	kerr = g_new0(int, n ? n : 1);
	if (n)
		r = kvmfs_vcpu_translate(vcpu, &sregs, t, kerr, n);
	if (n && !r) {
		wc = (struct kvmfs_walk_cpu){ sregs.cr0, sregs.cr3, sregs.cr4,
					       sregs.efer };
		for (size_t i = 0; i < n; i++) {
			uint64_t la = t[i].linear_address;
			struct kvmfs_walk_result w;
			/* Page tables may be in highmem (Linux allocates
			 * them top down); one in the hole reads zeros. */
			int wr = kvmfs_walk(&wc, vm->mem,
					    kvmfs_mem_extent(vm->memsize, vm->highsize),
					    la, &w);

			translate_line(out, la, &t[i], kerr[i], &w, wr);
		}
	}
	g_free(t);
	g_free(kerr);
	kvmfs_vm_leave(vm);
	return r;
}

/* --- run --- */

/* A run that would fetch its first instruction outside memory (a VM
 * without a mode sits at the reset vector, 0xfffffff0) is refused with
 * the fix, rather than answered with KVM's internal_error. */
static int check_start(struct kvmfs_vm *vm, unsigned cpu,
		       struct kvmfs_vcpu *vcpu, char *err, size_t errlen)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	/* With the irqchip, an AP waits for the BSP's INIT-SIPI-SIPI, which
	 * sets where it starts. */
	if (cpu > 0 && __atomic_load_n(&vm->irqchip, __ATOMIC_ACQUIRE))
		return 0;
	if (kvmfs_vcpu_running(vcpu) || kvmfs_vcpu_get_sregs(vcpu, &sregs) < 0 ||
	    kvmfs_vcpu_get_regs(vcpu, &regs) < 0)
		return 0;	/* joining a run, or KVM_RUN will say */
	return kvmfs_run_start_check(&sregs, regs.rip, vm->memsize, err, errlen);
}

int kvmfs_vm_run(struct kvmfs_vm *vm, unsigned cpu, kvmfs_run_done_fn done,
		 void *cookie)
{
	struct kvmfs_vcpu *vcpu;
	char err[KVMFS_ERR_LEN];
	int r = kvmfs_vm_enter_vcpu(vm, cpu, &vcpu);

	if (r < 0)
		return r;
	/* Whether it is running is checked (and a run started) under
	 * the vCPU's lock: EBUSY comes from kvmfs_vcpu_run. */
	r = kvmfs_check_run(vm->memsize, false, err, sizeof(err));
	if (!r)
		r = check_start(vm, cpu, vcpu, err, sizeof(err));
	if (!r) {
		r = kvmfs_vcpu_run(vcpu, done, cookie);
		if (r == -EBUSY)
			kvmfs_check_run(vm->memsize, true, err, sizeof(err));
	}
	if (r < 0)
		kvmfs_vm_set_error(vm, "%s", err);
	kvmfs_vm_leave(vm);
	return r;
}

void kvmfs_vm_run_interrupt(struct kvmfs_vm *vm, unsigned cpu, void *cookie)
{
	struct kvmfs_vcpu *vcpu;

	/* No vm->rw here: an interrupt can come while rmdir holds it,
	 * and rmdir is stopping the run anyway. */
	pthread_mutex_lock(&vm->lock);
	vcpu = kvmfs_vm_vcpu_if(vm, cpu);
	if (vcpu)
		kvmfs_vcpu_interrupt(vcpu, cookie);
	pthread_mutex_unlock(&vm->lock);
}
