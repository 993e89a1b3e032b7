# vkc-operator: the targets Kubernetes users know from kubebuilder.
#
#   make run        run the operator for real (local control plane unless
#                   KUBECONFIG is set), with the CRD and a sample installed
#   make test       every test: unit, fuzz-corpus replay and end-to-end
#                   against a real control plane, under ASan and UBSan
#   make test-e2e   only the end-to-end tests
#   make build      the operator and the kubectl plugin, in build/
#   make install    the CRD and the connector ClusterRole into the cluster
#   make deploy     the whole install set (kubectl apply -k manifests/default)
#   make fuzz       each fuzz target for FUZZ_SECONDS under libFuzzer
#   make soak       the operator under ASan/LSan for SOAK_SECONDS of churn
#   make manifests  regenerate manifests/install.yaml
#   make bench      the benchmarks (see bench/)

WERROR ?= OFF
JOBS ?= 3
FUZZ_SECONDS ?= 30
SOAK_SECONDS ?= 600
BUILD_DIR ?= build
TEST_DIR ?= build-test
FUZZ_DIR ?= build-fuzz
CTEST_ARGS ?=

.PHONY: all deps build run test test-build test-unit test-e2e install uninstall deploy \
	undeploy fuzz soak manifests bench cluster-up cluster-down clean

all: build

deps:
	hack/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DVKC_WERROR=$(WERROR)
	cmake --build $(BUILD_DIR)

run: build
	VKC_OPERATOR=$(CURDIR)/$(BUILD_DIR)/vkc-operator hack/run.sh

# The test build carries AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer, so every test, the end-to-end ones included
# (they run this build's operator), runs under them.
$(TEST_DIR)/build.ninja:
	cmake -S . -B $(TEST_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
		-DVKC_WERROR=$(WERROR) -DVKC_ASAN=ON -DVKC_UBSAN=ON

test-build: deps $(TEST_DIR)/build.ninja
	cmake --build $(TEST_DIR)

test: test-build cluster-up
	ctest --test-dir $(TEST_DIR) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

test-unit: test-build
	ctest --test-dir $(TEST_DIR) --output-on-failure -j $(JOBS) -L unit $(CTEST_ARGS)

test-e2e: test-build cluster-up
	ctest --test-dir $(TEST_DIR) --output-on-failure -j $(JOBS) -L e2e $(CTEST_ARGS)

cluster-up:
	hack/local-cluster.sh up

cluster-down:
	hack/local-cluster.sh down

install:
	kubectl apply --server-side --force-conflicts -f crds/
	kubectl apply --server-side --force-conflicts -f manifests/rbac/connector_role.yaml

uninstall:
	kubectl delete --ignore-not-found -f manifests/rbac/connector_role.yaml
	kubectl delete --ignore-not-found -f crds/

deploy:
	kubectl apply -k manifests/default

undeploy:
	kubectl delete --ignore-not-found -k manifests/default

# keeps install.yaml's comment header, re-renders the rest
manifests:
	{ awk '/^#/ { print; next } { exit }' manifests/install.yaml; \
	  kubectl kustomize manifests/default; } > manifests/install.yaml.new
	mv manifests/install.yaml.new manifests/install.yaml

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_DIR) -G Ninja -DVKC_FUZZ=ON -DVKC_ASAN=ON \
		-DVKC_UBSAN=ON -DVKC_FUZZ_SECONDS=$(FUZZ_SECONDS) -DVKC_WERROR=$(WERROR)
	cmake --build $(FUZZ_DIR)
	ctest --test-dir $(FUZZ_DIR) --output-on-failure -L fuzz

soak: test-build cluster-up
	SOAK_SECONDS=$(SOAK_SECONDS) VKC_BUILD_DIR=$(CURDIR)/$(TEST_DIR) \
		VKC_OPERATOR=$(CURDIR)/$(TEST_DIR)/vkc-operator tests/soak/soak.sh

bench: build
	bench/run.sh

clean:
	rm -rf $(BUILD_DIR) $(TEST_DIR) $(FUZZ_DIR)
