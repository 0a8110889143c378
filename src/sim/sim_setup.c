/* gatehouse sim: identities. SAS keys come from the hub (devices created or
 * looked up through its REST API, docs/hub-rest.md) or are derived from a
 * group key; X.509 certificates are issued in-process under a tenant CA
 * (CN = device id) and the devices created as certificateAuthority. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/encoding.h"
#include "http/client.h"
#include "iothub/connstr.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"
#include "net/tls.h"
#include "pki/pki.h"
#include "pki/pki_files.h"
#include "pki/pki_store.h"
#include "sim/sim_int.h"

#define CS_FILE_MAX 8192u           /* a connection string file */
#define REST_TIMEOUT_MS 30000u      /* per request */
#define REST_TOKEN_TTL_S 3600       /* service token lifetime */
#define REST_BODY_MAX (64u * 1024u) /* a device description */
#define TARGET_MAX (3u * GH_SIM_ID_MAX + 128u)
#define SCOPE_MAX 512u /* a deviceScope */
#define ENV_CS "GATEHOUSE_CONNECTION_STRING"
#define ENV_CA "GATEHOUSE_CA"
#define STATUS_CONFLICT 409u
#define STATUS_NOT_FOUND 404u

/* The hub's REST API, one request at a time on a private loop. */
struct rest {
    struct event_base *base;
    struct evdns_base *dns;
    struct gh_http_client *cl;
    char cs_text[GH_CONNSTR_MAX + 1]; /* secret */
    struct gh_connstr cs;
    char token[GH_SAS_TOKEN_MAX + 1]; /* secret */
    int64_t token_se;
    /* the running request */
    bool done;
    gh_err rc;
    struct gh_http_response resp;
};

static bool is_address(const char *h)
{
    return strspn(h, "0123456789.") == strlen(h) || strchr(h, ':') != NULL;
}

static gh_err read_small_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? GH_ERR_NOENT : errno == EACCES ? GH_ERR_PERM : GH_ERR_IO;
    size_t n = fread(out, 1, cap - 1, f);
    bool more = fgetc(f) != EOF;
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) return GH_ERR_IO;
    if (more) return GH_ERR_TOO_LARGE;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ')) n--;
    out[n] = '\0';
    return GH_OK;
}

/* Load and check the service connection string (if any source has one).
 * *found is false when no source gives one. */
static gh_err load_cs(struct sim *s, struct rest *r, bool *found)
{
    const struct gh_sim_opts *o = s->o;
    *found = false;
    if (o->cs_file != NULL) {
        gh_err rc = read_small_file(o->cs_file, r->cs_text, sizeof r->cs_text);
        if (rc != GH_OK)
            return sim_fail(s, rc, "--connection-string-file %s: %s", o->cs_file, gh_err_str(rc));
    } else {
        const char *t = o->cs != NULL ? o->cs : getenv(ENV_CS);
        if (t == NULL) return GH_OK;
        if (strlen(t) >= sizeof r->cs_text)
            return sim_fail(s, GH_ERR_TOO_LARGE, "connection string too long");
        snprintf(r->cs_text, sizeof r->cs_text, "%s", t);
    }
    const char *why = NULL;
    gh_err rc = gh_connstr_parse(gh_slice_cstr(r->cs_text), &r->cs, &why);
    if (rc == GH_OK) rc = gh_connstr_check_service(&r->cs, &why);
    if (rc != GH_OK)
        return sim_fail(s, rc, "service connection string: %s", why ? why : gh_err_str(rc));
    *found = true;
    return GH_OK;
}

static void rest_done(gh_err rc, struct gh_http_response *resp, void *user)
{
    struct rest *r = user;
    r->rc = rc;
    if (rc == GH_OK) r->resp = *resp;
    r->done = true;
    event_base_loopbreak(r->base);
}

