/* Output of the management CLI: the hub's JSON as is (--json), or text for
 * people. Text that devices or callers control is escaped so that it
 * cannot drive the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/mgmt_int.h"

void gh_mgmt_put_safe(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\x%02X", ch);
        else
            fputc(ch, f);
    }
}

void gh_mgmt_print_json(FILE *f, const json_t *j, bool compact)
{
    size_t flags = JSON_ENCODE_ANY | (compact ? JSON_COMPACT : JSON_INDENT(2));
    if (j == NULL || json_dumpf(j, f, flags) != 0) fputs("null", f);
    fputc('\n', f);
}

/* A string member (nested by dots is not supported: call twice). */
static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void put_str(FILE *f, const char *s)
{
    if (s == NULL) s = "-";
    gh_mgmt_put_safe(f, s, strlen(s));
}

/* "  label           value\n" with the value escaped (NULL or "" -> "-"). */
static void line(FILE *f, const char *label, const char *value)
{
    fprintf(f, "  %-20s ", label);
    put_str(f, value && value[0] ? value : "-");
    fputc('\n', f);
}

static void line_int(FILE *f, const char *label, const json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, "  %-20s %lld\n", label, (long long)json_integer_value(v));
    else
        line(f, label, NULL);
}

static const char *yes_no(const json_t *v)
{
    return json_is_true(v) ? "yes" : "no";
}

/* A value printed as NAME=VALUE: quoted when it holds blanks, quotes,
 * '=' or control characters. */
static void put_token(FILE *f, const char *s, size_t n)
{
    bool quote = n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ' ' || s[i] == '"' || s[i] == '=' || s[i] == '\\' ||
                (unsigned char)s[i] < 0x20 || s[i] == 0x7f;
    if (!quote) {
        gh_mgmt_put_safe(f, s, n);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') fputc('\\', f);
        gh_mgmt_put_safe(f, s + i, 1);
    }
    fputc('"', f);
}

/* ---- devices -------------------------------------------------------------- */

gh_err gh_mgmt_device_connstr(const char *host, const json_t *dev, char *out, size_t cap)
{
    const char *id = str(dev, "deviceId");
    const json_t *auth = json_object_get(dev, "authentication");
    const char *type = str(auth, "type");
    GH_ENSURE(id != NULL && host != NULL, GH_ERR_ARG);
    int n;
    if (type == NULL || strcmp(type, "sas") == 0) {
        const char *key = str(json_object_get(auth, "symmetricKey"), "primaryKey");
        GH_ENSURE(key != NULL && key[0] != '\0', GH_ERR_ARG);
        n = snprintf(out, cap, "HostName=%s;DeviceId=%s;SharedAccessKey=%s", host, id, key);
    } else if (strcmp(type, "selfSigned") == 0 || strcmp(type, "certificateAuthority") == 0) {
        n = snprintf(out, cap, "HostName=%s;DeviceId=%s;x509=true", host, id);
    } else {
        return GH_ERR_ARG;
    }
    GH_ENSURE(n >= 0 && (size_t)n < cap, GH_ERR_NOBUFS);
    return GH_OK;
}

