package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// DefaultMaxBodyBytes caps request bodies of state-changing routes unless a route says otherwise.
const DefaultMaxBodyBytes int64 = 1 << 20

// router registers routes on a ServeMux under the base path and applies the defaults every
// route needs: state-changing methods are wrapped in http.CrossOriginProtection and a body-size
// limit, so a new route cannot forget them.
type router struct {
	mux     *http.ServeMux
	base    string
	cop     *http.CrossOriginProtection
	maxBody int64
	// tooLarge answers a request whose declared Content-Length exceeds the limit.
	tooLarge http.Handler
	errs     []error
}

// routeOption adjusts one route's defaults.
type routeOption func(*routeSettings)

type routeSettings struct {
	maxBody int64
}

// withMaxBody sets a route's request-body limit in bytes (e.g. larger for a backup upload).
func withMaxBody(n int64) routeOption {
	return func(s *routeSettings) { s.maxBody = n }
}

// safeMethod reports whether a method must not change state (and so passes CSRF checks).
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// handle registers h for method and p, a ServeMux path pattern relative to the base path
// ("/", "/users/{id}", "/{$}"). GET also answers HEAD.
func (rt *router) handle(method, p string, h http.Handler, opts ...routeOption) {
	// "" names the base path itself (so "/manage" can redirect to "/manage/"); only under a base.
	if !strings.HasPrefix(p, "/") && (p != "" || rt.base == "") {
		rt.errs = append(rt.errs, fmt.Errorf("route %s %q: path must start with /", method, p))
		return
	}
	settings := routeSettings{maxBody: rt.maxBody}
	for _, o := range opts {
		o(&settings)
	}
	if !safeMethod(method) {
		h = rt.cop.Handler(limitBody(settings.maxBody, rt.tooLarge, h))
	}
	pattern := method + " " + rt.base + p
	if err := register(rt.mux, pattern, h); err != nil {
		rt.errs = append(rt.errs, err)
	}
}

// get registers a GET (and HEAD) route.
func (rt *router) get(p string, h http.HandlerFunc) { rt.handle(http.MethodGet, p, h) }

// post registers a POST route with CSRF protection and the body limit.
func (rt *router) post(p string, h http.HandlerFunc, opts ...routeOption) {
	rt.handle(http.MethodPost, p, h, opts...)
}

// err reports every registration error at once.
func (rt *router) err() error { return errors.Join(rt.errs...) }

// register turns ServeMux's panic on an invalid or conflicting pattern into an error, so New
// fails cleanly instead of crashing Caddy's provisioning.
func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("registering route %q: %v", pattern, v)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// limitBody caps the request body at n bytes. A request that announces a larger body goes to
// tooLarge at once; reading past n otherwise fails with *http.MaxBytesError, which parseForm
// turns into a 413.
func limitBody(n int64, tooLarge, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			tooLarge.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r)
	})
}