static gh_err rest_token(struct rest *r)
{
    int64_t now = (int64_t)time(NULL);
    if (r->token[0] != '\0' && r->token_se - now > REST_TOKEN_TTL_S / 2) return GH_OK;
    char policy[GH_SIM_HOST_MAX + 1];
    GH_GUARD(gh_slice_to_cstr(r->cs.shared_access_key_name, policy, sizeof policy));
    struct gh_writer w;
    gh_writer_init(&w, r->token, sizeof r->token);
    GH_GUARD(
        gh_sas_build(r->cs.host_name, r->cs.shared_access_key, now + REST_TOKEN_TTL_S, policy, &w));
    GH_GUARD(gh_writer_terminate(&w));
    r->token_se = now + REST_TOKEN_TTL_S;
    return GH_OK;
}

/* One request; on GH_OK r->resp holds the response (any status). */
static gh_err rest_call(struct rest *r, const char *method, const char *target, const char *body)
{
    GH_GUARD(rest_token(r));
    if (r->resp.body != NULL) gh_secure_zero(r->resp.body, r->resp.body_len); /* may hold keys */
    gh_http_response_cleanup(&r->resp);
    struct gh_http_kv kv[] = {{"Authorization", r->token}};
    struct gh_http_client_request rq = {
        .method = method,
        .target = target,
        .headers = kv,
        .n_headers = 1,
        .content_type = body ? "application/json; charset=utf-8" : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = REST_TIMEOUT_MS,
    };
    r->done = false;
    r->rc = GH_ERR_INTERNAL;
    GH_GUARD(gh_http_client_request(r->cl, &rq, rest_done, r));
    while (!r->done)
        if (event_base_dispatch(r->base) < 0) return GH_ERR_INTERNAL;
    return r->rc;
}

static gh_err status_err(unsigned st)
{
    if (st == 401 || st == 403) return GH_ERR_FORBIDDEN;
    if (st == STATUS_NOT_FOUND) return GH_ERR_NOT_FOUND;
    if (st == STATUS_CONFLICT || st == 412) return GH_ERR_CONFLICT;
    if (st == 429 || st >= 500) return GH_ERR_IO;
    return GH_ERR_BAD_PROTOCOL;
}

static gh_err device_target(char *out, size_t cap, const char *id)
{
    char enc[3 * GH_SIM_ID_MAX + 1];
    struct gh_writer w;
    gh_writer_init(&w, enc, sizeof enc);
    GH_GUARD(gh_pct_encode(id, strlen(id), &w));
    GH_GUARD(gh_writer_terminate(&w));
    int k = snprintf(out, cap, "/devices/%s?api-version=%s", enc, GH_SIM_API_VERSION);
    GH_ENSURE(k > 0 && (size_t)k < cap, GH_ERR_NOBUFS);
    return GH_OK;
}

