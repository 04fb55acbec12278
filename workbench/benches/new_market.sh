#!/usr/bin/env bash
# `just bench-new-market`: from `wb new-market` to a green `cargo test -p <id>` plus `wb run --market <id>`, with a
# warm target folder, timed step by step against the 3-minute target.
#
# It works in a clone of HEAD under target/bench-new-market/ws with a target folder of its own, which the first
# invocation builds (untimed, about 20 minutes on 2 cores: wb, the runner, the golden suite and a market's tests,
# as a developer's target holds them). Never share or hard-link this workspace's target with the clone: cargo hashes
# a workspace crate by its path relative to the root, so both checkouts would write the same artifact files. Each invocation resets the clone to HEAD first and after, so the next one is warm and starts clean.
set -euo pipefail
cd "$(dirname "$0")/../.."
id="${1:-foobar-nz}"
like="${2:-foobar-au}"
shift 2 || true
options=("$@")
if [ ${#options[@]} -eq 0 ]; then
    options=(--currency NZD --fx 0.60 --timezone Pacific/Auckland --languages en,mi)
fi

ws="target/bench-new-market/ws"
if [ ! -d "$ws/.git" ]; then
    mkdir -p "$(dirname "$ws")"
    git clone --quiet --no-hardlinks . "$ws"
fi
git -C "$ws" fetch --quiet "$PWD" HEAD
git -C "$ws" checkout --quiet --force --detach FETCH_HEAD
git -C "$ws" clean -fdq -e target
cd "$ws"

echo "bench-new-market: $id like $like ${options[*]} (2 cores: $(nproc) seen)"
echo "warming the target folder (untimed; minutes the first time only) ..."
cargo build -q -p workbench --bin wb
cargo build -q -p workbench-runner --bin wb-runner
cargo test -q -p workbench-tests --test golden --no-run 2>/dev/null
cargo test -q -p "$like" --no-run 2>/dev/null

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
t0=$(now)
target/debug/wb new-market "$id" --like "$like" "${options[@]}" > /dev/null
t1=$(now)
cargo test -q -p "$id" 2>&1 | grep -E "^test result" || true
t2=$(now)
cargo run -q -- run --market "$id" > /dev/null
t3=$(now)

printf '\n%-52s %8s\n' "step" "seconds"
printf '%-52s %8.1f\n' "wb new-market (crate, registration, fixtures, goldens)" "$(secs "$t0" "$t1")"
printf '%-52s %8.1f\n' "cargo test -p $id" "$(secs "$t1" "$t2")"
printf '%-52s %8.1f\n' "cargo run -- run --market $id (rebuilds wb, runs)" "$(secs "$t2" "$t3")"
total=$(secs "$t0" "$t3")
printf '%-52s %8.1f   (target: at most 180)\n' "total" "$total"

git checkout --quiet --force HEAD
git clean -fdq -e target
