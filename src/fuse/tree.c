/* Walking the tables of tree.h: from an inode number to its node and the
 * VM it acts on, from a directory and a name to an entry, and the entries
 * of a directory.  No FUSE request here: ops.c and files.c do the
 * replying; this file only knows the tables and the backend's VM lookups. */
#include "fuse/tree.h"

#include "formats/ctlparse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A directory's own node: mode and kind, no functions. */
static const struct kvmfs_node dir_self = {
    .name = "", .mode = S_IFDIR | 0700, .io = KVMFS_IO_DIR};

const struct kvmfs_dir *kvmfs_tree_dir_of(uint64_t serial, unsigned sub)
{
	if (serial == 0)
		return sub == kvmfs_root_dir.sub  ? &kvmfs_root_dir
		       : sub == kvmfs_vms_dir.sub ? &kvmfs_vms_dir
						  : NULL;
	if (sub == KVMFS_SUB_VM)
		return &kvmfs_vm_dir;
	if (sub == KVMFS_SUB_CPUS)
		return &kvmfs_cpus_dir;
	if (sub >= KVMFS_SUB_CPU && sub < KVMFS_SUB_CPU + KVMFS_CTL_CPUS_MAX)
		return &kvmfs_cpu_dir;
	return NULL;
}

/* The inode number of the directory that holds directory SUB of level
 * SERIAL. */
static uint64_t parent_of(uint64_t serial, unsigned sub)
{
	if (serial == 0)
		return kvmfs_ino_pack(0, kvmfs_root_dir.sub, 0);
	if (sub == KVMFS_SUB_VM)
		return kvmfs_ino_pack(0, kvmfs_vms_dir.sub, 0);
	if (sub == KVMFS_SUB_CPUS)
		return kvmfs_ino_pack(serial, KVMFS_SUB_VM, 0);
	return kvmfs_ino_pack(serial, KVMFS_SUB_CPUS, 0);
}

/* Fill F with row ROW (0: the directory itself) of directory D, sub-object
 * SUB at level SERIAL, acting on VM (a reference F takes over, or NULL). */
static int found_at(struct kvmfs_found *f, struct kvmfs_host *h,
		    struct kvmfs_vm *vm, const struct kvmfs_dir *d,
		    uint64_t serial, unsigned sub, unsigned row)
{
	memset(f, 0, sizeof(*f));
	f->ctx.host = h;
	f->ctx.vm = vm;
	/* cpus/N acts on vCPU N; every other file of a VM on vCPU 0. */
	f->ctx.cpu = sub >= KVMFS_SUB_CPU ? sub - KVMFS_SUB_CPU : 0;
	f->ino = kvmfs_ino_pack(serial, sub, row);
	if (row == 0) {
		f->node = &dir_self;
		f->dir = d;
		f->parent_ino = parent_of(serial, sub);
		return 0;
	}
	f->node = &d->rows[row - 1];
	f->ctx.node = f->node;
	if (f->node->io == KVMFS_IO_DIR) {
		/* A directory row is reached through its own inode only
		 * (lookup hands that out), never as a row. */
		kvmfs_found_put(f);
		return -ENOENT;
	}
	return 0;
}

int kvmfs_tree_resolve(struct kvmfs_host *h, uint64_t ino,
		       struct kvmfs_found *f)
{
	struct kvmfs_ino i;
	const struct kvmfs_dir *d;
	struct kvmfs_vm *vm = NULL;

	memset(f, 0, sizeof(*f));
	f->ctx.host = h;
	if (ino == 0)
		return -ENOENT;
	i = kvmfs_ino_unpack(ino);
	d = kvmfs_tree_dir_of(i.serial, i.sub);
	if (!d || i.row > d->n_rows)
		return -ENOENT;
	if (i.serial != 0) {
		vm = kvmfs_host_vm_by_serial(h, i.serial);
		if (!vm)
			return -ENOENT;
		if (i.sub >= KVMFS_SUB_CPU &&
		    i.sub - KVMFS_SUB_CPU >= kvmfs_vm_ncpus(vm)) {
			kvmfs_vm_unref(vm);
			return -ENOENT;
		}
	}
	return found_at(f, h, vm, d, i.serial, i.sub, i.row);
}

