#!/usr/bin/env bash
# Prove the FaceGuard .deb on a clean Debian (issue 12, "Must show"): debootstrap a minimal Debian
# (--variant=minbase, the host's release and mirror) into a temporary root, `apt-get install ./faceguard_*.deb`
# there (its Depends come from the mirror), create an unprivileged user `kiosk`, and as that user with a
# clean environment (env -i: no venv, no PYTHONPATH):
#   - `faceguard --version` and `faceguard self-test`;
#   - the kiosk in DEMO mode offscreen until the demo's access log holds a granted AND a denied event,
#     then SIGINT (exit 0); launch-to-first-video-frame time, median of STARTUP_RUNS launches
#     (FACEGUARD_TRACE_STARTUP=1 makes the kiosk print the wall-clock time of its first frame);
#   - the kiosk once on the xcb platform against an Xvfb display inside the root;
# then `apt-get purge faceguard` and show /opt/faceguard gone and the user's data still there.
# Mounts are undone and the temporary root removed on every exit path.
#
# Usage (as root, on a Debian amd64 host):  packaging/test_deb_in_chroot.sh [path/to/faceguard_VERSION_amd64.deb]
#   default .deb: dist/faceguard_<faceguard.__version__>_amd64.deb
# Environment:
#   MIRROR        Debian mirror (default: the first Debian URI in the host's apt sources)
#   SUITE         Debian release (default: VERSION_CODENAME from /etc/os-release)
#   STARTUP_RUNS  launches timed for the start-up median (default 5)
#   CACHE_DIR     where the pristine root tarball and downloaded .debs are kept (default build/chroot-cache)
#   DECISION_TIMEOUT  seconds the DEMO may take to log both decisions (default 180)
# See packaging/TESTING.md.
# shellcheck disable=SC2016  # dpkg-query formats: ${Package} is dpkg's, not the shell's
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SCRIPT_START=$(date +%s.%N)
STARTUP_RUNS=${STARTUP_RUNS:-5}
DECISION_TIMEOUT=${DECISION_TIMEOUT:-180}
FRAME_TIMEOUT=${FRAME_TIMEOUT:-120}
CACHE_DIR=${CACHE_DIR:-$REPO/build/chroot-cache}
# The kiosk user's environment: exactly this, nothing inherited from the caller.
KIOSK_ENV=(HOME=/home/kiosk PATH=/usr/bin:/bin USER=kiosk)
DEMO_DB=/home/kiosk/.local/share/faceguard/demo/faceguard-demo.db
DATA_DIR=/home/kiosk/.local/share/faceguard

ROOT=""
STEP_PID=""
CURRENT_STEP=""
WORK=""
STEPS=()
RESULT=1

say() { printf '[%6.1fs] %s\n' "$(elapsed "$SCRIPT_START")" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }
elapsed() { echo "$(date +%s.%N) - $1" | bc; }

# ---------------------------------------------------------------- clean-up, on every exit path
chroot_pids() {
    # Processes whose root directory is our temporary root (all started by this script inside it).
    local link pid
    [[ -n $ROOT ]] || return 0
    for link in /proc/[0-9]*/root; do
        pid=${link#/proc/}
        pid=${pid%/root}
        [[ $(readlink "$link" 2>/dev/null) == "$ROOT" ]] && echo "$pid"
    done
    return 0
}

kill_tree() { # kill_tree PID: PID and all its descendants, children first
    local child
    for child in $(ps -o pid= --ppid "$1"); do kill_tree "$child"; done
    kill -TERM "$1" 2>/dev/null || true
}

kill_chroot_processes() {
    local pids
    pids=$(chroot_pids)
    [[ -z $pids ]] && return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 50); do
        [[ -z $(chroot_pids) ]] && return 0
        sleep 0.1
    done
    pids=$(chroot_pids)
    # shellcheck disable=SC2086
    if [[ -n $pids ]]; then
        kill -KILL $pids 2>/dev/null || true
    fi
    sleep 0.5
}

