/* Allocation and assignment (see dps_assign.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "common/log.h"
#include "dps/dps_assign.h"
#include "dps/dps_cert.h"
#include "iothub/crypto.h"

static bool host_eq(const char *a, const char *b)
{
    return gh_slice_eq_nocase(gh_slice_cstr(a), gh_slice_cstr(b));
}

static bool linked(const char *host, const struct gh_dps_hub *hubs, size_t nhubs, size_t *index)
{
    for (size_t i = 0; i < nhubs; i++) {
        if (host_eq(host, hubs[i].host_name)) {
            *index = i;
            return true;
        }
    }
    return false;
}

/* FNV-1a 64 over the lower-cased registration id. */
static uint64_t reg_hash(const char *reg)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const char *p = reg; *p != '\0'; p++) {
        char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
        h ^= (uint8_t)c;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

gh_err gh_dps_allocate(const struct gh_dps_enrollment *e, const char *reg,
                       const struct gh_dps_hub *hubs, size_t nhubs, size_t *index)
{
    enum gh_dps_alloc policy = e->allocation;
    if (policy == GH_DPS_ALLOC_DEFAULT)
        policy = e->iot_hub_host_name[0] != '\0' ? GH_DPS_ALLOC_STATIC : GH_DPS_ALLOC_HASHED;
    if (policy == GH_DPS_ALLOC_STATIC) {
        const char *h = e->iot_hub_host_name;
        if (h[0] == '\0' && e->niot_hubs == 1) h = e->iot_hubs[0];
        GH_ENSURE(h[0] != '\0' && linked(h, hubs, nhubs, index), GH_ERR_NOT_FOUND);
        return GH_OK;
    }
    size_t cand[GH_DPS_HUBS_MAX + 1], n = 0;
    if (e->niot_hubs > 0) {
        for (size_t i = 0; i < e->niot_hubs; i++)
            if (linked(e->iot_hubs[i], hubs, nhubs, &cand[n])) n++;
    } else if (e->iot_hub_host_name[0] != '\0') {
        if (linked(e->iot_hub_host_name, hubs, nhubs, &cand[n])) n++;
    } else {
        for (size_t i = 0; i < nhubs && n < GH_DPS_HUBS_MAX; i++) cand[n++] = i;
    }
    GH_ENSURE(n > 0, GH_ERR_NOT_FOUND);
    *index = cand[reg_hash(reg) % n];
    return GH_OK;
}

static void set_failed(struct gh_dps_registration *r, int32_t code, const char *msg)
{
    r->status = GH_DPS_FAILED;
    r->substatus = GH_DPS_SUB_NONE;
    r->error_code = code;
    snprintf(r->error_message, sizeof r->error_message, "%s", msg);
    r->device_id[0] = r->assigned_hub[0] = '\0';
}

static gh_err thumbprint_of(const char *pem, char *out)
{
    out[0] = '\0';
    if (pem == NULL) return GH_OK;
    X509 *x = NULL;
    GH_GUARD(gh_dps_cert_load(pem, &x));
    char tp[65];
    gh_err rc = gh_dps_cert_thumbprint(x, true, tp);
    X509_free(x);
    if (rc == GH_OK) memcpy(out, tp, sizeof tp);
    return rc;
}

/* The identity the hub should hold for this attestation. */
static gh_err desired_identity(const struct gh_dps_attest *a, const char *device_id,
                               struct gh_identity *id)
{
    const struct gh_dps_enrollment *e = &a->enrollment;
    memset(id, 0, sizeof *id);
    memcpy(id->device_id, device_id, strlen(device_id) + 1);
    id->iot_edge = e->iot_edge;
    id->present = GH_IDENTITY_F_AUTH | GH_IDENTITY_F_CAPABILITIES;
    if (e->attestation == GH_DPS_ATT_SYMMETRIC_KEY) {
        id->auth_type = GH_AUTH_SAS;
        memcpy(id->primary_key, a->device_key[0], sizeof id->primary_key);
        memcpy(id->secondary_key, a->device_key[1], sizeof id->secondary_key);
        return GH_OK;
    }
    if (e->kind == GH_DPS_GROUP) {
        id->auth_type = GH_AUTH_CA;
        return GH_OK;
    }
    id->auth_type = GH_AUTH_SELF_SIGNED;
    GH_GUARD(thumbprint_of(e->cert_pem[0], id->primary_thumbprint));
    return thumbprint_of(e->cert_pem[1], id->secondary_thumbprint);
}

struct plan {
    const struct gh_dps_hub *hub;
    const struct gh_dps_hub *old; /* moving away from this hub, or NULL */
    const char *old_device;
    bool reregistration;
};

/* Create or update the device in p->hub; *sub receives the substatus.
 * Hub errors are returned as they are (the caller turns them into 400209). */
static gh_err apply(const struct gh_dps_attest *a, const struct plan *p, struct gh_identity *want,
                    enum gh_dps_substatus *sub)
{
    const struct gh_dps_enrollment *e = &a->enrollment;
    const struct gh_dps_hub_ops *ops = p->hub->ops;
    bool migrate = e->migrate_device_data;
    json_t *doc = NULL;
    gh_err rc = GH_OK;
    if (e->attestation == GH_DPS_ATT_X509 && e->kind == GH_DPS_GROUP)
        for (size_t i = 0; i < 2 && rc == GH_OK; i++)
            if (e->cert_pem[i] != NULL) rc = ops->ca_ensure(p->hub->ctx, e->cert_pem[i]);
    GH_GUARD(rc);
    if (p->old != NULL && migrate) {
        rc = p->old->ops->twin_get(p->old->ctx, p->old_device, &doc);
        if (rc == GH_ERR_NOT_FOUND) rc = GH_OK;
        GH_GUARD(rc);
    }
    const json_t *twin = doc != NULL ? doc : e->initial_twin;
    struct gh_identity got, cur;
    bool exists = true;
    rc = ops->identity_get(p->hub->ctx, want->device_id, &cur);
    if (rc == GH_ERR_NOT_FOUND) {
        exists = false;
        rc = GH_OK;
    }
    gh_identity_wipe(&cur);
    if (rc == GH_OK && !exists) {
        rc = ops->identity_create(p->hub->ctx, want, &got);
        if (rc == GH_OK && twin != NULL)
            rc = ops->twin_apply(p->hub->ctx, want->device_id, twin, false);
        *sub = p->old == NULL ? GH_DPS_SUB_INITIAL
               : doc != NULL  ? GH_DPS_SUB_MIGRATED
                              : GH_DPS_SUB_RESET;
    } else if (rc == GH_OK) {
        rc = ops->identity_update(p->hub->ctx, want, &got);
        bool reset = p->old != NULL || (p->reregistration && !migrate);
        if (rc == GH_OK && reset) {
            json_t *empty = twin == NULL ? json_object() : NULL;
            rc = twin != NULL || empty != NULL ? ops->twin_apply(p->hub->ctx, want->device_id,
                                                                 twin != NULL ? twin : empty, true)
                                               : GH_ERR_NOMEM;
            json_decref(empty);
        }
        *sub = !reset ? GH_DPS_SUB_INITIAL : doc != NULL ? GH_DPS_SUB_MIGRATED : GH_DPS_SUB_RESET;
    }
    gh_identity_wipe(&got);
    json_decref(doc);
    if (rc == GH_OK && p->old != NULL) {
        gh_err d = p->old->ops->identity_delete(p->old->ctx, p->old_device);
        if (d != GH_OK && d != GH_ERR_NOT_FOUND)
            gh_log_warn("dps.assign.old_hub", "hub=%s err=%s", p->old->host_name, gh_err_name(d));
    }
    return rc;
}

static void decide(const struct gh_dps_attest *a, const char *reg, const struct gh_dps_hub *hubs,
                   size_t nhubs, const struct gh_dps_registration *prev, bool have_prev,
                   struct gh_dps_registration *r)
{
    const struct gh_dps_enrollment *e = &a->enrollment;
    const char *dev = e->kind == GH_DPS_INDIVIDUAL && e->device_id[0] ? e->device_id : reg;
    if (!gh_iothub_valid_device_id(gh_slice_cstr(dev)))
        return set_failed(r, GH_DPS_ERR_HUB_ASSIGN,
                          "The registration id is not a valid device id; set deviceId.");
    size_t idx, prev_idx = 0;
    if (gh_dps_allocate(e, reg, hubs, nhubs, &idx) != GH_OK)
        return set_failed(r, GH_DPS_ERR_NO_HUB, "No IoT hub is configured for this enrollment.");
    bool had_hub = have_prev && prev->status == GH_DPS_ASSIGNED && prev->assigned_hub[0] &&
                   linked(prev->assigned_hub, hubs, nhubs, &prev_idx);
    struct plan p = {.hub = &hubs[idx], .reregistration = had_hub};
    if (had_hub && prev_idx != idx) {
        if (!e->update_hub_assignment) {
            p.hub = &hubs[prev_idx];
        } else {
            p.old = &hubs[prev_idx];
            p.old_device = prev->device_id;
        }
    }
    struct gh_identity want;
    enum gh_dps_substatus sub = GH_DPS_SUB_INITIAL;
    gh_err rc = desired_identity(a, dev, &want);
    if (rc == GH_OK) rc = apply(a, &p, &want, &sub);
    gh_identity_wipe(&want);
    if (rc != GH_OK) {
        char m[128];
        snprintf(m, sizeof m, "Device could not be assigned to the IoT hub (%s).", gh_err_str(rc));
        return set_failed(r, GH_DPS_ERR_HUB_ASSIGN, m);
    }
    r->status = GH_DPS_ASSIGNED;
    r->substatus = sub;
    snprintf(r->device_id, sizeof r->device_id, "%s", dev);
    snprintf(r->assigned_hub, sizeof r->assigned_hub, "%s", p.hub->host_name);
}

gh_err gh_dps_assign(struct gh_dps_store *s, const struct gh_dps_attest *a, const char *reg,
                     const struct gh_dps_hub *hubs, size_t nhubs, struct gh_dps_registration *out)
{
    GH_ENSURE(a->outcome == GH_DPS_ATTEST_OK || a->outcome == GH_DPS_ATTEST_DISABLED, GH_ERR_ARG);
    GH_ENSURE(reg != NULL && gh_iothub_valid_registration_id(gh_slice_cstr(reg)), GH_ERR_ARG);
    struct gh_dps_registration prev, r;
    bool have_prev = true;
    gh_err rc = gh_dps_store_registration_get(s, reg, &prev);
    if (rc == GH_ERR_NOT_FOUND) {
        have_prev = false;
        rc = GH_OK;
    }
    GH_GUARD(rc);
    memset(&r, 0, sizeof r);
    snprintf(r.registration_id, sizeof r.registration_id, "%s", reg);
    r.enrollment_kind = a->enrollment.kind;
    snprintf(r.enrollment_id, sizeof r.enrollment_id, "%s", a->enrollment.id);
    if (a->outcome == GH_DPS_ATTEST_DISABLED) {
        r.status = GH_DPS_DISABLED;
    } else {
        decide(a, reg, hubs, nhubs, &prev, have_prev, &r);
    }
    GH_GUARD(gh_dps_store_registration_put(s, &r, out));
    char er[GH_LOG_EXCERPT_MAX * 4 + 8];
    gh_log_info("dps.assign", "registration=%s status=%s hub=%s error=%d",
                gh_log_escape(er, sizeof er, reg, strlen(reg), 0), gh_dps_status_name(r.status),
                r.assigned_hub[0] ? r.assigned_hub : "-", (int)r.error_code);
    return GH_OK;
}
