/* Schema of dps.db and its forward-only migrations (see dps_store.h).
 * Never edit a shipped migration: append one and raise
 * GH_DPS_STORE_SCHEMA_VERSION. */
#include "dps/dps_store_int.h"

/* Version 0 -> 1. Times are ms since the epoch. kind: 0 individual,
 * 1 group; status / substatus: the stable numbers of dps_doc.h. */
static const char v1[] = "CREATE TABLE enrollment ("
                         " kind INTEGER NOT NULL,"
                         " key TEXT NOT NULL,"
                         " doc TEXT NOT NULL,"
                         " etag TEXT NOT NULL,"
                         " created_ms INTEGER NOT NULL,"
                         " updated_ms INTEGER NOT NULL,"
                         " PRIMARY KEY (kind, key)"
                         ") WITHOUT ROWID;"

                         "CREATE TABLE registration ("
                         " key TEXT PRIMARY KEY NOT NULL,"
                         " registration_id TEXT NOT NULL,"
                         " device_id TEXT NOT NULL,"
                         " assigned_hub TEXT NOT NULL,"
                         " status INTEGER NOT NULL,"
                         " substatus INTEGER NOT NULL,"
                         " error_code INTEGER NOT NULL,"
                         " error_message TEXT NOT NULL,"
                         " enrollment_kind INTEGER NOT NULL,"
                         " enrollment_id TEXT NOT NULL,"
                         " etag TEXT NOT NULL,"
                         " created_ms INTEGER NOT NULL,"
                         " updated_ms INTEGER NOT NULL,"
                         " enrollment_key TEXT NOT NULL"
                         ") WITHOUT ROWID;"
                         "CREATE INDEX registration_group ON registration(enrollment_key, key) "
                         " WHERE enrollment_kind = 1;"

                         "CREATE TABLE operation ("
                         " id TEXT PRIMARY KEY NOT NULL,"
                         " reg_key TEXT NOT NULL,"
                         " registration_id TEXT NOT NULL,"
                         " status INTEGER NOT NULL,"
                         " created_ms INTEGER NOT NULL,"
                         " updated_ms INTEGER NOT NULL,"
                         " result TEXT NOT NULL"
                         ") WITHOUT ROWID;"
                         "CREATE INDEX operation_created ON operation(created_ms);";

const char *const gh_dps_i_migrations[GH_DPS_STORE_SCHEMA_VERSION] = {v1};
