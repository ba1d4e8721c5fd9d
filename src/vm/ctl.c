/* The ctl file: a table of commands (ctl_verbs[]), each with the check of
 * a line against the plan of a write, the action that applies it and the
 * line that prints it back; ctlparse.c's table parses their words.  A write is parsed whole, then
 * checked whole against the VM as it is (memory size, max_memory, the
 * mode's page tables, running or not), before anything happens: a typo
 * or an impossible command on line 3 changes nothing.  Then the lines
 * are applied in order.  Reading ctl prints the configuration as the
 * commands that recreate it. */
#include "lib/text.h"
#include "formats/ctlparse.h"
#include "lib/log.h"
#include "vm/vm_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int apply_mem(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return kvmfs_vm_set_mem(vm, op->num);
}

static int apply_highmem(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return kvmfs_vm_set_highmem(vm, op->num);
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
	for (unsigned i = 0; i < KVMFS_MAX_VCPUS; i++)
		if (vm->cpus[i].vcpu)
			kvmfs_vcpu_set_timeout(vm->cpus[i].vcpu, vm->timeout_ms);
	pthread_mutex_unlock(&vm->lock);
	kvmfs_vm_leave(vm);
	return 0;
}

static int apply_mode(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return kvmfs_vm_set_mode(vm, 0, &op->mode);
}

/* The vCPU actions act on the whole VM (vm_smp.c): stop and reset every
 * vCPU, step vCPU 0. */
static int apply_stop(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	(void)op;
	return kvmfs_vm_cpus_action(vm, "stop", 0);
}

static int apply_step(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return kvmfs_vm_cpus_action(vm, "step", (unsigned)op->num);
}

static int apply_reset(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	(void)op;
	return kvmfs_vm_cpus_action(vm, "reset", 0);
}

static int apply_run(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	(void)op;
	return kvmfs_vm_run_all(vm);
}

static int apply_cpus(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return kvmfs_vm_set_cpus(vm, (unsigned)op->num);
}

static int apply_irqchip(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	(void)op;
	return kvmfs_vm_set_irqchip(vm);
}

static int apply_policy(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op)
{
	return kvmfs_vm_set_policy(vm, op->verb == KVMFS_CTL_MMIO, op->first,
				   op->last, op->ignore);
}

/* What the VM will look like after the lines checked so far. */
struct ctl_plan {
	uint64_t memsize;
	uint64_t highsize;
	uint64_t old_total;		/* mem + highmem before the write */
	uint64_t mem_avail;		/* for this VM under max_memory */
	bool running;
	bool has_vcpu;			/* irqchip must come before it */
	unsigned ncpus, cpu_limit;	/* cpus N */
	/* The pio and mmio ranges, edited as kvmfs_bus_set_policy will: a
	 * line that sets a range again takes no room of its own. */
	unsigned n_policies;
	struct kvmfs_bus_policy policies[KVMFS_BUS_MAX_POLICIES];
};

/* The state ctl prints back, gathered under the VM's locks. */
struct ctl_state {
	unsigned ncpus;
	uint64_t memsize;
	uint64_t highsize;
	size_t console;
	unsigned timeout_ms;
	bool mode_set;
	struct kvmfs_mode_args mode;
	unsigned step_armed;
	GString *devices;		/* irqchip, pio and mmio lines */
};

/* --- planning: each line checked against the state the earlier lines
 * leave, with the checks the actions themselves make (vm_priv.h), so that
 * a refused line leaves the lines before it unapplied.  Failures the plan
 * cannot foresee (the host out of memory, KVM refusing a state) still
 * stop the write where they happen. */

static int plan_mem(const struct kvmfs_vm *vm, struct ctl_plan *p,
		    const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	bool high = op->verb == KVMFS_CTL_HIGHMEM;
	uint64_t low = high ? p->memsize : op->num;
	uint64_t hi = high ? op->num : p->highsize;
	int r = 0;

	(void)vm;
	/* A line that changes nothing is taken as it would be alone. */
	if (low != p->memsize || hi != p->highsize)
		r = kvmfs_check_mem(high ? "highmem" : "mem", low, hi,
				    p->old_total, p->mem_avail, p->running,
				    err, errlen);
	if (!r) {
		p->memsize = low;
		p->highsize = hi;
	}
	return r;
}

static int plan_mode(const struct kvmfs_vm *vm, struct ctl_plan *p,
		     const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	char why[KVMFS_REASON_LEN];
	int r = kvmfs_check_stopped("mode", p->running, err, errlen);

	if (!r) {
		r = kvmfs_mode_check(&op->mode, p->memsize, why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "mode: %s", why);
	}
	/* The only mode with paging outside long mode. */
	if (!r && op->mode.mode == KVMFS_MODE_PAGED32)
		r = kvmfs_check_paging(vm->host, KVMFS_CR0_PG, 0, "mode paged32",
				       err, errlen);
	return r;
}

