"""bench.md: the ``fuelrl bench`` report as Markdown tables (the same numbers as bench.json).

Cells read ``median [q1-q3]`` over the repeats; ratios are ratios of medians measured in the same run.
"""

from __future__ import annotations

from typing import Any

from fuelrl.bench.report import fmt, fmt_ratio, md_table


def _machine(m: dict[str, Any]) -> str:
    v = m.get("versions", {})
    gpus = ", ".join(f"{g['name']} ({g['memory_gib']} GiB)" for g in m.get("gpus") or []) or "none (no CUDA)"
    lines = [
        f"- date: {m.get('date')}",
        f"- command: `{m.get('command') or 'fuelrl bench'}`",
        f"- CPU: {m.get('cpu_model')}, {m.get('cpu_count')} cores ({m.get('usable_cores')} usable), "
        f"torch threads {m.get('torch_threads')}, RAM {m.get('host_memory_gib')} GiB",
        f"- GPU: {gpus}; device used: {m.get('device')}",
        f"- load average (1/5/15 min) at start {m.get('load_average_start')}, "
        f"at end {m.get('load_average_end')}",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
        f"- {m.get('platform')}, Python {m.get('python')}",
    ]
    return "\n".join(lines)


def _simulators(s: dict[str, Any]) -> str:
    out = [f"{s['what']}. Tiles: " + "; ".join(f"{k}: {v}" for k, v in s["tile_source"].items()) + "."]
    out.append(f"Median [IQR] of {s['repeats']} timed calls after one warm-up call.\n")
    rows = [
        (
            f"{r['size']}x{r['size']}",
            f"{r['tiles']} x {r['fires_per_tile']}",
            r["backend"],
            fmt(r["fires_per_s"]),
            fmt(r["cell_updates_per_s"]),
            f"{r['seconds']['median'] * 1e3 / (r['tiles'] * r['fires_per_tile']):.3g}",
            f"{r['burned_ha_mean']:.2f}",
        )
        for r in s["rows"]
    ]
    out.append(
        md_table(
            ("tile", "B x F", "backend", "fires/s", "cell-updates/s", "ms/fire", "mean burned ha"),
            rows,
        )
    )
    if s.get("threaded_speedup"):
        out.append("\nThreaded backend on N workers over one worker and over numpy (same run):\n")
        out.append(
            md_table(
                ("tile", "F", "workers", "vs 1 worker", "vs numpy"),
                [
                    (
                        f"{r['size']}x{r['size']}",
                        r["fires_per_tile"],
                        r["workers"],
                        fmt_ratio(r["speedup_all_cores_vs_1"]),
                        fmt_ratio(r.get("speedup_vs_numpy")),
                    )
                    for r in s["threaded_speedup"]
                ],
            )
        )
    return "\n".join(out)


def _env(e: dict[str, Any]) -> str:
    rows = [
        (
            r["variant"],
            r["tiles"],
            fmt(r["start_s"]),
            fmt(r["env_steps_per_s"]),
            fmt(r["tile_steps_per_s"]),
            fmt_ratio(r["speedup_vs_serial1"]),
            "-" if r["scaling_efficiency"] is None else f"{r['scaling_efficiency']:.2f}",
        )
        for r in e["rows"]
    ]
    head = f"{e['what']}. Median [IQR] of {e['repeats']} runs; {e['cores']} usable cores.\n"
    return (
        head
        + "\n"
        + md_table(
            (
                "env",
                "tiles",
                "start s",
                "env steps/s",
                "tile steps/s",
                "vs SerialEnv(1)",
                "scaling efficiency",
            ),
            rows,
        )
    )


def _clock(t: dict[str, Any]) -> str:
    clocks = sorted({row.get("clock", "wall") for row in t.get("updates", [])})
    return ", ".join(clocks) or "wall"


def _training(t: dict[str, Any]) -> str:
    out = [
        "Training batches/s of the DQNAgent under the Trainer `fuelrl fit` builds for the profile vs a "
        "bare PyTorch loop with the same net, loss, replay batches, optimizer, precision, accumulation, "
        "clipping and target update (pairs interleaved; ratio of medians; goal >= 0.9; clock: "
        f"{_clock(t)}). An optimizer step is `accumulate_grad_batches` batches.\n",
        md_table(
            (
                "profile",
                "net",
                "batch",
                "tile",
                "precision",
                "Lightning batches/s",
                "bare batches/s",
                "update_ratio_vs_bare",
            ),
            [
                (
                    r["profile"],
                    r["net"],
                    f"{r['batch_size']} x {r['accumulate_grad_batches']}",
                    r["tile_size"],
                    r["precision"],
                    fmt(r["lightning_batches_per_s"]),
                    fmt(r["bare_batches_per_s"]),
                    f"**{r['update_ratio_vs_bare']:.2f}**",
                )
                for r in t.get("updates", [])
            ],
        ),
    ]
    if t.get("end_to_end"):
        out.append(
            "\nEnd to end (`Trainer.fit` of agent + ReplayDataModule from scratch: collection, replay, "
            "learning): experiences (env transitions) per second, median [IQR] over the collector "
            "batches of the second half of the run.\n"
        )
        out.append(
            md_table(
                (
                    "profile",
                    "device",
                    "env workers",
                    "frames",
                    "optimizer steps",
                    "end-to-end exp/s",
                    "collector-only exp/s",
                    "overrides",
                ),
                [
                    (
                        r["profile"],
                        r["device"],
                        r["num_workers"],
                        r["frames"],
                        r["optimizer_steps"],
                        fmt(r["end_to_end_exp_per_s"]),
                        fmt(r["env_exp_per_s"]),
                        ", ".join(f"{k}={v}" for k, v in r["overrides"].items()),
                    )
                    for r in t["end_to_end"]
                ],
            )
        )
    return "\n".join(out)


