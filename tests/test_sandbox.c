/* The vCPU threads' seccomp filter, installed for real: in a child
 * process, one thread takes the filter and tries what a vCPU thread may
 * and may not do; the child's other thread must stay unfiltered. */
#include "vcpu/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static void test_build_sizes(void **state)
{
	struct sock_filter ins[KVMFS_SANDBOX_MAX];
	size_t n = kvmfs_sandbox_build(ins, KVMFS_SANDBOX_MAX, 3, 4);

	(void)state;
	assert_true(n > 10);
	assert_true(n <= KVMFS_SANDBOX_MAX);
	/* Too little room: nothing half-written is returned. */
	assert_int_equal(kvmfs_sandbox_build(ins, n - 1, 3, 4), 0);
	assert_int_equal(kvmfs_sandbox_build(ins, n, 3, 4), n);
	/* The last two instructions are the answers. */
	assert_int_equal(ins[n - 1].code, BPF_RET | BPF_K);
	assert_int_equal(ins[n - 2].code, BPF_RET | BPF_K);
}

/* Run a filter on one seccomp_data the way the kernel does: only the
 * instructions kvmfs_sandbox_build writes (loads of 32-bit words,
 * forward jumps, returns) are known; anything else fails the test. */
static uint32_t emulate(const struct sock_filter *ins, size_t n,
			const struct seccomp_data *d)
{
	uint32_t a = 0;
	size_t pc = 0;

	while (pc < n) {
		const struct sock_filter *f = &ins[pc];

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(f->k + 4 <= sizeof(*d) && f->k % 4 == 0);
			memcpy(&a, (const char *)d + f->k, 4);
			pc++;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += 1 + (a == f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += 1 + (a >= f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JA:
			pc += 1 + f->k;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			fail_msg("unexpected BPF instruction 0x%x at %zu", f->code, pc);
		}
	}
	fail_msg("ran off the end of the program");
	return 0;
}

static bool listed(const unsigned *list, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

/* Every system call number, every listed ioctl and some others, the
 * wrong ABIs: the program answers exactly what the lists say. */
static void test_program_answers(void **state)
{
	const uint32_t allow = SECCOMP_RET_ALLOW, deny = SECCOMP_RET_ERRNO | EPERM;
	struct sock_filter ins[KVMFS_SANDBOX_MAX];
	size_t n = kvmfs_sandbox_build(ins, KVMFS_SANDBOX_MAX, 7, 9);
	struct seccomp_data d = { .arch = AUDIT_ARCH_X86_64 };
	unsigned allowed = 0;

	(void)state;
	assert_true(n > 0);
	for (unsigned nr = 0; nr < 1024; nr++) {
		uint32_t want = listed(kvmfs_sandbox_calls, kvmfs_sandbox_ncalls, nr) ? allow : deny;

		if (nr == SYS_ioctl)
			continue;
		d.nr = (int)nr;
		if (emulate(ins, n, &d) != want)
			fail_msg("system call %u: got 0x%x, want 0x%x", nr,
				 emulate(ins, n, &d), want);
		allowed += want == allow;
	}
	assert_int_equal(allowed, kvmfs_sandbox_ncalls);
	/* The same numbers through the x32 ABI, or from a 32-bit entry. */
	d.nr = SYS_write | 0x40000000;
	assert_int_equal(emulate(ins, n, &d), deny);
	d.nr = SYS_write;
	d.arch = AUDIT_ARCH_I386;
	assert_int_equal(emulate(ins, n, &d), deny);
	d.arch = AUDIT_ARCH_X86_64;
	/* ioctl: the listed requests on fd 7 only; the kernel sees only the
	 * low 32 bits of both. */
	d.nr = SYS_ioctl;
	for (size_t i = 0; i < kvmfs_sandbox_nioctls; i++) {
		d.args[0] = 7;
		d.args[1] = kvmfs_sandbox_ioctls[i];
		assert_int_equal(emulate(ins, n, &d), allow);
		d.args[0] = 8;
		assert_int_equal(emulate(ins, n, &d), deny);
		d.args[0] = 7 | (1ull << 32);
		assert_int_equal(emulate(ins, n, &d), allow);
	}
	d.args[0] = 7;
	d.args[1] = KVM_CREATE_VCPU;
	assert_int_equal(emulate(ins, n, &d), deny);
	d.args[1] = FIONREAD;
	assert_int_equal(emulate(ins, n, &d), deny);
	/* The VM's fd (9): KVM_IRQ_LINE only; not on the vCPU's fd. */
	d.args[0] = 9;
	d.args[1] = KVM_IRQ_LINE;
	assert_int_equal(emulate(ins, n, &d), allow);
	d.args[1] = KVM_RUN;
	assert_int_equal(emulate(ins, n, &d), deny);
	d.args[1] = KVM_CREATE_VCPU;
	assert_int_equal(emulate(ins, n, &d), deny);
	d.args[0] = 7;
	d.args[1] = KVM_IRQ_LINE;
	assert_int_equal(emulate(ins, n, &d), deny);
	/* Without a VM fd (-1), no fd gets KVM_IRQ_LINE. */
	n = kvmfs_sandbox_build(ins, KVMFS_SANDBOX_MAX, 7, -1);
	d.args[0] = 9;
	assert_int_equal(emulate(ins, n, &d), deny);
}

/* Results of the filtered thread, one bit per failed check. */
struct probe {
	int fd;			/* stands in for the vCPU fd */
	int other_fd;
	int pipe_w;
	unsigned failed;
	char why[256];
};

static void check(struct probe *p, unsigned bit, int ok, const char *what)
{
	if (!ok) {
		p->failed |= 1u << bit;
		snprintf(p->why + strlen(p->why), sizeof(p->why) - strlen(p->why),
			 "%s; ", what);
	}
}

static void *filtered(void *arg)
{
	struct probe *p = arg;
	char err[200];
	void *m;
	int r;

	if (kvmfs_sandbox_vcpu(p->fd, -1, err, sizeof(err)) < 0) {
		check(p, 0, 0, err);
		return NULL;
	}
	/* Allowed: the vCPU ioctls on its own fd reach the driver (here
	 * /dev/null, which answers ENOTTY), memory, writing, time. */
	errno = 0;
	r = ioctl(p->fd, KVM_RUN, 0);
	check(p, 1, r < 0 && errno == ENOTTY, "KVM_RUN on the vCPU fd was not let through");
	errno = 0;
	r = ioctl(p->fd, KVM_GET_REGS, NULL);
	check(p, 2, r < 0 && errno == ENOTTY, "KVM_GET_REGS was not let through");
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p, 3, m != MAP_FAILED, "mmap refused");
	if (m != MAP_FAILED)
		check(p, 4, munmap(m, 1 << 20) == 0, "munmap refused");
	free(malloc(1 << 20));
	check(p, 5, write(p->pipe_w, "x", 1) == 1, "write refused");

	/* Refused with EPERM: files, sockets, other ioctls, other fds,
	 * processes. */
	errno = 0;
	r = open("/dev/null", O_RDONLY);
	check(p, 6, r < 0 && errno == EPERM, "open was allowed");
	errno = 0;
	r = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	check(p, 7, r < 0 && errno == EPERM, "openat was allowed");
	errno = 0;
	r = socket(AF_UNIX, SOCK_STREAM, 0);
	check(p, 8, r < 0 && errno == EPERM, "socket was allowed");
	errno = 0;
	r = ioctl(p->fd, KVM_CREATE_VCPU, 0);
	check(p, 9, r < 0 && errno == EPERM, "KVM_CREATE_VCPU was allowed");
	errno = 0;
	r = ioctl(p->other_fd, KVM_RUN, 0);
	check(p, 10, r < 0 && errno == EPERM, "KVM_RUN on another fd was allowed");
	errno = 0;
	r = (int)syscall(SYS_fork);
	if (r == 0)
		_exit(0);
	check(p, 11, r < 0 && errno == EPERM, "fork was allowed");
	errno = 0;
	r = (int)syscall(SYS_execve, "/bin/true", (char *[]){ NULL }, (char *[]){ NULL });
	check(p, 12, r < 0 && errno == EPERM, "execve was allowed");
	errno = 0;
	r = close(p->other_fd);
	check(p, 13, r < 0 && errno == EPERM, "close was allowed");
	return NULL;
}

static void test_filter_in_a_thread(void **state)
{
	int pipefd[2], st;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct probe p = { 0 };
		pthread_t t;
		int fd;

		p.fd = open("/dev/null", O_RDWR);
		p.other_fd = open("/dev/null", O_RDWR);
		p.pipe_w = pipefd[1];
		if (p.fd < 0 || p.other_fd < 0 || pthread_create(&t, NULL, filtered, &p))
			_exit(100);
		pthread_join(t, NULL);
		/* The thread that did not install the filter is free. */
		fd = open("/dev/null", O_RDONLY);
		check(&p, 14, fd >= 0, "the other thread was filtered too");
		if (p.failed)
			fprintf(stderr, "sandbox: %s\n", p.why);
		_exit(p.failed ? 1 : 0);
	}
	close(pipefd[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	{
		char c = 0;

		assert_int_equal(read(pipefd[0], &c, 1), 1);
		assert_int_equal(c, 'x');
	}
	close(pipefd[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_sizes),
		cmocka_unit_test(test_program_answers),
		cmocka_unit_test(test_filter_in_a_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
