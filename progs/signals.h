/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Program-side helpers shared by the tools (compiled into each program,
 * never into liberofs): they may change process-wide state such as signal
 * dispositions, which the library must not.
 */
#ifndef EROFS_PROGS_SIGNALS_H
#define EROFS_PROGS_SIGNALS_H

#include "erofs/util.h"

/*
 * From now on, SIGINT, SIGTERM and SIGHUP remove what @t records
 * (erofs_tmpnames_unlink()) and then end the process by that signal's
 * default action, so the exit status still names the signal.  @t must
 * outlive the process's use of it (static storage).
 */
void progs_unlink_on_fatal_signal(struct erofs_tmpnames *t);

#endif