static gh_err rest_open(struct sim *s, struct rest *r, const char *hub)
{
    const struct gh_sim_opts *o = s->o;
    r->base = event_base_new();
    if (r->base == NULL) return sim_fail(s, GH_ERR_NOMEM, "out of memory");
    const char *addr = o->https_address;
    if (addr == NULL && o->gateway == NULL) addr = o->address;
    if (addr == NULL) addr = hub;
    if (!is_address(addr)) {
        r->dns = evdns_base_new(r->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
        if (r->dns == NULL) return sim_fail(s, GH_ERR_IO, "cannot start a DNS resolver");
    }
    struct gh_http_client_options ho = {
        .host = addr,
        .port = o->https_port,
        .server_name = hub,
        .tls = s->tls,
        .dns = r->dns,
        .max_response = REST_BODY_MAX,
    };
    gh_err rc = gh_http_client_new(r->base, &ho, &r->cl);
    if (rc != GH_OK) return sim_fail(s, rc, "REST client: %s", gh_err_str(rc));
    return GH_OK;
}

static void rest_close(struct rest *r)
{
    if (r->resp.body != NULL) gh_secure_zero(r->resp.body, r->resp.body_len);
    gh_http_response_cleanup(&r->resp);
    if (r->cl != NULL) {
        gh_http_client_free(r->cl);
        r->cl = NULL;
        if (r->base != NULL) event_base_loop(r->base, EVLOOP_NONBLOCK);
    }
    if (r->dns != NULL) evdns_base_free(r->dns, 0);
    if (r->base != NULL) event_base_free(r->base);
    r->dns = NULL;
    r->base = NULL;
    gh_secure_zero(r->cs_text, sizeof r->cs_text);
    gh_secure_zero(r->token, sizeof r->token);
    gh_secure_zero(&r->cs, sizeof r->cs);
}

static gh_err rest_fail(struct sim *s, struct rest *r, gh_err rc, const char *what, const char *id)
{
    if (rc == GH_OK) {
        unsigned st = r->resp.status;
        rc = status_err(st);
        return sim_fail(s, rc, "%s %s: hub answered %u", what, id, st);
    }
    return sim_fail(s, rc, "%s %s: %s", what, id, gh_err_str(rc));
}

/* The parent's deviceScope (GET /devices/{parent}). */
static gh_err parent_scope(struct sim *s, struct rest *r, char *out, size_t cap)
{
    char target[TARGET_MAX];
    GH_GUARD(device_target(target, sizeof target, s->o->parent));
    gh_err rc = rest_call(r, "GET", target, NULL);
    if (rc != GH_OK || r->resp.status != 200) return rest_fail(s, r, rc, "parent", s->o->parent);
    json_t *dev = json_loadb((const char *)r->resp.body, r->resp.body_len, 0, NULL);
    const char *scope = json_string_value(json_object_get(dev, "deviceScope"));
    bool edge = json_is_true(json_object_get(json_object_get(dev, "capabilities"), "iotEdge"));
    rc = GH_OK;
    if (dev == NULL)
        rc = sim_fail(s, GH_ERR_BAD_JSON, "parent %s: bad JSON", s->o->parent);
    else if (!edge || scope == NULL || scope[0] == '\0')
        rc = sim_fail(s, GH_ERR_ARG, "parent %s is not an IoT Edge device", s->o->parent);
    else if (strlen(scope) >= cap)
        rc = sim_fail(s, GH_ERR_TOO_LARGE, "parent %s: deviceScope too long", s->o->parent);
    else
        snprintf(out, cap, "%s", scope);
    json_decref(dev);
    return rc;
}

static gh_err lookup_device(struct sim *s, struct rest *r, struct sim_dev *d);

/* PUT a new device; 409 (exists) is fine. For SAS, d->key is the key to
 * create it with and is replaced by the hub's key of an existing device. */
static gh_err create_device(struct sim *s, struct rest *r, struct sim_dev *d, const char *scope)
{
    bool sas = s->o->auth == GH_SIM_AUTH_SAS;
    char target[TARGET_MAX];
    GH_GUARD(device_target(target, sizeof target, d->id));
    json_t *auth = sas ? json_pack("{s:s, s:{s:s, s:s}}", "type", "sas", "symmetricKey",
                                   "primaryKey", d->key, "secondaryKey", d->key)
                       : json_pack("{s:s}", "type", "certificateAuthority");
    json_t *dev = json_pack("{s:s, s:s, s:o*}", "deviceId", d->id, "status", "enabled",
                            "authentication", auth);
    if (dev != NULL && scope != NULL) {
        if (json_object_set_new(dev, "deviceScope", json_string(scope)) != 0 ||
            json_object_set_new(dev, "parentScopes", json_pack("[s]", scope)) != 0) {
            json_decref(dev);
            dev = NULL;
        }
    }
    char *body = dev ? json_dumps(dev, JSON_COMPACT) : NULL;
    json_decref(dev);
    if (body == NULL) return sim_fail(s, GH_ERR_NOMEM, "out of memory");
    gh_err rc = rest_call(r, "PUT", target, body);
    gh_secure_zero(body, strlen(body));
    free(body);
    if (rc != GH_OK) return rest_fail(s, r, rc, "create device", d->id);
    if (r->resp.status == 200 || r->resp.status == 201) return GH_OK;
    if (r->resp.status != STATUS_CONFLICT) return rest_fail(s, r, GH_OK, "create device", d->id);
    if (!sas) return GH_OK;
    return lookup_device(s, r, d); /* it exists: use its key */
}

/* GET an existing SAS device and take its primary key. */
static gh_err lookup_device(struct sim *s, struct rest *r, struct sim_dev *d)
{
    char target[TARGET_MAX];
    GH_GUARD(device_target(target, sizeof target, d->id));
    gh_err rc = rest_call(r, "GET", target, NULL);
    if (rc != GH_OK || r->resp.status != 200) return rest_fail(s, r, rc, "device", d->id);
    json_t *got = json_loadb((const char *)r->resp.body, r->resp.body_len, 0, NULL);
    json_t *a = json_object_get(got, "authentication");
    const char *type = json_string_value(json_object_get(a, "type"));
    const char *key =
        json_string_value(json_object_get(json_object_get(a, "symmetricKey"), "primaryKey"));
    rc = GH_OK;
    if (got == NULL)
        rc = sim_fail(s, GH_ERR_BAD_JSON, "device %s: bad JSON", d->id);
    else if (type == NULL || strcmp(type, "sas") != 0 || key == NULL || key[0] == '\0' ||
             strlen(key) >= sizeof d->key)
        rc = sim_fail(s, GH_ERR_CONFLICT, "device %s exists and has no usable SAS key", d->id);
    else
        snprintf(d->key, sizeof d->key, "%s", key);
    gh_secure_zero(r->resp.body, r->resp.body_len);
    json_decref(got);
    return rc;
}

static gh_err random_key(char *out, size_t cap)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    GH_GUARD(gh_generate_key_b64(GH_SYMKEY_DEFAULT_LEN, &w));
    return gh_writer_terminate(&w);
}

