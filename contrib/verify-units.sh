#!/usr/bin/env bash
# Checks the scheduling files in contrib/ against a built binary:
#  - `systemd-analyze verify` on the system and user units (with the user drop-in), as
#    installed: ExecStart pointed at the binary, the man page it prints findable by man;
#    any warning fails the check;
#  - every command the units and contrib/crontab run is accepted by the binary's CLI.
# Usage: contrib/verify-units.sh [BINARY]   (default: target/debug/fitbit-notifier)
# Needs systemd-analyze (Debian package "systemd"); does not need systemd to be running.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(realpath "${1:-target/debug/fitbit-notifier}")
[ -x "$bin" ] || { echo "no executable at $bin: build it first" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing: apt-get install systemd" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Documentation=man:fitbit-notifier(1) is checked by running man; give it the page.
man_check=(--man=yes)
if command -v man >/dev/null; then
    mkdir -p "$work/man/man1"
    "$bin" man >"$work/man/man1/fitbit-notifier.1"
    export MANPATH="$work/man"
else
    echo "note: man is not installed; the Documentation= man page is not checked"
    man_check=(--man=no)
fi
# a user manager's paths are derived from XDG_RUNTIME_DIR
mkdir -m 700 "$work/runtime"
export XDG_RUNTIME_DIR="$work/runtime"

failed=0

# The arguments after the binary in a command line, checked by asking the binary for
# help with them: a removed subcommand or option makes clap exit 2.
check_args() {
    local source=$1 args=$2
    # shellcheck disable=SC2086 # the arguments are split as the scheduler splits them
    if ! "$bin" $args --help >/dev/null 2>"$work/args.err"; then
        echo "FAIL $source: fitbit-notifier $args: $(grep -m1 . "$work/args.err")"
        failed=1
    fi
}

for scope in system user; do
    dir="$work/$scope"
    cp -r "contrib/systemd/$scope" "$dir"
    unit="$dir/fitbit-notifier.service"
    exec_line=$(grep -m1 '^ExecStart=' "$unit")
    check_args "$scope unit" "${exec_line#ExecStart=* }"
    sed -i "s|^ExecStart=[^ ]*|ExecStart=$bin|" "$unit"
    flags=("${man_check[@]}")
    [ "$scope" = user ] && flags+=(--user)
    echo "== systemd-analyze ${flags[*]} verify ($scope units)"
    if ! systemd-analyze "${flags[@]}" verify "$unit" "$dir/fitbit-notifier.timer" >"$work/verify.out" 2>&1 \
        || [ -s "$work/verify.out" ]; then
        sed "s|$work|contrib/systemd|g" "$work/verify.out"
        echo "FAIL $scope units"
        failed=1
    fi
done

while read -r args; do
    check_args "contrib/crontab" "$args"
done < <(grep -v '^[[:space:]]*#' contrib/crontab | grep -o 'bin/fitbit-notifier [^;|>]*' \
    | sed -E 's|^bin/fitbit-notifier ||; s/ +[0-9]*$//')

if [ "$failed" -ne 0 ]; then
    exit 1
fi
echo "units and crontab ok"
