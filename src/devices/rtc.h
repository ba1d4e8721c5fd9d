/* The PC's CMOS clock (a Motorola MC146818, ports 0x70-0x71), as small as
 * a guest needs it: the time and date from the host's clock, the four
 * status registers, and the rest of its 128 bytes as plain RAM.  No
 * interrupts (IRQ 8 is never raised: register C reads 0), no alarm, no
 * update cycle (register A never says update in progress).  Linux's
 * rtc_cmos and its boot-time clock read it; without it they poll
 * ignored ports for seconds and give up ("broken or not accessible"). */
#ifndef KVMFS_DEVICES_RTC_H
#define KVMFS_DEVICES_RTC_H

#include "devices/bus.h"

#include <stdint.h>
#include <time.h>

#define KVMFS_RTC_PORT 0x70
#define KVMFS_RTC_NAME "rtc"

struct kvmfs_rtc {
	uint8_t index;		/* the register port 0x71 reaches */
	uint8_t ram[128];	/* registers A, B and the RAM; the time is not kept */
	/* The clock: time(NULL) when NULL (the unit tests set it). */
	time_t (*now)(void);
};

void kvmfs_rtc_init(struct kvmfs_rtc *r);
/* One byte from and to the chip (pure: the bus handler and the tests). */
uint8_t kvmfs_rtc_read(struct kvmfs_rtc *r, uint16_t port);
void kvmfs_rtc_write(struct kvmfs_rtc *r, uint16_t port, uint8_t v);
/* Put the clock at ports 0x70-0x71 of BUS; R must live as long as it. */
int kvmfs_rtc_attach(struct kvmfs_rtc *r, struct kvmfs_bus *bus);

#endif