def _warmup(rows: list[dict[str, Any]]) -> str:
    out = [
        "Experiences/s of the first episode (from the first collector batch, which includes the first "
        "reset) and of the first episode with learning, against the steady state (goal >= 0.8); start-up: "
        "from the `Trainer.fit()` call to the first collector batch.\n",
        md_table(
            (
                "profile",
                "start-up s",
                "first episode exp/s",
                "first learning episode exp/s",
                "steady exp/s",
                "first / steady",
                "first learning / steady",
            ),
            [
                (
                    r["profile"],
                    f"{r['startup_s']:.2f}",
                    fmt(r["first_episode_exp_per_s"]),
                    fmt(r["first_learning_episode_exp_per_s"]),
                    fmt(r["steady_exp_per_s"]),
                    f"**{fmt_ratio(r['first_vs_steady'])}**",
                    fmt_ratio(r["first_learning_vs_steady"]),
                )
                for r in rows
            ],
        ),
    ]
    for r in rows:
        curve = ", ".join(f"{fmt(e['exp_per_s'])}{'' if e['learning'] else '*'}" for e in r["episodes"][:12])
        out.append(f"\n{r['profile']}, exp/s per episode batch from the start (* = before learning): {curve}")
    return "\n".join(out)


def _memory(m: dict[str, Any]) -> str:
    out = []
    gpu = m.get("gpu")
    if isinstance(gpu, str):
        out.append(f"GPU memory per profile: {gpu}.")
    else:
        out.append(
            "Peak GPU memory per profile in a short `Trainer.fit` "
            f"(goal for low_mem <= {m.get('gpu_goal_low_mem_gib')} GiB):\n"
        )
        out.append(
            md_table(
                ("profile", "precision", "peak allocated GiB", "peak reserved GiB"),
                [
                    (
                        r["profile"],
                        r["precision"],
                        f"{r.get('peak_allocated_gib', 0):.3f}",
                        f"{r.get('peak_reserved_gib', 0):.3f}",
                    )
                    for r in gpu
                ],
            )
        )
    h = m.get("host_rss")
    if h:

        def num(x, unit=""):
            return "-" if x is None else f"{x:.2f}{unit}"

        out.append(
            f"\nHost RSS (this process + env workers) over a collection run of {h['frames']} transitions "
            f"into a {h['storage']} replay buffer of {h['buffer_frames']} ({h['profile']} env, "
            f"{h['tile_size']}x{h['tile_size']} tiles, {h['num_workers']} workers; one replay sample per "
            "collector batch):\n"
        )
        out.append(
            md_table(
                (
                    "start MiB",
                    "at fill MiB",
                    "end MiB",
                    "slope during fill",
                    "slope after fill",
                    "growth after fill",
                ),
                [
                    (
                        num(h["rss_start_mib"]),
                        num(h["rss_at_fill_mib"]),
                        num(h["rss_end_mib"]),
                        num(h["slope_during_fill_mib_per_1000_frames"], " MiB/1k"),
                        num(h["slope_after_fill_mib_per_1000_frames"], " MiB/1k"),
                        num(h["growth_after_fill_mib"], " MiB"),
                    )
                ],
            )
        )
    return "\n".join(out)


def render_markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    parts = [f"# fuelrl bench ({report['mode']})\n", "## Machine\n", _machine(report["machine"])]
    if "simulators" in report:
        parts += ["\n## Simulators\n", _simulators(report["simulators"])]
    if "trees" in report:
        from fuelrl.bench.trees import markdown as trees_markdown

        parts += ["\n## DPV trees\n", report["trees"]["what"] + "\n\n" + trees_markdown(report["trees"])]
    if "env" in report:
        parts += ["\n## Env\n", _env(report["env"])]
    if "training" in report:
        parts += ["\n## Training\n", _training(report["training"])]
    if "warmup" in report:
        parts += ["\n## Warm-up\n", _warmup(report["warmup"])]
    if "memory" in report:
        parts += ["\n## Memory\n", _memory(report["memory"])]
    parts.append(f"\nTotal wall time {report.get('wall_s', 0):.0f} s.\n")
    return "\n".join(parts)
