package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// OpenAPIVersion is the version of the OpenAPI specification the document follows.
const OpenAPIVersion = "3.1.0"

// errorSchemaName is the component of every error body: {"error": "…"}.
const errorSchemaName = "Error"

// buildOpenAPI returns the OpenAPI document of the API routes. title and version fill the info
// object; server is the API's base URL path ({base}/api/v1).
func buildOpenAPI(routes []RouteInfo, title, version, server string) ([]byte, error) {
	b := newSchemaBuilder()
	b.components[errorSchemaName] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"error": map[string]any{"type": "string", "description": "what went wrong, in plain words"},
			"field": map[string]any{"type": "string", "description": "the request field at fault (400 only)"},
		},
		"required": []string{"error"},
	}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		if rt.Kind != KindAPI {
			continue
		}
		p := openAPIPath(rt.Pattern)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = operation(b, rt)
	}
	if version == "" {
		version = "dev"
	}
	if title == "" {
		title = "Plex Manager"
	}
	doc := map[string]any{
		"openapi": OpenAPIVersion,
		"info": map[string]any{
			"title":   title + " REST API",
			"version": version,
			"description": "Admin REST API. Authenticate with `Authorization: Bearer <key>` (keys are created " +
				"under API keys in the admin UI, or set as api_key in the Caddyfile). Errors are JSON " +
				"`{\"error\": \"…\"}`; bad input is a 400 naming the field.",
		},
		"servers": []any{map[string]any{"url": server}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": b.components,
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "an API key (pmk_…)"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookieName, "description": "the admin UI's browser session"},
			},
		},
		"security": []any{map[string]any{"bearer": []string{}}, map[string]any{"session": []string{}}},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the OpenAPI document: %w", err)
	}
	return out, nil
}

// operation describes one route.
func operation(b *schemaBuilder, rt RouteInfo) map[string]any {
	doc := rt.Doc
	op := map[string]any{
		"summary":     doc.Summary,
		"operationId": operationID(rt.Method, rt.Pattern),
	}
	if doc.Description != "" {
		op["description"] = doc.Description
	}
	desc := "Needs the " + rt.Min.String() + " role or higher."
	if d, ok := op["description"].(string); ok {
		desc = d + "\n\n" + desc
	}
	op["description"] = desc
	if len(doc.Tags) > 0 {
		op["tags"] = doc.Tags
	}
	var params []any
	for _, p := range doc.Params {
		s := map[string]any{"type": p.Type}
		if p.Format != "" {
			s["format"] = p.Format
		}
		if len(p.Enum) > 0 {
			s["enum"] = p.Enum
		}
		param := map[string]any{"name": p.Name, "in": p.In, "required": p.Required || p.In == ParamPath, "schema": s}
		if p.Description != "" {
			param["description"] = p.Description
		}
		params = append(params, param)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if doc.Request != nil {
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": b.of(doc.Request)}},
		}
	}
	responses := map[string]any{}
	success := map[string]any{"description": http.StatusText(doc.Status)}
	if doc.Response != nil {
		success["content"] = map[string]any{"application/json": map[string]any{"schema": b.of(doc.Response)}}
	}
	responses[strconv.Itoa(doc.Status)] = success
	errStatuses := []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden}
	if !safeMethod(rt.Method) {
		errStatuses = append(errStatuses, http.StatusRequestEntityTooLarge)
	}
	errStatuses = append(errStatuses, doc.Errors...)
	sort.Ints(errStatuses)
	for _, st := range errStatuses {
		responses[strconv.Itoa(st)] = map[string]any{
			"description": http.StatusText(st),
			"content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": "#/components/schemas/" + errorSchemaName}}},
		}
	}
	op["responses"] = responses
	return op
}

// operationID derives a stable id from method and pattern: "GET /invites/{id}" → "get_invites_id".
func operationID(method, pattern string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(openAPIPath(pattern), "/") {
		seg = strings.Trim(seg, "{}")
		if seg == "" {
			continue
		}
		b.WriteByte('_')
		b.WriteString(sanitizeName(strings.ReplaceAll(seg, ".", "_")))
	}
	return b.String()
}
