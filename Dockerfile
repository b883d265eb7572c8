# Caddy with the Plex Manager plugin, built with Caddy's builder pattern.
#
#   docker build -t caddy-plex-manager .
#   docker run -d -p 80:80 -p 443:443 \
#     -v $PWD/Caddyfile:/etc/caddy/Caddyfile -v caddy_data:/data -v caddy_config:/config \
#     caddy-plex-manager
#
# The plugin keeps its database in <caddy data dir>/plex_manager (/data/caddy/plex_manager in
# the caddy image): keep /data on a volume. The first start logs a one-time setup code
# (`docker logs`), or print one with `docker exec <container> caddy plex-manager setup-code`.

FROM caddy:2.11-builder AS build
# go.mod asks for Go 1.26: let the go command fetch that toolchain if the builder's Go is older.
ENV GOTOOLCHAIN=auto
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN xcaddy build v2.11.9 \
	--with github.com/plex-manager/caddy-plex-manager=/src \
	--output /usr/bin/caddy \
 && /usr/bin/caddy list-modules | grep -qx plex_manager

FROM caddy:2.11
COPY --from=build /usr/bin/caddy /usr/bin/caddy
