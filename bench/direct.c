/* The baseline: the work each kvmfs benchmark does, done with plain KVM
 * ioctls in one process and one thread.  It sets a vCPU up the way kvmfs
 * does (KVM_SET_CPUID2 with the supported CPUID, kvm_run sync_regs on,
 * KVM_SET_TSS_ADDR where KVM has it, memory from a memfd) and puts it in
 * real mode the way kvmfs's `mode real` does (src/x86/modes.c), so the
 * difference between the two sides is the filesystem.  Each command
 * prints one number; see usage(). */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROG	     "direct"
#define MEM_SIZE     (2u << 20)
#define TSS_ADDR     0xfffbd000ul
#define CONSOLE_PORT 0xe9

struct host {
	int kvm;
	size_t run_size;
	struct kvm_cpuid2 *cpuid;
	bool set_tss;
};

struct vm {
	int fd;
	int memfd;
	uint8_t *mem;
	size_t memsize;
	int vcpu;
	struct kvm_run *run;
};

static int host_open(struct host *h)
{
	int r;

	memset(h, 0, sizeof(*h));
	h->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (h->kvm < 0)
		return -errno;
	r = ioctl(h->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0)
		return r < 0 ? -errno : -ENODEV;
	h->run_size = (size_t)r;
	h->set_tss =
	    ioctl(h->kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0;
	/* Fetched once, as kvmfs does when it starts. */
	for (unsigned n = 64; n <= 4096; n *= 2) {
		h->cpuid = calloc(1, sizeof(*h->cpuid) +
					 n * sizeof(h->cpuid->entries[0]));
		if (!h->cpuid)
			return -ENOMEM;
		h->cpuid->nent = n;
		if (ioctl(h->kvm, KVM_GET_SUPPORTED_CPUID, h->cpuid) == 0)
			return 0;
		r = -errno;
		free(h->cpuid);
		h->cpuid = NULL;
		if (r != -E2BIG)
			return r;
	}
	return -E2BIG;
}

/* What mkdir does: KVM_CREATE_VM and the TSS page. */
static int vm_create(struct host *h, struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->memfd = -1;
	vm->vcpu = -1;
	vm->fd = ioctl(h->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	fcntl(vm->fd, F_SETFD, FD_CLOEXEC);
	if (h->set_tss && ioctl(vm->fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0)
		return -errno;
	return 0;
}

/* What `mem SIZE` does: a memfd, mapped once, as slot 0. */
static int vm_set_mem(struct vm *vm, size_t size)
{
	struct kvm_userspace_memory_region region = {0};

	vm->memfd = memfd_create("direct", MFD_CLOEXEC);
	if (vm->memfd < 0)
		return -errno;
	if (ftruncate(vm->memfd, (off_t)size) < 0)
		return -errno;
	vm->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_NORESERVE, vm->memfd, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return -errno;
	}
	vm->memsize = size;
	region.memory_size = size;
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

/* What kvmfs does when vCPU 0 is first used. */
static int vcpu_create(struct host *h, struct vm *vm)
{
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0ul);
	if (vm->vcpu < 0)
		return -errno;
	vm->run = mmap(NULL, h->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		return -errno;
	}
	if (h->cpuid && ioctl(vm->vcpu, KVM_SET_CPUID2, h->cpuid) < 0)
		return -errno;
	vm->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	return 0;
}

static void real_seg(struct kvm_segment *s, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->limit = 0xffff;
}

/* `mode real`, as src/x86/modes.c computes it: flat 64 KiB segments at 0,
 * PE, PG, PAE, PSE, LME and LMA off, rip = 0, stack below 64 KiB. */
static int vcpu_real_mode(struct vm *vm)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {0};

	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cr0 &= ~((1ull << 0) | (1ull << 31));
	sregs.cr4 &= ~((1ull << 4) | (1ull << 5));
	sregs.efer &= ~((1ull << 8) | (1ull << 10));
	sregs.cr3 = 0;
	real_seg(&sregs.cs, 11);
	real_seg(&sregs.ds, 3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	regs.rflags = 2;
	regs.rsp = vm->memsize < 0x10000 ? vm->memsize : 0x10000;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void vm_destroy(struct host *h, struct vm *vm)
{
	if (vm->run)
		munmap(vm->run, h->run_size);
	if (vm->vcpu >= 0)
		close(vm->vcpu);
	if (vm->mem)
		munmap(vm->mem, vm->memsize);
	if (vm->memfd >= 0)
		close(vm->memfd);
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = vm->memfd = vm->vcpu = -1;
	vm->run = NULL;
	vm->mem = NULL;
}

/* KVM_RUN until hlt; output to port 0xE9 goes to the console and the
 * guest re-enters, as in kvmfs's vCPU thread.  -EIO on any other exit. */
static int run_to_hlt(struct vm *vm, struct bench_ring *console)
{
	for (;;) {
		struct kvm_run *run = vm->run;

		if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			return 0;
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == CONSOLE_PORT) {
			bench_ring_append(console,
					  (uint8_t *)run + run->io.data_offset,
					  (size_t)run->io.size * run->io.count);
			continue;
		}
		fprintf(stderr, PROG ": unexpected exit %u\n",
			run->exit_reason);
		return -EIO;
	}
}

/* A VM with memory, a real-mode vCPU 0 and img at GPA 0. */
static int vm_setup(struct host *h, struct vm *vm,
		    const struct bench_image *img)
{
	int r = vm_create(h, vm);

	if (!r)
		r = vm_set_mem(vm, MEM_SIZE);
	if (!r)
		memcpy(vm->mem, img->data, img->len);
	if (!r)
		r = vcpu_create(h, vm);
	if (!r)
		r = vcpu_real_mode(vm);
	return r;
}

static int set_count(struct vm *vm, unsigned long n)
{
	struct kvm_regs regs;

	if (ioctl(vm->vcpu, KVM_GET_REGS, &regs) < 0)
		return -errno;
	regs.rcx = n;
	regs.rax = '.';
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* The count guest doing n outs to 0xE9: exits per second. */
static int bench_exits(struct host *h, const char *guests, unsigned long n)
{
	struct bench_image img;
	struct bench_ring console;
	struct vm vm;
	double t0 = 0, t1 = 0;
	int r;

	r = bench_load_image(guests, "count", 0, &img);
	if (r < 0)
		return r;
	r = bench_ring_init(&console, BENCH_CONSOLE_SIZE);
	if (r < 0)
		return r;
	r = vm_setup(h, &vm, &img);
	if (!r)
		r = set_count(&vm, n);
	if (!r) {
		t0 = bench_now();
		r = run_to_hlt(&vm, &console);
		t1 = bench_now();
	}
	if (!r && console.total != n)
		r = -EIO;
	if (!r)
		bench_result((double)n / (t1 - t0));
	vm_destroy(h, &vm);
	bench_ring_free(&console);
	return r;
}

/* One vCPU of the SMP benchmark: its own fd, kvm_run and thread, the
 * console shared under a lock, as kvmfs's vCPU threads share the VM's. */
struct smp_cpu {
	struct vm v;			/* the VM's, with this vCPU's fd and run */
	struct bench_ring *console;
	pthread_mutex_t *lock;
	pthread_barrier_t *go;
	pthread_t thread;
	int r;
};

static void *smp_thread(void *arg)
{
	struct smp_cpu *c = arg;

	pthread_barrier_wait(c->go);
	for (;;) {
		struct kvm_run *run = c->v.run;

		if (ioctl(c->v.vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			c->r = -errno;
			break;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == CONSOLE_PORT) {
			pthread_mutex_lock(c->lock);
			bench_ring_append(c->console,
					  (uint8_t *)run + run->io.data_offset,
					  (size_t)run->io.size * run->io.count);
			pthread_mutex_unlock(c->lock);
			continue;
		}
		c->r = -EIO;
		break;
	}
	return NULL;
}

/* K vCPUs of one VM, each on its own thread running the count guest's n
 * outs to 0xE9: exits/s of all of them together. */
static int bench_smp(struct host *h, const char *guests, unsigned k,
		     unsigned long n)
{
	struct smp_cpu cpus[8];
	struct bench_image img;
	struct bench_ring console;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_barrier_t go;
	struct vm vm;
	unsigned made = 0;
	double t0, t1;
	int r;

	r = bench_load_image(guests, "count", 0, &img);
	if (r < 0)
		return r;
	r = bench_ring_init(&console, BENCH_CONSOLE_SIZE);
	if (r < 0)
		return r;
	r = vm_create(h, &vm);
	if (!r)
		r = vm_set_mem(&vm, MEM_SIZE);
	if (!r)
		memcpy(vm.mem, img.data, img.len);
	pthread_barrier_init(&go, NULL, k + 1);
	for (unsigned i = 0; i < k && !r; i++, made++) {
		struct smp_cpu *c = &cpus[i];

		memset(c, 0, sizeof(*c));
		c->v = vm;
		c->v.vcpu = ioctl(vm.fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (c->v.vcpu < 0) {
			r = -errno;
			break;
		}
		c->v.run = mmap(NULL, h->run_size, PROT_READ | PROT_WRITE,
				MAP_SHARED, c->v.vcpu, 0);
		if (c->v.run == MAP_FAILED) {
			r = -errno;
			close(c->v.vcpu);
			break;
		}
		if (h->cpuid && ioctl(c->v.vcpu, KVM_SET_CPUID2, h->cpuid) < 0)
			r = -errno;
		c->v.run->kvm_valid_regs = KVM_SYNC_X86_REGS;
		if (!r)
			r = vcpu_real_mode(&c->v);
		if (!r)
			r = set_count(&c->v, n);
		c->console = &console;
		c->lock = &lock;
		c->go = &go;
	}
	if (!r) {
		for (unsigned i = 0; i < k; i++)
			pthread_create(&cpus[i].thread, NULL, smp_thread, &cpus[i]);
		pthread_barrier_wait(&go);
		t0 = bench_now();
		for (unsigned i = 0; i < k; i++) {
			pthread_join(cpus[i].thread, NULL);
			if (cpus[i].r < 0)
				r = cpus[i].r;
		}
		t1 = bench_now();
		if (!r && console.total != (uint64_t)n * k)
			r = -EIO;
		if (!r)
			bench_result((double)n * k / (t1 - t0));
	}
	for (unsigned i = 0; i < made; i++) {
		munmap(cpus[i].v.run, h->run_size);
		close(cpus[i].v.vcpu);
	}
	pthread_barrier_destroy(&go);
	vm_destroy(h, &vm);
	bench_ring_free(&console);
	return r;
}

/* n whole lifecycles of a 4 KiB guest (hello16 padded): µs each. */
static int bench_lifecycle(struct host *h, const char *guests, unsigned long n)
{
	static const char *const names[] = {
	    "create", "mem", "load", "vcpu+mode", "run", "destroy", NULL,
	};
	struct bench_phases ph;
	struct bench_image img;
	struct bench_ring console;
	double t0;
	int r;

	r = bench_load_image(guests, "hello16", BENCH_IMAGE_MAX, &img);
	if (r < 0)
		return r;
	r = bench_ring_init(&console, BENCH_CONSOLE_SIZE);
	if (r < 0)
		return r;
	t0 = bench_now();
	bench_phases_init(&ph, names);
	for (unsigned long i = 0; i < n && !r; i++) {
		struct vm vm;

		r = vm_create(h, &vm);
		bench_lap(&ph, 0);
		if (!r)
			r = vm_set_mem(&vm, MEM_SIZE);
		bench_lap(&ph, 1);
		if (!r)
			memcpy(vm.mem, img.data, img.len);
		bench_lap(&ph, 2);
		if (!r)
			r = vcpu_create(h, &vm);
		if (!r)
			r = vcpu_real_mode(&vm);
		bench_lap(&ph, 3);
		if (!r)
			r = run_to_hlt(&vm, &console);
		bench_lap(&ph, 4);
		vm_destroy(h, &vm);
		bench_lap(&ph, 5);
	}
	if (!r) {
		bench_result((bench_now() - t0) / (double)n * 1e6);
		bench_phases_print(&ph, PROG " lifecycle", n);
	}
	bench_ring_free(&console);
	return r;
}

/* KVM_GET_REGS on a stopped vCPU that has run: µs each. */
static int bench_regs(struct host *h, const char *guests, unsigned long n)
{
	struct bench_image img;
	struct bench_ring console;
	struct kvm_regs regs;
	struct vm vm;
	double t0;
	int r;

	r = bench_load_image(guests, "count", 0, &img);
	if (r < 0)
		return r;
	r = bench_ring_init(&console, BENCH_CONSOLE_SIZE);
	if (r < 0)
		return r;
	r = vm_setup(h, &vm, &img);
	if (!r)
		r = run_to_hlt(&vm, &console);
	if (!r) {
		t0 = bench_now();
		for (unsigned long i = 0; i < n && !r; i++)
			if (ioctl(vm.vcpu, KVM_GET_REGS, &regs) < 0)
				r = -errno;
		if (!r)
			bench_result((bench_now() - t0) / (double)n * 1e6);
	}
	vm_destroy(h, &vm);
	bench_ring_free(&console);
	return r;
}

/* n VMs created (as mkdir does), then all destroyed: ms in total. */
static int bench_vms(struct host *h, unsigned long n)
{
	static const char *const names[] = {"create", "destroy", NULL};
	struct bench_phases ph;
	struct vm *vms = calloc(n, sizeof(*vms));
	unsigned long made = 0;
	double t0;
	int r = 0;

	if (!vms)
		return -ENOMEM;
	t0 = bench_now();
	bench_phases_init(&ph, names);
	for (; made < n && !r; made++)
		r = vm_create(h, &vms[made]);
	bench_lap(&ph, 0);
	for (unsigned long i = 0; i < made; i++)
		vm_destroy(h, &vms[i]);
	bench_lap(&ph, 1);
	if (!r) {
		bench_result((bench_now() - t0) * 1e3);
		bench_phases_print(&ph, PROG " vms", n);
	}
	free(vms);
	return r;
}

/* n single steps of the spin guest, one KVM_RUN each: steps/s. */
static int bench_step(struct host *h, const char *guests, unsigned long n)
{
	static const char *const names[] = {"KVM_RUN", NULL};
	struct kvm_guest_debug dbg = {
	    .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP,
	};
	struct bench_phases ph;
	struct bench_image img;
	struct vm vm;
	uint64_t rips = 0;
	double t0;
	int r;

	r = bench_load_image(guests, "spin", 0, &img);
	if (r < 0)
		return r;
	r = vm_setup(h, &vm, &img);
	if (!r && ioctl(vm.vcpu, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		r = -errno;
	if (!r) {
		t0 = bench_now();
		bench_phases_init(&ph, names);
		for (unsigned long i = 0; i < n && !r; i++) {
			if (ioctl(vm.vcpu, KVM_RUN, 0) < 0)
				r = -errno;
			else if (vm.run->exit_reason != KVM_EXIT_DEBUG)
				r = -EIO;
			/* Where it stopped, as kvmfs's answer reports. */
			rips += vm.run->s.regs.regs.rip;
		}
		bench_lap(&ph, 0);
		if (!r) {
			bench_result((double)n / (bench_now() - t0));
			bench_phases_print(&ph, PROG " step", n);
		}
	}
	if (!rips)
		r = r ? r : -EIO;
	vm_destroy(h, &vm);
	return r;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " GUESTDIR COMMAND N\n"
		"  exits N      count guest doing N outs to 0xE9: exits/s\n"
		"  lifecycle N  N x (VM, 2 MiB, 4 KiB guest, real mode, run to "
		"hlt,\n"
		"               destroy): us each\n"
		"  regs N       N x KVM_GET_REGS: us each\n"
		"  vms N        create N VMs, then destroy them: ms in total\n"
		"  step N       N single steps of the spin guest: steps/s\n"
		"  smp2 N, smp4 N  2 or 4 vCPUs of one VM, a thread each, each\n"
		"               doing N outs to 0xE9: exits/s of all\n");
}

int main(int argc, char **argv)
{
	const char *guests, *cmd;
	unsigned long n;
	struct host h;
	int r;

	if (argc != 4 || bench_parse_count(argv[3], &n) < 0) {
		usage();
		return 2;
	}
	guests = argv[1];
	cmd = argv[2];
	r = host_open(&h);
	if (r < 0)
		return bench_fail(PROG, "/dev/kvm", r);
	if (!strcmp(cmd, "exits"))
		r = bench_exits(&h, guests, n);
	else if (!strcmp(cmd, "lifecycle"))
		r = bench_lifecycle(&h, guests, n);
	else if (!strcmp(cmd, "regs"))
		r = bench_regs(&h, guests, n);
	else if (!strcmp(cmd, "vms"))
		r = bench_vms(&h, n);
	else if (!strcmp(cmd, "step"))
		r = bench_step(&h, guests, n);
	else if (!strcmp(cmd, "smp2") || !strcmp(cmd, "smp4"))
		r = bench_smp(&h, guests, (unsigned)(cmd[3] - '0'), n);
	else {
		usage();
		return 2;
	}
	free(h.cpuid);
	close(h.kvm);
	return r < 0 ? bench_fail(PROG, cmd, r) : 0;
}
