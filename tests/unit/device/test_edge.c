/* libgatehouse-device through a real gatehouse edge gateway: the hub runs
 * in-process on a second thread (MQTT + HTTPS API on 127.0.0.1), the
 * gateway is the real `gatehouse edge run` process ($GH_GATEHOUSE) on
 * 127.0.0.71, provisioned manually with its connection string, and the
 * device (a child of the gateway) connects with GatewayHostName: telemetry
 * with properties, a reported patch and a twin get through the gateway.
 * The telemetry is read back from the hub's store once its thread stopped.
 * The gateway is stopped by PID; every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <event2/thread.h>

#include "device_fixture.h"

#define GW_HOST "gw.gatehouse.test"
#define GW_ADDR "127.0.0.71"
#define GW "devlib-gw"
#define CHILD "devlib-child"
#define EDGE_WAIT_MS 45000u /* gateway start, link, identity sync */
#define EDGE_STOP_MS 10000u

static char gw_key[GH_IDENTITY_KEY_MAX + 1], child_key[GH_IDENTITY_KEY_MAX + 1];
static pthread_t thread;
static bool running;
static pid_t edge_pid;
static uint16_t gw_port;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *loop_thread(void *arg)
{
    (void)arg;
    event_base_dispatch(gh_hub_base(FX.hub));
    return NULL;
}

static void hub_thread_stop(void)
{
    if (!running) return;
    event_base_loopbreak(gh_hub_base(FX.hub));
    pthread_join(thread, NULL);
    running = false;
}

/* SIGTERM, then wait for the exit (pidfd + poll, bounded), else SIGKILL. */
static void edge_stop(void)
{
    if (edge_pid <= 0) return;
    int pfd = (int)syscall(SYS_pidfd_open, edge_pid, 0);
    kill(edge_pid, SIGTERM);
    if (pfd >= 0) {
        struct pollfd pf = {.fd = pfd, .events = POLLIN};
        if (poll(&pf, 1, (int)EDGE_STOP_MS) != 1) kill(edge_pid, SIGKILL);
        close(pfd);
    }
    int st;
    waitpid(edge_pid, &st, 0);
    edge_pid = 0;
}

static int concat(const char *out, const char *a, const char *b)
{
    char *x = fx_read_file(a), *y = fx_read_file(b);
    FILE *f = fopen(out, "w");
    int rc = x && y && f && fputs(x, f) >= 0 && fputs(y, f) >= 0 ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    free(x);
    free(y);
    return rc;
}

static int identities(void)
{
    struct gh_identity in, gw, child;
    memset(&in, 0, sizeof in);
    snprintf(in.device_id, sizeof in.device_id, GW);
    in.auth_type = GH_AUTH_SAS;
    in.iot_edge = true;
    if (gh_store_identity_create(gh_hub_store(FX.hub), &in, &gw) != GH_OK) return -1;
    memcpy(gw_key, gw.primary_key, sizeof gw_key);
    memset(&in, 0, sizeof in);
    snprintf(in.device_id, sizeof in.device_id, CHILD);
    in.auth_type = GH_AUTH_SAS;
    snprintf(in.device_scope, sizeof in.device_scope, "%s", gw.device_scope);
    in.present = GH_IDENTITY_F_DEVICE_SCOPE; /* a leaf's deviceScope: its parent (6.2) */
    gh_err rc = gh_store_identity_create(gh_hub_store(FX.hub), &in, &child);
    if (rc == GH_OK) memcpy(child_key, child.primary_key, sizeof child_key);
    gh_identity_wipe(&gw);
    gh_identity_wipe(&child);
    return rc == GH_OK ? 0 : -1;
}

