package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
)

// healthTimeout bounds how long GET /healthz waits for Deps.Health.
const healthTimeout = 10 * time.Second

// healthz answers GET {base}/healthz with Deps.Health's report: 200 when its status is "ok",
// 503 otherwise. The invite handler is public, so there only the status is shown; the per-check
// details (which may name internal hosts) are left to the admin handler.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	report := HealthReport{Status: HealthOK}
	if s.deps.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		report = s.deps.Health(ctx)
		cancel()
	}
	if report.Status == "" {
		report.Status = "unknown"
	}
	if s.cfg.Mode != ModeAdmin {
		report.Checks = nil
	}
	status := http.StatusOK
	if report.Status != HealthOK {
		status = http.StatusServiceUnavailable
	}
	web.JSON(w, status, report)
}
