/* Twin document model: merge-patch with metadata and versions, views. */
#include "hub/twin.h"

#include <string.h>

/* No $lastUpdatedVersion (reported and tags). */
#define NO_VERSION (-1)

static json_t *meta_node(const char *ts, int64_t ver)
{
    json_t *m = json_object();
    if (m == NULL) return NULL;
    if (json_object_set_new(m, "$lastUpdated", json_string(ts)) != 0 ||
        (ver != NO_VERSION &&
         json_object_set_new(m, "$lastUpdatedVersion", json_integer(ver)) != 0)) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static gh_err touch(json_t *meta, const char *ts, int64_t ver)
{
    if (meta == NULL) return GH_OK;
    if (json_object_set_new(meta, "$lastUpdated", json_string(ts)) != 0) return GH_ERR_NOMEM;
    if (ver != NO_VERSION &&
        json_object_set_new(meta, "$lastUpdatedVersion", json_integer(ver)) != 0)
        return GH_ERR_NOMEM;
    return GH_OK;
}

/* RFC 7396 merge of patch (an object) into doc (an object), mirroring the
 * changes into meta (NULL for tags). Recursion depth is bounded by the
 * patch, which gh_twin_check has limited to GH_TWIN_DEPTH_MAX. */
static gh_err merge(json_t *doc, json_t *meta, const json_t *patch, const char *ts, int64_t ver)
{
    const char *k;
    size_t n;
    json_t *pv;
    json_object_keylen_foreach((json_t *)patch, k, n, pv)
    {
        if (json_is_null(pv)) {
            json_object_deln(doc, k, n);
            if (meta != NULL) json_object_deln(meta, k, n);
        } else if (json_is_object(pv)) {
            json_t *dv = json_object_getn(doc, k, n);
            bool fresh = !json_is_object(dv);
            if (fresh) {
                dv = json_object();
                if (dv == NULL || json_object_setn_new(doc, k, n, dv) != 0) return GH_ERR_NOMEM;
            }
            json_t *mv = NULL;
            if (meta != NULL) {
                mv = json_object_getn(meta, k, n);
                if (fresh || !json_is_object(mv)) {
                    mv = json_object();
                    if (mv == NULL || json_object_setn_new(meta, k, n, mv) != 0)
                        return GH_ERR_NOMEM;
                }
            }
            GH_GUARD(merge(dv, mv, pv, ts, ver));
        } else {
            json_t *copy = json_deep_copy(pv);
            if (copy == NULL || json_object_setn_new(doc, k, n, copy) != 0) return GH_ERR_NOMEM;
            if (meta != NULL) {
                json_t *m = meta_node(ts, ver);
                if (m == NULL || json_object_setn_new(meta, k, n, m) != 0) return GH_ERR_NOMEM;
            }
        }
    }
    return touch(meta, ts, ver);
}

/* A shallow copy of a section patch without its read-only top-level
 * members. */
static gh_err strip(const json_t *patch, json_t **out)
{
    json_t *c = json_copy((json_t *)patch);
    if (c == NULL) return GH_ERR_NOMEM;
    json_object_del(c, "$version");
    json_object_del(c, "$metadata");
    *out = c;
    return GH_OK;
}

/* A section computed but not yet committed. */
struct staged {
    json_t *doc;
    json_t *meta;
    bool changed;
};

static void staged_free(struct staged *s)
{
    json_decref(s->doc);
    json_decref(s->meta);
    s->doc = s->meta = NULL;
}

/* Merge patch (already stripped) into copies of cur/cur_meta; replace
 * starts from empty documents instead. */
static gh_err stage(const json_t *cur, const json_t *cur_meta, const json_t *patch,
                    enum gh_twin_section sec, bool replace, int64_t now_ms, int64_t ver,
                    struct staged *st, char *err, size_t errlen)
{
    gh_err rc;
    st->doc = st->meta = NULL;
    st->changed = replace || json_object_size(patch) > 0;
    if (!st->changed) return GH_OK;
    GH_GUARD(gh_twin_check(patch, sec, true, err, errlen));
    char ts[GH_HUB_TIME_LEN];
    gh_hub_time_format(now_ms, ts);
    st->doc = replace ? json_object() : json_deep_copy(cur);
    if (cur_meta != NULL) st->meta = replace ? json_object() : json_deep_copy(cur_meta);
    if (st->doc == NULL || (cur_meta != NULL && st->meta == NULL)) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    rc = merge(st->doc, st->meta, patch, ts, ver);
    if (rc == GH_OK) rc = gh_twin_check(st->doc, sec, false, err, errlen);
out:
    if (rc != GH_OK) staged_free(st);
    return rc;
}

static void commit(json_t **doc, json_t **meta, struct staged *st)
{
    if (!st->changed) return;
    json_decref(*doc);
    *doc = st->doc;
    if (meta != NULL) {
        json_decref(*meta);
        *meta = st->meta;
    }
    st->doc = st->meta = NULL;
}

/* A copy of obj plus "$version": ver. */
static json_t *with_version(const json_t *obj, int64_t ver)
{
    json_t *c = json_copy((json_t *)obj);
    if (c == NULL) return NULL;
    if (json_object_set_new(c, "$version", json_integer(ver)) != 0) {
        json_decref(c);
        return NULL;
    }
    return c;
}

gh_err gh_twin_init(struct gh_twin *t, int64_t now_ms)
{
    char ts[GH_HUB_TIME_LEN];
    gh_hub_time_format(now_ms, ts);
    memset(t, 0, sizeof *t);
    t->tags = json_object();
    t->desired = json_object();
    t->reported = json_object();
    t->desired_meta = meta_node(ts, 1);
    t->reported_meta = meta_node(ts, NO_VERSION);
    t->desired_version = t->reported_version = t->version = 1;
    if (t->tags == NULL || t->desired == NULL || t->reported == NULL || t->desired_meta == NULL ||
        t->reported_meta == NULL) {
        gh_twin_cleanup(t);
        return GH_ERR_NOMEM;
    }
    return GH_OK;
}

void gh_twin_cleanup(struct gh_twin *t)
{
    if (t == NULL) return;
    json_decref(t->tags);
    json_decref(t->desired);
    json_decref(t->desired_meta);
    json_decref(t->reported);
    json_decref(t->reported_meta);
    memset(t, 0, sizeof *t);
}

/* Shared by service patch and replace. tags_in / desired_in are stripped
 * section inputs or NULL when absent. */
static gh_err apply_service(struct gh_twin *t, json_t *tags_in, json_t *desired_in, bool replace,
                            int64_t now_ms, json_t **notify, char *err, size_t errlen)
{
    struct staged tags = {0}, des = {0};
    json_t *note = NULL;
    gh_err rc = GH_OK;
    int64_t dver = t->desired_version + 1;
    if (tags_in != NULL)
        rc = stage(t->tags, NULL, tags_in, GH_TWIN_TAGS, replace, now_ms, NO_VERSION, &tags, err,
                   errlen);
    if (rc == GH_OK && desired_in != NULL)
        rc = stage(t->desired, t->desired_meta, desired_in, GH_TWIN_DESIRED, replace, now_ms, dver,
                   &des, err, errlen);
    if (rc != GH_OK) goto out;
    if (des.changed && notify != NULL) {
        note = with_version(replace ? des.doc : desired_in, dver);
        if (note == NULL) {
            rc = GH_ERR_NOMEM;
            goto out;
        }
    }
    if (tags.changed || des.changed) t->version++;
    if (des.changed) t->desired_version = dver;
    commit(&t->tags, NULL, &tags);
    commit(&t->desired, &t->desired_meta, &des);
    if (notify != NULL) *notify = note;
    note = NULL;
out:
    staged_free(&tags);
    staged_free(&des);
    json_decref(note);
    return rc;
}

static gh_err section_arg(const json_t *parent, const char *name, const char *path, json_t **out,
                          char *err, size_t errlen)
{
    *out = NULL;
    json_t *v = json_object_get(parent, name);
    if (v == NULL) return GH_OK;
    if (!json_is_object(v)) {
        if (errlen > 0) snprintf(err, errlen, "%s must be a JSON object", path);
        return GH_ERR_BAD_JSON;
    }
    return strip(v, out);
}

/* Split a service body into stripped tags / desired inputs. */
static gh_err service_args(const json_t *body, json_t **tags, json_t **desired, char *err,
                           size_t errlen)
{
    *tags = *desired = NULL;
    if (!json_is_object(body)) {
        if (errlen > 0) snprintf(err, errlen, "the twin must be a JSON object");
        return GH_ERR_BAD_JSON;
    }
    json_t *props = json_object_get(body, "properties");
    if (props != NULL && !json_is_object(props)) {
        if (errlen > 0) snprintf(err, errlen, "properties must be a JSON object");
        return GH_ERR_BAD_JSON;
    }
    GH_GUARD(section_arg(body, "tags", "tags", tags, err, errlen));
    gh_err rc = GH_OK;
    if (props != NULL)
        rc = section_arg(props, "desired", "properties.desired", desired, err, errlen);
    if (rc != GH_OK) {
        json_decref(*tags);
        *tags = NULL;
    }
    return rc;
}

gh_err gh_twin_service_patch(struct gh_twin *t, const json_t *patch, int64_t now_ms,
                             json_t **notify, char *err, size_t errlen)
{
    json_t *tags, *desired;
    if (errlen > 0) err[0] = '\0';
    GH_GUARD(service_args(patch, &tags, &desired, err, errlen));
    gh_err rc = apply_service(t, tags, desired, false, now_ms, notify, err, errlen);
    json_decref(tags);
    json_decref(desired);
    return rc;
}

gh_err gh_twin_service_replace(struct gh_twin *t, const json_t *doc, int64_t now_ms,
                               json_t **notify, char *err, size_t errlen)
{
    json_t *tags, *desired;
    if (errlen > 0) err[0] = '\0';
    GH_GUARD(service_args(doc, &tags, &desired, err, errlen));
    gh_err rc = GH_OK;
    if (tags == NULL && (tags = json_object()) == NULL) rc = GH_ERR_NOMEM;
    if (rc == GH_OK && desired == NULL && (desired = json_object()) == NULL) rc = GH_ERR_NOMEM;
    if (rc == GH_OK) rc = apply_service(t, tags, desired, true, now_ms, notify, err, errlen);
    json_decref(tags);
    json_decref(desired);
    return rc;
}

gh_err gh_twin_desired_replace(struct gh_twin *t, const json_t *desired, int64_t now_ms,
                               json_t **notify, char *err, size_t errlen)
{
    json_t *d;
    if (errlen > 0) err[0] = '\0';
    if (!json_is_object(desired)) {
        if (errlen > 0) snprintf(err, errlen, "properties.desired must be a JSON object");
        return GH_ERR_BAD_JSON;
    }
    GH_GUARD(strip(desired, &d));
    gh_err rc = apply_service(t, NULL, d, true, now_ms, notify, err, errlen);
    json_decref(d);
    return rc;
}

gh_err gh_twin_reported_patch(struct gh_twin *t, const json_t *patch, int64_t now_ms,
                              int64_t *new_version, char *err, size_t errlen)
{
    json_t *p;
    struct staged st = {0};
    if (errlen > 0) err[0] = '\0';
    if (!json_is_object(patch)) {
        if (errlen > 0) snprintf(err, errlen, "properties.reported: must be a JSON object");
        return GH_ERR_BAD_JSON;
    }
    GH_GUARD(strip(patch, &p));
    gh_err rc = stage(t->reported, t->reported_meta, p, GH_TWIN_REPORTED, false, now_ms, NO_VERSION,
                      &st, err, errlen);
    if (rc == GH_OK && st.changed) {
        t->reported_version++;
        t->version++;
        commit(&t->reported, &t->reported_meta, &st);
    }
    if (rc == GH_OK && new_version != NULL) *new_version = t->reported_version;
    staged_free(&st);
    json_decref(p);
    return rc;
}

gh_err gh_twin_device_view(const struct gh_twin *t, json_t **out)
{
    json_t *o = json_object();
    if (o == NULL ||
        json_object_set_new(o, "desired", with_version(t->desired, t->desired_version)) != 0 ||
        json_object_set_new(o, "reported", with_version(t->reported, t->reported_version)) != 0) {
        json_decref(o);
        return GH_ERR_NOMEM;
    }
    *out = o;
    return GH_OK;
}

/* doc + "$metadata" + "$version" for the service view. */
static json_t *section_view(const json_t *doc, const json_t *meta, int64_t ver)
{
    json_t *c = json_copy((json_t *)doc);
    if (c == NULL) return NULL;
    if (json_object_set(c, "$metadata", (json_t *)meta) != 0 ||
        json_object_set_new(c, "$version", json_integer(ver)) != 0) {
        json_decref(c);
        return NULL;
    }
    return c;
}

static bool put(json_t *o, const char *k, json_t *v)
{
    return v != NULL && json_object_set_new(o, k, v) == 0;
}

gh_err gh_twin_service_view(const struct gh_twin *t, const struct gh_identity *id, json_t **out)
{
    char etag[GH_HUB_ETAG8_LEN], t_status[GH_HUB_TIME_LEN], t_act[GH_HUB_TIME_LEN];
    gh_twin_etag(t, etag);
    gh_hub_time_format(id->status_updated_ms, t_status);
    gh_hub_time_format(id->last_activity_ms, t_act);
    bool x509 = id->auth_type == GH_AUTH_SELF_SIGNED;
    json_t *o = json_object();
    json_t *props = json_object();
    bool ok = o != NULL && props != NULL;
    ok = ok && put(o, "deviceId", json_string(id->device_id));
    if (id->module_id[0] != '\0') ok = ok && put(o, "moduleId", json_string(id->module_id));
    ok = ok && put(o, "etag", json_string(etag));
    ok = ok && put(o, "deviceEtag", json_string(id->etag));
    ok = ok && put(o, "status", json_string(gh_identity_status_name(id->status)));
    ok = ok && put(o, "statusUpdateTime", json_string(t_status));
    ok = ok && put(o, "connectionState",
                   json_string(id->conn_state == GH_CONN_CONNECTED ? "Connected" : "Disconnected"));
    ok = ok && put(o, "lastActivityTime", json_string(t_act));
    ok = ok && put(o, "cloudToDeviceMessageCount", json_integer(id->c2d_count));
    ok = ok && put(o, "authenticationType", json_string(gh_auth_type_name(id->auth_type)));
    ok =
        ok && put(o, "x509Thumbprint",
                  json_pack("{s:s?,s:s?}", "primaryThumbprint",
                            x509 && id->primary_thumbprint[0] ? id->primary_thumbprint : NULL,
                            "secondaryThumbprint",
                            x509 && id->secondary_thumbprint[0] ? id->secondary_thumbprint : NULL));
    ok = ok && put(o, "modelId", json_string(id->model_id));
    ok = ok && put(o, "version", json_integer(t->version));
    ok = ok && put(o, "tags", json_copy(t->tags));
    ok = ok && put(props, "desired", section_view(t->desired, t->desired_meta, t->desired_version));
    ok = ok &&
         put(props, "reported", section_view(t->reported, t->reported_meta, t->reported_version));
    if (ok) {
        ok = put(o, "properties", props);
        props = NULL;
    }
    if (id->module_id[0] == '\0')
        ok = ok && put(o, "capabilities", json_pack("{s:b}", "iotEdge", id->iot_edge));
    json_decref(props);
    if (!ok) {
        json_decref(o);
        return GH_ERR_NOMEM;
    }
    *out = o;
    return GH_OK;
}

void gh_twin_etag(const struct gh_twin *t, char out[GH_HUB_ETAG8_LEN])
{
    gh_hub_etag_u64((uint64_t)t->version, out);
}
