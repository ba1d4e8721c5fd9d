/* Fuzz target: the device bus and its port and MMIO policy
 * (devices/bus.h).  The input is a program on one bus, each operation an
 * opcode byte OP and its operands; an address operand ADDR is one byte K
 * and maybe more (K >> 5 says which): 0 K & 31; 1 UINT64_MAX - (K & 31);
 * 2 0xffff - (K & 31), the top of the ports; 3, 4, 5 the next 2, 4 or 8
 * bytes (little-endian); 6 1 << (32 + (K & 31)); 7 the previous address
 * plus (K & 31) - 16, so that ranges meet, overlap and repeat.
 *
 *   OP & 7 = 0  register a device: ADDR base, ADDR length, space
 *               OP >> 3 & 1, handler mode OP >> 4 & 3 (takes all,
 *               declines all, takes writes, takes odd addresses), name
 *               OP >> 6 ("a", "b", "c" or none)
 *            1  set a policy: space OP >> 3 & 1, action OP >> 4 & 1, and
 *               ADDR first and ADDR last; or with OP & 0x20, the range
 *               of the existing policy (next byte) % count again
 *            2  clear the policies
 *            3  a ctl write: (OP >> 3 & 7) + 1 policy lines as in 1,
 *               planned on a copy of the table, then applied
 *            4  read back: kvmfs_bus_policies into an array of exactly
 *               (next byte) % 18 entries, and the hits of every name
 *            5  free the bus and make it again
 *            6, 7  an access: a shape byte (size 1 << (b & 3), count
 *               b >> 2 & 7, write b & 0x20, space b >> 6 & 1), ADDR
 *
 * A reference model follows the contract of bus.h: the devices in order
 * of registration, the policies oldest first, where an equal range
 * replaces the old one and becomes the newest, and the newest range
 * holding an address decides.  After each operation the bus's table
 * is the model's, hits included; each access went to the device the
 * model names (the one whose range holds its first byte) and came back
 * taken or not as the model says, an ignored read has 0xff in exactly
 * size * count bytes (the buffer has that size, so ASan sees a write
 * past it), and nothing else touched the data.  Every refusal is the
 * errno the model gives, and what ctl's plan (kvmfs_bus_policy_put on a
 * copy) foresees for a write is what applying it does. */
#include <errno.h>
#include <string.h>

#include "devices/bus.h"
#include "fuzz.h"

#define N_NAMES 3
static const char *const names[] = { "a", "b", "c", NULL };

/* A device's context: how it answers, and what it saw. */
struct dev {
	unsigned id, mode;
	enum kvmfs_bus_space space;
	uint64_t base, last;	/* inclusive, as the model keeps ranges */
	const char *name;
	uint64_t hits;		/* accesses the model says it took */
	unsigned calls;
	const struct kvmfs_bus_access *expect;
};

struct model {
	unsigned n_devs;
	/* One more than the bus holds: the context of a refused one. */
	struct dev devs[KVMFS_BUS_MAX_RANGES + 1];
	unsigned n;
	struct kvmfs_bus_policy p[KVMFS_BUS_MAX_POLICIES];
};

struct in {
	const uint8_t *p;
	size_t n;
	uint64_t prev;		/* the last address read */
};

static uint8_t byte(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t addr(struct in *in)
{
	uint8_t k = byte(in);
	unsigned low = k & 31, bytes = 0;
	uint64_t v = 0;

	switch (k >> 5) {
	case 0:
		v = low;
		break;
	case 1:
		v = UINT64_MAX - low;
		break;
	case 2:
		v = 0xffff - low;
		break;
	case 3:
	case 4:
	case 5:
		bytes = 1u << ((k >> 5) - 2);
		break;
	case 6:
		v = (uint64_t)1 << (32 + low);
		break;
	default:
		v = in->prev + low - 16;
		break;
	}
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)byte(in) << (8 * i);
	in->prev = v;
	return v;
}

/* Whether the device takes the access: the handler's answer, which the
 * model asks too. */
static bool takes(const struct dev *d, const struct kvmfs_bus_access *a)
{
	switch (d->mode) {
	case 0:
		return true;
	case 1:
		return false;
	case 2:
		return a->write;
	default:
		return a->addr & 1;
	}
}

static bool handler(void *ctx, const struct kvmfs_bus_access *a)
{
	struct dev *d = ctx;
	bool take = takes(d, a);

	/* Only the access dispatched, and only to the device holding its
	 * first byte. */
	fuzz_require(a == d->expect);
	fuzz_require(a->space == d->space);
	fuzz_require(a->addr >= d->base && a->addr <= d->last);
	d->calls++;
	if (take && !a->write)
		memset(a->data, 0x10 + d->id, (size_t)a->size * a->count);
	return take;
}