static gh_err derived_key(const char *group_key, const char *id, char *out, size_t cap)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    GH_GUARD(gh_derive_device_key(gh_slice_cstr(group_key), gh_slice_cstr(id), &w));
    return gh_writer_terminate(&w);
}

static gh_err cert_paths(const char *dir, const char *id, char *cert, char *key, size_t cap)
{
    int a = snprintf(cert, cap, "%s/%s.cert.pem", dir, id);
    int b = snprintf(key, cap, "%s/%s.key.pem", dir, id);
    GH_ENSURE(a > 0 && (size_t)a < cap && b > 0 && (size_t)b < cap, GH_ERR_TOO_LARGE);
    return GH_OK;
}

/* Issue one device certificate (chain file cert, key file key) under ca. */
static gh_err issue_one(struct sim *s, const struct gh_pki_ca *ca, const char *dir, const char *id,
                        const char *cert, const char *key, struct gh_pki_diag *diag)
{
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_DEVICE);
    req.cn = id;
    struct gh_pki_subject_key sk = {.generate = s->o->key_type};
    struct gh_pki_files files = {
        .chain = cert, .cert = NULL, .key = key, .replace_cert = true, .replace_key = true};
    /* cert holds the chain (leaf + tenant CA): what the TLS layer sends. */
    char leaf[GH_SIM_PATH_MAX];
    int k = snprintf(leaf, sizeof leaf, "%s/%s.leaf.pem", dir, id);
    if (k <= 0 || (size_t)k >= sizeof leaf)
        return sim_fail(s, GH_ERR_TOO_LARGE, "--work-dir: path too long");
    files.cert = leaf;
    gh_err rc = gh_pki_issue_files(&req, ca, &sk, &files, NULL, NULL, diag);
    if (rc != GH_OK) return sim_fail(s, rc, "device certificate %s: %s", id, diag->msg);
    return GH_OK;
}

