"""The int8 path on a CPU without VNNI, whatever CPU runs the suite.

qemu-user emulates an AMD Zen 3 (`-cpu EPYC-Milan`: AVX2, no AVX-512, no VNNI), so ONNX Runtime picks the
AVX2 kernels whose pair sums saturate 8-bit weights. Under it, the scheme and row-quantisation tests must
pass, a folder exported here with 8-bit weights must be refused at load, a 7-bit one must score like
PyTorch, and torch must find no native bf16. All of it runs in one emulated interpreter (about 12× slower
than native; importing torch alone takes ~30 s there); skipped (with the reason) where qemu-x86_64 is not installed
(`apt-get install qemu-user`; .ci/run installs it).
"""

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

EMULATED_CPU = "EPYC-Milan"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 kernels only"),
    pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="qemu-x86_64 not installed (apt-get install "
                                                                   "qemu-user)"),
    pytest.mark.skipif(bool(os.environ.get("REWARDKIT_EMULATED_CPU")), reason="already emulated"),
]


def emulated(args: list[str], timeout: float = 900) -> subprocess.CompletedProcess:
    """Run this interpreter with `args` on the emulated CPU, from the project root."""
    env = {**os.environ, "REWARDKIT_EMULATED_CPU": EMULATED_CPU, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(["qemu-x86_64", "-cpu", EMULATED_CPU, sys.executable, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


ON_THE_EMULATED_CPU = """
import json, sys
import pytest
import rewardkit
from rewardkit import Sample
from rewardkit.errors import ModelLoadError
from rewardkit.export.int8_scheme import cpu_record
from rewardkit.machine import supports_bf16

tests, samples, folders = sys.argv[1].split(","), json.loads(sys.argv[2]), sys.argv[3:]
exit_code = int(pytest.main(["-q", "-p", "no:cacheprovider", *tests]))
samples = [Sample.from_text(prompt, response) for prompt, response in samples]
scored = {}
for folder in folders:
    try:
        scored[folder] = {"rewards": rewardkit.load(folder).score(samples).rewards}
    except ModelLoadError as error:
        scored[folder] = {"error": str(error)}
print(json.dumps({"pytest_exit_code": exit_code, "cpu_record": cpu_record(), "native_bf16": supports_bf16(),
                  "scored": scored}))
"""
"""Everything the emulated CPU has to show, in one interpreter: importing torch alone takes about 30 s under
qemu, so one run instead of one per check."""

SAMPLES = [("What is 2+2?", "4"), ("Name a colour.", "Blue, a calm colour.")]


@pytest.fixture(scope="module")
def on_the_emulated_cpu(tiny_bert, tmp_path_factory):
    """Folders exported here (u8s7 always; u8s8 where this CPU's kernels do not saturate, as it then allows),
    their scores here, and one emulated run: the scheme and row-quantisation test modules, the CPU record, native
    bf16 or not, and the exported folders loaded and scored."""
    import rewardkit
    from rewardkit import Sample
    from rewardkit.export import export_onnx
    from rewardkit.export.int8_scheme import pair_sums_saturate

    work = tmp_path_factory.mktemp("emulated")
    schemes = ["u8s7"] if pair_sums_saturate() else ["u8s7", "u8s8"]
    folders = {scheme: work / scheme for scheme in schemes}
    here = {}
    for scheme, folder in folders.items():
        export_onnx(tiny_bert, folder, int8=True, int8_scheme=scheme)
        here[scheme] = rewardkit.load(str(folder)).score([Sample.from_text(*s) for s in SAMPLES]).rewards
    tests = ",".join(str(HERE / name) for name in ("test_int8_scheme.py", "test_row_quantize.py"))
    done = emulated(["-c", ON_THE_EMULATED_CPU, tests, json.dumps(SAMPLES), *map(str, folders.values())])
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["pytest_output"] = done.stdout
    report["scored"] = {scheme: report["scored"][str(folder)] for scheme, folder in folders.items()}
    return report, here


def test_the_emulated_cpu_saturates_eight_bit_weights(on_the_emulated_cpu):
    record = on_the_emulated_cpu[0]["cpu_record"]
    assert record["isa"] == "AVX2" and record["u8s8_saturates"] is True


def test_an_avx2_cpu_has_no_native_bf16(on_the_emulated_cpu):
    assert on_the_emulated_cpu[0]["native_bf16"] is False


def test_scheme_and_row_quantisation_tests_pass_on_the_emulated_cpu(on_the_emulated_cpu):
    report = on_the_emulated_cpu[0]
    summary = [line for line in report["pytest_output"].splitlines() if " passed" in line or " failed" in line]
    assert report["pytest_exit_code"] == 0, report["pytest_output"][-3000:]
    assert summary and "failed" not in summary[-1], report["pytest_output"][-3000:]


def test_folders_exported_here_are_refused_or_score_right_on_the_emulated_cpu(on_the_emulated_cpu):
    report, here = on_the_emulated_cpu
    # 7-bit weights: the same integers everywhere
    assert report["scored"]["u8s7"]["rewards"] == pytest.approx(here["u8s7"], abs=1e-5)
    if "u8s8" in here:  # exported where the kernels do not saturate; refused where they do
        error = report["scored"]["u8s8"]["error"]
        assert "is wrong on this CPU" in error and "--int8-scheme u8s7" in error
