"""JSON Schemas: generated from the models, committed under schemas/, and true of real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.clirun import ok, run
from trustctl.schemas import NAMES, schema, schema_text

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_schema_is_the_generated_one(name: str) -> None:
    committed = (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(name), (
        f"schemas/{name}.schema.json is stale: trustctl schema {name} > schemas/{name}.schema.json"
    )
    assert ok("schema", name).stdout == committed


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(
        f"{name}.schema.json" for name in NAMES
    )
    for name in NAMES:
        jsonschema.Draft202012Validator.check_schema(schema(name))


def test_an_unknown_schema_is_a_usage_error() -> None:
    result = run("schema", "rule")
    assert result.exit_code == 2
    assert "'rule' is not one of" in result.output


def test_the_rules_file_names_its_schema_for_the_yaml_language_server() -> None:
    first = (ROOT / "policies" / "rules.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/rules.schema.json"
    assert (ROOT / "policies" / first.split("=", 1)[1]).resolve() == SCHEMAS / "rules.schema.json"


def _check_jsonschema(schema_name: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHECK_JSONSCHEMA, "--schemafile", SCHEMAS / f"{schema_name}.schema.json", *files],
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_jsonschema_passes_the_rules_and_a_generated_policy(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    ok("generate", "sample_data/", "--rules", "policies/rules.yaml", "-o", policy)
    as_json = tmp_path / "policy.json"
    ok("generate", "sample_data/", "-o", as_json)
    rules = _check_jsonschema("rules", ROOT / "policies" / "rules.yaml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    golden = ROOT / "tests" / "golden" / "policy.yaml"
    policies = _check_jsonschema("policy", policy, as_json, golden)
    assert policies.returncode == 0, policies.stdout + policies.stderr


def test_check_jsonschema_refuses_what_trustctl_refuses(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    text = (ROOT / "policies" / "rules.yaml").read_text(encoding="utf-8")
    rules.write_text(text.replace("initial_level: suggest", "initial_level: sugest"), "utf-8")
    checked = _check_jsonschema("rules", rules)
    assert checked.returncode == 1
    assert "sugest" in checked.stdout
    assert run("validate", "--rules", rules).exit_code == 2


@pytest.mark.parametrize("bands", [(), ("--set", "confidence_bands=[0.9]")])
def test_a_ledger_entry_and_an_evidence_row_fit_their_schemas(
    tmp_path: Path, bands: tuple[str, ...]
) -> None:
    evidence = tmp_path / "evidence.parquet"
    ok("aggregate", "sample_data/", "-o", evidence, *bands)
    import pyarrow.parquet as pq

    rows = pq.read_table(evidence).slice(0, 50).to_pylist()
    validator = jsonschema.Draft202012Validator(schema("evidence"))
    for row in rows:
        as_json = json.loads(json.dumps(row, default=lambda v: v.isoformat()))
        validator.validate(as_json)
    # ``confidence`` only in a file split into confidence bands
    assert set(rows[0]) | {"confidence"} == set(schema("evidence")["properties"])
    assert ("confidence" in rows[0]) == bool(bands)


def test_every_line_of_a_ledger_fits_the_ledger_schema(tmp_path: Path) -> None:
    from tests.test_ledger import story

    validator = jsonschema.Draft202012Validator(schema("ledger"))
    lines = story(tmp_path).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    for line in lines:
        validator.validate(json.loads(line))
    broken = {**json.loads(lines[0]), "kind": "promotd"}
    assert not validator.is_valid(broken)
