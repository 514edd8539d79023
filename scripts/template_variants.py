"""The deployments template.yaml can make, each checked as CloudFormation sees it.

cfn-lint checks every branch of template.yaml at once, but neither evaluates its
Rules nor shows that one chosen set of parameters leaves a whole template. For
each bus variant (BusCompute x BusFrontDoor) this script:

  1. transforms template.yaml as SAM does, keeps the resources and branches
     whose conditions hold for the variant's parameters, and runs cfn-lint on
     the result (target/template-variants/<variant>.json): no reference to a
     resource the variant lacks, every property valid;
  2. evaluates the template's Rules for the variant's parameters, and for sets
     they must refuse (a wait over 25 s behind the HTTP API, Managed Instances
     without subnets or security groups);
  3. checks that both bus functions get the same policies and environment.

Run by scripts/test with the .venv's python: python scripts/template_variants.py
"""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "template-variants"
SECRET = {"JwtSecret": "0123456789abcdef0123456789abcdef"}
NETWORK = {
    "BusSubnetIds": "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    "BusSecurityGroupIds": "sg-0123456789abcdef0",
}

# name: (parameters, whether the Rules accept them)
VARIANTS = {
    "lambda-httpapi": ({}, True),
    "lambda-functionurl": ({"BusFrontDoor": "FunctionUrl", "BusWaitSecs": "300"}, True),
    "managed-httpapi": ({"BusCompute": "ManagedInstances", **NETWORK}, True),
    "managed-functionurl": (
        {
            "BusCompute": "ManagedInstances",
            "BusFrontDoor": "FunctionUrl",
            "BusWaitSecs": "300",
            "BusInstanceTypes": "c7i.large,m7i.large",
            "CorsAllowOrigins": "https://erp.example",
            **NETWORK,
        },
        True,
    ),
}
REFUSED = {
    "a 300 s wait behind the HTTP API": {"BusWaitSecs": "300"},
    "a 26 s wait behind the HTTP API": {"BusWaitSecs": "26"},
    "Managed Instances without subnets": {
        "BusCompute": "ManagedInstances",
        "BusSecurityGroupIds": NETWORK["BusSecurityGroupIds"],
    },
    "Managed Instances without security groups": {
        "BusCompute": "ManagedInstances",
        "BusSubnetIds": NETWORK["BusSubnetIds"],
    },
}

NO_VALUE = object()
# The translator's metrics go nowhere here.
logging.getLogger("samtranslator").setLevel(logging.ERROR)


def parameter_values(template: dict, given: dict[str, str]) -> dict:
    values = {}
    for name, spec in template["Parameters"].items():
        raw = str(given.get(name, spec.get("Default", "")))
        values[name] = raw.split(",") if spec["Type"] == "CommaDelimitedList" else raw
    values["AWS::Region"] = "us-east-1"
    return values


def evaluate(node, values: dict, conditions: dict):
    """Condition and rule functions over known parameter values."""
    if isinstance(node, dict) and len(node) == 1:
        (fn, arg), = node.items()
        if fn == "Ref":
            return values[arg]
        if fn == "Condition":
            return evaluate(conditions[arg], values, conditions)
        if fn == "Fn::Equals":
            a, b = (evaluate(x, values, conditions) for x in arg)
            return str(a) == str(b)
        if fn == "Fn::Not":
            return not evaluate(arg[0], values, conditions)
        if fn == "Fn::And":
            return all(evaluate(x, values, conditions) for x in arg)
        if fn == "Fn::Or":
            return any(evaluate(x, values, conditions) for x in arg)
        if fn == "Fn::Contains":
            items, item = (evaluate(x, values, conditions) for x in arg)
            return str(item) in [str(i) for i in items]
        if fn == "Fn::Join":
            sep, items = arg
            return sep.join(str(i) for i in evaluate(items, values, conditions))
        raise ValueError(f"unsupported function {fn}")
    if isinstance(node, list):
        return [evaluate(x, values, conditions) for x in node]
    return node


