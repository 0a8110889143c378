/* Valid MQTT packets: each vector decoded whole, re-encoded byte-exact, cut
 * at every position, fed through the framer one byte at a time and whole. */
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>

/* Decode, compare, and check the error for one trailing extra byte. */
static void check_decode(const struct gh_mqtt_ctx *ctx, const struct vec *v)
{
    struct gh_mqtt_packet got;
    memset(&got, 0xa5, sizeof got);
    gh_err rc = gh_mqtt_decode(ctx, (struct gh_slice){v->bytes, v->len}, &got);
    if (rc != GH_OK) fail_msg("%s: decode failed: %s", v->name, gh_err_name(rc));
    if (!gh_mqtt_packet_equal(&got, &v->pkt)) fail_msg("%s: decoded packet differs", v->name);

    uint8_t *longer = malloc(v->len + 1);
    assert_non_null(longer);
    memcpy(longer, v->bytes, v->len);
    longer[v->len] = 0;
    assert_int_equal(gh_mqtt_decode(ctx, (struct gh_slice){longer, v->len + 1}, &got),
                     GH_ERR_TRAILING_BYTES);
    free(longer);
}

/* Every proper prefix is TRUNCATED, and leaves the output untouched. */
static void check_cuts(const struct gh_mqtt_ctx *ctx, const struct vec *v)
{
    for (size_t k = 0; k < v->len; k++) {
        struct gh_mqtt_packet got = {.type = GH_MQTT_PINGREQ};
        gh_err rc = gh_mqtt_decode(ctx, (struct gh_slice){v->bytes, k}, &got);
        if (rc != GH_ERR_TRUNCATED) fail_msg("%s: cut at %zu gave %s", v->name, k, gh_err_name(rc));
        assert_int_equal(got.type, GH_MQTT_PINGREQ);
    }
}

static void check_encode(const struct gh_mqtt_ctx *ctx, const struct vec *v)
{
    size_t size = 0;
    assert_int_equal(gh_mqtt_packet_size(ctx, &v->pkt, &size), GH_OK);
    assert_int_equal(size, v->len);

    uint8_t *buf = malloc(v->len + 3);
    assert_non_null(buf);
    struct gh_writer w;
    gh_writer_init(&w, buf, v->len + 3);
    assert_int_equal(gh_writer_bytes(&w, "ab", 2), GH_OK); /* encode appends */
    gh_err rc = gh_mqtt_encode(ctx, &v->pkt, &w);
    if (rc != GH_OK) fail_msg("%s: encode failed: %s", v->name, gh_err_name(rc));
    assert_int_equal(w.len, v->len + 2);
    if (memcmp(buf + 2, v->bytes, v->len) != 0) fail_msg("%s: encoded bytes differ", v->name);

    /* Every smaller capacity: NOBUFS and nothing written. */
    for (size_t cap = 0; cap < v->len; cap++) {
        memset(buf, 0xee, v->len + 3);
        gh_writer_init(&w, buf, cap);
        assert_int_equal(gh_mqtt_encode(ctx, &v->pkt, &w), GH_ERR_NOBUFS);
        assert_int_equal(w.len, 0);
    }
    free(buf);
}

static void check_framer_bytewise(const struct vec *v)
{
    struct gh_mqtt_framer f;
    framer_for_type(&f, v->pkt.type);
    for (size_t i = 0; i < v->len; i++) {
        size_t used = 99;
        enum gh_mqtt_frame_status st;
        struct gh_mqtt_frame fr = {0};
        assert_int_equal(gh_mqtt_framer_feed(&f, &v->bytes[i], 1, &used, &st, &fr), GH_OK);
        assert_int_equal(used, 1);
        if (i + 1 < v->len) {
            if (st != GH_MQTT_FRAME_NEED_MORE) fail_msg("%s: byte %zu: not NEED_MORE", v->name, i);
            continue;
        }
        assert_int_equal(st, GH_MQTT_FRAME_READY);
        assert_int_equal(fr.type, v->pkt.type);
        assert_int_equal(fr.flags, v->bytes[0] & 0x0f);
        assert_int_equal(fr.total_len, v->len);
        assert_true(fr.header_len >= 2 && fr.header_len < v->len + 1);
        assert_int_equal(gh_mqtt_framer_expected_len(&f), 0);
    }
}

