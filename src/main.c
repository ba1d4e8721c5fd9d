/* Start-up and shut-down: the command line (fuse_opt, the sshfs way, so
 * that mount(8) and fstab can start us), the /dev/kvm check before
 * mounting, the session loop, and freeing every VM on the way out. */
#include "config.h"
#include "fuse/fs.h"
#include "lib/log.h"
#include "lib/text.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

#include <errno.h>
#include <fuse_opt.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct options {
	char *kvm_path;
	char *max_memory;
	unsigned max_vms;
	int seccomp;
	int show_help;
	int show_version;
	char *mountpoint;
	char *source;
	int nonopts;
};

#define OPT(t, p) { t, offsetof(struct options, p), 1 }

enum { KEY_DISCARD, KEY_HELP, KEY_VERSION };

static const struct fuse_opt kvmfs_opts[] = {
	OPT("kvm=%s", kvm_path),
	OPT("max_memory=%s", max_memory),
	OPT("max_vms=%u", max_vms),
	OPT("seccomp", seccomp),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	/* mount(8) and fstab options that mean nothing to a FUSE server. */
	FUSE_OPT_KEY("noauto", KEY_DISCARD),
	FUSE_OPT_KEY("auto", KEY_DISCARD),
	FUSE_OPT_KEY("_netdev", KEY_DISCARD),
	FUSE_OPT_KEY("user", KEY_DISCARD),
	FUSE_OPT_KEY("users", KEY_DISCARD),
	FUSE_OPT_KEY("nofail", KEY_DISCARD),
	/* mount(8) passes its own -v (verbose) and -n (no mtab) on. */
	FUSE_OPT_KEY("-v", KEY_DISCARD),
	FUSE_OPT_KEY("-n", KEY_DISCARD),
	FUSE_OPT_END,
};

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	switch (key) {
	case KEY_DISCARD:
		return 0;
	case KEY_HELP:
		o->show_help = 1;
		return 0;
	case KEY_VERSION:
		o->show_version = 1;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		/* kvmfs [SOURCE] MOUNTPOINT: with two, the first is the
		 * source mount(8) passes, and is ignored. */
		o->nonopts++;
		if (o->nonopts == 1) {
			o->mountpoint = strdup(arg);
		} else if (o->nonopts == 2) {
			o->source = o->mountpoint;
			o->mountpoint = strdup(arg);
		} else {
			fprintf(stderr, "kvmfs: too many arguments: %s\n", arg);
			return -1;
		}
		return 0;
	default:
		return 1;
	}
}

static void usage(const char *prog)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n\n"
	       "Linux KVM virtual machines as files.\n\n"
	       "kvmfs options:\n"
	       "    -o kvm=PATH            KVM device (default: /dev/kvm)\n"
	       "    -o max_vms=N           most VMs at once (default: 4096)\n"
	       "    -o max_memory=SIZE     guest memory of all VMs together, e.g. 8G\n"
	       "                           (default: half of physical memory)\n"
	       "    -o seccomp             vCPU threads under a seccomp filter\n"
	       "                           (default: off, see kvmfs(1))\n"
	       "    -o allow_other         let other users in; kvmfs then turns on\n"
	       "                           default_permissions so the mode bits hold\n"
	       "\n"
	       "General options:\n",
	       prog);
	fflush(stdout);
	fuse_cmdline_help();
	printf("\nFUSE options:\n");
	fflush(stdout);
	fuse_lowlevel_help();
}

