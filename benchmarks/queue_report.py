"""Turns a :class:`~benchmarks.queue_suite.QueueStudy` into plots, a terminal table and markdown.

Kept apart from the harness so the measuring code stays short and matplotlib is only imported
when a report is drawn. The conclusion quotes the measured numbers, so a rerun on another machine
rewrites it with that machine's figures; the reasoning around them does not depend on them.
"""

from __future__ import annotations

import inspect
import logging
import math
from pathlib import Path

from benchmarks.queue_structures import ChunkedList
from benchmarks.queue_suite import MEMORY_ENTRIES, OPS, PITFALLS, Op, QueueStudy
from benchmarks.timing import Timing

log = logging.getLogger(__name__)

REALISTIC = 1_000  # the configured queue cap is in the 500-1 000 range


def fmt_us(value: float) -> str:
    if math.isnan(value):
        return "–"
    if value >= 1000:
        return f"{value:,.0f}".replace(",", " ")
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_size(size: int) -> str:
    return f"{size:,}".replace(",", " ")


def best(study: QueueStudy, name: str, op: str, size: int) -> float:
    """The minimum over repeats: the figure least disturbed by other work on the machine."""
    timing = study.results.get((name, op, size))
    return math.nan if timing is None else timing.min_us


def cell(timing: Timing | None) -> str:
    return "–" if timing is None else f"{fmt_us(timing.min_us)} ({fmt_us(timing.median_us)})"


def growth_span(study: QueueStudy) -> tuple[int, int]:
    """The last two decades measured: small sizes hide O(n) behind constant call overhead."""
    sizes = study.plan.sizes
    high = sizes[-1]
    low = next((n for n in sizes if n * 100 >= high), sizes[0])
    return low, high


def growth_exponent(study: QueueStudy, name: str, op: str) -> float:
    """Slope of log(time) against log(N): about 0 for O(1), about 1 for O(n)."""
    low, high = growth_span(study)
    t_low, t_high = best(study, name, op, low), best(study, name, op, high)
    if math.isnan(t_low) or math.isnan(t_high) or t_low <= 0 or t_high <= 0 or low == high:
        return math.nan
    return math.log(t_high / t_low) / math.log(high / low)


def realistic_size(study: QueueStudy) -> int:
    sizes = study.plan.sizes
    return REALISTIC if REALISTIC in sizes else min(sizes, key=lambda n: abs(math.log(n / REALISTIC)))


# -- plots -----------------------------------------------------------------------------------


