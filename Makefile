# baremetal.k8s: every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
CACHE_DIR ?= $(or $(BMK8S_CACHE_DIR),$(HOME)/.cache/baremetal-k8s)
export PATH := $(CURDIR)/$(VENV)/bin:$(CACHE_DIR)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PIP_DISABLE_PIP_VERSION_CHECK := 1

PYTEST_ARGS ?=
LAB := tests/lab/lab.sh

.PHONY: help system-deps venv collection-link lint sanity unit check lab-test integration molecule test lab lab-up \
        lab-down lab-status bench ee-context ee-image changelog clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

system-deps: ## install the missing Debian packages of tests/setup/debian-packages.txt (root; a no-op when present)
	tests/setup/system-deps.sh

venv: $(VENV)/.installed ## create .venv with the pinned toolchain (requirements*.txt under constraints.txt)

$(VENV)/.installed: requirements.txt requirements-sanity.txt constraints.txt
	tests/setup/system-deps.sh toolchain
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip==25.3
	$(VENV)/bin/pip install -q -r requirements.txt -r requirements-sanity.txt -c constraints.txt
	@touch $@

collection-link: ## make ./.collections resolve baremetal.k8s to this checkout
	@mkdir -p .collections/ansible_collections/baremetal
	@ln -sfn ../../.. .collections/ansible_collections/baremetal/k8s

lint: venv collection-link ## ruff, yamllint, ansible-lint (production profile), shellcheck
	ruff check .
	ruff format --check plugins tests
	yamllint -s .
	ansible-lint --offline -q
	shellcheck -x -S warning .ci/run $$(find tests -name '*.sh' -not -path '*/charts/*')

sanity: venv ## ansible-test sanity; build + install the collection, syntax-check every playbook, EE context
	rc=0; tests/sanity/ansible-test.sh sanity || rc=$$?; tests/sanity/run.sh || rc=1; exit $$rc

unit: venv collection-link ## ansible-test units (tests/unit; or quicker: pytest tests/unit -k NAME)
	tests/sanity/ansible-test.sh units $(UNIT_ARGS)

check: venv collection-link ## lint + sanity + unit, the tiers without root or the lab: run it before every commit
	tests/run-all.sh -j lint sanity unit

lab-test: venv collection-link ## the lab's own tests (pytest -m lab; root; they bring up the parts they test)
	pytest -m lab tests/integration $(PYTEST_ARGS)

integration: venv collection-link ## the collection's integration tests on the lab (pytest -m 'not lab'; `make lab-up` first)
	pytest -m 'not lab' tests/integration $(PYTEST_ARGS)

molecule: venv collection-link ## molecule test of molecule/default on the lab hosts
	molecule test -s default

test: system-deps venv collection-link ## everything (CI): lint, sanity, unit, lab-up, lab-test, integration, molecule
	tests/run-all.sh

lab: system-deps venv collection-link ## the main job on the embedded default: bring up the lab, run playbooks/site.yml on it
	$(LAB) up
	ansible-playbook -i "$$($(LAB) inventory)" playbooks/site.yml
	$(LAB) info

lab-up: system-deps venv collection-link ## bring up the lab (or reuse what is up) without running site.yml
	$(LAB) up

lab-down: ## tear the lab down: nothing left running or mounted (caches are kept)
	$(LAB) down

lab-status: ## what lab components are up
	$(LAB) status

bench: venv collection-link ## benchmarks that print numbers (lab converge/no-op, Patroni write downtime)
	tests/bench/run.sh

ee-context: venv ## ansible-builder create: the execution environment build context in ./context
	tests/sanity/ee-context.sh

ee-image: venv ## build the execution environment image with podman+runc from a local Debian base and check it inside (root)
	command -v podman >/dev/null && command -v runc >/dev/null && command -v debootstrap >/dev/null \
	  || DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap
	tests/ee/build.sh

changelog: venv ## lint changelog fragments and render CHANGELOG.md
	antsibull-changelog lint
	antsibull-changelog generate

clean: ## remove build outputs (not the venv, not the caches)
	rm -rf build context .pytest_cache .ruff_cache tests/output
