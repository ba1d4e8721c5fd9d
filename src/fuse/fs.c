/* The FUSE layer (low-level API): inode numbers computed from a VM's
 * serial number and a file index, tables of the files in each directory,
 * and one handler per operation that maps a node to a backend call.
 * Open files, reads and writes are in fs_file.c. */
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

static const struct node_def root_files[] = {
	{ "version", K_VERSION, S_IFREG | 0400 },
	{ "caps", K_CAPS, S_IFREG | 0400 },
	{ "status", K_HOST_STATUS, S_IFREG | 0400 },
	{ "vms", K_VMS, S_IFDIR | 0700 },
};
static const struct node_def vms_files[] = {
	{ "new", K_NEW, S_IFREG | 0400 },
};
static const struct node_def vm_files[] = {
	{ "ctl", K_CTL, S_IFREG | 0600 },
	{ "memory", K_MEMORY, S_IFREG | 0600 },
	{ "console", K_CONSOLE, S_IFREG | 0400 },
	{ "status", K_STATUS, S_IFREG | 0400 },
	{ "regs", K_REGS, S_IFREG | 0600 },
	{ "sregs", K_SREGS, S_IFREG | 0600 },
	{ "run", K_RUN, S_IFREG | 0400 },
	{ "translate", K_TRANSLATE, S_IFREG | 0600 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define INO_VERSION 2
#define INO_VMS 5
#define INO_NEW 6
#define VM_SHIFT 4

static fuse_ino_t root_ino(enum kind k)
{
	return k == K_ROOT ? FUSE_ROOT_ID : (fuse_ino_t)(k - K_VERSION + INO_VERSION);
}

static fuse_ino_t vm_ino(uint64_t serial, unsigned index)
{
	return (fuse_ino_t)(serial << VM_SHIFT | index);
}

/* What an inode number names: the kind, and for VM nodes the VM (with a
 * reference the caller drops) or -ENOENT when it is gone. */
int kvmfs_fs_resolve(struct kvmfs_host *h, fuse_ino_t ino, enum kind *kind,
		     const struct node_def **def, struct kvmfs_vm **vm)
{
	static const struct node_def root_def = { "", K_ROOT, S_IFDIR | 0700 };
	static const struct node_def vm_def = { "", K_VM, S_IFDIR | 0700 };

	*vm = NULL;
	if (ino == FUSE_ROOT_ID) {
		*kind = K_ROOT;
		*def = &root_def;
		return 0;
	}
	if (ino < (1u << VM_SHIFT)) {
		for (size_t i = 0; i < N(root_files); i++)
			if (root_ino(root_files[i].kind) == ino) {
				*kind = root_files[i].kind;
				*def = &root_files[i];
				return 0;
			}
		if (ino == INO_NEW) {
			*kind = K_NEW;
			*def = &vms_files[0];
			return 0;
		}
		return -ENOENT;
	}
	{
		unsigned index = ino & ((1u << VM_SHIFT) - 1);

		if (index > N(vm_files))
			return -ENOENT;
		*vm = kvmfs_vm_by_serial(h, ino >> VM_SHIFT);
		if (!*vm)
			return -ENOENT;
		*def = index ? &vm_files[index - 1] : &vm_def;
		*kind = (*def)->kind;
	}
	return 0;
}

/* Files carry the mount's time rather than 1970 in ls -l. */
static time_t mount_time;

struct kvmfs_host *kvmfs_fs_host(fuse_req_t req)
{
	/* userdata is the address of main's host pointer: the host is
	 * created after daemonizing, when the session already exists. */
	return *(struct kvmfs_host **)fuse_req_userdata(req);
}

static void fill_stat(struct kvmfs_host *h, fuse_ino_t ino,
		      const struct node_def *def, struct kvmfs_vm *vm,
		      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = def->mode;
	st->st_nlink = S_ISDIR(def->mode) ? 2 : 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_atime = st->st_mtime = st->st_ctime = mount_time;
	st->st_blksize = MAX_IO;
	if (def->kind == K_VMS)
		st->st_nlink = 2 + kvmfs_host_count(h);
	if (vm && def->kind == K_MEMORY) {
		st->st_size = (off_t)kvmfs_vm_mem_size(vm);
		st->st_blocks = st->st_size / 512;
	} else if (vm && def->kind == K_CONSOLE) {
		st->st_size = (off_t)kvmfs_vm_console_total(vm);
	}
}

/* Files whose content changes behind the kernel's back get no attribute
 * caching; names live for a second (rmdir and mkdir go through the
 * kernel, which drops the entry itself). */
static void reply_entry(fuse_req_t req, fuse_ino_t ino,
			const struct node_def *def, struct kvmfs_vm *vm)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = ino;
	e.generation = 1;
	e.entry_timeout = 1.0;
	e.attr_timeout = (def->kind == K_VERSION || def->kind == K_CAPS) ? 1.0 : 0.0;
	fill_stat(kvmfs_fs_host(req), ino, def, vm, &e.attr);
	fuse_reply_entry(req, &e);
}

static void kvmfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct kvmfs_host *h = kvmfs_fs_host(req);
	const struct node_def *def;
	struct kvmfs_vm *vm, *child;
	enum kind kind;
	int r = kvmfs_fs_resolve(h, parent, &kind, &def, &vm);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	r = -ENOENT;
	if (kind == K_ROOT) {
		for (size_t i = 0; i < N(root_files); i++)
			if (!strcmp(name, root_files[i].name)) {
				reply_entry(req, root_ino(root_files[i].kind), &root_files[i], NULL);
				return;
			}
	} else if (kind == K_VMS) {
		if (!strcmp(name, "new")) {
			reply_entry(req, INO_NEW, &vms_files[0], NULL);
			return;
		}
		child = strlen(name) <= 64 ? kvmfs_vm_lookup(h, name) : NULL;
		if (child) {
			static const struct node_def vm_def = { "", K_VM, S_IFDIR | 0700 };

			reply_entry(req, vm_ino(kvmfs_vm_serial(child), 0), &vm_def, child);
			kvmfs_vm_unref(child);
			return;
		}
	} else if (kind == K_VM) {
		for (size_t i = 0; i < N(vm_files); i++)
			if (!strcmp(name, vm_files[i].name)) {
				reply_entry(req, vm_ino(kvmfs_vm_serial(vm), i + 1), &vm_files[i], vm);
				kvmfs_vm_unref(vm);
				return;
			}
	} else {
		r = -ENOTDIR;
	}
	kvmfs_vm_unref(vm);
	fuse_reply_err(req, -r);
}

