/* Open files of the FUSE layer: one handle per open, generated text built
 * when a read starts at offset 0 and served from the handle after that
 * (like a seq_file), memory straight from the guest mapping, the console
 * by stream position, and `run` reads answered from the vCPU thread so
 * that no worker waits for a guest. */
#include "fuse/fs_priv.h"
#include "lib/join.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


struct open_file {
	const struct kvmfs_node *node;
	struct kvmfs_node_ctx ctx;	/* ctx.vm: a reference, or NULL at the root */
	pthread_mutex_t lock;
	GString *text;			/* generated content being read */
	bool made;			/* vms/new: a VM was created */
	int64_t console_delta;		/* stream position - file offset */
	/* A write that ended inside a line, held until a write ends it or
	 * the file is closed (lib/join.h). */
	struct kvmfs_join join;
	/* KVMFS_IO_BLOB: the bytes written so far, at their offsets,
	 * applied whole at close. */
	GString *blob;
	GList link;			/* in kvmfs_open_files */
};

static void open_file_free(void *handle)
{
	struct open_file *fh = handle;

	if (fh->ctx.vm)
		kvmfs_vm_unref(fh->ctx.vm);
	if (fh->text)
		g_string_free(fh->text, TRUE);
	kvmfs_join_free(&fh->join);
	if (fh->blob)
		g_string_free(fh->blob, TRUE);
	pthread_mutex_destroy(&fh->lock);
	g_free(fh);
}

struct kvmfs_handles kvmfs_open_files = KVMFS_HANDLES_INIT(open_file_free);

static struct open_file *fh_of(struct fuse_file_info *fi)
{
	return (struct open_file *)(uintptr_t)fi->fh;
}

struct kvmfs_host *kvmfs_fs_host(fuse_req_t req)
{
	/* userdata is the address of main's host pointer: the host is
	 * created after daemonizing, when the session already exists. */
	return *(struct kvmfs_host **)fuse_req_userdata(req);
}

void kvmfs_fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct kvmfs_found f;
	struct open_file *fh;
	int r = kvmfs_tree_resolve(kvmfs_fs_host(req), ino, &f);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (S_ISDIR(f.node->mode)) {
		r = -EISDIR;
	} else if ((fi->flags & O_ACCMODE) != O_RDONLY && !(f.node->mode & 0200)) {
		r = -EACCES;
	} else if ((fi->flags & O_ACCMODE) != O_WRONLY && !(f.node->mode & 0400)) {
		r = -EACCES;
	}
	if (r < 0) {
		kvmfs_found_put(&f);
		fuse_reply_err(req, -r);
		return;
	}
	fh = g_new0(struct open_file, 1);
	fh->node = f.node;
	fh->ctx = f.ctx;	/* the VM reference moves to the handle */
	pthread_mutex_init(&fh->lock, NULL);
	fh->link.data = fh;
	kvmfs_handles_add(&kvmfs_open_files, &fh->link);
	fi->fh = (uintptr_t)fh;
	/* Never stale, and large requests for memory. */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

void kvmfs_fs_release(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi)
{
	struct open_file *fh = fh_of(fi);

	(void)ino;
	kvmfs_handles_release(&kvmfs_open_files, &fh->link);
	fuse_reply_err(req, 0);
}

/* The slice of text a read asks for, copied out: the reply must go after
 * the handle's lock is dropped, because once the kernel has the reply the
 * file may be released and the handle freed. */
static GBytes *slice(GString *text, size_t size, off_t off)
{
	if (!text || off < 0 || (size_t)off >= text->len)
		return g_bytes_new(NULL, 0);
	if (size > text->len - (size_t)off)
		size = text->len - (size_t)off;
	return g_bytes_new(text->str + off, size);
}

static void reply_bytes(fuse_req_t req, GBytes *b)
{
	gsize n;
	const void *p = g_bytes_get_data(b, &n);

	fuse_reply_buf(req, p, n);
	g_bytes_unref(b);
}

