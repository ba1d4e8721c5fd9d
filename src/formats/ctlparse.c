/* The ctl grammar as a table: each verb with its number of arguments, a
 * usage line and a parser for those arguments.  Also the address lists
 * of translate.  No I/O: the fuzz targets and unit tests call these. */
#include "formats/ctlparse.h"

#include "lib/text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct ctl_verb {
	const char *name;
	enum kvmfs_ctl_verb verb;
	int nargs;		/* words after the name; -1: parse checks */
	const char *usage;
	int (*parse)(const struct kvmfs_word *w, int n, struct kvmfs_ctl_op *op,
		     char *err, size_t errlen);
};

static int parse_size(const struct kvmfs_word *w, struct kvmfs_ctl_op *op,
		      char *err, size_t errlen)
{
	char q[KVMFS_QUOTE_BUF];

	if (kvmfs_parse_size(w->s, w->len, &op->num) < 0) {
		kvmfs_quote(w->s, w->len, q);
		snprintf(err, errlen, "bad size '%s' (e.g. 2M, 0x200000, 4096)", q);
		return -EINVAL;
	}
	return 0;
}

static int parse_mem(const struct kvmfs_word *w, int n, struct kvmfs_ctl_op *op,
		     char *err, size_t errlen)
{
	int r = parse_size(w, op, err, errlen);

	(void)n;
	if (!r && (op->num < 4096 || op->num % 4096)) {
		snprintf(err, errlen, "mem %" PRIu64 ": must be a multiple of 4096, at least 4096",
			 op->num);
		r = -EINVAL;
	}
	return r;
}

/* highmem SIZE: 0 (none) or whole pages. */
static int parse_highmem(const struct kvmfs_word *w, int n,
			 struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	int r = parse_size(w, op, err, errlen);

	(void)n;
	if (!r && op->num % 4096) {
		snprintf(err, errlen, "highmem %" PRIu64 ": must be a multiple of 4096 (0: none)",
			 op->num);
		r = -EINVAL;
	}
	if (!r && op->num > UINT64_MAX - KVMFS_HIGHMEM_BASE) {
		snprintf(err, errlen, "highmem %" PRIu64 ": passes the end of the address space",
			 op->num);
		r = -EINVAL;
	}
	return r;
}

/* cpus N: 1 to KVMFS_CTL_CPUS_MAX (KVM's own limit is checked when applied). */
static int parse_cpus(const struct kvmfs_word *w, int n, struct kvmfs_ctl_op *op,
		      char *err, size_t errlen)
{
	char q[KVMFS_QUOTE_BUF];

	(void)n;
	if (kvmfs_parse_u64(w->s, w->len, &op->num) < 0 || op->num < 1 ||
	    op->num > KVMFS_CTL_CPUS_MAX) {
		kvmfs_quote(w->s, w->len, q);
		snprintf(err, errlen, "cpus '%s': a count of vCPUs, 1 to %u", q,
			 KVMFS_CTL_CPUS_MAX);
		return -EINVAL;
	}
	return 0;
}

static int parse_console(const struct kvmfs_word *w, int n,
			 struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	int r = parse_size(w, op, err, errlen);

	(void)n;
	if (!r && (op->num < KVMFS_CONSOLE_MIN || op->num > KVMFS_CONSOLE_MAX)) {
		snprintf(err, errlen, "console %" PRIu64 ": must be %u to %u bytes",
			 op->num, KVMFS_CONSOLE_MIN, KVMFS_CONSOLE_MAX);
		r = -EINVAL;
	}
	return r;
}

static int parse_timeout(const struct kvmfs_word *w, int n,
			 struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	char q[KVMFS_QUOTE_BUF];

	(void)n;
	if (kvmfs_parse_u64(w->s, w->len, &op->num) < 0 ||
	    op->num > KVMFS_TIMEOUT_MAX) {
		kvmfs_quote(w->s, w->len, q);
		snprintf(err, errlen, "bad timeout '%s' (milliseconds, 0 to %u)", q,
			 KVMFS_TIMEOUT_MAX);
		return -EINVAL;
	}
	return 0;
}

