/* Fuzz what the management CLI reads from the hub and from devices: the
 * hub's (and the provisioning service's) error bodies, JSON documents
 * through every text printer, the device-document editor and the
 * enrollment builder (as an initial twin), and the argument parsers
 * (durations, times, properties, numbers, host names).
 *
 * Oracles: the error-body parts are terminated and free of control
 * characters; the text printers never write a control character other than
 * '\n' (a device cannot drive the terminal) and JSON lines none at all; a
 * parsed time survives a format/parse round trip; a parsed property lies
 * inside the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/mgmt_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) abort();
}

static void no_controls(const char *s, size_t n, bool newline_ok)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        check(!(ch < 0x20 || ch == 0x7f) || (newline_ok && ch == '\n'));
    }
}

static void printers(const json_t *j)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) return;
    gh_mgmt_print_telemetry(f, j, false);
    gh_mgmt_print_device(f, j, true);
    gh_mgmt_print_device_table(f, j);
    gh_mgmt_print_ca(f, j);
    gh_mgmt_print_ca_table(f, j);
    gh_mgmt_print_twin(f, j);
    gh_mgmt_print_enrollment(f, j, true);
    gh_mgmt_print_enrollment(f, j, false);
    gh_mgmt_print_enrollment_table(f, j, false);
    gh_mgmt_print_enrollment_table(f, j, true);
    gh_mgmt_print_registration(f, j);
    gh_mgmt_print_registration_table(f, j);
    fclose(f);
    no_controls(buf, len, true);
    free(buf);
    /* JSON output is escaped by the encoder. */
    f = open_memstream(&buf, &len);
    if (f == NULL) return;
    gh_mgmt_print_telemetry(f, j, true);
    fclose(f);
    check(len > 0 && buf[len - 1] == '\n');
    for (size_t i = 0; i + 1 < len; i++) check((unsigned char)buf[i] >= 0x20);
    free(buf);
}

static void editor(const json_t *j)
{
    char cs[512], msg[256];
    (void)gh_mgmt_device_connstr("hub.example.test", j, cs, sizeof cs);
    json_t *copy = json_deep_copy(j);
    if (copy == NULL) return;
    struct gh_mgmt_device_change ch = {.edge = -1, .status = "disabled"};
    (void)gh_mgmt_device_apply(copy, &ch, msg, sizeof msg);
    ch = (struct gh_mgmt_device_change){.edge = 1, .set_parent = true, .parent_scope = "P"};
    (void)gh_mgmt_device_apply(copy, &ch, msg, sizeof msg);
    ch = (struct gh_mgmt_device_change){.edge = 0, .auth_type = "sas"};
    (void)gh_mgmt_device_apply(copy, &ch, msg, sizeof msg);
    json_decref(copy);
    /* The enrollment builder takes j as an initial twin: accepted only in
     * the documented shape, and then copied unchanged. */
    struct gh_mgmt_enrollment_spec spec = {
        .id = "dev-1", .attestation = "symmetric-key", .initial_twin = j};
    json_t *body = NULL;
    if (gh_mgmt_enrollment_body(&spec, &body, msg, sizeof msg) == GH_OK) {
        check(json_is_object(j));
        check(json_equal(json_object_get(body, "initialTwin"), j));
        json_decref(body);
    }
}

static void text_parsers(const char *s, size_t size)
{
    int64_t v = 0, again = 0;
    uint64_t u = 0;
    (void)gh_mgmt_duration_parse(s, &v);
    (void)gh_mgmt_uint_parse(s, 0, UINT64_MAX, &u);
    (void)gh_mgmt_since_parse(s, 1767225600000LL, &v);
    if (gh_mgmt_host_valid(s)) check(strlen(s) > 0 && strlen(s) <= GH_MGMT_HOST_MAX && s[0] != '.');
    if (gh_mgmt_time_parse(s, &v) == GH_OK) {
        char t[GH_MGMT_TIME_MAX];
        gh_mgmt_time_format(v, t);
        check(gh_mgmt_time_parse(t, &again) == GH_OK && again == v);
    }
    struct gh_slice n, val;
    char msg[256];
    if (gh_mgmt_prop_parse(s, &n, &val, msg, sizeof msg) == GH_OK) {
        check(n.ptr == (const uint8_t *)s && n.len > 0 && n.len < size);
        check(val.ptr == n.ptr + n.len + 1 && n.len + 1 + val.len == strlen(s));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char code[64], text[256];
    gh_mgmt_hub_error_parse(data, size, code, sizeof code, text, sizeof text);
    no_controls(code, strlen(code), false);
    no_controls(text, strlen(text), false);

    char *s = malloc(size + 1);
    if (s == NULL) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    text_parsers(s, size);
    free(s);

    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (j != NULL) {
        printers(j);
        editor(j);
        json_decref(j);
    }
    return 0;
}
