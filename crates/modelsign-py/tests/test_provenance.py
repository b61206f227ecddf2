"""modelsign_rs.provenance: a pipeline stage's signed SLSA provenance from Python, checked
against the `modelsign` command installed beside this interpreter in both directions."""

from __future__ import annotations

import datetime
import inspect
import json
import pathlib
import shutil
import subprocess
import sys

import pytest

import modelsign_rs
from modelsign_rs import provenance, signing, verifying
from key_support import write_key_pair

MODELSIGN = pathlib.Path(sys.executable).with_name("modelsign")


def run_cli(*args, cwd=None):
    return subprocess.run(
        [str(MODELSIGN), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def folder(root: pathlib.Path, name: str, content: bytes) -> pathlib.Path:
    path = root / name
    path.mkdir()
    (path / "data.bin").write_bytes(content)
    (path / "config.json").write_bytes(b"{}")
    return path


@pytest.fixture
def stage(tmp_path):
    """(base model, dataset, tuned model) folders of a finetune."""
    return (
        folder(tmp_path, "base", b"base weights"),
        folder(tmp_path, "data", b"training rows"),
        folder(tmp_path, "tuned", b"tuned weights"),
    )


@pytest.fixture
def keys(tmp_path):
    return write_key_pair(tmp_path, "signer")


def signer(keys):
    return signing.Config().use_elliptic_key_signer(private_key=keys[0])


def trusted(keys):
    return verifying.Config().use_elliptic_key_verifier(public_key=keys[1])


def record_finetune(keys, stage, **extra):
    base, data, tuned = stage
    return provenance.record(
        signer(keys),
        stage="finetune",
        outputs=[(tuned, "pkg:huggingface/me/tuned")],
        inputs=[("base-model", base), ("dataset", data)],
        parameters={"learning_rate": "2e-5", "epochs": 3},
        started=datetime.datetime(2026, 12, 2, 9, 30, tzinfo=datetime.timezone.utc),
        finished="2026-12-02T10:00:00Z",
        **extra,
    )


def test_a_finetune_recorded_in_python_verifies_with_the_command_and_in_python(keys, stage):
    base, data, tuned = stage
    recorded = record_finetune(keys, stage)
    assert recorded.stage == "finetune"
    assert recorded.build_type.endswith("/ml-finetune/v1")
    assert recorded.provenance_paths == [str(tuned / "provenance.sig")]
    assert [s.uri for s in recorded.subjects] == ["pkg:huggingface/me/tuned"]
    assert [i.role for i in recorded.inputs] == ["base-model", "dataset"]
    assert all(i.status == "recorded" for i in recorded.inputs)

    done = run_cli(
        "provenance", "verify", "key", tuned, "--public-key", keys[1],
        "--input", f"dataset={data}", "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["stage"] == "finetune"
    assert report["parameters"] == {"learning_rate": "2e-5", "epochs": "3"}
    assert [i["status"] for i in report["inputs"]] == ["recorded", "checked"]

    verified = provenance.verify(trusted(keys), tuned, check_inputs={"dataset": data})
    assert verified.stage == "finetune"
    assert verified.self_recorded
    assert verified.model.root_digest == recorded.subjects[0].root_digest
    assert verified.model.root_digest == report["model"]["root_digest"]
    assert verified.parameters == {"learning_rate": "2e-5", "epochs": "3"}
    assert verified.started == "2026-12-02T09:30:00Z"
    assert verified.finished == "2026-12-02T10:00:00Z"
    dataset = verified.inputs[1]
    assert (dataset.role, dataset.status, dataset.checked_against) == (
        "dataset", "checked", str(data),
    )
    assert dataset.digest["sha256"] == report["inputs"][1]["digest"]["sha256"]
    assert verified.inputs[0].status == "recorded"
    assert verified.public_key_hint == report["public_key_hint"]


def test_a_changed_copy_of_an_input_is_refused(keys, stage, tmp_path):
    base, data, tuned = stage
    record_finetune(keys, stage)
    copy = tmp_path / "data-copy"
    shutil.copytree(data, copy)
    # An identical copy matches.
    verified = provenance.verify(trusted(keys), tuned, check_inputs=[("dataset", copy)])
    assert verified.inputs[1].status == "checked"

    (copy / "data.bin").write_bytes(b"training rows, edited")
    with pytest.raises(modelsign_rs.VerificationError, match="input changed") as raised:
        provenance.verify(trusted(keys), tuned, check_inputs={"dataset": copy})
    assert raised.value.kind == "input_changed"
    done = run_cli(
        "provenance", "verify", "key", tuned, "--public-key", keys[1], "--input", f"dataset={copy}"
    )
    assert done.returncode == 1
    assert str(raised.value) in done.stderr

    with pytest.raises(modelsign_rs.VerificationError) as raised:
        provenance.verify(trusted(keys), tuned, check_inputs={"eval-set": copy})
    assert raised.value.kind == "no_input_of_role"
    with pytest.raises(modelsign_rs.InputError, match="unknown role"):
        provenance.verify(trusted(keys), tuned, check_inputs={"weights": copy})


def test_a_stage_recorded_by_the_command_verifies_in_python(keys, stage, tmp_path):
    base, data, tuned = stage
    done = run_cli(
        "provenance", "record", "key", "--stage", "finetune", "--output", "./tuned",
        "--input", "base-model=./base", "--input", "dataset=./data",
        "--param", "seed=7", "--private-key", keys[0], cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    verified = provenance.verify(
        trusted(keys), tuned, check_inputs={"base-model": base, "dataset": data}
    )
    assert verified.parameters == {"seed": "7"}
    assert [i.status for i in verified.inputs] == ["checked", "checked"]


def test_another_model_and_a_tampered_output_are_refused(keys, stage, tmp_path):
    base, data, tuned = stage
    record_finetune(keys, stage)
    other = folder(tmp_path, "other", b"other weights")
    with pytest.raises(modelsign_rs.VerificationError, match="another model") as raised:
        provenance.verify(trusted(keys), other, tuned / "provenance.sig")
    assert raised.value.kind == "wrong_model"

    (tuned / "data.bin").write_bytes(b"tuned weights, tampered")
    with pytest.raises(modelsign_rs.VerificationError) as raised:
        provenance.verify(trusted(keys), tuned)
    assert raised.value.kind == "wrong_model"


def test_inputs_that_do_not_fit_the_stage_are_refused_before_anything_is_written(
    keys, stage, tmp_path
):
    base, data, tuned = stage
    with pytest.raises(modelsign_rs.InputError, match="do not fit the stage") as raised:
        provenance.record(signer(keys), stage="finetune", outputs=[tuned], inputs={"base-model": base})
    assert not (tuned / "provenance.sig").exists()
    done = run_cli(
        "provenance", "record", "key", "--stage", "finetune", "--output", tuned,
        "--input", f"base-model={base}", "--private-key", keys[0],
    )
    assert done.returncode == 2
    assert str(raised.value) in done.stderr

    with pytest.raises(modelsign_rs.InputError, match="unknown stage 'tune'"):
        provenance.record(signer(keys), stage="tune", outputs=[tuned])
    with pytest.raises(modelsign_rs.InputError, match="names no stage"):
        provenance.record(signer(keys), outputs=[tuned])
    with pytest.raises(modelsign_rs.InputError, match="without a digest"):
        provenance.record(
            signer(keys), stage="quantize", outputs=[tuned],
            inputs={"base-model": "pkg:huggingface/org/base"},
        )
    with pytest.raises(ValueError, match="time zone"):
        provenance.record(
            signer(keys), stage="quantize", outputs=[tuned], inputs={"base-model": base},
            finished=datetime.datetime(2026, 12, 2),
        )


def test_role_equals_reference_strings_are_taken_as_the_command_takes_them(keys, stage):
    base, data, tuned = stage
    recorded = provenance.record(
        signer(keys), stage="finetune", outputs=[(tuned, "pkg:huggingface/me/tuned")],
        inputs=[f"base-model={base}", f"dataset={data}"], parameters=["note=a=b"],
    )
    assert [(i.role, i.status) for i in recorded.inputs] == [
        ("base-model", "recorded"), ("dataset", "recorded")
    ]
    trusted_key = trusted(keys)
    verified = provenance.verify(trusted_key, tuned, check_inputs=[f"dataset={data}"])
    assert verified.parameters == {"note": "a=b"}, "split at the first ="

    for argument, bad in [("inputs", ["dataset"]), ("inputs", [("a", "b", "c")]),
                          ("parameters", "lr=1"), ("inputs", [3])]:
        with pytest.raises(TypeError, match=rf"^{argument}: expected \(.*\) pairs, '.*=.*' "
                                            r"strings or a mapping; got "):
            provenance.record(signer(keys), stage="finetune", outputs=[tuned],
                              **{argument: bad})
    with pytest.raises(TypeError, match=r"^check_inputs: expected \(role, path\) pairs"):
        provenance.verify(trusted_key, tuned, check_inputs=["dataset"])
    with pytest.raises(TypeError, match=r"^inputs: expected \(role, reference\) pairs, "
                                        r"'role=ref' strings or a mapping; got 'dataset'"):
        provenance.record(signer(keys), stage="finetune", outputs=[tuned], inputs=["dataset"])


def test_an_undigested_input_is_recorded_when_allowed_with_a_warning(keys, stage):
    base, data, tuned = stage
    recorded = provenance.record(
        signer(keys), stage="quantize", outputs=[tuned],
        inputs={"base-model": "pkg:huggingface/org/base"}, allow_undigested=True,
    )
    assert recorded.warnings and "without a digest" in recorded.warnings[0]
    assert recorded.inputs[0].status == "undigested"
    verified = provenance.verify(trusted(keys), tuned)
    assert verified.inputs[0].status == "undigested"


def test_a_draft_from_hugging_face_metadata_is_recorded_with_its_claims(keys, tmp_path):
    adapter = folder(tmp_path, "adapter", b"adapter weights")
    data = folder(tmp_path, "data", b"tuning rows")
    (adapter / "README.md").write_text(
        "---\nbase_model: org/base\nbase_model_relation: finetune\n---\n# adapter\n"
    )
    draft = tmp_path / "draft.json"
    done = run_cli("provenance", "import-hf", adapter, "-o", draft)
    assert done.returncode == 0, done.stderr
    with pytest.raises(modelsign_rs.InputError, match="without a digest"):
        provenance.record(signer(keys), draft=draft, inputs={"dataset": data})
    recorded = provenance.record(
        signer(keys), draft=draft, inputs={"dataset": data}, allow_undigested=True,
        parameters={"rank": 8},
    )
    assert recorded.stage == "finetune"
    claimed = recorded.inputs[0]
    assert (claimed.role, claimed.status, claimed.claimed_by) == (
        "base-model", "claimed", "README.md front matter `base_model`",
    )
    verified = provenance.verify(trusted(keys), adapter)
    assert [i.status for i in verified.inputs] == ["claimed", "recorded"]
    assert verified.parameters == {"rank": "8"}


def test_one_output_file_or_claims_as_the_command_takes_them(keys, stage, tmp_path):
    base, data, tuned = stage
    file = tmp_path / "finetune.sig"
    recorded = record_finetune(keys, stage, output_file=file)
    assert recorded.provenance_paths == [str(file)]
    assert provenance.verify(trusted(keys), tuned, file).stage == "finetune"

    record_finetune(keys, stage, claims=True)
    assert (tuned / "claims.jsonl").is_file()
    done = run_cli("provenance", "verify", "key", tuned, "--claims", "--public-key", keys[1])
    assert done.returncode == 0, done.stderr
    assert provenance.verify(trusted(keys), tuned, claims=True).stage == "finetune"


def test_progress_is_reported_while_outputs_and_inputs_are_hashed(keys, stage):
    calls = []
    record_finetune(keys, stage, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 0


def _public(module):
    yield module.__name__, module
    for name in module.__all__:
        item = getattr(module, name)
        if inspect.isclass(item) or inspect.isfunction(item):
            yield f"{module.__name__}.{name}", item


@pytest.mark.parametrize(
    "name,item", list(_public(provenance)), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_public_item_has_a_docstring(name, item):
    assert inspect.getdoc(item), f"{name} has no docstring"


def test_cards_and_provenance_name_their_signer_with_one_type():
    from modelsign_rs import card, verifying

    assert provenance.Signer is card.Signer is verifying.Signer
