/* The ctl file: a table of commands, each with a parser that checks its
 * words and an action that applies it.  A write is parsed whole before
 * anything happens, so a typo on line 3 changes nothing; then the lines
 * are applied in order.  Reading ctl prints the configuration as the
 * commands that recreate it. */
#include "log.h"
#include "text.h"
#include "vm_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CONSOLE_MIN 16
#define CONSOLE_MAX (64u << 20)
#define TIMEOUT_MAX 86400000u

struct ctl_op {
	const struct ctl_cmd *cmd;
	uint64_t num;
	struct kvmfs_mode_args mode;
};

struct ctl_cmd {
	const char *name;
	int nargs;		/* words after the name; -1: checked by parse */
	const char *usage;
	int (*parse)(const struct kvmfs_word *w, int n, struct ctl_op *op,
		     char *err, size_t errlen);
	int (*apply)(struct kvmfs_vm *vm, const struct ctl_op *op);
};

static int parse_size(const struct kvmfs_word *w, int n, struct ctl_op *op,
		      char *err, size_t errlen)
{
	(void)n;
	if (kvmfs_parse_size(w[0].s, w[0].len, &op->num) < 0) {
		snprintf(err, errlen, "bad size '%.*s' (e.g. 2M, 0x200000, 4096)",
			 (int)(w[0].len > 32 ? 32 : w[0].len), w[0].s);
		return -EINVAL;
	}
	return 0;
}

static int parse_mem(const struct kvmfs_word *w, int n, struct ctl_op *op,
		     char *err, size_t errlen)
{
	int r = parse_size(w, n, op, err, errlen);

	if (!r && (op->num < 4096 || op->num % 4096)) {
		snprintf(err, errlen, "mem %" PRIu64 ": must be a multiple of 4096, at least 4096",
			 op->num);
		r = -EINVAL;
	}
	return r;
}

static int parse_console(const struct kvmfs_word *w, int n, struct ctl_op *op,
			 char *err, size_t errlen)
{
	int r = parse_size(w, n, op, err, errlen);

	if (!r && (op->num < CONSOLE_MIN || op->num > CONSOLE_MAX)) {
		snprintf(err, errlen, "console %" PRIu64 ": must be %u to %u bytes",
			 op->num, CONSOLE_MIN, CONSOLE_MAX);
		r = -EINVAL;
	}
	return r;
}

static int parse_timeout(const struct kvmfs_word *w, int n, struct ctl_op *op,
			 char *err, size_t errlen)
{
	(void)n;
	if (kvmfs_parse_u64(w[0].s, w[0].len, &op->num) < 0 ||
	    op->num > TIMEOUT_MAX) {
		snprintf(err, errlen, "bad timeout '%.*s' (milliseconds, 0 to %u)",
			 (int)(w[0].len > 32 ? 32 : w[0].len), w[0].s, TIMEOUT_MAX);
		return -EINVAL;
	}
	return 0;
}

static int parse_mode(const struct kvmfs_word *w, int n, struct ctl_op *op,
		      char *err, size_t errlen)
{
	return kvmfs_mode_parse(w, n, &op->mode, err, errlen);
}

static int parse_none(const struct kvmfs_word *w, int n, struct ctl_op *op,
		      char *err, size_t errlen)
{
	(void)w;
	(void)n;
	(void)op;
	(void)err;
	(void)errlen;
	return 0;
}

static int apply_mem(struct kvmfs_vm *vm, const struct ctl_op *op)
{
	return kvmfs_vm_resize(vm, op->num);
}

static int apply_console(struct kvmfs_vm *vm, const struct ctl_op *op)
{
	return kvmfs_vm_set_console_size(vm, op->num);
}

static int apply_timeout(struct kvmfs_vm *vm, const struct ctl_op *op)
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

static int apply_mode(struct kvmfs_vm *vm, const struct ctl_op *op)
{
	return kvmfs_vm_set_mode(vm, &op->mode);
}

/* The vCPU actions: each needs vCPU 0, created on first use. */
static int vcpu_action(struct kvmfs_vm *vm, const char *what)
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
		kvmfs_vcpu_arm_step(vcpu);
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

