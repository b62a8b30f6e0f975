package directory

// LdapdArc is ldapd's private OID arc, a UUID-derived OID (ITU-T X.667,
// "2.25.<uuid>") that needs no registration. Attribute types live under
// .1, object classes under .2, extended operations under .3.
const LdapdArc = "2.25.295583884755326249504665175635765695291"

// Names of ldapd's own attribute types and object classes.
const (
	AttrSPN             = "spn"
	AttrEntryManagedBy  = "entryManagedBy"
	AttrAccountDisabled = "ldapdAccountDisabled"
	AttrTokenID         = "ldapdTokenId"
	AttrTokenLabel      = "ldapdTokenLabel"
	AttrTokenPurpose    = "ldapdTokenPurpose"
	AttrTokenIssuedAt   = "ldapdTokenIssuedAt"
	AttrTokenExpiry     = "ldapdTokenExpiry"
	AttrTokenIssuedBy   = "ldapdTokenIssuedBy"

	ClassAccount        = "ldapdAccount"
	ClassServiceAccount = "ldapdServiceAccount"
	ClassAPIToken       = "ldapdApiToken"
)

// attr is a terse constructor for the built-in table: names are
// space-separated, the first canonical.
func attr(oid, names, sup, eq, ord, sub, syntax string, flags ...string) *AttributeType {
	a := &AttributeType{OID: oid, Names: splitNames(names), Sup: sup, Equality: eq, Ordering: ord, Substr: sub, Syntax: syntax}
	for _, f := range flags {
		switch f {
		case "single":
			a.SingleValue = true
		case "nomod":
			a.NoUserModification = true
		case "dirop":
			a.Usage = DirectoryOperation
		case "dsaop":
			a.Usage = DSAOperation
		}
	}
	return a
}

func class(oid, names string, sup string, kind ClassKind, must, may string) *ObjectClass {
	c := &ObjectClass{OID: oid, Names: splitNames(names), Kind: kind, Must: splitNames(must), May: splitNames(may)}
	if sup != "" {
		c.Sup = splitNames(sup)
	}
	return c
}

