/* Runs of a vCPU: starting one, entering the guest in a loop on the vCPU
 * thread, handling each exit (console output goes on, anything else ends
 * the run with an answer), timeouts, single steps, and stopping a run
 * from another thread. */
#include "vcpu/vcpu_priv.h"

#include "formats/exitfmt.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

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

/* a is at or before b. */
static bool ts_le(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

static bool deadline_passed(const struct kvmfs_vcpu *v)
{
	struct timespec now;

	if (!v->has_deadline)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_le(&v->deadline, &now);
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
	v->has_deadline = false;
	v->stop_answer = NULL;
	v->stats.state = state;
	snprintf(v->stats.last, sizeof(v->stats.last), "%s", answer);
	if (v->step_this_run) {
		v->step_this_run = false;
		v->step_armed = 0;
	}
	timer_arm(v, 0);
	pthread_cond_broadcast(&v->done);
	if (v->cfg.on_answer)
		v->cfg.on_answer(v->cfg.answer_ctx, v->cfg.id, v->stats.last);
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

int kvmfs_vcpu_set_guest_debug(struct kvmfs_vcpu *v, bool on)
{
	struct kvm_guest_debug dbg = { 0 };

	if (on)
		dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		return -errno;
	v->debug_on = on;
	return 0;
}

/* Handle one exit.  Returns true when the run goes on (a device on the
 * bus took the access), false when it was finished.  Lock held. */
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
		struct kvmfs_bus_access a = {
			KVMFS_BUS_PIO, run->io.direction == KVM_EXIT_IO_OUT,
			run->io.port, run->io.size, run->io.count, data,
		};

		/* A device took it: the guest goes on (and a single step
		 * over it still stops, as a KVM_EXIT_DEBUG follows). */
		if (v->cfg.bus && kvmfs_bus_dispatch(v->cfg.bus, &a))
			return true;
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset(data, 0xff, n);
		break;
	}
	case KVM_EXIT_MMIO: {
		struct kvmfs_bus_access a = {
			KVMFS_BUS_MMIO, run->mmio.is_write, run->mmio.phys_addr,
			run->mmio.len, 1, run->mmio.data,
		};

		if (v->cfg.bus && kvmfs_bus_dispatch(v->cfg.bus, &a))
			return true;
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0, sizeof(run->mmio.data));
		break;
	}
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
void kvmfs_vcpu_run_once(struct kvmfs_vcpu *v)
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
		r = kvmfs_vcpu_set_guest_debug(v, v->step_this_run);
		if (r < 0) {
			snprintf(answer, sizeof(answer),
				 "failed reason=guest-debug errno=%d", -r);
			finish_run(v, answer, KVMFS_STOPPED);
			return;
		}
	}
	pthread_mutex_unlock(&v->lock);
	r = ioctl(v->fd, KVM_RUN, 0);
	e = errno;
	pthread_mutex_lock(&v->lock);
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

/* The run ends MS from now at the latest: a reader never waits longer
 * than the timeout in force when it began, even when it joins a run that
 * started without one (a background `run`).  Lock held. */
static void limit_run(struct kvmfs_vcpu *v, unsigned ms)
{
	struct timespec d;

	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_sec += ms / 1000;
	d.tv_nsec += (long)(ms % 1000) * 1000000;
	if (d.tv_nsec >= 1000000000) {
		d.tv_sec++;
		d.tv_nsec -= 1000000000;
	}
	if (v->has_deadline && ts_le(&v->deadline, &d))
		return;
	v->has_deadline = true;
	v->deadline = d;
	timer_arm(v, ms);
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
		v->has_deadline = false;
		v->stats.state = KVMFS_RUNNING;
		v->stats.runs++;
		v->step_this_run = v->step_armed > 0;
		v->steps_left = v->step_armed;
		if (v->timeout_ms)
			limit_run(v, v->timeout_ms);
		pthread_cond_signal(&v->wake);
	} else if (!done) {
		pthread_mutex_unlock(&v->lock);
		return -EBUSY;
	} else if (v->timeout_ms) {
		limit_run(v, v->timeout_ms);
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
	kvmfs_vcpu_kick(v);
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

void kvmfs_vcpu_arm_step(struct kvmfs_vcpu *v, unsigned n)
{
	pthread_mutex_lock(&v->lock);
	v->step_armed = n;
	pthread_mutex_unlock(&v->lock);
}
