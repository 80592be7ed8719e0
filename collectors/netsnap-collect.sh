#!/bin/sh
# netsnap-collect.sh - read-only snapshot of a container host's network state for netsnap.
#
# Usage: sh netsnap-collect.sh [--output DIR] [--sysroot DIR] [--timeout SECS]
#
# Writes DIR/netsnap-<hostname>-<UTC YYYYmmddTHHMMSSZ>.tar.gz and prints its path as the last line
# of standard output. POSIX sh (bash, dash, busybox ash). It never changes the host: no module
# loading, no `iptables -L`, no writes outside DIR (work happens in a temporary directory inside
# DIR that is removed on exit). Every external command runs under `timeout` when available; a
# missing or failing command is recorded in manifest.json and never stops the run. Secrets in
# flannel's env files, unit, command line and logs are replaced by ***REDACTED*** before they are
# written. The bundle layout is documented in docs/bundle-format.md.

VERSION=0.1.0
FORMAT=netsnap-bundle/1
MARKER='***REDACTED***'
JOURNAL_LINES=20000
JOURNAL_SINCE=-7d
DMESG_LINES=2000
POD_LOG_LINES=2000
POD_LOG_FILES=20

LC_ALL=C
export LC_ALL
SYSTEMD_PAGER=
PAGER="cat"
SYSTEMD_COLORS=0
export SYSTEMD_PAGER PAGER SYSTEMD_COLORS
umask 077

usage() {
    cat <<'EOF_USAGE'
usage: sh netsnap-collect.sh [--output DIR] [--sysroot DIR] [--timeout SECS] [--allow-partial]

Collects a read-only snapshot of this host's network state for netsnap (offline analysis of
container-host networking: routes, firewall, flannel VXLAN, kernel settings).

What it reads: hostname, kernel and OS release; ip route/rule/address/link/neigh, bridge fdb,
route -n, /proc/net/route; iptables-save (every variant), ip6tables-save, ipset save, nft list
ruleset, firewalld and UFW state; selected sysctls, lsmod, the last 2000 dmesg lines, ethtool -k of
flannel devices; flanneld's journal (last 7 days), env files, unit, subnet.env, net-conf.json,
command line and kube-flannel pod logs.

It changes nothing: no packages, no module loading (a command that would make the kernel load a
module is skipped and recorded), no writes outside DIR. Every command runs under a time limit.

Run it as root: iptables, ipset, nft and dmesg need it. Without root it still writes a bundle, lists
what failed on its last line and exits with status 3 (use --allow-partial to exit 0).

Redacted before anything is written: values of keys naming a password, passwd, secret, token or
private key (KEY=V, "KEY": "V", --KEY V), URL credentials (scheme://user:PASS@) and bearer tokens
in flannel's env files, unit, command line and logs, and PEM private key blocks.

Options:
  --output DIR      where to write the bundle (default: $TMPDIR or /tmp)
  --sysroot DIR     read files from a mounted root (e.g. /mnt/sysimage); commands still run live
  --timeout SECS    time limit per command (default 10)
  --allow-partial   exit 0 even when not run as root
  --version, --help

Output: DIR/netsnap-HOST-TIME.tar.gz; its path is the last line printed. Send that file back
(one per host: the failing ones and one that works); nothing else is needed.
EOF_USAGE
}

die() {
    echo "netsnap-collect: $*" >&2
    exit 2
}

OUTPUT=${TMPDIR:-/tmp}
SYSROOT=/
CMD_TIMEOUT=10
ALLOW_PARTIAL=0
while [ $# -gt 0 ]; do
    case $1 in
        --output) [ $# -ge 2 ] || die "--output needs a directory"; OUTPUT=$2; shift 2 ;;
        --output=*) OUTPUT=${1#--output=}; shift ;;
        --sysroot) [ $# -ge 2 ] || die "--sysroot needs a directory"; SYSROOT=$2; shift 2 ;;
        --sysroot=*) SYSROOT=${1#--sysroot=}; shift ;;
        --timeout) [ $# -ge 2 ] || die "--timeout needs seconds"; CMD_TIMEOUT=$2; shift 2 ;;
        --timeout=*) CMD_TIMEOUT=${1#--timeout=}; shift ;;
        --allow-partial) ALLOW_PARTIAL=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --version) echo "netsnap-collect $VERSION"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
case $CMD_TIMEOUT in
    ''|*[!0-9]*|0) die "--timeout must be a positive number of seconds: $CMD_TIMEOUT" ;;
esac
[ -d "$SYSROOT" ] || die "--sysroot $SYSROOT: not a directory"
# ROOT prefixes file paths; "" for the live root.
ROOT=$(cd "$SYSROOT" && pwd -P) || die "--sysroot $SYSROOT: cannot enter"
[ "$ROOT" = / ] && ROOT=
if [ ! -d "$OUTPUT" ]; then
    mkdir -p "$OUTPUT" 2>/dev/null || die "--output $OUTPUT: cannot create directory"
fi
OUTPUT=$(cd "$OUTPUT" && pwd -P) || die "--output $OUTPUT: cannot enter"

have() {
    command -v "$1" >/dev/null 2>&1
}

# Root: iptables, ipset, nft and dmesg answer "permission denied" otherwise. Unknown (no `id`) counts as root.
AS_ROOT=true
case $(id -u 2>/dev/null) in
    0|'') ;;
    *)
        AS_ROOT=false
        echo "netsnap-collect: not running as root: iptables, ipset, nft and dmesg will fail; run it with sudo" \
            "(or --allow-partial to accept a partial bundle)" >&2
        ;;
esac

# --- clock -----------------------------------------------------------------------------------
# now_ms: sets NOW to milliseconds: date +%s%N where supported (GNU), else /proc/uptime (10 ms,
# busybox), else seconds.
if case $(date +%N 2>/dev/null) in ''|*[!0-9]*) false ;; esac; then
    CLOCK=nano
elif [ -r /proc/uptime ]; then
    CLOCK=uptime
else
    CLOCK=seconds
fi

now_ms() {
    case $CLOCK in
        nano)
            NOW=$(date +%s%N)
            NOW=${NOW%??????}
            ;;
        uptime)
            IFS=' ' read -r n_t _ </proc/uptime
            n_f=${n_t#*.}
            n_f=${n_f#0}
            NOW=$((${n_t%.*} * 1000 + n_f * 10))
            ;;
        *) NOW=$(($(date +%s) * 1000)) ;;
    esac
}

