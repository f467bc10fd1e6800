"""How the GL4/GL5/GL6 findings read when the analyses follow values through other files,
hooks, bare grad switches, loss terms, accumulation loops and library wrappers (the cases of
tests/corpus/code_real, whose labels test_corpus_code_real.py checks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, invoke_cli

CORPUS = ROOT / "tests" / "corpus" / "code_real"


@pytest.fixture(scope="module")
def findings():
    proc = invoke_cli("check", "--format", "json", "--select", "GL4,GL5,GL6", str(CORPUS))
    assert proc.returncode in (0, 1), proc.stderr
    by_file: dict[str, list[dict]] = {}
    for finding in json.loads(proc.stdout)["findings"]:
        by_file.setdefault(Path(finding["path"]).name, []).append(finding)
    return by_file


def test_a_cut_in_another_files_helper_names_the_helper_at_the_call(findings):
    (found,) = findings["gl5_signal_model.py"]
    assert found["code"] == "GL503"
    assert "`.numpy()` in smooth (gl5_signal_filters.py), called at line" in found["message"]
    assert found["message"].startswith("self.encoder (Conv1d) gets no gradient")


def test_a_bare_grad_switch_is_named_as_written(findings):
    (found,) = findings["gl5_set_grad_enabled_statement.py"]
    assert "`torch.set_grad_enabled(False)` at line" in found["message"]


def test_a_loss_term_made_a_number_names_the_local_and_the_backward(findings):
    (found,) = findings["gl5_fl_mrcm_adv_item.py"]
    assert found["code"] == "GL503"
    assert found["message"].startswith("`loss_adv_g` is a Python number: `.item()`")
    assert "`.backward()` runs at line 26" in found["message"]


def test_zero_grad_per_micro_batch_names_the_step(findings):
    (found,) = findings["gl6_rae_micro_batches.py"]
    assert found["code"] == "GL602"
    assert "on every micro-batch" in found["message"] and "(line 16)" in found["message"]


def test_a_library_wrapper_is_reported_at_its_call(findings):
    (found,) = findings["gl4_skorch_wrapper.py"]
    assert found["code"] == "GL401" and found["line"] == 25
    assert "at line 21 in MyModule.forward" in found["message"]


def test_an_optimiser_never_zeroed_beside_one_that_is(findings):
    (found,) = findings["gl6_cyclegan_two_d_one_zeroed.py"]
    assert found["code"] == "GL601" and found["line"] == 28


def test_intentional_patterns_stay_silent(findings):
    for name in ("ok_gl5_ema_codebook.py", "ok_gl5_dino_crops_no_grad.py", "ok_gl6_dist_autograd.py",
                 "ok_gl6_dino_schedules.py", "ok_gl6_zero_all_helper.py"):
        assert name not in findings, findings.get(name)


def test_the_unzeroed_optimiser_is_named(findings):
    (found,) = findings["gl6_idinvert_discriminator.py"]
    assert found["message"].startswith("`optimizer_D` steps in a loop that clears other optimizers'")
