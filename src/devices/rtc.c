/* The CMOS clock (rtc.h).  Registers 0-9 and 0x32 are computed from the
 * host's clock at each read, in BCD or binary and 12- or 24-hour form as
 * register B says; writes to them are dropped (the guest cannot set the
 * host's time, and a clock that went back to the host's would surprise
 * more than one that stays right).  Everything else is stored. */
#include "devices/rtc.h"

#include <string.h>

enum {
	REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d,
	REG_CENTURY = 0x32,
	B_24H = 0x02, B_BINARY = 0x04,
	A_UIP = 0x80, D_VRT = 0x80,
};

void kvmfs_rtc_init(struct kvmfs_rtc *r)
{
	time_t (*now)(void) = r->now;

	memset(r, 0, sizeof(*r));
	r->now = now;
	r->ram[REG_A] = 0x26;		/* 32.768 kHz time base, 1024 Hz rate */
	r->ram[REG_B] = B_24H;		/* BCD, 24 hours, no interrupts */
	r->ram[REG_D] = D_VRT;		/* the battery is good */
}

static uint8_t encode(const struct kvmfs_rtc *r, unsigned v)
{
	return r->ram[REG_B] & B_BINARY ? (uint8_t)v
					 : (uint8_t)((v / 10) << 4 | v % 10);
}

static uint8_t hours(const struct kvmfs_rtc *r, unsigned h)
{
	unsigned pm;

	if (r->ram[REG_B] & B_24H)
		return encode(r, h);
	pm = h >= 12;
	h %= 12;
	return (uint8_t)(encode(r, h ? h : 12) | (pm ? 0x80 : 0));
}

static uint8_t read_reg(struct kvmfs_rtc *r, uint8_t reg)
{
	time_t t = r->now ? r->now() : time(NULL);
	struct tm tm;

	if (reg > 9 && reg != REG_CENTURY) {
		switch (reg) {
		case REG_A:
			return r->ram[REG_A] & (uint8_t)~A_UIP;
		case REG_C:
			return 0;	/* no interrupt is ever pending */
		case REG_D:
			return D_VRT;
		default:
			return r->ram[reg];
		}
	}
	gmtime_r(&t, &tm);
	switch (reg) {
	case 0: return encode(r, (unsigned)tm.tm_sec % 60);
	case 2: return encode(r, (unsigned)tm.tm_min);
	case 4: return hours(r, (unsigned)tm.tm_hour);
	case 6: return encode(r, (unsigned)tm.tm_wday + 1);
	case 7: return encode(r, (unsigned)tm.tm_mday);
	case 8: return encode(r, (unsigned)tm.tm_mon + 1);
	case 9: return encode(r, (unsigned)tm.tm_year % 100);
	case REG_CENTURY: return encode(r, (unsigned)(tm.tm_year + 1900) / 100);
	default: return r->ram[reg];	/* the alarms: 1, 3, 5 */
	}
}

uint8_t kvmfs_rtc_read(struct kvmfs_rtc *r, uint16_t port)
{
	/* The index port is write-only on a PC. */
	if (port != KVMFS_RTC_PORT + 1)
		return 0xff;
	return read_reg(r, r->index);
}

void kvmfs_rtc_write(struct kvmfs_rtc *r, uint16_t port, uint8_t v)
{
	uint8_t reg = r->index;

	if (port == KVMFS_RTC_PORT) {
		r->index = v & 0x7f;	/* bit 7 masks the NMI: nothing here */
		return;
	}
	if (reg == REG_C || reg == REG_D || (reg <= 9 && !(reg & 1)) ||
	    reg == REG_CENTURY)
		return;		/* read-only, or the host's time */
	if (reg == REG_A)
		v &= (uint8_t)~A_UIP;
	r->ram[reg] = v;
}

static bool rtc_access(void *ctx, const struct kvmfs_bus_access *a)
{
	struct kvmfs_rtc *r = ctx;

	/* Byte by byte, as the chip sits on an 8-bit bus: a wider access
	 * to 0x70 reaches 0x71 with its second byte. */
	for (unsigned i = 0; i < a->count; i++) {
		for (unsigned b = 0; b < a->size; b++) {
			uint8_t *d = &a->data[i * a->size + b];
			uint16_t port = (uint16_t)(a->addr + b);

			if (port > KVMFS_RTC_PORT + 1)
				*d = a->write ? *d : 0xff;
			else if (a->write)
				kvmfs_rtc_write(r, port, *d);
			else
				*d = kvmfs_rtc_read(r, port);
		}
	}
	return true;
}

int kvmfs_rtc_attach(struct kvmfs_rtc *r, struct kvmfs_bus *bus)
{
	return kvmfs_bus_register(bus, KVMFS_BUS_PIO, KVMFS_RTC_PORT, 2,
				  KVMFS_RTC_NAME, rtc_access, r);
}
