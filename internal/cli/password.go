package cli

import "fmt"

// PromptNewPassword asks for the new password of name twice with read (a
// prompt on the terminal without echo) and returns it; an empty password,
// or a second one that differs, is an error that says the password is
// unchanged.
func PromptNewPassword(read func(prompt string) (string, error), name string) (string, error) {
	pw, err := read(fmt.Sprintf("New password for %s: ", name))
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", fmt.Errorf("empty password: the password of %s is unchanged", name)
	}
	again, err := read("Retype the new password: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", fmt.Errorf("the passwords do not match: the password of %s is unchanged", name)
	}
	return pw, nil
}
