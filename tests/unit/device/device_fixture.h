/* Shared harness of the device library tests (header-only; each test_*.c is
 * its own executable, included after cmocka.h): a temp dir with a PKI made
 * by the pki library (root CA, device certificates), a real gatehouse hub
 * (gh_hub_new, DPS enabled, loopback) and an event recorder for the client
 * callbacks. Waits run an event loop until a condition holds or a libevent
 * deadline fires; nothing sleeps. */
#ifndef GH_TEST_DEVICE_FIXTURE_H
#define GH_TEST_DEVICE_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "../run_until.h"
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "gatehouse/device.h"
#include "hub/hub.h"
#include "hub/store.h"
#include "iothub/crypto.h"
#include "pki/pki_files.h"

#define FX_UNUSED __attribute__((unused))
#define FX_HUB "hub.gatehouse.test"
#define FX_DPS "dps.gatehouse.test"
#define FX_SCOPE "0ne00000071"
#define FX_ADDR "127.0.0.1"
#define FX_WAIT_MS 15000u /* upper bound of every wait */
#define FX_MAX 64u

static struct {
    char dir[128];
    char root_cert[300], root_key[300];
    uint16_t port;
    struct gh_hub *hub;
} FX;

FX_UNUSED static const char *fx_path(const char *name)
{
    static char bufs[8][300];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", FX.dir, name);
    return b;
}

FX_UNUSED static int fx_issue(enum gh_pki_profile profile, const char *cn, const char *cert,
                              const char *key)
{
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, profile);
    req.cn = cn;
    struct gh_pki_ca ca;
    memset(&ca, 0, sizeof ca);
    struct gh_pki_diag diag = {{0}};
    bool root = profile == GH_PKI_PROFILE_ROOT;
    if (!root && gh_pki_ca_load(FX.root_cert, FX.root_key, NULL, NULL, &ca, &diag) != GH_OK) {
        fprintf(stderr, "ca load: %s\n", diag.msg);
        return -1;
    }
    struct gh_pki_subject_key sk = {.generate = GH_PKI_KEY_TYPE_DEFAULT};
    struct gh_pki_files files = {.cert = cert, .key = key};
    gh_err rc = gh_pki_issue_files(&req, root ? NULL : &ca, &sk, &files, NULL, NULL, &diag);
    gh_pki_ca_cleanup(&ca);
    if (rc != GH_OK) fprintf(stderr, "issue %s: %s %s\n", cn, gh_err_str(rc), diag.msg);
    return rc == GH_OK ? 0 : -1;
}

/* Upper-case SHA-1 thumbprint of a PEM certificate file into out (41 bytes). */
FX_UNUSED static int fx_thumbprint(const char *cert, char *out, size_t cap)
{
    FILE *f = fopen(cert, "r");
    if (!f) return -1;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) return -1;
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    if (n <= 0) return -1;
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    gh_err rc = gh_thumbprint_hex(der, (size_t)n, GH_THUMBPRINT_SHA1, &w);
    OPENSSL_free(der);
    return rc == GH_OK && gh_writer_terminate(&w) == GH_OK ? 0 : -1;
}

FX_UNUSED static char *fx_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

/* A port on addr nobody listens on right now (0 on failure). */
FX_UNUSED static uint16_t fx_free_port_on(const char *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, addr, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return 0;
    }
    socklen_t n = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &n);
    close(fd);
    return ntohs(a.sin_port);
}

FX_UNUSED static uint16_t fx_free_port(void)
{
    return fx_free_port_on(FX_ADDR);
}

/* Temp dir and root CA. */
FX_UNUSED static int fx_pki_setup(const char *tag)
{
    signal(SIGPIPE, SIG_IGN);
    gh_log_set_level(GH_LOG_ERROR);
    snprintf(FX.dir, sizeof FX.dir, "/tmp/gh-device-%s-XXXXXX", tag);
    if (!mkdtemp(FX.dir)) return -1;
    snprintf(FX.root_cert, sizeof FX.root_cert, "%s/root.cert.pem", FX.dir);
    snprintf(FX.root_key, sizeof FX.root_key, "%s/root.key.pem", FX.dir);
    FX.port = 0; /* the first hub start lets the kernel choose (no race with other tests) */
    return fx_issue(GH_PKI_PROFILE_ROOT, "Device Test Root", FX.root_cert, FX.root_key);
}

FX_UNUSED static void fx_cleanup(void)
{
    if (FX.dir[0]) {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", FX.dir);
        if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    }
}

/* A hub (DPS enabled) on FX_ADDR:FX.port (MQTT; 0 at the first start: any
 * free port, then FX.port says which) and https_port (0: no HTTPS API)
 * with its data in FX.dir/data. */
FX_UNUSED static int fx_hub_start_https(uint16_t https_port)
{
    struct gh_hub_config cfg;
    struct gh_toml_error terr;
    if (gh_hub_config_load(NULL, &cfg, &terr) != GH_OK) return -1;
    snprintf(cfg.hostname, sizeof cfg.hostname, FX_HUB);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", FX.dir);
    snprintf(cfg.listen_address, sizeof cfg.listen_address, FX_ADDR);
    snprintf(cfg.tls_ca_cert, sizeof cfg.tls_ca_cert, "%s", FX.root_cert);
    snprintf(cfg.tls_ca_key, sizeof cfg.tls_ca_key, "%s", FX.root_key);
    cfg.dps_enabled = true;
    snprintf(cfg.dps_hostname, sizeof cfg.dps_hostname, FX_DPS);
    snprintf(cfg.dps_id_scope, sizeof cfg.dps_id_scope, FX_SCOPE);
    cfg.mqtt_port = FX.port;
    cfg.https_port = https_port;
    char why[512] = "";
    if (gh_hub_new(&cfg, &FX.hub, why, sizeof why) != GH_OK) {
        fprintf(stderr, "gh_hub_new: %s\n", why);
        return -1;
    }
    FX.port = gh_hub_mqtt_port(FX.hub); /* restarts reuse it */
    return 0;
}

