/* gatehouse sim: option table, parsing and --help. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

enum opt {
    O_DEVICES,
    O_PREFIX,
    O_AUTH,
    O_GROUP_KEY,
    O_PARENT,
    O_CS,
    O_CS_FILE,
    O_CA_CERT,
    O_CA_KEY,
    O_CA_PASSWORD_FILE,
    O_HUB,
    O_ADDRESS,
    O_GATEWAY,
    O_CA,
    O_HTTPS_PORT,
    O_HTTPS_ADDRESS,
    O_CONNECT_RATE,
    O_RATE,
    O_RATE_PER_DEVICE,
    O_QOS,
    O_MESSAGES,
    O_DURATION,
    O_DRAIN,
    O_KEEPALIVE,
    O_TOKEN_TTL,
    O_WINDOW,
    O_NO_CREATE,
    O_JSON,
    O_NO_PROGRESS,
    O_WORK_DIR,
    O_REUSE_CERTS,
    O_KEY_TYPE,
    O_PLAIN,
    O_PAYLOAD_SIZE,
    O_RECONNECT,
    O_LOG_LEVEL,
    O_HELP,
};

struct opt_info {
    const char *name;
    bool takes_value;
    const char *arg;
    const char *doc;
};

static const struct opt_info opts[] = {
    [O_DEVICES] = {"devices", true, "N", "number of simulated devices (default 10)"},
    [O_PREFIX] = {"prefix", true, "TEXT", "device id prefix (default sim-): sim-0001, ..."},
    [O_AUTH] = {"auth", true, "sas|x509", "identity kind (default sas)"},
    [O_GROUP_KEY] = {"group-key", true, "KEY",
                     "sas: derive each device key from this group key (DPS rule);\n"
                     "the devices must exist already (nothing is created)"},
    [O_PARENT] = {"parent", true, "EDGE_ID", "create the devices as children of this gateway"},
    [O_CS] = {"connection-string", true, "CS",
              "the hub's service connection string (device creation); default\n"
              "$GATEHOUSE_CONNECTION_STRING"},
    [O_CS_FILE] = {"connection-string-file", true, "FILE", "read the connection string from FILE"},
    [O_CA_CERT] = {"ca-cert", true, "FILE", "x509: tenant CA certificate issuing device certs"},
    [O_CA_KEY] = {"ca-key", true, "FILE", "x509: its private key"},
    [O_CA_PASSWORD_FILE] = {"ca-password-file", true, "FILE",
                            "x509: password of an encrypted CA key"},
    [O_HUB] = {"hub", true, "HOST[:PORT]",
               "the hub's host name (default: HostName of the connection\n"
               "string) and MQTT port (default 8883)"},
    [O_ADDRESS] = {"address", true, "ADDR", "dial this address instead of resolving the host name"},
    [O_GATEWAY] = {"gateway", true, "HOST[:PORT]",
                   "connect through this gateway (TLS name = HOST; user name and\n"
                   "token audience stay the hub's)"},
    [O_CA] = {"ca", true, "FILE", "trust bundle for the server certificate ($GATEHOUSE_CA)"},
    [O_HTTPS_PORT] = {"https-port", true, "PORT", "the hub's REST port (default 443)"},
    [O_HTTPS_ADDRESS] = {"https-address", true, "ADDR",
                         "address of the hub's REST API (default: --address when\n"
                         "connecting directly, else the hub name)"},
    [O_CONNECT_RATE] = {"connect-rate", true, "R", "new connections per second (default 100)"},
    [O_RATE] = {"rate", true, "R|max",
                "telemetry messages per second, whole fleet (default 10); max:\n"
                "as fast as the QoS 1 windows and the connections take them"},
    [O_RATE_PER_DEVICE] = {"rate-per-device", false, NULL,
                           "--rate is per device, not for the fleet"},
    [O_QOS] = {"qos", true, "0|1", "telemetry QoS (default 1)"},
    [O_MESSAGES] = {"messages", true, "N", "stop after N messages (acknowledged, with QoS 1)"},
    [O_DURATION] = {"duration", true, "T", "stop after T (90, 30s, 5m, 1h)"},
    [O_DRAIN] = {"drain", true, "T", "then wait up to T for outstanding PUBACKs (default 10s)"},
    [O_KEEPALIVE] = {"keepalive", true, "T", "MQTT keep-alive (default 120s)"},
    [O_TOKEN_TTL] = {"token-ttl", true, "T", "SAS token lifetime (default 1h; renewed at 80%)"},
    [O_WINDOW] = {"window", true, "N", "QoS 1 messages in flight per device (default 16)"},
    [O_NO_CREATE] = {"no-create", false, NULL,
                     "do not create devices: sas looks their keys up, x509 just connects"},
    [O_JSON] = {"json", false, NULL, "print the summary as JSON on stdout"},
    [O_NO_PROGRESS] = {"no-progress", false, NULL, "no live progress line on stderr"},
    [O_WORK_DIR] = {"work-dir", true, "DIR", "x509: keep device certificates here (default: temp)"},
    [O_REUSE_CERTS] = {"reuse-certs", false, NULL,
                       "x509: use the certificates already in --work-dir (issue the\n"
                       "missing ones)"},
    [O_KEY_TYPE] = {"key-type", true, "TYPE",
                    "x509: device key type, ec-p256 (default) or rsa-2048"},
    [O_PLAIN] = {"plain", false, NULL,
                 "bare telemetry for benchmarks: topic devices/{id}/messages/events/,\n"
                 "--payload-size bytes, no twin/method/C2D subscriptions"},
    [O_PAYLOAD_SIZE] = {"payload-size", true, "N", "--plain body size in bytes (default 64)"},
    [O_RECONNECT] = {"reconnect", false, NULL,
                     "handshake loop: every device disconnects after each CONNACK\n"
                     "and connects again (no telemetry)"},
    [O_LOG_LEVEL] = {"log-level", true, "LEVEL", "debug, info, warn (default), error"},
    [O_HELP] = {"help", false, NULL, "show this help"},
};

#define NOPTS (sizeof opts / sizeof opts[0])

void gh_sim_opts_default(struct gh_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->devices = GH_SIM_DEVICES_DEFAULT;
    o->prefix = GH_SIM_PREFIX_DEFAULT;
    o->auth = GH_SIM_AUTH_SAS;
    o->port = GH_SIM_MQTT_PORT_DEFAULT;
    o->https_port = GH_SIM_HTTPS_PORT_DEFAULT;
    o->connect_rate = GH_SIM_CONNECT_RATE_DEFAULT;
    o->rate = GH_SIM_RATE_DEFAULT;
    o->qos = 1;
    o->drain_s = GH_SIM_DRAIN_DEFAULT_S;
    o->keepalive_s = GH_SIM_KEEPALIVE_DEFAULT_S;
    o->token_ttl_s = GH_SIM_TOKEN_TTL_DEFAULT_S;
    o->window = GH_SIM_WINDOW_DEFAULT;
    o->create = true;
    o->progress = true;
    o->key_type = GH_PKI_KEY_EC_P256;
    o->payload_size = GH_SIM_PAYLOAD_DEFAULT;
}

void gh_sim_help(FILE *f)
{
    fprintf(f, "usage: gatehouse sim [options]\n\n"
               "Simulate a fleet of devices: each connects over MQTT/TLS to a hub (or through\n"
               "a gateway), sends JSON telemetry, reports a twin property, logs desired\n"
               "properties and answers direct methods. A progress line goes to stderr once\n"
               "a second, a summary at the end. Runs until --messages or --duration is\n"
               "reached, or until interrupted (Ctrl-C).\n\noptions:\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char head[64];
        snprintf(head, sizeof head, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(f, "  %-30s ", head);
        for (const char *p = opts[i].doc; *p; p++) {
            fputc(*p, f);
            if (*p == '\n') fprintf(f, "  %-30s ", "");
        }
        fputc('\n', f);
    }
    fprintf(
        f,
        "\nexamples:\n"
        "  gatehouse sim --devices 200 --messages 2000 --hub hub.example.test\n"
        "  gatehouse sim --devices 2000 --auth x509 --ca-cert tenant.pem --ca-key tenant.key \\\n"
        "      --parent gw1 --gateway gw1.example.test --rate 500 --duration 5m\n"
        "\nexit status: 0 when every bound was reached without errors (docs/sim.md).\n");
}

static gh_err parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    GH_ENSURE(s != NULL && s[0] >= '0' && s[0] <= '9', GH_ERR_ARG);
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    GH_ENSURE(errno == 0 && end != NULL && *end == '\0', GH_ERR_ARG);
    GH_ENSURE(v >= min && v <= max, GH_ERR_ARG);
    *out = v;
    return GH_OK;
}

static gh_err parse_rate(const char *s, double *out)
{
    GH_ENSURE(s != NULL && ((s[0] >= '0' && s[0] <= '9') || s[0] == '.'), GH_ERR_ARG);
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    GH_ENSURE(errno == 0 && end != NULL && *end == '\0', GH_ERR_ARG);
    GH_ENSURE(isfinite(v) && v > 0.0 && v <= GH_SIM_RATE_MAX, GH_ERR_ARG);
    *out = v;
    return GH_OK;
}

gh_err gh_sim_duration_parse(const char *s, int64_t max_s, int64_t *out)
{
    GH_ENSURE(s != NULL && s[0] >= '0' && s[0] <= '9', GH_ERR_ARG);
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    GH_ENSURE(errno == 0 && end != NULL, GH_ERR_ARG);
    unsigned long long mul = 1;
    if (*end == 's') {
        end++;
    } else if (*end == 'm') {
        mul = 60;
        end++;
    } else if (*end == 'h') {
        mul = 3600;
        end++;
    }
    GH_ENSURE(*end == '\0', GH_ERR_ARG);
    GH_ENSURE(v > 0 && max_s > 0 && v <= (unsigned long long)max_s / mul, GH_ERR_ARG);
    *out = (int64_t)(v * mul);
    return GH_OK;
}

gh_err gh_sim_hostport_parse(const char *s, char *host, size_t cap, uint16_t *port)
{
    GH_ENSURE(s != NULL && host != NULL && port != NULL && cap > 0, GH_ERR_ARG);
    const char *h = s;
    size_t hlen;
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        GH_ENSURE(close != NULL, GH_ERR_ARG);
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close[1] == ':' ? close + 1 : NULL;
        GH_ENSURE(colon != NULL || close[1] == '\0', GH_ERR_ARG);
    } else {
        colon = strrchr(s, ':');
        GH_ENSURE(colon == NULL || strchr(s, ':') == colon, GH_ERR_ARG); /* bare IPv6: use [] */
        hlen = colon ? (size_t)(colon - s) : strlen(s);
    }
    GH_ENSURE(hlen > 0 && hlen <= GH_SIM_HOST_MAX && hlen < cap, GH_ERR_ARG);
    uint64_t p = *port;
    if (colon != NULL) GH_GUARD(parse_u64(colon + 1, 1, 65535, &p));
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return GH_OK;
}

