/* The vCPU object and its thread.  The thread creates the vCPU and issues
 * every ioctl on it; other threads queue calls (vcpu_call) or start runs
 * (vcpu_run.c), during which the thread loops on KVM_RUN; a kick
 * (kick.c) gets it out. */
#include "lib/text.h"
#include "vcpu/vcpu_priv.h"
#include "x86/cpuid.h"

#include "lib/log.h"
#include "vcpu/sandbox.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

const char *kvmfs_vcpu_state_name(enum kvmfs_vcpu_state s)
{
	static const char *const names[] = {
		[KVMFS_READY] = "ready",     [KVMFS_RUNNING] = "running",
		[KVMFS_STOPPED] = "stopped", [KVMFS_HALTED] = "halted",
		[KVMFS_SHUTDOWN] = "shutdown", [KVMFS_FAILED] = "failed",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* Run fn(v, arg) on the vCPU thread and wait for its result. */
static int vcpu_call(struct kvmfs_vcpu *v, int (*fn)(struct kvmfs_vcpu *, void *),
		     void *arg)
{
	struct vcpu_call c = { .fn = fn, .arg = arg };

	pthread_mutex_lock(&v->lock);
	if (v->quit) {
		pthread_mutex_unlock(&v->lock);
		return -ENOENT;
	}
	*v->calls_tail = &c;
	v->calls_tail = &c.next;
	pthread_cond_signal(&v->wake);
	kvmfs_vcpu_kick(v);
	while (!c.done)
		pthread_cond_wait(&v->done, &v->lock);
	pthread_mutex_unlock(&v->lock);
	return c.result;
}

static int ioctl_err(int fd, unsigned long req, void *arg)
{
	if (ioctl(fd, req, arg) < 0)
		return -errno;
	return 0;
}

static int vcpu_setup(struct kvmfs_vcpu *v, char *err, size_t errlen)
{
	struct sigevent sev;
	int r;

	v->fd = ioctl(v->cfg.vm_fd, KVM_CREATE_VCPU, (unsigned long)v->cfg.id);
	if (v->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "KVM_CREATE_VCPU: %s", strerror(-r));
		return r;
	}
	r = ioctl(v->cfg.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0) {
		r = r < 0 ? -errno : -EINVAL;
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(-r));
		return r;
	}
	v->run_size = (size_t)r;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		r = -errno;
		v->run = NULL;
		snprintf(err, errlen, "mmap of kvm_run: %s", strerror(-r));
		return r;
	}
	if (v->cpuid) {
		r = ioctl_err(v->fd, KVM_SET_CPUID2, v->cpuid);
		if (r < 0) {
			snprintf(err, errlen, "KVM_SET_CPUID2: %s", strerror(-r));
			return r;
		}
	}
	r = ioctl_err(v->fd, KVM_GET_REGS, &v->reset_regs);
	if (!r)
		r = ioctl_err(v->fd, KVM_GET_SREGS, &v->reset_sregs);
	if (r < 0) {
		snprintf(err, errlen, "reading initial registers: %s",
			 strerror(-r));
		return r;
	}
	v->run->s.regs.regs = v->reset_regs;
	/* After every exit KVM stores the registers in kvm_run: reading
	 * regs of a stopped vCPU costs no ioctl. */
	v->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = KICK_SIGNAL;
	sev._sigev_un._tid = v->tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &v->timer) == 0)
		v->have_timer = true;
	return 0;
}

static void *vcpu_thread(void *arg)
{
	struct kvmfs_vcpu *v = arg;
	char err[KVMFS_REASON_LEN] = "";
	int r;

	v->tid = (pid_t)syscall(SYS_gettid);
	/* For top -H, gdb and the tests. */
	pthread_setname_np(pthread_self(), "kvmfs-vcpu");
	/* A busy guest must not starve the FUSE workers that answer every
	 * other file: vCPU threads run at a lower priority. */
	if (setpriority(PRIO_PROCESS, (id_t)v->tid, KVMFS_VCPU_NICE) < 0)
		kvmfs_debug("vcpu: setpriority: %s", strerror(errno));
	r = vcpu_setup(v, err, sizeof(err));
	if (r == 0 && v->cfg.sandbox)
		r = kvmfs_sandbox_vcpu(v->fd, v->cfg.vm_fd, err, sizeof(err));
	kvmfs_vcpu_kick_bind(v->run);
	pthread_mutex_lock(&v->lock);
	v->ready = true;
	v->create_err = r;
	if (r < 0)
		v->create_msg = strdup(err);
	pthread_cond_broadcast(&v->done);
	if (r < 0) {
		pthread_mutex_unlock(&v->lock);
		return NULL;
	}
	for (;;) {
		struct vcpu_call *c;

		while (!v->quit && !v->calls && !v->running)
			pthread_cond_wait(&v->wake, &v->lock);
		if (v->quit)
			break;
		c = v->calls;
		if (c) {
			v->calls = c->next;
			if (!v->calls)
				v->calls_tail = &v->calls;
			pthread_mutex_unlock(&v->lock);
			c->result = c->fn(v, c->arg);
			pthread_mutex_lock(&v->lock);
			c->done = true;
			pthread_cond_broadcast(&v->done);
			continue;
		}
		kvmfs_vcpu_run_once(v);
	}
	/* Leaving: fail every call still queued, hand waiters -ENOENT. */
	while (v->calls) {
		struct vcpu_call *c = v->calls;

		v->calls = c->next;
		c->result = -ENOENT;
		c->done = true;
	}
	v->calls_tail = &v->calls;
	pthread_cond_broadcast(&v->done);
	while (v->waiters) {
		struct run_waiter *w = v->waiters;

		v->waiters = w->next;
		pthread_mutex_unlock(&v->lock);
		w->done(w->cookie, NULL, -ENOENT);
		free(w);
		pthread_mutex_lock(&v->lock);
	}
	v->running = false;
	pthread_mutex_unlock(&v->lock);
	kvmfs_vcpu_kick_bind(NULL);
	return NULL;
}

