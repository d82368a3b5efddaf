/*
 * progress.h: one self-updating line on stderr while message data is
 * sent: octets sent, total, rate and time left.
 */
#ifndef CARRIER_PROGRESS_H
#define CARRIER_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool on;
	int64_t start_ms, last_ms;
};

/* Session callback: redraw at most every 200 ms, and at the end. */
void progress_update(struct progress *p, uint64_t done, uint64_t total);

#endif
