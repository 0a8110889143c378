/* `gatehouse edge check`: configuration, certificates, clock, hub and DPS
 * reachability over TLS, data directory. Each check prints [ok], [warn] or
 * [fail] and, when it is not ok, what to do. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/x509.h>

#include "edge/config_internal.h"
#include "edge/edge_cli_int.h"
#include "http/client.h"
#include "net/conn.h"
#include "net/tls.h"
#include "pki/pki_cert.h"
#include "pki/pki_files.h"
#include "pki/pki_info.h"
#include "pki/pki_key.h"

#define CHECK_TLS_TIMEOUT_MS 5000u   /* one TLS handshake / HTTPS request */
#define CHECK_EXPIRY_WARN_DAYS 30    /* warn when a certificate expires sooner */
#define CHECK_CLOCK_SKEW_MAX 300     /* seconds between our clock and the hub's */
#define CHECK_CN_MAX 64              /* longest CN (RFC 5280 ub-common-name) */
#define CHECK_CLOCK_FLOOR 1761955200 /* 2025-11-01T00:00:00Z: earlier than this release */
#define CHECK_DPS_PORT_DEFAULT 443

struct checker {
    int ok, warn, fail;
    gh_err cat;   /* error reported for the checks that follow */
    gh_err first; /* of the first failure: the exit status */
};

__attribute__((format(printf, 4, 5))) static void report(struct checker *ck, int level,
                                                         const char *advice, const char *fmt, ...)
{
    static const char *const tags[] = {"[ok]  ", "[warn]", "[fail]"};
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", tags[level]);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (level > 0 && advice) printf("       -> %s\n", advice);
    if (level == 0)
        ck->ok++;
    else if (level == 1)
        ck->warn++;
    else if (ck->fail++ == 0)
        ck->first = ck->cat;
    fflush(stdout);
}

#define OK 0
#define WARN 1
#define FAIL 2

static void time_text(time_t t, char *out, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%d", &tm);
}

static void check_expiry(struct checker *ck, const char *what, X509 *cert, const char *advice)
{
    struct gh_pki_cert_info info;
    if (gh_pki_cert_info(cert, time(NULL), &info) != GH_OK) {
        report(ck, FAIL, advice, "%s: cannot read the certificate's validity", what);
        return;
    }
    char when[32];
    time_text(info.not_after, when, sizeof when);
    if (info.expired)
        report(ck, FAIL, advice, "%s '%s' expired on %s", what, info.cn, when);
    else if (info.not_yet_valid)
        report(ck, FAIL, "check the clock, or the certificate's notBefore",
               "%s '%s' is not valid yet", what, info.cn);
    else if (info.days_left < CHECK_EXPIRY_WARN_DAYS)
        report(ck, WARN, advice, "%s '%s' expires in %lld days (%s)", what, info.cn, info.days_left,
               when);
    else
        report(ck, OK, NULL, "%s '%s' valid for %lld more days (%s)", what, info.cn, info.days_left,
               when);
}

/* Certificate + key files: readable, matching, optionally a CA, expiry. */
static void check_pair(struct checker *ck, const char *what, const char *cert_path,
                       const char *key_path, bool must_be_ca, const char *advice)
{
    struct gh_pki_ca pair;
    struct gh_pki_diag diag;
    memset(&pair, 0, sizeof pair);
    memset(&diag, 0, sizeof diag);
    gh_err rc = gh_pki_ca_load(cert_path, key_path, NULL, NULL, &pair, &diag);
    if (rc != GH_OK) {
        report(ck, FAIL, advice, "%s: %s", what, diag.msg[0] ? diag.msg : gh_err_str(rc));
        return;
    }
    X509 *cert = pair.cert.v[0];
    if (gh_pki_key_matches(pair.key, X509_get0_pubkey(cert)) != GH_OK)
        report(ck, FAIL, "give the private key that belongs to the certificate",
               "%s: the key %s does not match the certificate %s", what, key_path, cert_path);
    else
        report(ck, OK, NULL, "%s: certificate and key readable and matching", what);
    struct gh_pki_cert_info info;
    if (must_be_ca && gh_pki_cert_info(cert, time(NULL), &info) == GH_OK && !info.is_ca)
        report(ck, FAIL,
               "use a CA certificate (basicConstraints CA:TRUE), e.g. from gatehouse pki "
               "issue-edge-ca",
               "%s: %s is not a CA certificate, so it cannot issue the server certificate", what,
               cert_path);
    check_expiry(ck, what, cert, advice);
    gh_pki_ca_cleanup(&pair);
}

