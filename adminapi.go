package plexmanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/plex-manager/caddy-plex-manager/handlers"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI is the `admin.api.plex_manager` module: endpoints under /plex_manager/ on Caddy's admin
// listener (localhost by default), for operators and the `caddy plex-manager` command.
//
//	GET  /plex_manager/status      the running app's version, data directory, demo URL and workers
//	GET  /plex_manager/backup      an online, consistent backup of the store (Badger backup format)
//	POST /plex_manager/setup-code  a fresh one-time setup code while no admin exists (409 after)
//	GET  /plex_manager/routes      every route of every plex_manager handler of the running config
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
		{Pattern: "/plex_manager/routes", Handler: caddy.AdminHandlerFunc(a.handleRoutes)},
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
	// Disk is the data disk's free space and the store's write threshold (see README "A full data
	// disk").
	Disk storage.DiskSpace `json:"disk"`
	// DiskAlert is a sentence when the disk is nearly full or full ("" otherwise).
	DiskAlert string `json:"disk_alert,omitempty"`
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
	if rep.Disk, err = app.store.store.DiskSpace(); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: fmt.Errorf("reading the free space: %w", err)}
	}
	rep.DiskAlert = rep.Disk.Describe()
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

// routeReport is one route of GET /plex_manager/routes: what a running plex_manager handler serves,
// as its router registered it (not as the source reads).
type routeReport struct {
	// Server is the name of the HTTP server in the config ("srv0").
	Server string `json:"server"`
	// Hosts are the host matchers of the routes that lead to the handler (empty: any host).
	Hosts []string `json:"hosts,omitempty"`
	// Mode and BasePath are the handler's.
	Mode     string `json:"mode"`
	BasePath string `json:"base_path"`
	// Method is the HTTP method (GET routes answer HEAD too).
	Method string `json:"method"`
	// Pattern is relative to the base path (API routes: relative to {base}/api/v1).
	Pattern string `json:"pattern"`
	// Path is the full path pattern (base path and API prefix included).
	Path string `json:"path"`
	// Kind is "page", "api", "public" or "open".
	Kind string `json:"kind"`
	// MinRole is the least role admitted ("" for public and open routes).
	MinRole string `json:"min_role,omitempty"`
	// CSRF reports whether cross-origin browser requests are refused (state-changing methods).
	CSRF bool `json:"csrf"`
	// MaxBody is the request-body limit in bytes of a state-changing route.
	MaxBody int64 `json:"max_body,omitempty"`
}

// handleRoutes answers GET /plex_manager/routes: the routes of every provisioned plex_manager
// handler of the running config, found by walking its HTTP servers' routes (subroutes, error routes
// and named routes included), in server-name and config order.
func (a adminAPI) handleRoutes(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
	out := []routeReport{}
	appIface, err := caddy.ActiveContext().AppIfConfigured("http")
	if err == nil {
		httpApp, ok := appIface.(*caddyhttp.App)
		if !ok {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: fmt.Errorf("http app has unexpected type %T", appIface)}
		}
		for _, name := range slices.Sorted(maps.Keys(httpApp.Servers)) {
			srv := httpApp.Servers[name]
			visit := func(h *Handler, hosts []string) {
				routes, ok := handlers.Routes(h.inner)
				if !ok {
					return
				}
				for _, ri := range routes {
					out = append(out, routeReport{Server: name, Hosts: hosts, Mode: h.Mode, BasePath: h.BasePath,
						Method: ri.Method, Pattern: ri.Pattern, Path: ri.Path, Kind: ri.Kind, MinRole: ri.Min.String(),
						CSRF: ri.CSRF, MaxBody: ri.MaxBody})
				}
			}
			walkRoutes(srv.Routes, nil, visit)
			if srv.Errors != nil {
				walkRoutes(srv.Errors.Routes, nil, visit)
			}
			for _, rn := range slices.Sorted(maps.Keys(srv.NamedRoutes)) {
				if route := srv.NamedRoutes[rn]; route != nil {
					walkRoutes(caddyhttp.RouteList{*route}, nil, visit)
				}
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(out)
}

// walkRoutes calls visit for every plex_manager handler in routes and the subroutes below them,
// with the host matchers of the routes that lead there (a route's own host matchers replace those
// of the routes around it).
func walkRoutes(routes caddyhttp.RouteList, hosts []string, visit func(*Handler, []string)) {
	for _, route := range routes {
		routeHosts := hosts
		if own := hostsOf(route.MatcherSets); len(own) > 0 {
			routeHosts = own
		}
		for _, mh := range route.Handlers {
			switch h := mh.(type) {
			case *Handler:
				visit(h, routeHosts)
			case *caddyhttp.Subroute:
				walkRoutes(h.Routes, routeHosts, visit)
				if h.Errors != nil {
					walkRoutes(h.Errors.Routes, routeHosts, visit)
				}
			}
		}
	}
}

// hostsOf returns the hosts of the host matchers in sets.
func hostsOf(sets caddyhttp.MatcherSets) []string {
	var out []string
	for _, set := range sets {
		for _, m := range set {
			switch hm := m.(type) {
			case caddyhttp.MatchHost:
				out = append(out, hm...)
			case *caddyhttp.MatchHost:
				out = append(out, *hm...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Interface guard.
var _ caddy.AdminRouter = adminAPI{}
