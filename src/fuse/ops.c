/* The FUSE layer's handlers (low-level API) for everything but open
 * files: lookups, attributes, directories, mkdir and rmdir, all generic
 * over the tables of tree.h.  Open files, reads and writes are in
 * files.c; the directory and open-file handles in handles.c. */
#include "fuse/fs_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Files carry the mount's time rather than 1970 in ls -l. */
static time_t mount_time;

/* A text file's st_size is the length a read would return now, so that
 * tools that trust sizes (cmp -s, a program reading st_size bytes, a
 * page cache) see the content (docs/reference.md, "Rules every file
 * follows").  A file whose read makes something (vms/new, or regs of a
 * VM without its vCPU yet) says 0: stat never acts. */
static size_t text_size(const struct kvmfs_found *f)
{
	struct kvmfs_node_ctx c = f->ctx;
	GString *t;
	size_t n = 0;

	if (!f->node->show || (f->node->flags & KVMFS_NODE_ONCE))
		return 0;
	c.peek = true;
	t = g_string_new(NULL);
	if (f->node->show(&c, t) == 0)
		n = t->len;
	g_string_free(t, TRUE);
	return n;
}

static void fill_stat(const struct kvmfs_found *f, struct stat *st)
{
	const struct kvmfs_node *n = f->node;

	memset(st, 0, sizeof(*st));
	st->st_ino = f->ino;
	st->st_mode = n->mode;
	st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_atime = st->st_mtime = st->st_ctime = mount_time;
	st->st_blksize = MAX_IO;
	/* A directory with a VM per entry: one link per subdirectory. */
	if (f->dir && f->dir->child)
		st->st_nlink = 2 + (f->dir->per_cpu ? kvmfs_vm_ncpus(f->ctx.vm)
						    : kvmfs_host_count(f->ctx.host));
	if (n->size) {
		st->st_size = (off_t)n->size(&f->ctx);
		if (n->io == KVMFS_IO_MEMORY)
			st->st_blocks = st->st_size / 512;
	} else if (n->io == KVMFS_IO_TEXT) {
		st->st_size = (off_t)text_size(f);
	}
}

static double attr_timeout(const struct kvmfs_node *n)
{
	return (n->flags & KVMFS_NODE_STATIC) ? 1.0 : 0.0;
}

/* Files whose content changes behind the kernel's back get no attribute
 * caching; names live for a second (rmdir and mkdir go through the
 * kernel, which drops the entry itself). */
static void reply_entry(fuse_req_t req, const struct kvmfs_found *f)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = f->ino;
	e.generation = 1;
	e.entry_timeout = 1.0;
	e.attr_timeout = attr_timeout(f->node);
	fill_stat(f, &e.attr);
	fuse_reply_entry(req, &e);
}

static void kvmfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct kvmfs_host *h = kvmfs_fs_host(req);
	struct kvmfs_found p, f;
	int r = kvmfs_tree_resolve(h, parent, &p);

	if (r == 0)
		r = kvmfs_tree_lookup(h, &p, name, &f);
	kvmfs_found_put(&p);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	reply_entry(req, &f);
	kvmfs_found_put(&f);
}

static void kvmfs_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct kvmfs_found f;
	struct stat st;
	int r = kvmfs_tree_resolve(kvmfs_fs_host(req), ino, &f);

	(void)fi;
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fill_stat(&f, &st);
	fuse_reply_attr(req, &st, attr_timeout(f.node));
	kvmfs_found_put(&f);
}

static void kvmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			  int to_set, struct fuse_file_info *fi)
{
	struct kvmfs_found f;
	struct stat st;
	int r = kvmfs_tree_resolve(kvmfs_fs_host(req), ino, &f);

	(void)fi;
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	/* Times are accepted and forgotten so that touch works. */
	to_set &= ~(FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
		    FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW |
		    FUSE_SET_ATTR_CTIME);
	if (to_set & ~FUSE_SET_ATTR_SIZE) {
		r = -EPERM;
	} else if (to_set & FUSE_SET_ATTR_SIZE) {
		if (f.node->resize)
			r = f.node->resize(&f.ctx, (uint64_t)attr->st_size);
		else if (!(f.node->mode & 0200))
			r = -EACCES;
		else if (attr->st_size != 0)
			r = -EINVAL;
	}
	if (r < 0) {
		kvmfs_found_put(&f);
		fuse_reply_err(req, -r);
		return;
	}
	fill_stat(&f, &st);
	kvmfs_found_put(&f);
	fuse_reply_attr(req, &st, 0.0);
}

/* --- directories --- */

struct dir_handle {
	GPtrArray *names;	/* snapshot at opendir */
	GArray *inos;
	GArray *modes;
	GList link;		/* in open_dirs */
};

static void dir_handle_free(void *handle)
{
	struct dir_handle *d = handle;

	g_ptr_array_free(d->names, TRUE);
	g_array_free(d->inos, TRUE);
	g_array_free(d->modes, TRUE);
	g_free(d);
}

static struct kvmfs_handles open_dirs = KVMFS_HANDLES_INIT(dir_handle_free);

void kvmfs_fs_free_handles(void)
{
	kvmfs_handles_free_all(&open_dirs);
	kvmfs_handles_free_all(&kvmfs_open_files);
}