static int edge_config(uint16_t hub_mqtt, uint16_t hub_https)
{
    uint16_t metrics = fx_free_port_on(GW_ADDR);
    gw_port = fx_free_port_on(GW_ADDR);
    if (!metrics || !gw_port) return -1;
    FILE *f = fopen(fx_path("edge.toml"), "w");
    if (!f) return -1;
    fprintf(f,
            "hostname = \"" GW_HOST "\"\n"
            "trust_bundle_cert = \"file://%s\"\n\n"
            "[edge_ca]\ncert = \"file://%s\"\npk = \"file://%s\"\n\n"
            "[listen]\naddress = \"" GW_ADDR "\"\nmqtt_port = %u\n\n"
            "[metrics]\naddress = \"" GW_ADDR "\"\nport = %u\n\n"
            "[upstream]\nmqtt_port = %u\nhttps_port = %u\nbackoff_min = \"1s\"\n"
            "backoff_max = \"2s\"\n\n"
            "[log]\nlevel = \"error\"\n\n"
            "[hosts]\n\"" FX_HUB "\" = \"" FX_ADDR "\"\n\n"
            "[provisioning]\nsource = \"manual\"\n"
            "connection_string = \"HostName=" FX_HUB ";DeviceId=" GW ";SharedAccessKey=%s\"\n",
            FX.root_cert, fx_path("edge-ca.chain.pem"), fx_path("edge-ca.key.pem"),
            (unsigned)gw_port, (unsigned)metrics, (unsigned)hub_mqtt, (unsigned)hub_https, gw_key);
    if (fclose(f) != 0) return -1;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' edge config apply -c '%s' --home '%s' >'%s' 2>&1",
             getenv("GH_GATEHOUSE") ? getenv("GH_GATEHOUSE") : "gatehouse", fx_path("edge.toml"),
             fx_path("edge-home"), fx_path("apply.log"));
    if (mkdir(fx_path("edge-home"), 0700) != 0 || system(cmd) != 0) {
        fprintf(stderr, "edge config apply failed (%s)\n", fx_path("apply.log"));
        return -1;
    }
    return 0;
}

static int edge_start(void)
{
    const char *g = getenv("GH_GATEHOUSE") ? getenv("GH_GATEHOUSE") : "gatehouse";
    char home[300], log[300];
    snprintf(home, sizeof home, "%s", fx_path("edge-home"));
    snprintf(log, sizeof log, "%s", fx_path("edge.log"));
    edge_pid = fork();
    if (edge_pid < 0) return -1;
    if (edge_pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(g, g, "edge", "run", "--home", home, (char *)NULL);
        _exit(127);
    }
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    if (evthread_use_pthreads() != 0) return -1;
    if (fx_pki_setup("edge") != 0) return -1;
    if (fx_issue(GH_PKI_PROFILE_CA, "devlib edge ca", fx_path("edge-ca.cert.pem"),
                 fx_path("edge-ca.key.pem")) != 0 ||
        concat(fx_path("edge-ca.chain.pem"), fx_path("edge-ca.cert.pem"), FX.root_cert) != 0)
        return -1;
    uint16_t https = fx_free_port();
    if (!https || fx_hub_start_https(https) != 0 || identities() != 0) return -1;
    if (edge_config(FX.port, https) != 0) return -1;
    if (pthread_create(&thread, NULL, loop_thread, NULL) != 0) return -1;
    running = true;
    return edge_start();
}

static int group_teardown(void **state)
{
    (void)state;
    edge_stop();
    hub_thread_stop();
    if (FX.hub) gh_hub_free(FX.hub);
    fx_cleanup();
    return 0;
}

/* Telemetry rows of CHILD at the hub, counted on the hub's thread. */
static atomic_int hub_rows = -1;

static void count_rows(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    struct gh_telemetry_query q = {.device_id = CHILD};
    struct gh_telemetry_msg m[4];
    size_t n = 0;
    if (gh_store_telemetry_read(gh_hub_store(FX.hub), &q, m, 4, &n) != GH_OK) return;
    for (size_t i = 0; i < n; i++) gh_telemetry_msg_cleanup(&m[i]);
    atomic_store(&hub_rows, (int)n);
}

