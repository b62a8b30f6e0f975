package idm

// PasswordVerifications is the number of full password verifications (a
// hash computed against a stored value) s has made, for tests that check
// when the cache of successful verifications is used.
func PasswordVerifications(s *Service) int64 { return s.verifications.Load() }