static gh_err issue_certs(struct sim *s, const char *dir)
{
    const struct gh_sim_opts *o = s->o;
    struct gh_pki_diag diag = {{0}};
    struct gh_pki_secret pw = {0};
    struct gh_pki_ca ca = {0};
    gh_err rc = GH_OK;
    if (o->ca_password_file != NULL) {
        rc = gh_pki_password_file(o->ca_password_file, &pw, &diag);
        if (rc != GH_OK) {
            sim_fail(s, rc, "--ca-password-file: %s", diag.msg);
            goto out;
        }
    }
    rc = gh_pki_ca_load(o->ca_cert, o->ca_key, o->ca_cert, pw.data ? &pw : NULL, &ca, &diag);
    if (rc != GH_OK) {
        sim_fail(s, rc, "tenant CA: %s", diag.msg);
        goto out;
    }
    for (unsigned i = 0; i < s->n; i++) {
        struct sim_dev *d = &s->devs[i];
        char cert[GH_SIM_PATH_MAX], key[GH_SIM_PATH_MAX];
        rc = cert_paths(dir, d->id, cert, key, sizeof cert);
        if (rc != GH_OK) {
            sim_fail(s, rc, "--work-dir: path too long");
            goto out;
        }
        bool have = o->reuse_certs && access(cert, R_OK) == 0 && access(key, R_OK) == 0;
        if (!have) rc = issue_one(s, &ca, dir, d->id, cert, key, &diag);
        if (rc != GH_OK) goto out;
        struct gh_tls_client_config tc = {
            .ca_file = o->ca ? o->ca : getenv(ENV_CA),
            .id = {.cert_file = cert, .key_file = key},
        };
        char detail[GH_TLS_DETAIL_MAX] = "";
        rc = gh_tls_client_new(&tc, &d->tls, detail, sizeof detail);
        if (rc != GH_OK) {
            sim_fail(s, rc, "TLS client of %s: %s", d->id, detail);
            goto out;
        }
    }
out:
    gh_pki_ca_cleanup(&ca);
    gh_pki_secret_cleanup(&pw);
    return rc;
}

static gh_err work_dir(struct sim *s, char *out, size_t cap)
{
    if (s->o->work_dir != NULL) {
        if (strlen(s->o->work_dir) >= cap)
            return sim_fail(s, GH_ERR_TOO_LARGE, "--work-dir too long");
        snprintf(out, cap, "%s", s->o->work_dir);
        return GH_OK;
    }
    const char *t = getenv("TMPDIR");
    int k =
        snprintf(s->tmp_dir, sizeof s->tmp_dir, "%s/gatehouse-sim-XXXXXX", t && t[0] ? t : "/tmp");
    if (k <= 0 || (size_t)k >= sizeof s->tmp_dir)
        return sim_fail(s, GH_ERR_TOO_LARGE, "TMPDIR too long");
    if (mkdtemp(s->tmp_dir) == NULL) {
        s->tmp_dir[0] = '\0';
        return sim_fail(s, GH_ERR_IO, "cannot make a temporary directory: %s", strerror(errno));
    }
    snprintf(out, cap, "%s", s->tmp_dir);
    return GH_OK;
}

