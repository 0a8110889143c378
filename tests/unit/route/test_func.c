/* Every function of PROTOCOL.md 7.6 with defined, undefined and wrong-type
 * operands; function names are case-insensitive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "route_fixture.h"

static struct gh_route_msg msg;

static int setup(void **state)
{
    (void)state;
    fx_msg_78(&msg);
    return 0;
}

static void type_tests(void **state)
{
    (void)state;
    struct gh_route_msg *m = &msg;
    EXPECT(m, "IS_DEFINED(processingPath)", FX_T);
    EXPECT(m, "IS_DEFINED(nosuch)", FX_F);
    EXPECT(m, "IS_DEFINED(undefined)", FX_F);
    EXPECT(m, "IS_DEFINED(null)", FX_T);
    EXPECT(m, "is_defined($messageId)", FX_F);
    EXPECT(m, "Is_Defined(1 + nosuch)", FX_F);

    EXPECT(m, "IS_NULL(null)", FX_T);
    EXPECT(m, "IS_NULL('')", FX_F);
    EXPECT(m, "IS_NULL(nosuch)", FX_U);

    EXPECT(m, "IS_BOOL(true)", FX_T);
    EXPECT(m, "IS_BOOL($body.Weather.IsEnabled)", FX_T);
    EXPECT(m, "IS_BOOL('true')", FX_F);
    EXPECT(m, "IS_BOOL(nosuch)", FX_U);

    EXPECT(m, "IS_NUMBER(1)", FX_T);
    EXPECT(m, "IS_NUMBER($body.Weather.Temperature)", FX_T);
    EXPECT(m, "IS_NUMBER(level)", FX_F);
    EXPECT(m, "IS_NUMBER(nosuch)", FX_U);

    EXPECT(m, "IS_STRING(level)", FX_T);
    EXPECT(m, "IS_STRING(1)", FX_F);
    EXPECT(m, "IS_STRING(null)", FX_F);
    EXPECT(m, "IS_STRING(undefined)", FX_U);

    EXPECT(m, "IS_OBJECT($body.Weather)", FX_T);
    EXPECT(m, "IS_OBJECT($body.Weather.HistoricalData)", FX_F);
    EXPECT(m, "IS_OBJECT('x')", FX_F);
    EXPECT(m, "IS_OBJECT(nosuch)", FX_U);

    EXPECT(m, "IS_ARRAY($body.Weather.HistoricalData)", FX_T);
    EXPECT(m, "IS_ARRAY($body.Weather)", FX_F);
    EXPECT(m, "IS_ARRAY(1)", FX_F);
    EXPECT(m, "IS_ARRAY($body.nope)", FX_U);

    EXPECT(m, "IS_PRIMITIVE('x')", FX_T);
    EXPECT(m, "IS_PRIMITIVE(1)", FX_T);
    EXPECT(m, "IS_PRIMITIVE(false)", FX_T);
    EXPECT(m, "IS_PRIMITIVE(null)", FX_T);
    EXPECT(m, "IS_PRIMITIVE($body.Weather.HistoricalData)", FX_F);
    EXPECT(m, "IS_PRIMITIVE(nosuch)", FX_U);
}

static void as_number(void **state)
{
    (void)state;
    struct gh_route_msg *m = &msg;
    EXPECT(m, "AS_NUMBER(level) = 7", FX_T);
    EXPECT(m, "AS_NUMBER(3) = 3", FX_T);
    EXPECT(m, "AS_NUMBER('  -1.5e2 ') = -150", FX_T);
    EXPECT(m, "AS_NUMBER('+.5') = 0.5", FX_T);
    EXPECT(m, "AS_NUMBER('12.') = 12", FX_T);
    EXPECT(m, "IS_DEFINED(AS_NUMBER('abc'))", FX_F);
    EXPECT(m, "IS_DEFINED(AS_NUMBER(''))", FX_F);
    EXPECT(m, "IS_DEFINED(AS_NUMBER('1,5'))", FX_F);
    EXPECT(m, "IS_DEFINED(AS_NUMBER('0x10'))", FX_F);
    EXPECT(m, "IS_DEFINED(AS_NUMBER('1e'))", FX_F);
    EXPECT(m, "IS_DEFINED(AS_NUMBER('.'))", FX_F);
    EXPECT(m, "IS_DEFINED(AS_NUMBER(true))", FX_F);
    EXPECT(m, "IS_DEFINED(AS_NUMBER(null))", FX_F);
    EXPECT(m, "IS_DEFINED(AS_NUMBER(nosuch))", FX_F);
    EXPECT(m, "IS_DEFINED(AS_NUMBER($body.Weather))", FX_F);
}

static void math(void **state)
{
    (void)state;
    struct gh_route_msg *m = &msg;
    EXPECT(m, "ABS(-2.5) = 2.5", FX_T);
    EXPECT(m, "abs(2) = 2", FX_T);
    EXPECT(m, "CEILING(1.2) = 2", FX_T);
    EXPECT(m, "CEILING(-1.2) = -1", FX_T);
    EXPECT(m, "FLOOR(1.8) = 1", FX_T);
    EXPECT(m, "FLOOR(-1.2) = -2", FX_T);
    EXPECT(m, "SIGN(-3) = -1", FX_T);
    EXPECT(m, "SIGN(0) = 0", FX_T);
    EXPECT(m, "SIGN(42) = 1", FX_T);
    EXPECT(m, "IS_DEFINED(SIGN(SQRT(-1)))", FX_F); /* NaN has no sign */
    EXPECT(m, "SQUARE(-3) = 9", FX_T);
    EXPECT(m, "SQRT(16) = 4", FX_T);
    EXPECT(m, "EXP(0) = 1", FX_T);
    EXPECT(m, "EXP(1) > 2.718 AND EXP(1) < 2.719", FX_T);
    EXPECT(m, "POWER(2, 10) = 1024", FX_T);
    EXPECT(m, "Power(9, 0.5) = 3", FX_T);
    const char *one[] = {"ABS", "CEILING", "FLOOR", "SIGN", "SQUARE", "SQRT", "EXP"};
    const char *bad[] = {"'1'", "null", "true", "nosuch", "$body.Weather"};
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
            char c[96];
            snprintf(c, sizeof c, "IS_DEFINED(%s(%s))", one[i], bad[j]);
            EXPECT(m, c, FX_F);
        }
    }
    EXPECT(m, "IS_DEFINED(POWER('2', 2))", FX_F);
    EXPECT(m, "IS_DEFINED(POWER(2, nosuch))", FX_F);
    EXPECT(m, "IS_DEFINED(POWER(null, 2))", FX_F);
}

