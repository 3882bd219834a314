/*
 * audit — who did what, and when: the append-only canbao.audit_log (schema/005_security.sql),
 * and keeping secrets out of what canbao prints.
 *
 * Most audit rows are written by the database itself (triggers on runs, review decisions,
 * feedback and acknowledgement files, dismissals), so that nothing can skip them; the engine
 * adds the events only it knows of (township packages made, pseudonymised statistics written)
 * with audit_record.  Who is the session's login role (session_user) and the operating-system
 * user canbao runs as, which audit_session_init tells the server at every connection
 * (the setting canbao.os_user).
 */
#ifndef CANBAO_AUDIT_H
#define CANBAO_AUDIT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cberror.h"

/* Tells the server the OS user (canbao.os_user) for the audit log's rows; warns when the login
 * role belongs to canbao_engine but lacks BYPASSRLS (COPY into tables with row-level security
 * would fail).  Never fails: a server without the audit log just keeps the setting. */
void audit_session_init(PGconn *conn);

/* Records an engine event (action "package" or "pseudonymise") through canbao.audit_record:
 * run_id (< 0: none), object (what: a file), and npairs key/value pairs of text (kv[2i] the
 * name, kv[2i+1] the value, NULL for JSON null) that become the row's detail object.  All data
 * travels as query parameters. */
bool audit_record(PGconn *conn, const char *action, int64_t run_id, const char *object,
                  const char *const *kv, int npairs, CbError *err);

/* True when conninfo (a libpq conninfo string or URI) carries a password. */
bool audit_conninfo_has_password(const char *conninfo);

/* Replaces in text (NUL-terminated, cap bytes) every password it may hold by "********": the
 * password of conninfo (and of PGPASSWORD), a "password=..." pair and the password of a
 * "scheme://user:password@host" URI, so that no error or log line shows one. */
void audit_redact_password(char *text, size_t cap, const char *conninfo);

#endif
