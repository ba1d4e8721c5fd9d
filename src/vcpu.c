/* The vCPU thread.  It creates the vCPU and issues every ioctl on it;
 * other threads queue calls (vcpu_call) or start runs.  While a run is in
 * progress the thread loops on KVM_RUN, handles console output itself and
 * stops on anything else.  A kick (SIGUSR1 plus kvm_run->immediate_exit,
 * set before the signal under the lock) gets it out of KVM_RUN without a
 * lost wake-up: a kick that lands just before KVM_RUN makes it return at
 * once. */
#include "vcpu.h"

#include "exitfmt.h"
#include "log.h"

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

#define KICK_SIGNAL SIGUSR1
#define KVMFS_VCPU_NICE 19

struct vcpu_call {
	int (*fn)(struct kvmfs_vcpu *v, void *arg);
	void *arg;
	int result;
	bool done;
	struct vcpu_call *next;
};

struct run_waiter {
	kvmfs_run_done_fn done;
	void *cookie;
	struct run_waiter *next;
};

struct kvmfs_vcpu {
	struct kvmfs_vcpu_config cfg;
	int fd;
	struct kvm_run *run;
	size_t run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	pthread_t thread;
	pid_t tid;
	timer_t timer;
	bool have_timer;

	pthread_mutex_t lock;
	pthread_cond_t wake;		/* to the vCPU thread */
	pthread_cond_t done;		/* from it: calls finished, ready */
	struct vcpu_call *calls, **calls_tail;
	struct run_waiter *waiters;
	bool ready;
	int create_err;
	char *create_msg;
	bool quit;
	bool running;
	uint64_t run_gen;		/* counts runs started */
	bool in_guest;			/* between unlock and KVM_RUN's return */
	const char *stop_answer;	/* a stop was asked for, with this answer */
	enum kvmfs_vcpu_state stop_state;
	unsigned step_armed;		/* for the next run */
	unsigned steps_left;		/* in this run; 0: not stepping */
	bool step_this_run, debug_on;
	GString *steps;			/* answers of the steps so far */
	unsigned timeout_ms;
	struct timespec deadline;

	struct kvm_regs regs;		/* cache, valid when not running */
	struct kvm_regs reset_regs;
	struct kvm_sregs reset_sregs;
	struct kvmfs_vcpu_stats stats;
};

static __thread struct kvm_run *this_run;

static void kick_handler(int sig)
{
	(void)sig;
	if (this_run)
		this_run->immediate_exit = 1;
}

int kvmfs_vcpu_init_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must come back with EINTR. */
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