static void read_text(fuse_req_t req, struct open_file *fh, size_t size,
		      off_t off)
{
	GBytes *b;
	int r = 0;

	pthread_mutex_lock(&fh->lock);
	/* A KVMFS_NODE_ONCE file (vms/new, which makes a VM) has one text
	 * per open file, whatever is read after. */
	if ((off == 0 && !((fh->node->flags & KVMFS_NODE_ONCE) && fh->made)) || !fh->text) {
		GString *t = g_string_new(NULL);

		r = fh->node->show ? fh->node->show(&fh->ctx, t) : -EINVAL;
		if (r < 0) {
			g_string_free(t, TRUE);
		} else {
			if (fh->text)
				g_string_free(fh->text, TRUE);
			fh->text = t;
			fh->made = true;
		}
	}
	b = r < 0 ? NULL : slice(fh->text, size, off);
	pthread_mutex_unlock(&fh->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_bytes(req, b);
}

static void read_memory(fuse_req_t req, struct open_file *fh, size_t size,
			off_t off)
{
	/* Once replied, the file may be released: keep only the VM, which
	 * holds its own reference until mem_release. */
	struct kvmfs_vm *vm = kvmfs_vm_ref(fh->ctx.vm);
	struct kvmfs_mem_view v;
	uint64_t at = (uint64_t)off;
	int r = kvmfs_vm_mem_acquire(vm, &v);

	if (r < 0) {
		kvmfs_vm_unref(vm);
		fuse_reply_err(req, -r);
		return;
	}
	if (off < 0 || at >= v.size)
		size = 0;
	else if (size > v.size - at)
		size = v.size - at;
	if (size && at < v.hole_end && at + size > v.hole) {
		/* Reaching the hole: zeros there, memory around it. */
		uint64_t a = at > v.hole ? at : v.hole;
		uint64_t b = at + size < v.hole_end ? at + size : v.hole_end;
		char *buf = g_malloc0(size);

		memcpy(buf, v.mem + at, a - at);
		memcpy(buf + (b - at), v.mem + b, at + size - b);
		fuse_reply_buf(req, buf, size);
		g_free(buf);
	} else {
		/* Straight from the guest mapping into the reply. */
		fuse_reply_buf(req, size ? (const char *)v.mem + at : NULL, size);
	}
	kvmfs_vm_mem_release(vm);
	kvmfs_vm_unref(vm);
}

static void read_console(fuse_req_t req, struct open_file *fh, size_t size,
			 off_t off)
{
	uint64_t pos;
	size_t got;
	char *buf;

	if (!kvmfs_vm_alive(fh->ctx.vm)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (size > MAX_IO)
		size = MAX_IO;
	buf = g_malloc(size ? size : 1);
	pthread_mutex_lock(&fh->lock);
	/* Offsets are stream positions; a reader the ring overtook skips
	 * what was dropped and stays consistent from then on. */
	pos = (uint64_t)off + (uint64_t)fh->console_delta;
	{
		uint64_t want = pos;

		got = kvmfs_vm_console_read(fh->ctx.vm, &pos, buf, size);
		fh->console_delta += (int64_t)(pos - want);
	}
	pthread_mutex_unlock(&fh->lock);
	fuse_reply_buf(req, buf, got);
	g_free(buf);
}

/* An exits read waiting at the end of the stream.  Exactly one of the
 * wake-up (from a vCPU thread, or the VM going) and the interrupt answers
 * it: the one that takes it off the VM's list of waiters; as for run, the
 * wake-up first clears the interrupt callback (which waits for a running
 * one), and the lock orders both against read_exits. */
struct exits_req {
	fuse_req_t req;
	struct open_file *fh;
	struct kvmfs_vm *vm;		/* a reference */
	size_t size;
	off_t off;
	pthread_mutex_t lock;
	bool registered, interrupted;
};

static void exits_req_free(struct exits_req *er)
{
	kvmfs_vm_unref(er->vm);
	pthread_mutex_destroy(&er->lock);
	g_free(er);
}

/* Reply with what is there at OFF. */
static void reply_exits(fuse_req_t req, struct open_file *fh, size_t size,
			off_t off)
{
	char *buf = g_malloc(size ? size : 1);
	uint64_t pos, want;
	size_t got;

	pthread_mutex_lock(&fh->lock);
	pos = want = (uint64_t)off + (uint64_t)fh->console_delta;
	got = kvmfs_vm_exits_read(fh->ctx.vm, &pos, buf, size);
	fh->console_delta += (int64_t)(pos - want);
	pthread_mutex_unlock(&fh->lock);
	fuse_reply_buf(req, buf, got);
	g_free(buf);
}

static void exits_woken(void *cookie)
{
	struct exits_req *er = cookie;

	fuse_req_interrupt_func(er->req, NULL, NULL);
	/* read_exits may still hold the lock if the wake-up came at once. */
	pthread_mutex_lock(&er->lock);
	pthread_mutex_unlock(&er->lock);
	if (!kvmfs_vm_alive(er->vm))
		fuse_reply_err(er->req, ENOENT);
	else
		reply_exits(er->req, er->fh, er->size, er->off);
	exits_req_free(er);
}

static void exits_interrupted(fuse_req_t req, void *data)
{
	struct exits_req *er = data;
	bool mine;

	(void)req;
	pthread_mutex_lock(&er->lock);
	er->interrupted = true;
	mine = er->registered && kvmfs_vm_exits_cancel(er->vm, er);
	pthread_mutex_unlock(&er->lock);
	if (mine) {
		fuse_reply_err(er->req, EINTR);
		exits_req_free(er);
	}
}

static void read_exits(fuse_req_t req, struct open_file *fh, size_t size,
		       off_t off)
{
	struct exits_req *er;
	uint64_t pos;
	int r;

	if (!kvmfs_vm_alive(fh->ctx.vm)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (size > MAX_IO)
		size = MAX_IO;
	pthread_mutex_lock(&fh->lock);
	pos = (uint64_t)off + (uint64_t)fh->console_delta;
	pthread_mutex_unlock(&fh->lock);
	er = g_new0(struct exits_req, 1);
	er->req = req;
	er->fh = fh;	/* the file stays open while its read is in flight */
	er->vm = kvmfs_vm_ref(fh->ctx.vm);
	er->size = size;
	er->off = off;
	pthread_mutex_init(&er->lock, NULL);
	fuse_req_interrupt_func(req, exits_interrupted, er);
	pthread_mutex_lock(&er->lock);
	r = er->interrupted ? -EINTR : kvmfs_vm_exits_wait(er->vm, pos, exits_woken, er);
	er->registered = r == 0;
	pthread_mutex_unlock(&er->lock);
	if (r == 0)
		return;	/* exits_woken or exits_interrupted answers */
	fuse_req_interrupt_func(req, NULL, NULL);
	if (r > 0)
		reply_exits(req, fh, size, off);
	else
		fuse_reply_err(req, -r);
	exits_req_free(er);
}

/* A run read in flight.  The interrupt callback and the answer from the
 * vCPU thread can race; the mutex and `submitted` order them. */
struct run_req {
	fuse_req_t req;
	struct open_file *fh;
	size_t size;
	pthread_mutex_t lock;
	bool submitted;
	bool interrupted;
};

static void run_interrupted(fuse_req_t req, void *data)
{
	struct run_req *rr = data;

	(void)req;
	pthread_mutex_lock(&rr->lock);
	rr->interrupted = true;
	if (rr->submitted)
		kvmfs_vm_run_interrupt(rr->fh->ctx.vm, rr->fh->ctx.cpu, rr);
	pthread_mutex_unlock(&rr->lock);
}

static void run_done(void *cookie, const char *answer, int err)
{
	struct run_req *rr = cookie;
	struct open_file *fh = rr->fh;
	GBytes *b;

	/* Takes the request's lock: no interrupt callback is running
	 * after this, and none will start, so rr can go. */
	fuse_req_interrupt_func(rr->req, NULL, NULL);
	if (err) {
		fuse_reply_err(rr->req, -err);
	} else {
		pthread_mutex_lock(&fh->lock);
		if (fh->text)
			g_string_free(fh->text, TRUE);
		fh->text = g_string_new(answer);
		g_string_append_c(fh->text, '\n');
		b = slice(fh->text, rr->size, 0);
		pthread_mutex_unlock(&fh->lock);
		reply_bytes(rr->req, b);
	}
	/* read_run may still hold the lock if the answer came at once. */
	pthread_mutex_lock(&rr->lock);
	pthread_mutex_unlock(&rr->lock);
	pthread_mutex_destroy(&rr->lock);
	g_free(rr);
}

static void read_run(fuse_req_t req, struct open_file *fh, size_t size,
		     off_t off)
{
	struct run_req *rr;
	int r;

	if (off != 0) {
		/* The rest of the answer this handle got. */
		GBytes *b;

		pthread_mutex_lock(&fh->lock);
		b = slice(fh->text, size, off);
		pthread_mutex_unlock(&fh->lock);
		reply_bytes(req, b);
		return;
	}
	rr = g_new0(struct run_req, 1);
	rr->req = req;
	rr->fh = fh;
	rr->size = size;
	pthread_mutex_init(&rr->lock, NULL);
	fuse_req_interrupt_func(req, run_interrupted, rr);
	pthread_mutex_lock(&rr->lock);
	if (rr->interrupted) {
		pthread_mutex_unlock(&rr->lock);
		run_done(rr, "interrupted", 0);
		return;
	}
	rr->submitted = true;
	r = kvmfs_vm_run(fh->ctx.vm, fh->ctx.cpu, run_done, rr);
	pthread_mutex_unlock(&rr->lock);
	if (r < 0) {
		fuse_req_interrupt_func(req, NULL, NULL);
		pthread_mutex_destroy(&rr->lock);
		g_free(rr);
		fuse_reply_err(req, -r);
	}
}

void kvmfs_fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct open_file *fh = fh_of(fi);

	(void)ino;
	switch (fh->node->io) {
	case KVMFS_IO_MEMORY:
		read_memory(req, fh, size, off);
		break;
	case KVMFS_IO_STREAM:
		read_console(req, fh, size, off);
		break;
	case KVMFS_IO_WAIT:
		read_run(req, fh, size, off);
		break;
	case KVMFS_IO_EXITS:
		read_exits(req, fh, size, off);
		break;
	default:
		read_text(req, fh, size, off);
		break;
	}
}

/* A write to a text file is one transaction, whatever its offset (as
 * Plan 9's ctl files and sysfs attributes): the lines it holds are taken
 * whole or not at all.  So bash's printf, which writes each line with a
 * write(2) of its own at the next offset, works line by line.  A writer
 * that cuts a line across writes is joined (lib/join.h): a write that
 * ends inside a line waits, whole, for the write that ends it or the last
 * close, so that no write is ever taken in part.  Lock held. */
static int write_text(struct open_file *fh, const char *buf, size_t size)
{
	GString *t;
	int r = kvmfs_join_write(&fh->join, buf, size, &t);

	if (r == -EFBIG && fh->ctx.vm)
		kvmfs_vm_set_error(fh->ctx.vm,
				   "%s: over %u bytes written without the end of a line (nothing applied)",
				   fh->node->name, KVMFS_JOIN_MAX);
	if (r < 0 || !t)
		return r;
	r = fh->node->store(&fh->ctx, t->str, t->len);
	g_string_free(t, TRUE);
	return r;
}

/* A binary state file is a struct: the writes fill it at their offsets
 * (cp writes it in one piece, dd in blocks), and close applies it whole.
 * Lock held. */
#define BLOB_MAX (64 * 1024)

static int write_blob(struct open_file *fh, const char *buf, size_t size,
		      off_t off)
{
	if (off < 0 || (uint64_t)off + size > BLOB_MAX)
		return -EFBIG;
	if (!fh->blob)
		fh->blob = g_string_new(NULL);
	if (fh->blob->len < (size_t)off + size) {
		size_t old = fh->blob->len;

		g_string_set_size(fh->blob, (size_t)off + size);
		memset(fh->blob->str + old, 0, fh->blob->len - old);
	}
	memcpy(fh->blob->str + off, buf, size);
	return 0;
}

void kvmfs_fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		    size_t size, off_t off, struct fuse_file_info *fi)
{
	struct open_file *fh = fh_of(fi);
	int r;

	(void)ino;
	if (fh->node->io == KVMFS_IO_MEMORY) {
		r = off < 0 ? -EINVAL : kvmfs_vm_mem_write(fh->ctx.vm, (uint64_t)off, buf, size);
	} else if (fh->node->io == KVMFS_IO_BLOB && fh->node->store) {
		pthread_mutex_lock(&fh->lock);
		r = write_blob(fh, buf, size, off);
		pthread_mutex_unlock(&fh->lock);
	} else if (fh->node->io == KVMFS_IO_INPUT) {
		/* As many bytes as the UART's queue takes: a short count,
		 * or EAGAIN when it is full. */
		ssize_t n = kvmfs_vm_input(fh->ctx.vm, buf, size);

		if (n >= 0) {
			kvmfs_vm_clear_error(fh->ctx.vm);
			fuse_reply_write(req, (size_t)n);
			return;
		}
		r = (int)n;
	} else if (fh->node->io == KVMFS_IO_TEXT && fh->node->store) {
		pthread_mutex_lock(&fh->lock);
		r = write_text(fh, buf, size);
		pthread_mutex_unlock(&fh->lock);
		/* The error line tells the truth about the latest command
		 * (not about data: dd goes on writing after a refused
		 * truncate, and its reason must stay readable). */
		if (!r && fh->ctx.vm)
			kvmfs_vm_clear_error(fh->ctx.vm);
	} else {
		r = -EBADF;
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
}

/* close(2): a line still waiting for its end is applied now, and close
 * reports whether it was taken. */
void kvmfs_fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct open_file *fh = fh_of(fi);
	GString *t;
	int r = 0;

	(void)ino;
	pthread_mutex_lock(&fh->lock);
	t = kvmfs_join_flush(&fh->join);
	if (!t && fh->blob) {
		t = fh->blob;	/* a binary state, written whole */
		fh->blob = NULL;
	}
	if (t && fh->node->store)
		r = fh->node->store(&fh->ctx, t->str, t->len);
	pthread_mutex_unlock(&fh->lock);
	if (t) {
		if (!r && fh->ctx.vm)
			kvmfs_vm_clear_error(fh->ctx.vm);
		g_string_free(t, TRUE);
	}
	fuse_reply_err(req, -r);
}
