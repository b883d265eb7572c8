package plextest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxBody caps the request bodies the fake reads.
const maxBody = 1 << 20

type ctxKey int

const serverCtxKey ctxKey = 1

// ServeHTTP logs the request, applies faults and retirements, then answers
// like plex.tv, the auth app or a PMS.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "fake: reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	handler, route, r := f.resolve(r)
	call := &Call{
		At:           f.now(),
		Method:       r.Method,
		Path:         r.URL.Path,
		RawQuery:     r.URL.RawQuery,
		Header:       r.Header.Clone(),
		Body:         body,
		Route:        route,
		TokenInQuery: queryHasKey(r.URL.RawQuery, "X-Plex-Token"),
	}
	if orig, ok := r.Context().Value(origPathKey).(string); ok {
		call.Path = orig
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	fault := f.takeFaultLocked(r.Method, call.Path, route)
	retired := f.isRetiredLocked(r.Method, call.Path, route)
	f.mu.Unlock()

	rec := &statusWriter{ResponseWriter: w}
	defer func() {
		f.mu.Lock()
		call.Status = rec.status
		f.mu.Unlock()
	}()

	if fault != nil {
		if fault.Latency > 0 && !f.wait(r.Context(), fault.Latency) {
			return
		}
		if fault.Hang {
			select {
			case <-r.Context().Done():
			case <-f.done:
			}
			return
		}
		if fault.Status != 0 {
			if fault.Body != "" {
				rec.Header().Set("Content-Type", sniffType(fault.Body))
			}
			rec.WriteHeader(fault.Status)
			_, _ = io.WriteString(rec, fault.Body)
			return
		}
	}
	if retired {
		writeResponse(rec, http.StatusGone, http.StatusGone, "This endpoint was deprecated and removed")
		return
	}
	if handler == nil {
		f.notFound(rec, r)
		return
	}
	handler.ServeHTTP(rec, r)
}

const origPathKey ctxKey = 2

// resolve finds the handler and route name; for /pms/<machineID>/… it
// rewrites the request to the PMS path and puts the server in the context.
func (f *Fake) resolve(r *http.Request) (http.Handler, string, *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/pms/"); ok {
		machineID, sub, _ := strings.Cut(rest, "/")
		f.mu.Lock()
		srv := f.serverLocked(machineID)
		f.mu.Unlock()
		if srv == nil {
			return nil, "", r
		}
		ctx := context.WithValue(r.Context(), serverCtxKey, machineID)
		ctx = context.WithValue(ctx, origPathKey, r.URL.Path)
		r2 := r.Clone(ctx)
		r2.URL.Path = "/" + sub
		r2.URL.RawPath = ""
		// ServeMux.Handler does not set path values; the mux itself serves
		// the request so that r.PathValue works.
		if _, pattern := f.pms.Handler(r2); pattern != "" {
			return f.pms, pattern, r2
		}
		return nil, "", r2
	}
	if _, pattern := f.base.Handler(r); pattern != "" {
		return f.base, pattern, r
	}
	return nil, "", r
}

// notFound answers an unknown route in the shape of its family.
func (f *Fake) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/v2/") {
		writeV2NotFound(w, r)
		return
	}
	writeV1NotFound(w)
}

func (f *Fake) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-f.done:
		return false
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// routeMatches reports whether sel selects a request (see Fault.Route).
func routeMatches(sel, method, path, route string) bool {
	if sel == "" {
		return true
	}
	if sel == route {
		return true
	}
	selMethod, selPath, hasMethod := strings.Cut(sel, " ")
	if !hasMethod {
		selMethod, selPath = "", sel
	}
	if selMethod != "" && selMethod != "*" && selMethod != method {
		return false
	}
	if prefix, ok := strings.CutSuffix(selPath, "*"); ok {
		routePath := ""
		if _, rp, ok := strings.Cut(route, " "); ok {
			routePath = rp
		}
		return strings.HasPrefix(path, prefix) || (routePath != "" && strings.HasPrefix(routePath, prefix))
	}
	if pathPatternMatch(selPath, path) {
		return true
	}
	_, routePath, _ := strings.Cut(route, " ")
	return route != "" && selPath == routePath
}

// Inject adds a fault. Faults apply in the order they were added; the first
// matching one is used.
func (f *Fake) Inject(fl Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	left := fl.Count
	if left <= 0 {
		left = -1
	}
	f.faults = append(f.faults, &activeFault{Fault: fl, left: left})
}

// ClearFaults removes every fault.
func (f *Fake) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

func (f *Fake) takeFaultLocked(method, path, route string) *Fault {
	for i, fl := range f.faults {
		if !routeMatches(fl.Route, method, path, route) {
			continue
		}
		out := fl.Fault
		if fl.left > 0 {
			fl.left--
			if fl.left == 0 {
				f.faults = slices.Delete(f.faults, i, i+1)
			}
		}
		return &out
	}
	return nil
}

// Retire makes a route answer 410 <Response code="410" status="This
// endpoint was deprecated and removed"/>, like plex.tv's removed routes.
// The selector syntax is Fault.Route's. DELETE /api/friends/{id},
// GET /api/invites/requested, GET /api/invites/requests and
// GET /api/v2/friends are retired from the start.
func (f *Fake) Retire(route string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.retired, route) {
		f.retired = append(f.retired, route)
	}
}

// Unretire undoes Retire for exactly that selector.
func (f *Fake) Unretire(route string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retired = slices.DeleteFunc(f.retired, func(s string) bool { return s == route })
}

func (f *Fake) isRetiredLocked(method, path, route string) bool {
	for _, sel := range f.retired {
		if sel != "" && routeMatches(sel, method, path, route) {
			return true
		}
	}
	return false
}

// Calls lists every request received, in arrival order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Call, 0, len(f.calls))
	for _, c := range f.calls {
		cc := *c
		cc.Header = c.Header.Clone()
		cc.Body = slices.Clone(c.Body)
		out = append(out, cc)
	}
	return out
}

// CallCount counts the requests whose Route equals route.
func (f *Fake) CallCount(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Route == route {
			n++
		}
	}
	return n
}

// ResetCalls forgets the call log.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// pathPatternMatch matches a path against a pattern whose {name} segments
// match any one segment.
func pathPatternMatch(pattern, path string) bool {
	if pattern == path {
		return true
	}
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] == "{$}" { // net/http's end-of-path marker: "/{$}" is "/" exactly, not any segment
			if xs[i] != "" {
				return false
			}
			continue
		}
		if strings.HasPrefix(ps[i], "{") && strings.HasSuffix(ps[i], "}") && xs[i] != "" {
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// sniffType picks the Content-Type of an injected body.
func sniffType(body string) string {
	t := strings.TrimSpace(body)
	switch {
	case strings.HasPrefix(t, "<"):
		return "text/xml;charset=utf-8"
	case strings.HasPrefix(t, "{"), strings.HasPrefix(t, "["):
		return "application/json; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}
