package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// errorPageName is the page (pages/error.html) used for every error response.
const errorPageName = "error"

// errorView is the data of the error page. It holds fixed texts chosen by status, never anything
// taken from the request, so an error page cannot reflect input.
type errorView struct {
	Status  int
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
	case http.StatusTooManyRequests:
		return "Too many requests", "Please wait a moment and try again."
	case http.StatusServiceUnavailable:
		return "Unavailable", "The service is temporarily unavailable. Please try again shortly."
	case http.StatusInternalServerError:
		return "Something went wrong", "An unexpected error occurred on the server. It has been logged."
	}
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	return text, "The request could not be completed."
}

// errorData is the render.Options.ErrorData hook: the view for the error page.
func (s *server) errorData(_ *http.Request, status int) any {
	heading, message := errorText(status)
	return s.newView("", errorView{Status: status, Heading: heading, Message: message})
}

// errorPage answers with status: the HTML error page, or JSON for API requests.
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, status int) {
	if s.isAPIRequest(r) {
		heading, _ := errorText(status)
		writeJSONError(w, status, strings.ToLower(heading))
		return
	}
	s.render.Error(w, r, status)
}

// isAPIRequest reports whether r is for the REST API under {base}/api/.
func (s *server) isAPIRequest(r *http.Request) bool {
	return s.cfg.Mode == ModeAdmin && strings.HasPrefix(r.URL.Path, s.cfg.BasePath+"/api/")
}

// notFound answers 404.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound)
}

// writeJSON encodes v with status. Encoding happens before anything is written, so a value that
// cannot be encoded becomes a clean 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"error":"internal server error"}` + "\n")
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// apiError is the body of every API error: {"error": "…"}.
type apiError struct {
	Error string `json:"error"`
}

// writeJSONError answers {"error": msg} with status. msg must not contain secrets or raw input
// beyond a field name.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// parseForm parses a urlencoded or multipart form body within the route's size limit. On failure
// it answers 413 (too large) or 400 and returns false.
func (s *server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	var err error
	// ParseMultipartForm drops ParseForm's error (a too-large body among them) when the body is
	// not multipart, so pick the parser by content type.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(32 << 10)
	} else {
		err = r.ParseForm()
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		s.errorPage(w, r, http.StatusRequestEntityTooLarge)
	} else {
		s.errorPage(w, r, http.StatusBadRequest)
	}
	return false
}
