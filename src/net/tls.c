#include "net/tls.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/tls_internal.h"

/* Session id context: required for resumption when client certificates are
 * requested (OpenSSL refuses to resume without one). */
static const unsigned char SESSION_ID_CTX[] = "gatehouse";

struct sni_entry {
    char *name;
    SSL_CTX *ctx;
};

/* The SNI table of one certificate set. It is owned by the set's default
 * SSL_CTX (ex_data, freed with it), and every SSL made from that context
 * holds a reference to it, so the table lives exactly as long as anything
 * can still run the SNI callback. */
struct gh_tls_gen {
    size_t n;
    struct sni_entry sni[];
};

struct gh_tls_server {
    pthread_mutex_t mu; /* guards cur */
    SSL_CTX *cur;       /* default context of the set in use (owns its table) */
};

struct gh_tls_client {
    SSL_CTX *ctx;
};

/* ---- contexts ----------------------------------------------------------- */

static gh_err ctx_common(SSL_CTX *ctx, bool server, char *d, size_t cap)
{
    /* IGNORE_UNEXPECTED_EOF: a peer that closes TCP without close_notify is
     * an ordinary close (the protocols above frame their own messages). */
    uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF;
    if (server) opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    SSL_CTX_set_options(ctx, opts);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify_depth(ctx, GH_TLS_VERIFY_DEPTH);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, GH_TLS12_CIPHERS) != 1) {
        gh_tls_detail(d, cap, "TLS context setup failed (%s)", gh_tls_ossl_reason());
        ERR_clear_error();
        return GH_ERR_TLS;
    }
    return GH_OK;
}

/* Client certificates: record the verification result, never fail on it. */
static int verify_record_only(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

static gh_err server_ctx_new(const struct gh_tls_identity *id, X509_STORE *ca, bool request,
                             SSL_CTX **out, char *d, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return GH_ERR_NOMEM;
    gh_err rc = ctx_common(ctx, true, d, cap);
    if (rc != GH_OK) goto out;
    SSL_CTX_set_session_id_context(ctx, SESSION_ID_CTX, sizeof SESSION_ID_CTX - 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_set_num_tickets(ctx, GH_TLS_SESSION_TICKETS);
    rc = gh_tls_load_identity(ctx, id, d, cap);
    if (rc != GH_OK) goto out;
    if (ca) {
        if (SSL_CTX_set1_verify_cert_store(ctx, ca) != 1) {
            rc = GH_ERR_NOMEM;
            goto out;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_record_only);
    } else if (request) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_record_only);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    *out = ctx;
    ctx = NULL;
out:
    SSL_CTX_free(ctx);
    return rc;
}

bool gh_tls_hostname_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0, label = 0;
    if (n == 0 || n > GH_TLS_HOSTNAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || ++label > 63) return false;
    }
    return label > 0;
}

static void gen_free(struct gh_tls_gen *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) {
        SSL_CTX_free(g->sni[i].ctx);
        free(g->sni[i].name);
    }
    free(g);
}

static void gen_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    gen_free(ptr);
}

/* ex_data slot of the SNI table: written once, then a process constant. */
static int gen_idx = -1;
static pthread_once_t gen_idx_once = PTHREAD_ONCE_INIT;

static void gen_idx_init(void)
{
    gen_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, gen_ex_free);
}

/* Pick the SNI entry's context. Unknown or malformed names get the default
 * certificate (NOACK), so a client that sends an odd name still connects. */
static int sni_cb(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    const struct gh_tls_gen *g = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name || !gh_tls_hostname_valid(name)) return SSL_TLSEXT_ERR_NOACK;
    for (size_t i = 0; i < g->n; i++) {
        if (strcasecmp(name, g->sni[i].name) == 0) {
            if (SSL_set_SSL_CTX(ssl, g->sni[i].ctx) != g->sni[i].ctx) {
                *alert = SSL_AD_INTERNAL_ERROR;
                return SSL_TLSEXT_ERR_ALERT_FATAL;
            }
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_NOACK;
}

/* Build one certificate set; *out is its default context, which owns the
 * SNI table. */
static gh_err gen_build(const struct gh_tls_server_config *cfg, SSL_CTX **out, char *d, size_t cap)
{
    struct gh_tls_gen *g = NULL;
    SSL_CTX *def = NULL;
    X509_STORE *ca = NULL;
    gh_err rc = GH_OK;
    if (!cfg || (cfg->sni_count > 0 && !cfg->sni)) return GH_ERR_ARG;
    if (cfg->sni_count > GH_TLS_SNI_MAX) {
        gh_tls_detail(d, cap, "more than %d SNI entries", GH_TLS_SNI_MAX);
        return GH_ERR_TOO_MANY;
    }
    for (size_t i = 0; i < cfg->sni_count; i++) {
        const char *h = cfg->sni[i].host_name;
        if (!gh_tls_hostname_valid(h)) {
            gh_tls_detail(d, cap, "invalid SNI host name at entry %zu", i);
            return GH_ERR_ARG;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcasecmp(h, cfg->sni[j].host_name) == 0) {
                gh_tls_detail(d, cap, "duplicate SNI host name %s", h);
                return GH_ERR_ARG;
            }
        }
    }
    pthread_once(&gen_idx_once, gen_idx_init);
    if (gen_idx < 0) return GH_ERR_NOMEM;
    if (cfg->client_ca_file) {
        rc = gh_tls_load_store(cfg->client_ca_file, &ca, d, cap);
        if (rc != GH_OK) goto out;
    }
    g = calloc(1, sizeof *g + cfg->sni_count * sizeof g->sni[0]);
    if (!g) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < cfg->sni_count; i++) {
        g->sni[i].name = strdup(cfg->sni[i].host_name);
        if (!g->sni[i].name) {
            rc = GH_ERR_NOMEM;
            goto out;
        }
        g->n = i + 1;
        rc = server_ctx_new(&cfg->sni[i].id, ca, cfg->request_client_cert, &g->sni[i].ctx, d, cap);
        if (rc != GH_OK) goto out;
    }
    rc = server_ctx_new(&cfg->default_id, ca, cfg->request_client_cert, &def, d, cap);
    if (rc != GH_OK) goto out;
    if (SSL_CTX_set_ex_data(def, gen_idx, g) != 1) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    SSL_CTX_set_tlsext_servername_callback(def, sni_cb);
    SSL_CTX_set_tlsext_servername_arg(def, g);
    g = NULL; /* owned by def from here on */
    *out = def;
    def = NULL;