/* Policies compared field by field: memcmp would see the padding. */
static bool same_policy(const struct kvmfs_bus_policy *x,
			const struct kvmfs_bus_policy *y)
{
	return x->space == y->space && x->first == y->first &&
	       x->last == y->last && x->action == y->action &&
	       x->hits == y->hits;
}

/* After every operation: the bus's table and its devices' counts are
 * the model's. */
static void check(struct kvmfs_bus *b, const struct model *m)
{
	struct kvmfs_bus_policy t[KVMFS_BUS_MAX_POLICIES];
	unsigned n = kvmfs_bus_policies(b, t, KVMFS_BUS_MAX_POLICIES);

	fuzz_require(b->n_policies <= KVMFS_BUS_MAX_POLICIES);
	fuzz_require(b->n == m->n_devs && b->n <= KVMFS_BUS_MAX_RANGES);
	fuzz_require(n == m->n);
	for (unsigned i = 0; i < n; i++)
		fuzz_require(same_policy(&t[i], &m->p[i]));
	for (unsigned i = 0; i < m->n_devs; i++)
		fuzz_require(b->ranges[i].hits == m->devs[i].hits);
}

static void read_back(struct kvmfs_bus *b, const struct model *m,
		      unsigned max)
{
	/* Exactly MAX entries (one, for none: malloc(0) may give NULL). */
	struct kvmfs_bus_policy *t = malloc((max ? max : 1) * sizeof(*t));
	unsigned n;

	fuzz_require(t);
	n = kvmfs_bus_policies(b, t, max);
	fuzz_require(n == (m->n < max ? m->n : max));
	for (unsigned i = 0; i < n; i++)
		fuzz_require(same_policy(&t[i], &m->p[i]));
	free(t);
	for (unsigned k = 0; k <= N_NAMES; k++) {
		const char *name = k < N_NAMES ? names[k] : "nobody";
		uint64_t want = 0;

		for (unsigned i = 0; i < m->n_devs; i++)
			if (!strcmp(m->devs[i].name, name))
				want += m->devs[i].hits;
		fuzz_require(kvmfs_bus_hits(b, name) == want);
	}
}

static void do_register(struct kvmfs_bus *b, struct model *m, uint8_t op,
			struct in *in)
{
	uint64_t base = addr(in), len = addr(in);
	enum kvmfs_bus_space space = (op >> 3) & 1;
	const char *name = names[op >> 6];
	struct dev *d = &m->devs[m->n_devs];
	int want = 0, r;

	/* In inclusive terms: the last byte must exist, so a range that
	 * would end at 2^64 or further is refused too. */
	if (len == 0 || base + (len - 1) < base || !name)
		want = -EINVAL;
	for (unsigned i = 0; !want && i < m->n_devs; i++)
		if (m->devs[i].space == space && base <= m->devs[i].last &&
		    m->devs[i].base <= base + (len - 1))
			want = -EEXIST;
	if (!want && m->n_devs == KVMFS_BUS_MAX_RANGES)
		want = -ENOSPC;

	*d = (struct dev){ m->n_devs, (op >> 4) & 3, space, base,
			   base + (len - 1), name, 0, 0, NULL };
	r = kvmfs_bus_register(b, space, base, len, name, handler, d);
	fuzz_require(r == want);
	if (!r)
		m->n_devs++;
}

/* One policy line, as op 1 and each line of op 3 give it. */
struct line {
	enum kvmfs_bus_space space;
	uint64_t first, last;
	enum kvmfs_bus_action action;
};

static struct line read_line(const struct model *m, uint8_t op,
			     struct in *in)
{
	struct line l = { (op >> 3) & 1, 0, 0, (op >> 4) & 1 };

	if ((op & 0x20) && m->n) {
		const struct kvmfs_bus_policy *p = &m->p[byte(in) % m->n];

		l.space = p->space;
		l.first = p->first;
		l.last = p->last;
	} else {
		l.first = addr(in);
		l.last = addr(in);
	}
	return l;
}

/* The model's set: a new table without the equal range, then the range
 * at its end. */
static int model_set(struct model *m, const struct line *l)
{
	struct kvmfs_bus_policy t[KVMFS_BUS_MAX_POLICIES];
	unsigned n = 0;

	if (l->first > l->last)
		return -EINVAL;
	for (unsigned i = 0; i < m->n; i++)
		if (m->p[i].space != l->space || m->p[i].first != l->first ||
		    m->p[i].last != l->last)
			t[n++] = m->p[i];
	if (n == KVMFS_BUS_MAX_POLICIES)
		return -ENOSPC;
	t[n++] = (struct kvmfs_bus_policy){ l->space, l->first, l->last,
					    l->action, 0 };
	memcpy(m->p, t, n * sizeof(t[0]));
	m->n = n;
	return 0;
}

