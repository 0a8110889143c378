/* The built-in telemetry endpoint: group-committed appends, reads after a
 * sequence number, retention by age and by bytes. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "hub/store_internal.h"

void gh_telemetry_msg_cleanup(struct gh_telemetry_msg *m)
{
    if (m == NULL) return;
    json_decref(m->properties);
    free(m->properties_text);
    free(m->body);
    memset(m, 0, sizeof *m);
}

struct counters {
    int64_t next_seq;
    int64_t count;
    int64_t bytes;
};

static gh_err read_counters(struct gh_store *s, struct counters *c)
{
    sqlite3_stmt *st;
    bool row;
    struct gh_db_row r = {"telemetry_stats", "1", false};
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_TEL_STATS, &st));
    gh_err rc = gh_db_step(&s->db, st, &row, "telemetry counters");
    if (rc == GH_OK && !row)
        rc = gh_db_fail(&s->db, GH_ERR_DB, "hub.db: telemetry_stats row missing");
    if (rc == GH_OK)
        rc = gh_db_col_int(&s->db, st, 0, &r, "next_seq", 1, INT64_MAX / 2, &c->next_seq);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 1, &r, "count", 0, INT64_MAX, &c->count);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 2, &r, "bytes", 0, INT64_MAX, &c->bytes);
    gh_db_done(st);
    return rc;
}

static gh_err check_in(struct gh_store *s, const struct gh_telemetry_in *m, size_t i)
{
    if (m->device_id == NULL || !gh_iothub_valid_device_id(gh_slice_cstr(m->device_id)))
        return gh_db_fail(&s->db, GH_ERR_ARG, "message %zu: invalid device id", i);
    if (m->module_id != NULL && m->module_id[0] != '\0' &&
        !gh_iothub_valid_module_id(gh_slice_cstr(m->module_id)))
        return gh_db_fail(&s->db, GH_ERR_ARG, "message %zu: invalid module id", i);
    if (m->properties != NULL ? !json_is_object(m->properties)
                              : m->properties_json == NULL || m->properties_json[0] != '{')
        return gh_db_fail(&s->db, GH_ERR_ARG, "message %zu: properties must be a JSON object", i);
    if (m->body_len > GH_TELEMETRY_BODY_MAX)
        return gh_db_fail(&s->db, GH_ERR_TOO_LARGE, "message %zu: body larger than %d bytes", i,
                          GH_TELEMETRY_BODY_MAX);
    if (m->body_len > 0 && m->body == NULL)
        return gh_db_fail(&s->db, GH_ERR_ARG, "message %zu: body missing", i);
    if (m->enqueued_ms < 0)
        return gh_db_fail(&s->db, GH_ERR_ARG, "message %zu: negative enqueue time", i);
    return GH_OK;
}

static gh_err insert(struct gh_store *s, int64_t seq, const struct gh_telemetry_in *m, int64_t now,
                     const char *props, size_t props_len)
{
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_TEL_INSERT, &st));
    gh_err rc = gh_db_bind_int(&s->db, st, 1, seq);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, m->device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 3, m->module_id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 4, m->enqueued_ms != 0 ? m->enqueued_ms : now);
    if (rc == GH_OK)
        rc = gh_db_sqlite(&s->db,
                          sqlite3_bind_text64(st, 5, props, props_len, SQLITE_STATIC, SQLITE_UTF8),
                          "bind");
    if (rc == GH_OK)
        rc = gh_db_sqlite(&s->db,
                          m->body_len == 0
                              ? sqlite3_bind_zeroblob(st, 6, 0)
                              : sqlite3_bind_blob64(st, 6, m->body, m->body_len, SQLITE_STATIC),
                          "bind");
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 7, (int64_t)(m->body_len + props_len));
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "append telemetry");
    /* The static bindings point at the caller's memory: drop them now. */
    sqlite3_clear_bindings(st);
    return rc;
}

void gh_store_telemetry_defer_sync(struct gh_store *s, bool on)
{
    s->tel_deferred = on;
}

