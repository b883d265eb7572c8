// Package access is the domain engine of the Plex user manager: it mirrors Plex into the store (sync),
// applies access windows (scheduled starts, expiries, per-library windows), purges inactive users, and
// carries out the admins' changes to users, shares, invitations and the Plex Home.
//
// # Decisions and plans
//
// Decisions are pure functions of the stored users, Plex's answers and the time — PlanSync,
// PlanEnforce and PlanPurge — that return plans (lists of Change). The Service gathers their inputs,
// runs them, and applies the plans.
//
// # Intents
//
// Every Plex change is written to the store as an intent (outbox) before the call and completed after
// it, in the same transaction as the store change and its audit event. A crash in between leaves a
// pending intent that ResumeIntents (at start) or the next pass finishes; every operation is idempotent
// ("already shared" is looked up and updated, "not found" on removal is done). When Plex is down the
// intent stays pending with a backoff (NotBefore) and is retried by the next pass, never duplicated.
// A token Plex rejects (401) raises a plex.token_invalid event and a flag in Health.
//
// # Passes and locking
//
// Sync, Enforce, purges and every Plex-changing admin operation hold Options.PassLock, so a worker
// loop, an admin and the Service of an overlapping Caddy config never interleave. Passes and the
// admins' operations wait for the lock only as long as their context allows (then ErrEngineBusy,
// nothing changed); the invite redemption (Grant) and its undo (ApplyShare, RevokeShare) wait
// regardless, so a redemption is never lost to an invitee leaving the page. Every Plex call gets a
// deadline (Options.PlexCallTimeout), so a call Plex never answers holds the lock for at most that
// long: the pass then finds Plex down and leaves the rest to the next pass. HistoryPass only reads
// Plex and moves last activity forward; it takes no lock. Every pass stores its report as a pass.*
// event (RecentPasses).
//
// # Retries and retention
//
// A change Plex could not take waits with a backoff. The first plex.tv answer after a failure makes
// every waiting change due at once and wakes the enforcement loop, whose next pass retries them (one
// attempt each, stopping again if Plex fails). Finished intents are deleted by the enforcement loop,
// at most hourly, once they are older than IntentRetention (done) or FailedIntentRetention (failed).
//
// Every time is stored in UTC; windows are instants, so time zones and daylight-saving transitions do
// not move them.
package access
