#!/usr/bin/env bash
# Installs what the end-to-end test needs, once, into $CSPEC_E2E_DIR (default
# ~/.cache/contractspec-e2e): code-server (a real VS Code build served to a browser) and
# puppeteer-core from npm, Debian's chromium and ripgrep. Nothing is downloaded from
# anywhere but the npm registry and Debian: code-server's own postinstall is replaced by
# the same steps with Debian's ripgrep in place of the one @vscode/ripgrep would download,
# and native modules are built from source against the system's Node headers.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3   # the last release that runs on Node 20
PUPPETEER_VERSION=24.9.0
dir="${CSPEC_E2E_DIR:-$HOME/.cache/contractspec-e2e}"
stamp="$dir/.installed-$CODE_SERVER_VERSION-$PUPPETEER_VERSION"
[[ -f "$stamp" ]] && exit 0

if ! command -v chromium >/dev/null || ! command -v rg >/dev/null \
    || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ripgrep libkrb5-dev \
    fonts-dejavu-core >/dev/null
fi

export npm_config_nodedir=/usr npm_config_yes=true
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
mkdir -p "$dir"
cd "$dir"
[[ -f package.json ]] || echo '{"private": true}' >package.json
npm install --ignore-scripts --no-save "code-server@$CODE_SERVER_VERSION" \
  "puppeteer-core@$PUPPETEER_VERSION"

# code-server's own native module, built here (its prebuilt binary is a download), then
# code-server's postinstall, by hand.
npm rebuild argon2 --dangerously-allow-all-scripts
vscode="$dir/node_modules/code-server/lib/vscode"
cd "$vscode"
npm install --ignore-scripts --omit=dev
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm rebuild --dangerously-allow-all-scripts
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
(cd extensions && npm install --ignore-scripts --omit=dev)
touch "$stamp"
