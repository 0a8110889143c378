/* gatehouse edge: the daemon's lifecycle (edge.h). */
#include "edge/edge.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/pem.h>

#include "common/log.h"
#include "config/toml.h"
#include "edge/cache.h"
#include "edge/edge_int.h"
#include "edge/provision.h"
#include "net/listener.h"
#include "net/tls.h"
#include "pki/pki_server.h"

int64_t gh_edge_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- pid file: one daemon per data directory ------------------------------ */

static gh_err pid_file(struct gh_edge *e, int *fd_out, char *err, size_t errlen)
{
    char path[GH_EDGE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", e->data_dir, GH_EDGE_FILE_PID);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return errno == EACCES ? GH_ERR_PERM : GH_ERR_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        snprintf(err, errlen, "another gatehouse edge runs with data directory %s (%s is locked)",
                 e->data_dir, path);
        return GH_ERR_CONFLICT;
    }
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, text, (size_t)n) != n) {
        close(fd);
        snprintf(err, errlen, "%s: cannot write the pid", path);
        return GH_ERR_IO;
    }
    *fd_out = fd;
    return GH_OK;
}

static void pid_file_remove(struct gh_edge *e, int fd)
{
    if (fd < 0) return;
    char path[GH_EDGE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", e->data_dir, GH_EDGE_FILE_PID);
    unlink(path);
    close(fd);
}

/* ---- certificates -------------------------------------------------------- */

/* The server certificate children see: issued from the edge CA for
 * `hostname`, renewed tls.renew_before ahead of expiry (force: now). */
static gh_err server_cert(struct gh_edge *e, bool force, bool *issued, char *err, size_t errlen)
{
    const char *dns[1] = {e->cfg->hostname};
    struct gh_pki_server_cert_req req = {
        .ca_cert = e->cfg->edge_ca_cert,
        .ca_key = e->cfg->edge_ca_pk,
        .dns = dns,
        .ndns = 1,
        .days = (unsigned)e->cfg->server_cert_days,
        .renew_before_s = e->cfg->server_cert_renew,
        .cert_path = e->cert_path,
        .key_path = e->key_path,
    };
    return gh_pki_server_cert_ensure(&req, force, issued, &e->cert_not_after_s, err, errlen);
}

static gh_err load_trust(struct gh_edge *e, char *err, size_t errlen)
{
    X509_STORE *st = X509_STORE_new();
    GH_ENSURE(st, GH_ERR_NOMEM);
    if (X509_STORE_load_file(st, e->cfg->trust_bundle_cert) != 1) {
        X509_STORE_free(st);
        snprintf(err, errlen, "trust_bundle_cert %s: not a readable PEM certificate bundle",
                 e->cfg->trust_bundle_cert);
        return GH_ERR_TLS;
    }
    X509_STORE_free(e->trust);
    e->trust = st;
    return GH_OK;
}

static struct gh_tls_server_config tls_config(const struct gh_edge *e)
{
    struct gh_tls_server_config tc = {
        .default_id = {.cert_file = e->cert_path, .key_file = e->key_path},
        .request_client_cert = true,
    };
    return tc;
}

/* Renew when due and hand the new certificate to the listener: existing
 * connections keep theirs, new ones get the new one. */
static void cert_check(struct gh_edge *e, bool force)
{
    char err[512] = "";
    bool issued = false;
    gh_err rc = server_cert(e, force, &issued, err, sizeof err);
    if (rc != GH_OK) {
        gh_log_error("edge.tls.renew", "err=%s detail=\"%s\"", gh_err_str(rc), err);
        return;
    }
    if (!issued) return;
    struct gh_tls_server_config tc = tls_config(e);
    char detail[GH_TLS_DETAIL_MAX] = "";
    rc = gh_tls_server_reload(e->tls, &tc, detail, sizeof detail);
    if (rc != GH_OK)
        gh_log_error("edge.tls.reload", "err=%s detail=\"%s\"", gh_err_str(rc), detail);
    else
        gh_log_info("edge.tls.renewed", "host=%s not_after=%lld", e->cfg->hostname,
                    (long long)e->cert_not_after_s);
}

/* ---- events ---------------------------------------------------------------- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct gh_edge *e = arg;
    int64_t now = gh_edge_now_ms();
    gh_edge_children_tick(e, now);
    gh_edge_sync_tick(e, now);
    gh_edge_store_tick(e);
    if (now - e->cert_checked_ms >= EDGE_CERT_CHECK_MS) {
        e->cert_checked_ms = now;
        cert_check(e, false);
    }
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct gh_edge *e = arg;
    gh_log_info("edge.signal", "signal=%d action=stop", (int)sig);
    e->stopping = true;
    event_base_loopexit(e->base, NULL);
}

/* Re-read <home>/config.toml and apply what changes without a restart:
 * routes, TTL, log level, trust bundle, edge CA (the server certificate is
 * re-issued now). A changed option that needs a restart is logged and left
 * as it was (`gatehouse edge config apply` restarts in that case). */
static void reload_config(struct gh_edge *e)
{
    char path[GH_EDGE_PATH_MAX + 16], err[512] = "";
    snprintf(path, sizeof path, "%s/%s", e->home, GH_EDGE_FILE_CONFIG);
    struct gh_edge_config *next = calloc(1, sizeof *next);
    struct gh_toml_error terr;
    memset(&terr, 0, sizeof terr);
    gh_err rc = next ? gh_edge_config_load(path, e->home, next, &terr) : GH_ERR_NOMEM;
    if (rc == GH_OK) rc = gh_edge_config_validate(next, err, sizeof err);
    if (rc != GH_OK) {
        gh_log_error("edge.reload.config", "path=%s err=%s detail=\"%s:%u:%u: %s%s\"", path,
                     gh_err_str(rc), terr.file, terr.line, terr.col, terr.msg, err);
        if (next) gh_edge_config_cleanup(next);
        free(next);
        return;
    }
    const char *fixed = gh_edge_config_changed(e->cfg, next);
    if (fixed) {
        gh_log_warn("edge.reload.restart_needed",
                    "option=%s action=\"kept the running value; "
                    "restart to apply\"",
                    fixed);
        gh_edge_config_cleanup(next);
        free(next);
        return;
    }
    if (gh_edge_routes_load(e, next, err, sizeof err) != GH_OK) {
        gh_log_error("edge.reload.routes", "detail=\"%s\"", err);
        gh_edge_config_cleanup(next);
        free(next);
        return;
    }
    gh_log_set_level((enum gh_log_level)next->log_level);
    gh_edge_config_cleanup(e->cfg_owned);
    free(e->cfg_owned);
    e->cfg_owned = next;
    e->cfg = next;
    gh_log_info("edge.reload.config", "path=%s routes=%zu", path, next->nroutes);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    struct gh_edge *e = arg;
    char err[512] = "";
    gh_log_info("edge.signal", "signal=SIGHUP action=reload");
    reload_config(e);
    if (load_trust(e, err, sizeof err) != GH_OK)
        gh_log_error("edge.reload.trust", "detail=\"%s\"", err);
    cert_check(e, true);
    gh_edge_sync_now(e);
}

static void on_accept(struct gh_listener *l, struct gh_conn *c, void *user)
{
    (void)l;
    gh_edge_child_accept(user, c);
}

/* ---- run ----------------------------------------------------------------- */

static gh_err start(struct gh_edge *e, char *err, size_t errlen)
{
    const struct gh_edge_config *cfg = e->cfg;
    gh_err rc;
    char certs[GH_EDGE_PATH_MAX + 8];
    snprintf(certs, sizeof certs, "%s/%s", e->data_dir, GH_EDGE_DIR_CERTS);
    if (mkdir(certs, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", certs, strerror(errno));
        return GH_ERR_IO;
    }
    snprintf(e->cert_path, sizeof e->cert_path, "%.*s/server.chain.pem", GH_EDGE_PATH_MAX - 32,
             certs);
    snprintf(e->key_path, sizeof e->key_path, "%.*s/server.key.pem", GH_EDGE_PATH_MAX - 32, certs);
    bool issued;
    if ((rc = server_cert(e, false, &issued, err, errlen)) != GH_OK) return rc;
    e->cert_checked_ms = gh_edge_now_ms();
    if ((rc = load_trust(e, err, errlen)) != GH_OK) return rc;
    if ((rc = gh_edge_cache_open(e->data_dir, &e->cache, err, errlen)) != GH_OK) return rc;

    struct gh_tls_server_config tc = tls_config(e);
    char detail[GH_TLS_DETAIL_MAX] = "";
    if ((rc = gh_tls_server_new(&tc, &e->tls, detail, sizeof detail)) != GH_OK) {
        snprintf(err, errlen, "TLS server: %s", detail);
        return rc;
    }
    char addr[GH_EDGE_ADDR_MAX + 16];
    snprintf(addr, sizeof addr, "%s:%lld", cfg->listen_address, (long long)cfg->mqtt_port);
    struct gh_listener_options lo = {
        .max_conns = (unsigned)cfg->max_children + 64,
        .handshake_timeout_ms = (unsigned)cfg->handshake_timeout * 1000,
    };
    rc = gh_listener_new(e->base, addr, e->tls, &lo, on_accept, e, &e->listener, detail,
                         sizeof detail);
    if (rc != GH_OK) {
        snprintf(err, errlen, "listen on %s: %s", addr, detail);
        return rc;
    }
    if ((rc = gh_edge_msgpath_start(e, err, errlen)) != GH_OK) return rc;
    if ((rc = gh_edge_local_start(e, err, errlen)) != GH_OK) return rc;
    if ((rc = gh_edge_http_start(e, err, errlen)) != GH_OK) return rc;
    if ((rc = gh_edge_link_start(e, err, errlen)) != GH_OK) return rc;

    size_t known = 0;
    if (gh_edge_cache_count(e->cache, &known) != GH_OK) known = 0;
    gh_log_info("edge.start",
                "device=%s hub=%s listen=%s children_cached=%zu cache_synced_ms=%lld cert=%s",
                e->id.device_id, e->id.hub, addr, known,
                (long long)gh_edge_cache_last_sync(e->cache), e->cert_path);
    return GH_OK;
}

static gh_err add_event(struct gh_edge *e, struct event **ev, int fd, short what,
                        event_callback_fn cb, const struct timeval *tv)
{
    *ev = event_new(e->base, fd, what, cb, e);
    GH_ENSURE(*ev, GH_ERR_NOMEM);
    GH_ENSURE(event_add(*ev, tv) == 0, GH_ERR_INTERNAL);
    return GH_OK;
}

gh_err gh_edge_run(const struct gh_edge_config *cfg, const char *home, char *err, size_t errlen)
{
    struct gh_edge *e = calloc(1, sizeof *e);
    GH_ENSURE(e, GH_ERR_NOMEM);
    int pid_fd = -1;
    gh_err rc = GH_OK;
    e->cfg_owned = malloc(sizeof *e->cfg_owned);
    if (!e->cfg_owned) {
        free(e);
        return GH_ERR_NOMEM;
    }
    memcpy(e->cfg_owned, cfg, sizeof *cfg);
    e->cfg = e->cfg_owned;
    e->started_ms = gh_edge_now_ms();
    snprintf(e->home, sizeof e->home, "%s", gh_edge_home(home));
    snprintf(e->data_dir, sizeof e->data_dir, "%s", cfg->data_dir[0] ? cfg->data_dir : e->home);
    if (mkdir(e->data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "data directory %s: %s", e->data_dir, strerror(errno));
        rc = errno == EACCES ? GH_ERR_PERM : GH_ERR_IO;
        goto out;
    }
    if ((rc = pid_file(e, &pid_fd, err, errlen)) != GH_OK) goto out;
    if ((rc = gh_edge_provision(cfg, e->data_dir, &e->id, err, errlen)) != GH_OK) goto out;
    /* Priorities: 0 signals, 1 I/O and timers, 2 the group commit (runs
     * after every read of the loop iteration). */
    if (!(e->base = event_base_new()) || event_base_priority_init(e->base, 3) != 0) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    if ((rc = start(e, err, errlen)) != GH_OK) goto out;
    struct timeval tick = {EDGE_TICK_MS / 1000, (EDGE_TICK_MS % 1000) * 1000};
    if ((rc = add_event(e, &e->tick, -1, EV_PERSIST, on_tick, &tick)) != GH_OK ||
        (rc = add_event(e, &e->sigterm, SIGTERM, EV_SIGNAL | EV_PERSIST, on_stop_signal, NULL)) !=
            GH_OK ||
        (rc = add_event(e, &e->sigint, SIGINT, EV_SIGNAL | EV_PERSIST, on_stop_signal, NULL)) !=
            GH_OK ||
        (rc = add_event(e, &e->sighup, SIGHUP, EV_SIGNAL | EV_PERSIST, on_hup, NULL)) != GH_OK)
        goto out;
    if (event_base_dispatch(e->base) < 0) rc = GH_ERR_INTERNAL;
out:
    e->stopping = true;
    gh_listener_free(e->listener);
    gh_edge_http_stop(e);
    gh_edge_sync_stop(e);
    gh_edge_children_close_all(e);
    gh_edge_local_stop(e);
    gh_edge_link_stop(e);
    if (e->base) {
        /* Let aborted connections run their on_close. */
        event_base_loop(e->base, EVLOOP_NONBLOCK);
        event_base_loop(e->base, EVLOOP_NONBLOCK);
    }
    struct event *evs[] = {e->tick, e->sigterm, e->sigint, e->sighup};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i]) event_free(evs[i]);
    gh_edge_msgpath_stop(e); /* after the children: their last messages are committed */
    gh_tls_server_free(e->tls);
    gh_edge_cache_close(e->cache);
    X509_STORE_free(e->trust);
    if (e->base) event_base_free(e->base);
    gh_edge_identity_wipe(&e->id);
    if (rc != GH_ERR_CONFLICT) pid_file_remove(e, pid_fd);
    if (e->cfg_owned != cfg) gh_edge_config_cleanup(e->cfg_owned);
    free(e->cfg_owned);
    free(e);
    return rc;
}
