/* twin_method_responder: a device that reports its start time to its twin,
 * prints desired-property patches and cloud-to-device messages, and answers
 * every direct method with status 200 and {"method":..., "request":...}.
 * Runs until SIGINT / SIGTERM, or for --seconds N.
 *
 *   twin_method_responder CONNECTION_STRING [--ca FILE] [--address IP]
 *                         [--port N] [--seconds N]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gatehouse/device.h>

#define USAGE                                                                                      \
    "usage: twin_method_responder CONNECTION_STRING [--ca FILE] [--address IP] [--port N]\n"       \
    "                             [--seconds N]\n"
#define RESPONSE_MAX 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static struct gh_device_client *client;

static void on_twin(void *ctx, int result, int status, const char *body, size_t len,
                    uint64_t version)
{
    (void)ctx;
    if (result != 0)
        fprintf(stderr, "twin request: %s\n", gh_device_strerror(result));
    else
        printf("twin %d (version %llu) %.*s\n", status, (unsigned long long)version, (int)len,
               body);
    fflush(stdout);
}

static void on_connection(void *user, enum gh_device_status st, int reason, const char *detail)
{
    (void)user;
    if (st != GH_DEVICE_CONNECTED) {
        fprintf(stderr, "status %d: %s %s\n", (int)st, gh_device_strerror(reason), detail);
        return;
    }
    printf("connected\n");
    fflush(stdout);
}

static void on_desired(void *user, const char *json, size_t len, uint64_t version)
{
    (void)user;
    printf("desired (version %llu) %.*s\n", (unsigned long long)version, (int)len, json);
    fflush(stdout);
}

static void on_c2d(void *user, const struct gh_device_c2d *m)
{
    (void)user;
    printf("c2d %s: %.*s\n", m->message_id ? m->message_id : "-", (int)m->len,
           (const char *)m->body);
    fflush(stdout);
}

static void on_method(void *user, const char *name, const char *payload, size_t len,
                      const char *rid)
{
    (void)user;
    char resp[RESPONSE_MAX];
    int n = snprintf(resp, sizeof resp, "{\"method\":\"%s\",\"request\":%.*s}", name, (int)len,
                     len ? payload : "null");
    if (n < 0 || (size_t)n >= sizeof resp) n = snprintf(resp, sizeof resp, "{\"method\":null}");
    int rc = gh_device_method_respond(client, rid, 200, resp, (size_t)n);
    printf("method %s -> %s\n", name, rc ? gh_device_strerror(rc) : "answered 200");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-' || argc % 2 != 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    struct gh_device_options o = {.auth = GH_DEVICE_AUTH_CONNECTION_STRING,
                                  .connection_string = argv[1]};
    long seconds = -1;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--ca") == 0)
            o.ca_file = v;
        else if (strcmp(k, "--address") == 0)
            o.connect_address = v;
        else if (strcmp(k, "--port") == 0)
            o.port = (uint16_t)atoi(v);
        else if (strcmp(k, "--seconds") == 0)
            seconds = atol(v);
        else {
            fputs(USAGE, stderr);
            return 2;
        }
    }
    gh_device_set_log(GH_DEVICE_LOG_WARN, -1);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct gh_device_callbacks cbs = {.on_connection = on_connection,
                                      .on_desired = on_desired,
                                      .on_c2d = on_c2d,
                                      .on_method = on_method};
    int rc = gh_device_client_new(&o, &cbs, NULL, &client);
    if (rc != 0) {
        fprintf(stderr, "twin_method_responder: %s\n", gh_device_strerror(rc));
        return 1;
    }
    char report[96];
    snprintf(report, sizeof report, "{\"startedAt\":%lld,\"library\":\"%s\"}",
             (long long)time(NULL), gh_device_version());
    if ((rc = gh_device_twin_report(client, report, strlen(report), on_twin, NULL)) != 0 ||
        (rc = gh_device_twin_get(client, on_twin, NULL)) != 0)
        fprintf(stderr, "twin: %s\n", gh_device_strerror(rc));
    time_t end = seconds >= 0 ? time(NULL) + seconds : 0;
    while (!stop && (!end || time(NULL) < end))
        if (gh_device_client_run_once(client, 200) != 0) break;
    gh_device_client_free(client);
    return 0;
}
