/*
 * log — what a run tells its operator.
 *
 * On a terminal: human lines and a live progress line per stage (rate, count).  Otherwise
 * (cron, systemd): one line per event, `level=info event=... key=value`, journald-friendly, and
 * no progress chatter.  All output goes to stderr; stdout is for a command's own results.
 */
#ifndef CANBAO_LOG_H
#define CANBAO_LOG_H

#include <stdbool.h>
#include <stdint.h>

void log_init(bool quiet);
bool log_is_tty(void);

/* printf-style; the message should read as "event key=value ...". */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Progress of a stage: begin, update (cheap, call freely: redraws at most 5 times a second,
 * only on a terminal), end (prints the stage's total and rate once). */
void progress_begin(const char *stage, const char *what);
void progress_update(uint64_t done);
void progress_end(uint64_t done);

/* Monotonic seconds. */
double clock_now(void);

#endif
