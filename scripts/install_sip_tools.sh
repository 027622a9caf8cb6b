#!/usr/bin/env bash
# The SIP tests call the gateway with real SIP software from Debian's packages: baresip (a SIP phone
# that plays WAV files and records what it hears), SIPp (package sip-tester: load and scripted calls)
# and Kamailio (registrar, and the dispatcher in front of two Helpline processes). Install them when
# missing; as a non-root user or off Debian, say what to install instead.
set -euo pipefail
missing=()
command -v baresip >/dev/null 2>&1 || missing+=(baresip)
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v kamailio >/dev/null 2>&1 || [ -x /usr/sbin/kamailio ] || missing+=(kamailio)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "SIP tools missing: install Debian's ${missing[*]} (the SIP tests skip without them)" >&2
  exit 0
fi
echo "==> installing Debian's ${missing[*]} for the SIP tests"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
  || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
# Debian starts Kamailio as a service on 5060; the tests run their own instances on free ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kamailio 2>/dev/null; then
  systemctl stop kamailio || true
fi
