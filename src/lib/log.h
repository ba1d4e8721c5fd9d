/* Server log: one line per event, to stderr in the foreground and to
 * syslog once daemonized.  Lines a guest or a client can trigger go
 * through kvmfs_log_limited(), which drops bursts. */
#ifndef KVMFS_LOG_H
#define KVMFS_LOG_H

void kvmfs_log_init(int foreground, int debug);
void kvmfs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvmfs_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* At most a burst of lines per second; the count of dropped lines is
 * reported with the next line that gets through. */
void kvmfs_log_limited(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
