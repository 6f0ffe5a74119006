/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text forms of entity IDs (PROTOCOL.md 1.2) and of UDP endpoints
 * (PROTOCOL.md 2.1).
 */
#ifndef CPNS_ID_H
#define CPNS_ID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/cpns.h>

#define CPNS_ID_STRLEN		(2 * CPNS_ID_LEN + 1)
/* "[" IPv6 "]:" 5 digits NUL */
#define CPNS_ADDR_STRLEN	(46 + 2 + 1 + 5 + 1)

/* cpns_id_parse() flags */
#define CPNS_ID_VALID		0x1	/* refuse 0^16 and FF^16 */

bool cpns_id_valid(const uint8_t id[CPNS_ID_LEN]);
int cpns_id_parse(const char *s, uint8_t id[CPNS_ID_LEN], unsigned int flags);
void cpns_id_format(const uint8_t id[CPNS_ID_LEN], char out[CPNS_ID_STRLEN]);

int cpns_addr_parse(const char *s, uint16_t default_port,
		    struct sockaddr_storage *ss, socklen_t *len);
int cpns_addr_format(const struct sockaddr *sa, socklen_t len, char *out,
		     size_t out_size);

#endif /* CPNS_ID_H */
