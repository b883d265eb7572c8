package web

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Schemer is implemented by types that describe their own JSON Schema (enums, custom encodings).
type Schemer interface {
	JSONSchema() map[string]any
}

// schemaBuilder derives JSON Schemas (OpenAPI 3.1 dialect) from Go types. Named struct types become
// components referenced with $ref, so recursive types terminate.
type schemaBuilder struct {
	components map[string]any
	names      map[reflect.Type]string
	taken      map[string]reflect.Type
}

func newSchemaBuilder() *schemaBuilder {
	return &schemaBuilder{components: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	schemerType     = reflect.TypeFor[Schemer]()
	textMarshalType = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshalType = reflect.TypeFor[json.Marshaler]()
)

// of returns the schema of v's type (nil v: no schema).
func (b *schemaBuilder) of(v any) map[string]any {
	if v == nil {
		return nil
	}
	return b.schema(reflect.TypeOf(v))
}

// schema returns the schema of t.
func (b *schemaBuilder) schema(t reflect.Type) map[string]any {
	if t.Implements(schemerType) {
		return reflect.Zero(t).Interface().(Schemer).JSONSchema()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawMessageType:
		return map[string]any{}
	}
	if t.Kind() == reflect.Pointer {
		inner := b.schema(t.Elem())
		return nullable(inner)
	}
	if t.Implements(textMarshalType) && !t.Implements(jsonMarshalType) {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s := map[string]any{"type": "integer"}
		if t.Kind() == reflect.Int64 || t.Kind() == reflect.Uint64 {
			s["format"] = "int64"
		}
		return s
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": b.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": b.schema(t.Elem())}
	case reflect.Struct:
		return b.structRef(t)
	}
	// Interfaces, funcs and channels: anything.
	return map[string]any{}
}

// nullable lets s also be null.
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok && len(s) <= 2 {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []string{typ, "null"}
		return out
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// structRef returns a $ref to the component of a named struct (inline schema for anonymous ones).
func (b *schemaBuilder) structRef(t reflect.Type) map[string]any {
	if t.Name() == "" {
		return b.structSchema(t)
	}
	name, ok := b.names[t]
	if !ok {
		name = b.componentName(t)
		b.names[t] = name
		b.components[name] = map[string]any{} // placeholder: breaks recursion
		b.components[name] = b.structSchema(t)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// componentName is the type's name, qualified with its package when two types share a name.
func (b *schemaBuilder) componentName(t reflect.Type) string {
	name := sanitizeName(t.Name())
	if other, ok := b.taken[name]; ok && other != t {
		pkg := t.PkgPath()
		if i := strings.LastIndex(pkg, "/"); i >= 0 {
			pkg = pkg[i+1:]
		}
		name = sanitizeName(pkg + "." + t.Name())
		for n := 2; ; n++ {
			if _, clash := b.taken[name]; !clash {
				break
			}
			name = sanitizeName(pkg+"."+t.Name()) + "_" + itoa(n)
		}
	}
	b.taken[name] = t
	return name
}

// sanitizeName keeps the characters OpenAPI allows in component names.
func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, s)
}

func itoa(n int) string { return strconv.Itoa(n) }

// structSchema describes a struct's JSON encoding: exported fields by their json names, embedded
// structs flattened, "-" skipped, omitempty/omitzero fields optional.
func (b *schemaBuilder) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	b.addFields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (b *schemaBuilder) addFields(t reflect.Type, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				b.addFields(ft, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := b.schema(f.Type)
		if strings.Contains(","+opts+",", ",string,") {
			s = map[string]any{"type": "string"}
		}
		props[name] = s
		if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
			*required = append(*required, name)
		}
	}
}
