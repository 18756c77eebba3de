// Package migrations holds the SQL schema migrations, embedded in the binary
// and applied with goose.
package migrations

import "embed"

// FS holds every *.sql migration in order of its numeric prefix.
//
//go:embed *.sql
var FS embed.FS