static void dir_add(struct dir_handle *d, const char *name, fuse_ino_t ino,
		    mode_t mode)
{
	g_ptr_array_add(d->names, g_strdup(name));
	g_array_append_val(d->inos, ino);
	g_array_append_val(d->modes, mode);
}

static void list_one(const char *name, uint64_t ino, mode_t mode, void *arg)
{
	dir_add(arg, name, ino, mode);
}

static void kvmfs_opendir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct kvmfs_host *h = kvmfs_fs_host(req);
	struct kvmfs_found f;
	struct dir_handle *d;
	int r = kvmfs_tree_resolve(h, ino, &f);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (!f.dir) {
		kvmfs_found_put(&f);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	d = g_new0(struct dir_handle, 1);
	d->names = g_ptr_array_new_with_free_func(g_free);
	d->inos = g_array_new(FALSE, FALSE, sizeof(fuse_ino_t));
	d->modes = g_array_new(FALSE, FALSE, sizeof(mode_t));
	dir_add(d, ".", ino, S_IFDIR);
	dir_add(d, "..", f.parent_ino, S_IFDIR);
	kvmfs_tree_list(h, &f, list_one, d);
	kvmfs_found_put(&f);
	d->link.data = d;
	kvmfs_handles_add(&open_dirs, &d->link);
	fi->fh = (uintptr_t)d;
	fuse_reply_open(req, fi);
}

static void kvmfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			  off_t off, struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	char *buf = g_malloc(size ? size : 1);
	size_t used = 0;

	(void)ino;
	for (size_t i = (size_t)off; off >= 0 && i < d->names->len; i++) {
		struct stat st = { 0 };
		size_t n;

		st.st_ino = g_array_index(d->inos, fuse_ino_t, i);
		st.st_mode = g_array_index(d->modes, mode_t, i);
		n = fuse_add_direntry(req, buf + used, size - used,
				      g_ptr_array_index(d->names, i), &st, (off_t)i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	g_free(buf);
}

static void kvmfs_releasedir(fuse_req_t req, fuse_ino_t ino,
			     struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;

	(void)ino;
	kvmfs_handles_release(&open_dirs, &d->link);
	fuse_reply_err(req, 0);
}

/* The directory of VMs, whose entries mkdir and rmdir make and remove. */
#define INO_VMS kvmfs_ino_pack(0, kvmfs_vms_dir.sub, 0)

static void kvmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode)
{
	struct kvmfs_host *h = kvmfs_fs_host(req);
	struct kvmfs_found f;
	struct kvmfs_vm *vm;
	int r;

	(void)mode;
	if (parent != INO_VMS) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (!strcmp(name, "new")) {
		kvmfs_host_set_error(h, "mkdir: 'new' is reserved");
		fuse_reply_err(req, EEXIST);
		return;
	}
	r = kvmfs_host_vm_create(h, name, NULL, &vm);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	r = kvmfs_tree_resolve(h, kvmfs_ino_pack(kvmfs_vm_serial(vm), kvmfs_vm_dir.sub, 0), &f);
	kvmfs_vm_unref(vm);
	if (r < 0) {
		/* Removed by another client meanwhile. */
		fuse_reply_err(req, -r);
		return;
	}
	reply_entry(req, &f);
	kvmfs_found_put(&f);
}

static void kvmfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int r;

	if (parent != INO_VMS) {
		fuse_reply_err(req, parent == FUSE_ROOT_ID ? EPERM : ENOTDIR);
		return;
	}
	r = kvmfs_host_vm_destroy(kvmfs_fs_host(req), name);
	fuse_reply_err(req, -r);
}

/* The tree is fixed apart from VM directories. */
static void kvmfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

static void kvmfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname,
			 unsigned int flags)
{
	(void)parent;
	(void)name;
	(void)newparent;
	(void)newname;
	(void)flags;
	fuse_reply_err(req, EPERM);
}

static void kvmfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		       const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EPERM);
}

static void kvmfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			  const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

static void kvmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fuse_reply_err(req, EPERM);
}

static void kvmfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			 mode_t mode, struct fuse_file_info *fi)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)fi;
	fuse_reply_err(req, EPERM);
}

static void kvmfs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	mount_time = time(NULL);
	/* O_TRUNC comes with open, so `cat guest > memory` does not shrink
	 * memory; a real truncate(2) still resizes it. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* No splice: replying to memory reads by splicing from the memfd
	 * measured far slower than one copy (docs/performance.md). */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE);
	conn->max_write = MAX_IO;
}

const struct fuse_lowlevel_ops kvmfs_fs_ops = {
	.init = kvmfs_init,
	.lookup = kvmfs_lookup,
	.getattr = kvmfs_getattr,
	.setattr = kvmfs_setattr,
	.mkdir = kvmfs_mkdir,
	.rmdir = kvmfs_rmdir,
	.unlink = kvmfs_unlink,
	.rename = kvmfs_rename,
	.link = kvmfs_link,
	.symlink = kvmfs_symlink,
	.mknod = kvmfs_mknod,
	.create = kvmfs_create,
	.opendir = kvmfs_opendir,
	.readdir = kvmfs_readdir,
	.releasedir = kvmfs_releasedir,
	.open = kvmfs_fs_open,
	.release = kvmfs_fs_release,
	.read = kvmfs_fs_read,
	.write = kvmfs_fs_write,
	.flush = kvmfs_fs_flush,
};
