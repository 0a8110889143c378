/* `gatehouse c2d send|purge`: cloud-to-device messages through the hub's
 * REST extension (POST /devices/{id}/messages/deviceBound, DELETE
 * /devices/{id}/commands; docs/hub-rest.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mgmt/mgmt_int.h"

#define SC GH_MGMT_RIGHT_SERVICE_CONNECT

/* Longest message or correlation id (IoT Hub's limit). */
#define ID_MAX 128

/* 1..ID_MAX printable ASCII characters without blanks. */
static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) return false;
    return true;
}

/* A header value: printable, no surrounding blanks (HTTP trims them). */
static bool value_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GH_MGMT_PROP_TEXT_MAX || s[0] == ' ' || s[n - 1] == ' ') return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

static void add(struct gh_mgmt_c2d_headers *h, const char *name, const char *value)
{
    h->kv[h->n++] = (struct gh_http_kv){name, value};
}

gh_err gh_mgmt_c2d_headers(const struct gh_mgmt_args *a, int64_t now_ms,
                           struct gh_mgmt_c2d_headers *h, char *msg, size_t cap)
{
    const char *const *v = a->val;
    h->n = 0;
    h->expiry[0] = '\0';
    if (v[GH_MOPT_MESSAGE_ID]) {
        if (!id_ok(v[GH_MOPT_MESSAGE_ID]))
            return gh_err_say(msg, cap, GH_ERR_ARG,
                              "%s must be 1-128 printable characters, no blanks", "--message-id");
        add(h, "iothub-messageid", v[GH_MOPT_MESSAGE_ID]);
    }
    if (v[GH_MOPT_CORRELATION_ID]) {
        if (!id_ok(v[GH_MOPT_CORRELATION_ID]))
            return gh_err_say(msg, cap, GH_ERR_ARG,
                              "%s must be 1-128 printable characters, no blanks",
                              "--correlation-id");
        add(h, "iothub-correlationid", v[GH_MOPT_CORRELATION_ID]);
    }
    if (v[GH_MOPT_EXPIRY] && v[GH_MOPT_TTL])
        return gh_err_say(msg, cap, GH_ERR_USAGE, "give %s, not both", "--expiry or --ttl");
    int64_t expiry_ms = -1;
    if (v[GH_MOPT_EXPIRY] && gh_mgmt_time_parse(v[GH_MOPT_EXPIRY], &expiry_ms) != GH_OK)
        return gh_err_say(msg, cap, GH_ERR_ARG, "--expiry must be an ISO 8601 time, e.g. %s",
                          "2026-01-01T00:00:00Z");
    if (v[GH_MOPT_TTL]) {
        int64_t ttl;
        if (gh_mgmt_duration_parse(v[GH_MOPT_TTL], &ttl) != GH_OK)
            return gh_err_say(msg, cap, GH_ERR_ARG, "--ttl must be a duration, e.g. %s",
                              "30m, 2h, 1d");
        expiry_ms = now_ms + ttl * 1000;
    }
    if (expiry_ms >= 0) {
        gh_mgmt_time_format(expiry_ms, h->expiry);
        add(h, "iothub-expiry", h->expiry);
    }
    if (v[GH_MOPT_ACK]) {
        static const char *const acks[] = {"none", "positive", "negative", "full"};
        bool ok = false;
        for (size_t i = 0; i < sizeof acks / sizeof acks[0]; i++)
            ok = ok || strcmp(v[GH_MOPT_ACK], acks[i]) == 0;
        if (!ok)
            return gh_err_say(msg, cap, GH_ERR_ARG, "--ack must be %s",
                              "none, positive, negative or full");
        add(h, "iothub-ack", v[GH_MOPT_ACK]);
    }
    if (v[GH_MOPT_CONTENT_TYPE] && !value_ok(v[GH_MOPT_CONTENT_TYPE]))
        return gh_err_say(msg, cap, GH_ERR_ARG, "%s: printable text without surrounding blanks",
                          "--content-type");
    if (v[GH_MOPT_CONTENT_ENCODING]) {
        if (!value_ok(v[GH_MOPT_CONTENT_ENCODING]))
            return gh_err_say(msg, cap, GH_ERR_ARG, "%s: printable text without surrounding blanks",
                              "--content-encoding");
        add(h, "Content-Encoding", v[GH_MOPT_CONTENT_ENCODING]);
    }
    for (size_t i = 0; i < a->nprops; i++) {
        struct gh_slice name, value;
        GH_GUARD(gh_mgmt_prop_parse(a->props[i], &name, &value, msg, cap));
        snprintf(h->names[i], sizeof h->names[i], "iothub-app-%.*s", (int)name.len,
                 (const char *)name.ptr);
        memcpy(h->values[i], value.ptr, value.len);
        h->values[i][value.len] = '\0';
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(h->names[k], h->names[i]) == 0)
                return gh_err_say(msg, cap, GH_ERR_ARG,
                                  "--property %s given twice (names ignore case)",
                                  h->names[i] + strlen("iothub-app-"));
        add(h, h->names[i], h->values[i]);
    }
    return GH_OK;
}

