"""README.md's "Verify, then load" recipes, run as they stand on the real all-MiniLM-L6-v2:
they load a model a trusted key signed, and they raise before the loader is called when one
byte of the weights changed or the signer is not in the policy, on a model that the loader
alone would have loaded without complaint."""

from __future__ import annotations

import ast
import hashlib
import os
import pathlib
import shutil

import pytest

from loader_support import (
    RECIPE_MODEL_DIR,
    RECIPE_REPO_ID,
    copy_model,
    flip_one_byte,
    run_recipe,
    sign,
)

EMBEDDING_SIZE = 384
SENTENCE = "Verified before it was loaded."


# ---------------------------------------------------------------------------------------
# Models


@pytest.fixture(scope="session")
def signed_models(real_model, keys, tmp_path_factory) -> dict[str, pathlib.Path]:
    """Copies of the real model with model.sig inside, one signed by the key the README's
    policy names and one by a key it does not name; tests copy these again before use."""
    signed = {}
    for signer in ("trusted", "untrusted"):
        model = copy_model(real_model, tmp_path_factory.mktemp(signer) / RECIPE_MODEL_DIR)
        sign(model, keys[signer][0])
        signed[signer] = model
    return signed


def place_model(signed_models, signer: str, workdir: pathlib.Path) -> pathlib.Path:
    """The model signed by `signer`, where the recipes load it from."""
    return copy_model(signed_models[signer], workdir / RECIPE_MODEL_DIR)


def sentence_embedding(model) -> tuple[int, ...]:
    return tuple(model.encode([SENTENCE]).shape)


def token_embeddings(model, folder: str) -> tuple[int, ...]:
    import torch
    from transformers import AutoTokenizer

    tokens = AutoTokenizer.from_pretrained(folder)([SENTENCE], return_tensors="pt")
    with torch.no_grad():
        return tuple(model(**tokens).last_hidden_state.shape)


def assert_embeds(recipe: str, model, folder: str) -> None:
    """The model a recipe loaded produces embeddings of all-MiniLM-L6-v2's width."""
    if recipe == "sentence-transformers":
        assert sentence_embedding(model) == (1, EMBEDDING_SIZE)
    else:
        batch, tokens, width = token_embeddings(model, folder)
        assert (batch, width) == (1, EMBEDDING_SIZE) and tokens > 2


def spy_on_loader(spy_on, recipe: str):
    """The loader the recipe calls, replaced by a spy that records calls."""
    if recipe == "sentence-transformers":
        import sentence_transformers

        return spy_on(sentence_transformers, "SentenceTransformer")
    import transformers

    return spy_on(transformers, "AutoModel")


def load_without_verification(recipe: str, folder: str):
    """What the recipe's loader line does, without the verification line before it."""
    if recipe == "sentence-transformers":
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(folder, device="cpu")
    from transformers import AutoModel

    return AutoModel.from_pretrained(folder)


FOLDER_RECIPES = ["sentence-transformers", "transformers"]


def changed_names(error) -> list[str]:
    """The names of the resources a VerificationError says changed."""
    return [name for name, *_ in error.changed]


# ---------------------------------------------------------------------------------------
# The recipes' shape


@pytest.mark.parametrize("recipe", FOLDER_RECIPES + ["hf-cache"])
def test_recipe_is_imports_then_verify_then_load(recipes, recipe):
    """What README promises: after the imports, two lines, a modelsign_rs verification call
    and then the loader's; for a cache snapshot the loader reads the folder verified
    (`result.path`), since a repository id could resolve to another revision or cache."""
    statements = ast.parse(recipes[recipe]).body
    body = [s for s in statements if not isinstance(s, (ast.Import, ast.ImportFrom))]
    assert statements[: len(statements) - len(body)] == [
        s for s in statements if isinstance(s, (ast.Import, ast.ImportFrom))
    ], "imports come first"
    assert len(body) == 2, ast.unparse(ast.Module(body=body, type_ignores=[]))
    verify, load = body
    assert isinstance(verify, (ast.Expr, ast.Assign)), ast.unparse(verify)
    assert isinstance(verify.value, ast.Call), ast.unparse(verify)
    verifier = "hf.verify_snapshot" if recipe == "hf-cache" else "verify_model_dir"
    assert ast.unparse(verify.value.func) == f"modelsign_rs.{verifier}"
    targets = [ast.unparse(target) for target in getattr(load, "targets", [])]
    assert isinstance(load, ast.Assign) and targets == ["model"], ast.unparse(load)
    if recipe == "hf-cache":
        results = [ast.unparse(target) for target in getattr(verify, "targets", [])]
        assert results == ["result"], ast.unparse(verify)
        assert isinstance(load.value, ast.Call), ast.unparse(load)
        assert [ast.unparse(a) for a in load.value.args[:1]] == ["result.path"], ast.unparse(load)


# ---------------------------------------------------------------------------------------
# A model folder


@pytest.mark.parametrize("recipe", FOLDER_RECIPES)
def test_recipe_verifies_then_loads_the_signed_model(
    recipes, recipe, workdir, signed_models, spy_on
):
    place_model(signed_models, "trusted", workdir)
    loader = spy_on_loader(spy_on, recipe)

    model = run_recipe(recipes[recipe])["model"]

    assert len(loader.calls) == 1, loader.calls
    assert_embeds(recipe, model, RECIPE_MODEL_DIR)


