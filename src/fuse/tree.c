/* Walking the tables of tree.h: from an inode number to its node and the
 * VM it acts on, from a directory and a name to an entry, and the entries
 * of a directory.  No FUSE request here: ops.c and files.c do the
 * replying; this file only knows the tables and the backend's VM lookups. */
#include "fuse/tree.h"

#include <errno.h>
#include <string.h>

/* A directory's own node: mode and kind, no functions. */
static const struct kvmfs_node dir_self = {
    "", S_IFDIR | 0700, KVMFS_IO_DIR, 0, NULL, NULL, NULL, NULL, NULL};

const struct kvmfs_dir *kvmfs_tree_dir_of(uint64_t serial, unsigned sub)
{
	if (serial == 0)
		return sub == kvmfs_root_dir.sub  ? &kvmfs_root_dir
		       : sub == kvmfs_vms_dir.sub ? &kvmfs_vms_dir
						  : NULL;
	return sub == kvmfs_vm_dir.sub ? &kvmfs_vm_dir : NULL;
}

/* The inode of the directory that holds directory (serial, sub). */
static uint64_t parent_of(uint64_t serial, unsigned sub)
{
	if (serial != 0)
		return kvmfs_ino_pack(0, kvmfs_vms_dir.sub, 0);
	(void)sub;
	return kvmfs_ino_pack(0, kvmfs_root_dir.sub, 0);
}

int kvmfs_tree_resolve(struct kvmfs_host *h, uint64_t ino,
		       struct kvmfs_found *f)
{
	struct kvmfs_ino i;
	const struct kvmfs_dir *d;

	memset(f, 0, sizeof(*f));
	f->ctx.host = h;
	if (ino == 0)
		return -ENOENT;
	i = kvmfs_ino_unpack(ino);
	d = kvmfs_tree_dir_of(i.serial, i.sub);
	if (!d || i.row > d->n_rows)
		return -ENOENT;
	if (i.serial != 0) {
		f->ctx.vm = kvmfs_host_vm_by_serial(h, i.serial);
		if (!f->ctx.vm)
			return -ENOENT;
	}
	f->ino = ino;
	if (i.row == 0) {
		f->node = &dir_self;
		f->dir = d;
		f->parent_ino = i.serial == 0 && i.sub == kvmfs_root_dir.sub
				    ? ino
				    : parent_of(i.serial, i.sub);
		return 0;
	}
	f->node = &d->rows[i.row - 1];
	if (f->node->io == KVMFS_IO_DIR) {
		/* A directory row is reached through its own inode only
		 * (lookup hands that out), never as a row. */
		kvmfs_found_put(f);
		return -ENOENT;
	}
	return 0;
}

int kvmfs_tree_lookup(struct kvmfs_host *h, const struct kvmfs_found *parent,
		      const char *name, struct kvmfs_found *f)
{
	const struct kvmfs_dir *d = parent->dir;
	struct kvmfs_ino pi;
	struct kvmfs_vm *child;

	if (!d)
		return -ENOTDIR;
	pi = kvmfs_ino_unpack(parent->ino);
	for (unsigned r = 0; r < d->n_rows; r++) {
		const struct kvmfs_node *n = &d->rows[r];

		if (strcmp(name, n->name))
			continue;
		if (n->io == KVMFS_IO_DIR)
			return kvmfs_tree_resolve(
			    h, kvmfs_ino_pack(pi.serial, n->dir->sub, 0), f);
		return kvmfs_tree_resolve(
		    h, kvmfs_ino_pack(pi.serial, pi.sub, r + 1), f);
	}
	if (!d->child || strlen(name) > 64)
		return -ENOENT;
	/* The variable part: one directory per VM. */
	child = kvmfs_host_vm_lookup(h, name);
	if (!child)
		return -ENOENT;
	{
		uint64_t serial = kvmfs_vm_serial(child);

		kvmfs_vm_unref(child);
		return kvmfs_tree_resolve(
		    h, kvmfs_ino_pack(serial, d->child->sub, 0), f);
	}
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
