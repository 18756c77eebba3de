package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/helpline/helpline/internal/apperr"
)

// checkParams refuses, before any call reaches gRPC, a request whose path
// or query parameters are not valid UTF-8 (gRPC could not marshal them and
// would answer 500): 400 naming the parameter.
func checkParams(mux **runtime.ServeMux) runtime.Middleware {
	return func(next runtime.HandlerFunc) runtime.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
			if err := paramsError(r, pathParams); err != nil {
				_, out := runtime.MarshalerForRequest(*mux, r)
				runtime.HTTPError(r.Context(), *mux, out, w, r, grpcStatus(err))
				return
			}
			next(w, r, pathParams)
		}
	}
}

// paramsError returns an INVALID_ARGUMENT error naming the first path or
// query parameter that is not valid UTF-8 or not a valid query string.
func paramsError(r *http.Request, pathParams map[string]string) error {
	names := make([]string, 0, len(pathParams))
	for k := range pathParams {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !utf8.ValidString(pathParams[k]) {
			return apperr.Invalid(k, "is not valid UTF-8")
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return apperr.Invalid("query", "is not a valid query string")
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return apperr.Invalid("query", "a parameter name is not valid UTF-8")
		}
		for _, v := range q[k] {
			if !utf8.ValidString(v) {
				return apperr.Invalid(k, "is not valid UTF-8")
			}
		}
	}
	return nil
}

// grpcStatus turns an apperr error into the gRPC status error the gateway
// writes.
func grpcStatus(err error) error {
	st, _ := apperr.ToStatus(err)
	return st.Err()
}

// strictJSON is the gateway's JSON marshaler, whose decoder refuses
// anything after the request's JSON value (`{...}garbage`).
type strictJSON struct{ *runtime.JSONPb }

// NewDecoder returns a decoder of one JSON value and nothing after it.
func (m strictJSON) NewDecoder(r io.Reader) runtime.Decoder {
	d := json.NewDecoder(r)
	return strictDecoder{d: d, inner: runtime.DecoderWrapper{Decoder: d, UnmarshalOptions: m.UnmarshalOptions}}
}

type strictDecoder struct {
	d     *json.Decoder
	inner runtime.Decoder
}

// errTrailing is the answer to data after the body's JSON value.
var errTrailing = errors.New("body: unexpected data after the JSON value")

// Decode decodes one JSON value into v and refuses trailing data.
func (s strictDecoder) Decode(v any) error {
	if err := s.inner.Decode(v); err != nil {
		return err
	}
	if _, err := s.d.Token(); !errors.Is(err, io.EOF) {
		return errTrailing
	}
	return nil
}
