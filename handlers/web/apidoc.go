package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
)

// APIDoc documents one API route in the OpenAPI document. Request and Response are example
// values of the Go types that travel as JSON (e.g. Invite{} or []Invite{}); their JSON Schema is
// derived from the types by reflection (field names from json tags; omitempty/omitzero fields are
// optional; a type may describe itself with a JSONSchema() map[string]any method).
type APIDoc struct {
	// Summary is a one-line description (required).
	Summary string
	// Description is optional longer text.
	Description string
	// Tags group operations ("invites", "users").
	Tags []string
	// Params are the path and query parameters. Path parameters of the pattern that are not
	// listed are added as required strings.
	Params []Param
	// Request is a value of the request body's type; nil means no body.
	Request any
	// Response is a value of the success response's type; nil means no body.
	Response any
	// Status is the success status; default 200, or 204 when Response is nil.
	Status int
	// Errors lists further error statuses the route may answer (400, 401 and 403 are always
	// documented; 413 for routes with a body).
	Errors []int
}

// Param is a path or query parameter.
type Param struct {
	// Name is the parameter's name ("id", "q").
	Name string
	// In is ParamPath or ParamQuery.
	In string
	// Description says what it is.
	Description string
	// Required marks a query parameter as required (path parameters always are).
	Required bool
	// Type is the JSON type: "string" (default), "integer", "boolean" or "number".
	Type string
	// Format refines Type ("date-time", "int64").
	Format string
	// Enum lists the allowed values, if limited.
	Enum []string
}

// Parameter locations.
const (
	// ParamPath is a parameter in the path pattern ({id}).
	ParamPath = "path"
	// ParamQuery is a query-string parameter.
	ParamQuery = "query"
)

// pathWildcard matches the wildcards of a ServeMux pattern: {name}, {name...} and {$}.
var pathWildcard = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)?(\.\.\.)?(\$)?\}`)

// patternParams returns the wildcard names of a ServeMux pattern, in order.
func patternParams(pattern string) []string {
	var out []string
	for _, m := range pathWildcard.FindAllStringSubmatch(pattern, -1) {
		if m[1] != "" {
			out = append(out, m[1])
		}
	}
	return out
}

// openAPIPath turns a ServeMux pattern into an OpenAPI path template: "{name...}" becomes
// "{name}" and "{$}" disappears.
func openAPIPath(pattern string) string {
	return pathWildcard.ReplaceAllStringFunc(pattern, func(w string) string {
		m := pathWildcard.FindStringSubmatch(w)
		if m[1] == "" {
			return ""
		}
		return "{" + m[1] + "}"
	})
}

// normalize checks doc against the route and fills defaults.
func (doc APIDoc) normalize(method, pattern string) (APIDoc, error) {
	var errs []error
	if doc.Summary == "" {
		errs = append(errs, errors.New("the APIDoc has no Summary"))
	}
	names := patternParams(pattern)
	params := slices.Clone(doc.Params)
	seen := map[string]bool{}
	for i, p := range params {
		if p.Name == "" {
			errs = append(errs, fmt.Errorf("parameter %d has no name", i+1))
			continue
		}
		switch p.In {
		case ParamPath:
			if !slices.Contains(names, p.Name) {
				errs = append(errs, fmt.Errorf("path parameter %q is not in the pattern", p.Name))
			}
			params[i].Required = true
		case ParamQuery:
		default:
			errs = append(errs, fmt.Errorf("parameter %q: In must be %q or %q", p.Name, ParamPath, ParamQuery))
		}
		switch p.Type {
		case "":
			params[i].Type = "string"
		case "string", "integer", "boolean", "number":
		default:
			errs = append(errs, fmt.Errorf("parameter %q: unknown type %q", p.Name, p.Type))
		}
		key := p.In + ":" + p.Name
		if seen[key] {
			errs = append(errs, fmt.Errorf("parameter %q is listed twice", p.Name))
		}
		seen[key] = true
	}
	for _, n := range names {
		if !seen[ParamPath+":"+n] {
			params = append(params, Param{Name: n, In: ParamPath, Required: true, Type: "string"})
		}
	}
	doc.Params = params
	if doc.Status == 0 {
		doc.Status = http.StatusOK
		if doc.Response == nil {
			doc.Status = http.StatusNoContent
		}
	}
	if doc.Request != nil && safeMethod(method) {
		errs = append(errs, fmt.Errorf("a %s route cannot take a request body", method))
	}
	return doc, errors.Join(errs...)
}
