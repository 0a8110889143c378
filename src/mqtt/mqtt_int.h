/* Internal interface between the packet families of the MQTT codec.
 * Not for use outside src/mqtt/.
 *
 * Each family file (connect.c, publish.c, subscribe.c) implements, per type:
 *   decode:  parse the body (reader bounded to the remaining length) into
 *            out->u; the dispatcher in packet.c has already checked the fixed
 *            header, set out->type, and checks afterwards that the body was
 *            consumed exactly (GH_ERR_TRAILING_BYTES otherwise).
 *   measure: validate *p and compute its body length through the
 *            gh_mqtt_size_* helpers (overflow-proof, capped at the maximum
 *            remaining length).
 *   write:   append the body; only called after measure succeeded.
 * All are pure functions, thread-safe on distinct objects.
 */
#ifndef GH_MQTT_MQTT_INT_H
#define GH_MQTT_MQTT_INT_H

#include "mqtt/mqtt.h"

typedef gh_err (*gh_mqtt_decode_fn)(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                    struct gh_reader *body, struct gh_mqtt_packet *out);
typedef gh_err (*gh_mqtt_measure_fn)(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                                     size_t *body_len);
typedef gh_err (*gh_mqtt_write_fn)(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                                   struct gh_writer *w);

/* Size accounting: *acc += n, GH_ERR_TOO_LARGE past GH_MQTT_MAX_REMAINING_LENGTH. */
GH_NODISCARD gh_err gh_mqtt_size_add(size_t *acc, size_t n);
/* *acc += 2 + s.len for an MQTT UTF-8 string. GH_ERR_TOO_LARGE above 65535
 * bytes, GH_ERR_BAD_UTF8 if not valid MQTT UTF-8. */
GH_NODISCARD gh_err gh_mqtt_size_string(size_t *acc, struct gh_slice s);
/* *acc += 2 + s.len for MQTT binary data. GH_ERR_TOO_LARGE above 65535. */
GH_NODISCARD gh_err gh_mqtt_size_binary(size_t *acc, struct gh_slice s);

/* Fixed-header flags of a PUBLISH (DUP, QoS, RETAIN). */
uint8_t gh_mqtt_publish_flags(const struct gh_mqtt_publish *p);

/* connect.c */
GH_NODISCARD gh_err gh_mqtt_connect_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                           struct gh_reader *body, struct gh_mqtt_packet *out);
GH_NODISCARD gh_err gh_mqtt_connect_measure(const struct gh_mqtt_ctx *ctx,
                                            const struct gh_mqtt_packet *p, size_t *body_len);
GH_NODISCARD gh_err gh_mqtt_connect_write(const struct gh_mqtt_ctx *ctx,
                                          const struct gh_mqtt_packet *p, struct gh_writer *w);
GH_NODISCARD gh_err gh_mqtt_connack_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                           struct gh_reader *body, struct gh_mqtt_packet *out);
GH_NODISCARD gh_err gh_mqtt_connack_measure(const struct gh_mqtt_ctx *ctx,
                                            const struct gh_mqtt_packet *p, size_t *body_len);
GH_NODISCARD gh_err gh_mqtt_connack_write(const struct gh_mqtt_ctx *ctx,
                                          const struct gh_mqtt_packet *p, struct gh_writer *w);

/* publish.c: PUBLISH, and the packet-id-only acks (PUBACK, PUBREC, PUBREL,
 * PUBCOMP, UNSUBACK). */
GH_NODISCARD gh_err gh_mqtt_publish_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                           struct gh_reader *body, struct gh_mqtt_packet *out);
GH_NODISCARD gh_err gh_mqtt_publish_measure(const struct gh_mqtt_ctx *ctx,
                                            const struct gh_mqtt_packet *p, size_t *body_len);
GH_NODISCARD gh_err gh_mqtt_publish_write(const struct gh_mqtt_ctx *ctx,
                                          const struct gh_mqtt_packet *p, struct gh_writer *w);
GH_NODISCARD gh_err gh_mqtt_ack_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                       struct gh_reader *body, struct gh_mqtt_packet *out);
GH_NODISCARD gh_err gh_mqtt_ack_measure(const struct gh_mqtt_ctx *ctx,
                                        const struct gh_mqtt_packet *p, size_t *body_len);
GH_NODISCARD gh_err gh_mqtt_ack_write(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                                      struct gh_writer *w);

/* subscribe.c */
GH_NODISCARD gh_err gh_mqtt_subscribe_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                             struct gh_reader *body, struct gh_mqtt_packet *out);
GH_NODISCARD gh_err gh_mqtt_subscribe_measure(const struct gh_mqtt_ctx *ctx,
                                              const struct gh_mqtt_packet *p, size_t *body_len);
GH_NODISCARD gh_err gh_mqtt_subscribe_write(const struct gh_mqtt_ctx *ctx,
                                            const struct gh_mqtt_packet *p, struct gh_writer *w);
GH_NODISCARD gh_err gh_mqtt_suback_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                          struct gh_reader *body, struct gh_mqtt_packet *out);
GH_NODISCARD gh_err gh_mqtt_suback_measure(const struct gh_mqtt_ctx *ctx,
                                           const struct gh_mqtt_packet *p, size_t *body_len);
GH_NODISCARD gh_err gh_mqtt_suback_write(const struct gh_mqtt_ctx *ctx,
                                         const struct gh_mqtt_packet *p, struct gh_writer *w);
GH_NODISCARD gh_err gh_mqtt_unsubscribe_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                               struct gh_reader *body, struct gh_mqtt_packet *out);
GH_NODISCARD gh_err gh_mqtt_unsubscribe_measure(const struct gh_mqtt_ctx *ctx,
                                                const struct gh_mqtt_packet *p, size_t *body_len);
GH_NODISCARD gh_err gh_mqtt_unsubscribe_write(const struct gh_mqtt_ctx *ctx,
                                              const struct gh_mqtt_packet *p, struct gh_writer *w);

#endif
