// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsd's counting tables (tools/server/rate.c): per-key windows, and a
 * full table that cannot be flushed by new keys.
 */
#include <stdint.h>
#include <string.h>

#include "../server/rate.h"
#include "tap.h"

static struct cpnsd_rate t;

static void key_of(unsigned int n, uint8_t k[4])
{
	k[0] = 10;
	k[1] = (uint8_t)(n >> 16);
	k[2] = (uint8_t)(n >> 8);
	k[3] = (uint8_t)n;
}

static bool hit(unsigned int n, uint64_t now, bool count)
{
	uint8_t k[4];

	key_of(n, k);
	return cpnsd_rate_hit(&t, k, sizeof(k), now, 1000, 3, count);
}

static void test_window(void)
{
	bool over = false;
	int i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < 3; i++)
		over |= hit(1, 100 + i, true);
	tap_ok(!over && hit(1, 104, true), "a key over its limit within its window");
	tap_ok(!hit(2, 105, true), "another key has its own count");
	tap_ok(!hit(1, 1100, true), "the next window starts from zero");
	tap_ok(!hit(7, 1100, false) && !hit(7, 1100, true),
	       "looking without counting counts nothing");
}

static void test_full(void)
{
	bool over = false;
	unsigned int n;

	memset(&t, 0, sizeof(t));
	/* key 0 at its limit, then every slot taken in a live window */
	for (n = 0; n < 3; n++)
		hit(0, 100, true);
	for (n = 1; n < CPNSD_RATE_SLOTS; n++)
		over |= hit(n, 200, true);
	tap_ok(!over, "a table of %d keys in live windows", CPNSD_RATE_SLOTS);
	/* new keys share one count: four of them are over the limit of 3 */
	for (n = CPNSD_RATE_SLOTS; n < CPNSD_RATE_SLOTS + 3; n++)
		over |= hit(n, 300, true);
	tap_ok(!over && hit(CPNSD_RATE_SLOTS + 3, 300, true),
	       "with the table full, new keys share one count and its limit");
	tap_ok(hit(0, 400, true),
	       "the new keys did not evict the oldest key: its count goes on");
	/* once the oldest window is over, its slot goes to a new key */
	tap_ok(!hit(CPNSD_RATE_SLOTS + 10, 1100, true) &&
		       !hit(CPNSD_RATE_SLOTS + 10, 1101, true),
	       "after the oldest window, a new key gets a slot of its own");
	tap_ok(cpnsd_rate_hit(&t, &t, CPNSD_RATE_KEY_MAX + 1, 1200, 1000, 3, true),
	       "a key longer than a slot holds is over the limit");
}

int main(void)
{
	tap_start();
	test_window();
	test_full();
	return tap_done();
}
