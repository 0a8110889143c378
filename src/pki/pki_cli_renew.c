/* `gatehouse pki renew` and `gatehouse pki sign-csr`: certificates whose
 * subject comes from elsewhere (the old certificate, or a CSR). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "pki/pki_cli_internal.h"
#include "pki/pki_info.h"
#include "pki/pki_key.h"
#include "pki/pki_names.h"

/* Most files looked at when searching the state directory for an issuer. */
#define GH_PKI_ISSUER_SCAN_MAX 1024

static const char cert_suffix[] = ".cert.pem";

/* Find, in <dir>/certs, the CA that issued cert; its stem into stem. */
static gh_err find_issuer(struct cli *c, X509 *cert, const char *self, char *stem, size_t cap)
{
    char certs_dir[GH_PKI_PATH_MAX];
    int m = snprintf(certs_dir, sizeof certs_dir, "%s/certs", gh_pki_cli_dir(c));
    GH_ENSURE(m > 0 && (size_t)m < sizeof certs_dir, GH_ERR_TOO_LARGE);
    DIR *d = opendir(certs_dir);
    gh_err rc = GH_ERR_NOT_FOUND;
    size_t seen = 0;
    struct dirent *e;
    while (d && rc == GH_ERR_NOT_FOUND && seen++ < GH_PKI_ISSUER_SCAN_MAX &&
           (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), sl = sizeof cert_suffix - 1;
        if (n <= sl || strcmp(e->d_name + n - sl, cert_suffix) != 0) continue;
        char name[GH_PKI_STEM_MAX + 1];
        if (n - sl > GH_PKI_STEM_MAX) continue;
        memcpy(name, e->d_name, n - sl);
        name[n - sl] = '\0';
        if (self && strcmp(name, self) == 0) continue;
        struct gh_pki_paths p;
        struct gh_pki_certs l = {0};
        if (gh_pki_state_paths(gh_pki_cli_dir(c), name, &p) != GH_OK) continue;
        struct gh_pki_diag ignore = {{0}};
        if (gh_pki_certs_load(&l, p.cert, &ignore) == GH_OK && gh_pki_cert_is_ca(l.v[0]) &&
            gh_pki_cert_issued_by(cert, l.v[0]) && strlen(name) < cap) {
            strcpy(stem, name);
            rc = GH_OK;
        }
        gh_pki_certs_cleanup(&l);
    }
    if (d) closedir(d);
    if (rc != GH_OK)
        gh_pki_diag_set(&c->diag, "cannot find the certificate's issuer in %s: give --issuer",
                        certs_dir);
    return rc;
}

/* What the old certificate was for. */
static gh_err old_profile(struct cli *c, X509 *old, enum gh_pki_profile *p)
{
    if (gh_pki_cert_is_ca(old)) {
        *p = gh_pki_cert_self_signed(old) ? GH_PKI_PROFILE_ROOT : GH_PKI_PROFILE_CA;
        return GH_OK;
    }
    uint32_t flags = X509_get_extension_flags(old);
    uint32_t xku = (flags & EXFLAG_XKUSAGE) ? X509_get_extended_key_usage(old) : 0;
    if (xku & XKU_SSL_SERVER) {
        *p = GH_PKI_PROFILE_SERVER;
        return GH_OK;
    }
    if (xku & XKU_SSL_CLIENT) {
        *p = GH_PKI_PROFILE_DEVICE;
        return GH_OK;
    }
    gh_pki_diag_set(&c->diag, "cannot tell what the certificate is for (not a CA, no serverAuth "
                              "or clientAuth extended key usage)");
    return GH_ERR_ARG;
}

struct renew_state {
    struct gh_pki_certs old;
    struct gh_pki_key *key;
    struct gh_pki_ca iss;
    bool have_issuer;
    char *dns[GH_PKI_SAN_MAX], *ips[GH_PKI_SAN_MAX];
    size_t ndns, nips;
};

static void renew_cleanup(struct renew_state *s)
{
    gh_pki_certs_cleanup(&s->old);
    gh_pki_key_free(s->key);
    if (s->have_issuer) gh_pki_ca_cleanup(&s->iss);
    gh_pki_strings_free(s->dns, s->ndns);
    gh_pki_strings_free(s->ips, s->nips);
}