# --- time limits -----------------------------------------------------------------------------
# coreutils and busybox >= 1.30 take `timeout -k K N cmd`; older busybox takes `timeout -t N cmd`.
TIMEOUT_STYLE=none
if have timeout; then
    if timeout -k 1 5 true >/dev/null 2>&1; then
        TIMEOUT_STYLE="kill"
    elif timeout 5 true >/dev/null 2>&1; then
        TIMEOUT_STYLE=plain
    elif timeout -t 5 true >/dev/null 2>&1; then
        TIMEOUT_STYLE=old
    fi
fi

# limited SECS CMD [ARGS...]: run CMD under the time limit (unlimited when no timeout tool works).
limited() {
    l_secs=$1
    shift
    case $TIMEOUT_STYLE in
        kill) timeout -k 2 "$l_secs" "$@" ;;
        plain) timeout "$l_secs" "$@" ;;
        old) timeout -t "$l_secs" "$@" ;;
        *) "$@" ;;
    esac
}

# --- work area -------------------------------------------------------------------------------
if have hostname; then
    HOST=$(limited 5 hostname 2>/dev/null)
fi
[ -n "${HOST:-}" ] || HOST=$(uname -n 2>/dev/null)
[ -n "$HOST" ] || HOST=unknown
HOST_SAFE=$(printf '%s' "$HOST" | tr '\n' '_' | sed 's/[^A-Za-z0-9._-]/_/g')
# Never overwrite an earlier bundle of the same second: wait for the next one.
for _ in 1 2 3; do
    STAMP_ISO=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    STAMP=$(echo "$STAMP_ISO" | tr -d ':-')
    NAME=netsnap-$HOST_SAFE-$STAMP
    TARBALL=$OUTPUT/$NAME.tar.gz
    [ -e "$TARBALL" ] || break
    sleep 1
done
[ -e "$TARBALL" ] && die "$TARBALL already exists"

if have mktemp; then
    WORK=$(mktemp -d "$OUTPUT/.netsnap-work.XXXXXX") || die "$OUTPUT: cannot create a temporary directory"
else
    WORK=$OUTPUT/.netsnap-work.$$
    mkdir "$WORK" || die "$OUTPUT: cannot create a temporary directory"
fi
cleanup() {
    rm -rf "$WORK"
    rm -f "$TARBALL.partial"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

BUNDLE=$WORK/$NAME
mkdir "$BUNDLE" || die "$WORK: cannot create the bundle directory"
ENTRIES=$WORK/entries
FAILS=$WORK/fails
ERRF=$WORK/stderr
RCF=$WORK/rc
TRF=$WORK/truncated
SEDF=$WORK/redact.sed
LOG=$BUNDLE/collector.log
: >"$ENTRIES"
: >"$FAILS"
: >"$LOG"
REDACTIONS=0
HAVE_SHA=0
have sha256sum && HAVE_SHA=1

# --- redaction -------------------------------------------------------------------------------
# Values of keys containing password/passwd/secret/token/private key (case-insensitive), given as
# KEY=V, KEY:V, KEY="V", KEY='V', "KEY": "V", --KEY V, or as the argv line after --KEY; URL
# credentials (scheme://user:PASS@); Bearer tokens; PEM private key blocks.
write_redact_sed() {
    k='[[:alnum:]_.-]'
    v="[^[:space:]\"'][^[:space:]\"']*"
    m=$MARKER
    for w in '[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]' '[Pp][Aa][Ss][Ss][Ww][Dd]' '[Ss][Ee][Cc][Rr][Ee][Tt]' \
        '[Tt][Oo][Kk][Ee][Nn]' '[Pp][Rr][Ii][Vv][Aa][Tt][Ee][-_]*[Kk][Ee][Yy]'; do
        printf '%s\n' \
            "s/\\($k*$w$k*\\)\\([=:]\\)\"[^\"][^\"]*\"/\\1\\2\"$m\"/g" \
            "s/\\($k*$w$k*\\)\\([=:]\\)'[^'][^']*'/\\1\\2'$m'/g" \
            "s/\\($k*$w$k*\\)\\([=:]\\)$v/\\1\\2$m/g" \
            "s/\\($k*$w$k*\"[[:space:]]*:[[:space:]]*\"\\)[^\"][^\"]*\"/\\1$m\"/g" \
            "s/\\(--*$k*$w$k*\\)\\([[:space:]][[:space:]]*\\)$v/\\1\\2$m/g" \
            "/^--*$k*$w$k*\$/{" \
            "n" \
            "s/..*/$m/" \
            "}"
    done
    printf '%s\n' \
        "s|\\(://[^/:@[:space:]]*:\\)[^/@[:space:]][^/@[:space:]]*@|\\1$m@|g" \
        "s/\\([Bb][Ee][Aa][Rr][Ee][Rr][[:space:]][[:space:]]*\\)$v/\\1$m/g" \
        "/-----BEGIN[A-Z ]*PRIVATE KEY-----.*-----END[A-Z ]*PRIVATE KEY-----/{" \
        "s/\\(-----BEGIN[A-Z ]*PRIVATE KEY-----\\).*\\(-----END[A-Z ]*PRIVATE KEY-----\\)/\\1$m\\2/" \
        "b" \
        "}" \
        "/-----BEGIN[A-Z ]*PRIVATE KEY-----/,/-----END[A-Z ]*PRIVATE KEY-----/{" \
        "/-----BEGIN[A-Z ]*PRIVATE KEY-----/{" \
        "p" \
        "s/.*/$m/" \
        "b" \
        "}" \
        "/-----END[A-Z ]*PRIVATE KEY-----/b" \
        "d" \
        "}"
}
write_redact_sed >"$SEDF"

# scrub REDACT: filter stdin to stdout, replacing secrets when REDACT is 1.
scrub() {
    if [ "$1" = 1 ]; then
        sed -f "$SEDF"
    else
        cat
    fi
}

count_markers() {
    if have awk; then
        awk '{ n += gsub(/\*\*\*REDACTED\*\*\*/, "") } END { print n + 0 }' "$1"
    else
        grep -c 'REDACTED' "$1"
    fi
}

# --- bundle paths (the contract with netsnap/sources.py) -------------------------------------
# src_path ID: sets SP to the bundle path of source ID (no subshell: this runs for every source).
src_path() {
    # BEGIN src_path table: generated from netsnap/sources.py by `make docs`
    case $1 in
        hostname) SP=identity/hostname ;;
        uname) SP=identity/uname ;;
        os_release) SP=identity/os-release ;;
        date) SP=identity/date ;;
        uptime) SP=identity/uptime ;;
        route_n) SP=routes/route-n ;;
        proc_net_route) SP=routes/proc-net-route ;;
        ip_route) SP=routes/ip-route ;;
        ip_rule) SP=routes/ip-rule ;;
        ip_addr) SP=links/ip-d-address ;;
        ip_link) SP=links/ip-d-link ;;
        ip_link_stats) SP=links/ip-s-link ;;
        ip_neigh) SP=neigh/ip-neigh ;;
        bridge_fdb) SP=neigh/bridge-fdb ;;
        iptables_save) SP=firewall/iptables-save ;;
        ip6tables_save) SP=firewall/ip6tables-save ;;
        iptables_legacy_save) SP=firewall/iptables-legacy-save ;;
        iptables_nft_save) SP=firewall/iptables-nft-save ;;
        ipset) SP=firewall/ipset-save ;;
        nft_json) SP=firewall/nft-ruleset.json ;;
        nft_text) SP=firewall/nft-list-ruleset ;;
        firewalld_state) SP=firewall/firewalld-state ;;
        firewalld_default_zone) SP=firewall/firewalld-default-zone ;;
        firewalld_active_zones) SP=firewall/firewalld-active-zones ;;
        firewalld_log_denied) SP=firewall/firewalld-log-denied ;;
        firewalld_zones) SP=firewall/firewalld-list-all-zones ;;
        firewalld_conf) SP=firewall/firewalld.conf ;;
        ufw_status) SP=firewall/ufw-status ;;
        ufw_default) SP=firewall/etc-default-ufw ;;
        sysctl) SP=kernel/sysctl ;;
        lsmod) SP=kernel/lsmod ;;
        dmesg) SP=kernel/dmesg ;;
        ethtool) SP=kernel/ethtool-k ;;
        dmi_sys_vendor) SP=identity/dmi-sys-vendor ;;
        dmi_product_name) SP=identity/dmi-product-name ;;
        dmi_chassis_asset_tag) SP=identity/dmi-chassis-asset-tag ;;
        vxlan_udp_port) SP=kernel/vxlan-udp-port ;;
        modprobe_vxlan) SP=kernel/modprobe-d ;;
        flannel_journal) SP=flannel/journal ;;
        flannel_env_default) SP=flannel/etc-default-flanneld ;;
        flannel_env_sysconfig) SP=flannel/etc-sysconfig-flanneld ;;
        subnet_env) SP=flannel/subnet.env ;;
        options_env) SP=flannel/options.env ;;
        net_conf) SP=flannel/net-conf.json ;;
        flannel_unit) SP=flannel/systemctl-cat ;;
        flannel_cmdline) SP=flannel/cmdline ;;
        flannel_pod_logs) SP=flannel/pod-logs ;;
        *) SP="unknown/$1" ;;
    esac
    # END src_path table
}