static void strings(void **state)
{
    (void)state;
    struct gh_route_msg *m = &msg;
    EXPECT(m, "CONCAT('a', 'b') = 'ab'", FX_T);
    EXPECT(m, "CONCAT('a', processingPath, '-', level) = 'ahot-7'", FX_T);
    EXPECT(m, "CONCAT('', '') = ''", FX_T);
    EXPECT(m, "IS_DEFINED(CONCAT('a', 1))", FX_F);
    EXPECT(m, "IS_DEFINED(CONCAT('a', nosuch))", FX_F);
    EXPECT(m, "IS_DEFINED(CONCAT(null, 'a'))", FX_F);

    EXPECT(m, "LENGTH('abc') = 3", FX_T);
    EXPECT(m, "LENGTH('') = 0", FX_T);
    EXPECT(m, "LENGTH('\\u00e9') = 1", FX_T);        /* 2 UTF-8 bytes, 1 unit */
    EXPECT(m, "LENGTH('\\ud83d\\ude00') = 2", FX_T); /* outside the BMP: 2 units */
    EXPECT(m, "IS_DEFINED(LENGTH(12))", FX_F);
    EXPECT(m, "IS_DEFINED(LENGTH(nosuch))", FX_F);
    EXPECT(m, "IS_DEFINED(LENGTH(null))", FX_F);

    EXPECT(m, "LOWER('AbC') = 'abc'", FX_T);
    EXPECT(m, "UPPER('AbC') = 'ABC'", FX_T);
    EXPECT(m, "UPPER('\\u00e9\\u03c9\\u0436\\u00ff') = '\\u00c9\\u03a9\\u0416\\u0178'", FX_T);
    EXPECT(m, "LOWER('\\u00c9\\u03a9\\u0416\\u0178') = '\\u00e9\\u03c9\\u0436\\u00ff'", FX_T);
    EXPECT(m, "UPPER('\\u00df1') = '\\u00df1'", FX_T); /* no length-changing maps */
    EXPECT(m, "IS_DEFINED(LOWER(1))", FX_F);
    EXPECT(m, "IS_DEFINED(UPPER(nosuch))", FX_F);

    EXPECT(m, "SUBSTRING('hello', 1) = 'ello'", FX_T);
    EXPECT(m, "SUBSTRING('hello', 5) = ''", FX_T);
    EXPECT(m, "SUBSTRING('hello', 1, 3) = 'ell'", FX_T);
    EXPECT(m, "SUBSTRING('hello', 0, 5) = 'hello'", FX_T);
    EXPECT(m, "SUBSTRING('hello', 1.9, 2) = 'el'", FX_T); /* truncated like (int) */
    EXPECT(m, "SUBSTRING('h\\u00e9llo', 2) = 'llo'", FX_T);
    EXPECT(m, "IS_DEFINED(SUBSTRING('hello', 6))", FX_F);
    EXPECT(m, "IS_DEFINED(SUBSTRING('hello', -1))", FX_F);
    EXPECT(m, "IS_DEFINED(SUBSTRING('hello', 5, 0))", FX_F); /* start must be < length */
    EXPECT(m, "IS_DEFINED(SUBSTRING('hello', 2, 4))", FX_F);
    EXPECT(m, "IS_DEFINED(SUBSTRING('hello', 2, -1))", FX_F);
    EXPECT(m, "IS_DEFINED(SUBSTRING('\\ud83d\\ude00', 1))", FX_F); /* splits a pair */
    EXPECT(m, "IS_DEFINED(SUBSTRING(5, 1))", FX_F);
    EXPECT(m, "IS_DEFINED(SUBSTRING('hello', '1'))", FX_F);
    EXPECT(m, "IS_DEFINED(SUBSTRING('hello', 1, nosuch))", FX_F);
    EXPECT(m, "IS_DEFINED(SUBSTRING(nosuch, 1))", FX_F);

    EXPECT(m, "INDEX_OF('hello', 'l') = 2", FX_T);
    EXPECT(m, "INDEX_OF('hello', 'z') = -1", FX_T);
    EXPECT(m, "INDEX_OF('hello', '') = 0", FX_T);
    EXPECT(m, "INDEX_OF('\\ud83d\\ude00x', 'x') = 2", FX_T);
    EXPECT(m, "INDEX_OF('a', 'ab') = -1", FX_T);
    EXPECT(m, "IS_DEFINED(INDEX_OF('a', 1))", FX_F);
    EXPECT(m, "IS_DEFINED(INDEX_OF(nosuch, 'a'))", FX_F);

    EXPECT(m, "STARTS_WITH(processingPath, 'ho')", FX_T);
    EXPECT(m, "STARTS_WITH(processingPath, 'HO')", FX_F); /* ordinal */
    EXPECT(m, "STARTS_WITH('a', 'ab')", FX_F);
    EXPECT(m, "STARTS_WITH('a', '')", FX_T);
    EXPECT(m, "ENDS_WITH('hello', 'llo')", FX_T);
    EXPECT(m, "ENDS_WITH('hello', 'hel')", FX_F);
    EXPECT(m, "ENDS_WITH('lo', 'hello')", FX_F);
    EXPECT(m, "CONTAINS('hello', 'ell')", FX_T);
    EXPECT(m, "CONTAINS('hello', 'ELL')", FX_F);
    EXPECT(m, "CONTAINS('hello', '')", FX_T);
    EXPECT(m, "STARTS_WITH(1, 'a')", FX_U);
    EXPECT(m, "ENDS_WITH('a', null)", FX_U);
    EXPECT(m, "CONTAINS(nosuch, 'a')", FX_U);
    EXPECT(m, "contains($body.Weather.Location.State, 'W')", FX_T);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(type_tests, setup),
        cmocka_unit_test_setup(as_number, setup),
        cmocka_unit_test_setup(math, setup),
        cmocka_unit_test_setup(strings, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
