package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Errors of admin management the UI and the API explain.
var (
	// errLastAdmin refuses a change that would leave no enabled admin with the admin role.
	errLastAdmin = errors.New("this would leave no enabled admin with the admin role")
	// errSelf refuses disabling, deleting or changing the role of oneself.
	errSelf = errors.New("you cannot do this to your own account; ask another admin")
)

// adminJSON is an admin in the REST API (never the password hash).
type adminJSON struct {
	ID          string     `json:"id"`
	Username    string     `json:"username"`
	Role        web.Role   `json:"role"`
	PlexLinked  bool       `json:"plex_linked"`
	HasPassword bool       `json:"has_password"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"created_at,omitzero"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

// toAdminJSON converts a stored admin.
func toAdminJSON(a storage.Admin) adminJSON {
	role, _ := web.ParseRole(a.Role)
	return adminJSON{ID: a.ID, Username: a.Username, Role: role, PlexLinked: a.PlexID != 0, HasPassword: a.PasswordHash != "",
		Disabled: a.Disabled, CreatedAt: a.CreatedAt, LastLoginAt: a.LastLoginAt}
}

// adminInput creates an admin (API body and form).
type adminInput struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// adminPatch changes an admin; nil fields stay.
type adminPatch struct {
	Role     *string `json:"role,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
	Password *string `json:"password,omitempty"`
}

// checkRole validates a role name for field.
func checkRole(role string) error {
	if _, ok := web.ParseRole(role); !ok {
		return &web.InputError{Field: "role", Message: "choose admin, moderator or auditor"}
	}
	return nil
}

// createAdmin validates in and stores a new admin. Validation errors are *web.InputError.
func (s *server) createAdmin(r *http.Request, actor web.Principal, in adminInput) (storage.Admin, error) {
	username := auth.NormalizeUsername(in.Username)
	var inv *auth.InvalidError
	if err := auth.CheckUsername(username); errors.As(err, &inv) {
		return storage.Admin{}, &web.InputError{Field: "username", Message: inv.Reason}
	}
	if err := checkRole(in.Role); err != nil {
		return storage.Admin{}, err
	}
	var weak *auth.WeakPasswordError
	if err := auth.CheckPasswordStrength(in.Password, username, s.core.common); errors.As(err, &weak) {
		return storage.Admin{}, &web.InputError{Field: "password", Message: weak.Reason}
	}
	hash, err := s.core.hasher.Hash(r.Context(), in.Password)
	if err != nil {
		return storage.Admin{}, err
	}
	now := s.now().UTC()
	a := storage.Admin{ID: storage.NewID(), Username: username, PasswordHash: hash, Role: in.Role, CreatedAt: now, UpdatedAt: now}
	if err := s.core.store.PutAdmin(a); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return storage.Admin{}, &web.InputError{Field: "username", Message: "this username is taken"}
		}
		return storage.Admin{}, err
	}
	s.record(r, storage.Event{Type: "admin.created", Actor: actor.Actor(),
		Message: fmt.Sprintf("admin %s created with the %s role", a.Username, a.Role)})
	return a, nil
}

// enabledAdmins counts enabled admins with the admin role, leaving out skip.
func enabledAdmins(tx *storage.Tx, skip string) (int, error) {
	list, err := tx.Admins().List()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range list {
		if a.ID != skip && a.Role == storage.RoleAdmin && !a.Disabled {
			n++
		}
	}
	return n, nil
}