static void check_trust_bundle(struct checker *ck, const struct gh_edge_config *cfg)
{
    if (cfg->trust_bundle_cert[0] == '\0') {
        report(ck, WARN, "set trust_bundle_cert to the root CA of the hub and of your devices' CAs",
               "trust_bundle_cert is not set: the system trust store verifies the hub, and no "
               "X.509 child can authenticate");
        return;
    }
    struct gh_pki_certs certs = {0};
    struct gh_pki_diag diag;
    memset(&diag, 0, sizeof diag);
    gh_err rc = gh_pki_certs_load(&certs, cfg->trust_bundle_cert, &diag);
    if (rc != GH_OK) {
        report(ck, FAIL, "point trust_bundle_cert at a readable PEM file of CA certificates",
               "trust bundle: %s", diag.msg[0] ? diag.msg : gh_err_str(rc));
        return;
    }
    report(ck, OK, NULL, "trust bundle %s: %zu certificate(s)", cfg->trust_bundle_cert, certs.n);
    for (size_t i = 0; i < certs.n; i++)
        check_expiry(ck, "trust bundle certificate", certs.v[i],
                     "replace the expiring CA in the bundle (and everything it issued)");
    gh_pki_certs_cleanup(&certs);
}

static void check_hostname(struct checker *ck, const struct gh_edge_config *cfg)
{
    size_t len = strlen(cfg->hostname);
    if (len > CHECK_CN_MAX)
        report(ck, FAIL, "use a host name of at most 64 characters (it is the certificate CN)",
               "hostname '%s' is %zu characters long", cfg->hostname, len);
    const char *addr = gh_edge_config_resolve(cfg, cfg->hostname);
    if (addr != cfg->hostname) {
        report(ck, OK, NULL, "hostname %s is in [hosts] (%s)", cfg->hostname, addr);
        return;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int e = getaddrinfo(cfg->hostname, NULL, &hints, &res);
    if (e == 0) {
        freeaddrinfo(res);
        report(ck, OK, NULL, "hostname %s resolves", cfg->hostname);
    } else {
        report(ck, WARN,
               "children dial this name: add it to DNS (or their hosts files) pointing at this "
               "gateway",
               "hostname %s does not resolve here (%s)", cfg->hostname, gai_strerror(e));
    }
}

/* ---- TLS probes --------------------------------------------------------- */

struct probe {
    bool done;
    gh_err rc;
    char detail[256];
};

static void probe_open(struct gh_conn *c, void *user)
{
    struct probe *p = user;
    p->done = true;
    p->rc = GH_OK;
    gh_conn_close(c);
}

static void probe_close(struct gh_conn *c, gh_err reason, void *user)
{
    struct probe *p = user;
    if (p->done) return;
    p->done = true;
    p->rc = reason == GH_OK ? GH_ERR_CLOSED : reason;
    const char *d = gh_conn_error_detail(c);
    if (d) snprintf(p->detail, sizeof p->detail, "%s", d);
}

static const struct gh_conn_callbacks probe_cbs = {.on_open = probe_open, .on_close = probe_close};

/* A TLS handshake with name at addr:port, verified against tls. */
static gh_err tls_probe(struct gh_tls_client *tls, const char *addr, const char *name,
                        uint16_t port, char *detail, size_t cap)
{
    struct probe p = {.done = false, .rc = GH_ERR_INTERNAL};
    struct event_base *base = event_base_new();
    if (!base) return GH_ERR_NOMEM;
    struct evdns_base *dns = NULL;
    if (!gh_edge_ip_literal(addr)) dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    struct gh_conn_connect_params cp = {.host = addr,
                                        .port = port,
                                        .tls = tls,
                                        .server_name = name,
                                        .dns = dns,
                                        .timeout_ms = CHECK_TLS_TIMEOUT_MS};
    struct gh_conn *c = NULL;
    gh_err rc = gh_conn_connect(base, &cp, &probe_cbs, &p, &c);
    if (rc == GH_OK) {
        while (!p.done && event_base_loop(base, EVLOOP_ONCE) == 0) {
        }
        rc = p.done ? p.rc : GH_ERR_INTERNAL;
        event_base_dispatch(base); /* let the connection finish closing */
    }
    if (dns) evdns_base_free(dns, 1);
    event_base_free(base);
    snprintf(detail, cap, "%s", p.detail[0] ? p.detail : gh_err_str(rc));
    return rc;
}

static const char *tls_advice(gh_err rc)
{
    switch (rc) {
    case GH_ERR_CERT_VERIFY:
        return "the server's certificate does not chain to trust_bundle_cert (or does not name "
               "the host): append the hub's root CA to the trust bundle";
    case GH_ERR_NOT_FOUND:
        return "the name does not resolve: fix DNS or add it to [hosts]";
    case GH_ERR_TIMEOUT:
    case GH_ERR_IO:
    case GH_ERR_CLOSED:
        return "check that the server runs, the port, firewalls and [hosts]";
    default:
        return "check the server's TLS configuration";
    }
}

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") to time_t; 0 if malformed. */
static time_t parse_http_date(const char *d)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4] = "";
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(d, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT", &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    const char *m = strstr(months, mon);
    if (!m || strlen(mon) != 3 || (m - months) % 3 != 0) return 0;
    tm.tm_mon = (int)((m - months) / 3);
    tm.tm_year -= 1900;
    return timegm(&tm);
}

