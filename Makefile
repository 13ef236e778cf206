# Convenience front end over CMake. The two commands of the README:
#   make demo   build what the demo needs and run it (the main job)
#   make test   build everything and run every test
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all build configure demo test fuzz-smoke fuzz-long clean

all: build

configure:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Only the teegate command and the mediator program of the isolation
# modes: the demo does not wait for every test to build.
demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target teegate_cli teegate-mediator
	$(BUILD)/src/cli/teegate demo

test:
	tools/run-tests.sh

# Each libFuzzer harness for 60 s (clang, ASan+UBSan); see docs/fuzzing.md.
fuzz-smoke:
	fuzz/run.sh 60

# Each harness for 30 minutes, one after the other (releases; about an hour).
fuzz-long:
	fuzz/run.sh 1800

clean:
	rm -rf $(BUILD) build-* build-logs