// changeAdmin applies patch to admin id. Errors: *web.InputError, errSelf, errLastAdmin,
// storage.ErrNotFound.
func (s *server) changeAdmin(r *http.Request, actor web.Principal, id string, patch adminPatch) (storage.Admin, error) {
	if patch.Role != nil {
		if err := checkRole(*patch.Role); err != nil {
			return storage.Admin{}, err
		}
	}
	if (patch.Role != nil || patch.Disabled != nil) && id == actor.AdminID {
		return storage.Admin{}, errSelf
	}
	var hash string
	if patch.Password != nil {
		target, err := s.core.store.GetAdmin(id)
		if err != nil {
			return storage.Admin{}, err
		}
		var weak *auth.WeakPasswordError
		if err := auth.CheckPasswordStrength(*patch.Password, target.Username, s.core.common); errors.As(err, &weak) {
			return storage.Admin{}, &web.InputError{Field: "password", Message: weak.Reason}
		}
		if hash, err = s.core.hasher.Hash(r.Context(), *patch.Password); err != nil {
			return storage.Admin{}, err
		}
	}
	now := s.now().UTC()
	var out storage.Admin
	var endSessions bool
	err := s.core.store.Update(func(tx *storage.Tx) error {
		endSessions = false
		a, err := tx.Admins().Get(id)
		if err != nil {
			return err
		}
		wasAdmin := a.Role == storage.RoleAdmin && !a.Disabled
		if patch.Role != nil {
			a.Role = *patch.Role
		}
		if patch.Disabled != nil {
			a.Disabled = *patch.Disabled
			endSessions = a.Disabled
		}
		if hash != "" {
			a.PasswordHash = hash
			endSessions = true
		}
		if wasAdmin && (a.Role != storage.RoleAdmin || a.Disabled) {
			n, err := enabledAdmins(tx, a.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return errLastAdmin
			}
		}
		a.UpdatedAt = now
		out = a
		if endSessions {
			if _, err := tx.Sessions().DeleteByAdmin(a.ID); err != nil {
				return err
			}
		}
		return tx.Admins().Put(a)
	})
	if err != nil {
		return storage.Admin{}, err
	}
	var changes []string
	if patch.Role != nil {
		changes = append(changes, "role "+*patch.Role)
	}
	if patch.Disabled != nil {
		changes = append(changes, map[bool]string{true: "disabled", false: "enabled"}[*patch.Disabled])
	}
	if patch.Password != nil {
		changes = append(changes, "password reset")
	}
	s.record(r, storage.Event{Type: "admin.changed", Actor: actor.Actor(),
		Message: fmt.Sprintf("admin %s changed: %s", out.Username, strings.Join(changes, ", "))})
	return out, nil
}

// removeAdmin deletes admin id and ends their sessions. Errors: errSelf, errLastAdmin,
// storage.ErrNotFound.
func (s *server) removeAdmin(r *http.Request, actor web.Principal, id string) error {
	if id == actor.AdminID {
		return errSelf
	}
	var name string
	err := s.core.store.Update(func(tx *storage.Tx) error {
		a, err := tx.Admins().Get(id)
		if err != nil {
			return err
		}
		name = a.Username
		if a.Role == storage.RoleAdmin && !a.Disabled {
			n, err := enabledAdmins(tx, a.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return errLastAdmin
			}
		}
		if err := tx.Admins().Delete(id); err != nil {
			return err
		}
		_, err = tx.Sessions().DeleteByAdmin(id)
		return err
	})
	if err != nil {
		return err
	}
	s.record(r, storage.Event{Type: "admin.deleted", Actor: actor.Actor(), Message: "admin " + name + " deleted"})
	return nil
}

// adminsData is the data of pages/admin/admins.html.
type adminsData struct {
	Admins []adminJSON
	// SelfID marks the signed-in admin's row.
	SelfID string
	// Form is the create form as entered; Errors its field errors.
	Form   adminInput
	Errors map[string]string
	Roles  []web.Role
}

