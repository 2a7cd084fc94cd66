#!/usr/bin/env bash
# .ci/postgres.sh - a throwaway PostgreSQL cluster for whistle's test suite.
#
# Sourced (this is what .ci/run does):
#
#     source .ci/postgres.sh
#     whistle_pg_start    # exports WHISTLE_TEST_DATABASE_URL and WHISTLE_TEST_PG_DIR
#     make test           # the suite now also runs against PostgreSQL
#     whistle_pg_stop     # stops the server and deletes its temp dir
#
# As a command (handy in a developer's shell):
#
#     eval "$(.ci/postgres.sh start)"   # prints `export ...` lines to eval
#     make test
#     .ci/postgres.sh stop              # finds the cluster via $WHISTLE_TEST_PG_DIR
#
# whistle_pg_start:
#   * finds PostgreSQL server binaries (newest /usr/lib/postgresql/*/bin, else
#     initdb on PATH); when there are none and we are root, installs Debian's
#     `postgresql` package with apt-get (without its default "main" cluster);
#   * makes a fresh temp dir (under $WHISTLE_TEST_PG_TMP, default /tmp) owned by an
#     unprivileged user: yourself when not root; as root the `postgres` user,
#     or a system user `whistle-ci` created on the spot (initdb refuses root);
#   * `initdb --auth=trust -U whistle` there (durability off: throwaway data);
#   * starts the server listening only on 127.0.0.1, on the first free port
#     from $WHISTLE_TEST_PG_PORT (default 54329) on, with its unix socket in the
#     temp dir, and waits until pg_isready reports it ready;
#   * creates database `whistle_test` and exports
#     WHISTLE_TEST_DATABASE_URL=postgresql+psycopg://whistle@127.0.0.1:PORT/whistle_test
#   Calling it again first stops the cluster it started before, so each call
#   gets a brand-new cluster. On failure it cleans up after itself and
#   returns non-zero.
#
# whistle_pg_stop: `pg_ctl stop -m fast`, removes the temp dir, unsets the
#   variables. Safe to call any number of times (e.g. from an EXIT trap).
#
# Messages go to stderr; server and initdb logs are in the temp dir (and are
# printed when something fails).

_whistle_pg_log() { printf '[postgres.sh] %s\n' "$*" >&2; }

