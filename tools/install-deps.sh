#!/bin/sh
# Installs every Debian package Popbiff's build, applet, tests and benchmarks
# need. Idempotent: quiet and quick when everything is already there.
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libglib2.0-dev libglib2.0-bin glib-networking
  libgtk-3-dev libsecret-1-dev libsecret-tools
  libgsasl-dev libgmime-3.0-dev libjson-glib-dev libgnutls28-dev nettle-dev
  libayatana-appindicator3-dev
  gettext itstool desktop-file-utils appstream groff-base
  dovecot-core dovecot-pop3d openssl gnutls-bin
  xvfb xauth x11-utils dbus dbus-x11 gnome-keyring at-spi2-core
  python3 python3-dogtail python3-gi gir1.2-gtk-3.0 trayer imagemagick fonts-vlgothic
  valgrind mpop hyperfine procps time
  gnubiff mailnag
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Packaged services (dovecot) must not start system-wide during install: the
# test suite runs its own private instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
