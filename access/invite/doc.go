// Package invite is the invite domain: invite settings and their validation, invite codes
// (random or custom), the onboarding Markdown, QR codes of invite links, and redemption — the
// state machine that turns a signed-in Plex account into shares on every server of the invite.
//
// # Redemption
//
// A redemption (see [Service.Redeem]) runs these steps; each is recorded so that nothing is left
// half-done:
//
//  1. Reserve: in one Badger transaction the invite's use counter is incremented (only while the
//     invite is enabled, not expired and below its maximum) and a redemption with outcome
//     "reserved" claims the (invite, user) unique index. Concurrent redemptions of the last use
//     conflict in Badger and the loser sees the invite used up, so N concurrent redemptions of a
//     5-use invite share exactly 5 times. The same account redeeming twice hits the unique index:
//     it takes no second use and changes nothing.
//  2. Share: one access.Service.Grant with every server of the invite: the engine records an intent
//     (its outbox), maps library keys to plex.tv section ids, shares with the invite's downloads and
//     filters, and audits. An account that already has access keeps it and gets the invite's
//     libraries added (a later or no expiry wins), not an error.
//  3. Accept: the pending share is accepted with the invitee's own token where Plex allows; a
//     refusal leaves the share pending (the invitee accepts by email) and is not a failure.
//  4. Record: the user gets its access window (ExpiresAt = start + membership days), the invite
//     id and the Discord link; the redemption becomes "joined" (new user) or "updated" (known
//     user) and an invite.redeemed event is written.
//
// When Plex refuses at step 2, whatever the grant changed is rolled back (shares it created are
// revoked, shares it changed restored, a user it created marked removed), the use is released, the
// redemption becomes "failed" with a plain-language reason and an invite.failed event is written.
// When Plex cannot be reached (access.ErrRetryScheduled), the engine keeps the change as an intent
// and completes it on a later pass: the redemption is recorded as joined with the reason "queued",
// the use stays taken and the invitee is told access follows. With a start date in the future,
// step 2 makes no Plex call: the user is recorded as scheduled with the desired shares and the
// engine's Enforce shares at the start. A reservation left by a crash is taken over by the same
// account's next attempt, or settled by SweepStale.
//
// Flow runs the public sign-in around Redeem (see flow.go).
package invite
