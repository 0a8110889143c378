/* Pure parts of the PKI: name validation, counts, periods, the PEM decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pki/pki_names.h"
#include "pki/pki_pem.h"

static gh_err dns(const char *s, bool wild)
{
    return gh_pki_dns_name_check(s, strlen(s), wild);
}

static void test_dns_names(void **state)
{
    (void)state;
    assert_int_equal(dns("hub.gatehouse.test", false), GH_OK);
    assert_int_equal(dns("localhost", false), GH_OK);
    assert_int_equal(dns("edge-gw-01.example.test", false), GH_OK);
    assert_int_equal(dns("a1.b2", false), GH_OK);
    assert_int_equal(dns("*.example.test", true), GH_OK);
    assert_int_equal(dns("*.example.test", false), GH_ERR_ARG);
    assert_int_equal(dns("*.test", true), GH_ERR_ARG); /* too broad */
    assert_int_equal(dns("a.*.test", true), GH_ERR_ARG);
    assert_int_equal(dns("", false), GH_ERR_ARG);
    assert_int_equal(dns(".", false), GH_ERR_ARG);
    assert_int_equal(dns("a..b", false), GH_ERR_ARG);
    assert_int_equal(dns("a.b.", false), GH_ERR_ARG);
    assert_int_equal(dns(".a.b", false), GH_ERR_ARG);
    assert_int_equal(dns("-a.b", false), GH_ERR_ARG);
    assert_int_equal(dns("a-.b", false), GH_ERR_ARG);
    assert_int_equal(dns("gw_01.example.test", false), GH_ERR_ARG);
    assert_int_equal(dns("gw 01.example.test", false), GH_ERR_ARG);
    assert_int_equal(dns("10.0.0.1", false), GH_ERR_ARG); /* an IP: use --ip */
    assert_int_equal(dns("host.123", false), GH_ERR_ARG);
    assert_int_equal(gh_pki_dns_name_check("a.b\0c", 5, false), GH_ERR_ARG);
    char label[70];
    memset(label, 'a', 63);
    memcpy(label + 63, ".b", 3);
    assert_int_equal(dns(label, false), GH_OK);
    memset(label, 'a', 64);
    memcpy(label + 64, ".b", 3);
    assert_int_equal(dns(label, false), GH_ERR_ARG);
    char longname[300];
    for (size_t i = 0; i < 254; i += 2) memcpy(longname + i, "a.", 2);
    longname[253] = 'b';
    longname[254] = '\0';
    assert_int_equal(gh_pki_dns_name_check(longname, 253, false), GH_OK);
    assert_int_equal(gh_pki_dns_name_check(longname, 254, false), GH_ERR_ARG);
}

static void test_ip_addresses(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n = 0;
    assert_int_equal(gh_pki_ip_parse("127.0.0.1", 9, out, &n), GH_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "\x7f\x00\x00\x01", 4);
    assert_int_equal(gh_pki_ip_parse("::1", 3, out, &n), GH_OK);
    assert_int_equal(n, 16);
    assert_int_equal(out[15], 1);
    assert_int_equal(gh_pki_ip_parse("fe80::1:2", 9, out, &n), GH_OK);
    assert_int_equal(gh_pki_ip_parse("256.0.0.1", 9, out, &n), GH_ERR_ARG);
    assert_int_equal(gh_pki_ip_parse("1.2.3", 5, out, &n), GH_ERR_ARG);
    assert_int_equal(gh_pki_ip_parse("host", 4, out, &n), GH_ERR_ARG);
    assert_int_equal(gh_pki_ip_parse("", 0, out, &n), GH_ERR_ARG);
    assert_int_equal(gh_pki_ip_parse("1.2.3.4\0", 8, out, &n), GH_ERR_ARG);
    const char *big = "1111:2222:3333:4444:5555:6666:255.255.255.255xx";
    assert_int_equal(gh_pki_ip_parse(big, strlen(big), out, &n), GH_ERR_ARG);
}

static void test_device_ids(void **state)
{
    (void)state;
    const char *ok = "dev-01.a+b%c_d#e*f?g!h(i)j,k=l@m$n'o";
    assert_int_equal(gh_pki_device_id_check(ok, strlen(ok)), GH_OK);
    assert_int_equal(gh_pki_device_id_check("carriage-01", 11), GH_OK);
    assert_int_equal(gh_pki_device_id_check("", 0), GH_ERR_ARG);
    assert_int_equal(gh_pki_device_id_check("a/b", 3), GH_ERR_ARG);
    assert_int_equal(gh_pki_device_id_check("a b", 3), GH_ERR_ARG);
    assert_int_equal(gh_pki_device_id_check("a\"b", 3), GH_ERR_ARG);
    assert_int_equal(gh_pki_device_id_check("a\0b", 3), GH_ERR_ARG);
    assert_int_equal(gh_pki_device_id_check("\xc3\xa9", 2), GH_ERR_ARG);
    char id[130];
    memset(id, 'x', sizeof id);
    assert_int_equal(gh_pki_device_id_check(id, 128), GH_OK);
    assert_int_equal(gh_pki_device_id_check(id, 129), GH_ERR_ARG);
}