# --- manifest --------------------------------------------------------------------------------
# json_str TEXT: TEXT as a JSON string literal (non-printable bytes become "?").
json_str() {
    case $1 in
        *[!\ -~]*|*\\*|*\"*)
            printf '"%s"' "$(printf '%s' "$1" | tr '\n\r\t' '   ' | sed 's/\\/\\\\/g; s/"/\\"/g; s/[^ -~]/?/g')"
            ;;
        *) printf '"%s"' "$1" ;;
    esac
}

# State of the source being collected, set by run_cmd/run_gen and read by finish.
C_RC=
C_DUR=0
C_TIMED=false
C_TRUNC=false

reset_state() {
    C_RC=
    C_DUR=0
    C_TIMED=false
    C_TRUNC=false
    : >"$ERRF"
    : >"$TRF"
    echo 0 >"$RCF"
}

# finish ID COMMAND REDACT [STATUS]: append ID's manifest entry. Without STATUS it is derived from
# the output file and the C_* state: timed-out > failed > truncated > empty > ok.
finish() {
    f_id=$1
    f_cmd=$2
    f_red=$3
    f_status=${4:-}
    src_path "$f_id"
    f_rel=$SP
    f_file=$BUNDLE/$f_rel
    f_size=0
    f_sha=null
    f_n=0
    if [ -f "$f_file" ]; then
        f_size=$(wc -c <"$f_file")
        f_size=${f_size##* }
        if [ "$HAVE_SHA" = 1 ]; then
            f_sha=$(sha256sum "$f_file")
            f_sha=\"${f_sha%% *}\"
        fi
        if [ "$f_red" = 1 ]; then
            f_n=$(count_markers "$f_file")
        fi
    fi
    if [ -z "$f_status" ]; then
        if [ "$C_TIMED" = true ]; then
            f_status=timed-out
        elif [ -n "$C_RC" ] && [ "$C_RC" != 0 ]; then
            f_status=failed
        elif [ "$C_TRUNC" = true ]; then
            f_status=truncated
        elif [ "$f_size" = 0 ]; then
            f_status=empty
        else
            f_status=ok
        fi
    fi
    REDACTIONS=$((REDACTIONS + f_n))
    # why a source is not ok (its first stderr line, redacted); an empty output with exit code 0 is an
    # answer ("no rules loaded", "no neighbours"), not a missing source
    f_reason=null
    if [ "$f_status" != ok ] && [ -s "$ERRF" ]; then
        f_reason=$(json_str "$(head -n 1 "$ERRF" | sed -f "$SEDF")")
    fi
    f_answer=false
    [ "$f_status" = empty ] && [ "${C_RC:-}" = 0 ] && f_answer=true
    case $f_status in
        failed|timed-out) note_failure "$f_id" "$f_status" ;;
    esac
    printf '{"id": "%s", "path": "%s", "command": %s, "status": "%s", "exit_code": %s, "duration_ms": %s, "size": %s, "sha256": %s, "truncated": %s, "timed_out": %s, "redacted": %s, "empty_answer": %s, "reason": %s}\n' \
        "$f_id" "$f_rel" "$(json_str "$f_cmd")" "$f_status" "${C_RC:-null}" "$C_DUR" "$f_size" "$f_sha" \
        "$C_TRUNC" "$C_TIMED" "$f_n" "$f_answer" "$f_reason" >>"$ENTRIES"
    f_err=
    if [ -s "$ERRF" ]; then
        f_err=": $(head -n 3 "$ERRF" | sed -f "$SEDF" | tr '\n' ' ')"
    fi
    printf '%s\t%s\texit=%s\t%sms\t%s%s\n' "$f_id" "$f_status" "${C_RC:--}" "$C_DUR" "$f_cmd" "$f_err" >>"$LOG"
}