cleanup() {
    local rc=$? i left mnt
    trap - EXIT INT TERM HUP
    set +e
    [[ -n $STEP_PID ]] && kill_tree "$STEP_PID" # an interrupted step
    if [[ -n $ROOT && -d $ROOT ]]; then
        kill_chroot_processes
        for mnt in $(root_mounts); do # lazy, in reverse order
            umount -l "$mnt" || echo "could not unmount $mnt" >&2
        done
        left=$(root_mounts)
        if [[ -n $left ]]; then
            echo "NOT removing $ROOT: still mounted there: $left" >&2
            rc=1
        else
            rm -rf --one-file-system "$ROOT"
        fi
    fi
    [[ -n $WORK ]] && echo "logs: $WORK"
    echo
    echo "================ summary ================"
    for i in "${STEPS[@]}"; do echo "$i"; done
    [[ -n $CURRENT_STEP ]] && echo "STOPPED     $CURRENT_STEP (interrupted)"
    [[ $rc -eq 0 && $RESULT -ne 0 ]] && rc=$RESULT
    printf 'total run time: %.1f s — %s\n' "$(elapsed "$SCRIPT_START")" "$([[ $rc -eq 0 ]] && echo PASSED || echo "FAILED (exit $rc)")"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------- helpers
mount_in() { # mount_in ARGS... TARGET
    mkdir -p "${*: -1}"
    mount "$@"
}

# The mounts under the temporary root, most recent first (/proc/self/mounts lists them in mount order).
# Read from the kernel, not remembered: the steps run in subshells.
root_mounts() {
    awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/self/mounts | tac
}

# Run a command in the root as root, with a fixed environment (nothing from the caller leaks in).
in_root() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        chroot "$ROOT" "$@"
}

# Run a command in the root as the unprivileged user `kiosk` with a clean environment plus the given
# NAME=VALUE words: as_kiosk [NAME=VALUE...] COMMAND... . setpriv execs (no fork), so the PID of a
# backgrounded as_kiosk ends up being the command's own PID and signals reach it directly.
# --default-signal=INT: bash starts background commands with SIGINT ignored; a user's Ctrl-C is not.
as_kiosk() {
    env -i --default-signal=INT /usr/sbin/chroot "$ROOT" /usr/bin/setpriv --reuid=kiosk --regid=kiosk --init-groups \
        /usr/bin/env -i "${KIOSK_ENV[@]}" "$@"
}

# start_as_kiosk LOG [NAME=VALUE...] COMMAND...: as_kiosk in the background, output to LOG; sets BG_PID
# to the command's own PID (the subshell execs, and so does everything after it).
start_as_kiosk() {
    local log=$1
    shift
    (exec env -i --default-signal=INT /usr/sbin/chroot "$ROOT" /usr/bin/setpriv --reuid=kiosk --regid=kiosk \
        --init-groups /usr/bin/env -i "${KIOSK_ENV[@]}" "$@" >"$log" 2>&1) &
    BG_PID=$!
}

# step NAME FUNCTION: run FUNCTION in a subshell with `set -e`, record PASS/FAIL and its time; stop at a failure.
step() {
    local name=$1 fn=$2 start rc
    start=$(date +%s.%N)
    CURRENT_STEP=$name
    echo
    say "=== $name"
    # In the background and waited for, so a TERM or INT to this script runs its clean-up at once.
    set +e
    (set -e; "$fn") &
    STEP_PID=$!
    wait "$STEP_PID"
    rc=$?
    STEP_PID=""
CURRENT_STEP=""
    CURRENT_STEP=""
    set -e
    local took
    took=$(printf '%.1f' "$(elapsed "$start")")
    if [[ $rc -eq 0 ]]; then
        STEPS+=("PASS  ${took}s  $name")
        say "--- PASS ($took s): $name"
    else
        STEPS+=("FAIL  ${took}s  $name (exit $rc)")
        say "--- FAIL ($took s): $name"
        exit 1
    fi
}

