/*
 * spawn.c: run one command and say what it cost (built by bench/run).
 *
 *   spawn OUTFILE TIMEOUT_SECONDS COMMAND [ARG...]
 *
 * Runs COMMAND (standard input, output and error inherited), waits for it
 * with wait4() and writes one line to OUTFILE:
 *
 *   WALL_SECONDS USER_SECONDS SYSTEM_SECONDS MAXRSS_KIB STATUS
 *
 * These are the numbers /usr/bin/time prints (%e %U %S %M), from the same
 * wait4() call, but with microseconds instead of its 10 ms steps, and with
 * the wall time taken right around fork() and wait4().  Peak RSS counts the
 * child from fork(): the pages of this small process before exec() (about
 * 1 MB; Linux carries the high-water mark over exec()), which is why a
 * Python driver cannot measure it itself (its 15 MB would be counted).
 * STATUS is the exit status, or 128 + the signal number; a COMMAND still
 * running after TIMEOUT_SECONDS is killed (SIGKILL) and reported as 137.
 * The exit status of spawn is STATUS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t child;

static void
on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill(child, SIGKILL);
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	struct sigaction sa;
	int status, rc;
	pid_t pid;
	FILE *out;

	if (argc < 4) {
		fprintf(stderr, "usage: spawn OUTFILE TIMEOUT COMMAND [ARG...]\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("spawn: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		fprintf(stderr, "spawn: %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	child = pid;
	alarm((unsigned)atoi(argv[2]));
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("spawn: wait4");
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);

	rc = WIFEXITED(status) ? WEXITSTATUS(status) :
	    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 2;
	out = fopen(argv[1], "w");
	if (out == NULL) {
		perror(argv[1]);
		return 2;
	}
	fprintf(out, "%.6f %ld.%06ld %ld.%06ld %ld %d\n",
	    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	    (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
	    (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec,
	    ru.ru_maxrss, rc);
	fclose(out);
	return rc;
}
