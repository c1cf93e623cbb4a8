# processes.sh: sourced by control-plane.sh and node.sh. The processes they start are recorded
# by PID in $RUN/<name>.pid with their output in $LOG/<name>.log, so stop ends exactly what
# start started and nothing else. The caller defines RUN, LOG and die().

running() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

launch() { # name args...: start in its own session, record its PID
  local name=$1; shift
  if running "$name"; then echo "$name already running (pid $(cat "$RUN/$name.pid"))"; return 0; fi
  setsid "$@" > "$LOG/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
  echo "started $name (pid $!, log $LOG/$name.log)"
}

wait_for() { # what seconds command...
  local what=$1 n=$2; shift 2
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  die "$what not ready after ${n}s; see $LOG"
}

stop_pid() { # name [half-seconds to wait after SIGTERM before SIGKILL]
  local c=$1 pid
  if running "$c"; then
    pid=$(cat "$RUN/$c.pid"); kill "$pid"
    for _ in $(seq 1 "${2:-20}"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $c (pid $pid)"
  fi
  rm -f "$RUN/$c.pid"
}