void gh_mgmt_print_device(FILE *f, const json_t *dev, bool show_keys)
{
    const json_t *auth = json_object_get(dev, "authentication");
    const json_t *sk = json_object_get(auth, "symmetricKey");
    const json_t *tp = json_object_get(auth, "x509Thumbprint");
    const char *type = str(auth, "type");
    put_str(f, str(dev, "deviceId"));
    fputc('\n', f);
    line(f, "status", str(dev, "status"));
    if (str(dev, "statusReason")) line(f, "status reason", str(dev, "statusReason"));
    line(f, "authentication", type);
    line(f, "connection", str(dev, "connectionState"));
    line(f, "connection changed", str(dev, "connectionStateUpdatedTime"));
    line(f, "last activity", str(dev, "lastActivityTime"));
    line(f, "iot edge", yes_no(json_object_get(json_object_get(dev, "capabilities"), "iotEdge")));
    line(f, "device scope", str(dev, "deviceScope"));
    line(f, "parent scope",
         json_string_value(json_array_get(json_object_get(dev, "parentScopes"), 0)));
    line_int(f, "c2d queued", json_object_get(dev, "cloudToDeviceMessageCount"));
    line(f, "etag", str(dev, "etag"));
    line(f, "generation", str(dev, "generationId"));
    if (type == NULL || strcmp(type, "sas") == 0) {
        const char *hidden = "(hidden: --show-keys)";
        line(f, "primary key", show_keys ? str(sk, "primaryKey") : hidden);
        line(f, "secondary key", show_keys ? str(sk, "secondaryKey") : hidden);
    }
    if (type != NULL && strcmp(type, "selfSigned") == 0) {
        line(f, "primary thumbprint", str(tp, "primaryThumbprint"));
        line(f, "secondary thumbprint", str(tp, "secondaryThumbprint"));
    }
}

static size_t id_width(const json_t *arr, const char *key, size_t min, size_t max)
{
    size_t w = min, i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = str(v, key);
        size_t n = s ? strlen(s) : 0;
        if (n > w) w = n;
    }
    return w > max ? max : w;
}

static void put_padded(FILE *f, const char *s, size_t width)
{
    if (s == NULL) s = "-";
    size_t n = strlen(s);
    put_str(f, s);
    for (; n < width; n++) fputc(' ', f);
    fputc(' ', f);
}

void gh_mgmt_print_device_table(FILE *f, const json_t *arr)
{
    size_t w = id_width(arr, "deviceId", 9, 64);
    put_padded(f, "DEVICE ID", w);
    fprintf(f, "%-9s %-21s %-13s %-5s %s\n", "STATUS", "AUTH", "CONNECTION", "EDGE", "C2D");
    size_t i;
    json_t *d;
    json_array_foreach(arr, i, d)
    {
        const json_t *auth = json_object_get(d, "authentication");
        put_padded(f, str(d, "deviceId"), w);
        put_padded(f, str(d, "status"), 9);
        put_padded(f, str(auth, "type"), 21);
        put_padded(f, str(d, "connectionState"), 13);
        put_padded(f, yes_no(json_object_get(json_object_get(d, "capabilities"), "iotEdge")), 5);
        json_t *q = json_object_get(d, "cloudToDeviceMessageCount");
        fprintf(f, "%lld\n", json_is_integer(q) ? (long long)json_integer_value(q) : 0LL);
    }
}

/* ---- CA certificates ------------------------------------------------------------ */

void gh_mgmt_print_ca(FILE *f, const json_t *ca)
{
    const json_t *p = json_object_get(ca, "properties");
    put_str(f, str(ca, "name"));
    fputc('\n', f);
    line(f, "subject", str(p, "subject"));
    line(f, "verified", yes_no(json_object_get(p, "isVerified")));
    line(f, "expiry", str(p, "expiry"));
    line(f, "thumbprint (SHA-1)", str(p, "thumbprint"));
    line(f, "thumbprint (SHA-256)", str(p, "thumbprintSha256"));
    line(f, "created", str(p, "created"));
    line(f, "etag", str(ca, "etag"));
    if (str(p, "verificationCode")) line(f, "verification code", str(p, "verificationCode"));
}

void gh_mgmt_print_ca_table(FILE *f, const json_t *arr)
{
    size_t w = id_width(arr, "name", 4, 64);
    put_padded(f, "NAME", w);
    fprintf(f, "%-8s %-24s %s\n", "VERIFIED", "EXPIRY", "SUBJECT");
    size_t i;
    json_t *ca;
    json_array_foreach(arr, i, ca)
    {
        const json_t *p = json_object_get(ca, "properties");
        put_padded(f, str(ca, "name"), w);
        put_padded(f, yes_no(json_object_get(p, "isVerified")), 8);
        put_padded(f, str(p, "expiry"), 24);
        put_str(f, str(p, "subject"));
        fputc('\n', f);
    }
}