# note_failure ID STATUS: record why ID failed for the final summary line (permission denied, timed out,
# exit code and first stderr line).
note_failure() {
    nf_err=$(head -n 1 "$ERRF" 2>/dev/null | sed -f "$SEDF" | tr '\t' ' ')
    case $nf_err in
        *[Pp]ermission\ denied*|*[Oo]peration\ not\ permitted*|*must\ be\ root*|*[Nn]ot\ permitted*)
            nf_why="permission denied" ;;
        *)
            if [ "$2" = timed-out ]; then
                nf_why="timed out"
            else
                nf_why="exit ${C_RC:-?}"
            fi
            ;;
    esac
    printf '%s\t%s\n' "$nf_why" "$1" >>"$FAILS"
}

# failure_summary: "3 sources failed: permission denied — run as root (iptables_save, ipset, dmesg); exit 3
# (bridge_fdb)", or nothing when every source ran.
failure_summary() {
    [ -s "$FAILS" ] || return 0
    fs_n=$(wc -l <"$FAILS" | tr -d ' ')
    fs_hint=
    [ "$AS_ROOT" = false ] && fs_hint=" — run as root"
    fs_groups=$(awk -F '\t' -v hint="$fs_hint" '
        !($1 in seen) { seen[$1] = 1; order[++n] = $1; ids[$1] = $2; next }
        { ids[$1] = ids[$1] ", " $2 }
        END {
            for (i = 1; i <= n; i++) {
                r = order[i]
                out = out (i > 1 ? "; " : "") r (r == "permission denied" ? hint : "") " (" ids[r] ")"
            }
            print out
        }' "$FAILS")
    fs_noun=sources
    [ "$fs_n" = 1 ] && fs_noun=source
    echo "netsnap-collect: $fs_n $fs_noun failed: $fs_groups"
}

# keep_last N: pass the last N lines of stdin (N+1 so that truncation can be detected); 0 = all.
keep_last() {
    if [ "$1" -gt 0 ]; then
        tail -n "$(($1 + 1))"
    else
        cat
    fi
}

# trim_to ID N: if the output has more than N lines (see keep_last), drop the extra first line.
trim_to() {
    [ "$2" -gt 0 ] || return 0
    src_path "$1"
    t_file=$BUNDLE/$SP
    t_lines=$(wc -l <"$t_file")
    t_lines=${t_lines##* }
    if [ "$t_lines" -gt "$2" ]; then
        sed '1d' "$t_file" >"$t_file.tmp" && mv "$t_file.tmp" "$t_file"
        C_TRUNC=true
    fi
}

# run_cmd ID REDACT MAXLINES SECS CMD [ARGS...]: run CMD into ID's file; sets C_* state.
# Returns 1 (and writes nothing) when CMD is not on PATH.
run_cmd() {
    r_id=$1
    r_red=$2
    r_max=$3
    r_secs=$4
    shift 4
    reset_state
    have "$1" || return 1
    src_path "$r_id"
    r_file=$BUNDLE/$SP
    mkdir -p "${r_file%/*}"
    now_ms
    r_t0=$NOW
    { limited "$r_secs" "$@" </dev/null 2>"$ERRF"; echo $? >"$RCF"; } | keep_last "$r_max" | scrub "$r_red" >"$r_file"
    now_ms
    C_DUR=$((NOW - r_t0))
    read -r C_RC <"$RCF"
    case $C_RC in
        124) C_TIMED=true ;;
        137|143) [ "$C_DUR" -ge $((r_secs * 1000 - 100)) ] && C_TIMED=true ;;
    esac
    if [ "$TIMEOUT_STYLE" = none ]; then
        echo "no working timeout command: ran without a time limit" >>"$ERRF"
    fi
    trim_to "$r_id" "$r_max"
    return 0
}

# collect ID REDACT MAXLINES SECS CMD [ARGS...]: run_cmd plus the manifest entry.
collect() {
    c_id=$1
    c_red=$2
    c_max=$3
    c_secs=$4
    shift 4
    c_cmd="$*"
    if run_cmd "$c_id" "$c_red" "$c_max" "$c_secs" "$@"; then
        finish "$c_id" "$c_cmd" "$c_red"
    else
        finish "$c_id" "$c_cmd" "$c_red" command-missing
    fi
}

# run_gen ID REDACT FUNCTION [ARGS...]: FUNCTION (a shell function that runs its own commands under
# limits, writes "1" to $TRF when it cut output and an exit code to $RCF on failure) into ID's file.
run_gen() {
    g_id=$1
    g_red=$2
    shift 2
    reset_state
    src_path "$g_id"
    g_file=$BUNDLE/$SP
    mkdir -p "${g_file%/*}"
    now_ms
    g_t0=$NOW
    "$@" 2>>"$ERRF" | scrub "$g_red" >"$g_file"
    now_ms
    C_DUR=$((NOW - g_t0))
    read -r C_RC <"$RCF"
    [ "$C_RC" = 124 ] && C_TIMED=true
    [ -s "$TRF" ] && C_TRUNC=true
    return 0
}

# gen_rc CODE: record a failing exit code from inside a generator.
gen_rc() {
    [ "$1" = 0 ] || echo "$1" >"$RCF"
}

