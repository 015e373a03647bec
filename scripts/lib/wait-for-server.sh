# Sourced by the bench scripts: waits until the server started with `--addr 127.0.0.1:0` has
# printed the address it got ("listening on URL" in LOG) and answers /api/window; sets `url`.
# Port 0, so nothing can take the port between choosing and binding it.
#   wait_for_server LOG NAME
wait_for_server() {
  url=""
  for _ in $(seq 100); do
    url=$(awk '/^listening on /{print $3; exit}' "$1")
    [ -n "$url" ] && curl -fs "$url/api/window" >/dev/null && return 0
    sleep 0.1
  done
  echo "$2: the server never printed its address:" >&2
  cat "$1" >&2
  exit 1
}