def draw_plots(study: QueueStudy, img_dir: Path) -> dict[str, Path]:
    """One log-log PNG per operation plus a memory bar chart; returns them by key."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    img_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for op in OPS:
        path = img_dir / f"queue-{op.key.replace('_', '-')}.png"
        _plot_op(plt, study, op, path)
        paths[op.key] = path

    fig, ax = plt.subplots(figsize=(5.6, 2.8), dpi=100)
    names = list(study.memory)
    ax.barh(names, [study.memory[n] / 1e6 for n in names], color="tab:blue")
    ax.set_xlabel(f"MB per {fmt_size(MEMORY_ENTRIES)} entries (tracks excluded)")
    ax.invert_yaxis()
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    paths["memory"] = img_dir / "queue-memory.png"
    fig.savefig(paths["memory"])
    plt.close(fig)
    return paths


def _plot_op(plt: object, study: QueueStudy, op: Op, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5.6, 3.8), dpi=100)  # type: ignore[attr-defined]
    for name in study.names:
        points = [(n, study.results[(name, op.key, n)]) for n in study.plan.sizes if (name, op.key, n) in study.results]
        if not points:
            continue
        xs = [n for n, _ in points]
        style = "--" if name.startswith("TrackQueue") else "-"
        line = ax.plot(xs, [t.min_us for _, t in points], style, marker="o", markersize=4, label=name)[0]
        ax.fill_between(
            xs, [t.min_us for _, t in points], [t.median_us for _, t in points], color=line.get_color(), alpha=0.15
        )
    ax.axvspan(500, 1000, color="grey", alpha=0.12, label="realistic cap (500–1 000)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("queue length (entries)")
    ax.set_ylabel("µs per operation (min; band up to median)")
    ax.set_title(op.label)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)  # type: ignore[attr-defined]


# -- terminal --------------------------------------------------------------------------------


def render_console(study: QueueStudy) -> str:
    sizes = study.plan.sizes
    width = max(len(n) for n in study.names) + 2
    lines = [f"min µs per operation over repeats (harness floor {study.floor.min_us:.3f} µs)"]
    header = f"{'operation':24}{'structure':{width}}" + "".join(f"{fmt_size(n):>12}" for n in sizes)
    lines += [header, "-" * len(header)]
    for op in OPS:
        for name in study.names:
            cells = "".join(f"{fmt_us(best(study, name, op.key, n)):>12}" for n in sizes)
            lines.append(f"{op.label:24}{name:{width}}{cells}")
    lines.append("")
    lines.append(
        f"memory per {fmt_size(MEMORY_ENTRIES)} entries: "
        + ", ".join(f"{n} {b / 1e6:.2f} MB" for n, b in study.memory.items())
    )
    return "\n".join(lines)


# -- markdown --------------------------------------------------------------------------------


def _link(path: Path, doc_dir: Path) -> str:
    try:
        return path.relative_to(doc_dir).as_posix()
    except ValueError:
        return path.as_posix()


def render_markdown(study: QueueStudy, plots: dict[str, Path], doc_dir: Path) -> str:
    plan = study.plan
    sizes = plan.sizes
    names = study.names
    size = realistic_size(study)
    out: list[str] = []
    out.append(
        f"Generated by `python -m benchmarks.run{' --quick' if study.quick else ''} --only queue` "
        f"({'quick' if study.quick else 'full'} mode, {plan.repeats} repeats per cell). Cells are "
        "**min (median) µs per operation** over the repeats. The minimum leads because it is the figure least "
        "disturbed by whatever else the machine is doing; plots, growth exponents and the conclusion use it. "
        f"The harness itself costs about {study.floor.min_us:.2f} µs per operation (a loop step and a bound-method call), "
        "so anything near that is as good as free."
    )
    out.append(f"\nMachine: {study.machine}.")
    if study.shipped_note:
        out.append(f"\n> Note: {study.shipped_note}")

    out.append("\n### How the tests are set up\n")
    out.append(
        "- **Same operations, same semantics.** Each candidate is in `benchmarks/queue_structures.py` behind one "
        "small interface (`add`, `add_next`, `pop_front`, `remove(i)`, `move(i, j)`, `shuffle(rng)`, "
        "`page(k, size)`). `tests/benchmarks/test_queue_structures.py` runs random operation sequences "
        "(Hypothesis) on every candidate and on the shipped `TrackQueue` and requires identical results, so the "
        "timings compare structures, not different behaviour. `TrackQueue` is timed through its own public API "
        "(1-based positions, bounds checks, `QueuePage`), so its row includes that bookkeeping.\n"
        "- **Realistic entries.** The entries are `Track` objects shaped like YouTube results. They are created "
        "once and shared, so neither the timings nor the memory figures include building them.\n"
        "- **timeit with repeats.** `timeit.Timer` runs a prepared batch of bound calls, with GC off while "
        f"timing. Each cell is repeated {plan.repeats} times and reported as minimum and median. A batch is "
        f"sized to last about {plan.target_s * 1000:g} ms, capped at {plan.max_ops} operations.\n"
        "- **Length held steady.** Operations that change the length (add, add-next, pop-front, remove) run at "
        "most `N // 100` times, and at least once, on each fresh copy. The copies are built untimed before each "
        "repeat, so every timed call sees a queue within 1 % of N. Move, shuffle and page keep the length, so "
        "they reuse one queue.\n"
        "- **Worst realistic position.** remove and move take the middle entry, the worst case for deque and "
        "the linked list, which walk from the nearer end. move puts that entry at the front. Pages are "
        "10 entries, one from the middle of the queue and one from the end.\n"
        "- **Memory.** `tracemalloc` counts the bytes a structure still holds after it is grown by `add` calls, "
        "the way a real queue grows (so a list's spare capacity counts too). The tracks themselves are not "
        "included.\n"
        "- **CI times nothing.** The test suite checks behaviour only. Timings come from this command, run on "
        "the machine you care about."
    )

    out.append(f"\n### At a realistic queue length ({fmt_size(size)} entries)\n")
    out.append("| operation | when a bot does it | " + " | ".join(names) + " |")
    out.append("|---|---|" + "---:|" * len(names))
    for op in OPS:
        row = " | ".join(cell(study.results.get((n, op.key, size))) for n in names)
        out.append(f"| {op.label} | {op.when} | {row} |")

    low, high = growth_span(study)
    out.append(f"\n### Growth exponents ({fmt_size(low)} → {fmt_size(high)} entries)\n")
    out.append(
        "The slope of log(time) against log(N) between the two largest decades measured: about 0 means the "
        "cost does not depend on the queue length, about 1 means it is linear. Smaller queues hide the linear "
        "part behind per-call overhead.\n"
    )
    out.append("| operation | " + " | ".join(names) + " |")
    out.append("|---|" + "---:|" * len(names))
    for op in OPS:
        row = " | ".join(_exponent(growth_exponent(study, n, op.key)) for n in names)
        out.append(f"| {op.label} | {row} |")

    out.append("\n### Growth with queue length\n")
    for op in OPS:
        out.append(f"#### {op.label}\n")
        out.append("| structure | " + " | ".join(fmt_size(n) for n in sizes) + " |")
        out.append("|---|" + "---:|" * len(sizes))
        for name in names:
            out.append(f"| {name} | " + " | ".join(cell(study.results.get((name, op.key, n))) for n in sizes) + " |")
        out.append(f"\n![{op.label}: µs per operation against queue length, log-log]({_link(plots[op.key], doc_dir)})\n")

    out.append(f"### Memory per {fmt_size(MEMORY_ENTRIES)} entries\n")
    if plan.memory_entries != MEMORY_ENTRIES:
        out.append(f"Measured at {fmt_size(plan.memory_entries)} entries and scaled; every structure here grows linearly.\n")
    out.append("| structure | MB held | bytes per entry |")
    out.append("|---|---:|---:|")
    for name, held in study.memory.items():
        out.append(f"| {name} | {held / 1e6:.2f} | {held / MEMORY_ENTRIES:.1f} |")
    out.append(
        f"\nFor scale, the {fmt_size(MEMORY_ENTRIES)} `Track` objects themselves, with their strings, take "
        f"{study.track_bytes / 1e6:.1f} MB ({study.track_bytes / MEMORY_ENTRIES:.0f} bytes each)."
    )
    out.append(f"\n![memory per structure]({_link(plots['memory'], doc_dir)})\n")

    if study.pitfalls:
        pit_sizes = sorted({n for _, n in study.pitfalls})
        out.append("### Two ways to make a deque slow\n")
        out.append(
            "`TrackQueue` avoids both of these. They are timed here so that nobody changes it back. "
            "`random.shuffle` accepts a deque, but it indexes the deque about 2n times, and each lookup walks "
            "blocks. `itertools.islice` steps through the entries one by one from the left end.\n"
        )
        out.append("| variant | " + " | ".join(fmt_size(n) for n in pit_sizes) + " |")
        out.append("|---|" + "---:|" * len(pit_sizes))
        for label in PITFALLS:
            out.append(f"| {label} | " + " | ".join(cell(study.pitfalls.get((label, n))) for n in pit_sizes) + " |")
        out.append("")

    if study.skipped:
        out.append("Cells that could not be measured: " + "; ".join(study.skipped) + ".\n")
    out.append(conclusion(study))
    return "\n".join(out)


def _exponent(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def conclusion(study: QueueStudy) -> str:
    """The recommendation, with this run's numbers quoted in it."""
    size = realistic_size(study)
    high = study.plan.sizes[-1]
    names = study.names
    shipped = next((n for n in names if n.startswith("TrackQueue")), None)

    def m(name: str, op: str, n: int = size) -> str:
        return fmt_us(best(study, name, op, n))

    command_ops = ("remove_middle", "move_middle_to_front", "page_middle", "page_end")
    worst_command = max(best(study, "deque", op, size) for op in command_ops)
    shipped_worst = max(best(study, shipped, op, size) for op in command_ops) if shipped else math.nan
    crossover = next(
        (
            n
            for n in study.plan.sizes
            if best(study, "chunked list", "remove_middle", n) < best(study, "deque", "remove_middle", n)
        ),
        None,
    )
    chunked_lines = len(inspect.getsourcelines(ChunkedList)[0])
    chunked_ahead = [op.label for op in OPS if best(study, "chunked list", op.key, size) < best(study, "deque", op.key, size)]
    lines = [
        "### Conclusion\n",
        "**Which operations matter.** The player calls pop-front once per track change, which is every few "
        "minutes. add runs on every `play`. Both are on the path between a user's command and the music, so "
        "they should stay O(1) whatever the queue length. remove, move and page only run when a user types "
        "a command, and each of those also waits for a reply from Discord's HTTP API, which takes tens of "
        "milliseconds. Shuffle is rare and is O(n) for every structure, because each entry has to be visited.\n",
        f"**What deque's O(n) middle costs.** With {fmt_size(size)} tracks queued, the top of the realistic "
        f"cap, a raw deque takes {m('deque', 'remove_middle')} µs to remove the middle entry, "
        f"{m('deque', 'move_middle_to_front')} µs to move it to the front, and {m('deque', 'page_middle')} µs "
        f"to list a page from the middle. The slowest of these, {fmt_us(worst_command)} µs, is about "
        f"{_round2(10_000 / worst_command)} times shorter than even a fast 10 ms Discord round trip, which the same "
        "command waits for anyway."
        + (
            f" The shipped `TrackQueue` adds its position checks and the `on_change` hook, and its slowest "
            f"command operation takes {fmt_us(shipped_worst)} µs."
            if shipped
            else ""
        )
        + f" deque's `insert` and `del` at index i walk 64-entry blocks from the nearer end, so even at "
        f"{fmt_size(high)} entries a middle remove takes only {m('deque', 'remove_middle', high)} µs, and a middle "
        f"page, read by index one entry at a time, takes {m('deque', 'page_middle', high)} µs.\n",
        "**The alternatives.**\n",
        f"- *list*: has O(1) indexing, so a page costs {m('list', 'page_middle')} µs. It pays at the front "
        f"instead: pop-front and add-next shift every entry, so they cost {m('list', 'pop_front', high)} and "
        f"{m('list', 'add_next', high)} µs at {fmt_size(high)} entries, against {m('deque', 'pop_front', high)} "
        f"and {m('deque', 'add_next', high)} µs for deque. At {fmt_size(size)} entries a list would be fine, "
        "but it makes the operation the player runs on every track scale with the queue. deque makes the "
        "common path O(1), and only the rare commands pay for the length.",
        f"- *linked list* (pure Python): loses everywhere. Each entry is a Python object, which is "
        f"{study.memory.get('linked list', 0) / MEMORY_ENTRIES:.0f} bytes per entry against "
        f"{study.memory.get('deque', 0) / MEMORY_ENTRIES:.0f} for deque. Reaching index i is an interpreted "
        f"walk, so remove(middle) takes {m('linked list', 'remove_middle')} µs at {fmt_size(size)} entries and "
        f"{m('linked list', 'remove_middle', high)} µs at {fmt_size(high)}. Its O(1) splice only helps when "
        "you already hold a node, and a user's position number never gives you one.",
        f"- *chunked list* (the layout behind blist and sortedcontainers, chosen as the one structure whose "
        f"middle operations are not O(n)): barely grows. Its middle remove takes "
        f"{m('chunked list', 'remove_middle', high)} µs and a middle page {m('chunked list', 'page_middle', high)} µs "
        f"at {fmt_size(high)} entries. At realistic lengths its bookkeeping costs more than deque's short C walk: "
        f"remove(middle) takes {m('chunked list', 'remove_middle')} µs against {m('deque', 'remove_middle')} µs, and "
        f"pop-front {m('chunked list', 'pop_front')} µs against {m('deque', 'pop_front')} µs"
        + (
            f". At {fmt_size(size)} entries it wins only on: {', '.join(chunked_ahead)}."
            if chunked_ahead
            else f". At {fmt_size(size)} entries it is never faster than deque."
        )
        + f" It is also {chunked_lines} lines of our own code to maintain, where deque is in the standard library. "
        + (
            f"Its middle remove first beats deque at {fmt_size(crossover)} entries, far above the queue cap."
            if crossover and crossover > size
            else (
                f"Its middle remove beats deque from {fmt_size(crossover)} entries on, but by well under a "
                "microsecond at the cap, which does not justify the extra code."
                if crossover
                else "Its middle remove never beat deque in this run."
            )
        ),
        "",
        "**Recommendation: keep `collections.deque`, which is what `TrackQueue` ships.** It is O(1), in C, for "
        "the operations the player runs on every track (add and pop-front) and for add-next. The linked list is "
        "O(1) there too, but several times slower and seven times the memory. deque uses as little memory as any "
        "candidate, about 8 bytes per entry, which is small next to the tracks themselves "
        f"({study.track_bytes / MEMORY_ENTRIES:.0f} bytes each). Its O(n) middle costs microseconds "
        "at the sizes a guild can reach. Keep the queue cap (`MAX_QUEUE_LENGTH`, default 500, which becomes "
        "`TrackQueue.max_length`): it bounds memory per guild and the O(n) commands. "
        f"{_at_ceiling(study)} Keep the two things the shipped code "
        "already does right: shuffle through a list, and page by index rather than by `islice`. "
        f"{_pitfall_summary(study, high)} If the middle of a very long queue ever has to be cheaper than "
        "this, the chunked list is the structure to switch to.",
    ]
    return "\n".join(lines)