# collect_or_plain ID -FLAG ARGS...: `ip -FLAG ARGS`; when that fails (busybox ip knows no -d),
# `ip ARGS`, recorded as the command that ran, with a note in collector.log.
collect_or_plain() {
    cp_id=$1
    cp_flag=$2
    shift 2
    if ! run_cmd "$cp_id" 0 0 "$CMD_TIMEOUT" ip "$cp_flag" "$@"; then
        finish "$cp_id" "ip $cp_flag $*" 0 command-missing
        return 0
    fi
    if [ "$C_RC" = 0 ] || [ "$C_TIMED" = true ]; then
        finish "$cp_id" "ip $cp_flag $*" 0
        return 0
    fi
    printf '%s\tip %s %s failed (exit=%s), retrying without %s: %s\n' "$cp_id" "$cp_flag" "$*" "$C_RC" \
        "$cp_flag" "$(head -n 1 "$ERRF")" >>"$LOG"
    run_cmd "$cp_id" 0 0 "$CMD_TIMEOUT" ip "$@"
    finish "$cp_id" "ip $*" 0
}

# --- files through the sysroot ---------------------------------------------------------------
# collect_file ID REDACT PATH...: the first existing PATH (inside the sysroot), else "absent".
collect_file() {
    cf_id=$1
    cf_red=$2
    shift 2
    cf_all="$*"
    for cf_path in "$@"; do
        # /proc and /sys are the live kernel's (like the commands' output), never the sysroot's.
        case $cf_path in
            /proc/*|/sys/*) cf_real=$cf_path ;;
            *) cf_real=$ROOT$cf_path ;;
        esac
        if [ -f "$cf_real" ]; then
            run_cmd "$cf_id" "$cf_red" 0 "$CMD_TIMEOUT" cat "$cf_real"
            finish "$cf_id" "$cf_path" "$cf_red"
            return 0
        fi
    done
    reset_state
    finish "$cf_id" "$(echo "$cf_all" | sed 's/ / | /g')" "$cf_red" absent
}

# --- kernel helpers --------------------------------------------------------------------------
# kmod_present NAME: true when using NAME's kernel interface cannot trigger a module load (the
# module is loaded or built in, or the kernel has no module support at all).
kmod_present() {
    [ -r /proc/modules ] || return 0
    [ -d "/sys/module/$1" ] && return 0
    while read -r km_name _; do
        [ "$km_name" = "$1" ] && return 0
    done </proc/modules
    km_builtin=/lib/modules/$(uname -r)/modules.builtin
    if [ -r "$km_builtin" ]; then
        while read -r km_path; do
            case $km_path in
                */"$1".ko|*/"$1".ko.*) return 0 ;;
            esac
        done <"$km_builtin"
    fi
    return 1
}

# iptables_backend CMD: "nft", "legacy" or "" from `CMD --version` (which does not touch the kernel).
iptables_backend() {
    case $(limited 5 "$1" --version 2>/dev/null) in
        *nf_tables*) echo nft ;;
        *legacy*) echo legacy ;;
        *) echo "" ;;
    esac
}

# collect_fw ID FAMILY CMD: an iptables-save variant, skipped (status empty) when its kernel
# backend is not loaded, because asking would make the kernel load it.
collect_fw() {
    fw_id=$1
    fw_family=$2
    fw_cmd=$3
    if ! have "$fw_cmd"; then
        reset_state
        finish "$fw_id" "$fw_cmd -c" 0 command-missing
        return 0
    fi
    fw_backend=$(iptables_backend "$fw_cmd")
    fw_skip=
    if [ "$fw_backend" = nft ]; then
        kmod_present nf_tables || fw_skip="nf_tables is not loaded"
    else
        # legacy, or an iptables older than 1.8 that does not say (legacy only)
        fw_names=/proc/net/ip_tables_names
        [ "$fw_family" = 6 ] && fw_names=/proc/net/ip6_tables_names
        [ -e "$fw_names" ] || fw_skip="$fw_names does not exist (no legacy tables loaded)"
    fi
    if [ -n "$fw_skip" ]; then
        reset_state
        mkdir -p "$BUNDLE/firewall"
        src_path "$fw_id"
        : >"$BUNDLE/$SP"
        echo "not run: $fw_skip; running it could load kernel modules" >"$ERRF"
        finish "$fw_id" "$fw_cmd -c" 0 empty
        return 0
    fi
    collect "$fw_id" 0 0 "$CMD_TIMEOUT" "$fw_cmd" -c
}

# skip_empty ID COMMAND REASON: record ID as not run (status empty, REASON in collector.log).
skip_empty() {
    reset_state
    src_path "$1"
    mkdir -p "${BUNDLE}/${SP%/*}"
    : >"$BUNDLE/$SP"
    echo "not run: $3" >"$ERRF"
    finish "$1" "$2" 0 empty
}

# collect_nft: the nftables ruleset as JSON and as text (with handles, to tie the two together).
# `nft list` asks the kernel over nfnetlink, and the kernel loads nf_tables for a request to a
# subsystem it does not have (nfnetlink: request_module("nfnetlink-subsys-%d")), so nothing is
# listed unless nf_tables is loaded or built in: then the host has no nftables ruleset at all.
collect_nft() {
    if ! have nft; then
        reset_state
        finish nft_json "nft -j list ruleset" 0 command-missing
        finish nft_text "nft -a list ruleset" 0 command-missing
    elif kmod_present nf_tables; then
        collect nft_json 0 0 "$T" nft -j list ruleset
        collect nft_text 0 0 "$T" nft -a list ruleset
    else
        skip_empty nft_json "nft -j list ruleset" "nf_tables is not loaded (no nftables ruleset); listing would load it"
        skip_empty nft_text "nft -a list ruleset" "nf_tables is not loaded (no nftables ruleset); listing would load it"
    fi
}