static bool pump(struct fx_rec *r, bool (*cond)(struct fx_rec *), unsigned ms)
{
    int64_t end = now_ms() + ms;
    while (!cond(r) && now_ms() < end) assert_int_equal(gh_device_client_run_once(r->c, 50), 0);
    return cond(r);
}

static bool is_up(struct fx_rec *r)
{
    return gh_device_client_connected(r->c);
}

static bool acked(struct fx_rec *r)
{
    return r->sent_ok + r->sent_err >= 1;
}

static bool twin_answered(struct fx_rec *r)
{
    return r->twin_done >= 1;
}

static void test_through_gateway(void **state)
{
    (void)state;
    char cs[512];
    snprintf(cs, sizeof cs, "HostName=%s;DeviceId=%s;SharedAccessKey=%s;GatewayHostName=%s", FX_HUB,
             CHILD, child_key, GW_HOST);
    struct gh_device_options o = {
        .auth = GH_DEVICE_AUTH_CONNECTION_STRING,
        .connection_string = cs,
        .ca_file = FX.root_cert,
        .connect_address = GW_ADDR,
        .port = gw_port,
        .backoff_min_ms = 200,
        .backoff_max_ms = 1000,
    };
    struct fx_rec r = {0};
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, &r, &r.c), 0);
    if (!pump(&r, is_up, EDGE_WAIT_MS)) {
        char *log = fx_read_file(fx_path("edge.log"));
        fprintf(stderr, "---- edge.log\n%s----\n", log ? log : "(none)");
        free(log);
        fail_msg("not connected through the gateway: %s (%s); see %s",
                 gh_device_strerror(r.last_reason), r.detail, fx_path("edge.log"));
    }

    struct gh_device_property app[] = {{"via", "gateway"}};
    struct gh_device_message_props p = {.message_id = "gw-mid-1", .app = app, .napp = 1};
    assert_int_equal(gh_device_send(r.c, "through-gw", 10, &p, fx_send_done, &r), 0);
    assert_true(pump(&r, acked, FX_WAIT_MS));
    assert_int_equal(r.sent_ok, 1);

    const char *patch = "{\"route\":\"gateway\"}";
    assert_int_equal(gh_device_twin_report(r.c, patch, strlen(patch), fx_twin_done, &r), 0);
    assert_true(pump(&r, twin_answered, FX_WAIT_MS));
    assert_int_equal(r.twin_status, 204);
    r.twin_done = 0;
    assert_int_equal(gh_device_twin_get(r.c, fx_twin_done, &r), 0);
    assert_true(pump(&r, twin_answered, FX_WAIT_MS));
    assert_int_equal(r.twin_status, 200);
    assert_non_null(strstr(r.twin_body, "\"route\":\"gateway\""));
    gh_device_client_free(r.c);

    /* The gateway forwards the message to the hub (store and forward):
     * count the hub's rows on its own thread until it arrived. */
    int64_t end = now_ms() + FX_WAIT_MS;
    while (atomic_load(&hub_rows) < 1 && now_ms() < end) {
        struct timeval zero = {0, 0};
        assert_int_equal(
            event_base_once(gh_hub_base(FX.hub), -1, EV_TIMEOUT, count_rows, NULL, &zero), 0);
        struct pollfd none;
        poll(&none, 0, 100); /* a bounded polling interval, the result is re-checked */
    }
    assert_int_equal(atomic_load(&hub_rows), 1);
    edge_stop();
    hub_thread_stop();
    struct gh_telemetry_query q = {.device_id = CHILD};
    struct gh_telemetry_msg m[4];
    size_t n = 0;
    assert_int_equal(gh_store_telemetry_read(gh_hub_store(FX.hub), &q, m, 4, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(m[0].body, "through-gw", 10);
    char *props = json_dumps(m[0].properties, JSON_COMPACT);
    assert_non_null(strstr(props, "gw-mid-1"));
    assert_non_null(strstr(props, "\"via\":\"gateway\""));
    free(props);
    gh_telemetry_msg_cleanup(&m[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_through_gateway),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
