package idm

import (
	"github.com/ldapd/ldapd/directory"
)

// rootDSE builds the root DSE (RFC 4512 section 5.1).
func (s *Service) rootDSE() *directory.Entry {
	e := directory.NewEntry(directory.DN{})
	e.Set("objectClass", "top")
	e.Set("namingContexts", s.base.String())
	e.Set("defaultNamingContext", s.base.String())
	e.Set("subschemaSubentry", SubschemaDN)
	e.Set("supportedLDAPVersion", "3")
	e.Set("supportedExtension", s.cfg.Extensions...)
	e.Set("supportedControl", s.cfg.Controls...)
	e.Set("supportedFeatures",
		"1.3.6.1.4.1.4203.1.5.1", // all operational attributes: "+" (RFC 3673)
		"1.3.6.1.4.1.4203.1.5.3", // absolute true and false filters (RFC 4526)
	)
	e.Set("vendorName", "ldapd")
	v := s.cfg.VendorVersion
	if v == "" {
		v = "dev"
	}
	e.Set("vendorVersion", v)
	return e
}

// subschema builds the subschema entry (RFC 4512 section 4.2).
func (s *Service) subschema() *directory.Entry {
	e := directory.NewEntry(directory.MustParseDN(SubschemaDN))
	e.Set("objectClass", "top", "subentry", "subschema")
	e.Set("cn", "Subschema")
	var ats, ocs []string
	for _, a := range s.schema.AttributeTypes() {
		ats = append(ats, a.String())
	}
	for _, c := range s.schema.ObjectClasses() {
		ocs = append(ocs, c.String())
	}
	e.Set("attributeTypes", ats...)
	e.Set("objectClasses", ocs...)
	e.Set("matchingRules", s.schema.MatchingRules()...)
	e.Set("ldapSyntaxes", s.schema.Syntaxes()...)
	return e
}
