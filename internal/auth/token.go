// Package auth authenticates every RPC from its bearer token and decides,
// from one policy table, which roles may call it.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// tokenPrefix marks Helpline tokens so that leaked ones are easy to find.
const tokenPrefix = "hl_"

// NewToken returns a random 256-bit secret token and the hash to store.
func NewToken() (secret string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	secret = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashToken(secret)
}

// HashToken returns the SHA-256 of a token: tokens are high-entropy random
// secrets, so a fast hash is right and checking one costs microseconds.
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	return h[:]
}
