/* Text output of `gatehouse enrollment ...` and `gatehouse registration
 * ...`: the provisioning service's JSON (PROTOCOL.md 4.3, 4.6) for people.
 * Every string from the service is escaped (gh_mgmt_put_safe). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/mgmt_int.h"

#define ID_WIDTH_MIN 15
#define ID_WIDTH_MAX 64

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void put_str(FILE *f, const char *s)
{
    if (s == NULL || s[0] == '\0') s = "-";
    gh_mgmt_put_safe(f, s, strlen(s));
}

/* "  label                value\n" (NULL or "" -> "-"). */
static void line(FILE *f, const char *label, const char *value)
{
    fprintf(f, "  %-20s ", label);
    put_str(f, value);
    fputc('\n', f);
}

static const char *yes_no(const json_t *v)
{
    return json_is_true(v) ? "yes" : "no";
}

static void put_padded(FILE *f, const char *s, size_t width)
{
    if (s == NULL || s[0] == '\0') s = "-";
    size_t n = strlen(s);
    put_str(f, s);
    for (; n < width; n++) fputc(' ', f);
    fputc(' ', f);
}

static size_t id_width(const json_t *arr, const char *key)
{
    size_t w = ID_WIDTH_MIN, i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = str(v, key);
        size_t n = s ? strlen(s) : 0;
        if (n > w) w = n;
    }
    return w > ID_WIDTH_MAX ? ID_WIDTH_MAX : w;
}

/* A JSON value on one line (compact), escaped. */
static void line_json(FILE *f, const char *label, const json_t *v)
{
    char *t = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    line(f, label, t);
    free(t);
}

/* The primary (and secondary) certificate of an x509 attestation: its
 * subject and SHA-256 thumbprint from "info" (as the service reports it). */
static void certificates(FILE *f, const json_t *x509)
{
    static const char *const sets[] = {"clientCertificates", "signingCertificates"};
    static const char *const which[] = {"primary", "secondary"};
    for (size_t s = 0; s < 2; s++) {
        const json_t *set = json_object_get(x509, sets[s]);
        for (size_t w = 0; set != NULL && w < 2; w++) {
            const json_t *cert = json_object_get(set, which[w]);
            if (cert == NULL || json_is_null(cert)) continue;
            const json_t *info = json_object_get(cert, "info");
            char label[32];
            snprintf(label, sizeof label, "%s cert", which[w]);
            line(f, label, str(info, "subjectName"));
            snprintf(label, sizeof label, "%s SHA-256", which[w]);
            line(f, label, str(info, "sha256Thumbprint"));
        }
    }
    const json_t *refs = json_object_get(x509, "caReferences");
    if (refs != NULL && !json_is_null(refs)) line_json(f, "CA references", refs);
}

static void hubs(FILE *f, const json_t *e)
{
    const json_t *arr = json_object_get(e, "iotHubs");
    fprintf(f, "  %-20s ", "hubs");
    if (json_array_size(arr) == 0) {
        put_str(f, str(e, "iotHubHostName") ? str(e, "iotHubHostName") : "(this hub)");
    } else {
        size_t i;
        json_t *h;
        json_array_foreach(arr, i, h)
        {
            if (i > 0) fputs(", ", f);
            put_str(f, json_string_value(h));
        }
    }
    fputc('\n', f);
}