// adminsRoutes registers the admins page, the account page and the admins API.
func (s *server) adminsRoutes() {
	m := s.mux
	m.Page(http.MethodGet, "/admins", web.RoleAdmin, s.adminsPage)
	m.Page(http.MethodPost, "/admins", web.RoleAdmin, s.adminsCreate)
	m.Page(http.MethodPost, "/admins/{id}/role", web.RoleAdmin, s.adminsSetRole)
	m.Page(http.MethodPost, "/admins/{id}/disable", web.RoleAdmin, s.adminsSetDisabled(true))
	m.Page(http.MethodPost, "/admins/{id}/enable", web.RoleAdmin, s.adminsSetDisabled(false))
	m.Page(http.MethodPost, "/admins/{id}/delete", web.RoleAdmin, s.adminsDelete)
	m.Page(http.MethodPost, "/admins/{id}/signout", web.RoleAdmin, s.adminsSignOut)

	idParam := web.Param{Name: "id", In: web.ParamPath, Description: "the admin's id"}
	m.API(http.MethodGet, "/admins", web.RoleAdmin, s.apiAdminsList, web.APIDoc{
		Summary: "List admins", Tags: []string{"admins"}, Response: []adminJSON{}})
	m.API(http.MethodPost, "/admins", web.RoleAdmin, s.apiAdminsCreate, web.APIDoc{
		Summary: "Create an admin with a password", Tags: []string{"admins"}, Request: adminInput{},
		Response: adminJSON{}, Status: http.StatusCreated})
	m.API(http.MethodPatch, "/admins/{id}", web.RoleAdmin, s.apiAdminsPatch, web.APIDoc{
		Summary: "Change an admin's role, disable or enable them, or reset their password", Tags: []string{"admins"},
		Params: []web.Param{idParam}, Request: adminPatch{}, Response: adminJSON{}, Errors: []int{404, 409}})
	m.API(http.MethodDelete, "/admins/{id}", web.RoleAdmin, s.apiAdminsDelete, web.APIDoc{
		Summary: "Delete an admin (never the last one)", Tags: []string{"admins"}, Params: []web.Param{idParam},
		Errors: []int{404, 409}})
}

// renderAdmins renders the admins page with status.
func (s *server) renderAdmins(w http.ResponseWriter, r *http.Request, status int, form adminInput, errs map[string]string) {
	list, err := s.core.store.ListAdmins()
	if err != nil {
		s.serverError(w, r, "listing admins", err)
		return
	}
	p, _ := web.CurrentPrincipal(r)
	data := adminsData{SelfID: p.AdminID, Form: adminInput{Username: form.Username, Role: form.Role}, Errors: errs, Roles: web.Roles()}
	if data.Form.Role == "" {
		data.Form.Role = storage.RoleModerator
	}
	for _, a := range list {
		data.Admins = append(data.Admins, toAdminJSON(a))
	}
	web.RenderStatus(w, r, status, "admin/admins", data)
}

// adminsPage answers GET {base}/admins.
func (s *server) adminsPage(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) {
		return
	}
	s.renderAdmins(w, r, http.StatusOK, adminInput{}, nil)
}

// needCore answers 503 when there is no store behind the admin pages.
func (s *server) needCore(w http.ResponseWriter, r *http.Request) bool {
	if s.core == nil {
		web.Error(w, r, http.StatusServiceUnavailable)
		return false
	}
	return true
}

// adminsCreate answers POST {base}/admins.
func (s *server) adminsCreate(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) || !web.ParseForm(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	in := adminInput{Username: r.PostFormValue("username"), Role: r.PostFormValue("role"), Password: r.PostFormValue("password")}
	if in.Password != r.PostFormValue("confirm") {
		s.renderAdmins(w, r, http.StatusBadRequest, in, map[string]string{"confirm": "The two passwords differ."})
		return
	}
	a, err := s.createAdmin(r, p, in)
	var inv *web.InputError
	if errors.As(err, &inv) {
		s.renderAdmins(w, r, http.StatusBadRequest, in, map[string]string{inv.Field: sentence(inv.Message)})
		return
	}
	if err != nil {
		s.serverError(w, r, "creating an admin", err)
		return
	}
	web.Flash(w, r, web.FlashSuccess, "Admin "+a.Username+" created.")
	web.Redirect(w, r, "/admins")
}

// sentence capitalises a message's first letter and ends it with a period.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// adminActionDone answers a row action of the admins page: a flash and back to the list.
func (s *server) adminActionDone(w http.ResponseWriter, r *http.Request, err error, success string) {
	var inv *web.InputError
	switch {
	case err == nil:
		web.Flash(w, r, web.FlashSuccess, success)
	case errors.Is(err, storage.ErrNotFound):
		web.Error(w, r, http.StatusNotFound)
		return
	case errors.Is(err, errLastAdmin), errors.Is(err, errSelf):
		web.Flash(w, r, web.FlashError, sentence(err.Error()))
	case errors.As(err, &inv):
		web.Flash(w, r, web.FlashError, sentence(inv.Message))
	default:
		s.serverError(w, r, "changing an admin", err)
		return
	}
	web.Redirect(w, r, "/admins")
}

