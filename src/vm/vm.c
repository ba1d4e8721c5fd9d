/* One VM's files, backend side: memory (a memfd mapped once and handed
 * to KVM as slot 0), the console ring, status, and vCPU 0's regs, sregs,
 * translate and run.  Each entry point takes vm->rw for reading, so rmdir
 * (which takes it for writing) never pulls memory from under a call. */
#include "formats/ctlparse.h"
#include "formats/exitfmt.h"
#include "lib/log.h"
#include "x86/pagewalk.h"
#include "formats/regfmt.h"
#include "lib/text.h"
#include "vm/vm_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void console_out(void *ctx, const void *data, size_t len)
{
	struct kvmfs_vm *vm = ctx;

	pthread_mutex_lock(&vm->console_lock);
	kvmfs_ring_append(&vm->console, data, len);
	pthread_mutex_unlock(&vm->console_lock);
}

int kvmfs_vm_vcpu(struct kvmfs_vm *vm, struct kvmfs_vcpu **out)
{
	struct kvmfs_vcpu_config cfg = {
		.vm_fd = vm->fd,
		.id = 0,
		.kvm_fd = vm->host->kvm_fd,
		.cpuid = vm->host->cpuid,
		.console = console_out,
		.ctx = vm,
		.sandbox = vm->host->cfg.seccomp,
	};
	char err[160];
	int r = 0;

	pthread_mutex_lock(&vm->lock);
	if (!vm->vcpu) {
		r = kvmfs_vcpu_create(&cfg, &vm->vcpu, err, sizeof(err));
		if (r < 0) {
			vm->vcpu = NULL;
			snprintf(vm->error, sizeof(vm->error), "creating vCPU 0: %s", err);
		} else {
			kvmfs_vcpu_set_timeout(vm->vcpu, vm->timeout_ms);
		}
	}
	*out = vm->vcpu;
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

int kvmfs_vm_status(struct kvmfs_vm *vm, GString *out)
{
	struct kvmfs_vcpu_stats st;
	struct kvmfs_vcpu *vcpu;
	uint64_t total, dropped;
	char error[KVMFS_ERR_LEN];
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	memset(&st, 0, sizeof(st));
	snprintf(st.last, sizeof(st.last), "none");
	pthread_mutex_lock(&vm->lock);
	vcpu = vm->vcpu;
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
	g_string_append_printf(out, "vcpus %d\n", vcpu ? 1 : 0);
	g_string_append_printf(out, "exit %s\n", st.last);
	g_string_append_printf(out, "runs %" PRIu64 "\n", st.runs);
	g_string_append_printf(out, "exits %" PRIu64 "\n", st.exits);
	for (size_t i = 0; i < sizeof(counted_exits) / sizeof(counted_exits[0]); i++)
		g_string_append_printf(out, "%s %" PRIu64 "\n", counted_exits[i].name,
				       st.by_reason[counted_exits[i].reason]);
	g_string_append_printf(out, "console_exits %" PRIu64 "\n", st.console_exits);
	g_string_append_printf(out, "console_bytes %" PRIu64 "\n", total);
	g_string_append_printf(out, "console_dropped %" PRIu64 "\n", dropped);
	g_string_append_printf(out, "error %s\n", error);
	kvmfs_vm_leave(vm);
	return 0;
}

/* --- regs and sregs --- */

static int with_vcpu(struct kvmfs_vm *vm, struct kvmfs_vcpu **vcpu)
{
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	r = kvmfs_vm_vcpu(vm, vcpu);
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

int kvmfs_vm_regs_read(struct kvmfs_vm *vm, GString *out)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_regs regs;
	int r = with_vcpu(vm, &vcpu);

	if (r < 0)
		return r;
	r = kvmfs_vcpu_get_regs(vcpu, &regs);
	kvmfs_vm_leave(vm);
	if (r < 0)
		return r;
	return format_table(&kvmfs_regs_table, &regs, out);
}

int kvmfs_vm_sregs_read(struct kvmfs_vm *vm, GString *out)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_sregs sregs;
	int r = with_vcpu(vm, &vcpu);

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

int kvmfs_vm_regs_write(struct kvmfs_vm *vm, const char *text, size_t len)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_regs regs;
	char err[160];
	int r = with_vcpu(vm, &vcpu);

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
			kvmfs_vm_set_error(vm, "regs: the vCPU is running");
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
	char err[200];
	int r;

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
			kvmfs_vm_set_error(vm, "%s: the vCPU is running", what);
		else
			kvmfs_vm_set_error(vm, "%s: KVM refused the state: %s", what,
					   strerror(-r));
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

int kvmfs_vm_sregs_write(struct kvmfs_vm *vm, const char *text, size_t len)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_sregs old, want;
	unsigned char seen[256];
	char err[160];
	int r = with_vcpu(vm, &vcpu);

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

int kvmfs_vm_set_mode(struct kvmfs_vm *vm, const struct kvmfs_mode_args *a)
{
	struct kvm_regs oldregs;
	struct kvmfs_vcpu *vcpu;
	struct kvm_sregs old, want;
	struct kvm_regs regs;
	unsigned char seen[256];
	uint8_t *saved = NULL;
	uint64_t need, pt;
	char err[200], what[32];
	int r = with_vcpu(vm, &vcpu);

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

int kvmfs_vm_translate_write(struct kvmfs_vm *vm, const char *text, size_t len)
{
	uint64_t *addrs = g_new(uint64_t, KVMFS_TRANSLATE_MAX);
	char err[200];
	size_t n = 0;
	int r;

	r = kvmfs_addr_list_parse(text, len, addrs, KVMFS_TRANSLATE_MAX, &n, err,
				  sizeof(err));
	if (r < 0) {
		kvmfs_vm_set_error(vm, "translate: %s", err);
	} else {
		r = kvmfs_vm_enter(vm);
	}
	if (!r) {
		pthread_mutex_lock(&vm->lock);
		g_free(vm->translate);
		vm->translate = g_memdup2(addrs, n * sizeof(uint64_t));
		vm->n_translate = n;
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

int kvmfs_vm_translate_read(struct kvmfs_vm *vm, GString *out)
{
	struct kvmfs_vcpu *vcpu;
	struct kvm_sregs sregs;
	struct kvmfs_walk_cpu cpu;
	struct kvm_translation *t;
	int *kerr;
	size_t n;
	int r = with_vcpu(vm, &vcpu);

	if (r < 0)
		return r;
	pthread_mutex_lock(&vm->lock);
	n = vm->n_translate;
	t = g_new0(struct kvm_translation, n ? n : 1);
	for (size_t i = 0; i < n; i++)
		t[i].linear_address = vm->translate[i];
	pthread_mutex_unlock(&vm->lock);
	kerr = g_new0(int, n ? n : 1);
	if (n)
		r = kvmfs_vcpu_translate(vcpu, &sregs, t, kerr, n);
	if (n && !r) {
		cpu = (struct kvmfs_walk_cpu){ sregs.cr0, sregs.cr3, sregs.cr4,
					       sregs.efer };
		for (size_t i = 0; i < n; i++) {
			uint64_t la = t[i].linear_address;
			struct kvmfs_walk_result w;
			int wr = kvmfs_walk(&cpu, vm->mem, vm->memsize, la, &w);

			translate_line(out, la, &t[i], kerr[i], &w, wr);
		}
	}
	g_free(t);
	g_free(kerr);
	kvmfs_vm_leave(vm);
	return r;
}

/* --- run --- */

int kvmfs_vm_run(struct kvmfs_vm *vm, kvmfs_run_done_fn done, void *cookie)
{
	struct kvmfs_vcpu *vcpu;
	char err[KVMFS_ERR_LEN];
	int r = with_vcpu(vm, &vcpu);

	if (r < 0)
		return r;
	/* Whether it is running is checked (and a run started) under
	 * the vCPU's lock: EBUSY comes from kvmfs_vcpu_run. */
	r = kvmfs_check_run(vm->memsize, false, err, sizeof(err));
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

void kvmfs_vm_run_interrupt(struct kvmfs_vm *vm, void *cookie)
{
	struct kvmfs_vcpu *vcpu;

	/* No vm->rw here: an interrupt can come while rmdir holds it,
	 * and rmdir is stopping the run anyway. */
	pthread_mutex_lock(&vm->lock);
	vcpu = vm->vcpu;
	if (vcpu)
		kvmfs_vcpu_interrupt(vcpu, cookie);
	pthread_mutex_unlock(&vm->lock);
}
