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
//  2. Share: for each server of the invite (in server-id order), the access service applies the
//     share (libraries mapped to plex.tv section ids, downloads, filters), through its outbox and
//     audit. An account that already has a share gets it updated, not an error.
//  3. Accept: the pending share is accepted with the invitee's own token where Plex allows; a
//     refusal leaves the share pending (the invitee accepts by email) and is not a failure.
//  4. Record: the user gets its access window (ExpiresAt = start + membership days), the invite
//     id and the Discord link; the redemption becomes "joined" (new user) or "updated" (known
//     user) and an invite.redeemed event is written.
//
// When Plex refuses at step 2, the shares made earlier in the same redemption are rolled back
// (revoked, or restored to what they were), the use is released, the redemption becomes "failed"
// with a plain-language reason and an invite.failed event is written. With a start date in the
// future, step 2 makes no Plex call: the user is recorded as scheduled with the desired shares and
// the access engine shares at the start.
package invite
