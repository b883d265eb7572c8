// Package plextest is a faithful, stateful fake of plex.tv, the Plex auth
// app (app.plex.tv/auth) and any number of Plex Media Servers, served over
// net/http. Tests, the product's demo mode and cmd/fakeplex use it.
//
// The fake speaks the formats of docs/plex-api.md and is deliberately as
// strict as the real services, so that client bugs show up in tests:
//
//   - plex.tv v2 routes (/api/v2/...) answer 400 code 1000 without an
//     X-Plex-Client-Identifier, 401 code 1001 without a valid token, and XML
//     unless the request says Accept: application/json. Where the reference
//     documents only the JSON form of a v2 route, a request without
//     Accept: application/json gets 406 (the real service would answer XML
//     a JSON client cannot parse).
//   - plex.tv v1 routes (/api/..., /users/account) are XML.
//   - The PMS answers XML by default and JSON on request; the owner token
//     and the server's own token are admin, a user's share token or plex.tv
//     token acts as that user, anything else gets 401.
//   - Sharing takes plex.tv GLOBAL section ids; server keys are refused.
//   - Retired routes answer 410 like plex.tv does.
//
// Routing: plex.tv routes and the FIRST server's PMS routes share the base
// URL; every server (the first included) is also served under
// /pms/<machineIdentifier>/. The auth app page is /auth.
//
// Route names (Call.Route, CallCount, Fault.Route, Retire) are the
// net/http.ServeMux patterns the fake registers, for example
// "GET /api/v2/pins/{id}" or "POST /api/v2/shared_servers". PMS routes
// are named without the /pms/<machineIdentifier> prefix ("GET /identity").
//
// Every method of Fake is safe for concurrent use. Nothing is shared between
// two Fake values.
//
// Choices where docs/plex-api.md is silent or UNCONFIRMED (each is also
// noted at its handler): invites to friends start pending and are accepted
// with the invitee's token, invites to Home members and managed users are
// accepted at once; a v1 invite with no libraries is refused and a v1 update
// with an empty list removes the share; accepting with an unverified email
// answers 403 code 1029; the legacy POST /api/home/users?title= answers
// the new managed user as a v1 User element; the legacy
// DELETE /api/invites/requested/{id} is served (not retired) and cancels
// pending shares only (server=1).
//
// Sessions and library items: every session and history entry names an
// item (its rating key) that joins the server's library and stays there.
// GET /library/metadata/{ratingKey} describes the item's versions (Media
// elements) as source files: the session's VideoResolution, and
// OtherVersion listed before it. In /status/sessions a transcoded stream's
// Media, Part and Stream describe the transcoder's output
// (OutputResolution) and keep only the ids of the source version, so that
// Media@id is the one link to the source, as on a real server (Tautulli
// matches them the same way). A user's token sees only items of the
// libraries shared with them (404 otherwise; UNCONFIRMED). EndSession is a
// player stopping (no Termination); UpdateSession moves a live session.
//
// Servers shared with the owner (share-back): AddForeignServer and
// Seed.ForeignServers give another account a server of its own, shared with
// the owner. GET /api/v2/resources lists it for the owner's token with
// owned=false, ownerId and sourceTitle, and for its owner as owned; sharing
// makes the two accounts friends. Whether removing the friendship also ends
// that share is UNCONFIRMED; the fake keeps it. No PMS routes are served for
// such a server.
//
// Clock: all times, including the PIN poll interval and PIN expiry, come
// from Options.Now; with a frozen clock a second poll of the same PIN always
// looks too fast.
package plextest
