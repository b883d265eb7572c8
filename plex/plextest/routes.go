package plextest

import "net/http"

// routes builds the two muxes: base (plex.tv, auth app, first server's PMS)
// and pms (PMS routes for /pms/<machineIdentifier>/).
func (f *Fake) routes() (*http.ServeMux, *http.ServeMux) {
	base := http.NewServeMux()
	tv := map[string]http.HandlerFunc{
		// sign-in
		"POST /api/v2/pins":       f.handleCreatePIN,
		"GET /api/v2/pins/{id}":   f.handleGetPIN,
		"GET /api/v2/user":        f.handleV2User,
		"GET /users/account":      f.handleUsersAccount,
		"GET /users/account.json": f.handleUsersAccountJSON,
		"GET /api/v2/ping":        f.handlePing,
		// servers
		"GET /api/v2/resources":           f.handleResources,
		"GET /api/servers/{machineId}":    f.handleV1Server,
		"GET /api/v2/servers/{machineId}": f.handleV2Server,
		// users and shares (v1)
		"GET /api/users":                                      f.handleUsers,
		"GET /api/users/{$}":                                  f.handleUsers,
		"POST /api/users/validate":                            f.handleValidateUser,
		"GET /api/servers/{machineId}/shared_servers":         f.handleV1SharedServers,
		"GET /api/servers/{machineId}/shared_servers/{id}":    f.handleV1SharedServer,
		"POST /api/servers/{machineId}/shared_servers":        f.handleV1Invite,
		"PUT /api/servers/{machineId}/shared_servers/{id}":    f.handleV1UpdateShare,
		"DELETE /api/servers/{machineId}/shared_servers/{id}": f.handleV1DeleteShare,
		// shares (v2)
		"GET /api/v2/shared_servers/owned/accepted":           f.handleV2Accepted,
		"GET /api/v2/shared_servers/invites/owned/pending":    f.handleV2OwnedPending,
		"GET /api/v2/shared_servers/invites/received/pending": f.handleV2ReceivedPending,
		"POST /api/v2/shared_servers":                         f.handleV2Invite,
		"POST /api/v2/shared_servers/{id}":                    f.handleV2UpdateShare,
		"DELETE /api/v2/shared_servers/{id}":                  f.handleV2DeleteShare,
		"POST /api/v2/shared_servers/{id}/accept":             f.handleV2Accept,
		"DELETE /api/v2/sharings/{userId}":                    f.handleDeleteSharings,
		// pending invitations (v1): served by default, Retire-able
		"DELETE /api/invites/requested/{id}": f.handleV1CancelInvite,
		// retired by default (answered 410 before reaching these)
		"DELETE /api/friends/{id}":   f.handleRetired,
		"GET /api/invites/requested": f.handleRetired,
		"GET /api/invites/requests":  f.handleRetired,
		"GET /api/v2/friends":        f.handleRetired,
		// Home
		"GET /api/home/users":                f.handleHomeUsers,
		"POST /api/home/users":               f.handleV1CreateManaged,
		"GET /api/v2/home/users":             f.handleV2HomeUsers,
		"POST /api/v2/home/users/restricted": f.handleCreateManaged,
		"DELETE /api/v2/home/users/{id}":     f.handleV2DeleteHomeUser,
		"DELETE /api/home/users/{id}":        f.handleV1DeleteHomeUser,
		// auth app
		"GET /auth":        f.handleAuthPage,
		"GET /auth/{$}":    f.handleAuthPage,
		"POST /auth/claim": f.handleAuthClaim,
	}
	for pattern, h := range tv {
		base.Handle(pattern, h)
	}
	pms := http.NewServeMux()
	for pattern, h := range f.pmsRoutes() {
		base.Handle(pattern, h)
		pms.Handle(pattern, h)
	}
	return base, pms
}

func (f *Fake) pmsRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /{$}":                                     f.handlePMSRoot,
		"GET /identity":                                f.handleIdentity,
		"GET /library/sections":                        f.handleLibrarySections,
		"GET /status/sessions":                         f.handleSessions,
		"GET /status/sessions/terminate":               f.handleTerminate,
		"POST /status/sessions/terminate":              f.handleTerminate,
		"GET /status/sessions/history/all":             f.handleHistory,
		"GET /accounts":                                f.handleAccounts,
		"GET /library/metadata/{ratingKey}":            f.handleMetadata,
		"GET /library/metadata/{ratingKey}/thumb/{ts}": f.handleImage,
		"GET /library/metadata/{ratingKey}/art/{ts}":   f.handleImage,
	}
}

// handleRetired is reached only after Unretire of a default-retired route:
// the fake does not model those routes, so they are not found.
func (f *Fake) handleRetired(w http.ResponseWriter, r *http.Request) {
	f.notFound(w, r)
}
