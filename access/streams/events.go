package streams

// Event types recorded by this package.
const (
	// EventStreamKilled: a rule terminated a stream. Data: rule, user, title, server, session,
	// message.
	EventStreamKilled = "stream.killed"
	// EventStreamKillFailed: a rule wanted a stream terminated and Plex refused (for example
	// without Plex Pass). Data as stream.killed plus error.
	EventStreamKillFailed = "stream.kill_failed"
	// EventStreamTerminated: an admin terminated a stream. Data: user, title, server, session,
	// reason.
	EventStreamTerminated = "stream.terminated"
	// EventStreamEnded: a stream ended (stream history). Data: see HistoryEntry.
	EventStreamEnded = "stream.ended"
	// EventServerOffline: a server stopped answering the session poll.
	EventServerOffline = "server.offline"
	// EventServerOnline: a server answers again after being offline.
	EventServerOnline = "server.online"
	// EventTokenInvalid: a server refused the token the poller uses.
	EventTokenInvalid = "plex.token_invalid"
)

// SystemActor is the actor of the poller's own events.
const SystemActor = "system"
