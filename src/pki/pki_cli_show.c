/* `gatehouse pki inspect` and `gatehouse pki bundle`. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pki/pki_cli_internal.h"
#include "pki/pki_info.h"
#include "pki/pki_key.h"

/* ---- inspect ------------------------------------------------------------- */

static json_t *strings_json(const char (*v)[GH_PKI_DNS_NAME_MAX + 1], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *ips_json(const struct gh_pki_cert_info *o)
{
    json_t *a = json_array();
    for (size_t i = 0; i < o->nip; i++) json_array_append_new(a, json_string(o->ip[i]));
    return a;
}

static json_t *ku_json(const struct gh_pki_cert_info *o)
{
    if (!o->has_key_usage) return json_null();
    json_t *a = json_array();
    if (o->key_usage & GH_PKI_KU_DIGITAL_SIGNATURE)
        json_array_append_new(a, json_string("digitalSignature"));
    if (o->key_usage & GH_PKI_KU_KEY_ENCIPHERMENT)
        json_array_append_new(a, json_string("keyEncipherment"));
    if (o->key_usage & GH_PKI_KU_KEY_CERT_SIGN)
        json_array_append_new(a, json_string("keyCertSign"));
    if (o->key_usage & GH_PKI_KU_CRL_SIGN) json_array_append_new(a, json_string("cRLSign"));
    if (o->key_usage & GH_PKI_KU_OTHER) json_array_append_new(a, json_string("other"));
    return a;
}

static json_t *eku_json(const struct gh_pki_cert_info *o)
{
    if (!o->has_ext_key_usage) return json_null();
    json_t *a = json_array();
    if (o->ext_key_usage & GH_PKI_EKU_SERVER_AUTH)
        json_array_append_new(a, json_string("serverAuth"));
    if (o->ext_key_usage & GH_PKI_EKU_CLIENT_AUTH)
        json_array_append_new(a, json_string("clientAuth"));
    if (o->ext_key_usage & GH_PKI_EKU_OTHER) json_array_append_new(a, json_string("other"));
    return a;
}

static json_t *info_json(const struct gh_pki_cert_info *o)
{
    char nb[GH_PKI_TIME_TEXT_MAX], na[GH_PKI_TIME_TEXT_MAX];
    gh_pki_time_text(o->not_before, nb);
    gh_pki_time_text(o->not_after, na);
    json_t *j = json_object();
    json_object_set_new(j, "subject", json_string(o->subject));
    json_object_set_new(j, "issuer", json_string(o->issuer));
    json_object_set_new(j, "commonName", json_string(o->cn));
    json_object_set_new(j, "serial", json_string(o->serial));
    json_object_set_new(j, "notBefore", json_string(nb));
    json_object_set_new(j, "notAfter", json_string(na));
    json_object_set_new(j, "daysLeft", json_integer(o->days_left));
    json_object_set_new(j, "expired", json_boolean(o->expired));
    json_object_set_new(j, "notYetValid", json_boolean(o->not_yet_valid));
    json_object_set_new(j, "isCA", json_boolean(o->is_ca));
    json_object_set_new(j, "pathLen",
                        o->pathlen == GH_PKI_PATHLEN_NONE ? json_null() : json_integer(o->pathlen));
    json_object_set_new(j, "selfSigned", json_boolean(o->self_signed));
    json_object_set_new(j, "keyType", json_string(o->key_type));
    json_object_set_new(j, "keyUsage", ku_json(o));
    json_object_set_new(j, "extendedKeyUsage", eku_json(o));
    json_object_set_new(j, "dns", strings_json(o->dns, o->ndns));
    json_object_set_new(j, "ip", ips_json(o));
    json_object_set_new(j, "otherSans", json_integer((json_int_t)o->nother_san));
    json_object_set_new(j, "sha1", json_string(o->sha1));
    json_object_set_new(j, "sha256", json_string(o->sha256));
    json_object_set_new(j, "subjectKeyId", json_string(o->subject_key_id));
    json_object_set_new(j, "authorityKeyId", json_string(o->authority_key_id));
    return j;
}

static void list_text(FILE *f, const char *label, json_t *a)
{
    fprintf(f, "  %-14s", label);
    if (!json_is_array(a) || json_array_size(a) == 0) fprintf(f, " -");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) fprintf(f, "%s %s", i ? "," : "", json_string_value(v));
    fputc('\n', f);
}