gh_err gh_store_telemetry_append_batch(struct gh_store *s, const struct gh_telemetry_in *msgs,
                                       size_t n, int64_t *first_seq)
{
    s->db.err[0] = '\0';
    if (n == 0 || n > GH_TELEMETRY_BATCH_MAX)
        return gh_db_fail(&s->db, GH_ERR_ARG, "a batch holds 1 to %d messages",
                          GH_TELEMETRY_BATCH_MAX);
    for (size_t i = 0; i < n; i++) GH_GUARD(check_in(s, &msgs[i], i));
    char **text = calloc(n, sizeof *text);
    size_t *len = calloc(n, sizeof *len);
    struct counters c;
    int64_t now = gh_store_now(s), bytes = 0;
    gh_err rc = GH_OK;
    if (text == NULL || len == NULL) {
        rc = gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* Serialize outside the transaction to keep the write lock short. */
    for (size_t i = 0; rc == GH_OK && i < n; i++) {
        if (msgs[i].properties == NULL)
            len[i] = msgs[i].properties_len; /* the caller's text, bound as is */
        else
            rc = gh_db_dump(&s->db, msgs[i].properties, &text[i], &len[i]);
        if (rc == GH_OK && len[i] > GH_TELEMETRY_PROPS_MAX)
            rc =
                gh_db_fail(&s->db, GH_ERR_TOO_LARGE, "message %zu: properties larger than %d bytes",
                           i, GH_TELEMETRY_PROPS_MAX);
        if (rc == GH_OK) bytes += (int64_t)(len[i] + msgs[i].body_len);
    }
    if (rc == GH_OK && s->tel_deferred) rc = gh_db_synchronous(&s->db, GH_DB_SYNC_NORMAL);
    if (rc == GH_OK) rc = gh_db_begin(&s->db);
    if (rc != GH_OK) goto out;
    rc = read_counters(s, &c);
    for (size_t i = 0; rc == GH_OK && i < n; i++)
        rc = insert(s, c.next_seq + (int64_t)i, &msgs[i], now,
                    msgs[i].properties ? text[i] : msgs[i].properties_json, len[i]);
    if (rc == GH_OK) {
        sqlite3_stmt *st;
        rc = gh_db_stmt(&s->db, GH_STMT_TEL_STATS_ADD, &st);
        if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 1, c.next_seq + (int64_t)n);
        if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, (int64_t)n);
        if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, bytes);
        if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "telemetry counters");
    }
    if (rc == GH_OK) rc = gh_db_commit(&s->db);
    if (rc != GH_OK) {
        gh_db_rollback(&s->db);
        goto out;
    }
    if (first_seq != NULL) *first_seq = c.next_seq;
out:
    /* Back to the level every other write expects, whatever happened. */
    if (s->tel_deferred) {
        gh_err e = gh_db_synchronous(&s->db, GH_DB_SYNC_FULL);
        if (rc == GH_OK) rc = e;
    }
    if (text != NULL)
        for (size_t i = 0; i < n; i++) free(text[i]);
    free(text);
    free(len);
    return rc;
}

