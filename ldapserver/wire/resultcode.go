package wire

// Result codes (RFC 4511 Appendix A, with RFC 3909's cancel codes omitted).
// They are untyped so that they fit Result.Code directly.
const (
	ResultSuccess                      = 0
	ResultOperationsError              = 1
	ResultProtocolError                = 2
	ResultTimeLimitExceeded            = 3
	ResultSizeLimitExceeded            = 4
	ResultCompareFalse                 = 5
	ResultCompareTrue                  = 6
	ResultAuthMethodNotSupported       = 7
	ResultStrongerAuthRequired         = 8
	ResultReferral                     = 10
	ResultAdminLimitExceeded           = 11
	ResultUnavailableCriticalExtension = 12
	ResultConfidentialityRequired      = 13
	ResultSASLBindInProgress           = 14
	ResultNoSuchAttribute              = 16
	ResultUndefinedAttributeType       = 17
	ResultInappropriateMatching        = 18
	ResultConstraintViolation          = 19
	ResultAttributeOrValueExists       = 20
	ResultInvalidAttributeSyntax       = 21
	ResultNoSuchObject                 = 32
	ResultAliasProblem                 = 33
	ResultInvalidDNSyntax              = 34
	ResultAliasDereferencingProblem    = 36
	ResultInappropriateAuthentication  = 48
	ResultInvalidCredentials           = 49
	ResultInsufficientAccessRights     = 50
	ResultBusy                         = 51
	ResultUnavailable                  = 52
	ResultUnwillingToPerform           = 53
	ResultLoopDetect                   = 54
	ResultNamingViolation              = 64
	ResultObjectClassViolation         = 65
	ResultNotAllowedOnNonLeaf          = 66
	ResultNotAllowedOnRDN              = 67
	ResultEntryAlreadyExists           = 68
	ResultObjectClassModsProhibited    = 69
	ResultAffectsMultipleDSAs          = 71
	ResultOther                        = 80
)