static void info_text(FILE *f, size_t idx, size_t n, const struct gh_pki_cert_info *o)
{
    char nb[GH_PKI_TIME_TEXT_MAX], na[GH_PKI_TIME_TEXT_MAX];
    gh_pki_time_text(o->not_before, nb);
    gh_pki_time_text(o->not_after, na);
    fprintf(f, "certificate %zu of %zu\n", idx + 1, n);
    fprintf(f, "  subject:       %s\n", o->subject);
    fprintf(f, "  issuer:        %s%s\n", o->issuer, o->self_signed ? " (self-signed)" : "");
    fprintf(f, "  serial:        %s\n", o->serial);
    fprintf(f, "  not before:    %s\n", nb);
    fprintf(f, "  not after:     %s (%s%lld days %s)\n", na, o->expired ? "EXPIRED " : "",
            o->days_left < 0 ? -o->days_left : o->days_left, o->days_left < 0 ? "ago" : "left");
    if (o->is_ca) {
        if (o->pathlen == GH_PKI_PATHLEN_NONE)
            fprintf(f, "  CA:            yes, no path length limit\n");
        else
            fprintf(f, "  CA:            yes, path length %d\n", o->pathlen);
    } else {
        fprintf(f, "  CA:            no\n");
    }
    fprintf(f, "  key:           %s\n", o->key_type);
    json_t *ku = ku_json(o), *eku = eku_json(o), *dns = strings_json(o->dns, o->ndns);
    json_t *ip = ips_json(o);
    list_text(f, "key usage:", ku);
    list_text(f, "ext key usage:", eku);
    list_text(f, "DNS names:", dns);
    list_text(f, "IP addresses:", ip);
    json_decref(ku);
    json_decref(eku);
    json_decref(dns);
    json_decref(ip);
    fprintf(f, "  sha1:          %s\n", o->sha1);
    fprintf(f, "  sha256:        %s\n", o->sha256);
}

struct checks {
    bool chain_done, chain_ok, host_done, host_ok, key_done, key_ok;
    char why[256];
    char bundle[GH_PKI_PATH_MAX];
};

static gh_err run_checks(struct cli *c, const struct gh_pki_certs *l, struct checks *k)
{
    X509 *leaf = l->v[0];
    struct gh_pki_certs rest = {l->v + 1, l->n - 1, l->n - 1};
    const char *host = c->val[OPT_HOST];
    if (c->val[OPT_BUNDLE]) {
        struct gh_pki_certs trusted = {0};
        GH_GUARD(gh_pki_cli_cert_path(c, c->val[OPT_BUNDLE], k->bundle, sizeof k->bundle));
        GH_GUARD(gh_pki_certs_load(&trusted, k->bundle, &c->diag));
        gh_err rc = gh_pki_verify(leaf, &rest, &trusted, host, time(NULL), k->why, sizeof k->why);
        gh_pki_certs_cleanup(&trusted);
        if (rc != GH_OK && rc != GH_ERR_CERT_VERIFY) return rc;
        k->chain_done = true;
        k->chain_ok = rc == GH_OK;
    } else if (host) {
        k->host_done = true;
        k->host_ok = gh_pki_check_host(leaf, host) == GH_OK;
    }
    if (c->val[OPT_KEY]) {
        struct gh_pki_secret pw = {0};
        struct gh_pki_key *key = NULL;
        gh_err rc = gh_pki_cli_password(c, OPT_KEY_PASSWORD_FILE, "GH_PKI_KEY_PASSWORD", &pw);
        if (rc == GH_OK) rc = gh_pki_key_load(c->val[OPT_KEY], &pw, &key, &c->diag);
        gh_pki_secret_cleanup(&pw);
        GH_GUARD(rc);
        k->key_done = true;
        k->key_ok = gh_pki_key_matches(key, X509_get0_pubkey(leaf)) == GH_OK;
        gh_pki_key_free(key);
    }
    return GH_OK;
}

