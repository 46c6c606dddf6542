#!/usr/bin/env bash
# Installs the servers and browser the e-mail tests drive on loopback: Dovecot (IMAP) and
# Chromium (for Playwright). Only when missing and only as root; otherwise says why and leaves
# the tests to skip (or fail, with FIKAFOLLOW_TEST_REQUIRE_SERVICES=1).
set -euo pipefail

missing=()
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "test-services: not root, cannot install ${missing[*]}; those tests will be skipped" >&2
    exit 0
fi
echo "test-services: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# another apt run (another worktree, CI set-up) may hold the lock: wait for it rather than fail
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the system dovecot after install where it can; the tests run their own instance
# on a port of their own, so the system one is not needed
