/* Library version, error messages and log settings of libgatehouse-device. */
#include "gatehouse/device.h"
#include "common/error.h"
#include "common/log.h"

/* The public numbers are the project's error numbers, which never change. */
_Static_assert(GH_DEVICE_EARG == GH_ERR_ARG, "error number drift");
_Static_assert(GH_DEVICE_EIO == GH_ERR_IO, "error number drift");
_Static_assert(GH_DEVICE_ENOENT == GH_ERR_NOENT, "error number drift");
_Static_assert(GH_DEVICE_ETLS == GH_ERR_TLS, "error number drift");
_Static_assert(GH_DEVICE_ECRYPTO == GH_ERR_CRYPTO, "error number drift");
_Static_assert(GH_DEVICE_ECLOSED == GH_ERR_CLOSED, "error number drift");
_Static_assert(GH_DEVICE_ETIMEOUT == GH_ERR_TIMEOUT, "error number drift");
_Static_assert(GH_DEVICE_EMALFORMED == GH_ERR_MALFORMED, "error number drift");
_Static_assert(GH_DEVICE_EBAD_BASE64 == GH_ERR_BAD_BASE64, "error number drift");
_Static_assert(GH_DEVICE_EBAD_CONNSTR == GH_ERR_BAD_CONNSTR, "error number drift");
_Static_assert(GH_DEVICE_EBAD_JSON == GH_ERR_BAD_JSON, "error number drift");
_Static_assert(GH_DEVICE_ETOO_LARGE == GH_ERR_TOO_LARGE, "error number drift");
_Static_assert(GH_DEVICE_ENOBUFS == GH_ERR_NOBUFS, "error number drift");
_Static_assert(GH_DEVICE_ENOMEM == GH_ERR_NOMEM, "error number drift");
_Static_assert(GH_DEVICE_ETOO_MANY == GH_ERR_TOO_MANY, "error number drift");
_Static_assert(GH_DEVICE_EQUEUE_FULL == GH_ERR_QUEUE_FULL, "error number drift");
_Static_assert(GH_DEVICE_EAUTH == GH_ERR_AUTH, "error number drift");
_Static_assert(GH_DEVICE_EEXPIRED == GH_ERR_EXPIRED, "error number drift");
_Static_assert(GH_DEVICE_EFORBIDDEN == GH_ERR_FORBIDDEN, "error number drift");

_Static_assert(GH_DEVICE_LOG_DEBUG == GH_LOG_DEBUG && GH_DEVICE_LOG_INFO == GH_LOG_INFO &&
                   GH_DEVICE_LOG_WARN == GH_LOG_WARN && GH_DEVICE_LOG_ERROR == GH_LOG_ERROR &&
                   GH_DEVICE_LOG_OFF == GH_LOG_OFF,
               "log level drift");

GH_DEVICE_API void gh_device_set_log(int level, int fd)
{
    if (level >= GH_DEVICE_LOG_DEBUG && level <= GH_DEVICE_LOG_OFF)
        gh_log_set_level((enum gh_log_level)level);
    if (fd >= 0) gh_log_set_fd(fd);
}

GH_DEVICE_API const char *gh_device_version(void)
{
    return GH_VERSION;
}

GH_DEVICE_API const char *gh_device_strerror(int err)
{
    return gh_err_str((gh_err)err);
}
