// Package storage is the embedded Badger v4 store of the Plex user manager: options tuned for a small
// memory footprint, ASCII keys with a schema-version prefix, secondary indexes kept in the same
// transaction as their records, typed repositories reachable from a transaction, an in-memory read
// model of users for fast listing, sealed secrets, schema migrations, value-log GC and backup/restore.
//
// # Keys
//
// Every record lives under "v1/<kind>/<id>" and holds JSON. Indexes live under "v1/idx/<kind>/<name>/…".
// Integers in keys are 64-bit big-endian values written as 16 hex digits with the sign bit flipped,
// so keys stay ASCII and lexical order is numeric order; times are Unix nanoseconds encoded the same
// way, so lexical order is time order. The schema version lives under "meta/schema", outside the
// versioned prefix, so a later key layout can still find it.
//
// # Transactions
//
// [Store.View] and [Store.Update] hand a [Tx] to a closure; repositories such as [Tx.Users] and
// [Tx.Invites] work inside it, so changes to several records commit or fail together. Update retries a
// closure that hit a write conflict, so the closure must be pure: no network calls, no logging of side
// effects, nothing that must happen exactly once. The Store also has one-call methods (GetUser,
// PutInvite, …) that each run a single transaction.
//
// # Sharing
//
// Badger locks its directory: one *Store per directory per machine. The caller shares one Store across
// Caddy config reloads; a lock error at Open therefore means a second process (or a `caddy validate`
// against a live data directory).
package storage