@pytest.mark.parametrize("recipe", FOLDER_RECIPES)
def test_recipe_refuses_a_flipped_byte_before_the_loader_runs(
    recipes, recipe, workdir, signed_models, spy_on
):
    import modelsign_rs

    model_dir = place_model(signed_models, "trusted", workdir)
    flip_one_byte(model_dir / "model.safetensors")
    loader = spy_on_loader(spy_on, recipe)

    with pytest.raises(modelsign_rs.VerificationError) as refused:
        run_recipe(recipes[recipe])

    assert changed_names(refused.value) == ["model.safetensors"], refused.value
    assert loader.calls == [], "the loader ran on a model that failed verification"
    # The same tampered folder, loaded without the verification line: it loads and embeds,
    # so nothing but the verification stood between it and the program.
    assert_embeds(recipe, load_without_verification(recipe, RECIPE_MODEL_DIR), RECIPE_MODEL_DIR)


@pytest.mark.parametrize("recipe", FOLDER_RECIPES)
def test_recipe_refuses_a_signer_the_policy_does_not_name(
    recipes, recipe, workdir, signed_models, spy_on
):
    import modelsign_rs

    place_model(signed_models, "untrusted", workdir)
    loader = spy_on_loader(spy_on, recipe)

    with pytest.raises(modelsign_rs.UntrustedSignatureError):
        run_recipe(recipes[recipe])

    assert loader.calls == [], "the loader ran on a model no trusted signer signed"
    assert_embeds(recipe, load_without_verification(recipe, RECIPE_MODEL_DIR), RECIPE_MODEL_DIR)


def test_recipe_refuses_an_unsigned_model(recipes, workdir, signed_models, spy_on):
    import modelsign_rs

    model_dir = place_model(signed_models, "trusted", workdir)
    (model_dir / "model.sig").unlink()
    loader = spy_on_loader(spy_on, "sentence-transformers")

    with pytest.raises(modelsign_rs.SignatureNotFoundError) as refused:
        run_recipe(recipes["sentence-transformers"])

    assert pathlib.Path(refused.value.filename).name == "model.sig", refused.value
    assert loader.calls == []


# ---------------------------------------------------------------------------------------
# A snapshot in the Hugging Face cache

# The revision the snapshot is filed under (refs/main), as the Hub names one: 40 hex digits.
SNAPSHOT_REVISION = hashlib.sha1(b"modelsign loader test snapshot").hexdigest()


def write_hf_cache_snapshot(
    model_dir: pathlib.Path, cache: pathlib.Path, repo_id: str
) -> pathlib.Path:
    """Files the folder into the Hugging Face cache as huggingface_hub itself does: each
    file's content once in blobs/ under its sha256, the snapshot's files relative links to
    them, refs/main naming the snapshot's revision."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / SNAPSHOT_REVISION
    (repo / "blobs").mkdir(parents=True)
    for source in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        relative = source.relative_to(model_dir)
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        blob = repo / "blobs" / digest
        if not blob.exists():
            shutil.copyfile(source, blob)
        link = snapshot / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(SNAPSHOT_REVISION)
    return snapshot


@pytest.fixture
def hf_cache_snapshot(signed_models, workdir):
    """The trusted signed model (its model.sig among the files, as a repository that ships
    its signature has it) in the private Hugging Face cache the tests point HF_HUB_CACHE at;
    removed afterwards."""
    from huggingface_hub import constants

    cache = pathlib.Path(constants.HF_HUB_CACHE)
    assert cache == pathlib.Path(os.environ["HF_HUB_CACHE"]), "huggingface_hub read another cache"
    snapshot = write_hf_cache_snapshot(signed_models["trusted"], cache, RECIPE_REPO_ID)
    yield snapshot
    shutil.rmtree(cache / ("models--" + RECIPE_REPO_ID.replace("/", "--")))


def blob_of(snapshot: pathlib.Path, name: str) -> pathlib.Path:
    return (snapshot / name).resolve()


def test_the_cache_snapshot_is_what_huggingface_hub_reads(hf_cache_snapshot):
    """The layout the test writes is one huggingface_hub's own cache reader takes as its
    own: the repository, at the revision refs/main names, every file a link into blobs/."""
    from huggingface_hub import scan_cache_dir, snapshot_download

    scanned = scan_cache_dir()
    assert list(scanned.warnings) == []
    (repo,) = scanned.repos
    assert repo.repo_id == RECIPE_REPO_ID
    assert [revision.commit_hash for revision in repo.revisions] == [SNAPSHOT_REVISION]
    assert pathlib.Path(snapshot_download(RECIPE_REPO_ID)) == hf_cache_snapshot
    assert (hf_cache_snapshot / "model.safetensors").is_symlink()
    assert blob_of(hf_cache_snapshot, "model.safetensors").parent.name == "blobs"


def test_hf_cache_recipe_verifies_then_loads_the_snapshot(recipes, hf_cache_snapshot, spy_on):
    loader = spy_on_loader(spy_on, "transformers")

    ran = run_recipe(recipes["hf-cache"])

    assert ran["result"].path.resolve() == hf_cache_snapshot.resolve()
    model = ran["model"]
    assert len(loader.calls) == 1, loader.calls
    assert_embeds("transformers", model, RECIPE_REPO_ID)


def test_hf_cache_recipe_refuses_a_flipped_byte_before_the_loader_runs(
    recipes, hf_cache_snapshot, spy_on
):
    import modelsign_rs

    flip_one_byte(blob_of(hf_cache_snapshot, "model.safetensors"))
    loader = spy_on_loader(spy_on, "transformers")

    with pytest.raises(modelsign_rs.VerificationError) as refused:
        run_recipe(recipes["hf-cache"])

    assert changed_names(refused.value) == ["model.safetensors"], refused.value
    assert loader.calls == [], "the loader ran on a snapshot that failed verification"
    assert_embeds("transformers", load_without_verification("transformers", RECIPE_REPO_ID),
                  RECIPE_REPO_ID)