static gh_err c2d_target(struct gh_mgmt_ctx *c, const char *id, const char *const *tail,
                         size_t ntail, char *out, size_t cap)
{
    GH_GUARD(gh_mgmt_check_device_id(id, c->msg, sizeof c->msg));
    const char *segs[] = {"devices", id, tail[0], ntail > 1 ? tail[1] : NULL};
    const struct gh_mgmt_query q[] = {{"api-version", GH_MGMT_API_VERSION}};
    gh_err rc = gh_mgmt_target(out, cap, segs, 2 + ntail, q, 1);
    if (rc != GH_OK) return gh_mgmt_fail(c, rc, "device id too long");
    return GH_OK;
}

gh_err gh_mgmt_c2d_send(struct gh_mgmt_ctx *c)
{
    const char *id = c->a.pos[0];
    char target[GH_MGMT_PATH_MAX];
    static const char *const tail[] = {"messages", "deviceBound"};
    GH_GUARD(c2d_target(c, id, tail, 2, target, sizeof target));
    if (c->a.val[GH_MOPT_BODY] && c->a.val[GH_MOPT_BODY_FILE])
        return gh_mgmt_fail(c, GH_ERR_USAGE, "give --body or --body-file, not both");
    struct gh_mgmt_c2d_headers *h = calloc(1, sizeof *h);
    if (h == NULL) return gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    uint8_t *file = NULL;
    const void *body = c->a.val[GH_MOPT_BODY] ? c->a.val[GH_MOPT_BODY] : "";
    size_t len = strlen(body);
    json_t *res = NULL;
    gh_err rc = gh_mgmt_c2d_headers(&c->a, (int64_t)time(NULL) * 1000, h, c->msg, sizeof c->msg);
    if (rc == GH_OK && c->a.val[GH_MOPT_BODY_FILE]) {
        char why[GH_MGMT_MSG_MAX / 2];
        rc = gh_mgmt_file_read(c->a.val[GH_MOPT_BODY_FILE], GH_MGMT_C2D_BODY_MAX, &file, &len, why,
                               sizeof why);
        if (rc != GH_OK) rc = gh_mgmt_fail(c, rc, "--body-file: %s", why);
        body = file;
    }
    if (rc == GH_OK && len > GH_MGMT_C2D_BODY_MAX)
        rc = gh_mgmt_fail(c, GH_ERR_TOO_LARGE, "the body is larger than %u bytes",
                          GH_MGMT_C2D_BODY_MAX);
    struct gh_mgmt_req rq = {
        .method = "POST",
        .target = target,
        .right = SC,
        .headers = h->kv,
        .nheaders = h->n,
        .content_type = c->a.val[GH_MOPT_CONTENT_TYPE],
        .body = len ? body : NULL,
        .body_len = len,
    };
    if (rc == GH_OK) rc = gh_mgmt_call_json(c, &rq, &res);
    if (rc == GH_OK && !json_is_object(res))
        rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without a message id");
    if (rc == GH_OK) {
        if (c->json) {
            gh_mgmt_print_json(c->out, res, false);
        } else {
            const char *mid = json_string_value(json_object_get(res, "messageId"));
            json_t *depth = json_object_get(res, "queueDepth");
            fprintf(c->out, "queued message ");
            gh_mgmt_put_safe(c->out, mid ? mid : "-", strlen(mid ? mid : "-"));
            fprintf(c->out, " for %s (%lld in its queue)\n", id,
                    json_is_integer(depth) ? (long long)json_integer_value(depth) : 0LL);
        }
    }
    json_decref(res);
    free(file);
    free(h);
    return rc;
}

gh_err gh_mgmt_c2d_purge(struct gh_mgmt_ctx *c)
{
    const char *id = c->a.pos[0];
    char target[GH_MGMT_PATH_MAX];
    static const char *const tail[] = {"commands"};
    GH_GUARD(c2d_target(c, id, tail, 1, target, sizeof target));
    struct gh_mgmt_req rq = {.method = "DELETE", .target = target, .right = SC};
    json_t *res = NULL;
    GH_GUARD(gh_mgmt_call_json(c, &rq, &res));
    if (c->json) {
        gh_mgmt_print_json(c->out, res, false);
    } else {
        json_t *n = json_object_get(res, "totalMessagesPurged");
        fprintf(c->out, "purged %lld messages of %s\n",
                json_is_integer(n) ? (long long)json_integer_value(n) : 0LL, id);
    }
    json_decref(res);
    return GH_OK;
}