static int parse_step(const struct kvmfs_word *w, int n,
		      struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	char q[KVMFS_QUOTE_BUF];

	op->num = 1;
	if (n == 0)
		return 0;
	if (n > 1 || kvmfs_parse_u64(w->s, w->len, &op->num) < 0 ||
	    op->num < 1 || op->num > KVMFS_STEP_MAX) {
		kvmfs_quote(w->s, w->len, q);
		snprintf(err, errlen, "bad step count '%s' (1 to %u)", q, KVMFS_STEP_MAX);
		return -EINVAL;
	}
	return 0;
}

static int parse_mode(const struct kvmfs_word *w, int n,
		      struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	return kvmfs_mode_parse(w, n, &op->mode, err, errlen);
}

/* pio and mmio: FIRST-LAST (inclusive) or a single address, then
 * ignore or stop.  Ports are 16 bits. */
static int parse_range(const struct kvmfs_word *w, int n,
		       struct kvmfs_ctl_op *op, char *err, size_t errlen,
		       uint64_t max, const char *verb)
{
	const char *dash = memchr(w[0].s, '-', w[0].len);
	size_t l1 = dash ? (size_t)(dash - w[0].s) : w[0].len;
	char q[KVMFS_QUOTE_BUF];

	(void)n;
	kvmfs_quote(w[0].s, w[0].len, q);
	if (kvmfs_parse_u64(w[0].s, l1, &op->first) < 0 ||
	    (dash && kvmfs_parse_u64(dash + 1, w[0].len - l1 - 1, &op->last) < 0)) {
		snprintf(err, errlen, "%s: bad range '%s' (FIRST-LAST, e.g. 0x80-0x8f)",
			 verb, q);
		return -EINVAL;
	}
	if (!dash)
		op->last = op->first;
	if (op->first > op->last || op->last > max) {
		snprintf(err, errlen, "%s: range '%s' must go upwards and end by 0x%" PRIx64,
			 verb, q, max);
		return -EINVAL;
	}
	if (kvmfs_word_is(&w[1], "ignore")) {
		op->ignore = true;
	} else if (!kvmfs_word_is(&w[1], "stop")) {
		kvmfs_quote(w[1].s, w[1].len, q);
		snprintf(err, errlen, "%s: unknown action '%s' (ignore, stop)", verb, q);
		return -EINVAL;
	}
	return 0;
}

static int parse_pio(const struct kvmfs_word *w, int n,
		     struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	return parse_range(w, n, op, err, errlen, 0xffff, "pio");
}

static int parse_mmio(const struct kvmfs_word *w, int n,
		      struct kvmfs_ctl_op *op, char *err, size_t errlen)
{
	return parse_range(w, n, op, err, errlen, UINT64_MAX, "mmio");
}

static const struct ctl_verb verbs[] = {
	{ "mem", KVMFS_CTL_MEM, 1, "mem SIZE", parse_mem },
	{ "console", KVMFS_CTL_CONSOLE, 1, "console SIZE", parse_console },
	{ "timeout", KVMFS_CTL_TIMEOUT, 1, "timeout MS", parse_timeout },
	{ "mode", KVMFS_CTL_MODE, -1,
	  "mode real|protected|paged32|long [pt=ADDR] [entry=ADDR]", parse_mode },
	{ "reset", KVMFS_CTL_RESET, 0, "reset", NULL },
	{ "stop", KVMFS_CTL_STOP, 0, "stop", NULL },
	{ "step", KVMFS_CTL_STEP, -1, "step [N]", parse_step },
	{ "run", KVMFS_CTL_RUN, 0, "run", NULL },
	{ "irqchip", KVMFS_CTL_IRQCHIP, 0, "irqchip", NULL },
	{ "pio", KVMFS_CTL_PIO, 2, "pio FIRST-LAST ignore|stop", parse_pio },
	{ "mmio", KVMFS_CTL_MMIO, 2, "mmio FIRST-LAST ignore|stop", parse_mmio },
	{ "highmem", KVMFS_CTL_HIGHMEM, 1, "highmem SIZE", parse_highmem },
	{ "cpus", KVMFS_CTL_CPUS, 1, "cpus N", parse_cpus },
};

