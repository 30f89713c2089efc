package legacy

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
)

// maxJSONBody bounds every JSON request body; the largest legitimate one is
// an export request with its filters, far below this.
const maxJSONBody = 1 << 20

// form is a decoded request body whose fields are checked one by one, so
// errors come out per field the way DRF serializers report them.
type form struct {
	raw  map[string]json.RawMessage
	errs map[string][]string
}

// readForm decodes a JSON object (or, as DRF also accepted, a URL-encoded
// form). An empty body is an empty form. A body that does not parse is
// DRF's parse error.
func readForm(w http.ResponseWriter, r *http.Request) (*form, error) {
	f := &form{raw: map[string]json.RawMessage{}, errs: map[string][]string{}}
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		r.Body = body
		if err := r.ParseForm(); err != nil {
			return nil, &reply{http.StatusBadRequest, map[string]string{"detail": "Form parse error - " + err.Error()}}
		}
		for k, v := range r.PostForm {
			b, _ := json.Marshal(v[0])
			f.raw[k] = b
		}
		return f, nil
	}
	if err := decodeJSON(body, &f.raw); err != nil {
		return nil, err
	}
	return f, nil
}

// decodeJSON reads one JSON value into v; an empty body leaves v alone.
func decodeJSON(body io.Reader, v any) error {
	err := json.NewDecoder(body).Decode(v)
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &mbe):
		return errorReply(http.StatusRequestEntityTooLarge, "Request body too large.")
	case errors.As(err, &ute):
		field := ute.Field
		if field == "" {
			return &reply{http.StatusBadRequest, map[string]string{"detail": "JSON parse error - expected an object"}}
		}
		return errorReply(http.StatusBadRequest, `Invalid value for "`+field+`".`)
	default:
		return &reply{http.StatusBadRequest, map[string]string{"detail": "JSON parse error - " + err.Error()}}
	}
}

// str returns field name as a string, recording DRF's messages when it is
// missing, blank or not a string.
func (f *form) str(name string, required bool) string {
	raw, ok := f.raw[name]
	if !ok || string(raw) == "null" {
		if required {
			f.errs[name] = append(f.errs[name], "This field is required.")
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.errs[name] = append(f.errs[name], "Not a valid string.")
		return ""
	}
	if required && strings.TrimSpace(s) == "" {
		f.errs[name] = append(f.errs[name], "This field may not be blank.")
	}
	return s
}

// err is the collected field errors as DRF's 400, or nil.
func (f *form) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	return &reply{http.StatusBadRequest, f.errs}
}

// register is endpoint #12.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	username := f.str("username", true)
	email := f.str("email", false)
	password := f.str("password", true)
	password2 := f.str("password2", true)
	if err := f.err(); err != nil {
		return err
	}
	if password != password2 {
		return &reply{http.StatusBadRequest, map[string][]string{"non_field_errors": {"Passwords do not match"}}}
	}
	in := auth.RegisterInput{Username: username, Password: password, ClientKey: auth.ClientKey(r)}
	if email != "" {
		in.Email = &email
	}
	if _, err := h.Auth.Register(r.Context(), in); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"detail": "User created successfully"})
	return nil
}

// login is endpoint #13. Its refresh token is of the legacy class: the
// frontend keeps presenting it after refreshing, for its whole lifetime.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	username := f.str("username", true)
	password := f.str("password", true)
	if err := f.err(); err != nil {
		return err
	}
	if strings.ContainsRune(username, 0) || !utf8.ValidString(username) {
		// No account can have such a name (Register refuses it), but
		// auth.Login would put it in a query, where a NUL byte fails the
		// statement (bun refuses to format it) and becomes a 500.
		return apperr.ErrUnauthenticated
	}
	t, err := h.Auth.Login(r.Context(), username, password, auth.ClientIP(r), auth.ClassLegacy)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"refresh": t.RefreshToken, "access": t.AccessToken})
	return nil
}

// refresh is endpoint #14.
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	token := f.str("refresh", true)
	if err := f.err(); err != nil {
		return err
	}
	t, err := h.Auth.Refresh(r.Context(), token)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"access": t.AccessToken, "refresh": t.RefreshToken})
	return nil
}

// userJSON is the shape of #15, as Django's serializer gave it.
type userJSON struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

// user is endpoint #15.
func (h *Handler) user(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.RequireCaller(r.Context())
	if err != nil {
		return err
	}
	u, err := h.Auth.UserByID(r.Context(), c.UserID)
	if err != nil {
		return err
	}
	out := userJSON{ID: u.ID, Username: u.Username}
	if u.Email != nil {
		out.Email = *u.Email // Django's email is "" when none, never null
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
