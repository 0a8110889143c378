/* Data flow over real TLS connections: back-pressure and on_drain, the
 * input limit, pause/resume, graceful close with queued output, abort, the
 * accept-callback contract, handshake admission, and API error codes. */
#include "nettest.h"

#define PATTERN(i) ((unsigned char)((i) % 251u))

struct fix {
    struct event_base *base;
    struct gh_tls_server *tls;
    struct gh_tls_client *cli_tls;
    struct gh_listener *l;
};

static int fix_setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    f->tls = nt_hub_tls(NULL);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    *state = f;
    return 0;
}

static int fix_teardown(void **state)
{
    struct fix *f = *state;
    gh_listener_free(f->l);
    gh_tls_server_free(f->tls);
    gh_tls_client_free(f->cli_tls);
    for (int i = 0; i < 100; i++) event_base_loop(f->base, EVLOOP_NONBLOCK);
    event_base_free(f->base);
    free(f);
    return 0;
}

static void listen_with(struct fix *f, const struct gh_listener_options *o,
                        gh_listener_accept_fn fn, void *user)
{
    char d[GH_TLS_DETAIL_MAX] = "";
    gh_err rc = gh_listener_new(f->base, "127.0.0.1:0", f->tls, o, fn, user, &f->l, d, sizeof d);
    if (rc != GH_OK) fail_msg("listener: %s", d);
}

static gh_err connect_with(struct fix *f, const struct gh_conn_callbacks *cbs, void *user,
                           const struct gh_conn_limits *lim, struct gh_conn **out)
{
    struct gh_conn_connect_params p = {
        .host = "127.0.0.1",
        .port = gh_listener_port(f->l),
        .tls = f->cli_tls,
        .server_name = "hub.gatehouse.test",
    };
    if (lim) p.limits = *lim;
    return gh_conn_connect(f->base, &p, cbs, user, out);
}

/* ---- shared peer state -------------------------------------------------- */

struct peer {
    struct gh_conn *c;
    bool opened, closed;
    int close_calls;
    gh_err reason;
    size_t received; /* bytes verified against PATTERN */
    size_t sent;
    size_t total; /* to send */
    int nobufs, drains;
    size_t max_out, max_in;
    bool consume;       /* consume what arrives */
    bool pause_in_read; /* pause (and keep the input) on the first on_read */
    int reads;
    struct peer *other; /* resume other->c on the first NOBUFS */
    size_t received_at_resume;
    bool bad_data;
};

static void check_pattern(struct peer *p, struct gh_slice in)
{
    for (size_t i = 0; i < in.len; i++)
        if (in.ptr[i] != PATTERN(p->received + i)) p->bad_data = true;
    p->received += in.len;
}

static void peer_read(struct gh_conn *c, void *user)
{
    struct peer *p = user;
    p->reads++;
    size_t len = gh_conn_input_len(c);
    if (len > p->max_in) p->max_in = len;
    if (p->pause_in_read && p->reads == 1) {
        gh_conn_pause_read(c);
        return;
    }
    if (!p->consume) return;
    struct gh_slice in;
    assert_int_equal(gh_conn_peek(c, SIZE_MAX, &in), GH_OK);
    assert_int_equal(in.len, len);
    check_pattern(p, in);
    assert_int_equal(gh_conn_consume(c, in.len), GH_OK);
}

static void pump(struct peer *p)
{
    unsigned char chunk[16384];
    while (p->sent < p->total) {
        size_t n = p->total - p->sent < sizeof chunk ? p->total - p->sent : sizeof chunk;
        for (size_t i = 0; i < n; i++) chunk[i] = PATTERN(p->sent + i);
        gh_err rc = gh_conn_write(p->c, chunk, n);
        size_t out = gh_conn_output_len(p->c);
        if (out > p->max_out) p->max_out = out;
        if (rc == GH_ERR_NOBUFS) {
            p->nobufs++;
            if (p->nobufs == 2 && p->other) {
                p->received_at_resume = p->other->received;
                gh_conn_resume_read(p->other->c);
            }
            return;
        }
        assert_int_equal(rc, GH_OK);
        p->sent += n;
    }
}

