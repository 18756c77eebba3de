package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/natsbus"
	"github.com/helpline/helpline/internal/outbox"
)

// outboxCommand re-publishes events kept in the outbox:
//
//	helpline outbox replay -nats-url nats://... -since 24h
func outboxCommand(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "replay" {
		return errors.New("usage: helpline outbox replay -nats-url URL -since 24h|2026-11-20T00:00:00+05:30")
	}
	var c config
	fs := flag.NewFlagSet("helpline outbox replay", flag.ContinueOnError)
	c.flags(fs)
	c.natsFlags(fs)
	natsURL := fs.String("nats-url", "nats://127.0.0.1:4222", "NATS server(s) to publish to; for serve's embedded server, user helpline and the password in its data dir's nats-password file (HELPLINE_NATS_URL)")
	c.bind(fs)
	since := fs.String("since", "24h", "replay events written since this time (RFC 3339) or this long ago (a duration)")
	if err := c.parseArgs(fs, args[1:]); err != nil {
		return err
	}
	c.NATSURL = *natsURL
	if err := errors.Join(c.finishTLS()...); err != nil {
		return err
	}
	from, err := time.Parse(time.RFC3339, *since)
	if err != nil {
		d, derr := time.ParseDuration(*since)
		if derr != nil {
			return fmt.Errorf("-since: %q is neither a time (RFC 3339) nor a duration", *since)
		}
		from = time.Now().Add(-d)
	}
	pool, err := db.Open(ctx, c.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	if oldest, err := outbox.Oldest(ctx, pool); err == nil && !oldest.IsZero() && oldest.After(from) {
		fmt.Fprintf(stdout, "note: the outbox keeps events since %s (the retention window); older ones are gone\n", oldest.In(clock.IST).Format(time.RFC3339))
	}
	nc, err := natsbus.Connect(*natsURL, "helpline-replay", c.NATSAuth, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	relay := outbox.NewRelay(pool, js, clock.Real{}, log, outbox.RelayConfig{})
	n, err := relay.Replay(ctx, from)
	fmt.Fprintf(stdout, "re-published %d events written since %s\n", n, from.In(clock.IST).Format(time.RFC3339))
	return err
}
