package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// schemaDocsQuery asks for the description of everything a client can see:
// types, fields, their arguments, input fields and enum values, deprecated
// ones included.
const schemaDocsQuery = `{ __schema { types {
  name kind description
  fields(includeDeprecated: true) { name description args { name description } }
  inputFields { name description }
  enumValues(includeDeprecated: true) { name description }
} } }`

// TestSchemaDescribesEverything walks the schema as GraphiQL's Docs pane
// shows it, through introspection over HTTP, and names every type, field,
// argument, input field and enum value of ours that has no description.
// GraphQL's own types (__Schema, String, ...) are described by the spec.
func TestSchemaDescribesEverything(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	type named struct{ Name, Description string }
	var d struct {
		Schema struct {
			Types []struct {
				Name, Kind, Description string
				Fields                  []struct {
					Name, Description string
					Args              []named
				}
				InputFields []named
				EnumValues  []named
			}
		} `json:"__schema"`
	}
	s.ok(t, "", schemaDocsQuery, nil, &d)

	builtin := map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}
	var missing []string
	undocumented := func(what, desc string) {
		if strings.TrimSpace(desc) == "" {
			missing = append(missing, what)
		}
	}
	types := 0
	for _, typ := range d.Schema.Types {
		if strings.HasPrefix(typ.Name, "__") || builtin[typ.Name] {
			continue
		}
		types++
		undocumented(typ.Kind+" "+typ.Name, typ.Description)
		for _, f := range typ.Fields {
			undocumented(typ.Name+"."+f.Name, f.Description)
			for _, a := range f.Args {
				undocumented(typ.Name+"."+f.Name+"("+a.Name+":)", a.Description)
			}
		}
		for _, f := range typ.InputFields {
			undocumented(typ.Name+"."+f.Name, f.Description)
		}
		for _, v := range typ.EnumValues {
			undocumented(typ.Name+"."+v.Name, v.Description)
		}
	}
	if types < 30 {
		raw, _ := json.Marshal(d)
		t.Fatalf("introspection saw %d of our types: %.300s", types, raw)
	}
	if len(missing) > 0 {
		t.Errorf("%d parts of schema.graphqls have no description:\n  %s", len(missing), strings.Join(missing, "\n  "))
	}
}
