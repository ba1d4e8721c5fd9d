/* Walking the tables of tree.h: from an inode number to its node and the
 * VM it acts on, from a directory and a name to an entry, and the entries
 * of a directory.  No FUSE request here: ops.c and files.c do the
 * replying; this file only knows the tables and the backend's VM lookups. */
#include "fuse/tree.h"

#include <errno.h>
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
	return sub == kvmfs_vm_dir.sub ? &kvmfs_vm_dir : NULL;
}

/* Fill F with row ROW (0: the directory itself) of directory D at level
 * SERIAL, acting on VM (a reference F takes over, or NULL). */
static int found_at(struct kvmfs_found *f, struct kvmfs_host *h,
		    struct kvmfs_vm *vm, const struct kvmfs_dir *d,
		    uint64_t serial, unsigned row)
{
	memset(f, 0, sizeof(*f));
	f->ctx.host = h;
	f->ctx.vm = vm;
	f->ino = kvmfs_ino_pack(serial, d->sub, row);
	if (row == 0) {
		f->node = &dir_self;
		f->dir = d;
		/* A VM's directory is in vms/, vms/ in the root, the root
		 * its own parent. */
		f->parent_ino = serial != 0
				    ? kvmfs_ino_pack(0, kvmfs_vms_dir.sub, 0)
				    : kvmfs_ino_pack(0, kvmfs_root_dir.sub, 0);
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
	}
	return found_at(f, h, vm, d, i.serial, i.row);
}

int kvmfs_tree_lookup(struct kvmfs_host *h, const struct kvmfs_found *parent,
		      const char *name, struct kvmfs_found *f)
{
	const struct kvmfs_dir *d = parent->dir;
	uint64_t serial;
	struct kvmfs_vm *child;

	if (!d)
		return -ENOTDIR;
	serial = kvmfs_ino_unpack(parent->ino).serial;
	for (unsigned r = 0; r < d->n_rows; r++) {
		const struct kvmfs_node *n = &d->rows[r];
		struct kvmfs_vm *vm;

		if (strcmp(name, n->name))
			continue;
		/* The parent holds its VM already: no second lookup. */
		vm = parent->ctx.vm ? kvmfs_vm_ref(parent->ctx.vm) : NULL;
		if (n->io == KVMFS_IO_DIR)
			return found_at(f, h, vm, n->dir, serial, 0);
		return found_at(f, h, vm, d, serial, r + 1);
	}
	if (!d->child || strlen(name) > 64)
		return -ENOENT;
	/* The variable part: one directory per VM. */
	child = kvmfs_host_vm_lookup(h, name);
	if (!child)
		return -ENOENT;
	return found_at(f, h, child, d->child, kvmfs_vm_serial(child), 0);
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
		if (n->io == KVMFS_IO_DIR)
			fn(n->name, kvmfs_ino_pack(pi.serial, n->dir->sub, 0),
			   n->mode, arg);
		else
			fn(n->name, kvmfs_ino_pack(pi.serial, pi.sub, r + 1),
			   n->mode, arg);
	}
	if (d->child) {
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