func splitNames(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

func builtinAttributeTypes() []*AttributeType {
	const (
		ci, cio, cis  = RuleCaseIgnore, RuleCaseIgnoreOrdering, RuleCaseIgnoreSubstr
		ce, ces       = RuleCaseExact, RuleCaseExactSubstr
		cia5, cia5s   = RuleCaseIgnoreIA5, RuleCaseIgnoreIA5Sub
		cea5          = RuleCaseExactIA5
		dn            = RuleDN
		in, ino       = RuleInteger, RuleIntegerOrdering
		gt, gto       = RuleGeneralizedTime, RuleGeneralizedTimeOrd
		tel, tels     = RuleTelephone, RuleTelephoneSubstr
		ds, ia5, intS = SyntaxDirectoryString, SyntaxIA5String, SyntaxInteger
		dnS, oidS     = SyntaxDN, SyntaxOID
		telS, gtS     = SyntaxTelephoneNumber, SyntaxGeneralizedTime
		arcA          = LdapdArc + ".1."
	)
	return []*AttributeType{
		// RFC 4512 operational attributes.
		attr("2.5.4.0", "objectClass", "", RuleOID, "", "", oidS),
		attr("2.5.18.1", "createTimestamp", "", gt, gto, "", gtS, "single", "nomod", "dirop"),
		attr("2.5.18.2", "modifyTimestamp", "", gt, gto, "", gtS, "single", "nomod", "dirop"),
		attr("2.5.18.3", "creatorsName", "", dn, "", "", dnS, "single", "nomod", "dirop"),
		attr("2.5.18.4", "modifiersName", "", dn, "", "", dnS, "single", "nomod", "dirop"),
		attr("2.5.18.9", "hasSubordinates", "", RuleBoolean, "", "", SyntaxBoolean, "single", "nomod", "dirop"),
		attr("2.5.18.10", "subschemaSubentry", "", dn, "", "", dnS, "single", "nomod", "dirop"),
		attr("2.5.21.9", "structuralObjectClass", "", RuleOID, "", "", oidS, "single", "nomod", "dirop"),
		attr("1.3.6.1.1.20", "entryDN", "", dn, "", "", dnS, "single", "nomod", "dirop"),
		attr("1.3.6.1.1.16.4", "entryUUID", "", RuleUUID, RuleUUIDOrdering, "", SyntaxUUID, "single", "nomod", "dirop"),
		attr("1.2.840.113556.1.2.102", "memberOf", "", dn, "", "", dnS, "nomod", "dirop"),
		attr("2.5.21.5", "attributeTypes", "", RuleOID, "", "", ds, "dirop"),
		attr("2.5.21.6", "objectClasses", "", RuleOID, "", "", ds, "dirop"),
		attr("2.5.21.4", "matchingRules", "", RuleOID, "", "", ds, "dirop"),
		attr("1.3.6.1.4.1.1466.101.120.16", "ldapSyntaxes", "", RuleOID, "", "", ds, "dirop"),
		attr("1.3.6.1.4.1.1466.101.120.5", "namingContexts", "", "", "", "", dnS, "dsaop"),
		attr("1.3.6.1.4.1.1466.101.120.13", "supportedControl", "", "", "", "", oidS, "dsaop"),
		attr("1.3.6.1.4.1.1466.101.120.7", "supportedExtension", "", "", "", "", oidS, "dsaop"),
		attr("1.3.6.1.4.1.1466.101.120.15", "supportedLDAPVersion", "", "", "", "", intS, "dsaop"),
		attr("1.3.6.1.4.1.1466.101.120.14", "supportedSASLMechanisms", "", "", "", "", ds, "dsaop"),
		attr("1.3.6.1.4.1.4203.1.3.5", "supportedFeatures", "", RuleOID, "", "", oidS, "dsaop"),
		attr("1.3.6.1.1.4", "vendorName", "", ce, "", "", ds, "single", "nomod", "dsaop"),
		attr("1.3.6.1.1.5", "vendorVersion", "", ce, "", "", ds, "single", "nomod", "dsaop"),
		// defaultNamingContext: Active Directory's and Kanidm's name for the
		// suffix clients should search; no RFC defines it, hence ldapd's arc.
		attr(arcA+"10", "defaultNamingContext", "", dn, "", "", dnS, "single", "nomod", "dsaop"),

		// RFC 4519 user attributes.
		attr("2.5.4.41", "name", "", ci, "", cis, ds),
		attr("2.5.4.49", "distinguishedName", "", dn, "", "", dnS),
		attr("2.5.4.3", "cn commonName", "name", "", "", "", ""),
		attr("2.5.4.4", "sn surname", "name", "", "", "", ""),
		attr("2.5.4.6", "c countryName", "name", "", "", "", "", "single"),
		attr("2.5.4.7", "l localityName", "name", "", "", "", ""),
		attr("2.5.4.8", "st stateOrProvinceName", "name", "", "", "", ""),
		attr("2.5.4.9", "street streetAddress", "", ci, "", cis, ds),
		attr("2.5.4.10", "o organizationName", "name", "", "", "", ""),
		attr("2.5.4.11", "ou organizationalUnitName", "name", "", "", "", ""),
		attr("2.5.4.12", "title", "name", "", "", "", ""),
		attr("2.5.4.13", "description", "", ci, "", cis, ds),
		attr("2.5.4.15", "businessCategory", "", ci, "", cis, ds),
		attr("2.5.4.16", "postalAddress", "", ci, "", cis, SyntaxPostalAddress),
		attr("2.5.4.17", "postalCode", "", ci, "", cis, ds),
		attr("2.5.4.18", "postOfficeBox", "", ci, "", cis, ds),
		attr("2.5.4.19", "physicalDeliveryOfficeName", "", ci, "", cis, ds),
		attr("2.5.4.20", "telephoneNumber", "", tel, "", tels, telS),
		attr("2.5.4.23", "facsimileTelephoneNumber", "", tel, "", tels, telS),
		attr("2.5.4.31", "member", "distinguishedName", "", "", "", ""),
		attr("2.5.4.32", "owner", "distinguishedName", "", "", "", ""),
		attr("2.5.4.33", "roleOccupant", "distinguishedName", "", "", "", ""),
		attr("2.5.4.34", "seeAlso", "distinguishedName", "", "", "", ""),
		attr("2.5.4.35", "userPassword", "", RuleOctetString, "", "", SyntaxOctetString),
		attr("2.5.4.42", "givenName gn", "name", "", "", "", ""),
		attr("2.5.4.43", "initials", "name", "", "", "", ""),
		attr("2.5.4.50", "uniqueMember", "", dn, "", "", dnS),
		attr("0.9.2342.19200300.100.1.25", "dc domainComponent", "", cia5, "", cia5s, ia5, "single"),
		attr("0.9.2342.19200300.100.1.1", "uid userid", "", ci, "", cis, ds),

		// cosine (RFC 4524) and inetOrgPerson (RFC 2798).
		attr("0.9.2342.19200300.100.1.3", "mail rfc822Mailbox", "", cia5, "", cia5s, ia5),
		attr("0.9.2342.19200300.100.1.6", "roomNumber", "", ci, "", cis, ds),
		attr("0.9.2342.19200300.100.1.9", "host", "", ci, "", cis, ds),
		attr("0.9.2342.19200300.100.1.10", "manager", "", dn, "", "", dnS),
		attr("0.9.2342.19200300.100.1.20", "homePhone", "", tel, "", tels, telS),
		attr("0.9.2342.19200300.100.1.21", "secretary", "", dn, "", "", dnS),
		attr("0.9.2342.19200300.100.1.39", "homePostalAddress", "", ci, "", cis, SyntaxPostalAddress),
		attr("0.9.2342.19200300.100.1.41", "mobile", "", tel, "", tels, telS),
		attr("0.9.2342.19200300.100.1.42", "pager", "", tel, "", tels, telS),
		attr("0.9.2342.19200300.100.1.60", "jpegPhoto", "", RuleOctetString, "", "", SyntaxJPEG),
		attr("1.3.6.1.4.1.250.1.57", "labeledURI", "", ce, "", "", ds),
		attr("2.16.840.1.113730.3.1.1", "carLicense", "", ci, "", cis, ds),
		attr("2.16.840.1.113730.3.1.2", "departmentNumber", "", ci, "", cis, ds),
		attr("2.16.840.1.113730.3.1.3", "employeeNumber", "", ci, "", cis, ds, "single"),
		attr("2.16.840.1.113730.3.1.4", "employeeType", "", ci, "", cis, ds),
		attr("2.16.840.1.113730.3.1.39", "preferredLanguage", "", ci, "", cis, ds, "single"),
		attr("2.16.840.1.113730.3.1.241", "displayName", "", ci, "", cis, ds, "single"),

		// RFC 2307 / 2307bis.
		attr("1.3.6.1.1.1.1.0", "uidNumber", "", in, ino, "", intS, "single"),
		attr("1.3.6.1.1.1.1.1", "gidNumber", "", in, ino, "", intS, "single"),
		attr("1.3.6.1.1.1.1.2", "gecos", "", cia5, "", cia5s, ia5, "single"),
		attr("1.3.6.1.1.1.1.3", "homeDirectory", "", cea5, "", "", ia5, "single"),
		attr("1.3.6.1.1.1.1.4", "loginShell", "", cea5, "", "", ia5, "single"),
		attr("1.3.6.1.1.1.1.5", "shadowLastChange", "", in, ino, "", intS, "single"),
		attr("1.3.6.1.1.1.1.6", "shadowMin", "", in, ino, "", intS, "single"),
		attr("1.3.6.1.1.1.1.7", "shadowMax", "", in, ino, "", intS, "single"),
		attr("1.3.6.1.1.1.1.8", "shadowWarning", "", in, ino, "", intS, "single"),
		attr("1.3.6.1.1.1.1.9", "shadowInactive", "", in, ino, "", intS, "single"),
		attr("1.3.6.1.1.1.1.10", "shadowExpire", "", in, ino, "", intS, "single"),
		attr("1.3.6.1.1.1.1.11", "shadowFlag", "", in, ino, "", intS, "single"),
		attr("1.3.6.1.1.1.1.12", "memberUid", "", cea5, "", cia5s, ia5),

		// openssh-lpk (the schema OpenSSH's LDAP key lookups, sssd and
		// AuthorizedKeysCommand scripts use).
		attr("1.3.6.1.4.1.24552.500.1.1.1.13", "sshPublicKey", "", RuleOctetString, "", "", SyntaxOctetString),

		// ldapd.
		attr(arcA+"1", AttrSPN, "", ci, "", cis, ds, "single"),
		attr(arcA+"2", AttrEntryManagedBy, "", dn, "", "", dnS, "single"),
		attr(arcA+"3", AttrAccountDisabled, "", RuleBoolean, "", "", SyntaxBoolean, "single"),
		attr(arcA+"4", AttrTokenID, "", RuleUUID, RuleUUIDOrdering, "", SyntaxUUID, "single"),
		attr(arcA+"5", AttrTokenLabel, "", ci, "", cis, ds, "single"),
		attr(arcA+"6", AttrTokenPurpose, "", ci, "", "", ds, "single"),
		attr(arcA+"7", AttrTokenIssuedAt, "", gt, gto, "", gtS, "single"),
		attr(arcA+"8", AttrTokenExpiry, "", gt, gto, "", gtS, "single"),
		attr(arcA+"9", AttrTokenIssuedBy, "", dn, "", "", dnS, "single"),
	}
}

func builtinObjectClasses() []*ObjectClass {
	const arcC = LdapdArc + ".2."
	const personal = "userPassword telephoneNumber seeAlso description"
	return []*ObjectClass{
		class("2.5.6.0", "top", "", Abstract, "objectClass", ""),
		class("1.3.6.1.4.1.1466.101.120.111", "extensibleObject", "top", Auxiliary, "", ""),
		class("2.5.20.1", "subschema", "", Auxiliary, "", "attributeTypes objectClasses matchingRules ldapSyntaxes"),
		class("2.5.17.0", "subentry", "top", Structural, "cn", ""),
		class("2.5.6.4", "organization", "top", Structural, "o", "userPassword seeAlso businessCategory description l st street postalCode postalAddress telephoneNumber"),
		class("2.5.6.5", "organizationalUnit", "top", Structural, "ou", "userPassword seeAlso businessCategory description l st street postalCode postalAddress telephoneNumber"),
		class("2.5.6.6", "person", "top", Structural, "sn cn", personal),
		class("2.5.6.7", "organizationalPerson", "person", Structural, "",
			"title facsimileTelephoneNumber street postOfficeBox postalCode postalAddress physicalDeliveryOfficeName ou st l"),
		class("2.5.6.8", "organizationalRole", "top", Structural, "cn", "roleOccupant seeAlso description ou l st street postalCode postalAddress telephoneNumber"),
		// groupOfNames: member is MAY (RFC 4519 has MUST) so that groups may be
		// empty, as in Kanidm and as a freshly bootstrapped directory needs.
		class("2.5.6.9", "groupOfNames", "top", Structural, "cn", "member businessCategory seeAlso owner ou o description"),
		class("2.5.6.17", "groupOfUniqueNames", "top", Structural, "cn", "uniqueMember businessCategory seeAlso owner ou o description"),
		class("0.9.2342.19200300.100.4.13", "domain", "top", Structural, "dc", "userPassword seeAlso businessCategory description l st street postalCode postalAddress telephoneNumber o"),
		class("1.3.6.1.4.1.1466.344", "dcObject", "top", Auxiliary, "dc", ""),
		class("0.9.2342.19200300.100.4.5", "account", "top", Structural, "uid", "description seeAlso l o ou host"),
		class("1.3.6.1.1.3.1", "uidObject", "top", Auxiliary, "uid", ""),
		class("2.16.840.1.113730.3.2.2", "inetOrgPerson", "organizationalPerson", Structural, "",
			"businessCategory carLicense departmentNumber displayName employeeNumber employeeType givenName "+
				"homePhone homePostalAddress initials jpegPhoto labeledURI mail manager mobile o pager roomNumber "+
				"secretary uid preferredLanguage"),
		class("1.3.6.1.1.1.2.0", "posixAccount", "top", Auxiliary, "cn uid uidNumber gidNumber homeDirectory", "userPassword loginShell gecos description"),
		class("1.3.6.1.1.1.2.1", "shadowAccount", "top", Auxiliary, "uid",
			"userPassword shadowLastChange shadowMin shadowMax shadowWarning shadowInactive shadowExpire shadowFlag description"),
		class("1.3.6.1.1.1.2.2", "posixGroup", "top", Auxiliary, "cn gidNumber", "userPassword memberUid description"),
		// ldapPublicKey: openssh-lpk has MUST (sshPublicKey $ uid); here
		// both are MAY so that deleting the last key does not require
		// removing the class in the same change.
		class("1.3.6.1.4.1.24552.500.1.1.2.0", "ldapPublicKey", "top", Auxiliary, "", "sshPublicKey uid"),

		class(arcC+"1", ClassAccount, "top", Auxiliary, "", "spn displayName ldapdAccountDisabled entryManagedBy"),
		class(arcC+"2", ClassServiceAccount, "top", Structural, "uid entryManagedBy",
			"cn displayName description spn userPassword ldapdAccountDisabled mail seeAlso"),
		class(arcC+"3", ClassAPIToken, "top", Structural, "ldapdTokenId ldapdTokenPurpose ldapdTokenIssuedAt",
			"ldapdTokenLabel ldapdTokenExpiry ldapdTokenIssuedBy description"),
	}
}