def rules_hold(template: dict, values: dict) -> list[str]:
    """The descriptions of the Rules' assertions that fail."""
    failed = []
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], values, {}):
            continue
        for assertion in rule["Assertions"]:
            if not evaluate(assertion["Assert"], values, {}):
                failed.append(assertion["AssertDescription"])
    return failed


def resolve_ifs(node, holds: dict[str, bool]):
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolve_ifs(yes if holds[name] else no, holds)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        out = {}
        for key, value in node.items():
            value = resolve_ifs(value, holds)
            if value is not NO_VALUE:
                out[key] = value
        return out
    if isinstance(node, list):
        return [v for v in (resolve_ifs(x, holds) for x in node) if v is not NO_VALUE]
    return node


def variant_template(transformed: dict, values: dict, given: dict[str, str]) -> dict:
    conditions = transformed.get("Conditions", {})
    holds = {name: bool(evaluate(c, values, conditions)) for name, c in conditions.items()}
    out = copy.deepcopy(transformed)
    out.pop("Conditions", None)
    # The variant's parameters become the defaults, which cfn-lint resolves.
    for name, value in given.items():
        out["Parameters"][name]["Default"] = value
    for section in ("Resources", "Outputs"):
        for name, item in list(out.get(section, {}).items()):
            condition = item.pop("Condition", None)
            if condition is not None and not holds[condition]:
                del out[section][name]
    return resolve_ifs(out, holds)


def main() -> int:
    source = yaml_parse((ROOT / "template.yaml").read_text())
    failures = []

    for what, given in REFUSED.items():
        if not rules_hold(source, parameter_values(source, {**SECRET, **given})):
            failures.append(f"the Rules accept {what}")

    # SAM needs an S3 location where sam build would put one.
    sam_input = copy.deepcopy(source)
    for resource in sam_input["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://herald-artifacts/code.zip"

    class NoManagedPolicies:
        def load(self):
            return {}

    OUT.mkdir(parents=True, exist_ok=True)
    for name, (given, accepted) in VARIANTS.items():
        values = parameter_values(source, {**SECRET, **given})
        failed = rules_hold(source, values)
        if accepted and failed:
            failures.append(f"{name}: the Rules refuse it: {failed}")
        # As CloudFormation does, SAM sees the parameters' values.
        sam_values = {k: v for k, v in values.items() if k in source["Parameters"]}
        transformed = transform(copy.deepcopy(sam_input), sam_values, NoManagedPolicies())
        template = variant_template(transformed, values, {**SECRET, **given})
        functions = {
            k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Lambda::Function"
        }
        bus = [k for k in functions if k in ("BusFunction", "BusManagedFunction")]
        if len(bus) != 1:
            failures.append(f"{name}: expected one bus function, found {bus}")
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(template, indent=1))
        # A variant leaves the other variants' parameters unused (W2001).
        lint = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "cfn-lint"), "--ignore-checks", "W2001", "--", str(path)],
            capture_output=True,
            text=True,
        )
        print(f"{name}: {len(template['Resources'])} resources, bus function {bus}, cfn-lint rc {lint.returncode}")
        if lint.returncode != 0:
            failures.append(f"{name}: cfn-lint:\n{lint.stdout}{lint.stderr}")

    # Both bus functions: the same statements and the same environment.
    transformed = transform(copy.deepcopy(sam_input), {}, NoManagedPolicies())
    resources = transformed["Resources"]
    policies = [source["Resources"][f]["Properties"]["Policies"] for f in ("BusFunction", "BusManagedFunction")]
    if policies[0] != policies[1]:
        failures.append("BusFunction and BusManagedFunction have different policies")
    roles = [resources[f"{f}Role"]["Properties"] for f in ("BusFunction", "BusManagedFunction")]
    if [r["Policies"][0]["PolicyDocument"] for r in roles] != [roles[0]["Policies"][0]["PolicyDocument"]] * 2:
        failures.append("the bus functions' roles differ")
    environments = [resources[f]["Properties"]["Environment"] for f in ("BusFunction", "BusManagedFunction")]
    if environments[0] != environments[1]:
        failures.append("BusFunction and BusManagedFunction have different environments")

    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
