// Package notify tells the admins about the events they pick and warns users before they lose
// access.
//
// A Notifier is called with every appended audit event (Notify; the root wires it as a hook after
// event append). Events of a kind the admin picked (user joined, invite used up, access expiring,
// access expired, purge done, stream killed, server offline, Plex token invalid) are queued and
// delivered by Run to every configured channel:
//
//   - a generic webhook: a JSON body signed with HMAC-SHA256 over "<timestamp>.<body>" in the
//     X-Plex-Manager-Signature header, the Unix timestamp in X-Plex-Manager-Timestamp (see
//     VerifySignature for receivers);
//   - a Discord webhook;
//   - any service github.com/nicholas-fedor/shoutrrr knows by URL (Telegram, Slack, Gotify, ntfy,
//     Pushover, Matrix, Teams, e-mail…). It is the maintained fork of containrrr/shoutrrr (whose
//     last release, v0.8.0, dates from 2023); v0.13.2 is pinned, and it adds no dependency beyond
//     what the module already has (mattn/go-colorable, x/sys, x/term).
//
// Each delivery is retried with exponential backoff (network errors, 5xx and 429, honouring
// Retry-After); the outcome of every delivery is kept in a delivery log (Deliveries) and a final
// failure is also recorded as a notify.failed event. Test sends a test message to one channel.
//
// WarnUsers (run by the root, for example hourly) warns users whose access expires within the
// configured number of days, and users a purge would remove, by e-mail (net/smtp) and/or Discord
// direct message, once per expiry date or purge. The message links to a public page where the
// user sees their own access status: the link carries a signed, expiring token (StatusToken and
// VerifyStatusToken), so no login is needed.
//
// Secrets in the settings (webhook secret, Discord webhook URL, shoutrrr URLs, SMTP password) are
// sealed at rest when a Sealer is given, never logged, and never shown back in the UI.
//
// The package does not import Caddy.
package notify
