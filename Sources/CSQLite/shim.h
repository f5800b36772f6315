// SQLite's C interface (Debian: libsqlite3-dev), for the memory bank's store.
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro Swift cannot import: these bind functions make SQLite copy the bytes.
static inline int csqlite_bind_text(sqlite3_stmt *statement, int index, const char *text, int bytes) {
    return sqlite3_bind_text(statement, index, text, bytes, SQLITE_TRANSIENT);
}
static inline int csqlite_bind_blob(sqlite3_stmt *statement, int index, const void *data, int bytes) {
    return sqlite3_bind_blob(statement, index, data, bytes, SQLITE_TRANSIENT);
}
