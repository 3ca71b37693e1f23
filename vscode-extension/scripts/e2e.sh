#!/usr/bin/env bash
# End-to-end test of the packaged extension in a real VS Code build: code-server with the
# .vsix installed, driven by Debian's headless chromium through puppeteer-core (e2e.mjs).
# Takes the screenshots of docs/editors.md (docs/images/vscode-*.png).
#
#   bash vscode-extension/scripts/e2e.sh          # installs what it needs on first use
#
# CSPEC_E2E_SCREENSHOTS: where the screenshots go (default docs/images).
# CSPEC_E2E_DIR: where code-server and puppeteer-core are installed (default
# ~/.cache/contractspec-e2e). The server runs this checkout's Python code (PYTHONPATH), with
# the `python3` on PATH unless CSPEC_E2E_PYTHON names another.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/.." && pwd)"
export CSPEC_E2E_DIR="${CSPEC_E2E_DIR:-$HOME/.cache/contractspec-e2e}"
python="${CSPEC_E2E_PYTHON:-$(command -v python3)}"

bash "$here/scripts/e2e-setup.sh"

cd "$here"
[[ -d node_modules ]] || npm ci
npm run --silent bundle
npm run --silent package >/dev/null

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The workspace: the LSP test workspace, generated once from its corrected spec, then with
# its mistake (`total: mony`) back, for the editor to find.
ws="$work/shop"
cp -r "$repo/tests/data/lsp" "$ws"
sed -i 's/total: mony/total: money/' "$ws/spec/shop.cspec"
PYTHONPATH="$repo" "$python" -m contractspec.cli.main gen "$ws" >/dev/null
sed -i '0,/total: money/s//total: mony/' "$ws/spec/shop.cspec"

data="$work/data"
extensions="$work/extensions"
mkdir -p "$data/User"
cat >"$data/User/settings.json" <<JSON
{
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "editor.minimap.enabled": false,
  "editor.fontSize": 14,
  "window.commandCenter": false,
  "chat.commandCenter.enabled": false,
  "workbench.colorTheme": "Default Dark Modern",
  "contractspec.server.python": "$python"
}
JSON

code_server="$CSPEC_E2E_DIR/node_modules/.bin/code-server"
"$code_server" --user-data-dir "$data" --extensions-dir "$extensions" \
  --install-extension "$here/contractspec.vsix" >/dev/null

port="${CSPEC_E2E_PORT:-8765}"
PYTHONPATH="$repo" "$code_server" --auth none --bind-addr "127.0.0.1:$port" \
  --user-data-dir "$data" --extensions-dir "$extensions" --config "$work/config.yaml" \
  --disable-telemetry --disable-update-check --disable-workspace-trust \
  "$ws" >"$work/code-server.log" 2>&1 &
server_pid=$!

status=0
NODE_PATH="$CSPEC_E2E_DIR/node_modules" node "$here/scripts/e2e.mjs" \
  --url "http://127.0.0.1:$port/?folder=$ws" --workspace "$ws" \
  --screenshots "${CSPEC_E2E_SCREENSHOTS:-$repo/docs/images}" || status=$?
if [[ $status -ne 0 ]]; then
  echo "--- code-server log" >&2
  tail -40 "$work/code-server.log" >&2
fi
exit $status
