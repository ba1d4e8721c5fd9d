/* The rows of every directory of the tree: name, mode, I/O kind and the
 * backend function behind each file (tree.h).  Adding a file is a row
 * here and, for text, a show (and store) function; the handlers in ops.c
 * and files.c need no change (docs/architecture.md, "Adding a file"). */
#include "fuse/tree.h"

#include <errno.h>

#define ROWS(a) (a), (unsigned)(sizeof(a) / sizeof((a)[0]))

/* --- the root ------------------------------------------------------------ */

static int show_version(const struct kvmfs_node_ctx *c, GString *out)
{
	g_string_append_printf(out, "%d\n", kvmfs_host_version(c->host));
	return 0;
}

static int show_caps(const struct kvmfs_node_ctx *c, GString *out)
{
	kvmfs_host_caps(c->host, out);
	return 0;
}

static int show_host_status(const struct kvmfs_node_ctx *c, GString *out)
{
	kvmfs_host_status(c->host, out);
	return 0;
}

/* vms/new: reading it makes a VM and prints its name. */
static int show_new(const struct kvmfs_node_ctx *c, GString *out)
{
	char name[65];
	int r = kvmfs_host_vm_create(c->host, NULL, name, NULL);

	if (r < 0)
		return r;
	g_string_append_printf(out, "%s\n", name);
	return 0;
}

static const struct kvmfs_node vms_rows[] = {
    {.name = "new",
     .mode = S_IFREG | 0400,
     .io = KVMFS_IO_TEXT,
     .flags = KVMFS_NODE_ONCE | KVMFS_NODE_HIDDEN,
     .show = show_new},
};

/* --- one VM: vms/NAME/ ---------------------------------------------------- */

static int show_ctl(const struct kvmfs_node_ctx *c, GString *out)
{
	return kvmfs_vm_ctl_read(c->vm, out);
}

static int store_ctl(const struct kvmfs_node_ctx *c, const char *buf,
		     size_t len)
{
	return kvmfs_vm_ctl_write(c->vm, buf, len);
}

static int show_status(const struct kvmfs_node_ctx *c, GString *out)
{
	return kvmfs_vm_status(c->vm, out);
}

static int show_regs(const struct kvmfs_node_ctx *c, GString *out)
{
	if (c->peek && !kvmfs_vm_has_vcpu(c->vm, c->cpu))
		return -EAGAIN;
	return kvmfs_vm_regs_read(c->vm, c->cpu, out);
}

static int store_regs(const struct kvmfs_node_ctx *c, const char *buf,
		      size_t len)
{
	return kvmfs_vm_regs_write(c->vm, c->cpu, buf, len);
}

static int show_sregs(const struct kvmfs_node_ctx *c, GString *out)
{
	if (c->peek && !kvmfs_vm_has_vcpu(c->vm, c->cpu))
		return -EAGAIN;
	return kvmfs_vm_sregs_read(c->vm, c->cpu, out);
}

static int store_sregs(const struct kvmfs_node_ctx *c, const char *buf,
		       size_t len)
{
	return kvmfs_vm_sregs_write(c->vm, c->cpu, buf, len);
}

static int show_translate(const struct kvmfs_node_ctx *c, GString *out)
{
	if (c->peek && !kvmfs_vm_has_vcpu(c->vm, c->cpu))
		return -EAGAIN;
	return kvmfs_vm_translate_read(c->vm, c->cpu, out);
}

static int store_translate(const struct kvmfs_node_ctx *c, const char *buf,
			   size_t len)
{
	return kvmfs_vm_translate_write(c->vm, c->cpu, buf, len);
}

/* The snapshot's other state (vm.h, vm_state.c).  The node's row tells
 * which; a vCPU's needs the vCPU (stat makes none: -EAGAIN). */
static int show_vcpu_state(const struct kvmfs_node_ctx *c, GString *out);
static int show_vm_state(const struct kvmfs_node_ctx *c, GString *out);
static int store_state(const struct kvmfs_node_ctx *c, const char *buf,
		       size_t len);

