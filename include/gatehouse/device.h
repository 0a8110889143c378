/* libgatehouse-device: the C client for devices talking to gatehouse hub,
 * gatehouse edge or Azure IoT Hub over MQTT/TLS in the IoT Hub dialect.
 *
 * Thread-safety: unless a function says otherwise, a client object is used
 * from one thread at a time; distinct objects are independent.
 */
#ifndef GATEHOUSE_DEVICE_H
#define GATEHOUSE_DEVICE_H

#ifdef __cplusplus
extern "C" {
#endif

#define GH_DEVICE_API __attribute__((visibility("default")))

/* Library version, e.g. "0.1.0". Static storage; never NULL. Thread-safe. */
GH_DEVICE_API const char *gh_device_version(void);

#ifdef __cplusplus
}
#endif

#endif
