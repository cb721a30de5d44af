"""Markdown tables of chat benchmark results (the JSON that bench/chat.py writes)."""

from __future__ import annotations

from typing import Any


def _ms(value: float | None) -> str:
    return "lost" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _cpu(cpu: dict[str, float], name: str) -> str:
    return f"{cpu[name]:.0f}%" if name in cpu else "-"


def _gc(step: dict[str, Any]) -> str:
    pauses = step.get("gc_pauses_ms")
    if pauses is None:
        return "-"
    return ", ".join(f"{ms:.0f}" for ms in sorted(pauses, reverse=True)[:3]) or "none"


def _rate(step: dict[str, Any] | None) -> str:
    return "none" if step is None else f"{step['load']['delivered_per_s']:.0f}"


def summary_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| configuration | connect storm | memory / idle connection "
        "| fixed load: p50 / p99 / max | max msg/s with p99 < 50 ms | next step "
        "| ceiling msg/s (p50 < 50 ms) | server / generator CPU at ceiling | ceiling limited by |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        connect, memory, fixed = result["connect"], result["memory"], result["fixed"]
        storm = f"{connect['connected']} in {connect['seconds']:.1f} s"
        if connect["failed"]:
            storm += f", {connect['failed']} failed"
        latency = fixed["load"]["latency_ms"]
        failing, ceiling = result["first_failing"], result["ceiling"]
        next_step = "-" if failing is None else f"{failing['rate']}: {failing['verdict']}"
        ceiling_cpu = (
            "-"
            if ceiling is None
            else f"{_cpu(ceiling['cpu'], 'server')} / {_cpu(ceiling['cpu'], 'loadgen')}"
        )
        lines.append(
            f"| {result['config']} | {storm} "
            f"| {memory['per_connection_bytes'] / 1024:.0f} KiB "
            f"| {_ms(latency['p50'])} / {_ms(latency['p99'])} / {_ms(latency['max'])} ms "
            f"at {fixed['rate']} msg/s "
            f"| {_rate(result['max_sustained'])} | {next_step} | {_rate(ceiling)} "
            f"| {ceiling_cpu} | {result['limited_by']} |"
        )
    return "\n".join(lines)


def steps_table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['config']}: {result['devices']} devices, "
        f"{result['deployment']['nodes']} node(s), {result['deployment']['database']}",
        "",
        "| offered msg/s | delivered msg/s | p50 ms | p99 ms | max ms | stalls | GC pauses ms "
        "| server CPU | generator CPU (loop busy) | postgres CPU | redis CPU | other CPU on host "
        "| verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for step in result["steps"]:
        load, cpu = step["load"], step["cpu"]
        verdict = step["grade"] + (f": {step['verdict']}" if step["verdict"] else "")
        tries = f" ({step['attempts']} tries)" if step["attempts"] > 1 else ""
        lines.append(
            f"| {load['offered_per_s']} | {load['delivered_per_s']:.0f} "
            f"| {_ms(load['latency_ms']['p50'])} | {_ms(load['latency_ms']['p99'])} "
            f"| {_ms(load['latency_ms']['max'])} | {step['stall_seconds']} | {_gc(step)} "
            f"| {_cpu(cpu, 'server')} | {_cpu(cpu, 'loadgen')} "
            f"({load['event_loop_utilization']:.0%}) "
            f"| {_cpu(cpu, 'postgres')} | {_cpu(cpu, 'redis')} | {_cpu(cpu, 'outside')} "
            f"| {verdict}{tries} |"
        )
    return "\n".join(lines)
