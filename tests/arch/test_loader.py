"""Schema errors, extends, overrides: every error names the file, the key path and what was expected."""

from pathlib import Path

import pytest

from archsim import arch
import archsim.arch.schema
from archsim.base.errors import ArchSpecError

MINIMAL = """\
name: tiny
family: test
components:
  link:
    impl: Link
    bandwidth_gb_per_s: 32
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def error_of(path, **kw) -> ArchSpecError:
    with pytest.raises(ArchSpecError) as info:
        arch.load(path, **kw)
    return info.value


def test_every_shipped_spec_loads_and_every_parameter_has_a_source():
    assert {"pim_gpt", "t4", "a100", "rtx3090", "a6000", "xeon_gold_6154"} <= set(arch.spec_names())
    for name in arch.spec_names():
        spec = arch.load(name)
        for comp in spec.walk():
            for key in comp.params:
                given = key in comp.sources or comp.source
                # a parameter left at its kind's default is reported as such; every value written has a source
                if key in spec.raw_params(comp.path):
                    assert given, f"{name}: {comp.path}.{key} has no source"


def test_minimal_spec_defaults_and_access(tmp_path):
    spec = arch.load(write(tmp_path, "a.yaml", MINIMAL))
    assert spec["link.bandwidth_gb_per_s"] == 32.0
    assert isinstance(spec["link.bandwidth_gb_per_s"], float)
    assert spec["link.latency_ns"] == 0.0  # default of the kind
    assert spec.component("link").impl == "Link"


@pytest.mark.parametrize("text, key, expected", [
    (MINIMAL.replace("    bandwidth_gb_per_s: 32\n", "    bandwidth_gb_per_s: 32\n    speed: 3\n"),
     "components.link.speed", "unknown key 'speed' for impl Link; expected one of: bandwidth_gb_per_s,"),
    (MINIMAL.replace("32", "fast"), "components.link.bandwidth_gb_per_s",
     "expected a number, got the string 'fast'"),
    (MINIMAL.replace("32", "-1"), "components.link.bandwidth_gb_per_s", "expected a positive number, got -1.0"),
    (MINIMAL.replace("32", "0"), "components.link.bandwidth_gb_per_s", "expected a positive number, got 0.0"),
    (MINIMAL.replace("    bandwidth_gb_per_s: 32\n", ""), "components.link.bandwidth_gb_per_s",
     "missing required parameter 'bandwidth_gb_per_s'"),
    (MINIMAL.replace("impl: Link", "impl: Warp"), "components.link.impl", "unknown impl 'Warp'; registered kinds:"),
    (MINIMAL.replace("    impl: Link\n", ""), "components.link", "missing required key 'impl'"),
    (MINIMAL.replace("name: tiny\n", ""), "name", "missing required key 'name'"),
    (MINIMAL + "colour: red\n", "colour", "unknown top-level key 'colour'"),
    (MINIMAL.replace("32", "{value: 32, sauce: x}"), "components.link.bandwidth_gb_per_s",
     "unknown key 'sauce' in a parameter"),
    ("name: t\nfamily: f\ncomponents: {}\n", "components", "expected a non-empty mapping of components"),
    (MINIMAL.replace("32", "true"), "components.link.bandwidth_gb_per_s", "expected a number, got the boolean true"),
])
def test_schema_errors_name_file_key_and_expectation(tmp_path, text, key, expected):
    path = write(tmp_path, "bad.yaml", text)
    err = error_of(path)
    assert err.file == str(path.resolve())
    assert err.key == key
    assert expected in err.detail
    assert str(err).startswith(f"{path.resolve()}: {key}: ")


def test_integer_parameter_rejects_float_and_non_power_of_two(tmp_path):
    base = arch.load("pim_gpt")
    with pytest.raises(ArchSpecError, match=r"components.dram.channels: expected an integer, got float 2.5"):
        base.with_overrides({"dram.channels": 2.5})
    with pytest.raises(ArchSpecError, match=r"dram.bank_groups: expected a power of two, got 3"):
        base.with_overrides({"dram.bank_groups": 3})


def test_invalid_yaml_and_duplicate_keys(tmp_path):
    err = error_of(write(tmp_path, "x.yaml", "name: [unclosed\n"))
    assert "invalid YAML at line" in err.detail
    err = error_of(write(tmp_path, "d.yaml", MINIMAL + "name: again\n"))
    assert "duplicate key 'name'" in err.detail
    err = error_of(write(tmp_path, "l.yaml", "- just\n- a list\n"))
    assert "expected a mapping at the top level" in err.detail


def test_unsafe_yaml_tags_are_refused(tmp_path):
    err = error_of(write(tmp_path, "evil.yaml", "name: !!python/object/apply:os.system ['true']\n"))
    assert "invalid YAML" in err.detail


def test_extends_merges_and_overrides(tmp_path):
    write(tmp_path, "base.yaml", MINIMAL)
    child = write(tmp_path, "child.yaml",
                  "extends: base.yaml\nname: child\ncomponents:\n  link:\n    latency_ns: {value: 7, source: me}\n")
    spec = arch.load(child)
    assert spec.name == "child" and spec.family == "test"
    assert spec["link.bandwidth_gb_per_s"] == 32.0 and spec["link.latency_ns"] == 7.0
    assert spec.component("link").source_of("latency_ns") == "me"
    assert spec.chain == (str(child.resolve()), str((tmp_path / "base.yaml").resolve()))


def test_extends_a_shipped_spec_by_name(tmp_path):
    child = write(tmp_path, "wide.yaml",
                  "extends: pim_gpt\nname: pim16\ncomponents:\n  dram:\n    channels: 16\n")
    spec = arch.load(child)
    assert spec["dram.channels"] == 16 and spec["asic.freq_mhz"] == 1000.0


def test_error_in_child_names_the_child_file(tmp_path):
    write(tmp_path, "base.yaml", MINIMAL)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\ncomponents:\n  link:\n    latency_ns: -3\n")
    err = error_of(child)
    assert err.file == str(child.resolve()) and err.key == "components.link.latency_ns"
    assert "expected a value >= 0, got -3.0" in err.detail


@pytest.mark.parametrize("components, detail", [
    ("[]", "impl GDDR6_AiM has no sub-components"),
    ("{x: {impl: Link}}", "impl GDDR6_AiM has no sub-components"),
])
def test_a_components_key_added_by_the_child_is_the_childs_error(tmp_path, components, detail):
    """The parent (a shipped spec) defines the dram block; the child adds a ``components`` key to it. The error
    is the child's, not the parent file's (found by the fuzz test)."""
    child = write(tmp_path, "child.yaml", f"extends: pim_gpt\ncomponents:\n  dram:\n    components: {components}\n")
    err = error_of(child)
    assert err.file == str(child.resolve()) and err.key == "components.dram.components"
    assert detail in err.detail


def test_cyclic_and_missing_extends(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\n" + MINIMAL)
    write(tmp_path, "b.yaml", "extends: a.yaml\n" + MINIMAL)
    err = error_of(tmp_path / "a.yaml")
    assert err.key == "extends" and "cyclic extends: a.yaml -> b.yaml -> a.yaml" in err.detail
    err = error_of(write(tmp_path, "c.yaml", "extends: nowhere.yaml\n" + MINIMAL))
    assert err.key == "extends" and "no architecture file or shipped architecture named 'nowhere.yaml'" in err.detail


def test_overrides_from_python():
    spec = arch.load("pim_gpt", set={"dram.channels": 16, "asic.freq_mhz": 100})
    assert spec["dram.channels"] == 16 and spec["asic.freq_mhz"] == 100.0
    assert spec.component("dram").source_of("channels") == "override"
    assert spec.overrides == {"dram.channels": 16, "asic.freq_mhz": 100}
    assert spec.fingerprint() != arch.load("pim_gpt").fingerprint()
    with pytest.raises(ArchSpecError, match=r"--set dram.chanels: unknown parameter 'chanels' for impl GDDR6_AiM"):
        arch.load("pim_gpt", set={"dram.chanels": 16})
    with pytest.raises(ArchSpecError, match=r"--set hbm.channels: no component 'hbm'"):
        arch.load("pim_gpt", set={"hbm.channels": 16})


def test_parse_override_types():
    assert arch.parse_override("dram.channels=16") == ("dram.channels", 16)
    assert arch.parse_override("asic.freq_mhz=1e2") == ("asic.freq_mhz", 100.0)
    assert arch.parse_override("dram.refresh=none") == ("dram.refresh", "none")
    with pytest.raises(ArchSpecError, match="expected KEY=VALUE"):
        arch.parse_override("dram.channels")


def test_unknown_shipped_name_lists_the_shipped_ones():
    with pytest.raises(ArchSpecError, match=r"no architecture file or shipped architecture named 'tpu'; shipped: a100"):
        arch.load("tpu")


def test_numeric_parameter_names_carry_units():
    from archsim.arch.schema import has_unit

    for name in arch.kind_names():
        for pname, p in arch.get_kind(name).params.items():
            if p.type in ("int", "float"):
                assert has_unit(pname), f"{name}.{pname}"
    with pytest.raises(ValueError, match="needs a unit suffix"):
        arch.register_kind("BadKind", "x", {"speed": arch.schema.number("no unit")})