/* Returns 1 for a command, 0 for a blank line, or -EINVAL. */
static int parse_line(const char *line, size_t len, struct kvmfs_ctl_op *op,
		      char *err, size_t errlen)
{
	struct kvmfs_word w[8];
	const struct ctl_verb *v = NULL;
	int n = kvmfs_split_words(line, len, w, 8);
	char q[KVMFS_QUOTE_BUF];

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
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (kvmfs_word_is(&w[0], verbs[i].name))
			v = &verbs[i];
	if (!v) {
		kvmfs_quote(w[0].s, w[0].len, q);
		snprintf(err, errlen,
			 "unknown command '%s' (mem, highmem, console, timeout, mode, reset, stop, step, run, irqchip, cpus, pio, mmio)",
			 q);
		return -EINVAL;
	}
	if (v->nargs >= 0 && n - 1 != v->nargs) {
		snprintf(err, errlen, "usage: %s", v->usage);
		return -EINVAL;
	}
	memset(op, 0, sizeof(*op));
	op->verb = v->verb;
	if (v->parse && v->parse(w + 1, n - 1, op, err, errlen) < 0)
		return -EINVAL;
	return 1;
}

int kvmfs_ctl_parse(const char *text, size_t len, struct kvmfs_ctl_op *ops,
		    size_t max, size_t *n, char *err, size_t errlen)
{
	struct kvmfs_cursor c;
	const char *line;
	size_t llen, count = 0;
	int lineno = 0;
	char why[KVMFS_REASON_LEN];

	kvmfs_cursor_init(&c, text, len);
	while (kvmfs_next_line(&c, &line, &llen)) {
		struct kvmfs_ctl_op op;
		int r;

		lineno++;
		r = parse_line(line, llen, &op, why, sizeof(why));
		if (r < 0) {
			snprintf(err, errlen, "line %d: %s", lineno, why);
			return r;
		}
		if (r == 0)
			continue;
		if (count == max) {
			snprintf(err, errlen, "more than %zu commands", max);
			return -EINVAL;
		}
		op.line = (unsigned)lineno;
		ops[count++] = op;
	}
	if (!count) {
		snprintf(err, errlen, "no command");
		return -EINVAL;
	}
	*n = count;
	return 0;
}

int kvmfs_addr_list_parse(const char *text, size_t len, uint64_t *out,
			  size_t max, size_t *n, char *err, size_t errlen)
{
	struct kvmfs_cursor c;
	const char *line;
	size_t llen, count = 0;
	int lineno = 0;

	kvmfs_cursor_init(&c, text, len);
	while (kvmfs_next_line(&c, &line, &llen)) {
		struct kvmfs_word w[64];
		int nw = kvmfs_split_words(line, llen, w, 64);
		char q[KVMFS_QUOTE_BUF];

		lineno++;
		if (nw < 0) {
			snprintf(err, errlen, "line %d: %s", lineno,
				 nw == -E2BIG ? "more than 64 addresses on a line" :
						"control characters");
			return -EINVAL;
		}
		for (int i = 0; i < nw; i++) {
			uint64_t a;

			if (kvmfs_parse_u64(w[i].s, w[i].len, &a) < 0) {
				kvmfs_quote(w[i].s, w[i].len, q);
				snprintf(err, errlen, "line %d: '%s' is not an address",
					 lineno, q);
				return -EINVAL;
			}
			if (count == max) {
				snprintf(err, errlen, "more than %zu addresses", max);
				return -EINVAL;
			}
			out[count++] = a;
		}
	}
	if (!count) {
		snprintf(err, errlen, "no address given");
		return -EINVAL;
	}
	*n = count;
	return 0;
}