void gh_mgmt_print_enrollment(FILE *f, const json_t *e, bool show_keys)
{
    const char *group_id = str(e, "enrollmentGroupId");
    const json_t *att = json_object_get(e, "attestation");
    const char *type = str(att, "type");
    put_str(f, group_id ? group_id : str(e, "registrationId"));
    fputc('\n', f);
    line(f, "kind", group_id ? "enrollment group" : "individual enrollment");
    if (group_id == NULL)
        line(f, "device id", str(e, "deviceId") ? str(e, "deviceId") : "(the registration id)");
    line(f, "attestation", type);
    if (type != NULL && strcmp(type, "symmetricKey") == 0) {
        const json_t *sk = json_object_get(att, "symmetricKey");
        const char *hidden = "(hidden: --show-keys)";
        line(f, "primary key", show_keys ? str(sk, "primaryKey") : hidden);
        line(f, "secondary key", show_keys ? str(sk, "secondaryKey") : hidden);
        if (group_id != NULL)
            line(f, "device keys", "derived per registration id (HMAC-SHA256, docs/cli.md)");
    }
    if (type != NULL && strcmp(type, "x509") == 0) certificates(f, json_object_get(att, "x509"));
    line(f, "iot edge", yes_no(json_object_get(json_object_get(e, "capabilities"), "iotEdge")));
    line(f, "status", str(e, "provisioningStatus"));
    hubs(f, e);
    line(f, "allocation", str(e, "allocationPolicy"));
    const json_t *rp = json_object_get(e, "reprovisionPolicy");
    char rps[96];
    snprintf(rps, sizeof rps, "update hub assignment: %s, migrate device data: %s",
             json_is_false(json_object_get(rp, "updateHubAssignment")) ? "no" : "yes",
             json_is_false(json_object_get(rp, "migrateDeviceData")) ? "no" : "yes");
    line(f, "reprovision", rps);
    const json_t *twin = json_object_get(e, "initialTwin");
    if (twin != NULL && !json_is_null(twin)) line_json(f, "initial twin", twin);
    line(f, "etag", str(e, "etag"));
    line(f, "created", str(e, "createdDateTimeUtc"));
    line(f, "updated", str(e, "lastUpdatedDateTimeUtc"));
}

void gh_mgmt_print_enrollment_table(FILE *f, const json_t *arr, bool groups)
{
    const char *key = groups ? "enrollmentGroupId" : "registrationId";
    size_t w = id_width(arr, key);
    size_t dw = groups ? 0 : id_width(arr, "deviceId");
    put_padded(f, groups ? "GROUP ID" : "REGISTRATION ID", w);
    if (!groups) put_padded(f, "DEVICE ID", dw);
    fprintf(f, "%-12s %-9s %s\n", "ATTESTATION", "STATUS", "EDGE");
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        put_padded(f, str(e, key), w);
        if (!groups) put_padded(f, str(e, "deviceId") ? str(e, "deviceId") : str(e, key), dw);
        put_padded(f, str(json_object_get(e, "attestation"), "type"), 12);
        put_padded(f, str(e, "provisioningStatus"), 9);
        fprintf(f, "%s\n", yes_no(json_object_get(json_object_get(e, "capabilities"), "iotEdge")));
    }
}

void gh_mgmt_print_registration(FILE *f, const json_t *r)
{
    put_str(f, str(r, "registrationId"));
    fputc('\n', f);
    line(f, "status", str(r, "status"));
    line(f, "substatus", str(r, "substatus"));
    line(f, "device id", str(r, "deviceId"));
    line(f, "assigned hub", str(r, "assignedHub"));
    const json_t *code = json_object_get(r, "errorCode");
    if (json_is_integer(code)) {
        fprintf(f, "  %-20s %lld ", "error", (long long)json_integer_value(code));
        put_str(f, str(r, "errorMessage"));
        fputc('\n', f);
    }
    line(f, "created", str(r, "createdDateTimeUtc"));
    line(f, "updated", str(r, "lastUpdatedDateTimeUtc"));
    line(f, "etag", str(r, "etag"));
}

void gh_mgmt_print_registration_table(FILE *f, const json_t *arr)
{
    size_t w = id_width(arr, "registrationId");
    size_t dw = id_width(arr, "deviceId");
    put_padded(f, "REGISTRATION ID", w);
    fprintf(f, "%-10s ", "STATUS");
    put_padded(f, "DEVICE ID", dw);
    fprintf(f, "%-30s %s\n", "ASSIGNED HUB", "UPDATED");
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r)
    {
        put_padded(f, str(r, "registrationId"), w);
        put_padded(f, str(r, "status"), 10);
        put_padded(f, str(r, "deviceId"), dw);
        put_padded(f, str(r, "assignedHub"), 30);
        put_str(f, str(r, "lastUpdatedDateTimeUtc"));
        fputc('\n', f);
    }
}
