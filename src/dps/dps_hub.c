/* The embedded hub as an assignment target (see dps_assign.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "dps/dps_assign.h"
#include "dps/dps_cert.h"
#include "hub/store.h"

static struct gh_store *store_of(void *ctx)
{
    return ((struct gh_dps_embedded *)ctx)->store;
}

static gh_err e_get(void *ctx, const char *device_id, struct gh_identity *out)
{
    return gh_store_identity_get(store_of(ctx), device_id, "", out);
}

static gh_err e_create(void *ctx, const struct gh_identity *in, struct gh_identity *out)
{
    return gh_store_identity_create(store_of(ctx), in, out);
}

static gh_err e_update(void *ctx, const struct gh_identity *in, struct gh_identity *out)
{
    return gh_store_identity_update(store_of(ctx), in, NULL, out);
}

static gh_err e_delete(void *ctx, const char *device_id)
{
    return gh_store_identity_delete(store_of(ctx), device_id, "", NULL);
}

static gh_err e_twin_apply(void *ctx, const char *device_id, const json_t *doc, bool replace)
{
    if (replace)
        return gh_store_twin_service_replace(store_of(ctx), device_id, "", doc, NULL, NULL, NULL);
    return gh_store_twin_service_patch(store_of(ctx), device_id, "", doc, NULL, NULL, NULL);
}

static gh_err e_twin_get(void *ctx, const char *device_id, json_t **out)
{
    struct gh_twin t;
    GH_GUARD(gh_store_twin_get(store_of(ctx), device_id, "", &t));
    json_t *desired = json_deep_copy(t.desired);
    json_t *doc = NULL;
    if (desired != NULL) {
        json_object_del(desired, "$version");
        json_object_del(desired, "$metadata");
        doc = json_pack("{s:O,s:{s:o}}", "tags", t.tags, "properties", "desired", desired);
    }
    gh_twin_cleanup(&t);
    GH_ENSURE(doc != NULL, GH_ERR_NOMEM);
    *out = doc;
    return GH_OK;
}

gh_err gh_dps_ca_record_name(const char *pem, char out[45])
{
    X509 *x = NULL;
    GH_GUARD(gh_dps_cert_load(pem, &x));
    char tp[65];
    gh_err rc = gh_dps_cert_thumbprint(x, false, tp);
    X509_free(x);
    GH_GUARD(rc);
    memcpy(out, "dps-", 4);
    memcpy(out + 4, tp, 41);
    return GH_OK;
}

static gh_err e_ca_ensure(void *ctx, const char *pem)
{
    struct gh_dps_embedded *e = ctx;
    char name[45];
    GH_GUARD(gh_dps_ca_record_name(pem, name));
    struct gh_ca_record rec;
    gh_err rc = gh_store_ca_get(e->store, name, &rec, NULL, NULL);
    bool changed = false;
    if (rc == GH_ERR_NOT_FOUND) {
        rc = gh_store_ca_add(e->store, name, pem, strlen(pem), &rec);
        changed = rc == GH_OK;
    }
    if (rc == GH_OK && !rec.verified) {
        rc = gh_store_ca_mark_verified(e->store, name, rec.code);
        changed = changed || rc == GH_OK;
    }
    if (changed && e->ca_changed != NULL) e->ca_changed(e->ca_changed_ctx);
    return rc;
}

static const struct gh_dps_hub_ops embedded_ops = {
    .identity_get = e_get,
    .identity_create = e_create,
    .identity_update = e_update,
    .identity_delete = e_delete,
    .twin_apply = e_twin_apply,
    .twin_get = e_twin_get,
    .ca_ensure = e_ca_ensure,
};

void gh_dps_hub_embedded(struct gh_dps_hub *hub, const char *host_name, struct gh_dps_embedded *e)
{
    hub->host_name = host_name;
    hub->ops = &embedded_ops;
    hub->ctx = e;
}