static gh_err renew_key(struct cli *c, struct renew_state *s, struct cli_job *job,
                        const char *key_path)
{
    EVP_PKEY *old_pub = X509_get0_pubkey(s->old.v[0]);
    if (c->flag[OPT_NEW_KEY]) {
        if (!old_pub || gh_pki_key_type_of(old_pub, &job->key_type) != GH_OK)
            job->key_type = GH_PKI_KEY_TYPE_DEFAULT;
        GH_GUARD(gh_pki_cli_key_type(c, &job->key_type));
        job->write_key = true;
        return GH_OK;
    }
    if (c->val[OPT_KEY_TYPE]) {
        gh_pki_diag_set(&c->diag, "--key-type needs --new-key");
        return GH_ERR_USAGE;
    }
    struct gh_pki_secret pw = {0};
    gh_err rc = gh_pki_cli_password(c, OPT_KEY_PASSWORD_FILE, "GH_PKI_KEY_PASSWORD", &pw);
    if (rc == GH_OK) rc = gh_pki_key_load(key_path, &pw, &s->key, &c->diag);
    gh_pki_secret_cleanup(&pw);
    GH_GUARD(rc);
    if (gh_pki_key_matches(s->key, old_pub) != GH_OK) {
        gh_pki_diag_set(&c->diag, "%s does not match the certificate being renewed", key_path);
        return GH_ERR_KEY_MISMATCH;
    }
    job->key = s->key;
    return GH_OK;
}

static gh_err renew_run(struct cli *c, struct renew_state *s)
{
    struct cli_job job = {0};
    struct gh_pki_paths p = {{0}, {0}, {0}};
    const char *stem = c->npos ? c->pos[0] : NULL;
    if (!stem && !c->val[OPT_CERT]) {
        gh_pki_diag_set(&c->diag, "name the certificate: renew NAME (or --cert FILE --key FILE)");
        return GH_ERR_USAGE;
    }
    if (stem) GH_GUARD(gh_pki_state_paths(gh_pki_cli_dir(c), stem, &p));
    const char *cert_path = c->val[OPT_CERT] ? c->val[OPT_CERT] : p.cert;
    const char *key_path = c->val[OPT_KEY] ? c->val[OPT_KEY] : stem ? p.key : NULL;
    GH_GUARD(gh_pki_certs_load(&s->old, cert_path, &c->diag));
    X509 *old = s->old.v[0];
    enum gh_pki_profile profile;
    GH_GUARD(old_profile(c, old, &profile));
    gh_pki_issue_req_init(&job.req, profile);
    GH_GUARD(gh_pki_cli_period(c, &job.req.validity));
    job.req.subject = X509_get_subject_name(old);
    if (profile == GH_PKI_PROFILE_ROOT || profile == GH_PKI_PROFILE_CA) {
        long pl = X509_get_pathlen(old);
        job.req.pathlen = pl < 0 ? GH_PKI_PATHLEN_NONE : (int)pl;
    }
    GH_GUARD(gh_pki_cert_sans(old, s->dns, &s->ndns, s->ips, &s->nips, &c->diag));
    job.req.dns = (const char *const *)s->dns;
    job.req.ndns = s->ndns;
    job.req.ips = (const char *const *)s->ips;
    job.req.nips = s->nips;
    if (!key_path && !c->flag[OPT_NEW_KEY]) {
        gh_pki_diag_set(&c->diag, "give the certificate's key with --key (or use --new-key)");
        return GH_ERR_USAGE;
    }
    GH_GUARD(renew_key(c, s, &job, key_path));
    if (profile != GH_PKI_PROFILE_ROOT) {
        char found[GH_PKI_STEM_MAX + 1];
        const char *def = NULL;
        if (!c->val[OPT_ISSUER] && !c->val[OPT_ISSUER_CERT] && !c->val[OPT_ISSUER_KEY]) {
            GH_GUARD(find_issuer(c, old, stem, found, sizeof found));
            def = found;
        }
        GH_GUARD(gh_pki_cli_issuer_load(c, def, &s->iss));
        s->have_issuer = true;
        job.issuer = &s->iss;
        job.write_chain = stem != NULL || c->val[OPT_CHAIN] != NULL;
    }
    job.kind = profile == GH_PKI_PROFILE_ROOT     ? "root CA"
               : profile == GH_PKI_PROFILE_CA     ? "CA"
               : profile == GH_PKI_PROFILE_SERVER ? "server"
                                                  : "device";
    job.stem = stem;
    job.replace_cert = true;
    return gh_pki_cli_run_job(c, &job);
}

gh_err gh_pki_cli_renew(struct cli *c)
{
    struct renew_state s;
    memset(&s, 0, sizeof s);
    gh_err rc = renew_run(c, &s);
    renew_cleanup(&s);
    return rc;
}

/* ---- sign-csr ------------------------------------------------------------ */

struct csr_state {
    X509_REQ *req;
    struct gh_pki_ca iss;
    bool have_issuer;
    char *dns[GH_PKI_SAN_MAX], *ips[GH_PKI_SAN_MAX];
    size_t ndns, nips;
    char cn[GH_PKI_NAME_TEXT_MAX];
};

