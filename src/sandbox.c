/* The vCPU threads' seccomp filter (see sandbox.h).  A classic BPF
 * program, written out by hand: no libseccomp. */
#include "sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* What a set-up vCPU thread calls, found with strace over the
 * integration tests (docs/robustness.md), plus what glibc, glib and the
 * sanitizers need on their error and exit paths. */
static const unsigned allowed_calls[] = {
	/* answers to FUSE, log lines (stderr, or syslog's socket) */
	SYS_read, SYS_write, SYS_writev, SYS_sendto,
	/* locks, signals (the kick), timers (run timeouts) */
	SYS_futex, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigaction,
	SYS_sigaltstack, SYS_timer_settime, SYS_timer_gettime,
	SYS_clock_gettime, SYS_gettimeofday, SYS_nanosleep,
	SYS_clock_nanosleep, SYS_sched_yield, SYS_restart_syscall,
	/* memory */
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_mprotect, SYS_madvise, SYS_brk,
	/* identity, abort, leaving */
	SYS_getpid, SYS_gettid, SYS_tgkill, SYS_getrandom, SYS_exit,
	SYS_exit_group,
};

/* The vCPU ioctls issued after set-up (vcpu.c, vcpu_run.c). */
static const unsigned allowed_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
	KVM_TRANSLATE, KVM_SET_GUEST_DEBUG,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define LO(field) ((unsigned)offsetof(struct seccomp_data, field))

struct prog {
	struct sock_filter *ins;
	size_t n, cap;
};

static void put(struct prog *p, struct sock_filter f)
{
	if (p->n < p->cap)
		p->ins[p->n] = f;
	p->n++;
}

/* A jump to absolute instruction `to` from the one being written. */
static unsigned char rel(const struct prog *p, size_t to)
{
	return (unsigned char)(to - p->n - 1);
}

size_t kvmfs_sandbox_build(struct sock_filter *ins, size_t cap, int vcpu_fd)
{
	/* Layout (BPF jumps only forward): the ABI, ioctl first (KVM_RUN
	 * is the hot call), the other calls, the ioctl checks, then the two
	 * answers. */
	const size_t n_calls = N(allowed_calls), n_ioctls = N(allowed_ioctls);
	const size_t ioctl_at = 6 + n_calls;
	const size_t deny = ioctl_at + 3 + n_ioctls, allow = deny + 1;
	struct prog p = { ins, 0, cap };

	/* Only the x86-64 ABI; no x32 numbers (bit 30), no i386 entry. */
	put(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LO(arch)));
	put(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					     AUDIT_ARCH_X86_64, 0, rel(&p, deny)));
	put(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LO(nr)));
	put(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
					     0x40000000u, rel(&p, deny), 0));
	put(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					     SYS_ioctl, rel(&p, ioctl_at), 0));
	for (size_t i = 0; i < n_calls; i++)
		put(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						     allowed_calls[i], rel(&p, allow), 0));
	put(&p, (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, rel(&p, deny)));
	/* ioctl: the kernel takes fd and request as 32-bit values, so the
	 * low words are all there is to check (little-endian). */
	put(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LO(args[0])));
	put(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					     (unsigned)vcpu_fd, 0, rel(&p, deny)));
	put(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LO(args[1])));
	for (size_t i = 0; i < n_ioctls; i++)
		put(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						     allowed_ioctls[i], rel(&p, allow), 0));
	put(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					     SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)));
	put(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	if (p.n != allow + 1 || p.n > cap)
		return 0;
	return p.n;
}

int kvmfs_sandbox_vcpu(int vcpu_fd, char *err, size_t errlen)
{
	struct sock_filter ins[KVMFS_SANDBOX_MAX];
	struct sock_fprog prog = { 0 };
	size_t n = kvmfs_sandbox_build(ins, KVMFS_SANDBOX_MAX, vcpu_fd);

	if (!n) {
		snprintf(err, errlen, "seccomp: filter does not fit");
		return -EINVAL;
	}
	prog.len = (unsigned short)n;
	prog.filter = ins;
	/* Both are per thread: without SECCOMP_FILTER_FLAG_TSYNC the filter
	 * holds for this thread only. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
		int e = errno;

		snprintf(err, errlen, "seccomp: %s (mount with -o noseccomp to run vCPUs without it)",
			 strerror(e));
		return -e;
	}
	return 0;
}