host_mirror() {
    local uri
    uri=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v -- '-security' | grep -m1 debian || true)
    if [[ -z $uri && -f /etc/apt/sources.list ]]; then
        uri=$(awk '$1 == "deb" && $2 !~ /security/ && $2 ~ /debian/ {print ($2 ~ /^\[/ ? $3 : $2); exit}' /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

# Wait until FILE has a line starting with PREFIX or PID exits; print the rest of that line.
wait_for_line() { # wait_for_line FILE PREFIX PID TIMEOUT
    local file=$1 prefix=$2 pid=$3 timeout=$4 line start
    start=$(date +%s.%N)
    while :; do
        line=$(grep -m1 -F -- "$prefix" "$file" 2>/dev/null || true)
        if [[ -n $line ]]; then
            echo "${line#*"$prefix"}"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { echo "process $pid ended before '$prefix'" >&2; return 1; }
        (($(echo "$(elapsed "$start") > $timeout" | bc))) && { echo "no '$prefix' within ${timeout}s" >&2; return 1; }
        sleep 0.05
    done
}

# SIGINT to PID, expect it to exit 0 within 30 s.
interrupt_and_expect_0() { # interrupt_and_expect_0 PID LOG
    local pid=$1 log=$2 rc
    kill -INT "$pid"
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "still running 30 s after SIGINT; its log:" >&2
        tail -20 "$log" >&2
        kill -KILL "$pid"
        return 1
    fi
    rc=0
    wait "$pid" || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "exit $rc after SIGINT (expected 0); its log:" >&2
        tail -30 "$log" >&2
        return 1
    fi
    echo "SIGINT -> exit 0"
}

no_qt_abort() { # no_qt_abort LOG
    if grep -n -i -E 'could not load the Qt platform plugin|no Qt platform plugin could be initialized|is needed to load the Qt xcb platform plugin|Aborted|Traceback' "$1"; then
        echo "the kiosk's output above shows a Qt platform or Python failure" >&2
        return 1
    fi
}

# ---------------------------------------------------------------- the steps
[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap, chroot and mounts need it)"
for tool in debootstrap chroot zstd bc dpkg-deb; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y debootstrap zstd bc)"
done
# shellcheck source=/dev/null
SUITE=${SUITE:-$(. /etc/os-release && echo "$VERSION_CODENAME")}
MIRROR=${MIRROR:-$(host_mirror)}
VERSION=$(sed -n 's/^__version__ *= *"\(.*\)"/\1/p' "$REPO/faceguard/__init__.py")
DEB=${1:-$REPO/dist/faceguard_${VERSION}_amd64.deb}
[[ -f $DEB ]] || die "no package at $DEB (make package builds it)"
DEB=$(realpath "$DEB")
CACHE_TAR=$CACHE_DIR/$SUITE-minbase.tar.zst
mkdir -p "$CACHE_DIR/apt-archives/partial" "$REPO/build"
ROOT=$(mktemp -d "$REPO/build/chroot.XXXXXX")
WORK=$REPO/build/chroot-test-logs # kept after the run; cleared at the start of the next
rm -rf "$WORK"
mkdir -p "$WORK"
say "package: $DEB ($(du -h "$DEB" | cut -f1)); Debian $SUITE from $MIRROR; temporary root $ROOT"

make_root() {
    if [[ ! -f $CACHE_TAR ]]; then
        say "no cached root: debootstrap --variant=minbase $SUITE (once; cached as $CACHE_TAR)"
        local fresh
        fresh=$(mktemp -d "$REPO/build/debootstrap.XXXXXX")
        if ! debootstrap --variant=minbase "$SUITE" "$fresh" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
            tail -20 "$WORK/debootstrap.log"
            rm -rf --one-file-system "$fresh"
            return 1
        fi
        chmod 755 "$fresh"
        tar -C "$fresh" --numeric-owner -I 'zstd -T0 -3' -cpf "$CACHE_TAR.tmp" .
        mv "$CACHE_TAR.tmp" "$CACHE_TAR"
        rm -rf --one-file-system "$fresh"
    fi
    tar -C "$ROOT" --numeric-owner -I zstd -xpf "$CACHE_TAR"
    chmod 755 "$ROOT" # it is /: a 0700 root (mktemp's) would lock every user but root out
    say "pristine root: $(du -sh "$ROOT" | cut -f1) from $CACHE_TAR ($(du -h "$CACHE_TAR" | cut -f1))"
}

