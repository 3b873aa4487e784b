# FreelanceFlow: the two commands of the README, and a few helpers.
.PHONY: demo test down status bench bench-dashboard lint

demo:   ## the whole local stack on generated sample data, left running
	bash scripts/demo.sh

test:   ## every test, against a real PostgreSQL and a real Kafka-protocol broker
	bash scripts/test.sh

down:   ## stop the local stack (PostgreSQL, tansu, master, workers, dashboards)
	bash scripts/stack.sh down

status:
	bash scripts/stack.sh status

bench:  ## end-to-end throughput at 1M invoices; writes docs/benchmarks.md
	bash scripts/bench.sh

bench-dashboard:  ## p95 latency of every dashboard API at 1M invoices; writes docs/benchmarks.md
	bash scripts/bench-dashboard.sh

lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
