# pid 1 of `cargo xtask fresh`'s pid namespace (xtask/src/fresh.rs): run as
#   unshare --mount --propagation private --pid --fork --kill-child -- bash -c SCRIPT pid1 [NAME=VALUE...]
# as root, with the arguments (the host's network variables) passed on to `env` inside, and
#   ROOT        the fresh root, .../target/fresh/root (debootstrapped: etc/debian_version)
#   HOST_NS     the host's mount namespace (readlink /proc/self/ns/mnt), which it refuses to mount in
#   RUSTUP      the host's rustup home, bind-mounted read-only at /root/.rustup in the root
#   INNER       the bash command to run in the root as root (`cd /root/src/NAME && COMMAND`)
#   INNER_PATH  PATH in the root (the toolchain's bin first)
# In the private mount namespace and the fresh root it mounts /proc, /sys, a small /dev and the
# rustup home, then runs the chroot and reaps every orphan (daemonised chronyd); when it exits, the
# kernel ends what is left in the pid namespace.
set -eu
exec 2>&1
m() { echo "$ mount $*"; mount "$@"; }
[ "$(readlink /proc/self/ns/mnt)" != "$HOST_NS" ] || { echo "not a private mount namespace"; exit 1; }
case $ROOT in */target/fresh/root) [ -e "$ROOT/etc/debian_version" ] ;; *) false ;; esac ||
    { echo "$ROOT is not a fresh root"; exit 1; }
# The root a mount point, as / is on a real machine: the discovery stage's `unshare --mount
# --propagation private` fails with EINVAL on a plain directory.
m --bind "$ROOT" "$ROOT"
m -t proc -o nosuid,nodev,noexec proc "$ROOT/proc"
m -t sysfs -o ro,nosuid,nodev,noexec sysfs "$ROOT/sys"
m -t tmpfs -o nosuid,mode=0755,size=16m dev "$ROOT/dev"
d=$ROOT/dev
mkdir "$d/pts" "$d/shm"
for l in ptmx:pts/ptmx fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
    ln -s "${l#*:}" "$d/${l%%:*}"
done
for n in null zero full random urandom tty; do : > "$d/$n"; m --bind "/dev/$n" "$d/$n"; done
m -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$d/pts"
m -t tmpfs -o nosuid,nodev,mode=1777 shm "$d/shm"
mkdir -p "$ROOT/root/.rustup"
m --bind "$RUSTUP" "$ROOT/root/.rustup"
m -o remount,bind,ro "$ROOT/root/.rustup"
echo "==== inside: pid $$ of a new pid namespace, $INNER as $(id -un) in a chroot"
chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8 \
    TERM=dumb CI=true "XTASK_FRESH=inside" CARGO_HOME=/root/.cargo "PATH=$INNER_PATH" "$@" \
    /bin/bash -c "$INNER"
