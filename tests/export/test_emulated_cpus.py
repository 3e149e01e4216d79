"""The int8 path on a CPU without VNNI, whatever CPU runs the suite.

qemu-user emulates an AMD Zen 3 (`-cpu EPYC-Milan`: AVX2, no AVX-512, no VNNI), so ONNX Runtime picks the
AVX2 kernels whose pair sums saturate 8-bit weights. Under it, the scheme and row-quantisation tests must
pass, a folder exported here with 8-bit weights must be refused at load, and a 7-bit one must score like
PyTorch. About 12× slower than native; skipped (with the reason) where qemu-x86_64 is not installed
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


def test_the_emulated_cpu_saturates_eight_bit_weights():
    done = emulated(["-c", "from rewardkit.export.int8_scheme import cpu_record; import json; "
                           "print(json.dumps(cpu_record()))"])
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert record["isa"] == "AVX2" and record["u8s8_saturates"] is True


def test_scheme_and_row_quantisation_tests_pass_on_the_emulated_cpu():
    done = emulated(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(HERE / "test_int8_scheme.py"),
                     str(HERE / "test_row_quantize.py")])
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout.splitlines()[-1] and "failed" not in done.stdout.splitlines()[-1]


LOAD_AND_SCORE = """
import json, sys
import rewardkit
from rewardkit.errors import ModelLoadError
from rewardkit import Sample
samples = [Sample.from_text("What is 2+2?", "4"), Sample.from_text("Name a colour.", "Blue, a calm colour.")]
try:
    print(json.dumps({"rewards": rewardkit.load(sys.argv[1]).score(samples).rewards}))
except ModelLoadError as error:
    print(json.dumps({"error": str(error)}))
"""


def test_folders_exported_here_are_refused_or_score_right_on_the_emulated_cpu(tiny_bert, tmp_path):
    import rewardkit
    from rewardkit import Sample
    from rewardkit.export import export_onnx
    from rewardkit.export.int8_scheme import pair_sums_saturate

    samples = [Sample.from_text("What is 2+2?", "4"), Sample.from_text("Name a colour.", "Blue, a calm colour.")]
    seven = tmp_path / "u8s7"
    export_onnx(tiny_bert, seven, int8=True, int8_scheme="u8s7")
    here = rewardkit.load(str(seven)).score(samples).rewards
    result = json.loads(emulated(["-c", LOAD_AND_SCORE, str(seven)]).stdout.strip().splitlines()[-1])
    assert result["rewards"] == pytest.approx(here, abs=1e-5)  # 7-bit weights: the same integers everywhere
    if not pair_sums_saturate():
        eight = tmp_path / "u8s8"
        export_onnx(tiny_bert, eight, int8=True, int8_scheme="u8s8")
        result = json.loads(emulated(["-c", LOAD_AND_SCORE, str(eight)]).stdout.strip().splitlines()[-1])
        assert "is wrong on this CPU" in result["error"] and "--int8-scheme u8s7" in result["error"]
