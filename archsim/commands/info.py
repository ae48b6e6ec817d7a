"""``archsim list | validate | show | workload | demo``: look at architectures and workloads."""

from __future__ import annotations

import argparse
import json


def register(sub) -> None:
    p = sub.add_parser("list", help="list shipped architectures, component kinds and workload models")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("validate", help="validate architecture YAML files (exit 2 on the first error)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("show", help="resolved parameters of an architecture, with their sources")
    p.add_argument("arch", metavar="ARCH", help="shipped name (pim_gpt) or path to a YAML file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("workload", help="op counts, FLOPs and bytes of a model's prefill or decode")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--prompt", type=int, default=64, help="prompt length in tokens (default 64)")
    p.add_argument("--tokens", type=int, default=None, help="generated tokens (decode only; default 1)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--phase", choices=("decode", "prefill"), default="decode")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_workload)

    p = sub.add_parser("demo", help="the main job of `make demo`")
    p.add_argument("--out", default="reports", help="directory for reports (default: reports/)")
    p.set_defaults(func=cmd_demo)


def overrides(items: list[str]) -> dict:
    from archsim.arch import parse_override

    return dict(parse_override(i) for i in items)


def cmd_list(args) -> int:
    from archsim import arch
    from archsim import workloads

    print("architectures (arch/specs):")
    for name in arch.spec_names():
        spec = arch.load(name)
        print(f"  {name:<16} {spec.family:<10} {spec.description or ''}")
    print("component kinds:")
    for name in arch.kind_names():
        print(f"  {name:<16} {arch.get_kind(name).doc}")
    print("workload models:")
    for name in workloads.list_models():
        cfg = workloads.get_model(name)
        print(f"  {name:<16} {cfg.param_count() / 1e9:7.3f} B parameters")
    return 0


def cmd_validate(args) -> int:
    """Every check ``run`` makes before simulating (:func:`archsim.api.check`): schema, family, engine models."""
    from archsim.api import check

    for f in args.files:
        spec = check(f, set=overrides(args.set))
        n = len(spec.parameters())
        print(f"{f}: ok ({spec.name}, family {spec.family}, {sum(1 for _ in spec.walk())} components, "
              f"{n} parameters)")
    return 0


def cmd_show(args) -> int:
    from archsim import arch

    spec = arch.load(args.arch, set=overrides(args.set))
    rows = parameter_rows(spec)
    if args.json:
        print(json.dumps({"name": spec.name, "family": spec.family, "file": spec.file,
                          "extends": list(spec.chain[1:]), "parameters": rows}, indent=2, default=str))
        return 0
    print(f"{spec.name} ({spec.family}) from {spec.file}")
    if spec.chain[1:]:
        print("  extends: " + " -> ".join(spec.chain[1:]))
    if spec.overrides:
        print("  overrides: " + ", ".join(f"{k}={v}" for k, v in spec.overrides.items()))
    width = max(len(r["path"]) for r in rows)
    for r in rows:
        value = r["value"]
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "{}"
        print(f"  {r['path']:<{width}}  {str(value):<14} {r['source']}")
    return 0


DEFAULT_SOURCE = "default of the component kind"
NO_SOURCE = "written in the YAML without a source"


def parameter_rows(spec) -> list[dict]:
    """``spec.parameters()`` with honest sources: a value the YAML (or an override) wrote says its own source,
    else the nearest block's, else that it has none; only a value the YAML did not write is a kind default
    (whatever block source covers its component)."""
    rows = []
    for comp in spec.walk():
        written = spec.raw_params(comp.path)
        for key, value in comp.params.items():
            path = f"{comp.path}.{key}"
            if key in written:
                source = comp.source_of(key) or NO_SOURCE
                if spec.overrides and path in spec.overrides and not comp.sources.get(key):
                    source = "override (--set)"
            else:
                source = DEFAULT_SOURCE
            rows.append({"path": path, "impl": comp.impl, "value": value, "source": source,
                         "default": key not in written})
    return rows


#: the unit of each figure of ``Workload.totals()``
TOTAL_UNITS = {"steps": "steps", "ops": "ops", "flops": "FLOP", "bytes_read": "bytes", "bytes_written": "bytes"}


def cmd_workload(args) -> int:
    import archsim
    from archsim import workloads

    w = archsim.workload(args.model, phase=args.phase, prompt=args.prompt, tokens=args.tokens, batch=args.batch)
    tokens = w.tokens
    totals = w.totals()
    cfg = workloads.get_model(args.model)  # the model as trained: a decode past its context extends w.model
    params = {"parameters": cfg.param_count(), "parameters_without_embeddings":
              cfg.param_count(with_embeddings=False)}
    if args.json:
        print(json.dumps({"model": args.model, "phase": args.phase, "prompt": args.prompt,
                          "tokens": tokens, "batch": args.batch, **params, **totals}, indent=2, default=float))
        return 0
    print(f"{args.model}: {params['parameters'] / 1e9:.3f} B parameters "
          f"({params['parameters_without_embeddings'] / 1e9:.3f} B without embeddings)")
    if args.phase == "decode":
        print(f"{args.phase}: prompt {args.prompt} tokens, {tokens} generated, batch {args.batch}")
    else:
        print(f"{args.phase}: prompt {args.prompt} tokens, batch {args.batch}")
    if getattr(w, "context_note", None):
        print(f"  note: {w.context_note}")
    for key, value in totals.items():
        print(f"  {key:<16} {value:>22,.0f} {TOTAL_UNITS.get(key, '')}".rstrip())
    return 0


def cmd_demo(args) -> int:
    """Validate every shipped architecture, summarize a GPT-2 workload, then run each subcommand's demo hook
    (a DRAM GEMV, and `reproduce all`, which writes reports under ``--out``)."""
    from archsim import arch
    from archsim.commands.reproduce import check_out
    from archsim import reproduce

    check_out(reproduce.names(), args.out)  # before anything runs, not after a minute of work
    print("== architectures ==")
    for name in arch.spec_names():
        spec = arch.load(name)
        print(f"{name:<16} ok: {spec.family:<8} {len(spec.parameters()):3d} parameters, "
              f"fingerprint {spec.fingerprint()}")

    print("\n== workload ==")
    cmd_workload(argparse.Namespace(model="gpt2-xl", prompt=64, tokens=1024, batch=1, phase="decode", json=False))
    from archsim.commands import COMMAND_MODULES

    for module in COMMAND_MODULES:
        hook = getattr(module, "demo", None)
        if hook is not None:
            hook(args)
    from pathlib import Path

    page = Path(args.out) / "report.html"
    if page.exists():
        print(f"\nreport: {page.resolve()}")
    return 0
