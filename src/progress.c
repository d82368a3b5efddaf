/* progress.c: the --progress line. */
#include <stdio.h>

#include "net.h"
#include "progress.h"

static void
human(char *out, size_t len, double v)
{
	const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	(void)snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void
progress_update(struct progress *p, uint64_t done, uint64_t total)
{
	int64_t now = monotonic_ms();
	char d[32], t[32], r[32];

	if (!p->on)
		return;
	if (p->start_ms == 0)
		p->start_ms = now;
	if (done < total && now - p->last_ms < 200)
		return;
	p->last_ms = now;
	double secs = (double)(now - p->start_ms) / 1000.0;
	double rate = secs > 0 ? (double)done / secs : 0;
	human(d, sizeof d, (double)done);
	human(t, sizeof t, (double)total);
	human(r, sizeof r, rate);
	long left = rate > 0 ? (long)((double)(total - done) / rate) : 0;
	(void)fprintf(stderr, "\r%s: %s of %s (%3d%%), %s/s, %ld:%02ld left  ",
	    "sending", d, t, total ? (int)(done * 100 / total) : 100, r,
	    left / 60, left % 60);
	if (done >= total)
		(void)fputc('\n', stderr);
	(void)fflush(stderr);
}
