# Sourced by setup.sh: how to tell whether a system package is present.
pkg_present() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
