/* The ctl file: a table of commands, each with a parser that checks its
 * words and an action that applies it.  A write is parsed whole, then
 * checked whole against the VM as it is (memory size, max_memory, the
 * mode's page tables, running or not), before anything happens: a typo
 * or an impossible command on line 3 changes nothing.  Then the lines
 * are applied in order.  Reading ctl prints the configuration as the
 * commands that recreate it. */
#include "formats/ctlparse.h"
#include "lib/log.h"
#include "vm/vm_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef int (*ctl_apply_fn)(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op);

static int apply_mem(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return kvmfs_vm_set_mem(vm, op->num);
}

static int apply_console(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return kvmfs_vm_set_console_size(vm, op->num);
}

static int apply_timeout(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	pthread_mutex_lock(&vm->lock);
	vm->timeout_ms = (unsigned)op->num;
	if (vm->vcpu)
		kvmfs_vcpu_set_timeout(vm->vcpu, vm->timeout_ms);
	pthread_mutex_unlock(&vm->lock);
	kvmfs_vm_leave(vm);
	return 0;
}

static int apply_mode(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return kvmfs_vm_set_mode(vm, &op->mode);
}

/* The vCPU actions: each needs vCPU 0, created on first use. */
static int vcpu_action(struct kvmfs_vm *vm, const char *what, unsigned n)
{
	struct kvmfs_vcpu *vcpu;
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	r = kvmfs_vm_vcpu(vm, &vcpu);
	if (r < 0)
		goto out;
	if (!strcmp(what, "stop")) {
		kvmfs_vcpu_stop(vcpu);
	} else if (!strcmp(what, "step")) {
		kvmfs_vcpu_arm_step(vcpu, n);
	} else if (!strcmp(what, "reset")) {
		r = kvmfs_vcpu_reset(vcpu);
		if (r < 0)
			kvmfs_vm_set_error(vm, "reset: %s", strerror(-r));
		pthread_mutex_lock(&vm->lock);
		vm->mode_set = false;
		pthread_mutex_unlock(&vm->lock);
	}
out:
	kvmfs_vm_leave(vm);
	return r;
}

static int apply_stop(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	(void)op;
	return vcpu_action(vm, "stop", 0);
}

static int apply_step(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return vcpu_action(vm, "step", (unsigned)op->num);
}

static int apply_reset(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	(void)op;
	return vcpu_action(vm, "reset", 0);
}

static int apply_run(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	(void)op;
	return kvmfs_vm_run(vm, NULL, NULL);
}

/* Indexed by verb: the parser in ctlparse.c checked the words. */
static const ctl_apply_fn ctl_apply[] = {
	[KVMFS_CTL_MEM] = apply_mem,
	[KVMFS_CTL_CONSOLE] = apply_console,
	[KVMFS_CTL_TIMEOUT] = apply_timeout,
	[KVMFS_CTL_MODE] = apply_mode,
	[KVMFS_CTL_RESET] = apply_reset,
	[KVMFS_CTL_STOP] = apply_stop,
	[KVMFS_CTL_STEP] = apply_step,
	[KVMFS_CTL_RUN] = apply_run,
};

/* What the VM will look like after the lines checked so far. */
struct ctl_plan {
	uint64_t memsize;
	uint64_t mem_avail;		/* for this VM under max_memory */
	bool running;
};

/* Check one line against the plan and advance it, with the checks the
 * actions themselves make (vm_priv.h), so that a refused line leaves the
 * lines before it unapplied.  Failures the plan cannot foresee (the host
 * out of memory, KVM refusing a state) still stop the write where they
 * happen. */