static void peer_open(struct gh_conn *c, void *user)
{
    struct peer *p = user;
    p->opened = true;
    pump(p);
    (void)c;
}

static void peer_drain(struct gh_conn *c, void *user)
{
    (void)c;
    struct peer *p = user;
    p->drains++;
    pump(p);
}

static void peer_close(struct gh_conn *c, gh_err reason, void *user)
{
    (void)c;
    struct peer *p = user;
    p->closed = true;
    p->close_calls++;
    p->reason = reason;
    p->c = NULL;
}

static const struct gh_conn_callbacks peer_cbs = {
    .on_open = peer_open,
    .on_read = peer_read,
    .on_drain = peer_drain,
    .on_close = peer_close,
};

/* Server side accept: one peer, optionally paused. */
struct srv {
    struct peer p;
    bool pause;
    bool send_on_accept; /* write p.total bytes, then close gracefully */
};

static void srv_accept(struct gh_listener *l, struct gh_conn *c, void *user)
{
    (void)l;
    struct srv *s = user;
    s->p.c = c;
    s->p.opened = true;
    gh_conn_set_callbacks(c, &peer_cbs, &s->p);
    assert_ptr_equal(gh_conn_user(c), &s->p);
    if (s->pause) gh_conn_pause_read(c);
    if (s->send_on_accept) {
        pump(&s->p);
        assert_int_equal(s->p.sent, s->p.total);
        gh_conn_close(c);
        assert_false(s->p.closed);
    }
}

static bool peer_got_all(void *arg)
{
    struct peer *p = arg;
    return p->received >= p->total || p->closed;
}

static bool peer_closed(void *arg)
{
    return ((struct peer *)arg)->closed;
}

static bool peer_read_once(void *arg)
{
    return ((struct peer *)arg)->reads > 0 || ((struct peer *)arg)->closed;
}

static bool peer_opened(void *arg)
{
    return ((struct peer *)arg)->opened || ((struct peer *)arg)->closed;
}

/* ---- tests -------------------------------------------------------------- */