/* The properties column as text: a JSON object as the hub wrote it. */
static gh_err col_props_text(struct gh_store *s, sqlite3_stmt *st, int col,
                             const struct gh_db_row *r, struct gh_telemetry_msg *m)
{
    const char *p = (const char *)sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (sqlite3_column_type(st, col) != SQLITE_TEXT || p == NULL || n < 2)
        return gh_db_bad_row(&s->db, r, "properties", "is not text");
    if ((size_t)n > GH_TELEMETRY_PROPS_MAX)
        return gh_db_bad_row(&s->db, r, "properties", "is too long");
    if (p[0] != '{' || p[n - 1] != '}' || memchr(p, '\0', (size_t)n) != NULL ||
        !gh_utf8_valid((const uint8_t *)p, (size_t)n))
        return gh_db_bad_row(&s->db, r, "properties", "is not a JSON object");
    m->properties_text = malloc((size_t)n + 1);
    if (m->properties_text == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    memcpy(m->properties_text, p, (size_t)n);
    m->properties_text[n] = '\0';
    m->properties_len = (size_t)n;
    return GH_OK;
}

static gh_err read_row(struct gh_store *s, sqlite3_stmt *st, bool raw, struct gh_telemetry_msg *out)
{
    struct gh_telemetry_msg m;
    char key[48];
    memset(&m, 0, sizeof m);
    snprintf(key, sizeof key, "seq %lld", (long long)sqlite3_column_int64(st, 0));
    struct gh_db_row r = {"telemetry", key, false};
    gh_err rc = gh_db_col_int(&s->db, st, 0, &r, "seq", 1, INT64_MAX, &m.seq);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 1, &r, "device_id", m.device_id, sizeof m.device_id);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 2, &r, "module_id", m.module_id, sizeof m.module_id);
    if (rc == GH_OK && !gh_iothub_valid_device_id(gh_slice_cstr(m.device_id)))
        rc = gh_db_bad_row(&s->db, &r, "device_id", "is not a valid device id");
    if (rc == GH_OK && m.module_id[0] != '\0' &&
        !gh_iothub_valid_module_id(gh_slice_cstr(m.module_id)))
        rc = gh_db_bad_row(&s->db, &r, "module_id", "is not a valid module id");
    if (rc == GH_OK)
        rc = gh_db_col_int(&s->db, st, 3, &r, "enqueued_ms", 0, INT64_MAX, &m.enqueued_ms);
    if (rc == GH_OK && raw)
        rc = col_props_text(s, st, 4, &r, &m);
    else if (rc == GH_OK)
        rc = gh_db_col_json(&s->db, st, 4, &r, "properties", GH_TELEMETRY_PROPS_MAX, &m.properties);
    if (rc == GH_OK)
        rc = gh_db_col_blob(&s->db, st, 5, &r, "body", GH_TELEMETRY_BODY_MAX, &m.body, &m.body_len);
    if (rc != GH_OK) {
        gh_telemetry_msg_cleanup(&m);
        return rc;
    }
    *out = m;
    return GH_OK;
}

gh_err gh_store_telemetry_scan(struct gh_store *s, const struct gh_telemetry_query *q,
                               struct gh_telemetry_msg *out, size_t cap, size_t *n,
                               struct gh_telemetry_scan *scan)
{
    sqlite3_stmt *st;
    size_t limit =
        q->limit == 0 || q->limit > GH_TELEMETRY_READ_MAX ? GH_TELEMETRY_READ_MAX : q->limit;
    if (limit > cap) limit = cap;
    s->db.err[0] = '\0';
    struct counters c;
    GH_GUARD(read_counters(s, &c));
    const int64_t last = c.next_seq - 1, after = q->after_seq > 0 ? q->after_seq : 0;
    bool dev = q->device_id != NULL;
    /* A filtered read examines a bounded range of seq; an unfiltered one
     * examines exactly the rows it returns. */
    int64_t hi = last;
    if ((dev || q->since_ms > 0) && after < last && last - after > GH_TELEMETRY_SCAN_MAX)
        hi = after + GH_TELEMETRY_SCAN_MAX;
    GH_GUARD(gh_db_stmt(&s->db, dev ? GH_STMT_TEL_READ_DEV : GH_STMT_TEL_READ_ALL, &st));
    gh_err rc = gh_db_bind_int(&s->db, st, 1, after);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, q->since_ms);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, (int64_t)limit);
    if (rc == GH_OK && dev) rc = gh_db_bind_text(&s->db, st, 4, q->device_id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 5, hi);
    size_t k = 0;
    while (rc == GH_OK && k < limit) {
        bool row;
        rc = gh_db_step(&s->db, st, &row, "read telemetry");
        if (rc != GH_OK || !row) break;
        rc = read_row(s, st, q->raw_properties, &out[k]);
        if (rc == GH_OK) k++;
    }
    gh_db_done(st);
    if (rc != GH_OK) {
        for (size_t i = 0; i < k; i++) gh_telemetry_msg_cleanup(&out[i]);
        return rc;
    }
    *n = k;
    if (scan != NULL) {
        /* Full page: the rows after the last one returned are unexamined. */
        if (k == limit)
            scan->next_after = k > 0 ? out[k - 1].seq : after;
        else
            scan->next_after = hi > after ? hi : after;
        scan->more = scan->next_after < last;
    }
    return GH_OK;
}

