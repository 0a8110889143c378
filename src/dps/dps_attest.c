/* Attestation decision (see dps_attest.h). */
#include <stdlib.h>
#include <string.h>

#include "dps/dps_attest.h"
#include "dps/dps_cert.h"
#include "dps/dps_doc.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"

void gh_dps_attest_cleanup(struct gh_dps_attest *a)
{
    if (a == NULL) return;
    gh_dps_enrollment_cleanup(&a->enrollment);
    gh_secure_zero(a, sizeof *a);
}

struct cred {
    const struct gh_dps_attest_in *in;
    bool sas;
    struct gh_sas_token tok;
};

static void deny(struct gh_dps_attest *out, const char *reason)
{
    out->outcome = GH_DPS_ATTEST_DENIED;
    out->error_code = GH_DPS_ERR_UNAUTHORIZED;
    out->reason = reason;
}

/* Maps a verification result: GH_OK match, GH_ERR_AUTH no match. */
static gh_err verify_keys(const struct cred *c, const char *k0, const char *k1)
{
    struct gh_slice keys[2] = {gh_slice_cstr(k0), gh_slice_cstr(k1)};
    gh_err rc = gh_sas_verify(&c->tok, keys, 2, NULL);
    if (rc == GH_ERR_BAD_BASE64 || rc == GH_ERR_TOO_LARGE) rc = GH_ERR_AUTH;
    return rc;
}

static gh_err derive(const char *group_key, const char *reg, char out[GH_IDENTITY_KEY_MAX + 1])
{
    out[0] = '\0';
    if (group_key[0] == '\0') return GH_OK;
    struct gh_writer w;
    gh_writer_init(&w, out, GH_IDENTITY_KEY_MAX + 1);
    GH_GUARD(gh_derive_device_key(gh_slice_cstr(group_key), gh_slice_cstr(reg), &w));
    return gh_writer_terminate(&w);
}

/* Symmetric group: derive from reg (exact, then lower case). */
static gh_err check_group_sas(const struct cred *c, const struct gh_dps_enrollment *g,
                              struct gh_dps_attest *out)
{
    char lower[GH_DPS_ID_MAX + 1];
    GH_GUARD(gh_dps_id_key(c->in->registration_id, lower));
    const char *forms[2] = {c->in->registration_id, lower};
    size_t nforms = strcmp(lower, c->in->registration_id) != 0 ? 2 : 1;
    for (size_t i = 0; i < nforms; i++) {
        char k[2][GH_IDENTITY_KEY_MAX + 1];
        gh_err rc = derive(g->primary_key, forms[i], k[0]);
        if (rc == GH_OK) rc = derive(g->secondary_key, forms[i], k[1]);
        if (rc == GH_OK) rc = verify_keys(c, k[0], k[1]);
        if (rc == GH_OK) {
            memcpy(out->device_key, k, sizeof k);
            memcpy(out->derived_from, forms[i], strlen(forms[i]) + 1);
        }
        gh_secure_zero(k, sizeof k);
        if (rc != GH_ERR_AUTH) return rc;
    }
    return GH_ERR_AUTH;
}

static gh_err check_x509(const struct cred *c, const struct gh_dps_enrollment *e)
{
    if (!gh_dps_cert_cn_is(c->in->cert, c->in->registration_id)) return GH_ERR_AUTH;
    for (size_t i = 0; i < 2; i++) {
        if (e->cert_pem[i] == NULL) continue;
        X509 *x = NULL;
        gh_err rc = gh_dps_cert_load(e->cert_pem[i], &x);
        if (rc != GH_OK) return rc == GH_ERR_NOMEM ? rc : GH_ERR_AUTH;
        if (e->kind == GH_DPS_INDIVIDUAL)
            rc = X509_cmp(x, c->in->cert) == 0 ? GH_OK : GH_ERR_AUTH;
        else
            rc = gh_dps_cert_chains_to(c->in->cert, c->in->chain, x, c->in->now_s);
        X509_free(x);
        if (rc == GH_ERR_CERT_VERIFY) rc = GH_ERR_AUTH;
        if (rc != GH_ERR_AUTH) return rc;
    }
    return GH_ERR_AUTH;
}

/* GH_OK: e accepts the credential (device keys filled); GH_ERR_AUTH: no. */
static gh_err check(const struct cred *c, const struct gh_dps_enrollment *e,
                    struct gh_dps_attest *out)
{
    if (c->sas) {
        if (e->attestation != GH_DPS_ATT_SYMMETRIC_KEY) return GH_ERR_AUTH;
        if (e->kind == GH_DPS_GROUP) return check_group_sas(c, e, out);
        GH_GUARD(verify_keys(c, e->primary_key, e->secondary_key));
        memcpy(out->device_key[0], e->primary_key, sizeof e->primary_key);
        memcpy(out->device_key[1], e->secondary_key, sizeof e->secondary_key);
        return GH_OK;
    }
    if (e->attestation != GH_DPS_ATT_X509) return GH_ERR_AUTH;
    return check_x509(c, e);
}