/* ---- twins ------------------------------------------------------------------ */

/* An indented JSON section; $metadata is left out (it is in --json). */
static void section(FILE *f, const char *title, const json_t *j)
{
    fprintf(f, "%s:\n", title);
    json_t *copy = json_is_object(j) ? json_deep_copy(j) : NULL;
    if (copy) json_object_del(copy, "$metadata");
    char *text = json_dumps(copy ? copy : j, JSON_ENCODE_ANY | JSON_INDENT(2));
    json_decref(copy);
    if (text == NULL) {
        fputs("  {}\n", f);
        return;
    }
    fputs("  ", f);
    /* JSON escapes control characters, but not DEL. */
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            fputs("\n  ", f);
        else
            gh_mgmt_put_safe(f, p, 1);
    }
    fputc('\n', f);
    free(text);
}

void gh_mgmt_print_twin(FILE *f, const json_t *twin)
{
    const json_t *props = json_object_get(twin, "properties");
    put_str(f, str(twin, "deviceId"));
    if (str(twin, "moduleId")) {
        fputc('/', f);
        put_str(f, str(twin, "moduleId"));
    }
    fputc('\n', f);
    line(f, "status", str(twin, "status"));
    line(f, "connection", str(twin, "connectionState"));
    line(f, "etag", str(twin, "etag"));
    line_int(f, "version", json_object_get(twin, "version"));
    if (str(twin, "modelId") && str(twin, "modelId")[0]) line(f, "model id", str(twin, "modelId"));
    section(f, "tags", json_object_get(twin, "tags"));
    section(f, "desired", json_object_get(props, "desired"));
    section(f, "reported", json_object_get(props, "reported"));
}

/* ---- telemetry --------------------------------------------------------------- */

static const char *const system_shown[][2] = {
    {"message-id", "$.mid"},
    {"correlation-id", "$.cid"},
    {"content-type", "$.ct"},
    {"content-encoding", "$.ce"},
};

void gh_mgmt_print_telemetry(FILE *f, const json_t *msg, bool json)
{
    if (json) {
        gh_mgmt_print_json(f, msg, true);
        return;
    }
    put_str(f, str(msg, "enqueuedTime"));
    fputc(' ', f);
    put_str(f, str(msg, "deviceId"));
    if (str(msg, "moduleId")) {
        fputc('/', f);
        put_str(f, str(msg, "moduleId"));
    }
    json_t *seq = json_object_get(msg, "seq");
    fprintf(f, " seq=%lld", json_is_integer(seq) ? (long long)json_integer_value(seq) : -1LL);
    const json_t *props = json_object_get(msg, "properties");
    const json_t *sys = json_object_get(props, "system");
    for (size_t i = 0; i < sizeof system_shown / sizeof system_shown[0]; i++) {
        const char *v = str(sys, system_shown[i][0]);
        if (v == NULL) continue;
        fprintf(f, " %s=", system_shown[i][1]);
        put_token(f, v, strlen(v));
    }
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(props, "app"), name, v)
    {
        fputc(' ', f);
        put_token(f, name, strlen(name));
        fputc('=', f);
        if (json_is_string(v)) {
            put_token(f, json_string_value(v), json_string_length(v));
        } else {
            char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            if (t) put_token(f, t, strlen(t));
            free(t);
        }
    }
    const json_t *body = json_object_get(msg, "body");
    const char *enc = str(msg, "bodyEncoding");
    fputc(' ', f);
    if (enc != NULL && strcmp(enc, "base64") == 0) fputs("base64:", f);
    if (json_is_string(body))
        gh_mgmt_put_safe(f, json_string_value(body), json_string_length(body));
    fputc('\n', f);
}