static void test_backpressure_and_drain(void **state)
{
    struct fix *f = *state;
    struct srv s = {.pause = true};
    s.p.consume = true;
    listen_with(f, NULL, srv_accept, &s);
    struct peer cl = {.total = 4u * 1024u * 1024u, .other = &s.p};
    struct gh_conn_limits lim = {.out_high = 64 * 1024, .out_low = 16 * 1024};
    s.p.total = cl.total;
    assert_int_equal(connect_with(f, &peer_cbs, &cl, &lim, &cl.c), GH_OK);
    /* writes before on_open are refused */
    assert_int_equal(gh_conn_write(cl.c, "x", 1), GH_ERR_CLOSED);
    assert_true(gh_test_run_until(f->base, peer_got_all, &s.p, NT_WAIT_MS * 3));
    assert_false(cl.closed);
    assert_false(s.p.closed);
    /* the writer saw the high-water signal and was drained twice at least */
    assert_true(cl.nobufs >= 2);
    assert_true(cl.drains >= 1);
    assert_true(cl.max_out <= lim.out_high);
    /* while paused, nothing was delivered to the reader */
    assert_int_equal(cl.received_at_resume, 0);
    assert_int_equal(s.p.received, cl.total);
    assert_false(s.p.bad_data);
    /* a write that can never fit */
    unsigned char big[64 * 1024 + 1];
    memset(big, 0, sizeof big);
    assert_int_equal(gh_conn_write(cl.c, big, sizeof big), GH_ERR_TOO_LARGE);
    struct gh_slice v[2] = {{big, 40000}, {big, 40000}};
    assert_int_equal(gh_conn_writev(cl.c, v, 2), GH_ERR_TOO_LARGE);
    gh_conn_abort(cl.c);
    assert_true(gh_test_run_until(f->base, peer_closed, &cl, NT_WAIT_MS));
    assert_true(gh_test_run_until(f->base, peer_closed, &s.p, NT_WAIT_MS));
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static void test_input_limit_stops_reading(void **state)
{
    struct fix *f = *state;
    const size_t in_max = 32 * 1024;
    struct gh_listener_options o = {.limits = {.in_max = in_max}};
    struct srv s = {0};
    s.p.consume = false; /* a stuck consumer */
    listen_with(f, &o, srv_accept, &s);
    struct peer cl = {.total = 8u * 1024u * 1024u};
    s.p.total = cl.total;
    assert_int_equal(connect_with(f, &peer_cbs, &cl, NULL, &cl.c), GH_OK);
    assert_true(gh_test_run_until(f->base, peer_opened, &cl, NT_WAIT_MS));
    /* the only way to show "stops" is to watch for a while: input must not
     * grow past in_max plus one read batch (a TLS record, a socket read) */
    gh_test_run_until(f->base, never, NULL, 300);
    assert_true(s.p.max_in >= in_max);
    assert_true(s.p.max_in <= in_max + 64 * 1024);
    assert_true(cl.sent < cl.total);
    /* consuming restarts reading; everything arrives */
    s.p.consume = true;
    struct gh_slice in;
    assert_int_equal(gh_conn_peek(s.p.c, SIZE_MAX, &in), GH_OK);
    check_pattern(&s.p, in);
    assert_int_equal(gh_conn_consume(s.p.c, in.len), GH_OK);
    assert_true(gh_test_run_until(f->base, peer_got_all, &s.p, NT_WAIT_MS * 3));
    assert_int_equal(s.p.received, cl.total);
    assert_false(s.p.bad_data);
    gh_conn_close(cl.c);
    assert_true(gh_test_run_until(f->base, peer_closed, &cl, NT_WAIT_MS));
    assert_int_equal(cl.reason, GH_OK);
}

static void test_resume_offers_buffered_input(void **state)
{
    struct fix *f = *state;
    struct srv s = {0};
    s.p.consume = true;
    s.p.pause_in_read = true;
    listen_with(f, NULL, srv_accept, &s);
    struct peer cl = {.total = 1000};
    s.p.total = cl.total;
    assert_int_equal(connect_with(f, &peer_cbs, &cl, NULL, &cl.c), GH_OK);
    /* first on_read pauses without consuming */
    assert_true(gh_test_run_until(f->base, peer_read_once, &s.p, NT_WAIT_MS));
    assert_int_equal(s.p.reads, 1);
    assert_true(gh_conn_input_len(s.p.c) > 0);
    /* resume: the buffered input is offered again without new bytes */
    gh_conn_resume_read(s.p.c);
    assert_true(gh_test_run_until(f->base, peer_got_all, &s.p, NT_WAIT_MS));
    assert_int_equal(s.p.received, 1000);
    assert_false(s.p.bad_data);
    gh_conn_abort(cl.c);
    assert_true(gh_test_run_until(f->base, peer_closed, &s.p, NT_WAIT_MS));
    assert_int_equal(s.p.reason, GH_ERR_CLOSED);
}

static void test_graceful_close_flushes(void **state)
{
    struct fix *f = *state;
    struct srv s = {.send_on_accept = true};
    s.p.total = 200 * 1024;
    listen_with(f, NULL, srv_accept, &s);
    struct peer cl = {.consume = true, .total = 0};
    assert_int_equal(connect_with(f, &peer_cbs, &cl, NULL, &cl.c), GH_OK);
    assert_true(gh_test_run_until(f->base, peer_closed, &cl, NT_WAIT_MS));
    /* everything queued before gh_conn_close arrived, then the close */
    assert_int_equal(cl.received, s.p.total);
    assert_false(cl.bad_data);
    assert_int_equal(cl.reason, GH_ERR_CLOSED);
    assert_true(gh_test_run_until(f->base, peer_closed, &s.p, NT_WAIT_MS));
    assert_int_equal(s.p.reason, GH_OK);
    assert_int_equal(s.p.close_calls, 1);
}

static void test_abort_and_errors(void **state)
{
    struct fix *f = *state;
    struct srv s = {0};
    s.p.consume = true;
    listen_with(f, NULL, srv_accept, &s);
    struct peer cl = {.consume = true};
    assert_int_equal(connect_with(f, &peer_cbs, &cl, NULL, &cl.c), GH_OK);
    assert_true(gh_test_run_until(f->base, peer_opened, &cl, NT_WAIT_MS));
    struct gh_conn *c = cl.c;
    /* empty input */
    struct gh_slice in = {(const uint8_t *)"x", 1};
    assert_int_equal(gh_conn_peek(c, SIZE_MAX, &in), GH_OK);
    assert_int_equal(in.len, 0);
    assert_int_equal(gh_conn_consume(c, 1), GH_ERR_ARG);
    assert_int_equal(gh_conn_consume(c, 0), GH_OK);
    assert_int_equal(gh_conn_peek(c, 0, NULL), GH_ERR_ARG);
    assert_int_equal(gh_conn_write(c, NULL, 1), GH_ERR_ARG);
    assert_int_equal(gh_conn_write(c, NULL, 0), GH_OK);
    /* writev: three slices arrive as one stream */
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = PATTERN(i);
    struct gh_slice v[3] = {{buf, 100}, {buf + 100, 0}, {buf + 100, 200}};
    assert_int_equal(gh_conn_writev(c, v, 3), GH_OK);
    s.p.total = 300;
    assert_true(gh_test_run_until(f->base, peer_got_all, &s.p, NT_WAIT_MS));
    assert_int_equal(s.p.received, 300);
    assert_false(s.p.bad_data);
    /* abort: on_close comes later, once, with GH_OK */
    gh_conn_abort(c);
    assert_false(cl.closed);
    assert_int_equal(gh_conn_write(c, "x", 1), GH_ERR_CLOSED);
    gh_conn_close(c); /* no-op */
    gh_conn_abort(c); /* no-op */
    assert_true(gh_test_run_until(f->base, peer_closed, &cl, NT_WAIT_MS));
    assert_int_equal(cl.close_calls, 1);
    assert_int_equal(cl.reason, GH_OK);
    assert_true(gh_test_run_until(f->base, peer_closed, &s.p, NT_WAIT_MS));
    assert_int_equal(s.p.reason, GH_ERR_CLOSED);
    /* let any stray callback run: still exactly once */
    for (int i = 0; i < 10; i++) event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(cl.close_calls, 1);
}

static void test_close_before_open(void **state)
{
    struct fix *f = *state;
    struct srv s = {0};
    listen_with(f, NULL, srv_accept, &s);
    struct peer cl = {0};
    assert_int_equal(connect_with(f, &peer_cbs, &cl, NULL, &cl.c), GH_OK);
    gh_conn_close(cl.c);
    assert_false(cl.closed);
    assert_true(gh_test_run_until(f->base, peer_closed, &cl, NT_WAIT_MS));
    assert_false(cl.opened);
    assert_int_equal(cl.reason, GH_OK);
    assert_int_equal(cl.close_calls, 1);
}

/* Accept callbacks that break or bend the contract. */
static void accept_nothing(struct gh_listener *l, struct gh_conn *c, void *user)
{
    (void)l, (void)c;
    (*(int *)user)++;
}

static void test_accept_without_callbacks(void **state)
{
    struct fix *f = *state;
    int calls = 0;
    listen_with(f, NULL, accept_nothing, &calls);
    struct peer cl = {0};
    assert_int_equal(connect_with(f, &peer_cbs, &cl, NULL, &cl.c), GH_OK);
    assert_true(gh_test_run_until(f->base, peer_closed, &cl, NT_WAIT_MS));
    assert_int_equal(calls, 1);
    assert_true(cl.reason == GH_ERR_CLOSED || cl.reason == GH_ERR_IO);
}

struct freeing {
    struct fix *f;
    struct srv s;
};

static void accept_and_free_listener(struct gh_listener *l, struct gh_conn *c, void *user)
{
    struct freeing *fr = user;
    gh_listener_free(l);
    fr->f->l = NULL;
    srv_accept(l, c, &fr->s); /* l is not used by srv_accept */
}

static void test_listener_freed_in_accept(void **state)
{
    struct fix *f = *state;
    struct freeing fr = {.f = f};
    fr.s.p.consume = true;
    fr.s.p.total = 5000;
    listen_with(f, NULL, accept_and_free_listener, &fr);
    struct peer cl = {.total = 5000};
    assert_int_equal(connect_with(f, &peer_cbs, &cl, NULL, &cl.c), GH_OK);
    assert_true(gh_test_run_until(f->base, peer_got_all, &fr.s.p, NT_WAIT_MS));
    assert_null(f->l);
    assert_int_equal(fr.s.p.received, 5000);
    gh_conn_close(fr.s.p.c);
    assert_true(gh_test_run_until(f->base, peer_closed, &cl, NT_WAIT_MS));
    assert_int_equal(cl.reason, GH_ERR_CLOSED);
    assert_true(gh_test_run_until(f->base, peer_closed, &fr.s.p, NT_WAIT_MS));
    assert_int_equal(fr.s.p.reason, GH_OK);
}

static bool stats_timeouts(void *arg)
{
    struct gh_listener_stats st;
    gh_listener_get_stats(arg, &st);
    return st.handshake_timeouts >= 1;
}

static bool stats_ok(void *arg)
{
    struct gh_listener_stats st;
    gh_listener_get_stats(arg, &st);
    return st.handshakes_ok >= 1;
}

static void test_handshake_admission(void **state)
{
    struct fix *f = *state;
    struct gh_listener_options o = {.max_handshakes = 1, .handshake_timeout_ms = 1000};
    struct srv s = {0};
    s.p.consume = true;
    listen_with(f, &o, srv_accept, &s);
    /* a half-open connection takes the only handshake slot */
    struct gh_conn_connect_params p = {
        .host = "127.0.0.1", .port = gh_listener_port(f->l), .plaintext = true};
    struct peer idle = {0};
    assert_int_equal(gh_conn_connect(f->base, &p, &peer_cbs, &idle, &idle.c), GH_OK);
    assert_true(gh_test_run_until(f->base, peer_opened, &idle, NT_WAIT_MS));
    /* a real client is admitted only once that slot times out */
    struct peer cl = {0};
    assert_int_equal(connect_with(f, &peer_cbs, &cl, NULL, &cl.c), GH_OK);
    assert_true(gh_test_run_until(f->base, peer_opened, &cl, NT_WAIT_MS));
    assert_true(cl.opened);
    assert_true(stats_timeouts(f->l));
    /* TLS 1.3: the server finishes its side of the handshake just after */
    assert_true(gh_test_run_until(f->base, stats_ok, f->l, NT_WAIT_MS));
    struct gh_listener_stats st;
    gh_listener_get_stats(f->l, &st);
    assert_int_equal(st.handshakes_ok, 1);
    assert_int_equal(st.handshaking, 0);
    assert_true(gh_test_run_until(f->base, peer_closed, &idle, NT_WAIT_MS));
    assert_int_equal(idle.reason, GH_ERR_CLOSED);
    gh_conn_abort(cl.c);
    assert_true(gh_test_run_until(f->base, peer_closed, &cl, NT_WAIT_MS));
    assert_true(gh_test_run_until(f->base, peer_closed, &s.p, NT_WAIT_MS));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)
    const struct CMUnitTest tests[] = {
        T(test_backpressure_and_drain),
        T(test_input_limit_stops_reading),
        T(test_resume_offers_buffered_input),
        T(test_graceful_close_flushes),
        T(test_abort_and_errors),
        T(test_close_before_open),
        T(test_accept_without_callbacks),
        T(test_listener_freed_in_accept),
        T(test_handshake_admission),
    };
    return cmocka_run_group_tests(tests, nt_group_setup, nt_group_teardown);
}
