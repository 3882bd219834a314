#include "audit.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

#define MASK "********"

void
audit_session_init(PGconn *conn)
{
    char user[256];
    const struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name)
        snprintf(user, sizeof user, "%s", pw->pw_name);
    else if (getenv("USER"))
        snprintf(user, sizeof user, "%s", getenv("USER"));
    else
        snprintf(user, sizeof user, "uid %ld", (long) geteuid());
    const char *params[] = {user};
    /* the engine's login role needs BYPASSRLS unless it owns the tables (schema/005_security.sql) */
    PGresult *res = PQexecParams(
        conn,
        "SELECT set_config('canbao.os_user', $1, false), "
        "       EXISTS (SELECT 1 FROM pg_catalog.pg_roles g, pg_catalog.pg_roles me, pg_catalog.pg_namespace n "
        "                WHERE g.rolname = 'canbao_engine' AND me.rolname = current_user "
        "                  AND n.nspname = 'canbao' AND NOT me.rolbypassrls AND NOT me.rolsuper "
        "                  AND pg_catalog.pg_has_role(me.oid, g.oid, 'MEMBER') "
        "                  AND NOT pg_catalog.pg_has_role(me.oid, n.nspowner, 'USAGE')), "
        "       current_user",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        strcmp(PQgetvalue(res, 0, 1), "t") == 0)
        log_warn("event=role_lacks_bypassrls role=%s note=\"a member of canbao_engine needs the attribute "
                 "BYPASSRLS to store a run (its rows are copied into tables with row-level security); see "
                 "deploy/setup-database.sh\"", PQgetvalue(res, 0, 2));
    PQclear(res);
}

bool
audit_record(PGconn *conn, const char *action, int64_t run_id, const char *object,
             const char *const *kv, int npairs, CbError *err)
{
    enum { MAX_PAIRS = 16 };
    if (npairs < 0 || npairs > MAX_PAIRS) {
        CB_FAIL(err, CBERR_INTERNAL, "audit_record: %d detail pairs (at most %d)", npairs, MAX_PAIRS);
        return false;
    }
    /* the statement's text holds placeholders only; every value is a parameter */
    char sql[160 + MAX_PAIRS * 32];
    size_t o = (size_t) snprintf(sql, sizeof sql,
                                 "SELECT canbao.audit_record($1, $2::bigint, $3, jsonb_build_object(");
    const char *params[3 + 2 * MAX_PAIRS];
    char run[24];
    snprintf(run, sizeof run, "%lld", (long long) run_id);
    params[0] = action;
    params[1] = run_id >= 0 ? run : NULL;
    params[2] = object;
    for (int i = 0; i < 2 * npairs; i++) {
        o += (size_t) snprintf(sql + o, sizeof sql - o, "%s$%d::text", i ? ", " : "", i + 4);
        params[3 + i] = kv[i];
    }
    snprintf(sql + o, sizeof sql - o, "))");
    return db_exec_params(conn, sql, 3 + 2 * npairs, params, NULL, err);
}

bool
audit_conninfo_has_password(const char *conninfo)
{
    if (conninfo == NULL || *conninfo == '\0')
        return false;
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
    bool has = false;
    if (opts == NULL) {
        PQfreemem(msg);
        /* unparsable: judge by the text */
        char probe[2048];
        snprintf(probe, sizeof probe, "%s", conninfo);
        audit_redact_password(probe, sizeof probe, NULL);
        return strcmp(probe, conninfo) != 0;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
            has = true;
    PQconninfoFree(opts);
    return has;
}

/* Replaces text[from, to) by MASK. */
static size_t
mask_range(char *text, size_t cap, size_t from, size_t to)
{
    size_t len = strlen(text), ml = strlen(MASK);
    if (to <= from || to > len)
        return to;
    size_t tail = len - to;
    if (from + ml + tail + 1 > cap) {
        /* no room: cut the text at the secret */
        snprintf(text + from, cap - from, "%s", MASK);
        return strlen(text);
    }
    memmove(text + from + ml, text + to, tail + 1);
    memcpy(text + from, MASK, ml);
    return from + ml;
}

static void
mask_all(char *text, size_t cap, const char *secret)
{
    size_t sl = secret ? strlen(secret) : 0;
    if (sl == 0)
        return;
    size_t at = 0;
    char *hit;
    while ((hit = strstr(text + at, secret)) != NULL)
        at = mask_range(text, cap, (size_t) (hit - text), (size_t) (hit - text) + sl);
}

void
audit_redact_password(char *text, size_t cap, const char *conninfo)
{
    if (text == NULL || cap == 0)
        return;
    if (conninfo && *conninfo) {
        char *msg = NULL;
        PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
        PQfreemem(msg);
        for (PQconninfoOption *o = opts; o && o->keyword; o++)
            if (strcmp(o->keyword, "password") == 0 && o->val && strlen(o->val) >= 3)
                mask_all(text, cap, o->val);
        PQconninfoFree(opts);
    }
    const char *env = getenv("PGPASSWORD");
    if (env && strlen(env) >= 3)
        mask_all(text, cap, env);
    /* password=VALUE, password = 'VALUE' */
    for (size_t at = 0; text[at];) {
        char *hit = strcasestr(text + at, "password");
        if (hit == NULL)
            break;
        size_t p = (size_t) (hit - text) + 8;
        while (text[p] == ' ')
            p++;
        if (text[p] != '=') {
            at = p;
            continue;
        }
        p++;
        while (text[p] == ' ')
            p++;
        size_t end = p;
        if (text[p] == '\'') {
            end = p + 1;
            while (text[end] && text[end] != '\'')
                end += text[end] == '\\' && text[end + 1] ? 2 : 1;
            if (text[end] == '\'')
                end++;
        } else {
            while (text[end] && !isspace((unsigned char) text[end]) && text[end] != '"' && text[end] != '&')
                end++;
        }
        at = end > p ? mask_range(text, cap, p, end) : end;
    }
    /* scheme://user:password@host */
    for (size_t at = 0; text[at];) {
        char *hit = strstr(text + at, "://");
        if (hit == NULL)
            break;
        size_t s = (size_t) (hit - text) + 3, e = s;
        while (text[e] && text[e] != '/' && text[e] != '?' && text[e] != '@' && text[e] != '"' &&
               !isspace((unsigned char) text[e]))
            e++;
        if (text[e] == '@') {
            char *colon = memchr(text + s, ':', e - s);
            if (colon && (size_t) (colon - text) + 1 < e) {
                at = mask_range(text, cap, (size_t) (colon - text) + 1, e);
                continue;
            }
        }
        at = e > s ? e : s;
    }
}