static int apply_stop(struct kvmfs_vm *vm, const struct ctl_op *op)
{
	(void)op;
	return vcpu_action(vm, "stop");
}

static int apply_step(struct kvmfs_vm *vm, const struct ctl_op *op)
{
	(void)op;
	return vcpu_action(vm, "step");
}

static int apply_reset(struct kvmfs_vm *vm, const struct ctl_op *op)
{
	(void)op;
	return vcpu_action(vm, "reset");
}

static int apply_run(struct kvmfs_vm *vm, const struct ctl_op *op)
{
	(void)op;
	return kvmfs_vm_run(vm, NULL, NULL);
}

static const struct ctl_cmd ctl_cmds[] = {
	{ "mem", 1, "mem SIZE", parse_mem, apply_mem },
	{ "console", 1, "console SIZE", parse_console, apply_console },
	{ "timeout", 1, "timeout MS", parse_timeout, apply_timeout },
	{ "mode", -1, "mode real|protected|paged32|long [pt=ADDR] [entry=ADDR]",
	  parse_mode, apply_mode },
	{ "reset", 0, "reset", parse_none, apply_reset },
	{ "stop", 0, "stop", parse_none, apply_stop },
	{ "step", 0, "step", parse_none, apply_step },
	{ "run", 0, "run", parse_none, apply_run },
};

#define N_CMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))
#define MAX_LINES 256

static const struct ctl_cmd *find_cmd(const struct kvmfs_word *w)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (kvmfs_word_is(w, ctl_cmds[i].name))
			return &ctl_cmds[i];
	return NULL;
}

static int parse_line(const char *line, size_t len, struct ctl_op *op,
		      char *err, size_t errlen)
{
	struct kvmfs_word w[8];
	const struct ctl_cmd *cmd;
	int n = kvmfs_split_words(line, len, w, 8);

	if (n == -E2BIG) {
		snprintf(err, errlen, "too many words");
		return -EINVAL;
	}
	if (n < 0) {
		snprintf(err, errlen, "control characters in the command");
		return -EINVAL;
	}
	if (n == 0)
		return 0;
	cmd = find_cmd(&w[0]);
	if (!cmd) {
		char name[40];
		size_t k = 0;

		for (size_t i = 0; i < w[0].len && k < 32; i++)
			name[k++] = (w[0].s[i] >= 0x20 && w[0].s[i] < 0x7f) ? w[0].s[i] : '?';
		name[k] = 0;
		snprintf(err, errlen, "unknown command '%s' (mem, console, timeout, mode, reset, stop, step, run)",
			 name);
		return -EINVAL;
	}
	if (cmd->nargs >= 0 && n - 1 != cmd->nargs) {
		snprintf(err, errlen, "usage: %s", cmd->usage);
		return -EINVAL;
	}
	op->cmd = cmd;
	return cmd->parse(w + 1, n - 1, op, err, errlen);
}

int kvmfs_vm_ctl_write(struct kvmfs_vm *vm, const char *text, size_t len)
{
	struct ctl_op *ops;
	struct kvmfs_cursor c;
	const char *line;
	size_t llen, nops = 0;
	int lineno = 0, r = 0;
	char err[200];

	ops = g_new0(struct ctl_op, MAX_LINES);
	kvmfs_cursor_init(&c, text, len);
	while (kvmfs_next_line(&c, &line, &llen)) {
		struct ctl_op op = { 0 };

		lineno++;
		if (nops == MAX_LINES) {
			kvmfs_vm_set_error(vm, "ctl: more than %d commands", MAX_LINES);
			r = -EINVAL;
			goto out;
		}
		r = parse_line(line, llen, &op, err, sizeof(err));
		if (r < 0) {
			kvmfs_vm_set_error(vm, "ctl: line %d: %s", lineno, err);
			goto out;
		}
		if (op.cmd)
			ops[nops++] = op;
	}
	if (!nops) {
		kvmfs_vm_set_error(vm, "ctl: no command");
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < nops && !r; i++)
		r = ops[i].cmd->apply(vm, &ops[i]);
out:
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
	if (st.step_armed)
		g_string_append(out, "step\n");
	pthread_mutex_unlock(&vm->lock);
	kvmfs_vm_leave(vm);
	return 0;
}