# collect_firewalld: firewalld's read-only queries (over D-Bus) when it runs, and its config file.
# `firewall-cmd --state` answers "not running" with exit code 252: a valid answer, kept as ok.
collect_firewalld() {
    collect_file firewalld_conf 0 /etc/firewalld/firewalld.conf
    if ! have firewall-cmd; then
        reset_state
        for fd_id in firewalld_state firewalld_default_zone firewalld_active_zones firewalld_log_denied \
            firewalld_zones; do
            finish "$fd_id" "firewall-cmd" 0 command-missing
        done
        return 0
    fi
    run_cmd firewalld_state 0 0 "$T" firewall-cmd --state
    src_path firewalld_state
    fd_state=$(cat "$BUNDLE/$SP" 2>/dev/null)
    fd_rc=$C_RC
    if [ "$C_RC" = 252 ] && [ "$fd_state" = "not running" ]; then
        finish firewalld_state "firewall-cmd --state" 0 ok
    else
        finish firewalld_state "firewall-cmd --state" 0
    fi
    if [ "$fd_state" != running ]; then
        for fd_id in firewalld_default_zone firewalld_active_zones firewalld_log_denied firewalld_zones; do
            reset_state
            echo "not run: firewall-cmd --state says: ${fd_state:-nothing} (exit=${fd_rc:-?})" >"$ERRF"
            finish "$fd_id" "firewall-cmd (firewalld not running)" 0 absent
        done
        return 0
    fi
    collect firewalld_default_zone 0 0 "$T" firewall-cmd --get-default-zone
    collect firewalld_active_zones 0 0 "$T" firewall-cmd --get-active-zones
    collect firewalld_log_denied 0 0 "$T" firewall-cmd --get-log-denied
    collect firewalld_zones 0 0 "$T" firewall-cmd --list-all-zones
}

# collect_ufw: UFW's rules as it lists them, and /etc/default/ufw. When ufw.conf says ENABLED=yes,
# `ufw status` lists the kernel's ufw chains through iptables: only when a backend is loaded.
collect_ufw() {
    collect_file ufw_default 0 /etc/default/ufw
    if ! have ufw; then
        reset_state
        finish ufw_status "ufw status verbose" 0 command-missing
        return 0
    fi
    uf_enabled=no
    grep -q '^ENABLED=yes' /etc/ufw/ufw.conf 2>/dev/null && uf_enabled=yes
    if [ "$uf_enabled" = yes ] && ! kmod_present nf_tables && [ ! -e /proc/net/ip_tables_names ]; then
        skip_empty ufw_status "ufw status verbose" "ufw is enabled but no iptables backend is loaded; listing would load it"
    else
        collect ufw_status 0 0 "$T" ufw status verbose
    fi
}

# --- generators ------------------------------------------------------------------------------
sysctl_emit() {
    [ -f "$2" ] || return 0
    # cat, not `read`: dash and busybox read byte by byte, and /proc/sys integer files answer the
    # second read() with end-of-file, so `read` would keep only the first digit (262144 -> 2).
    se_v=$(cat "$2" 2>/dev/null) || [ -n "$se_v" ] || return 0
    se_nl='
'
    printf '%s = %s\n' "$1" "${se_v%%"$se_nl"*}"
}

gen_sysctl() {
    sysctl_emit net.ipv4.ip_forward /proc/sys/net/ipv4/ip_forward
    for gs_scope in all default; do
        for gs_key in rp_filter arp_ignore arp_announce forwarding; do
            sysctl_emit "net.ipv4.conf.$gs_scope.$gs_key" "/proc/sys/net/ipv4/conf/$gs_scope/$gs_key"
        done
    done
    for gs_dir in /proc/sys/net/ipv4/conf/*; do
        [ -d "$gs_dir" ] || continue
        gs_if=${gs_dir##*/}
        case $gs_if in all|default) continue ;; esac
        # sysctl(8) writes the dots of interface names as slashes (flannel.1 -> flannel/1).
        gs_name=$(echo "$gs_if" | tr . /)
        for gs_key in rp_filter arp_ignore arp_announce forwarding; do
            sysctl_emit "net.ipv4.conf.$gs_name.$gs_key" "$gs_dir/$gs_key"
        done
    done
    sysctl_emit net.bridge.bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-iptables
    sysctl_emit net.bridge.bridge-nf-call-ip6tables /proc/sys/net/bridge/bridge-nf-call-ip6tables
    sysctl_emit net.netfilter.nf_conntrack_max /proc/sys/net/netfilter/nf_conntrack_max
    sysctl_emit net.netfilter.nf_conntrack_count /proc/sys/net/netfilter/nf_conntrack_count
    sysctl_emit net.nf_conntrack_max /proc/sys/net/nf_conntrack_max
}

# lsmod's format from /proc/modules ("name size refs deps state addr").
gen_proc_modules() {
    printf '%-19s %8s  %s\n' Module Size "Used by"
    while read -r pm_name pm_size pm_refs pm_deps _; do
        case $pm_name in
            vxlan|br_netfilter|nf_conntrack)
                [ "$pm_deps" = - ] && pm_deps=
                printf '%-19s %8s  %s %s\n' "$pm_name" "$pm_size" "$pm_refs" "${pm_deps%,}"
                ;;
        esac
    done </proc/modules
}

gen_ethtool() {
    for ge_dev in /sys/class/net/flannel.*; do
        [ -e "$ge_dev" ] || continue
        limited "$CMD_TIMEOUT" ethtool -k "${ge_dev##*/}" </dev/null
        gen_rc $?
    done
}

# modprobe's configuration directories, in its order of precedence (a file in an earlier one hides
# the file of the same name in the later ones).
MODPROBE_DIRS="/etc/modprobe.d /run/modprobe.d /usr/local/lib/modprobe.d /usr/lib/modprobe.d /lib/modprobe.d"

# modprobe_names: the *.conf file names of MODPROBE_DIRS (inside the sysroot), sorted, one per line.
modprobe_names() {
    for mn_dir in $MODPROBE_DIRS; do
        for mn_conf in "$ROOT$mn_dir"/*.conf; do
            [ -f "$mn_conf" ] && echo "${mn_conf##*/}"
        done
    done | sort -u
}

# Every modprobe.d file that counts, in the order modprobe reads them (by name; for a name present in
# several directories, the first directory's), each after a `==> FILE <==` header as tail prints it.
gen_modprobe() {
    for gm_name in $(modprobe_names); do
        for gm_dir in $MODPROBE_DIRS; do
            [ -f "$ROOT$gm_dir/$gm_name" ] || continue
            printf '==> %s <==\n' "$gm_dir/$gm_name"
            limited 5 cat "$ROOT$gm_dir/$gm_name"
            gen_rc $?
            break
        done
    done
}

