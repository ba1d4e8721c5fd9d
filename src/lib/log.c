/* The server's log: stderr while in the foreground, syslog after
 * daemonizing (stderr then points at /dev/null).  Rate limiting keeps a
 * guest or a client from filling the log. */
#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

static int log_to_stderr = 1;
static int log_debug;
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t limit_second;
static unsigned limit_count;
static unsigned long limit_dropped;

enum { LOG_BURST = 20 };

void kvmfs_log_init(int foreground, int debug)
{
	log_to_stderr = foreground;
	log_debug = debug;
	/* Connect to syslog now: the vCPU threads, which may log, cannot
	 * open sockets (sandbox.h). */
	if (!foreground)
		openlog("kvmfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void vlog(int prio, const char *fmt, va_list ap)
{
	if (log_to_stderr) {
		char line[1024];

		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "kvmfs: %s\n", line);
	} else {
		vsyslog(prio, fmt, ap);
	}
}

void kvmfs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_NOTICE, fmt, ap);
	va_end(ap);
}

void kvmfs_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void kvmfs_log_limited(const char *fmt, ...)
{
	unsigned long dropped = 0;
	time_t now = time(NULL);
	va_list ap;
	int pass;

	pthread_mutex_lock(&limit_lock);
	if (now != limit_second) {
		limit_second = now;
		limit_count = 0;
	}
	pass = limit_count++ < LOG_BURST;
	if (pass) {
		dropped = limit_dropped;
		limit_dropped = 0;
	} else {
		limit_dropped++;
	}
	pthread_mutex_unlock(&limit_lock);
	if (!pass)
		return;
	if (dropped)
		kvmfs_log("(%lu log lines dropped)", dropped);
	va_start(ap, fmt);
	vlog(LOG_NOTICE, fmt, ap);
	va_end(ap);
}
