/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The counting tables behind cpnsd's limits (PROTOCOL.md section 11): per
 * key (an IP address, a GW entity ID, or both), the events of a window.
 *
 * A table keeps CPNSD_RATE_SLOTS keys. A slot goes to a new key only once
 * its window is over: while every slot is in a live window, new keys share
 * one overflow count with the same limit, so that a sender cycling through
 * more keys than there are slots cannot reset the counts of the others.
 */
#ifndef CPNSD_RATE_H
#define CPNSD_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPNSD_RATE_SLOTS	512
#define CPNSD_RATE_KEY_MAX	32	/* an entity ID and an IPv6 address */

struct cpnsd_rate_slot {
	uint8_t key[CPNSD_RATE_KEY_MAX];
	uint8_t len;
	bool used;
	uint64_t t0;		/* window start, ms */
	unsigned int count;
};

struct cpnsd_rate {
	struct cpnsd_rate_slot slot[CPNSD_RATE_SLOTS];
	struct cpnsd_rate_slot overflow;
};

bool cpnsd_window_hit(struct cpnsd_rate_slot *s, uint64_t now,
		      uint64_t window_ms, unsigned int limit, bool count);
bool cpnsd_rate_hit(struct cpnsd_rate *t, const void *key, size_t len,
		    uint64_t now, uint64_t window_ms, unsigned int limit,
		    bool count);

#endif
