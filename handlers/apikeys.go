package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// apiKeyJSON is an API key in the REST API and on the page (never the key or its hash).
type apiKeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       web.Role   `json:"role"`
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at,omitzero"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// toAPIKeyJSON converts a stored key.
func toAPIKeyJSON(k storage.APIKey) apiKeyJSON {
	role, _ := web.ParseRole(k.Role)
	return apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Role: role, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt,
		LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

// apiKeyInput creates a key.
type apiKeyInput struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// apiKeyCreated is the answer to creating a key: the key itself, shown this once.
type apiKeyCreated struct {
	// Key is the secret to send as "Authorization: Bearer <key>". It cannot be shown again.
	Key    string     `json:"key"`
	APIKey apiKeyJSON `json:"api_key"`
}

// apiKeysData is the data of pages/admin/apikeys.html.
type apiKeysData struct {
	Keys []apiKeyJSON
	// Created is the key just created, shown once.
	Created *apiKeyCreated
	Form    apiKeyInput
	Errors  map[string]string
	Roles   []web.Role
}

// apiKeysRoutes registers the API keys page and API.
func (s *server) apiKeysRoutes() {
	m := s.mux
	m.Page(http.MethodGet, "/api-keys", web.RoleAdmin, s.apiKeysPage)
	m.Page(http.MethodPost, "/api-keys", web.RoleAdmin, s.apiKeysCreate)
	m.Page(http.MethodPost, "/api-keys/{id}/revoke", web.RoleAdmin, s.apiKeysRevoke)
	m.API(http.MethodGet, "/api-keys", web.RoleAdmin, s.apiKeysList, web.APIDoc{
		Summary: "List API keys (without their secrets)", Tags: []string{"api keys"}, Response: []apiKeyJSON{}})
	m.API(http.MethodPost, "/api-keys", web.RoleAdmin, s.apiKeysAPICreate, web.APIDoc{
		Summary: "Create an API key; the answer holds the key, shown this once", Tags: []string{"api keys"},
		Request: apiKeyInput{}, Response: apiKeyCreated{}, Status: http.StatusCreated})
	m.API(http.MethodDelete, "/api-keys/{id}", web.RoleAdmin, s.apiKeysAPIRevoke, web.APIDoc{
		Summary: "Revoke an API key", Tags: []string{"api keys"},
		Params: []web.Param{{Name: "id", In: web.ParamPath, Description: "the key's id"}}, Errors: []int{404}})
}

// createKey validates in and creates a key; validation errors are *web.InputError.
func (s *server) createKey(r *http.Request, p web.Principal, in apiKeyInput) (string, storage.APIKey, error) {
	if err := checkRole(in.Role); err != nil {
		return "", storage.APIKey{}, err
	}
	key, rec, err := s.core.keys.Create(in.Name, in.Role, p.Actor())
	var inv *auth.InvalidError
	if errors.As(err, &inv) {
		return "", storage.APIKey{}, &web.InputError{Field: inv.Field, Message: strings.TrimSuffix(strings.ToLower(inv.Reason[:1])+inv.Reason[1:], ".")}
	}
	if err != nil {
		return "", storage.APIKey{}, err
	}
	s.record(r, storage.Event{Type: "apikey.created", Actor: p.Actor(),
		Message: "API key " + rec.Name + " (" + rec.Prefix + "…) created with the " + rec.Role + " role"})
	return key, rec, nil
}

// revokeKey revokes key id.
func (s *server) revokeKey(r *http.Request, p web.Principal, id string) (storage.APIKey, error) {
	rec, err := s.core.keys.Revoke(id)
	if err != nil {
		return storage.APIKey{}, err
	}
	s.record(r, storage.Event{Type: "apikey.revoked", Actor: p.Actor(), Message: "API key " + rec.Name + " (" + rec.Prefix + "…) revoked"})
	return rec, nil
}

// renderAPIKeys renders the page with status.
func (s *server) renderAPIKeys(w http.ResponseWriter, r *http.Request, status int, data apiKeysData) {
	keys, err := s.core.keys.List()
	if err != nil {
		s.serverError(w, r, "listing API keys", err)
		return
	}
	for _, k := range keys {
		data.Keys = append(data.Keys, toAPIKeyJSON(k))
	}
	data.Roles = web.Roles()
	if data.Form.Role == "" {
		data.Form.Role = storage.RoleAuditor
	}
	web.RenderStatus(w, r, status, "admin/apikeys", data)
}

// apiKeysPage answers GET {base}/api-keys.
func (s *server) apiKeysPage(w http.ResponseWriter, r *http.Request) {
	if s.needCore(w, r) {
		s.renderAPIKeys(w, r, http.StatusOK, apiKeysData{})
	}
}

// apiKeysCreate answers POST {base}/api-keys: the page shows the new key once (no redirect, and
// responses are never cached).
func (s *server) apiKeysCreate(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) || !web.ParseForm(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	in := apiKeyInput{Name: r.PostFormValue("name"), Role: r.PostFormValue("role")}
	key, rec, err := s.createKey(r, p, in)
	var inv *web.InputError
	if errors.As(err, &inv) {
		s.renderAPIKeys(w, r, http.StatusBadRequest, apiKeysData{Form: in, Errors: map[string]string{inv.Field: sentence(inv.Message)}})
		return
	}
	if err != nil {
		s.serverError(w, r, "creating an API key", err)
		return
	}
	s.renderAPIKeys(w, r, http.StatusCreated, apiKeysData{Created: &apiKeyCreated{Key: key, APIKey: toAPIKeyJSON(rec)}})
}

// apiKeysRevoke answers POST {base}/api-keys/{id}/revoke.
func (s *server) apiKeysRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	rec, err := s.revokeKey(r, p, r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		s.serverError(w, r, "revoking an API key", err)
		return
	}
	web.Flash(w, r, web.FlashSuccess, "API key "+rec.Name+" revoked.")
	web.Redirect(w, r, "/api-keys")
}

// apiKeysList answers GET {base}/api/v1/api-keys.
func (s *server) apiKeysList(w http.ResponseWriter, r *http.Request) {
	if !s.apiNeedCore(w) {
		return
	}
	keys, err := s.core.keys.List()
	if err != nil {
		s.apiAdminError(w, r, err)
		return
	}
	out := make([]apiKeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, toAPIKeyJSON(k))
	}
	web.JSON(w, http.StatusOK, out)
}

// apiKeysAPICreate answers POST {base}/api/v1/api-keys.
func (s *server) apiKeysAPICreate(w http.ResponseWriter, r *http.Request) {
	var in apiKeyInput
	if !s.apiNeedCore(w) || !web.DecodeJSON(w, r, &in) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	key, rec, err := s.createKey(r, p, in)
	if err != nil {
		s.apiAdminError(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, apiKeyCreated{Key: key, APIKey: toAPIKeyJSON(rec)})
}

// apiKeysAPIRevoke answers DELETE {base}/api/v1/api-keys/{id}.
func (s *server) apiKeysAPIRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.apiNeedCore(w) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	if _, err := s.revokeKey(r, p, r.PathValue("id")); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			web.JSONError(w, http.StatusNotFound, "no such API key")
			return
		}
		s.apiAdminError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
