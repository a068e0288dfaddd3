#!/usr/bin/env bash
# The browser of the end-to-end tests (tests/agent_desktop/test_e2e_browser.py): Debian's Chromium
# at /usr/bin/chromium, driven by Playwright with that executable (never `playwright install`), and
# CJK fonts so that the Chinese pages render (screenshots show characters, not boxes).
set -euo pipefail

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
fonts=$(fc-list 2>/dev/null || true)
if [[ $fonts != *"CJK"* ]]; then
    missing+=(fonts-noto-cjk)
fi
if ((${#missing[@]} == 0)); then
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "ensure-browser: install ${missing[*]} (Chromium at /usr/bin/chromium) with your package manager" >&2
    exit 1
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "ensure-browser: installing ${missing[*]}"
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; then
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
