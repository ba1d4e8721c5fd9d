/* hello16, hello32, hello64: the kvm-hello-world contract, one source for
 * the three modes.  Write "Hello, world!\n" to the debug port a byte at a
 * time, store 42 at GPA 0x400, then halt with 42 in eax. */
#include "guest.h"

static const char greeting[] = "Hello, world!\n";

void guest_main(void)
{
	for (const char *p = greeting; *p != '\0'; p++)
		outb(DEBUG_PORT, (uint8_t)*p);
	*ptr32(RESULT_ADDR) = 42;
	halt(42);
}
