/* The vCPU threads' seccomp filter (see sandbox.h).  A classic BPF
 * program, written out by hand: no libseccomp. */
#include "vcpu/sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What a set-up vCPU thread calls, found with strace over the
 * integration tests (docs/robustness.md), plus what glibc, glib and the
 * sanitizers need on their error and exit paths. */
const unsigned kvmfs_sandbox_calls[] = {
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
const size_t kvmfs_sandbox_ncalls = N(kvmfs_sandbox_calls);

/* The vCPU ioctls issued after set-up (vcpu.c, vcpu_run.c). */
const unsigned kvmfs_sandbox_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
	KVM_TRANSLATE, KVM_SET_GUEST_DEBUG,
	/* the state of a snapshot (vm/vm_state.c) */
	KVM_GET_LAPIC, KVM_SET_LAPIC, KVM_GET_XSAVE, KVM_SET_XSAVE,
	KVM_GET_XCRS, KVM_SET_XCRS, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
	KVM_GET_MP_STATE, KVM_SET_MP_STATE, KVM_GET_DEBUGREGS,
	KVM_SET_DEBUGREGS, KVM_GET_MSRS, KVM_SET_MSRS,
};
const size_t kvmfs_sandbox_nioctls = N(kvmfs_sandbox_ioctls);

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

static void jump(struct prog *p, unsigned op, unsigned k, size_t jt, size_t jf)
{
	put(p, (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, rel(p, jt),
					    rel(p, jf)));
}

static void load(struct prog *p, unsigned offset)
{
	put(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset));
}

enum { LEAF = 4 };

static size_t tree_size(size_t lo, size_t hi)
{
	size_t mid = lo + (hi - lo) / 2;

	return hi - lo <= LEAF ? hi - lo + 1 : 1 + tree_size(lo, mid) + tree_size(mid, hi);
}

/* The allowed calls nr[lo..hi) (sorted) as a search tree: the kernel
 * works out, when the filter is installed, which calls it allows
 * whatever their arguments by running the program once per system call
 * number, so a list costs that much more to install (2.4 us per
 * instruction here) than a tree. */
static void tree(struct prog *p, const unsigned *nr, size_t lo, size_t hi,
		 size_t allow, size_t deny)
{
	size_t mid = lo + (hi - lo) / 2;

	if (hi - lo <= LEAF) {
		for (size_t i = lo; i < hi; i++)
			jump(p, BPF_JEQ, nr[i], allow, p->n + 1);
		put(p, (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, rel(p, deny)));
		return;
	}
	jump(p, BPF_JGE, nr[mid], p->n + 1 + tree_size(lo, mid), p->n + 1);
	tree(p, nr, lo, mid, allow, deny);
	tree(p, nr, mid, hi, allow, deny);
}

static int by_number(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

size_t kvmfs_sandbox_build(struct sock_filter *ins, size_t cap, int vcpu_fd,
			   int vm_fd)
{
	/* Layout (BPF jumps only forward): the ABI, ioctl (KVM_RUN is the
	 * hot call), the other calls, the vCPU's ioctls, the VM's one
	 * (KVM_IRQ_LINE: a device's interrupt line, raised from the vCPU
	 * thread that ran the device), the two answers. */
	const size_t n_calls = N(kvmfs_sandbox_calls), n_ioctls = N(kvmfs_sandbox_ioctls);
	const size_t ioctl_at = 5 + tree_size(0, n_calls);
	const size_t vm_at = ioctl_at + 3 + n_ioctls + 1;
	const size_t deny = vm_at + 3, allow = deny + 1;
	struct prog p = { ins, 0, cap };
	unsigned nr[N(kvmfs_sandbox_calls)];

	memcpy(nr, kvmfs_sandbox_calls, sizeof(nr));
	qsort(nr, n_calls, sizeof(nr[0]), by_number);
	/* Only the x86-64 ABI; no x32 numbers (bit 30), no i386 entry. */
	load(&p, LO(arch));
	jump(&p, BPF_JEQ, AUDIT_ARCH_X86_64, p.n + 1, deny);
	load(&p, LO(nr));
	jump(&p, BPF_JGE, 0x40000000u, deny, p.n + 1);
	jump(&p, BPF_JEQ, SYS_ioctl, ioctl_at, p.n + 1);
	tree(&p, nr, 0, n_calls, allow, deny);
	/* ioctl: the kernel takes fd and request as 32-bit values, so the
	 * low words are all there is to check (little-endian). */
	load(&p, LO(args[0]));
	jump(&p, BPF_JEQ, (unsigned)vcpu_fd, p.n + 1, vm_at);
	load(&p, LO(args[1]));
	for (size_t i = 0; i < n_ioctls; i++)
		jump(&p, BPF_JEQ, kvmfs_sandbox_ioctls[i], allow, p.n + 1);
	put(&p, (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, rel(&p, deny)));
	/* The VM's fd (A still holds the fd); -1 matches no fd. */
	jump(&p, BPF_JEQ, (unsigned)vm_fd, p.n + 1, deny);
	load(&p, LO(args[1]));
	jump(&p, BPF_JEQ, KVM_IRQ_LINE, allow, deny);
	put(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					     SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)));
	put(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	if (p.n != allow + 1 || p.n > cap)
		return 0;
	return p.n;
}

int kvmfs_sandbox_vcpu(int vcpu_fd, int vm_fd, char *err, size_t errlen)
{
	struct sock_filter ins[KVMFS_SANDBOX_MAX];
	struct sock_fprog prog = { 0 };
	size_t n = kvmfs_sandbox_build(ins, KVMFS_SANDBOX_MAX, vcpu_fd, vm_fd);

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

		snprintf(err, errlen, "seccomp: %s (mount without -o seccomp to run vCPUs unfiltered)",
			 strerror(e));
		return -e;
	}
	return 0;
}
