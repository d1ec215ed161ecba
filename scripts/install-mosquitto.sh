#!/usr/bin/env bash
# Installs the Mosquitto MQTT broker from apt when it is missing (the scale-out test, test/nodes/scale-out.test.ts,
# starts its own broker from it). Called by .ci/run and, when running as root, by the test itself.
set -euo pipefail
if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then exit 0; fi
sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
# The package's own service is not wanted (and not started where no init system runs): the test starts a broker.
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