# The newest PostgreSQL server bin dir, printed on stdout.
_whistle_pg_find_bindir() {
    local d initdb
    while IFS= read -r d; do
        if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -rV)
    if initdb=$(command -v initdb) && initdb=$(readlink -f "$initdb"); then
        d=${initdb%/*}
        if [[ -x $d/pg_ctl && -x $d/postgres ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    return 1
}

# Debian's postgresql, without the "main" cluster its postinst would create
# (and might start) on port 5432.
_whistle_pg_install() {
    if ((EUID != 0)); then
        _whistle_pg_log "no PostgreSQL server binaries found; install them (Debian: apt-get install postgresql)"
        return 1
    fi
    local conf=/etc/postgresql-common/createcluster.conf
    local -a apt=(apt-get -y -q -o DPkg::Lock::Timeout=300)
    _whistle_pg_log "no PostgreSQL server binaries found: installing postgresql with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    "${apt[@]}" update >&2 || return 1
    "${apt[@]}" install --no-install-recommends postgresql-common >&2 || return 1
    if [[ -f $conf ]]; then
        sed -i -E 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' "$conf"
        grep -q '^create_main_cluster = false' "$conf" ||
            printf 'create_main_cluster = false\n' >>"$conf"
    fi
    "${apt[@]}" install --no-install-recommends postgresql >&2 || return 1
}

# The user that owns and runs the cluster, printed on stdout.
_whistle_pg_pick_user() {
    if ((EUID != 0)); then
        id -un
    elif id -u postgres >/dev/null 2>&1; then
        echo postgres
    else
        if ! id -u whistle-ci >/dev/null 2>&1; then
            _whistle_pg_log "creating system user whistle-ci to run PostgreSQL"
            useradd --system --user-group --no-create-home \
                --home-dir /nonexistent --shell /usr/sbin/nologin whistle-ci >&2 ||
                return 1
        fi
        echo whistle-ci
    fi
}

# Run "$@" as the cluster's owner, from inside the cluster's dir (so the
# owner can always resolve its working directory). Needs WHISTLE_TEST_PG_DIR.
_whistle_pg_as() {
    local user
    user=$(<"$WHISTLE_TEST_PG_DIR/user") || return 1
    (
        cd "$WHISTLE_TEST_PG_DIR" || exit 1
        if ((EUID == 0)) && [[ $user != root ]]; then
            exec runuser -u "$user" -- "$@"
        else
            exec "$@"
        fi
    )
}

# True when something already accepts TCP connections on 127.0.0.1:$1.
_whistle_pg_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A client program: the server's bin dir first, then PATH.
_whistle_pg_tool() {
    local bindir
    bindir=$(<"$WHISTLE_TEST_PG_DIR/bindir") || return 1
    if [[ -x $bindir/$1 ]]; then
        printf '%s\n' "$bindir/$1"
    else
        command -v "$1"
    fi
}

_whistle_pg_show_log() {
    local f=$1
    [[ -s $f ]] || return 0
    _whistle_pg_log "---- last lines of $f ----"
    tail -n 40 "$f" >&2
    _whistle_pg_log "----"
}

whistle_pg_start() {
    local bindir user dir port first tries=0 pg_isready createdb i
    whistle_pg_stop || return 1 # a cluster this shell started before

    bindir=$(_whistle_pg_find_bindir) ||
        { _whistle_pg_install && bindir=$(_whistle_pg_find_bindir); } ||
        { _whistle_pg_log "PostgreSQL server binaries not found"; return 1; }
    _whistle_pg_log "using $("$bindir/postgres" --version) from $bindir"

    user=$(_whistle_pg_pick_user) || return 1
    dir=$(mktemp -d "${WHISTLE_TEST_PG_TMP:-/tmp}/whistle-pg.XXXXXX") || return 1
    # From here on whistle_pg_stop (or a caller's EXIT trap) can clean up.
    export WHISTLE_TEST_PG_DIR=$dir
    : >"$dir/.whistle-ci-pg" # marker: whistle_pg_stop only deletes such dirs
    printf '%s\n' "$bindir" >"$dir/bindir"
    printf '%s\n' "$user" >"$dir/user"
    if ! mkdir "$dir/data" "$dir/socket" || ! chown -R "$user:" "$dir"; then
        whistle_pg_stop
        return 1
    fi
    _whistle_pg_log "cluster dir $dir, owned by $user"

    if ! _whistle_pg_as "$bindir/initdb" -D "$dir/data" --auth=trust -U whistle \
        --encoding=UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1; then
        _whistle_pg_log "initdb failed"
        _whistle_pg_show_log "$dir/initdb.log"
        whistle_pg_stop
        return 1
    fi
    cat >>"$dir/data/postgresql.conf" <<EOF

# whistle CI: throwaway cluster, local only, durability off
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/socket'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    first=${WHISTLE_TEST_PG_PORT:-54329}
    port=$first
    while :; do
        if ((port > first + 200)); then
            _whistle_pg_log "no free port in $first..$((first + 200))"
            whistle_pg_stop
            return 1
        fi
        if _whistle_pg_port_busy "$port"; then
            port=$((port + 1))
            continue
        fi
        _whistle_pg_log "starting PostgreSQL on 127.0.0.1:$port"
        if _whistle_pg_as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
            -o "-p $port" -w -t 120 start >&2; then
            break
        fi
        # Someone may have grabbed the port between the probe and the bind.
        tries=$((tries + 1))
        if ((tries < 5)) && grep -qE 'could not bind|could not create any TCP/IP sockets' "$dir/server.log" 2>/dev/null; then
            _whistle_pg_log "port $port was taken meanwhile; trying the next one"
            port=$((port + 1))
            continue
        fi
        _whistle_pg_log "PostgreSQL failed to start"
        _whistle_pg_show_log "$dir/server.log"
        whistle_pg_stop
        return 1
    done
    printf '%s\n' "$port" >"$dir/port"

    if ! pg_isready=$(_whistle_pg_tool pg_isready) || ! createdb=$(_whistle_pg_tool createdb); then
        _whistle_pg_log "pg_isready/createdb not found"
        whistle_pg_stop
        return 1
    fi
    for ((i = 0; ; i++)); do
        if "$pg_isready" -q -h 127.0.0.1 -p "$port" -U whistle -d postgres; then
            break
        fi
        if ((i >= 60)); then
            _whistle_pg_log "pg_isready: server not ready after 60 s"
            _whistle_pg_show_log "$dir/server.log"
            whistle_pg_stop
            return 1
        fi
        sleep 1
    done
    if ! "$createdb" -h 127.0.0.1 -p "$port" -U whistle whistle_test >&2; then
        _whistle_pg_log "createdb whistle_test failed"
        whistle_pg_stop
        return 1
    fi

    export WHISTLE_TEST_DATABASE_URL="postgresql+psycopg://whistle@127.0.0.1:$port/whistle_test"
    _whistle_pg_log "ready: WHISTLE_TEST_DATABASE_URL=$WHISTLE_TEST_DATABASE_URL"
}

whistle_pg_stop() {
    local dir=${WHISTLE_TEST_PG_DIR:-} bindir rc=0
    if [[ -z $dir ]]; then
        return 0
    fi
    if [[ ! -e $dir ]]; then
        unset WHISTLE_TEST_PG_DIR WHISTLE_TEST_DATABASE_URL
        return 0
    fi
    if [[ ! -e $dir/.whistle-ci-pg ]]; then
        _whistle_pg_log "refusing to touch $dir: not a cluster dir made by this script"
        return 1
    fi
    if [[ -f $dir/data/postmaster.pid ]] && bindir=$(<"$dir/bindir"); then
        _whistle_pg_log "stopping PostgreSQL in $dir"
        if ! _whistle_pg_as "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2; then
            _whistle_pg_log "fast stop failed; trying immediate"
            _whistle_pg_as "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >&2 || rc=1
        fi
    fi
    if ((rc == 0)); then
        rm -rf -- "$dir" || rc=1
        unset WHISTLE_TEST_PG_DIR WHISTLE_TEST_DATABASE_URL
    else
        _whistle_pg_log "could not stop the server; leaving $dir in place"
    fi
    return "$rc"
}

# Run as a command rather than sourced.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    case ${1:-} in
    start)
        whistle_pg_start # stops the one $WHISTLE_TEST_PG_DIR names, if any, first
        printf 'export WHISTLE_TEST_PG_DIR=%q\n' "$WHISTLE_TEST_PG_DIR"
        printf 'export WHISTLE_TEST_DATABASE_URL=%q\n' "$WHISTLE_TEST_DATABASE_URL"
        ;;
    stop)
        whistle_pg_stop
        ;;
    *)
        # shellcheck disable=SC2016 # the $(...) is meant literally
        printf 'usage: eval "$(%s start)"  |  %s stop   (see the top of this file)\n' "$0" "$0" >&2
        exit 2
        ;;
    esac
fi
