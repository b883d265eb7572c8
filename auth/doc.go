// Package auth is the authentication core of the admin side, in plain Go (no HTTP): argon2id
// password hashing with a concurrency limit and a fake hash for unknown names, password strength
// rules, sign-in throttling per account and per client address, server-side sessions on
// storage.Sessions with idle and absolute timeouts, REST API keys, and the one-time setup code
// that lets the first admin claim a fresh instance.
//
// Every type takes its clock as an option (Now), so expiry is tested without sleeping. Secrets
// (passwords, session tokens, API keys, the setup code) are never stored in the clear, logged or
// put into errors: the store keeps SHA-256 hashes of tokens and keys and argon2id hashes of
// passwords.
package auth
