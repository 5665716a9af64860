#!/usr/bin/env bash
# Build, lint, test and package the VS Code extension. CI calls this; it needs Node >= 20 and
# the npm registry (nothing else is downloaded).
set -euo pipefail
cd "$(dirname "$0")"

export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

npm ci --no-progress
npm run lint
npm run compile
npm test
rm -f ./*.vsix
npx --no-install vsce package --allow-missing-repository --no-update-package-json --out "aether-$(node -p 'require("./package.json").version').vsix"

vsix=$(ls ./*.vsix)
# The package must hold the compiled extension and its runtime client library, and no sources,
# tests or dev tools.
# (python's zipfile, not unzip: a fresh machine may lack unzip)
listing=$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$vsix")
for needed in extension/out/extension.js extension/node_modules/vscode-languageclient/package.json; do
  grep -q "$needed" <<<"$listing" || { echo "build.sh: $vsix lacks $needed" >&2; exit 1; }
done
for unwanted in extension/src/ extension/out/test/ node_modules/typescript/ node_modules/eslint/ node_modules/@vscode/vsce/; do
  if grep -q "$unwanted" <<<"$listing"; then echo "build.sh: $vsix contains $unwanted" >&2; exit 1; fi
done
echo "build.sh: built $vsix ($(du -h "$vsix" | cut -f1))"
