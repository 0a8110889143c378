/* `gatehouse twin show|update` and `gatehouse method invoke` (PROTOCOL.md
 * 5.4 and 5.6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/mgmt_int.h"

#define SC GH_MGMT_RIGHT_SERVICE_CONNECT

/* Longest direct method name (IoT Hub's limit). */
#define METHOD_NAME_MAX 128

static gh_err say(char *msg, size_t cap, gh_err rc, const char *text)
{
    snprintf(msg, cap, "%s", text);
    return rc;
}

gh_err gh_mgmt_twin_patch_body(const struct gh_mgmt_args *a, json_t **out, char *msg, size_t cap)
{
    const char *desired = a->val[GH_MOPT_DESIRED], *tags = a->val[GH_MOPT_TAGS];
    const char *patch = a->val[GH_MOPT_PATCH];
    if (!desired && !tags && !patch)
        return say(msg, cap, GH_ERR_USAGE, "give --desired JSON, --tags JSON or --patch JSON");
    if (patch && (desired || tags))
        return say(msg, cap, GH_ERR_USAGE, "--patch is the whole patch: not with --desired/--tags");
    if (patch) return gh_mgmt_json_arg("--patch", patch, true, out, msg, cap);
    json_t *body = json_object(), *d = NULL, *t = NULL;
    if (body == NULL) return say(msg, cap, GH_ERR_NOMEM, "out of memory");
    gh_err rc = GH_OK;
    if (desired) rc = gh_mgmt_json_arg("--desired", desired, true, &d, msg, cap);
    if (rc == GH_OK && tags) rc = gh_mgmt_json_arg("--tags", tags, true, &t, msg, cap);
    if (rc == GH_OK && t && json_object_set_new(body, "tags", t) != 0) rc = GH_ERR_NOMEM;
    t = NULL;
    if (rc == GH_OK && d &&
        json_object_set_new(body, "properties", json_pack("{s:O}", "desired", d)) != 0)
        rc = GH_ERR_NOMEM;
    json_decref(d);
    json_decref(t);
    if (rc != GH_OK) {
        json_decref(body);
        return rc == GH_ERR_NOMEM ? say(msg, cap, rc, "out of memory") : rc;
    }
    *out = body;
    return GH_OK;
}

gh_err gh_mgmt_method_body(const struct gh_mgmt_args *a, const char *method, json_t **out,
                           unsigned *http_timeout_s, char *msg, size_t cap)
{
    size_t n = strlen(method);
    if (n == 0 || n > METHOD_NAME_MAX)
        return say(msg, cap, GH_ERR_ARG, "the method name must be 1-128 characters");
    uint64_t resp = GH_MGMT_METHOD_RESPONSE_DEFAULT_S, conn = 0;
    if (a->val[GH_MOPT_RESPONSE_TIMEOUT] &&
        gh_mgmt_uint_parse(a->val[GH_MOPT_RESPONSE_TIMEOUT], GH_MGMT_METHOD_RESPONSE_MIN_S,
                           GH_MGMT_METHOD_RESPONSE_MAX_S, &resp) != GH_OK)
        return say(msg, cap, GH_ERR_ARG, "--response-timeout must be 5-300 seconds");
    if (a->val[GH_MOPT_CONNECT_TIMEOUT] &&
        gh_mgmt_uint_parse(a->val[GH_MOPT_CONNECT_TIMEOUT], 0, GH_MGMT_METHOD_CONNECT_MAX_S,
                           &conn) != GH_OK)
        return say(msg, cap, GH_ERR_ARG, "--connect-timeout must be 0-300 seconds");
    json_t *payload = NULL;
    if (a->val[GH_MOPT_PAYLOAD])
        GH_GUARD(gh_mgmt_json_arg("--payload", a->val[GH_MOPT_PAYLOAD], false, &payload, msg, cap));
    json_t *body = json_pack("{s:s,s:o,s:I,s:I}", "methodName", method, "payload",
                             payload ? payload : json_null(), "responseTimeoutInSeconds",
                             (json_int_t)resp, "connectTimeoutInSeconds", (json_int_t)conn);
    if (body == NULL) return say(msg, cap, GH_ERR_NOMEM, "out of memory");
    *out = body;
    *http_timeout_s = (unsigned)(resp + conn) + GH_MGMT_METHOD_MARGIN_S;
    return GH_OK;
}

