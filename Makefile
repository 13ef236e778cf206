# Convenience front end over CMake. The two commands of the README:
#   make demo   build everything and run the main job
#   make test   build everything and run every test
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all build demo test clean

all: build

build:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/src/cli/teegate demo

test:
	tools/run-tests.sh

clean:
	rm -rf $(BUILD) build-*