static uint64_t size_blob(const struct kvmfs_node_ctx *c);

/* A binary state's size is its struct's: stat needs no ioctl for it. */
#define STATE(nm, kind, which, shower)                                     \
	{ .name = (nm), .mode = S_IFREG | 0600, .io = (kind),              \
	  .state = (which), .show = (shower), .store = store_state,        \
	  .size = (kind) == KVMFS_IO_BLOB ? size_blob : NULL }

/* The rows of one vCPU, in the VM's directory (vCPU 0) and in cpus/N:
 * its registers, its run (reading it runs: not listed) and translate;
 * then the rest of its snapshot, in the order a restore needs. */
#define VCPU_FILES                                                         \
	{ .name = "regs", .mode = S_IFREG | 0600, .io = KVMFS_IO_TEXT,      \
	  .show = show_regs, .store = store_regs },                         \
	{ .name = "sregs", .mode = S_IFREG | 0600, .io = KVMFS_IO_TEXT,     \
	  .show = show_sregs, .store = store_sregs },                       \
	{ .name = "run", .mode = S_IFREG | 0400, .io = KVMFS_IO_WAIT,       \
	  .flags = KVMFS_NODE_HIDDEN },                                     \
	{ .name = "translate", .mode = S_IFREG | 0600, .io = KVMFS_IO_TEXT, \
	  .show = show_translate, .store = store_translate }
#define VCPU_STATE                                                         \
	STATE("msrs", KVMFS_IO_TEXT, KVMFS_STATE_MSRS, show_vcpu_state),   \
	STATE("xsave", KVMFS_IO_BLOB, KVMFS_STATE_XSAVE, show_vcpu_state), \
	STATE("xcrs", KVMFS_IO_BLOB, KVMFS_STATE_XCRS, show_vcpu_state),   \
	STATE("mpstate", KVMFS_IO_BLOB, KVMFS_STATE_MPSTATE, show_vcpu_state), \
	STATE("lapic", KVMFS_IO_BLOB, KVMFS_STATE_LAPIC, show_vcpu_state), \
	STATE("events", KVMFS_IO_BLOB, KVMFS_STATE_EVENTS, show_vcpu_state), \
	STATE("debugregs", KVMFS_IO_BLOB, KVMFS_STATE_DEBUGREGS, show_vcpu_state)

static uint64_t size_memory(const struct kvmfs_node_ctx *c)
{
	return kvmfs_vm_mem_size(c->vm);
}

static int resize_memory(const struct kvmfs_node_ctx *c, uint64_t size)
{
	return kvmfs_vm_truncate_mem(c->vm, size);
}

static uint64_t size_console(const struct kvmfs_node_ctx *c)
{
	return kvmfs_vm_console_total(c->vm);
}

static const struct kvmfs_node vm_rows[] = {
    {.name = "ctl",
     .mode = S_IFREG | 0600,
     .io = KVMFS_IO_TEXT,
     .show = show_ctl,
     .store = store_ctl},
    {.name = "memory",
     .mode = S_IFREG | 0600,
     .io = KVMFS_IO_MEMORY,
     .size = size_memory,
     .resize = resize_memory},
    {.name = "console",
     .mode = S_IFREG | 0400,
     .io = KVMFS_IO_STREAM,
     .size = size_console},
    {.name = "status",
     .mode = S_IFREG | 0400,
     .io = KVMFS_IO_TEXT,
     .show = show_status},
    VCPU_FILES,
    /* Every vCPU's run answers; a read at the end waits for the next:
     * left out of listings, so that cat of every file never hangs. */
    {.name = "exits", .mode = S_IFREG | 0400, .io = KVMFS_IO_EXITS,
     .flags = KVMFS_NODE_HIDDEN},
    /* Writing it types into the guest's serial port: left out of
     * listings, so that cp -r of a VM never types into its copy. */
    {.name = "input", .mode = S_IFREG | 0200, .io = KVMFS_IO_INPUT,
     .flags = KVMFS_NODE_HIDDEN},
    /* The rest of a snapshot, in the order a restore needs. */
    VCPU_STATE,
    STATE("irqchip", KVMFS_IO_BLOB, KVMFS_STATE_IRQCHIP, show_vm_state),
    STATE("clock", KVMFS_IO_TEXT, KVMFS_STATE_CLOCK, show_vm_state),
    STATE("uart", KVMFS_IO_TEXT, KVMFS_STATE_UART, show_vm_state),
    /* Last: a copy (cp -r, listing order) restores the VM's own state
     * and ctl's `cpus N` (which makes cpus/N) before the other vCPUs'. */
    {.name = "cpus",
     .mode = S_IFDIR | 0700,
     .io = KVMFS_IO_DIR,
     .dir = &kvmfs_cpus_dir},
};

