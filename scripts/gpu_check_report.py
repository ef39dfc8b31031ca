"""Helper of scripts/gpu_check.sh: what to install, the machine, and results.json + results.md.

Standard library only at import (it runs before anything is installed, and on a machine without
torch); the TensorBoard reader is imported only to read the fit's scalars, when it is there.

    python3 scripts/gpu_check_report.py missing REQUIREMENTS [WHEELS]   # lines not installed
    python3 scripts/gpu_check_report.py dist-info SITE PYPROJECT  # fuelrl's metadata + entry points
    python3 scripts/gpu_check_report.py machine                   # JSON: torch, CUDA, GPU, CPUs
    python3 scripts/gpu_check_report.py report WORK OUT [--no-cuda REASON]

``WORK`` is the script's scratch folder: ``steps.tsv`` (one line per step: name, status, rc,
wall seconds, timeout seconds, what), ``cmd/NAME.txt`` (each step's command), ``logs/NAME.log``,
one folder per bench step holding its ``bench.json``, ``pytest_gpu.xml`` and ``fit/`` (the
TensorBoard log dir of the 2-minute fit, with the profiler traces).
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import platform
import re
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

# every step of the check, in the order it runs (gpu_check.sh uses the same names)
STEPS = {
    "setup": "find a CUDA torch, install what is missing",
    "pytest_gpu": "pytest -m gpu (the gpu-marked tests, low_mem's peak-memory fit included)",
    "sim_cuda": "fuelrl bench sim: torch backend on CUDA, 64x64 and 256x256 tiles, F = 1, 16, 64, 256",
    "sim_cuda_1024": "fuelrl bench sim: torch backend on CUDA, 1024x1024 tiles, F = 1, 16, 64, 256",
    "train_memory": "fuelrl bench train,warmup,memory on CUDA, all four profiles: update ratio, "
    "end-to-end exp/s, first episode vs steady, peak GPU memory; host RSS",
    "fit_default": "fuelrl fit --config configs/default.yaml for 2 minutes, PyTorch profiler on",
    "cpu_sim": "fuelrl bench sim on the CPU: numpy vs threaded on 1/2/4/8/16 workers",
    "cpu_env": "fuelrl bench env on the CPU: SerialEnv vs ParallelEnv on 1/2/4/8 workers",
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ------------------------------------------------------------------------------------ install
def _req_name(line: str) -> str:
    return _norm(re.split(r"[=<>!~;\[ ]", line, maxsplit=1)[0])


def missing(requirements: str, wheels: str | None = None) -> list[str]:
    """The ``name==version`` lines of ``requirements`` whose distribution is not installed (any
    version of an installed one is accepted: the machine's own builds are kept). With ``wheels``
    (a folder), only those that have a wheel there; the others are named on stderr."""
    from importlib import metadata

    have = {_norm(d.metadata["Name"] or "") for d in metadata.distributions()}
    out = []
    for line in Path(requirements).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and _req_name(line) not in have:
            out.append(line)
    if wheels is not None:
        built = {_norm(w.name.split("-", 1)[0]) for w in Path(wheels).glob("*.whl")}
        lacking = [line for line in out if _req_name(line) not in built]
        if lacking:
            print(f"not installed and no wheel in {wheels}: {' '.join(lacking)}", file=sys.stderr)
        out = [line for line in out if _req_name(line) in built]
    return out


def dist_info(site: str, pyproject: str) -> Path:
    """Write ``fuelrl-<version>.dist-info`` (METADATA and entry_points.txt) into ``site`` so that
    importlib.metadata finds the built-in simulator backends of the source tree on PYTHONPATH
    (no build, no network), and a ``bin/fuelrl`` launcher for this interpreter."""
    import tomllib

    project = tomllib.loads(Path(pyproject).read_text())["project"]
    folder = Path(site) / f"fuelrl-{project['version']}.dist-info"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: fuelrl\nVersion: {project['version']}\n"
        "Summary: source tree on PYTHONPATH (scripts/gpu_check.sh)\n"
    )
    lines = []
    for group, entries in project.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in entries.items()]
    lines.append("[console_scripts]")
    lines += [f"{k} = {v}" for k, v in project.get("scripts", {}).items()]
    (folder / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (folder / "INSTALLER").write_text("gpu_check\n")
    bindir = Path(site) / "bin"
    bindir.mkdir(exist_ok=True)
    launcher = bindir / "fuelrl"
    launcher.write_text(f"#!{sys.executable}\nimport sys\nfrom fuelrl.cli import main\nsys.exit(main())\n")
    launcher.chmod(0o755)
    return folder


def machine() -> dict[str, Any]:
    """The machine and the libraries, as the interpreter running this sees them."""
    from importlib import metadata

    info: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": f"{platform.python_version()} ({sys.executable})",
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": _cpu_model(),
        "versions": {},
        "cuda_available": False,
        "gpus": [],
    }
    for name in ("fuelrl", "torch", "torchrl", "tensordict", "lightning", "numpy", "scipy", "rasterio"):
        try:
            info["versions"][name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info["versions"][name] = None
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        info["torch_error"] = f"{type(exc).__name__}: {exc}"
        return info
    info["versions"]["torch"] = torch.__version__
    info["cuda_version"] = torch.version.cuda
    info["cuda_available"] = bool(torch.cuda.is_available())
    if info["cuda_available"]:
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            info["gpus"].append(
                {
                    "name": p.name,
                    "memory_gib": round(p.total_memory / 2**30, 1),
                    "capability": f"{p.major}.{p.minor}",
                    "multiprocessors": p.multi_processor_count,
                }
            )
        info["bf16_supported"] = bool(torch.cuda.is_bf16_supported())
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ------------------------------------------------------------------------------------ reading
def _median(stat: Any) -> float | None:
    return stat.get("median") if isinstance(stat, dict) else stat


def read_steps(work: Path) -> list[dict[str, Any]]:
    rows = {}
    tsv = work / "steps.tsv"
    if tsv.is_file():
        for line in tsv.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) < 6:
                continue
            name, status, rc, wall, timeout, what = parts[:6]
            cmd = work / "cmd" / f"{name}.txt"
            rows[name] = {
                "name": name,
                "what": what or STEPS.get(name, ""),
                "status": status,
                "rc": int(rc) if rc.lstrip("-").isdigit() else None,
                "wall_s": round(float(wall), 1) if wall else None,
                "timeout_s": int(timeout) if timeout.isdigit() else None,
                "command": cmd.read_text().strip() if cmd.is_file() else None,
                "log": f"logs/{name}.log" if (work / "logs" / f"{name}.log").is_file() else None,
            }
    for name, what in STEPS.items():  # steps the script never reached
        rows.setdefault(
            name,
            {"name": name, "what": what, "status": "skipped: not reached", "rc": None, "wall_s": None},
        )
    order = list(STEPS)
    return sorted(rows.values(), key=lambda r: order.index(r["name"]) if r["name"] in order else 99)


def _bench(work: Path, step: str) -> dict[str, Any] | None:
    path = work / step / "bench.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def sim_summary(bench: dict[str, Any]) -> dict[str, Any]:
    sim = bench.get("simulators") or {}
    rows = [
        {
            "size": r["size"],
            "fires_per_tile": r["fires_per_tile"],
            "tiles": r["tiles"],
            "backend": r["backend"],
            "fires_per_s": _median(r["fires_per_s"]),
            "cell_updates_per_s": _median(r["cell_updates_per_s"]),
            "ms_per_fire": 1e3 * _median(r["seconds"]) / (r["tiles"] * r["fires_per_tile"]),
            "burned_ha_mean": r["burned_ha_mean"],
        }
        for r in sim.get("rows", [])
    ]
    return {"tile_source": sim.get("tile_source"), "rows": rows, "threaded": sim.get("threaded_speedup", [])}


def summarize_steps(work: Path) -> dict[str, Any]:
    """The headline figures of every step that left its output."""
    out: dict[str, Any] = {}
    xml = work / "pytest_gpu.xml"
    if xml.is_file():
        try:
            root = ET.parse(xml).getroot()
            suite = root if root.tag == "testsuite" else root.find("testsuite")
            cases = []
            for case in suite.iter("testcase") if suite is not None else []:
                status = "passed"
                for tag in ("failure", "error", "skipped"):
                    if case.find(tag) is not None:
                        status = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                cases.append({"test": f"{case.get('classname')}::{case.get('name')}", "status": status})
            counts = {
                s: sum(c["status"] == s for c in cases) for s in ("passed", "failed", "error", "skipped")
            }
            out["pytest_gpu"] = {"counts": counts, "tests": cases}
        except ET.ParseError:
            pass
    for step in ("sim_cuda", "sim_cuda_1024", "cpu_sim"):
        bench = _bench(work, step)
        if bench and "simulators" in bench:
            out[step] = sim_summary(bench)
    bench = _bench(work, "train_memory")
    if bench:
        tr = bench.get("training") or {}
        out["train"] = {
            "updates": [
                {
                    k: u.get(k)
                    for k in ("profile", "precision", "batch_size", "accumulate_grad_batches", "net")
                }
                | {
                    "lightning_batches_per_s": _median(u.get("lightning_batches_per_s")),
                    "bare_batches_per_s": _median(u.get("bare_batches_per_s")),
                    "update_ratio_vs_bare": u.get("update_ratio_vs_bare"),
                }
                for u in tr.get("updates", [])
            ],
            "end_to_end": [
                {
                    "profile": e.get("profile"),
                    "precision": e.get("precision"),
                    "num_workers": e.get("num_workers"),
                    "frames": e.get("frames"),
                    "optimizer_steps": e.get("optimizer_steps"),
                    "end_to_end_exp_per_s": _median(e.get("end_to_end_exp_per_s")),
                    "env_exp_per_s": _median(e.get("env_exp_per_s")),
                }
                for e in tr.get("end_to_end", [])
            ],
            "warmup": [
                {
                    k: w.get(k)
                    for k in (
                        "profile",
                        "first_episode_exp_per_s",
                        "steady_exp_per_s",
                        "first_vs_steady",
                        "startup_s",
                    )
                }
                for w in bench.get("warmup", [])
            ],
        }
        mem = bench.get("memory") or {}
        host = mem.get("host_rss") or {}
        out["memory"] = {
            "gpu": mem.get("gpu"),
            "gpu_goal_low_mem_gib": mem.get("gpu_goal_low_mem_gib"),
            "host_rss": {k: v for k, v in host.items() if k != "samples"},
        }
    bench = _bench(work, "cpu_env")
    if bench and "env" in bench:
        env = bench["env"]
        out["cpu_env"] = {
            "what": env.get("what"),
            "cores": env.get("cores"),
            "rows": [
                {
                    "variant": r["variant"],
                    "workers": r["workers"],
                    "tiles": r["tiles"],
                    "start_s": _median(r["start_s"]),
                    "tile_steps_per_s": _median(r["tile_steps_per_s"]),
                    "speedup_vs_serial1": r.get("speedup_vs_serial1"),
                    "scaling_efficiency": r.get("scaling_efficiency"),
                }
                for r in env.get("rows", [])
            ],
        }
    fit = work / "fit"
    if fit.is_dir():
        out["fit_default"] = fit_summary(fit)
    return out


def fit_summary(fit: Path) -> dict[str, Any]:
    traces = sorted(glob.glob(str(fit / "**" / "*.pt.trace.json*"), recursive=True))
    out: dict[str, Any] = {
        "profiler_traces": [os.path.relpath(t, fit) for t in traces],
        "checkpoints": sorted(
            os.path.relpath(c, fit) for c in glob.glob(str(fit / "**" / "*.ckpt"), recursive=True)
        ),
    }
    events = sorted(glob.glob(str(fit / "**" / "events.out.tfevents.*"), recursive=True))
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except Exception:  # noqa: BLE001 - TensorBoard absent: no scalars, the event files are in the logs
        out["scalars"] = "not read: tensorboard is not importable"
        return out
    last: dict[str, dict[str, float]] = {}
    for path in events:
        acc = EventAccumulator(path, size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags().get("scalars", []):
            vals = acc.Scalars(tag)
            if vals:
                last[tag] = {"step": vals[-1].step, "last": vals[-1].value, "max": max(v.value for v in vals)}
    out["scalars"] = dict(sorted(last.items()))
    return out


# ------------------------------------------------------------------------------------ writing
def _g(x: Any, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-2:
        return f"{x:.{digits - 1}e}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_g(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    gpus = ", ".join(f"{g['name']} ({g['memory_gib']} GiB)" for g in m.get("gpus", [])) or "none"
    v = m.get("versions", {})
    md = [
        f"# GPU check, {m.get('date')}",
        "",
        f"Command: `{results['command']}`. "
        + (f"Wall time {results['wall_s']:.0f} s " if results.get("wall_s") is not None else "")
        + f"(budget {results['budget_s']} s).",
        "",
        f"Machine: {m.get('cpu_model')}, {m.get('usable_cores')} usable cores; GPU: {gpus}; "
        f"CUDA {m.get('cuda_version') or '-'}; torch {v.get('torch')}, torchrl {v.get('torchrl')}, "
        f"tensordict {v.get('tensordict')}, lightning {v.get('lightning')}, numpy {v.get('numpy')}; "
        f"Python {m.get('python')}.",
        "",
    ]
    if results.get("rehearsal"):
        md += [
            "**Rehearsal on the CPU (GPU_CHECK_REHEARSE=1)**: every step at smoke-test scale, to check "
            "the script; the figures measure nothing.",
            "",
        ]
    elif not results["cuda"]:
        md += [f"**No CUDA: nothing GPU-bound was run.** {results.get('reason', '')}", ""]
    md += ["## Steps", ""]
    md += _table(
        ["step", "status", "wall s", "timeout s", "what"],
        [
            [s["name"], s["status"], s.get("wall_s"), s.get("timeout_s"), s.get("what", "")]
            for s in results["steps"]
        ],
    )
    f = results.get("figures", {})
    if "pytest_gpu" in f:
        c = f["pytest_gpu"]["counts"]
        md += ["## gpu-marked tests", "", ", ".join(f"{k} {n}" for k, n in c.items()), ""]
        md += _table(["test", "status"], [[t["test"], t["status"]] for t in f["pytest_gpu"]["tests"]])
    for step, title in (
        ("sim_cuda", "Simulator, torch backend on CUDA"),
        ("sim_cuda_1024", "Simulator, torch backend on CUDA, 1024x1024"),
        ("cpu_sim", "Simulator on the CPU: numpy vs threaded workers"),
    ):
        if step in f:
            s = f[step]
            md += [f"## {title}", "", f"Tiles: {s.get('tile_source')}.", ""]
            md += _table(
                ["tile", "B x F", "backend", "fires/s", "cell-updates/s", "ms/fire", "mean burned ha"],
                [
                    [
                        f"{r['size']}x{r['size']}",
                        f"{r['tiles']} x {r['fires_per_tile']}",
                        r["backend"],
                        r["fires_per_s"],
                        r["cell_updates_per_s"],
                        r["ms_per_fire"],
                        r["burned_ha_mean"],
                    ]
                    for r in s["rows"]
                ],
            )
            if s.get("threaded"):
                md += _table(
                    ["tile", "F", "threaded workers", "vs 1 worker", "vs numpy"],
                    [
                        [
                            f"{r['size']}x{r['size']}",
                            r["fires_per_tile"],
                            r["workers"],
                            _ratio(r.get("speedup_all_cores_vs_1")),
                            _ratio(r.get("speedup_vs_numpy")),
                        ]
                        for r in s["threaded"]
                    ],
                )
    if "train" in f:
        t = f["train"]
        md += ["## Training on CUDA (bench train, warmup)", ""]
        md += _table(
            ["profile", "precision", "Lightning batches/s", "bare batches/s", "update ratio (goal >= 0.9)"],
            [
                [
                    u["profile"],
                    u["precision"],
                    u["lightning_batches_per_s"],
                    u["bare_batches_per_s"],
                    _ratio(u["update_ratio_vs_bare"]),
                ]
                for u in t["updates"]
            ],
        )
        md += _table(
            ["profile", "env workers", "frames", "steps", "end-to-end exp/s", "collector exp/s"],
            [
                [
                    e["profile"],
                    e["num_workers"],
                    e["frames"],
                    e["optimizer_steps"],
                    e["end_to_end_exp_per_s"],
                    e["env_exp_per_s"],
                ]
                for e in t["end_to_end"]
            ],
        )
        md += _table(
            ["profile", "first episode exp/s", "steady exp/s", "first / steady (goal >= 0.8)", "start-up s"],
            [
                [
                    w["profile"],
                    w["first_episode_exp_per_s"],
                    w["steady_exp_per_s"],
                    _ratio(w["first_vs_steady"]),
                    w["startup_s"],
                ]
                for w in t["warmup"]
            ],
        )
    if "memory" in f:
        mem = f["memory"]
        md += ["## Memory", ""]
        if isinstance(mem.get("gpu"), list):
            md += _table(
                ["profile", "precision", "peak allocated GiB", "peak reserved GiB"],
                [
                    [
                        g.get("profile"),
                        g.get("precision"),
                        g.get("peak_allocated_gib"),
                        g.get("peak_reserved_gib"),
                    ]
                    for g in mem["gpu"]
                ],
            )
            md += [f"Goal for low_mem: <= {mem.get('gpu_goal_low_mem_gib')} GiB.", ""]
        else:
            md += [f"GPU: {mem.get('gpu')}", ""]
        h = mem.get("host_rss") or {}
        if h:
            md += [
                f"Host RSS: {_g(h.get('rss_at_fill_mib'))} MiB at fill, "
                f"{_g(h.get('rss_end_mib'))} MiB at the end; "
                f"slope after fill {_g(h.get('slope_after_fill_mib_per_1000_frames'))} MiB/1000 frames.",
                "",
            ]
    if "cpu_env" in f:
        e = f["cpu_env"]
        md += [
            "## Env on the CPU: SerialEnv vs ParallelEnv",
            "",
            f"{e.get('what')}; {e.get('cores')} usable cores.",
            "",
        ]
        md += _table(
            ["env", "tiles", "start s", "tile steps/s", "vs SerialEnv(1)", "scaling efficiency"],
            [
                [
                    r["variant"],
                    r["tiles"],
                    r["start_s"],
                    r["tile_steps_per_s"],
                    _ratio(r["speedup_vs_serial1"]),
                    r["scaling_efficiency"],
                ]
                for r in e["rows"]
            ],
        )
    if "fit_default" in f:
        fit = f["fit_default"]
        md += ["## fuelrl fit, default.yaml, 2 minutes", ""]
        md += [f"Profiler traces (in profiler.tar.gz): {', '.join(fit['profiler_traces']) or 'none'}.", ""]
        if isinstance(fit.get("scalars"), dict):
            md += _table(
                ["scalar", "step", "last", "max"],
                [[k, s["step"], s["last"], s["max"]] for k, s in fit["scalars"].items()],
            )
        else:
            md += [str(fit.get("scalars")), ""]
    if results["cuda"] or results["rehearsal"]:
        md += ["Logs of every step: logs.tar.gz (with each bench step's bench.json and bench.md).", ""]
    return "\n".join(md)


def report(work: Path, out: Path, no_cuda: str | None = None) -> dict[str, Any]:
    """Write results.json and results.md into ``out``; bundle the logs and the profiler traces."""
    out.mkdir(parents=True, exist_ok=True)
    meta_path = work / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    mach_path = work / "machine.json"
    mach = json.loads(mach_path.read_text()) if mach_path.is_file() else machine()
    steps = read_steps(work)
    if no_cuda is not None:
        for s in steps:
            s["status"] = "skipped: no CUDA"
    results = {
        "gpu_check": 1,
        "cuda": no_cuda is None and bool(mach.get("cuda_available")),
        "rehearsal": bool(meta.get("rehearsal")),
        "command": meta.get("command", "scripts/gpu_check.sh " + str(out)),
        "budget_s": meta.get("budget_s"),
        "wall_s": meta.get("wall_s"),
        "machine": mach,
        "steps": steps,
        "figures": summarize_steps(work) if no_cuda is None else {},
    }
    if no_cuda is not None:
        results["reason"] = no_cuda
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "results.md").write_text(render_markdown(results))
    if no_cuda is None:
        _bundle(work, out)
    return results


def _bundle(work: Path, out: Path) -> None:
    traces = sorted(glob.glob(str(work / "fit" / "**" / "*.pt.trace.json*"), recursive=True))
    with tarfile.open(out / "logs.tar.gz", "w:gz") as tar:
        for path in sorted(work.rglob("*")):
            rel = path.relative_to(work)
            # not the installed packages, the profiler traces (their own file) or checkpoints (large)
            if (
                path.is_file()
                and str(path) not in traces
                and rel.parts[0] != "site"
                and path.suffix != ".ckpt"
            ):
                tar.add(path, arcname=str(rel))
    if traces:
        with tarfile.open(out / "profiler.tar.gz", "w:gz") as tar:
            for t in traces:
                tar.add(t, arcname=os.path.relpath(t, work))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, *rest = argv
    if cmd == "missing":
        print("\n".join(missing(rest[0], rest[1] if len(rest) > 1 else None)))
    elif cmd == "dist-info":
        dist_info(rest[0], rest[1])
    elif cmd == "machine":
        print(json.dumps(machine(), indent=2))
    elif cmd == "report":
        no_cuda = rest[rest.index("--no-cuda") + 1] if "--no-cuda" in rest else None
        report(Path(rest[0]), Path(rest[1]), no_cuda)
    else:
        print(f"unknown command {cmd!r}\n{__doc__}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
