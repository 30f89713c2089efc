# A static cutline binary on an empty base image, run as a non-root user
# with its data (SQLite database, blobs) in a volume.
#
#   docker build -t cutline .
#   docker run -p 8080:8080 -v cutline-data:/data cutline
#
# compose.yaml runs it with PostgreSQL and MinIO instead.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The README's build command: pure Go (no cgo, so the binary needs no libc),
# no local paths or symbol tables in the binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cutline . \
 && /out/cutline version \
 && mkdir -p /out/data /out/tmp && chmod 1777 /out/tmp \
 && echo 'cutline:x:65532:65532::/data:/cutline' > /out/passwd \
 && echo 'cutline:x:65532:' > /out/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
# Multipart uploads spool to the temporary folder.
COPY --from=build /out/tmp /tmp
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/cutline /cutline
USER 65532:65532
ENV ADDR=:8080 DATA_DIR=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/cutline"]