/* A write of N lines as ctl makes it: planned whole on a copy of the
 * table, then applied line by line until one fails.  The plan must
 * refuse the very line the bus refuses, with its errno, and leave the
 * copy as the table ends up. */
static void ctl_write(struct kvmfs_bus *b, struct model *m,
		      const struct line *l, unsigned n)
{
	struct kvmfs_bus_policy t[KVMFS_BUS_MAX_POLICIES];
	unsigned nt = kvmfs_bus_policies(b, t, KVMFS_BUS_MAX_POLICIES);
	unsigned planned = 0, applied = 0;
	int plan_r = 0, r = 0;

	for (; planned < n && !plan_r; planned++)
		plan_r = kvmfs_bus_policy_put(t, &nt, l[planned].space,
					      l[planned].first,
					      l[planned].last,
					      l[planned].action);
	for (; applied < n && !r; applied++) {
		int want = model_set(m, &l[applied]);

		r = kvmfs_bus_set_policy(b, l[applied].space, l[applied].first,
					 l[applied].last, l[applied].action);
		fuzz_require(r == want);
	}
	fuzz_require(plan_r == r && planned == applied);
	fuzz_require(nt == m->n);
	for (unsigned i = 0; i < nt; i++)
		fuzz_require(same_policy(&t[i], &m->p[i]));
}

static void do_access(struct kvmfs_bus *b, struct model *m, struct in *in)
{
	uint8_t shape = byte(in);
	struct kvmfs_bus_access a = {
		.space = (shape >> 6) & 1,
		.write = shape & 0x20,
		.size = 1u << (shape & 3),
		.count = (shape >> 2) & 7,
	};
	size_t bytes = (size_t)a.size * a.count;
	struct dev *d = NULL;
	struct kvmfs_bus_policy *p = NULL;
	bool taken, want;
	uint8_t fill = 0xa5;

	a.addr = addr(in);
	/* Exactly size * count bytes: a write past them is ASan's. */
	a.data = malloc(bytes ? bytes : 1);
	fuzz_require(a.data);
	memset(a.data, 0xa5, bytes);

	for (unsigned i = 0; i < m->n_devs && !d; i++)
		if (m->devs[i].space == a.space && a.addr >= m->devs[i].base &&
		    a.addr <= m->devs[i].last)
			d = &m->devs[i];
	for (unsigned i = 0; i < m->n_devs; i++)
		m->devs[i].expect = &m->devs[i] == d ? &a : NULL;
	for (unsigned i = m->n; i-- > 0 && !p;)
		if (m->p[i].space == a.space && a.addr >= m->p[i].first &&
		    a.addr <= m->p[i].last)
			p = &m->p[i];

	want = d && takes(d, &a);
	if (want) {
		d->hits++;
		fill = 0x10 + d->id;
	} else if (p) {
		p->hits++;
		want = p->action == KVMFS_BUS_IGNORE;
		fill = want ? 0xff : 0xa5;
	}
	if (a.write)
		fill = 0xa5;

	taken = kvmfs_bus_dispatch(b, &a);
	fuzz_require(taken == want);
	if (d) {
		fuzz_require(d->calls == 1);
		d->calls = 0;
	}
	for (size_t i = 0; i < bytes; i++)
		fuzz_require(a.data[i] == fill);
	free(a.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kvmfs_bus b;
	static struct model m;
	struct in in = { data, size, 0 };

	kvmfs_bus_init(&b);
	memset(&m, 0, sizeof(m));

	while (in.n) {
		uint8_t op = byte(&in);
		struct line l[8];
		unsigned n;

		switch (op & 7) {
		case 0:
			do_register(&b, &m, op, &in);
			break;
		case 1:
			l[0] = read_line(&m, op, &in);
			ctl_write(&b, &m, l, 1);
			break;
		case 2:
			kvmfs_bus_clear_policies(&b);
			m.n = 0;
			break;
		case 3:
			n = ((op >> 3) & 7) + 1;
			for (unsigned i = 0; i < n; i++) {
				uint8_t lop = byte(&in);

				l[i] = read_line(&m, lop, &in);
			}
			ctl_write(&b, &m, l, n);
			break;
		case 4:
			read_back(&b, &m, byte(&in) % 18);
			break;
		case 5:
			kvmfs_bus_free(&b);
			kvmfs_bus_init(&b);
			memset(&m, 0, sizeof(m));
			break;
		default:
			do_access(&b, &m, &in);
			break;
		}
		check(&b, &m);
	}

	kvmfs_bus_free(&b);
	return 0;
}
