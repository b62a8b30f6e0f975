package ldapserver

import (
	"testing"

	"github.com/ldapd/ldapd/directory"
)

type schemaHandler struct {
	HandlerFunc
	schema *directory.Schema
}

func (h schemaHandler) Schema() *directory.Schema { return h.schema }

// The server decodes with the schema its Handler resolves against, so the
// two cannot be handed different objects; a Handler without one gets the
// built-in schema.
func TestServerTakesTheHandlersSchema(t *testing.T) {
	own, err := directory.NewSchema(directory.Builtin().AttributeTypes(), directory.Builtin().ObjectClasses())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: schemaHandler{schema: own}}
	s.defaults()
	if s.schema != own {
		t.Fatal("the server does not decode with its handler's schema")
	}
	plain := &Server{Handler: HandlerFunc(func(ResponseWriter, *Request) {})}
	plain.defaults()
	if plain.schema != directory.Builtin() {
		t.Fatal("a handler without a schema does not get the built-in one")
	}
}
