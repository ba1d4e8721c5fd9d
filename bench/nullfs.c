/* The floor: the cheapest FUSE filesystem there is, to show what any FUSE
 * server costs on this host before kvmfs does any work.  It serves one
 * read-only file, `f`, whose 415 bytes are as long as kvmfs's regs text,
 * with direct_io like kvmfs's files, from the same multi-threaded
 * session loop kvmfs uses.  Usage: nullfs [FUSE options] MOUNTPOINT. */
#define FUSE_USE_VERSION 314

#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_INO  2
#define FILE_SIZE 415

static char content[FILE_SIZE];

static void fill(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_nlink = 1;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0500;
	} else {
		st->st_mode = S_IFREG | 0400;
		st->st_size = FILE_SIZE;
	}
}

static void null_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, "f")) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = FILE_INO;
	e.generation = 1;
	e.entry_timeout = 1.0;
	fill(FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void null_getattr(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	fill(ino, &st);
	fuse_reply_attr(req, &st, 0.0);
}

static void null_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FILE_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void null_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if (off < 0 || off >= FILE_SIZE) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > (size_t)(FILE_SIZE - off))
		size = (size_t)(FILE_SIZE - off);
	fuse_reply_buf(req, content + off, size);
}

static void null_release(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops null_ops = {
    .lookup = null_lookup,
    .getattr = null_getattr,
    .open = null_open,
    .read = null_read,
    .release = null_release,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts = {0};
	struct fuse_loop_config *lcfg;
	struct fuse_session *se;
	int ret = 1;

	memset(content, 'x', sizeof(content));
	if (fuse_parse_cmdline(&args, &opts) != 0 || !opts.mountpoint)
		goto out_args;
	se = fuse_session_new(&args, &null_ops, sizeof(null_ops), NULL);
	if (!se)
		goto out_opts;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	if (fuse_daemonize(opts.foreground) != 0)
		goto out_unmount;
	/* The loop kvmfs's main.c runs. */
	lcfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(lcfg, opts.clone_fd);
	fuse_loop_cfg_set_max_threads(lcfg, opts.max_threads);
	/* A signal ends the loop with its number: a clean exit. */
	ret = fuse_session_loop_mt(se, lcfg) < 0 ? 1 : 0;
	fuse_loop_cfg_destroy(lcfg);
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_opts:
	free(opts.mountpoint);
out_args:
	fuse_opt_free_args(&args);
	return ret;
}