gh_err sim_setup(struct sim *s)
{
    const struct gh_sim_opts *o = s->o;
    struct rest r;
    memset(&r, 0, sizeof r);
    bool have_cs = false;
    gh_err rc = load_cs(s, &r, &have_cs);
    if (rc != GH_OK) goto out;

    /* hub name and port */
    s->port = o->port;
    if (o->hub != NULL) {
        rc = gh_sim_hostport_parse(o->hub, s->hub, sizeof s->hub, &s->port);
        if (rc != GH_OK) {
            sim_fail(s, rc, "--hub: expected HOST[:PORT]");
            goto out;
        }
    } else if (have_cs) {
        rc = gh_slice_to_cstr(r.cs.host_name, s->hub, sizeof s->hub);
        if (rc != GH_OK) {
            sim_fail(s, rc, "HostName too long");
            goto out;
        }
    } else {
        rc = sim_fail(s, GH_ERR_USAGE, "no hub: give --hub or a service connection string");
        goto out;
    }
    if (o->gateway != NULL) {
        rc = gh_sim_hostport_parse(o->gateway, s->sni, sizeof s->sni, &s->port);
        if (rc != GH_OK) {
            sim_fail(s, rc, "--gateway: expected HOST[:PORT]");
            goto out;
        }
    } else {
        snprintf(s->sni, sizeof s->sni, "%s", s->hub);
    }
    snprintf(s->dial, sizeof s->dial, "%s", o->address ? o->address : s->sni);

    /* the shared TLS context (server verification; SAS devices; REST) */
    struct gh_tls_client_config tc = {.ca_file = o->ca ? o->ca : getenv(ENV_CA)};
    char detail[GH_TLS_DETAIL_MAX] = "";
    rc = gh_tls_client_new(&tc, &s->tls, detail, sizeof detail);
    if (rc != GH_OK) {
        sim_fail(s, rc, "TLS: %s", detail);
        goto out;
    }

    bool sas = o->auth == GH_SIM_AUTH_SAS;
    /* REST: creating devices, or looking up SAS keys (--no-create). */
    bool rest = sas ? o->group_key == NULL : o->create;
    if (rest && !have_cs) {
        rc = sim_fail(s, GH_ERR_USAGE,
                      "creating devices needs the hub's service connection string "
                      "(--connection-string, --connection-string-file or $%s)",
                      ENV_CS);
        goto out;
    }
    for (unsigned i = 0; i < s->n; i++) {
        struct sim_dev *d = &s->devs[i];
        struct gh_writer w;
        gh_writer_init(&w, d->id, sizeof d->id);
        rc = gh_sim_device_id(&w, o->prefix, i, s->n);
        if (rc != GH_OK) {
            sim_fail(s, rc, "--prefix: device ids would be invalid (IoT Hub id rule)");
            goto out;
        }
        if (sas && o->group_key != NULL)
            rc = derived_key(o->group_key, d->id, d->key, sizeof d->key);
        else if (sas)
            rc = random_key(d->key, sizeof d->key);
        if (rc != GH_OK) {
            sim_fail(s, rc, "device key of %s: %s", d->id, gh_err_str(rc));
            goto out;
        }
    }
    if (rest) {
        rc = rest_open(s, &r, s->hub);
        if (rc != GH_OK) goto out;
        char scope[SCOPE_MAX];
        if (o->parent != NULL) {
            rc = parent_scope(s, &r, scope, sizeof scope);
            if (rc != GH_OK) goto out;
        }
        for (unsigned i = 0; i < s->n; i++) {
            struct sim_dev *d = &s->devs[i];
            rc = o->create ? create_device(s, &r, d, o->parent ? scope : NULL)
                           : lookup_device(s, &r, d);
            if (rc != GH_OK) goto out;
        }
    }
    if (!sas) {
        char dir[GH_SIM_PATH_MAX];
        rc = work_dir(s, dir, sizeof dir);
        if (rc == GH_OK) rc = issue_certs(s, dir);
    }
out:
    rest_close(&r);
    return rc;
}

void sim_setup_cleanup(struct sim *s)
{
    for (unsigned i = 0; s->devs != NULL && i < s->n; i++) {
        gh_tls_client_free(s->devs[i].tls);
        s->devs[i].tls = NULL;
        gh_secure_zero(s->devs[i].key, sizeof s->devs[i].key);
        if (s->tmp_dir[0] != '\0' && s->devs[i].id[0] != '\0') {
            char a[GH_SIM_PATH_MAX], b[GH_SIM_PATH_MAX], c[GH_SIM_PATH_MAX];
            if (cert_paths(s->tmp_dir, s->devs[i].id, a, b, sizeof a) == GH_OK) {
                (void)unlink(a);
                (void)unlink(b);
            }
            int k = snprintf(c, sizeof c, "%s/%s.leaf.pem", s->tmp_dir, s->devs[i].id);
            if (k > 0 && (size_t)k < sizeof c) (void)unlink(c);
        }
    }
    if (s->tmp_dir[0] != '\0') {
        (void)rmdir(s->tmp_dir);
        s->tmp_dir[0] = '\0';
    }
    gh_tls_client_free(s->tls);
    s->tls = NULL;
}
