package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// JSON answers v encoded as JSON with status. Encoding happens before anything is written, so a
// value that cannot be encoded becomes a clean 500.
func JSON(w http.ResponseWriter, status int, v any) {
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

// ErrorBody is the body of every API error: {"error": "…"}, plus "field" on a 400 caused by one
// request field.
type ErrorBody struct {
	// Error says what went wrong, in plain words.
	Error string `json:"error"`
	// Field names the request field at fault (400 only).
	Field string `json:"field,omitempty"`
}

// JSONError answers {"error": msg} with status. msg must not contain secrets or echo raw input
// beyond a field name.
func JSONError(w http.ResponseWriter, status int, msg string) {
	JSON(w, status, ErrorBody{Error: msg})
}

// InputError is bad input in one field: handlers return it from validation and answer it with
// BadInput (API: 400 {"error": "<field>: <message>", "field": "<field>"}; pages show Message
// next to the field).
type InputError struct {
	// Field is the request field's name as the client sent it ("expires_at", "password").
	Field string
	// Message says what is wrong in plain words, without echoing the value.
	Message string
}

// Error returns "<field>: <message>".
func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// NewInputError returns an *InputError for field.
func NewInputError(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// BadInput answers an API request with 400 naming the field: {"error": "<field>: <message>",
// "field": "<field>"}.
func BadInput(w http.ResponseWriter, field, message string) {
	e := &InputError{Field: field, Message: message}
	JSON(w, http.StatusBadRequest, ErrorBody{Error: e.Error(), Field: field})
}

// DecodeJSON reads the request body as one JSON value into v. Unknown fields, a wrong type, a
// missing or non-JSON Content-Type, an empty or oversized body, and trailing data are refused:
// it answers 400 (naming the field where there is one), 413 or 415 itself and returns false.
// The answer never repeats a value the client sent (only field names).
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		JSONError(w, http.StatusUnsupportedMediaType, "the request body must be JSON (Content-Type: application/json)")
		return false
	}
	// The body is read whole (state-changing routes limit its size) so that a value a field's own
	// decoder refuses can be traced back to its field.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			JSONError(w, http.StatusRequestEntityTooLarge, "request too large")
		} else {
			JSONError(w, http.StatusBadRequest, "the request body could not be read")
		}
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); !errors.Is(extra, io.EOF) {
			JSONError(w, http.StatusBadRequest, "the request body must hold exactly one JSON value")
			return false
		}
		return true
	}
	var (
		tooLarge  *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		inputErr  *InputError
	)
	switch {
	case errors.As(err, &tooLarge):
		JSONError(w, http.StatusRequestEntityTooLarge, "request too large")
	case errors.Is(err, io.EOF):
		JSONError(w, http.StatusBadRequest, "the request body is empty")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		JSONError(w, http.StatusBadRequest, "the request body is not valid JSON")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			JSONError(w, http.StatusBadRequest, "the request body has the wrong JSON type: want an object")
		} else {
			BadInput(w, field, "wrong type: want "+jsonKind(typeErr.Type.Kind().String()))
		}
	case errors.As(err, &inputErr):
		BadInput(w, inputErr.Field, inputErr.Message)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		BadInput(w, field, "unknown field")
	default:
		// An error of a field's own UnmarshalJSON/UnmarshalText. encoding/json names no field for
		// it, and its text may repeat the value (time.Time's does): find the field, and keep the
		// text only when it does not contain the value sent.
		field, raw := fieldOf(body, v, err)
		msg := valueMessage(err, raw, field != "")
		if field == "" {
			JSONError(w, http.StatusBadRequest, "invalid request body: "+msg)
		} else {
			BadInput(w, field, msg)
		}
	}
	return false
}

// fieldOf returns the top-level key of the JSON object body whose value alone fails to decode
// into a fresh value of v's type with the error err (or, failing an exact match, the first key
// whose value alone fails), and that value (a JSON string unquoted). It returns "" when body is
// not an object or v's type refuses even an empty object (it judges the body as a whole).
func fieldOf(body []byte, v any, err error) (field, raw string) {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return "", ""
	}
	fresh := func() any { return reflect.New(t.Elem()).Interface() }
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil || json.Unmarshal([]byte("{}"), fresh()) != nil {
		return "", ""
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		one, merr := json.Marshal(map[string]json.RawMessage{k: obj[k]})
		if merr != nil {
			continue
		}
		kerr := json.Unmarshal(one, fresh())
		if kerr == nil {
			continue
		}
		if field == "" || kerr.Error() == err.Error() {
			field, raw = k, string(obj[k])
			var s string
			if json.Unmarshal(obj[k], &s) == nil {
				raw = s
			}
		}
		if kerr.Error() == err.Error() {
			break
		}
	}
	return field, raw
}

// valueMessage is the message for err, an error of a field's own decoder, without the value
// sent: time.Time's errors get a fixed text, others keep their own text unless it contains raw
// (the field's value) or, when the field is unknown, always get a fixed text.
func valueMessage(err error, raw string, known bool) string {
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return "must be an RFC 3339 date-time, such as 2026-05-01T12:00:00Z"
	}
	msg := err.Error()
	switch {
	case !known:
		return "a value has the wrong format"
	case len(raw) >= 3 && strings.Contains(msg, raw), strings.Contains(msg, strconv.Quote(raw)):
		return "has a value this field does not accept"
	}
	return msg
}

// jsonKind names a Go kind in JSON's words.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "bool":
		return "true or false"
	case kind == "string":
		return "a string"
	case kind == "slice", kind == "array":
		return "an array"
	case kind == "map", kind == "struct":
		return "an object"
	}
	return kind
}

// ParseForm parses a urlencoded or multipart form body within the route's size limit. On failure
// it answers 413 (too large) or 400 itself and returns false.
func ParseForm(w http.ResponseWriter, r *http.Request) bool {
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
		Error(w, r, http.StatusRequestEntityTooLarge)
	} else {
		Error(w, r, http.StatusBadRequest)
	}
	return false
}
