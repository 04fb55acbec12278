# Every routine task. `just` with no arguments lists them.

# List the recipes.
default:
    @just --list

# The main job: every stage of every market on the embedded S3.
run *ARGS="--all":
    cargo run -- run {{ARGS}}

# The test suite under coverage (what CI runs): one instrumented build, the summary, at least 80 % of lines.
test:
    cargo install cargo-llvm-cov --locked && cargo llvm-cov --workspace --fail-under-lines 80

# The same tests without coverage (a plain debug build).
test-plain:
    cargo test --workspace

# Formatting and lints, as required before every commit.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Regenerate the committed small fixtures (deterministic).
fixtures:
    cargo run -p fixtures -- generate

# Rewrite the golden outputs after an intended change, then review `git diff fixtures/golden`.
golden:
    UPDATE_GOLDEN=1 cargo test -p workbench-tests --test golden

# Generate 300 MB of raw CSV per market and time a full run and a cached re-run (release build).
bench MB="300" MARKET="foobar-au":
    cargo build --release -p fixtures -p workbench
    target/release/fixtures generate --target-mb {{MB}}
    cargo bench -p workbench --bench pipeline -- --fixtures fixtures/large --market {{MARKET}}

# The bench builds the release runner (`wb-runner`) as the watch does, warms the market's caches when they are
# cold (one untimed run), then drives `wb watch --release`. The bench binary itself is built in the test profile
# (`cargo test --bench`): it reuses target/debug instead of compiling every dependency again in the bench profile
# (dev-dependencies differ). Other markets than foobar-br need `--file`/`--replace`/`--with`: run the bench directly.
# Under `wb watch --release` on 300 MB fixtures, edit a rule of MARKET and time save → its results (target < 30 s).
bench-watch MB="300" MARKET="foobar-br":
    cargo build --release -p fixtures
    target/release/fixtures generate --target-mb {{MB}}
    cargo test -p workbench --bench watch_feedback -- --fixtures fixtures/large --market {{MARKET}} --profile release

# Remove local run state (embedded S3 data, run history, LocalStack venv), stopping a running backend first.
clean-state:
    cargo run -q -- aws down
    rm -rf .workbench

# Start a local AWS backend that outlives the command, e.g. `just aws-up --aws localstack`; `wb run` uses it.
aws-up *ARGS:
    cargo run -- aws up {{ARGS}}

# What runs where: endpoint, buckets, object counts, start-up times.
aws-status *ARGS:
    cargo run -- aws status {{ARGS}}

# Stop the backend `just aws-up` started.
aws-down:
    cargo run -- aws down

# Create (first time, ~90 s, needs PyPI) or check the LocalStack venv in .workbench/localstack-venv.
localstack-venv:
    cargo run -- aws venv

# Build the offline LocalStack image for the `container` backend (root, Docker; FORCE=1 rebuilds).
localstack-image:
    localstack/image/build.sh

# Diff two generated 1,000,000-row frames with known differences and print the time (release; target < 2 s).
bench-diff ROWS="1000000":
    cargo bench -p workbench-diff --bench diff -- {{ROWS}}

# Key → frame latency of the TUI with five markets streaming events (target: every key on screen within 50 ms).
bench-tui KEYS="250":
    cargo bench -p workbench --bench tui_latency -- {{KEYS}}

# The report index over RUNS runs of every market (a temp history): the index's history query + render, its write
# to the embedded S3, and its load (GET + headless parse), timed against the 1 s target. Built in the test profile
# like `bench-watch` (reuses target/debug), so the figures are those of an unoptimised build: an upper bound.
bench-reports RUNS="1000":
    cargo test -p workbench --bench reports_index -- {{RUNS}}

# From `wb new-market` to a green `cargo test -p ID` plus `wb run --market ID`, warm target, timed per step (target
# at most 180 s). Works in a clone of HEAD under target/bench-new-market/ (the first invocation warms it, untimed).
bench-new-market ID="foobar-nz" LIKE="foobar-au":
    bash workbench/benches/new_market.sh {{ID}} {{LIKE}}
