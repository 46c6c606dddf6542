#!/usr/bin/env bash
# Installs the servers and browser the e-mail tests drive on loopback: Dovecot (IMAP) and
# Chromium (for Playwright), and axe-core (the accessibility checker the browser tests inject).
# Only when missing; the Debian packages only as root. Otherwise says why and leaves the tests
# to skip (or fail, with FIKAFOLLOW_TEST_REQUIRE_SERVICES=1).
set -euo pipefail

# axe-core from npm, pinned, into a folder of its own (never a global install); the browser tests
# read $FIKAFOLLOW_AXE_DIR/node_modules/axe-core/axe.min.js, with the same default folder
AXE_VERSION=4.10.3
AXE_DIR=${FIKAFOLLOW_AXE_DIR:-/tmp/fikafollow-axe}
installed=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$AXE_DIR/node_modules/axe-core/package.json" 2>/dev/null | head -n1 || true)
if [ "$installed" != "$AXE_VERSION" ]; then
    if command -v npm >/dev/null; then
        echo "test-services: installing axe-core@$AXE_VERSION into $AXE_DIR" >&2
        mkdir -p "$AXE_DIR"
        npm install --prefix "$AXE_DIR" --no-audit --no-fund --no-save --silent "axe-core@$AXE_VERSION" >&2
    else
        echo "test-services: npm is not installed, cannot install axe-core; the browser tests will be skipped" >&2
    fi
fi

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
