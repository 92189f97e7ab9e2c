"""Validates rendered Kubernetes manifests against the JSON schemas shipped by kubernetes-validate.

usage: python validate-schemas.py --kubernetes 1.30 --kubernetes 1.37 < rendered.yaml

Reads a multi-document YAML stream (kustomize build output) on stdin and prints one JSON object on
stdout: {"objects": [...], "errors": [...]}. `objects` are the parsed documents (so callers need no
YAML parser of their own); each error names the object, the Kubernetes version and the field path.
Validation is strict (unknown fields are errors) and an object whose kind has no schema is an error
too, except the custom resources whose schemas are kept in deploy/tools/schemas/
(`<group>_<version>_<Kind>.json`, e.g. cert-manager's Certificate and Issuer), validated with
jsonschema against that file for every Kubernetes version. Exit code: 0 valid, 1 invalid, 2 unusable input.
"""
import argparse
import json
import os
import sys

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError, VersionNotSupportedError


def name_of(obj):
    meta = obj.get("metadata") or {}
    return "%s/%s" % (obj.get("kind", "?"), meta.get("name", "?"))


SCHEMAS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")


def custom_schema(obj):
    """The kept schema of a custom resource kind, or None for the built-in kinds."""
    group_version = obj["apiVersion"].replace("/", "_")
    path = os.path.join(SCHEMAS_DIR, "%s_%s.json" % (group_version, obj["kind"]))
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubernetes", action="append", required=True, help="minor version, e.g. 1.30 (repeatable)")
    args = parser.parse_args()
    try:
        objects = [doc for doc in yaml.safe_load_all(sys.stdin.read()) if doc]
    except yaml.YAMLError as error:
        print(json.dumps({"objects": [], "errors": [{"object": "(input)", "kubernetes": "", "path": "", "message": str(error)}]}))
        return 2
    errors = []
    for obj in objects:
        if not isinstance(obj, dict) or "apiVersion" not in obj or "kind" not in obj:
            errors.append({"object": "(document)", "kubernetes": "", "path": "", "message": "not a Kubernetes object (apiVersion and kind required)"})
            continue
        schema = custom_schema(obj)
        if schema is not None:
            for error in jsonschema.Draft7Validator(schema).iter_errors(obj):
                for version in args.kubernetes:
                    errors.append({
                        "object": name_of(obj),
                        "kubernetes": version,
                        "path": ".".join(str(part) for part in error.absolute_path),
                        "message": error.message,
                    })
            continue
        for version in args.kubernetes:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except ValidationError as error:
                errors.append({
                    "object": name_of(obj),
                    "kubernetes": error.version,
                    "path": ".".join(str(part) for part in error.path),
                    "message": error.message,
                })
            except SchemaNotFoundError:
                errors.append({"object": name_of(obj), "kubernetes": version, "path": "apiVersion", "message": "no schema for %s %s" % (obj["apiVersion"], obj["kind"])})
            except VersionNotSupportedError:
                errors.append({"object": "(validator)", "kubernetes": version, "path": "", "message": "kubernetes-validate has no schemas for this version"})
    print(json.dumps({"objects": objects, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
