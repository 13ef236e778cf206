# Convenience front end over CMake. The two commands of the README:
#   make demo   build everything and run the main job
#   make test   build everything and run every test
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all build demo test fuzz-smoke clean

all: build

build:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/src/cli/teegate demo

test:
	tools/run-tests.sh

# Each libFuzzer harness for 60 s (clang, ASan+UBSan); see docs/fuzzing.md.
fuzz-smoke:
	fuzz/run.sh 60

clean:
	rm -rf $(BUILD) build-* build-logs
