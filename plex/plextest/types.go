package plextest

import (
	"net/http"
	"time"
)

// Options configure a Fake.
type Options struct {
	// OwnerToken is the owner's plex.tv token; default "owner-token".
	// It replaces the token of Seed.Owner.
	OwnerToken string
	// Seed is what to create; the zero value means SeedMinimal().
	Seed Seed
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NoPlexPass says the owner has no Plex Pass: terminating a stream
	// answers 401 and the account's subscription is inactive.
	NoPlexPass bool
	// PINPollInterval is the shortest gap allowed between two polls of one
	// PIN; closer polls get 429 code 1003. Default 1s.
	PINPollInterval time.Duration
}

// Server is one Plex Media Server of the owner.
type Server struct {
	// ID is plex.tv's numeric server id (serverId in share documents).
	ID int64
	// MachineID is the server's machineIdentifier (40 hex digits).
	MachineID string
	// Name is the server's friendlyName.
	Name string
	// Version is the PMS version string.
	Version string
	// Token is the server's own access token (resources accessToken).
	Token string
	// URL is where the fake serves this server's PMS routes (read only).
	URL string
	// Libraries are the server's library sections.
	Libraries []Library
}

// ForeignServer is a server another account owns and shares with the owner
// (a friend "sharing back"). plex.tv lists it in the owner's resources with
// owned=false, ownerId = OwnerID and sourceTitle = the owner's title, and in
// OwnerID's own resources as owned. The fake serves no PMS routes for it.
type ForeignServer struct {
	// MachineID is the server's machineIdentifier (40 hex digits).
	MachineID string
	// Name is the server's friendlyName.
	Name string
	// OwnerID is the plex.tv id of the account that owns the server.
	OwnerID int64
	// Version is the PMS version string.
	Version string
	// AccessToken is the token the owner uses with the server.
	AccessToken string
	// Address is the server's public IP address, its one (remote)
	// connection.
	Address string
}

// Library is a library section of a server.
type Library struct {
	// Key is the server's own section key (PMS Directory@key).
	Key string
	// SectionID is plex.tv's global section id (the id sharing wants).
	SectionID int64
	// Title is the section title.
	Title string
	// Type is movie, show, artist or photo.
	Type string
}

// Account is a plex.tv account: the owner, a friend, a Home member, a
// managed user or an account with no relation to the owner yet.
type Account struct {
	// ID is the plex.tv user id.
	ID int64
	// UUID is the account's 16-hex-digit uuid.
	UUID string
	// Username is empty for managed users.
	Username string
	// Email is empty for managed users.
	Email string
	// Title is the display name.
	Title string
	// Token is the account's plex.tv token.
	Token string
	// Thumb is the avatar URL.
	Thumb string
	// Home says the account is a member of the owner's Plex Home.
	Home bool
	// Managed says the account is a managed (restricted) Home user.
	Managed bool
	// Guest marks the Home guest account.
	Guest bool
	// Protected says the account has a Home PIN.
	Protected bool
	// Friend says a plex.tv friendship with the owner exists.
	Friend bool
	// EmailUnverified makes accepting an invite fail.
	EmailUnverified bool
	// PlexPass says the account has an active subscription (the owner's is
	// governed by Options.NoPlexPass).
	PlexPass bool
	// RestrictionProfile is set for managed users (e.g. little_kid).
	RestrictionProfile string
	// JoinedAt is when the account was created.
	JoinedAt time.Time
}

// Share gives one account (or a pending email invite) access to libraries of
// one server.
type Share struct {
	// ID is the share id (SharedServer@id, User/Server@id).
	ID int64
	// MachineID is the shared server.
	MachineID string
	// UserID is the invitee's plex.tv id; 0 for an invite to an email
	// address that has no account.
	UserID int64
	// InvitedEmail is the address (or username) the invite was sent to.
	InvitedEmail string
	// SectionIDs are plex.tv global section ids. In snapshots an
	// all-libraries share lists every current library.
	SectionIDs []int64
	// LibraryKeys are the same sections as server keys.
	LibraryKeys []string
	// AllLibraries shares every library, including future ones.
	AllLibraries bool
	// Pending says the invite is not accepted yet.
	Pending bool
	// AllowSync allows downloads.
	AllowSync bool
	// AllowCameraUpload allows camera upload.
	AllowCameraUpload bool
	// AllowChannels allows channels.
	AllowChannels bool
	// AllowSubtitleAdmin allows managing subtitles.
	AllowSubtitleAdmin bool
	// AllowTuners allows Live TV tuners.
	AllowTuners bool
	// FilterMovies is the movie restriction filter.
	FilterMovies string
	// FilterTelevision is the TV restriction filter.
	FilterTelevision string
	// FilterMusic is the music restriction filter.
	FilterMusic string
	// FilterPhotos is the photo restriction filter.
	FilterPhotos string
	// FilterAll is the filter for all types.
	FilterAll string
	// SkipFriendship says the share was made without a friendship.
	SkipFriendship bool
	// AccessToken is the user's token on this server.
	AccessToken string
	// InvitedAt is when the invite was made.
	InvitedAt time.Time
	// AcceptedAt is when it was accepted (zero while pending).
	AcceptedAt time.Time
}