// adminsSetRole answers POST {base}/admins/{id}/role.
func (s *server) adminsSetRole(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) || !web.ParseForm(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	role := r.PostFormValue("role")
	a, err := s.changeAdmin(r, p, r.PathValue("id"), adminPatch{Role: &role})
	s.adminActionDone(w, r, err, fmt.Sprintf("%s is now %s.", a.Username, role))
}

// adminsSetDisabled answers POST {base}/admins/{id}/disable and …/enable.
func (s *server) adminsSetDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.needCore(w, r) {
			return
		}
		p, _ := web.CurrentPrincipal(r)
		a, err := s.changeAdmin(r, p, r.PathValue("id"), adminPatch{Disabled: &disabled})
		s.adminActionDone(w, r, err, fmt.Sprintf("%s is %s.", a.Username, map[bool]string{true: "disabled", false: "enabled"}[disabled]))
	}
}

// adminsDelete answers POST {base}/admins/{id}/delete.
func (s *server) adminsDelete(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	err := s.removeAdmin(r, p, r.PathValue("id"))
	s.adminActionDone(w, r, err, "Admin deleted.")
}

// adminsSignOut answers POST {base}/admins/{id}/signout: ends every session of that admin.
func (s *server) adminsSignOut(w http.ResponseWriter, r *http.Request) {
	if !s.needCore(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	a, err := s.core.store.GetAdmin(r.PathValue("id"))
	if err == nil {
		var n int
		if n, err = s.core.sessions.DeleteAll(a.ID); err == nil {
			s.record(r, storage.Event{Type: "admin.signed_out_everywhere", Actor: p.Actor(),
				Message: fmt.Sprintf("%s was signed out everywhere (%d sessions)", a.Username, n)})
		}
	}
	s.adminActionDone(w, r, err, a.Username+" is signed out everywhere.")
}

// apiAdminError answers an admin-management error in JSON.
func (s *server) apiAdminError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *web.InputError
	switch {
	case errors.As(err, &inv):
		web.BadInput(w, inv.Field, inv.Message)
	case errors.Is(err, storage.ErrNotFound):
		web.JSONError(w, http.StatusNotFound, "no such admin")
	case errors.Is(err, errLastAdmin), errors.Is(err, errSelf):
		web.JSONError(w, http.StatusConflict, err.Error())
	default:
		web.ServerError(w, r, s.logger, "admin API", err)
	}
}

// apiAdminsList answers GET {base}/api/v1/admins.
func (s *server) apiAdminsList(w http.ResponseWriter, r *http.Request) {
	if !s.apiNeedCore(w) {
		return
	}
	list, err := s.core.store.ListAdmins()
	if err != nil {
		s.apiAdminError(w, r, err)
		return
	}
	out := make([]adminJSON, 0, len(list))
	for _, a := range list {
		out = append(out, toAdminJSON(a))
	}
	web.JSON(w, http.StatusOK, out)
}

// apiNeedCore answers 503 without a store.
func (s *server) apiNeedCore(w http.ResponseWriter) bool {
	if s.core == nil {
		web.JSONError(w, http.StatusServiceUnavailable, "no database configured")
		return false
	}
	return true
}

// apiAdminsCreate answers POST {base}/api/v1/admins.
func (s *server) apiAdminsCreate(w http.ResponseWriter, r *http.Request) {
	var in adminInput
	if !s.apiNeedCore(w) || !web.DecodeJSON(w, r, &in) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	a, err := s.createAdmin(r, p, in)
	if err != nil {
		s.apiAdminError(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, toAdminJSON(a))
}

// apiAdminsPatch answers PATCH {base}/api/v1/admins/{id}.
func (s *server) apiAdminsPatch(w http.ResponseWriter, r *http.Request) {
	var patch adminPatch
	if !s.apiNeedCore(w) || !web.DecodeJSON(w, r, &patch) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	a, err := s.changeAdmin(r, p, r.PathValue("id"), patch)
	if err != nil {
		s.apiAdminError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toAdminJSON(a))
}

// apiAdminsDelete answers DELETE {base}/api/v1/admins/{id}.
func (s *server) apiAdminsDelete(w http.ResponseWriter, r *http.Request) {
	if !s.apiNeedCore(w) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	if err := s.removeAdmin(r, p, r.PathValue("id")); err != nil {
		s.apiAdminError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
