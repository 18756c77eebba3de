# Builds the helpline binary into a small image; used by docker-compose.yml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/helpline ./cmd/helpline

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/helpline /usr/local/bin/helpline
USER nonroot
ENTRYPOINT ["/usr/local/bin/helpline"]