static int find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0) return (int)i;
    return -1;
}

/* Apply one option; v is its value (NULL for flags). */
static gh_err apply(struct gh_sim_opts *o, enum opt id, const char *v, char *msg, size_t cap)
{
    uint64_t u = 0;
    int64_t d = 0;
    gh_err rc = GH_OK;
    const char *name = opts[id].name;
    switch (id) {
    case O_DEVICES:
        rc = parse_u64(v, 1, GH_SIM_DEVICES_MAX, &u);
        if (rc == GH_OK) o->devices = (unsigned)u;
        break;
    case O_PREFIX:
        if (strlen(v) > GH_SIM_PREFIX_MAX) rc = GH_ERR_ARG;
        o->prefix = v;
        break;
    case O_AUTH:
        if (strcmp(v, "sas") == 0)
            o->auth = GH_SIM_AUTH_SAS;
        else if (strcmp(v, "x509") == 0)
            o->auth = GH_SIM_AUTH_X509;
        else
            rc = GH_ERR_ARG;
        break;
    case O_GROUP_KEY:
        o->group_key = v;
        break;
    case O_PARENT:
        o->parent = v;
        break;
    case O_CS:
        o->cs = v;
        break;
    case O_CS_FILE:
        o->cs_file = v;
        break;
    case O_CA_CERT:
        o->ca_cert = v;
        break;
    case O_CA_KEY:
        o->ca_key = v;
        break;
    case O_CA_PASSWORD_FILE:
        o->ca_password_file = v;
        break;
    case O_HUB:
        o->hub = v;
        break;
    case O_ADDRESS:
        o->address = v;
        break;
    case O_GATEWAY:
        o->gateway = v;
        break;
    case O_CA:
        o->ca = v;
        break;
    case O_HTTPS_PORT:
        rc = parse_u64(v, 1, 65535, &u);
        if (rc == GH_OK) o->https_port = (uint16_t)u;
        break;
    case O_HTTPS_ADDRESS:
        o->https_address = v;
        break;
    case O_CONNECT_RATE:
        rc = parse_rate(v, &o->connect_rate);
        break;
    case O_RATE:
        if (strcmp(v, "max") == 0)
            o->rate = GH_SIM_RATE_MAX;
        else
            rc = parse_rate(v, &o->rate);
        break;
    case O_RATE_PER_DEVICE:
        o->rate_per_device = true;
        break;
    case O_QOS:
        rc = parse_u64(v, 0, 1, &u);
        if (rc == GH_OK) o->qos = (uint8_t)u;
        break;
    case O_MESSAGES:
        rc = parse_u64(v, 1, GH_SIM_MESSAGES_MAX, &u);
        if (rc == GH_OK) o->messages = u;
        break;
    case O_DURATION:
        rc = gh_sim_duration_parse(v, GH_SIM_DURATION_MAX_S, &o->duration_s);
        break;
    case O_DRAIN:
        rc = gh_sim_duration_parse(v, GH_SIM_DRAIN_MAX_S, &d);
        if (rc == GH_OK) o->drain_s = (unsigned)d;
        break;
    case O_KEEPALIVE:
        rc = gh_sim_duration_parse(v, 65535, &d);
        if (rc == GH_OK) o->keepalive_s = (unsigned)d;
        break;
    case O_TOKEN_TTL:
        rc = gh_sim_duration_parse(v, GH_SIM_TOKEN_TTL_MAX_S, &d);
        if (rc == GH_OK && d < (int64_t)GH_SIM_TOKEN_TTL_MIN_S) rc = GH_ERR_ARG;
        if (rc == GH_OK) o->token_ttl_s = (unsigned)d;
        break;
    case O_WINDOW:
        rc = parse_u64(v, 1, 4096, &u);
        if (rc == GH_OK) o->window = (unsigned)u;
        break;
    case O_NO_CREATE:
        o->create = false;
        break;
    case O_JSON:
        o->json = true;
        break;
    case O_NO_PROGRESS:
        o->progress = false;
        break;
    case O_WORK_DIR:
        o->work_dir = v;
        break;
    case O_REUSE_CERTS:
        o->reuse_certs = true;
        break;
    case O_KEY_TYPE:
        if (strcmp(v, "ec-p256") == 0)
            o->key_type = GH_PKI_KEY_EC_P256;
        else if (strcmp(v, "rsa-2048") == 0)
            o->key_type = GH_PKI_KEY_RSA_2048;
        else
            rc = GH_ERR_ARG;
        break;
    case O_PLAIN:
        o->plain = true;
        break;
    case O_PAYLOAD_SIZE:
        rc = parse_u64(v, GH_SIM_PAYLOAD_MIN, GH_SIM_BODY_MAX, &u);
        if (rc == GH_OK) o->payload_size = (unsigned)u;
        break;
    case O_RECONNECT:
        o->reconnect = true;
        break;
    case O_LOG_LEVEL:
        if (strcmp(v, "debug") != 0 && strcmp(v, "info") != 0 && strcmp(v, "warn") != 0 &&
            strcmp(v, "error") != 0)
            rc = GH_ERR_ARG;
        o->log_level = v;
        break;
    case O_HELP:
        o->help = true;
        break;
    }
    if (rc != GH_OK) return gh_err_say(msg, cap, rc, "--%s: invalid value", name);
    return GH_OK;
}

