/* Fuzz the CONNECT user-name parsers. Input: client id, NUL, user name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iothub/username.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 4096

static bool within(struct gh_slice s, const uint8_t *base, size_t len)
{
    if (s.ptr == NULL) return s.len == 0;
    return s.ptr >= base && s.len <= len && (size_t)(s.ptr - base) <= len - s.len;
}

static void check(const struct gh_iothub_username *u, struct gh_slice name, const uint8_t *scratch,
                  size_t scratch_len, struct gh_slice client_id)
{
    const struct gh_slice all[] = {u->id.device_id, u->id.module_id, u->host,      u->api_version,
                                   u->client_type,  u->model_id,     u->auth_chain};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!within(all[i], name.ptr, name.len) && !within(all[i], scratch, scratch_len)) abort();
    switch (u->id.kind) {
    case GH_IOTHUB_ID_DEVICE:
        if (!gh_iothub_valid_device_id(u->id.device_id) || u->id.module_id.len) abort();
        break;
    case GH_IOTHUB_ID_MODULE:
        if (!gh_iothub_valid_device_id(u->id.device_id)) abort();
        if (!gh_iothub_valid_module_id(u->id.module_id)) abort();
        break;
    case GH_IOTHUB_ID_DPS:
        if (!gh_iothub_valid_registration_id(u->id.device_id)) abort();
        break;
    default:
        abort();
    }
    (void)gh_iothub_username_check_client_id(u, client_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) return 0;
    const uint8_t *nul = memchr(data, 0, size);
    struct gh_slice client_id = {data, nul ? (size_t)(nul - data) : 0};
    struct gh_slice name =
        nul ? (struct gh_slice){nul + 1, size - client_id.len - 1} : (struct gh_slice){data, size};
    /* A scratch as long as the user name must always be enough. */
    uint8_t *scratch_mem = malloc(name.len + 1);
    if (!scratch_mem) return 0;
    gh_err (*const parsers[])(struct gh_slice, struct gh_writer *, struct gh_iothub_username *) = {
        gh_iothub_username_parse, gh_iothub_username_parse_hub, gh_iothub_username_parse_dps};
    for (size_t p = 0; p < 3; p++) {
        struct gh_writer scratch;
        gh_writer_init(&scratch, scratch_mem, name.len);
        struct gh_iothub_username u;
        gh_err rc = parsers[p](name, &scratch, &u);
        if (rc == GH_OK)
            check(&u, name, scratch_mem, scratch.len, client_id);
        else if (rc != GH_ERR_BAD_USERNAME || scratch.len != 0)
            abort();
    }
    free(scratch_mem);
    return 0;
}