/* HTTPS GET / at host:port (any HTTP answer proves the handshake); the
 * Date header, when present, into *date (0 otherwise). */
static gh_err https_probe(struct gh_tls_client *tls, const char *addr, const char *name,
                          uint16_t port, time_t *date)
{
    struct gh_http_client_options opts = {
        .host = addr, .port = port, .server_name = name, .tls = tls, .max_response = 65536};
    struct gh_http_client_request rq = {
        .method = "GET", .target = "/", .timeout_ms = CHECK_TLS_TIMEOUT_MS};
    struct gh_http_response resp;
    memset(&resp, 0, sizeof resp);
    *date = 0;
    gh_err rc = gh_http_fetch(&opts, &rq, &resp);
    if (rc != GH_OK) return rc;
    const char *d = gh_http_response_header(&resp, "Date");
    if (d) *date = parse_http_date(d);
    gh_http_response_cleanup(&resp);
    return GH_OK;
}

static void check_upstream(struct checker *ck, const struct gh_edge_config *cfg,
                           struct gh_tls_client *tls)
{
    char hub[GH_EDGE_HOST_MAX] = "", dev[GH_EDGE_ID_MAX + 1];
    if (cfg->prov_source == GH_EDGE_PROV_MANUAL)
        snprintf(hub, sizeof hub, "%s", cfg->iothub_hostname);
    else if (gh_edge_cli_identity(cfg->data_dir, dev, sizeof dev, hub, sizeof hub) != GH_OK)
        hub[0] = '\0';
    if (hub[0] == '\0') {
        report(ck, WARN, "start the gateway once (it provisions through DPS), then check again",
               "hub: not provisioned yet, the hub is unknown; hub connectivity not checked");
        return;
    }
    const char *addr = gh_edge_config_resolve(cfg, hub);
    char detail[256];
    gh_err rc = tls_probe(tls, addr, hub, (uint16_t)cfg->upstream_mqtt_port, detail, sizeof detail);
    if (rc == GH_OK)
        report(ck, OK, NULL, "hub MQTT: TLS handshake with %s:%lld verified", hub,
               (long long)cfg->upstream_mqtt_port);
    else
        report(ck, FAIL, tls_advice(rc), "hub MQTT: TLS handshake with %s:%lld (%s) failed: %s",
               hub, (long long)cfg->upstream_mqtt_port, addr, detail);
    time_t date = 0;
    rc = https_probe(tls, addr, hub, (uint16_t)cfg->upstream_https_port, &date);
    if (rc == GH_OK)
        report(ck, OK, NULL, "hub HTTPS: TLS handshake with %s:%lld verified", hub,
               (long long)cfg->upstream_https_port);
    else
        report(ck, FAIL, tls_advice(rc), "hub HTTPS: TLS handshake with %s:%lld (%s) failed: %s",
               hub, (long long)cfg->upstream_https_port, addr, gh_err_str(rc));
    if (date != 0) {
        long long skew = (long long)(time(NULL) - date);
        if (llabs(skew) > CHECK_CLOCK_SKEW_MAX)
            report(ck, FAIL, "synchronise the clock (NTP): SAS tokens and certificates need it",
                   "clock: %lld s off the hub's clock", skew);
        else
            report(ck, OK, NULL, "clock: within %lld s of the hub's", llabs(skew));
    }
}

static void check_dps(struct checker *ck, const struct gh_edge_config *cfg,
                      struct gh_tls_client *tls)
{
    const char *host = cfg->global_endpoint + strlen("https://");
    size_t n = strcspn(host, ":/");
    char name[GH_EDGE_HOST_MAX];
    snprintf(name, sizeof name, "%.*s", (int)n, host);
    uint16_t port = CHECK_DPS_PORT_DEFAULT;
    if (host[n] == ':') port = (uint16_t)atoi(host + n + 1);
    const char *addr = gh_edge_config_resolve(cfg, name);
    time_t date;
    gh_err rc = https_probe(tls, addr, name, port, &date);
    if (rc == GH_OK)
        report(ck, OK, NULL, "DPS: TLS handshake with %s:%u verified", name, port);
    else
        report(ck, FAIL, tls_advice(rc), "DPS: TLS handshake with %s:%u (%s) failed: %s", name,
               port, addr, gh_err_str(rc));
}