// Session is a playing stream on a server.
type Session struct {
	// MachineID is the server (set by StartSession; used in seeds).
	MachineID string
	// ID is Session@id, the id used to terminate.
	ID string
	// Key is the sessionKey.
	Key string
	// AccountID is the SERVER account id: 1 for the owner, the plex.tv id
	// for everyone else.
	AccountID int64
	// Title is the item title (episode title for episodes).
	Title string
	// GrandparentTitle is the show title of an episode.
	GrandparentTitle string
	// Type is movie, episode, track or photo.
	Type string
	// RatingKey is the item's rating key; default a new item. Naming an
	// item the server already has (from a session or the history) plays
	// that item.
	RatingKey string
	// LibraryKey is the server section key of the item.
	LibraryKey string
	// VideoResolution is the resolution of the SOURCE: the version of the
	// item being played, "4k", "1080", "720" or "sd". GET
	// /library/metadata/{ratingKey} reports it; /status/sessions reports it
	// only when the stream is not transcoded. Empty: the item's first
	// version when the rating key is already known, else "1080".
	VideoResolution string
	// OtherVersion, when set, gives the item a second version of that
	// resolution, listed BEFORE the played one in
	// /library/metadata/{ratingKey} (a movie kept in 4K and in 1080p), so
	// that only Media@id tells which file is being played.
	OtherVersion string
	// Transcode says the stream is transcoded: the video is re-encoded to
	// OutputResolution and /status/sessions describes that output.
	Transcode bool
	// OutputResolution is what the transcoder delivers when Transcode is
	// set; default "1080" for a 4K source, else "720".
	OutputResolution string
	// Local says the player is on the LAN.
	Local bool
	// Player is the player title (e.g. "Living Room TV").
	Player string
	// Platform is the player platform (e.g. "Chrome", "Roku").
	Platform string
	// Address is the player's IP address.
	Address string
	// State is playing, paused or buffering.
	State string
	// ViewOffset is the position in milliseconds.
	ViewOffset int64
	// Duration is the length in milliseconds.
	Duration int64
	// Bandwidth is in kbps.
	Bandwidth int64
}

// Termination records a stream stopped through /status/sessions/terminate.
type Termination struct {
	// MachineID is the server.
	MachineID string
	// SessionID is the Session@id.
	SessionID string
	// Reason is the message sent to the player.
	Reason string
	// At is when it happened.
	At time.Time
}

// HistoryItem is one entry of a server's watch history.
type HistoryItem struct {
	// MachineID is the server (used in seeds; AddHistory sets it).
	MachineID string
	// ID is the history id (assigned when zero).
	ID int64
	// AccountID is the SERVER account id (1 = owner).
	AccountID int64
	// ViewedAt is when the item was watched.
	ViewedAt time.Time
	// Title is the item title.
	Title string
	// GrandparentTitle is the show of an episode.
	GrandparentTitle string
	// Type is movie, episode or track.
	Type string
	// RatingKey is the item's rating key.
	RatingKey string
	// LibraryKey is the server section key.
	LibraryKey string
	// VideoResolution is the source resolution of a video item, which GET
	// /library/metadata/{ratingKey} reports. Empty: the item's first
	// version when the rating key is already known, else "1080".
	VideoResolution string
	// DeviceID is the PMS device id.
	DeviceID int64
}

// Call is one request the fake received.
type Call struct {
	// At is when it arrived.
	At time.Time
	// Method, Path and RawQuery are from the request URL.
	Method, Path, RawQuery string
	// Header is a copy of the request headers.
	Header http.Header
	// Body is the request body.
	Body []byte
	// Status is the answered status; 0 when the fake never answered (hang).
	Status int
	// Route is the route name, e.g. "POST /api/v2/shared_servers"; empty
	// for an unknown route.
	Route string
	// TokenInQuery says X-Plex-Token came in the query string.
	TokenInQuery bool
}

// Fault changes how the fake answers matching requests.
type Fault struct {
	// Route selects requests: a route name ("GET /api/v2/pins/{id}"), a
	// literal "METHOD /path", a prefix ending in "*" ("GET /api/v2/*"), a
	// path without method (any method), or "" for every request.
	Route string
	// Status, when not 0, is answered instead of the real response.
	Status int
	// Body is sent with Status.
	Body string
	// Latency delays the answer (real or injected).
	Latency time.Duration
	// Count is how many requests the fault applies to; 0 = forever.
	Count int
	// Hang never answers; the request ends when the client gives up.
	Hang bool
}

// Seed is the initial state of a Fake.
type Seed struct {
	// Owner is the owner account (its token is replaced by
	// Options.OwnerToken).
	Owner Account
	// Servers are the owner's servers; the first one is served at the
	// base URL.
	Servers []Server
	// Accounts are all other accounts.
	Accounts []Account
	// Shares refer to Accounts by UserID and to Servers by MachineID.
	// Libraries may be given as SectionIDs or LibraryKeys; none means all.
	Shares []Share
	// Sessions are live streams (MachineID chooses the server).
	Sessions []Session
	// History is watch history (MachineID chooses the server).
	History []HistoryItem
	// ForeignServers are servers of other accounts (OwnerID among
	// Accounts) shared with the owner; empty fields get AddForeignServer's
	// defaults.
	ForeignServers []ForeignServer
}

// DemoOptions size SeedDemo.
type DemoOptions struct {
	// Servers is the number of servers; default 3.
	Servers int
	// Friends is the number of friends; default 40.
	Friends int
	// HistoryDays is how far back history goes; default 120.
	HistoryDays int
	// Seed makes the data deterministic; the same Seed gives the same data.
	Seed int64
	// Now anchors history times; default the current time.
	Now time.Time
}