mount_root() {
    mount_in -t proc proc "$ROOT/proc"
    mount_in -t sysfs sysfs "$ROOT/sys"
    # Binds are made private first, so nothing mounted under them propagates back to the host's /dev
    # when the host's mounts are shared (systemd's default).
    mount_in --bind /dev "$ROOT/dev"
    mount --make-private "$ROOT/dev"
    mount_in --bind /dev/pts "$ROOT/dev/pts"
    mount --make-private "$ROOT/dev/pts"
    mount_in -t tmpfs -o mode=1777 tmpfs "$ROOT/dev/shm"
    mount_in -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"
    # Downloaded .debs are kept between runs (apt checks each against the mirror's index).
    mount_in --bind "$CACHE_DIR/apt-archives" "$ROOT/var/cache/apt/archives"
    mount --make-private "$ROOT/var/cache/apt/archives"
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
    # The host's enabled apt sources replace debootstrap's one-line sources.list.
    rm -f "$ROOT/etc/apt/sources.list"
    local copied=0 f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -s $f ]] || continue
        mkdir -p "$ROOT$(dirname "$f")"
        cp "$f" "$ROOT$f"
        echo "apt source: $f"
        copied=$((copied + 1))
    done
    ((copied > 0)) || { echo "the host has no apt sources to copy" >&2; return 1; }
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d" # start no services in the chroot
    chmod 755 "$ROOT/usr/sbin/policy-rc.d"
    echo "mounted (unmounted in reverse order at exit):"
    root_mounts | tac | sed 's/^/  /'
}

install_deb() {
    cp "$DEB" "$ROOT/var/tmp/"
    chmod 644 "$ROOT/var/tmp/$(basename "$DEB")"
    in_root apt-get update -q >"$WORK/apt-update.log" 2>&1 || { tail -20 "$WORK/apt-update.log"; return 1; }
    grep -E '^(Fetched|Hit|Get:[0-9]+ .*InRelease)' "$WORK/apt-update.log" || true
    local before after
    before=$(in_root dpkg-query -W -f '${Package}\n' | wc -l)
    # --no-install-recommends: the package's Depends alone must make it work.
    in_root sh -c "cd /var/tmp && apt-get install -y -q --no-install-recommends ./$(basename "$DEB") sqlite3" \
        >"$WORK/install.log" 2>&1 || { tail -30 "$WORK/install.log"; return 1; }
    awk '/^The following NEW packages/ {p = 1; print; next} p && /^ / {print; next} {p = 0} /^(Need to get|After this operation)/' \
        "$WORK/install.log"
    after=$(in_root dpkg-query -W -f '${Package}\n' | wc -l)
    echo "packages: $before before, $after after: faceguard, sqlite3 and $((after - before - 2)) more from the mirror"
    in_root dpkg-query -W -f 'installed: ${Package} ${Version}, Installed-Size ${Installed-Size} KiB\nDepends: ${Depends}\n' faceguard
    echo "/opt/faceguard on disk: $(du -sh "$ROOT/opt/faceguard" | cut -f1)"
    echo "faceguard on PATH: $(in_root sh -c 'command -v faceguard') -> $(in_root readlink -f "$(in_root sh -c 'command -v faceguard')")"
    in_root useradd -m -s /bin/bash kiosk
    echo "user: $(as_kiosk id)"
    echo "kiosk's environment:"
    as_kiosk env | sed 's/^/  /'
    if as_kiosk env | grep -E '^(PYTHONPATH|VIRTUAL_ENV|PYTHONHOME)='; then return 1; fi
    if in_root sh -c 'command -v python3 || command -v python'; then
        echo "note: a system python exists in the root (it must not be needed)"
    else
        echo "no python in the root: the bundle carries its own"
    fi
}