static gh_err twin_target(struct gh_mgmt_ctx *c, const char *id, const char *action, char *out,
                          size_t cap)
{
    GH_GUARD(gh_mgmt_check_device_id(id, c->msg, sizeof c->msg));
    const char *segs[] = {"twins", id, action};
    const struct gh_mgmt_query q[] = {{"api-version", GH_MGMT_API_VERSION}};
    gh_err rc = gh_mgmt_target(out, cap, segs, action ? 3 : 2, q, 1);
    if (rc != GH_OK) return gh_mgmt_fail(c, rc, "device id too long");
    return GH_OK;
}

static gh_err print_twin(struct gh_mgmt_ctx *c, const json_t *twin)
{
    if (!json_is_object(twin))
        return gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without a twin");
    if (c->json)
        gh_mgmt_print_json(c->out, twin, false);
    else
        gh_mgmt_print_twin(c->out, twin);
    return GH_OK;
}

gh_err gh_mgmt_twin_show(struct gh_mgmt_ctx *c)
{
    char target[GH_MGMT_PATH_MAX];
    GH_GUARD(twin_target(c, c->a.pos[0], NULL, target, sizeof target));
    struct gh_mgmt_req rq = {.method = "GET", .target = target, .right = SC};
    json_t *twin = NULL;
    gh_err rc = gh_mgmt_call_json(c, &rq, &twin);
    if (rc == GH_OK) rc = print_twin(c, twin);
    json_decref(twin);
    return rc;
}

gh_err gh_mgmt_twin_update(struct gh_mgmt_ctx *c)
{
    char target[GH_MGMT_PATH_MAX];
    GH_GUARD(twin_target(c, c->a.pos[0], NULL, target, sizeof target));
    const char *etag = c->a.val[GH_MOPT_ETAG];
    if (etag && (etag[0] == '\0' || strchr(etag, '"') || strlen(etag) > 128))
        return gh_mgmt_fail(c, GH_ERR_USAGE, "--etag: 1-128 characters without '\"'");
    char if_match[160];
    snprintf(if_match, sizeof if_match, "\"%s\"", etag ? etag : "*");
    json_t *body = NULL;
    GH_GUARD(gh_mgmt_twin_patch_body(&c->a, &body, c->msg, sizeof c->msg));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) return gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    struct gh_mgmt_req rq = {
        .method = "PATCH",
        .target = target,
        .right = SC,
        .if_match = if_match,
        .content_type = "application/json; charset=utf-8",
        .body = text,
        .body_len = strlen(text),
    };
    json_t *twin = NULL;
    gh_err rc = gh_mgmt_call_json(c, &rq, &twin);
    free(text);
    if (rc == GH_OK) rc = print_twin(c, twin);
    json_decref(twin);
    return rc;
}

gh_err gh_mgmt_method_invoke(struct gh_mgmt_ctx *c)
{
    char target[GH_MGMT_PATH_MAX];
    GH_GUARD(twin_target(c, c->a.pos[0], "methods", target, sizeof target));
    json_t *body = NULL;
    unsigned http_s = 0;
    GH_GUARD(gh_mgmt_method_body(&c->a, c->a.pos[1], &body, &http_s, c->msg, sizeof c->msg));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) return gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    struct gh_mgmt_req rq = {
        .method = "POST",
        .target = target,
        .right = SC,
        .content_type = "application/json; charset=utf-8",
        .body = text,
        .body_len = strlen(text),
        /* --timeout wins; else long enough for the device to answer. */
        .timeout_ms = c->a.val[GH_MOPT_TIMEOUT] ? 0 : http_s * 1000u,
    };
    json_t *res = NULL;
    gh_err rc = gh_mgmt_call_json(c, &rq, &res);
    free(text);
    if (rc == GH_OK && !json_is_object(res))
        rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without a method result");
    if (rc == GH_OK) {
        if (c->json) {
            gh_mgmt_print_json(c->out, res, false);
        } else {
            json_t *st = json_object_get(res, "status");
            fprintf(c->out, "status: %lld\n",
                    json_is_integer(st) ? (long long)json_integer_value(st) : 0LL);
            gh_mgmt_print_json(c->out, json_object_get(res, "payload"), false);
        }
    }
    json_decref(res);
    return rc;
}
