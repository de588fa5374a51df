# Sourced by images/build-local.sh and e2e/lib/images.sh: writes the podman configuration this
# machine needs into "$1" (the image work folder) and exports CONTAINERS_CONF. The machine's quirks
# (platform-notes §A): no CAP_SYS_RESOURCE, so podman needs runc and ulimits no higher than the hard
# limits; crun refuses the cgroup v1 hybrid layout.
write_podman_conf() { # WORK_DIR
  local hard
  mkdir -p "$1"
  # podman asks for nofile 1048576 and nproc above what this machine's hard limits allow
  hard="$(ulimit -Hn)"
  [ "$hard" = unlimited ] && hard=1048576
  cat >"$1/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=${hard}:${hard}", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
  export CONTAINERS_CONF="$1/containers.conf"
}
