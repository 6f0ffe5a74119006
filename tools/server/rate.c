// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsd's counting tables (rate.h).
 */
#include <string.h>

#include "rate.h"

/**
 * cpnsd_window_hit() - count one event in a window
 * @s: the count
 * @now: the time, ms
 * @window_ms: the window's length; a new one starts at the first event
 *	after it
 * @limit: the events a window may hold
 * @count: false to look without counting
 *
 * Return: true when the window holds more than @limit events.
 */
bool cpnsd_window_hit(struct cpnsd_rate_slot *s, uint64_t now,
		      uint64_t window_ms, unsigned int limit, bool count)
{
	if (now >= s->t0 + window_ms) {
		s->t0 = now;
		s->count = 0;
	}
	if (count)
		s->count++;
	return s->count > limit;
}

/**
 * cpnsd_rate_hit() - count one event for a key
 * @t: the table
 * @key: the key's bytes
 * @len: their number, at most CPNSD_RATE_KEY_MAX
 * @now: the time, ms
 * @window_ms: the window's length
 * @limit: the events a window may hold for one key
 * @count: false to look without counting (a key the table does not hold
 *	is under its limit, unless the table is full)
 *
 * Return: true when the key's window (or the shared overflow count of a
 * full table) holds more than @limit events; true for a key too long.
 */
bool cpnsd_rate_hit(struct cpnsd_rate *t, const void *key, size_t len,
		    uint64_t now, uint64_t window_ms, unsigned int limit,
		    bool count)
{
	struct cpnsd_rate_slot *s = NULL;
	unsigned int i, lru = 0;

	if (len > CPNSD_RATE_KEY_MAX)
		return true;
	for (i = 0; i < CPNSD_RATE_SLOTS; i++) {
		if (t->slot[i].used && t->slot[i].len == len &&
		    !memcmp(t->slot[i].key, key, len)) {
			s = &t->slot[i];
			break;
		}
		if (!t->slot[i].used || t->slot[i].t0 < t->slot[lru].t0)
			lru = i;
	}
	if (!s && t->slot[lru].used && now < t->slot[lru].t0 + window_ms) {
		s = &t->overflow;
	} else if (!s) {
		if (!count)
			return false;
		s = &t->slot[lru];
		memset(s, 0, sizeof(*s));
		memcpy(s->key, key, len);
		s->len = (uint8_t)len;
		s->used = true;
		s->t0 = now;
	}
	return cpnsd_window_hit(s, now, window_ms, limit, count);
}