static void checks_out(struct cli *c, const struct checks *k, json_t *j)
{
    const char *host = c->val[OPT_HOST];
    if (j) {
        if (k->chain_done)
            json_object_set_new(j, "chain",
                                json_pack("{s:s,s:b,s:o,s:o}", "bundle", k->bundle, "ok",
                                          k->chain_ok, "host",
                                          host ? json_string(host) : json_null(), "error",
                                          k->chain_ok ? json_null() : json_string(k->why)));
        if (k->host_done)
            json_object_set_new(j, "host", json_pack("{s:s,s:b}", "name", host, "ok", k->host_ok));
        if (k->key_done)
            json_object_set_new(
                j, "key", json_pack("{s:s,s:b}", "file", c->val[OPT_KEY], "matches", k->key_ok));
        return;
    }
    if (k->chain_done)
        fprintf(c->out, "chain check against %s%s%s: %s%s\n", k->bundle, host ? " for " : "",
                host ? host : "", k->chain_ok ? "OK" : "FAILED: ", k->chain_ok ? "" : k->why);
    if (k->host_done)
        fprintf(c->out, "host %s: %s\n", host, k->host_ok ? "OK" : "FAILED: name mismatch");
    if (k->key_done)
        fprintf(c->out, "key %s: %s\n", c->val[OPT_KEY],
                k->key_ok ? "matches" : "FAILED: does not match the certificate");
}

static gh_err checks_result(struct cli *c, const struct checks *k)
{
    if (k->chain_done && !k->chain_ok) {
        gh_pki_diag_set(&c->diag, "chain check failed: %s", k->why);
        return GH_ERR_CERT_VERIFY;
    }
    if (k->host_done && !k->host_ok) {
        gh_pki_diag_set(&c->diag, "the certificate is not valid for %s", c->val[OPT_HOST]);
        return GH_ERR_CERT_VERIFY;
    }
    if (k->key_done && !k->key_ok) {
        gh_pki_diag_set(&c->diag, "%s does not match the certificate", c->val[OPT_KEY]);
        return GH_ERR_KEY_MISMATCH;
    }
    return GH_OK;
}

gh_err gh_pki_cli_inspect(struct cli *c)
{
    char path[GH_PKI_PATH_MAX];
    struct gh_pki_certs l = {0};
    struct checks k;
    memset(&k, 0, sizeof k);
    GH_GUARD(gh_pki_cli_cert_path(c, c->pos[0], path, sizeof path));
    GH_GUARD(gh_pki_certs_load(&l, path, &c->diag));
    struct gh_pki_cert_info *info = calloc(1, sizeof *info);
    json_t *j = c->flag[OPT_JSON] ? json_object() : NULL;
    json_t *arr = j ? json_array() : NULL;
    gh_err rc = info ? run_checks(c, &l, &k) : GH_ERR_NOMEM;
    time_t now = time(NULL);
    for (size_t i = 0; i < l.n && rc == GH_OK; i++) {
        rc = gh_pki_cert_info(l.v[i], now, info);
        if (rc != GH_OK) break;
        if (arr)
            json_array_append_new(arr, info_json(info));
        else
            info_text(c->out, i, l.n, info);
    }
    if (rc == GH_OK) {
        rc = checks_result(c, &k);
        if (j) {
            json_object_set_new(j, "file", json_string(path));
            json_object_set_new(j, "certificates", arr);
            arr = NULL;
            checks_out(c, &k, j);
            if (rc != GH_OK)
                json_object_set_new(j, "error",
                                    json_pack("{s:s,s:s,s:i}", "code", gh_err_name(rc), "message",
                                              c->diag.msg, "exit", gh_err_exit_status(rc)));
            json_dumpf(j, c->out, JSON_INDENT(2) | JSON_ENSURE_ASCII);
            fputc('\n', c->out);
        } else {
            checks_out(c, &k, NULL);
        }
        c->reported = true;
    }
    json_decref(arr);
    json_decref(j);
    free(info);
    gh_pki_certs_cleanup(&l);
    return rc;
}