static void check_data_dir(struct checker *ck, const struct gh_edge_config *cfg)
{
    struct stat sb;
    if (stat(cfg->data_dir, &sb) != 0) {
        report(ck, WARN, "it is created on start; make sure its parent is writable",
               "data directory %s does not exist yet", cfg->data_dir);
        return;
    }
    if (!S_ISDIR(sb.st_mode) || access(cfg->data_dir, W_OK | X_OK) != 0)
        report(ck, FAIL, "make storage.data_dir a directory the gateway's user can write",
               "data directory %s is not a writable directory", cfg->data_dir);
    else
        report(ck, OK, NULL, "data directory %s is writable", cfg->data_dir);
}

int gh_edge_cli_check(const char *home, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: gatehouse edge check [--home DIR]\n\n"
                   "Check the active configuration, the host name, the trust bundle, the edge\n"
                   "CA and identity certificates (readable, matching, expiry), the clock, TLS\n"
                   "to the hub's MQTT and HTTPS ports and to DPS (verified against the trust\n"
                   "bundle, dialled through [hosts]) and the data directory. Each line says\n"
                   "[ok], [warn] or [fail] and what to do. Exit status 0 when nothing failed.\n");
            return 0;
        }
        fprintf(stderr, CLI_NAME " check: unknown option '%s'\n", argv[i]);
        return gh_err_exit_status(GH_ERR_USAGE);
    }
    struct checker ck = {0, 0, 0, GH_ERR_CONFIG_VALUE, GH_OK};
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    char path[GH_EDGE_PATH_MAX + 32], why[512] = "";
    snprintf(path, sizeof path, "%s/%s", home, GH_EDGE_FILE_CONFIG);
    memset(&err, 0, sizeof err);
    gh_err rc = gh_edge_config_load(path, home, &cfg, &err);
    if (rc != GH_OK) {
        char msg[GH_TOML_MSG_MAX + GH_TOML_FILE_MAX + 32];
        gh_toml_error_format(&err, msg, sizeof msg);
        report(&ck, FAIL, "write a valid configuration with 'gatehouse edge config apply -c FILE'",
               "config: %s", rc == GH_ERR_NOENT && !err.line ? "no active config.toml" : msg);
        printf("\n1 check failed; the others need a configuration\n");
        return gh_err_exit_status(rc);
    }
    if ((rc = gh_edge_config_validate(&cfg, why, sizeof why)) != GH_OK)
        report(&ck, FAIL, "fix it and run 'gatehouse edge config apply'", "config: %s", why);
    else
        report(&ck, OK, NULL, "config: %s is valid", path);
    if (cfg.hostname[0]) check_hostname(&ck, &cfg);
    time_t now = time(NULL);
    if (now < CHECK_CLOCK_FLOOR)
        report(&ck, FAIL, "set the clock (NTP): certificates and SAS tokens depend on it",
               "clock: the system time is before this release was made");
    ck.cat = GH_ERR_CERT_VERIFY;
    check_trust_bundle(&ck, &cfg);
    check_pair(&ck, "edge CA", cfg.edge_ca_cert, cfg.edge_ca_pk, true,
               "issue a new edge CA (gatehouse pki) and point [edge_ca] cert/pk at it");
    if (cfg.attest_method == GH_EDGE_ATTEST_X509 && cfg.identity_cert[0])
        check_pair(&ck, "identity certificate", cfg.identity_cert, cfg.identity_pk, false,
                   "issue a new device certificate for the gateway and update identity_cert/pk");
    struct gh_tls_client *tls = NULL;
    char detail[GH_TLS_DETAIL_MAX] = "";
    struct gh_tls_client_config tcfg = {.ca_file = cfg.trust_bundle_cert[0] ? cfg.trust_bundle_cert
                                                                            : NULL};
    if ((rc = gh_tls_client_new(&tcfg, &tls, detail, sizeof detail)) != GH_OK) {
        report(&ck, FAIL, "fix trust_bundle_cert", "TLS client: %s",
               detail[0] ? detail : gh_err_str(rc));
    } else {
        ck.cat = GH_ERR_IO;
        check_upstream(&ck, &cfg, tls);
        if (cfg.prov_source == GH_EDGE_PROV_DPS && cfg.global_endpoint[0])
            check_dps(&ck, &cfg, tls);
        gh_tls_client_free(tls);
    }
    ck.cat = GH_ERR_IO;
    check_data_dir(&ck, &cfg);
    printf("\n%d ok, %d warning(s), %d failed\n", ck.ok, ck.warn, ck.fail);
    gh_edge_config_cleanup(&cfg);
    return gh_err_exit_status(ck.first);
}