FX_UNUSED static int fx_hub_start(void)
{
    return fx_hub_start_https(0);
}

/* Create a SAS device; its primary key into key (GH_IDENTITY_KEY_MAX + 1). */
FX_UNUSED static int fx_device_sas(const char *id, char *key)
{
    struct gh_identity in, out;
    memset(&in, 0, sizeof in);
    snprintf(in.device_id, sizeof in.device_id, "%s", id);
    in.auth_type = GH_AUTH_SAS;
    if (gh_store_identity_create(gh_hub_store(FX.hub), &in, &out) != GH_OK) return -1;
    memcpy(key, out.primary_key, GH_IDENTITY_KEY_MAX + 1);
    gh_identity_wipe(&out);
    return 0;
}

/* ---- recorder ---------------------------------------------------------------- */

struct fx_rec {
    unsigned connected, disconnected, provisioned, failed;
    int last_reason, disc_reason;
    char detail[256];
    unsigned sent_ok, sent_err;
    int send_results[FX_MAX];
    unsigned c2d;
    char c2d_body[256], c2d_mid[64], c2d_app[128];
    unsigned desired;
    char desired_json[512];
    uint64_t desired_version;
    unsigned methods;
    char method_name[64], method_rid[64], method_payload[256];
    bool respond; /* answer methods at once */
    unsigned twin_done;
    int twin_status;
    char twin_body[1024];
    uint64_t twin_version;
    struct gh_device_client *c;
};

static void fx_on_connection(void *u, enum gh_device_status st, int reason, const char *detail)
{
    struct fx_rec *r = u;
    r->last_reason = reason;
    snprintf(r->detail, sizeof r->detail, "%s", detail);
    if (st == GH_DEVICE_CONNECTED) r->connected++;
    if (st == GH_DEVICE_DISCONNECTED) {
        r->disconnected++;
        r->disc_reason = reason;
    }
    if (st == GH_DEVICE_PROVISIONED) r->provisioned++;
    if (st == GH_DEVICE_PROVISION_FAILED) r->failed++;
}

static void fx_on_c2d(void *u, const struct gh_device_c2d *m)
{
    struct fx_rec *r = u;
    r->c2d++;
    snprintf(r->c2d_body, sizeof r->c2d_body, "%.*s", (int)m->len, (const char *)m->body);
    snprintf(r->c2d_mid, sizeof r->c2d_mid, "%s", m->message_id ? m->message_id : "");
    r->c2d_app[0] = '\0';
    for (size_t i = 0; i < m->napp; i++) {
        size_t l = strlen(r->c2d_app);
        snprintf(r->c2d_app + l, sizeof r->c2d_app - l, "%s=%s;", m->app[i].key,
                 m->app[i].value ? m->app[i].value : "(null)");
    }
}

static void fx_on_desired(void *u, const char *json, size_t len, uint64_t version)
{
    struct fx_rec *r = u;
    r->desired++;
    r->desired_version = version;
    snprintf(r->desired_json, sizeof r->desired_json, "%.*s", (int)len, json);
}

static void fx_on_method(void *u, const char *name, const char *payload, size_t len,
                         const char *rid)
{
    struct fx_rec *r = u;
    r->methods++;
    snprintf(r->method_name, sizeof r->method_name, "%s", name);
    snprintf(r->method_rid, sizeof r->method_rid, "%s", rid);
    snprintf(r->method_payload, sizeof r->method_payload, "%.*s", (int)len, payload);
    if (r->respond) {
        const char *resp = "{\"done\":true}";
        assert_int_equal(gh_device_method_respond(r->c, rid, 201, resp, strlen(resp)), 0);
    }
}

FX_UNUSED static const struct gh_device_callbacks fx_cbs = {
    .on_connection = fx_on_connection,
    .on_c2d = fx_on_c2d,
    .on_desired = fx_on_desired,
    .on_method = fx_on_method,
};

FX_UNUSED static void fx_send_done(void *ctx, int result)
{
    struct fx_rec *r = ctx;
    if (r->sent_ok + r->sent_err < FX_MAX) r->send_results[r->sent_ok + r->sent_err] = result;
    if (result == 0)
        r->sent_ok++;
    else
        r->sent_err++;
}

FX_UNUSED static void fx_twin_done(void *ctx, int result, int status, const char *body, size_t len,
                                   uint64_t version)
{
    struct fx_rec *r = ctx;
    r->twin_done++;
    r->twin_status = result ? -result : status;
    r->twin_version = version;
    snprintf(r->twin_body, sizeof r->twin_body, "%.*s", (int)len, body);
}

/* ---- bounded loop ------------------------------------------------------------------ */

FX_UNUSED static bool fx_is_connected(void *a)
{
    struct fx_rec *r = a;
    return r->c && gh_device_client_connected(r->c);
}

#endif