static gh_err csr_profile(struct cli *c, enum gh_pki_profile *p)
{
    const char *v = c->val[OPT_PROFILE];
    if (!v) {
        gh_pki_diag_set(&c->diag, "--profile server|device|ca is required");
        return GH_ERR_USAGE;
    }
    if (strcmp(v, "server") == 0)
        *p = GH_PKI_PROFILE_SERVER;
    else if (strcmp(v, "device") == 0)
        *p = GH_PKI_PROFILE_DEVICE;
    else if (strcmp(v, "ca") == 0)
        *p = GH_PKI_PROFILE_CA;
    else {
        gh_pki_diag_set(&c->diag, "--profile must be server, device or ca");
        return GH_ERR_ARG;
    }
    return GH_OK;
}

static gh_err csr_names(struct cli *c, struct csr_state *s, struct cli_job *job)
{
    if (job->req.profile != GH_PKI_PROFILE_SERVER) {
        if (c->ndns || c->nip) {
            gh_pki_diag_set(&c->diag, "--dns and --ip apply to --profile server only");
            return GH_ERR_USAGE;
        }
        return GH_OK;
    }
    if (c->ndns || c->nip) {
        job->req.dns = c->dns;
        job->req.ndns = c->ndns;
        job->req.ips = c->ip;
        job->req.nips = c->nip;
        return GH_OK;
    }
    GH_GUARD(gh_pki_csr_sans(s->req, s->dns, &s->ndns, s->ips, &s->nips, &c->diag));
    if (s->ndns + s->nips == 0 && gh_pki_dns_name_check(s->cn, strlen(s->cn), true) == GH_OK) {
        s->dns[0] = strdup(s->cn);
        GH_ENSURE(s->dns[0] != NULL, GH_ERR_NOMEM);
        s->ndns = 1;
    }
    job->req.dns = (const char *const *)s->dns;
    job->req.ndns = s->ndns;
    job->req.ips = (const char *const *)s->ips;
    job->req.nips = s->nips;
    return GH_OK;
}

static gh_err csr_run(struct cli *c, struct csr_state *s)
{
    struct cli_job job = {0};
    enum gh_pki_profile profile;
    uint8_t *data = NULL;
    size_t len = 0;
    GH_GUARD(csr_profile(c, &profile));
    gh_pki_issue_req_init(&job.req, profile);
    GH_GUARD(gh_pki_cli_period(c, &job.req.validity));
    if (profile == GH_PKI_PROFILE_CA) {
        GH_GUARD(gh_pki_cli_pathlen(c, &job.req.pathlen));
    } else if (c->val[OPT_PATHLEN]) {
        gh_pki_diag_set(&c->diag, "--pathlen applies to --profile ca only");
        return GH_ERR_USAGE;
    }
    GH_GUARD(gh_pki_file_read(c->pos[0], GH_PKI_FILE_MAX, &data, &len, &c->diag));
    gh_err rc = gh_pki_csr_parse(data, len, &s->req, &c->diag);
    free(data);
    GH_GUARD(rc);
    const X509_NAME *subject = X509_REQ_get_subject_name(s->req);
    int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (i >= 0) {
        unsigned char *utf8 = NULL;
        int n =
            ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
        if (n > 0 && (size_t)n < sizeof s->cn && !memchr(utf8, '\0', (size_t)n)) {
            memcpy(s->cn, utf8, (size_t)n);
            s->cn[n] = '\0';
        }
        OPENSSL_free(utf8);
    }
    job.req.subject = subject;
    GH_GUARD(csr_names(c, s, &job));
    job.stem = c->val[OPT_NAME] ? c->val[OPT_NAME] : s->cn;
    if (gh_pki_stem_check(job.stem, strlen(job.stem)) != GH_OK) {
        if (!c->val[OPT_CERT] || c->val[OPT_NAME]) {
            gh_pki_diag_set(&c->diag, "'%.64s' cannot be a file name: give --name", job.stem);
            return GH_ERR_USAGE;
        }
        job.stem = NULL; /* explicit --cert (and --chain) only */
    }
    GH_GUARD(gh_pki_cli_issuer_load(c, NULL, &s->iss));
    s->have_issuer = true;
    job.issuer = &s->iss;
    job.subject_pub = X509_REQ_get0_pubkey(s->req);
    job.kind = profile == GH_PKI_PROFILE_SERVER ? "server"
               : profile == GH_PKI_PROFILE_CA   ? "CA"
                                                : "device";
    job.write_chain = true;
    return gh_pki_cli_run_job(c, &job);
}

gh_err gh_pki_cli_sign_csr(struct cli *c)
{
    struct csr_state s;
    memset(&s, 0, sizeof s);
    gh_err rc = csr_run(c, &s);
    X509_REQ_free(s.req);
    if (s.have_issuer) gh_pki_ca_cleanup(&s.iss);
    gh_pki_strings_free(s.dns, s.ndns);
    gh_pki_strings_free(s.ips, s.nips);
    return rc;
}