gh_err gh_store_telemetry_read(struct gh_store *s, const struct gh_telemetry_query *q,
                               struct gh_telemetry_msg *out, size_t cap, size_t *n)
{
    return gh_store_telemetry_scan(s, q, out, cap, n, NULL);
}

gh_err gh_store_telemetry_stats(struct gh_store *s, struct gh_telemetry_stats *out)
{
    struct counters c;
    s->db.err[0] = '\0';
    GH_GUARD(read_counters(s, &c));
    out->count = (uint64_t)c.count;
    out->bytes = (uint64_t)c.bytes;
    out->last_seq = c.next_seq - 1;
    return GH_OK;
}

/* Sum the RETURNING size column of a delete; *rows, *bytes accumulate. */
static gh_err drain_sizes(struct gh_store *s, sqlite3_stmt *st, uint64_t *rows, int64_t *bytes)
{
    struct gh_db_row r = {"telemetry", "(retention)", false};
    gh_err rc = GH_OK;
    for (;;) {
        bool row;
        int64_t size = 0;
        rc = gh_db_step(&s->db, st, &row, "delete telemetry");
        if (rc != GH_OK || !row) break;
        /* A bad size only skews the counter: clamp rather than fail. */
        if (gh_db_col_int(&s->db, st, 0, &r, "size", 0, INT64_MAX / 4, &size) != GH_OK) size = 0;
        (*rows)++;
        *bytes += size;
    }
    gh_db_done(st);
    return rc;
}

static gh_err sub_counters(struct gh_store *s, uint64_t rows, int64_t bytes)
{
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_TEL_STATS_SUB, &st));
    gh_err rc = gh_db_bind_int(&s->db, st, 1, (int64_t)rows);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, bytes);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "telemetry counters");
    return rc;
}

/* First seq enqueued at or after cutoff (next_seq if none). */
static gh_err first_young(struct gh_store *s, int64_t cutoff, int64_t next_seq, int64_t *out)
{
    sqlite3_stmt *st;
    bool row;
    *out = next_seq;
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_TEL_FIRST_YOUNG, &st));
    gh_err rc = gh_db_bind_int(&s->db, st, 1, cutoff);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "retention");
    if (rc == GH_OK && row) *out = sqlite3_column_int64(st, 0);
    gh_db_done(st);
    return rc;
}

static gh_err retain_age(struct gh_store *s, int64_t max_age_ms, uint64_t *deleted,
                         int64_t *young_from)
{
    struct counters c;
    GH_GUARD(read_counters(s, &c));
    int64_t cutoff = gh_store_now(s) - max_age_ms;
    GH_GUARD(first_young(s, cutoff, c.next_seq, young_from));
    for (;;) {
        sqlite3_stmt *st;
        uint64_t rows = 0;
        int64_t bytes = 0;
        GH_GUARD(gh_db_begin(&s->db));
        gh_err rc = gh_db_stmt(&s->db, GH_STMT_TEL_DELETE_BEFORE, &st);
        if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 1, *young_from);
        if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, GH_TELEMETRY_RETAIN_CHUNK);
        if (rc == GH_OK) rc = drain_sizes(s, st, &rows, &bytes);
        if (rc == GH_OK && rows > 0) rc = sub_counters(s, rows, bytes);
        if (rc == GH_OK) rc = gh_db_commit(&s->db);
        if (rc != GH_OK) {
            gh_db_rollback(&s->db);
            return rc;
        }
        *deleted += rows;
        if (rows < GH_TELEMETRY_RETAIN_CHUNK) return GH_OK;
    }
}

