"""Malformed and random YAML only ever raises ArchSpecError (never another exception)."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archsim import arch
from archsim.base.errors import ArchSpecError

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
keys = st.one_of(st.sampled_from(["name", "family", "components", "impl", "extends", "source", "channels",
                                  "freq_mhz", "value", "dram", "asic", "link", "bandwidth_gb_per_s",
                                  "timing_cycles", "Link", "GDDR6_AiM", "PimAsic"]), st.text(max_size=6))
trees = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)), max_leaves=25)


def loads_or_spec_error(text: str) -> None:
    try:
        arch.load_text(text, file="fuzz.yaml")
    except ArchSpecError as exc:
        assert str(exc).startswith("fuzz.yaml"), str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_random_text(text):
    loads_or_spec_error(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_random_documents(doc):
    loads_or_spec_error(yaml.safe_dump(doc))


comp = st.fixed_dictionaries({"impl": st.sampled_from(["Link", "GDDR6_AiM", "PimAsic", "SRAM", "Nope", 3])},
                             optional={"channels": scalars, "freq_mhz": scalars, "bandwidth_gb_per_s": scalars,
                                       "timing_cycles": trees, "capacity_bytes": scalars, "components": trees})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["dram", "asic", "link", "x"]), comp, min_size=1, max_size=3),
       st.sampled_from(["", "extends: pim_gpt\n", "extends: 5\n", "extends: missing\n"]))
def test_near_valid_documents(components, extends):
    text = extends + yaml.safe_dump({"name": "f", "family": "f", "components": components})
    loads_or_spec_error(text)
