#!/usr/bin/env bash
# Install the Debian packages a make target needs, only when some are missing.
#
#   .ci/system-deps.sh test   PostgreSQL + the libraries Qt needs offscreen + CJK fonts
#   .ci/system-deps.sh demo   the libraries PySide6 needs for a real window (xcb) + CJK fonts
#   .ci/system-deps.sh package  binutils (PyInstaller reads shared libraries with objdump)
#
# As root the missing packages are installed with apt-get; otherwise the one command to run is
# printed and the script fails. On a system without dpkg nothing is checked.
set -euo pipefail

QT_LIBS=(libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0
         libx11-6 fonts-noto-cjk)
XCB_LIBS=(libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
          libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1)

case "${1:-}" in
  test) wanted=("${QT_LIBS[@]}") ;;
  demo) wanted=("${QT_LIBS[@]}" "${XCB_LIBS[@]}") ;;
  package) wanted=("${QT_LIBS[@]}" binutils) ;;
  *) echo "usage: $0 test|demo|package" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "system-deps: no dpkg here; make sure these are installed: ${wanted[*]} (and PostgreSQL for tests)"
  exit 0
fi

have_pg() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if [[ "$1" == test ]] && ! have_pg; then
  missing+=(postgresql)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "system-deps: missing Debian packages: ${missing[*]}" >&2
  echo "system-deps: run:  sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