version_and_self_test() {
    local out
    out=$(as_kiosk faceguard --version)
    echo "faceguard --version: $out"
    [[ $out == "faceguard $VERSION" ]] || { echo "expected 'faceguard $VERSION'" >&2; return 1; }
    local start rc=0
    start=$(date +%s.%N)
    as_kiosk faceguard self-test >"$WORK/self-test.log" 2>&1 || rc=$?
    sed 's/^/  | /' "$WORK/self-test.log"
    printf 'faceguard self-test: exit %d in %.1f s\n' "$rc" "$(elapsed "$start")"
    return "$rc"
}

# One DEMO launch offscreen; prints the launch-to-first-frame seconds. With "decide", also waits for the
# demo's access log to hold a granted and a denied event.
demo_launch() { # demo_launch N [decide]
    local n=$1 decide=${2:-} log="$WORK/kiosk-offscreen-$1.log" t0 pid frame decisions="" start
    t0=$(date +%s.%N)
    start_as_kiosk "$log" QT_QPA_PLATFORM=offscreen FACEGUARD_TRACE_STARTUP=1 faceguard kiosk --demo
    pid=$BG_PID
    frame=$(wait_for_line "$log" "faceguard: first video frame at " "$pid" "$FRAME_TIMEOUT") || { tail -30 "$log" >&2; return 1; }
    local startup
    startup=$(echo "$frame - $t0" | bc)
    printf '%.3f\n' "$startup" >>"$WORK/startup.txt"
    printf 'launch %d: first video frame %.2f s after launch\n' "$n" "$startup"
    if [[ -n $decide ]]; then
        start=$(date +%s.%N)
        until [[ $decisions == *granted* && $decisions == *denied* ]]; do
            kill -0 "$pid" 2>/dev/null || { echo "the kiosk ended:" >&2; tail -30 "$log" >&2; return 1; }
            (($(echo "$(elapsed "$start") > $DECISION_TIMEOUT" | bc))) && {
                echo "no granted+denied within ${DECISION_TIMEOUT}s (seen: ${decisions:-none})" >&2
                tail -30 "$log" >&2
                return 1
            }
            sleep 0.5
            [[ -f $ROOT$DEMO_DB ]] || continue
            decisions=$(as_kiosk sqlite3 -readonly "$DEMO_DB" 'SELECT DISTINCT decision FROM access_events' 2>/dev/null | sort | tr '\n' ' ' || true)
        done
        printf 'access log decisions after %.1f s: %s\n' "$(elapsed "$t0")" "$decisions"
        as_kiosk sqlite3 -readonly "$DEMO_DB" \
            "SELECT e.decision, COALESCE(p.name, '-'), COUNT(*) FROM access_events e LEFT JOIN people p ON p.id = e.person_id
             GROUP BY 1, 2 ORDER BY 1, 2" | sed 's/^/  | /' || true # shown, not checked
    fi
    interrupt_and_expect_0 "$pid" "$log"
    no_qt_abort "$log"
}

