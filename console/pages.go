package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
)

// The pages are html/template (contextual escaping: a display name is
// always text), with the script and style sheet from assets/.

//go:embed templates/*.html
var templateFiles embed.FS

// pages holds one parsed template per page, each with the layout.
type pages struct {
	t map[string]*template.Template
}

func newPages() (*pages, error) {
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range []string{"login", "accounts", "account", "admin"} {
		t, err := template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		p.t[name] = t
	}
	return p, nil
}

// pageData is what every page gets.
type pageData struct {
	Title   string
	Page    string
	Who     whoami // empty on the sign-in page
	CSRF    string
	LDAPURL string
	Notice  string
	Data    any
}

// render writes the page name; a template failure is a 500 with nothing
// half-written.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	d.Page, d.LDAPURL = name, s.ldapURL
	var buf bytes.Buffer
	if err := s.pages.t[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error().Err(err).Str("page", name).Msg("console page failed")
		http.Error(w, "the server could not show this page; its log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// page wraps a page handler: it needs a signed-in session (API tokens are
// for the JSON API); without one it sends the browser to the sign-in page.
func (s *Server) page(h func(*http.Request, caller) (string, pageData, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.sessionCaller(r)
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusUnauthorized {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		var name string
		var d pageData
		if err == nil {
			name, d, err = h(r, c)
		}
		if err != nil {
			status, msg := statusOf(err)
			if status == http.StatusInternalServerError {
				s.log.Error().Err(err).Str("path", r.URL.Path).Msg("console page failed")
			}
			s.render(w, r, status, "account", pageData{Title: "Error", Notice: msg})
			return
		}
		d.Who, err = s.who(r.Context(), c.ident)
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		d.CSRF = c.sess.csrf
		s.render(w, r, http.StatusOK, name, d)
	})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	notice := ""
	if r.URL.Query().Get("changed") != "" {
		notice = "Your password was changed. Sign in with the new one."
	}
	s.render(w, r, http.StatusOK, "login", pageData{Title: "Sign in", Notice: notice})
}

// managedAccount is a service account with its tokens, for the page.
type managedAccountView struct {
	serviceAccount
	Tokens []tokenJSON
}

// accountsPage lists the service accounts whose tokens the caller may
// manage, each with its tokens.
func (s *Server) accountsPage(r *http.Request, c caller) (string, pageData, error) {
	sas, err := s.serviceAccounts(r.Context(), c.ident)
	if err != nil {
		return "", pageData{}, err
	}
	var views []managedAccountView
	for _, sa := range sas {
		if !sa.SeesTokens {
			continue
		}
		ts, err := s.tokens(r.Context(), c.ident, s.serviceAccountDN(sa.Name))
		if err != nil {
			return "", pageData{}, err
		}
		views = append(views, managedAccountView{sa, ts})
	}
	return "accounts", pageData{Title: "My service accounts", Data: views}, nil
}

func (s *Server) myAccountPage(r *http.Request, c caller) (string, pageData, error) {
	return "account", pageData{Title: "My account"}, nil
}

// adminPage offers the administration forms and lists every service
// account the caller may see; what each form may do is idm's answer when
// it is sent.
func (s *Server) adminPage(r *http.Request, c caller) (string, pageData, error) {
	sas, err := s.serviceAccounts(r.Context(), c.ident)
	if err != nil {
		return "", pageData{}, err
	}
	return "admin", pageData{Title: "Administration", Data: sas}, nil
}