out:
    ERR_clear_error();
    SSL_CTX_free(def);
    gen_free(g);
    X509_STORE_free(ca);
    return rc;
}

/* ---- server ------------------------------------------------------------- */

gh_err gh_tls_server_new(const struct gh_tls_server_config *cfg, struct gh_tls_server **out,
                         char *detail, size_t detail_cap)
{
    SSL_CTX *def = NULL;
    GH_ENSURE(out, GH_ERR_ARG);
    GH_GUARD(gen_build(cfg, &def, detail, detail_cap));
    struct gh_tls_server *s = calloc(1, sizeof *s);
    if (!s || pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        SSL_CTX_free(def);
        return GH_ERR_NOMEM;
    }
    s->cur = def;
    *out = s;
    return GH_OK;
}

gh_err gh_tls_server_reload(struct gh_tls_server *srv, const struct gh_tls_server_config *cfg,
                            char *detail, size_t detail_cap)
{
    SSL_CTX *def = NULL;
    GH_ENSURE(srv, GH_ERR_ARG);
    GH_GUARD(gen_build(cfg, &def, detail, detail_cap));
    pthread_mutex_lock(&srv->mu);
    SSL_CTX *old = srv->cur;
    srv->cur = def;
    pthread_mutex_unlock(&srv->mu);
    SSL_CTX_free(old); /* really freed when its last connection goes */
    return GH_OK;
}

void gh_tls_server_free(struct gh_tls_server *srv)
{
    if (!srv) return;
    SSL_CTX_free(srv->cur);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}

gh_err gh_tls_server_ssl_new(struct gh_tls_server *srv, SSL **ssl_out)
{
    pthread_mutex_lock(&srv->mu);
    SSL_CTX *ctx = srv->cur;
    SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&srv->mu);
    SSL *ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL holds its own reference */
    if (!ssl) {
        ERR_clear_error();
        return GH_ERR_NOMEM;
    }
    *ssl_out = ssl;
    return GH_OK;
}

/* ---- client ------------------------------------------------------------- */

gh_err gh_tls_client_new(const struct gh_tls_client_config *cfg, struct gh_tls_client **out,
                         char *detail, size_t detail_cap)
{
    SSL_CTX *ctx = NULL;
    X509_STORE *ca = NULL;
    gh_err rc;
    GH_ENSURE(cfg && out, GH_ERR_ARG);
    if (!cfg->id.cert_file != !cfg->id.key_file) {
        gh_tls_detail(detail, detail_cap, "client certificate and key must be given together");
        return GH_ERR_ARG;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return GH_ERR_NOMEM;
    rc = ctx_common(ctx, false, detail, detail_cap);
    if (rc != GH_OK) goto out;
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cfg->ca_file) {
        rc = gh_tls_load_store(cfg->ca_file, &ca, detail, detail_cap);
        if (rc != GH_OK) goto out;
        if (SSL_CTX_set1_verify_cert_store(ctx, ca) != 1) {
            rc = GH_ERR_NOMEM;
            goto out;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        gh_tls_detail(detail, detail_cap, "cannot load default trust store (%s)",
                      gh_tls_ossl_reason());
        rc = GH_ERR_CRYPTO;
        goto out;
    }
    if (cfg->id.cert_file) {
        rc = gh_tls_load_identity(ctx, &cfg->id, detail, detail_cap);
        if (rc != GH_OK) goto out;
    }
    struct gh_tls_client *c = calloc(1, sizeof *c);
    if (!c) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    c->ctx = ctx;
    ctx = NULL;
    *out = c;
out:
    ERR_clear_error();
    X509_STORE_free(ca);
    SSL_CTX_free(ctx);
    return rc;
}

void gh_tls_client_free(struct gh_tls_client *c)
{
    if (!c) return;
    SSL_CTX_free(c->ctx);
    free(c);
}

static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

gh_err gh_tls_client_ssl_new(struct gh_tls_client *c, const char *name, SSL **ssl_out)
{
    bool ip = name && is_ip_literal(name);
    GH_ENSURE(ip || gh_tls_hostname_valid(name), GH_ERR_ARG);
    SSL *ssl = SSL_new(c->ctx);
    if (!ssl) {
        ERR_clear_error();
        return GH_ERR_NOMEM;
    }
    int ok;
    if (ip) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
    } else {
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                   X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
        ok = SSL_set_tlsext_host_name(ssl, name) == 1 && SSL_set1_host(ssl, name) == 1;
    }
    if (!ok) {
        ERR_clear_error();
        SSL_free(ssl);
        return GH_ERR_TLS;
    }
    *ssl_out = ssl;
    return GH_OK;
}