/* ---- bundle -------------------------------------------------------------- */

static gh_err bundle_collect(struct cli *c, struct gh_pki_certs *all)
{
    for (size_t i = 0; i < c->npos; i++) {
        char path[GH_PKI_PATH_MAX];
        struct gh_pki_certs one = {0};
        GH_GUARD(gh_pki_cli_cert_path(c, c->pos[i], path, sizeof path));
        GH_GUARD(gh_pki_certs_load(&one, path, &c->diag));
        gh_err rc = GH_OK;
        for (size_t k = 0; k < one.n && rc == GH_OK; k++)
            rc = gh_pki_certs_push_unique(all, one.v[k]);
        gh_pki_certs_cleanup(&one);
        GH_GUARD(rc);
    }
    return GH_OK;
}

static gh_err bundle_check(struct cli *c, const struct gh_pki_certs *all)
{
    char name[GH_PKI_NAME_TEXT_MAX];
    for (size_t i = 0; c->flag[OPT_CA_ONLY] && i < all->n; i++) {
        if (!gh_pki_cert_is_ca(all->v[i])) {
            X509_NAME_oneline(X509_get_subject_name(all->v[i]), name, sizeof name);
            gh_pki_diag_set(&c->diag, "certificate %zu (%s) is not a CA: a trust bundle holds CAs",
                            i + 1, name);
            return GH_ERR_NOT_CA;
        }
    }
    for (size_t i = 0; c->flag[OPT_CHECK_CHAIN] && i + 1 < all->n; i++) {
        if (!gh_pki_cert_issued_by(all->v[i], all->v[i + 1])) {
            X509_NAME_oneline(X509_get_subject_name(all->v[i]), name, sizeof name);
            gh_pki_diag_set(&c->diag,
                            "certificate %zu (%s) is not issued by certificate %zu: list a chain "
                            "leaf first, root last",
                            i + 1, name, i + 2);
            return GH_ERR_CERT_VERIFY;
        }
    }
    return GH_OK;
}

gh_err gh_pki_cli_bundle(struct cli *c)
{
    struct gh_pki_certs all = {0};
    char *pem = NULL;
    size_t len = 0;
    gh_err rc = bundle_collect(c, &all);
    if (rc == GH_OK) rc = bundle_check(c, &all);
    if (rc == GH_OK) rc = gh_pki_certs_pem(&all, &pem, &len);
    const char *out = c->val[OPT_OUT];
    if (rc == GH_OK && out) {
        struct gh_pki_output o = {out, pem, len, false, c->flag[OPT_FORCE]};
        rc = gh_pki_outputs_write(&o, 1, &c->diag);
    }
    if (rc == GH_OK && c->flag[OPT_JSON]) {
        json_t *j = json_object(), *arr = json_array();
        struct gh_pki_cert_info *info = calloc(1, sizeof *info);
        for (size_t i = 0; info && i < all.n && rc == GH_OK; i++) {
            rc = gh_pki_cert_info(all.v[i], time(NULL), info);
            if (rc == GH_OK)
                json_array_append_new(arr, json_pack("{s:s,s:s,s:b}", "subject", info->subject,
                                                     "sha256", info->sha256, "isCA", info->is_ca));
        }
        if (!info) rc = GH_ERR_NOMEM;
        free(info);
        json_object_set_new(j, "out", out ? json_string(out) : json_null());
        json_object_set_new(j, "certificates", arr);
        if (!out) json_object_set_new(j, "pem", json_string(pem));
        if (rc == GH_OK) {
            json_dumpf(j, c->out, JSON_INDENT(2) | JSON_ENSURE_ASCII);
            fputc('\n', c->out);
        }
        json_decref(j);
    } else if (rc == GH_OK && out) {
        fprintf(c->out, "wrote %zu certificate%s to %s\n", all.n, all.n == 1 ? "" : "s", out);
    } else if (rc == GH_OK) {
        fwrite(pem, 1, len, c->out);
    }
    free(pem);
    gh_pki_certs_cleanup(&all);
    return rc;
}