/* Each VM holds a few fds (VM, memfd, vCPU): the usual soft limit of
 * 1024 would stop kvmfs at a few hundred VMs. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static uint64_t default_max_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || size <= 0)
		return 1ull << 30;
	return (uint64_t)pages * (uint64_t)size / 2;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { .max_vms = 4096 };
	struct fuse_cmdline_opts fopts = { 0 };
	struct kvmfs_host_config hcfg;
	struct kvmfs_host *host = NULL;
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lcfg = NULL;
	char err[256];
	int ret = 1;

	/* Large buffers (console rings, request buffers) always come from
	 * mmap and go back to the kernel when freed, so removing VMs
	 * returns their memory instead of leaving it in malloc's heap. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	if (fuse_opt_parse(&args, &o, kvmfs_opts, opt_proc) < 0)
		return 1;
	if (o.show_version) {
		printf("kvmfs version %s\nFUSE library version %s\n", KVMFS_VERSION,
		       fuse_pkgversion());
		/* fusermount's version line comes from a child process. */
		fflush(stdout);
		fuse_lowlevel_version();
		ret = 0;
		goto out_args;
	}
	if (o.show_help) {
		usage(argv[0]);
		ret = 0;
		goto out_args;
	}
	if (!o.mountpoint) {
		fprintf(stderr, "kvmfs: no mount point (see kvmfs --help)\n");
		goto out_args;
	}
	hcfg.kvm_path = o.kvm_path ? o.kvm_path : "/dev/kvm";
	hcfg.max_vms = o.max_vms;
	hcfg.seccomp = o.seccomp;
	hcfg.max_memory = default_max_memory();
	if (o.max_memory &&
	    kvmfs_parse_size(o.max_memory, strlen(o.max_memory), &hcfg.max_memory) < 0) {
		fprintf(stderr, "kvmfs: bad max_memory '%s' (e.g. 8G)\n", o.max_memory);
		goto out_args;
	}
	if (o.max_vms == 0) {
		fprintf(stderr, "kvmfs: max_vms must be at least 1\n");
		goto out_args;
	}
	/* Fail here, with a message, rather than mount something broken. */
	if (kvmfs_host_probe(hcfg.kvm_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "kvmfs: %s\n", err);
		goto out_args;
	}

	fuse_opt_add_arg(&args, "-ofsname=kvmfs,subtype=kvmfs");
	fuse_opt_add_arg(&args, o.mountpoint);
	if (fuse_parse_cmdline(&args, &fopts) != 0)
		goto out_args;
	for (int i = 0; i < args.argc; i++)
		if (strstr(args.argv[i], "allow_other")) {
			/* Other users see the mode bits enforced. */
			fuse_opt_add_arg(&args, "-odefault_permissions");
			break;
		}
	kvmfs_log_init(fopts.foreground, fopts.debug);
	raise_fd_limit();
	if (kvmfs_vcpu_init_signals() < 0) {
		fprintf(stderr, "kvmfs: cannot install the vCPU kick signal\n");
		goto out_opts;
	}

	/* The host is made after the fork; the session gets its address. */
	se = fuse_session_new(&args, &kvmfs_fs_ops, sizeof(kvmfs_fs_ops), &host);
	if (!se)
		goto out_opts;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, fopts.mountpoint) != 0)
		goto out_signals;
	if (fuse_daemonize(fopts.foreground) != 0)
		goto out_unmount;
	/* KVM wants its ioctls from the process that opened it: open it
	 * only now, after the fork of daemonizing. */
	if (kvmfs_host_new(&hcfg, &host, err, sizeof(err)) < 0) {
		kvmfs_log("%s", err);
		goto out_unmount;
	}

	if (fopts.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		lcfg = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(lcfg, fopts.clone_fd);
		fuse_loop_cfg_set_max_threads(lcfg, fopts.max_threads);
		ret = fuse_session_loop_mt(se, lcfg);
		fuse_loop_cfg_destroy(lcfg);
	}
	/* A signal ends the loop with its number: still a clean exit. */
	if (ret > 0)
		ret = 0;
	ret = ret ? 1 : 0;
	kvmfs_host_free(host);
	kvmfs_fs_free_handles();
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_opts:
	free(fopts.mountpoint);
out_args:
	fuse_opt_free_args(&args);
	free(o.mountpoint);
	free(o.source);
	free(o.kvm_path);
	free(o.max_memory);
	return ret;
}
