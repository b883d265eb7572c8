// Package streams watches the live streams of every Plex Media Server, enforces the stream rules
// and keeps each user's stream history.
//
// A Poller reads GET /status/sessions of each server every session_poll (Run, started by the
// root) or on demand (Poll), and keeps the latest snapshot per server in memory with the time it
// was fetched and the error, if any. Each stream is joined to the stored user: the server's
// account 1 is the owner, every other account id is the plex.tv id (plex-api.md quirk 2).
//
// After each poll the poller
//
//   - evaluates the rules (Evaluate: a pure function of the streams, the users and the rule
//     settings, table-tested) and terminates the offending streams with the rule's message, which
//     the player shows; each kill is a stream.killed event, a refused kill stream.kill_failed;
//   - records every stream that ended since the previous poll as a stream.ended event (what, when,
//     how long, which device), queryable per user with History, and feeds the user's last activity
//     through an ActivityMarker (access.Service.MarkActivity);
//   - records server.offline / server.online and plex.token_invalid when a server's state
//     changes.
//
// Terminating a stream needs Plex Pass on the owner's account: Plex answers 401 and the error is
// plex.ErrPlexPassRequired, which Explain turns into a plain sentence (quirk 8).
//
// The package does not import Caddy; it is tested against plex/plextest through the real client.
package streams
