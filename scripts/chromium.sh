#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver for the console's browser test
# (make test), once. Nothing else is downloaded: the test drives the
# browser with chromedriver from Go.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
	exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's chromium and chromium-driver for the browser test"
$SUDO apt-get install -y -q chromium chromium-driver >/dev/null ||
	{ $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium chromium-driver >/dev/null; }
