/* gh_bench_handshake: the physical reference for mTLS handshakes (issue 9,
 * case 6). A client and a server OpenSSL endpoint in one thread, joined by
 * memory BIOs (no sockets, no event loop, no MQTT): full TLS handshakes
 * with mutual certificate authentication, one after another, for a fixed
 * time. The time spent inside the server's SSL_do_handshake calls is
 * measured apart, so the output says what one server core could do if the
 * handshake were all it did.
 *
 * usage: gh_bench_handshake --server-cert CHAIN --server-key KEY --ca FILE
 *            --client-cert CHAIN --client-key KEY [--seconds S] [--tls 1.2|1.3]
 * Prints one JSON object on stdout. Exit status 0, 2 on usage errors, 1 when
 * a handshake fails (with OpenSSL's reason on stderr).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define ROUNDS_MAX 64 /* handshake flights before giving up on one handshake */

struct args {
    const char *server_cert, *server_key, *ca, *client_cert, *client_key;
    double seconds;
    int tls;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: gh_bench_handshake --server-cert CHAIN --server-key KEY --ca FILE "
                    "--client-cert CHAIN --client-key KEY [--seconds S] [--tls 1.2|1.3]\n");
    return 2;
}

static bool parse(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->seconds = 3.0;
    a->tls = 13;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) return false;
        const char *k = argv[i], *v = argv[++i];
        if (strcmp(k, "--server-cert") == 0)
            a->server_cert = v;
        else if (strcmp(k, "--server-key") == 0)
            a->server_key = v;
        else if (strcmp(k, "--ca") == 0)
            a->ca = v;
        else if (strcmp(k, "--client-cert") == 0)
            a->client_cert = v;
        else if (strcmp(k, "--client-key") == 0)
            a->client_key = v;
        else if (strcmp(k, "--seconds") == 0) {
            char *end = NULL;
            a->seconds = strtod(v, &end);
            if (end == v || *end != '\0' || !(a->seconds > 0.0 && a->seconds <= 600.0))
                return false;
        } else if (strcmp(k, "--tls") == 0) {
            if (strcmp(v, "1.2") == 0)
                a->tls = 12;
            else if (strcmp(v, "1.3") == 0)
                a->tls = 13;
            else
                return false;
        } else
            return false;
    }
    return a->server_cert && a->server_key && a->ca && a->client_cert && a->client_key;
}

static SSL_CTX *make_ctx(bool server, const struct args *a)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL) return NULL;
    int v = a->tls == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    const char *cert = server ? a->server_cert : a->client_cert;
    const char *key = server ? a->server_key : a->client_key;
    bool ok =
        SSL_CTX_set_min_proto_version(ctx, v) == 1 && SSL_CTX_set_max_proto_version(ctx, v) == 1 &&
        SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 &&
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 &&
        SSL_CTX_check_private_key(ctx) == 1 && SSL_CTX_load_verify_locations(ctx, a->ca, NULL) == 1;
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* every handshake is a full one: no resumption on either side */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_verify(
        ctx, server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER, NULL);
    return ctx;
}

static bool want_more(SSL *s, int r)
{
    int e = SSL_get_error(s, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* One full handshake over a fresh BIO pair; adds the server's share of the
 * time to *server_s. */
static bool handshake(SSL_CTX *sc, SSL_CTX *cc, const char *sni, double *server_s)
{
    SSL *srv = SSL_new(sc), *cli = SSL_new(cc);
    BIO *sb = NULL, *cb = NULL;
    bool ok = false;
    if (srv == NULL || cli == NULL || BIO_new_bio_pair(&sb, 0, &cb, 0) != 1) goto out;
    SSL_set_bio(srv, sb, sb);
    SSL_set_bio(cli, cb, cb);
    SSL_set_accept_state(srv);
    SSL_set_connect_state(cli);
    SSL_set_tlsext_host_name(cli, sni);
    bool cdone = false, sdone = false;
    for (int round = 0; round < ROUNDS_MAX && !(cdone && sdone); round++) {
        if (!cdone) {
            int r = SSL_do_handshake(cli);
            if (r == 1)
                cdone = true;
            else if (!want_more(cli, r))
                goto out;
        }
        if (!sdone) {
            double t = now_s();
            int r = SSL_do_handshake(srv);
            *server_s += now_s() - t;
            if (r == 1)
                sdone = true;
            else if (!want_more(srv, r))
                goto out;
        }
    }
    ok = cdone && sdone && SSL_get_verify_result(srv) == X509_V_OK &&
         SSL_get_verify_result(cli) == X509_V_OK && SSL_get0_peer_certificate(srv) != NULL;
out:
    SSL_free(srv); /* frees the BIOs too */
    SSL_free(cli);
    return ok;
}

int main(int argc, char **argv)
{
    struct args a;
    if (!parse(argc, argv, &a)) return usage();
    SSL_CTX *sc = make_ctx(true, &a), *cc = make_ctx(false, &a);
    if (sc == NULL || cc == NULL) {
        fprintf(stderr, "gh_bench_handshake: cannot load the certificates or keys\n");
        ERR_print_errors_fp(stderr);
        return 1;
    }
    /* verification of the server's name is not what is measured here */
    double server_s = 0.0;
    unsigned long n = 0;
    double t0 = now_s(), c0 = cpu_s();
    while (now_s() - t0 < a.seconds) {
        if (!handshake(sc, cc, "hub.bench.test", &server_s)) {
            fprintf(stderr, "gh_bench_handshake: handshake %lu failed\n", n + 1);
            ERR_print_errors_fp(stderr);
            return 1;
        }
        n++;
    }
    double wall = now_s() - t0, cpu = cpu_s() - c0;
    printf("{\"tls\":\"1.%d\",\"handshakes\":%lu,\"seconds\":%.3f,\"cpu_s\":%.3f,"
           "\"pairs_per_s\":%.1f,\"server_s\":%.3f,\"server_per_s\":%.1f,"
           "\"server_ms\":%.4f}\n",
           a.tls % 10, n, wall, cpu, (double)n / wall, server_s,
           server_s > 0 ? (double)n / server_s : 0.0, n ? 1000.0 * server_s / (double)n : 0.0);
    SSL_CTX_free(sc);
    SSL_CTX_free(cc);
    return 0;
}
