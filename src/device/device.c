#include "gatehouse/device.h"

GH_DEVICE_API const char *gh_device_version(void)
{
    return GH_VERSION;
}