static void test_codes_stems_text(void **state)
{
    (void)state;
    assert_int_equal(gh_pki_verification_code_check("0A1B2C3D4E5F", 12), GH_OK);
    assert_int_equal(gh_pki_verification_code_check("a-b_c.d", 7), GH_OK);
    assert_int_equal(gh_pki_verification_code_check("a b", 3), GH_ERR_ARG);
    assert_int_equal(gh_pki_verification_code_check("", 0), GH_ERR_ARG);
    char code[70];
    memset(code, 'A', sizeof code);
    assert_int_equal(gh_pki_verification_code_check(code, 64), GH_OK);
    assert_int_equal(gh_pki_verification_code_check(code, 65), GH_ERR_ARG);

    assert_int_equal(gh_pki_stem_check("edge-ca", 7), GH_OK);
    assert_int_equal(gh_pki_stem_check(".", 1), GH_ERR_ARG);
    assert_int_equal(gh_pki_stem_check("..", 2), GH_ERR_ARG);
    assert_int_equal(gh_pki_stem_check(".hidden", 7), GH_ERR_ARG);
    assert_int_equal(gh_pki_stem_check("-rf", 3), GH_ERR_ARG);
    assert_int_equal(gh_pki_stem_check("a/b", 3), GH_ERR_ARG);

    assert_int_equal(gh_pki_text_attr_check("Contoso Ltd", 11, 64), GH_OK);
    assert_int_equal(gh_pki_text_attr_check("Caf\xc3\xa9", 5, 64), GH_OK);
    assert_int_equal(gh_pki_text_attr_check("Caf\xc3", 4, 64), GH_ERR_ARG);
    assert_int_equal(gh_pki_text_attr_check("a\nb", 3, 64), GH_ERR_ARG);
    assert_int_equal(gh_pki_text_attr_check("a\x7f", 2, 64), GH_ERR_ARG);
    assert_int_equal(gh_pki_text_attr_check("abc", 3, 2), GH_ERR_ARG);
    assert_int_equal(gh_pki_text_attr_check("", 0, 2), GH_ERR_ARG);
}