/* Whole packet plus following bytes: the framer stops at the packet end. */
static void check_framer_whole(const struct vec *v)
{
    struct gh_mqtt_framer f;
    framer_for_type(&f, v->pkt.type);
    uint8_t *buf = malloc(v->len + 2);
    assert_non_null(buf);
    memcpy(buf, v->bytes, v->len);
    buf[v->len] = 0xc0;
    buf[v->len + 1] = 0x00;
    size_t used = 0;
    enum gh_mqtt_frame_status st;
    struct gh_mqtt_frame fr;
    assert_int_equal(gh_mqtt_framer_feed(&f, buf, v->len + 2, &used, &st, &fr), GH_OK);
    assert_int_equal(st, GH_MQTT_FRAME_READY);
    assert_int_equal(used, v->len);
    assert_int_equal(fr.total_len, v->len);
    free(buf);
}

static void check_vector(const struct vec *v)
{
    struct gh_mqtt_ctx ctx = default_ctx();
    check_decode(&ctx, v);
    check_cuts(&ctx, v);
    check_encode(&ctx, v);
    check_framer_bytewise(v);
    check_framer_whole(v);
}

static void test_valid_vectors(void **state)
{
    for (size_t i = 0; i < N_VALID; i++) check_vector(&valid_vectors[i]);
}

/* Every packet type 1..14 has at least one vector. */
static void test_every_type_covered(void **state)
{
    unsigned seen = 0;
    for (size_t i = 0; i < N_VALID; i++) seen |= 1u << valid_vectors[i].pkt.type;
    for (unsigned t = GH_MQTT_CONNECT; t <= GH_MQTT_DISCONNECT; t++)
        if (!(seen & (1u << t))) fail_msg("no vector for %s", gh_mqtt_type_name(t));
}

/* PUBLISH with a payload large enough for 2- and 3-byte remaining lengths,
 * built byte by byte here (not by the encoder). */
static void check_big_publish(size_t payload_len, const uint8_t *varint, size_t varint_len)
{
    size_t len = 1 + varint_len + 2 + 1 + payload_len;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    size_t n = 0;
    buf[n++] = 0x30;
    memcpy(buf + n, varint, varint_len);
    n += varint_len;
    buf[n++] = 0x00;
    buf[n++] = 0x01;
    buf[n++] = 'a';
    memset(buf + n, 'x', payload_len);
    struct vec v = {"big publish",
                    buf,
                    len,
                    {.type = GH_MQTT_PUBLISH,
                     .u.publish = {.topic = SL("a"), .payload = {buf + n, payload_len}}}};
    check_vector(&v);
    free(buf);
}

static void test_big_publish(void **state)
{
    /* 303 = 2 + 1 + 300 */
    check_big_publish(300, (const uint8_t *)"\xaf\x02", 2);
    /* 20003 = 2 + 1 + 20000 */
    check_big_publish(20000, (const uint8_t *)"\xa3\x9c\x01", 3);
}

/* Several packets back to back, in random-sized chunks, through one framer,
 * each frame then decoded from the reassembled bytes. */