kiosk_offscreen() {
    : >"$WORK/startup.txt"
    demo_launch 1 decide
    local n
    for n in $(seq 2 "$STARTUP_RUNS"); do demo_launch "$n"; done
    local median
    median=$(sort -n "$WORK/startup.txt" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
    echo "start-up (launch to first video frame, DEMO, offscreen): $(sort -n "$WORK/startup.txt" | tr '\n' ' ')s; median of $STARTUP_RUNS: ${median} s"
    echo "$median" >"$REPO/build/chroot-startup-median.txt"
}

kiosk_xcb() {
    in_root apt-get install -y -q --no-install-recommends xvfb xauth >"$WORK/xvfb-install.log" 2>&1 \
        || { tail -20 "$WORK/xvfb-install.log"; return 1; }
    echo "installed xvfb and xauth"
    local xlog="$WORK/xvfb.log" log="$WORK/kiosk-xcb.log" xpid pid display=99
    # X servers also listen on an abstract socket (@/tmp/.X11-unix/XN), which the chroot shares with the
    # host: take a display number no X server on the machine uses.
    while grep -q "@/tmp/.X11-unix/X$display\b" /proc/net/unix || [[ -e /tmp/.X11-unix/X$display ]]; do
        display=$((display + 1))
    done
    start_as_kiosk "$xlog" Xvfb ":$display" -screen 0 1280x1024x24 -nolisten tcp
    xpid=$BG_PID
    for _ in $(seq 100); do
        [[ -S $ROOT/tmp/.X11-unix/X$display ]] && break
        kill -0 "$xpid" 2>/dev/null || { cat "$xlog"; return 1; }
        sleep 0.1
    done
    [[ -S $ROOT/tmp/.X11-unix/X$display ]] || { echo "Xvfb :$display did not come up" >&2; cat "$xlog"; return 1; }
    echo "Xvfb :$display is up"
    start_as_kiosk "$log" DISPLAY=":$display" QT_QPA_PLATFORM=xcb FACEGUARD_TRACE_STARTUP=1 faceguard kiosk --demo
    pid=$BG_PID
    local frame t0
    t0=$(date +%s.%N)
    frame=$(wait_for_line "$log" "faceguard: first video frame at " "$pid" "$FRAME_TIMEOUT") || { tail -30 "$log" >&2; kill "$xpid"; return 1; }
    printf 'xcb: first video frame %.2f s after launch\n' "$(echo "$frame - $t0" | bc)"
    sleep 5
    kill -0 "$pid" 2>/dev/null || { echo "the kiosk died on xcb:" >&2; tail -30 "$log" >&2; kill "$xpid"; return 1; }
    echo "xcb: still running 5 s after its first frame"
    local rc=0
    interrupt_and_expect_0 "$pid" "$log" || rc=1
    no_qt_abort "$log" || rc=1
    kill -TERM "$xpid" 2>/dev/null
    wait "$xpid" 2>/dev/null || true
    echo "kiosk output on xcb:"
    sed 's/^/  | /' "$log" | head -20
    return "$rc"
}

purge() {
    echo "before purge, the user's data: $(find "$ROOT$DATA_DIR" -type f | wc -l) files in $DATA_DIR"
    in_root apt-get purge -y -q faceguard >"$WORK/purge.log" 2>&1 || { tail -20 "$WORK/purge.log"; return 1; }
    grep -E '^(Removing|Purging)' "$WORK/purge.log" || true
    echo "dpkg: $(in_root dpkg-query -W -f '${Package} ${Status}\n' faceguard 2>&1 || true)"
    if [[ -e $ROOT/opt/faceguard ]]; then
        echo "/opt/faceguard is still there:" >&2
        find "$ROOT/opt/faceguard" | head >&2
        return 1
    fi
    echo "/opt/faceguard: gone ($(in_root ls -ld /opt/faceguard 2>&1 || true))"
    [[ ! -e $ROOT/usr/bin/faceguard ]] || { echo "/usr/bin/faceguard is still there" >&2; return 1; }
    echo "/usr/bin/faceguard: gone"
    [[ -f $ROOT$DEMO_DB ]] || { echo "the user's data is gone: $DEMO_DB" >&2; return 1; }
    echo "user's data kept: $DATA_DIR"
    find "$ROOT$DATA_DIR" -type f -printf '  | %P %s bytes\n'
}

step "pristine Debian $SUITE root (minbase)" make_root
step "mounts, resolv.conf and apt sources" mount_root
step "apt-get install ./$(basename "$DEB") (Depends from the mirror), user kiosk" install_deb
step "as kiosk: faceguard --version, faceguard self-test" version_and_self_test
step "as kiosk: DEMO kiosk offscreen (granted + denied, SIGINT -> 0), start-up x$STARTUP_RUNS" kiosk_offscreen
step "as kiosk: kiosk on xcb against Xvfb" kiosk_xcb
step "apt-get purge faceguard: /opt/faceguard gone, user data kept" purge
RESULT=0
