/* Schema of hub.db and its forward-only migrations (see store.h).
 *
 * Never edit a migration that has shipped: append a new one and raise
 * GH_STORE_SCHEMA_VERSION. Every migration runs inside one transaction
 * together with the PRAGMA user_version update.
 */
#include "hub/store_internal.h"

/* Version 0 -> 1: the initial schema. */
static const char v1[] =
    /* Devices (module_id '') and modules. Times are ms since the epoch,
     * 0 = never. Enums use the stable numbers of identity.h. */
    "CREATE TABLE identity ("
    " device_id TEXT NOT NULL,"
    " module_id TEXT NOT NULL,"
    " managed_by TEXT NOT NULL,"
    " generation_id TEXT NOT NULL,"
    " etag TEXT NOT NULL,"
    " status INTEGER NOT NULL,"
    " status_reason TEXT NOT NULL,"
    " status_updated_ms INTEGER NOT NULL,"
    " auth_type INTEGER NOT NULL,"
    " primary_key TEXT NOT NULL,"
    " secondary_key TEXT NOT NULL,"
    " primary_thumbprint TEXT NOT NULL,"
    " secondary_thumbprint TEXT NOT NULL,"
    " iot_edge INTEGER NOT NULL,"
    " device_scope TEXT NOT NULL,"
    " parent_scope TEXT NOT NULL,"
    " conn_state INTEGER NOT NULL,"
    " conn_state_updated_ms INTEGER NOT NULL,"
    " last_activity_ms INTEGER NOT NULL,"
    " model_id TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " PRIMARY KEY (device_id, module_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX identity_scope ON identity(device_scope) WHERE device_scope <> '';"
    "CREATE INDEX identity_parent ON identity(parent_scope, device_id) WHERE parent_scope <> '';"

    "CREATE TABLE twin ("
    " device_id TEXT NOT NULL,"
    " module_id TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " desired_version INTEGER NOT NULL,"
    " reported_version INTEGER NOT NULL,"
    " tags TEXT NOT NULL,"
    " desired TEXT NOT NULL,"
    " desired_meta TEXT NOT NULL,"
    " reported TEXT NOT NULL,"
    " reported_meta TEXT NOT NULL,"
    " PRIMARY KEY (device_id, module_id),"
    " FOREIGN KEY (device_id, module_id) REFERENCES identity(device_id, module_id)"
    "  ON DELETE CASCADE"
    ") WITHOUT ROWID;"

    "CREATE TABLE session ("
    " device_id TEXT NOT NULL,"
    " module_id TEXT NOT NULL,"
    " subscribed INTEGER NOT NULL,"
    " qos1 INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (device_id, module_id),"
    " FOREIGN KEY (device_id, module_id) REFERENCES identity(device_id, module_id)"
    "  ON DELETE CASCADE"
    ") WITHOUT ROWID;"

    "CREATE TABLE c2d ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " device_id TEXT NOT NULL,"
    " module_id TEXT NOT NULL,"
    " message_id TEXT NOT NULL,"
    " enqueued_ms INTEGER NOT NULL,"
    " expiry_ms INTEGER NOT NULL,"
    " lock_until_ms INTEGER NOT NULL,"
    " delivered INTEGER NOT NULL,"
    " ack INTEGER NOT NULL,"
    " properties TEXT NOT NULL,"
    " body BLOB NOT NULL,"
    " FOREIGN KEY (device_id, module_id) REFERENCES identity(device_id, module_id)"
    "  ON DELETE CASCADE"
    ");"
    "CREATE INDEX c2d_device ON c2d(device_id, module_id, seq);"

    /* Telemetry: seq assigned from telemetry_stats.next_seq (never reused);
     * size = body + properties bytes; no foreign key (kept after delete). */
    "CREATE TABLE telemetry ("
    " seq INTEGER PRIMARY KEY,"
    " device_id TEXT NOT NULL,"
    " module_id TEXT NOT NULL,"
    " enqueued_ms INTEGER NOT NULL,"
    " properties TEXT NOT NULL,"
    " body BLOB NOT NULL,"
    " size INTEGER NOT NULL"
    ");"
    "CREATE INDEX telemetry_device ON telemetry(device_id, seq);"
    "CREATE TABLE telemetry_stats ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " next_seq INTEGER NOT NULL,"
    " count INTEGER NOT NULL,"
    " bytes INTEGER NOT NULL"
    ");"
    "INSERT INTO telemetry_stats(id, next_seq, count, bytes) VALUES (1, 1, 0, 0);"

    "CREATE TABLE policy ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " primary_key TEXT NOT NULL,"
    " secondary_key TEXT NOT NULL,"
    " rights INTEGER NOT NULL"
    ") WITHOUT ROWID;"

    "CREATE TABLE ca_cert ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " sha1 TEXT NOT NULL,"
    " sha256 TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " not_after_ms INTEGER NOT NULL,"
    " verified INTEGER NOT NULL,"
    " verification_code TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " pem TEXT NOT NULL"
    ");";

/* Version 1 -> 2: no per-device telemetry index. With many devices sending,
 * every group commit dirtied one index page per device: the index cost
 * about a third of the hub's ingest rate (issue 9). A read filtered by
 * device now scans a bounded range of seq (gh_store_telemetry_scan). */
static const char v2[] = "DROP INDEX IF EXISTS telemetry_device;";

const char *const gh_store_i_migrations[GH_STORE_SCHEMA_VERSION] = {v1, v2};
