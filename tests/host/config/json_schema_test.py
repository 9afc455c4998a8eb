#!/usr/bin/python3
"""The JSON Schemas of the rig's files agree with `rig check` (issue 22; docs/protocols.md, "Editor support").

1. `rig schema KIND` writes what config/schema/KIND.schema.json holds (the copy the shipped files point at), and
   each is a valid draft-07 schema.
2. Every shipped YAML file (protocols/, config/) starts with a `# yaml-language-server: $schema=...` line naming
   its kind's schema, and validates against it with Debian's python3-jsonschema; so do the tests' valid files.
3. The broken corpus (tests/host/task/broken/): each file is rejected by both, and the schema names the same
   fields as `rig check` (its diagnostics as broken/NAME.expected holds them: test_task's BrokenCorpus checks
   that `rig check` prints exactly those), except the files listed in BEYOND_THE_SCHEMA (each with its reason), which the schema
   accepts and `rig check` rejects.

YAML is read as YAML 1.2's core schema (as editors' yaml-language-server and the rig's loader read it): PyYAML's
YAML 1.1 would make `17:00` a number, `2025-01-06` a date and `yes` a boolean.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys

import jsonschema
import yaml

KINDS = ("protocol", "rig", "subjects")
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")
# What `rig check` reports at a field path: "FILE:LINE:COL: PATH: message".
DIAGNOSTIC = re.compile(r"^(.*?):(\d+):(\d+): (.*)$")
FIELD_PATH = re.compile(r"^[A-Za-z_]\w*(\[\d+\])*(\.[A-Za-z_]\w*(\[\d+\])*)*$")

# Broken files whose fault no schema of one file can see, and why. The schema must accept each (so that this
# list stays honest); `rig check` must reject it.
BEYOND_THE_SCHEMA = {
    "advance_target_missing": "names a protocol file that does not exist",
    "subjects_stage_missing": "names a protocol file that does not exist",
    "go_cue_unknown": "a cue the rig config does not have",
    "threshold_too_fine_for_encoder": "a threshold the rig config's encoder cannot express",
    "volume_outside_calibration": "a volume outside the rig config's calibration",
    "block_max_below_min": "compares two fields",
    "p_low_above_p_high": "compares two fields",
    "rig_calibration_not_monotone": "compares the rows of a table",
    "subjects_duplicate_id": "compares the items of a list",
    "duplicate_field": "a duplicate key is lost when YAML becomes JSON (editors flag it as a YAML error)",
    "free_fraction_nan": "JSON has no NaN: a schema's bounds cannot refuse it",
}


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core schema scalars: true/false, decimal/0o/0x integers, floats with
    .inf/.nan; no timestamps, no sexagesimal numbers, no yes/no/on/off."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                           "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                                   list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def construct_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 16) if text.startswith("0x") else int(text, 10)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", construct_int)


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Yaml12Loader)


def kind_of(document):
    """The kind `rig check` takes a file for (host/config/check.cpp's classify_file)."""
    if isinstance(document, dict):
        if "subjects" in document:
            return "subjects"
        if any(key in document for key in ("rig", "device", "wheel", "cues", "valves")):
            return "rig"
    return "protocol"


def field_path(parts):
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_fields(validator, document):
    """The field paths the schema's errors name (an unknown or missing key is named as the key itself)."""
    fields = set()
    for error in validator.iter_errors(document):
        parts = list(error.absolute_path)
        if error.validator == "additionalProperties":
            known = set(error.schema.get("properties", {}))
            fields.update(field_path(parts + [key]) for key in error.instance if key not in known)
        elif error.validator == "required":
            fields.add(field_path(parts + [re.search(r"'(.+?)' is a required property", error.message).group(1)]))
        else:
            fields.add(field_path(parts))
    return fields


def check_fields(diagnostics):
    """The field paths of `rig check`'s diagnostics ("" for the document itself)."""
    fields = set()
    for line in diagnostics.splitlines():
        match = DIAGNOSTIC.match(line)
        if not match:
            continue
        head = match.group(4).split(": ", 1)[0]
        fields.add(head if FIELD_PATH.match(head) and head != "document" else "")
    return fields


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rig", required=True, help="the rig executable")
    parser.add_argument("--source", required=True, help="the repository")
    parser.add_argument("--work", required=True, help="a directory for scratch files")
    args = parser.parse_args()
    source = pathlib.Path(args.source)
    failures = []

    def fail(message):
        failures.append(message)
        print("FAIL:", message)

    # 1. The stored schemas are the ones the rig writes, and are valid schemas.
    validators = {}
    for kind in KINDS:
        stored_path = source / "config" / "schema" / f"{kind}.schema.json"
        written = subprocess.run([args.rig, "schema", kind], capture_output=True, text=True, check=True).stdout
        if stored_path.read_text() != written:
            fail(f"{stored_path} differs from `rig schema {kind}`: run `rig schema {kind} --out {stored_path}`")
        schema = json.loads(written)
        jsonschema.Draft7Validator.check_schema(schema)
        validators[kind] = jsonschema.Draft7Validator(schema, format_checker=jsonschema.draft7_format_checker)
    for kind in KINDS:
        checked = subprocess.run([args.rig, "schema", kind, "--check", str(source / "config" / "schema" / f"{kind}.schema.json")],
                                 capture_output=True, text=True)
        if checked.returncode != 0:
            fail(f"rig schema {kind} --check: exit {checked.returncode}: {checked.stderr.strip()}")

    stale = pathlib.Path(args.work) / "stale.schema.json"
    stale.write_text("{}\n")
    checked = subprocess.run([args.rig, "schema", "rig", "--check", str(stale)], capture_output=True, text=True)
    if checked.returncode != 1 or "rig schema rig --out" not in checked.stderr:
        fail(f"rig schema rig --check on a stale file: exit {checked.returncode}, {checked.stderr.strip()!r}")
    bad = subprocess.run([args.rig, "schema", "rigs"], capture_output=True, text=True)
    if bad.returncode != 2 or bad.stdout:
        fail(f"rig schema rigs: exit {bad.returncode} (expected 2), stdout {bad.stdout[:80]!r}")

    # 2. Shipped files carry the modeline of their kind's schema and validate; so do the tests' valid files.
    shipped = sorted((source / "protocols").glob("*.yaml")) + sorted((source / "config").glob("*.yaml"))
    if len(shipped) < 5:
        fail(f"only {len(shipped)} shipped YAML files found under {source}")
    for path in shipped:
        document = load_yaml(path)
        kind = kind_of(document)
        match = MODELINE.match(path.read_text())
        if not match:
            fail(f"{path}: the first line is not `# yaml-language-server: $schema=...`")
            continue
        target = (path.parent / match.group(1)).resolve()
        expected = (source / "config" / "schema" / f"{kind}.schema.json").resolve()
        if target != expected:
            fail(f"{path}: its modeline points at {target}, not the {kind} schema {expected}")
        errors = [f"{field_path(e.absolute_path)}: {e.message}" for e in validators[kind].iter_errors(document)]
        if errors:
            fail(f"{path} ({kind}) does not validate: {errors}")
        checked = subprocess.run([args.rig, "check", str(path)], capture_output=True, text=True, cwd=source)
        if checked.returncode != 0:
            fail(f"rig check {path}: exit {checked.returncode}: {checked.stderr.strip()}")
    valid = [source / "tests/host/task/rig.test.yaml"] + sorted((source / "tests/host/app/e2e").glob("*.yaml")) + \
        sorted((source / "tests/bench/host_path").glob("*.yaml"))
    for path in valid:
        document = load_yaml(path)
        kind = kind_of(document)
        errors = [f"{field_path(e.absolute_path)}: {e.message}" for e in validators[kind].iter_errors(document)]
        if errors:
            fail(f"{path} ({kind}) does not validate: {errors}")
    print(f"{len(shipped)} shipped and {len(valid)} test files validate against their schemas")

    # 3. The broken corpus: the schema and `rig check` reject each file at the same fields.
    task_dir = source / "tests/host/task"
    agreed = 0
    broken = sorted((task_dir / "broken").glob("*.yaml"))
    for path in broken:
        name = path.stem
        kind = "rig" if name.startswith("rig_") else "subjects" if name.startswith("subjects_") else "protocol"
        # What `rig check --rig rig.test.yaml` prints for the file, exactly (BrokenCorpus checks it, test_task).
        by_check = check_fields((task_dir / "broken" / f"{name}.expected").read_text())
        if not by_check:
            fail(f"broken/{name}.expected holds no diagnostic")
            continue
        try:
            by_schema = schema_fields(validators[kind], load_yaml(path))
        except yaml.YAMLError:
            by_schema = {""}  # not one YAML document: an editor reports it as such, at the document
        if name in BEYOND_THE_SCHEMA:
            if by_schema:
                fail(f"broken/{path.name} is listed as beyond the schema ({BEYOND_THE_SCHEMA[name]}), "
                     f"but the schema rejects it at {sorted(by_schema)}: take it off the list")
            continue
        if not by_schema:
            fail(f"broken/{path.name}: the {kind} schema accepts it; rig check rejects it at {sorted(by_check)}")
        elif by_schema != by_check:
            fail(f"broken/{path.name}: the schema names {sorted(by_schema)}, rig check {sorted(by_check)}")
        else:
            agreed += 1
    unknown = set(BEYOND_THE_SCHEMA) - {p.stem for p in broken}
    if unknown:
        fail(f"BEYOND_THE_SCHEMA lists files the corpus does not have: {sorted(unknown)}")
    print(f"broken corpus: {agreed} files rejected by both at the same fields, "
          f"{len(BEYOND_THE_SCHEMA)} beyond a schema (rig check only), of {len(broken)}")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