static int plan_line(const struct kvmfs_vm *vm, struct ctl_plan *p,
		     const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	char why[200];
	int r = 0;

	switch (op->verb) {
	case KVMFS_CTL_MEM:
		r = kvmfs_check_mem(op->num, p->memsize, p->mem_avail, p->running,
				    err, errlen);
		if (!r)
			p->memsize = op->num;
		break;
	case KVMFS_CTL_MODE:
		r = kvmfs_check_stopped("mode", p->running, err, errlen);
		if (!r) {
			r = kvmfs_mode_check(&op->mode, p->memsize, why, sizeof(why));
			if (r < 0)
				snprintf(err, errlen, "mode: %s", why);
		}
		/* The only mode with paging outside long mode. */
		if (!r && op->mode.mode == KVMFS_MODE_PAGED32)
			r = kvmfs_check_paging(vm->host, KVMFS_CR0_PG, 0,
					       "mode paged32", err, errlen);
		break;
	case KVMFS_CTL_RUN:
		r = kvmfs_check_run(p->memsize, p->running, err, errlen);
		if (!r)
			p->running = true;
		break;
	case KVMFS_CTL_STOP:
	case KVMFS_CTL_RESET:
		p->running = false;
		break;
	case KVMFS_CTL_CONSOLE:
	case KVMFS_CTL_TIMEOUT:
	case KVMFS_CTL_STEP:
		break;
	}
	return r;
}

/* A single line needs no plan: each action refuses without changing
 * anything. */
static int plan_write(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *ops,
		      size_t n)
{
	struct kvmfs_host *h = vm->host;
	struct ctl_plan p = { 0 };
	char why[240];
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	p.memsize = vm->memsize;
	pthread_mutex_lock(&h->lock);
	p.mem_avail = h->cfg.max_memory - h->mem_used + vm->memsize;
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_lock(&vm->lock);
	p.running = vm->vcpu && kvmfs_vcpu_running(vm->vcpu);
	pthread_mutex_unlock(&vm->lock);
	for (size_t i = 0; i < n && !r; i++) {
		r = plan_line(vm, &p, &ops[i], why, sizeof(why));
		if (r < 0)
			kvmfs_vm_set_error(vm, "ctl: line %u: %s (no line applied)",
					   ops[i].line, why);
	}
	kvmfs_vm_leave(vm);
	return r;
}

int kvmfs_vm_ctl_write(struct kvmfs_vm *vm, const char *text, size_t len)
{
	struct kvmfs_ctl_op *ops = g_new0(struct kvmfs_ctl_op, KVMFS_CTL_MAX_OPS);
	size_t n = 0;
	char err[240];
	int r;

	r = kvmfs_ctl_parse(text, len, ops, KVMFS_CTL_MAX_OPS, &n, err, sizeof(err));
	if (r < 0)
		kvmfs_vm_set_error(vm, "ctl: %s", err);
	else if (n > 1)
		r = plan_write(vm, ops, n);
	/* Lines apply in order; one that fails stops the rest. */
	for (size_t i = 0; i < n && !r; i++)
		r = ctl_apply[ops[i].verb](vm, &ops[i]);
	g_free(ops);
	return r;
}

int kvmfs_vm_ctl_read(struct kvmfs_vm *vm, GString *out)
{
	struct kvmfs_vcpu_stats st = { 0 };
	char mode[160];
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	pthread_mutex_lock(&vm->lock);
	if (vm->vcpu)
		kvmfs_vcpu_stats(vm->vcpu, &st);
	if (vm->memsize)
		g_string_append_printf(out, "mem 0x%" PRIx64 "\n", vm->memsize);
	pthread_mutex_lock(&vm->console_lock);
	g_string_append_printf(out, "console %zu\n", vm->console.cap);
	pthread_mutex_unlock(&vm->console_lock);
	g_string_append_printf(out, "timeout %u\n", vm->timeout_ms);
	if (vm->mode_set) {
		kvmfs_mode_format(&vm->mode, mode, sizeof(mode));
		g_string_append_printf(out, "%s\n", mode);
	}
	if (st.step_armed == 1)
		g_string_append(out, "step\n");
	else if (st.step_armed)
		g_string_append_printf(out, "step %u\n", st.step_armed);
	pthread_mutex_unlock(&vm->lock);
	kvmfs_vm_leave(vm);
	return 0;
}