static void test_counts(void **state)
{
    (void)state;
    unsigned v = 0;
    assert_int_equal(gh_pki_count_parse("1", 1, 10, &v), GH_OK);
    assert_int_equal(v, 1);
    assert_int_equal(gh_pki_count_parse("365", 3, 36525, &v), GH_OK);
    assert_int_equal(v, 365);
    assert_int_equal(gh_pki_count_parse("0", 1, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_pki_count_parse("01", 2, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_pki_count_parse("11", 2, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_pki_count_parse("-1", 2, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_pki_count_parse("1x", 2, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_pki_count_parse("", 0, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_pki_count_parse("99999999999", 11, 4000000000u, &v), GH_ERR_ARG);
}

static void test_periods(void **state)
{
    (void)state;
    time_t start = 1767225600; /* 2026-01-01T00:00:00Z */
    time_t end = 0;
    struct gh_pki_period p = {GH_PKI_PERIOD_DAYS, 1};
    assert_int_equal(gh_pki_period_end(start, p, &end), GH_OK);
    assert_int_equal(end - start, 86400);
    p = (struct gh_pki_period){GH_PKI_PERIOD_MONTHS, 12};
    assert_int_equal(gh_pki_period_end(start, p, &end), GH_OK);
    assert_int_equal(end, 1798761600); /* 2027-01-01 */
    p = (struct gh_pki_period){GH_PKI_PERIOD_YEARS, 10};
    assert_int_equal(gh_pki_period_end(start, p, &end), GH_OK);
    assert_int_equal(end, 2082758400); /* 2036-01-01 */
    /* Jan 31 + 1 month rolls into March. */
    p = (struct gh_pki_period){GH_PKI_PERIOD_MONTHS, 1};
    assert_int_equal(gh_pki_period_end(start + 30 * 86400, p, &end), GH_OK);
    assert_int_equal(end, 1772496000); /* 2026-03-03 */
    p = (struct gh_pki_period){GH_PKI_PERIOD_YEARS, 100};
    assert_int_equal(gh_pki_period_end(start, p, &end), GH_OK);
    p = (struct gh_pki_period){GH_PKI_PERIOD_YEARS, 101};
    assert_int_equal(gh_pki_period_end(start, p, &end), GH_ERR_ARG);
    p = (struct gh_pki_period){GH_PKI_PERIOD_DAYS, GH_PKI_VALIDITY_DAYS_MAX + 1};
    assert_int_equal(gh_pki_period_end(start, p, &end), GH_ERR_ARG);
    p = (struct gh_pki_period){GH_PKI_PERIOD_DAYS, 0};
    assert_int_equal(gh_pki_period_end(start, p, &end), GH_ERR_ARG);
    p = (struct gh_pki_period){(enum gh_pki_period_unit)7, 1};
    assert_int_equal(gh_pki_period_end(start, p, &end), GH_ERR_ARG);
}

/* ---- PEM ----------------------------------------------------------------- */

static const char two_blocks[] = "leading explanatory text\n"
                                 "-----BEGIN CERTIFICATE-----\n"
                                 "AAEC\r\n"
                                 "Aw==\n"
                                 "-----END CERTIFICATE-----\n"
                                 "between\n"
                                 "-----BEGIN EC PRIVATE KEY-----\n"
                                 "Proc-Type: 4,ENCRYPTED\n"
                                 "DEK-Info: AES-256-CBC,00\n"
                                 "\n"
                                 "BAUG\n"
                                 "-----END EC PRIVATE KEY-----";

static void test_pem_blocks(void **state)
{
    (void)state;
    struct gh_reader r;
    struct gh_pki_pem_block b;
    gh_reader_init(&r, two_blocks, strlen(two_blocks));
    assert_int_equal(gh_pki_pem_next(&r, &b), GH_OK);
    assert_true(gh_slice_eq_cstr(b.label, "CERTIFICATE"));
    assert_int_equal(b.headers.len, 0);
    assert_false(gh_pki_pem_is_private_key(&b));
    uint8_t buf[16];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_pki_pem_decode_body(b.body, &w), GH_OK);
    assert_int_equal(w.len, 4);
    assert_memory_equal(buf, "\x00\x01\x02\x03", 4);
    assert_true(b.whole.ptr == (const uint8_t *)strstr(two_blocks, "-----BEGIN CERT"));

    assert_int_equal(gh_pki_pem_next(&r, &b), GH_OK);
    assert_true(gh_slice_eq_cstr(b.label, "EC PRIVATE KEY"));
    assert_true(gh_pki_pem_is_private_key(&b));
    assert_true(gh_pki_pem_is_encrypted_key(&b));
    assert_true(gh_slice_starts_with(b.headers, "Proc-Type"));
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_pki_pem_decode_body(b.body, &w), GH_OK);
    assert_memory_equal(buf, "\x04\x05\x06", 3);
    assert_int_equal(gh_reader_remaining(&r), 0);

    assert_int_equal(gh_pki_pem_next(&r, &b), GH_ERR_NOT_FOUND);
}

static gh_err pem_one(const char *text)
{
    struct gh_reader r;
    struct gh_pki_pem_block b;
    gh_reader_init(&r, text, strlen(text));
    gh_err rc = gh_pki_pem_next(&r, &b);
    /* The cursor is unchanged on error (at the end for NOT_FOUND). */
    if (rc != GH_OK) assert_int_equal(r.pos, rc == GH_ERR_NOT_FOUND ? strlen(text) : 0);
    return rc;
}

static void test_pem_errors(void **state)
{
    (void)state;
    assert_int_equal(pem_one(""), GH_ERR_NOT_FOUND);
    assert_int_equal(pem_one("just text\n"), GH_ERR_NOT_FOUND);
    assert_int_equal(pem_one("-----BEGIN X-----\nAAAA\n"), GH_ERR_TRUNCATED);
    assert_int_equal(pem_one("-----BEGIN X-----\nAAAA\n-----END Y-----\n"), GH_ERR_MALFORMED);
    assert_int_equal(pem_one("-----BEGIN -----\nAAAA\n-----END -----\n"), GH_ERR_MALFORMED);
    assert_int_equal(pem_one("-----BEGIN  X-----\n-----END  X-----\n"), GH_ERR_MALFORMED);
    assert_int_equal(pem_one("-----BEGIN X\x01-----\n-----END X\x01-----\n"), GH_ERR_MALFORMED);
    assert_int_equal(pem_one("-----BEGIN X-----\nAA!A\n-----END X-----\n"), GH_ERR_MALFORMED);
    assert_int_equal(pem_one("-----BEGIN X-----\nA: b\n-----END X-----\n"), GH_ERR_MALFORMED);
    assert_int_equal(pem_one("-----BEGIN X-----\n-----END X-----\n"), GH_OK);
    assert_int_equal(pem_one("-----BEGIN X-----\n-----END X---\n"), GH_ERR_MALFORMED);
    char *longline = malloc(GH_PKI_PEM_LINE_MAX + 64);
    assert_non_null(longline);
    strcpy(longline, "-----BEGIN X-----\n");
    size_t n = strlen(longline);
    memset(longline + n, 'A', GH_PKI_PEM_LINE_MAX + 1);
    strcpy(longline + n + GH_PKI_PEM_LINE_MAX + 1, "\n-----END X-----\n");
    assert_int_equal(pem_one(longline), GH_ERR_MALFORMED);
    free(longline);
    char label[100] = "-----BEGIN ";
    memset(label + 11, 'L', GH_PKI_PEM_LABEL_MAX + 1);
    strcpy(label + 11 + GH_PKI_PEM_LABEL_MAX + 1, "-----\n");
    assert_int_equal(pem_one(label), GH_ERR_MALFORMED);
}

static gh_err body(const char *text, uint8_t *out, size_t cap, size_t *n)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    gh_err rc = gh_pki_pem_decode_body(gh_slice_cstr(text), &w);
    *n = w.len;
    return rc;
}

static void test_pem_bodies(void **state)
{
    (void)state;
    uint8_t out[32];
    size_t n;
    assert_int_equal(body("AA EC\tAw\n==", out, sizeof out, &n), GH_OK);
    assert_int_equal(n, 4);
    assert_int_equal(body("AAEC", out, sizeof out, &n), GH_OK);
    assert_int_equal(n, 3);
    assert_int_equal(body("AAE", out, sizeof out, &n), GH_OK); /* unpadded tail */
    assert_int_equal(n, 2);
    assert_int_equal(body("", out, sizeof out, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(body("Aw==AAEC", out, sizeof out, &n), GH_ERR_BAD_BASE64);
    assert_int_equal(body("A", out, sizeof out, &n), GH_ERR_BAD_BASE64);
    assert_int_equal(body("AA=C", out, sizeof out, &n), GH_ERR_BAD_BASE64);
    assert_int_equal(body("A-==", out, sizeof out, &n), GH_ERR_BAD_BASE64);
    assert_int_equal(body("Ax==", out, sizeof out, &n), GH_ERR_BAD_BASE64); /* trailing bits */
    assert_int_equal(body("AAECAAEC", out, 4, &n), GH_ERR_NOBUFS);
}

/* Every prefix of a valid file, in an exact-size heap buffer (ASan catches
 * any read past the end): never crashes, and never finds a block that is
 * not complete. */
static void test_pem_every_prefix(void **state)
{
    (void)state;
    size_t len = strlen(two_blocks);
    size_t end_first = (size_t)(strstr(two_blocks, "between") - two_blocks) - 1;
    for (size_t i = 0; i <= len; i++) {
        uint8_t *copy = malloc(i ? i : 1);
        assert_non_null(copy);
        memcpy(copy, two_blocks, i);
        struct gh_reader r;
        struct gh_pki_pem_block b;
        gh_reader_init(&r, copy, i);
        size_t blocks = 0;
        gh_err rc;
        while ((rc = gh_pki_pem_next(&r, &b)) == GH_OK) blocks++;
        assert_true(rc == GH_ERR_NOT_FOUND || rc == GH_ERR_TRUNCATED || rc == GH_ERR_MALFORMED);
        size_t expect = i >= len ? 2 : i >= end_first ? 1 : 0;
        /* A cut inside the END line's dashes is malformed, not a block. */
        assert_true(blocks <= expect);
        if (i == len) assert_int_equal(blocks, 2);
        free(copy);
    }
}

/* Edge cases around the end of input and line endings. */
static void test_pem_edges(void **state)
{
    (void)state;
    /* BEGIN line alone at the very end of input, no newline. */
    assert_int_equal(pem_one("-----BEGIN A-----"), GH_ERR_TRUNCATED);
    /* END line shorter than the marker + dashes. */
    assert_int_equal(pem_one("-----BEGIN A-----\n-----END -----"), GH_ERR_MALFORMED);
    /* Header block never closed by an empty line. */
    assert_int_equal(pem_one("-----BEGIN A-----\nX: y\n-----END A-----\n"), GH_ERR_MALFORMED);
    /* Lines of only "\r". */
    assert_int_equal(pem_one("\r\r\n-----BEGIN A-----\r\n\r\n-----END A-----\r\n"), GH_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_names),  cmocka_unit_test(test_ip_addresses),
        cmocka_unit_test(test_device_ids), cmocka_unit_test(test_codes_stems_text),
        cmocka_unit_test(test_counts),     cmocka_unit_test(test_periods),
        cmocka_unit_test(test_pem_blocks), cmocka_unit_test(test_pem_errors),
        cmocka_unit_test(test_pem_bodies), cmocka_unit_test(test_pem_every_prefix),
        cmocka_unit_test(test_pem_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