int kvmfs_vcpu_create(const struct kvmfs_vcpu_config *cfg,
		      struct kvmfs_vcpu **out, char *err, size_t errlen)
{
	struct kvmfs_vcpu *v;
	sigset_t all, old;
	int r;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->cfg = *cfg;
	v->fd = -1;
	v->calls_tail = &v->calls;
	v->steps = g_string_new(NULL);
	if (cfg->cpuid) {
		/* The VM's table with this vCPU's own APIC ID in it. */
		v->cpuid = g_memdup2(cfg->cpuid, sizeof(*cfg->cpuid) +
					 cfg->cpuid->nent * sizeof(cfg->cpuid->entries[0]));
		kvmfs_cpuid_set_apic_id(v->cpuid, cfg->id);
	}
	snprintf(v->stats.last, sizeof(v->stats.last), "none");
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->wake, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v->done, &ca);
	pthread_condattr_destroy(&ca);

	/* The thread takes only the kick signal; SIGTERM and friends stay
	 * with the FUSE loop. */
	sigfillset(&all);
	sigdelset(&all, KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		snprintf(err, errlen, "pthread_create: %s", strerror(r));
		g_free(v->cpuid);
		g_string_free(v->steps, TRUE);
		free(v);
		return -r;
	}
	pthread_mutex_lock(&v->lock);
	while (!v->ready)
		pthread_cond_wait(&v->done, &v->lock);
	r = v->create_err;
	pthread_mutex_unlock(&v->lock);
	g_free(v->cpuid);
	v->cpuid = NULL;
	if (r < 0) {
		snprintf(err, errlen, "%s", v->create_msg ? v->create_msg : "?");
		pthread_join(v->thread, NULL);
		v->thread = 0;
		kvmfs_vcpu_destroy(v);
		return r;
	}
	*out = v;
	return 0;
}

void kvmfs_vcpu_destroy(struct kvmfs_vcpu *v)
{
	if (!v)
		return;
	if (v->thread) {
		pthread_mutex_lock(&v->lock);
		v->quit = true;
		pthread_cond_signal(&v->wake);
		kvmfs_vcpu_kick(v);
		pthread_mutex_unlock(&v->lock);
		pthread_join(v->thread, NULL);
	}
	if (v->have_timer)
		timer_delete(v->timer);
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v->create_msg);
	g_string_free(v->steps, TRUE);
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->wake);
	pthread_cond_destroy(&v->done);
	free(v);
}

static int call_get_regs(struct kvmfs_vcpu *v, void *arg)
{
	return ioctl_err(v->fd, KVM_GET_REGS, arg);
}

