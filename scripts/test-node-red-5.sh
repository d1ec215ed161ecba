#!/usr/bin/env bash
# The Node-RED tests (node-red-node-test-helper, a real runtime, every example) once more against Node-RED 5, which
# needs Node >= 22. Both come from the npm registry into .ci/cache/node-red-5/ (git-ignored, kept between runs):
# Node as the platform's node-<os>-<arch> package (the binary inside a registry package), Node-RED as node-red@5.
# The tests find that Node-RED through NODE_RED_MODULE (test/nodes/red-helper.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=22.23.3
NODE_RED_VERSION=5.0.7
cache=.ci/cache/node-red-5
platform=$(node -p 'process.platform + "-" + process.arch')
node22="$cache/node/node_modules/node-$platform/bin/node"
red="$cache/node-red/node_modules/node-red"

installed_version() { # $1 = package.json path
  [ -f "$1" ] && node -p "require('./$1').version" || true
}

if [ "$(installed_version "$cache/node/node_modules/node-$platform/package.json")" != "$NODE_VERSION" ]; then
  rm -rf "$cache/node" && mkdir -p "$cache/node"
  npm install --prefix "$cache/node" --no-save --no-package-lock --no-audit --no-fund "node-$platform@$NODE_VERSION"
fi
if [ "$(installed_version "$red/package.json")" != "$NODE_RED_VERSION" ]; then
  rm -rf "$cache/node-red" && mkdir -p "$cache/node-red"
  # npm runs on the Node at hand here, older than Node-RED 5 asks for: only the tests run it, on Node 22.
  npm install --prefix "$cache/node-red" --no-save --no-package-lock --no-audit --no-fund --engine-strict=false --loglevel=error "node-red@$NODE_RED_VERSION"
fi

[ -d dist/test/nodes ] || npm run build
echo "Node-RED $NODE_RED_VERSION on Node $("$node22" --version)"
NODE_RED_MODULE="$PWD/$red" "$node22" node_modules/mocha/bin/mocha.js --no-config --timeout 20000 --exit 'dist/test/nodes/**/*.test.js'
