package web

import (
	"net/http"
	"strings"
)

// ErrorView is the data of the error page (.Data of pages/error.html). It holds fixed texts
// chosen by status, never anything taken from the request, so an error page cannot reflect input.
type ErrorView struct {
	// Status is the HTTP status.
	Status int
	// Heading and Message are fixed texts for the status.
	Heading string
	Message string
}

// errorText returns the heading and message shown for a status.
func errorText(status int) (heading, message string) {
	switch status {
	case http.StatusBadRequest:
		return "Bad request", "The request could not be understood. Check what you entered and try again."
	case http.StatusUnauthorized:
		return "Sign-in required", "You need to sign in to see this page."
	case http.StatusForbidden:
		return "Forbidden", "This request was refused. If you submitted a form, reload the page and try again."
	case http.StatusNotFound:
		return "Not found", "There is nothing at this address."
	case http.StatusMethodNotAllowed:
		return "Method not allowed", "This address does not accept that kind of request."
	case http.StatusRequestEntityTooLarge:
		return "Request too large", "The data sent is larger than this page accepts."
	case http.StatusUnsupportedMediaType:
		return "Unsupported media type", "The data was sent in a format this address does not accept."
	case http.StatusTooManyRequests:
		return "Too many requests", "Please wait a moment and try again."
	case http.StatusServiceUnavailable:
		return "Unavailable", "The service is temporarily unavailable. Please try again shortly."
	case http.StatusInternalServerError:
		return "Something went wrong", "An unexpected error occurred on the server. It has been logged."
	case http.StatusInsufficientStorage:
		return "Data disk full", "The server's data disk is full. Nothing was changed. Ask the administrator to free disk space, then try again."
	}
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	return text, "The request could not be completed."
}

// publicErrorText returns the heading and message the invite handler shows for status: visitors
// of the public pages are not told how the server is run (a full data disk is only "try again
// later" to them).
func publicErrorText(status int) (heading, message string) {
	if status == http.StatusInsufficientStorage {
		return "Temporarily unavailable", "Your request could not be completed right now. Please try again later."
	}
	return errorText(status)
}

// ErrorData is the view of the error page for status (handlers pass it to render.Options).
func (m *Mux) ErrorData(r *http.Request, status int) any {
	heading, message := errorText(status)
	if m.mode == ModeInvite {
		heading, message = publicErrorText(status)
	}
	v := m.newView(r, ErrorView{Status: status, Heading: heading, Message: message})
	v.Nav = ""
	return v
}

// isAPIPath reports whether path is under {base}/api/ of an admin handler.
func (m *Mux) isAPIPath(path string) bool {
	return m.mode == ModeAdmin && strings.HasPrefix(path, m.base+"/api/")
}

// errorPage answers with status: the HTML error page, or a JSON error under {base}/api/.
func (m *Mux) errorPage(w http.ResponseWriter, r *http.Request, status int) {
	if m.isAPIPath(r.URL.Path) {
		if status == http.StatusInsufficientStorage {
			JSONError(w, status, apiDiskFullMessage)
			return
		}
		heading, _ := errorText(status)
		JSONError(w, status, strings.ToLower(heading))
		return
	}
	// Anonymous error pages are the same for everyone with the same status and app name: they
	// are rendered once and kept (a flood of refused requests then costs no template work).
	if v, ok := m.ErrorData(r, status).(View); ok && v.User == nil && len(v.Flashes) == 0 {
		m.renderer.CachedError(w, r, status, v)
		return
	}
	m.renderer.Error(w, r, status)
}

// Error answers r with status: the HTML error page (or its fragment for htmx), or
// {"error": "…"} for API requests. Outside a Mux it falls back to plain text.
func Error(w http.ResponseWriter, r *http.Request, status int) {
	if e := envFrom(r); e != nil {
		e.mux.errorPage(w, r, status)
		return
	}
	http.Error(w, http.StatusText(status), status)
}