int kvmfs_vcpu_get_regs(struct kvmfs_vcpu *v, struct kvm_regs *r)
{
	pthread_mutex_lock(&v->lock);
	if (!v->running) {
		/* kvm_run holds them: KVM stores them there after every
		 * exit (sync_regs) and every set writes them there too. */
		*r = v->run->s.regs.regs;
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	pthread_mutex_unlock(&v->lock);
	return vcpu_call(v, call_get_regs, r);
}

static int call_get_sregs(struct kvmfs_vcpu *v, void *arg)
{
	return ioctl_err(v->fd, KVM_GET_SREGS, arg);
}

int kvmfs_vcpu_get_sregs(struct kvmfs_vcpu *v, struct kvm_sregs *s)
{
	return vcpu_call(v, call_get_sregs, s);
}

struct state_arg {
	const struct kvm_sregs *sregs;
	const struct kvm_regs *regs;
	struct kvm_sregs *back;		/* read back after setting */
};

/* Refuses while running; runs on the vCPU thread, which checks running
 * under the lock, so a run cannot start in between. */
/* -EBUSY while a run is on; on the vCPU thread, so none can start. */
static int refuse_running(struct kvmfs_vcpu *v)
{
	int r = 0;

	pthread_mutex_lock(&v->lock);
	if (v->running)
		r = -EBUSY;
	pthread_mutex_unlock(&v->lock);
	return r;
}

static int call_set_state(struct kvmfs_vcpu *v, void *arg)
{
	struct state_arg *a = arg;
	int r = refuse_running(v);

	if (r)
		return r;
	if (a->sregs) {
		r = ioctl_err(v->fd, KVM_SET_SREGS, (void *)a->sregs);
		if (r)
			return r;
	}
	if (a->regs) {
		r = ioctl_err(v->fd, KVM_SET_REGS, (void *)a->regs);
		if (r)
			return r;
		pthread_mutex_lock(&v->lock);
		v->run->s.regs.regs = *a->regs;
		pthread_mutex_unlock(&v->lock);
	}
	if (a->back)
		return ioctl_err(v->fd, KVM_GET_SREGS, a->back);
	return 0;
}

struct state_ioctl_arg {
	unsigned long req;
	void *arg;
	bool set;
};

static int call_state_ioctl(struct kvmfs_vcpu *v, void *arg)
{
	struct state_ioctl_arg *a = arg;
	int r = a->set ? refuse_running(v) : 0;

	if (r)
		return r;
	r = ioctl(v->fd, a->req, a->arg);
	return r < 0 ? -errno : r;
}

int kvmfs_vcpu_state_ioctl(struct kvmfs_vcpu *v, unsigned long req, void *arg,
			   bool set)
{
	struct state_ioctl_arg a = { req, arg, set };

	return vcpu_call(v, call_state_ioctl, &a);
}

int kvmfs_vcpu_set_regs(struct kvmfs_vcpu *v, const struct kvm_regs *r)
{
	struct state_arg a = { .regs = r };

	return vcpu_call(v, call_set_state, &a);
}

int kvmfs_vcpu_set_sregs(struct kvmfs_vcpu *v, const struct kvm_sregs *s)
{
	struct state_arg a = { .sregs = s };

	return vcpu_call(v, call_set_state, &a);
}

int kvmfs_vcpu_set_state(struct kvmfs_vcpu *v, const struct kvm_sregs *s,
			 const struct kvm_regs *r, struct kvm_sregs *back)
{
	struct state_arg a = { .sregs = s, .regs = r, .back = back };

	return vcpu_call(v, call_set_state, &a);
}

struct translate_arg {
	struct kvm_sregs *sregs;
	struct kvm_translation *t;
	int *err;
	size_t n;
};

static int call_translate(struct kvmfs_vcpu *v, void *arg)
{
	struct translate_arg *a = arg;
	int r = ioctl_err(v->fd, KVM_GET_SREGS, a->sregs);

	if (r)
		return r;
	for (size_t i = 0; i < a->n; i++)
		a->err[i] = ioctl_err(v->fd, KVM_TRANSLATE, &a->t[i]);
	return 0;
}

int kvmfs_vcpu_translate(struct kvmfs_vcpu *v, struct kvm_sregs *sregs,
			 struct kvm_translation *t, int *err, size_t n)
{
	struct translate_arg a = { sregs, t, err, n };

	return vcpu_call(v, call_translate, &a);
}

static int call_reset(struct kvmfs_vcpu *v, void *arg)
{
	struct state_arg a = { .sregs = &v->reset_sregs, .regs = &v->reset_regs };
	int r;

	(void)arg;
	if (v->debug_on) {
		r = kvmfs_vcpu_set_guest_debug(v, false);
		if (r)
			return r;
	}
	r = call_set_state(v, &a);
	if (r)
		return r;
	pthread_mutex_lock(&v->lock);
	v->stats.state = KVMFS_READY;
	v->step_armed = 0;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int kvmfs_vcpu_reset(struct kvmfs_vcpu *v)
{
	int r;

	/* A run started between the stop and the reset makes it EBUSY. */
	kvmfs_vcpu_stop(v);
	r = vcpu_call(v, call_reset, NULL);
	return r;
}

void kvmfs_vcpu_stats(struct kvmfs_vcpu *v, struct kvmfs_vcpu_stats *st)
{
	pthread_mutex_lock(&v->lock);
	*st = v->stats;
	st->step_armed = v->step_armed;
	pthread_mutex_unlock(&v->lock);
}

bool kvmfs_vcpu_running(struct kvmfs_vcpu *v)
{
	bool r;

	pthread_mutex_lock(&v->lock);
	r = v->running;
	pthread_mutex_unlock(&v->lock);
	return r;
}