/* One chunk of the bytes cap: delete the oldest rows covering `excess`
 * bytes (at most GH_TELEMETRY_RETAIN_CHUNK rows). */
static gh_err retain_bytes_chunk(struct gh_store *s, uint64_t max_bytes, int64_t young_from,
                                 uint64_t *deleted, uint64_t *young, bool *more)
{
    struct counters c;
    sqlite3_stmt *st;
    int64_t upto = 0, acc = 0;
    uint64_t rows = 0, young_rows = 0;
    int64_t bytes = 0;
    *more = false;
    GH_GUARD(gh_db_begin(&s->db));
    gh_err rc = read_counters(s, &c);
    if (rc != GH_OK || (uint64_t)c.bytes <= max_bytes) goto done;
    int64_t excess = c.bytes - (int64_t)max_bytes;
    rc = gh_db_stmt(&s->db, GH_STMT_TEL_OLDEST, &st);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 1, GH_TELEMETRY_RETAIN_CHUNK);
    while (rc == GH_OK && acc < excess) {
        bool row;
        rc = gh_db_step(&s->db, st, &row, "retention");
        if (rc != GH_OK || !row) break;
        upto = sqlite3_column_int64(st, 0);
        int64_t size = sqlite3_column_int64(st, 1);
        acc += size > 0 ? size : 0;
        if (upto >= young_from) young_rows++;
    }
    gh_db_done(st);
    if (rc == GH_OK && upto == 0) {
        /* No rows but the counter says bytes: it drifted (the file was
         * edited behind our back). Reset it rather than loop. */
        gh_log_warn("store.telemetry.counter_reset", "bytes=%lld count=%lld", (long long)c.bytes,
                    (long long)c.count);
        rc = sub_counters(s, (uint64_t)c.count, c.bytes);
    }
    if (rc != GH_OK || upto == 0) goto done;
    rc = gh_db_stmt(&s->db, GH_STMT_TEL_DELETE_UPTO, &st);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 1, upto);
    if (rc == GH_OK) rc = drain_sizes(s, st, &rows, &bytes);
    if (rc == GH_OK && rows > 0) rc = sub_counters(s, rows, bytes);
    *more = rc == GH_OK && acc < excess && rows > 0;
done:
    if (rc == GH_OK) rc = gh_db_commit(&s->db);
    if (rc != GH_OK) {
        gh_db_rollback(&s->db);
        return rc;
    }
    *deleted += rows;
    *young += young_rows;
    return GH_OK;
}

gh_err gh_store_telemetry_retain(struct gh_store *s, int64_t max_age_ms, uint64_t max_bytes,
                                 struct gh_retention_result *res)
{
    struct gh_retention_result r = {0, 0};
    int64_t young_from = INT64_MAX;
    uint64_t young = 0;
    s->db.err[0] = '\0';
    if (max_age_ms < 0) return gh_db_fail(&s->db, GH_ERR_ARG, "negative max_age");
    if (max_age_ms > 0) GH_GUARD(retain_age(s, max_age_ms, &r.by_age, &young_from));
    if (max_age_ms == 0) young_from = 0; /* without an age limit every message is "young" */
    if (max_bytes > 0) {
        bool more = true;
        while (more)
            GH_GUARD(retain_bytes_chunk(s, max_bytes, young_from, &r.by_bytes, &young, &more));
    }
    if (r.by_age > 0)
        gh_log_info("store.telemetry.retention", "reason=age deleted=%llu",
                    (unsigned long long)r.by_age);
    if (r.by_bytes > 0)
        gh_log_warn("store.telemetry.retention",
                    "reason=bytes deleted=%llu younger_than_max_age=%llu max_bytes=%llu",
                    (unsigned long long)r.by_bytes, (unsigned long long)young,
                    (unsigned long long)max_bytes);
    if (res != NULL) *res = r;
    return GH_OK;
}
