package open311

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/helpline/helpline/internal/httpsec"
)

// checked refuses a request whose parameters are malformed before next
// sees it (so before any call reaches gRPC): 400 naming the parameter.
// Every answer carries Cache-Control: no-store and nosniff.
func (h *Handler) checked(next http.HandlerFunc, pathParams ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		httpsec.Set(w.Header())
		if err := checkParams(r, pathParams); err != nil {
			h.fail(w, r, err)
			return
		}
		next(w, r)
	}
}

// checkParams validates the path parameters named and every query and
// form parameter: valid UTF-8, each given at most once, and lat and long,
// when given, finite numbers in range, given together.
func checkParams(r *http.Request, pathParams []string) error {
	for _, name := range pathParams {
		if !utf8.ValidString(r.PathValue(name)) {
			return badRequest("%s is not valid UTF-8", name)
		}
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("the parameters are not a valid query string or application/x-www-form-urlencoded body: %v", err)
	}
	keys := make([]string, 0, len(r.Form))
	for k := range r.Form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return badRequest("a parameter name is not valid UTF-8")
		}
		vs := r.Form[k]
		if len(vs) > 1 {
			return badRequest("%s is given %d times: give it once", k, len(vs))
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return badRequest("%s is not valid UTF-8", k)
			}
		}
	}
	lat, hasLat := r.Form["lat"]
	long, hasLong := r.Form["long"]
	if hasLat != hasLong {
		return badRequest("lat and long go together: give both or neither")
	}
	if hasLat {
		if err := coordinate("lat", lat[0], 90); err != nil {
			return err
		}
		if err := coordinate("long", long[0], 180); err != nil {
			return err
		}
	}
	return nil
}

// coordinate checks a latitude or longitude in decimal degrees.
func coordinate(name, value string, limit float64) error {
	f, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return badRequest("%s must be a number of decimal degrees, not %q", name, value)
	}
	if f < -limit || f > limit {
		return badRequest("%s must be between %s and %s", name, fmt.Sprint(-limit), fmt.Sprint(limit))
	}
	return nil
}
