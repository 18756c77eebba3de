# Builds the helpline server and the helplinectl operator CLI into one small
# image; used by docker-compose.yml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/helpline ./cmd/helpline \
 && CGO_ENABLED=0 go build -trimpath -o /out/helplinectl ./cmd/helplinectl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/helpline /out/helplinectl /usr/local/bin/
USER nonroot
ENTRYPOINT ["/usr/local/bin/helpline"]