/* NAME as a vCPU index: digits, no leading zero, below N. */
static bool cpu_name(const char *name, unsigned n, unsigned *cpu)
{
	unsigned v = 0;

	if (!name[0] || (name[0] == '0' && name[1]) || strlen(name) > 3)
		return false;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	*cpu = v;
	return v < n;
}

int kvmfs_tree_lookup(struct kvmfs_host *h, const struct kvmfs_found *parent,
		      const char *name, struct kvmfs_found *f)
{
	const struct kvmfs_dir *d = parent->dir;
	struct kvmfs_ino pi;
	struct kvmfs_vm *child;
	unsigned cpu;

	if (!d)
		return -ENOTDIR;
	pi = kvmfs_ino_unpack(parent->ino);
	for (unsigned r = 0; r < d->n_rows; r++) {
		const struct kvmfs_node *n = &d->rows[r];
		struct kvmfs_vm *vm;

		if (strcmp(name, n->name))
			continue;
		/* The parent holds its VM already: no second lookup. */
		vm = parent->ctx.vm ? kvmfs_vm_ref(parent->ctx.vm) : NULL;
		if (n->io == KVMFS_IO_DIR)
			return found_at(f, h, vm, n->dir, pi.serial, n->dir->sub, 0);
		return found_at(f, h, vm, d, pi.serial, pi.sub, r + 1);
	}
	if (!d->child || strlen(name) > 64)
		return -ENOENT;
	if (d->per_cpu) {
		/* cpus/N: one directory per vCPU of the parent's VM. */
		if (!parent->ctx.vm ||
		    !cpu_name(name, kvmfs_vm_ncpus(parent->ctx.vm), &cpu))
			return -ENOENT;
		return found_at(f, h, kvmfs_vm_ref(parent->ctx.vm), d->child,
				pi.serial, KVMFS_SUB_CPU + cpu, 0);
	}
	/* The variable part: one directory per VM. */
	child = kvmfs_host_vm_lookup(h, name);
	if (!child)
		return -ENOENT;
	return found_at(f, h, child, d->child, kvmfs_vm_serial(child),
			d->child->sub, 0);
}

void kvmfs_tree_list(struct kvmfs_host *h, const struct kvmfs_found *df,
		     void (*fn)(const char *name, uint64_t ino, mode_t mode,
				void *arg),
		     void *arg)
{
	const struct kvmfs_dir *d = df->dir;
	struct kvmfs_ino pi = kvmfs_ino_unpack(df->ino);

	for (unsigned r = 0; r < d->n_rows; r++) {
		const struct kvmfs_node *n = &d->rows[r];

		if (n->flags & KVMFS_NODE_HIDDEN)
			continue;
		/* cpus/ is listed once there is more than vCPU 0 (whose files
		 * the VM's own are): a one-vCPU VM lists, and cp -r copies,
		 * what it always did. */
		if (n->io == KVMFS_IO_DIR && n->dir->per_cpu &&
		    (!df->ctx.vm || kvmfs_vm_ncpus(df->ctx.vm) < 2))
			continue;
		if (n->io == KVMFS_IO_DIR)
			fn(n->name, kvmfs_ino_pack(pi.serial, n->dir->sub, 0),
			   n->mode, arg);
		else
			fn(n->name, kvmfs_ino_pack(pi.serial, pi.sub, r + 1),
			   n->mode, arg);
	}
	if (d->child && d->per_cpu) {
		unsigned n = df->ctx.vm ? kvmfs_vm_ncpus(df->ctx.vm) : 0;
		char name[16];

		for (unsigned i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "%u", i);
			fn(name, kvmfs_ino_pack(pi.serial, KVMFS_SUB_CPU + i, 0),
			   S_IFDIR | 0700, arg);
		}
	} else if (d->child) {
		char **names = kvmfs_host_list(h);

		for (char **p = names; *p; p++) {
			struct kvmfs_vm *vm = kvmfs_host_vm_lookup(h, *p);

			if (!vm)
				continue;
			fn(*p,
			   kvmfs_ino_pack(kvmfs_vm_serial(vm), d->child->sub,
					  0),
			   S_IFDIR | 0700, arg);
			kvmfs_vm_unref(vm);
		}
		g_strfreev(names);
	}
}

void kvmfs_found_put(struct kvmfs_found *f)
{
	if (f->ctx.vm)
		kvmfs_vm_unref(f->ctx.vm);
	f->ctx.vm = NULL;
}