def _round2(value: float) -> str:
    """Two significant figures: a ratio of timings is not more precise than that."""
    if not math.isfinite(value) or value <= 0:
        return "many"
    if value < 10:
        return f"{value:.1f}"
    unit = 10 ** (int(math.floor(math.log10(value))) - 1)
    return fmt_size(round(value / unit) * unit)


def _at_ceiling(study: QueueStudy) -> str:
    """What the settings' highest allowed cap (100 000) would cost, if this run went that far."""
    ceiling = 100_000
    if ceiling not in study.plan.sizes:
        return ""
    ops = ("remove_middle", "move_middle_to_front", "page_middle", "page_end")
    worst = max(best(study, "deque", op, ceiling) for op in ops)
    return (
        f"Even at the setting's ceiling of {fmt_size(ceiling)} tracks, the slowest deque command operation "
        f"takes {fmt_us(worst)} µs, which is still far below a Discord round trip, so the ceiling can stay."
    )


def _pitfall_summary(study: QueueStudy, size: int) -> str:
    timings = [study.pitfalls.get((label, size)) for label in PITFALLS]
    if any(t is None for t in timings):
        return ""
    shuffle_slow, shuffle_fast, page_slow, page_fast = (t.min_us for t in timings if t is not None)
    return (
        f"At {fmt_size(size)} entries, shuffling the deque in place takes {fmt_us(shuffle_slow / 1000)} ms against "
        f"{fmt_us(shuffle_fast / 1000)} ms for the list round trip. A middle page takes {fmt_us(page_slow)} µs by "
        f"`islice` against {fmt_us(page_fast)} µs by index."
    )
