# Long install steps, for the installers and CI (sourced: `step_prefix=name; source steps.sh`).
# run_step runs a command under a time limit, reports at least every 15 s what it is doing,
# stops an attempt whose log stays idle too long (a stalled registry connection) and tries a
# bounded number of times, then fails saying what stalled.
step_limit="${KLING_STEP_LIMIT:-1200}" # seconds one attempt of one step may take
idle_limit="${KLING_STEP_IDLE_LIMIT:-240}" # seconds a step's log may stay unchanged
tries="${KLING_STEP_TRIES:-3}"
log() { echo "[${step_prefix:-setup}] $*" >&2; }
# Failures worth another attempt: the registry's or the mirror's network trouble (npm, apt).
transient='ETARGET|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ESOCKETTIMEDOUT|socket hang up|network|Temporary failure|Could not connect|Connection timed out|Failed to fetch'

# run_step <what> <log file> <command...>: runs the command with the limits above, printing
# progress (elapsed time, attempt, what the log says last) at least every 15 s. A quiet log is
# not a stall while files change under $step_watch (when set): npm writes nothing while it
# unpacks a large tree or builds a native module.
run_step() {
	local what="$1" steplog="$2"
	shift 2
	local attempt pid rc started size last_size idle_since next_report next_probe stalled quiet_but_busy
	local mark="$steplog.activity"
	for attempt in $(seq 1 "$tries"); do
		: >"$steplog"
		touch "$mark"
		started=$SECONDS
		idle_since=$SECONDS
		next_report=$((SECONDS + 15))
		next_probe=$((SECONDS + 30))
		last_size=0
		stalled=""
		quiet_but_busy=""
		timeout --kill-after=15 "$step_limit" "$@" >"$steplog" 2>&1 &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			sleep 1
			size=$(stat -c %s "$steplog" 2>/dev/null || echo 0)
			if [ "$size" != "$last_size" ]; then
				last_size=$size
				idle_since=$SECONDS
				quiet_but_busy=""
			fi
			# Only once the log has been quiet a while, and then every 15 s: one walk that stops at the first change.
			if [ -n "${step_watch:-}" ] && ((SECONDS - idle_since >= 30 && SECONDS >= next_probe)); then
				next_probe=$((SECONDS + 15))
				if [ -n "$(find "$step_watch" -newer "$mark" -print -quit 2>/dev/null)" ]; then
					idle_since=$SECONDS
					quiet_but_busy=1
				fi
				touch "$mark"
			fi
			if [ -z "$stalled" ] && ((SECONDS - idle_since >= idle_limit)); then
				stalled="no output for ${idle_limit} s"
				kill -TERM "$pid" 2>/dev/null || true
			fi
			if ((SECONDS >= next_report)); then
				if [ -n "$quiet_but_busy" ]; then
					log "$what: $((SECONDS - started)) s (attempt $attempt of $tries); the log is quiet while files under $step_watch change (unpacking or building)"
				else
					log "$what: $((SECONDS - started)) s (attempt $attempt of $tries); $(step_progress "$steplog")"
				fi
				next_report=$((SECONDS + 15))
			fi
		done
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" -eq 0 ] && rm -f "$mark" && return 0
		[ "$rc" -eq 124 ] && [ -z "$stalled" ] && stalled="still running after ${step_limit} s"
		if [ -n "$stalled" ]; then
			log "$what stalled ($stalled); it was at: $(tail -n 1 "$steplog" | cut -c1-300)"
		elif ! grep -qE "$transient" "$steplog"; then
			log "$what failed (exit $rc); the last lines of $steplog:"
			tail -n 30 "$steplog" >&2
			return 1
		else
			log "$what failed on the network (attempt $attempt of $tries): $(grep -hE "$transient" "$steplog" | head -n 1 | cut -c1-300)"
		fi
		[ "$attempt" -lt "$tries" ] && sleep $((attempt * 5))
	done
	log "$what did not complete in $tries attempts; see $steplog"
	return 1
}

# What a step's log says: npm's count of registry requests so far (with --loglevel=http) and the
# newest line.
step_progress() {
	local fetched
	fetched=$(grep -c 'http fetch' "$1" 2>/dev/null || true)
	echo "${fetched:-0} registry requests so far; last: $(tail -n 1 "$1" 2>/dev/null | cut -c1-160)"
}