const char *kvmfs_vcpu_state_name(enum kvmfs_vcpu_state s)
{
	static const char *const names[] = {
		[KVMFS_READY] = "ready",     [KVMFS_RUNNING] = "running",
		[KVMFS_STOPPED] = "stopped", [KVMFS_HALTED] = "halted",
		[KVMFS_SHUTDOWN] = "shutdown", [KVMFS_FAILED] = "failed",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* Called with the lock held. */
static void kick(struct kvmfs_vcpu *v)
{
	if (!v->running)
		return;
	v->run->immediate_exit = 1;
	pthread_kill(v->thread, KICK_SIGNAL);
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
	kick(v);
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

/* Timer expiry is a kick the thread sends itself. */
static void timer_arm(struct kvmfs_vcpu *v, unsigned ms)
{
	struct itimerspec it = { 0 };

	if (!v->have_timer)
		return;
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	timer_settime(v->timer, 0, &it, NULL);
}

static bool deadline_passed(const struct kvmfs_vcpu *v)
{
	struct timespec now;

	if (!v->timeout_ms)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > v->deadline.tv_sec ||
	       (now.tv_sec == v->deadline.tv_sec &&
		now.tv_nsec >= v->deadline.tv_nsec);
}

/* End the current run: record the answer and hand it to every waiter.
 * Called with the lock held; drops it around the callbacks. */
static void finish_run(struct kvmfs_vcpu *v, const char *answer,
		       enum kvmfs_vcpu_state state)
{
	struct run_waiter *w = v->waiters;
	char *text = NULL;

	/* A multi-step run answers every step, this line last. */
	if (v->steps->len) {
		g_string_append(v->steps, answer);
		text = g_strdup(v->steps->str);
		g_string_truncate(v->steps, 0);
	}
	v->steps_left = 0;
	v->waiters = NULL;
	v->running = false;
	v->stop_answer = NULL;
	v->stats.state = state;
	snprintf(v->stats.last, sizeof(v->stats.last), "%s", answer);
	if (v->step_this_run) {
		v->step_this_run = false;
		v->step_armed = 0;
	}
	timer_arm(v, 0);
	v->regs = v->run->s.regs.regs;
	pthread_cond_broadcast(&v->done);
	if (!w) {
		g_free(text);
		return;
	}
	if (!text)
		text = g_strdup(v->stats.last);
	pthread_mutex_unlock(&v->lock);
	while (w) {
		struct run_waiter *next = w->next;

		w->done(w->cookie, text, 0);
		free(w);
		w = next;
	}
	g_free(text);
	pthread_mutex_lock(&v->lock);
}

static int set_guest_debug(struct kvmfs_vcpu *v, bool on)
{
	struct kvm_guest_debug dbg = { 0 };

	if (on)
		dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		return -errno;
	v->debug_on = on;
	return 0;
}

/* Handle one exit.  Returns true when the run goes on (console output),
 * false when it was finished.  Lock held. */
static bool handle_exit(struct kvmfs_vcpu *v)
{
	struct kvm_run *run = v->run;
	char answer[256], why[160];
	uint32_t reason = run->exit_reason;
	enum kvmfs_vcpu_state state = KVMFS_STOPPED;

	if (reason < KVMFS_EXIT_COUNTERS)
		v->stats.by_reason[reason]++;
	if (kvmfs_exit_check(run, v->run_size, why, sizeof(why)) < 0) {
		kvmfs_log_limited("vcpu: invalid kvm_run: %s", why);
		snprintf(answer, sizeof(answer), "failed rip=0x%016llx",
			 run->s.regs.regs.rip);
		finish_run(v, answer, KVMFS_FAILED);
		return false;
	}
	switch (reason) {
	case KVM_EXIT_IO: {
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		size_t n = (size_t)run->io.size * run->io.count;

		if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0xe9) {
			v->stats.console_exits++;
			if (v->cfg.console)
				v->cfg.console(v->cfg.ctx, data, n);
			/* A single step over the out still has to stop. */
			return true;
		}
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset(data, 0xff, n);
		break;
	}
	case KVM_EXIT_MMIO:
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0, sizeof(run->mmio.data));
		break;
	case KVM_EXIT_HLT:
		state = KVMFS_HALTED;
		break;
	case KVM_EXIT_SHUTDOWN:
		state = KVMFS_SHUTDOWN;
		break;
	case KVM_EXIT_FAIL_ENTRY:
	case KVM_EXIT_INTERNAL_ERROR:
		state = KVMFS_FAILED;
		break;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_DEBUG:
		/* One step of several: note it and take the next. */
		if (v->steps_left > 1 && !v->stop_answer) {
			v->steps_left--;
			kvmfs_exit_format(run, run->s.regs.regs.rip, answer,
					  sizeof(answer));
			g_string_append(v->steps, answer);
			g_string_append_c(v->steps, '\n');
			return true;
		}
		break;
	default:
		break;
	}
	kvmfs_exit_format(run, run->s.regs.regs.rip, answer, sizeof(answer));
	/* An IN or an MMIO read must see its data only after the answer was
	 * formatted (it shows what the guest asked, not our fill). */
	finish_run(v, answer, state);
	return false;
}

/* One pass of a run: enter the guest once.  Lock held on entry and exit. */
static void run_once(struct kvmfs_vcpu *v)
{
	char answer[128];
	int r, e;

	if (v->stop_answer) {
		snprintf(answer, sizeof(answer), "%s rip=0x%016llx",
			 v->stop_answer, v->run->s.regs.regs.rip);
		finish_run(v, answer, v->stop_state);
		return;
	}
	if (deadline_passed(v)) {
		snprintf(answer, sizeof(answer), "timeout rip=0x%016llx",
			 v->run->s.regs.regs.rip);
		finish_run(v, answer, KVMFS_STOPPED);
		return;
	}
	if (v->step_this_run != v->debug_on) {
		r = set_guest_debug(v, v->step_this_run);
		if (r < 0) {
			snprintf(answer, sizeof(answer),
				 "failed reason=guest-debug errno=%d", -r);
			finish_run(v, answer, KVMFS_STOPPED);
			return;
		}
	}
	v->in_guest = true;
	pthread_mutex_unlock(&v->lock);
	r = ioctl(v->fd, KVM_RUN, 0);
	e = errno;
	pthread_mutex_lock(&v->lock);
	v->in_guest = false;
	v->run->immediate_exit = 0;
	v->stats.exits++;
	if (r < 0) {
		if (e == EINTR || e == EAGAIN)
			return;
		snprintf(answer, sizeof(answer), "failed errno=%d rip=0x%016llx",
			 e, v->run->s.regs.regs.rip);
		kvmfs_log_limited("vcpu: KVM_RUN: %s", strerror(e));
		finish_run(v, answer, KVMFS_FAILED);
		return;
	}
	handle_exit(v);
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
	if (v->cfg.cpuid) {
		r = ioctl_err(v->fd, KVM_SET_CPUID2, (void *)v->cfg.cpuid);
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
	v->regs = v->reset_regs;
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
	char err[160] = "";
	int r;

	v->tid = (pid_t)syscall(SYS_gettid);
	/* A busy guest must not starve the FUSE workers that answer every
	 * other file: vCPU threads run at a lower priority. */
	if (setpriority(PRIO_PROCESS, (id_t)v->tid, KVMFS_VCPU_NICE) < 0)
		kvmfs_debug("vcpu: setpriority: %s", strerror(errno));
	r = vcpu_setup(v, err, sizeof(err));
	this_run = v->run;
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
		run_once(v);
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
	this_run = NULL;
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
		free(v);
		return -r;
	}
	pthread_mutex_lock(&v->lock);
	while (!v->ready)
		pthread_cond_wait(&v->done, &v->lock);
	r = v->create_err;
	pthread_mutex_unlock(&v->lock);
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
		kick(v);
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
		/* Kept up to date from sync_regs and every set. */
		*r = v->regs;
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
};

/* Refuses while running; runs on the vCPU thread, which checks running
 * under the lock, so a run cannot start in between. */
static int call_set_state(struct kvmfs_vcpu *v, void *arg)
{
	struct state_arg *a = arg;
	int r = 0;

	pthread_mutex_lock(&v->lock);
	if (v->running)
		r = -EBUSY;
	pthread_mutex_unlock(&v->lock);
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
		v->regs = *a->regs;
		v->run->s.regs.regs = *a->regs;
		pthread_mutex_unlock(&v->lock);
	}
	return 0;
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
			 const struct kvm_regs *r)
{
	struct state_arg a = { .sregs = s, .regs = r };

	return vcpu_call(v, call_set_state, &a);
}