static void kvmfs_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct kvmfs_host *h = kvmfs_fs_host(req);
	const struct node_def *def;
	struct kvmfs_vm *vm;
	enum kind kind;
	struct stat st;
	int r = kvmfs_fs_resolve(h, ino, &kind, &def, &vm);

	(void)fi;
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fill_stat(h, ino, def, vm, &st);
	kvmfs_vm_unref(vm);
	fuse_reply_attr(req, &st,
			(kind == K_VERSION || kind == K_CAPS) ? 1.0 : 0.0);
}

static void kvmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			  int to_set, struct fuse_file_info *fi)
{
	struct kvmfs_host *h = kvmfs_fs_host(req);
	const struct node_def *def;
	struct kvmfs_vm *vm;
	enum kind kind;
	struct stat st;
	int r = kvmfs_fs_resolve(h, ino, &kind, &def, &vm);

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
		if (kind == K_MEMORY)
			r = kvmfs_vm_set_mem(vm, (uint64_t)attr->st_size);
		else if (!(def->mode & 0200))
			r = -EACCES;
		else if (attr->st_size != 0)
			r = -EINVAL;
	}
	if (r < 0) {
		kvmfs_vm_unref(vm);
		fuse_reply_err(req, -r);
		return;
	}
	fill_stat(h, ino, def, vm, &st);
	kvmfs_vm_unref(vm);
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