static void accept(struct gh_dps_attest *out, struct gh_dps_enrollment *e)
{
    memcpy(&out->enrollment, e, sizeof *e);
    memset(e, 0, sizeof *e);
    out->outcome = out->enrollment.enabled ? GH_DPS_ATTEST_OK : GH_DPS_ATTEST_DISABLED;
    out->error_code = 0;
    out->reason = out->enrollment.enabled ? "attested" : "enrollment disabled";
}

static gh_err try_groups(struct gh_dps_store *s, const struct cred *c, struct gh_dps_attest *out)
{
    struct gh_dps_enrollment *page = calloc(GH_DPS_ATTEST_GROUP_PAGE, sizeof *page);
    GH_ENSURE(page != NULL, GH_ERR_NOMEM);
    char after[GH_DPS_ID_MAX + 1] = "";
    gh_err rc = GH_OK;
    bool done = false;
    while (rc == GH_OK && !done) {
        size_t n = 0;
        rc = gh_dps_store_enrollment_list(s, GH_DPS_GROUP, after, GH_DPS_ATTEST_GROUP_PAGE, page,
                                          GH_DPS_ATTEST_GROUP_PAGE, &n);
        if (rc != GH_OK) break;
        for (size_t i = 0; i < n; i++) {
            if (!done) {
                gh_err r = check(c, &page[i], out);
                if (r == GH_OK) {
                    accept(out, &page[i]);
                    done = true;
                } else if (r != GH_ERR_AUTH) {
                    rc = r;
                    done = true;
                }
            }
            if (i + 1 == n) memcpy(after, page[i].id, sizeof after);
            gh_dps_enrollment_cleanup(&page[i]);
        }
        if (n < GH_DPS_ATTEST_GROUP_PAGE) done = true;
    }
    free(page);
    if (rc == GH_OK && out->outcome == GH_DPS_ATTEST_DENIED)
        out->reason = "no enrollment group accepts the credential";
    return rc;
}

static void prepare(struct cred *c, struct gh_dps_attest *out)
{
    const struct gh_dps_attest_in *in = c->in;
    if (in->sas_token.len > 0) {
        if (gh_sas_parse(in->sas_token, &c->tok) != GH_OK) return deny(out, "malformed token");
        if (!gh_sas_audience_is_dps_registration(c->tok.sr, in->id_scope,
                                                 gh_slice_cstr(in->registration_id)))
            return deny(out, "token audience is not this registration");
        if (c->tok.skn.len > 0 && !gh_slice_eq_nocase(c->tok.skn, gh_slice_cstr("registration")))
            return deny(out, "token policy is not \"registration\"");
        if (gh_sas_check_expiry(&c->tok, in->now_s, in->skew_s) != GH_OK)
            return deny(out, "token expired");
        c->sas = true;
        out->expires_s = c->tok.se;
        out->outcome = GH_DPS_ATTEST_OK;
        return;
    }
    if (in->cert == NULL) return deny(out, "no token and no client certificate");
    out->outcome = GH_DPS_ATTEST_OK;
}

gh_err gh_dps_attest(struct gh_dps_store *s, const struct gh_dps_attest_in *in,
                     struct gh_dps_attest *out)
{
    memset(out, 0, sizeof *out);
    struct cred c;
    memset(&c, 0, sizeof c);
    c.in = in;
    if (in->registration_id == NULL ||
        !gh_iothub_valid_registration_id(gh_slice_cstr(in->registration_id))) {
        deny(out, "invalid registration id");
        return GH_OK;
    }
    prepare(&c, out);
    if (out->outcome == GH_DPS_ATTEST_DENIED) goto out;
    deny(out, "unknown registration");
    struct gh_dps_enrollment e;
    gh_err rc = gh_dps_store_enrollment_get(s, GH_DPS_INDIVIDUAL, in->registration_id, &e);
    if (rc == GH_OK) {
        rc = check(&c, &e, out);
        if (rc == GH_OK) accept(out, &e);
        gh_dps_enrollment_cleanup(&e);
        if (rc == GH_ERR_AUTH) {
            deny(out, "credential does not match the individual enrollment");
            rc = GH_OK;
        }
    } else if (rc == GH_ERR_NOT_FOUND) {
        rc = try_groups(s, &c, out);
    }
    if (rc != GH_OK) {
        gh_dps_attest_cleanup(out);
        gh_secure_zero(&c, sizeof c);
        return rc;
    }
out:
    if (out->outcome == GH_DPS_ATTEST_DENIED) {
        gh_secure_zero(out->device_key, sizeof out->device_key);
        out->expires_s = 0;
    }
    gh_secure_zero(&c, sizeof c);
    return GH_OK;
}