static int call_translate(struct kvmfs_vcpu *v, void *arg)
{
	return ioctl_err(v->fd, KVM_TRANSLATE, arg);
}

int kvmfs_vcpu_translate(struct kvmfs_vcpu *v, struct kvm_translation *t)
{
	return vcpu_call(v, call_translate, t);
}

static int call_reset(struct kvmfs_vcpu *v, void *arg)
{
	struct state_arg a = { .sregs = &v->reset_sregs, .regs = &v->reset_regs };
	int r;

	(void)arg;
	if (v->debug_on) {
		r = set_guest_debug(v, false);
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

int kvmfs_vcpu_run(struct kvmfs_vcpu *v, kvmfs_run_done_fn done, void *cookie)
{
	struct run_waiter *w = NULL;

	if (done) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
		w->done = done;
		w->cookie = cookie;
	}
	pthread_mutex_lock(&v->lock);
	if (v->quit) {
		pthread_mutex_unlock(&v->lock);
		free(w);
		return -ENOENT;
	}
	if (!v->running) {
		v->running = true;
		v->run_gen++;
		v->stop_answer = NULL;
		v->stats.state = KVMFS_RUNNING;
		v->stats.runs++;
		v->step_this_run = v->step_armed > 0;
		v->steps_left = v->step_armed;
		if (v->timeout_ms) {
			clock_gettime(CLOCK_MONOTONIC, &v->deadline);
			v->deadline.tv_sec += v->timeout_ms / 1000;
			v->deadline.tv_nsec += (long)(v->timeout_ms % 1000) * 1000000;
			if (v->deadline.tv_nsec >= 1000000000) {
				v->deadline.tv_sec++;
				v->deadline.tv_nsec -= 1000000000;
			}
			timer_arm(v, v->timeout_ms);
		}
		pthread_cond_signal(&v->wake);
	} else if (!done) {
		pthread_mutex_unlock(&v->lock);
		return -EBUSY;
	}
	if (w) {
		w->next = v->waiters;
		v->waiters = w;
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static void stop_with(struct kvmfs_vcpu *v, const char *answer)
{
	if (!v->running || v->stop_answer)
		return;
	v->stop_answer = answer;
	v->stop_state = KVMFS_STOPPED;
	kick(v);
}

void kvmfs_vcpu_stop(struct kvmfs_vcpu *v)
{
	/* Returns once the vCPU is out of the guest, so that the next
	 * command (run, regs) finds it stopped. */
	uint64_t gen;

	pthread_mutex_lock(&v->lock);
	stop_with(v, "stopped");
	/* Wait for this run only: another client may start the next one
	 * at once, and that one is not ours to wait for. */
	gen = v->run_gen;
	while (v->running && v->run_gen == gen && !v->quit)
		pthread_cond_wait(&v->done, &v->lock);
	pthread_mutex_unlock(&v->lock);
}

void kvmfs_vcpu_interrupt(struct kvmfs_vcpu *v, void *cookie)
{
	pthread_mutex_lock(&v->lock);
	for (struct run_waiter *w = v->waiters; w; w = w->next)
		if (w->cookie == cookie) {
			stop_with(v, "interrupted");
			break;
		}
	pthread_mutex_unlock(&v->lock);
}

void kvmfs_vcpu_set_timeout(struct kvmfs_vcpu *v, unsigned ms)
{
	pthread_mutex_lock(&v->lock);
	v->timeout_ms = ms;
	pthread_mutex_unlock(&v->lock);
}

unsigned kvmfs_vcpu_timeout(struct kvmfs_vcpu *v)
{
	unsigned ms;

	pthread_mutex_lock(&v->lock);
	ms = v->timeout_ms;
	pthread_mutex_unlock(&v->lock);
	return ms;
}

void kvmfs_vcpu_arm_step(struct kvmfs_vcpu *v, unsigned n)
{
	pthread_mutex_lock(&v->lock);
	v->step_armed = n;
	pthread_mutex_unlock(&v->lock);
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
