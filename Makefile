# The verbs developers and CI share. `make test` is what CI runs.
.PHONY: build test test-fast run migrate format lint bench

build:
	swift build

test:
	scripts/test

test-fast:
	swift test --no-parallel --filter 'PipewrightCoreTests|SSHKeysTests|BitbucketTests|PipelineConfigTests|LogStoreTests'

run:
	swift run pipewright serve

migrate:
	swift run pipewright migrate --yes

format:
	swift format --in-place --recursive Sources Tests Benchmarks Package.swift

lint:
	swift format lint --strict --recursive Sources Tests Benchmarks Package.swift

bench:
	swift build -c release && swift run -c release pipewright-bench keys && swift run -c release pipewright-bench logs 100
