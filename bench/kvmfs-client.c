/* The kvmfs side of each benchmark: the same work as direct.c, done
 * through a mounted kvmfs with open, read, write, pread, pwrite, mkdir and
 * rmdir from C, so that what is measured is the filesystem, not fork and
 * exec of shell tools.  Each command prints one number; see usage().
 * The VMs it makes are named bench-* and removed before it exits. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG	 "kvmfs-client"
#define TEXT_MAX 8192

static const char *mnt;
static char vm_name[32];

static void vm_path(char *buf, size_t cap, const char *name, const char *file)
{
	if (file)
		snprintf(buf, cap, "%s/vms/%s/%s", mnt, name, file);
	else
		snprintf(buf, cap, "%s/vms/%s", mnt, name);
}

/* open, one write of the whole buffer, close: what `echo > file` does. */
static int put(const char *name, const char *file, const void *data, size_t len)
{
	char path[4096];
	ssize_t n;
	int fd, r = 0;

	vm_path(path, sizeof(path), name, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

static int put_text(const char *name, const char *file, const char *text)
{
	return put(name, file, text, strlen(text));
}

/* open, one read, close; the text is NUL-terminated. */
static int get(const char *name, const char *file, char *buf, size_t cap)
{
	char path[4096];
	ssize_t n;
	int fd, r = 0;

	vm_path(path, sizeof(path), name, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0) {
		r = -errno;
		n = 0;
	}
	buf[n] = 0;
	close(fd);
	return r;
}

static int make_vm(const char *name)
{
	char path[4096];

	vm_path(path, sizeof(path), name, NULL);
	if (mkdir(path, 0700) < 0)
		return -errno;
	return 0;
}

static int remove_vm(const char *name)
{
	char path[4096];

	vm_path(path, sizeof(path), name, NULL);
	if (rmdir(path) < 0)
		return -errno;
	return 0;
}

/* A VM with 2 MiB, img at GPA 0 and vCPU 0 in real mode. */
static int setup_vm(const char *name, const struct bench_image *img)
{
	int r = make_vm(name);

	if (!r)
		r = put_text(name, "ctl", "mem 2M\n");
	if (!r)
		r = put(name, "memory", img->data, img->len);
	if (!r)
		r = put_text(name, "ctl", "mode real\n");
	return r;
}

static int expect_answer(const char *answer, const char *reason)
{
	if (strncmp(answer, reason, strlen(reason))) {
		fprintf(stderr, PROG ": run answered '%s', expected %s\n",
			answer, reason);
		return -EIO;
	}
	return 0;
}

/* The value of "NAME value" in status. */
static int status_field(const char *name, const char *field,
			unsigned long long *out)
{
	char text[TEXT_MAX], key[64];
	const char *p;
	int r = get(name, "status", text, sizeof(text));

	if (r < 0)
		return r;
	snprintf(key, sizeof(key), "\n%s ", field);
	p = strstr(text, key);
	if (!p)
		return -ENOENT;
	*out = strtoull(p + strlen(key), NULL, 0);
	return 0;
}

static int bench_exits(const char *guests, unsigned long n)
{
	struct bench_image img;
	unsigned long long bytes = 0;
	char regs[128], answer[256];
	double t0 = 0, t1 = 0;
	int r;

	r = bench_load_image(guests, "count", 0, &img);
	if (r < 0)
		return r;
	r = setup_vm(vm_name, &img);
	snprintf(regs, sizeof(regs), "rcx %lu\nrax 0x2e\n", n);
	if (!r)
		r = put_text(vm_name, "regs", regs);
	if (!r) {
		t0 = bench_now();
		r = get(vm_name, "run", answer, sizeof(answer));
		t1 = bench_now();
	}
	if (!r)
		r = expect_answer(answer, "hlt");
	if (!r)
		r = status_field(vm_name, "console_bytes", &bytes);
	if (!r && bytes != n) {
		fprintf(stderr, PROG ": console has %llu bytes, expected %lu\n",
			bytes, n);
		r = -EIO;
	}
	if (!r)
		bench_result((double)n / (t1 - t0));
	remove_vm(vm_name);
	return r;
}

/* One vCPU's run read in the SMP benchmark, on its own thread. */
struct smp_reader {
	char file[32];
	pthread_barrier_t *go;
	pthread_t thread;
	char answer[256];
	int r;
};

static void *smp_read(void *arg)
{
	struct smp_reader *s = arg;

	pthread_barrier_wait(s->go);
	s->r = get(vm_name, s->file, s->answer, sizeof(s->answer));
	return NULL;
}

/* K vCPUs (ctl cpus K) each running the count guest's n outs to 0xE9,
 * each started and waited for by reading its cpus/N/run on its own
 * thread: exits/s of all of them together. */
static int bench_smp(const char *guests, unsigned k, unsigned long n)
{
	struct smp_reader rd[8];
	struct bench_image img;
	unsigned long long bytes = 0;
	pthread_barrier_t go;
	char ctl[32], regs[128], file[32];
	double t0 = 0, t1 = 0;
	int r;

	r = bench_load_image(guests, "count", 0, &img);
	if (r < 0)
		return r;
	r = setup_vm(vm_name, &img);
	snprintf(ctl, sizeof(ctl), "cpus %u\n", k);
	if (!r)
		r = put_text(vm_name, "ctl", ctl);
	/* vCPU 0 is in `mode real`; the others start at their reset state,
	 * real mode too, moved to the guest at 0. */
	for (unsigned i = 0; i < k && !r; i++) {
		snprintf(regs, sizeof(regs), "rcx %lu\nrax 0x2e\n%s", n,
			 i ? "rip 0\n" : "");
		if (i) {
			snprintf(file, sizeof(file), "cpus/%u/sregs", i);
			r = put_text(vm_name, file, "cs.base 0\ncs.selector 0\n");
		}
		snprintf(file, sizeof(file), "cpus/%u/regs", i);
		if (!r)
			r = put_text(vm_name, file, regs);
	}
	if (r) {
		remove_vm(vm_name);
		return r;
	}
	pthread_barrier_init(&go, NULL, k + 1);
	for (unsigned i = 0; i < k; i++) {
		snprintf(rd[i].file, sizeof(rd[i].file), "cpus/%u/run", i);
		rd[i].go = &go;
		pthread_create(&rd[i].thread, NULL, smp_read, &rd[i]);
	}
	pthread_barrier_wait(&go);
	t0 = bench_now();
	for (unsigned i = 0; i < k; i++) {
		pthread_join(rd[i].thread, NULL);
		if (!r)
			r = rd[i].r;
		if (!r)
			r = expect_answer(rd[i].answer, "hlt");
	}
	t1 = bench_now();
	pthread_barrier_destroy(&go);
	if (!r)
		r = status_field(vm_name, "console_bytes", &bytes);
	if (!r && bytes != (unsigned long long)n * k) {
		fprintf(stderr, PROG ": console has %llu bytes, expected %lu\n",
			bytes, n * k);
		r = -EIO;
	}
	if (!r)
		bench_result((double)n * k / (t1 - t0));
	remove_vm(vm_name);
	return r;
}

static int bench_lifecycle(const char *guests, unsigned long n)
{
	static const char *const names[] = {
	    "mkdir", "mem", "load", "mode", "run", "rmdir", NULL,
	};
	struct bench_phases ph;
	struct bench_image img;
	char answer[256];
	double t0;
	int r;

	r = bench_load_image(guests, "hello16", BENCH_IMAGE_MAX, &img);
	if (r < 0)
		return r;
	t0 = bench_now();
	bench_phases_init(&ph, names);
	for (unsigned long i = 0; i < n && !r; i++) {
		r = make_vm(vm_name);
		bench_lap(&ph, 0);
		if (!r)
			r = put_text(vm_name, "ctl", "mem 2M\n");
		bench_lap(&ph, 1);
		if (!r)
			r = put(vm_name, "memory", img.data, img.len);
		bench_lap(&ph, 2);
		if (!r)
			r = put_text(vm_name, "ctl", "mode real\n");
		bench_lap(&ph, 3);
		if (!r)
			r = get(vm_name, "run", answer, sizeof(answer));
		bench_lap(&ph, 4);
		if (!r)
			r = expect_answer(answer, "hlt");
		if (!r)
			r = remove_vm(vm_name);
		bench_lap(&ph, 5);
	}
	if (!r) {
		bench_result((bench_now() - t0) / (double)n * 1e6);
		bench_phases_print(&ph, PROG " lifecycle", n);
	} else {
		remove_vm(vm_name);
	}
	return r;
}

static int bench_regs(const char *guests, unsigned long n)
{
	struct bench_image img;
	char text[TEXT_MAX];
	double t0;
	int r;

	r = bench_load_image(guests, "count", 0, &img);
	if (r < 0)
		return r;
	/* rcx is 0 after `mode real`: the run halts at once, and the
	 * stopped vCPU's registers come from sync_regs. */
	r = setup_vm(vm_name, &img);
	if (!r)
		r = get(vm_name, "run", text, sizeof(text));
	if (!r)
		r = expect_answer(text, "hlt");
	if (!r) {
		t0 = bench_now();
		for (unsigned long i = 0; i < n && !r; i++)
			r = get(vm_name, "regs", text, sizeof(text));
		if (!r && !strstr(text, "\nrip 0x"))
			r = -EIO;
		if (!r)
			bench_result((bench_now() - t0) / (double)n * 1e6);
	}
	remove_vm(vm_name);
	return r;
}

static int bench_vms(unsigned long n)
{
	static const char *const names[] = {"mkdir", "rmdir", NULL};
	struct bench_phases ph;
	unsigned long made = 0;
	char name[64];
	double t0;
	int r = 0;

	t0 = bench_now();
	bench_phases_init(&ph, names);
	for (; made < n && !r; made++) {
		snprintf(name, sizeof(name), "%s-%lu", vm_name, made);
		r = make_vm(name);
	}
	bench_lap(&ph, 0);
	for (unsigned long i = 0; i < made; i++) {
		int e;

		snprintf(name, sizeof(name), "%s-%lu", vm_name, i);
		e = remove_vm(name);
		if (!r && e != -ENOENT)
			r = e;
	}
	bench_lap(&ph, 1);
	if (!r) {
		bench_result((bench_now() - t0) * 1e3);
		bench_phases_print(&ph, PROG " vms", n);
	}
	return r;
}

/* n single steps in batches of b: `step B` to ctl, then one read of run
 * that executes B instructions and answers B `debug ...` lines (counted
 * and checked), n / b times: steps/s.  Phases are per batch.  as_step (the
 * `step` command, b = 1): each batch is a plain `step` and one answer,
 * one instruction per request pair, reported as `step`. */
static int bench_stepb(const char *guests, unsigned long n, unsigned long b,
		       bool as_step)
{
	static const char *const names[] = {"step>ctl", "run-read", NULL};
	struct bench_phases ph;
	struct bench_image img;
	char path[4096], cmd[32], *answer = NULL;
	size_t cap;
	unsigned long done = 0, batches = 0;
	int ctl = -1, run = -1;
	double t0;
	int r;

	if (b < 1 || b > 4096)
		return -EINVAL;
	/* A line is about 70 bytes; room for every line of a batch. */
	cap = b * 128 + 256;
	answer = malloc(cap);
	if (!answer)
		return -ENOMEM;
	r = bench_load_image(guests, "spin", 0, &img);
	if (r < 0)
		goto out;
	r = setup_vm(vm_name, &img);
	if (r < 0)
		goto out;
	vm_path(path, sizeof(path), vm_name, "ctl");
	ctl = open(path, O_WRONLY | O_CLOEXEC);
	vm_path(path, sizeof(path), vm_name, "run");
	run = open(path, O_RDONLY | O_CLOEXEC);
	if (ctl < 0 || run < 0) {
		r = -errno;
		goto out;
	}
	t0 = bench_now();
	bench_phases_init(&ph, names);
	while (done < n) {
		unsigned long k = n - done < b ? n - done : b, lines = 0;
		int len = as_step ? snprintf(cmd, sizeof(cmd), "step\n")
				 : snprintf(cmd, sizeof(cmd), "step %lu\n", k);
		ssize_t got;

		if (pwrite(ctl, cmd, (size_t)len, 0) != len) {
			r = -errno;
			goto out;
		}
		bench_lap(&ph, 0);
		got = pread(run, answer, cap - 1, 0);
		bench_lap(&ph, 1);
		if (got < 0) {
			r = -errno;
			goto out;
		}
		answer[got] = 0;
		for (char *p = answer; *p; lines++) {
			char *nl = strchr(p, '\n');

			r = expect_answer(p, "debug");
			if (r < 0)
				goto out;
			if (!nl)
				break;
			p = nl + 1;
		}
		if (lines != k) {
			fprintf(stderr, PROG ": step %lu answered %lu lines\n",
				k, lines);
			r = -EIO;
			goto out;
		}
		done += k;
		batches++;
	}
	bench_result((double)n / (bench_now() - t0));
	if (as_step)
		snprintf(cmd, sizeof(cmd), PROG " step");
	else
		snprintf(cmd, sizeof(cmd), PROG " stepb %lu", b);
	bench_phases_print(&ph, cmd, batches);
out:
	if (ctl >= 0)
		close(ctl);
	if (run >= 0)
		close(run);
	remove_vm(vm_name);
	free(answer);
	return r;
}

/* The floor, on bench/nullfs's file f: n getattr round trips (stat), or
 * n open+read+close: us each. */
static int bench_null(unsigned long n, bool read_it)
{
	char path[4096], buf[TEXT_MAX];
	struct stat st;
	double t0;

	snprintf(path, sizeof(path), "%s/f", mnt);
	t0 = bench_now();
	for (unsigned long i = 0; i < n; i++) {
		int fd;

		if (!read_it) {
			if (stat(path, &st) < 0)
				return -errno;
			continue;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (read(fd, buf, sizeof(buf)) < 0) {
			close(fd);
			return -errno;
		}
		close(fd);
	}
	bench_result((bench_now() - t0) / (double)n * 1e6);
	return 0;
}

/* Resident KiB of the server: all of it, and the part that is its own,
 * without the mappings whose pages belong to KVM (kvm_run of each vCPU,
 * anon_inode:kvm-vcpu) or to the guests (the memfds, /memfd:kvmfs:*). */
static int server_rss(long pid, long *total, long *own)
{
	char path[64], line[1024];
	bool kvm_owned = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	*total = *own = 0;
	while (fgets(line, sizeof(line), f)) {
		long kb;

		if ((line[0] >= '0' && line[0] <= '9') ||
		    (line[0] >= 'a' && line[0] <= 'f')) {
			kvm_owned = strstr(line, "anon_inode:kvm") ||
				    strstr(line, "/memfd:kvmfs:");
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			*total += kb;
			if (!kvm_owned)
				*own += kb;
		}
	}
	fclose(f);
	return 0;
}

/* n idle VMs of 2 MiB (untouched): KiB of the server's own RSS each.
 * With vcpu, vCPU 0 exists too (its thread waits, nothing ran). */
/* CPUS: how many vCPUs each idle VM gets (ctl cpus, all made at once);
 * the result is per vCPU then. */
static int bench_rss(unsigned long n, long pid, bool vcpu, unsigned cpus)
{
	long total0, own0, total1, own1;
	unsigned long made = 0;
	char name[64], text[TEXT_MAX];
	int r = 0;

	/* Warm up: worker threads and allocator pools the first VMs need
	 * stay after them and are not a per-VM cost. */
	for (int i = 0; i < 8 && !r; i++) {
		snprintf(name, sizeof(name), "%s-warm%d", vm_name, i);
		r = make_vm(name);
		if (!r)
			r = put_text(name, "ctl", cpus > 1 ? "mem 2M\ncpus 4\n" : "mem 2M\n");
		if (!r && vcpu)
			r = get(name, "regs", text, sizeof(text));
		remove_vm(name);
	}
	if (!r)
		r = server_rss(pid, &total0, &own0);
	for (; made < n && !r; made++) {
		snprintf(name, sizeof(name), "%s-%lu", vm_name, made);
		r = make_vm(name);
		if (!r)
			r = put_text(name, "ctl", cpus > 1 ? "mem 2M\ncpus 4\n" : "mem 2M\n");
		if (!r && vcpu)
			r = get(name, "regs", text, sizeof(text));
	}
	if (!r)
		r = server_rss(pid, &total1, &own1);
	if (!r) {
		fprintf(stderr,
			PROG ": %lu VMs: server RSS %+ld KiB, of it "
			     "KVM's kvm_run and guest memory %+ld KiB\n",
			n, total1 - total0, (total1 - total0) - (own1 - own0));
		bench_result((double)(own1 - own0) / (double)(n * cpus));
	}
	for (unsigned long i = 0; i < made; i++) {
		snprintf(name, sizeof(name), "%s-%lu", vm_name, i);
		remove_vm(name);
	}
	return r;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: " PROG " MOUNT GUESTDIR COMMAND N [SERVER_PID | B]\n"
	    "  exits N      count guest doing N outs to 0xE9: exits/s\n"
	    "  lifecycle N  N x (mkdir, mem 2M, 4 KiB guest, mode real, run,\n"
	    "               rmdir): us each\n"
	    "  regs N       N x open+read+close of regs: us each\n"
	    "  vms N        N mkdir, then N rmdir: ms in total\n"
	    "  step N       N x (step > ctl, read run): steps/s\n"
	    "  stepb N B    N single steps, B per run read (step B > ctl,\n"
	    "               read run, B lines checked): steps/s\n"
	    "  rss N PID    N idle VMs of 2 MiB: KiB of server RSS each\n"
	    "  rss-vcpu N PID  the same with vCPU 0 created\n"
	    "  rss-cpus N PID  N idle VMs of 2 MiB with cpus 4: KiB each vCPU\n"
	    "  smp2 N, smp4 N  2 or 4 vCPUs (cpus K), each doing N outs to\n"
	    "               0xE9, each run read on its own thread: exits/s\n"
	    "  null-stat N  (MOUNT is bench/nullfs) N x stat of f: us each\n"
	    "  null-read N  (MOUNT is bench/nullfs) N x open+read+close of "
	    "f\n");
}

int main(int argc, char **argv)
{
	const char *guests, *cmd;
	unsigned long n, pid = 0; /* the optional argument: PID, or B */
	int r;

	if (argc < 5 || argc > 6 || bench_parse_count(argv[4], &n) < 0 ||
	    (argc == 6 && bench_parse_count(argv[5], &pid) < 0)) {
		usage();
		return 2;
	}
	mnt = argv[1];
	guests = argv[2];
	cmd = argv[3];
	snprintf(vm_name, sizeof(vm_name), "bench-%ld", (long)getpid());
	if (!strcmp(cmd, "exits"))
		r = bench_exits(guests, n);
	else if (!strcmp(cmd, "lifecycle"))
		r = bench_lifecycle(guests, n);
	else if (!strcmp(cmd, "regs"))
		r = bench_regs(guests, n);
	else if (!strcmp(cmd, "vms"))
		r = bench_vms(n);
	else if (!strcmp(cmd, "step"))
		r = bench_stepb(guests, n, 1, true);
	else if (!strcmp(cmd, "stepb") && pid)
		r = bench_stepb(guests, n, pid, false);
	else if (!strcmp(cmd, "null-stat"))
		r = bench_null(n, false);
	else if (!strcmp(cmd, "null-read"))
		r = bench_null(n, true);
	else if (!strcmp(cmd, "rss") && pid)
		r = bench_rss(n, (long)pid, false, 1);
	else if (!strcmp(cmd, "rss-vcpu") && pid)
		r = bench_rss(n, (long)pid, true, 1);
	else if (!strcmp(cmd, "rss-cpus") && pid)
		r = bench_rss(n, (long)pid, true, 4);
	else if (!strcmp(cmd, "smp2") || !strcmp(cmd, "smp4"))
		r = bench_smp(guests, (unsigned)(cmd[3] - '0'), n);
	else {
		usage();
		return 2;
	}
	return r < 0 ? bench_fail(PROG, cmd, r) : 0;
}
