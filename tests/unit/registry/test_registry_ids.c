/*  test_registry_ids.c — the registry's ids and code hashes
    (actors/registry/ids.c): UUID v4 in canonical lower-case form with the
    version and variant bits set, no repeats; SHA-256 hex against the
    FIPS 180-2 test vectors.

    Links registry_core (see actors/registry/CMakeLists.txt).
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "registry.h"

#define UUIDS 2000

static int
s_compare (const void *a, const void *b)
{
    return strcmp ((const char *) a, (const char *) b);
}

static void
test_uuid4 (void **state)
{
    (void) state;
    char (*ids) [REG_ID_LEN + 1] = calloc (UUIDS, sizeof *ids);
    assert_non_null (ids);
    for (int i = 0; i < UUIDS; i++) {
        assert_int_equal (ids_uuid4 (ids [i]), 0);
        const char *id = ids [i];
        assert_int_equal (strlen (id), REG_ID_LEN);
        char parsed [REG_ID_LEN + 1];
        assert_true (ids_uuid_parse (id, REG_ID_LEN, parsed));
        assert_string_equal (parsed, id);           //  already lower-case
        assert_int_equal (id [14], '4');            //  version
        assert_non_null (strchr ("89ab", id [19])); //  variant 10xx
    }
    qsort (ids, UUIDS, sizeof *ids, s_compare);
    for (int i = 1; i < UUIDS; i++)
        assert_true (strcmp (ids [i - 1], ids [i]) != 0);
    free (ids);
}

static void
test_code_hash (void **state)
{
    (void) state;
    char hex [REG_HASH_LEN + 1];
    assert_int_equal (ids_code_hash ("", 0, hex), 0);
    assert_string_equal (hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal (ids_code_hash ("abc", 3, hex), 0);
    assert_string_equal (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal (ids_code_hash (two, strlen (two), hex), 0);
    assert_string_equal (hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    //  the bytes given, not up to a NUL
    assert_int_equal (ids_code_hash ("abcdef", 3, hex), 0);
    assert_string_equal (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_uuid4),
        cmocka_unit_test (test_code_hash),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
