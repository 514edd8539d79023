# Steps shared by scripts/test and scripts/bench. Source it from the
# repository's root; it sets `root`.
root=$PWD

step() { printf '\n==> %s\n' "$*"; }

# A .venv with moto[server], cfn-lint, aws-sam-cli, cargo-lambda and the
# Tryton desktop client, installed once per requirements change; on PATH.
ensure_python_tools() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  local stamp=.venv/.herald-requirements
  if ! cmp -s scripts/requirements-test.txt "$stamp"; then
    .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
    # The desktop client's own dependencies (GTK through PyGObject) are not
    # needed: the test stubs `gi`, so only the package itself is installed.
    .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -r tests/clients/requirements-tryton.txt
    cp scripts/requirements-test.txt "$stamp"
  fi
  export PATH="$root/.venv/bin:$PATH"
}

# trytond (SQLite) with the module integrations/tryton installed editable,
# in its own venv (.venv-trytond): the module's tests and the end-to-end test
# with the real server.
ensure_trytond() {
  if [ ! -x .venv-trytond/bin/python ]; then
    python3 -m venv .venv-trytond
  fi
  # Installed again when the requirements or the package's metadata change.
  local stamp=.venv-trytond/.herald-requirements wanted
  wanted=$(cat integrations/tryton/requirements-test.txt integrations/tryton/pyproject.toml)
  if [ "$wanted" != "$(cat "$stamp" 2>/dev/null)" ]; then
    .venv-trytond/bin/pip install --quiet --disable-pip-version-check -r integrations/tryton/requirements-test.txt
    .venv-trytond/bin/pip install --quiet --disable-pip-version-check --no-deps -e integrations/tryton
    printf '%s' "$wanted" > "$stamp"
  fi
}

# Debian's chromium for the browser tests (web/tests), installed once.
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "the browser tests need Debian's chromium: apt-get install chromium (as root)" >&2
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  export CHROMIUM=/usr/bin/chromium
}

# Dummy credentials, a region, and no instance-metadata lookups: nothing
# here ever reaches AWS (traffic goes to moto on loopback only).
local_aws_environment() {
  export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_EC2_METADATA_DISABLED=true
  unset AWS_SESSION_TOKEN AWS_PROFILE
}

# moto server on a free loopback port, stopped when the script exits;
# exports AWS_ENDPOINT_URL.
start_moto() {
  local port moto_log
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  moto_log=$(mktemp)
  python scripts/moto_server.py "$port" >"$moto_log" 2>&1 &
  moto_pid=$!
  trap 'kill $moto_pid 2>/dev/null || true; wait $moto_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then break; fi
    if ! kill -0 $moto_pid 2>/dev/null; then cat "$moto_log"; echo "moto server did not start"; exit 1; fi
    sleep 0.2
  done
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  echo "moto server on $AWS_ENDPOINT_URL"
}
