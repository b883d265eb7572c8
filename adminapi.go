package plexmanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI is the `admin.api.plex_manager` module: endpoints under /plex_manager/ on Caddy's admin
// listener (localhost by default), for operators and the `caddy plex-manager` command.
//
//	GET /plex_manager/status   the running app's version, data directory, demo URL and workers
//	GET  /plex_manager/backup      an online, consistent backup of the store (Badger backup format)
//	POST /plex_manager/setup-code  a fresh one-time setup code while no admin exists (409 after)
//
// The admin endpoint already controls the whole server (it can load any config), so handing out the
// setup code there gives nothing away; it helps operators who cannot read the log.
type adminAPI struct{}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.plex_manager",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Routes returns the admin routes.
func (a adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/plex_manager/status", Handler: caddy.AdminHandlerFunc(a.handleStatus)},
		{Pattern: "/plex_manager/backup", Handler: caddy.AdminHandlerFunc(a.handleBackup)},
		{Pattern: "/plex_manager/setup-code", Handler: caddy.AdminHandlerFunc(a.handleSetupCode)},
	}
}

// currentApp finds the plex_manager app of the running config.
func currentApp() (*App, error) {
	appIface, err := caddy.ActiveContext().AppIfConfigured("plex_manager")
	if err != nil {
		return nil, caddy.APIError{HTTPStatus: http.StatusNotFound, Err: errors.New("plex_manager is not configured")}
	}
	app, ok := appIface.(*App)
	if !ok || app.store == nil {
		return nil, caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: errors.New("plex_manager is not ready")}
	}
	return app, nil
}

// statusReport is the body of GET /plex_manager/status.
type statusReport struct {
	Version string `json:"version"`
	DataDir string `json:"data_dir"`
	Demo    bool   `json:"demo"`
	DemoURL string `json:"demo_plex_url,omitempty"`
	Workers int    `json:"workers"`
	// ClientID is the X-Plex-Client-Identifier this instance uses with Plex (stable across restarts).
	ClientID string `json:"client_id"`
	// Starts counts the configurations loaded on this data directory.
	Starts int `json:"starts"`
}

func (a adminAPI) handleStatus(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
	app, err := currentApp()
	if err != nil {
		return err
	}
	rep := statusReport{Version: Version, DataDir: app.resolved.dataDir, Demo: app.Demo, Workers: app.runningWorkers()}
	if rep.ClientID, err = app.store.store.ClientID(); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: fmt.Errorf("reading the client id: %w", err)}
	}
	starts, err := app.store.store.ListEvents(storage.EventQuery{Type: EventConfigLoaded, Limit: 1 << 20})
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: fmt.Errorf("reading events: %w", err)}
	}
	rep.Starts = len(starts)
	if app.demo != nil {
		rep.DemoURL = app.demo.url
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(rep)
}

func (a adminAPI) handleBackup(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
	app, err := currentApp()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="plex_manager-%s.bak"`, time.Now().UTC().Format("20060102T150405Z")))
	if _, err := app.store.store.Backup(w); err != nil {
		// Headers are gone already; the truncated body fails restore's checks.
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: fmt.Errorf("backup: %w", err)}
	}
	return nil
}

func (a adminAPI) handleSetupCode(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
	app, err := currentApp()
	if err != nil {
		return err
	}
	code, err := app.issueSetupCode()
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
	}
	if code == "" {
		return caddy.APIError{HTTPStatus: http.StatusConflict, Err: errors.New("setup is done: an admin exists")}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(map[string]string{"setup_code": code})
}

// Interface guard.
var _ caddy.AdminRouter = adminAPI{}