static int plan_run(const struct kvmfs_vm *vm, struct ctl_plan *p,
		    const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	int r = kvmfs_check_run(p->memsize, p->running, err, errlen);

	(void)vm;
	(void)op;
	if (!r)
		p->running = true;
	return r;
}

static int plan_irqchip(const struct kvmfs_vm *vm, struct ctl_plan *p,
			const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	(void)vm;
	(void)op;
	return kvmfs_check_irqchip(p->has_vcpu, err, errlen);
}

static int plan_cpus(const struct kvmfs_vm *vm, struct ctl_plan *p,
		     const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	int r = kvmfs_check_cpus((unsigned)op->num, p->ncpus, p->cpu_limit, err,
				 errlen);

	(void)vm;
	if (!r) {
		p->ncpus = (unsigned)op->num;
		p->has_vcpu = true;
	}
	return r;
}

/* mode, step and run make the vCPU: an irqchip after them is refused. */
static int plan_vcpu(const struct kvmfs_vm *vm, struct ctl_plan *p,
		     const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	int r = op->verb == KVMFS_CTL_MODE ? plan_mode(vm, p, op, err, errlen) :
		op->verb == KVMFS_CTL_RUN ? plan_run(vm, p, op, err, errlen) : 0;

	if (!r)
		p->has_vcpu = true;
	return r;
}

static int plan_policy(const struct kvmfs_vm *vm, struct ctl_plan *p,
		       const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	bool mmio = op->verb == KVMFS_CTL_MMIO;
	int r = kvmfs_bus_policy_put(p->policies, &p->n_policies,
				     mmio ? KVMFS_BUS_MMIO : KVMFS_BUS_PIO,
				     op->first, op->last,
				     op->ignore ? KVMFS_BUS_IGNORE : KVMFS_BUS_STOP);

	(void)vm;
	if (r == -ENOSPC)
		snprintf(err, errlen, "%s: more than %u ranges",
			 mmio ? "mmio" : "pio", KVMFS_BUS_MAX_POLICIES);
	else if (r < 0)
		snprintf(err, errlen, "%s: range must go upwards",
			 mmio ? "mmio" : "pio");
	return r;
}

static int plan_stopped(const struct kvmfs_vm *vm, struct ctl_plan *p,
			const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	(void)vm;
	(void)op;
	(void)err;
	(void)errlen;
	p->running = false;
	return 0;
}

/* --- printing back: the line (if any) that recreates the setting --- */

static void print_mem(const struct ctl_state *st, GString *out)
{
	if (st->memsize)
		g_string_append_printf(out, "mem 0x%" PRIx64 "\n", st->memsize);
}

static void print_cpus(const struct ctl_state *st, GString *out)
{
	if (st->ncpus > 1)
		g_string_append_printf(out, "cpus %u\n", st->ncpus);
}

static void print_highmem(const struct ctl_state *st, GString *out)
{
	if (st->highsize)
		g_string_append_printf(out, "highmem 0x%" PRIx64 "\n", st->highsize);
}

static void print_console(const struct ctl_state *st, GString *out)
{
	g_string_append_printf(out, "console %zu\n", st->console);
}

static void print_timeout(const struct ctl_state *st, GString *out)
{
	g_string_append_printf(out, "timeout %u\n", st->timeout_ms);
}

static void print_mode(const struct ctl_state *st, GString *out)
{
	char mode[160];

	if (!st->mode_set)
		return;
	kvmfs_mode_format(&st->mode, mode, sizeof(mode));
	g_string_append_printf(out, "%s\n", mode);
}

static void print_devices(const struct ctl_state *st, GString *out)
{
	g_string_append_len(out, st->devices->str, (gssize)st->devices->len);
}

static void print_step(const struct ctl_state *st, GString *out)
{
	if (st->step_armed == 1)
		g_string_append(out, "step\n");
	else if (st->step_armed)
		g_string_append_printf(out, "step %u\n", st->step_armed);
}

/* Every verb, indexed by the parser's verb number (the grammar itself,
 * words and usage, is ctlparse.c's table): how a line is checked against
 * the plan of a multi-line write (NULL: nothing to check), applied, and
 * printed back by reading ctl (NULL: an action, not a setting), in the
 * order ctl prints them. */
