# Builds the helpline server, the helplinectl operator CLI and the
# helpline-nats NATS JetStream node into one small image; used by
# docker-compose.yml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/helpline ./cmd/helpline \
 && CGO_ENABLED=0 go build -trimpath -o /out/helplinectl ./cmd/helplinectl \
 && CGO_ENABLED=0 go build -trimpath -o /out/helpline-nats ./cmd/helpline-nats \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/helpline /out/helplinectl /out/helpline-nats /usr/local/bin/
# A NATS node's store; a new named volume mounted here takes its owner, so
# the nonroot user can write it.
COPY --from=build --chown=nonroot:nonroot /out/data /data
USER nonroot
ENTRYPOINT ["/usr/local/bin/helpline"]
