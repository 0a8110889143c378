/* telemetry_sender: send N telemetry messages with properties through
 * libgatehouse-device and wait until the hub acknowledged every one.
 * Runs the library's own event loop from a plain poll loop.
 *
 *   telemetry_sender CONNECTION_STRING [--ca FILE] [--address IP] [--port N]
 *                    [--count N] [--interval-ms MS] [--cert FILE --key FILE]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gatehouse/device.h>

#define USAGE                                                                                      \
    "usage: telemetry_sender CONNECTION_STRING [--ca FILE] [--address IP] [--port N]\n"            \
    "                        [--count N] [--interval-ms MS] [--cert FILE --key FILE]\n"
#define WAIT_ACK_MS 30000 /* give up on outstanding acks after this */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct app {
    unsigned acked, failed;
};

static void on_connection(void *user, enum gh_device_status st, int reason, const char *detail)
{
    (void)user;
    const char *what = st == GH_DEVICE_CONNECTED ? "connected" : "disconnected";
    fprintf(stderr, "%s (%s%s%s)\n", what, reason ? gh_device_strerror(reason) : "ok",
            detail[0] ? ": " : "", detail);
}

static void on_sent(void *ctx, int result)
{
    struct app *a = ctx;
    if (result == 0)
        a->acked++;
    else
        a->failed++;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fputs(USAGE, stderr);
        return 2;
    }
    struct gh_device_options o = {.auth = GH_DEVICE_AUTH_CONNECTION_STRING,
                                  .connection_string = argv[1]};
    unsigned count = 10, interval_ms = 1000;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--ca") == 0)
            o.ca_file = v;
        else if (strcmp(k, "--address") == 0)
            o.connect_address = v;
        else if (strcmp(k, "--port") == 0)
            o.port = (uint16_t)atoi(v);
        else if (strcmp(k, "--count") == 0)
            count = (unsigned)atoi(v);
        else if (strcmp(k, "--interval-ms") == 0)
            interval_ms = (unsigned)atoi(v);
        else if (strcmp(k, "--cert") == 0)
            o.cert_file = v;
        else if (strcmp(k, "--key") == 0)
            o.key_file = v;
        else {
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (argc % 2 != 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    gh_device_set_log(GH_DEVICE_LOG_WARN, -1);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct app a = {0};
    struct gh_device_callbacks cbs = {.on_connection = on_connection};
    struct gh_device_client *c = NULL;
    int rc = gh_device_client_new(&o, &cbs, &a, &c);
    if (rc != 0) {
        fprintf(stderr, "telemetry_sender: %s\n", gh_device_strerror(rc));
        return 1;
    }
    unsigned sent = 0;
    long long next = now_ms(), give_up = 0;
    while (!stop) {
        if (sent < count && now_ms() >= next) {
            char body[128], mid[32];
            snprintf(body, sizeof body, "{\"seq\":%u,\"temperature\":%.1f}", sent,
                     20.0 + (double)(sent % 10) / 2);
            snprintf(mid, sizeof mid, "msg-%u", sent);
            struct gh_device_property app[] = {{"source", "telemetry_sender"}};
            struct gh_device_message_props p = {.message_id = mid,
                                                .content_type = "application/json",
                                                .content_encoding = "utf-8",
                                                .app = app,
                                                .napp = 1};
            rc = gh_device_send(c, body, strlen(body), &p, on_sent, &a);
            if (rc != 0) fprintf(stderr, "send %u: %s\n", sent, gh_device_strerror(rc));
            sent++;
            next += interval_ms;
            if (sent == count) give_up = now_ms() + WAIT_ACK_MS;
        }
        if (sent == count && (a.acked + a.failed == count || now_ms() > give_up)) break;
        if (gh_device_client_run_once(c, 100) != 0) break;
    }
    printf("sent %u, acknowledged %u, failed %u\n", sent, a.acked, a.failed);
    gh_device_client_free(c);
    return a.acked == count ? 0 : 1;
}