static const struct ctl_verb_ops {
	int (*plan)(const struct kvmfs_vm *vm, struct ctl_plan *p,
		    const struct kvmfs_ctl_op *op, char *err, size_t errlen);
	int (*apply)(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *op);
	void (*print)(const struct ctl_state *st, GString *out);
} ctl_verbs[] = {
	[KVMFS_CTL_MEM] = { plan_mem, apply_mem, print_mem },
	[KVMFS_CTL_CONSOLE] = { NULL, apply_console, print_console },
	[KVMFS_CTL_TIMEOUT] = { NULL, apply_timeout, print_timeout },
	[KVMFS_CTL_MODE] = { plan_vcpu, apply_mode, print_mode },
	[KVMFS_CTL_RESET] = { plan_stopped, apply_reset, NULL },
	[KVMFS_CTL_STOP] = { plan_stopped, apply_stop, NULL },
	[KVMFS_CTL_STEP] = { plan_vcpu, apply_step, print_step },
	[KVMFS_CTL_RUN] = { plan_vcpu, apply_run, NULL },
	[KVMFS_CTL_IRQCHIP] = { plan_irqchip, apply_irqchip, print_devices },
	[KVMFS_CTL_PIO] = { plan_policy, apply_policy, NULL },
	[KVMFS_CTL_MMIO] = { plan_policy, apply_policy, NULL },
	[KVMFS_CTL_HIGHMEM] = { plan_mem, apply_highmem, print_highmem },
	[KVMFS_CTL_CPUS] = { plan_cpus, apply_cpus, print_cpus },
};

_Static_assert(sizeof(ctl_verbs) / sizeof(ctl_verbs[0]) == KVMFS_CTL_CPUS + 1,
	       "every verb of ctlparse.h has its row");

/* The order ctl prints its settings in, which is the order a restore
 * needs: the irqchip (with the port policy) before cpus and the mode,
 * which make vCPUs. */
static const enum kvmfs_ctl_verb print_order[] = {
	KVMFS_CTL_MEM, KVMFS_CTL_HIGHMEM, KVMFS_CTL_CONSOLE, KVMFS_CTL_TIMEOUT,
	KVMFS_CTL_IRQCHIP, KVMFS_CTL_CPUS, KVMFS_CTL_MODE, KVMFS_CTL_STEP,
};

static int plan_line(const struct kvmfs_vm *vm, struct ctl_plan *p,
		     const struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	const struct ctl_verb_ops *v = &ctl_verbs[op->verb];

	return v->plan ? v->plan(vm, p, op, err, errlen) : 0;
}

/* A single line needs no plan: each action refuses without changing
 * anything. */
static int plan_write(struct kvmfs_vm *vm, const struct kvmfs_ctl_op *ops,
		      size_t n)
{
	struct kvmfs_host *h = vm->host;
	struct ctl_plan p = { 0 };
	char why[KVMFS_REASON_LEN];
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	p.memsize = vm->memsize;
	p.highsize = vm->highsize;
	p.old_total = vm->memsize + vm->highsize;
	pthread_mutex_lock(&h->lock);
	p.mem_avail = h->cfg.max_memory - h->mem_used + p.old_total;
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_lock(&vm->lock);
	p.running = kvmfs_vm_any_running(vm);
	p.has_vcpu = kvmfs_vm_vcpu_if(vm, 0) != NULL;
	p.ncpus = vm->ncpus;
	p.cpu_limit = kvmfs_vm_cpu_limit(vm);
	pthread_mutex_unlock(&vm->lock);
	p.n_policies = kvmfs_bus_policies(&vm->bus, p.policies,
					  KVMFS_BUS_MAX_POLICIES);
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
	char err[KVMFS_REASON_LEN];
	int r;

	r = kvmfs_ctl_parse(text, len, ops, KVMFS_CTL_MAX_OPS, &n, err, sizeof(err));
	if (r < 0)
		kvmfs_vm_set_error(vm, "ctl: %s", err);
	else if (n > 1)
		r = plan_write(vm, ops, n);
	/* Lines apply in order; one that fails stops the rest. */
	for (size_t i = 0; i < n && !r; i++)
		r = ctl_verbs[ops[i].verb].apply(vm, &ops[i]);
	g_free(ops);
	return r;
}

int kvmfs_vm_ctl_read(struct kvmfs_vm *vm, GString *out)
{
	struct kvmfs_vcpu_stats vs = { 0 };
	struct ctl_state st;
	int r = kvmfs_vm_enter(vm);

	if (r < 0)
		return r;
	pthread_mutex_lock(&vm->lock);
	if (vm->cpus[0].vcpu)
		kvmfs_vcpu_stats(vm->cpus[0].vcpu, &vs);
	st.memsize = vm->memsize;
	st.ncpus = vm->ncpus;
	st.highsize = vm->highsize;
	pthread_mutex_lock(&vm->console_lock);
	st.console = vm->console.cap;
	pthread_mutex_unlock(&vm->console_lock);
	st.timeout_ms = vm->timeout_ms;
	st.mode_set = vm->mode_set;
	st.mode = vm->mode;
	st.step_armed = vs.step_armed;
	pthread_mutex_unlock(&vm->lock);
	st.devices = g_string_new(NULL);
	kvmfs_vm_devices_ctl(vm, st.devices);
	kvmfs_vm_leave(vm);
	for (size_t i = 0; i < sizeof(print_order) / sizeof(print_order[0]); i++)
		ctl_verbs[print_order[i]].print(&st, out);
	g_string_free(st.devices, TRUE);
	return 0;
}