static struct handle_set open_dirs = HANDLE_SET_INIT(dir_handle_free);

void handle_set_add(struct handle_set *s, GList *link)
{
	pthread_mutex_lock(&s->lock);
	g_queue_push_tail_link(&s->live, link);
	pthread_mutex_unlock(&s->lock);
}

void handle_set_release(struct handle_set *s, GList *link)
{
	pthread_mutex_lock(&s->lock);
	g_queue_unlink(&s->live, link);
	pthread_mutex_unlock(&s->lock);
	s->free_one(link->data);
}

void handle_set_free_all(struct handle_set *s)
{
	GList *l;

	pthread_mutex_lock(&s->lock);
	while ((l = g_queue_pop_head_link(&s->live)))
		s->free_one(l->data);
	pthread_mutex_unlock(&s->lock);
}

void kvmfs_fs_free_handles(void)
{
	handle_set_free_all(&open_dirs);
	handle_set_free_all(&kvmfs_open_files);
}

static void dir_add(struct dir_handle *d, const char *name, fuse_ino_t ino,
		    mode_t mode)
{
	g_ptr_array_add(d->names, g_strdup(name));
	g_array_append_val(d->inos, ino);
	g_array_append_val(d->modes, mode);
}

static void kvmfs_opendir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct kvmfs_host *h = kvmfs_fs_host(req);
	const struct node_def *def;
	struct kvmfs_vm *vm;
	struct dir_handle *d;
	enum kind kind;
	int r = kvmfs_fs_resolve(h, ino, &kind, &def, &vm);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (!S_ISDIR(def->mode)) {
		kvmfs_vm_unref(vm);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	d = g_new0(struct dir_handle, 1);
	d->names = g_ptr_array_new_with_free_func(g_free);
	d->inos = g_array_new(FALSE, FALSE, sizeof(fuse_ino_t));
	d->modes = g_array_new(FALSE, FALSE, sizeof(mode_t));
	dir_add(d, ".", ino, S_IFDIR);
	dir_add(d, "..", kind == K_ROOT ? ino : kind == K_VMS ? FUSE_ROOT_ID : INO_VMS,
		S_IFDIR);
	if (kind == K_ROOT) {
		for (size_t i = 0; i < N(root_files); i++)
			dir_add(d, root_files[i].name, root_ino(root_files[i].kind),
				root_files[i].mode);
	} else if (kind == K_VMS) {
		char **names = kvmfs_host_list(h);

		dir_add(d, "new", INO_NEW, vms_files[0].mode);
		for (char **n = names; *n; n++) {
			struct kvmfs_vm *child = kvmfs_vm_lookup(h, *n);

			if (child) {
				dir_add(d, *n, vm_ino(kvmfs_vm_serial(child), 0), S_IFDIR);
				kvmfs_vm_unref(child);
			}
		}
		g_strfreev(names);
	} else {
		for (size_t i = 0; i < N(vm_files); i++)
			dir_add(d, vm_files[i].name, vm_ino(kvmfs_vm_serial(vm), i + 1),
				vm_files[i].mode);
	}
	kvmfs_vm_unref(vm);
	d->link.data = d;
	handle_set_add(&open_dirs, &d->link);
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
	handle_set_release(&open_dirs, &d->link);
	fuse_reply_err(req, 0);
}

static void kvmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode)
{
	static const struct node_def vm_def = { "", K_VM, S_IFDIR | 0700 };
	struct kvmfs_host *h = kvmfs_fs_host(req);
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
	r = kvmfs_vm_create(h, name, NULL, &vm);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	reply_entry(req, vm_ino(kvmfs_vm_serial(vm), 0), &vm_def, vm);
	kvmfs_vm_unref(vm);
}

static void kvmfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int r;

	if (parent != INO_VMS) {
		fuse_reply_err(req, parent == FUSE_ROOT_ID ? EPERM : ENOTDIR);
		return;
	}
	r = kvmfs_vm_destroy(kvmfs_fs_host(req), name);
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
};