static void test_stream_chunks(void **state)
{
    const struct vec *seq[N_VALID];
    size_t nseq = 0, total = 0;
    for (size_t i = 0; i < N_VALID; i++) {
        unsigned t = valid_vectors[i].pkt.type;
        if (t == GH_MQTT_CONNECT || t == GH_MQTT_DISCONNECT ||
            receiver_of(t) != GH_MQTT_ROLE_SERVER)
            continue;
        seq[nseq++] = &valid_vectors[i];
        total += valid_vectors[i].len;
    }
    uint8_t *stream = malloc(total);
    assert_non_null(stream);
    size_t off = 0;
    for (size_t i = 0; i < nseq; i++) {
        memcpy(stream + off, seq[i]->bytes, seq[i]->len);
        off += seq[i]->len;
    }
    struct gh_mqtt_ctx ctx = default_ctx();
    for (unsigned seed = 1; seed <= 50; seed++) {
        srand(seed);
        struct gh_mqtt_framer f;
        framer_connected(&f, GH_MQTT_ROLE_SERVER, NULL);
        size_t pos = 0, frame_start = 0, next = 0;
        while (pos < total) {
            size_t chunk = 1 + (size_t)rand() % 40;
            if (chunk > total - pos) chunk = total - pos;
            size_t used;
            enum gh_mqtt_frame_status st;
            struct gh_mqtt_frame fr;
            assert_int_equal(gh_mqtt_framer_feed(&f, stream + pos, chunk, &used, &st, &fr), GH_OK);
            pos += used;
            if (st != GH_MQTT_FRAME_READY) {
                assert_int_equal(used, chunk);
                continue;
            }
            assert_true(next < nseq);
            assert_int_equal(fr.total_len, seq[next]->len);
            struct gh_mqtt_packet got;
            assert_int_equal(
                gh_mqtt_decode(&ctx, (struct gh_slice){stream + frame_start, fr.total_len}, &got),
                GH_OK);
            assert_true(gh_mqtt_packet_equal(&got, &seq[next]->pkt));
            frame_start += fr.total_len;
            assert_int_equal(frame_start, pos);
            next++;
        }
        assert_int_equal(next, nseq);
    }
    free(stream);
}

static void test_type_names(void **state)
{
    assert_string_equal(gh_mqtt_type_name(GH_MQTT_CONNECT), "CONNECT");
    assert_string_equal(gh_mqtt_type_name(GH_MQTT_UNSUBACK), "UNSUBACK");
    assert_string_equal(gh_mqtt_type_name(GH_MQTT_DISCONNECT), "DISCONNECT");
    assert_string_equal(gh_mqtt_type_name(0), "RESERVED");
    assert_string_equal(gh_mqtt_type_name(15), "RESERVED");
    assert_string_equal(gh_mqtt_type_name(1000), "RESERVED");
}

/* Equality ignores fields a packet does not carry, and sees the others. */
static void test_packet_equal(void **state)
{
    struct gh_mqtt_packet a = {.type = GH_MQTT_PUBLISH,
                               .u.publish = {.topic = SL("t"), .packet_id = 1}};
    struct gh_mqtt_packet b = a;
    b.u.publish.packet_id = 2; /* QoS 0: not on the wire */
    assert_true(gh_mqtt_packet_equal(&a, &b));
    a.u.publish.qos = b.u.publish.qos = 1;
    assert_false(gh_mqtt_packet_equal(&a, &b));
    b = a;
    b.u.publish.topic = (struct gh_slice)SL("u");
    assert_false(gh_mqtt_packet_equal(&a, &b));
    b = a;
    b.type = GH_MQTT_PUBACK;
    assert_false(gh_mqtt_packet_equal(&a, &b));

    struct gh_mqtt_packet c = {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 4}};
    struct gh_mqtt_packet d = c;
    d.u.connect.username = (struct gh_slice)SL("ignored");
    d.u.connect.will_topic = (struct gh_slice)SL("ignored");
    assert_true(gh_mqtt_packet_equal(&c, &d));
    d.u.connect.has_username = true;
    assert_false(gh_mqtt_packet_equal(&c, &d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_vectors), cmocka_unit_test(test_every_type_covered),
        cmocka_unit_test(test_big_publish),   cmocka_unit_test(test_stream_chunks),
        cmocka_unit_test(test_type_names),    cmocka_unit_test(test_packet_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
