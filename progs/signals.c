// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fatal-signal clean-up mkfs.erofs and erofs-convert share: temporary
 * outputs the library recorded are removed before the signal ends the
 * process.
 */
#include <signal.h>
#include <stddef.h>

#include "progs/signals.h"

static struct erofs_tmpnames *fatal_tmpnames;

static void on_fatal_signal(int sig)
{
	erofs_tmpnames_unlink(fatal_tmpnames);
	signal(sig, SIG_DFL);
	raise(sig);
}

void progs_unlink_on_fatal_signal(struct erofs_tmpnames *t)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = on_fatal_signal};

	fatal_tmpnames = t;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}