gen_cmdline() {
    for gc_dir in /proc/[0-9]*; do
        gc_comm=
        IFS= read -r gc_comm 2>/dev/null <"$gc_dir/comm" || continue
        [ "$gc_comm" = flanneld ] || continue
        echo "# pid ${gc_dir##*/}"
        limited 5 tr '\000' '\n' 2>/dev/null <"$gc_dir/cmdline"
        gen_rc $?
    done
}

# The unit file and drop-ins as `systemctl cat` prints them, from the (sys)root.
UNIT_DIRS="/etc/systemd/system /run/systemd/system /usr/lib/systemd/system /lib/systemd/system"

gen_unit_files() {
    gu_sep=
    for gu_unit in flanneld.service flannel.service; do
        for gu_dir in $UNIT_DIRS; do
            if [ -f "$ROOT$gu_dir/$gu_unit" ]; then
                [ -n "$gu_sep" ] && echo
                printf '# %s\n' "$gu_dir/$gu_unit"
                limited 5 cat "$ROOT$gu_dir/$gu_unit"
                gen_rc $?
                gu_sep=1
                break
            fi
        done
        gu_seen=
        for gu_dir in $UNIT_DIRS; do
            # /lib is often a link to /usr/lib: visit each real directory once.
            gu_real=$(cd -P "$ROOT$gu_dir/$gu_unit.d" 2>/dev/null && pwd -P) || continue
            case " $gu_seen " in *" $gu_real "*) continue ;; esac
            gu_seen="$gu_seen $gu_real"
            for gu_conf in "$ROOT$gu_dir/$gu_unit.d"/*.conf; do
                [ -f "$gu_conf" ] || continue
                [ -n "$gu_sep" ] && echo
                printf '# %s\n' "${gu_conf#"$ROOT"}"
                limited 5 cat "$gu_conf"
                gen_rc $?
                gu_sep=1
            done
        done
    done
}

unit_files_exist() {
    for ue_unit in flanneld.service flannel.service; do
        for ue_dir in $UNIT_DIRS; do
            [ -f "$ROOT$ue_dir/$ue_unit" ] && return 0
            for ue_conf in "$ROOT$ue_dir/$ue_unit.d"/*.conf; do
                [ -f "$ue_conf" ] && return 0
            done
        done
    done
    return 1
}

gen_pod_logs() {
    gp_count=0
    for gp_file in "$ROOT"/var/log/pods/*kube-flannel*/*/*.log; do
        [ -f "$gp_file" ] || continue
        gp_count=$((gp_count + 1))
        if [ "$gp_count" -gt "$POD_LOG_FILES" ]; then
            echo 1 >"$TRF"
            break
        fi
        gp_lines=$(wc -l <"$gp_file" | tr -d ' ')
        [ "$gp_lines" -gt "$POD_LOG_LINES" ] && echo 1 >"$TRF"
        printf '==> %s <==\n' "${gp_file#"$ROOT"}"
        limited "$CMD_TIMEOUT" tail -n "$POD_LOG_LINES" "$gp_file" </dev/null
        gen_rc $?
    done
}

pod_logs_exist() {
    for pe_file in "$ROOT"/var/log/pods/*kube-flannel*/*/*.log; do
        [ -f "$pe_file" ] && return 0
    done
    return 1
}

# --- collection ------------------------------------------------------------------------------
T=$CMD_TIMEOUT

# identity
if have hostname; then
    collect hostname 0 0 "$T" hostname
else
    collect hostname 0 0 "$T" uname -n
fi
collect uname 0 0 "$T" uname -a
collect_file os_release 0 /etc/os-release /usr/lib/os-release
collect_file dmi_sys_vendor 0 /sys/class/dmi/id/sys_vendor
collect_file dmi_product_name 0 /sys/class/dmi/id/product_name
collect_file dmi_chassis_asset_tag 0 /sys/class/dmi/id/chassis_asset_tag
collect date 0 0 "$T" date -u
collect uptime 0 0 "$T" uptime

# routing
collect route_n 0 0 "$T" route -n
collect_file proc_net_route 0 /proc/net/route
collect ip_route 0 0 "$T" ip route show table all
collect ip_rule 0 0 "$T" ip rule

# links and neighbours
collect_or_plain ip_addr -d address
collect_or_plain ip_link -d link show
collect ip_link_stats 0 0 "$T" ip -s link
collect ip_neigh 0 0 "$T" ip neigh show
collect bridge_fdb 0 0 "$T" bridge fdb show

# firewall
collect_fw iptables_save 4 iptables-save
collect_fw ip6tables_save 6 ip6tables-save
collect_fw iptables_legacy_save 4 iptables-legacy-save
collect_fw iptables_nft_save 4 iptables-nft-save
if ! have ipset; then
    reset_state
    finish ipset "ipset save" 0 command-missing
elif kmod_present ip_set; then
    collect ipset 0 0 "$T" ipset save
else
    reset_state
    src_path ipset
    : >"$BUNDLE/$SP"
    echo "not run: ip_set is not loaded; running it could load kernel modules" >"$ERRF"
    finish ipset "ipset save" 0 empty
fi
collect_nft
collect_firewalld
collect_ufw

# kernel
run_gen sysctl 0 gen_sysctl
finish sysctl "read /proc/sys (selected keys)" 0
if [ ! -e /proc/modules ]; then
    reset_state
    echo "no /proc/modules: the kernel has no loadable module support (everything is built in)" >"$ERRF"
    finish lsmod "/proc/modules" 0 absent
elif have lsmod; then
    run_cmd lsmod 0 0 "$T" lsmod
    src_path lsmod
    lm_file=$BUNDLE/$SP
    sed -n '1p; /^vxlan[[:space:]]/p; /^br_netfilter[[:space:]]/p; /^nf_conntrack[[:space:]]/p' "$lm_file" \
        >"$lm_file.tmp" && mv "$lm_file.tmp" "$lm_file"
    finish lsmod "lsmod (header, vxlan, br_netfilter, nf_conntrack)" 0
elif [ -r /proc/modules ]; then
    run_gen lsmod 0 gen_proc_modules
    finish lsmod "/proc/modules (lsmod missing)" 0
else
    reset_state
    finish lsmod "lsmod" 0 command-missing
fi
collect dmesg 0 "$DMESG_LINES" "$T" dmesg
if have ethtool; then
    run_gen ethtool 0 gen_ethtool
    finish ethtool "ethtool -k flannel.*" 0
else
    reset_state
    finish ethtool "ethtool -k flannel.*" 0 command-missing
fi

collect_file vxlan_udp_port 0 /sys/module/vxlan/parameters/udp_port
if [ -n "$(modprobe_names)" ]; then
    run_gen modprobe_vxlan 0 gen_modprobe
    finish modprobe_vxlan "cat {$(echo "$MODPROBE_DIRS" | tr ' ' ,)}/*.conf" 0
else
    reset_state
    finish modprobe_vxlan "{$(echo "$MODPROBE_DIRS" | tr ' ' ,)}/*.conf" 0 absent
fi

# flannel
JOURNAL_UNITS="-u flanneld -u flannel -u k3s -u k3s-agent -u rke2-server -u rke2-agent"
JOURNAL_DIR=
if [ -n "$ROOT" ]; then
    for jd in /var/log/journal /run/log/journal; do
        if [ -d "$ROOT$jd" ]; then
            JOURNAL_DIR=$ROOT$jd
            break
        fi
    done
fi
if [ -n "$ROOT" ] && [ -z "$JOURNAL_DIR" ]; then
    reset_state
    finish flannel_journal "journalctl -D $ROOT/var/log/journal" 1 absent
else
    # shellcheck disable=SC2086 # JOURNAL_UNITS is a list of options
    set -- journalctl $JOURNAL_UNITS --no-pager -o short-iso -n "$((JOURNAL_LINES + 1))" --since "$JOURNAL_SINCE"
    [ -n "$JOURNAL_DIR" ] && set -- "$@" -D "$JOURNAL_DIR"
    j_cmd="$*"
    run_cmd flannel_journal 1 "$JOURNAL_LINES" 30 "$@" || C_RC=missing
    src_path flannel_journal
    j_file=$BUNDLE/$SP
    if [ "$C_RC" = missing ]; then
        C_RC=
        finish flannel_journal "$j_cmd" 1 command-missing
    elif [ "$C_RC" = 0 ] && [ "$C_TIMED" = false ] && ! grep -qv '^-- ' "$j_file"; then
        # Only "-- No entries --" style marker lines: nothing was logged.
        finish flannel_journal "$j_cmd" 1 empty
    else
        finish flannel_journal "$j_cmd" 1
    fi
fi
collect_file flannel_env_default 1 /etc/default/flanneld
collect_file flannel_env_sysconfig 1 /etc/sysconfig/flanneld
collect_file subnet_env 1 /run/flannel/subnet.env
collect_file options_env 1 /run/flannel/options.env
collect_file net_conf 1 /etc/kube-flannel/net-conf.json /var/lib/rancher/k3s/agent/etc/flannel/net-conf.json

unit_done=
if [ -z "$ROOT" ] && have systemctl; then
    run_cmd flannel_unit 1 0 "$T" systemctl cat --no-pager flanneld.service
    src_path flannel_unit
    if [ "$C_RC" = 0 ] && [ -s "$BUNDLE/$SP" ]; then
        finish flannel_unit "systemctl cat flanneld" 1
        unit_done=1
    else
        printf 'flannel_unit\tsystemctl cat flanneld did not work (exit=%s), reading unit files: %s\n' \
            "$C_RC" "$(head -n 2 "$ERRF" | tr '\n' ' ')" >>"$LOG"
    fi
fi
if [ -z "$unit_done" ]; then
    if unit_files_exist; then
        run_gen flannel_unit 1 gen_unit_files
        finish flannel_unit "unit files under $UNIT_DIRS" 1
    else
        src_path flannel_unit
        rm -f "$BUNDLE/$SP"
        reset_state
        finish flannel_unit "flanneld.service under $UNIT_DIRS" 1 absent
    fi
fi

run_gen flannel_cmdline 1 gen_cmdline
finish flannel_cmdline "tr '\\0' '\\n' < /proc/PID/cmdline (comm = flanneld)" 1

if pod_logs_exist; then
    run_gen flannel_pod_logs 1 gen_pod_logs
    finish flannel_pod_logs "tail -n $POD_LOG_LINES /var/log/pods/*kube-flannel*/*/*.log" 1
else
    reset_state
    finish flannel_pod_logs "/var/log/pods/*kube-flannel*/*/*.log" 1 absent
fi

# --- manifest and tarball --------------------------------------------------------------------
TIMEOUT_JSON=true
[ "$TIMEOUT_STYLE" = none ] && TIMEOUT_JSON=false
{
    printf '{"format": "%s", "collector_version": "%s", "collected_at": "%s",\n' "$FORMAT" "$VERSION" "$STAMP_ISO"
    printf ' "hostname": %s, "sysroot": %s, "redactions": %s,\n' "$(json_str "$HOST")" "$(json_str "${ROOT:-/}")" \
        "$REDACTIONS"
    printf ' "command_timeout_s": %s, "timeout_available": %s, "run_as_root": %s,\n' "$CMD_TIMEOUT" "$TIMEOUT_JSON" \
        "$AS_ROOT"
    printf ' "sources": [\n'
    sed '$!s/$/,/' "$ENTRIES"
    printf ']}\n'
} >"$BUNDLE/manifest.json"

(cd "$WORK" && tar -cf - "$NAME") | gzip -c >"$TARBALL.partial" || die "$TARBALL: cannot write the bundle"
mv "$TARBALL.partial" "$TARBALL" || die "$TARBALL: cannot write the bundle"
printf 'netsnap-collect %s: %s sources, %s redactions\n' "$VERSION" "$(wc -l <"$ENTRIES" | tr -d ' ')" "$REDACTIONS"
SUMMARY=$(failure_summary)
echo "$TARBALL"
# The last line on stderr says what failed and why; without root the bundle is partial (exit 3).
if [ "$AS_ROOT" = false ]; then
    echo "${SUMMARY:-netsnap-collect: not run as root}; the bundle is partial (run as root, or --allow-partial)" >&2
    [ "$ALLOW_PARTIAL" = 1 ] || exit 3
elif [ -n "$SUMMARY" ]; then
    echo "$SUMMARY" >&2
fi