/* cpus/N/: the files of vCPU N (the VM's own regs, sregs, run and
 * translate are vCPU 0's, cpus/0's). */
static int show_cpu_status(const struct kvmfs_node_ctx *c, GString *out)
{
	if (c->peek && !kvmfs_vm_has_vcpu(c->vm, c->cpu))
		return -EAGAIN;
	return kvmfs_vm_cpu_status(c->vm, c->cpu, out);
}

static const struct kvmfs_node cpu_rows[] = {
    {.name = "status",
     .mode = S_IFREG | 0400,
     .io = KVMFS_IO_TEXT,
     .show = show_cpu_status},
    VCPU_FILES,
    VCPU_STATE,
};

const struct kvmfs_dir kvmfs_cpu_dir = {ROWS(cpu_rows), KVMFS_SUB_CPU, NULL, false};
const struct kvmfs_dir kvmfs_cpus_dir = {NULL, 0, KVMFS_SUB_CPUS, &kvmfs_cpu_dir, true};
const struct kvmfs_dir kvmfs_vm_dir = {ROWS(vm_rows), KVMFS_SUB_VM, NULL, false};

/* The row a state backend acts for tells which state. */
static const struct kvmfs_node *state_row(const struct kvmfs_node_ctx *c)
{
	return c->node;
}

static int show_vcpu_state(const struct kvmfs_node_ctx *c, GString *out)
{
	if (c->peek && !kvmfs_vm_has_vcpu(c->vm, c->cpu))
		return -EAGAIN;
	return kvmfs_vm_state_read(c->vm, c->cpu, state_row(c)->state, out);
}

static int show_vm_state(const struct kvmfs_node_ctx *c, GString *out)
{
	return kvmfs_vm_state_read(c->vm, c->cpu, state_row(c)->state, out);
}

static uint64_t size_blob(const struct kvmfs_node_ctx *c)
{
	return kvmfs_vm_state_length(c->vm, c->cpu, state_row(c)->state);
}

static int store_state(const struct kvmfs_node_ctx *c, const char *buf,
		       size_t len)
{
	return kvmfs_vm_state_write(c->vm, c->cpu, state_row(c)->state, buf, len);
}
const struct kvmfs_dir kvmfs_vms_dir = {ROWS(vms_rows), 1, &kvmfs_vm_dir, false};

static const struct kvmfs_node root_rows[] = {
    {.name = "version",
     .mode = S_IFREG | 0400,
     .io = KVMFS_IO_TEXT,
     .flags = KVMFS_NODE_STATIC,
     .show = show_version},
    {.name = "caps",
     .mode = S_IFREG | 0400,
     .io = KVMFS_IO_TEXT,
     .flags = KVMFS_NODE_STATIC,
     .show = show_caps},
    {.name = "status",
     .mode = S_IFREG | 0400,
     .io = KVMFS_IO_TEXT,
     .show = show_host_status},
    {.name = "vms",
     .mode = S_IFDIR | 0700,
     .io = KVMFS_IO_DIR,
     .dir = &kvmfs_vms_dir},
};

const struct kvmfs_dir kvmfs_root_dir = {ROWS(root_rows), 0, NULL, false};

_Static_assert(sizeof(vm_rows) / sizeof(vm_rows[0]) <= KVMFS_INO_MAX_ROWS,
	       "a directory's rows fit the row field of an inode number");
