# SPDX-License-Identifier: BSD-2-Clause
#
# debian-apt.sh - sourced by the tools/xen scripts: Debian 12 source and
# arm64 binary packages through apt, without changing the system's apt
# configuration. A private directory holds its own sources, lists and
# cache; the archive and its key are the ones this machine's apt already
# uses for bookworm main.
#
#   apt_private_init DIR          set up DIR (sources, lists) once
#   apt_private_source DIR PKG    'apt-get source' PKG into the cwd
#   apt_private_download DIR PKG...   arm64 .debs into the cwd
#   apt_private_depends DIR PKG   the arm64 package PKG depends on first

# apt_mirror: the URI and Signed-By of this machine's bookworm main entry
# (deb822 .sources or one-line sources.list). Prints "URI KEYRING".
apt_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		awk '
			function flush() {
				if (uri != "" && suites ~ /(^| )bookworm( |$)/ &&
				    comps ~ /(^| )main( |$)/ && !done) {
					print uri, (key == "" ? "-" : key); done = 1
				}
				uri = suites = comps = key = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { $1 = ""; suites = $0 " " }
			/^Components:/ { $1 = ""; comps = $0 " " }
			/^Signed-By:/ { key = $2 }
			END { flush() }' "$f"
	done | head -n 1 | grep . && return 0
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		awk '$1 == "deb" {
			i = 2; key = "-"
			if ($2 ~ /^\[/) {
				for (; i <= NF && $i !~ /\]$/; i++)
					if ($i ~ /signed-by=/) { key = $i; sub(/.*signed-by=/, "", key) }
				if ($i ~ /signed-by=/) { key = $i; sub(/.*signed-by=/, "", key); sub(/\]$/, "", key) }
				i++
			}
			if ($(i + 1) == "bookworm") { print $i, key; exit }
		}' "$f"
	done | head -n 1 | grep .
}

apt_private_opts() {
	local dir=$1
	echo "-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts=$dir/etc" \
		"-o Dir::State::Lists=$dir/lists -o Dir::Cache=$dir/cache" \
		"-o Dir::State::status=$dir/status -o APT::Architecture=arm64" \
		"-o APT::Architectures::=arm64 -o APT::Sandbox::User=root" \
		"-o Debug::NoLocking=1"
}

apt_private_init() {
	local dir=$1 mirror uri key
	if [[ -s $dir/lists/.ready ]]; then
		return 0
	fi
	if ! mirror=$(apt_mirror); then
		echo "no Debian bookworm main entry in /etc/apt/sources.list*:" \
			"this script needs a Debian 12 machine with its archive configured" >&2
		return 1
	fi
	read -r uri key <<<"$mirror"
	mkdir -p "$dir/etc" "$dir/lists/partial" "$dir/cache/archives/partial"
	: >"$dir/status"
	{
		echo "Types: deb deb-src"
		echo "URIs: $uri"
		echo "Suites: bookworm"
		echo "Components: main"
		echo "Architectures: arm64"
		[[ $key == - ]] || echo "Signed-By: $key"
	} >"$dir/etc/bookworm.sources"
	# shellcheck disable=SC2046
	if ! apt-get -q $(apt_private_opts "$dir") update >"$dir/update.log" 2>&1 ||
		grep -qE '^(E|Err):' "$dir/update.log"; then
		echo "apt-get update of Debian's bookworm main (sources and arm64)" \
			"failed: is the Debian archive reachable? ($dir/update.log)" >&2
		return 1
	fi
	date -u +%FT%TZ >"$dir/lists/.ready"
}

apt_private_source() {
	local dir=$1 pkg=$2
	# shellcheck disable=SC2046
	apt-get -q $(apt_private_opts "$dir") source "$pkg"
}

apt_private_download() {
	local dir=$1
	shift
	# shellcheck disable=SC2046
	apt-get -q $(apt_private_opts "$dir") download "$@"
}

apt_private_depends() {
	local dir=$1 pkg=$2
	# shellcheck disable=SC2046
	apt-cache $(apt_private_opts "$dir") depends "$pkg" |
		awk '/^ *Depends:/ { print $2; exit }' | sed 's/:arm64$//'
}
