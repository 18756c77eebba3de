#!/usr/bin/env bash
# Installs Debian's nginx (the "light" build: proxy, TLS, HTTP/2) for the
# deployment rehearsal (make test-deploy), once, without starting the
# distribution's own nginx service: the rehearsal runs its own nginx with
# its own configuration on free loopback ports.
set -euo pipefail
if [ -x /usr/sbin/nginx ]; then
	exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's nginx-light for the deployment rehearsal"
# Keep the package's service from starting (no init system here, and port 80 is not ours).
policy=/usr/sbin/policy-rc.d
created=""
if [ ! -e $policy ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null && $SUDO chmod +x $policy && created=1
fi
trap '[ -n "$created" ] && $SUDO rm -f $policy' EXIT
$SUDO apt-get install -y -q nginx-light >/dev/null ||
	{ $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q nginx-light >/dev/null; }
