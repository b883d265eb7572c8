// Package discordbot sends Discord direct messages as a bot through Discord's REST API (v10). It
// implements notify.DMSender, so user warnings reach the people who linked their Discord account
// on an invite page.
//
// Sending a DM takes two requests: POST /users/@me/channels {"recipient_id"} opens (or returns)
// the DM channel with the user, and POST /channels/{id}/messages {"content"} posts the text. The
// channel ids are cached per user in a bounded cache owned by the Client. Every message carries a
// nonce Discord enforces, so a retry after an answer was lost cannot post the text twice.
//
// Discord's limits are honoured: a 429 is retried after the wait it asks for (retry_after in the
// body, else Retry-After or X-RateLimit-Reset-After), a 5xx or a request without an answer after
// an exponential backoff, both a bounded number of times, never past the context's deadline and
// never waiting longer than Config.MaxRetryWait at once. Answers that another attempt cannot
// change (401, 403, 404, 400) are not retried, and after a 401 the Client stops sending, since
// Discord bans clients that keep making invalid requests.
//
// The bot token appears only in the Authorization header: no error, String or GoString output
// carries it, and the package logs nothing.
package discordbot