static gh_err check(const struct gh_sim_opts *o, char *msg, size_t cap)
{
    bool have_cs = o->cs != NULL || o->cs_file != NULL;
    if (o->cs != NULL && o->cs_file != NULL)
        return gh_err_say(msg, cap, GH_ERR_USAGE,
                          "give either --connection-string or --connection-string-file");
    if (o->auth == GH_SIM_AUTH_X509) {
        if (o->group_key != NULL)
            return gh_err_say(msg, cap, GH_ERR_USAGE, "--group-key is for --auth sas");
        if (o->ca_cert == NULL || o->ca_key == NULL)
            return gh_err_say(msg, cap, GH_ERR_USAGE, "--auth x509 needs --ca-cert and --ca-key");
    } else if (o->ca_cert != NULL || o->ca_key != NULL || o->ca_password_file != NULL) {
        return gh_err_say(msg, cap, GH_ERR_USAGE, "--ca-cert/--ca-key are for --auth x509");
    }
    if (o->reuse_certs && (o->auth != GH_SIM_AUTH_X509 || o->work_dir == NULL))
        return gh_err_say(msg, cap, GH_ERR_USAGE, "--reuse-certs needs --auth x509 and --work-dir");
    if (o->reconnect && o->messages > 0)
        return gh_err_say(msg, cap, GH_ERR_USAGE, "--reconnect sends no telemetry: use --duration");
    if (o->group_key != NULL && o->parent != NULL)
        return gh_err_say(msg, cap, GH_ERR_USAGE,
                          "--parent needs device creation; --group-key creates nothing");
    if (!o->create && o->parent != NULL)
        return gh_err_say(msg, cap, GH_ERR_USAGE,
                          "--parent needs device creation (no --no-create)");
    if (o->hub == NULL && !have_cs && getenv("GATEHOUSE_CONNECTION_STRING") == NULL)
        return gh_err_say(msg, cap, GH_ERR_USAGE,
                          "no hub: give --hub or a service connection string");
    return GH_OK;
}

gh_err gh_sim_opts_parse(int argc, char **argv, struct gh_sim_opts *o, char *msg, size_t cap)
{
    GH_ENSURE(o != NULL && argv != NULL && argc >= 1, GH_ERR_ARG);
    gh_sim_opts_default(o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            return gh_err_say(msg, cap, GH_ERR_USAGE,
                              "unexpected argument (options start with --)");
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int id = find_opt(name, nlen);
        if (id < 0)
            return gh_err_say(msg, cap, GH_ERR_USAGE, "unknown option --%.*s",
                              (int)(nlen > 64 ? 64 : nlen), name);
        const char *v = NULL;
        if (opts[id].takes_value) {
            if (eq != NULL) {
                v = eq + 1;
            } else {
                if (i + 1 >= argc)
                    return gh_err_say(msg, cap, GH_ERR_USAGE, "--%s needs a value", opts[id].name);
                v = argv[++i];
            }
        } else if (eq != NULL) {
            return gh_err_say(msg, cap, GH_ERR_USAGE, "--%s takes no value", opts[id].name);
        }
        GH_GUARD(apply(o, (enum opt)id, v, msg, cap));
    }
    if (o->help) return GH_OK;
    return check(o, msg, cap);
}
